/* store_apppw.c - app passwords: made from the OpenSSL CSPRNG, kept as
 * salted scrypt hashes (see store.h), recognised by their shape, checked
 * with the same work whichever matches. Pure but for the random bytes and
 * the KDF; the caller holds the user's lock and commits. */
#include "store.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* 32 characters, 5 bits each, none that reads like another (no 0/o, 1/l). */
static const char store_apppw_alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";

/* The same parameters for the dummy derivation of a user without app
 * passwords: the salt is fixed, nothing is compared. */
static const struct store_apppw store_apppw_dummy = {
	.log2_n = STORE_APPPW_LOG2N,
	.r = STORE_APPPW_R,
	.p = STORE_APPPW_P,
};

static int store_apppw_index(char c)
{
	const char *p;

	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	p = c == '\0' ? NULL : strchr(store_apppw_alphabet, c);
	return p == NULL ? -1 : (int)(p - store_apppw_alphabet);
}

bool store_apppw_shape(const char *text, size_t len, char out[STORE_APPPW_CHARS + 1])
{
	size_t i, o = 0;

	if (text == NULL || len != STORE_APPPW_TEXT)
		return false;
	for (i = 0; i < len; i++) {
		int v;

		if ((i + 1) % (STORE_APPPW_GROUP + 1) == 0) {
			if (text[i] != '-' && text[i] != ' ')
				goto no;
			continue;
		}
		v = store_apppw_index(text[i]);
		if (v < 0)
			goto no;
		out[o++] = store_apppw_alphabet[v];
	}
	out[o] = '\0';
	return true;
no:
	OPENSSL_cleanse(out, STORE_APPPW_CHARS + 1);
	return false;
}

static int store_apppw_derive(const struct store_apppw *a, const char *canon,
			      uint8_t out[STORE_APPPW_HASH])
{
	uint64_t n = (uint64_t)1 << a->log2_n;
	/* scrypt needs 128 * r * N bytes (and 128 * r * p more); the limit
	 * is the record's, checked when it was parsed. */
	uint64_t maxmem = (uint64_t)128 * a->r * (n + a->p) + 1024 * 1024;

	if (EVP_PBE_scrypt(canon, strlen(canon), a->salt, sizeof(a->salt), n, a->r, a->p, maxmem,
			   out, STORE_APPPW_HASH) != 1)
		return STORE_EIO;
	return STORE_OK;
}

/* The label is shown by `garde app-password list`: printable text, no
 * control bytes; "-" is the record's word for none. */
