/* test_sig.c - policy signatures (lib/sig.h): keygen files and modes, the
 * sign/verify round trip, every reason a verification fails, the strict
 * .sig and .pub parsers, and sign's merging into an existing .sig. Keys are
 * made fresh in a temporary directory for each test. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"
#include "sig.h"
#include "trust.h"

#define POLICY "serial = 7;\nrules = ( { name = \"d\"; action = \"deny\"; } );\n"
#define NKEYS 3

struct fixture {
	char dir[64];
	char key[NKEYS][96]; /* DIR/kN.key */
	struct sig_pubkey pub[NKEYS];
};

static struct fixture fx;

static void setup(void)
{
	strcpy(fx.dir, "/tmp/garde-sig-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx.dir));
	for (int i = 0; i < NKEYS; i++) {
		char prefix[80], pubpath[96], id[SIG_KEYID_LEN + 1];
		int terr;

		snprintf(prefix, sizeof(prefix), "%s/k%d", fx.dir, i);
		ck_assert_int_eq(sig_keygen(prefix, id), SIG_OK);
		snprintf(fx.key[i], sizeof(fx.key[i]), "%s.key", prefix);
		snprintf(pubpath, sizeof(pubpath), "%s.pub", prefix);
		ck_assert_int_eq(sig_pubkey_load(pubpath, &fx.pub[i], &terr), SIG_OK);
		ck_assert_str_eq(fx.pub[i].id, id);
	}
}

static void teardown(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Signs POLICY (or data) with key i into a fresh or an existing text. */
static char *sign_with(int i, const char *data, const char *old, size_t *len)
{
	struct sig_sign_info info;
	char *out = NULL;

	ck_assert_int_eq(sig_sign(fx.key[i], (const uint8_t *)data, strlen(data), old,
				  old ? strlen(old) : 0, &out, len, &info),
			 SIG_OK);
	ck_assert_str_eq(info.id, fx.pub[i].id);
	ck_assert_uint_eq(strlen(out), *len);
	return out;
}

static int verify(const char *data, const char *sig, const struct sig_pubkey *keys, size_t n,
		  unsigned threshold, struct sig_result *res)
{
	return sig_verify((const uint8_t *)data, strlen(data), sig, strlen(sig), keys, n,
			  threshold, res);
}

START_TEST(test_round_trip)
{
	struct sig_result res;
	size_t len;
	char *sig = sign_with(0, POLICY, NULL, &len);
	char why[256];

	ck_assert_int_eq(strncmp(sig, SIG_HEADER "\ned25519 ", 26), 0);
	ck_assert_int_eq(verify(POLICY, sig, fx.pub, NKEYS, 1, &res), SIG_OK);
	ck_assert_uint_eq(res.n_valid, 1);
	ck_assert_uint_eq(res.n_lines, 1);
	ck_assert_str_eq(res.valid_ids[0], fx.pub[0].id);
	sig_result_describe(&res, 1, why, sizeof(why));
	ck_assert_ptr_nonnull(strstr(why, "good signature by key "));
	ck_assert_ptr_nonnull(strstr(why, fx.pub[0].id));
	free(sig);

	/* An empty policy is still a byte string that can be signed. */
	sig = sign_with(1, "", NULL, &len);
	ck_assert_int_eq(verify("", sig, fx.pub, NKEYS, 1, &res), SIG_OK);
	free(sig);
}
END_TEST

START_TEST(test_flipped_policy_byte)
{
	struct sig_result res;
	size_t len;
	char *sig = sign_with(0, POLICY, NULL, &len);
	char data[] = POLICY;

	data[9] ^= 1; /* "serial = 7" -> "serial = 6" */
	ck_assert_int_eq(verify(data, sig, fx.pub, NKEYS, 1, &res), SIG_EBADSIG);
	ck_assert_uint_eq(res.line, 2);
	ck_assert_str_eq(res.bad_id, fx.pub[0].id);
	ck_assert_uint_eq(res.n_valid, 0);
	/* One byte more or less, too. */
	ck_assert_int_eq(verify(POLICY "\n", sig, fx.pub, NKEYS, 1, &res), SIG_EBADSIG);
	free(sig);
}
END_TEST

START_TEST(test_flipped_signature_byte)
{
	struct sig_result res;
	size_t len;
	char *sig = sign_with(0, POLICY, NULL, &len);
	char *b64 = sig + strlen(SIG_HEADER "\ned25519 ") + SIG_KEYID_LEN + 1;

	/* A character in the middle: still canonical base64, other bytes. */
	b64[20] = b64[20] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(verify(POLICY, sig, fx.pub, NKEYS, 1, &res), SIG_EBADSIG);
	ck_assert_str_eq(res.bad_id, fx.pub[0].id);
	free(sig);
}
END_TEST

START_TEST(test_truncated)
{
	struct sig_result res;
	size_t len;
	char *sig = sign_with(0, POLICY, NULL, &len);

	for (size_t cut = 1; cut < len; cut++) {
		int rv = sig_verify((const uint8_t *)POLICY, strlen(POLICY), sig, len - cut,
				    fx.pub, NKEYS, 1, &res);
		ck_assert_msg(rv == SIG_EFORMAT, "cut %zu: %d", cut, rv);
	}
	/* Cut right after the header: a well-formed header, no signature. */
	ck_assert_int_eq(sig_verify((const uint8_t *)POLICY, strlen(POLICY), sig,
				    strlen(SIG_HEADER) + 1, fx.pub, NKEYS, 1, &res),
			 SIG_EFORMAT);
	ck_assert_str_eq(res.detail, "no signature line");
	free(sig);
}
END_TEST

START_TEST(test_wrong_key)
{
	struct sig_result res;
	struct sig_pubkey impostor = fx.pub[1];
	size_t len;
	char *sig = sign_with(0, POLICY, NULL, &len);

	/* Another trusted key: its id is not on the line. */
	ck_assert_int_eq(verify(POLICY, sig, &fx.pub[1], 1, 1, &res), SIG_EUNKNOWNKEY);
	ck_assert_uint_eq(res.n_unknown, 1);
	/* Another key under the signer's id: tried, and it fails. */
	memcpy(impostor.id, fx.pub[0].id, sizeof(impostor.id));
	ck_assert_int_eq(verify(POLICY, sig, &impostor, 1, 1, &res), SIG_EBADSIG);
	/* ... but the right key listed after it still verifies the line. */
	{
		struct sig_pubkey both[2] = { impostor, fx.pub[0] };
		ck_assert_int_eq(verify(POLICY, sig, both, 2, 1, &res), SIG_OK);
		ck_assert_uint_eq(res.n_valid, 1);
	}
	free(sig);
}
END_TEST

START_TEST(test_unknown_key_id)
{
	struct sig_result res;
	size_t len;
	char *sig = sign_with(2, POLICY, NULL, &len);
	char *two;

	ck_assert_int_eq(verify(POLICY, sig, fx.pub, 2, 1, &res), SIG_EUNKNOWNKEY);
	ck_assert_uint_eq(res.n_unknown, 1);
	ck_assert_uint_eq(res.n_valid, 0);
	ck_assert_int_eq(verify(POLICY, sig, fx.pub, 0, 1, &res), SIG_EUNKNOWNKEY);
	/* An unknown signer next to a trusted one is skipped. */
	two = sign_with(0, POLICY, sig, &len);
	ck_assert_int_eq(verify(POLICY, two, fx.pub, 2, 1, &res), SIG_OK);
	ck_assert_uint_eq(res.n_unknown, 1);
	ck_assert_uint_eq(res.n_valid, 1);
	free(sig);
	free(two);
}
END_TEST

START_TEST(test_threshold)
{
	struct sig_result res;
	size_t len;
	char *one = sign_with(0, POLICY, NULL, &len);
	char *two = sign_with(1, POLICY, one, &len);
	char why[256];

	ck_assert_int_eq(verify(POLICY, one, fx.pub, NKEYS, 2, &res), SIG_ETHRESHOLD);
	ck_assert_uint_eq(res.n_valid, 1);
	sig_result_describe(&res, 2, why, sizeof(why));
	ck_assert_ptr_nonnull(strstr(why, "2 required"));
	ck_assert_int_eq(verify(POLICY, two, fx.pub, NKEYS, 2, &res), SIG_OK);
	ck_assert_uint_eq(res.n_valid, 2);
	ck_assert_str_eq(res.valid_ids[0], fx.pub[0].id);
	ck_assert_str_eq(res.valid_ids[1], fx.pub[1].id);
	ck_assert_int_eq(verify(POLICY, two, fx.pub, NKEYS, 3, &res), SIG_ETHRESHOLD);
	ck_assert_int_eq(verify(POLICY, two, fx.pub, NKEYS, 0, &res), SIG_EINVAL);
	free(one);
	free(two);
}
END_TEST

START_TEST(test_same_key_counted_once)
{
	struct sig_result res;
	struct sig_pubkey twice[2] = { fx.pub[0], fx.pub[0] };
	size_t len;
	char *sig = sign_with(0, POLICY, NULL, &len);
	char doubled[2 * SIG_MAX_BYTES];
	const char *line = strchr(sig, '\n') + 1;

	/* The same line twice in the .sig. */
	snprintf(doubled, sizeof(doubled), "%s%s", sig, line);
	ck_assert_int_eq(verify(POLICY, doubled, fx.pub, NKEYS, 1, &res), SIG_OK);
	ck_assert_uint_eq(res.n_lines, 2);
	ck_assert_uint_eq(res.n_valid, 1);
	ck_assert_int_eq(verify(POLICY, doubled, fx.pub, NKEYS, 2, &res), SIG_ETHRESHOLD);
	/* The same key twice among the trusted keys. */
	ck_assert_int_eq(verify(POLICY, sig, twice, 2, 2, &res), SIG_ETHRESHOLD);
	ck_assert_int_eq(verify(POLICY, doubled, twice, 2, 2, &res), SIG_ETHRESHOLD);
	ck_assert_uint_eq(res.n_valid, 1);
	free(sig);
}
END_TEST

#define ID "0123456789abcdef"
#define S64 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
#define GOOD "ed25519 " ID " " S64 "\n"

START_TEST(test_malformed)
{
	static const struct {
		const char *text;
		size_t line;
	} cases[] = {
		{ "", 0 },
		{ GOOD, 1 },                                   /* no header */
		{ "garde-signature 2\n" GOOD, 1 },             /* unknown version */
		{ "garde-signature 1 \n" GOOD, 1 },            /* trailing space */
		{ "garde-signature 1\r\n" GOOD, 1 },           /* CRLF */
		{ SIG_HEADER "\n", 2 },                        /* no signature line */
		{ SIG_HEADER "\n\n" GOOD, 2 },                 /* blank line */
		{ SIG_HEADER "\n" GOOD "\n", 3 },              /* blank line at the end */
		{ SIG_HEADER "\n" GOOD "# c\n", 3 },           /* a comment */
		{ SIG_HEADER "\n" GOOD GOOD "ed25519\n", 4 },  /* cut line */
		{ SIG_HEADER "\ned448 " ID " " S64 "\n", 2 },  /* other algorithm */
		{ SIG_HEADER "\ned25519  " ID " " S64 "\n", 2 }, /* two spaces */
		{ SIG_HEADER "\ned25519 0123456789ABCDEF " S64 "\n", 2 }, /* upper case id */
		{ SIG_HEADER "\ned25519 0123456789abcdeg " S64 "\n", 2 }, /* not hex */
		{ SIG_HEADER "\ned25519 0123456789abcde " S64 "A\n", 2 }, /* short id */
		{ SIG_HEADER "\ned25519 " ID " " S64 " \n", 2 },  /* trailing space */
		{ SIG_HEADER "\ned25519 " ID " " S64 "\r\n", 2 }, /* CR */
		{ SIG_HEADER "\n" GOOD "ed25519 " ID " " S64, 0 }, /* no final newline */
	};
	struct sig_result res;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rv = verify(POLICY, cases[i].text, fx.pub, NKEYS, 1, &res);
		ck_assert_msg(rv == SIG_EFORMAT, "case %zu: %d", i, rv);
		ck_assert_msg(res.line == cases[i].line, "case %zu: line %zu, want %zu", i, res.line,
			      cases[i].line);
		ck_assert_ptr_nonnull(res.detail);
	}
	/* base64 of the right length but not canonical: a bad character, no
	 * padding, padding inside, the bits past the 64th byte set. */
	{
		static const struct {
			size_t at;
			const char *with;
		} b64[] = { { 0, "*" }, { 40, "-" }, { 86, "AA" }, { 85, "=A=" }, { 85, "B" },
			    { 84, "=" }, { 87, "A" } };
		char text[256];
		size_t off = strlen(SIG_HEADER "\ned25519 " ID " ");

		ck_assert_uint_eq(strlen(S64), 88);
		for (size_t i = 0; i < sizeof(b64) / sizeof(b64[0]); i++) {
			int rv;

			snprintf(text, sizeof(text), "%s", SIG_HEADER "\n" GOOD);
			memcpy(text + off + b64[i].at, b64[i].with, strlen(b64[i].with));
			rv = verify(POLICY, text, fx.pub, NKEYS, 1, &res);
			ck_assert_msg(rv == SIG_EFORMAT, "base64 case %zu: %d", i, rv);
			ck_assert_str_eq(res.detail, "the signature is not 64 bytes in base64");
		}
	}
	/* The well-formed template itself parses (and is an unknown key). */
	ck_assert_int_eq(verify(POLICY, SIG_HEADER "\n" GOOD, fx.pub, NKEYS, 1, &res),
			 SIG_EUNKNOWNKEY);
	/* An embedded NUL, which strlen-based callers would never see. */
	{
		static const char nul[] = SIG_HEADER "\n" GOOD "\0" GOOD;
		ck_assert_int_eq(sig_verify((const uint8_t *)POLICY, strlen(POLICY), nul,
					    sizeof(nul) - 1, fx.pub, NKEYS, 1, &res),
				 SIG_EFORMAT);
	}
}
END_TEST

START_TEST(test_limits)
{
	char text[SIG_MAX_BYTES * 2];
	struct sig_result res;
	size_t o;

	/* 16 signature lines is the most. */
	o = (size_t)snprintf(text, sizeof(text), "%s\n", SIG_HEADER);
	for (int i = 0; i < SIG_MAX_LINES; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s", GOOD);
	ck_assert_int_eq(verify(POLICY, text, fx.pub, NKEYS, 1, &res), SIG_EUNKNOWNKEY);
	ck_assert_uint_eq(res.n_lines, SIG_MAX_LINES);
	snprintf(text + o, sizeof(text) - o, "%s", GOOD);
	ck_assert_int_eq(verify(POLICY, text, fx.pub, NKEYS, 1, &res), SIG_EFORMAT);
	ck_assert_uint_eq(res.line, SIG_MAX_LINES + 2);

	/* Over 4 KiB, whatever it holds. */
	memset(text, 'A', SIG_MAX_BYTES + 1);
	text[SIG_MAX_BYTES] = '\n';
	text[SIG_MAX_BYTES + 1] = '\0';
	ck_assert_int_eq(verify(POLICY, text, fx.pub, NKEYS, 1, &res), SIG_EFORMAT);
	ck_assert_str_eq(res.detail, "over 4096 bytes");
}
END_TEST

START_TEST(test_pubkey_parse)
{
	struct sig_pubkey k;
	char line[SIG_PUB_MAX_BYTES], bad[SIG_PUB_MAX_BYTES];
	size_t n;

	ck_assert_int_eq(sig_pubkey_format(&fx.pub[0], line, sizeof(line)), SIG_OK);
	n = strlen(line);
	ck_assert_int_eq(sig_pubkey_parse(line, n, &k), SIG_OK);
	ck_assert_mem_eq(k.raw, fx.pub[0].raw, SIG_RAW_PUBKEY_LEN);
	ck_assert_str_eq(k.id, fx.pub[0].id);
	/* Without the newline, with more after it, with a CR. */
	ck_assert_int_eq(sig_pubkey_parse(line, n - 1, &k), SIG_EKEY);
	snprintf(bad, sizeof(bad), "%s#", line);
	ck_assert_int_eq(sig_pubkey_parse(bad, n + 1, &k), SIG_EKEY);
	snprintf(bad, sizeof(bad), "%s", line);
	bad[n - 1] = '\r';
	ck_assert_int_eq(sig_pubkey_parse(bad, n, &k), SIG_EKEY);
	/* An id that is not this key's. */
	snprintf(bad, sizeof(bad), "%s", line);
	bad[strlen(SIG_PUB_TAG) + 1] = bad[strlen(SIG_PUB_TAG) + 1] == '0' ? '1' : '0';
	ck_assert_int_eq(sig_pubkey_parse(bad, n, &k), SIG_EKEY);
	/* Another tag. */
	snprintf(bad, sizeof(bad), "%s", line);
	bad[0] = 'G';
	ck_assert_int_eq(sig_pubkey_parse(bad, n, &k), SIG_EKEY);
}
END_TEST

START_TEST(test_pubkey_trust)
{
	char path[96], link[96];
	struct sig_pubkey k;
	int terr;

	snprintf(path, sizeof(path), "%s/k0.pub", fx.dir);
	ck_assert_int_eq(chmod(path, 0664), 0);
	ck_assert_int_eq(sig_pubkey_load(path, &k, &terr), SIG_ETRUST);
	ck_assert_int_eq(terr, TRUST_EMODE);
	ck_assert_int_eq(chmod(path, 0644), 0);
	snprintf(link, sizeof(link), "%s/link.pub", fx.dir);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(sig_pubkey_load(link, &k, &terr), SIG_ETRUST);
	ck_assert_int_eq(terr, TRUST_ESYMLINK);
	snprintf(path, sizeof(path), "%s/none.pub", fx.dir);
	ck_assert_int_eq(sig_pubkey_load(path, &k, &terr), SIG_ETRUST);
	ck_assert_int_eq(terr, TRUST_ENOENT);
	/* A private key is no public key. */
	ck_assert_int_eq(sig_pubkey_load(fx.key[0], &k, &terr), SIG_EKEY);
}
END_TEST

START_TEST(test_keygen_files)
{
	char prefix[80], path[96], id[SIG_KEYID_LEN + 1];
	struct stat st, again;

	snprintf(path, sizeof(path), "%s/k0.key", fx.dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	snprintf(path, sizeof(path), "%s/k0.pub", fx.dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);

	/* Never overwritten, and a half-claimed prefix leaves nothing behind. */
	snprintf(prefix, sizeof(prefix), "%s/k0", fx.dir);
	snprintf(path, sizeof(path), "%s/k0.key", fx.dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(sig_keygen(prefix, id), SIG_EEXIST);
	ck_assert_int_eq(stat(path, &again), 0);
	ck_assert_int_eq(st.st_mtim.tv_nsec, again.st_mtim.tv_nsec);
	ck_assert_int_eq(st.st_ino, again.st_ino);
	snprintf(prefix, sizeof(prefix), "%s/half", fx.dir);
	snprintf(path, sizeof(path), "%s/half.pub", fx.dir);
	close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0644));
	ck_assert_int_eq(sig_keygen(prefix, id), SIG_EEXIST);
	snprintf(path, sizeof(path), "%s/half.key", fx.dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(sig_keygen("", id), SIG_EINVAL);
}
END_TEST

START_TEST(test_sign_merge)
{
	struct sig_sign_info info;
	size_t len;
	char *one = sign_with(0, POLICY, NULL, &len);
	char *out = NULL;
	char full[SIG_MAX_BYTES];
	size_t o;

	/* The same key again: nothing to add. */
	ck_assert_int_eq(sig_sign(fx.key[0], (const uint8_t *)POLICY, strlen(POLICY), one,
				  strlen(one), &out, &len, &info),
			 SIG_OK);
	ck_assert(info.already);
	ck_assert_str_eq(out, one);
	free(out);
	/* The policy changed: this key's old line is stale. */
	ck_assert_int_eq(sig_sign(fx.key[0], (const uint8_t *)"serial = 8;\n", 12, one,
				  strlen(one), &out, &len, &info),
			 SIG_ESTALE);
	ck_assert_uint_eq(info.line, 2);
	ck_assert_ptr_null(out);
	/* A malformed existing .sig is not merged into. */
	ck_assert_int_eq(sig_sign(fx.key[1], (const uint8_t *)POLICY, strlen(POLICY), one,
				  strlen(one) - 1, &out, &len, &info),
			 SIG_EFORMAT);
	/* A full one neither. */
	o = (size_t)snprintf(full, sizeof(full), "%s\n", SIG_HEADER);
	for (int i = 0; i < SIG_MAX_LINES; i++)
		o += (size_t)snprintf(full + o, sizeof(full) - o, "%s", GOOD);
	ck_assert_int_eq(sig_sign(fx.key[1], (const uint8_t *)POLICY, strlen(POLICY), full, o,
				  &out, &len, &info),
			 SIG_EFORMAT);
	free(one);
}
END_TEST

START_TEST(test_sign_key_refused)
{
	struct sig_sign_info info;
	char *out = NULL;
	size_t len;
	char path[96];
	int fd;

	ck_assert_int_eq(chmod(fx.key[0], 0640), 0);
	ck_assert_int_eq(sig_sign(fx.key[0], (const uint8_t *)POLICY, strlen(POLICY), NULL, 0,
				  &out, &len, &info),
			 SIG_ETRUST);
	ck_assert_ptr_nonnull(info.detail);
	/* A public key, or garbage, in place of the private key. */
	snprintf(path, sizeof(path), "%s/k0.pub", fx.dir);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(sig_sign(path, (const uint8_t *)POLICY, strlen(POLICY), NULL, 0, &out,
				  &len, &info),
			 SIG_EKEY);
	snprintf(path, sizeof(path), "%s/none.key", fx.dir);
	ck_assert_int_eq(sig_sign(path, (const uint8_t *)POLICY, strlen(POLICY), NULL, 0, &out,
				  &len, &info),
			 SIG_ETRUST);
	ck_assert_int_eq(info.trust_err, TRUST_ENOENT);
	snprintf(path, sizeof(path), "%s/junk.key", fx.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "-----BEGIN PRIVATE KEY-----\n", 28), 28);
	close(fd);
	ck_assert_int_eq(sig_sign(path, (const uint8_t *)POLICY, strlen(POLICY), NULL, 0, &out,
				  &len, &info),
			 SIG_EKEY);
	ck_assert_ptr_null(out);
}
END_TEST

static Suite *sig_suite(void)
{
	Suite *s = suite_create("sig");
	TCase *tc = tcase_create("sig");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_flipped_policy_byte);
	tcase_add_test(tc, test_flipped_signature_byte);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_test(tc, test_unknown_key_id);
	tcase_add_test(tc, test_threshold);
	tcase_add_test(tc, test_same_key_counted_once);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_pubkey_parse);
	tcase_add_test(tc, test_pubkey_trust);
	tcase_add_test(tc, test_keygen_files);
	tcase_add_test(tc, test_sign_merge);
	tcase_add_test(tc, test_sign_key_refused);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(sig_suite)
