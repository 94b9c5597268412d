/* test_policy.c - the policy language: a corpus of malformed policies, each
 * with the exact (line, message) of every error it must produce; valid
 * policies and their compiled form; the trusted-file rules of policy_load. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "runner.h"

#define MAX_DIAGS 40

struct diags {
	int n;
	int line[MAX_DIAGS];
	char file[MAX_DIAGS][256];
	char msg[MAX_DIAGS][512];
};

static void collect(void *arg, const char *file, int line, const char *message)
{
	struct diags *d = arg;

	ck_assert_int_lt(d->n, MAX_DIAGS);
	d->line[d->n] = line;
	snprintf(d->file[d->n], sizeof(d->file[0]), "%s", file);
	snprintf(d->msg[d->n], sizeof(d->msg[0]), "%s", message);
	d->n++;
}

static int parse_len(const char *text, size_t len, struct diags *d, struct policy **out)
{
	struct policy_load_opts opts = { .diag = collect, .diag_arg = d, .skip_trust_check = true };

	memset(d, 0, sizeof(*d));
	return policy_parse(text, len, "test.conf", &opts, out);
}

static int parse(const char *text, struct diags *d, struct policy **out)
{
	return parse_len(text, strlen(text), d, out);
}

static void dump(const struct diags *d)
{
	for (int i = 0; i < d->n; i++)
		fprintf(stderr, "  got %d: %s\n", d->line[i], d->msg[i]);
}

/* A valid policy must parse with no diagnostic at all. */
static struct policy *parse_ok(const char *text)
{
	struct policy *pol = NULL;
	struct diags d;
	int rv = parse(text, &d, &pol);

	if (rv != 0 || d.n != 0)
		dump(&d);
	ck_assert_int_eq(rv, 0);
	ck_assert_int_eq(d.n, 0);
	ck_assert_ptr_nonnull(pol);
	return pol;
}

/* --- the malformed corpus ------------------------------------------------- */

struct expect {
	int line;
	const char *msg; /* a trailing '*' matches any rest (for other modules' wording) */
};

struct bad_case {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen(text) */
	struct expect e[12];
};

#define RULES "rules = ( { name = \"r\"; action = \"deny\"; } );\n"
#define S1 "serial = 1;\n"

