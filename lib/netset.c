/* netset.c - IPv4/IPv6 prefix sets (contract in netset.h).
 *
 * Per address family: the ascending list of prefix lengths present and, per
 * length, an open-addressing hash table (linear probing over cache-line
 * buckets) of masked keys. A lookup is the binary search on prefix lengths
 * of Waldvogel, Varghese, Turner and Plattner: probe the middle length of
 * the range left; a hit sends the search to the longer half, a miss to the
 * shorter. So that a hit can mean "go longer", each prefix leaves a marker
 * (its key masked to that length) at every shorter length the search visits
 * on its way to it, and a marker carries whether a shorter real prefix
 * contains it (COVERED): the answer should the longer half hold nothing.
 * At most ceil(log2(lengths + 1)) probes: 6 for IPv4, 8 for IPv6.
 *
 * Markers follow the list of lengths and COVERED the shorter prefixes, so
 * an add that brings a new length, or a prefix shorter than markers already
 * placed, leaves work that the first lookup (or export) after it does once.
 * If that runs out of memory, a lookup probes every length instead: slower,
 * still exact.
 *
 * Tables are flat arrays of key words plus one flag byte per slot, with no
 * pointers between entries, so a set can be written to a snapshot and
 * mapped back unchanged. An empty slot holds all-ones words. No IPv4 key
 * can be all-ones (32 bits in a 64-bit word), nor an IPv6 key shorter than
 * /128; the one real all-ones key, ffff:...:ffff/128, is a flag beside its
 * table and never a marker (markers are shorter than some prefix). So a
 * probe reads the key array, and the flags only on a hit.
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

/* Flag bits of an entry. An entry may be both a prefix and a marker; a
 * lookup that finds PREFIX stops there. */
#define NETSET_PREFIX 0x01  /* a real prefix: the address is in the set */
#define NETSET_MARKER 0x02  /* a waypoint of the search toward longer prefixes */
#define NETSET_COVERED 0x04 /* a shorter real prefix contains this marker */
#define NETSET_CLEAN 0xff   /* recover_from: no COVERED flag is stale */

/* An address or masked prefix as two 64-bit words in host order: IPv4 is
 * the 32-bit address in the low half of hi (lo = 0); IPv6 is the high and
 * low 64 bits. */
struct netset_key {
	uint64_t hi;
	uint64_t lo;
};

/* The table of one prefix length: 2^bits buckets of NETSET_BUCKET_WORDS
 * uint64_t (one 64-byte cache line), holding 8 IPv4 keys (one word each) or
 * 4 IPv6 keys (two words), and one flag byte per slot. A bucket fills from
 * its first slot and nothing is ever deleted, so a bucket whose last slot
 * is empty ends a probe. A lookup thus compares a whole cache line without
 * branching and rarely moves to a second one; a branch per slot, taken at
 * random, cost several times more. */
struct netset_table {
	unsigned bits; /* 0 while no prefix has this length */
	bool has_ones; /* holds the all-ones key (IPv6 /128 prefix only) */
	size_t used;   /* entries: prefixes and markers */
	uint64_t *keys;
	uint8_t *flags;
};

struct netset_family {
	unsigned words; /* key words per slot: 1 or 2 */
	unsigned nlens;
	uint8_t lens[NETSET_MAX_LEN + 1]; /* the lengths of real prefixes, ascending */
	struct netset_table tab[NETSET_MAX_LEN + 1];
	bool remark;           /* lengths changed since the markers were placed */
	unsigned recover_from; /* COVERED of markers longer than this may be stale */
};

struct netset {
	/* [2], behind a pointer: a lookup through a const set may finish the
	 * deferred marker work, which changes no answer. */
	struct netset_family *fam;
	size_t count; /* real prefixes */
	bool borrowed; /* tables point into a mapped snapshot: not ours */
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

static struct netset_key netset_masked(const struct netset_key *k, unsigned words, unsigned len)
{
	struct netset_key m = { 0, 0 };

