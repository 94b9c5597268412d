/* decide.c - the pure decision: (policy, login context) -> decision.
 *
 * Everything here reads the compiled policy and the context and writes only
 * into the caller's struct: no I/O, no clock, no logging, no allocation, so
 * the module, `garde explain` and the tests can never disagree. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decide.h"
#include "netset.h"
#include "policy.h"
#include "source.h"
#include "tz.h"

#define DECIDE_MINUTES_PER_DAY 1440

const char *decide_condition_name(enum decide_condition cond)
{
	switch (cond) {
	case COND_NONE:
		return "none";
	case COND_USERS:
		return "users";
	case COND_NOT_USERS:
		return "not_users";
	case COND_GROUPS:
		return "groups";
	case COND_NOT_GROUPS:
		return "not_groups";
	case COND_CLASS:
		return "class";
	case COND_SERVICES:
		return "services";
	case COND_FROM:
		return "from";
	case COND_NOT_FROM:
		return "not_from";
	case COND_HOURS:
		return "hours";
	case COND_NOT_HOURS:
		return "not_hours";
	case COND_NEW_NETWORK:
		return "new_network";
	}
	return "unknown";
}

const char *decide_reason_name(enum decide_reason reason)
{
	switch (reason) {
	case REASON_POLICY_ALLOW:
		return "policy_allow";
	case REASON_POLICY_MFA:
		return "policy_mfa";
	case REASON_POLICY_DENY:
		return "policy_deny";
	case REASON_NO_RULE:
		return "no_rule";
	}
	return "unknown";
}

/* A NULL name (no user, no service) is listed nowhere: a missing PAM item
 * must never satisfy `users` or `services`. */
static bool decide_name_listed(const struct policy_names *names, const char *name)
{
	if (name == NULL)
		return false;
	for (size_t i = 0; i < names->n; i++)
		if (names->v[i] != NULL && strcmp(names->v[i], name) == 0)
			return true;
	return false;
}

static bool decide_in_any_group(const struct policy_names *names, const struct login_ctx *ctx)
{
	if (ctx->groups == NULL)
		return false;
	for (size_t i = 0; i < ctx->n_groups; i++)
		if (decide_name_listed(names, ctx->groups[i]))
			return true;
	return false;
}

/* `local` is a word, not an address: only a login without PAM_RHOST
 * matches it. An unknown source (a host name) is in no item at all, so it
 * fails `from` and holds for `not_from` - never a DNS guess. */
static bool decide_source_in(const struct policy_sources *items, const struct source *src)
{
	switch (src->kind) {
	case SOURCE_LOCAL:
		return items->local;
	case SOURCE_IP:
		return items->nets != NULL && netset_contains(items->nets, src->family, src->addr);
	case SOURCE_UNKNOWN:
		return false;
	}
	return false;
}

static bool decide_day_set(uint8_t days, int wday)
{
	return wday >= 0 && wday < 7 && (days & (1u << wday)) != 0;
}

/* A wrapping window (end < start) belongs to its start day: "Mon
 * 22:00-06:00" covers Monday 22:00 to Tuesday 06:00, so the early part is
 * checked against yesterday's bit. start == end is an empty window (the
 * parser is expected to refuse it; an empty window is the safe reading). */
static bool decide_in_window(const struct policy_window *w, const struct tz_wallclock *local)
{
	int minute = local->minute;
	int yesterday = (local->wday + 6) % 7;

	if (w->start < w->end)
		return decide_day_set(w->days, local->wday) && minute >= w->start && minute < w->end;
	if (w->end < w->start)
		return (decide_day_set(w->days, local->wday) && minute >= w->start) ||
		       (decide_day_set(w->days, yesterday) && minute < w->end);
	return false;
}

static bool decide_in_any_window(const struct policy_windows *windows,
				 const struct tz_wallclock *local)
{
	if (local == NULL)
		return false;
	for (size_t i = 0; i < windows->n; i++)
		if (decide_in_window(&windows->v[i], local))
			return true;
	return false;
}

static bool decide_class_in(const struct policy_rule *rule, size_t class_index)
{
	/* class_index <= POLICY_MAX_CLASSES, so the shift stays inside 64 bits;
	 * anything larger is a caller bug and must not match a class. */
	if (class_index >= 64)
		return false;
	return (rule->class_mask & ((uint64_t)1 << class_index)) != 0;
}

/* The order of the checks is the order `garde explain` reports: the first
 * condition that fails is the one named. */
