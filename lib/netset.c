/* netset.c - IPv4/IPv6 prefix sets (contract in netset.h).
 *
 * Per address family the set keeps the list of prefix lengths present and,
 * for each length, an open-addressing hash table (linear probing over
 * cache-line buckets) of the masked addresses of that length. A lookup
 * masks the address once per present length and probes one table: at most
 * 33 (IPv4) or 129 (IPv6) probes whatever the number of prefixes, though
 * each present length costs one (usually cached) line. Tables are flat
 * arrays of key words, with no pointers between entries, so a frozen set
 * can later be written to a snapshot and mapped back unchanged.
 *
 * An empty slot holds all-ones words. No IPv4 key can be all-ones (keys are
 * 32 bits in a 64-bit word), nor an IPv6 key shorter than /128 (its host
 * bits are zero); the one real all-ones key, ffff:...:ffff/128, is kept as
 * a flag beside its table. So a probe reads one array, not two.
 *
 * The hash is deliberately unseeded: the keys come from the administrator's
 * policy, not from the network, and an attacker choosing the looked-up
 * address cannot lengthen the probe chains, which the load factor (<= 1/2)
 * and the policy's keys alone determine. A fixed hash also keeps a snapshot
 * valid across processes. */
#include "netset.h"
#include "snapshot.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NETSET_V4 0
#define NETSET_V6 1
#define NETSET_MAX_LEN 128
#define NETSET_BUCKET_WORDS 8 /* 64 bytes */
#define NETSET_MIN_BITS 1     /* 2 buckets */
#define NETSET_MAX_BITS 36
#define NETSET_EMPTY (~UINT64_C(0))
#define NETSET_CIDR_MAX_TEXT 64

/* An address or masked prefix as two 64-bit words in host order: IPv4 is
 * the 32-bit address in the low half of hi (lo = 0); IPv6 is the high and
 * low 64 bits. */
struct netset_key {
	uint64_t hi;
	uint64_t lo;
};

/* The table of one prefix length: 2^bits buckets of NETSET_BUCKET_WORDS
 * uint64_t (one 64-byte cache line), holding 8 IPv4 keys (one word each) or
 * 4 IPv6 keys (two words). A bucket fills from its first slot and nothing
 * is ever deleted, so a bucket whose last slot is empty ends a probe. A
 * lookup thus compares a whole cache line without branching and rarely
 * moves to a second one; a branch per slot, taken at random, cost several
 * times more. */
struct netset_table {
	unsigned bits; /* 0 while no prefix has this length */
	bool has_ones; /* holds the all-ones key (IPv6 /128 only) */
	size_t used;
	uint64_t *keys;
};

struct netset_family {
	unsigned words;  /* key words per slot: 1 or 2 */
	unsigned nlens;
	uint8_t lens[NETSET_MAX_LEN + 1]; /* the lengths present, ascending */
	struct netset_table tab[NETSET_MAX_LEN + 1];
};

struct netset {
	struct netset_family fam[2];
	size_t count;
	bool borrowed; /* tables point into a mapped snapshot: not ours to free */
};

/* Multiply-xorshift: the multiplications carry every key bit upwards and
 * the shift folds the high half back, so the top bits, which pick the
 * bucket, depend on the whole key. */
static uint64_t netset_hash(uint64_t hi, uint64_t lo)
{
	uint64_t h = (hi ^ (lo * UINT64_C(0xc2b2ae3d27d4eb4f))) * UINT64_C(0x9e3779b97f4a7c15);

	h ^= h >> 32;
	return h * UINT64_C(0xd6e8feb86659fd93);
}

static size_t netset_bucket(const struct netset_table *t, uint64_t hi, uint64_t lo)
{
	return (size_t)(netset_hash(hi, lo) >> (64 - t->bits));
}

static size_t netset_slots(const struct netset_table *t, unsigned words)
{
	return t->bits == 0 ? 0 : ((size_t)1 << t->bits) * (NETSET_BUCKET_WORDS / words);
}

/* The top n bits of a 64-bit word set (n = 0..64). */
static uint64_t netset_mask64(unsigned n)
{
	return n == 0 ? 0 : ~UINT64_C(0) << (64 - n);
}

