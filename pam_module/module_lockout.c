/* module_lockout.c - refusing a locked (user, zone) or a locked source
 * before anything else is asked. */
#include <security/pam_ext.h>
#include <syslog.h>

#include "module.h"

/* Reads without changing anything: a refused login costs no write. */
static int user_locked(struct module_login *L, bool *locked)
{
	struct store_handle *h = NULL;
	const struct lockout_slot *slot;
	int err;

	*locked = false;
	/* No lock file for a name NSS does not know: guessing names must not
	 * fill the store, and such a user has no record to be locked in. */
	if (!L->user_known)
		return PAM_SUCCESS;
	err = store_lock_user(L->store, L->user, &h);
	if (err != STORE_OK) {
		module_log(L, LOG_ERR, "user %s: record unusable: %s", L->user, store_strerror(err));
		return PAM_AUTHINFO_UNAVAIL;
	}
	slot = store_zone_find(store_record(h), L->dec.zone);
	*locked = slot != NULL && lockout_is_locked(slot, L->now);
	store_unlock(h);
	return PAM_SUCCESS;
}

static int source_locked(struct module_login *L, bool *locked)
{
	struct store_handle *h = NULL;
	int err;

	*locked = false;
	if (L->ctx.source.kind != SOURCE_IP)
		return PAM_SUCCESS; /* local and unknown sources have no address to count */
	err = store_lock_source(L->store, L->source_text, &h);
	if (err != STORE_OK) {
		module_log(L, LOG_ERR, "source %s: record unusable: %s", L->source_text,
			   store_strerror(err));
		return PAM_AUTHINFO_UNAVAIL;
	}
	*locked = lockout_is_locked(store_source_slot(h), L->now);
	store_unlock(h);
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
		rv = source_locked(L, &locked);
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
