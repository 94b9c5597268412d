/* test_source.c - PAM_RHOST parsing: literals only, never DNS. */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "runner.h"
#include "source.h"

struct source_case {
	const char *rhost;
	int rv;
	enum source_kind kind;
	int family;       /* when kind == SOURCE_IP */
	const char *text; /* source_format output */
};

static const struct source_case source_cases[] = {
	{ NULL, 0, SOURCE_LOCAL, 0, "local" },
	{ "", 0, SOURCE_LOCAL, 0, "local" },
	{ "203.0.113.9", 0, SOURCE_IP, AF_INET, "203.0.113.9" },
	{ "10.0.0.1", 0, SOURCE_IP, AF_INET, "10.0.0.1" },
	{ "0.0.0.0", 0, SOURCE_IP, AF_INET, "0.0.0.0" },
	{ "255.255.255.255", 0, SOURCE_IP, AF_INET, "255.255.255.255" },
	{ "2001:db8::1", 0, SOURCE_IP, AF_INET6, "2001:db8::1" },
	{ "2001:0DB8:0000:0000:0000:0000:0000:0001", 0, SOURCE_IP, AF_INET6, "2001:db8::1" },
	{ "::1", 0, SOURCE_IP, AF_INET6, "::1" },
	{ "::", 0, SOURCE_IP, AF_INET6, "::" },
	{ "fd00:20::5", 0, SOURCE_IP, AF_INET6, "fd00:20::5" },
	/* IPv4-mapped: an IPv4 peer on a dual-stack socket is IPv4. */
	{ "::ffff:10.0.0.1", 0, SOURCE_IP, AF_INET, "10.0.0.1" },
	{ "::FFFF:a00:1", 0, SOURCE_IP, AF_INET, "10.0.0.1" },
	{ "[::ffff:192.0.2.1]", 0, SOURCE_IP, AF_INET, "192.0.2.1" },
	{ "::ffff:1.2.3.4%eth0", 0, SOURCE_IP, AF_INET, "1.2.3.4" },
	/* IPv4-compatible and NAT64 addresses are not mapped: they stay IPv6. */
	{ "::1.2.3.4", 0, SOURCE_IP, AF_INET6, "::1.2.3.4" },
	{ "64:ff9b::192.0.2.1", 0, SOURCE_IP, AF_INET6, "64:ff9b::c000:201" },
	{ "::fffe:10.0.0.1", 0, SOURCE_IP, AF_INET6, "::fffe:a00:1" },
	/* Brackets and zones. */
	{ "[2001:db8::1]", 0, SOURCE_IP, AF_INET6, "2001:db8::1" },
	{ "fe80::1%eth0", 0, SOURCE_IP, AF_INET6, "fe80::1" },
	{ "[fe80::1%2]", 0, SOURCE_IP, AF_INET6, "fe80::1" },
	{ "fe80::1%", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "fe80::1%eth 0", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "fe80::1%eth0%1", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "10.0.0.1%eth0", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "[1.2.3.4]", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "[2001:db8::1", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "2001:db8::1]", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "[]", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "[", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "[[::1]]", 0, SOURCE_UNKNOWN, 0, "unknown" },
	/* Names and near-misses are never resolved. */
	{ "mail.example.com", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "localhost", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "1.2.3", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "1.2.3.4.5", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "1.2.3.256", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "01.2.3.4", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "0x7f.0.0.1", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "2130706433", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ " 1.2.3.4", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "1.2.3.4 ", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "1.2. 3.4", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "1.2.3.4:22", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "1.2.3.4\n", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "2001:db8::1::2", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "\xff\xfe\x31", 0, SOURCE_UNKNOWN, 0, "unknown" },
	{ "\xc3\xa9t\xc3\xa9", 0, SOURCE_UNKNOWN, 0, "unknown" },
};

