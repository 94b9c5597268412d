/* test_netset.c - prefix sets against a naive linear reference (built in
 * one go, with lookups between adds, nested, and through a snapshot), edge
 * cases, corrupt snapshots, and the CIDR parser's exact messages. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netset.h"
#include "runner.h"
#include "snapshot.h"

/* --- deterministic random numbers (xorshift64*) ------------------------ */

static uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(0x2545f4914f6cdd1d);
}

static unsigned rng_below(uint64_t *state, unsigned n)
{
	return (unsigned)(rng_next(state) % n);
}

static void rng_bytes(uint64_t *state, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng_next(state) >> 56);
}

/* --- the reference: a plain list, byte-wise prefix compare ------------- */

struct ref_prefix {
	int family;
	uint8_t addr[16];
	unsigned len;
};

static const uint8_t ref_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The documented semantics, written independently of netset.c: a mapped
 * prefix of length >= 96 and a mapped address are IPv4. */
static void ref_normalize(int *family, uint8_t *addr, unsigned *len)
{
	if (*family == AF_INET6 && memcmp(addr, ref_mapped, 12) == 0 && *len >= 96) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
		*len -= 96;
	}
}

static void ref_mask(uint8_t *addr, unsigned len, unsigned bytes)
{
	for (unsigned bit = len; bit < bytes * 8; bit++)
		addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

static bool ref_match(const struct ref_prefix *p, const uint8_t *addr)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((p->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool ref_contains(const struct ref_prefix *v, size_t n, int family, const uint8_t *addr)
{
	uint8_t a[16] = { 0 };
	unsigned len = 128;

	memcpy(a, addr, family == AF_INET ? 4 : 16);
	ref_normalize(&family, a, &len);
	for (size_t i = 0; i < n; i++) {
		if (v[i].family == family && ref_match(&v[i], a))
			return true;
	}
	return false;
}

static size_t ref_distinct(const struct ref_prefix *v, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = v[j].family == v[i].family && v[j].len == v[i].len &&
			       memcmp(v[j].addr, v[i].addr, 16) == 0;
		count += !seen;
	}
	return count;
}

static void ref_text(int family, const uint8_t *addr, char *buf, size_t len)
{
	if (inet_ntop(family, addr, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "(bad)");
}

/* --- random prefixes and addresses -------------------------------------- */

/* Mixed lengths, nested and neighbouring prefixes (derived from earlier
 * ones), exact duplicates, and IPv4-mapped IPv6 prefixes. */
static void gen_prefix(uint64_t *rng, const struct ref_prefix *prev, size_t nprev,
		       struct ref_prefix *out)
{
	unsigned roll = rng_below(rng, 100);
	unsigned bytes;

	memset(out, 0, sizeof(*out));
	if (nprev > 0 && roll < 5) {
		*out = prev[rng_below(rng, (unsigned)nprev)]; /* duplicate */
		return;
	}
	if (nprev > 0 && roll < 45) {
		/* Near an earlier prefix: same family, bits partly shared. */
		*out = prev[rng_below(rng, (unsigned)nprev)];
		bytes = out->family == AF_INET ? 4 : 16;
		uint8_t noise[16];
		rng_bytes(rng, noise, bytes);
		unsigned keep = rng_below(rng, out->len + 1);
		for (unsigned bit = keep; bit < bytes * 8; bit++)
			out->addr[bit / 8] = (uint8_t)((out->addr[bit / 8] & ~(0x80u >> (bit % 8))) |
						       (noise[bit / 8] & (0x80u >> (bit % 8))));
		out->len = out->family == AF_INET ? 8 + rng_below(rng, 25) : 16 + rng_below(rng, 113);
	} else if (roll < 50) {
		/* ::ffff:a.b.c.d/104..128, or a mapped-looking prefix under /96. */
		out->family = AF_INET6;
		memcpy(out->addr, ref_mapped, 12);
		rng_bytes(rng, out->addr + 12, 4);
		out->len = rng_below(rng, 4) == 0 ? 80 + rng_below(rng, 16) : 104 + rng_below(rng, 25);
	} else if (roll < 75) {
		out->family = AF_INET;
		rng_bytes(rng, out->addr, 4);
		out->len = rng_below(rng, 400) == 0 ? 1 + rng_below(rng, 7) : 8 + rng_below(rng, 25);
	} else {
		out->family = AF_INET6;
		rng_bytes(rng, out->addr, 16);
		out->len = rng_below(rng, 400) == 0 ? 1 + rng_below(rng, 15) : 16 + rng_below(rng, 113);
	}
	bytes = out->family == AF_INET ? 4 : 16;
	ref_mask(out->addr, out->len, bytes);
}

static void gen_address(uint64_t *rng, const struct ref_prefix *v, size_t n, int *family,
			uint8_t *addr)
{
	unsigned roll = rng_below(rng, 100);
	const struct ref_prefix *p = &v[rng_below(rng, (unsigned)n)];
	uint8_t noise[16];
	unsigned bytes;

	memset(addr, 0, 16);
	if (roll < 30) {
		*family = rng_below(rng, 2) ? AF_INET : AF_INET6;
		rng_bytes(rng, addr, *family == AF_INET ? 4 : 16);
	} else {
		/* Inside p, with host bits random; sometimes one prefix bit
		 * flipped to land just outside. */
		*family = p->family;
		bytes = *family == AF_INET ? 4 : 16;
		rng_bytes(rng, noise, bytes);
		memcpy(addr, p->addr, bytes);
		for (unsigned bit = p->len; bit < bytes * 8; bit++)
			addr[bit / 8] ^= noise[bit / 8] & (0x80u >> (bit % 8));
		if (roll < 50 && p->len > 0) {
			unsigned bit = rng_below(rng, p->len);
			addr[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
		}
	}
	if (*family == AF_INET && roll % 10 == 0) {
		/* The same IPv4 address, asked as IPv4-mapped IPv6. */
		memmove(addr + 12, addr, 4);
		memcpy(addr, ref_mapped, 12);
		*family = AF_INET6;
	}
}

#define RANDOM_PREFIXES 2000
#define RANDOM_LOOKUPS 100000

static const uint64_t random_seeds[] = {
	UINT64_C(0x9e3779b97f4a7c15), UINT64_C(1), UINT64_C(0xdeadbeefcafe),
	UINT64_C(20261122),
};

START_TEST(test_netset_random_vs_reference)
{
	uint64_t rng = random_seeds[_i];
	struct ref_prefix *ref = calloc(RANDOM_PREFIXES, sizeof(*ref));
	struct netset *set = netset_new();
	char text[INET6_ADDRSTRLEN];
	size_t hits = 0, nv4 = 0;

	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(set);
	for (size_t i = 0; i < RANDOM_PREFIXES; i++) {
		gen_prefix(&rng, ref, i, &ref[i]);
		ck_assert_int_eq(netset_add(set, ref[i].family, ref[i].addr, ref[i].len), 0);
		/* The reference stores the normalized form the set must use. */
		ref_normalize(&ref[i].family, ref[i].addr, &ref[i].len);
		nv4 += ref[i].family == AF_INET;
	}
	ck_assert_uint_eq(netset_count(set), ref_distinct(ref, RANDOM_PREFIXES));
	ck_assert_uint_lt(netset_count(set), RANDOM_PREFIXES); /* duplicates were made */
	ck_assert_uint_gt(nv4, RANDOM_PREFIXES / 4);

	for (size_t i = 0; i < RANDOM_LOOKUPS; i++) {
		int family;
		uint8_t addr[16];
		gen_address(&rng, ref, RANDOM_PREFIXES, &family, addr);
		bool want = ref_contains(ref, RANDOM_PREFIXES, family, addr);
		bool got = netset_contains(set, family, addr);
		if (got != want) {
			ref_text(family, addr, text, sizeof(text));
			ck_abort_msg("seed %zu lookup %zu: %s: netset %d, reference %d", (size_t)_i,
				     i, text, got, want);
		}
		hits += got;
	}
	/* Both outcomes must be common, or the comparison proves little. */
	ck_assert_uint_gt(hits, RANDOM_LOOKUPS / 5);
	ck_assert_uint_lt(hits, RANDOM_LOOKUPS * 4 / 5);

	netset_free(set);
	free(ref);
}
END_TEST

START_TEST(test_netset_add_all_union)
{
	uint64_t rng = random_seeds[_i] ^ 0x5555;
	struct ref_prefix *ref = calloc(RANDOM_PREFIXES, sizeof(*ref));
	struct netset *a = netset_new(), *b = netset_new(), *empty = netset_new();
	char text[INET6_ADDRSTRLEN];

	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(empty);
	for (size_t i = 0; i < RANDOM_PREFIXES; i++) {
		gen_prefix(&rng, ref, i, &ref[i]);
		ck_assert_int_eq(netset_add(i % 3 ? a : b, ref[i].family, ref[i].addr, ref[i].len),
				 0);
		ref_normalize(&ref[i].family, ref[i].addr, &ref[i].len);
	}
	ck_assert_int_eq(netset_add_all(a, b), 0);
	ck_assert_int_eq(netset_add_all(a, empty), 0);
	ck_assert_int_eq(netset_add_all(a, a), 0);
	ck_assert_uint_eq(netset_count(a), ref_distinct(ref, RANDOM_PREFIXES));
	for (size_t i = 0; i < RANDOM_LOOKUPS / 5; i++) {
		int family;
		uint8_t addr[16];
		gen_address(&rng, ref, RANDOM_PREFIXES, &family, addr);
		bool want = ref_contains(ref, RANDOM_PREFIXES, family, addr);
		if (netset_contains(a, family, addr) != want) {
			ref_text(family, addr, text, sizeof(text));
			ck_abort_msg("union lookup %zu: %s: want %d", i, text, want);
		}
	}
	/* Into an empty set: an exact copy. */
	ck_assert_int_eq(netset_add_all(empty, a), 0);
	ck_assert_uint_eq(netset_count(empty), netset_count(a));
	netset_free(a);
	netset_free(b);
	netset_free(empty);
	free(ref);
}
END_TEST

/* --- edge cases ---------------------------------------------------------- */



static void add_text(struct netset *set, const char *cidr)
{
	int family;
	uint8_t addr[16];
	unsigned len;
	char why[160];

	ck_assert_msg(cidr_parse(cidr, &family, addr, &len, why, sizeof(why)) == 0, "%s: %s",
		      cidr, why);
	ck_assert_int_eq(netset_add(set, family, addr, len), 0);
}

static bool has_text(const struct netset *set, const char *ip)
{
	uint8_t addr[16] = { 0 };

	if (inet_pton(AF_INET, ip, addr) == 1)
		return netset_contains(set, AF_INET, addr);
	ck_assert_msg(inet_pton(AF_INET6, ip, addr) == 1, "bad test address %s", ip);
	return netset_contains(set, AF_INET6, addr);
}

START_TEST(test_netset_empty_and_zero_length)
{
	struct netset *set = netset_new();

	ck_assert_ptr_nonnull(set);
	ck_assert_uint_eq(netset_count(set), 0);
	ck_assert(!has_text(set, "0.0.0.0"));
	ck_assert(!has_text(set, "::"));

	add_text(set, "0.0.0.0/0");
	ck_assert(has_text(set, "0.0.0.0"));
	ck_assert(has_text(set, "255.255.255.255"));
	ck_assert(has_text(set, "203.0.113.9"));
	ck_assert(has_text(set, "::ffff:203.0.113.9")); /* mapped is IPv4 */
	ck_assert(!has_text(set, "::"));
	ck_assert(!has_text(set, "2001:db8::1"));

	add_text(set, "::/0");
	ck_assert(has_text(set, "::"));
	ck_assert(has_text(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert_uint_eq(netset_count(set), 2);
	ck_assert_uint_eq(netset_lengths(set, AF_INET), 1);
	ck_assert_uint_eq(netset_lengths(set, AF_INET6), 1);
	netset_free(set);

	/* ::/0 alone does not contain IPv4 sources, mapped or not. */
	set = netset_new();
	add_text(set, "::/0");
	ck_assert(!has_text(set, "10.0.0.1"));
	ck_assert(!has_text(set, "::ffff:10.0.0.1"));
	netset_free(set);
	netset_free(NULL);
}
END_TEST

START_TEST(test_netset_host_prefixes)
{
	struct netset *set = netset_new();

	add_text(set, "10.0.0.1/32");
	add_text(set, "192.0.2.255");
	add_text(set, "2001:db8::1/128");
	add_text(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	add_text(set, "::");
	ck_assert(has_text(set, "10.0.0.1"));
	ck_assert(!has_text(set, "10.0.0.0"));
	ck_assert(!has_text(set, "10.0.0.2"));
	ck_assert(!has_text(set, "11.0.0.1"));
	ck_assert(has_text(set, "192.0.2.255"));
	ck_assert(!has_text(set, "192.0.2.254"));
	ck_assert(has_text(set, "2001:db8::1"));
	ck_assert(!has_text(set, "2001:db8::"));
	ck_assert(!has_text(set, "2001:db8::1:0:0:1"));
	ck_assert(!has_text(set, "3001:db8::1"));
	ck_assert(has_text(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(!has_text(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
	ck_assert(has_text(set, "::"));
	ck_assert(!has_text(set, "::1"));
	/* IPv4 10.0.0.1 is not IPv6 ::a00:1. */
	ck_assert(!has_text(set, "::a00:1"));
	ck_assert_uint_eq(netset_count(set), 5);
	netset_free(set);
}
END_TEST

START_TEST(test_netset_duplicates_and_mapped)
{
	struct netset *set = netset_new();

	add_text(set, "10.20.0.0/16");
	add_text(set, "10.20.0.0/16");
	add_text(set, "::ffff:10.20.0.0/112"); /* the same prefix written mapped */
	ck_assert_uint_eq(netset_count(set), 1);
	ck_assert_uint_eq(netset_lengths(set, AF_INET), 1);
	ck_assert_uint_eq(netset_lengths(set, AF_INET6), 0);
	add_text(set, "10.20.0.0/24"); /* same address, another length */
	ck_assert_uint_eq(netset_count(set), 2);

	/* netset_add itself maps, whatever produced the bytes. */
	uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 0 };
	ck_assert_int_eq(netset_add(set, AF_INET6, mapped, 120), 0);
	ck_assert(has_text(set, "192.0.2.77"));
	ck_assert(has_text(set, "::ffff:192.0.2.77"));
	ck_assert(!has_text(set, "192.0.3.77"));
	ck_assert_uint_eq(netset_lengths(set, AF_INET6), 0);

	/* Shorter than /96 it stays IPv6 and matches no IPv4 source. */
	add_text(set, "::/80");
	ck_assert_uint_eq(netset_lengths(set, AF_INET6), 1);
	ck_assert(has_text(set, "::1:2:3"));
	ck_assert(!has_text(set, "172.16.0.1"));
	ck_assert(!has_text(set, "::ffff:172.16.0.1"));
	ck_assert_uint_eq(netset_count(set), 4);
	netset_free(set);
}
END_TEST

START_TEST(test_netset_add_rejects)
{
	struct netset *set = netset_new();
	uint8_t a[16] = { 10, 20, 0, 1 };
	uint8_t z[16] = { 0 };

	ck_assert_int_eq(netset_add(set, AF_INET, a, 16), -1);  /* host bits */
	ck_assert_int_eq(netset_add(set, AF_INET, a, 33), -1);
	ck_assert_int_eq(netset_add(set, AF_INET6, z, 129), -1);
	ck_assert_int_eq(netset_add(set, AF_UNIX, z, 0), -1);
	ck_assert_int_eq(netset_add(NULL, AF_INET, z, 0), -1);
	ck_assert_int_eq(netset_add(set, AF_INET, NULL, 0), -1);
	ck_assert_uint_eq(netset_count(set), 0);
	ck_assert(!netset_contains(set, AF_INET, z));
	ck_assert(!netset_contains(NULL, AF_INET, z));
	ck_assert(!netset_contains(set, AF_UNIX, z));
	ck_assert_int_eq(netset_add(set, AF_INET, a, 32), 0);
	ck_assert(!netset_contains(set, AF_UNIX, a));
	ck_assert_int_eq(netset_add_all(NULL, set), -1);
	ck_assert_uint_eq(netset_count(NULL), 0);
	netset_free(set);
}
END_TEST

START_TEST(test_netset_growth_and_add_after_lookup)
{
	struct netset *set = netset_new();
	uint8_t a[16] = { 0 };

	/* 65,536 /24s force many rehashes of one table; every one stays
	 * findable, and lookups interleave with adds. */
	for (unsigned i = 0; i < 65536; i++) {
		a[0] = 10;
		a[1] = (uint8_t)(i >> 8);
		a[2] = (uint8_t)i;
		a[3] = 0;
		ck_assert_int_eq(netset_add(set, AF_INET, a, 24), 0);
		a[3] = 99;
		ck_assert(netset_contains(set, AF_INET, a));
	}
	ck_assert_uint_eq(netset_count(set), 65536);
	for (unsigned i = 0; i < 65536; i += 257) {
		a[0] = 10;
		a[1] = (uint8_t)(i >> 8);
		a[2] = (uint8_t)i;
		ck_assert(netset_contains(set, AF_INET, a));
		a[0] = 11;
		ck_assert(!netset_contains(set, AF_INET, a));
	}
	netset_free(set);
}
END_TEST

START_TEST(test_netset_all_ones_words)
{
	struct netset *set = netset_new();
	uint8_t a[16];

	/* Keys with one all-ones 64-bit half look half-empty to a careless
	 * slot check; thousands of them fill buckets and force overflows. */
	for (unsigned i = 0; i < 3000; i++) {
		memset(a, 0xff, 16);
		a[0] = 0x20;
		a[6] = (uint8_t)(i >> 8);
		a[7] = (uint8_t)i; /* hi varies, lo all-ones */
		ck_assert_int_eq(netset_add(set, AF_INET6, a, 128), 0);
		memset(a, 0xff, 16);
		a[14] = (uint8_t)(i >> 8);
		a[15] = (uint8_t)i; /* hi all-ones, lo varies */
		ck_assert_int_eq(netset_add(set, AF_INET6, a, 128), 0);
	}
	ck_assert_uint_eq(netset_count(set), 6000);
	ck_assert(!has_text(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	for (unsigned i = 0; i < 3000; i++) {
		memset(a, 0xff, 16);
		a[0] = 0x20;
		a[6] = (uint8_t)(i >> 8);
		a[7] = (uint8_t)i;
		ck_assert_msg(netset_contains(set, AF_INET6, a), "lo all-ones key %u missing", i);
		memset(a, 0xff, 16);
		a[14] = (uint8_t)(i >> 8);
		a[15] = (uint8_t)i;
		ck_assert_msg(netset_contains(set, AF_INET6, a), "hi all-ones key %u missing", i);
	}
	add_text(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	ck_assert(has_text(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert_uint_eq(netset_count(set), 6001);
	netset_free(set);
}
END_TEST

/* n lookups around the first nv prefixes of v, set against the reference. */
static void check_lookups(const struct netset *set, const struct ref_prefix *v, size_t nv,
			  uint64_t *rng, size_t n, const char *what)
{
	char text[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < n; i++) {
		int family;
		uint8_t addr[16];
		gen_address(rng, v, nv, &family, addr);
		bool want = ref_contains(v, nv, family, addr);
		if (netset_contains(set, family, addr) != want) {
			ref_text(family, addr, text, sizeof(text));
			ck_abort_msg("%s, %zu prefixes, lookup %zu: %s: want %d", what, nv, i, text,
				     want);
		}
	}
}

/* set written to a snapshot in w and imported back from w's buffer, which
 * the copy borrows: free the copy before w. */
static struct netset *round_trip(const struct netset *set, struct snap_writer *w)
{
	struct snap_reader r;
	struct netset *copy;

	snap_writer_init(w);
	netset_export(set, w, w);
	ck_assert(!w->failed);
	snap_reader_init(&r, w->buf, w->len);
	copy = netset_import(&r, &r);
	ck_assert_ptr_nonnull(copy);
	ck_assert(!r.failed);
	ck_assert_uint_eq(r.off, w->len);
	ck_assert_uint_eq(netset_count(copy), netset_count(set));
	ck_assert_uint_eq(netset_lengths(copy, AF_INET), netset_lengths(set, AF_INET));
	ck_assert_uint_eq(netset_lengths(copy, AF_INET6), netset_lengths(set, AF_INET6));
	return copy;
}

/* Lookups between adds: each one finds markers left for later (a new
 * length, or a prefix shorter than markers already placed). Snapshots of
 * the set half built must answer the same. */
START_TEST(test_netset_interleaved_adds)
{
	uint64_t rng = random_seeds[_i] ^ 0x1111;
	struct ref_prefix *ref = calloc(RANDOM_PREFIXES, sizeof(*ref));
	struct netset *set = netset_new();
	struct snap_writer w;

	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(set);
	for (size_t i = 0; i < RANDOM_PREFIXES; i++) {
		gen_prefix(&rng, ref, i, &ref[i]);
		ck_assert_int_eq(netset_add(set, ref[i].family, ref[i].addr, ref[i].len), 0);
		ref_normalize(&ref[i].family, ref[i].addr, &ref[i].len);
		/* Often early, while lengths still appear; then every few adds. */
		if (i < 64 || i % (1 + rng_below(&rng, 40)) == 0)
			check_lookups(set, ref, i + 1, &rng, 1 + rng_below(&rng, 20), "interleaved");
		if (i % 500 == 250) {
			struct netset *copy = round_trip(set, &w);
			check_lookups(copy, ref, i + 1, &rng, 2000, "interleaved snapshot");
			netset_free(copy);
			snap_writer_free(&w);
		}
	}
	ck_assert_uint_eq(netset_count(set), ref_distinct(ref, RANDOM_PREFIXES));
	check_lookups(set, ref, RANDOM_PREFIXES, &rng, 20000, "interleaved, all added");
	netset_free(set);
	free(ref);
}
END_TEST

/* Chains of nested prefixes (one address masked to several lengths: a /8
 * holding a /12 holding a /24 holding a /32, and the like), added shortest
 * first, longest first or shuffled. An address inside an outer prefix but
 * beside the inner ones meets the inner ones' markers on its search, and
 * only COVERED says that it is in the set. */
#define NEST_CHAINS 60
#define NEST_MAX (NEST_CHAINS * 40)

static size_t gen_nested(uint64_t *rng, struct ref_prefix *out)
{
	size_t n = 0;

	for (unsigned c = 0; c < NEST_CHAINS; c++) {
		int family = rng_below(rng, 2) ? AF_INET : AF_INET6;
		unsigned bytes = family == AF_INET ? 4 : 16, max = bytes * 8;
		uint8_t base[16] = { 0 };
		rng_bytes(rng, base, bytes);
		if (family == AF_INET6)
			base[0] = 0x20; /* never IPv4-mapped */
		for (unsigned len = rng_below(rng, 9); len <= max;
		     len += 1 + rng_below(rng, family == AF_INET ? 6 : 20)) {
			if (rng_below(rng, 3) == 0)
				continue;
			out[n].family = family;
			memcpy(out[n].addr, base, 16);
			out[n].len = len;
			ref_mask(out[n].addr, len, bytes);
			n++;
		}
		if (rng_below(rng, 2) == 0) { /* the host itself */
			out[n].family = family;
			memcpy(out[n].addr, base, 16);
			out[n].len = max;
			n++;
		}
	}
	return n;
}

START_TEST(test_netset_nested)
{
	uint64_t rng = random_seeds[_i / 3] ^ 0x2222;
	unsigned order = (unsigned)_i % 3;
	struct ref_prefix *gen = calloc(NEST_MAX, sizeof(*gen));
	struct ref_prefix *ref = calloc(NEST_MAX, sizeof(*ref));
	struct netset *set = netset_new(), *copy, *merged = netset_new();
	struct snap_writer w;
	size_t n;

	ck_assert_ptr_nonnull(gen);
	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(set);
	ck_assert_ptr_nonnull(merged);
	n = gen_nested(&rng, gen);
	ck_assert_uint_gt(n, NEST_CHAINS);
	for (size_t i = 0; i < n; i++) {
		size_t pick = order == 0 ? i : order == 1 ? n - 1 - i : i + rng_below(&rng, (unsigned)(n - i));
		if (order == 2) { /* Fisher-Yates, in place over the rest */
			struct ref_prefix tmp = gen[i];
			gen[i] = gen[pick];
			gen[pick] = tmp;
			pick = i;
		}
		ref[i] = gen[pick];
		ck_assert_int_eq(netset_add(set, ref[i].family, ref[i].addr, ref[i].len), 0);
		if (i % 7 == 0)
			check_lookups(set, ref, i + 1, &rng, 50, "nested, adding");
	}
	ck_assert_uint_eq(netset_count(set), ref_distinct(ref, n));
	check_lookups(set, ref, n, &rng, 30000, "nested");

	copy = round_trip(set, &w);
	check_lookups(copy, ref, n, &rng, 30000, "nested snapshot");
	/* A borrowed set is read-only; a copy of it is a set like any other. */
	ck_assert_int_eq(netset_add(copy, ref[0].family, ref[0].addr, ref[0].len), -1);
	ck_assert_int_eq(netset_add_all(merged, copy), 0);
	ck_assert_uint_eq(netset_count(merged), netset_count(set));
	check_lookups(merged, ref, n, &rng, 10000, "nested, copied from a snapshot");
	netset_free(copy);
	snap_writer_free(&w);
	netset_free(merged);
	netset_free(set);
	free(gen);
	free(ref);
}
END_TEST

/* The cases COVERED exists for, by hand: a marker met on the way that a
 * shorter prefix contains, made before and after that prefix is added. */
START_TEST(test_netset_covered_markers)
{
	struct netset *set = netset_new();

	add_text(set, "192.0.0.0/8");
	add_text(set, "172.16.5.0/24");
	add_text(set, "10.9.9.9/32");
	add_text(set, "10.1.2.0/24");
	add_text(set, "10.1.2.3/32");
	/* Lengths 8, 24, 32: a search probes /24 first. */
	ck_assert(has_text(set, "10.9.9.9"));
	ck_assert(!has_text(set, "10.9.9.8")); /* meets marker 10.9.9.0/24 */
	ck_assert(has_text(set, "10.1.2.200"));
	ck_assert(!has_text(set, "10.1.3.3"));
	/* Same lengths, so the markers stay: 10.9.9.0/24 becomes covered. */
	add_text(set, "10.0.0.0/8");
	ck_assert(has_text(set, "10.9.9.8"));
	ck_assert(has_text(set, "10.1.3.3"));
	ck_assert(has_text(set, "10.255.0.1"));
	ck_assert(!has_text(set, "11.9.9.8"));
	/* A new length moves every marker. */
	add_text(set, "10.9.0.0/16");
	add_text(set, "11.9.9.9/32");
	ck_assert(has_text(set, "10.9.9.8"));
	ck_assert(has_text(set, "11.9.9.9"));
	ck_assert(!has_text(set, "11.9.9.8"));
	ck_assert_uint_eq(netset_count(set), 8);

	add_text(set, "2001:db8:1:2::/64");
	add_text(set, "2001:db8:1:2:3::/80");
	add_text(set, "2001:db8:1:2:3:4:5:6/128");
	add_text(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	ck_assert(!has_text(set, "2001:db8:1:3:3:4:5:6"));
	ck_assert(has_text(set, "2001:db8:1:2:3:4:5:7")); /* /80 */
	ck_assert(has_text(set, "2001:db8:1:2:3:ffff::")); /* /80 */
	ck_assert(has_text(set, "2001:db8:1:2:4:4:5:6"));  /* /64 */
	ck_assert(!has_text(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
	add_text(set, "ffff::/16");
	ck_assert(has_text(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
	ck_assert(has_text(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	add_text(set, "2000::/3");
	ck_assert(has_text(set, "2001:db8:1:3:3:4:5:6"));
	ck_assert(!has_text(set, "4001:db8:1:2:3:4:5:6"));
	netset_free(set);
}
END_TEST

/* A random set through a snapshot: the same answers, count and lengths,
 * read in place from the buffer. */
START_TEST(test_netset_snapshot_round_trip)
{
	uint64_t rng = random_seeds[_i] ^ 0x3333;
	struct ref_prefix *ref = calloc(RANDOM_PREFIXES, sizeof(*ref));
	struct netset *set = netset_new(), *copy, *empty = netset_new(), *ecopy;
	struct snap_writer w, ew;

	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(set);
	ck_assert_ptr_nonnull(empty);
	for (size_t i = 0; i < RANDOM_PREFIXES; i++) {
		gen_prefix(&rng, ref, i, &ref[i]);
		ck_assert_int_eq(netset_add(set, ref[i].family, ref[i].addr, ref[i].len), 0);
		ref_normalize(&ref[i].family, ref[i].addr, &ref[i].len);
	}
	/* Exported before any lookup: the export finishes the markers. */
	copy = round_trip(set, &w);
	check_lookups(copy, ref, RANDOM_PREFIXES, &rng, 50000, "snapshot");
	check_lookups(set, ref, RANDOM_PREFIXES, &rng, 10000, "exported set");
	netset_free(copy);
	snap_writer_free(&w);

	ecopy = round_trip(empty, &ew);
	ck_assert_uint_eq(netset_count(ecopy), 0);
	ck_assert(!has_text(ecopy, "10.0.0.1"));
	ck_assert(!has_text(ecopy, "::1"));
	netset_free(ecopy);
	snap_writer_free(&ew);
	netset_free(empty);
	netset_free(set);
	free(ref);
}
END_TEST

/* A corrupt snapshot is refused or, when it still parses, answers some
 * lookups wrongly but never loops or reads outside its buffer (run under
 * ASan to see the second half). Every truncation is refused. */
START_TEST(test_netset_snapshot_corrupt)
{
	uint64_t rng = UINT64_C(0x4444);
	struct ref_prefix ref[60];
	struct netset *set = netset_new(), *copy;
	struct snap_writer w;
	struct snap_reader r;
	uint8_t *buf;
	size_t parsed = 0;

	ck_assert_ptr_nonnull(set);
	for (size_t i = 0; i < 60; i++) {
		gen_prefix(&rng, ref, i, &ref[i]);
		ck_assert_int_eq(netset_add(set, ref[i].family, ref[i].addr, ref[i].len), 0);
		ref_normalize(&ref[i].family, ref[i].addr, &ref[i].len);
	}
	snap_writer_init(&w);
	netset_export(set, &w, &w);
	ck_assert(!w.failed);
	buf = malloc(w.len);
	ck_assert_ptr_nonnull(buf);

	for (size_t len = 0; len < w.len; len += 8) {
		memcpy(buf, w.buf, len);
		snap_reader_init(&r, buf, len);
		ck_assert_ptr_null(netset_import(&r, &r));
		ck_assert(r.failed);
	}
	for (unsigned round = 0; round < 3000; round++) {
		memcpy(buf, w.buf, w.len);
		for (unsigned k = 1 + rng_below(&rng, 3); k > 0; k--) {
			size_t at = rng_below(&rng, (unsigned)(w.len / 8)) * 8;
			uint64_t v = rng_below(&rng, 2) ? rng_next(&rng) : rng_below(&rng, 140);
			if (rng_below(&rng, 2))
				buf[at + rng_below(&rng, 8)] ^= (uint8_t)(1u << rng_below(&rng, 8));
			else
				memcpy(buf + at, &v, sizeof(v));
		}
		snap_reader_init(&r, buf, w.len);
		copy = netset_import(&r, &r);
		if (copy == NULL)
			continue;
		parsed++;
		for (unsigned i = 0; i < 200; i++) {
			int family;
			uint8_t addr[16];
			gen_address(&rng, ref, 60, &family, addr);
			(void)netset_contains(copy, family, addr);
		}
		netset_free(copy);
	}
	ck_assert_uint_gt(parsed, 0); /* key and flag damage still parses */
	free(buf);
	snap_writer_free(&w);
	netset_free(set);
}
END_TEST

/* --- cidr_parse ----------------------------------------------------------- */

struct cidr_case {
	const char *text;
	int family;       /* 0: expect an error */
	const char *addr; /* expected address (inet_pton text) */
	unsigned len;
	const char *why; /* expected message on error */
};

static const struct cidr_case cidr_cases[] = {
	{ "10.20.0.0/16", AF_INET, "10.20.0.0", 16, NULL },
	{ "10.20.5.0/24", AF_INET, "10.20.5.0", 24, NULL },
	{ "0.0.0.0/0", AF_INET, "0.0.0.0", 0, NULL },
	{ "192.168.1.7", AF_INET, "192.168.1.7", 32, NULL },
	{ "192.168.1.7/32", AF_INET, "192.168.1.7", 32, NULL },
	{ "128.0.0.0/1", AF_INET, "128.0.0.0", 1, NULL },
	{ "fd00:20::/48", AF_INET6, "fd00:20::", 48, NULL },
	{ "::/0", AF_INET6, "::", 0, NULL },
	{ "2001:db8::1", AF_INET6, "2001:db8::1", 128, NULL },
	{ "2001:DB8::/32", AF_INET6, "2001:db8::", 32, NULL },
	{ "::ffff:10.0.0.0/104", AF_INET, "10.0.0.0", 8, NULL },
	{ "::ffff:10.1.2.3", AF_INET, "10.1.2.3", 32, NULL },
	{ "::ffff:0:0/96", AF_INET, "0.0.0.0", 0, NULL },
	{ "::/80", AF_INET6, "::", 80, NULL },
	{ "::fffe:0:0/95", AF_INET6, "::fffe:0:0", 95, NULL },
	{ "10.20.0.1/16", 0, NULL, 0, "10.20.0.1/16 has host bits set; did you mean 10.20.0.0/16?" },
	{ "1.2.3.4/0", 0, NULL, 0, "1.2.3.4/0 has host bits set; did you mean 0.0.0.0/0?" },
	{ "fd00::1/48", 0, NULL, 0, "fd00::1/48 has host bits set; did you mean fd00::/48?" },
	{ "FD00:0:0:0:0:0:0:1/64", 0, NULL, 0,
	  "FD00:0:0:0:0:0:0:1/64 has host bits set; did you mean fd00::/64?" },
	{ "::ffff:10.0.0.1/104", 0, NULL, 0,
	  "::ffff:10.0.0.1/104 has host bits set; did you mean ::ffff:10.0.0.0/104?" },
	{ "::ffff:0:0/95", 0, NULL, 0, "::ffff:0:0/95 has host bits set; did you mean ::fffe:0:0/95?" },
	{ "10.0.0.0/33", 0, NULL, 0, "prefix length 33 out of range for IPv4 (0-32)" },
	{ "fd00::/129", 0, NULL, 0, "prefix length 129 out of range for IPv6 (0-128)" },
	{ "10.0.0.0/99999999999999999999999", 0, NULL, 0,
	  "prefix length 99999999999999999999999 out of range for IPv4 (0-32)" },
	{ "fd00::zz/48", 0, NULL, 0, "'fd00::zz/48' is not an IPv4 or IPv6 address" },
	{ "", 0, NULL, 0, "empty network address" },
	{ NULL, 0, NULL, 0, "empty network address" },
	{ "10.0.0.0/", 0, NULL, 0,
	  "'10.0.0.0/' has a bad prefix length; expected a number 0-32 after '/'" },
	{ "10.0.0.0/+8", 0, NULL, 0,
	  "'10.0.0.0/+8' has a bad prefix length; expected a number 0-32 after '/'" },
	{ "10.0.0.0/-1", 0, NULL, 0,
	  "'10.0.0.0/-1' has a bad prefix length; expected a number 0-32 after '/'" },
	{ "10.0.0.0/ 8", 0, NULL, 0,
	  "'10.0.0.0/ 8' has a bad prefix length; expected a number 0-32 after '/'" },
	{ "10.0.0.0/8 ", 0, NULL, 0,
	  "'10.0.0.0/8 ' has a bad prefix length; expected a number 0-32 after '/'" },
	{ "10.0.0.0/08", 0, NULL, 0,
	  "'10.0.0.0/08' has a bad prefix length; expected a number 0-32 after '/'" },
	{ "10.0.0.0/8x", 0, NULL, 0,
	  "'10.0.0.0/8x' has a bad prefix length; expected a number 0-32 after '/'" },
	{ "10.0.0.0/8/8", 0, NULL, 0,
	  "'10.0.0.0/8/8' has a bad prefix length; expected a number 0-32 after '/'" },
	{ "fd00::/0x30", 0, NULL, 0,
	  "'fd00::/0x30' has a bad prefix length; expected a number 0-128 after '/'" },
	{ " 10.0.0.0/8", 0, NULL, 0, "' 10.0.0.0/8' is not an IPv4 or IPv6 address" },
	{ "+10.0.0.0/8", 0, NULL, 0, "'+10.0.0.0/8' is not an IPv4 or IPv6 address" },
	{ "/8", 0, NULL, 0, "'/8' is not an IPv4 or IPv6 address" },
	{ "10.0.0/8", 0, NULL, 0, "'10.0.0/8' is not an IPv4 or IPv6 address" },
	{ "010.0.0.0/8", 0, NULL, 0, "'010.0.0.0/8' is not an IPv4 or IPv6 address" },
	{ "1.2.3.4.5", 0, NULL, 0, "'1.2.3.4.5' is not an IPv4 or IPv6 address" },
	{ "example.com/24", 0, NULL, 0, "'example.com/24' is not an IPv4 or IPv6 address" },
	{ "localhost", 0, NULL, 0, "'localhost' is not an IPv4 or IPv6 address" },
	{ "fe80::1%eth0/64", 0, NULL, 0, "'fe80::1%eth0/64' is not an IPv4 or IPv6 address" },
	{ "[fd00::]/8", 0, NULL, 0, "'[fd00::]/8' is not an IPv4 or IPv6 address" },
	/* Control bytes and non-ASCII are not echoed into the message. */
	{ "\x1b[31m/8", 0, NULL, 0, "'?[31m/8' is not an IPv4 or IPv6 address" },
	{ "10.0.0.\xc3\xa9/8", 0, NULL, 0, "'10.0.0.?" "?/8' is not an IPv4 or IPv6 address" },
	{ "0123456789012345678901234567890123456789012345678901234567890123", 0, NULL, 0,
	  "'0123456789012345678901234567890123456789012345678901234567890123' is not an IPv4 or "
	  "IPv6 address" },
	{ "01234567890123456789012345678901234567890123456789012345678901234", 0, NULL, 0,
	  "network address longer than 64 characters" },
};

START_TEST(test_cidr_parse_table)
{
	const struct cidr_case *c = &cidr_cases[_i];
	const char *name = c->text ? c->text : "(null)";
	uint8_t addr[16], want[16] = { 0 };
	unsigned len = 999;
	int family = -1;
	char why[200] = "";
	int rv;

	memset(addr, 0xa5, sizeof(addr));
	rv = cidr_parse(c->text, &family, addr, &len, why, sizeof(why));
	if (c->family == 0) {
		ck_assert_msg(rv == -1, "%s: accepted", name);
		ck_assert_str_eq(why, c->why);
		return;
	}
	ck_assert_msg(rv == 0, "%s: refused: %s", name, why);
	ck_assert_int_eq(family, c->family);
	ck_assert_uint_eq(len, c->len);
	ck_assert_int_eq(inet_pton(c->family, c->addr, want), 1);
	ck_assert_msg(memcmp(addr, want, 16) == 0, "%s: address bytes differ", name);
}
END_TEST

START_TEST(test_cidr_parse_small_why)
{
	char why[12];
	uint8_t addr[16];
	unsigned len;
	int family;

	memset(why, 'x', sizeof(why));
	ck_assert_int_eq(cidr_parse("10.20.0.1/16", &family, addr, &len, why, sizeof(why)), -1);
	ck_assert_str_eq(why, "10.20.0.1/1"); /* truncated, terminated */
	ck_assert_int_eq(cidr_parse("10.20.0.1/16", &family, addr, &len, NULL, 0), -1);
	ck_assert_int_eq(cidr_parse("10.20.0.0/16", &family, addr, &len, NULL, 0), 0);
}
END_TEST

static Suite *netset_suite(void)
{
	Suite *s = suite_create("netset");
	TCase *tc = tcase_create("core");
	TCase *rnd = tcase_create("random");
	int nseeds = (int)(sizeof(random_seeds) / sizeof(random_seeds[0]));

	tcase_add_test(tc, test_netset_empty_and_zero_length);
	tcase_add_test(tc, test_netset_host_prefixes);
	tcase_add_test(tc, test_netset_duplicates_and_mapped);
	tcase_add_test(tc, test_netset_add_rejects);
	tcase_add_test(tc, test_netset_growth_and_add_after_lookup);
	tcase_add_test(tc, test_netset_all_ones_words);
	tcase_add_test(tc, test_netset_covered_markers);
	tcase_add_test(tc, test_netset_snapshot_corrupt);
	tcase_add_loop_test(tc, test_cidr_parse_table, 0,
			    (int)(sizeof(cidr_cases) / sizeof(cidr_cases[0])));
	tcase_add_test(tc, test_cidr_parse_small_why);
	suite_add_tcase(s, tc);

	/* The linear reference is slow by design; a fixed budget per seed. */
	tcase_set_timeout(rnd, 120);
	tcase_add_loop_test(rnd, test_netset_random_vs_reference, 0, nseeds);
	tcase_add_loop_test(rnd, test_netset_add_all_union, 0, nseeds);
	tcase_add_loop_test(rnd, test_netset_interleaved_adds, 0, nseeds);
	tcase_add_loop_test(rnd, test_netset_nested, 0, nseeds * 3);
	tcase_add_loop_test(rnd, test_netset_snapshot_round_trip, 0, nseeds);
	suite_add_tcase(s, rnd);
	return s;
}

TEST_MAIN(netset_suite)
