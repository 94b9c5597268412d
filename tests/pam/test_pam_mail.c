/* test_pam_mail.c - the pam tier for mail logins: app passwords (module
 * option app_password, rule key app_password) and remembered sources in
 * suffix mode, through real libpam (pam_start_confdir, services in a
 * temporary directory), existing system users (root, daemon) enrolled in a
 * temporary store. Never touches /etc/pam.d or host users.
 *
 * The mail stack is the one pam_garde(8) documents:
 *
 *   auth [success=done ignore=ignore default=die] pam_garde.so mode=suffix app_password
 *   auth required pam_unix.so use_first_pass       (here: pam_expect_authtok expect=s3cret)
 *
 * with `auth optional pam_expect_authtok.so mark=auth` between them: the
 * mark is set only when pam_garde returned PAM_IGNORE, so a login that
 * succeeds without it was accepted by pam_garde alone (PAM_SUCCESS).
 *
 *   situation                                            auth              event reason
 *   app password of the class, rule app_password = true  PAM_SUCCESS       -
 *     (either case, '-' or ' ' between groups; allow and mfa rules; the account phase passes)
 *   wrong, revoked, expired, other-class app password    PAM_AUTH_ERR      app_password_invalid (counted)
 *   rule without app_password (admin)                    PAM_AUTH_ERR      app_password_invalid (not counted)
 *   user unknown to NSS                                  PAM_AUTH_ERR      app_password_invalid (no lock file)
 *   locked (user, zone) after deny wrong ones            PAM_PERM_DENIED   locked_user
 *   report-only policy, wrong app password               the next module   login-would-deny app_password_invalid
 *   password + code (not an app password's shape)       PAM_IGNORE, the code taken off; the next module decides
 *   remembered source: password alone / + a code it was
 *     remembered with / + a fresh code                    PAM_IGNORE, the next module sees the password
 *   remembered source: password ending in other digits   PAM_IGNORE, PAM_AUTHTOK untouched, nothing counted
 *   code replayed from a source not remembered           PAM_AUTH_ERR      mfa_replay
 *   password alone, not remembered (or expired)          PAM_AUTH_ERR      mfa_missing (not counted)
 *   too short, code with a space, non-ASCII, 64 KiB       PAM_AUTH_ERR      mfa_missing / mfa_invalid */
#define _GNU_SOURCE
#include <check.h>
#include <limits.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "otp.h"
#include "pam_fixture.h"
#include "store.h"

static const char RFC_SHA1[] = "12345678901234567890";

/* ---------------------------------------------------------------- files */

/* The mail stack of pam_garde(8), with the marks that show PAM_IGNORE. */
static void write_service(const char *name, const char *extra)
{
	fixture_write_service(name,
			      "auth [success=done ignore=ignore default=die] %s %s mode=suffix %s\n"
			      "auth optional %s mark=auth\n"
			      "auth required %s expect=s3cret\n"
			      "account [success=done ignore=ignore default=die] %s %s mode=suffix %s\n"
			      "account required %s mark=account\n",
			      fixture.garde_so, fixture.module_args, extra, fixture.expect_so,
			      fixture.expect_so, fixture.garde_so, fixture.module_args, extra,
			      fixture.expect_so);
}

static void write_policy(const char *mode, unsigned remember)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "serial = 9;\nmode = \"%s\";\n"
		 "networks = { lan = [ \"10.20.0.0/16\" ]; evil = [ \"198.51.100.0/24\" ]; };\n"
		 "classes = { admin = [ \"m-admin\" ]; mail = [ \"m-mail\", \"m-plain\" ];\n"
		 "            web = [ \"m-web\" ]; };\n"
		 "mfa = { digits = 6; step = 30; window_past = 1; window_future = 1; remember = %u; };\n"
		 "lockout = { user = { deny = 3; interval = 900; unlock = 900; };\n"
		 "            source = { deny = 1000; interval = 900; unlock = 900; }; };\n"
		 "rules = (\n"
		 "  { name = \"evil-net\"; from = [ \"evil\" ]; action = \"deny\"; },\n"
		 "  { name = \"mail-lan\"; class = \"mail\"; from = [ \"lan\" ]; action = \"allow\";\n"
		 "    app_password = true; },\n"
		 "  { name = \"mail-mfa\"; class = \"mail\"; action = \"mfa\"; app_password = true; },\n"
		 "  { name = \"web-mfa\"; class = \"web\"; action = \"mfa\"; app_password = true; },\n"
		 "  { name = \"admin-mfa\"; class = \"admin\"; action = \"mfa\"; remember = false; }\n"
		 ");\n",
		 mode, remember);
	fixture_write_file(fixture.policy, 0644, text);
}