static const struct bad_case bad_cases[] = {
	{ "app_password and remember where they mean nothing",
	  S1 "rules = ( { name = \"a\"; action = \"allow\";\n remember = false; },\n"
	  " { name = \"d\"; action = \"deny\"; app_password = true; },\n"
	  " { name = \"m\"; action = \"mfa\"; remember = 0; } );\n", 0,
	  { { 3, "rule 'a': remember applies to mfa rules only; remove it" },
	    { 4, "rule 'd': app_password has no effect on a deny rule; remove it" },
	    { 5, "rule 'm': 'remember' must be true or false" } } },
	{ "empty text", "", 0,
	  { { 0, "missing required key 'serial'" },
	    { 0, "missing 'rules' (a policy with no rules denies everything)" } } },
	{ "serial zero", "serial = 0;\n" RULES, 0, { { 1, "'serial' must be an integer >= 1" } } },
	{ "serial negative", "\nserial = -4;\n" RULES, 0,
	  { { 2, "'serial' must be an integer >= 1" } } },
	{ "serial string", "serial = \"1\";\n" RULES, 0,
	  { { 1, "'serial' must be an integer >= 1" } } },
	{ "serial float", "serial = 1.5;\n" RULES, 0, { { 1, "'serial' must be an integer >= 1" } } },
	{ "serial wraps in libconfig", "serial = 4294967297;\n" RULES, 0,
	  { { 1, "integer 4294967297 is out of range; write 4294967297L for a 64-bit integer" } } },
	{ "int64 overflow", S1 "mfa = { remember = 99999999999999999999L; };\n" RULES, 0,
	  { { 2, "integer 99999999999999999999L is out of range" } } },
	{ "hex wraps in libconfig", S1 "mfa = { digits = 0x100000006; };\n" RULES, 0,
	  { { 2, "integer 0x100000006 is out of range; write 0x100000006L for a 64-bit integer" } } },
	{ "every out-of-range literal", "serial = 3000000000;\nmfa = { step = -2147483649; };\n" RULES,
	  0,
	  { { 1, "integer 3000000000 is out of range; write 3000000000L for a 64-bit integer" },
	    { 2, "integer -2147483649 is out of range; write -2147483649L for a 64-bit integer" } } },
	{ "misspelt key", "srial = 1;\n" RULES, 0,
	  { { 1, "unknown key 'srial' at top level" }, { 0, "missing required key 'serial'" } } },
	{ "syntax error", S1 "rules = ( { name = \"a\"; action = ; } );\n", 0,
	  { { 2, "syntax error" } } },
	{ "duplicate top-level key", S1 "serial = 2;\n" RULES, 0,
	  { { 2, "duplicate setting name" } } },
	{ "include", S1 "  @include \"/etc/shadow\"\n" RULES, 0,
	  { { 2, "@include is not allowed" } } },
	{ "include inside a string", S1 "\n\nrules = ( { name = \"r\"; action = \"deny\"; message = \"@INCLUDE\"; } );\n",
	  0, { { 4, "@include is not allowed" } } },
	{ "unterminated string", S1 RULES "mode = \"enforce;\n\n", 0,
	  { { 3, "unterminated string (a '\"' is missing)" } } },
	{ "unterminated comment drops the rules after it", S1 "/* rules below\n" RULES, 0,
	  { { 2, "unterminated comment (a '*/' is missing)" } } },
	{ "NUL byte", S1 "\n# x\0y\n" RULES, sizeof(S1 "\n# x\0y\n" RULES) - 1,
	  { { 3, "the policy contains a NUL byte" } } },
	{ "expires not UTC", S1 "expires = \"2027-06-30T00:00:00+02:00\";\n" RULES, 0,
	  { { 2, "'expires' must be a UTC time like \"2027-06-30T00:00:00Z\" (got '2027-06-30T00:00:00+02:00')" } } },
	{ "expires bad date", S1 "expires = \"2027-02-29T00:00:00Z\";\n" RULES, 0,
	  { { 2, "'expires' must be a UTC time like \"2027-06-30T00:00:00Z\" (got '2027-02-29T00:00:00Z')" } } },
	{ "expires at the epoch means never: refused", S1 "expires = \"1970-01-01T00:00:00Z\";\n" RULES,
	  0,
	  { { 2, "'expires' must be a UTC time like \"2027-06-30T00:00:00Z\" (got '1970-01-01T00:00:00Z')" } } },
	{ "expires number", S1 "expires = 1814313600;\n" RULES, 0,
	  { { 2, "'expires' must be a UTC time like \"2027-06-30T00:00:00Z\" (got 'not a string')" } } },
	{ "mode", S1 "mode = \"enforced\";\n" RULES, 0,
	  { { 2, "'mode' must be \"enforce\" or \"report-only\"" } } },
	{ "unknown time zone", S1 "timezone = \"Mars/Base\";\n" RULES, 0,
	  { { 2, "unknown time zone 'Mars/Base'*" } } },
	{ "time zone path escape", S1 "timezone = \"../../etc/passwd\";\n" RULES, 0, { { 2, "*" } } },
	{ "network host bits", S1 "networks = {\n  lan = [ \"10.20.0.0/16\",\n \"10.20.0.1/16\" ];\n};\n" RULES,
	  0, { { 4, "network 'lan': 10.20.0.1/16 has host bits set; did you mean 10.20.0.0/16?" } } },
	{ "network reserved names",
	  S1 "networks = {\n local = [ \"10.0.0.0/8\" ];\n elsewhere = [ \"10.0.0.0/8\" ];\n unknown = [ \"10.0.0.0/8\" ];\n};\n" RULES,
	  0,
	  { { 3, "network name 'local' is reserved" },
	    { 4, "network name 'elsewhere' is reserved" },
	    { 5, "network name 'unknown' is reserved" } } },
	{ "network name case", S1 "networks = { Lan = [ \"10.0.0.0/8\" ]; };\n" RULES, 0,
	  { { 2, "bad network name 'Lan' (use a-z, 0-9, '_' and '-')" } } },
	{ "network empty and not strings", S1 "networks = {\n a = [];\n b = [ 1,\n 2 ];\n c = \"10.0.0.0/8\";\n};\n" RULES,
	  0,
	  { { 3, "network 'a' is empty" },
	    { 4, "network 'b': entries must be strings like \"10.0.0.0/8\"" },
	    { 5, "network 'b': entries must be strings like \"10.0.0.0/8\"" },
	    { 6, "network 'c' must be a list of prefixes like [ \"10.0.0.0/8\" ]" } } },
	{ "networks not a group", S1 "networks = [ \"10.0.0.0/8\" ];\n" RULES, 0,
	  { { 2, "'networks' must be a group: networks = { lan = [ \"10.0.0.0/8\" ]; };" } } },
	{ "service in two classes",
	  S1 "classes = {\n  admin = [ \"sshd\", \"sudo\" ];\n  mail = [ \"imap\",\n \"sshd\" ];\n};\n" RULES, 0,
	  { { 5, "service 'sshd' is in classes 'admin' and 'mail'" } } },
	{ "class other reserved, class empty, bad service",
	  S1 "classes = {\n other = [ \"cron\" ];\n mail = [];\n admin = [ \"ss hd\" ];\n};\n" RULES, 0,
	  { { 3, "class name 'other' is reserved (it is the class of every unlisted service)" },
	    { 4, "class 'mail' is empty" },
	    { 5, "class 'admin': bad service name 'ss hd'" } } },
	{ "mfa values",
	  S1 "mfa = {\n digits = 9;\n foo = 1;\n step = 0;\n window_past = 11;\n window_future = \"1\";\n remember = 2592001;\n};\n" RULES,
	  0,
	  { { 3, "'digits' must be between 6 and 8 (got 9)" },
	    { 4, "unknown key 'foo' in mfa" },
	    { 5, "'step' must be between 1 and 300 (got 0)" },
	    { 6, "'window_past' must be between 0 and 10 (got 11)" },
	    { 7, "'window_future' must be an integer" },
	    { 8, "'remember' must be between 0 and 2592000 (got 2592001)" } } },
	{ "mfa not a group", S1 "mfa = 6;\n" RULES, 0, { { 2, "'mfa' must be a group { ... }" } } },
	{ "lockout values",
	  S1 "lockout = {\n user = { deny = 0; dny = 3; };\n source = { interval = 86401; unlock = 604801; };\n sorce = {};\n};\n" RULES,
	  0,
	  { { 5, "unknown key 'sorce' in lockout" },
	    { 3, "'user.deny' must be between 1 and 1000000 (got 0)" },
	    { 3, "unknown key 'dny' in lockout.user" },
	    { 4, "'source.interval' must be between 1 and 86400 (got 86401)" },
	    { 4, "'source.unlock' must be between 1 and 604800 (got 604801)" } } },
	{ "history values", S1 "history = { ttl_days = 0; prefix_v4 = 33;\n prefix_v6 = 129; ttl = 1; };\n" RULES,
	  0,
	  { { 2, "'ttl_days' must be between 1 and 3650 (got 0)" },
	    { 2, "'prefix_v4' must be between 0 and 32 (got 33)" },
	    { 3, "'prefix_v6' must be between 0 and 128 (got 129)" },
	    { 3, "unknown key 'ttl' in history" } } },
	{ "no rules", S1, 0, { { 0, "missing 'rules' (a policy with no rules denies everything)" } } },
	{ "empty rules", S1 "rules = ( );\n", 0,
	  { { 2, "'rules' is empty (a policy with no rules denies everything)" } } },
	{ "rules not a list", S1 "rules = { name = \"r\"; action = \"deny\"; };\n", 0,
	  { { 2, "'rules' must be a list: rules = ( { name = \"...\"; action = \"...\"; } );" } } },
	{ "rule not a group", S1 "rules = (\n { name = \"r\"; action = \"deny\"; },\n \"deny\" );\n", 0,
	  { { 4, "rule #2 must be a group { name = \"...\"; action = \"...\"; }" } } },
	{ "misspelt rule key", S1 "rules = (\n { name = \"admin-mfa\";\n acton = \"mfa\"; }\n);\n", 0,
	  { { 4, "unknown key 'acton' in rule 'admin-mfa'" },
	    { 3, "rule 'admin-mfa': missing required key 'action'" } } },
	{ "unknown action", S1 "rules = ( { name = \"x\"; action = \"permit\"; } );\n", 0,
	  { { 2, "rule 'x': unknown action 'permit' (use allow, deny or mfa)" } } },
	{ "duplicate rule names",
	  S1 "rules = (\n { name = \"x\"; action = \"deny\"; },\n { name = \"y\"; action = \"deny\"; },\n { name = \"x\"; action = \"deny\"; },\n { name = \"x\"; action = \"allow\"; }\n);\n",
	  0,
	  { { 5, "duplicate rule name 'x' (first defined on line 3)" },
	    { 6, "duplicate rule name 'x' (first defined on line 3)" } } },
	{ "bad and missing rule names",
	  S1 "rules = (\n { name = \"has space\"; action = \"deny\"; },\n { action = \"deny\"; },\n { name = \"a23456789012345678901234567890123456789012345678901234567890123456\"; action = \"deny\"; }\n);\n",
	  0,
	  { { 3, "rule #1: bad name 'has space' (use A-Z, a-z, 0-9, '_', '.' and '-'; at most 64 characters)" },
	    { 4, "rule #2: missing required key 'name'" },
	    { 5, "rule #3: bad name 'a234567890123456789012345678901234567890123456789012345678901234' (use A-Z, a-z, 0-9, '_', '.' and '-'; at most 64 characters)" } } },
	{ "unknown network",
	  S1 "networks = { lan = [ \"10.0.0.0/8\" ]; };\nrules = ( { name = \"x\"; action = \"deny\";\n from = [ \"lan\", \"lann\" ]; not_from = \"elsewhere\"; } );\n",
	  0,
	  { { 4, "rule 'x': unknown network 'lann' in from" },
	    { 4, "rule 'x': unknown network 'elsewhere' in not_from" } } },
	{ "CIDR literal in a rule",
	  S1 "rules = ( { name = \"x\"; action = \"deny\";\n from = [ \"10.20.0.1/16\" ]; } );\n", 0,
	  { { 3, "rule 'x': 10.20.0.1/16 has host bits set; did you mean 10.20.0.0/16?" } } },
	{ "not an address", S1 "rules = ( { name = \"x\"; action = \"deny\"; from = \"host.example\"; } );\n",
	  0, { { 2, "rule 'x': *" } } },
	{ "unknown class",
	  S1 "classes = { mail = [ \"imap\" ]; };\nrules = ( { name = \"x\"; action = \"deny\";\n class = [ \"mail\", \"mial\" ]; } );\n",
	  0, { { 4, "rule 'x': unknown class 'mial'" } } },
	{ "bad time windows",
	  S1 "rules = ( { name = \"x\"; action = \"deny\"; hours = [\n \"Mon-Fri 25:00-06:00\",\n \"Sat 10:00-10:00\",\n \"Xyz 01:00-02:00\",\n \"Mon\",\n \"Mon 24:00-01:00\",\n \"Mon 8:00-09:00\",\n \"Mon,,Tue 08:00-09:00\",\n \"Mon 08:00-09:60\" ]; } );\n",
	  0,
	  { { 3, "rule 'x': bad time window 'Mon-Fri 25:00-06:00': bad time '25:00' (use 00:00 to 23:59, or 24:00 as an end)" },
	    { 4, "rule 'x': bad time window 'Sat 10:00-10:00': empty window; use 00:00-24:00 for the whole day" },
	    { 5, "rule 'x': bad time window 'Xyz 01:00-02:00': unknown day 'Xyz' (use Mon..Sun, a range like Mon-Fri, or *)" },
	    { 6, "rule 'x': bad time window 'Mon': expected DAYS HH:MM-HH:MM, for example Mon-Fri 08:00-18:00" },
	    { 7, "rule 'x': bad time window 'Mon 24:00-01:00': bad time '24:00' (use 00:00 to 23:59, or 24:00 as an end)" },
	    { 8, "rule 'x': bad time window 'Mon 8:00-09:00': bad time '8:00' (use 00:00 to 23:59, or 24:00 as an end)" },
	    { 9, "rule 'x': bad time window 'Mon,,Tue 08:00-09:00': unknown day '' (use Mon..Sun, a range like Mon-Fri, or *)" },
	    { 10, "rule 'x': bad time window 'Mon 08:00-09:60': bad time '09:60' (use 00:00 to 23:59, or 24:00 as an end)" } } },
	{ "condition types",
	  S1 "rules = ( { name = \"x\"; action = \"deny\";\n not_hours = 5;\n users = [];\n groups = [ 1 ];\n services = \"ss hd\";\n report_only = \"yes\";\n new_network = 1; } );\n",
	  0,
	  { { 7, "rule 'x': 'report_only' must be true or false" },
	    { 4, "rule 'x': 'users' is empty" },
	    { 5, "rule 'x': 'groups' must be a string or a list of strings" },
	    { 6, "rule 'x': bad entry 'ss hd' in services" },
	    { 3, "rule 'x': 'not_hours' must be a string or a list of strings" },
	    { 8, "rule 'x': 'new_network' must be true or false" } } },
	{ "message with a control character",
	  S1 "rules = ( { name = \"x\"; action = \"deny\";\n message = \"ring \\x07 bell\"; } );\n", 0,
	  { { 3, "rule 'x': 'message' must be printable text (no control characters)" } } },
	{ "policy too large", NULL, POLICY_MAX_BYTES + 1, { { 0, "policy is larger than 4 MiB" } } },
	{ "everything at once",
	  "srial = 3;\n"
	  "serial = 0;\n"
	  "timezone = \"Mars/Base\";\n"
	  "networks = { lan = [ \"10.20.0.1/16\" ]; };\n"
	  "classes = { admin = [ \"sshd\" ]; mail = [ \"sshd\" ]; };\n"
	  "mfa = { digits = 9; };\n"
	  "rules = (\n"
	  "  { name = \"admin-mfa\"; acton = \"mfa\"; action = \"mfa\"; },\n"
	  "  { name = \"x\"; action = \"permit\"; class = \"mial\"; from = [ \"lann\" ]; },\n"
	  "  { name = \"x\"; action = \"deny\"; hours = \"Mon-Fri 25:00-06:00\"; }\n"
	  ");\n",
	  0,
	  { { 1, "unknown key 'srial' at top level" },
	    { 2, "'serial' must be an integer >= 1" },
	    { 3, "unknown time zone 'Mars/Base'*" },
	    { 4, "network 'lan': 10.20.0.1/16 has host bits set; did you mean 10.20.0.0/16?" },
	    { 5, "service 'sshd' is in classes 'admin' and 'mail'" },
	    { 6, "'digits' must be between 6 and 8 (got 9)" },
	    { 8, "unknown key 'acton' in rule 'admin-mfa'" },
	    { 9, "rule 'x': unknown action 'permit' (use allow, deny or mfa)" },
	    { 9, "rule 'x': unknown class 'mial'" },
	    { 9, "rule 'x': unknown network 'lann' in from" },
	    { 10, "duplicate rule name 'x' (first defined on line 9)" },
	    { 10, "rule 'x': bad time window 'Mon-Fri 25:00-06:00': bad time '25:00' (use 00:00 to 23:59, or 24:00 as an end)" } } },
};

