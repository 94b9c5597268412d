/* test_pam.c - the "pam" tier: build/pam_garde.so through real libpam
 * (pam_start_confdir with service files in a temporary directory), a
 * scripted conversation, existing system users (root, daemon, bin, nobody)
 * enrolled in a temporary store. Never touches /etc/pam.d or host users.
 *
 * Return codes tested here (the table of pam_garde(8)); "auth" is
 * pam_sm_authenticate, "account" pam_sm_acct_mgmt. PAM_IGNORE is observed
 * with the line `[success=done ignore=ignore default=die] pam_garde.so`
 * followed by pam_expect_authtok.so mark=PHASE, which is only reached when
 * pam_garde returned PAM_IGNORE.
 *
 *   situation                                         auth                account             event reason
 *   unknown or malformed module option                PAM_SERVICE_ERR     PAM_SERVICE_ERR     -
 *   policy missing / group-writable / invalid /
 *     expired, failmode=secure (default)              PAM_SERVICE_ERR     PAM_SERVICE_ERR     policy_unavailable (failure)
 *     the same, failmode=safe                         PAM_IGNORE          PAM_IGNORE          policy_unavailable (unknown)
 *   user over 1 KiB or with control characters,
 *     PAM_RHOST over 1 KiB or with control chars     PAM_AUTH_ERR        PAM_AUTH_ERR        -
 *   policy deny (rule message via PAM_ERROR_MSG)      PAM_PERM_DENIED     PAM_PERM_DENIED     policy_deny, rule named
 *   no rule matches                                   PAM_PERM_DENIED     PAM_PERM_DENIED     no_rule, no rule name
 *   allow, no factor needed                           PAM_IGNORE          PAM_SUCCESS         - (alert rule: login-alert, success, no reason)
 *     `auth sufficient pam_garde.so` + `auth required pam_deny.so`: the stack fails (PAM_AUTH_ERR)
 *   mfa, correct code (prompt or password suffix)     PAM_SUCCESS         PAM_SUCCESS (same transaction) - (alert rule: login-alert)
 *   mfa, wrong code / non-digits / oversize reply     PAM_AUTH_ERR        -                   mfa_invalid
 *   mfa, code already used (replay)                   PAM_AUTH_ERR        -                   mfa_replay
 *   mfa, empty answer                                 PAM_AUTH_ERR        -                   mfa_missing
 *   mfa, conversation failure                         PAM_CONV_ERR        -                   mfa_missing
 *   mfa, user not enrolled                            PAM_AUTH_ERR        -                   mfa_not_enrolled
 *   mfa, user unknown to NSS                          PAM_AUTH_ERR        -                   mfa_not_enrolled (no file made)
 *   token store unusable (group-writable, not a
 *     directory) or record symlinked, owned by
 *     another user, corrupt                           PAM_AUTHINFO_UNAVAIL
 *   (user, zone) locked (rules allow or mfa)          PAM_PERM_DENIED     -                   locked_user, no rule name
 *   source address locked (rules allow or mfa)        PAM_PERM_DENIED     -                   locked_source, no rule name
 *   mfa rule, no factor verified in this transaction
 *     (or verified for another PAM_USER), source not
 *     remembered                                      -                   PAM_PERM_DENIED     mfa_missing
 *   mfa rule, source remembered (mfa.remember)        PAM_IGNORE          PAM_SUCCESS
 *   report-only policy or rule                        PAM_IGNORE          PAM_SUCCESS         login-would-deny (unknown), once per transaction
 *   spool full                                        decision unchanged; the event goes to syslog only
 *   out of memory                                     PAM_BUF_ERR: not tested (needs fault injection)
 *
 * Also: RFC 6238 SHA1/SHA256/SHA512 secrets (8 digits) accept oathtool's
 * code; 32 parallel logins (one valid code: exactly one success; 32 wrong
 * codes, deny=100: exactly 32 failures counted; deny=5: exactly 5 counted,
 * the rest refused as locked); zoned lockout; hostile users, replies and
 * PAM_RHOST; the .so exports exactly the three pam_sm_* it implements. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "otp.h"
#include "pam_fixture.h"
#include "store.h"

#define NPAR 32 /* parallel logins in the race tests */

/* ---------------------------------------------------------------- files */

/* The probe stack: PAM_IGNORE of pam_garde shows as the mark being set. */
static void write_probe(const char *name, const char *extra)
{
	fixture_write_service(name,
			      "auth [success=done ignore=ignore default=die] %s %s %s\n"
			      "auth required %s mark=auth\n"
			      "account [success=done ignore=ignore default=die] %s %s %s\n"
			      "account required %s mark=account\n",
			      fixture.garde_so, fixture.module_args, extra, fixture.expect_so,
			      fixture.garde_so, fixture.module_args, extra, fixture.expect_so);
}

struct pol_knobs {
	const char *mode;    /* "enforce" / "report-only" */
	const char *expires; /* NULL: none */
	unsigned user_deny, source_deny, remember;
};

static const struct pol_knobs DEFAULT_KNOBS = { "enforce", NULL, 5, 1000, 0 };

static void write_policy(const struct pol_knobs *k)
{
	char text[8192], expires[128] = "";

	if (k->expires != NULL)
		snprintf(expires, sizeof(expires), "expires = \"%s\";\n", k->expires);
	snprintf(text, sizeof(text),
		 "serial = 7;\n%s"
		 "mode = \"%s\";\n"
		 "networks = {\n"
		 "  lan  = [ \"10.20.0.0/16\", \"fd00:20::/48\" ];\n"
		 "  evil = [ \"198.51.100.0/24\" ];\n"
		 "};\n"
		 "classes = {\n"
		 "  admin = [ \"t-mfa\", \"t-suffix\", \"t-suffix-bad\", \"t-safe\" ];\n"
		 "  mail  = [ \"t-allow\", \"t-sufficient\" ];\n"
		 "};\n"
		 "mfa = { digits = 6; step = 30; window_past = 1; window_future = 1; remember = %u; };\n"
		 "lockout = { user   = { deny = %u; interval = 900; unlock = 900; };\n"
		 "            source = { deny = %u; interval = 900; unlock = 900; }; };\n"
		 "rules = (\n"
		 "  { name = \"evil-net\"; from = [ \"evil\" ]; action = \"deny\";\n"
		 "    message = \"Logins from this network are refused.\"; },\n"
		 "  { name = \"mail-allow\"; class = \"mail\"; action = \"allow\"; },\n"
		 "  { name = \"alert-allow\"; services = [ \"t-alert\" ]; action = \"allow\"; alert = true; },\n"
		 "  { name = \"ro-deny\"; services = [ \"t-ro\" ]; action = \"deny\"; report_only = true; },\n"
		 "  { name = \"ro-allow\"; services = [ \"t-ro\" ]; action = \"allow\"; },\n"
		 "  { name = \"alert-mfa\"; services = [ \"t-mfa-alert\" ]; action = \"mfa\"; alert = true; },\n"
		 "  { name = \"admin-mfa\"; class = \"admin\"; action = \"mfa\"; }\n"
		 ");\n",
		 expires, k->mode, k->remember, k->user_deny, k->source_deny);
	fixture_write_file(fixture.policy, 0644, text);
}

static void write_policy_deny(unsigned user_deny, unsigned source_deny, unsigned remember)
{
	struct pol_knobs k = DEFAULT_KNOBS;

	k.user_deny = user_deny;
	k.source_deny = source_deny;
	k.remember = remember;
	write_policy(&k);
}

static void setup(void)
{
	fixture_setup_dir("/tmp/garde-pam.XXXXXX");
	write_policy(&DEFAULT_KNOBS);
	write_probe("t-mfa", "");
	write_probe("t-allow", "");
	write_probe("t-alert", "");
	write_probe("t-ro", "");
	write_probe("t-none", "");
	write_probe("t-mfa-alert", "");
	write_probe("t-safe", "failmode=safe");
	write_probe("t-badopt", "bogus=1");
	write_probe("t-badpath", "policy=relative/policy.conf");
	fixture_write_service("t-suffix",
			      "auth requisite %s %s mode=suffix\nauth required %s expect=s3cret\n",
			      fixture.garde_so, fixture.module_args, fixture.expect_so);
	fixture_write_service("t-suffix-bad",
			      "auth requisite %s %s mode=suffix\nauth required %s expect=wrong\n",
			      fixture.garde_so, fixture.module_args, fixture.expect_so);
	fixture_write_service("t-sufficient",
			      "auth sufficient %s %s\nauth required pam_deny.so\n",
			      fixture.garde_so, fixture.module_args);
}

/* --------------------------------------------------------- conversation */

struct script {
	const char *answers[4];
	size_t n, next;
	bool fail;         /* every call fails with PAM_CONV_ERR */
	char errors[2048]; /* PAM_ERROR_MSG texts */
	char prompts[512]; /* echo-off/on prompts */
	void (*on_prompt)(const char *arg); /* called before a prompt is answered */
	const char *on_prompt_arg;
};

static void append(char *buf, size_t cap, const char *text)
{
	size_t used = strlen(buf);

	snprintf(buf + used, cap - used, "%s\n", text != NULL ? text : "(null)");
}