static void setup(void)
{
	fixture_setup_dir("/tmp/garde-pam-mail.XXXXXX");
	write_policy("enforce", 600);
	write_service("m-mail", "app_password");
	write_service("m-web", "app_password");
	write_service("m-admin", "app_password");
	write_service("m-plain", "");
}

/* --------------------------------------------------------------- logins */

struct script {
	const char *answer;
	bool asked;
};

static int conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
		   void *appdata)
{
	struct script *sc = appdata;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF && msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		if (sc->answer == NULL || sc->asked) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_CONV_ERR;
		}
		sc->asked = true;
		r[i].resp = strdup(sc->answer);
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* One transaction: auth, then account when auth passed and acct != NULL.
 * PAM_SUCCESS without the mark: pam_garde accepted alone; with it, shown
 * as PAM_IGNORE (pam_garde stepped aside and the next module accepted). */
static int login2(const char *service, const char *user, const char *rhost, const char *answer,
		  int *acct)
{
	struct script sc = { answer, false };
	struct pam_conv conv = { conv_fn, &sc };
	pam_handle_t *pamh = fixture_pam_start(service, user, rhost, &conv);
	int rv;

	ck_assert_msg(pamh != NULL, "pam_start_confdir(%s) failed", service);
	rv = fixture_probe(pamh, false);
	if (acct != NULL)
		*acct = fixture_probe(pamh, true);
	pam_end(pamh, rv);
	return rv;
}

static int login(const char *service, const char *user, const char *rhost, const char *answer)
{
	return login2(service, user, rhost, answer, NULL);
}

/* ---------------------------------------------------------------- store */

/* Every token here: SHA1, 6 digits, the RFC 6238 secret. */
static void enroll(const char *user, struct otp_token *out)
{
	fixture_enroll(user, OTP_SHA1, RFC_SHA1, 6, out);
}

/* A new app password of class_name for user, expiring at expires (0:
 * never; in the past: already expired). */
static void add_apppw(const char *user, const char *class_name, int64_t expires,
		      char pw[STORE_APPPW_TEXT + 1], char id[STORE_APPPW_ID + 1])
{
	struct store *st = NULL;
	struct store_handle *h = NULL;
	struct store_record *rec;

	ck_assert_int_eq(store_open(fixture.store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, user, &h), STORE_OK);
	rec = store_record(h);
	ck_assert_int_eq(store_apppw_add(rec, class_name, "test", time(NULL), 0, pw,
					 STORE_APPPW_TEXT + 1, id),
			 STORE_OK);
	rec->apppw[rec->n_apppw - 1].expires = expires;
	ck_assert_int_eq(store_commit_sync(h), STORE_OK);
	store_unlock(h);
	store_close(st);
}

/* Reads user's record under the lock into *out (secrets included). */
static void read_record(const char *user, struct store_record *out)
{
	struct store *st = NULL;
	struct store_handle *h = NULL;

	ck_assert_int_eq(store_open(fixture.store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, user, &h), STORE_OK);
	memcpy(out, store_record(h), sizeof(*out));
	store_unlock(h);
	store_close(st);
}

/* Every remembered entry of user expires now. */
static void expire_remember(const char *user)
{
	struct store *st = NULL;
	struct store_handle *h = NULL;
	struct store_record *rec;

	ck_assert_int_eq(store_open(fixture.store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, user, &h), STORE_OK);
	rec = store_record(h);
	for (size_t i = 0; i < rec->n_remember; i++)
		rec->remember[i].expires = time(NULL) - 1;
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);
	store_close(st);
}

/* --------------------------------------------------------------- events */

/* Reads and removes every event; returns how many there were, and how
 * many of them hold every one of the (up to 3) needles. Never a password. */
static size_t events(const char *n1, const char *n2, const char *n3, size_t *matching,
		     const char *secret)
{
	struct fixture_events ev;
	size_t total;

	*matching = 0;
	fixture_events_take(&ev);
	for (size_t i = 0; i < ev.n; i++) {
		const char *buf = ev.v[i];

		if (secret != NULL && secret[0] != '\0')
			ck_assert_msg(strstr(buf, secret) == NULL, "event holds the secret: %s", buf);
		if ((n1 == NULL || strstr(buf, n1) != NULL) && (n2 == NULL || strstr(buf, n2) != NULL) &&
		    (n3 == NULL || strstr(buf, n3) != NULL))
			(*matching)++;
		else
			fprintf(stderr, "  other event: %s\n", buf);
	}
	total = ev.n;
	fixture_events_free(&ev);
	return total;
}

