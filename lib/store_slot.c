/* store_slot.c - the two-slot record file (see store.h): a slot is sealed
 * with a digest that binds its sequence number, length and text, so that a
 * reader, locked or not, takes only whole slots and a torn write costs at
 * most the update being written. */
#define _GNU_SOURCE /* explicit_bzero */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init: see store_sha256 */
#include "store_slot.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

/* The first read of a slot: a typical record (a token, a few zones, some
 * history, hashed scratch codes) fits, so a slot costs one pread; a larger
 * one costs a second. Slot A of a file that also holds slot B is read this
 * far whatever its length, and a login reads it cold: 4096 bytes cost a
 * microsecond more per read than the 400 a record usually holds (perf). */
#define STORE_SLOT_READ 2048

/* --- sealing and checking --- */

#define STORE_SLOT_MAGIC "garde-slot "
#define STORE_SLOT_SEQ_AT 11   /* 20 digits */
#define STORE_SLOT_LEN_AT 32   /* 10 digits */
#define STORE_SLOT_HASH_AT 43  /* 64 hex digits; the digest covers the bytes before */
#define STORE_SLOT_PAD_AT 107  /* spaces up to the final '\n' */

/* SHA-256 through OpenSSL's low-level interface, deprecated since 3.0 in
 * favour of EVP. A login computes about six digests of a few hundred bytes,
 * and OpenSSL 3.0's EVP frees and allocates the algorithm's context on every
 * EVP_DigestInit_ex, through layers of provider dispatch that a login meets
 * cold: the first digest of a login took 3.7 us there (perf), several times
 * the hashing. The low-level functions hash on the stack, with the same
 * assembly. The store's digests are not secrets, only checksums and names,
 * so nothing is lost by leaving the provider (a FIPS provider would not
 * apply to them either). */
int store_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
	SHA256_CTX ctx;
	int ok;

	/* SHA256_Final wipes the last block of input, which may hold a
	 * secret; the rest of ctx is the digest's own state. */
	ok = SHA256_Init(&ctx) == 1 && SHA256_Update(&ctx, a, alen) == 1 &&
	     (blen == 0 || SHA256_Update(&ctx, b, blen) == 1) && SHA256_Final(out, &ctx) == 1;
	return ok ? STORE_OK : STORE_EIO;
}

/* width decimal digits, zero-padded, at most max. */
static int store_fixed_u64(const char *s, size_t width, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < width; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return STORE_ECORRUPT;
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return STORE_ECORRUPT;
		v = v * 10 + d;
	}
	*out = v;
	return STORE_OK;
}

/* v in width decimal digits, zero-padded (v has at most width digits). */
static void store_fixed_put(char *s, size_t width, uint64_t v)
{
	while (width > 0) {
		s[--width] = (char)('0' + v % 10);
		v /= 10;
	}
}

int store_slot_seal(char *slot, uint64_t seq, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t digest[32];
	size_t i;
	int rv;

	if (seq == 0 || len > STORE_TEXT_MAX)
		return STORE_EINVAL;
	memcpy(slot, STORE_SLOT_MAGIC, STORE_SLOT_SEQ_AT);
	store_fixed_put(slot + STORE_SLOT_SEQ_AT, 20, seq);
	slot[STORE_SLOT_LEN_AT - 1] = ' ';
	store_fixed_put(slot + STORE_SLOT_LEN_AT, 10, len);
	slot[STORE_SLOT_HASH_AT - 1] = ' ';
	rv = store_sha256(slot, STORE_SLOT_HASH_AT, slot + STORE_SLOT_HDR, len, digest);
	if (rv != STORE_OK)
		return rv;
	for (i = 0; i < sizeof(digest); i++) {
		slot[STORE_SLOT_HASH_AT + 2 * i] = hex[digest[i] >> 4];
		slot[STORE_SLOT_HASH_AT + 2 * i + 1] = hex[digest[i] & 15];
	}
	memset(slot + STORE_SLOT_PAD_AT, ' ', STORE_SLOT_HDR - 1 - STORE_SLOT_PAD_AT);
	slot[STORE_SLOT_HDR - 1] = '\n';
	return STORE_OK;
}

int store_slot_header(const char *slot, size_t avail, uint64_t *seq, size_t *len)
{
	uint64_t s, l;
	size_t i;

	if (avail < STORE_SLOT_HDR ||
	    memcmp(slot, STORE_SLOT_MAGIC, sizeof(STORE_SLOT_MAGIC) - 1) != 0 ||
	    slot[STORE_SLOT_LEN_AT - 1] != ' ' || slot[STORE_SLOT_HASH_AT - 1] != ' ' ||
	    slot[STORE_SLOT_HDR - 1] != '\n' ||
	    store_fixed_u64(slot + STORE_SLOT_SEQ_AT, 20, UINT64_MAX, &s) != STORE_OK || s == 0 ||
	    store_fixed_u64(slot + STORE_SLOT_LEN_AT, 10, STORE_TEXT_MAX, &l) != STORE_OK)
		return STORE_ECORRUPT;
	for (i = STORE_SLOT_HASH_AT; i < STORE_SLOT_PAD_AT; i++)
		if (!((slot[i] >= '0' && slot[i] <= '9') || (slot[i] >= 'a' && slot[i] <= 'f')))
			return STORE_ECORRUPT;
	for (; i < STORE_SLOT_HDR - 1; i++)
		if (slot[i] != ' ')
			return STORE_ECORRUPT;
	*seq = s;
	*len = (size_t)l;
	return STORE_OK;
}