static int conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
		   void *appdata)
{
	struct script *sc = appdata;
	struct pam_response *r;

	if (sc->fail || n <= 0)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			append(sc->prompts, sizeof(sc->prompts), msg[i]->msg);
			if (sc->on_prompt != NULL)
				sc->on_prompt(sc->on_prompt_arg);
			if (sc->next >= sc->n) {
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_CONV_ERR;
			}
			r[i].resp = strdup(sc->answers[sc->next++]);
			break;
		case PAM_ERROR_MSG:
			append(sc->errors, sizeof(sc->errors), msg[i]->msg);
			break;
		default:
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static void script_answers(struct script *sc, const char *a, const char *b)
{
	memset(sc, 0, sizeof(*sc));
	if (a != NULL)
		sc->answers[sc->n++] = a;
	if (b != NULL)
		sc->answers[sc->n++] = b;
}

/* ---------------------------------------------------------------- logins */

static pam_handle_t *pam_open(const char *service, const char *user, const char *rhost,
			      struct script *sc)
{
	static struct pam_conv conv;

	conv.conv = conv_fn;
	conv.appdata_ptr = sc;
	return fixture_pam_start(service, user, rhost, &conv);
}

/* One transaction: auth (when auth_rv) then account (when acct_rv). */
static void login(const char *service, const char *user, const char *rhost, struct script *sc,
		  int *auth_rv, int *acct_rv)
{
	pam_handle_t *pamh = pam_open(service, user, rhost, sc);
	int rv = PAM_SUCCESS;

	ck_assert_msg(pamh != NULL, "pam_start_confdir(%s) failed", service);
	if (auth_rv != NULL)
		rv = *auth_rv = fixture_probe(pamh, false);
	if (acct_rv != NULL)
		rv = *acct_rv = fixture_probe(pamh, true);
	pam_end(pamh, rv);
}

static int auth_once(const char *service, const char *user, const char *rhost, const char *answer)
{
	struct script sc;
	int rv = -1;

	script_answers(&sc, answer, NULL);
	login(service, user, rhost, &sc, &rv, NULL);
	return rv;
}

/* For forked children: no Check assertions, -1 when PAM cannot start. */
static int try_auth(const char *service, const char *user, const char *rhost, const char *answer)
{
	struct script sc;
	pam_handle_t *pamh;
	int rv;

	script_answers(&sc, answer, NULL);
	pamh = pam_open(service, user, rhost, &sc);
	if (pamh == NULL)
		return -1;
	rv = fixture_probe(pamh, false);
	pam_end(pamh, rv);
	return rv;
}

/* ---------------------------------------------------------------- tokens */

static const char RFC_SHA1[] = "12345678901234567890";
static const char RFC_SHA256[] = "12345678901234567890123456789012";
static const char RFC_SHA512[] =
	"1234567890123456789012345678901234567890123456789012345678901234";

/* ---------------------------------------------------------------- store */

static void user_path(const char *sub, const char *user, char *path, size_t len)
{
	char hex[STORE_HASH_HEX];

	store_name_hash(user, strlen(user), hex);
	snprintf(path, len, "%s/%s/%s", fixture.store, sub, hex);
}

static size_t count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ---------------------------------------------------------------- events */

/* Well-formed UTF-8 without control characters: what a JSON line needs. */
static bool utf8_clean(const unsigned char *s)
{
	while (*s != '\0') {
		size_t extra;

		if (*s < 0x20 || *s == 0x7f)
			return false;
		if (*s < 0x80) {
			s++;
			continue;
		}
		extra = (*s & 0xe0) == 0xc0 ? 1 : (*s & 0xf0) == 0xe0 ? 2 : (*s & 0xf8) == 0xf0 ? 3 : 0;
		if (extra == 0 || *s == 0xc0 || *s == 0xc1)
			return false;
		for (size_t i = 1; i <= extra; i++)
			if ((s[i] & 0xc0) != 0x80)
				return false;
		s += extra + 1;
	}
	return true;
}

/* Reads and removes every event in SPOOL/new, and checks each one's shape:
 * one JSON object of clean UTF-8, from pam_garde. */
static void events_take(struct fixture_events *ev)
{
	fixture_events_take(ev);
	for (size_t i = 0; i < ev->n; i++) {
		const char *buf = ev->v[i];
		size_t len = ev->len[i];

		ck_assert_msg(len > 2 && len < 4096, "event of %zu bytes", len);
		ck_assert_msg(buf[0] == '{' && buf[len - 1] == '}', "event not one object: %s", buf);
		ck_assert_msg(utf8_clean((const unsigned char *)buf), "event not clean UTF-8: %s", buf);
		ck_assert_msg(strstr(buf, "\"provider\":\"pam_garde\"") != NULL, "%s", buf);
	}
}

/* How many events have this reason (NULL: no reason), outcome, action and
 * rule name (NULL: no rule name). */
static size_t events_count(const struct fixture_events *ev, const char *action,
			   const char *outcome, const char *reason, const char *rule)
{
	char want_action[96], want_outcome[64], want_reason[96], want_rule[192];
	size_t n = 0;

	snprintf(want_action, sizeof(want_action), "\"action\":\"%s\"", action);
	snprintf(want_outcome, sizeof(want_outcome), "\"outcome\":\"%s\"", outcome);
	snprintf(want_reason, sizeof(want_reason), "\"reason\":\"%s\"", reason ? reason : "");
	snprintf(want_rule, sizeof(want_rule), "\"rule\":{\"name\":\"%s\"", rule ? rule : "");
	for (size_t i = 0; i < ev->n; i++) {
		const char *e = ev->v[i];

		if (strstr(e, want_action) == NULL || strstr(e, want_outcome) == NULL)
			continue;
		if (reason != NULL ? strstr(e, want_reason) == NULL : strstr(e, "\"reason\"") != NULL)
			continue;
		if (rule != NULL ? strstr(e, want_rule) == NULL
				 : strstr(e, "\"rule\":{\"name\"") != NULL)
			continue;
		n++;
	}
	return n;
}

/* Exactly one event in the spool, the one described; the spool is emptied. */
static void expect_one_event(const char *action, const char *outcome, const char *reason,
			     const char *rule)
{
	struct fixture_events ev;

	events_take(&ev);
	if (ev.n != 1 || events_count(&ev, action, outcome, reason, rule) != 1) {
		fixture_events_dump(&ev);
		ck_abort_msg("want one event %s/%s/%s/%s, have %zu", action, outcome,
			     reason ? reason : "-", rule ? rule : "-", ev.n);
	}
	fixture_events_free(&ev);
}

static void expect_denial(const char *reason, const char *rule)
{
	expect_one_event("login-denied", "failure", reason, rule);
}

/* ============================================================== tests */

/* --- the .so itself: dlopen and its dynamic symbol table --- */

START_TEST(test_dlopen_exports)
{
	static const char *const want[] = { "pam_sm_acct_mgmt", "pam_sm_authenticate",
					    "pam_sm_setcred" };
	bool seen[3] = { false, false, false };
	char cmd[PATH_MAX + 256], line[512];
	void *h = dlopen(fixture.garde_so, RTLD_NOW | RTLD_LOCAL);
	FILE *p;
	size_t n = 0;

	ck_assert_msg(h != NULL, "dlopen: %s", dlerror());
	for (size_t i = 0; i < 3; i++)
		ck_assert_msg(dlsym(h, want[i]) != NULL, "%s not found", want[i]);
	ck_assert_ptr_null(dlsym(h, "module_login_begin"));
	ck_assert_ptr_null(dlsym(h, "store_open"));
	ck_assert_ptr_null(dlsym(h, "pam_sm_chauthtok"));
	dlclose(h);

	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s'", fixture.garde_so);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p) != NULL) {
		char addr[64], type[8], name[256];
		bool known = false;

		if (sscanf(line, "%63s %7s %255s", addr, type, name) != 3)
			continue;
		for (size_t i = 0; i < 3; i++)
			if (strcmp(name, want[i]) == 0) {
				ck_assert_msg(!seen[i], "%s twice", name);
				seen[i] = known = true;
			}
		ck_assert_msg(known, "unexpected export: %s", line);
		n++;
	}
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_uint_eq(n, 3);
}
END_TEST

/* --- options and policy --- */

START_TEST(test_bad_option)
{
	static const char *const services[] = { "t-badopt", "t-badpath" };

	for (size_t i = 0; i < 2; i++) {
		struct script sc;
		int a = -1, b = -1;

		script_answers(&sc, NULL, NULL);
		login(services[i], "root", NULL, &sc, &a, &b);
		ck_assert_int_eq(a, PAM_SERVICE_ERR);
		ck_assert_int_eq(b, PAM_SERVICE_ERR);
	}
	fixture_expect_no_event();
}
END_TEST

enum policy_breakage { POL_MISSING, POL_GROUP_WRITABLE, POL_INVALID, POL_EXPIRED, POL_N };

static void break_policy(enum policy_breakage how)
{
	struct pol_knobs k = DEFAULT_KNOBS;

	switch (how) {
	case POL_MISSING:
		ck_assert_int_eq(unlink(fixture.policy), 0);
		break;
	case POL_GROUP_WRITABLE:
		ck_assert_int_eq(chmod(fixture.policy, 0664), 0);
		break;
	case POL_INVALID:
		fixture_write_file(fixture.policy, 0644,
				   "serial = 7;\nrules = ( { name = ; } );\n");
		break;
	case POL_EXPIRED:
		k.expires = "2001-01-01T00:00:00Z";
		write_policy(&k);
		break;
	case POL_N:
		break;
	}
}