static uint64_t netset_load64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static struct netset_key netset_masked(const struct netset_key *k, int fi, unsigned len)
{
	struct netset_key m = { 0, 0 };

	if (fi == NETSET_V4) {
		m.hi = k->hi & (netset_mask64(len) >> 32);
	} else if (len <= 64) {
		m.hi = k->hi & netset_mask64(len);
	} else {
		m.hi = k->hi;
		m.lo = k->lo & netset_mask64(len - 64);
	}
	return m;
}

static bool netset_is_mapped(const uint8_t *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(a, mapped, sizeof(mapped)) == 0;
}

/* Reads an address into a key, turning an IPv4-mapped IPv6 address (and a
 * mapped prefix of length >= 96 when len is given) into IPv4, so a prefix
 * written either way matches the same sources. */
static int netset_key_from(int family, const uint8_t *addr, unsigned *len, int *fi,
			   struct netset_key *k)
{
	if (family == AF_INET) {
		*fi = NETSET_V4;
		k->hi = (uint64_t)addr[0] << 24 | (uint64_t)addr[1] << 16 |
			(uint64_t)addr[2] << 8 | addr[3];
		k->lo = 0;
		return 0;
	}
	if (family != AF_INET6)
		return -1;
	if (netset_is_mapped(addr) && (len == NULL || *len >= 96)) {
		if (len != NULL)
			*len -= 96;
		return netset_key_from(AF_INET, addr + 12, NULL, fi, k);
	}
	*fi = NETSET_V6;
	k->hi = netset_load64(addr);
	k->lo = netset_load64(addr + 8);
	return 0;
}

static bool netset_is_ones(const struct netset_key *k, unsigned words)
{
	return k->hi == NETSET_EMPTY && (words == 1 || k->lo == NETSET_EMPTY);
}

/* Looks k (not all-ones) up in a table that exists. Returns true with the
 * slot holding k, or false with the empty slot where k belongs. The load
 * factor is at most 1/2, so an empty slot always ends the probe. This is
 * the slow, general path for inserts; lookups use the per-family loops. */
static bool netset_find(const struct netset_table *t, unsigned words,
			const struct netset_key *k, size_t *slot)
{
	size_t mask = ((size_t)1 << t->bits) - 1;
	size_t b = netset_bucket(t, k->hi, k->lo);
	unsigned per = NETSET_BUCKET_WORDS / words;

	for (;;) {
		for (unsigned s = 0; s < per; s++) {
			const uint64_t *w = t->keys + b * NETSET_BUCKET_WORDS + s * words;
			*slot = b * per + s;
			if (w[0] == k->hi && (words == 1 || w[1] == k->lo))
				return true;
			if (w[0] == NETSET_EMPTY && (words == 1 || w[1] == NETSET_EMPTY))
				return false;
		}
		b = (b + 1) & mask;
	}
}

static void netset_slot_put(struct netset_table *t, unsigned words, size_t slot,
			    const struct netset_key *k)
{
	uint64_t *w = t->keys + slot * words;

	w[0] = k->hi;
	if (words == 2)
		w[1] = k->lo;
	t->used++;
}

static void netset_slot_get(const struct netset_table *t, unsigned words, size_t slot,
			    struct netset_key *k)
{
	const uint64_t *w = t->keys + slot * words;

	k->hi = w[0];
	k->lo = words == 2 ? w[1] : 0;
}

static int netset_table_grow(struct netset_table *t, unsigned words)
{
	struct netset_table bigger = { 0, false, 0, NULL };
	struct netset_key k;
	size_t bytes, slot, oldslots = netset_slots(t, words);
	int rv = -1;

	bigger.bits = t->bits == 0 ? NETSET_MIN_BITS : t->bits + 1;
	bigger.has_ones = t->has_ones;
	if (bigger.bits > NETSET_MAX_BITS) {
		errno = ENOMEM;
		goto out;
	}
	bytes = ((size_t)1 << bigger.bits) * NETSET_BUCKET_WORDS * sizeof(uint64_t);
	/* Buckets aligned on cache lines: one bucket, one line. */
	bigger.keys = aligned_alloc(NETSET_BUCKET_WORDS * sizeof(uint64_t), bytes);
	if (bigger.keys == NULL)
		goto out;
	memset(bigger.keys, 0xff, bytes);
	for (size_t i = 0; i < oldslots; i++) {
		netset_slot_get(t, words, i, &k);
		if (netset_is_ones(&k, words))
			continue;
		(void)netset_find(&bigger, words, &k, &slot);
		netset_slot_put(&bigger, words, slot, &k);
	}
	free(t->keys);
	*t = bigger;
	bigger.keys = NULL;
	rv = 0;
out:
	free(bigger.keys);
	return rv;
}

