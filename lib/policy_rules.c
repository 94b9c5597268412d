/* policy_rules.c - the rules list: names, actions, conditions, and time
 * windows ("DAYS HH:MM-HH:MM"), compiled for decide.c: every from/not_from
 * becomes one netset, every class list one bit mask. */
#include "policy.h"
#include "policy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define POLICY_LABEL_MAX 96 /* "rule '<64 chars>'" fits */
#define POLICY_ALL_DAYS 0x7f

/* --- time windows ------------------------------------------------------ */

/* 0 = Sunday, as struct policy_window and tz_wallclock count. */
static const char *const policy_day_names[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static int policy_day(const char *s, size_t n)
{
	if (n != 3)
		return -1;
	for (int d = 0; d < 7; d++)
		if (strncasecmp(s, policy_day_names[d], 3) == 0)
			return d;
	return -1;
}

/* One comma-separated item of DAYS: "*", "Mon" or "Fri-Mon" (wrapping). */
static int policy_days_item(const char *s, size_t n, uint8_t *days, char *why, size_t whylen)
{
	const char *dash;
	int from, to;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 1 && *s == '*') {
		*days = POLICY_ALL_DAYS;
		return 0;
	}
	dash = memchr(s, '-', n);
	if (dash == NULL) {
		from = to = policy_day(s, n);
	} else {
		from = policy_day(s, (size_t)(dash - s));
		to = policy_day(dash + 1, n - (size_t)(dash - s) - 1);
	}
	if (from < 0 || to < 0) {
		snprintf(why, whylen, "unknown day '%.*s' (use Mon..Sun, a range like Mon-Fri, or *)",
			 (int)(n < 16 ? n : 16), s);
		return -1;
	}
	for (int d = from;; d = (d + 1) % 7) {
		*days |= (uint8_t)(1u << d);
		if (d == to)
			break;
	}
	return 0;
}

/* "HH:MM" in exactly five characters; 24:00 only when end. */
static int policy_minutes(const char *s, size_t n, bool end, uint16_t *out, char *why,
			  size_t whylen)
{
	bool digits = n == 5 && s[2] == ':';
	int h, m;

	for (size_t i = 0; digits && i < 5; i++)
		digits = i == 2 || (s[i] >= '0' && s[i] <= '9');
	if (digits) {
		h = (s[0] - '0') * 10 + (s[1] - '0');
		m = (s[3] - '0') * 10 + (s[4] - '0');
		if ((h < 24 && m < 60) || (end && h == 24 && m == 0)) {
			*out = (uint16_t)(h * 60 + m);
			return 0;
		}
	}
	snprintf(why, whylen, "bad time '%.*s' (use 00:00 to 23:59, or 24:00 as an end)",
		 (int)(n < 16 ? n : 16), s);
	return -1;
}

int policy_window_parse(const char *text, struct policy_window *out, char *why, size_t whylen)
{
	struct policy_window w = { 0, 0, 0 };
	const char *start = text, *end, *times, *dash, *p;

	end = text + strlen(text);
	while (*start == ' ' || *start == '\t')
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	/* The times are the last word; everything before is DAYS, where a
	 * space after a comma is allowed ("Sat, Sun"). */
	times = end;
	while (times > start && times[-1] != ' ' && times[-1] != '\t')
		times--;
	dash = memchr(times, '-', (size_t)(end - times));
	if (times == start || dash == NULL) {
		snprintf(why, whylen, "expected DAYS HH:MM-HH:MM, for example Mon-Fri 08:00-18:00");
		return -1;
	}
	if (policy_minutes(times, (size_t)(dash - times), false, &w.start, why, whylen) != 0 ||
	    policy_minutes(dash + 1, (size_t)(end - dash - 1), true, &w.end, why, whylen) != 0)
		return -1;
	for (p = start; p < times;) {
		const char *comma = memchr(p, ',', (size_t)(times - p));
		const char *item_end = comma != NULL ? comma : times;

		if (policy_days_item(p, (size_t)(item_end - p), &w.days, why, whylen) != 0)
			return -1;
		p = comma != NULL ? comma + 1 : times;
	}
	if (w.start == w.end) {
		snprintf(why, whylen, "empty window; use 00:00-24:00 for the whole day");
		return -1;
	}
	*out = w;
	return 0;
}