static bool msg_matches(const char *want, const char *got)
{
	size_t n = strlen(want);

	if (n > 0 && want[n - 1] == '*')
		return strncmp(want, got, n - 1) == 0;
	return strcmp(want, got) == 0;
}

START_TEST(test_bad_corpus)
{
	const struct bad_case *c = &bad_cases[_i];
	static char sentinel_storage;
	struct policy *sentinel = (struct policy *)(void *)&sentinel_storage; /* never dereferenced */
	struct policy *pol = sentinel;
	char *big = NULL;
	struct diags d;
	int want = 0, rv;

	while (want < 12 && c->e[want].msg != NULL)
		want++;
	if (c->text == NULL) {
		/* Valid text, just too long: the cap is checked before anything. */
		big = malloc(c->len);
		ck_assert_ptr_nonnull(big);
		memset(big, '\n', c->len);
		memcpy(big, S1 RULES, strlen(S1 RULES));
		rv = parse_len(big, c->len, &d, &pol);
		free(big);
	} else {
		rv = parse_len(c->text, c->len != 0 ? c->len : strlen(c->text), &d, &pol);
	}
	if (d.n != want)
		dump(&d);
	ck_assert_msg(rv == -1, "%s: accepted", c->name);
	ck_assert_msg(pol == sentinel, "%s: *out was touched", c->name);
	ck_assert_msg(d.n == want, "%s: %d errors, want %d", c->name, d.n, want);
	for (int i = 0; i < want; i++) {
		if (d.line[i] != c->e[i].line || !msg_matches(c->e[i].msg, d.msg[i]))
			dump(&d);
		ck_assert_msg(d.line[i] == c->e[i].line, "%s #%d: line %d, want %d", c->name, i,
			      d.line[i], c->e[i].line);
		ck_assert_msg(msg_matches(c->e[i].msg, d.msg[i]), "%s #%d: '%s', want '%s'", c->name,
			      i, d.msg[i], c->e[i].msg);
		ck_assert_str_eq(d.file[i], "test.conf");
	}
}
END_TEST

