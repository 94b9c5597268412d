/* module_apppw.c - an app password as the whole credential (pam.d option
 * app_password). A mail client cannot send a code that changes every 30
 * seconds; an app password is a random 120-bit password made by
 * `garde app-password add` for one class of services, stored as a salted
 * scrypt hash, revocable, possibly expiring, and counted by the same
 * lockout as codes. Its shape (six groups of four characters) tells it
 * apart from "password + code" before anything is derived. */
#include <openssl/crypto.h>
#include <security/pam_ext.h>
#include <string.h>
#include <syslog.h>

#include "module.h"
#include "rfc3339.h"

#define APPPW_REASON "app_password_invalid"

/* The canonical form of PAM_AUTHTOK when it is shaped as an app password.
 * Whatever the client sent stays in PAM_AUTHTOK, untouched. */
static bool authtok_shaped(struct module_login *L, char canon[STORE_APPPW_CHARS + 1])
{
	const char *tok = NULL;

	if (pam_get_authtok(L->pamh, PAM_AUTHTOK, &tok, NULL) != PAM_SUCCESS || tok == NULL)
		return false; /* the rest of the login reports a missing password */
	return store_apppw_shape(tok, strnlen(tok, MODULE_AUTHTOK_MAX + 1), canon);
}

static const char *rule_name(const struct module_login *L)
{
	return L->dec.rule != NULL ? L->dec.rule->name : NULL;
}

/* A refusal: enforced, or only reported under a report-only policy (the
 * rest of the stack then decides, and refuses a password that is not the
 * user's). */
static int refuse(struct module_login *L, const char *reason, bool named_rule)
{
	const char *rule = named_rule ? rule_name(L) : NULL;

	if (L->dec.report_only_mode) {
		module_report(L, "login-would-deny", "unknown", reason, rule);
		return PAM_IGNORE;
	}
	module_report(L, "login-denied", "failure", reason, rule);
	return strncmp(reason, "locked_", 7) == 0 ? PAM_PERM_DENIED : PAM_AUTH_ERR;
}

/* Says why the matching app password a cannot be used here, or NULL. */
static const char *unusable(const struct module_login *L, const struct store_apppw *a)
{
	if (strcmp(a->class_name, L->dec.class_name) != 0)
		return "is for another class";
	if (a->expires != 0 && a->expires <= L->now)
		return "has expired";
	return NULL;
}

static void on_success(struct module_login *L, struct store_record *rec, struct store_apppw *a)
{
	struct lockout_slot *slot;
	bool changed;

	a->last_used = L->now;
	memset(a->last_source, 0, sizeof(a->last_source));
	if (L->ctx.source.kind != SOURCE_UNKNOWN)
		memcpy(a->last_source, L->source_text,
		       strnlen(L->source_text, STORE_SOURCE_MAX));
	else
		memcpy(a->last_source, "unknown", sizeof("unknown"));
	slot = store_zone_slot(rec, L->dec.zone, &L->pol->lockout_user, L->now);
	if (slot != NULL)
		lockout_reset(slot);
	store_history_add(rec, &L->ctx.source, &L->pol->history, L->now, &changed);
}

/* Checks canon under the user's lock (and the source's), as codes are:
 * a locked (user, zone) or source is refused before any derivation, and a
 * refusal counts in both. Returns a PAM code; *reason is set for an event. */