/* --- condition values ---------------------------------------------------- */

/* A key given as "x" or as a list of strings: the number of entries, or -1
 * after reporting why not. */
static int policy_strings(struct policy_ctx *ctx, const char *label, const char *key,
			  const config_setting_t *s)
{
	int n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return 1;
	if (config_setting_is_array(s) || config_setting_is_list(s)) {
		n = config_setting_length(s);
		if (n == 0) {
			policy_err(ctx, policy_line(s), "%s: '%s' is empty", label, key);
			return -1;
		}
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				policy_err(ctx, policy_line(e),
					   "%s: '%s' must be a string or a list of strings", label, key);
				return -1;
			}
		}
		return n;
	}
	policy_err(ctx, policy_line(s), "%s: '%s' must be a string or a list of strings", label, key);
	return -1;
}

static const config_setting_t *policy_string_at(const config_setting_t *s, int i)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING ? s
							     : config_setting_get_elem(s, (unsigned)i);
}

static void policy_parse_names(struct policy_ctx *ctx, const char *label, const char *key,
			       const config_setting_t *s, bool allow_space, struct policy_names *out)
{
	int n;

	if (s == NULL || (n = policy_strings(ctx, label, key, s)) < 0)
		return;
	out->present = true;
	out->v = calloc((size_t)n, sizeof(char *));
	if (out->v == NULL) {
		policy_err(ctx, policy_line(s), "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = policy_string_at(s, i);
		const char *text = config_setting_get_string(e);

		if (!policy_text_ok(text, POLICY_MAX_ITEM, allow_space)) {
			policy_err(ctx, policy_line(e), "%s: bad entry '%.64s' in %s", label, text, key);
			continue;
		}
		out->v[out->n] = strdup(text);
		if (out->v[out->n] == NULL) {
			policy_err(ctx, policy_line(e), "out of memory");
			return;
		}
		out->n++;
	}
}

static const struct policy_network *policy_network_named(const struct policy *pol,
							  const char *name)
{
	for (size_t i = 0; i < pol->n_networks; i++)
		if (strcmp(pol->networks[i].name, name) == 0)
			return &pol->networks[i];
	return NULL;
}

/* from / not_from: network names, CIDR literals and "local", compiled into
 * one netset so that a lookup costs the same however many are listed. */
static void policy_parse_sources(struct policy_ctx *ctx, const char *label, const char *key,
				 const config_setting_t *s, struct policy_sources *out)
{
	int n;

	if (s == NULL || (n = policy_strings(ctx, label, key, s)) < 0)
		return;
	out->present = true;
	out->nets = netset_new();
	if (out->nets == NULL) {
		policy_err(ctx, policy_line(s), "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = policy_string_at(s, i);
		const char *item = config_setting_get_string(e);
		const struct policy_network *net;
		char why[256] = "";
		uint8_t addr[16];
		unsigned plen;
		int family;

		if (strcmp(item, "local") == 0) {
			out->local = true;
		} else if ((net = policy_network_named(ctx->pol, item)) != NULL) {
			if (netset_add_all(out->nets, net->set) != 0)
				policy_err(ctx, policy_line(e), "out of memory");
		} else if (strpbrk(item, ".:/") == NULL) {
			/* Network names cannot hold these characters; addresses must. */
			policy_err(ctx, policy_line(e), "%s: unknown network '%.64s' in %s", label, item,
				   key);
		} else if (cidr_parse(item, &family, addr, &plen, why, sizeof(why)) != 0) {
			policy_err(ctx, policy_line(e), "%s: %s", label, why);
		} else if (netset_add(out->nets, family, addr, plen) != 0) {
			policy_err(ctx, policy_line(e), "out of memory");
		}
	}
}

static void policy_parse_class_list(struct policy_ctx *ctx, const char *label,
				    const config_setting_t *s, struct policy_rule *r)
{
	const struct policy *pol = ctx->pol;
	int n;

	if (s == NULL || (n = policy_strings(ctx, label, "class", s)) < 0)
		return;
	r->has_class = true;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = policy_string_at(s, i);
		const char *name = config_setting_get_string(e);
		size_t c;

		if (strcmp(name, "other") == 0) {
			r->class_mask |= (uint64_t)1 << pol->n_classes;
			continue;
		}
		for (c = 0; c < pol->n_classes && strcmp(pol->classes[c].name, name) != 0; c++)
			;
		if (c == pol->n_classes)
			policy_err(ctx, policy_line(e), "%s: unknown class '%.64s'", label, name);
		else
			r->class_mask |= (uint64_t)1 << c;
	}
}

static void policy_parse_windows(struct policy_ctx *ctx, const char *label, const char *key,
				 const config_setting_t *s, struct policy_windows *out)
{
	int n;

	if (s == NULL || (n = policy_strings(ctx, label, key, s)) < 0)
		return;
	out->present = true;
	out->v = calloc((size_t)n, sizeof(*out->v));
	if (out->v == NULL) {
		policy_err(ctx, policy_line(s), "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = policy_string_at(s, i);
		const char *text = config_setting_get_string(e);
		char why[160] = "";

		if (policy_window_parse(text, &out->v[out->n], why, sizeof(why)) != 0)
			policy_err(ctx, policy_line(e), "%s: bad time window '%.64s': %s", label, text,
				   why);
		else
			out->n++;
	}
}

/* Returns -1 absent, 0 false, 1 true; reports a non-boolean. */
static int policy_parse_bool(struct policy_ctx *ctx, const char *label, const char *key,
			     const config_setting_t *s)
{
	if (s == NULL)
		return -1;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		policy_err(ctx, policy_line(s), "%s: '%s' must be true or false", label, key);
		return -1;
	}
	return config_setting_get_bool(s) ? 1 : 0;
}

static void policy_parse_action(struct policy_ctx *ctx, const char *label,
				const config_setting_t *g, struct policy_rule *r)
{
	static const enum garde_action actions[] = { GARDE_ALLOW, GARDE_DENY, GARDE_MFA };
	const config_setting_t *s = config_setting_get_member(g, "action");
	const char *text;

	if (s == NULL) {
		policy_err(ctx, policy_line(g), "%s: missing required key 'action'", label);
		return;
	}
	text = config_setting_get_string(s);
	if (text == NULL) {
		policy_err(ctx, policy_line(s), "%s: 'action' must be a string (allow, deny or mfa)",
			   label);
		return;
	}
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(text, garde_action_name(actions[i])) == 0) {
			r->action = actions[i];
			return;
		}
	}
	policy_err(ctx, policy_line(s), "%s: unknown action '%.64s' (use allow, deny or mfa)", label,
		   text);
}