START_TEST(test_source_table)
{
	const struct source_case *c = &source_cases[_i];
	struct source src;
	uint8_t want[16] = { 0 };
	char buf[INET6_ADDRSTRLEN];
	const char *name = c->rhost ? c->rhost : "(null)";
	int rv;

	memset(&src, 0xa5, sizeof(src));
	rv = source_parse(c->rhost, &src);
	ck_assert_msg(rv == c->rv, "%s: rv %d, want %d", name, rv, c->rv);
	ck_assert_msg(src.kind == c->kind, "%s: kind %d, want %d", name, (int)src.kind,
		      (int)c->kind);
	ck_assert_str_eq(source_format(&src, buf, sizeof(buf)), c->text);
	if (c->kind != SOURCE_IP)
		return;
	ck_assert_msg(src.family == c->family, "%s: family %d, want %d", name, src.family,
		      c->family);
	/* The stored bytes must be the canonical address, zero-padded. */
	ck_assert_int_eq(inet_pton(c->family, c->text, want), 1);
	ck_assert_msg(memcmp(src.addr, want, sizeof(want)) == 0, "%s: address bytes differ",
		      name);
}
END_TEST

START_TEST(test_source_length_cap)
{
	char text[SOURCE_MAX_TEXT + 2];
	struct source src;

	/* Exactly at the cap: parsed (a name, so unknown). */
	memset(text, 'a', SOURCE_MAX_TEXT);
	text[SOURCE_MAX_TEXT] = '\0';
	ck_assert_int_eq(source_parse(text, &src), 0);
	ck_assert_int_eq(src.kind, SOURCE_UNKNOWN);

	/* One over: refused, and the struct still says unknown, never local. */
	text[SOURCE_MAX_TEXT] = 'a';
	text[SOURCE_MAX_TEXT + 1] = '\0';
	src.kind = SOURCE_LOCAL;
	ck_assert_int_eq(source_parse(text, &src), -1);
	ck_assert_int_eq(src.kind, SOURCE_UNKNOWN);

	/* An address padded past the cap is refused too. */
	memset(text, ' ', sizeof(text) - 1);
	memcpy(text, "10.0.0.1", 8);
	ck_assert_int_eq(source_parse(text, &src), -1);
}
END_TEST

START_TEST(test_source_format_edges)
{
	struct source src;
	char small[8];
	char buf[INET6_ADDRSTRLEN];

	ck_assert_int_eq(source_parse("2001:db8::1", &src), 0);
	/* Too small for the text: a fixed marker, never a truncated address. */
	ck_assert_str_eq(source_format(&src, small, sizeof(small)), "invalid");
	ck_assert_str_eq(source_format(&src, NULL, 0), "invalid");
	ck_assert_str_eq(source_format(NULL, buf, sizeof(buf)), "unknown");
	src.family = 12345;
	ck_assert_str_eq(source_format(&src, buf, sizeof(buf)), "invalid");
	ck_assert_int_eq(source_parse("1.2.3.4", NULL), -1);
}
END_TEST

/* IPv4 is formatted by hand: it must be exactly what inet_ntop writes, since
 * the text names the source's record and its remembered logins. */
START_TEST(test_source_format_v4_like_inet_ntop)
{
	struct source src = { .kind = SOURCE_IP, .family = AF_INET };
	char want[INET_ADDRSTRLEN], got[INET_ADDRSTRLEN], fit[8];

	for (unsigned v = 0; v < 256; v++) {
		const uint8_t bytes[][4] = { { v, v, v, v }, { v, 0, 255, 9 }, { 10, v, 99, 100 } };

		for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
			memcpy(src.addr, bytes[i], 4);
			ck_assert_ptr_nonnull(inet_ntop(AF_INET, src.addr, want, sizeof(want)));
			ck_assert_str_eq(source_format(&src, got, sizeof(got)), want);
		}
	}
	/* "1.2.3.4" and its NUL need 8 bytes: 7 is too few. */
	memcpy(src.addr, (const uint8_t[]){ 1, 2, 3, 4 }, 4);
	ck_assert_str_eq(source_format(&src, fit, sizeof(fit)), "1.2.3.4");
	ck_assert_str_eq(source_format(&src, fit, sizeof(fit) - 1), "invalid");
}
END_TEST

static Suite *source_suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_source_table, 0,
			    (int)(sizeof(source_cases) / sizeof(source_cases[0])));
	tcase_add_test(tc, test_source_length_cap);
	tcase_add_test(tc, test_source_format_edges);
	tcase_add_test(tc, test_source_format_v4_like_inet_ntop);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(source_suite)