/* Table: every way a policy is unusable, under both fail modes. */
START_TEST(test_policy_unusable)
{
	enum policy_breakage how = (enum policy_breakage)(_i / 2);
	bool safe = _i % 2 == 1;
	const char *service = safe ? "t-safe" : "t-mfa";
	int want = safe ? PAM_IGNORE : PAM_SERVICE_ERR;
	struct script sc;
	int a = -1, b = -1;

	break_policy(how);
	script_answers(&sc, "123456", NULL);
	login(service, "root", "10.20.1.1", &sc, &a, &b);
	ck_assert_msg(a == want, "breakage %d safe %d: auth %d want %d", how, safe, a, want);
	ck_assert_msg(b == want, "breakage %d safe %d: account %d want %d", how, safe, b, want);
	ck_assert_str_eq(sc.prompts, ""); /* nothing asked */
	{
		struct fixture_events ev;

		events_take(&ev);
		/* one per phase */
		if (events_count(&ev, "login-denied", safe ? "unknown" : "failure",
				 "policy_unavailable", NULL) != 2) {
			fixture_events_dump(&ev);
			ck_abort_msg("policy_unavailable events missing");
		}
		ck_assert_uint_eq(ev.n, 2);
		fixture_events_free(&ev);
	}
}
END_TEST

/* --- malformed PAM items (table) --- */

START_TEST(test_malformed_items)
{
	char long_user[1100], long_rhost[1100];
	struct {
		const char *user, *rhost;
	} cases[] = {
		{ long_user, NULL },
		{ "ro\not", NULL },
		{ "root\x1b[31m", NULL },
		{ "root", long_rhost },
		{ "root", "10.20.0.1\n" },
		{ "root", "10.20.0.1\x7f" },
	};

	memset(long_user, 'a', 1025);
	long_user[1025] = '\0';
	memset(long_rhost, '1', 1025);
	long_rhost[1025] = '\0';
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int svc = 0; svc < 2; svc++) {
			struct script sc;
			int a = -1, b = -1;

			script_answers(&sc, "123456", NULL);
			login(svc ? "t-allow" : "t-mfa", cases[i].user, cases[i].rhost, &sc, &a, &b);
			ck_assert_msg(a == PAM_AUTH_ERR, "case %zu svc %d auth %d", i, svc, a);
			ck_assert_msg(b == PAM_AUTH_ERR, "case %zu svc %d account %d", i, svc, b);
			ck_assert_str_eq(sc.prompts, "");
		}
	}
	ck_assert_uint_eq(count_dir(fixture.store), 0);
	fixture_expect_no_event();
}
END_TEST

/* --- rules: deny, no rule, allow, alert, sufficient --- */

START_TEST(test_policy_deny)
{
	struct script sc;
	int a = -1, b = -1;

	/* an IPv4-mapped IPv6 address counts as IPv4 */
	static const char *const rhosts[] = { "198.51.100.9", "::ffff:198.51.100.10" };

	for (size_t i = 0; i < 2; i++) {
		script_answers(&sc, "123456", NULL);
		login("t-mfa", "root", rhosts[i], &sc, &a, NULL);
		ck_assert_int_eq(a, PAM_PERM_DENIED);
		ck_assert_str_eq(sc.errors, "Logins from this network are refused.\n");
		ck_assert_str_eq(sc.prompts, "");
		expect_denial("policy_deny", "evil-net");
	}
	/* the account phase applies the same rule */
	script_answers(&sc, NULL, NULL);
	login("t-allow", "daemon", "198.51.100.9", &sc, NULL, &b);
	ck_assert_int_eq(b, PAM_PERM_DENIED);
	ck_assert_str_eq(sc.errors, "Logins from this network are refused.\n");
	expect_denial("policy_deny", "evil-net");
}
END_TEST

START_TEST(test_no_rule)
{
	struct script sc;
	int a = -1, b = -1;

	script_answers(&sc, NULL, NULL);
	login("t-none", "root", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_PERM_DENIED);
	expect_denial("no_rule", NULL);
	script_answers(&sc, NULL, NULL);
	login("t-none", "root", NULL, &sc, NULL, &b);
	ck_assert_int_eq(b, PAM_PERM_DENIED);
	expect_denial("no_rule", NULL);
}
END_TEST

START_TEST(test_allow)
{
	struct script sc;
	int a = -1, b = -1;

	script_answers(&sc, NULL, NULL);
	login("t-allow", "daemon", "203.0.113.4", &sc, &a, &b);
	ck_assert_int_eq(a, PAM_IGNORE);
	ck_assert_int_eq(b, PAM_SUCCESS);
	ck_assert_str_eq(sc.prompts, "");
	fixture_expect_no_event();

	/* a user NSS does not know: the policy still decides, no file made */
	script_answers(&sc, NULL, NULL);
	login("t-allow", "garde-no-such-user", "203.0.113.4", &sc, &a, &b);
	ck_assert_int_eq(a, PAM_IGNORE);
	ck_assert_int_eq(b, PAM_SUCCESS);
	fixture_expect_no_files_for("garde-no-such-user");

	/* alert: success, with an event that has no reason */
	script_answers(&sc, NULL, NULL);
	login("t-alert", "daemon", "10.20.1.1", &sc, &a, &b);
	ck_assert_int_eq(a, PAM_IGNORE);
	ck_assert_int_eq(b, PAM_SUCCESS);
	expect_one_event("login-alert", "success", NULL, "alert-allow");
	/* account alone (a public-key login) alerts too */
	script_answers(&sc, NULL, NULL);
	login("t-alert", "daemon", "10.20.1.1", &sc, NULL, &b);
	ck_assert_int_eq(b, PAM_SUCCESS);
	expect_one_event("login-alert", "success", NULL, "alert-allow");
}
END_TEST

/* `auth sufficient pam_garde.so` + `auth required pam_deny.so`: an allow
 * (PAM_IGNORE) must not satisfy the stack. */
START_TEST(test_sufficient_is_no_bypass)
{
	struct script sc;
	int a = -1;

	script_answers(&sc, NULL, NULL);
	login("t-sufficient", "daemon", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_AUTH_ERR);
}
END_TEST

/* --- the second factor, prompt mode --- */

START_TEST(test_mfa_prompt)
{
	struct otp_token tok;
	char code[OTP_CODE_BUF], wrong[OTP_CODE_BUF];
	struct script sc;
	int a = -1, b = -1;

	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	fixture_code_wrong(&tok, 0, wrong);
	/* wrong code */
	script_answers(&sc, wrong, NULL);
	login("t-mfa", "root", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_AUTH_ERR);
	ck_assert_str_eq(sc.prompts, "Verification code: \n");
	expect_denial("mfa_invalid", "admin-mfa");
	ck_assert_uint_eq(fixture_user_failures("root", "lan", NULL), 1);

	/* right code: auth and account in one transaction */
	fixture_code_at(&tok, 0, code);
	script_answers(&sc, code, NULL);
	login("t-mfa", "root", "10.20.1.1", &sc, &a, &b);
	ck_assert_int_eq(a, PAM_SUCCESS);
	ck_assert_int_eq(b, PAM_SUCCESS);
	fixture_expect_no_event();
	ck_assert_uint_eq(fixture_user_failures("root", "lan", NULL), 0); /* reset on success */

	/* an alert rule that asks for a factor: an event on success too */
	fixture_enroll("daemon", OTP_SHA1, RFC_SHA1, 6, NULL);
	script_answers(&sc, code, NULL);
	login("t-mfa-alert", "daemon", "10.20.1.1", &sc, &a, &b);
	ck_assert_int_eq(a, PAM_SUCCESS);
	ck_assert_int_eq(b, PAM_SUCCESS);
	expect_one_event("login-alert", "success", NULL, "alert-mfa");

	/* the same code again: replay */
	script_answers(&sc, code, NULL);
	login("t-mfa", "root", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_AUTH_ERR);
	expect_denial("mfa_replay", "admin-mfa");
}
END_TEST

START_TEST(test_mfa_missing_answers)
{
	struct script sc;
	int a = -1;

	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, NULL);
	/* empty answer */
	script_answers(&sc, "", NULL);
	login("t-mfa", "root", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_AUTH_ERR);
	expect_denial("mfa_missing", "admin-mfa");
	/* the conversation fails */
	script_answers(&sc, NULL, NULL);
	sc.fail = true;
	login("t-mfa", "root", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_CONV_ERR);
	expect_denial("mfa_missing", "admin-mfa");
	/* no answer at all (the client hung up) */
	script_answers(&sc, NULL, NULL);
	login("t-mfa", "root", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_CONV_ERR);
	expect_denial("mfa_missing", "admin-mfa");
}
END_TEST