bool store_slot_verify(const char *slot, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t digest[32];
	size_t i;

	if (len > STORE_TEXT_MAX ||
	    store_sha256(slot, STORE_SLOT_HASH_AT, slot + STORE_SLOT_HDR, len, digest) !=
		    STORE_OK)
		return false;
	for (i = 0; i < sizeof(digest); i++)
		if (slot[STORE_SLOT_HASH_AT + 2 * i] != hex[digest[i] >> 4] ||
		    slot[STORE_SLOT_HASH_AT + 2 * i + 1] != hex[digest[i] & 15])
			return false;
	return true;
}

/* --- reading and writing --- */

/* One slot as read: the first STORE_SLOT_READ bytes in small, the whole
 * slot in big when its text is longer. */
struct store_slotbuf {
	char small[STORE_SLOT_READ];
	char *big;
	char *p;      /* small or big */
	size_t used;  /* bytes read into p (wiped: the text holds the secret) */
	bool header;  /* the header is well-formed */
	uint64_t seq;
	size_t len;
};

static int store_pread_all(int fd, char *buf, size_t want, off_t off, size_t *got)
{
	size_t done = 0;

	while (done < want) {
		ssize_t n = pread(fd, buf + done, want - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return STORE_EIO;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return STORE_OK;
}

static void store_slotbuf_clear(struct store_slotbuf *b)
{
	if (b->p != NULL)
		explicit_bzero(b->p, b->used);
	free(b->big);
	b->big = NULL;
	b->p = NULL;
	b->used = 0;
	b->header = false;
}

/* Reads slot which of a file of size bytes. A slot that is missing, cut
 * short or has a bad header is left with header false: not an error. */
static int store_read_slot(int fd, off_t size, unsigned which, struct store_slotbuf *b)
{
	off_t off = (off_t)which * STORE_RECORD_MAX;
	size_t want, got = 0, more = 0;
	int rv;

	store_slotbuf_clear(b);
	b->p = b->small;
	if (size <= off)
		return STORE_OK;
	want = size - off < STORE_SLOT_READ ? (size_t)(size - off) : STORE_SLOT_READ;
	rv = store_pread_all(fd, b->small, want, off, &got);
	b->used = got;
	if (rv != STORE_OK || store_slot_header(b->small, got, &b->seq, &b->len) != STORE_OK)
		return rv;
	if (STORE_SLOT_HDR + b->len > got) {
		if (got < STORE_SLOT_READ) /* the file ends inside the slot */
			return STORE_OK;
		b->big = malloc(STORE_RECORD_MAX);
		if (b->big == NULL)
			return STORE_ENOMEM;
		memcpy(b->big, b->small, got);
		explicit_bzero(b->small, got);
		b->p = b->big;
		rv = store_pread_all(fd, b->big + got, STORE_SLOT_HDR + b->len - got,
				     off + (off_t)got, &more);
		b->used = got + more;
		if (rv != STORE_OK || b->used < STORE_SLOT_HDR + b->len)
			return rv;
	}
	b->header = true;
	return STORE_OK;
}

/* Slot A is read before slot B. Taking A is safe when B, read after it,
 * holds an older record: commits alternate between the slots, so A cannot
 * have been rewritten without a newer B. Otherwise (B being written, or
 * torn) A may have been rewritten since it was read, two commits ago or
 * more for all this reader knows: it is taken only if its header, read
 * again, is the same. Under the lock (no writer) this is always so, and a
 * file with slot A alone has no B to race with. */
static bool store_slot_a_current(int fd, off_t size, const struct store_slotbuf b[2])
{
	char again[STORE_SLOT_HDR];
	size_t got = 0;

	if (size <= (off_t)STORE_RECORD_MAX || (b[1].header && b[1].seq < b[0].seq))
		return true;
	return store_pread_all(fd, again, sizeof(again), 0, &got) == STORE_OK &&
	       got == sizeof(again) && memcmp(again, b[0].p, sizeof(again)) == 0;
}

int store_slot_read(int fd, off_t size, int tries,
		    store_parse_fn parse, void *arg, unsigned *which, uint64_t *seq)
{
	struct store_slotbuf b[2];
	struct stat sb;
	int rv = STORE_ECORRUPT, t, k;

	b[0].big = b[1].big = NULL;
	b[0].p = b[1].p = NULL;
	b[0].used = b[1].used = 0;
	for (t = 0; t < tries && rv == STORE_ECORRUPT; t++) {
		if (t > 0) {
			if (fstat(fd, &sb) != 0) {
				rv = STORE_EIO;
				break;
			}
			size = sb.st_size;
		}
		for (k = 0; k < 2; k++) {
			rv = store_read_slot(fd, size, (unsigned)k, &b[k]);
			if (rv != STORE_OK)
				goto out;
		}
		rv = STORE_ECORRUPT;
		/* The newer slot first; the older one only when it is bad. */
		for (k = 0; k < 2 && rv == STORE_ECORRUPT; k++) {
			unsigned i = b[1].header && (!b[0].header || b[1].seq > b[0].seq) ? 1u : 0u;

			if (k == 1)
				i = 1 - i;
			if (!b[i].header || !store_slot_verify(b[i].p, b[i].len))
				continue;
			if (i == 0 && !store_slot_a_current(fd, size, b))
				break; /* read both again */
			rv = parse(arg, b[i].p + STORE_SLOT_HDR, b[i].len);
			if (rv == STORE_OK) {
				*which = i;
				*seq = b[i].seq;
			}
		}
	}
out:
	store_slotbuf_clear(&b[0]);
	store_slotbuf_clear(&b[1]);
	return rv;
}

static int store_pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return STORE_EIO;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return STORE_OK;
}

int store_slot_write(int fd, const char *slot, size_t len, unsigned which)
{
	if (which > 1 || len > STORE_RECORD_MAX)
		return STORE_EINVAL;
	return store_pwrite_all(fd, slot, len, (off_t)which * STORE_RECORD_MAX);
}
