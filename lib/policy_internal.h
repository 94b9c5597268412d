/* policy_internal.h - what policy.c (the file, top-level keys, networks,
 * classes, numbers), policy_lex.c (checks on the raw text) and
 * policy_rules.c (rules and time windows) share. Not part of libgarde's
 * API. */
#ifndef GARDE_POLICY_INTERNAL_H
#define GARDE_POLICY_INTERNAL_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

#define POLICY_MAX_RULE_NAME 64
#define POLICY_MAX_MESSAGE 256
#define POLICY_MAX_ITEM 256 /* a user, group or service name */

/* One parse: where errors go and how many there were. The policy being
 * built hangs off it so that the rules can see networks and classes. */
struct policy_ctx {
	const char *name; /* file name in messages */
	policy_diag_fn diag;
	void *diag_arg;
	unsigned errors;
	struct policy *pol;
};

/* Reports one error at line (0: none) and counts it. */
__attribute__((format(printf, 3, 4)))
void policy_err(struct policy_ctx *ctx, int line, const char *fmt, ...);

int policy_line(const config_setting_t *setting);

/* Text fit to show or match: 1..max bytes of well-formed UTF-8 with no
 * control characters (C0, DEL, C1); spaces only when allow_space. */
bool policy_text_ok(const char *text, size_t max, bool allow_space);

/* Reports every member of group whose name is not in known (NULL-ended),
 * as "unknown key 'k' <where>". */
void policy_check_keys(struct policy_ctx *ctx, const config_setting_t *group,
		       const char *const *known, const char *where);

/* NUL bytes, @include, and integer literals libconfig would wrap; reports
 * each (policy_lex.c). */
void policy_lex_check(struct policy_ctx *ctx, const char *text, size_t len);

/* "DAYS HH:MM-HH:MM" -> window; on error -1 and the reason in why. */
int policy_window_parse(const char *text, struct policy_window *out, char *why, size_t whylen);

/* Parses the rules list into ctx->pol (networks and classes already in). */
void policy_rules_parse(struct policy_ctx *ctx, const config_setting_t *rules);

void policy_rules_free(struct policy_rule *rules, size_t n);
void policy_names_free(struct policy_names *names);

#endif