START_TEST(test_mfa_not_enrolled)
{
	struct script sc;
	int a = -1;

	script_answers(&sc, "123456", NULL);
	login("t-mfa", "daemon", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_AUTH_ERR);
	/* Asked like an enrolled user, so the prompts do not tell who has a token. */
	ck_assert_str_eq(sc.prompts, "Verification code: \n");
	expect_denial("mfa_not_enrolled", "admin-mfa");

	/* unknown to NSS: refused, and no file for the guessed name */
	script_answers(&sc, "123456", NULL);
	login("t-mfa", "garde-no-such-user", "203.0.113.5", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_AUTH_ERR);
	ck_assert_str_eq(sc.prompts, "Verification code: \n");
	expect_denial("mfa_not_enrolled", "admin-mfa");
	fixture_expect_no_files_for("garde-no-such-user");

	/* enrolled by an administrator before the account exists here (a
	 * central users file): the record makes the user known */
	{
		struct otp_token tok;
		char code[OTP_CODE_BUF];

		fixture_enroll("garde-test-ahead", OTP_SHA1, "12345678901234567890", 6, &tok);
		fixture_code_at(&tok, 0, code);
		script_answers(&sc, code, NULL);
		login("t-mfa", "garde-test-ahead", "10.20.1.1", &sc, &a, NULL);
		ck_assert_int_eq(a, PAM_SUCCESS);
		fixture_expect_no_event();
	}
}
END_TEST

/* The policy the process keeps between logins (a long-running service
 * such as dovecot's auth worker) follows the file: an edit in place that
 * keeps the size, a file renamed over it, and modes that fail the trust
 * rules are all seen by the next login. */
static void policy_edit_in_place(const char *path, const char *from, const char *to)
{
	char text[8192], *at;
	ssize_t n;
	int fd = open(path, O_RDWR);

	ck_assert_int_ge(fd, 0);
	n = pread(fd, text, sizeof(text) - 1, 0);
	ck_assert_int_gt(n, 0);
	text[n] = '\0';
	at = strstr(text, from);
	ck_assert_ptr_nonnull(at);
	ck_assert_uint_eq(strlen(from), strlen(to));
	ck_assert_int_eq(pwrite(fd, to, strlen(to), at - text), (ssize_t)strlen(to));
	close(fd);
}

START_TEST(test_policy_kept_follows_file)
{
	static const char allow[] = "class = \"mail\"; action = \"allow\"";
	static const char deny[] = "class = \"mail\"; action = \"deny\" ";
	struct script sc;
	int a = -1;

	script_answers(&sc, NULL, NULL);
	login("t-allow", "daemon", "203.0.113.4", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_IGNORE);

	policy_edit_in_place(fixture.policy, allow, deny); /* same inode, same size */
	script_answers(&sc, NULL, NULL);
	login("t-allow", "daemon", "203.0.113.4", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_PERM_DENIED);
	expect_denial("policy_deny", "mail-allow");

	write_policy(&DEFAULT_KNOBS); /* rewritten: allowed again */
	script_answers(&sc, NULL, NULL);
	login("t-allow", "daemon", "203.0.113.4", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_IGNORE);

	ck_assert_int_eq(chmod(fixture.policy, 0664), 0); /* the kept copy must not outlive trust */
	script_answers(&sc, NULL, NULL);
	login("t-allow", "daemon", "203.0.113.4", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_SERVICE_ERR);
	expect_one_event("login-denied", "failure", "policy_unavailable", NULL);
	ck_assert_int_eq(chmod(fixture.policy, 0644), 0);
	script_answers(&sc, NULL, NULL);
	login("t-allow", "daemon", "203.0.113.4", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_IGNORE);
}
END_TEST

/* Scratch (emergency) codes imported with a token: an answer of another
 * length than the token's codes is tried against them, each works once, and
 * a wrong one counts as a failure like a wrong code. */
START_TEST(test_mfa_scratch_codes)
{
	static const char *const codes[] = { "11112222", "33334444" };
	struct otp_token tok = { .kind = OTP_TOTP, .algo = OTP_SHA1, .digits = 6, .step = 30 };
	struct store_scratch sc;
	struct store *st = NULL;
	struct script s;
	int a = -1;

	tok.secret_len = 20;
	memcpy(tok.secret, "12345678901234567890", 20);
	ck_assert_int_eq(store_scratch_prepare(&sc, codes, 2), STORE_OK);
	ck_assert_int_eq(store_open(fixture.store, &st), STORE_OK);
	ck_assert_int_eq(store_enroll_with(st, "root", &tok, &sc, true, false, time(NULL)),
			 STORE_OK);
	store_close(st);

	script_answers(&s, "11112222", NULL);
	login("t-mfa", "root", "10.20.1.1", &s, &a, NULL);
	ck_assert_int_eq(a, PAM_SUCCESS);
	fixture_expect_no_event();
	script_answers(&s, "11112222", NULL); /* used up */
	login("t-mfa", "root", "10.20.1.1", &s, &a, NULL);
	ck_assert_int_eq(a, PAM_AUTH_ERR);
	expect_denial("mfa_invalid", "admin-mfa");
	ck_assert_uint_eq(fixture_user_failures("root", "lan", NULL), 1);
	script_answers(&s, "33334444", NULL);
	login("t-mfa", "root", "10.20.1.1", &s, &a, NULL);
	ck_assert_int_eq(a, PAM_SUCCESS);
	ck_assert_uint_eq(fixture_user_failures("root", "lan", NULL), 0);
	{
		char code[OTP_CODE_BUF];

		fixture_code_at(&tok, 0, code); /* the token still works, its state untouched */
		script_answers(&s, code, NULL);
		login("t-mfa", "root", "10.20.1.1", &s, &a, NULL);
		ck_assert_int_eq(a, PAM_SUCCESS);
	}
}
END_TEST

/* Threads of one process logging in while the policy is replaced under
 * them (a threaded service): every login gets one of the two policies,
 * whole, and the kept copies are shared and freed without a crash. */
struct kept_worker {
	volatile const bool *stop;
	unsigned allowed, denied, other;
};

static void *kept_worker_run(void *arg)
{
	struct kept_worker *w = arg;
	struct script sc;
	struct pam_conv conv = { conv_fn, &sc };

	script_answers(&sc, NULL, NULL);
	while (!*w->stop) {
		pam_handle_t *pamh = fixture_pam_start("t-allow", "daemon", "203.0.113.4", &conv);
		int rv = PAM_SYSTEM_ERR;

		if (pamh != NULL) {
			rv = fixture_probe(pamh, false);
			pam_end(pamh, rv);
		}
		if (rv == PAM_IGNORE)
			w->allowed++;
		else if (rv == PAM_PERM_DENIED)
			w->denied++;
		else
			w->other++;
	}
	return NULL;
}

START_TEST(test_policy_kept_threads)
{
	static const char allow[] = "class = \"mail\"; action = \"allow\"";
	static const char deny[] = "class = \"mail\"; action = \"deny\" ";
	char tmp[PATH_MAX + 64], version[2][PATH_MAX + 64], cmd[4 * PATH_MAX];
	struct kept_worker w[4];
	pthread_t tid[4];
	volatile bool stop = false;
	unsigned allowed = 0, denied = 0;

	/* Two versions, each swapped in with rename (a new file every time). */
	snprintf(tmp, sizeof(tmp), "%s/policy.tmp", fixture.dir);
	for (int v = 0; v < 2; v++) {
		snprintf(version[v], sizeof(version[v]), "%s/policy.%d", fixture.dir, v);
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", fixture.policy, version[v]);
		ck_assert_int_eq(system(cmd), 0);
	}
	policy_edit_in_place(version[1], allow, deny);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct kept_worker){ &stop, 0, 0, 0 };
		ck_assert_int_eq(pthread_create(&tid[i], NULL, kept_worker_run, &w[i]), 0);
	}
	for (int round = 0; round < 40; round++) {
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", version[round % 2], tmp);
		ck_assert_int_eq(system(cmd), 0);
		ck_assert_int_eq(rename(tmp, fixture.policy), 0);
		usleep(5000);
	}
	stop = true;
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
		ck_assert_msg(w[i].other == 0, "thread %d: %u logins neither allowed nor denied", i,
			      w[i].other);
		allowed += w[i].allowed;
		denied += w[i].denied;
	}
	ck_assert_uint_gt(allowed, 0);
	ck_assert_uint_gt(denied, 0);
}
END_TEST

/* --- RFC 6238 secrets, 8 digits, oathtool's code through the module --- */

