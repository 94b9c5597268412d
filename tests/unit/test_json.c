/* test_json.c - the bounded JSON writer: structure, escaping, caps,
 * overflow and misuse; output checked byte for byte and, for random input,
 * by Python's strict JSON parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "runner.h"

/* Parses text with Python's json module (strict UTF-8, no raw control
 * characters) and prints eval(expr) over it into out. Returns the exit
 * status of python3: 0 when text is valid JSON. */
static int json_py(const char *text, const char *expr, char *out, size_t cap)
{
	char path[] = "/tmp/garde-json-XXXXXX";
	char cmd[512];
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

START_TEST(test_structure_commas)
{
	char buf[256];
	struct json_buf jb;

	json_init(&jb, buf, sizeof(buf));
	json_obj_begin(&jb);
	json_key(&jb, "a");
	json_int(&jb, 1);
	json_key(&jb, "b");
	json_arr_begin(&jb);
	json_bool(&jb, true);
	json_bool(&jb, false);
	json_null(&jb);
	json_str(&jb, "x");
	json_arr_begin(&jb);
	json_arr_end(&jb);
	json_obj_begin(&jb);
	json_obj_end(&jb);
	json_arr_end(&jb);
	json_key(&jb, "c");
	json_obj_begin(&jb);
	json_key(&jb, "d");
	json_str(&jb, NULL);
	json_obj_end(&jb);
	json_obj_end(&jb);
	ck_assert_int_eq(json_finish(&jb), JSON_OK);
	ck_assert_str_eq(buf, "{\"a\":1,\"b\":[true,false,null,\"x\",[],{}],\"c\":{\"d\":null}}");
	ck_assert_uint_eq(json_len(&jb), strlen(buf));
}
END_TEST

START_TEST(test_top_level_scalar)
{
	char buf[32];
	struct json_buf jb;

	json_init(&jb, buf, sizeof(buf));
	json_int(&jb, INT64_MIN);
	ck_assert_int_eq(json_finish(&jb), JSON_OK);
	ck_assert_str_eq(buf, "-9223372036854775808");
	json_init(&jb, buf, sizeof(buf));
	json_int(&jb, INT64_MAX);
	ck_assert_str_eq(buf, "9223372036854775807");
}
END_TEST

static void json_one_string(const char *s, size_t n, char *buf, size_t cap)
{
	struct json_buf jb;

	json_init(&jb, buf, cap);
	json_strn(&jb, s, n);
	ck_assert_int_eq(json_finish(&jb), JSON_OK);
}

#define STR_CASE(in, want)                                              \
	do {                                                            \
		json_one_string(in, sizeof(in) - 1, buf, sizeof(buf));  \
		ck_assert_str_eq(buf, want);                            \
	} while (0)

START_TEST(test_escaping)
{
	char buf[256];

	STR_CASE("plain", "\"plain\"");
	STR_CASE("a\"b\\c", "\"a\\\"b\\\\c\"");
	STR_CASE("\x01\n\t\x1f\x7f", "\"\\u0001\\u000a\\u0009\\u001f\\u007f\"");
	STR_CASE("nul\0in", "\"nul\\u0000in\"");
	STR_CASE("/ stays", "\"/ stays\"");
	/* valid UTF-8 passes through: é, €, U+1F600, U+10FFFF */
	STR_CASE("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf",
		 "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
	/* U+2028 / U+2029 are escaped for JavaScript consumers */
	STR_CASE("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"");
}
END_TEST

#define FFFD "\xef\xbf\xbd"

START_TEST(test_invalid_utf8)
{
	char buf[256];

	STR_CASE("\xff", "\"" FFFD "\"");
	STR_CASE("a\x80z", "\"a" FFFD "z\"");
	/* overlong '/' */
	STR_CASE("\xc0\xaf", "\"" FFFD FFFD "\"");
	STR_CASE("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");
	/* UTF-16 surrogate D800 */
	STR_CASE("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");
	/* past U+10FFFF */
	STR_CASE("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
	/* truncated sequence at the end, and before an ASCII byte */
	STR_CASE("\xe2\x82", "\"" FFFD FFFD "\"");
	STR_CASE("\xe2\x82\"", "\"" FFFD FFFD "\\\"\"");
}
END_TEST

START_TEST(test_capped)
{
	char buf[512];
	char in[300];
	struct json_buf jb;
	size_t marker = strlen(JSON_TRUNC_MARKER);

	/* fits exactly: not cut */
	json_init(&jb, buf, sizeof(buf));
	ck_assert(!json_str_capped(&jb, "abcdefghijklmnopqrst", 20));
	ck_assert_str_eq(buf, "\"abcdefghijklmnopqrst\"");

	/* one byte over: cut, and the total stays within the cap */
	json_init(&jb, buf, sizeof(buf));
	ck_assert(json_str_capped(&jb, "abcdefghijklmnopqrstu", 20));
	ck_assert_str_eq(buf, "\"abcdef" JSON_TRUNC_MARKER "\"");
	ck_assert_uint_eq(strlen(buf) - 2, 20);

	/* an escape is never split: budget 20 - 14 = 6 holds one \u0001 */
	memset(in, 1, 10);
	in[10] = '\0';
	json_init(&jb, buf, sizeof(buf));
	ck_assert(json_str_capped(&jb, in, 20));
	ck_assert_str_eq(buf, "\"\\u0001" JSON_TRUNC_MARKER "\"");

	/* nor a UTF-8 sequence: budget 7 holds three 2-byte é, not 3.5 */
	json_init(&jb, buf, sizeof(buf));
	ck_assert(json_str_capped(&jb, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
				  marker + 7));
	ck_assert_str_eq(buf, "\"\xc3\xa9\xc3\xa9\xc3\xa9" JSON_TRUNC_MARKER "\"");

	/* worst case: 300 bytes that each escape to 6 */
	memset(in, 0x1f, sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	json_init(&jb, buf, sizeof(buf));
	ck_assert(json_str_capped(&jb, in, 100));
	ck_assert_uint_le(strlen(buf), 102);
	ck_assert_int_eq(json_finish(&jb), JSON_OK);
}
END_TEST

START_TEST(test_overflow)
{
	char buf[16];
	struct json_buf jb;

	/* exactly fits: 15 characters and the NUL */
	json_init(&jb, buf, sizeof(buf));
	json_str(&jb, "abcdefghijklm");
	ck_assert_int_eq(json_finish(&jb), JSON_OK);
	ck_assert_uint_eq(strlen(buf), 15);

	/* one more: overflow, and what is there is a clean prefix */
	json_init(&jb, buf, sizeof(buf));
	json_arr_begin(&jb);
	json_str(&jb, "abc");
	json_str(&jb, "defghijklmnop");
	json_arr_end(&jb);
	ck_assert(json_overflowed(&jb));
	ck_assert_int_eq(json_finish(&jb), JSON_EOVERFLOW);
	ck_assert_uint_lt(strlen(buf), sizeof(buf));
	ck_assert_int_eq(strncmp(buf, "[\"abc\",\"defghij", strlen(buf)), 0);
	/* later calls change nothing */
	json_null(&jb);
	ck_assert_int_eq(strncmp(buf, "[\"abc\",\"defghij", strlen(buf)), 0);

	/* an escape does not fit half-way */
	json_init(&jb, buf, 6);
	json_str(&jb, "a\x01");
	ck_assert_int_eq(json_finish(&jb), JSON_EOVERFLOW);
	ck_assert_str_eq(buf, "\"a");

	json_init(&jb, buf, 0);
	json_null(&jb);
	ck_assert_int_eq(json_finish(&jb), JSON_EOVERFLOW);
}
END_TEST

START_TEST(test_misuse)
{
	char buf[128];
	struct json_buf jb;
	int i;

	json_init(&jb, buf, sizeof(buf)); /* value in an object without a key */
	json_obj_begin(&jb);
	json_int(&jb, 1);
	json_obj_end(&jb);
	ck_assert_int_eq(json_finish(&jb), JSON_ESTATE);

	json_init(&jb, buf, sizeof(buf)); /* key in an array */
	json_arr_begin(&jb);
	json_key(&jb, "k");
	ck_assert_int_eq(json_finish(&jb), JSON_ESTATE);

	json_init(&jb, buf, sizeof(buf)); /* left open */
	json_obj_begin(&jb);
	ck_assert_int_eq(json_finish(&jb), JSON_ESTATE);

	json_init(&jb, buf, sizeof(buf)); /* key with no value */
	json_obj_begin(&jb);
	json_key(&jb, "k");
	json_obj_end(&jb);
	ck_assert_int_eq(json_finish(&jb), JSON_ESTATE);

	json_init(&jb, buf, sizeof(buf)); /* wrong closer */
	json_arr_begin(&jb);
	json_obj_end(&jb);
	ck_assert_int_eq(json_finish(&jb), JSON_ESTATE);

	json_init(&jb, buf, sizeof(buf)); /* two top-level values */
	json_int(&jb, 1);
	json_int(&jb, 2);
	ck_assert_int_eq(json_finish(&jb), JSON_ESTATE);
	ck_assert_str_eq(buf, "1");

	json_init(&jb, buf, sizeof(buf)); /* nothing */
	ck_assert_int_eq(json_finish(&jb), JSON_ESTATE);

	json_init(&jb, buf, sizeof(buf)); /* too deep */
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_arr_begin(&jb);
	ck_assert(!jb.misuse);
	json_arr_begin(&jb);
	ck_assert_int_eq(json_finish(&jb), JSON_ESTATE);

	ck_assert_str_eq(json_strerror(JSON_EOVERFLOW), "JSON text does not fit its buffer");
}
END_TEST

/* Random bytes always come out as JSON that Python's strict parser (strict
 * UTF-8, no raw control characters) accepts, whole. */
START_TEST(test_random_bytes_valid)
{
	size_t cap = 200000;
	char *buf = malloc(cap);
	char out[64];
	struct json_buf jb;
	unsigned seed = 12345;
	int i, j;

	ck_assert_ptr_nonnull(buf);
	json_init(&jb, buf, cap);
	json_arr_begin(&jb);
	for (i = 0; i < 300; i++) {
		char s[64];
		int n = 1 + (int)(rand_r(&seed) % (sizeof(s) - 1));
		for (j = 0; j < n; j++)
			s[j] = (char)(rand_r(&seed) & 0xff);
		json_obj_begin(&jb);
		json_key(&jb, "k");
		json_strn(&jb, s, (size_t)n);
		json_obj_end(&jb);
	}
	json_arr_end(&jb);
	ck_assert_int_eq(json_finish(&jb), JSON_OK);
	ck_assert_int_eq(json_py(buf, "len(d)", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "300");
	free(buf);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_structure_commas);
	tcase_add_test(tc, test_top_level_scalar);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_capped);
	tcase_add_test(tc, test_overflow);
	tcase_add_test(tc, test_misuse);
	tcase_add_test(tc, test_random_bytes_valid);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(json_suite)