static void netset_note_len(struct netset_family *f, unsigned len)
{
	unsigned i = f->nlens;

	/* Keep lens ascending; an insertion is rare (at most 129 per set). */
	while (i > 0 && f->lens[i - 1] > len) {
		f->lens[i] = f->lens[i - 1];
		i--;
	}
	f->lens[i] = (uint8_t)len;
	f->nlens++;
}

/* Inserts an already masked key. Returns 1 when new, 0 when present, -1 on
 * ENOMEM. */
static int netset_insert(struct netset *set, int fi, unsigned len, const struct netset_key *k)
{
	struct netset_family *f = &set->fam[fi];
	struct netset_table *t = &f->tab[len];
	bool was_empty = t->bits == 0;
	bool ones = netset_is_ones(k, f->words);
	size_t slot;

	if (!was_empty && (ones ? t->has_ones : netset_find(t, f->words, k, &slot)))
		return 0;
	/* A table is made even for the all-ones key alone, so that every
	 * present length has one to probe. */
	if ((t->used + 1) * 2 > netset_slots(t, f->words) && netset_table_grow(t, f->words) != 0)
		return -1;
	if (ones) {
		t->has_ones = true;
	} else {
		(void)netset_find(t, f->words, k, &slot);
		netset_slot_put(t, f->words, slot, k);
	}
	if (was_empty)
		netset_note_len(f, len);
	set->count++;
	return 1;
}

struct netset *netset_new(void)
{
	struct netset *set = calloc(1, sizeof(*set));

	if (set == NULL)
		return NULL;
	set->fam[NETSET_V4].words = 1;
	set->fam[NETSET_V6].words = 2;
	return set;
}

void netset_free(struct netset *set)
{
	if (set == NULL)
		return;
	for (int fi = 0; fi < 2 && !set->borrowed; fi++) {
		for (unsigned len = 0; len <= NETSET_MAX_LEN; len++)
			free(set->fam[fi].tab[len].keys);
	}
	free(set);
}

int netset_add(struct netset *set, int family, const uint8_t *addr, unsigned prefixlen)
{
	struct netset_key k, m;
	unsigned len = prefixlen;
	int fi;

	if (set == NULL || addr == NULL)
		goto invalid;
	if ((family == AF_INET && len > 32) || (family == AF_INET6 && len > 128))
		goto invalid;
	if (netset_key_from(family, addr, &len, &fi, &k) != 0)
		goto invalid;
	m = netset_masked(&k, fi, len);
	/* Host bits set mean the caller built the prefix wrong; storing it
	 * masked would silently widen or move what the administrator wrote. */
	if (m.hi != k.hi || m.lo != k.lo)
		goto invalid;
	return netset_insert(set, fi, len, &m) < 0 ? -1 : 0;
invalid:
	errno = EINVAL;
	return -1;
}