static void oathtool_code(const char *algo, const char *secret, char out[OTP_CODE_BUF])
{
	char hex[2 * OTP_SECRET_MAX + 1], cmd[512], line[64];
	size_t len = strlen(secret);
	FILE *p;

	for (size_t i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", (unsigned char)secret[i]);
	snprintf(cmd, sizeof(cmd), "oathtool --totp=%s --digits=8 -s 30 %s", algo, hex);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
	ck_assert_int_eq(pclose(p), 0);
	line[strcspn(line, "\n")] = '\0';
	ck_assert_uint_eq(strlen(line), 8);
	strcpy(out, line);
}

START_TEST(test_rfc6238_vectors)
{
	static const struct {
		const char *user, *algo_name, *secret;
		enum otp_algo algo;
	} vec[] = {
		{ "root", "sha1", RFC_SHA1, OTP_SHA1 },
		{ "daemon", "sha256", RFC_SHA256, OTP_SHA256 },
		{ "bin", "sha512", RFC_SHA512, OTP_SHA512 },
	};

	for (size_t i = 0; i < 3; i++) {
		char code[OTP_CODE_BUF];
		struct script sc;
		int a = -1;

		fixture_enroll(vec[i].user, vec[i].algo, vec[i].secret, 8, NULL);
		oathtool_code(vec[i].algo_name, vec[i].secret, code);
		script_answers(&sc, code, NULL);
		login("t-mfa", vec[i].user, "10.20.1.1", &sc, &a, NULL);
		ck_assert_msg(a == PAM_SUCCESS, "%s: oathtool code %s refused (%d)", vec[i].algo_name,
			      code, a);
		/* a 6-digit prefix of it is not the code */
		code[6] = '\0';
		script_answers(&sc, code, NULL);
		login("t-mfa", vec[i].user, "10.20.1.1", &sc, &a, NULL);
		ck_assert_int_eq(a, PAM_AUTH_ERR);
	}
	{
		struct fixture_events ev;

		events_take(&ev);
		ck_assert_uint_eq(events_count(&ev, "login-denied", "failure", "mfa_invalid", "admin-mfa"), 3);
		fixture_events_free(&ev);
	}
}
END_TEST

/* --- suffix mode: PAM_AUTHTOK = password + code --- */

START_TEST(test_mfa_suffix)
{
	struct otp_token tok, tok8;
	char code[OTP_CODE_BUF], wrong[OTP_CODE_BUF], tok_text[64];
	struct script sc;
	int a = -1;

	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	fixture_code_at(&tok, 0, code);
	/* the next module sees "s3cret" */
	snprintf(tok_text, sizeof(tok_text), "s3cret%s", code);
	script_answers(&sc, tok_text, NULL);
	login("t-suffix", "root", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_SUCCESS);
	ck_assert_str_eq(sc.prompts, "Password: \n");
	/* and a next module expecting something else fails: the check is real */
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok); /* resets the last step */
	script_answers(&sc, tok_text, NULL);
	login("t-suffix-bad", "root", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_AUTH_ERR);
	fixture_expect_no_event(); /* pam_garde accepted; the other module refused */

	/* wrong code in the suffix */
	fixture_code_wrong(&tok, 0, wrong);
	snprintf(tok_text, sizeof(tok_text), "s3cret%s", wrong);
	script_answers(&sc, tok_text, NULL);
	login("t-suffix", "root", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_AUTH_ERR);
	expect_denial("mfa_invalid", "admin-mfa");

	/* nothing left for the password */
	script_answers(&sc, "123456", NULL);
	login("t-suffix", "root", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_AUTH_ERR);
	expect_denial("mfa_missing", "admin-mfa");

	/* an 8-digit token: the split follows the token, not the policy's 6 */
	fixture_enroll("bin", OTP_SHA512, RFC_SHA512, 8, &tok8);
	fixture_code_at(&tok8, 0, code);
	snprintf(tok_text, sizeof(tok_text), "s3cret%s", code);
	script_answers(&sc, tok_text, NULL);
	login("t-suffix", "bin", "10.20.1.1", &sc, &a, NULL);
	ck_assert_int_eq(a, PAM_SUCCESS);
}
END_TEST

/* --- hostile input --- */

START_TEST(test_hostile_replies)
{
	static char big[64 * 1024 + 1];
	const struct {
		const char *answer;
		const char *reason;
	} cases[] = {
		{ "", "mfa_missing" },
		{ big, "mfa_invalid" },
		{ "12ab56", "mfa_invalid" },
		{ "１２３４５６", "mfa_invalid" },
		{ "1234567", "mfa_invalid" },
		{ " 123456", "mfa_invalid" },
		{ "-12345", "mfa_invalid" },
	};

	memset(big, '1', sizeof(big) - 1);
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, NULL);
	write_policy_deny(100, 1000, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct script sc;
		int a = -1;

		script_answers(&sc, cases[i].answer, NULL);
		login("t-mfa", "root", "10.20.1.1", &sc, &a, NULL);
		ck_assert_msg(a == PAM_AUTH_ERR, "case %zu: %d", i, a);
		expect_denial(cases[i].reason, "admin-mfa");
	}
}
END_TEST

START_TEST(test_hostile_users)
{
	char kib[1025];
	const char *const users[] = { "../x", "../../etc/passwd", kib, "\xff\xfe\x80", "r\xc3\x28t",
				      "root ", "*" };

	memset(kib, 'a', 1024);
	kib[1024] = '\0';
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		struct script sc;
		int a = -1, b = -1;

		script_answers(&sc, "123456", NULL);
		login("t-mfa", users[i], "203.0.113.9", &sc, &a, &b);
		ck_assert_msg(a == PAM_AUTH_ERR, "user %zu: auth %d", i, a);
		ck_assert_msg(b == PAM_PERM_DENIED, "user %zu: account %d", i, b);
		/* asked like anyone else: no hint that the name is unknown */
		ck_assert_str_eq(sc.prompts, "Verification code: \n");
		{
			struct fixture_events ev;

			events_take(&ev); /* checks each is clean JSON */
			ck_assert_uint_eq(events_count(&ev, "login-denied", "failure",
						       "mfa_not_enrolled", "admin-mfa"), 1);
			ck_assert_uint_eq(events_count(&ev, "login-denied", "failure",
						       "mfa_missing", "admin-mfa"), 1);
			fixture_events_free(&ev);
		}
	}
	/* nothing was made in the store for names NSS does not know (the
	 * only lock file is the source address's stripe) */
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		fixture_expect_no_files_for(users[i]);
	{
		char dir[PATH_MAX + 64];
		DIR *d;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "%s/lock", fixture.store);
		d = opendir(dir);
		while (d != NULL && (e = readdir(d)) != NULL)
			ck_assert_msg(e->d_name[0] == '.' || strncmp(e->d_name, "source-", 7) == 0,
				      "unexpected lock file %s", e->d_name);
		if (d != NULL)
			closedir(d);
	}
}
END_TEST

START_TEST(test_hostile_rhost)
{
	char two_kib[2049];
	struct otp_token tok;
	char wrong[OTP_CODE_BUF];
	const struct {
		const char *rhost;
		int want;
		const char *reason;
		const char *needle; /* in the event */
	} cases[] = {
		{ two_kib, PAM_AUTH_ERR, NULL, NULL },
		{ "[::1", PAM_AUTH_ERR, "mfa_invalid", "\"address\":\"[::1\"" },
		{ "garbage", PAM_AUTH_ERR, "mfa_invalid", "\"address\":\"garbage\"" },
		{ "host.example.org", PAM_AUTH_ERR, "mfa_invalid", "\"zone\":\"elsewhere\"" },
		{ "[fd00:20::5]", PAM_AUTH_ERR, "mfa_invalid", "\"zone\":\"lan\"" },
		{ "fe80::1%eth0", PAM_AUTH_ERR, "mfa_invalid", "\"ip\":\"fe80::1\"" },
		{ "10.20.0.1\t", PAM_AUTH_ERR, NULL, NULL },
		{ "\xff\xfe", PAM_AUTH_ERR, "mfa_invalid", "\"address\":\"\xef\xbf\xbd" },
	};

	memset(two_kib, '9', 2048);
	two_kib[2048] = '\0';
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	fixture_code_wrong(&tok, 0, wrong);
	write_policy_deny(100, 1000, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int a = auth_once("t-mfa", "root", cases[i].rhost, wrong);
		struct fixture_events ev;

		ck_assert_msg(a == cases[i].want, "case %zu: %d", i, a);
		events_take(&ev);
		if (cases[i].reason == NULL) {
			ck_assert_uint_eq(ev.n, 0);
		} else {
			ck_assert_uint_eq(ev.n, 1);
			ck_assert_uint_eq(events_count(&ev, "login-denied", "failure", cases[i].reason,
						       "admin-mfa"), 1);
			ck_assert_msg(strstr(ev.v[0], cases[i].needle) != NULL, "case %zu: %s", i,
				      ev.v[0]);
		}
		fixture_events_free(&ev);
	}
}
END_TEST

/* --- the token store and its trust rules (table) --- */

enum store_breakage {
	ST_GROUP_WRITABLE,
	ST_NOT_A_DIR,
	ST_RECORD_SYMLINK,
	ST_RECORD_OWNER,
	ST_RECORD_MODE,
	ST_RECORD_CORRUPT,
	ST_N
};

START_TEST(test_store_trust)
{
	enum store_breakage how = (enum store_breakage)_i;
	char rec[PATH_MAX + 256], moved[PATH_MAX + 64];
	struct passwd *nobody;
	struct otp_token tok;
	char code[OTP_CODE_BUF];
	struct script sc;
	int a = -1;

	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	user_path("users", "root", rec, sizeof(rec));
	snprintf(moved, sizeof(moved), "%s/elsewhere-record", fixture.dir);
	switch (how) {
	case ST_GROUP_WRITABLE:
		ck_assert_int_eq(chmod(fixture.store, 0770), 0);
		break;
	case ST_NOT_A_DIR:
		write_policy(&DEFAULT_KNOBS);
		fixture_write_service("t-mfa",
				      "auth [success=done ignore=ignore default=die] %s policy=%s "
				      "store=%s spool=%s\n"
				      "auth required %s mark=auth\n",
				      fixture.garde_so, fixture.policy, fixture.policy,
				      fixture.spool, fixture.expect_so);
		break;
	case ST_RECORD_SYMLINK:
		ck_assert_int_eq(rename(rec, moved), 0);
		ck_assert_int_eq(symlink(moved, rec), 0);
		break;
	case ST_RECORD_OWNER:
		nobody = getpwnam("nobody");
		ck_assert_ptr_nonnull(nobody);
		ck_assert_int_eq(chown(rec, nobody->pw_uid, (gid_t)-1), 0);
		break;
	case ST_RECORD_MODE:
		ck_assert_int_eq(chmod(rec, 0640), 0);
		break;
	case ST_RECORD_CORRUPT:
		fixture_write_file(rec, 0600, "garbage\n");
		break;
	case ST_N:
		break;
	}
	fixture_code_at(&tok, 0, code);
	script_answers(&sc, code, NULL);
	login("t-mfa", "root", "10.20.1.1", &sc, &a, NULL);
	ck_assert_msg(a == PAM_AUTHINFO_UNAVAIL, "breakage %d: %d", how, a);
	ck_assert_str_eq(sc.prompts, "");
}
END_TEST

