/* test_otp.c - RFC 4226 / RFC 6238 vectors, oathtool cross-checks, window,
 * replay and malformed-code semantics. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otp.h"
#include "runner.h"

static const char SEED20[] = "12345678901234567890";
static const char SEED32[] = "12345678901234567890123456789012";
static const char SEED64[] = "1234567890123456789012345678901234567890123456789012345678901234";

static struct otp_token token(enum otp_kind kind, enum otp_algo algo, unsigned digits,
			      const char *seed, size_t len)
{
	struct otp_token t;

	memset(&t, 0, sizeof(t));
	t.kind = kind;
	t.algo = algo;
	t.digits = digits;
	t.step = 30;
	t.secret_len = len;
	memcpy(t.secret, seed, len);
	return t;
}

/* RFC 4226 Appendix D. */
START_TEST(hotp_rfc4226_vectors)
{
	static const char *expect[10] = { "755224", "287082", "359152", "969429", "338314",
					  "254676", "287922", "162583", "399871", "520489" };
	struct otp_token t = token(OTP_HOTP, OTP_SHA1, 6, SEED20, 20);
	char code[OTP_CODE_BUF];
	uint64_t c, matched = 99;

	for (c = 0; c < 10; c++) {
		ck_assert_int_eq(otp_generate_factor(&t, c, code, sizeof(code)), OTP_OK);
		ck_assert_str_eq(code, expect[c]);
		t.counter = c;
		ck_assert_int_eq(otp_generate(&t, 0, code, sizeof(code)), OTP_OK);
		ck_assert_str_eq(code, expect[c]);
		/* Verifying at the stored counter accepts exactly that counter. */
		ck_assert_int_eq(otp_verify(&t, expect[c], 6, 0, 0, 1, 0, &matched), OTP_OK);
		ck_assert_uint_eq(matched, c);
	}
}
END_TEST

/* RFC 6238 Appendix B, all three hashes, including T = 20000000000. */
static const struct {
	int64_t time;
	const char *sha1, *sha256, *sha512;
} rfc6238[] = {
	{ 59, "94287082", "46119246", "90693936" },
	{ 1111111109, "07081804", "68084774", "25091201" },
	{ 1111111111, "14050471", "67062674", "99943326" },
	{ 1234567890, "89005924", "91819424", "93441116" },
	{ 2000000000, "69279037", "90698825", "38618901" },
	{ 20000000000LL, "65353130", "77737706", "47863826" },
};

START_TEST(totp_rfc6238_vectors)
{
	struct otp_token t1 = token(OTP_TOTP, OTP_SHA1, 8, SEED20, 20);
	struct otp_token t256 = token(OTP_TOTP, OTP_SHA256, 8, SEED32, 32);
	struct otp_token t512 = token(OTP_TOTP, OTP_SHA512, 8, SEED64, 64);
	char code[OTP_CODE_BUF];
	uint64_t matched;
	int64_t now = rfc6238[_i].time;

	ck_assert_int_eq(otp_generate(&t1, now, code, sizeof(code)), OTP_OK);
	ck_assert_str_eq(code, rfc6238[_i].sha1);
	ck_assert_int_eq(otp_generate(&t256, now, code, sizeof(code)), OTP_OK);
	ck_assert_str_eq(code, rfc6238[_i].sha256);
	ck_assert_int_eq(otp_generate(&t512, now, code, sizeof(code)), OTP_OK);
	ck_assert_str_eq(code, rfc6238[_i].sha512);

	/* And each verifies with no window, matching step now / 30. */
	matched = 0;
	ck_assert_int_eq(otp_verify(&t256, rfc6238[_i].sha256, 8, now, 0, 0, 0, &matched), OTP_OK);
	ck_assert_uint_eq(matched, (uint64_t)now / 30);
	ck_assert_int_eq(otp_verify(&t512, rfc6238[_i].sha512, 8, now, 0, 0, 0, &matched), OTP_OK);
	ck_assert_int_eq(otp_verify(&t1, rfc6238[_i].sha1, 8, now, 0, 0, 0, &matched), OTP_OK);
	/* The SHA-1 code is not the SHA-256 code. */
	ck_assert_int_eq(otp_verify(&t1, rfc6238[_i].sha256, 8, now, 0, 0, 0, &matched),
			 OTP_EMISMATCH);
}
END_TEST

