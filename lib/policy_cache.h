/* policy_cache.h - the policy as a login loads it: from a snapshot next to
 * the token store when one matches the policy file exactly, else parsed
 * from the text (and the snapshot written for the next login). */
#ifndef GARDE_POLICY_CACHE_H
#define GARDE_POLICY_CACHE_H

#include "policy.h"
#include "policy_snapshot.h"

/* Loads the policy at path (trust rules of policy_load). cache_dirfd (-1:
 * none) is an open, trusted directory where snapshots are kept; a snapshot
 * that is missing, stale or damaged is ignored and rewritten. id (may be
 * NULL) receives the identity of the file the policy was compiled from.
 * Returns 0, or -1 after reporting the policy's errors through opts. */
int policy_cache_load(const char *path, int cache_dirfd, const struct policy_load_opts *opts,
		      struct policy **out, struct policy_source_id *id);

#endif