/* --- lockout --- */

START_TEST(test_lockout_user_and_zones)
{
	struct otp_token tok;
	char code[OTP_CODE_BUF], wrong[OTP_CODE_BUF];
	bool locked = false;

	write_policy_deny(3, 1000, 0);
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	fixture_code_wrong(&tok, 0, wrong);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(auth_once("t-mfa", "root", "203.0.113.5", wrong), PAM_AUTH_ERR);
		expect_denial("mfa_invalid", "admin-mfa");
	}
	ck_assert_uint_eq(fixture_user_failures("root", "elsewhere", &locked), 3);
	ck_assert(locked);
	/* locked from elsewhere: even the right code is refused, nothing asked */
	fixture_code_at(&tok, 0, code);
	ck_assert_int_eq(auth_once("t-mfa", "root", "203.0.113.6", code), PAM_PERM_DENIED);
	expect_one_event("login-denied", "failure", "locked_user", NULL);
	/* ... and from the LAN the same user still gets in */
	ck_assert_int_eq(auth_once("t-mfa", "root", "10.20.7.7", code), PAM_SUCCESS);
	fixture_expect_no_event();
	/* the lock in zone elsewhere is still there */
	ck_assert_uint_eq(fixture_user_failures("root", "elsewhere", &locked), 3);
	ck_assert(locked);
}
END_TEST

START_TEST(test_lockout_source)
{
	struct otp_token tok, tok2;
	char code[OTP_CODE_BUF], wrong[OTP_CODE_BUF];

	write_policy_deny(100, 2, 0);
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	fixture_enroll("daemon", OTP_SHA256, RFC_SHA256, 6, &tok2);
	fixture_code_wrong(&tok, 0, wrong);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(auth_once("t-mfa", "root", "203.0.113.7", wrong), PAM_AUTH_ERR);
		expect_denial("mfa_invalid", "admin-mfa");
	}
	/* another user from the same address: the source is locked */
	fixture_code_at(&tok2, 0, code);
	ck_assert_int_eq(auth_once("t-mfa", "daemon", "203.0.113.7", code), PAM_PERM_DENIED);
	expect_one_event("login-denied", "failure", "locked_source", NULL);
	/* from another address the same code works */
	ck_assert_int_eq(auth_once("t-mfa", "daemon", "203.0.113.8", code), PAM_SUCCESS);
}
END_TEST

/* Locks the source address arg as two failures from elsewhere would
 * (lockout.source.deny = 2), through the store. */
static void lock_source_now(const char *arg)
{
	const struct policy_lockout_slot lp = { 2, 900, 900 };
	struct store *st = NULL;
	struct store_handle *h = NULL;

	ck_assert_int_eq(store_open(fixture.store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_source(st, arg, &h), STORE_OK);
	for (int i = 0; i < 2; i++)
		lockout_record_failure(store_source_slot(h), &lp, time(NULL));
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);
	store_close(st);
}

/* A right code takes no source lock, but a source locked while the user
 * was typing it still refuses it, and the code is not used up. */
START_TEST(test_lockout_source_during_prompt)
{
	struct otp_token tok;
	char code[OTP_CODE_BUF];
	struct script sc;
	int rv = -1;

	write_policy_deny(100, 2, 0);
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	fixture_code_at(&tok, 0, code);
	script_answers(&sc, code, NULL);
	sc.on_prompt = lock_source_now;
	sc.on_prompt_arg = "203.0.113.9";
	login("t-mfa", "root", "203.0.113.9", &sc, &rv, NULL);
	ck_assert_int_eq(rv, PAM_PERM_DENIED);
	expect_one_event("login-denied", "failure", "locked_source", NULL);
	ck_assert_int_eq(auth_once("t-mfa", "root", "203.0.113.10", code), PAM_SUCCESS);
}
END_TEST

/* --- the account phase --- */

START_TEST(test_account_phase)
{
	struct otp_token tok;
	char code[OTP_CODE_BUF];
	struct script sc;
	pam_handle_t *pamh;
	int b = -1;

	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	fixture_enroll("daemon", OTP_SHA1, RFC_SHA1, 6, NULL);
	/* public-key login: account only, no factor in this transaction */
	script_answers(&sc, NULL, NULL);
	login("t-mfa", "root", "10.20.1.1", &sc, NULL, &b);
	ck_assert_int_eq(b, PAM_PERM_DENIED);
	ck_assert_str_eq(sc.errors, "A second factor is required for this login.\n");
	expect_denial("mfa_missing", "admin-mfa");

	/* account deny rule */
	script_answers(&sc, NULL, NULL);
	login("t-none", "root", "10.20.1.1", &sc, NULL, &b);
	ck_assert_int_eq(b, PAM_PERM_DENIED);
	expect_denial("no_rule", NULL);

	/* a factor verified for root does not pass daemon's account phase */
	fixture_code_at(&tok, 0, code);
	script_answers(&sc, code, NULL);
	pamh = pam_open("t-mfa", "root", "10.20.1.1", &sc);
	ck_assert_ptr_nonnull(pamh);
	ck_assert_int_eq(fixture_probe(pamh, false), PAM_SUCCESS);
	ck_assert_int_eq(pam_set_item(pamh, PAM_USER, "daemon"), PAM_SUCCESS);
	ck_assert_int_eq(fixture_probe(pamh, true), PAM_PERM_DENIED);
	ck_assert_int_eq(pam_set_item(pamh, PAM_USER, "root"), PAM_SUCCESS);
	ck_assert_int_eq(fixture_probe(pamh, true), PAM_SUCCESS);
	/* a later failed attempt in the same transaction forgets the factor */
	sc.next = 0;
	sc.answers[0] = "000000";
	ck_assert_int_eq(fixture_probe(pamh, false), PAM_AUTH_ERR);
	ck_assert_int_eq(fixture_probe(pamh, true), PAM_PERM_DENIED);
	pam_end(pamh, PAM_SUCCESS);
}
END_TEST

START_TEST(test_remember)
{
	struct otp_token tok;
	char code[OTP_CODE_BUF];
	struct script sc;
	int a = -1, b = -1;

	write_policy_deny(5, 1000, 600);
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	fixture_code_at(&tok, 0, code);
	ck_assert_int_eq(auth_once("t-mfa", "root", "10.20.1.1", code), PAM_SUCCESS);
	/* same (user, source, class): account alone passes, auth asks nothing */
	script_answers(&sc, NULL, NULL);
	login("t-mfa", "root", "10.20.1.1", &sc, &a, &b);
	ck_assert_int_eq(a, PAM_IGNORE);
	ck_assert_int_eq(b, PAM_SUCCESS);
	ck_assert_str_eq(sc.prompts, "");
	/* another source: asked again, and account alone refused */
	script_answers(&sc, NULL, NULL);
	login("t-mfa", "root", "10.20.1.2", &sc, NULL, &b);
	ck_assert_int_eq(b, PAM_PERM_DENIED);
	expect_denial("mfa_missing", "admin-mfa");
	/* a local login (no PAM_RHOST) is remembered as "local" */
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok); /* resets the last step */
	fixture_code_at(&tok, 0, code);
	ck_assert_int_eq(auth_once("t-mfa", "root", NULL, code), PAM_SUCCESS);
	script_answers(&sc, NULL, NULL);
	login("t-mfa", "root", NULL, &sc, NULL, &b);
	ck_assert_int_eq(b, PAM_SUCCESS);
	/* a host name is never remembered */
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	ck_assert_int_eq(auth_once("t-mfa", "root", "host.example.org", code), PAM_SUCCESS);
	script_answers(&sc, NULL, NULL);
	login("t-mfa", "root", "host.example.org", &sc, NULL, &b);
	ck_assert_int_eq(b, PAM_PERM_DENIED);
	expect_denial("mfa_missing", "admin-mfa");
	/* not enrolled, account alone: one event, not two */
	script_answers(&sc, NULL, NULL);
	login("t-mfa", "daemon", "10.20.1.1", &sc, NULL, &b);
	ck_assert_int_eq(b, PAM_PERM_DENIED);
	expect_denial("mfa_missing", "admin-mfa");
}
END_TEST

/* --- report-only --- */

