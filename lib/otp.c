/* otp.c - TOTP/HOTP on liboath (see otp.h). */
#include "otp.h"

#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Candidates one verification may generate: the largest window either side
 * plus the current step (TOTP), or replay counters plus look-ahead (HOTP). */
#define OTP_MAX_CANDIDATES (2 * OTP_WINDOW_MAX + 1)

const char *otp_strerror(int err)
{
	switch (err) {
	case OTP_OK: return "ok";
	case OTP_EINVAL: return "invalid token parameters";
	case OTP_EFORMAT: return "the code is not the expected number of digits";
	case OTP_EMISMATCH: return "the code does not match";
	case OTP_EREPLAY: return "the code was already used";
	case OTP_ECRYPTO: return "one-time password computation failed";
	case OTP_ERANGE: return "value out of range";
	default: return "unknown one-time password error";
	}
}

const char *otp_kind_name(enum otp_kind kind)
{
	return kind == OTP_HOTP ? "hotp" : "totp";
}

const char *otp_algo_name(enum otp_algo algo)
{
	switch (algo) {
	case OTP_SHA256: return "sha256";
	case OTP_SHA512: return "sha512";
	default: return "sha1";
	}
}

int otp_kind_parse(const char *text, enum otp_kind *out)
{
	if (strcmp(text, "totp") == 0)
		*out = OTP_TOTP;
	else if (strcmp(text, "hotp") == 0)
		*out = OTP_HOTP;
	else
		return OTP_EINVAL;
	return OTP_OK;
}

int otp_algo_parse(const char *text, enum otp_algo *out)
{
	if (strcmp(text, "sha1") == 0)
		*out = OTP_SHA1;
	else if (strcmp(text, "sha256") == 0)
		*out = OTP_SHA256;
	else if (strcmp(text, "sha512") == 0)
		*out = OTP_SHA512;
	else
		return OTP_EINVAL;
	return OTP_OK;
}

int otp_token_check(const struct otp_token *tok)
{
	if (tok == NULL)
		return OTP_EINVAL;
	if (tok->kind != OTP_TOTP && tok->kind != OTP_HOTP)
		return OTP_EINVAL;
	if (tok->algo != OTP_SHA1 && tok->algo != OTP_SHA256 && tok->algo != OTP_SHA512)
		return OTP_EINVAL;
	if (tok->digits < OTP_DIGITS_MIN || tok->digits > OTP_DIGITS_MAX)
		return OTP_EINVAL;
	if (tok->kind == OTP_TOTP && (tok->step < 1 || tok->step > OTP_STEP_MAX))
		return OTP_EINVAL;
	if (tok->secret_len < 1 || tok->secret_len > OTP_SECRET_MAX)
		return OTP_EINVAL;
	return OTP_OK;
}

void otp_token_wipe(struct otp_token *tok)
{
	if (tok != NULL)
		OPENSSL_cleanse(tok, sizeof(*tok));
}

/* liboath's oath_init() only initialises its crypto backend. The Debian
 * build (2.6.7) uses gnulib's built-in hashes, where it is a no-op that
 * keeps no state; a build on libgcrypt runs gcry_check_version(), which is
 * idempotent. So calling it before each use is safe and costs a call, and
 * we never call oath_done(): other code in the host process (pam_oath in the
 * same sshd) may be using the library. */
static int otp_lib_ready(void)
{
	return oath_init() == OATH_OK ? OTP_OK : OTP_ECRYPTO;
}

/* Every code, HOTP or TOTP, is HOTP over a moving factor. liboath's
 * oath_hotp_generate only knows SHA-1, so the factor goes through
 * oath_totp_generate2 with a 1-second step and a zero offset, where the
 * "time" is the factor itself. */
static int otp_code(const struct otp_token *tok, uint64_t factor, char out[OTP_CODE_BUF])
{
	int flags = 0;

	if (factor > (uint64_t)INT64_MAX)
		return OTP_ERANGE;
	if (tok->algo == OTP_SHA256)
		flags = OATH_TOTP_HMAC_SHA256;
	else if (tok->algo == OTP_SHA512)
		flags = OATH_TOTP_HMAC_SHA512;
	if (oath_totp_generate2((const char *)tok->secret, tok->secret_len, (time_t)factor, 1, 0,
				tok->digits, flags, out) != OATH_OK)
		return OTP_ECRYPTO;
	return OTP_OK;
}

