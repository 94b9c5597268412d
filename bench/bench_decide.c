/* bench_decide.c - cost of one decide() with the embedded default policy
 * and with a policy whose networks hold 10,000 prefixes (the budget's size).
 * The anchor: pam_access takes 5.7 ms per decision with 10,000 networks.
 *
 * Prints one line per policy: median and p99 nanoseconds per decision over
 * BENCH_ROUNDS rounds of BENCH_BATCH decisions. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decide.h"
#include "policy.h"
#include "source.h"

#define BENCH_ROUNDS 201
#define BENCH_BATCH 2000
#define BENCH_PREFIXES 10000

static int64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void bench_diag(void *arg, const char *file, int line, const char *message)
{
	(void)arg;
	fprintf(stderr, "%s:%d: %s\n", file, line, message);
}

/* A large policy: 10,000 /24 prefixes across 100 named networks, and the
 * default policy's rules, so lookups walk every rule kind. */
static char *bench_big_policy(size_t *len)
{
	size_t cap = 1024 * 1024, off = 0;
	char *text = malloc(cap);

	if (text == NULL)
		return NULL;
	off += (size_t)snprintf(text + off, cap - off,
				"serial = 1;\ntimezone = \"Europe/Paris\";\nnetworks = {\n");
	for (int n = 0; n < 100; n++) {
		off += (size_t)snprintf(text + off, cap - off, "  net%d = [", n);
		for (int p = 0; p < BENCH_PREFIXES / 100; p++) {
			int k = n * (BENCH_PREFIXES / 100) + p;
			off += (size_t)snprintf(text + off, cap - off, "%s\"10.%d.%d.0/24\"", p ? ", " : " ",
						k / 256, k % 256);
		}
		off += (size_t)snprintf(text + off, cap - off, " ];\n");
	}
	off += (size_t)snprintf(text + off, cap - off,
		"  lan = [ \"172.16.0.0/12\" ];\n};\n"
		"classes = { admin = [ \"sshd\", \"sudo\" ]; mail = [ \"dovecot\", \"imap\" ]; };\n"
		"rules = (\n"
		"  { name = \"bg\"; users = [ \"breakglass\" ]; from = [ \"local\" ]; action = \"mfa\"; alert = true; },\n"
		"  { name = \"admin-offsite\"; class = \"admin\"; not_from = [ \"lan\", \"net99\", \"local\" ]; action = \"deny\"; },\n"
		"  { name = \"admin-mfa\"; class = \"admin\"; action = \"mfa\"; },\n"
		"  { name = \"night\"; class = \"mail\"; hours = [ \"* 22:00-06:00\" ]; action = \"deny\"; report_only = true; },\n"
		"  { name = \"mail-offsite\"; class = \"mail\"; not_from = [ \"lan\", \"net0\", \"net50\" ]; action = \"mfa\"; },\n"
		"  { name = \"mail-lan\"; class = \"mail\"; action = \"allow\"; },\n"
		"  { name = \"default\"; action = \"deny\"; }\n"
		");\n");
	if (off >= cap) {
		free(text);
		return NULL;
	}
	*len = off;
	return text;
}

static int bench_run(const char *label, const struct policy *pol)
{
	static double per[BENCH_ROUNDS];
	struct login_ctx ctx = { .user = "alice", .service = "imap", .now = 1772445600 };
	struct decision d;
	volatile int sink = 0;

	if (source_parse("10.40.7.9", &ctx.source) != 0)
		return -1;
	for (int r = 0; r < BENCH_ROUNDS; r++) {
		int64_t t0 = bench_now_ns();
		for (int i = 0; i < BENCH_BATCH; i++) {
			ctx.now += 7;
			decide(pol, &ctx, &d, NULL, NULL);
			sink += (int)d.action;
		}
		per[r] = (double)(bench_now_ns() - t0) / BENCH_BATCH;
	}
	qsort(per, BENCH_ROUNDS, sizeof(per[0]), bench_cmp);
	printf("decide %-24s median %8.1f ns  p99 %8.1f ns  (pam_access anchor: 5.7 ms)\n", label,
	       per[BENCH_ROUNDS / 2], per[BENCH_ROUNDS * 99 / 100]);
	return sink < 0 ? -1 : 0;
}

int main(void)
{
	struct policy_load_opts opts = { .diag = bench_diag, .skip_trust_check = true };
	struct policy *pol = NULL;
	char *text;
	size_t len = 0;
	int rv = EXIT_FAILURE;

	if (policy_parse(policy_default_text, policy_default_len, "ministry.conf", &opts, &pol) != 0)
		return EXIT_FAILURE;
	if (bench_run("default policy", pol) != 0)
		goto out;
	policy_free(pol);
	pol = NULL;

	text = bench_big_policy(&len);
	if (text == NULL)
		goto out;
	if (policy_parse(text, len, "big.conf", &opts, &pol) != 0) {
		free(text);
		goto out;
	}
	free(text);
	if (bench_run("10,000 prefixes", pol) != 0)
		goto out;
	rv = EXIT_SUCCESS;
out:
	policy_free(pol);
	return rv;
}