START_TEST(test_report_only)
{
	struct pol_knobs k = DEFAULT_KNOBS;
	struct script sc;
	int a = -1, b = -1;

	/* a report-only rule in an enforcing policy */
	script_answers(&sc, NULL, NULL);
	login("t-ro", "root", "10.20.1.1", &sc, &a, &b);
	ck_assert_int_eq(a, PAM_IGNORE);
	ck_assert_int_eq(b, PAM_SUCCESS);
	expect_one_event("login-would-deny", "unknown", "policy_deny", "ro-deny");

	/* a report-only policy: nothing denied, nothing asked, logged once */
	k.mode = "report-only";
	write_policy(&k);
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, NULL);
	script_answers(&sc, NULL, NULL);
	login("t-mfa", "root", "203.0.113.9", &sc, &a, &b);
	ck_assert_int_eq(a, PAM_IGNORE);
	ck_assert_int_eq(b, PAM_SUCCESS);
	ck_assert_str_eq(sc.prompts, "");
	expect_one_event("login-would-deny", "unknown", "mfa_missing", "admin-mfa");

	script_answers(&sc, NULL, NULL);
	login("t-none", "root", "203.0.113.9", &sc, &a, &b);
	ck_assert_int_eq(a, PAM_IGNORE);
	ck_assert_int_eq(b, PAM_SUCCESS);
	expect_one_event("login-would-deny", "unknown", "no_rule", NULL);

	script_answers(&sc, NULL, NULL);
	login("t-mfa", "root", "198.51.100.1", &sc, NULL, &b); /* account alone */
	ck_assert_int_eq(b, PAM_SUCCESS);
	expect_one_event("login-would-deny", "unknown", "policy_deny", "evil-net");
	{
		struct fixture_events ev;

		events_take(&ev);
		ck_assert_uint_eq(ev.n, 0);
	}
}
END_TEST

/* --- parallel logins --- */

/* n children, each one login with answers[i], started together; rvs[i] is
 * what each got (-1: PAM did not start). */
static void parallel_auth_users(int n, const char *const *users, const char *rhost,
				char (*answers)[OTP_CODE_BUF], int *rvs)
{
	pid_t pids[NPAR * 2];
	int gate[2];

	ck_assert(n <= NPAR * 2);
	ck_assert_int_eq(pipe(gate), 0);
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char c;
			int rv;

			close(gate[1]);
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			rv = try_auth("t-mfa", users[i], rhost, answers[i]);
			_exit(rv < 0 ? 255 : rv);
		}
	}
	close(gate[0]);
	close(gate[1]); /* every child reads EOF at once */
	for (int i = 0; i < n; i++) {
		int status;

		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status), "child %d died (signal %d)", i,
			      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		rvs[i] = WEXITSTATUS(status) == 255 ? -1 : WEXITSTATUS(status);
	}
}

static void parallel_auth(int n, const char *user, const char *rhost, char (*answers)[OTP_CODE_BUF],
			  int *rvs)
{
	const char *users[NPAR * 2];

	for (int i = 0; i < n && i < NPAR * 2; i++)
		users[i] = user;
	parallel_auth_users(n, users, rhost, answers, rvs);
}

static int count_rv(const int *rvs, int n, int want)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += rvs[i] == want;
	return k;
}

START_TEST(test_race_replay)
{
	struct otp_token tok;
	char answers[NPAR][OTP_CODE_BUF];
	int rvs[NPAR];
	struct fixture_events ev;

	write_policy_deny(100, 1000, 0);
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	fixture_code_at(&tok, 0, answers[0]);
	for (int i = 1; i < NPAR; i++)
		memcpy(answers[i], answers[0], OTP_CODE_BUF);
	parallel_auth(NPAR, "root", "203.0.113.30", answers, rvs);
	ck_assert_int_eq(count_rv(rvs, NPAR, PAM_SUCCESS), 1);
	ck_assert_int_eq(count_rv(rvs, NPAR, PAM_AUTH_ERR), NPAR - 1);
	events_take(&ev);
	ck_assert_uint_eq(events_count(&ev, "login-denied", "failure", "mfa_replay", "admin-mfa"),
			  NPAR - 1);
	fixture_events_free(&ev);
}
END_TEST

START_TEST(test_race_failures_counted)
{
	struct otp_token tok;
	char answers[NPAR][OTP_CODE_BUF];
	int rvs[NPAR];
	bool locked = true;

	write_policy_deny(100, 1000, 0);
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	fixture_code_wrong(&tok, 0, answers[0]);
	for (int i = 1; i < NPAR; i++)
		memcpy(answers[i], answers[0], OTP_CODE_BUF);
	parallel_auth(NPAR, "root", "203.0.113.31", answers, rvs);
	ck_assert_int_eq(count_rv(rvs, NPAR, PAM_AUTH_ERR), NPAR);
	ck_assert_uint_eq(fixture_user_failures("root", "elsewhere", &locked), NPAR);
	ck_assert(!locked);
}
END_TEST

START_TEST(test_race_lockout_limit)
{
	struct otp_token tok;
	char answers[NPAR][OTP_CODE_BUF];
	int rvs[NPAR];
	bool locked = false;
	struct fixture_events ev;

	write_policy_deny(5, 1000, 0);
	fixture_enroll("root", OTP_SHA1, RFC_SHA1, 6, &tok);
	fixture_code_wrong(&tok, 0, answers[0]);
	for (int i = 1; i < NPAR; i++)
		memcpy(answers[i], answers[0], OTP_CODE_BUF);
	parallel_auth(NPAR, "root", "203.0.113.32", answers, rvs);
	ck_assert_int_eq(count_rv(rvs, NPAR, PAM_AUTH_ERR), 5);
	ck_assert_int_eq(count_rv(rvs, NPAR, PAM_PERM_DENIED), NPAR - 5);
	ck_assert_uint_eq(fixture_user_failures("root", "elsewhere", &locked), 5);
	ck_assert(locked);
	events_take(&ev);
	ck_assert_uint_eq(events_count(&ev, "login-denied", "failure", "mfa_invalid", "admin-mfa"), 5);
	ck_assert_uint_eq(events_count(&ev, "login-denied", "failure", "locked_user", NULL), NPAR - 5);
	fixture_events_free(&ev);
	/* zoned: the LAN is not locked */
	fixture_code_at(&tok, 0, answers[0]);
	ck_assert_int_eq(auth_once("t-mfa", "root", "10.20.3.3", answers[0]), PAM_SUCCESS);
}
END_TEST

/* The source limit holds against parallel attempts spread over several
 * users (each under its own user lock): exactly `deny` are verified. */