START_TEST(test_too_many_classes)
{
	char text[8192];
	size_t used;
	struct policy *pol = NULL;
	struct diags d;

	used = (size_t)snprintf(text, sizeof(text), "serial = 1;\nclasses = {\n");
	for (int i = 0; i < POLICY_MAX_CLASSES + 1; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "c%d = [ \"s%d\" ];\n", i, i);
	snprintf(text + used, sizeof(text) - used, "};\n" RULES);
	ck_assert_int_eq(parse(text, &d, &pol), -1);
	ck_assert_int_eq(d.n, 1);
	ck_assert_int_eq(d.line[0], 3 + POLICY_MAX_CLASSES);
	ck_assert_str_eq(d.msg[0], "too many classes (at most 63)");
}
END_TEST

/* Control bytes quoted from the policy never reach the diagnostic. */
START_TEST(test_messages_are_sanitized)
{
	struct policy *pol = NULL;
	struct diags d;

	ck_assert_int_eq(parse(S1 "rules = ( { name = \"x\"; action = \"\\x1b[31m\"; } );\n", &d, &pol),
			 -1);
	ck_assert_int_eq(d.n, 1);
	ck_assert_str_eq(d.msg[0], "rule 'x': unknown action '?[31m' (use allow, deny or mfa)");
}
END_TEST

