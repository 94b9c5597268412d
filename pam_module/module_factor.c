/* module_factor.c - the second factor: read the code (prompt or password
 * suffix), then verify it under the user's lock with replay refusal and
 * zoned lockout. The lock is never held while the user types. */
#include <openssl/crypto.h>
#include <security/pam_ext.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "module.h"

#define CODE_PROMPT_TEXT "Verification code: "

struct factor_code {
	char text[OTP_CODE_BUF + 8]; /* room to see that a reply is too long */
	size_t len;
};

static void wipe_code(struct factor_code *code)
{
	OPENSSL_cleanse(code, sizeof(*code));
}

static void cleanup_factor(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

void module_factor_forget(pam_handle_t *pamh)
{
	pam_set_data(pamh, MODULE_FACTOR_DATA, NULL, NULL);
}

/* The data names the user the factor was verified for: an application that
 * changes PAM_USER between pam_authenticate and pam_acct_mgmt must not carry
 * one user's factor over to another. */
bool module_factor_verified(struct module_login *L)
{
	const void *data = NULL;

	return pam_get_data(L->pamh, MODULE_FACTOR_DATA, &data) == PAM_SUCCESS && data != NULL &&
	       strcmp(data, L->user) == 0;
}

void module_factor_mark(struct module_login *L)
{
	char *user = strdup(L->user);

	if (user != NULL && pam_set_data(L->pamh, MODULE_FACTOR_DATA, user, cleanup_factor) !=
				    PAM_SUCCESS)
		free(user);
	/* Without the data the account phase asks again (fails closed). */
}

/* Asks through the conversation, echo off. PAM_SUCCESS with the code, or a
 * PAM code: PAM_CONV_ERR when the client went away, PAM_AUTH_ERR when the
 * answer is empty (reported as mfa_missing by the caller). */
static int code_from_prompt(struct module_login *L, struct factor_code *code)
{
	char *resp = NULL;
	size_t len;
	int rv = pam_prompt(L->pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", CODE_PROMPT_TEXT);

	if (rv != PAM_SUCCESS || resp == NULL) {
		module_log(L, LOG_NOTICE, "user %s: no answer to the code prompt", L->user);
		return PAM_CONV_ERR;
	}
	len = strnlen(resp, sizeof(code->text));
	/* A reply longer than the buffer keeps len = sizeof: otp_verify sees a
	 * wrong length and refuses it without comparing. */
	memcpy(code->text, resp, len < sizeof(code->text) ? len : sizeof(code->text) - 1);
	code->len = len;
	OPENSSL_cleanse(resp, strlen(resp));
	free(resp);
	return code->len == 0 ? PAM_AUTH_ERR : PAM_SUCCESS;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* The last `digits` characters of PAM_AUTHTOK are the code; PAM_AUTHTOK is
 * set to the rest for the next module (pam_unix.so use_first_pass). */
static int code_from_suffix(struct module_login *L, unsigned digits, struct factor_code *code)
{
	const char *tok = NULL;
	char password[MODULE_AUTHTOK_MAX + 1];
	size_t len;
	int rv = pam_get_authtok(L->pamh, PAM_AUTHTOK, &tok, NULL);

	if (rv != PAM_SUCCESS || tok == NULL) {
		module_log(L, LOG_NOTICE, "user %s: no password given", L->user);
		return PAM_CONV_ERR;
	}
	len = strnlen(tok, MODULE_AUTHTOK_MAX + 1);
	if (len > MODULE_AUTHTOK_MAX) {
		module_log(L, LOG_NOTICE, "user %s: password over %d bytes refused", L->user,
			   MODULE_AUTHTOK_MAX);
		return PAM_AUTH_ERR;
	}
	if (len <= digits) {
		module_log(L, LOG_NOTICE, "user %s: password too short to end with a %u-digit code",
			   L->user, digits);
		return PAM_AUTH_ERR;
	}
	/* A password sent without a code (a client past its remembered
	 * time), or a code typed with a space in it: nothing was guessed, so
	 * it is reported as missing and not counted as a failure. */
	if (!all_digits(tok + len - digits, digits)) {
		module_log(L, LOG_NOTICE, "user %s: the password does not end with a %u-digit code",
			   L->user, digits);
		return PAM_AUTH_ERR;
	}
	memcpy(code->text, tok + len - digits, digits);
	code->text[digits] = '\0';
	code->len = digits;
	memcpy(password, tok, len - digits);
	password[len - digits] = '\0';
	rv = pam_set_item(L->pamh, PAM_AUTHTOK, password);
	OPENSSL_cleanse(password, sizeof(password));
	if (rv != PAM_SUCCESS)
		return PAM_BUF_ERR;
	return PAM_SUCCESS;
}

/* mfa.remember for this login: none when the deciding rule says
 * remember = false (garde-policy(5)). */
static unsigned remember_seconds(const struct module_login *L)
{
	return L->dec.rule != NULL && L->dec.rule->remember ? L->pol->mfa.remember : 0;
}

/* matched: the step (TOTP) or counter (HOTP) the code matched, or NULL for
 * a scratch code, which leaves the token's state alone. */
static void on_success(struct module_login *L, struct store_record *rec, const uint64_t *matched)
{
	struct lockout_slot *slot;
	bool changed;

	if (matched != NULL && rec->token.kind == OTP_TOTP)
		rec->last_step = *matched;
	else if (matched != NULL)
		rec->token.counter = *matched + 1;
	rec->last_success = L->now;
	slot = store_zone_slot(rec, L->dec.zone, &L->pol->lockout_user, L->now);
	if (slot != NULL)
		lockout_reset(slot);
	store_history_add(rec, &L->ctx.source, &L->pol->history, L->now, &changed);
	if (remember_seconds(L) > 0 && L->ctx.source.kind != SOURCE_UNKNOWN)
		store_remember_add_factor(rec, L->source_text, L->dec.class_name,
					  L->now + (int64_t)remember_seconds(L), L->now,
					  matched != NULL ? *matched : 0);
}

/* A reply that is not a code of the token's length may be one of the
 * scratch (emergency) codes imported with the token: each works once. */
static bool scratch_used(struct module_login *L, struct store_record *rec,
			 const struct factor_code *code)
{
	if (rec->scratch.n == 0 || store_scratch_use(rec, code->text, code->len) != STORE_OK)
		return false;
	module_log(L, LOG_NOTICE, "user %s: scratch code accepted, %zu left", L->user,
		   rec->scratch.n);
	return true;
}

/* Verifies under the user's lock. Returns PAM_SUCCESS, or a PAM failure
 * with *reason set for the event. */
static int verify_locked(struct module_login *L, const struct factor_code *code,
			 const char **reason)
{
	struct store_handle *h = NULL, *src = NULL;
	struct store_record *rec;
	struct lockout_slot *slot;
	uint64_t matched = 0;
	bool locked = false;
	int err, otp, rv = PAM_AUTH_ERR;

	*reason = NULL;
	err = store_lock_user(L->store, L->user, &h);
	if (err != STORE_OK) {
		module_log(L, LOG_ERR, "user %s: record unusable: %s", L->user, store_strerror(err));
		return PAM_AUTHINFO_UNAVAIL;
	}
	rec = store_record(h);
	if (!rec->has_token) {
		*reason = "mfa_not_enrolled";
		goto out;
	}
	slot = store_zone_slot(rec, L->dec.zone, &L->pol->lockout_user, L->now);
	if (slot == NULL) {
		rv = PAM_BUF_ERR;
		goto out;
	}
	/* Parallel attempts wait here one after the other: once `deny` of them
	 * have failed the slot is locked and the rest are not even checked. */
	if (lockout_is_locked(slot, L->now)) {
		*reason = "locked_user";
		rv = PAM_PERM_DENIED;
		goto out;
	}
	otp = otp_verify(&rec->token, code->text, code->len, L->now, L->pol->mfa.window_past,
			 L->pol->mfa.window_future, rec->last_step, &matched);
	if (otp != OTP_OK && !(otp == OTP_EFORMAT && scratch_used(L, rec, code)))
		*reason = otp == OTP_EREPLAY ? "mfa_replay" : "mfa_invalid";
	rv = module_source_gate(L, *reason == NULL, &src, &locked);
	if (rv != PAM_SUCCESS) {
		*reason = NULL;
		goto out;
	}
	if (locked) {
		/* Nothing is written: a right code stays unused. */
		*reason = "locked_source";
		rv = PAM_PERM_DENIED;
		goto out;
	}
	if (*reason == NULL) {
		on_success(L, rec, otp == OTP_OK ? &matched : NULL);
		rv = PAM_SUCCESS;
	} else {
		lockout_record_failure(slot, &L->pol->lockout_user, L->now);
		rv = PAM_AUTH_ERR;
	}
	err = store_commit(h);
	if (err != STORE_OK) {
		/* A success that cannot be recorded could be replayed: refuse it. */
		module_log(L, LOG_ERR, "user %s: record not written: %s", L->user,
			   store_strerror(err));
		*reason = NULL;
		rv = PAM_AUTHINFO_UNAVAIL;
		goto out;
	}
	if (rv != PAM_SUCCESS)
		module_source_failure(L, src);
out:
	store_unlock(src);
	store_unlock(h);
	return rv;
}

/* Under the user's lock: does code belong to the remembered (source,
 * class)? It does when the token accepts it now (then it counts as a
 * verified factor, recorded as such), when it is a code already used
 * within the window, or when it is the code of the step (counter) the
 * source was remembered with or of the last one accepted. A wrong guess
 * here is not a failure: a remembered source needs no code at all. */
static bool remembered_code(struct module_login *L, const struct factor_code *code)
{
	struct store_handle *h = NULL;
	struct store_record *rec;
	const struct store_remember *ent;
	uint64_t matched = 0, known[2];
	char want[OTP_CODE_BUF];
	bool hit = false;
	int otp;

	if (store_lock_user(L->store, L->user, &h) != STORE_OK)
		return false;
	rec = store_record(h);
	ent = store_remember_find(rec, L->source_text, L->dec.class_name, L->now);
	if (!rec->has_token || ent == NULL || code->len != rec->token.digits)
		goto out;
	otp = otp_verify(&rec->token, code->text, code->len, L->now, L->pol->mfa.window_past,
			 L->pol->mfa.window_future, rec->last_step, &matched);
	if (otp == OTP_OK) {
		on_success(L, rec, &matched);
		hit = store_commit(h) == STORE_OK;
		if (hit)
			module_factor_mark(L);
		goto out;
	}
	hit = otp == OTP_EREPLAY;
	known[0] = ent->factor;
	known[1] = rec->token.kind == OTP_TOTP ? rec->last_step
		   : rec->token.counter > 0   ? rec->token.counter - 1
					      : 0;
	for (size_t i = 0; i < 2; i++) {
		if (known[i] == 0 || otp_generate_factor(&rec->token, known[i], want, sizeof(want)) !=
					     OTP_OK)
			continue;
		hit |= CRYPTO_memcmp(want, code->text, code->len) == 0;
	}
out:
	OPENSSL_cleanse(want, sizeof(want));
	store_unlock(h);
	return hit;
}

static void strip_remembered_code(struct module_login *L, unsigned digits)
{
	struct factor_code code = { 0 };
	char password[MODULE_AUTHTOK_MAX + 1];
	const char *tok = NULL;
	size_t len;

	if (pam_get_authtok(L->pamh, PAM_AUTHTOK, &tok, NULL) != PAM_SUCCESS || tok == NULL)
		return;
	len = strnlen(tok, MODULE_AUTHTOK_MAX + 1);
	if (len > MODULE_AUTHTOK_MAX || len <= digits || !all_digits(tok + len - digits, digits))
		return;
	memcpy(code.text, tok + len - digits, digits);
	code.len = digits;
	if (remembered_code(L, &code)) {
		memcpy(password, tok, len - digits);
		password[len - digits] = '\0';
		if (pam_set_item(L->pamh, PAM_AUTHTOK, password) != PAM_SUCCESS)
			module_log(L, LOG_ERR, "user %s: cannot pass the password on", L->user);
		else if (L->opts.debug)
			module_log(L, LOG_DEBUG, "user %s: remembered source, code taken off",
				   L->user);
		OPENSSL_cleanse(password, sizeof(password));
	}
	wipe_code(&code);
}

/* Reads (peeks) whether the user has a token and whether this source is
 * remembered for the class. Only a record makes a user enrolled, so NSS is
 * not asked: a name it does not know has no record, or was enrolled by an
 * administrator ahead of the account. */
static int precheck(struct module_login *L, bool *enrolled, bool *remembered, unsigned *digits)
{
	const struct store_record *rec = NULL;
	int rv;

	*enrolled = *remembered = false;
	*digits = L->pol->mfa.digits;
	rv = module_peek_user(L, &rec);
	if (rv != PAM_SUCCESS || rec == NULL)
		return rv;
	*enrolled = rec->has_token;
	*remembered = remember_seconds(L) > 0 &&
		      store_remember_check(rec, L->source_text, L->dec.class_name, L->now);
	if (rec->has_token)
		*digits = rec->token.digits;
	return PAM_SUCCESS;
}

int module_factor_remembered(struct module_login *L)
{
	bool enrolled, remembered;
	unsigned digits;
	int rv;

	if (remember_seconds(L) == 0)
		return PAM_AUTH_ERR;
	rv = precheck(L, &enrolled, &remembered, &digits);
	if (rv != PAM_SUCCESS)
		return rv;
	return remembered ? PAM_SUCCESS : PAM_AUTH_ERR;
}

int module_factor(struct module_login *L)
{
	struct factor_code code = { 0 };
	const char *reason = NULL;
	bool enrolled, remembered;
	unsigned digits;
	int rv;

	rv = precheck(L, &enrolled, &remembered, &digits);
	if (rv != PAM_SUCCESS)
		return rv;
	if (remembered) {
		/* No factor needed from this source yet. A client set up with
		 * "password + code" keeps sending that code: it is taken off
		 * when it is one this source was remembered with (or any
		 * code the user's token accepts now), so that the next module
		 * sees the password; any other password goes on untouched. */
		if (L->opts.mode == CODE_SUFFIX && enrolled)
			strip_remembered_code(L, digits);
		return PAM_IGNORE;
	}

	/* Suffix mode splits at the user's token length, not the policy's
	 * default: an 8-digit token must not leave 2 digits on the password. */
	if (L->opts.mode == CODE_PROMPT)
		rv = code_from_prompt(L, &code);
	else
		rv = code_from_suffix(L, digits, &code);
	if (rv != PAM_SUCCESS) {
		module_report(L, "login-denied", "failure", "mfa_missing", L->dec.rule->name);
		goto out;
	}
	/* Users without a token, and names NSS does not know, were asked like
	 * everyone else: the prompts must not tell who is enrolled. They get
	 * no lock file (guessing names must not fill the store). */
	if (!enrolled) {
		module_report(L, "login-denied", "failure", "mfa_not_enrolled", L->dec.rule->name);
		rv = PAM_AUTH_ERR;
		goto out;
	}
	rv = verify_locked(L, &code, &reason);
	if (rv == PAM_SUCCESS) {
		module_factor_mark(L);
		/* An alert has no reason: the vocabulary names denials only. */
		if (L->dec.alert)
			module_report(L, "login-alert", "success", NULL, L->dec.rule->name);
		/* With app_password, PAM_SUCCESS is kept for a whole credential
		 * (the stack is `[success=done ignore=ignore default=die]`):
		 * a code is half of one, and the password is still the next
		 * module's to check. */
		if (L->opts.app_password)
			rv = PAM_IGNORE;
	} else if (reason != NULL) {
		/* A lock is decided outside the rules: its event names no rule,
		 * whether it was seen before the prompt or after it. */
		module_report(L, "login-denied", "failure", reason,
			      strncmp(reason, "locked_", 7) == 0 ? NULL : L->dec.rule->name);
	}
out:
	wipe_code(&code);
	return rv;
}