START_TEST(test_race_source_limit)
{
	static const char *const names[] = { "root", "daemon", "bin" };
	static const enum otp_algo algos[] = { OTP_SHA1, OTP_SHA256, OTP_SHA512 };
	static const char *const secrets[] = { RFC_SHA1, RFC_SHA256, RFC_SHA512 };
	struct otp_token tok[3];
	char answers[NPAR][OTP_CODE_BUF];
	const char *users[NPAR];
	int rvs[NPAR];
	unsigned counted = 0;
	struct store *st = NULL;
	struct store_handle *h = NULL;
	struct fixture_events ev;

	write_policy_deny(100, 5, 0);
	for (int u = 0; u < 3; u++)
		fixture_enroll(names[u], algos[u], secrets[u], 6, &tok[u]);
	for (int i = 0; i < NPAR; i++) {
		users[i] = names[i % 3];
		fixture_code_wrong(&tok[i % 3], 0, answers[i]);
	}
	parallel_auth_users(NPAR, users, "203.0.113.33", answers, rvs);
	ck_assert_int_eq(count_rv(rvs, NPAR, PAM_AUTH_ERR), 5);
	ck_assert_int_eq(count_rv(rvs, NPAR, PAM_PERM_DENIED), NPAR - 5);
	ck_assert_int_eq(store_open(fixture.store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_source(st, "203.0.113.33", &h), STORE_OK);
	counted = store_source_slot(h)->failures;
	ck_assert(lockout_is_locked(store_source_slot(h), time(NULL)));
	store_unlock(h);
	store_close(st);
	ck_assert_uint_eq(counted, 5);
	events_take(&ev);
	ck_assert_uint_eq(events_count(&ev, "login-denied", "failure", "mfa_invalid", "admin-mfa"), 5);
	ck_assert_uint_eq(events_count(&ev, "login-denied", "failure", "locked_source", NULL), NPAR - 5);
	fixture_events_free(&ev);
}
END_TEST

/* --- a full spool (64 KiB tmpfs in a private mount namespace) --- */

#define SKIP_EXIT 77

/* In a child: its own mount namespace, a full tmpfs as the spool, and a
 * socket of its own as /dev/log (a tmpfs over /dev, private to the child)
 * to see the syslog fallback. Exit 0 when every check held. */
static int full_spool_child(int report_fd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct otp_token tok;
	char code[OTP_CODE_BUF], wrong[OTP_CODE_BUF], path[PATH_MAX + 64], buf[2048];
	char logs[16384] = "";
	int fd, s, a;
	size_t used = 0;

#define CHILD_FAIL(...)                                          \
	do {                                                     \
		dprintf(report_fd, __VA_ARGS__);                 \
		return 1;                                        \
	} while (0)

	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		dprintf(report_fd, "unshare/mount: %s", strerror(errno));
		return SKIP_EXIT;
	}
	if (mkdir(fixture.spool, 0700) != 0 ||
	    mount("tmpfs", fixture.spool, "tmpfs", 0, "size=64k,mode=0700") != 0 ||
	    mount("tmpfs", "/dev", "tmpfs", 0, "size=64k,mode=0755") != 0) {
		dprintf(report_fd, "tmpfs mount: %s", strerror(errno));
		return SKIP_EXIT;
	}
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	strcpy(sun.sun_path, "/dev/log");
	if (s < 0 || bind(s, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		CHILD_FAIL("syslog socket: %s", strerror(errno));
	/* tmp/ and new/ first, then fill the rest */
	snprintf(path, sizeof(path), "%s/tmp", fixture.spool);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/new", fixture.spool);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/filler", fixture.spool);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	memset(buf, 'x', sizeof(buf));
	while (fd >= 0 && write(fd, buf, sizeof(buf)) > 0)
		;
	if (fd < 0 || errno != ENOSPC)
		CHILD_FAIL("could not fill the spool: %s", strerror(errno));
	close(fd);

	/* the decisions stand */
	otp_token_wipe(&tok);
	{
		struct otp_token t = { .kind = OTP_TOTP, .algo = OTP_SHA1, .digits = 6, .step = 30 };
		struct store *st = NULL;

		t.secret_len = strlen(RFC_SHA1);
		memcpy(t.secret, RFC_SHA1, t.secret_len);
		if (store_open(fixture.store, &st) != STORE_OK ||
		    store_enroll(st, "root", &t, true, time(NULL)) != STORE_OK)
			CHILD_FAIL("enroll failed");
		store_close(st);
		tok = t;
	}
	if (otp_generate(&tok, time(NULL), code, sizeof(code)) != OTP_OK)
		CHILD_FAIL("otp_generate");
	snprintf(wrong, sizeof(wrong), "%06u", (unsigned)((strtoul(code, NULL, 10) + 500000) % 1000000));
	if ((a = try_auth("t-mfa", "root", "203.0.113.40", wrong)) != PAM_AUTH_ERR)
		CHILD_FAIL("wrong code with a full spool: %d", a);
	if ((a = try_auth("t-mfa", "root", "198.51.100.40", code)) != PAM_PERM_DENIED)
		CHILD_FAIL("deny with a full spool: %d", a);
	if ((a = try_auth("t-mfa", "root", "203.0.113.40", code)) != PAM_SUCCESS)
		CHILD_FAIL("right code with a full spool: %d", a);
	snprintf(path, sizeof(path), "%s/new", fixture.spool);
	if (count_dir(path) != 0)
		CHILD_FAIL("an event reached the full spool");
	snprintf(path, sizeof(path), "%s/tmp", fixture.spool);
	if (count_dir(path) != 0)
		CHILD_FAIL("a partial event was left in tmp/");
	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);

		if (n <= 0)
			break;
		buf[n] = '\0';
		used += (size_t)snprintf(logs + used, sizeof(logs) - used, "%s\n", buf);
		if (used >= sizeof(logs) - 1)
			break;
	}
	if (strstr(logs, "reason=mfa_invalid") == NULL || strstr(logs, "reason=policy_deny") == NULL)
		CHILD_FAIL("denials missing from syslog:\n%s", logs);
	if (strstr(logs, "is only in syslog") == NULL)
		CHILD_FAIL("no syslog line says the spool failed:\n%s", logs);
	/* two denials reached syslog only: the running count says 1, then 2 */
	if (strstr(logs, "(1 events so far") == NULL || strstr(logs, "(2 events so far") == NULL)
		CHILD_FAIL("the syslog lines do not count the events lost to the spool:\n%s", logs);
	if (strstr(logs, code) != NULL || strstr(logs, wrong) != NULL)
		CHILD_FAIL("a code reached syslog:\n%s", logs);
	return 0;
#undef CHILD_FAIL
}

START_TEST(test_full_spool)
{
	int pfd[2], status;
	char msg[20000] = "";
	ssize_t n;
	size_t used = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		_exit(full_spool_child(pfd[1]));
	}
	close(pfd[1]);
	while ((n = read(pfd[0], msg + used, sizeof(msg) - 1 - used)) > 0)
		used += (size_t)n;
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died");
	ck_assert_msg(WEXITSTATUS(status) != SKIP_EXIT, "full-spool setup failed: %s", msg);
	ck_assert_msg(WEXITSTATUS(status) == 0, "%s", msg);
}
END_TEST

/* ================================================================ main */

/* Can this process make a private mount namespace with a tmpfs? */
static bool mount_ns_permitted(char *why, size_t len)
{
	char dir[] = "/tmp/garde-pam-ns.XXXXXX";
	int status;
	pid_t pid;

	if (mkdtemp(dir) == NULL) {
		snprintf(why, len, "mkdtemp: %s", strerror(errno));
		return false;
	}
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) != 0)
			_exit(1);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
			_exit(2);
		if (mount("tmpfs", dir, "tmpfs", 0, "size=64k") != 0)
			_exit(3);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	rmdir(dir);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	snprintf(why, len, "%s not permitted here",
		 !WIFEXITED(status) ? "fork" : WEXITSTATUS(status) == 1 ? "unshare(CLONE_NEWNS)"
					   : WEXITSTATUS(status) == 2 ? "making / private"
								    : "mounting a tmpfs");
	return false;
}

static Suite *pam_suite(bool full_spool)
{
	Suite *s = suite_create("pam");
	TCase *tc;

	tc = tcase_create("module");
	tcase_add_test(tc, test_dlopen_exports);
	suite_add_tcase(s, tc);

#define TC(name)                                                    \
	tc = tcase_create(name);                                    \
	tcase_add_checked_fixture(tc, setup, fixture_teardown);        \
	tcase_set_timeout(tc, 60);                                  \
	suite_add_tcase(s, tc)

	TC("config");
	tcase_add_test(tc, test_bad_option);
	tcase_add_loop_test(tc, test_policy_unusable, 0, 2 * POL_N);
	tcase_add_test(tc, test_malformed_items);
	tcase_add_test(tc, test_policy_kept_follows_file);
	tcase_add_test(tc, test_policy_kept_threads);
	TC("rules");
	tcase_add_test(tc, test_policy_deny);
	tcase_add_test(tc, test_no_rule);
	tcase_add_test(tc, test_allow);
	tcase_add_test(tc, test_sufficient_is_no_bypass);
	tcase_add_test(tc, test_report_only);
	TC("mfa");
	tcase_add_test(tc, test_mfa_prompt);
	tcase_add_test(tc, test_mfa_missing_answers);
	tcase_add_test(tc, test_mfa_not_enrolled);
	tcase_add_test(tc, test_mfa_scratch_codes);
	tcase_add_test(tc, test_rfc6238_vectors);
	tcase_add_test(tc, test_mfa_suffix);
	tcase_add_test(tc, test_account_phase);
	tcase_add_test(tc, test_remember);
	TC("hostile");
	tcase_add_test(tc, test_hostile_replies);
	tcase_add_test(tc, test_hostile_users);
	tcase_add_test(tc, test_hostile_rhost);
	tcase_add_loop_test(tc, test_store_trust, 0, ST_N);
	TC("lockout");
	tcase_add_test(tc, test_lockout_user_and_zones);
	tcase_add_test(tc, test_lockout_source);
	tcase_add_test(tc, test_race_replay);
	tcase_add_test(tc, test_race_failures_counted);
	tcase_add_test(tc, test_race_lockout_limit);
	tcase_add_test(tc, test_race_source_limit);
	tcase_add_test(tc, test_lockout_source_during_prompt);
	if (full_spool) {
		TC("spool");
		tcase_add_test(tc, test_full_spool);
	}
#undef TC
	return s;
}

/* `test_pam --enroll STORE USER SECRET`: gives USER the TOTP token (SHA1,
 * 6 digits, 30 s) whose secret is the ASCII text SECRET, for the shell
 * tests of this tier (pamtester.sh), without depending on the CLI. */
static int enroll_main(int argc, char **argv)
{
	struct otp_token tok = { .kind = OTP_TOTP, .algo = OTP_SHA1, .digits = 6, .step = 30 };
	struct store *st = NULL;
	int err;

	if (argc != 5 || strlen(argv[4]) == 0 || strlen(argv[4]) > OTP_SECRET_MAX) {
		fprintf(stderr, "usage: %s --enroll STORE USER SECRET\n", argv[0]);
		return 2;
	}
	tok.secret_len = strlen(argv[4]);
	memcpy(tok.secret, argv[4], tok.secret_len);
	err = store_open(argv[2], &st);
	if (err == STORE_OK)
		err = store_enroll(st, argv[3], &tok, true, time(NULL));
	store_close(st);
	if (err != STORE_OK) {
		fprintf(stderr, "%s: enroll %s in %s: %s\n", argv[0], argv[3], argv[2],
			store_strerror(err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char why[256];
	bool full_spool;
	int rv;

	if (argc > 1 && strcmp(argv[1], "--enroll") == 0)
		return enroll_main(argc, argv);

	rv = fixture_find_modules("test_pam", argc > 1 ? argv[1] : "build");
	if (rv != 0)
		return rv;
	if (geteuid() != 0) {
		fprintf(stderr, "test_pam: SKIP: needs root (chown to nobody, mount namespaces)\n");
		return 77;
	}
	full_spool = mount_ns_permitted(why, sizeof(why));
	if (!full_spool)
		printf("test_pam: SKIP full-spool test (not counted): %s\n", why);
	printf("test_pam: SKIP out-of-memory -> PAM_BUF_ERR (not counted): needs fault injection\n");
	return fixture_run(pam_suite(full_spool));
}