static int verify_locked(struct module_login *L, const char *canon, const char **reason)
{
	struct store_handle *h = NULL, *src = NULL;
	struct store_record *rec;
	struct lockout_slot *slot = NULL;
	const bool enforce = !L->dec.report_only_mode;
	const char *why = NULL;
	char when[40];
	size_t i = 0;
	int err, rv = PAM_AUTH_ERR;

	*reason = NULL;
	err = store_lock_user(L->store, L->user, &h);
	if (err != STORE_OK) {
		module_log(L, LOG_ERR, "user %s: record unusable: %s", L->user, store_strerror(err));
		return PAM_AUTHINFO_UNAVAIL;
	}
	rec = store_record(h);
	if (enforce) {
		slot = store_zone_slot(rec, L->dec.zone, &L->pol->lockout_user, L->now);
		if (slot == NULL) {
			rv = PAM_BUF_ERR;
			goto out;
		}
		if (lockout_is_locked(slot, L->now)) {
			*reason = "locked_user";
			goto out;
		}
	}
	err = store_apppw_match(rec, canon, &i);
	if (err == STORE_OK)
		why = unusable(L, &rec->apppw[i]);
	else if (err != STORE_ENOENT) {
		module_log(L, LOG_ERR, "user %s: app password not checked: %s", L->user,
			   store_strerror(err));
		rv = PAM_AUTHINFO_UNAVAIL;
		goto out;
	}
	if (enforce) {
		bool locked;
		int gate = module_source_gate(L, err == STORE_OK && why == NULL, &src, &locked);

		if (gate != PAM_SUCCESS || locked) {
			*reason = locked ? "locked_source" : NULL;
			rv = gate != PAM_SUCCESS ? gate : PAM_AUTH_ERR;
			goto out;
		}
	}
	if (err == STORE_OK && why == NULL) {
		on_success(L, rec, &rec->apppw[i]);
		rv = PAM_SUCCESS;
	}
	if (rv == PAM_SUCCESS) {
		module_log(L, LOG_INFO, "user %s: app password %s accepted for class %s", L->user,
			   rec->apppw[i].id, L->dec.class_name);
	} else if (err == STORE_ENOENT) {
		module_log(L, LOG_NOTICE, "user %s: app password refused: none of the user's %zu "
			   "app passwords", L->user, rec->n_apppw);
	} else {
		when[0] = '\0';
		if (rec->apppw[i].expires != 0)
			rfc3339_format(rec->apppw[i].expires, when, sizeof(when));
		module_log(L, LOG_NOTICE, "user %s: app password %s refused: it %s (class %s%s%s), "
			   "this login is class %s", L->user, rec->apppw[i].id, why,
			   rec->apppw[i].class_name, when[0] != '\0' ? ", expires " : "", when,
			   L->dec.class_name);
	}
	if (rv != PAM_SUCCESS) {
		*reason = APPPW_REASON;
		if (!enforce)
			goto out; /* report-only: nothing is counted */
		lockout_record_failure(slot, &L->pol->lockout_user, L->now);
	}
	err = store_commit(h);
	if (err != STORE_OK) {
		module_log(L, LOG_ERR, "user %s: record not written: %s", L->user,
			   store_strerror(err));
		if (rv == PAM_SUCCESS) {
			/* An unrecorded use would also be an unrecorded lockout reset. */
			*reason = NULL;
			rv = PAM_AUTHINFO_UNAVAIL;
			goto out;
		}
	}
	if (rv != PAM_SUCCESS)
		module_source_failure(L, src);
out:
	store_unlock(src);
	store_unlock(h);
	return rv;
}

int module_apppw(struct module_login *L)
{
	char canon[STORE_APPPW_CHARS + 1];
	const char *reason = NULL;
	size_t unused;
	bool known;
	int rv;

	if (!L->opts.app_password || !authtok_shaped(L, canon))
		return PAM_IGNORE;
	if (L->dec.rule == NULL || !L->dec.rule->app_password) {
		module_log(L, LOG_NOTICE, "user %s: an app password was sent; rule %s does not "
			   "accept app passwords (app_password = true in garde-policy(5))", L->user,
			   rule_name(L) != NULL ? rule_name(L) : "(none)");
		rv = refuse(L, APPPW_REASON, true);
		goto out;
	}
	rv = module_user_known(L, &known);
	if (rv != PAM_SUCCESS)
		goto out;
	if (!known) {
		/* The same derivation as for a user without app passwords, and
		 * no lock file: guessed names must neither show nor fill the store. */
		if (store_apppw_match(NULL, canon, &unused) == STORE_EIO)
			module_log(L, LOG_ERR, "user %s: app password not checked", L->user);
		module_log(L, LOG_NOTICE, "user %s: app password refused: unknown user", L->user);
		rv = refuse(L, APPPW_REASON, true);
		goto out;
	}
	rv = module_store(L);
	if (rv != PAM_SUCCESS)
		goto out;
	rv = verify_locked(L, canon, &reason);
	if (rv == PAM_SUCCESS) {
		/* An app password is the whole credential: for the account phase
		 * it stands for the factor as well. */
		module_factor_mark(L);
		if (L->dec.alert)
			module_report(L, "login-alert", "success", NULL, rule_name(L));
	} else if (reason != NULL) {
		rv = refuse(L, reason, strncmp(reason, "locked_", 7) != 0);
	}
out:
	OPENSSL_cleanse(canon, sizeof(canon));
	return rv;
}