int otp_generate_factor(const struct otp_token *tok, uint64_t factor, char *out, size_t outlen)
{
	char code[OTP_CODE_BUF];
	int rv = otp_token_check(tok);

	if (rv != OTP_OK)
		goto out;
	if (out == NULL || outlen < (size_t)tok->digits + 1) {
		rv = OTP_ERANGE;
		goto out;
	}
	rv = otp_lib_ready();
	if (rv != OTP_OK)
		goto out;
	rv = otp_code(tok, factor, code);
	if (rv != OTP_OK)
		goto out;
	memcpy(out, code, (size_t)tok->digits + 1);
out:
	OPENSSL_cleanse(code, sizeof(code));
	return rv;
}

int otp_generate(const struct otp_token *tok, int64_t now, char *out, size_t outlen)
{
	int rv = otp_token_check(tok);

	if (rv != OTP_OK)
		return rv;
	if (tok->kind == OTP_HOTP)
		return otp_generate_factor(tok, tok->counter, out, outlen);
	if (now < 0)
		return OTP_ERANGE;
	return otp_generate_factor(tok, (uint64_t)now / tok->step, out, outlen);
}

/* Exactly `digits` bytes, each '0'..'9'. Checked before any comparison so
 * that malformed input never reaches the crypto and never counts as a
 * near-miss. */
static bool otp_code_wellformed(const char *code, size_t code_len, unsigned digits)
{
	size_t i;

	if (code == NULL || code_len != digits)
		return false;
	for (i = 0; i < code_len; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

/* 1 when CRYPTO_memcmp said equal (0), else 0, without a branch. */
static uint64_t otp_eq_bit(int cmp)
{
	uint32_t c = (uint32_t)cmp;

	/* c | -c has its top bit set exactly when c != 0. */
	return (uint64_t)(1u ^ ((c | (0u - c)) >> 31));
}

struct otp_candidate {
	uint64_t factor;
	uint64_t fresh; /* 1: never used (may be accepted); 0: already used (replay) */
};

/* Compares code with every candidate and folds the results without
 * branching on the comparison: the lowest fresh match wins. */
static int otp_match(const struct otp_token *tok, const char *code, const struct otp_candidate *cand,
		     size_t n, uint64_t *matched)
{
	char expect[OTP_CODE_BUF];
	uint64_t found = 0, replay = 0, pick = 0;
	size_t i;
	int rv = OTP_OK;

	for (i = 0; i < n; i++) {
		uint64_t eq, take;

		rv = otp_code(tok, cand[i].factor, expect);
		if (rv != OTP_OK)
			goto out;
		eq = otp_eq_bit(CRYPTO_memcmp(expect, code, tok->digits));
		take = eq & cand[i].fresh & (found ^ 1);
		pick = (pick & (take - 1)) | (cand[i].factor & (0 - take));
		found |= take;
		replay |= eq & (cand[i].fresh ^ 1);
	}
	if (found) {
		*matched = pick;
		rv = OTP_OK;
	} else {
		rv = replay ? OTP_EREPLAY : OTP_EMISMATCH;
	}
out:
	OPENSSL_cleanse(expect, sizeof(expect));
	return rv;
}

int otp_verify(const struct otp_token *tok, const char *code, size_t code_len, int64_t now,
	       unsigned window_past, unsigned window_future, uint64_t last, uint64_t *matched)
{
	struct otp_candidate cand[OTP_MAX_CANDIDATES];
	uint64_t first, base, f;
	size_t n = 0;
	int rv = otp_token_check(tok);

	if (rv != OTP_OK)
		return rv;
	if (matched == NULL)
		return OTP_EINVAL;
	if (!otp_code_wellformed(code, code_len, tok->digits))
		return OTP_EFORMAT;
	rv = otp_lib_ready();
	if (rv != OTP_OK)
		return rv;
	if (window_past > OTP_WINDOW_MAX)
		window_past = OTP_WINDOW_MAX;
	if (window_future > OTP_WINDOW_MAX)
		window_future = OTP_WINDOW_MAX;

	if (tok->kind == OTP_TOTP) {
		if (now < 0)
			return OTP_ERANGE;
		base = (uint64_t)now / tok->step;
		first = base >= window_past ? base - window_past : 0;
		for (f = first; f <= base + window_future; f++) {
			cand[n].factor = f;
			cand[n].fresh = f > last;
			n++;
		}
	} else {
		if (window_future < 1)
			window_future = 1;
		base = tok->counter;
		if (base > (uint64_t)INT64_MAX - OTP_WINDOW_MAX)
			return OTP_ERANGE;
		first = base >= window_past ? base - window_past : 0;
		for (f = first; f <= base + window_future; f++) {
			cand[n].factor = f;
			cand[n].fresh = f >= base;
			n++;
		}
	}
	return otp_match(tok, code, cand, n, matched);
}

static const char otp_b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int otp_base32_encode(const uint8_t *data, size_t len, char *out, size_t outlen)
{
	size_t need = (len * 8 + 4) / 5, o = 0, i;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (out == NULL || outlen < need + 1)
		return OTP_ERANGE;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = otp_b32_alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = otp_b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return OTP_OK;
}

static int otp_b32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int otp_base32_decode(const char *text, uint8_t *out, size_t outcap, size_t *outlen)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	bool padding = false;
	int rv = OTP_EINVAL;

	if (text == NULL || out == NULL || outlen == NULL)
		return OTP_EINVAL;
	for (; *text != '\0'; text++) {
		int v;

		if (*text == ' ' || *text == '-')
			continue;
		if (*text == '=') {
			padding = true;
			continue;
		}
		v = otp_b32_value(*text);
		if (v < 0 || padding)
			goto out;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o == outcap) {
				rv = OTP_ERANGE;
				goto out;
			}
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* Leftover bits must be zero padding of the last byte (fewer than 5):
	 * anything else is a truncated or mistyped secret. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		goto out;
	*outlen = o;
	rv = OTP_OK;
out:
	acc = 0;
	OPENSSL_cleanse(&acc, sizeof(acc));
	if (rv != OTP_OK)
		OPENSSL_cleanse(out, outcap);
	return rv;
}

/* Appends text to out at *pos, percent-encoding all but RFC 3986
 * unreserved characters when escape is set. */
static int otp_put(char *out, size_t outlen, size_t *pos, const char *text, bool escape)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *text != '\0'; text++) {
		unsigned char c = (unsigned char)*text;
		bool plain = !escape || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';

		if (*pos + (plain ? 1 : 3) >= outlen)
			return OTP_ERANGE;
		if (plain) {
			out[(*pos)++] = (char)c;
		} else {
			out[(*pos)++] = '%';
			out[(*pos)++] = hex[c >> 4];
			out[(*pos)++] = hex[c & 15];
		}
	}
	out[*pos] = '\0';
	return OTP_OK;
}