static void random_bytes(unsigned char *buf, size_t len, unsigned *seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(rand_r(seed) & 0xff);
}

static void oathtool(const char *args, char *out, size_t outlen)
{
	FILE *p = popen(args, "r");
	size_t n;

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(out, (int)outlen, p));
	ck_assert_int_eq(pclose(p), 0);
	n = strlen(out);
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
}

/* Random secrets, times, hashes and digit counts against the oathtool
 * command (also the base32 encoder: the secret is handed over in base32). */
START_TEST(cross_check_oathtool)
{
	static const enum otp_algo algos[] = { OTP_SHA1, OTP_SHA256, OTP_SHA512 };
	unsigned seed = 20261122u;
	int i;

	for (i = 0; i < 24; i++) {
		struct otp_token t;
		char b32[128], cmd[512], want[32], got[OTP_CODE_BUF];
		int64_t now = (int64_t)(rand_r(&seed) % 2000000000) + (i % 3) * 2000000000LL;

		memset(&t, 0, sizeof(t));
		t.kind = (i % 4 == 3) ? OTP_HOTP : OTP_TOTP;
		t.algo = algos[i % 3];
		t.digits = 6 + (unsigned)(i % 3);
		t.step = (i % 2) ? 30 : 60;
		t.secret_len = 10 + (size_t)(rand_r(&seed) % 55);
		t.counter = (uint64_t)rand_r(&seed);
		random_bytes(t.secret, t.secret_len, &seed);
		ck_assert_int_eq(otp_base32_encode(t.secret, t.secret_len, b32, sizeof(b32)), OTP_OK);
		if (t.kind == OTP_TOTP) {
			snprintf(cmd, sizeof(cmd),
				 "oathtool -b --totp=%s -d %u -s %us -N @%lld '%s'",
				 otp_algo_name(t.algo), t.digits, t.step, (long long)now, b32);
		} else {
			/* oathtool's HOTP is SHA-1 only. */
			t.algo = OTP_SHA1;
			snprintf(cmd, sizeof(cmd), "oathtool -b -c %llu -d %u '%s'",
				 (unsigned long long)t.counter, t.digits, b32);
		}
		oathtool(cmd, want, sizeof(want));
		ck_assert_int_eq(otp_generate(&t, now, got, sizeof(got)), OTP_OK);
		ck_assert_msg(strcmp(got, want) == 0, "%s: got %s want %s", cmd, got, want);
	}
}
END_TEST

START_TEST(totp_window_edges)
{
	struct otp_token t = token(OTP_TOTP, OTP_SHA1, 6, SEED20, 20);
	const int64_t now = 1700000015; /* step 56666667 */
	const uint64_t T = (uint64_t)now / 30;
	char code[OTP_CODE_BUF];
	uint64_t matched = 0;
	int d;

	for (d = -3; d <= 3; d++) {
		int expect = (d >= -1 && d <= 2) ? OTP_OK : OTP_EMISMATCH;

		ck_assert_int_eq(otp_generate_factor(&t, T + (uint64_t)(int64_t)d, code, sizeof(code)), OTP_OK);
		ck_assert_msg(otp_verify(&t, code, 6, now, 1, 2, 0, &matched) == expect, "offset %d", d);
		if (expect == OTP_OK)
			ck_assert_uint_eq(matched, T + (uint64_t)(int64_t)d);
	}
	/* A zero window accepts only the current step. */
	ck_assert_int_eq(otp_generate_factor(&t, T - 1, code, sizeof(code)), OTP_OK);
	ck_assert_int_eq(otp_verify(&t, code, 6, now, 0, 0, 0, &matched), OTP_EMISMATCH);
	/* Windows above the maximum are clamped, not honoured. */
	ck_assert_int_eq(otp_generate_factor(&t, T - OTP_WINDOW_MAX - 1, code, sizeof(code)), OTP_OK);
	ck_assert_int_eq(otp_verify(&t, code, 6, now, 1000, 0, 0, &matched), OTP_EMISMATCH);
	ck_assert_int_eq(otp_generate_factor(&t, T - OTP_WINDOW_MAX, code, sizeof(code)), OTP_OK);
	ck_assert_int_eq(otp_verify(&t, code, 6, now, 1000, 0, 0, &matched), OTP_OK);
}
END_TEST