static void policy_parse_message(struct policy_ctx *ctx, const char *label,
				 const config_setting_t *s, struct policy_rule *r)
{
	const char *text;

	if (s == NULL)
		return;
	text = config_setting_get_string(s);
	if (text == NULL) {
		policy_err(ctx, policy_line(s), "%s: 'message' must be a string", label);
		return;
	}
	if (strlen(text) > POLICY_MAX_MESSAGE) {
		policy_err(ctx, policy_line(s), "%s: 'message' is longer than %d characters", label,
			   POLICY_MAX_MESSAGE);
		return;
	}
	/* It is shown on the user's terminal: text only, no escapes. */
	if (!policy_text_ok(text, POLICY_MAX_MESSAGE, true)) {
		policy_err(ctx, policy_line(s),
			   "%s: 'message' must be printable text (no control characters)", label);
		return;
	}
	r->message = strdup(text);
	if (r->message == NULL)
		policy_err(ctx, policy_line(s), "out of memory");
}

static bool policy_rule_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= POLICY_MAX_RULE_NAME &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* --- rules --------------------------------------------------------------- */

static const char *const policy_rule_keys[] = {
	"name",     "action",     "report_only", "alert",    "message", "users",
	"not_users", "groups",    "not_groups",  "services", "class",   "from",
	"not_from", "hours",      "not_hours",   "new_network", "app_password", "remember", NULL,
};