/* Exactly one event, a denial with this reason (and rule, unless NULL). */
static void expect_denial(const char *reason, const char *rule, const char *secret)
{
	char r[96], ru[128];
	size_t m, n;

	snprintf(r, sizeof(r), "\"reason\":\"%s\"", reason);
	snprintf(ru, sizeof(ru), "\"rule\":{\"name\":\"%s\"", rule != NULL ? rule : "");
	n = events("\"action\":\"login-denied\"", r, rule != NULL ? ru : NULL, &m, secret);
	ck_assert_msg(n == 1 && m == 1, "want one %s denial, have %zu events, %zu matching", reason,
		      n, m);
}

/* ============================================================== tests */

START_TEST(test_apppw_accepted)
{
	static struct store_record rec;
	struct otp_token tok;
	char pw[STORE_APPPW_TEXT + 1], id[STORE_APPPW_ID + 1], typed[STORE_APPPW_TEXT + 1];
	int acct = -1;

	enroll("root", &tok);
	add_apppw("root", "mail", 0, pw, id);
	/* From outside the LAN (rule mail-mfa): the app password alone, and
	 * the account phase accepts the login without a code. */
	ck_assert_int_eq(login2("m-mail", "root", "203.0.113.5", pw, &acct), PAM_SUCCESS);
	ck_assert_int_eq(acct, PAM_SUCCESS);
	fixture_expect_no_event();
	read_record("root", &rec);
	ck_assert_int_eq(rec.n_apppw, 1);
	ck_assert_str_eq(rec.apppw[0].last_source, "203.0.113.5");
	ck_assert(rec.apppw[0].last_used >= time(NULL) - 5);
	/* From the LAN (rule mail-lan, allow) too */
	ck_assert_int_eq(login("m-mail", "root", "10.20.1.1", pw), PAM_SUCCESS);
	/* typed in upper case, spaces between the groups */
	for (size_t i = 0; i <= STORE_APPPW_TEXT; i++)
		typed[i] = pw[i] == '-' ? ' ' : (char)(pw[i] >= 'a' && pw[i] <= 'z' ? pw[i] - 32 : pw[i]);
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", typed), PAM_SUCCESS);
	/* A user without a token has app passwords too */
	add_apppw("daemon", "mail", 0, pw, id);
	ck_assert_int_eq(login2("m-mail", "daemon", "203.0.113.5", pw, &acct), PAM_SUCCESS);
	ck_assert_int_eq(acct, PAM_SUCCESS);
	fixture_expect_no_event();
}
END_TEST

