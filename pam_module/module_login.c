/* module_login.c - everything a decision needs: options, PAM items, the
 * policy, the user's groups and network history, then the decision. */
#include <errno.h>
#include <security/pam_ext.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "module.h"
#include "policy_cache.h"

void module_log(struct module_login *L, int priority, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Whatever a user name or rhost holds, the log line stays one line. */
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	pam_syslog(L->pamh, priority, "%s", msg);
}

/* An item that names the login: present, at most SOURCE_MAX_TEXT bytes and
 * without control characters (NUL cannot occur in a C string). */
static bool item_ok(const char *value, bool may_be_empty)
{
	size_t len;

	if (value == NULL)
		return may_be_empty;
	len = strnlen(value, SOURCE_MAX_TEXT + 1);
	if (len > SOURCE_MAX_TEXT || (len == 0 && !may_be_empty))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			return false;
	return true;
}

static int read_items(struct module_login *L)
{
	const void *item = NULL;
	int rv;

	if (L->phase == PHASE_AUTH) {
		rv = pam_get_user(L->pamh, &L->user, NULL);
	} else {
		rv = pam_get_item(L->pamh, PAM_USER, &item);
		L->user = item;
	}
	if (rv != PAM_SUCCESS || !item_ok(L->user, false)) {
		module_log(L, LOG_ERR, "refused: missing, oversize or malformed user name");
		L->user = NULL;
		return rv == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_AUTH_ERR;
	}
	if (pam_get_item(L->pamh, PAM_SERVICE, &item) != PAM_SUCCESS || !item_ok(item, false)) {
		module_log(L, LOG_ERR, "refused: no usable PAM service name");
		return PAM_SERVICE_ERR;
	}
	L->service = item;
	item = NULL;
	if (pam_get_item(L->pamh, PAM_RHOST, &item) != PAM_SUCCESS || !item_ok(item, true)) {
		module_log(L, LOG_ERR, "refused user %s: oversize or malformed PAM_RHOST", L->user);
		return PAM_AUTH_ERR;
	}
	L->rhost = item;
	if (source_parse(L->rhost, &L->ctx.source) != 0)
		return PAM_AUTH_ERR;
	source_format(&L->ctx.source, L->source_text, sizeof(L->source_text));
	return PAM_SUCCESS;
}

/* Opens the store once per call; the error is kept for module_store. */
static int module_store_quiet(struct module_login *L)
{
	if (L->store == NULL && L->store_err == STORE_OK)
		L->store_err = store_open_kept(L->opts.store, &L->store);
	return L->store != NULL ? PAM_SUCCESS : PAM_AUTHINFO_UNAVAIL;
}

int module_store(struct module_login *L)
{
	if (module_store_quiet(L) == PAM_SUCCESS)
		return PAM_SUCCESS;
	module_log(L, LOG_ERR, "token store %s unusable: %s", L->opts.store,
		   store_strerror(L->store_err));
	return PAM_AUTHINFO_UNAVAIL;
}

int module_user_known(struct module_login *L, bool *known)
{
	const struct store_record *rec = NULL;
	const struct usergroups *groups;

	/* A user with a record was enrolled by an administrator (perhaps from
	 * a central users file, before the account exists here): known without
	 * asking NSS. What matters is that guessed names make no files, and a
	 * record is not a guess. */
	if (module_peek_user(L, &rec) == PAM_SUCCESS && rec != NULL) {
		*known = true;
		return PAM_SUCCESS;
	}
	if (!L->user_looked_up) {
		if (module_cache_user(L->pamh, L->user, false, &L->user_known, &groups) != 0) {
			module_log(L, LOG_ERR, "user %s: cannot read the user from NSS", L->user);
			return PAM_AUTHINFO_UNAVAIL;
		}
		L->user_looked_up = true;
	}
	*known = L->user_known;
	return PAM_SUCCESS;
}

int module_peek_user(struct module_login *L, const struct store_record **rec)
{
	int err, rv;

	if (!L->peek_done) {
		rv = module_store(L);
		if (rv == PAM_SUCCESS && (L->peeked = malloc(sizeof(*L->peeked))) == NULL)
			rv = PAM_BUF_ERR;
		if (rv == PAM_SUCCESS) {
			store_record_clear(L->peeked);
			err = store_peek_user(L->store, L->user, L->peeked);
			if (err != STORE_OK) {
				store_record_wipe(L->peeked);
				free(L->peeked);
				L->peeked = NULL;
			}
			if (err != STORE_OK && err != STORE_ENOENT) {
				module_log(L, LOG_ERR, "user %s: record unusable: %s", L->user,
					   store_strerror(err));
				rv = PAM_AUTHINFO_UNAVAIL;
			}
		}
		L->peek_rv = rv;
		L->peek_done = true;
	}
	*rec = L->peek_rv == PAM_SUCCESS ? L->peeked : NULL;
	return L->peek_rv;
}

