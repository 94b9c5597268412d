/* pam_fixture.c - the pam tier's shared fixture: see pam_fixture.h. */
#define _GNU_SOURCE
#include "pam_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

struct pam_fixture fixture;

/* ------------------------------------------------------------- programs */

int fixture_find_modules(const char *prog, const char *build_dir)
{
	char abs[PATH_MAX];

	if (realpath(build_dir, abs) == NULL) {
		fprintf(stderr, "%s: build directory %s: %s\n", prog, build_dir, strerror(errno));
		return 2;
	}
	if (snprintf(fixture.garde_so, sizeof(fixture.garde_so), "%s/pam_garde.so", abs) >=
		    (int)sizeof(fixture.garde_so) ||
	    snprintf(fixture.expect_so, sizeof(fixture.expect_so), "%s/tests/pam_expect_authtok.so",
		     abs) >= (int)sizeof(fixture.expect_so))
		return 2;
	if (access(fixture.garde_so, R_OK) != 0 || access(fixture.expect_so, R_OK) != 0) {
		fprintf(stderr, "%s: %s or %s missing (make test builds them)\n", prog,
			fixture.garde_so, fixture.expect_so);
		return 2;
	}
	return 0;
}

int fixture_run(Suite *suite)
{
	SRunner *runner = srunner_create(suite);
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---------------------------------------------------------------- files */

void fixture_setup_dir(const char *dir_template)
{
	/* A template too long for dir loses its XXXXXX, and mkdtemp refuses it. */
	snprintf(fixture.dir, sizeof(fixture.dir), "%s", dir_template);
	ck_assert_ptr_nonnull(mkdtemp(fixture.dir));
	snprintf(fixture.policy, sizeof(fixture.policy), "%s/policy.conf", fixture.dir);
	snprintf(fixture.store, sizeof(fixture.store), "%s/store", fixture.dir);
	snprintf(fixture.spool, sizeof(fixture.spool), "%s/spool", fixture.dir);
	snprintf(fixture.pamd, sizeof(fixture.pamd), "%s/pam.d", fixture.dir);
	snprintf(fixture.module_args, sizeof(fixture.module_args), "policy=%s store=%s spool=%s",
		 fixture.policy, fixture.store, fixture.spool);
	ck_assert_int_eq(mkdir(fixture.pamd, 0755), 0);
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void fixture_teardown(void)
{
	/* Depth first, without following links or leaving the file system:
	 * a test may have mounted something or planted a symlink in there. */
	if (fixture.dir[0] != '\0')
		nftw(fixture.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void fixture_write_file(const char *path, mode_t mode, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	size_t len = strlen(text);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

void fixture_write_service(const char *name, const char *fmt, ...)
{
	char path[PATH_MAX + 64], text[16384];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof(text));
	snprintf(path, sizeof(path), "%s/%s", fixture.pamd, name);
	fixture_write_file(path, 0644, text);
}

/* --------------------------------------------------------------- logins */

pam_handle_t *fixture_pam_start(const char *service, const char *user, const char *rhost,
				const struct pam_conv *conv)
{
	pam_handle_t *pamh = NULL;

	if (pam_start_confdir(service, user, conv, fixture.pamd, &pamh) != PAM_SUCCESS)
		return NULL;
	if (rhost != NULL && pam_set_item(pamh, PAM_RHOST, rhost) != PAM_SUCCESS) {
		pam_end(pamh, PAM_SYSTEM_ERR);
		return NULL;
	}
	return pamh;
}

int fixture_probe(pam_handle_t *pamh, bool account)
{
	const char *mark = account ? "GARDE_REACHED_account" : "GARDE_REACHED_auth";
	int rv;

	pam_putenv(pamh, mark); /* unset from an earlier call in this transaction */
	rv = account ? pam_acct_mgmt(pamh, 0) : pam_authenticate(pamh, 0);
	if (rv == PAM_SUCCESS && pam_getenv(pamh, mark) != NULL)
		rv = PAM_IGNORE;
	return rv;
}

/* --------------------------------------------------------------- tokens */

void fixture_enroll(const char *user, enum otp_algo algo, const char *secret, unsigned digits,
		    struct otp_token *out)
{
	struct otp_token tok = { .kind = OTP_TOTP, .algo = algo, .digits = digits, .step = 30 };
	struct store *st = NULL;

	tok.secret_len = strlen(secret);
	memcpy(tok.secret, secret, tok.secret_len);
	ck_assert_int_eq(store_open(fixture.store, &st), STORE_OK);
	ck_assert_int_eq(store_enroll(st, user, &tok, true, time(NULL)), STORE_OK);
	store_close(st);
	if (out != NULL)
		*out = tok;
}

void fixture_code_at(const struct otp_token *tok, int steps, char out[OTP_CODE_BUF])
{
	ck_assert_int_eq(otp_generate(tok, time(NULL) + steps * (int)tok->step, out, OTP_CODE_BUF),
			 OTP_OK);
}

void fixture_code_wrong(const struct otp_token *tok, unsigned first, char out[OTP_CODE_BUF])
{
	uint64_t t = (uint64_t)time(NULL) / tok->step;

	for (unsigned v = first;; v++) {
		char cand[OTP_CODE_BUF], c[OTP_CODE_BUF];
		bool hit = false;

		snprintf(cand, sizeof(cand), "%0*u", (int)tok->digits, v);
		for (uint64_t s = t - 3; s <= t + 3; s++) {
			otp_generate_factor(tok, s, c, sizeof(c));
			hit |= strcmp(c, cand) == 0;
		}
		if (!hit) {
			memcpy(out, cand, sizeof(cand));
			return;
		}
	}
}

/* ---------------------------------------------------------------- store */

unsigned fixture_user_failures(const char *user, const char *zone, bool *locked)
{
	struct store *st = NULL;
	struct store_handle *h = NULL;
	const struct lockout_slot *slot;
	unsigned n = 0;

	ck_assert_int_eq(store_open(fixture.store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, user, &h), STORE_OK);
	slot = store_zone_find(store_record(h), zone);
	if (slot != NULL)
		n = slot->failures;
	if (locked != NULL)
		*locked = slot != NULL && lockout_is_locked(slot, time(NULL));
	store_unlock(h);
	store_close(st);
	return n;
}

void fixture_expect_no_files_for(const char *user)
{
	char hex[STORE_HASH_HEX], path[PATH_MAX + 256];

	store_name_hash(user, strlen(user), hex);
	snprintf(path, sizeof(path), "%s/users/%s", fixture.store, hex);
	ck_assert_msg(access(path, F_OK) != 0, "a record made for %s", user);
	snprintf(path, sizeof(path), "%s/lock/user-%.3s", fixture.store, hex);
	ck_assert_msg(access(path, F_OK) != 0, "a lock file made for %s", user);
}

/* --------------------------------------------------------------- events */

void fixture_events_take(struct fixture_events *ev)
{
	char dir[PATH_MAX + 64];
	DIR *d;
	struct dirent *e;

	memset(ev, 0, sizeof(*ev));
	snprintf(dir, sizeof(dir), "%s/new", fixture.spool);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX + 512], *buf;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, e->d_name),
				 (int)sizeof(path));
		f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		ck_assert(ev->n < FIXTURE_MAX_EVENTS);
		buf = calloc(1, FIXTURE_EVENT_READ + 1);
		ck_assert_ptr_nonnull(buf);
		ev->len[ev->n] = fread(buf, 1, FIXTURE_EVENT_READ, f);
		fclose(f);
		unlink(path);
		ev->v[ev->n++] = buf;
	}
	closedir(d);
}

void fixture_events_free(struct fixture_events *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		free(ev->v[i]);
	ev->n = 0;
}

void fixture_events_dump(const struct fixture_events *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		fprintf(stderr, "  event: %s\n", ev->v[i]);
}

void fixture_expect_no_event(void)
{
	struct fixture_events ev;

	fixture_events_take(&ev);
	if (ev.n != 0) {
		fixture_events_dump(&ev);
		ck_abort_msg("want no event, have %zu", ev.n);
	}
}