START_TEST(test_no_diag_callback)
{
	struct policy *pol = NULL;

	ck_assert_int_eq(policy_parse("serial = 0;", 11, "x", NULL, &pol), -1);
	ck_assert_ptr_null(pol);
}
END_TEST

/* --- valid policies ---------------------------------------------------------- */

START_TEST(test_defaults)
{
	struct policy *pol = parse_ok("serial = 1;\nrules = ( { name = \"only\"; action = \"deny\"; } );");

	ck_assert_int_eq(pol->serial, 1);
	ck_assert_int_eq(pol->expires, 0);
	ck_assert(!pol->report_only_mode);
	ck_assert_str_eq(pol->timezone, "UTC");
	ck_assert_ptr_nonnull(pol->tz);
	ck_assert_uint_eq(pol->n_networks, 0);
	ck_assert_uint_eq(pol->n_classes, 0);
	ck_assert_uint_eq(pol->mfa.digits, 6);
	ck_assert_uint_eq(pol->mfa.step, 30);
	ck_assert_uint_eq(pol->mfa.window_past, 1);
	ck_assert_uint_eq(pol->mfa.window_future, 1);
	ck_assert_uint_eq(pol->mfa.remember, 0);
	ck_assert_uint_eq(pol->lockout_user.deny, 5);
	ck_assert_uint_eq(pol->lockout_user.interval, 900);
	ck_assert_uint_eq(pol->lockout_user.unlock, 900);
	ck_assert_uint_eq(pol->lockout_source.deny, 20);
	ck_assert_uint_eq(pol->lockout_source.interval, 300);
	ck_assert_uint_eq(pol->lockout_source.unlock, 3600);
	ck_assert_uint_eq(pol->history.ttl_days, 90);
	ck_assert_uint_eq(pol->history.prefix_v4, 24);
	ck_assert_uint_eq(pol->history.prefix_v6, 64);
	ck_assert_uint_eq(pol->n_rules, 1);
	ck_assert_str_eq(pol->rules[0].name, "only");
	ck_assert_int_eq(pol->rules[0].line, 2);
	ck_assert_int_eq(pol->rules[0].action, GARDE_DENY);
	ck_assert(!pol->rules[0].report_only && !pol->rules[0].alert);
	ck_assert_ptr_null(pol->rules[0].message);
	ck_assert(!pol->rules[0].users.present && !pol->rules[0].services.present);
	ck_assert(!pol->rules[0].has_class);
	ck_assert(!pol->rules[0].from.present && !pol->rules[0].not_from.present);
	ck_assert_ptr_null(pol->rules[0].from.nets);
	ck_assert(!pol->rules[0].hours.present);
	ck_assert_int_eq(pol->rules[0].new_network, -1);
	ck_assert(!pol->uses_new_network);
	ck_assert_uint_eq(policy_class_of(pol, "sshd"), 0);
	ck_assert_str_eq(policy_class_name(pol, 0), "other");
	policy_free(pol);
}
END_TEST