/* new_network needs the user's history; read only when a rule uses it. */
static int read_history(struct module_login *L)
{
	const struct store_record *rec = NULL;
	int rv;

	if (!L->pol->uses_new_network)
		return PAM_SUCCESS;
	rv = module_peek_user(L, &rec);
	if (rv != PAM_SUCCESS)
		return rv;
	L->ctx.new_network = rec == NULL || !store_history_seen(rec, &L->ctx.source,
								&L->pol->history, L->now);
	return PAM_SUCCESS;
}

static void policy_diag(void *arg, const char *file, int line, const char *message)
{
	struct module_login *L = arg;

	module_log(L, LOG_ERR, "policy %s:%d: %s", file, line, message);
}

static int load_from_file(const char *path, struct policy **out, struct policy_source_id *id,
			  void *arg)
{
	struct module_login *L = arg;
	struct policy_load_opts opts = { .diag = policy_diag, .diag_arg = L };

	/* The snapshot lives in the store: open it now, it is needed next
	 * anyway. A store that cannot be opened only costs the snapshot here;
	 * what needs the store says so later. */
	int dirfd = module_store_quiet(L) == PAM_SUCCESS ? store_dirfd(L->store) : -1;

	return policy_cache_load(path, dirfd, &opts, out, id) == 0 ? PAM_SUCCESS : PAM_SERVICE_ERR;
}

/* The policy, or the fail mode: secure denies, safe steps aside. */
static int load_policy(struct module_login *L)
{
	const char *why = NULL;
	int rv = module_cache_policy(L->pamh, L->opts.policy, L->now, &L->pol, load_from_file, L);

	if (rv == PAM_BUF_ERR)
		return rv;
	if (rv != PAM_SUCCESS)
		why = "unusable";
	else if (L->pol->expires != 0 && L->pol->expires <= L->now)
		why = "expired";
	if (why == NULL)
		return PAM_SUCCESS;
	L->pol = NULL;
	module_log(L, LOG_ERR, "policy %s is %s; failmode=%s: %s", L->opts.policy, why,
		   L->opts.failmode == FAILMODE_SAFE ? "safe" : "secure",
		   L->opts.failmode == FAILMODE_SAFE ? "not enforcing" : "login refused");
	module_report(L, "login-denied", L->opts.failmode == FAILMODE_SAFE ? "unknown" : "failure",
		      "policy_unavailable", NULL);
	return L->opts.failmode == FAILMODE_SAFE ? PAM_IGNORE : PAM_SERVICE_ERR;
}

int module_login_begin(struct module_login *L, pam_handle_t *pamh, enum module_phase phase,
		       int argc, const char **argv)
{
	const struct usergroups *groups = NULL;
	const char *bad = NULL;
	struct timespec ts;
	int rv;

	memset(L, 0, sizeof(*L));
	L->pamh = pamh;
	L->phase = phase;
	if (module_opts_parse(argc, argv, &L->opts, &bad) != 0) {
		module_log(L, LOG_ERR, "unknown or malformed option '%s'; refusing every login",
			   bad != NULL ? bad : "(null)");
		return PAM_SERVICE_ERR;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	L->now = (int64_t)ts.tv_sec;

	rv = read_items(L);
	if (rv != PAM_SUCCESS)
		return rv;
	rv = load_policy(L);
	if (rv != PAM_SUCCESS)
		return rv;
	/* A user unknown to NSS gets no groups; the policy still decides. The
	 * groups are read only when a rule looks at them (and NSS is asked
	 * whether the user exists only when a code is, module_user_known). */
	if (L->pol->uses_groups) {
		if (module_cache_user(pamh, L->user, true, &L->user_known, &groups) != 0) {
			module_log(L, LOG_ERR, "user %s: cannot read the groups from NSS", L->user);
			return PAM_AUTHINFO_UNAVAIL;
		}
		L->user_looked_up = true;
		L->ctx.groups = (const char *const *)groups->names;
		L->ctx.n_groups = groups->n;
	}
	L->ctx.user = L->user;
	L->ctx.service = L->service;
	L->ctx.now = L->now;
	rv = read_history(L);
	if (rv != PAM_SUCCESS)
		return rv;
	decide(L->pol, &L->ctx, &L->dec, NULL, NULL);
	if (L->opts.debug)
		module_log(L, LOG_DEBUG, "%s user=%s service=%s source=%s zone=%s rule=%s: %s",
			   phase == PHASE_AUTH ? "auth" : "account", L->user, L->service,
			   L->source_text, L->dec.zone,
			   L->dec.rule != NULL ? L->dec.rule->name : "(none)",
			   garde_action_name(L->dec.action));
	return PAM_SUCCESS;
}

void module_login_end(struct module_login *L)
{
	if (L->peeked != NULL) {
		store_record_wipe(L->peeked);
		free(L->peeked);
		L->peeked = NULL;
	}
	store_close(L->store);
	L->pol = NULL;
	L->store = NULL;
}
