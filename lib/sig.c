/* sig.c - the verifier's side of policy signatures: strict parsers for .sig
 * and .pub texts, and the threshold check. It only reads bytes given to it
 * (and .pub files); the policy itself is never parsed here. */
#include "sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "trust.h"

#define B64_LEN(n) ((((n) + 2) / 3) * 4)

const char *sig_strerror(int err)
{
	switch (err) {
	case SIG_OK: return "ok";
	case SIG_EFORMAT: return "malformed signature file";
	case SIG_EBADSIG: return "bad signature by a trusted key";
	case SIG_EUNKNOWNKEY: return "signed only by unknown keys";
	case SIG_ETHRESHOLD: return "not enough distinct trusted keys signed";
	case SIG_EKEY: return "malformed key file";
	case SIG_ETRUST: return "untrusted key file";
	case SIG_EEXIST: return "key file already exists";
	case SIG_ESTALE: return "the signature file holds an older signature by this key";
	case SIG_EINVAL: return "invalid argument";
	case SIG_ENOMEM: return "out of memory";
	case SIG_EIO: return "system error";
	case SIG_ECRYPTO: return "cryptographic library error";
	default: return "unknown error";
	}
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes exactly B64_LEN(outlen) characters into outlen bytes. Only the
 * canonical encoding is accepted (padding where needed and nowhere else,
 * unused bits zero), so that one key or signature has one spelling and a
 * line cannot be made distinct by re-encoding it. 0 or -1. */
static int b64_decode_exact(const char *in, size_t inlen, uint8_t *out, size_t outlen)
{
	size_t o = 0;

	if (inlen != B64_LEN(outlen))
		return -1;
	for (size_t i = 0; i < inlen; i += 4) {
		int v[4];
		uint32_t w = 0;
		size_t want = outlen - o < 3 ? outlen - o : 3; /* bytes in this group */

		for (size_t k = 0; k < 4; k++) {
			if (k > want) {
				if (in[i + k] != '=')
					return -1;
				v[k] = 0;
			} else if ((v[k] = b64_value((unsigned char)in[i + k])) < 0) {
				return -1;
			}
			w = (w << 6) | (uint32_t)v[k];
		}
		if ((want == 1 && (w & 0xffff) != 0) || (want == 2 && (w & 0xff) != 0))
			return -1;
		out[o++] = (uint8_t)(w >> 16);
		if (want > 1)
			out[o++] = (uint8_t)(w >> 8);
		if (want > 2)
			out[o++] = (uint8_t)w;
	}
	return 0;
}

void sig_keyid(const uint8_t raw[SIG_RAW_PUBKEY_LEN], char id[SIG_KEYID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t digest[SHA256_DIGEST_LENGTH];

	SHA256(raw, SIG_RAW_PUBKEY_LEN, digest);
	for (size_t i = 0; i < SIG_KEYID_LEN / 2; i++) {
		id[2 * i] = hex[digest[i] >> 4];
		id[2 * i + 1] = hex[digest[i] & 15];
	}
	id[SIG_KEYID_LEN] = '\0';
}

static bool is_keyid(const char *s)
{
	for (size_t i = 0; i < SIG_KEYID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int sig_pubkey_parse(const char *text, size_t len, struct sig_pubkey *key)
{
	static const size_t tag = sizeof(SIG_PUB_TAG) - 1;
	const size_t want = tag + 1 + SIG_KEYID_LEN + 1 + B64_LEN(SIG_RAW_PUBKEY_LEN) + 1;
	char id[SIG_KEYID_LEN + 1];
	const char *p = text;

	/* One exact line: the length check also rules out NULs, CRs and
	 * anything after the newline. */
	if (len != want || memcmp(p, SIG_PUB_TAG " ", tag + 1) != 0)
		return SIG_EKEY;
	p += tag + 1;
	if (!is_keyid(p) || p[SIG_KEYID_LEN] != ' ')
		return SIG_EKEY;
	memcpy(key->id, p, SIG_KEYID_LEN);
	key->id[SIG_KEYID_LEN] = '\0';
	p += SIG_KEYID_LEN + 1;
	if (b64_decode_exact(p, B64_LEN(SIG_RAW_PUBKEY_LEN), key->raw, SIG_RAW_PUBKEY_LEN) != 0 ||
	    p[B64_LEN(SIG_RAW_PUBKEY_LEN)] != '\n')
		return SIG_EKEY;
	/* The id is a name for the key, derived from it: a .pub whose id does
	 * not match was edited, and would make verify report the wrong key. */
	sig_keyid(key->raw, id);
	if (strcmp(id, key->id) != 0)
		return SIG_EKEY;
	return SIG_OK;
}

int sig_pubkey_format(const struct sig_pubkey *key, char *buf, size_t cap)
{
	char b64[B64_LEN(SIG_RAW_PUBKEY_LEN) + 1];
	int n;

	EVP_EncodeBlock((unsigned char *)b64, key->raw, SIG_RAW_PUBKEY_LEN);
	n = snprintf(buf, cap, "%s %s %s\n", SIG_PUB_TAG, key->id, b64);
	if (n < 0 || (size_t)n >= cap)
		return SIG_EINVAL;
	return SIG_OK;
}

int sig_pubkey_load(const char *path, struct sig_pubkey *key, int *trust_err)
{
	char *text = NULL;
	size_t len = 0;
	int rv;

	*trust_err = TRUST_OK;
	rv = trust_read_file(path, SIG_PUB_MAX_BYTES, &text, &len);
	if (rv == TRUST_ETOOBIG) {
		rv = SIG_EKEY;
		goto out;
	}
	if (rv != TRUST_OK) {
		*trust_err = rv;
		rv = SIG_ETRUST;
		goto out;
	}
	rv = sig_pubkey_parse(text, len, key);
out:
	free(text);
	return rv;
}

static int parse_fail(struct sig_file *out, size_t line, const char *detail)
{
	out->err_line = line;
	out->err_detail = detail;
	return SIG_EFORMAT;
}

int sig_parse(const char *text, size_t len, struct sig_file *out)
{
	static const size_t hlen = sizeof(SIG_HEADER) - 1;
	/* "ed25519 " KEYID " " BASE64 */
	const size_t llen = 8 + SIG_KEYID_LEN + 1 + B64_LEN(SIG_RAW_SIG_LEN);
	const char *p = text, *end = text + len;
	size_t lineno = 1;

	memset(out, 0, sizeof(*out));
	if (len > SIG_MAX_BYTES)
		return parse_fail(out, 0, "over 4096 bytes");
	if (len == 0)
		return parse_fail(out, 0, "empty file");
	if (memchr(text, '\0', len) != NULL)
		return parse_fail(out, 0, "contains a NUL byte");
	if (text[len - 1] != '\n')
		return parse_fail(out, 0, "does not end with a newline (truncated?)");
	if (len < hlen + 1 || memcmp(p, SIG_HEADER "\n", hlen + 1) != 0)
		return parse_fail(out, 1, "expected the header line '" SIG_HEADER "'");
	p += hlen + 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct sig_line *l;

		lineno++;
		/* nl is never NULL: the text ends with a newline. */
		if (out->n == SIG_MAX_LINES)
			return parse_fail(out, lineno, "more than 16 signature lines");
		if ((size_t)(nl - p) != llen || memcmp(p, "ed25519 ", 8) != 0 ||
		    p[8 + SIG_KEYID_LEN] != ' ')
			return parse_fail(out, lineno, "expected 'ed25519 KEYID SIGNATURE'");
		l = &out->lines[out->n];
		if (!is_keyid(p + 8))
			return parse_fail(out, lineno, "the key id is not 16 lower-case hex digits");
		if (b64_decode_exact(p + 8 + SIG_KEYID_LEN + 1, B64_LEN(SIG_RAW_SIG_LEN), l->sig,
				     SIG_RAW_SIG_LEN) != 0)
			return parse_fail(out, lineno, "the signature is not 64 bytes in base64");
		memcpy(l->id, p + 8, SIG_KEYID_LEN);
		l->id[SIG_KEYID_LEN] = '\0';
		l->lineno = lineno;
		out->n++;
		p = nl + 1;
	}
	if (out->n == 0)
		return parse_fail(out, 2, "no signature line");
	return SIG_OK;
}

/* 1 valid, 0 invalid, or a negative enum sig_error. */
static int verify_one(const struct sig_pubkey *key, const uint8_t sig[SIG_RAW_SIG_LEN],
		      const uint8_t *data, size_t len)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key->raw,
						     SIG_RAW_PUBKEY_LEN);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rv = SIG_ECRYPTO;

	if (pkey == NULL || ctx == NULL)
		goto out;
	/* Pure Ed25519: no digest, the message is the exact bytes. */
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
		goto out;
	rv = EVP_DigestVerify(ctx, sig, SIG_RAW_SIG_LEN, len == 0 ? (const uint8_t *)"" : data,
			      len) == 1 ? 1 : 0;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rv;
}

int sig_verify(const uint8_t *data, size_t len, const char *sig_text, size_t sig_len,
	       const struct sig_pubkey *keys, size_t nkeys, unsigned threshold,
	       struct sig_result *res)
{
	struct sig_file file;
	/* For each line, the trusted key that verified it (NULL: unknown id). */
	const struct sig_pubkey *signer[SIG_MAX_LINES] = { NULL };
	int rv;

	memset(res, 0, sizeof(*res));
	if (threshold == 0 || (data == NULL && len != 0) || sig_text == NULL) {
		rv = SIG_EINVAL;
		goto out;
	}
	rv = sig_parse(sig_text, sig_len, &file);
	res->n_lines = file.n;
	if (rv != SIG_OK) {
		res->line = file.err_line;
		res->detail = file.err_detail;
		goto out;
	}
	for (unsigned i = 0; i < file.n; i++) {
		bool known = false;

		/* Try every trusted key with this id: the same key may be listed
		 * twice, and two keys could share a 64-bit id. */
		for (size_t k = 0; k < nkeys && signer[i] == NULL; k++) {
			int ok;

			if (strcmp(keys[k].id, file.lines[i].id) != 0)
				continue;
			known = true;
			ok = verify_one(&keys[k], file.lines[i].sig, data, len);
			if (ok < 0) {
				rv = ok;
				goto out;
			}
			if (ok == 1)
				signer[i] = &keys[k];
		}
		if (!known) {
			res->n_unknown++;
		} else if (signer[i] == NULL) {
			res->line = file.lines[i].lineno;
			memcpy(res->bad_id, file.lines[i].id, sizeof(res->bad_id));
			rv = SIG_EBADSIG;
			goto out;
		}
	}
	/* Count distinct keys, by the key itself rather than its id or its
	 * place in keys[]: one signer must never count twice. */
	for (unsigned i = 0; i < file.n; i++) {
		bool seen = false;

		if (signer[i] == NULL)
			continue;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = signer[j] != NULL &&
			       memcmp(signer[j]->raw, signer[i]->raw, SIG_RAW_PUBKEY_LEN) == 0;
		if (!seen)
			memcpy(res->valid_ids[res->n_valid++], signer[i]->id, SIG_KEYID_LEN + 1);
	}
	if (res->n_valid == 0)
		rv = SIG_EUNKNOWNKEY;
	else if (res->n_valid < threshold)
		rv = SIG_ETHRESHOLD;
	else
		rv = SIG_OK;
out:
	res->error = rv;
	return rv;
}

const char *sig_result_describe(const struct sig_result *res, unsigned threshold, char *buf,
				size_t cap)
{
	char ids[SIG_MAX_LINES * (SIG_KEYID_LEN + 2) + 1] = "";
	size_t o = 0;

	if (cap == 0)
		return buf;
	for (unsigned i = 0; i < res->n_valid; i++)
		o += (size_t)snprintf(ids + o, sizeof(ids) - o, "%s%s", i ? ", " : "",
				      res->valid_ids[i]);
	switch (res->error) {
	case SIG_OK:
		snprintf(buf, cap, "good signature%s by key%s %s", res->n_valid > 1 ? "s" : "",
			 res->n_valid > 1 ? "s" : "", ids);
		break;
	case SIG_EFORMAT:
		if (res->line > 0)
			snprintf(buf, cap, "malformed signature file: line %zu: %s", res->line,
				 res->detail);
		else
			snprintf(buf, cap, "malformed signature file: %s", res->detail);
		break;
	case SIG_EBADSIG:
		snprintf(buf, cap,
			 "BAD signature: line %zu: the signature by trusted key %s does not match: "
			 "the policy or its signature was changed after signing",
			 res->line, res->bad_id);
		break;
	case SIG_EUNKNOWNKEY:
		snprintf(buf, cap,
			 "not signed by any trusted key (%u signature%s, all by unknown keys): "
			 "sign it with a trusted key or check the keys given",
			 res->n_lines, res->n_lines == 1 ? "" : "s");
		break;
	case SIG_ETHRESHOLD:
		snprintf(buf, cap, "signed by %u distinct trusted key%s (%s), %u required",
			 res->n_valid, res->n_valid == 1 ? "" : "s", ids, threshold);
		break;
	default:
		snprintf(buf, cap, "cannot verify: %s", sig_strerror(res->error));
		break;
	}
	return buf;
}
