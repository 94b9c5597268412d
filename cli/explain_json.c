/* explain_json.c - `garde explain --json`: one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "json.h"
#include "rfc3339.h"

/* Room for everything explain may print: the fixed members, one trace and
 * report-only entry per rule, and the groups, each escaped at worst 6x. */
static size_t json_capacity(const struct explain_view *v)
{
	size_t cap = 16384 + v->pol->n_rules * 512;

	for (size_t i = 0; i < v->ctx->n_groups; i++)
		cap += 8 + 6 * strlen(v->ctx->groups[i]);
	return cap + 6 * (strlen(v->ctx->user) + strlen(v->ctx->service));
}

static void put_context(struct json_buf *jb, const struct explain_view *v)
{
	const struct login_ctx *ctx = v->ctx;
	char src[64], when[32];

	rfc3339_format(ctx->now, when, sizeof(when));
	json_key(jb, "login");
	json_obj_begin(jb);
	json_key(jb, "user");
	json_str(jb, ctx->user);
	json_key(jb, "service");
	json_str(jb, ctx->service);
	json_key(jb, "source");
	json_str(jb, source_format(&ctx->source, src, sizeof(src)));
	json_key(jb, "groups");
	json_arr_begin(jb);
	for (size_t i = 0; i < ctx->n_groups; i++)
		json_str(jb, ctx->groups[i]);
	json_arr_end(jb);
	json_key(jb, "at");
	json_str(jb, when);
	json_key(jb, "new_network");
	json_bool(jb, ctx->new_network);
	json_obj_end(jb);
}

int explain_print_json(FILE *out, const struct explain_view *v)
{
	const struct decision *dec = v->dec;
	size_t cap = json_capacity(v);
	char *buf = malloc(cap);
	struct json_buf jb;
	int rv = -1;

	if (buf == NULL)
		return -1;
	json_init(&jb, buf, cap);
	json_obj_begin(&jb);
	json_key(&jb, "decision");
	json_str(&jb, garde_action_name(dec->action));
	json_key(&jb, "would");
	json_str(&jb, garde_action_name(dec->would));
	json_key(&jb, "mode");
	json_str(&jb, dec->report_only_mode ? "report-only" : "enforce");
	json_key(&jb, "rule");
	json_str(&jb, dec->rule != NULL ? dec->rule->name : NULL);
	json_key(&jb, "reason");
	json_str(&jb, decide_reason_name(dec->reason));
	json_key(&jb, "class");
	json_str(&jb, dec->class_name);
	json_key(&jb, "zone");
	json_str(&jb, dec->zone);
	json_key(&jb, "alert");
	json_bool(&jb, dec->alert);
	json_key(&jb, "app_password");
	json_bool(&jb, dec->rule != NULL && dec->rule->app_password);
	json_key(&jb, "remember");
	json_int(&jb, dec->would == GARDE_MFA && dec->rule->remember ? v->pol->mfa.remember : 0);
	json_key(&jb, "message");
	json_str(&jb, dec->rule != NULL && dec->would == GARDE_DENY ? dec->rule->message : NULL);
	json_key(&jb, "report_only");
	json_arr_begin(&jb);
	for (size_t i = 0; i < dec->n_report_only; i++) {
		json_obj_begin(&jb);
		json_key(&jb, "rule");
		json_str(&jb, dec->report_only[i].rule->name);
		json_key(&jb, "decision");
		json_str(&jb, garde_action_name(dec->report_only[i].would));
		json_obj_end(&jb);
	}
	json_arr_end(&jb);
	json_key(&jb, "trace");
	json_arr_begin(&jb);
	for (size_t i = 0; i < v->n_traced; i++) {
		json_obj_begin(&jb);
		json_key(&jb, "rule");
		json_str(&jb, v->pol->rules[i].name);
		json_key(&jb, "failed");
		json_str(&jb, v->trace[i] == COND_NONE ? NULL : decide_condition_name(v->trace[i]));
		json_obj_end(&jb);
	}
	json_arr_end(&jb);
	json_key(&jb, "serial");
	json_int(&jb, v->pol->serial);
	put_context(&jb, v);
	json_obj_end(&jb);

	if (json_finish(&jb) == JSON_OK && fprintf(out, "%s\n", buf) > 0 && !ferror(out))
		rv = 0;
	free(buf);
	return rv;
}