START_TEST(totp_replay)
{
	struct otp_token t = token(OTP_TOTP, OTP_SHA1, 6, SEED20, 20);
	const int64_t now = 1700000015;
	const uint64_t T = (uint64_t)now / 30;
	char code[OTP_CODE_BUF], prev[OTP_CODE_BUF], next[OTP_CODE_BUF];
	uint64_t matched = 0, last;

	ck_assert_int_eq(otp_generate(&t, now, code, sizeof(code)), OTP_OK);
	ck_assert_int_eq(otp_verify(&t, code, 6, now, 1, 1, 0, &matched), OTP_OK);
	ck_assert_uint_eq(matched, T);
	last = matched;
	/* The same code again: replay, not invalid. */
	ck_assert_int_eq(otp_verify(&t, code, 6, now, 1, 1, last, &matched), OTP_EREPLAY);
	ck_assert_int_eq(otp_verify(&t, code, 6, now + 30, 1, 1, last, &matched), OTP_EREPLAY);
	/* An older step, still in the window, is refused too (at or below last). */
	ck_assert_int_eq(otp_generate_factor(&t, T - 1, prev, sizeof(prev)), OTP_OK);
	ck_assert_int_eq(otp_verify(&t, prev, 6, now, 1, 1, last, &matched), OTP_EREPLAY);
	/* The next step is still fresh. */
	ck_assert_int_eq(otp_generate_factor(&t, T + 1, next, sizeof(next)), OTP_OK);
	ck_assert_int_eq(otp_verify(&t, next, 6, now, 1, 1, last, &matched), OTP_OK);
	ck_assert_uint_eq(matched, T + 1);
	/* Once out of the window, an old code is plain invalid. */
	ck_assert_int_eq(otp_verify(&t, code, 6, now + 300, 1, 1, T + 1, &matched), OTP_EMISMATCH);
	/* A wrong code is invalid, never replay. */
	ck_assert_int_eq(otp_verify(&t, strcmp(code, "000000") ? "000000" : "000001", 6, now, 1, 1,
				    last, &matched), OTP_EMISMATCH);
}
END_TEST

START_TEST(hotp_lookahead_and_replay)
{
	struct otp_token t = token(OTP_HOTP, OTP_SHA1, 6, SEED20, 20);
	uint64_t matched = 0;

	t.counter = 3;
	/* Look-ahead 2: counters 3, 4, 5. */
	ck_assert_int_eq(otp_verify(&t, "338314", 6, 0, 1, 2, 0, &matched), OTP_OK); /* 4 */
	ck_assert_uint_eq(matched, 4);
	ck_assert_int_eq(otp_verify(&t, "254676", 6, 0, 1, 2, 0, &matched), OTP_OK); /* 5 */
	ck_assert_uint_eq(matched, 5);
	ck_assert_int_eq(otp_verify(&t, "287922", 6, 0, 1, 2, 0, &matched), OTP_EMISMATCH); /* 6 */
	/* The caller moves the counter past the match. */
	t.counter = 5 + 1;
	ck_assert_int_eq(otp_verify(&t, "254676", 6, 0, 1, 2, 0, &matched), OTP_EREPLAY); /* 5 */
	ck_assert_int_eq(otp_verify(&t, "338314", 6, 0, 1, 2, 0, &matched), OTP_EMISMATCH); /* 4: past the replay window */
	ck_assert_int_eq(otp_verify(&t, "338314", 6, 0, 2, 2, 0, &matched), OTP_EREPLAY);
	/* window_future 0 still looks one ahead. */
	ck_assert_int_eq(otp_verify(&t, "162583", 6, 0, 0, 0, 0, &matched), OTP_OK); /* 7 */
	ck_assert_uint_eq(matched, 7);
	ck_assert_int_eq(otp_verify(&t, "399871", 6, 0, 0, 0, 0, &matched), OTP_EMISMATCH); /* 8 */
}
END_TEST