/* Sets *label to "rule 'name'" when the name is good, else "rule #N". */
static void policy_parse_name(struct policy_ctx *ctx, const config_setting_t *g, size_t index,
			      int first_line, struct policy_rule *r, char *label)
{
	const config_setting_t *s = config_setting_get_member(g, "name");
	const char *name;

	snprintf(label, POLICY_LABEL_MAX, "rule #%zu", index + 1);
	if (s == NULL) {
		policy_err(ctx, policy_line(g), "%s: missing required key 'name'", label);
		return;
	}
	name = config_setting_get_string(s);
	if (name == NULL || !policy_rule_name_ok(name)) {
		policy_err(ctx, policy_line(s),
			   "%s: bad name '%.64s' (use A-Z, a-z, 0-9, '_', '.' and '-'; at most %d characters)",
			   label, name != NULL ? name : "not a string", POLICY_MAX_RULE_NAME);
		return;
	}
	r->name = strdup(name);
	if (r->name == NULL) {
		policy_err(ctx, policy_line(s), "out of memory");
		return;
	}
	snprintf(label, POLICY_LABEL_MAX, "rule '%s'", name); /* the name is <= 64 bytes */
	if (first_line >= 0)
		policy_err(ctx, policy_line(s), "duplicate rule name '%s' (first defined on line %d)",
			   name, first_line);
}

/* app_password = true: a login that this rule decides (allow or mfa) may
 * present an app password of its class instead of the password (and code).
 * On a deny rule, or on a report-only rule that never decides, it would
 * accept nothing: an error, so that nobody believes it does. */
static void policy_parse_app_password(struct policy_ctx *ctx, const char *label,
				      const config_setting_t *g, struct policy_rule *r)
{
	const config_setting_t *s = config_setting_get_member(g, "app_password");
	int flag = policy_parse_bool(ctx, label, "app_password", s);

	r->app_password = flag == 1;
	if (!r->app_password)
		return;
	if (r->action == GARDE_DENY)
		policy_err(ctx, policy_line(s),
			   "%s: app_password has no effect on a deny rule; remove it", label);
	else if (r->report_only)
		policy_err(ctx, policy_line(s),
			   "%s: app_password has no effect on a report_only rule (it never decides); "
			   "set it on the rule that decides", label);
}

/* remember = false: mfa.remember never spares a login this rule decides
 * from the code, and a code it accepts is not remembered (admin logins
 * that must show a code every time, next to mail that may be remembered).
 * Only an mfa rule asks for a code: anywhere else it is an error. */
static void policy_parse_remember(struct policy_ctx *ctx, const char *label,
				  const config_setting_t *g, struct policy_rule *r)
{
	const config_setting_t *s = config_setting_get_member(g, "remember");
	int flag = policy_parse_bool(ctx, label, "remember", s);

	r->remember = flag != 0;
	if (flag >= 0 && r->action != GARDE_MFA)
		policy_err(ctx, policy_line(s),
			   "%s: remember applies to mfa rules only; remove it", label);
}

static void policy_parse_rule(struct policy_ctx *ctx, const config_setting_t *g, size_t index,
			      int first_line, struct policy_rule *r)
{
	char label[POLICY_LABEL_MAX], where[POLICY_LABEL_MAX + 4];
	int flag;

	r->line = policy_line(g);
	r->new_network = -1;
	if (!config_setting_is_group(g)) {
		policy_err(ctx, policy_line(g),
			   "rule #%zu must be a group { name = \"...\"; action = \"...\"; }", index + 1);
		return;
	}
	policy_parse_name(ctx, g, index, first_line, r, label);
	snprintf(where, sizeof(where), "in %s", label);
	policy_check_keys(ctx, g, policy_rule_keys, where);
	policy_parse_action(ctx, label, g, r);
	flag = policy_parse_bool(ctx, label, "report_only", config_setting_get_member(g, "report_only"));
	r->report_only = flag == 1;
	flag = policy_parse_bool(ctx, label, "alert", config_setting_get_member(g, "alert"));
	r->alert = flag == 1;
	policy_parse_app_password(ctx, label, g, r);
	policy_parse_remember(ctx, label, g, r);
	policy_parse_message(ctx, label, config_setting_get_member(g, "message"), r);

	/* User and group names may hold spaces (directory groups such as
	 * "domain users"); PAM service names are file names in /etc/pam.d. */
	policy_parse_names(ctx, label, "users", config_setting_get_member(g, "users"), true,
			   &r->users);
	policy_parse_names(ctx, label, "not_users", config_setting_get_member(g, "not_users"), true,
			   &r->not_users);
	policy_parse_names(ctx, label, "groups", config_setting_get_member(g, "groups"), true,
			   &r->groups);
	policy_parse_names(ctx, label, "not_groups", config_setting_get_member(g, "not_groups"),
			   true, &r->not_groups);
	policy_parse_names(ctx, label, "services", config_setting_get_member(g, "services"), false,
			   &r->services);
	policy_parse_class_list(ctx, label, config_setting_get_member(g, "class"), r);
	policy_parse_sources(ctx, label, "from", config_setting_get_member(g, "from"), &r->from);
	policy_parse_sources(ctx, label, "not_from", config_setting_get_member(g, "not_from"),
			     &r->not_from);
	policy_parse_windows(ctx, label, "hours", config_setting_get_member(g, "hours"), &r->hours);
	policy_parse_windows(ctx, label, "not_hours", config_setting_get_member(g, "not_hours"),
			     &r->not_hours);
	r->new_network = policy_parse_bool(ctx, label, "new_network",
					   config_setting_get_member(g, "new_network"));
	if (r->new_network >= 0)
		ctx->pol->uses_new_network = true;
	if (r->groups.present || r->not_groups.present)
		ctx->pol->uses_groups = true;
}

