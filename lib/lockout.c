/* lockout.c - failure counting and locks (see lockout.h). */
#include "lockout.h"

#include <string.h>

bool lockout_is_locked(const struct lockout_slot *slot, int64_t now)
{
	return slot->locked_until != 0 && now < slot->locked_until;
}

/* now - then >= span, without overflow for any int64 pair. */
static bool lockout_elapsed(int64_t then, int64_t now, unsigned span)
{
	if (now < then)
		return false; /* the clock went back: keep what we have */
	return (uint64_t)now - (uint64_t)then >= span;
}

static int64_t lockout_add(int64_t now, unsigned span)
{
	return now > INT64_MAX - (int64_t)span ? INT64_MAX : now + (int64_t)span;
}

bool lockout_record_failure(struct lockout_slot *slot, const struct policy_lockout_slot *params,
			    int64_t now)
{
	unsigned deny = params->deny > 0 ? params->deny : 1;

	if (lockout_is_locked(slot, now)) {
		/* Still counted (the caller should not have verified anything),
		 * but a running lock is never extended: an attacker must not be
		 * able to keep a user locked for longer than `unlock` per burst. */
		if (slot->failures < UINT32_MAX)
			slot->failures++;
		return true;
	}
	if (slot->locked_until != 0 ||
	    (slot->failures > 0 && lockout_elapsed(slot->first_failure, now, params->interval)))
		lockout_reset(slot);
	if (slot->failures == 0)
		slot->first_failure = now;
	if (slot->failures < UINT32_MAX)
		slot->failures++;
	if (slot->failures >= deny)
		slot->locked_until = lockout_add(now, params->unlock);
	return lockout_is_locked(slot, now);
}

void lockout_reset(struct lockout_slot *slot)
{
	memset(slot, 0, sizeof(*slot));
}

bool lockout_is_idle(const struct lockout_slot *slot, const struct policy_lockout_slot *params,
		     int64_t now)
{
	if (lockout_is_locked(slot, now))
		return false;
	if (slot->locked_until != 0)
		return true; /* a lock that has ended */
	return slot->failures == 0 || lockout_elapsed(slot->first_failure, now, params->interval);
}
