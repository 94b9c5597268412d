/* bench_netset.c - netset lookup cost for 10 and 10,000 prefixes, side by side.
 *
 * Prefixes are random, half IPv4 /16../32 and half IPv6 /32../64; lookups
 * mix addresses inside a prefix (hits) and random addresses (mostly misses).
 * Prints the median nanoseconds per lookup over many rounds, and the number
 * of distinct prefix lengths: a lookup binary-searches them, so its probes
 * grow with their logarithm (at most 6 for IPv4, 8 for IPv6).
 *
 * Build: gcc -O2 -Ilib bench/bench_netset.c build/libgarde.a -o bench_netset */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "netset.h"

#define BENCH_ADDRS 4096     /* lookup addresses, cycled; a power of two */
#define BENCH_PER_ROUND 200000
#define BENCH_ROUNDS 51

struct bench_addr {
	int family;
	uint8_t addr[16];
	unsigned len; /* prefixes only */
};

static uint64_t bench_rng(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(0x2545f4914f6cdd1d);
}

static void bench_bytes(uint64_t *state, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(bench_rng(state) >> 56);
}

static void bench_mask(uint8_t *addr, unsigned len, unsigned bytes)
{
	for (unsigned bit = len; bit < bytes * 8; bit++)
		addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

static uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct bench_result {
	double median_ns;
	double hit_ratio;
	size_t count;
	size_t lens4, lens6;
};

/* Site-like sets: the same five lengths per family whatever the count, so
 * that the two sizes differ only in the number of prefixes. */
static const unsigned site_v4[5] = { 16, 20, 24, 28, 32 };
static const unsigned site_v6[5] = { 32, 40, 48, 56, 64 };

static int bench_one(size_t nprefixes, uint64_t seed, bool site, struct bench_result *res)
{
	struct netset *set = netset_new();
	struct bench_addr *pfx = calloc(nprefixes, sizeof(*pfx));
	struct bench_addr *look = calloc(BENCH_ADDRS, sizeof(*look));
	double samples[BENCH_ROUNDS];
	size_t hits = 0;
	int rv = -1;

	if (set == NULL || pfx == NULL || look == NULL)
		goto out;
	for (size_t i = 0; i < nprefixes; i++) {
		struct bench_addr *p = &pfx[i];
		if (i % 2 == 0) {
			p->family = AF_INET;
			p->len = site ? site_v4[(i / 2) % 5] : 16 + (unsigned)(bench_rng(&seed) % 17);
			bench_bytes(&seed, p->addr, 4);
			bench_mask(p->addr, p->len, 4);
		} else {
			p->family = AF_INET6;
			p->len = site ? site_v6[(i / 2) % 5] : 32 + (unsigned)(bench_rng(&seed) % 33);
			bench_bytes(&seed, p->addr, 16);
			p->addr[0] = 0x20; /* global unicast, never IPv4-mapped */
			bench_mask(p->addr, p->len, 16);
		}
		if (netset_add(set, p->family, p->addr, p->len) != 0)
			goto out;
	}
	for (size_t i = 0; i < BENCH_ADDRS; i++) {
		const struct bench_addr *p = &pfx[bench_rng(&seed) % nprefixes];
		unsigned bytes = p->family == AF_INET ? 4 : 16;

		look[i].family = p->family;
		bench_bytes(&seed, look[i].addr, bytes);
		if (i % 2 == 0) {
			/* Inside p: its prefix bits, then random host bits. */
			for (unsigned bit = 0; bit < p->len; bit++) {
				uint8_t m = (uint8_t)(0x80u >> (bit % 8));
				look[i].addr[bit / 8] = (uint8_t)((look[i].addr[bit / 8] & ~m) |
								  (p->addr[bit / 8] & m));
			}
		}
	}
	for (size_t i = 0; i < BENCH_ADDRS; i++)
		hits += netset_contains(set, look[i].family, look[i].addr);

	for (int r = 0; r < BENCH_ROUNDS; r++) {
		volatile size_t sink = 0;
		size_t found = 0;
		uint64_t t0 = bench_now_ns();
		for (size_t i = 0; i < BENCH_PER_ROUND; i++) {
			const struct bench_addr *a = &look[i & (BENCH_ADDRS - 1)];
			found += netset_contains(set, a->family, a->addr);
		}
		uint64_t t1 = bench_now_ns();
		sink = found;
		(void)sink;
		samples[r] = (double)(t1 - t0) / BENCH_PER_ROUND;
	}
	qsort(samples, BENCH_ROUNDS, sizeof(samples[0]), bench_cmp);
	res->median_ns = samples[BENCH_ROUNDS / 2];
	res->hit_ratio = (double)hits / BENCH_ADDRS;
	res->count = netset_count(set);
	res->lens4 = netset_lengths(set, AF_INET);
	res->lens6 = netset_lengths(set, AF_INET6);
	rv = 0;
out:
	netset_free(set);
	free(pfx);
	free(look);
	return rv;
}

static int bench_pair(bool site, const char *title)
{
	static const size_t sizes[] = { 10, 10000 };
	struct bench_result res[2];

	for (size_t i = 0; i < 2; i++) {
		if (bench_one(sizes[i], UINT64_C(0x9e3779b97f4a7c15) + i, site, &res[i]) != 0) {
			fprintf(stderr, "bench_netset: out of memory\n");
			return 1;
		}
	}
	printf("%s\n", title);
	printf("%-10s %10s %12s %12s %10s\n", "prefixes", "ns/lookup", "v4 lengths",
	       "v6 lengths", "hit ratio");
	for (size_t i = 0; i < 2; i++)
		printf("%-10zu %10.1f %12zu %12zu %9.0f%%\n", res[i].count, res[i].median_ns,
		       res[i].lens4, res[i].lens6, res[i].hit_ratio * 100);
	printf("ratio 10000/10: %.2f\n", res[1].median_ns / res[0].median_ns);
	return 0;
}

int main(void)
{
	printf("netset lookup, median of %d rounds x %d lookups\n", BENCH_ROUNDS,
	       BENCH_PER_ROUND);
	/* The first pair keeps the lengths fixed and varies only the count;
	 * the second draws every length at random, so the large set also has
	 * more lengths to search (5 and 6 probes instead of 3) and tables that
	 * no longer fit in the cache. */
	if (bench_pair(true, "\nsite-like lengths (v4 /16 /20 /24 /28 /32, v6 /32../64 by 8):") != 0 ||
	    bench_pair(false, "\nrandom lengths (v4 /16../32, v6 /32../64):") != 0)
		return 1;
	return 0;
}
