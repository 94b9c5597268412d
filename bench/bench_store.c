/* bench_store.c - the token store's cost per login, on the file system of
 * the directory given (default: a new directory under /tmp):
 *
 *   pre-check   store_open + store_peek_user + store_peek_source + store_close,
 *               once with no records and once with both records present:
 *               what the module pays on every login before any prompt;
 *   commit      store_open + store_lock_user + a change + store_commit +
 *               store_unlock + store_close on an existing record: what a
 *               successful code login pays to record its step/counter.
 *
 * Prints the median and 90th percentile in µs over BENCH_STORE_ROUNDS rounds
 * (medians, never assertions: the machines are shared and noisy). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lockout.h"
#include "otp.h"
#include "store.h"

#define BENCH_STORE_ROUNDS 2001

static double bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void bench_report(const char *label, double *t, size_t n)
{
	qsort(t, n, sizeof(*t), bench_cmp);
	printf("%-52s median %7.2f us  p90 %7.2f us\n", label, t[n / 2], t[n * 9 / 10]);
}

static int bench_peek_user(struct store *st, const char *user, struct store_record *rec)
{
	int rv = store_peek_user(st, user, rec);

	if (rv == STORE_OK)
		store_record_wipe(rec);
	return rv;
}

static int bench_peek_source(struct store *st, const char *source, struct lockout_slot *slot)
{
	return store_peek_source(st, source, slot);
}

/* One login's pre-checks; the expected results say whether records exist. */
static int bench_precheck(const char *dir, int want, struct store_record *rec)
{
	struct store *st = NULL;
	struct lockout_slot slot;
	int rv = -1;

	if (store_open(dir, &st) != STORE_OK)
		return -1;
	if (bench_peek_user(st, "alice", rec) != want ||
	    bench_peek_source(st, "203.0.113.9", &slot) != want)
		goto out;
	rv = 0;
out:
	store_close(st);
	return rv;
}

static int bench_commit(const char *dir, uint64_t step)
{
	struct store *st = NULL;
	struct store_handle *h = NULL;
	int rv = -1;

	if (store_open(dir, &st) != STORE_OK || store_lock_user(st, "alice", &h) != STORE_OK)
		goto out;
	store_record(h)->last_step = step;
	store_record(h)->last_success = (int64_t)step;
	if (store_commit(h) != STORE_OK)
		goto out;
	rv = 0;
out:
	store_unlock(h);
	store_close(st);
	return rv;
}

static int bench_make_records(const char *dir)
{
	const struct policy_lockout_slot lp = { 5, 900, 900 };
	struct otp_token t = { .kind = OTP_TOTP, .algo = OTP_SHA1, .digits = 6, .step = 30,
			       .secret_len = 20 };
	struct store *st = NULL;
	struct store_handle *h = NULL;
	int rv = -1;

	memcpy(t.secret, "12345678901234567890", 20);
	if (store_open(dir, &st) != STORE_OK ||
	    store_enroll(st, "alice", &t, true, 1700000000) != STORE_OK)
		goto out;
	if (store_lock_source(st, "203.0.113.9", &h) != STORE_OK)
		goto out;
	lockout_record_failure(store_source_slot(h), &lp, 1700000000);
	if (store_commit(h) != STORE_OK)
		goto out;
	rv = 0;
out:
	store_unlock(h);
	store_close(st);
	return rv;
}

int main(int argc, char **argv)
{
	static struct store_record rec;
	char tmpl[] = "/tmp/garde-bench-store.XXXXXX", dir[512];
	const char *parent = argc > 1 ? argv[1] : NULL;
	double *t = calloc(BENCH_STORE_ROUNDS, sizeof(*t));
	size_t i;
	int rv = 1;

	if (t == NULL)
		return 1;
	if (parent == NULL && mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/store", parent != NULL ? parent : tmpl);

	for (i = 0; i < BENCH_STORE_ROUNDS; i++) {
		double t0 = bench_now_us();

		if (bench_precheck(dir, STORE_ENOENT, &rec) != 0) {
			fprintf(stderr, "pre-check (no records) failed\n");
			goto out;
		}
		t[i] = bench_now_us() - t0;
	}
	bench_report("pre-check: open+peek user+peek source, no records", t, BENCH_STORE_ROUNDS);

	if (bench_make_records(dir) != 0) {
		fprintf(stderr, "cannot create the records in %s\n", dir);
		goto out;
	}
	/* Two commits first, so that both slots of alice's record are used. */
	if (bench_commit(dir, 1) != 0 || bench_commit(dir, 2) != 0) {
		fprintf(stderr, "commit failed\n");
		goto out;
	}
	for (i = 0; i < BENCH_STORE_ROUNDS; i++) {
		double t0 = bench_now_us();

		if (bench_precheck(dir, STORE_OK, &rec) != 0) {
			fprintf(stderr, "pre-check (records) failed\n");
			goto out;
		}
		t[i] = bench_now_us() - t0;
	}
	bench_report("pre-check: open+peek user+peek source, records", t, BENCH_STORE_ROUNDS);

	for (i = 0; i < BENCH_STORE_ROUNDS; i++) {
		double t0 = bench_now_us();

		if (bench_commit(dir, 100 + i) != 0) {
			fprintf(stderr, "commit failed\n");
			goto out;
		}
		t[i] = bench_now_us() - t0;
	}
	bench_report("commit: open+lock user+commit+unlock, record", t, BENCH_STORE_ROUNDS);
	rv = 0;
out:
	if (parent == NULL && tmpl[0] != '\0') {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (strstr(tmpl, "XXXXXX") == NULL && system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpl);
	}
	free(t);
	return rv;
}