struct policy_named {
	const char *name;
	int line;
	size_t index;
};

static int policy_named_cmp(const void *a, const void *b)
{
	const struct policy_named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* first_line[i]: the line of the first rule with rule i's name when rule i
 * repeats it, else -1. Sorting keeps this O(n log n) for large policies. */
static int policy_find_duplicates(const config_setting_t *rules, size_t n, int *first_line)
{
	struct policy_named *named = calloc(n, sizeof(*named));
	size_t count = 0;

	if (named == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(rules, (unsigned)i);
		const config_setting_t *s = config_setting_is_group(g)
						    ? config_setting_get_member(g, "name")
						    : NULL;
		const char *name = s != NULL ? config_setting_get_string(s) : NULL;

		first_line[i] = -1;
		if (name != NULL)
			named[count++] = (struct policy_named){ name, policy_line(s), i };
	}
	qsort(named, count, sizeof(*named), policy_named_cmp);
	for (size_t i = 1, first = 0; i < count; i++) {
		if (strcmp(named[i].name, named[first].name) != 0)
			first = i;
		else
			first_line[named[i].index] = named[first].line;
	}
	free(named);
	return 0;
}

void policy_rules_parse(struct policy_ctx *ctx, const config_setting_t *rules)
{
	struct policy *pol = ctx->pol;
	int *first_line = NULL;
	int n;

	if (!config_setting_is_list(rules)) {
		policy_err(ctx, policy_line(rules),
			   "'rules' must be a list: rules = ( { name = \"...\"; action = \"...\"; } );");
		return;
	}
	n = config_setting_length(rules);
	if (n == 0) {
		policy_err(ctx, policy_line(rules),
			   "'rules' is empty (a policy with no rules denies everything)");
		return;
	}
	pol->rules = calloc((size_t)n, sizeof(*pol->rules));
	first_line = calloc((size_t)n, sizeof(*first_line));
	if (pol->rules == NULL || first_line == NULL ||
	    policy_find_duplicates(rules, (size_t)n, first_line) != 0) {
		policy_err(ctx, policy_line(rules), "out of memory");
		goto out;
	}
	pol->n_rules = (size_t)n;
	for (int i = 0; i < n; i++)
		policy_parse_rule(ctx, config_setting_get_elem(rules, (unsigned)i), (size_t)i,
				  first_line[i], &pol->rules[i]);
out:
	free(first_line);
}

static void policy_rule_clear(struct policy_rule *r)
{
	free(r->name);
	free(r->message);
	policy_names_free(&r->users);
	policy_names_free(&r->not_users);
	policy_names_free(&r->groups);
	policy_names_free(&r->not_groups);
	policy_names_free(&r->services);
	netset_free(r->from.nets);
	netset_free(r->not_from.nets);
	free(r->hours.v);
	free(r->not_hours.v);
}

void policy_rules_free(struct policy_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		policy_rule_clear(&rules[i]);
	free(rules);
}
