/* explain_text.c - the human-readable `garde explain` output. */
#include <stdio.h>

#include "explain.h"
#include "rfc3339.h"

static const char *const weekdays[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static void print_context(FILE *out, const struct explain_view *v)
{
	const struct login_ctx *ctx = v->ctx;
	struct tz_wallclock local;
	char src[64], when[32];

	tz_localtime(v->pol->tz, ctx->now, &local);
	rfc3339_format(ctx->now, when, sizeof(when));
	fprintf(out, "login:     user %s, service %s, source %s\n", ctx->user, ctx->service,
		source_format(&ctx->source, src, sizeof(src)));
	fprintf(out, "time:      %s (%s %02d:%02d %s)\n", when, weekdays[local.wday], local.hour,
		local.min, v->pol->timezone);
	fprintf(out, "groups:    ");
	for (size_t i = 0; i < ctx->n_groups; i++)
		fprintf(out, "%s%s", i ? "," : "", ctx->groups[i]);
	fprintf(out, "%s%s\n", ctx->n_groups ? "" : "(none)", v->groups_from_nss ? " (from NSS)" : "");
}

int explain_print_text(FILE *out, const struct explain_view *v)
{
	const struct decision *dec = v->dec;

	fprintf(out, "decision:  %s", garde_action_name(dec->action));
	if (dec->report_only_mode)
		fprintf(out, " (report-only policy: the rules would %s)", garde_action_name(dec->would));
	fputc('\n', out);
	if (dec->rule != NULL)
		fprintf(out, "rule:      %s (line %d)\n", dec->rule->name, dec->rule->line);
	else
		fprintf(out, "rule:      none: no rule matched, implicit deny\n");
	fprintf(out, "reason:    %s\n", decide_reason_name(dec->reason));
	fprintf(out, "class:     %s\n", dec->class_name);
	fprintf(out, "zone:      %s\n", dec->zone);
	if (dec->rule != NULL && dec->rule->message != NULL && dec->would == GARDE_DENY)
		fprintf(out, "message:   %s\n", dec->rule->message);
	if (dec->alert)
		fprintf(out, "alert:     yes, an event is sent even when the login succeeds\n");
	if (dec->rule != NULL && dec->rule->app_password)
		fprintf(out, "app passwords: accepted by this rule (where the module has app_password)\n");
	if (dec->would == GARDE_MFA)
		fprintf(out, "remember:  %s\n", dec->rule->remember && v->pol->mfa.remember > 0
			? "a code from this source spares the next ones for mfa.remember"
			: "no: a code every time");
	print_context(out, v);

	for (size_t i = 0; i < dec->n_report_only; i++)
		fprintf(out, "report-only: rule %s would %s (logged, not enforced)\n",
			dec->report_only[i].rule->name,
			garde_action_name(dec->report_only[i].would));
	if (dec->n_report_only_dropped > 0)
		fprintf(out, "report-only: %zu more rules matched\n", dec->n_report_only_dropped);

	fprintf(out, "rules, in order:\n");
	for (size_t i = 0; i < v->n_traced; i++) {
		const struct policy_rule *rule = &v->pol->rules[i];

		if (v->trace[i] != COND_NONE)
			fprintf(out, "  %-24s no: %s does not hold\n", rule->name,
				decide_condition_name(v->trace[i]));
		else if (rule->report_only)
			fprintf(out, "  %-24s matched, report-only: would %s\n", rule->name,
				garde_action_name(rule->action));
		else
			fprintf(out, "  %-24s MATCHED: %s\n", rule->name,
				garde_action_name(rule->action));
	}
	if (dec->rule == NULL)
		fprintf(out, "  (end of rules)           implicit deny\n");
	return ferror(out) ? -1 : 0;
}
