/* module.h - one pam_garde call: its options, the login it decides, and the
 * pieces (login, factor, report) that the thin entry points call. */
#ifndef GARDE_MODULE_H
#define GARDE_MODULE_H

#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdint.h>

#include "decide.h"
#include "module_opts.h"
#include "policy_snapshot.h"
#include "store.h"
#include "usergroups.h"

#define MODULE_NAME "pam_garde"
/* Events that reached syslog only (spool unusable), counted in the store. */
#define MODULE_SPOOL_FALLBACK "spool-fallback.count"
/* pam_set_data key: a second factor was verified in this PAM transaction;
 * the data is a copy of the user name it was verified for. */
#define MODULE_FACTOR_DATA "pam_garde_factor_ok"
/* Longest PAM_AUTHTOK accepted in suffix mode (password and code). */
#define MODULE_AUTHTOK_MAX 1024

enum module_phase {
	PHASE_AUTH,
	PHASE_ACCOUNT,
};

struct module_login {
	pam_handle_t *pamh;
	enum module_phase phase;
	struct module_opts opts;
	const char *user;    /* PAM items, owned by libpam */
	const char *service;
	const char *rhost;
	char source_text[64]; /* source_format() of the source */
	bool user_looked_up;  /* user_known is set (module_user_known) */
	bool user_known;      /* what NSS said of the user (module_user_known also counts a record) */
	const struct policy *pol; /* held by the transaction cache (module_cache.c) */
	struct login_ctx ctx;
	struct decision dec;
	struct store *store;
	int store_err;               /* why store_open failed (STORE_OK: not tried or fine) */
	struct store_record *peeked; /* the user's record read without the lock, once */
	bool peek_done;
	int peek_rv;                 /* the PAM code of that read */
	int64_t now;
};

/* module_login.c: reads options and PAM items, loads the policy, looks the
 * groups and history up, decides. Returns PAM_SUCCESS when L->dec is ready
 * to act on, or the PAM code to return (after logging and any event). */
int module_login_begin(struct module_login *L, pam_handle_t *pamh, enum module_phase phase,
		       int argc, const char **argv);
void module_login_end(struct module_login *L);

/* module_cache.c: the policy at path, taken once per PAM transaction from
 * module_policy_load. *pol stays valid until pam_end. */
int module_cache_policy(pam_handle_t *pamh, const char *path, int64_t now,
			const struct policy **pol,
			int (*load)(const char *path, struct policy **out,
				    struct policy_source_id *id, void *arg),
			void *arg);

/* module_policy.c: the compiled policy the process keeps between logins,
 * shared by reference. */
struct module_policy;

/* A reference to the policy at path: the kept one when the file is still
 * the one it was compiled from (one stat), else one compiled by load
 * (which returns a PAM code and the identity of the file it read), which
 * is then kept. PAM_SUCCESS, PAM_BUF_ERR, or load's code. */
int module_policy_load(const char *path, int64_t now, struct module_policy **out,
		       int (*load)(const char *path, struct policy **pol,
				   struct policy_source_id *id, void *arg),
		       void *arg);
const struct policy *module_policy_get(const struct module_policy *mp);
bool module_policy_is(const struct module_policy *mp, const char *path);
void module_policy_release(struct module_policy *mp);

/* Whether NSS knows user, and its groups when need_groups (otherwise an
 * empty list), looked up once per transaction. 0, or -2 when NSS fails. */
int module_cache_user(pam_handle_t *pamh, const char *user, bool need_groups, bool *known,
		      const struct usergroups **groups);

/* Opens the token store once per call (lazily). PAM_SUCCESS or
 * PAM_AUTHINFO_UNAVAIL after logging. */
int module_store(struct module_login *L);

/* pam_set_data key: the auth phase ran (and reported) in this transaction,
 * so the account phase does not report the same report-only rules again. */
#define MODULE_AUTH_RAN_DATA "pam_garde_auth_ran"

/* Whether the user is known: has a record in the store, or else is known
 * to NSS (asked once per transaction, and only when needed). Only a known
 * user gets lock files. PAM_SUCCESS or PAM_AUTHINFO_UNAVAIL. */
int module_user_known(struct module_login *L, bool *known);

/* The user's record as a peek (no lock, creates nothing) for the checks made
 * before anything is asked: *rec is NULL when the user has no record.
 * PAM_SUCCESS or PAM_AUTHINFO_UNAVAIL. Whatever decides is done again under
 * the lock. */
int module_peek_user(struct module_login *L, const struct store_record **rec);

/* module_factor.c: the second factor for a decision of mfa (auth phase). */
int module_factor(struct module_login *L);

/* Forgets any factor verified earlier in this transaction (a new auth
 * attempt starts from nothing). */
void module_factor_forget(pam_handle_t *pamh);

/* true when a factor was verified in this transaction for L->user. */
bool module_factor_verified(struct module_login *L);

/* PAM_SUCCESS when (user, source, class) passed a second factor within
 * mfa.remember; PAM_AUTH_ERR when not; PAM_AUTHINFO_UNAVAIL when the store
 * cannot be read. */
int module_factor_remembered(struct module_login *L);

/* Records in the PAM data that a factor was verified for L->user in this
 * transaction (the account phase looks for it). */
void module_factor_mark(struct module_login *L);

/* Under the user's lock, once a credential was checked (right or not):
 * *locked when the source is locked, and for a wrong one the source's
 * record under its lock in *src (NULL for a local or unknown source), to
 * count the failure with module_source_failure. PAM_SUCCESS or
 * PAM_AUTHINFO_UNAVAIL. */
int module_source_gate(struct module_login *L, bool right, struct store_handle **src,
		       bool *locked);

/* A peek: is the source locked? (false for a local or unknown source) */
int module_source_locked(struct module_login *L, bool *locked);

/* Counts one failure against the source locked in src (NULL: a source with
 * no address, nothing to count) and commits it; a failed write is logged. */
void module_source_failure(struct module_login *L, struct store_handle *src);

/* module_lockout.c: PAM_SUCCESS when neither (user, zone) nor the source is
 * locked, else the PAM code after the event. */
int module_lockout_check(struct module_login *L);

/* module_apppw.c (option app_password): when PAM_AUTHTOK has the shape of
 * an app password, checks it as the whole credential and returns
 * PAM_SUCCESS (accepted: the stack needs nothing else), PAM_AUTH_ERR,
 * PAM_PERM_DENIED (locked) or PAM_AUTHINFO_UNAVAIL, after the event.
 * PAM_IGNORE: not an app password (or a report-only refusal); go on with
 * the decision. */
int module_apppw(struct module_login *L);

/* module_report.c: one event in the spool and one line in syslog. The
 * spool failing never changes the decision: the line in syslog says so. */
void module_report(struct module_login *L, const char *action, const char *outcome,
		   const char *reason, const char *rule);

/* Report-only rules that matched, and a report-only policy's would-deny;
 * factor_met: not the would-deny of a second factor (an app password
 * stood for it). */
void module_report_would(struct module_login *L, bool factor_met);

/* Shows text to the user as an error message (PAM_ERROR_MSG), if any. */
void module_tell_user(struct module_login *L, const char *text);

/* Logs through pam_syslog with the user name made printable. */
void module_log(struct module_login *L, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
