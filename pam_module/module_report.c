/* module_report.c - denial, alert and would-deny events: one JSON record in
 * the spool for the agent, one concise line in syslog (authpriv). Neither
 * ever holds a password or a code, and neither changes the decision. */
#include <security/pam_ext.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "counter.h"
#include "event.h"
#include "module.h"
#include "spool.h"

void module_tell_user(struct module_login *L, const char *text)
{
	if (text != NULL && text[0] != '\0')
		pam_error(L->pamh, "%s", text);
}

void module_report(struct module_login *L, const char *action, const char *outcome,
		   const char *reason, const char *rule)
{
	char json[EVENT_MAX_BYTES], id[EVENT_ID_SIZE], host[256] = "";
	struct timespec ts;
	const char *mode = L->pol == NULL ? NULL : L->pol->report_only_mode ? "report-only" : "enforce";
	struct event_fields ev = {
		.action = action,
		.outcome = outcome,
		.reason = reason,
		.user = L->user,
		.source = &L->ctx.source,
		.rhost_text = L->rhost,
		.service = L->service,
		.host = gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0' ? host : NULL,
		.pid = (long)getpid(),
		.rule = rule,
		.ruleset = L->pol != NULL ? L->pol->serial : 0,
		.class = L->pol != NULL ? L->dec.class_name : NULL,
		.zone = L->pol != NULL ? L->dec.zone : NULL,
		.mode = mode,
	};
	int err;

	clock_gettime(CLOCK_REALTIME, &ts);
	ev.now_usec = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	module_log(L, strcmp(outcome, "success") == 0 ? LOG_NOTICE : LOG_WARNING,
		   "%s user=%s service=%s source=%s zone=%s rule=%s reason=%s", action,
		   L->user != NULL ? L->user : "?", L->service != NULL ? L->service : "?",
		   L->source_text[0] != '\0' ? L->source_text : "?", ev.zone != NULL ? ev.zone : "-",
		   rule != NULL ? rule : "-", reason != NULL ? reason : "-");
	err = event_format(&ev, json, sizeof(json), id);
	if (err != EVENT_OK) {
		module_log(L, LOG_ERR, "event not formatted: %s", event_strerror(err));
		return;
	}
	err = spool_write(L->opts.spool, json, strlen(json), id);
	if (err != SPOOL_OK) {
		uint64_t lost = 0;

		/* The syslog line above carries the event; this one says it is
		 * the only copy, and how many have been so (the count is kept
		 * in the store, which outlives this process). */
		if (counter_bump(L->opts.store, MODULE_SPOOL_FALLBACK, &lost) != 0)
			lost = 0;
		module_log(L, LOG_ERR, "spool %s unusable (%s): event %s is only in syslog "
			   "(%llu events so far, counted in %s/%s)", L->opts.spool,
			   spool_strerror(err), id, (unsigned long long)lost, L->opts.store,
			   MODULE_SPOOL_FALLBACK);
	}
}

/* Report-only rules that matched, and under a report-only policy the deny
 * or challenge that would have happened. */
void module_report_would(struct module_login *L, bool factor_met)
{
	const struct decision *dec = &L->dec;

	for (size_t i = 0; i < dec->n_report_only; i++) {
		const struct decide_report_only *ro = &dec->report_only[i];
		if (ro->would == GARDE_ALLOW)
			continue;
		module_report(L, "login-would-deny", "unknown",
			      ro->would == GARDE_DENY ? "policy_deny" : "mfa_missing", ro->rule->name);
	}
	if (dec->report_only_mode && dec->would != GARDE_ALLOW &&
	    !(factor_met && dec->would == GARDE_MFA))
		module_report(L, "login-would-deny", "unknown",
			      dec->would == GARDE_MFA ? "mfa_missing" : decide_reason_name(dec->reason),
			      dec->rule != NULL ? dec->rule->name : NULL);
}
