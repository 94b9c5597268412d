/* test_event.c - the event record: the exact shape of DESIGN.md "Events",
 * source variants, hostile values, size bound, ids. Validity is checked by
 * Python's strict JSON parser. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "runner.h"

/* 2026-11-22T14:07:52.123456Z */
#define DESIGN_USEC INT64_C(1795356472123456)

/* Parses text with Python's json module (strict UTF-8, no raw control
 * characters) and prints eval(expr) over it into out. Returns the exit
 * status of python3: 0 when text is valid JSON. */
static int event_py(const char *text, const char *expr, char *out, size_t cap)
{
	char path[] = "/tmp/garde-event-XXXXXX";
	char cmd[1024];
	FILE *p;
	size_t n = 0;
	int fd = mkstemp(path), status;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=json.loads(open(sys.argv[1],\"rb\").read()"
		 ".decode(\"utf-8\")); print(%s)' %s 2>/dev/null",
		 expr, path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (out != NULL && cap > 0) {
		n = fread(out, 1, cap - 1, p);
		out[n] = '\0';
		if (n > 0 && out[n - 1] == '\n')
			out[n - 1] = '\0';
	}
	status = pclose(p);
	unlink(path);
	return status;
}

static void source_ip(struct source *src, int family, const char *text)
{
	memset(src, 0, sizeof(*src));
	src->kind = SOURCE_IP;
	src->family = family;
	ck_assert_int_eq(inet_pton(family, text, src->addr), 1);
}

/* The design's example, field for field. */
static struct event_fields design_fields(struct source *src)
{
	struct event_fields f = {
		.action = "login-denied",
		.outcome = "failure",
		.reason = "policy_deny",
		.user = "alice",
		.source = src,
		.rhost_text = "203.0.113.9",
		.service = "sshd",
		.host = "mail01",
		.pid = 4242,
		.rule = "admin-offsite",
		.ruleset = 17,
		.class = "admin",
		.zone = "elsewhere",
		.mode = "enforce",
		.now_usec = DESIGN_USEC,
	};
	source_ip(src, AF_INET, "203.0.113.9");
	return f;
}

static void assert_hex_id(const char *id)
{
	size_t i;

	ck_assert_uint_eq(strlen(id), EVENT_ID_HEX);
	for (i = 0; i < EVENT_ID_HEX; i++)
		ck_assert_msg(strchr("0123456789abcdef", id[i]) != NULL, "id %s", id);
}

START_TEST(test_design_example_exact)
{
	struct source src;
	struct event_fields f = design_fields(&src);
	char buf[EVENT_MAX_BYTES], want[EVENT_MAX_BYTES], id[EVENT_ID_SIZE], out[64];

	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	assert_hex_id(id);
	snprintf(want, sizeof(want),
		 "{\"@timestamp\":\"2026-11-22T14:07:52.123456Z\","
		 "\"event\":{\"id\":\"%s\",\"kind\":\"event\",\"category\":[\"authentication\"],"
		 "\"type\":[\"start\"],\"action\":\"login-denied\",\"outcome\":\"failure\","
		 "\"reason\":\"policy_deny\",\"provider\":\"pam_garde\"},"
		 "\"user\":{\"name\":\"alice\"},\"source\":{\"ip\":\"203.0.113.9\"},"
		 "\"service\":{\"name\":\"sshd\"},\"host\":{\"name\":\"mail01\"},"
		 "\"process\":{\"pid\":4242},"
		 "\"rule\":{\"name\":\"admin-offsite\",\"ruleset\":\"17\"},"
		 "\"garde\":{\"class\":\"admin\",\"zone\":\"elsewhere\",\"mode\":\"enforce\"}}",
		 id);
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(event_py(buf, "d[\"event\"][\"id\"]", out, sizeof(out)), 0);
	ck_assert_str_eq(out, id);
}
END_TEST

START_TEST(test_local_source_absent)
{
	struct source src;
	struct event_fields f = design_fields(&src);
	char buf[EVENT_MAX_BYTES], id[EVENT_ID_SIZE], out[64];

	src.kind = SOURCE_LOCAL;
	f.rhost_text = NULL;
	f.zone = "local";
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	ck_assert_ptr_null(strstr(buf, "\"source\""));
	ck_assert_int_eq(event_py(buf, "\"source\" in d", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "False");

	f.source = NULL; /* no source at all reads as local */
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	ck_assert_ptr_null(strstr(buf, "\"source\""));
}
END_TEST

START_TEST(test_ipv6_source)
{
	struct source src;
	struct event_fields f = design_fields(&src);
	char buf[EVENT_MAX_BYTES], id[EVENT_ID_SIZE], out[128];

	source_ip(&src, AF_INET6, "2001:0db8:0000:0000:0000:0000:0000:0001");
	f.rhost_text = "[2001:0db8::0001]";
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	ck_assert_ptr_nonnull(strstr(buf, "\"source\":{\"ip\":\"2001:db8::1\"}"));
	ck_assert_int_eq(event_py(buf, "d[\"source\"]", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "{'ip': '2001:db8::1'}");
}
END_TEST

START_TEST(test_unknown_source_address)
{
	struct source src;
	struct event_fields f = design_fields(&src);
	char buf[EVENT_MAX_BYTES], id[EVENT_ID_SIZE], out[128];

	memset(&src, 0, sizeof(src));
	src.kind = SOURCE_UNKNOWN;
	f.rhost_text = "mail.example.org";
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	ck_assert_int_eq(event_py(buf, "d[\"source\"]", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "{'address': 'mail.example.org'}");

	f.rhost_text = NULL; /* an unknown source without its text is a caller bug */
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_EINVAL);
	ck_assert_str_eq(buf, "");
	ck_assert_str_eq(id, "");
}
END_TEST

START_TEST(test_no_rule_and_report_only)
{
	struct source src;
	struct event_fields f = design_fields(&src);
	char buf[EVENT_MAX_BYTES], id[EVENT_ID_SIZE], out[256];

	f.rule = NULL;
	f.reason = "no_rule";
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	ck_assert_int_eq(event_py(buf, "d[\"rule\"]", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "{'ruleset': '17'}");

	/* policy unavailable: no rule, no serial, no class: those objects go */
	f.ruleset = 0;
	f.reason = "policy_unavailable";
	f.class = NULL;
	f.zone = NULL;
	f.mode = NULL;
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	ck_assert_int_eq(event_py(buf, "sorted(d)", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "['@timestamp', 'event', 'host', 'process', 'service', 'source', 'user']");

	f = design_fields(&src);
	f.action = "login-would-deny";
	f.outcome = "unknown";
	f.mode = "report-only";
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	ck_assert_int_eq(event_py(buf,
				  "(d[\"event\"][\"action\"], d[\"event\"][\"outcome\"], d[\"garde\"][\"mode\"])",
				  out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, "('login-would-deny', 'unknown', 'report-only')");
}
END_TEST

START_TEST(test_events_dropped)
{
	struct event_fields f = {
		.action = "events-dropped",
		.outcome = "failure",
		.host = "mail01",
		.pid = 7,
		.dropped = 12,
		.now_usec = 0,
	};
	char buf[EVENT_MAX_BYTES], id[EVENT_ID_SIZE], out[256];

	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	ck_assert_int_eq(event_py(buf, "(d[\"@timestamp\"], d[\"garde\"], \"reason\" in d[\"event\"])",
				  out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, "('1970-01-01T00:00:00.000000Z', {'dropped': 12}, False)");
}
END_TEST

START_TEST(test_vocabulary_refused)
{
	struct source src;
	struct event_fields f;
	char buf[EVENT_MAX_BYTES], id[EVENT_ID_SIZE];
	static const char *const reasons[] = {
		"policy_deny", "no_rule", "mfa_invalid", "mfa_replay", "mfa_missing",
		"mfa_not_enrolled", "locked_user", "locked_source", "policy_unavailable",
		"app_password_invalid",
	};
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		f = design_fields(&src);
		f.reason = reasons[i];
		ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	}
	f = design_fields(&src);
	f.action = "login-ok";
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_EINVAL);
	f = design_fields(&src);
	f.outcome = NULL;
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_EINVAL);
	f = design_fields(&src);
	f.reason = "password=hunter2";
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_EINVAL);
	ck_assert_str_eq(buf, "");
	f = design_fields(&src);
	f.mode = "permissive";
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_EINVAL);
	ck_assert_str_eq(event_strerror(EVENT_EINVAL), "event field missing or not a known value");
}
END_TEST

START_TEST(test_timestamp_floor)
{
	struct source src;
	struct event_fields f = design_fields(&src);
	char buf[EVENT_MAX_BYTES], id[EVENT_ID_SIZE];
	const char *want = "{\"@timestamp\":\"1969-12-31T23:59:59.999999Z\",";

	f.now_usec = -1;
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	ck_assert_int_eq(strncmp(buf, want, strlen(want)), 0);
}
END_TEST

/* Quotes, backslashes, every control character, DEL, invalid UTF-8 and
 * 1 KiB values in every free-text field: still one line of valid JSON
 * under 4 KiB, cut values marked. */
START_TEST(test_hostile_values)
{
	struct source src;
	struct event_fields f = design_fields(&src);
	char buf[EVENT_MAX_BYTES], id[EVENT_ID_SIZE], out[4096];
	char nasty[1100], ctl[1100], big[1025];
	size_t i, n = 0;

	const char *bits[] = { "\"", "\\", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\x7f",
			       "\xe2\x80\xa8", "\\u0000", "}],\"x\":" };
	while (n < 1000) {
		const char *b = bits[n % (sizeof(bits) / sizeof(bits[0]))];
		memcpy(nasty + n, b, strlen(b));
		n += strlen(b);
	}
	nasty[n] = '\0';
	for (i = 0; i < 1024; i++)
		ctl[i] = (char)(1 + i % 31);
	ctl[1024] = '\0';
	memset(big, 'u', 1024);
	big[1024] = '\0';

	/* short hostile values: not cut, and they read back exactly */
	f.user = "al\"ice\\\n\x01";
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	ck_assert_int_eq(event_py(buf, "d[\"user\"][\"name\"] == \"al\\\"ice\\\\\\n\\x01\"", out,
				  sizeof(out)),
			 0);
	ck_assert_str_eq(out, "True");
	ck_assert_ptr_null(strstr(buf, "truncated"));

	memset(&src, 0, sizeof(src));
	src.kind = SOURCE_UNKNOWN;
	f.user = big;
	f.rhost_text = ctl;
	f.service = nasty;
	f.host = ctl;
	f.rule = nasty;
	f.class = ctl;
	f.zone = nasty;
	f.pid = 2147483647;
	f.ruleset = INT64_MAX;
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_OK);
	ck_assert_uint_lt(strlen(buf), 4096);
	ck_assert_ptr_null(strchr(buf, '\n'));
	ck_assert_ptr_null(strchr(buf, '\r'));
	ck_assert_int_eq(event_py(buf,
				  "(d[\"garde\"][\"truncated\"], "
				  "d[\"user\"][\"name\"].endswith(\"...[truncated]\"), "
				  "len(d[\"user\"][\"name\"]), d[\"rule\"][\"ruleset\"], "
				  "d[\"source\"][\"address\"][:2])",
				  out, sizeof(out)),
			 0);
	ck_assert_str_eq(out, "(True, True, 256, '9223372036854775807', '\\x01\\x02')");
	/* even the worst case leaves room: EVENT_MAX_BYTES is not a near miss */
	ck_assert_uint_lt(strlen(buf), 3 * EVENT_MAX_BYTES / 4);
}
END_TEST

START_TEST(test_ids_distinct)
{
	struct source src;
	struct event_fields f = design_fields(&src);
	char buf[EVENT_MAX_BYTES], id1[EVENT_ID_SIZE], id2[EVENT_ID_SIZE];

	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id1), EVENT_OK);
	ck_assert_ptr_nonnull(strstr(buf, id1));
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id2), EVENT_OK);
	ck_assert_ptr_nonnull(strstr(buf, id2));
	assert_hex_id(id1);
	assert_hex_id(id2);
	ck_assert_str_ne(id1, id2);
}
END_TEST

START_TEST(test_small_buffer)
{
	struct source src;
	struct event_fields f = design_fields(&src);
	char buf[100], id[EVENT_ID_SIZE];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(event_format(&f, buf, sizeof(buf), id), EVENT_ETOOSMALL);
	ck_assert_str_eq(buf, "");
	ck_assert_str_eq(id, "");
	ck_assert_int_eq(event_format(NULL, buf, sizeof(buf), id), EVENT_EINVAL);
}
END_TEST

static Suite *event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_design_example_exact);
	tcase_add_test(tc, test_local_source_absent);
	tcase_add_test(tc, test_ipv6_source);
	tcase_add_test(tc, test_unknown_source_address);
	tcase_add_test(tc, test_no_rule_and_report_only);
	tcase_add_test(tc, test_events_dropped);
	tcase_add_test(tc, test_vocabulary_refused);
	tcase_add_test(tc, test_timestamp_floor);
	tcase_add_test(tc, test_hostile_values);
	tcase_add_test(tc, test_ids_distinct);
	tcase_add_test(tc, test_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(event_suite)