START_TEST(test_apppw_refused)
{
	struct otp_token tok;
	char pw[STORE_APPPW_TEXT + 1], id[STORE_APPPW_ID + 1], other[STORE_APPPW_TEXT + 1];
	char expired[STORE_APPPW_TEXT + 1], web[STORE_APPPW_TEXT + 1];
	const char *bogus = "abcd-efgh-ijkm-npqr-stuv-wxyz";
	struct store *st = NULL;
	struct store_handle *h = NULL;

	enroll("root", &tok);
	add_apppw("root", "mail", 0, pw, id);
	add_apppw("root", "mail", time(NULL) - 10, expired, id);
	add_apppw("root", "web", 0, web, id);
	/* wrong */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", bogus), PAM_AUTH_ERR);
	expect_denial("app_password_invalid", "mail-mfa", bogus);
	/* expired */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", expired), PAM_AUTH_ERR);
	expect_denial("app_password_invalid", "mail-mfa", expired);
	/* of another class (web) at a mail service; and good at its own */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", web), PAM_AUTH_ERR);
	expect_denial("app_password_invalid", "mail-mfa", web);
	ck_assert_uint_eq(fixture_user_failures("root", "elsewhere", NULL), 3);
	/* three failures, deny = 3: the right one is refused as locked now,
	 * and still good from the LAN (another zone) */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", pw), PAM_PERM_DENIED);
	expect_denial("locked_user", NULL, pw);
	ck_assert_int_eq(login("m-mail", "root", "10.20.1.1", pw), PAM_SUCCESS);
	ck_assert_int_eq(login("m-web", "root", "10.20.1.1", web), PAM_SUCCESS);
	/* an admin service: its rule does not take app passwords, counted or not */
	ck_assert_int_eq(login("m-admin", "root", "10.20.1.1", pw), PAM_AUTH_ERR);
	expect_denial("app_password_invalid", "admin-mfa", pw);
	ck_assert_uint_eq(fixture_user_failures("root", "lan", NULL), 0);
	/* revoked */
	ck_assert_int_eq(store_open(fixture.store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, "root", &h), STORE_OK);
	ck_assert_uint_eq(store_apppw_revoke_all(store_record(h)), 3);
	ck_assert_int_eq(store_commit_sync(h), STORE_OK);
	store_unlock(h);
	store_close(st);
	ck_assert_int_eq(login("m-mail", "root", "10.20.1.1", pw), PAM_AUTH_ERR);
	expect_denial("app_password_invalid", "mail-lan", pw);
	/* a user NSS does not know: refused the same way, no file made */
	snprintf(other, sizeof(other), "%s", pw);
	ck_assert_int_eq(login("m-mail", "garde-no-such-user", "10.20.1.1", other), PAM_AUTH_ERR);
	expect_denial("app_password_invalid", "mail-lan", other);
	fixture_expect_no_files_for("garde-no-such-user");
	/* from a denied network the rule decides first */
	ck_assert_int_eq(login("m-mail", "root", "198.51.100.7", pw), PAM_PERM_DENIED);
	expect_denial("policy_deny", "evil-net", pw);
}
END_TEST

START_TEST(test_apppw_report_only)
{
	char pw[STORE_APPPW_TEXT + 1], id[STORE_APPPW_ID + 1];
	const char *bogus = "abcd-efgh-ijkm-npqr-stuv-wxyz";
	size_t m, n;

	write_policy("report-only", 0);
	add_apppw("root", "mail", 0, pw, id);
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", pw), PAM_SUCCESS);
	fixture_expect_no_event();
	/* refused by the next module (not "s3cret"), only reported by pam_garde */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", bogus), PAM_AUTH_ERR);
	n = events("\"action\":\"login-would-deny\"", "\"reason\":\"app_password_invalid\"", NULL,
		   &m, bogus);
	ck_assert_uint_eq(m, 1);
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_eq(fixture_user_failures("root", "elsewhere", NULL), 0);
}
END_TEST

START_TEST(test_password_and_code)
{
	struct otp_token tok;
	char code[OTP_CODE_BUF], text[64], pw[STORE_APPPW_TEXT + 1], id[STORE_APPPW_ID + 1];

	enroll("root", &tok);
	add_apppw("root", "mail", 0, pw, id);
	fixture_code_at(&tok, 0, code);
	snprintf(text, sizeof(text), "s3cret%s", code);
	/* the code is verified and taken off; pam_garde steps aside (PAM_IGNORE,
	 * not PAM_SUCCESS: the password is the next module's) */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", text), PAM_IGNORE);
	fixture_expect_no_event();
	/* without the app_password option an app password is just a password */
	ck_assert_int_eq(login("m-plain", "root", "203.0.113.9", pw), PAM_AUTH_ERR);
	expect_denial("mfa_missing", "mail-mfa", pw);
}
END_TEST

START_TEST(test_remember_suffix)
{
	struct otp_token tok;
	char code[OTP_CODE_BUF], next[OTP_CODE_BUF], wrong[OTP_CODE_BUF], text[64];

	enroll("root", &tok);
	fixture_code_at(&tok, 0, code);
	snprintf(text, sizeof(text), "s3cret%s", code);
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", text), PAM_IGNORE);
	/* the same client again, with the code it was set up with: taken off */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", text), PAM_IGNORE);
	/* the password alone: untouched */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", "s3cret"), PAM_IGNORE);
	fixture_expect_no_event();
	/* other trailing digits: not a code of this source, so the whole text
	 * is the password (the next module refuses it); nothing counted */
	fixture_code_wrong(&tok, 111111, wrong);
	snprintf(text, sizeof(text), "s3cret%s", wrong);
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", text), PAM_AUTH_ERR);
	fixture_expect_no_event();
	ck_assert_uint_eq(fixture_user_failures("root", "elsewhere", NULL), 0);
	/* a fresh code (the next step) from the remembered source: taken off */
	fixture_code_at(&tok, 1, next);
	snprintf(text, sizeof(text), "s3cret%s", next);
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", text), PAM_IGNORE);
	/* the first code replayed from another source: refused */
	snprintf(text, sizeof(text), "s3cret%s", code);
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.6", text), PAM_AUTH_ERR);
	expect_denial("mfa_replay", "mail-mfa", NULL);
	/* the password alone from another source: refused, not counted */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.6", "s3cret"), PAM_AUTH_ERR);
	expect_denial("mfa_missing", "mail-mfa", NULL);
	/* once remembered time is over, the password alone is refused */
	expire_remember("root");
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", "s3cret"), PAM_AUTH_ERR);
	expect_denial("mfa_missing", "mail-mfa", NULL);
	ck_assert_uint_eq(fixture_user_failures("root", "elsewhere", NULL), 1); /* the replay only */
}
END_TEST