static const char full_policy[] =
	"serial = 9999999999L;\n"
	"expires = \"2027-06-30T00:00:00Z\";\n"
	"mode = \"report-only\";\n"
	"timezone = \"Europe/Paris\";\n"
	"networks = { lan = [ \"10.20.0.0/16\", \"fd00:20::/48\" ]; vpn = [ \"10.99.0.0/16\" ]; };\n"
	"classes = { admin = [ \"sshd\", \"sudo\" ]; mail = [ \"imap\" ]; };\n"
	"mfa = { digits = 8; step = 60; window_past = 0; window_future = 2; remember = 43200; };\n"
	"lockout = { user = { deny = 3; }; source = { unlock = 60; }; };\n"
	"history = { ttl_days = 30; prefix_v4 = 32; prefix_v6 = 128; };\n"
	"# integers in comments and strings are not checked: 99999999999\n"
	"/* 99999999999 */ // 99999999999\n"
	"rules = (\n"
	"  { name = \"A.b_c-1\"; action = \"mfa\"; class = [ \"admin\", \"other\" ];\n"
	"    from = [ \"lan\", \"192.0.2.0/24\", \"local\" ]; not_from = \"vpn\";\n"
	"    users = \"alice\"; not_users = [ \"bob\", \"carol\" ]; groups = [ \"domain users\" ];\n"
	"    not_groups = \"guests\"; services = [ \"sshd\" ]; report_only = true; alert = true;\n"
	"    message = \"Accès refusé: call 99999999999\"; new_network = true;\n"
	"    hours = [ \"Mon-Fri 08:00-18:00\", \"Fri-Mon 22:00-06:00\", \"sat, SUN 00:00-24:00\" ];\n"
	"    not_hours = \"* 09:00-10:00\"; },\n"
	"  { name = \"mail\"; action = \"allow\"; class = \"mail\"; from = \"2001:db8::/32\"; },\n"
	"  { name = \"last\"; action = \"deny\"; new_network = false; }\n"
	")\n";

static bool contains(const struct netset *set, int family, const char *text)
{
	uint8_t addr[16] = { 0 };

	ck_assert_int_eq(inet_pton(family, text, addr), 1);
	return netset_contains(set, family, addr);
}

