/* policy_snapshot.h - a compiled policy written as a flat snapshot, so that
 * a login maps it instead of parsing the text (a 10,000-prefix policy costs
 * milliseconds to parse and microseconds to map). A snapshot names the
 * exact policy file it was compiled from (device, inode, size, mtime and
 * ctime to the nanosecond); any change to that file makes it stale. */
#ifndef GARDE_POLICY_SNAPSHOT_H
#define GARDE_POLICY_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "policy.h"

struct policy_source_id {
	uint64_t dev, ino, size;
	uint64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

void policy_source_id_of(const struct stat *st, struct policy_source_id *id);

/* Writes pol compiled from the file identified by id into a new malloc'd
 * buffer. Returns 0, or -1 on ENOMEM. */
int policy_snapshot_encode(const struct policy *pol, const struct policy_source_id *id,
			   void **buf, size_t *len);

/* Rebuilds a policy from a snapshot of len bytes at map (which the policy
 * keeps and unmaps in policy_free: pass ownership of a MAP_PRIVATE
 * PROT_READ mapping). Returns 0, 1 when the snapshot is stale (another
 * file, build or format: map is untouched and still the caller's), or -1
 * when it is malformed (likewise). */
int policy_snapshot_decode(void *map, size_t len, const struct policy_source_id *id,
			   const char *zoneinfo_dir, struct policy **out);

#endif
