/* test_store_scratch.c - scratch codes in the store: only hashes reach
 * the record file, the format round-trips and is strict, each code works
 * once, and a new token drops the old one's codes. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otp.h"
#include "runner.h"
#include "store.h"
#include "store_fixture.h"

static const char scratch_record[] =
	"garde-record 1\n"
	"user carol\n"
	"kind totp\n"
	"algorithm sha1\n"
	"digits 6\n"
	"step 30\n"
	"secret 3132333435363738393031323334353637383930\n"
	"counter 0\n"
	"last-step 0\n"
	"created 1700000000\n"
	"last-success 0\n"
	"scratch-kdf pbkdf2-sha256 10000 00112233445566778899aabbccddeeff\n"
	"scratch 3140bb3df0c5015e7234ecf1603b47cd919afce7a283cd9c538ec599a4440585\n"
	"end\n";

static const struct {
	const char *from, *to;
} scratch_corruptions[] = {
	{ "pbkdf2-sha256", "pbkdf2-sha1" },
	{ " 10000 ", " 0 " },
	{ " 10000 ", " 1000001 " },
	{ " 10000 ", " 010000 " },
	{ "eeff\n", "ee\n" },
	{ "eeff\n", "eeffgg\n" },
	{ "eeff\n", "eeff 1\n" },
	{ "scratch-kdf pbkdf2-sha256 10000 00112233445566778899aabbccddeeff\n", "" },
	{ "scratch 3140bb3df0c5015e7234ecf1603b47cd919afce7a283cd9c538ec599a4440585\n", "" },
	{ "0585\n", "058\n" },
	{ "0585\n", "058z\n" },
	{ "last-success 0\n", "last-success 0\nscratch-kdf pbkdf2-sha256 1 00112233445566778899aabbccddeeff\n" },
	{ "kind totp\nalgorithm sha1\ndigits 6\nstep 30\nsecret 3132333435363738393031323334353637383930\ncounter 0\nlast-step 0\n",
	  "kind none\n" },
};

START_TEST(scratch_codes)
{
	static const char *const codes[] = { "11111111", "22222222", "33333333" };
	static const char *const bad[] = { "1234a678" };
	struct otp_token t = totp_token();
	struct store_scratch sc;
	struct store_record rec;
	struct store *st = NULL;
	struct store_handle *h = NULL;
	char path[PATH_MAX], text[2048], out[2048], *at;
	const char *many[STORE_MAX_SCRATCH + 1];
	size_t i, len;
	FILE *f;
	int n;

	ck_assert_int_eq(store_scratch_prepare(&sc, codes, 3), STORE_OK);
	ck_assert_uint_eq(sc.n, 3);
	ck_assert_uint_eq(sc.iterations, STORE_SCRATCH_ITER);
	ck_assert_int_eq(store_scratch_prepare(&sc, bad, 1), STORE_EINVAL);
	ck_assert_uint_eq(sc.n, 0);
	for (i = 0; i <= STORE_MAX_SCRATCH; i++)
		many[i] = "12345678";
	ck_assert_int_eq(store_scratch_prepare(&sc, many, STORE_MAX_SCRATCH + 1), STORE_EINVAL);
	ck_assert_int_eq(store_scratch_prepare(&sc, codes, 3), STORE_OK);

	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_enroll_with(st, "carol", &t, &sc, false, false, 1700000000), STORE_OK);
	/* The file holds hashes, never a code. */
	path_of(path, sizeof(path), "users", "carol");
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	for (i = 0; i < 3; i++)
		ck_assert_ptr_null(strstr(text, codes[i]));
	ck_assert_ptr_nonnull(strstr(text, "\nscratch-kdf pbkdf2-sha256 10000 "));
	/* Round trip: parse, format, the same text (slot A's, after its
	 * STORE_SLOT_HDR-byte header: see store.h). */
	ck_assert_uint_gt(len, STORE_SLOT_HDR);
	ck_assert_int_eq(store_record_parse(text + STORE_SLOT_HDR, len - STORE_SLOT_HDR, &rec),
			 STORE_OK);
	ck_assert_uint_eq(rec.scratch.n, 3);
	n = store_record_format(&rec, out, sizeof(out));
	ck_assert_int_eq(n, (int)(len - STORE_SLOT_HDR));
	ck_assert_mem_eq(out, text + STORE_SLOT_HDR, len - STORE_SLOT_HDR);

	/* Each code works once; a wrong or malformed code matches nothing. */
	ck_assert_int_eq(store_lock_user(st, "carol", &h), STORE_OK);
	ck_assert_int_eq(store_scratch_use(store_record(h), "22222222", 8), STORE_OK);
	ck_assert_int_eq(store_scratch_use(store_record(h), "22222222", 8), STORE_ENOENT);
	ck_assert_int_eq(store_scratch_use(store_record(h), "44444444", 8), STORE_ENOENT);
	ck_assert_int_eq(store_scratch_use(store_record(h), "1111111\0", 8), STORE_ENOENT);
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);
	ck_assert_int_eq(store_lock_user(st, "carol", &h), STORE_OK);
	ck_assert_uint_eq(store_record(h)->scratch.n, 2);
	ck_assert_int_eq(store_scratch_use(store_record(h), "11111111", 8), STORE_OK);
	ck_assert_int_eq(store_scratch_use(store_record(h), "33333333", 8), STORE_OK);
	ck_assert_uint_eq(store_record(h)->scratch.n, 0);
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);
	ck_assert_int_eq(store_lock_user(st, "carol", &h), STORE_OK);
	ck_assert_uint_eq(store_record(h)->scratch.n, 0);
	store_unlock(h);

	/* A new token drops the old one's scratch codes. */
	ck_assert_int_eq(store_scratch_prepare(&sc, codes, 1), STORE_OK);
	ck_assert_int_eq(store_enroll_with(st, "carol", &t, &sc, true, true, 1700000001), STORE_OK);
	ck_assert_int_eq(store_sync(st), STORE_OK);
	ck_assert_int_eq(store_enroll(st, "carol", &t, true, 1700000002), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, "carol", &h), STORE_OK);
	ck_assert_uint_eq(store_record(h)->scratch.n, 0);
	store_unlock(h);
	store_close(st);

	/* The reference record parses; every edit of it is refused. */
	ck_assert_int_eq(store_record_parse(scratch_record, strlen(scratch_record), &rec), STORE_OK);
	ck_assert_uint_eq(rec.scratch.n, 1);
	ck_assert_uint_eq(rec.scratch.iterations, 10000);
	for (i = 0; i < sizeof(scratch_corruptions) / sizeof(scratch_corruptions[0]); i++) {
		at = strstr(scratch_record, scratch_corruptions[i].from);
		ck_assert_ptr_nonnull(at);
		len = (size_t)(at - scratch_record);
		memcpy(text, scratch_record, len);
		strcpy(text + len, scratch_corruptions[i].to);
		strcat(text, at + strlen(scratch_corruptions[i].from));
		ck_assert_msg(store_record_parse(text, strlen(text), &rec) == STORE_ECORRUPT,
			      "scratch edit %zu accepted: %s", i, text);
	}
	/* At most STORE_MAX_SCRATCH codes. */
	at = strstr(scratch_record, "scratch 3140");
	len = (size_t)(at - scratch_record);
	memcpy(text, scratch_record, len);
	text[len] = '\0';
	for (i = 0; i <= STORE_MAX_SCRATCH; i++)
		strcat(text, "scratch 3140bb3df0c5015e7234ecf1603b47cd919afce7a283cd9c538ec599a4440585\n");
	strcat(text, "end\n");
	ck_assert_int_eq(store_record_parse(text, strlen(text), &rec), STORE_ECORRUPT);
}
END_TEST

static Suite *scratch_suite(void)
{
	Suite *s = suite_create("store_scratch");
	TCase *tc = tcase_create("scratch");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, scratch_codes);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(scratch_suite)