/* remember = false on the admin rule: a code every time, even from a source
 * that mail logins may remember. */
START_TEST(test_remember_false)
{
	struct otp_token tok;
	char code[OTP_CODE_BUF], text[64];

	enroll("root", &tok);
	fixture_code_at(&tok, 0, code);
	snprintf(text, sizeof(text), "s3cret%s", code);
	ck_assert_int_eq(login("m-admin", "root", "203.0.113.5", text), PAM_IGNORE);
	ck_assert_int_eq(login("m-admin", "root", "203.0.113.5", "s3cret"), PAM_AUTH_ERR);
	expect_denial("mfa_missing", "admin-mfa", NULL);
	/* and the code accepted for admin did not make the source remembered
	 * for admin either: no entry was written for it */
	ck_assert_int_eq(login("m-admin", "root", "203.0.113.5", text), PAM_AUTH_ERR);
	expect_denial("mfa_replay", "admin-mfa", NULL);
}
END_TEST

START_TEST(test_bad_input)
{
	static char big[64 * 1024 + 1];
	struct otp_token tok;
	char code[OTP_CODE_BUF], text[128];

	enroll("root", &tok);
	fixture_code_at(&tok, 0, code);
	/* too short to hold a code */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", "12345"), PAM_AUTH_ERR);
	expect_denial("mfa_missing", "mail-mfa", NULL);
	/* a code with a space in it */
	snprintf(text, sizeof(text), "s3cret%.3s %s", code, code + 3);
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", text), PAM_AUTH_ERR);
	expect_denial("mfa_missing", "mail-mfa", NULL);
	/* non-ASCII: the code verifies, the next module sees the password */
	snprintf(text, sizeof(text), "p\xc3\xa4ssw\xc3\xb6rd%s", code);
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", text), PAM_AUTH_ERR);
	fixture_expect_no_event(); /* refused by the next module: not "s3cret" */
	/* non-ASCII where an app password's shape is expected */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.7", "abcd-\xc3\xa9""fgh-ijkm-npqr-stuv-wxyz"),
			 PAM_AUTH_ERR);
	expect_denial("mfa_missing", "mail-mfa", NULL);
	/* 64 KiB, from a source not remembered (the non-ASCII login above
	 * passed the code from .5): refused before anything is derived */
	memset(big, 'a', sizeof(big) - 1);
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.8", big), PAM_AUTH_ERR);
	expect_denial("mfa_missing", "mail-mfa", NULL);
	/* and from the remembered source it is left to the next module */
	ck_assert_int_eq(login("m-mail", "root", "203.0.113.5", big), PAM_AUTH_ERR);
	fixture_expect_no_event();
}
END_TEST

static Suite *mail_suite(void)
{
	Suite *s = suite_create("pam-mail");
	TCase *tc = tcase_create("mail");

	tcase_add_checked_fixture(tc, setup, fixture_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_apppw_accepted);
	tcase_add_test(tc, test_apppw_refused);
	tcase_add_test(tc, test_apppw_report_only);
	tcase_add_test(tc, test_password_and_code);
	tcase_add_test(tc, test_remember_suffix);
	tcase_add_test(tc, test_remember_false);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	int rv = fixture_find_modules("test_pam_mail", argc > 1 ? argv[1] : "build");

	if (rv != 0)
		return rv;
	if (geteuid() != 0) {
		fprintf(stderr, "test_pam_mail: SKIP: needs root (a store owned by root)\n");
		return 77;
	}
	return fixture_run(mail_suite());
}
