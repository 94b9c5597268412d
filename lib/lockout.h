/* lockout.h - failure counting and locks for one slot: a (user, zone) pair
 * or a source address. Pure functions over the slot, the policy's
 * parameters and the time: no I/O, no clock. The caller holds the store
 * lock around read-modify-write (store.h). */
#ifndef GARDE_LOCKOUT_H
#define GARDE_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

struct lockout_slot {
	uint32_t failures;     /* failures counted since first_failure */
	int64_t first_failure; /* UTC seconds; meaningful when failures > 0 */
	int64_t locked_until;  /* UTC seconds; 0 = not locked */
};

/* true while now < locked_until. */
bool lockout_is_locked(const struct lockout_slot *slot, int64_t now);

/* Counts one failure at now. A lock that has ended, or failures that began
 * interval seconds ago or more, restart the count at this failure; reaching
 * params->deny sets locked_until = now + params->unlock. Failures counted
 * while a lock runs do not extend it. Returns true when the slot is locked
 * after this failure. */
bool lockout_record_failure(struct lockout_slot *slot, const struct policy_lockout_slot *params,
			    int64_t now);

/* Forgets failures and any lock (a successful login, `garde unlock`). */
void lockout_reset(struct lockout_slot *slot);

/* true when the slot carries nothing worth keeping at now: no lock running
 * and no failure inside the interval. Such a slot may be dropped. */
bool lockout_is_idle(const struct lockout_slot *slot, const struct policy_lockout_slot *params,
		     int64_t now);

#endif
