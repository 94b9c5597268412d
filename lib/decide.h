/* decide.h - the pure decision: (policy, login context) -> decision.
 * No I/O, no clock, no logging, no allocation: the module, `garde explain`
 * and the tests call this same function. */
#ifndef GARDE_DECIDE_H
#define GARDE_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "source.h"

struct login_ctx {
	const char *user;
	const char *service;
	struct source source;
	const char *const *groups; /* primary and supplementary group names */
	size_t n_groups;
	int64_t now;      /* UTC seconds; read in the policy's time zone */
	bool new_network; /* no successful login from this source prefix within history.ttl_days */
};

/* Which condition of a rule did not hold (for `garde explain`). */
enum decide_condition {
	COND_NONE = 0, /* every condition held: the rule matched */
	COND_USERS,
	COND_NOT_USERS,
	COND_GROUPS,
	COND_NOT_GROUPS,
	COND_CLASS,
	COND_SERVICES,
	COND_FROM,
	COND_NOT_FROM,
	COND_HOURS,
	COND_NOT_HOURS,
	COND_NEW_NETWORK,
};

const char *decide_condition_name(enum decide_condition cond);

enum decide_reason {
	REASON_POLICY_ALLOW, /* a rule allowed */
	REASON_POLICY_MFA,   /* a rule requires a second factor */
	REASON_POLICY_DENY,  /* a rule denied */
	REASON_NO_RULE,      /* implicit deny */
};

const char *decide_reason_name(enum decide_reason reason);

#define DECIDE_MAX_REPORT_ONLY 32

struct decide_report_only {
	const struct policy_rule *rule;
	enum garde_action would;
};

struct decision {
	enum garde_action action;       /* what is enforced */
	enum garde_action would;        /* what the rules decided; differs from action only in report-only mode */
	bool report_only_mode;          /* the policy's global mode is report-only */
	const struct policy_rule *rule; /* deciding rule, NULL for the implicit deny */
	enum decide_reason reason;
	size_t class_index;
	const char *class_name;
	const char *zone; /* first named network holding the source, "elsewhere" or "local" */
	bool alert;       /* the deciding rule asks for an event even on success */
	size_t n_report_only;
	size_t n_report_only_dropped; /* past DECIDE_MAX_REPORT_ONLY */
	struct decide_report_only report_only[DECIDE_MAX_REPORT_ONLY];
};

/* trace, when not NULL, has pol->n_rules entries; trace[i] is filled for
 * every rule evaluated (the first condition that failed, or COND_NONE) and
 * set to COND_NONE for rules after the deciding one. *n_traced tells how
 * many rules were evaluated. */
void decide(const struct policy *pol, const struct login_ctx *ctx, struct decision *out,
	    enum decide_condition *trace, size_t *n_traced);

/* The first condition of rule that does not hold for ctx (COND_NONE: all hold). */
enum decide_condition decide_rule(const struct policy *pol, const struct policy_rule *rule,
				  const struct login_ctx *ctx, size_t class_index,
				  const struct tz_wallclock *local);

/* zone name of a source: first named network containing it, else
 * "elsewhere", or "local" for a local login. */
const char *decide_zone(const struct policy *pol, const struct source *src);

#endif