START_TEST(test_full_policy)
{
	struct policy *pol = parse_ok(full_policy);
	const struct policy_rule *r;

	ck_assert_int_eq(pol->serial, 9999999999LL);
	ck_assert_int_eq(pol->expires, 1814313600); /* date -u -d 2027-06-30 +%s */
	ck_assert(pol->report_only_mode);
	ck_assert_str_eq(pol->timezone, "Europe/Paris");
	ck_assert_uint_eq(pol->mfa.digits, 8);
	ck_assert_uint_eq(pol->mfa.step, 60);
	ck_assert_uint_eq(pol->mfa.window_past, 0);
	ck_assert_uint_eq(pol->mfa.window_future, 2);
	ck_assert_uint_eq(pol->mfa.remember, 43200);
	ck_assert_uint_eq(pol->lockout_user.deny, 3);
	ck_assert_uint_eq(pol->lockout_user.interval, 900); /* default kept beside a set value */
	ck_assert_uint_eq(pol->lockout_source.deny, 20);
	ck_assert_uint_eq(pol->lockout_source.unlock, 60);
	ck_assert_uint_eq(pol->history.ttl_days, 30);
	ck_assert_uint_eq(pol->history.prefix_v4, 32);
	ck_assert_uint_eq(pol->history.prefix_v6, 128);

	ck_assert_uint_eq(pol->n_networks, 2);
	ck_assert_str_eq(pol->networks[0].name, "lan");
	ck_assert(contains(pol->networks[0].set, AF_INET, "10.20.255.1"));
	ck_assert(contains(pol->networks[0].set, AF_INET6, "fd00:20::1"));
	ck_assert(!contains(pol->networks[0].set, AF_INET, "10.99.0.1"));

	ck_assert_uint_eq(pol->n_classes, 2);
	ck_assert_uint_eq(policy_class_of(pol, "sshd"), 0);
	ck_assert_uint_eq(policy_class_of(pol, "sudo"), 0);
	ck_assert_uint_eq(policy_class_of(pol, "imap"), 1);
	ck_assert_uint_eq(policy_class_of(pol, "cron"), 2);
	ck_assert_uint_eq(policy_class_of(pol, NULL), 2);
	ck_assert_str_eq(policy_class_name(pol, 0), "admin");
	ck_assert_str_eq(policy_class_name(pol, 1), "mail");
	ck_assert_str_eq(policy_class_name(pol, 2), "other");

	ck_assert_uint_eq(pol->n_rules, 3);
	r = &pol->rules[0];
	ck_assert_str_eq(r->name, "A.b_c-1");
	ck_assert_int_eq(r->line, 13);
	ck_assert_int_eq(r->action, GARDE_MFA);
	ck_assert(r->report_only && r->alert);
	ck_assert_str_eq(r->message, "Accès refusé: call 99999999999");
	ck_assert(r->has_class);
	ck_assert_uint_eq(r->class_mask, (1u << 0) | (1u << 2)); /* admin and other */
	ck_assert(r->from.present && r->from.local);
	ck_assert(contains(r->from.nets, AF_INET, "10.20.0.1"));
	ck_assert(contains(r->from.nets, AF_INET6, "fd00:20:0:1::1"));
	ck_assert(contains(r->from.nets, AF_INET, "192.0.2.200"));
	ck_assert(!contains(r->from.nets, AF_INET, "10.99.0.1"));
	ck_assert(!contains(r->from.nets, AF_INET, "192.0.3.1"));
	ck_assert(r->not_from.present && !r->not_from.local);
	ck_assert(contains(r->not_from.nets, AF_INET, "10.99.3.4"));
	ck_assert(!contains(r->not_from.nets, AF_INET, "10.20.3.4"));
	ck_assert(r->users.present);
	ck_assert_uint_eq(r->users.n, 1);
	ck_assert_str_eq(r->users.v[0], "alice");
	ck_assert_uint_eq(r->not_users.n, 2);
	ck_assert_str_eq(r->not_users.v[1], "carol");
	ck_assert_str_eq(r->groups.v[0], "domain users");
	ck_assert_str_eq(r->not_groups.v[0], "guests");
	ck_assert_str_eq(r->services.v[0], "sshd");
	ck_assert_int_eq(r->new_network, 1);
	ck_assert(r->hours.present);
	ck_assert_uint_eq(r->hours.n, 3);
	ck_assert_uint_eq(r->hours.v[0].days, 0x3e); /* Mon..Fri */
	ck_assert_uint_eq(r->hours.v[0].start, 8 * 60);
	ck_assert_uint_eq(r->hours.v[0].end, 18 * 60);
	ck_assert_uint_eq(r->hours.v[1].days, 0x63); /* Fri, Sat, Sun, Mon: the range wraps */
	ck_assert_uint_eq(r->hours.v[1].start, 22 * 60);
	ck_assert_uint_eq(r->hours.v[1].end, 6 * 60); /* end < start: past midnight */
	ck_assert_uint_eq(r->hours.v[2].days, 0x41);  /* Sat, Sun, any case */
	ck_assert_uint_eq(r->hours.v[2].start, 0);
	ck_assert_uint_eq(r->hours.v[2].end, 1440);
	ck_assert(r->not_hours.present);
	ck_assert_uint_eq(r->not_hours.n, 1);
	ck_assert_uint_eq(r->not_hours.v[0].days, 0x7f);

	r = &pol->rules[1];
	ck_assert_int_eq(r->action, GARDE_ALLOW);
	ck_assert_uint_eq(r->class_mask, 1u << 1);
	ck_assert(!r->from.local);
	ck_assert(contains(r->from.nets, AF_INET6, "2001:db8:1::1"));
	ck_assert(!contains(r->from.nets, AF_INET, "10.20.0.1"));
	ck_assert_int_eq(r->new_network, -1);

	ck_assert_int_eq(pol->rules[2].new_network, 0);
	ck_assert(pol->uses_new_network);
	policy_free(pol);
}
END_TEST

/* The caller's text need not be NUL-terminated: only len bytes count. */
START_TEST(test_length_not_nul)
{
	static const char text[] = "serial = 2; rules = ( { name = \"r\"; action = \"allow\"; } );@@@garbage";
	struct policy *pol = NULL;
	struct diags d;

	ck_assert_int_eq(parse_len(text, strlen(text) - strlen("@@@garbage"), &d, &pol), 0);
	ck_assert_int_eq(pol->serial, 2);
	policy_free(pol);
}
END_TEST

START_TEST(test_integer_limits)
{
	struct policy *pol = parse_ok("serial = 2147483647;\nrules = ( { name = \"r\"; action = \"deny\"; } );");

	ck_assert_int_eq(pol->serial, 2147483647);
	policy_free(pol);
	pol = parse_ok("serial = 0x7fffffff;\nrules = ( { name = \"r\"; action = \"deny\"; } );");
	ck_assert_int_eq(pol->serial, 2147483647);
	policy_free(pol);
	pol = parse_ok("serial = 9223372036854775807L;\nrules = ( { name = \"r\"; action = \"deny\"; } );");
	ck_assert_int_eq(pol->serial, INT64_MAX);
	policy_free(pol);
}
END_TEST