int netset_add_all(struct netset *dst, const struct netset *src)
{
	struct netset_key k = { 0, 0 };

	if (dst == NULL || src == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (dst == src)
		return 0;
	for (int fi = 0; fi < 2; fi++) {
		const struct netset_family *f = &src->fam[fi];
		for (unsigned j = 0; j < f->nlens; j++) {
			const struct netset_table *t = &f->tab[f->lens[j]];
			size_t nslots = netset_slots(t, f->words);
			struct netset_key ones = { NETSET_EMPTY, NETSET_EMPTY };
			if (t->has_ones && netset_insert(dst, fi, f->lens[j], &ones) < 0)
				return -1;
			for (size_t i = 0; i < nslots; i++) {
				netset_slot_get(t, f->words, i, &k);
				if (netset_is_ones(&k, f->words))
					continue;
				if (netset_insert(dst, fi, f->lens[j], &k) < 0)
					return -1;
			}
		}
	}
	return 0;
}

/* The hot path, one loop per family: mask, hash, compare a whole bucket
 * with no branch per slot, and go on to the next bucket only when this one
 * is full. */
static bool netset_has_v4(const struct netset_family *f, uint64_t a)
{
	for (unsigned j = 0; j < f->nlens; j++) {
		const struct netset_table *t = &f->tab[f->lens[j]];
		uint64_t m = a & (netset_mask64(f->lens[j]) >> 32);
		size_t mask = ((size_t)1 << t->bits) - 1;
		size_t b = netset_bucket(t, m, 0);
		for (size_t probes = 0; probes <= mask; probes++) {
			const uint64_t *w = t->keys + b * NETSET_BUCKET_WORDS;
			unsigned hit = 0;
			for (unsigned s = 0; s < NETSET_BUCKET_WORDS; s++)
				hit |= w[s] == m;
			if (hit)
				return true;
			if (w[NETSET_BUCKET_WORDS - 1] == NETSET_EMPTY)
				break;
			b = (b + 1) & mask;
		}
	}
	return false;
}

static bool netset_has_v6(const struct netset_family *f, const struct netset_key *k)
{
	for (unsigned j = 0; j < f->nlens; j++) {
		const struct netset_table *t = &f->tab[f->lens[j]];
		struct netset_key m = netset_masked(k, NETSET_V6, f->lens[j]);
		size_t mask = ((size_t)1 << t->bits) - 1;
		size_t b = netset_bucket(t, m.hi, m.lo);
		if (netset_is_ones(&m, 2)) {
			if (t->has_ones)
				return true;
			continue;
		}
		for (size_t probes = 0; probes <= mask; probes++) {
			const uint64_t *w = t->keys + b * NETSET_BUCKET_WORDS;
			unsigned hit = 0;
			for (unsigned s = 0; s < NETSET_BUCKET_WORDS; s += 2)
				hit |= (w[s] == m.hi) & (w[s + 1] == m.lo);
			if (hit)
				return true;
			if ((w[NETSET_BUCKET_WORDS - 2] & w[NETSET_BUCKET_WORDS - 1]) == NETSET_EMPTY)
				break;
			b = (b + 1) & mask;
		}
	}
	return false;
}

bool netset_contains(const struct netset *set, int family, const uint8_t *addr)
{
	struct netset_key k;
	int fi;

	if (set == NULL || addr == NULL || netset_key_from(family, addr, NULL, &fi, &k) != 0)
		return false;
	if (fi == NETSET_V4)
		return netset_has_v4(&set->fam[NETSET_V4], k.hi);
	return netset_has_v6(&set->fam[NETSET_V6], &k);
}

size_t netset_count(const struct netset *set)
{
	return set == NULL ? 0 : set->count;
}

size_t netset_lengths(const struct netset *set, int family)
{
	if (set == NULL)
		return 0;
	if (family == AF_INET)
		return set->fam[NETSET_V4].nlens;
	if (family == AF_INET6)
		return set->fam[NETSET_V6].nlens;
	return 0;
}

/* --- snapshot ---------------------------------------------------------- */

void netset_export(const struct netset *set, struct snap_writer *w)
{
	snap_put_u64(w, set->count);
	for (int fi = 0; fi < 2; fi++) {
		const struct netset_family *f = &set->fam[fi];
		snap_put_u64(w, f->nlens);
		for (unsigned j = 0; j < f->nlens; j++) {
			const struct netset_table *t = &f->tab[f->lens[j]];
			snap_put_u64(w, f->lens[j]);
			snap_put_u64(w, t->bits);
			snap_put_u64(w, t->has_ones);
			snap_put_u64(w, t->used);
			snap_put(w, t->keys, ((size_t)1 << t->bits) * NETSET_BUCKET_WORDS * sizeof(uint64_t));
		}
	}
}

struct netset *netset_import(struct snap_reader *r)
{
	struct netset *set = netset_new();

	if (set == NULL)
		return NULL;
	set->borrowed = true;
	set->count = snap_get_u64(r);
	for (int fi = 0; fi < 2 && !r->failed; fi++) {
		struct netset_family *f = &set->fam[fi];
		unsigned maxlen = fi == NETSET_V4 ? 32 : 128, prev = 0;
		f->nlens = (unsigned)snap_get_count(r, maxlen + 1);
		for (unsigned j = 0; j < f->nlens && !r->failed; j++) {
			unsigned len = (unsigned)snap_get_count(r, maxlen);
			struct netset_table *t = &f->tab[len];
			/* Lengths strictly ascending: each table once, in lookup order. */
			if (j > 0 && len <= prev)
				r->failed = true;
			prev = len;
			f->lens[j] = (uint8_t)len;
			t->bits = (unsigned)snap_get_count(r, NETSET_MAX_BITS);
			t->has_ones = snap_get_count(r, 1) != 0;
			t->used = snap_get_u64(r);
			if (r->failed || t->bits < NETSET_MIN_BITS)
				break;
			/* Tables are used in place: snap_get aligns to 8 bytes, which
			 * is all the bucket loads need. */
			t->keys = (uint64_t *)(uintptr_t)snap_get(
				r, ((size_t)1 << t->bits) * NETSET_BUCKET_WORDS * sizeof(uint64_t));
		}
	}
	if (r->failed) {
		netset_free(set);
		return NULL;
	}
	return set;
}

/* --- cidr_parse ------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static void netset_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	/* A truncated message is still a message; nothing else to do. */
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* A copy of hostile text fit to quote in a message: control bytes and
 * non-ASCII become '?', so a policy cannot inject terminal escapes or fake
 * log lines through an error message. */
static void netset_shown(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
}

/* Decimal prefix length: digits only, no sign, no space, no leading zero.
 * Returns the value, or -1 when it is not such a number, or maxlen + 1 when
 * it is a number over maxlen. */
static long netset_parse_len(const char *s, unsigned maxlen)
{
	long v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v <= (long)maxlen)
			v = v * 10 + (*p - '0');
	}
	return v > (long)maxlen ? (long)maxlen + 1 : v;
}