START_TEST(malformed_codes)
{
	struct otp_token t = token(OTP_TOTP, OTP_SHA1, 6, SEED20, 20);
	const int64_t now = 59;
	char good[OTP_CODE_BUF], nul[8];
	uint64_t matched = 0;

	ck_assert_int_eq(otp_generate(&t, now, good, sizeof(good)), OTP_OK);
	ck_assert_str_eq(good, "287082");
	ck_assert_int_eq(otp_verify(&t, good, 6, now, 0, 0, 0, &matched), OTP_OK);
	ck_assert_int_eq(otp_verify(&t, "", 0, now, 0, 0, 0, &matched), OTP_EFORMAT);
	ck_assert_int_eq(otp_verify(&t, NULL, 0, now, 0, 0, 0, &matched), OTP_EFORMAT);
	ck_assert_int_eq(otp_verify(&t, "28708", 5, now, 0, 0, 0, &matched), OTP_EFORMAT);
	ck_assert_int_eq(otp_verify(&t, "2870821", 7, now, 0, 0, 0, &matched), OTP_EFORMAT);
	ck_assert_int_eq(otp_verify(&t, "28 082", 6, now, 0, 0, 0, &matched), OTP_EFORMAT);
	ck_assert_int_eq(otp_verify(&t, "287-82", 6, now, 0, 0, 0, &matched), OTP_EFORMAT);
	ck_assert_int_eq(otp_verify(&t, "+87082", 6, now, 0, 0, 0, &matched), OTP_EFORMAT);
	ck_assert_int_eq(otp_verify(&t, "28708\xd9", 6, now, 0, 0, 0, &matched), OTP_EFORMAT);
	/* Arabic-Indic digit two (U+0662) in place of '2'. */
	ck_assert_int_eq(otp_verify(&t, "\xd9\xa2" "87082", 7, now, 0, 0, 0, &matched), OTP_EFORMAT);
	/* Embedded NUL: right length, a NUL inside. */
	memcpy(nul, "287\0" "82", 7);
	ck_assert_int_eq(otp_verify(&t, nul, 6, now, 0, 0, 0, &matched), OTP_EFORMAT);
	/* The right code followed by a NUL and more: the length says 7. */
	memcpy(nul, "287082\0", 7);
	ck_assert_int_eq(otp_verify(&t, nul, 7, now, 0, 0, 0, &matched), OTP_EFORMAT);
	/* An 8-digit code against a 6-digit token. */
	ck_assert_int_eq(otp_verify(&t, "94287082", 8, now, 0, 0, 0, &matched), OTP_EFORMAT);
	/* matched is untouched by every refusal above. */
	ck_assert_uint_eq(matched, 1);
}
END_TEST

START_TEST(token_params)
{
	struct otp_token t = token(OTP_TOTP, OTP_SHA1, 6, SEED20, 20);
	char code[OTP_CODE_BUF];
	uint64_t m;

	ck_assert_int_eq(otp_token_check(&t), OTP_OK);
	t.digits = 5;
	ck_assert_int_eq(otp_token_check(&t), OTP_EINVAL);
	ck_assert_int_eq(otp_verify(&t, "12345", 5, 59, 0, 0, 0, &m), OTP_EINVAL);
	t.digits = 9;
	ck_assert_int_eq(otp_generate(&t, 59, code, sizeof(code)), OTP_EINVAL);
	t.digits = 6;
	t.step = 0;
	ck_assert_int_eq(otp_token_check(&t), OTP_EINVAL);
	t.step = 30;
	t.secret_len = 0;
	ck_assert_int_eq(otp_token_check(&t), OTP_EINVAL);
	t.secret_len = OTP_SECRET_MAX + 1;
	ck_assert_int_eq(otp_token_check(&t), OTP_EINVAL);
	t.secret_len = 20;
	t.algo = (enum otp_algo)7;
	ck_assert_int_eq(otp_token_check(&t), OTP_EINVAL);
	t.algo = OTP_SHA1;
	ck_assert_int_eq(otp_generate(&t, 59, code, 6), OTP_ERANGE); /* no room for the NUL */
	ck_assert_int_eq(otp_generate(&t, -1, code, sizeof(code)), OTP_ERANGE);
	ck_assert_int_eq(otp_verify(&t, "287082", 6, -1, 0, 0, 0, &m), OTP_ERANGE);
	ck_assert_str_eq(otp_strerror(OTP_EREPLAY), "the code was already used");
	ck_assert_str_eq(otp_strerror(OTP_EMISMATCH), "the code does not match");
}
END_TEST