static const char *otp_algo_upper(enum otp_algo algo)
{
	switch (algo) {
	case OTP_SHA256: return "SHA256";
	case OTP_SHA512: return "SHA512";
	default: return "SHA1";
	}
}

int otp_uri(const struct otp_token *tok, const char *user, const char *issuer, char *out,
	    size_t outlen)
{
	char b32[(OTP_SECRET_MAX * 8 + 4) / 5 + 1];
	char num[48];
	size_t pos = 0;
	bool has_issuer = issuer != NULL && issuer[0] != '\0';
	int rv = otp_token_check(tok);

	if (rv != OTP_OK)
		goto out;
	rv = OTP_EINVAL;
	if (user == NULL || out == NULL || outlen == 0)
		goto out;
	out[0] = '\0';
	rv = otp_base32_encode(tok->secret, tok->secret_len, b32, sizeof(b32));
	if (rv != OTP_OK)
		goto out;
	if ((rv = otp_put(out, outlen, &pos, tok->kind == OTP_HOTP ? "otpauth://hotp/" : "otpauth://totp/", false)) != OTP_OK)
		goto out;
	if (has_issuer) {
		if ((rv = otp_put(out, outlen, &pos, issuer, true)) != OTP_OK ||
		    (rv = otp_put(out, outlen, &pos, ":", false)) != OTP_OK)
			goto out;
	}
	if ((rv = otp_put(out, outlen, &pos, user, true)) != OTP_OK ||
	    (rv = otp_put(out, outlen, &pos, "?secret=", false)) != OTP_OK ||
	    (rv = otp_put(out, outlen, &pos, b32, false)) != OTP_OK)
		goto out;
	if (has_issuer) {
		if ((rv = otp_put(out, outlen, &pos, "&issuer=", false)) != OTP_OK ||
		    (rv = otp_put(out, outlen, &pos, issuer, true)) != OTP_OK)
			goto out;
	}
	if (tok->kind == OTP_HOTP)
		snprintf(num, sizeof(num), "&counter=%llu", (unsigned long long)tok->counter);
	else
		snprintf(num, sizeof(num), "&period=%u", tok->step);
	if ((rv = otp_put(out, outlen, &pos, "&algorithm=", false)) != OTP_OK ||
	    (rv = otp_put(out, outlen, &pos, otp_algo_upper(tok->algo), false)) != OTP_OK ||
	    (rv = otp_put(out, outlen, &pos, "&digits=", false)) != OTP_OK)
		goto out;
	{
		char d[2] = { (char)('0' + tok->digits), '\0' };
		if ((rv = otp_put(out, outlen, &pos, d, false)) != OTP_OK)
			goto out;
	}
	rv = otp_put(out, outlen, &pos, num, false);
out:
	OPENSSL_cleanse(b32, sizeof(b32));
	if (rv != OTP_OK && out != NULL && outlen > 0)
		OPENSSL_cleanse(out, outlen);
	return rv;
}