int cidr_parse(const char *text, int *family, uint8_t addr[16], unsigned *prefixlen,
	       char *why, size_t whylen)
{
	char buf[NETSET_CIDR_MAX_TEXT + 1];
	char shown[NETSET_CIDR_MAX_TEXT + 1];
	char canon[INET6_ADDRSTRLEN];
	uint8_t a[16] = { 0 };
	uint8_t masked[16];
	const char *lentext = NULL;
	const char *fname;
	unsigned maxlen, len;
	size_t n;
	char *slash;
	long parsed;
	int fam;

	if (text == NULL || text[0] == '\0') {
		netset_why(why, whylen, "empty network address");
		return -1;
	}
	n = strnlen(text, NETSET_CIDR_MAX_TEXT + 1);
	if (n > NETSET_CIDR_MAX_TEXT) {
		netset_why(why, whylen, "network address longer than %d characters",
			   NETSET_CIDR_MAX_TEXT);
		return -1;
	}
	memcpy(buf, text, n + 1);
	netset_shown(shown, text, n);

	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		lentext = slash + 1;
	}
	/* inet_pton only: a name here would need DNS, which garde never does. */
	if (inet_pton(AF_INET, buf, a) == 1) {
		fam = AF_INET;
		maxlen = 32;
		fname = "IPv4";
	} else if (inet_pton(AF_INET6, buf, a) == 1) {
		fam = AF_INET6;
		maxlen = 128;
		fname = "IPv6";
	} else {
		netset_why(why, whylen, "'%s' is not an IPv4 or IPv6 address", shown);
		return -1;
	}

	len = maxlen;
	if (lentext != NULL) {
		parsed = netset_parse_len(lentext, maxlen);
		if (parsed < 0) {
			netset_why(why, whylen,
				   "'%s' has a bad prefix length; expected a number 0-%u after '/'",
				   shown, maxlen);
			return -1;
		}
		if (parsed > (long)maxlen) {
			/* lentext holds digits only here, so it is safe to quote. */
			netset_why(why, whylen, "prefix length %s out of range for %s (0-%u)",
				   lentext, fname, maxlen);
			return -1;
		}
		len = (unsigned)parsed;
	}

	memset(masked, 0, sizeof(masked));
	memcpy(masked, a, len / 8);
	if (len % 8 != 0)
		masked[len / 8] = a[len / 8] & (uint8_t)(0xff << (8 - len % 8));
	if (memcmp(masked, a, sizeof(a)) != 0) {
		if (inet_ntop(fam, masked, canon, sizeof(canon)) == NULL)
			canon[0] = '\0';
		netset_why(why, whylen, "%s has host bits set; did you mean %s/%u?", shown, canon,
			   len);
		return -1;
	}

	/* ::ffff:a.b.c.d/len names IPv4 sources; store it as the IPv4 prefix
	 * that lookups (which see such sources as IPv4) will probe. */
	if (fam == AF_INET6 && len >= 96 && netset_is_mapped(a)) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		fam = AF_INET;
		len -= 96;
	}
	if (family != NULL)
		*family = fam;
	if (addr != NULL)
		memcpy(addr, a, 16);
	if (prefixlen != NULL)
		*prefixlen = len;
	return 0;
}
