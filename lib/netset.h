/* netset.h - sets of IPv4/IPv6 prefixes.
 *
 * Membership lookup is a binary search on the prefix lengths present: at
 * most 6 hash probes for IPv4 and 8 for IPv6, never a scan of the prefixes,
 * so 10,000 prefixes cost about the same per lookup as 10. A set is a few
 * flat arrays so that it can be written to and mapped from a snapshot. */
#ifndef GARDE_NETSET_H
#define GARDE_NETSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netset;

struct netset *netset_new(void);
void netset_free(struct netset *set);

/* addr is in network order (4 bytes for AF_INET, 16 for AF_INET6); host
 * bits past prefixlen must be zero (cidr_parse guarantees it). Returns 0 or
 * -1 (ENOMEM; EINVAL for a bad family, length or host bits set, or a set
 * imported from a snapshot, which is read-only). Adding after
 * netset_contains is fine, but the first lookup (or export) after adds may
 * redo the search markers, in O(prefixes log lengths): build a set, then
 * look up, and share it between threads only after a first lookup. An
 * IPv4-mapped IPv6 prefix of length >= 96 is stored as its IPv4 prefix, as
 * cidr_parse does. */
int netset_add(struct netset *set, int family, const uint8_t *addr, unsigned prefixlen);

/* Adds every prefix of src to dst (-1 as netset_add). */
int netset_add_all(struct netset *dst, const struct netset *src);

/* An IPv4-mapped IPv6 address is looked up as the IPv4 address it maps, as
 * source_parse sees it: ::/0 does not contain ::ffff:10.0.0.1. */
bool netset_contains(const struct netset *set, int family, const uint8_t *addr);

size_t netset_count(const struct netset *set); /* prefixes added (duplicates once) */

/* Distinct prefix lengths present for family (AF_INET or AF_INET6): a
 * lookup of that family costs at most ceil(log2(lengths + 1)) hash probes. */
size_t netset_lengths(const struct netset *set, int family);

/* Parses "ADDR/LEN" or a bare address (a host prefix). On error returns -1
 * and writes a message for the administrator into why, for example
 * "10.20.0.1/16 has host bits set; did you mean 10.20.0.0/16?". An
 * IPv4-mapped IPv6 prefix (::ffff:a.b.c.d/len with len >= 96) is stored as
 * its IPv4 prefix, so it matches the IPv4 sources it names. */
int cidr_parse(const char *text, int *family, uint8_t addr[16], unsigned *prefixlen,
	       char *why, size_t whylen);

struct snap_writer;
struct snap_reader;

/* Writes set to a snapshot: its description to w, its tables (and search
 * markers, once finished) to bulk, at offsets of bulk's own buffer that
 * w records. bulk may be w. Sets w->failed when out of memory. */
void netset_export(const struct netset *set, struct snap_writer *w, struct snap_writer *bulk);

/* A set described in r whose tables are used in place from bulk's buffer
 * (r itself when written with bulk == w), which must outlive it. NULL (and
 * r->failed) on a malformed snapshot, or NULL on ENOMEM. */
struct netset *netset_import(struct snap_reader *r, struct snap_reader *bulk);

#endif
