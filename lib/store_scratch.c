/* store_scratch.c - scratch (emergency) codes: hashed when stored, single
 * use when tried (see store.h). Pure but for the random salt. */
#include "store.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static bool store_scratch_code_ok(const char *code, size_t len)
{
	size_t i;

	if (len == 0 || len > STORE_SCRATCH_CODE_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

static int store_scratch_derive(const struct store_scratch *sc, const char *code, size_t len,
				uint8_t out[STORE_SCRATCH_HASH])
{
	if (PKCS5_PBKDF2_HMAC(code, (int)len, sc->salt, (int)sizeof(sc->salt),
			      (int)sc->iterations, EVP_sha256(), STORE_SCRATCH_HASH, out) != 1)
		return STORE_EIO;
	return STORE_OK;
}

int store_scratch_prepare(struct store_scratch *out, const char *const *codes, size_t n)
{
	size_t i;
	int rv = STORE_EINVAL;

	if (out == NULL)
		return STORE_EINVAL;
	memset(out, 0, sizeof(*out));
	if (n > STORE_MAX_SCRATCH || (n > 0 && codes == NULL))
		goto out;
	for (i = 0; i < n; i++)
		if (codes[i] == NULL ||
		    !store_scratch_code_ok(codes[i], strnlen(codes[i], STORE_SCRATCH_CODE_MAX + 1)))
			goto out;
	rv = STORE_EIO;
	out->iterations = STORE_SCRATCH_ITER;
	if (n > 0 && RAND_bytes(out->salt, sizeof(out->salt)) != 1)
		goto out;
	for (i = 0; i < n; i++) {
		rv = store_scratch_derive(out, codes[i], strlen(codes[i]), out->hash[i]);
		if (rv != STORE_OK)
			goto out;
	}
	out->n = n;
	rv = STORE_OK;
out:
	if (rv != STORE_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	return rv;
}

int store_scratch_use(struct store_record *rec, const char *code, size_t len)
{
	struct store_scratch *sc;
	uint8_t want[STORE_SCRATCH_HASH];
	size_t i, found = STORE_MAX_SCRATCH;
	int rv = STORE_ENOENT;

	if (rec == NULL || code == NULL)
		return STORE_EINVAL;
	sc = &rec->scratch;
	if (!rec->has_token || sc->n == 0 || sc->n > STORE_MAX_SCRATCH ||
	    !store_scratch_code_ok(code, len))
		return STORE_ENOENT;
	rv = store_scratch_derive(sc, code, len, want);
	if (rv != STORE_OK)
		goto out;
	/* Every hash is compared; the index is kept without an early exit, so
	 * the time does not say which code matched. */
	for (i = 0; i < sc->n; i++) {
		size_t eq = (size_t)(CRYPTO_memcmp(want, sc->hash[i], sizeof(want)) == 0);
		size_t mask = (size_t)0 - eq;

		found = (found & ~mask) | (i & mask);
	}
	rv = STORE_ENOENT;
	if (found == STORE_MAX_SCRATCH)
		goto out;
	/* Single use: the last hash takes the used one's place. */
	memcpy(sc->hash[found], sc->hash[sc->n - 1], STORE_SCRATCH_HASH);
	OPENSSL_cleanse(sc->hash[sc->n - 1], STORE_SCRATCH_HASH);
	sc->n--;
	if (sc->n == 0)
		OPENSSL_cleanse(sc, sizeof(*sc));
	rv = STORE_OK;
out:
	OPENSSL_cleanse(want, sizeof(want));
	return rv;
}
