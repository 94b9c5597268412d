/* module_lockout.c - refusing a locked (user, zone) or a locked source
 * before anything else is asked. */
#include <security/pam_ext.h>
#include <syslog.h>

#include "module.h"

/* Peeks: no lock, nothing written, nothing created. A code is checked
 * again under the lock (module_factor.c), so a lock that begins after the
 * peek still stops it. */
static int user_locked(struct module_login *L, bool *locked)
{
	const struct store_record *rec = NULL;
	const struct lockout_slot *slot;
	int rv = module_peek_user(L, &rec);

	*locked = false;
	if (rv != PAM_SUCCESS || rec == NULL)
		return rv;
	slot = store_zone_find(rec, L->dec.zone);
	*locked = slot != NULL && lockout_is_locked(slot, L->now);
	return PAM_SUCCESS;
}

int module_source_locked(struct module_login *L, bool *locked)
{
	struct lockout_slot slot;
	int err;

	*locked = false;
	if (L->ctx.source.kind != SOURCE_IP)
		return PAM_SUCCESS; /* local and unknown sources have no address to count */
	err = store_peek_source(L->store, L->source_text, &slot);
	if (err == STORE_ENOENT)
		return PAM_SUCCESS;
	if (err != STORE_OK) {
		module_log(L, LOG_ERR, "source %s: record unusable: %s", L->source_text,
			   store_strerror(err));
		return PAM_AUTHINFO_UNAVAIL;
	}
	*locked = lockout_is_locked(&slot, L->now);
	return PAM_SUCCESS;
}

int module_lockout_check(struct module_login *L)
{
	bool locked = false;
	int rv;

	if (L->dec.action == GARDE_DENY || L->dec.report_only_mode)
		return PAM_SUCCESS; /* refused anyway, or nothing enforced */
	rv = module_store(L);
	if (rv == PAM_SUCCESS)
		rv = module_source_locked(L, &locked);
	if (rv == PAM_SUCCESS && locked) {
		module_report(L, "login-denied", "failure", "locked_source", NULL);
		return PAM_PERM_DENIED;
	}
	if (rv == PAM_SUCCESS)
		rv = user_locked(L, &locked);
	if (rv == PAM_SUCCESS && locked) {
		module_report(L, "login-denied", "failure", "locked_user", NULL);
		return PAM_PERM_DENIED;
	}
	return rv;
}

/* The source's lockout record under its lock, taken after the user's (one
 * order, no deadlock). *h stays NULL for a local or unknown source (no
 * address). */
static int lock_source(struct module_login *L, struct store_handle **h)
{
	int err;

	*h = NULL;
	if (L->ctx.source.kind != SOURCE_IP)
		return PAM_SUCCESS;
	err = store_lock_source(L->store, L->source_text, h);
	if (err != STORE_OK) {
		module_log(L, LOG_ERR, "source %s: record unusable: %s", L->source_text,
			   store_strerror(err));
		return PAM_AUTHINFO_UNAVAIL;
	}
	return PAM_SUCCESS;
}

/* Only a wrong credential takes the source's lock, which it is counted
 * under: parallel attempts from one address spread over many users then
 * cannot count past lockout.source.deny, and one that finds the source
 * locked by then is refused uncounted. A right one only looks at the
 * source's record again, without its lock, and is refused when the source
 * was locked since the look before the prompt; a lock that lands after
 * that look comes after this login. So logins that succeed, most of them,
 * from one address (a mail gateway, a NAT) do not wait for one another. */
int module_source_gate(struct module_login *L, bool right, struct store_handle **src,
		       bool *locked)
{
	int rv;

	*src = NULL;
	*locked = false;
	if (right)
		return module_source_locked(L, locked);
	rv = lock_source(L, src);
	if (rv == PAM_SUCCESS && *src != NULL)
		*locked = lockout_is_locked(store_source_slot(*src), L->now);
	return rv;
}

void module_source_failure(struct module_login *L, struct store_handle *src)
{
	int err;

	if (src == NULL)
		return;
	lockout_record_failure(store_source_slot(src), &L->pol->lockout_source, L->now);
	err = store_commit(src);
	if (err != STORE_OK)
		module_log(L, LOG_ERR, "source %s: failure not recorded: %s", L->source_text,
			   store_strerror(err));
}