static bool store_apppw_label_ok(const char *label)
{
	size_t n = strnlen(label, STORE_APPPW_LABEL_MAX + 1);

	if (n > STORE_APPPW_LABEL_MAX || strcmp(label, "-") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
			return false;
	return true;
}

static bool store_apppw_class_ok(const char *name)
{
	size_t n = strnlen(name, STORE_NAME_MAX + 1);

	return n > 0 && n <= STORE_NAME_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
		       n;
}

/* A new id: 4 random bytes in hex, different from every other id of rec. */
static int store_apppw_new_id(const struct store_record *rec, char id[STORE_APPPW_ID + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[STORE_APPPW_ID / 2];

	for (int tries = 0; tries < 8; tries++) {
		bool taken = false;

		if (RAND_bytes(b, sizeof(b)) != 1)
			return STORE_EIO;
		for (size_t i = 0; i < sizeof(b); i++) {
			id[2 * i] = hex[b[i] >> 4];
			id[2 * i + 1] = hex[b[i] & 15];
		}
		id[STORE_APPPW_ID] = '\0';
		for (size_t i = 0; i < rec->n_apppw; i++)
			taken |= strcmp(rec->apppw[i].id, id) == 0;
		if (!taken)
			return STORE_OK;
	}
	return STORE_EIO;
}

int store_apppw_add(struct store_record *rec, const char *class_name, const char *label,
		    int64_t now, int64_t expires, char *password, size_t cap,
		    char id[STORE_APPPW_ID + 1])
{
	struct store_apppw a;
	uint8_t rnd[STORE_APPPW_CHARS];
	char canon[STORE_APPPW_CHARS + 1];
	size_t i, o = 0;
	int rv = STORE_EINVAL;

	memset(&a, 0, sizeof(a));
	if (rec == NULL || class_name == NULL || password == NULL || cap < STORE_APPPW_TEXT + 1 ||
	    !store_apppw_class_ok(class_name) || (label != NULL && !store_apppw_label_ok(label)) ||
	    expires < 0)
		goto out;
	rv = STORE_EFULL;
	if (rec->n_apppw >= STORE_MAX_APPPW)
		goto out;
	rv = STORE_EIO;
	/* 256 is a multiple of 32: the low 5 bits of a random byte are uniform. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1 || RAND_bytes(a.salt, sizeof(a.salt)) != 1)
		goto out;
	for (i = 0; i < STORE_APPPW_CHARS; i++) {
		canon[i] = store_apppw_alphabet[rnd[i] & 31];
		if (i > 0 && i % STORE_APPPW_GROUP == 0)
			password[o++] = '-';
		password[o++] = canon[i];
	}
	canon[STORE_APPPW_CHARS] = '\0';
	password[o] = '\0';
	a.log2_n = STORE_APPPW_LOG2N;
	a.r = STORE_APPPW_R;
	a.p = STORE_APPPW_P;
	if (store_apppw_derive(&a, canon, a.hash) != STORE_OK)
		goto out;
	rv = store_apppw_new_id(rec, a.id);
	if (rv != STORE_OK)
		goto out;
	memcpy(a.class_name, class_name, strlen(class_name) + 1);
	if (label != NULL)
		memcpy(a.label, label, strlen(label) + 1);
	a.created = now;
	a.expires = expires;
	rec->apppw[rec->n_apppw++] = a;
	memcpy(id, a.id, sizeof(a.id));
	rv = STORE_OK;
out:
	if (rv != STORE_OK && password != NULL && cap > 0)
		OPENSSL_cleanse(password, cap);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	OPENSSL_cleanse(canon, sizeof(canon));
	OPENSSL_cleanse(&a, sizeof(a));
	return rv;
}

int store_apppw_match(const struct store_record *rec, const char *canon, size_t *index)
{
	uint8_t got[STORE_APPPW_HASH];
	size_t i, found = STORE_MAX_APPPW;
	int rv = STORE_EINVAL;

	if (canon == NULL || index == NULL ||
	    strnlen(canon, STORE_APPPW_CHARS + 1) != STORE_APPPW_CHARS)
		return STORE_EINVAL;
	if (rec == NULL || rec->n_apppw == 0) {
		rv = store_apppw_derive(&store_apppw_dummy, canon, got);
		OPENSSL_cleanse(got, sizeof(got));
		return rv == STORE_OK ? STORE_ENOENT : rv;
	}
	/* Every entry is derived and compared; the index is folded in without
	 * a branch on the result, so the time says how many app passwords
	 * there are, never which one matched. */
	for (i = 0; i < rec->n_apppw && i < STORE_MAX_APPPW; i++) {
		size_t eq, mask;

		rv = store_apppw_derive(&rec->apppw[i], canon, got);
		if (rv != STORE_OK)
			goto out;
		eq = (size_t)(CRYPTO_memcmp(got, rec->apppw[i].hash, sizeof(got)) == 0);
		mask = (size_t)0 - eq;
		found = (found & ~mask) | (i & mask);
	}
	rv = found == STORE_MAX_APPPW ? STORE_ENOENT : STORE_OK;
	if (rv == STORE_OK)
		*index = found;
out:
	OPENSSL_cleanse(got, sizeof(got));
	return rv;
}

int store_apppw_revoke(struct store_record *rec, const char *id)
{
	size_t i;

	if (rec == NULL || id == NULL)
		return STORE_EINVAL;
	for (i = 0; i < rec->n_apppw; i++) {
		if (strcmp(rec->apppw[i].id, id) != 0)
			continue;
		/* Keep the order (list shows them as made): shift the rest. */
		memmove(&rec->apppw[i], &rec->apppw[i + 1],
			(rec->n_apppw - i - 1) * sizeof(rec->apppw[0]));
		rec->n_apppw--;
		OPENSSL_cleanse(&rec->apppw[rec->n_apppw], sizeof(rec->apppw[0]));
		return STORE_OK;
	}
	return STORE_ENOENT;
}

size_t store_apppw_revoke_all(struct store_record *rec)
{
	size_t n;

	if (rec == NULL)
		return 0;
	n = rec->n_apppw;
	OPENSSL_cleanse(rec->apppw, sizeof(rec->apppw));
	rec->n_apppw = 0;
	return n;
}