START_TEST(test_action_names)
{
	ck_assert_str_eq(garde_action_name(GARDE_ALLOW), "allow");
	ck_assert_str_eq(garde_action_name(GARDE_DENY), "deny");
	ck_assert_str_eq(garde_action_name(GARDE_MFA), "mfa");
	ck_assert_str_eq(garde_action_name((enum garde_action)42), "unknown");
}
END_TEST

/* --- policy_load and the trust rules ---------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/garde-policy-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

static int load(const char *path, bool skip_trust, struct diags *d, struct policy **out)
{
	struct policy_load_opts opts = { .diag = collect, .diag_arg = d, .skip_trust_check = skip_trust };

	memset(d, 0, sizeof(*d));
	return policy_load(path, &opts, out);
}

static void expect_refused(const char *path, const char *why)
{
	struct policy *pol = NULL;
	struct diags d;

	ck_assert_int_eq(load(path, false, &d, &pol), -1);
	ck_assert_ptr_null(pol);
	ck_assert_int_eq(d.n, 1);
	ck_assert_int_eq(d.line[0], 0);
	/* The file is the diagnostic's own field; the message does not repeat it. */
	ck_assert_str_eq(d.file[0], path);
	ck_assert_str_eq(d.msg[0], why);
}

START_TEST(test_load_trust)
{
	static const char text[] = S1 RULES;
	char good[128], shared[128], link[128], missing[128], bad[128];
	struct policy *pol = NULL;
	struct diags d;

	make_tmpdir();
	path_in(good, sizeof(good), "policy.conf");
	path_in(shared, sizeof(shared), "shared.conf");
	path_in(link, sizeof(link), "link.conf");
	path_in(missing, sizeof(missing), "missing.conf");
	path_in(bad, sizeof(bad), "bad.conf");
	write_file(good, text, strlen(text), 0644);
	write_file(shared, text, strlen(text), 0664);
	write_file(bad, "serial = 0;\n" RULES, strlen("serial = 0;\n" RULES), 0600);
	ck_assert_int_eq(symlink(good, link), 0);

	ck_assert_int_eq(load(good, false, &d, &pol), 0);
	ck_assert_int_eq(d.n, 0);
	ck_assert_int_eq(pol->serial, 1);
	policy_free(pol);
	pol = NULL;

	expect_refused(shared, "is writable by group or other (chmod go-w)");
	expect_refused(link, "is a symbolic link (refused)");
	expect_refused(missing, "no such file");
	expect_refused(tmpdir, "has the wrong file type");

	/* Errors inside a file name that file. */
	ck_assert_int_eq(load(bad, false, &d, &pol), -1);
	ck_assert_int_eq(d.n, 1);
	ck_assert_str_eq(d.file[0], bad);
	ck_assert_int_eq(d.line[0], 1);

	/* `garde check` on a draft: no owner/mode rules, the same parse. */
	ck_assert_int_eq(load(shared, true, &d, &pol), 0);
	policy_free(pol);

	unlink(good);
	unlink(shared);
	unlink(link);
	unlink(bad);
	rmdir(tmpdir);
}
END_TEST

START_TEST(test_load_size_cap)
{
	char exact[128], over[128];
	struct policy *pol = NULL;
	struct diags d;
	char *buf = malloc(POLICY_MAX_BYTES + 1);

	ck_assert_ptr_nonnull(buf);
	make_tmpdir();
	path_in(exact, sizeof(exact), "exact.conf");
	path_in(over, sizeof(over), "over.conf");
	/* A valid policy padded with a comment to exactly the cap. */
	memset(buf, 'x', POLICY_MAX_BYTES + 1);
	memcpy(buf, S1 RULES "#", strlen(S1 RULES "#"));
	buf[POLICY_MAX_BYTES - 1] = '\n';
	write_file(exact, buf, POLICY_MAX_BYTES, 0600);
	write_file(over, buf, POLICY_MAX_BYTES + 1, 0600);

	ck_assert_int_eq(load(exact, false, &d, &pol), 0);
	policy_free(pol);
	pol = NULL;
	expect_refused(over, "is larger than 4 MiB");
	ck_assert_int_eq(load(over, true, &d, &pol), -1);
	ck_assert_int_eq(d.n, 1);

	free(buf);
	unlink(exact);
	unlink(over);
	rmdir(tmpdir);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_bad_corpus, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_too_many_classes);
	tcase_add_test(tc, test_messages_are_sanitized);
	tcase_add_test(tc, test_no_diag_callback);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_full_policy);
	tcase_add_test(tc, test_length_not_nul);
	tcase_add_test(tc, test_integer_limits);
	tcase_add_test(tc, test_action_names);
	tcase_add_test(tc, test_load_trust);
	tcase_add_test(tc, test_load_size_cap);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(policy_suite)