START_TEST(base32_roundtrip)
{
	uint8_t data[OTP_SECRET_MAX], back[OTP_SECRET_MAX];
	char text[128];
	size_t len, n;
	unsigned seed = 7;

	/* RFC 4648 section 10 vectors (padding dropped). */
	ck_assert_int_eq(otp_base32_encode((const uint8_t *)"foobar", 6, text, sizeof(text)), OTP_OK);
	ck_assert_str_eq(text, "MZXW6YTBOI");
	ck_assert_int_eq(otp_base32_encode((const uint8_t *)"f", 1, text, sizeof(text)), OTP_OK);
	ck_assert_str_eq(text, "MY");
	ck_assert_int_eq(otp_base32_encode((const uint8_t *)"fo", 2, text, 4), OTP_ERANGE);
	ck_assert_int_eq(otp_base32_decode("mzxw 6ytb-oi======", back, sizeof(back), &n), OTP_OK);
	ck_assert_uint_eq(n, 6);
	ck_assert_mem_eq(back, "foobar", 6);
	ck_assert_int_eq(otp_base32_decode("MZXW1", back, sizeof(back), &n), OTP_EINVAL);
	ck_assert_int_eq(otp_base32_decode("MZ", back, sizeof(back), &n), OTP_EINVAL); /* stray bits */
	ck_assert_int_eq(otp_base32_decode("MZXW6YTBOI", back, 5, &n), OTP_ERANGE);
	for (len = 1; len <= OTP_SECRET_MAX; len++) {
		random_bytes(data, len, &seed);
		ck_assert_int_eq(otp_base32_encode(data, len, text, sizeof(text)), OTP_OK);
		ck_assert_uint_eq(strlen(text), (len * 8 + 4) / 5);
		ck_assert_int_eq(otp_base32_decode(text, back, sizeof(back), &n), OTP_OK);
		ck_assert_uint_eq(n, len);
		ck_assert_mem_eq(back, data, len);
	}
}
END_TEST

START_TEST(uri_format)
{
	struct otp_token t = token(OTP_TOTP, OTP_SHA256, 8, "12345678901234567890", 20);
	char uri[512];

	ck_assert_int_eq(otp_uri(&t, "alice@example.org", "Ministère IT", uri, sizeof(uri)), OTP_OK);
	ck_assert_str_eq(uri, "otpauth://totp/Minist%C3%A8re%20IT:alice%40example.org"
			      "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Minist%C3%A8re%20IT"
			      "&algorithm=SHA256&digits=8&period=30");
	t.kind = OTP_HOTP;
	t.algo = OTP_SHA1;
	t.digits = 6;
	t.counter = 42;
	ck_assert_int_eq(otp_uri(&t, "a/b?c&d=e", NULL, uri, sizeof(uri)), OTP_OK);
	ck_assert_str_eq(uri, "otpauth://hotp/a%2Fb%3Fc%26d%3De?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
			      "&algorithm=SHA1&digits=6&counter=42");
	/* Too small: refused and the partial URI (with the secret) wiped. */
	ck_assert_int_eq(otp_uri(&t, "alice", "x", uri, 40), OTP_ERANGE);
	ck_assert_str_eq(uri, "");
}
END_TEST

static Suite *otp_suite(void)
{
	Suite *s = suite_create("otp");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, hotp_rfc4226_vectors);
	tcase_add_loop_test(tc, totp_rfc6238_vectors, 0, (int)(sizeof(rfc6238) / sizeof(rfc6238[0])));
	tcase_add_test(tc, cross_check_oathtool);
	tcase_add_test(tc, totp_window_edges);
	tcase_add_test(tc, totp_replay);
	tcase_add_test(tc, hotp_lookahead_and_replay);
	tcase_add_test(tc, malformed_codes);
	tcase_add_test(tc, token_params);
	tcase_add_test(tc, base32_roundtrip);
	tcase_add_test(tc, uri_format);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(otp_suite)