	if (words == 1) {
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

/* The flags of masked key k at length len, or -1 when absent. */
static int netset_flags_at(const struct netset_family *f, unsigned len,
			   const struct netset_key *k)
{
	const struct netset_table *t = &f->tab[len];
	size_t slot;

	if (t->bits == 0)
		return -1;
	if (netset_is_ones(k, f->words))
		return t->has_ones ? NETSET_PREFIX : -1;
	return netset_find(t, f->words, k, &slot) ? t->flags[slot] : -1;
}

/* Whether a real prefix shorter than limit contains k: one probe per
 * length. This computes COVERED, and answers lookups while markers wait. */
static bool netset_prefix_below(const struct netset_family *f, const struct netset_key *k,
				unsigned limit)
{
	for (unsigned j = 0; j < f->nlens && f->lens[j] < limit; j++) {
		struct netset_key m = netset_masked(k, f->words, f->lens[j]);
		int fl = netset_flags_at(f, f->lens[j], &m);
		if (fl >= 0 && (fl & NETSET_PREFIX))
			return true;
	}
	return false;
}

static void netset_slot_put(struct netset_table *t, unsigned words, size_t slot,
			    const struct netset_key *k, uint8_t fl)
{
	uint64_t *w = t->keys + slot * words;

	w[0] = k->hi;
	if (words == 2)
		w[1] = k->lo;
	t->flags[slot] = fl;
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
	struct netset_table bigger = { 0, false, 0, NULL, NULL };
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
	bigger.flags = calloc(netset_slots(&bigger, words), 1);
	if (bigger.keys == NULL || bigger.flags == NULL)
		goto out;
	memset(bigger.keys, 0xff, bytes);
	for (size_t i = 0; i < oldslots; i++) {
		netset_slot_get(t, words, i, &k);
		if (netset_is_ones(&k, words))
			continue;
		(void)netset_find(&bigger, words, &k, &slot);
		netset_slot_put(&bigger, words, slot, &k, t->flags[i]);
	}
	free(t->keys);
	free(t->flags);
	*t = bigger;
	bigger.keys = NULL;
	bigger.flags = NULL;
	rv = 0;
out:
	free(bigger.keys);
	free(bigger.flags);
	return rv;
}

/* Adds flag bits fl to masked key k at length len, inserting k (and its
 * table) when absent. Returns 0, or -1 on ENOMEM. */
static int netset_put(struct netset_family *f, unsigned len, const struct netset_key *k,
		      uint8_t fl)
{
	struct netset_table *t = &f->tab[len];
	size_t slot;

	if (netset_is_ones(k, f->words)) {
		/* A table is made even for the all-ones key alone, so that
		 * every present length has one to probe. */
		if (t->bits == 0 && netset_table_grow(t, f->words) != 0)
			return -1;
		t->has_ones = true;
		return 0;
	}
	if (t->bits != 0 && netset_find(t, f->words, k, &slot)) {
		t->flags[slot] |= fl;
		return 0;
	}
	if ((t->used + 1) * 2 > netset_slots(t, f->words) && netset_table_grow(t, f->words) != 0)
		return -1;
	(void)netset_find(t, f->words, k, &slot);
	netset_slot_put(t, f->words, slot, k, fl);
	return 0;
}

/* Places the markers of prefix k/len: its key masked to each shorter length
 * that the binary search probes on its way to len. The search must follow
 * the same steps as the lookups. */
static int netset_mark(struct netset_family *f, unsigned len, const struct netset_key *k)
{
	int lo = 0, hi = (int)f->nlens - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		unsigned at = f->lens[mid];
		struct netset_key m;
		uint8_t fl = NETSET_MARKER;

		if (at >= len) {
			if (at == len)
				break;
			hi = mid - 1;
			continue;
		}
		lo = mid + 1;
		m = netset_masked(k, f->words, at);
		if (netset_flags_at(f, at, &m) >= 0)
			continue; /* a prefix, or another prefix's marker */
		if (netset_prefix_below(f, &m, at))
			fl |= NETSET_COVERED;
		if (netset_put(f, at, &m, fl) != 0)
			return -1;
	}
	return 0;
}

static void netset_tables_free(struct netset_family *f)
{
	for (unsigned len = 0; len <= NETSET_MAX_LEN; len++) {
		free(f->tab[len].keys);
		free(f->tab[len].flags);
	}
}

/* Rebuilds f's tables with every real prefix and the markers of the
 * current list of lengths (the old markers may lead nowhere now). */
static int netset_remark(struct netset_family *f)
{
	struct netset_family *nf = calloc(1, sizeof(*nf));
	struct netset_key k, ones = { NETSET_EMPTY, NETSET_EMPTY };

	if (nf == NULL)
		return -1;
	nf->words = f->words;
	nf->nlens = f->nlens;
	memcpy(nf->lens, f->lens, sizeof(nf->lens));
	nf->recover_from = NETSET_CLEAN;
	/* Real prefixes first (pass 0), so that every marker's COVERED sees
	 * them all. Pass 1 reads table len while adding only to shorter ones. */
	for (int pass = 0; pass < 2; pass++) {
		const struct netset_family *src = pass == 0 ? f : nf;
		for (unsigned j = 0; j < f->nlens; j++) {
			unsigned len = f->lens[j];
			const struct netset_table *t = &src->tab[len];
			size_t nslots = netset_slots(t, f->words);
			if (t->has_ones && (pass == 0 ? netset_put(nf, len, &ones, NETSET_PREFIX)
						      : netset_mark(nf, len, &ones)) != 0)
				goto fail;
			for (size_t i = 0; i < nslots; i++) {
				if (!(t->flags[i] & NETSET_PREFIX))
					continue;
				netset_slot_get(t, f->words, i, &k);
				if ((pass == 0 ? netset_put(nf, len, &k, NETSET_PREFIX)
					       : netset_mark(nf, len, &k)) != 0)
					goto fail;
			}
		}
	}
	netset_tables_free(f);
	*f = *nf;
	free(nf);
	return 0;
fail:
	netset_tables_free(nf);
	free(nf);
	return -1;
}

/* Finishes the marker work that adds left, so that the binary search is
 * exact again. Returns 0, or -1 on ENOMEM (the set is unchanged). */
static int netset_refresh(struct netset_family *f)
{
	struct netset_key k;

	if (f->remark) {
		if (netset_remark(f) != 0)
			return -1;
		f->remark = false;
		f->recover_from = NETSET_CLEAN;
		return 0;
	}
	for (unsigned j = 0; j < f->nlens && f->recover_from != NETSET_CLEAN; j++) {
		struct netset_table *t = &f->tab[f->lens[j]];
		size_t nslots = netset_slots(t, f->words);
		if (f->lens[j] <= f->recover_from)
			continue;
		for (size_t i = 0; i < nslots; i++) {
			if ((t->flags[i] & (NETSET_PREFIX | NETSET_MARKER | NETSET_COVERED)) !=
			    NETSET_MARKER)
				continue;
			netset_slot_get(t, f->words, i, &k);
			if (netset_prefix_below(f, &k, f->lens[j]))
				t->flags[i] |= NETSET_COVERED;
		}
	}
	f->recover_from = NETSET_CLEAN;
	return 0;
}

static bool netset_dirty(const struct netset_family *f)
{
	return f->remark || f->recover_from != NETSET_CLEAN;
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

/* Inserts an already masked real prefix. Returns 1 when new, 0 when
 * present, -1 on ENOMEM (the prefix is then not in the set). */
static int netset_insert(struct netset *set, int fi, unsigned len, const struct netset_key *k)
{
	struct netset_family *f = &set->fam[fi];
	bool new_len = f->tab[len].bits == 0;
	int old = netset_flags_at(f, len, k);

	if (old >= 0 && (old & NETSET_PREFIX))
		return 0;
	/* Markers first: without their prefix they only cost a probe. With a
	 * new length every marker moves, so all wait for netset_refresh. */
	if (!new_len && !f->remark && netset_mark(f, len, k) != 0)
		return -1;
	if (netset_put(f, len, k, NETSET_PREFIX) != 0)
		return -1;
	if (new_len) {
		netset_note_len(f, len);
		f->remark = f->nlens > 1;
	} else if (len < f->lens[f->nlens - 1] && len < f->recover_from) {
		/* Markers longer than len may lie inside it. */
		f->recover_from = len;
	}
	set->count++;
	return 1;
}

struct netset *netset_new(void)
{
	struct netset *set = calloc(1, sizeof(*set));

	if (set == NULL)
		return NULL;
	set->fam = calloc(2, sizeof(*set->fam));
	if (set->fam == NULL) {
		free(set);
		return NULL;
	}
	set->fam[NETSET_V4].words = 1;
	set->fam[NETSET_V6].words = 2;
	set->fam[NETSET_V4].recover_from = NETSET_CLEAN;
	set->fam[NETSET_V6].recover_from = NETSET_CLEAN;
	return set;
}

void netset_free(struct netset *set)
{
	if (set == NULL)
		return;
	for (int fi = 0; fi < 2 && !set->borrowed; fi++)
		netset_tables_free(&set->fam[fi]);
	free(set->fam);
	free(set);
}

int netset_add(struct netset *set, int family, const uint8_t *addr, unsigned prefixlen)
{
	struct netset_key k, m;
	unsigned len = prefixlen;
	int fi;

	/* A borrowed set lives in a read-only mapping. */
	if (set == NULL || addr == NULL || set->borrowed)
		goto invalid;
	if ((family == AF_INET && len > 32) || (family == AF_INET6 && len > 128))
		goto invalid;
	if (netset_key_from(family, addr, &len, &fi, &k) != 0)
		goto invalid;
	m = netset_masked(&k, set->fam[fi].words, len);
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
	struct netset_key ones = { NETSET_EMPTY, NETSET_EMPTY };

	if (dst == NULL || src == NULL || dst->borrowed) {
		errno = EINVAL;
		return -1;
	}
	if (dst == src)
		return 0;
	/* Real prefixes only: dst places its own markers. */
	for (int fi = 0; fi < 2; fi++) {
		const struct netset_family *f = &src->fam[fi];
		for (unsigned j = 0; j < f->nlens; j++) {
			const struct netset_table *t = &f->tab[f->lens[j]];
			size_t nslots = netset_slots(t, f->words);
			if (t->has_ones && netset_insert(dst, fi, f->lens[j], &ones) < 0)
				return -1;
			for (size_t i = 0; i < nslots; i++) {
				if (!(t->flags[i] & NETSET_PREFIX))
					continue;
				netset_slot_get(t, f->words, i, &k);
				if (netset_insert(dst, fi, f->lens[j], &k) < 0)
					return -1;
			}
		}
	}
	return 0;
}

/* The hot path, one probe per family: hash, compare a whole bucket with no
 * branch per slot, and go on to the next bucket only when this one is
 * full. Returns the entry's flags, or -1 when m is absent. The bound on
 * buckets matters only for a corrupt snapshot with no empty slot. */
static int netset_probe_v4(const struct netset_table *t, uint64_t m)
{
	size_t mask = ((size_t)1 << t->bits) - 1;
	size_t b = netset_bucket(t, m, 0);

	for (size_t probes = 0; probes <= mask; probes++) {
		const uint64_t *w = t->keys + b * NETSET_BUCKET_WORDS;
		unsigned hit = 0;
		for (unsigned s = 0; s < NETSET_BUCKET_WORDS; s++)
			hit |= (unsigned)(w[s] == m) << s;
		if (hit)
			return t->flags[b * NETSET_BUCKET_WORDS + (unsigned)__builtin_ctz(hit)];
		if (w[NETSET_BUCKET_WORDS - 1] == NETSET_EMPTY)
			break;
		b = (b + 1) & mask;
	}
	return -1;
}

static int netset_probe_v6(const struct netset_table *t, const struct netset_key *m)
{
	size_t mask = ((size_t)1 << t->bits) - 1;
	size_t b = netset_bucket(t, m->hi, m->lo);

	if (netset_is_ones(m, 2))
		return t->has_ones ? NETSET_PREFIX : -1;
	for (size_t probes = 0; probes <= mask; probes++) {
		const uint64_t *w = t->keys + b * NETSET_BUCKET_WORDS;
		unsigned hit = 0;
		for (unsigned s = 0; s < NETSET_BUCKET_WORDS; s += 2)
			hit |= (unsigned)((w[s] == m->hi) & (w[s + 1] == m->lo)) << (s / 2);
		if (hit)
			return t->flags[b * (NETSET_BUCKET_WORDS / 2) + (unsigned)__builtin_ctz(hit)];
		if ((w[NETSET_BUCKET_WORDS - 2] & w[NETSET_BUCKET_WORDS - 1]) == NETSET_EMPTY)
			break;
		b = (b + 1) & mask;
	}
	return -1;
}

/* The binary search on lengths. lo and hi only ever close in, so it ends
 * after at most ceil(log2(nlens + 1)) probes even on a corrupt snapshot. */
static bool netset_search(const struct netset_family *f, const struct netset_key *k)
{
	int lo = 0, hi = (int)f->nlens - 1;
	bool best = false;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct netset_table *t = &f->tab[f->lens[mid]];
		struct netset_key m = netset_masked(k, f->words, f->lens[mid]);
		int fl = f->words == 1 ? netset_probe_v4(t, m.hi) : netset_probe_v6(t, &m);
		if (fl < 0) {
			hi = mid - 1;
		} else if (fl & NETSET_PREFIX) {
			return true;
		} else {
			/* Nothing longer may match; COVERED answers then. */
			best = (fl & NETSET_COVERED) != 0;
			lo = mid + 1;
		}
	}
	return best;
}

bool netset_contains(const struct netset *set, int family, const uint8_t *addr)
{
	struct netset_family *f;
	struct netset_key k;
	int fi;

	if (set == NULL || addr == NULL || netset_key_from(family, addr, NULL, &fi, &k) != 0)
		return false;
	f = &set->fam[fi];
	/* Out of memory for the markers: still exact, one probe per length. */
	if (netset_dirty(f) && netset_refresh(f) != 0)
		return netset_prefix_below(f, &k, NETSET_MAX_LEN + 1);
	return netset_search(f, &k);
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

/* A table into bulk, its offset there into w (when bulk is w, the offset
 * is where the table follows, right after the offset itself). */
static void netset_export_table(struct snap_writer *w, struct snap_writer *bulk, const void *p,
				size_t n)
{
	snap_put_u64(w, snap_offset(bulk) + (bulk == w ? sizeof(uint64_t) : 0));
	snap_put(bulk, p, n);
}

void netset_export(const struct netset *set, struct snap_writer *w, struct snap_writer *bulk)
{
	/* The snapshot holds finished markers: it is mapped read-only. */
	for (int fi = 0; fi < 2; fi++) {
		if (netset_dirty(&set->fam[fi]) && netset_refresh(&set->fam[fi]) != 0) {
			w->failed = true;
			return;
		}
	}
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
			/* The tables go to bulk, apart from everything a decode
			 * reads, so that a login touches only the pages it probes. */
			netset_export_table(w, bulk, t->keys,
					    ((size_t)1 << t->bits) * NETSET_BUCKET_WORDS * sizeof(uint64_t));
			netset_export_table(w, bulk, t->flags, netset_slots(t, f->words));
		}
	}
}

/* A table of n bytes at the offset r holds, inside bulk. When the set was
 * written with bulk == w, the table follows its offset in r: skip it. */
static const void *netset_import_table(struct snap_reader *r, struct snap_reader *bulk, size_t n)
{
	uint64_t off = snap_get_u64(r);
	const void *p;

	if (bulk == r) {
		if (off != r->off)
			r->failed = true;
		return snap_get(r, n);
	}
	p = snap_at(bulk, off, n);
	if (p == NULL)
		r->failed = true;
	return p;
}

struct netset *netset_import(struct snap_reader *r, struct snap_reader *bulk)
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
			/* Lengths strictly ascending: each table once, in search order. */
			if (j > 0 && len <= prev)
				r->failed = true;
			prev = len;
			f->lens[j] = (uint8_t)len;
			t->bits = (unsigned)snap_get_count(r, NETSET_MAX_BITS);
			t->has_ones = snap_get_count(r, 1) != 0;
			t->used = snap_get_u64(r);
			/* Only ffff:...:ffff/128 is kept beside its table. */
			if (t->has_ones && (fi == NETSET_V4 || len != NETSET_MAX_LEN))
				r->failed = true;
			if (t->bits < NETSET_MIN_BITS)
				r->failed = true; /* a listed length has a table */
			if (r->failed)
				break;
			/* Tables are used in place: snap_get aligns to 8 bytes, which
			 * is all the bucket loads need. Any flag byte is safe to read. */
			t->keys = (uint64_t *)(uintptr_t)netset_import_table(
				r, bulk, ((size_t)1 << t->bits) * NETSET_BUCKET_WORDS * sizeof(uint64_t));
			t->flags = (uint8_t *)(uintptr_t)netset_import_table(r, bulk,
									     netset_slots(t, f->words));
		}
	}
	if (r->failed) {
		netset_free(set);
		return NULL;
	}
	return set;
}
