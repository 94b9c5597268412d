/* pam_garde.c - the PAM entry points, kept thin: build the login, call the
 * core, map the result to a PAM code (the table in pam_garde.8). */
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <string.h>
#include <syslog.h>

#include "module.h"

/* A rule (or no rule) denies: the rule's message to the user, one event. */
static int policy_denied(struct module_login *L)
{
	module_tell_user(L, L->dec.rule != NULL ? L->dec.rule->message : NULL);
	module_report(L, "login-denied", "failure", decide_reason_name(L->dec.reason),
		      L->dec.rule != NULL ? L->dec.rule->name : NULL);
	return PAM_PERM_DENIED;
}

/* auth: deny, ask for the second factor, or let the stack go on. A login
 * that needs no factor gets PAM_IGNORE, never PAM_SUCCESS, so that a
 * `sufficient` line cannot turn "nothing to add" into a bypass. */
PAM_EXTERN __attribute__((visibility("default"))) int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct module_login L;
	int rv;

	(void)flags;
	/* A factor from an earlier attempt in this transaction does not carry
	 * over to this one, whatever this one turns out to be. */
	module_factor_forget(pamh);
	rv = module_login_begin(&L, pamh, PHASE_AUTH, argc, argv);
	if (rv != PAM_SUCCESS)
		goto out;
	rv = module_lockout_check(&L);
	if (rv != PAM_SUCCESS)
		goto out;
	/* With app_password, a password shaped as one is checked as the whole
	 * credential (where the deciding rule allows it) before any code is
	 * asked; anything else goes on below. A deny rule refuses it first. */
	rv = L.dec.action != GARDE_DENY ? module_apppw(&L) : PAM_IGNORE;
	/* An accepted app password met the factor a report-only policy would
	 * have asked for: that is no would-deny. */
	module_report_would(&L, rv == PAM_SUCCESS);
	pam_set_data(pamh, MODULE_AUTH_RAN_DATA, (void *)1, NULL);
	if (rv != PAM_IGNORE)
		goto out;
	switch (L.dec.action) {
	case GARDE_DENY:
		rv = policy_denied(&L);
		break;
	case GARDE_MFA:
		rv = module_factor(&L);
		break;
	case GARDE_ALLOW:
		/* An alert carries no reason: the vocabulary names denials. */
		if (L.dec.alert)
			module_report(&L, "login-alert", "success", NULL, L.dec.rule->name);
		rv = PAM_IGNORE;
		break;
	}
out:
	module_login_end(&L);
	return rv;
}

PAM_EXTERN __attribute__((visibility("default"))) int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/* account: the same policy again, for logins that never ran the auth phase
 * (sshd public-key logins). A rule that requires a second factor is met only
 * by a factor verified in this PAM transaction, or by a remembered source. */
PAM_EXTERN __attribute__((visibility("default"))) int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct module_login L;
	const void *auth_ran = NULL;
	int rv;

	(void)flags;
	rv = module_login_begin(&L, pamh, PHASE_ACCOUNT, argc, argv);
	if (rv != PAM_SUCCESS)
		goto out;
	/* A login that skipped the auth phase (public key) has not been
	 * reported yet. */
	if (pam_get_data(pamh, MODULE_AUTH_RAN_DATA, &auth_ran) != PAM_SUCCESS)
		auth_ran = NULL;
	if (auth_ran == NULL)
		module_report_would(&L, false);
	switch (L.dec.action) {
	case GARDE_DENY:
		rv = policy_denied(&L);
		break;
	case GARDE_MFA:
		if (module_factor_verified(&L)) {
			rv = PAM_SUCCESS;
			break;
		}
		rv = module_factor_remembered(&L);
		if (rv == PAM_SUCCESS || rv == PAM_AUTHINFO_UNAVAIL)
			break;
		module_tell_user(&L, "A second factor is required for this login.");
		module_report(&L, "login-denied", "failure", "mfa_missing", L.dec.rule->name);
		rv = PAM_PERM_DENIED;
		break;
	case GARDE_ALLOW:
		if (L.dec.alert && auth_ran == NULL)
			module_report(&L, "login-alert", "success", NULL, L.dec.rule->name);
		rv = PAM_SUCCESS;
		break;
	}
out:
	module_login_end(&L);
	return rv;
}