enum decide_condition decide_rule(const struct policy *pol, const struct policy_rule *rule,
				  const struct login_ctx *ctx, size_t class_index,
				  const struct tz_wallclock *local)
{
	(void)pol;

	if (rule->users.present && !decide_name_listed(&rule->users, ctx->user))
		return COND_USERS;
	/* not_users with a missing user holds: a NULL user is listed nowhere. */
	if (rule->not_users.present && decide_name_listed(&rule->not_users, ctx->user))
		return COND_NOT_USERS;
	if (rule->groups.present && !decide_in_any_group(&rule->groups, ctx))
		return COND_GROUPS;
	if (rule->not_groups.present && decide_in_any_group(&rule->not_groups, ctx))
		return COND_NOT_GROUPS;
	if (rule->has_class && !decide_class_in(rule, class_index))
		return COND_CLASS;
	if (rule->services.present && !decide_name_listed(&rule->services, ctx->service))
		return COND_SERVICES;
	if (rule->from.present && !decide_source_in(&rule->from, &ctx->source))
		return COND_FROM;
	if (rule->not_from.present && decide_source_in(&rule->not_from, &ctx->source))
		return COND_NOT_FROM;
	if (rule->hours.present && !decide_in_any_window(&rule->hours, local))
		return COND_HOURS;
	if (rule->not_hours.present && decide_in_any_window(&rule->not_hours, local))
		return COND_NOT_HOURS;
	if (rule->new_network == 1 && !ctx->new_network)
		return COND_NEW_NETWORK;
	if (rule->new_network == 0 && ctx->new_network)
		return COND_NEW_NETWORK;
	return COND_NONE;
}

const char *decide_zone(const struct policy *pol, const struct source *src)
{
	if (src->kind == SOURCE_LOCAL)
		return "local";
	if (src->kind != SOURCE_IP)
		return "elsewhere";
	/* Declaration order, so an admin subnet declared after the LAN that
	 * holds it counts as "lan": the zone is what the policy says first. */
	for (size_t i = 0; i < pol->n_networks; i++) {
		const struct policy_network *net = &pol->networks[i];
		if (net->set != NULL && netset_contains(net->set, src->family, src->addr))
			return net->name;
	}
	return "elsewhere";
}

static enum decide_reason decide_reason_of(enum garde_action action)
{
	switch (action) {
	case GARDE_ALLOW:
		return REASON_POLICY_ALLOW;
	case GARDE_MFA:
		return REASON_POLICY_MFA;
	case GARDE_DENY:
		return REASON_POLICY_DENY;
	}
	/* An action outside the enum is a corrupt policy: fail closed. */
	return REASON_POLICY_DENY;
}

void decide(const struct policy *pol, const struct login_ctx *ctx, struct decision *out,
	    enum decide_condition *trace, size_t *n_traced)
{
	struct tz_wallclock local;
	size_t evaluated = 0;

	memset(out, 0, sizeof(*out));
	out->report_only_mode = pol->report_only_mode;
	out->class_index = ctx->service != NULL ? policy_class_of(pol, ctx->service) : pol->n_classes;
	out->class_name = policy_class_name(pol, out->class_index);
	out->zone = decide_zone(pol, &ctx->source);

	tz_localtime(pol->tz, ctx->now, &local);

	/* Fail closed until a rule says otherwise. */
	out->would = GARDE_DENY;
	out->rule = NULL;
	out->reason = REASON_NO_RULE;

	for (size_t i = 0; i < pol->n_rules; i++) {
		const struct policy_rule *rule = &pol->rules[i];
		enum decide_condition failed = decide_rule(pol, rule, ctx, out->class_index, &local);

		if (trace != NULL)
			trace[i] = failed;
		evaluated = i + 1;
		if (failed != COND_NONE)
			continue;
		if (rule->report_only) {
			/* Logged as what it would have decided; the next rules
			 * still decide, so a trial rule never changes a login. */
			if (out->n_report_only < DECIDE_MAX_REPORT_ONLY) {
				out->report_only[out->n_report_only].rule = rule;
				out->report_only[out->n_report_only].would = rule->action;
				out->n_report_only++;
			} else {
				out->n_report_only_dropped++;
			}
			continue;
		}
		out->would = rule->action;
		out->rule = rule;
		out->reason = decide_reason_of(rule->action);
		out->alert = rule->alert;
		break;
	}

	if (trace != NULL)
		for (size_t i = evaluated; i < pol->n_rules; i++)
			trace[i] = COND_NONE;
	if (n_traced != NULL)
		*n_traced = evaluated;

	/* Global report-only mode: the decision is still computed and logged
	 * as `would`, but nothing is denied and no factor is asked. */
	out->action = pol->report_only_mode ? GARDE_ALLOW : out->would;
}
