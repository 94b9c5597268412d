/* policy.c - the policy file: trusted read, top-level keys, networks,
 * classes and the numeric sections. Checks on the raw text are in
 * policy_lex.c; rules and time windows in policy_rules.c.
 *
 * Every error is reported and counted, and parsing goes on so that one run
 * of `garde check` names them all; a policy with any error is freed whole. */
#include "policy.h"
#include "policy_internal.h"
#include "rfc3339.h"
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define POLICY_MAX_SERVICES 4096 /* over all classes; keeps the two-classes check cheap */
#define POLICY_MAX_NAME 64       /* network and class names */

const char *garde_action_name(enum garde_action action)
{
	switch (action) {
	case GARDE_ALLOW: return "allow";
	case GARDE_DENY: return "deny";
	case GARDE_MFA: return "mfa";
	}
	return "unknown";
}

/* --- diagnostics ---------------------------------------------------- */

void policy_err(struct policy_ctx *ctx, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	ctx->errors++;
	if (ctx->diag == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "error (message could not be formatted)");
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	/* Messages quote hostile text (keys, names, values): no byte of it may
	 * reach a terminal or a log as a control sequence. */
	for (char *p = msg; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x7f)
			*p = '?';
	}
	ctx->diag(ctx->diag_arg, ctx->name, line, msg);
}

int policy_line(const config_setting_t *setting)
{
	return setting != NULL ? (int)config_setting_source_line(setting) : 0;
}

bool policy_text_ok(const char *text, size_t max, bool allow_space)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n;

	if (text == NULL)
		return false;
	n = strnlen(text, max + 1);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n;) {
		unsigned c = p[i], len;
		uint32_t cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f || (c == ' ' && !allow_space))
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (unsigned k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, past U+10FFFF, and C1 controls
		 * (which some terminals obey as escapes). */
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
			return false;
		i += len;
	}
	return true;
}

void policy_check_keys(struct policy_ctx *ctx, const config_setting_t *group,
		       const char *const *known, const char *where)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = m != NULL ? config_setting_name(m) : NULL;
		bool found = false;

		if (name == NULL)
			continue;
		for (const char *const *k = known; *k != NULL && !found; k++)
			found = strcmp(name, *k) == 0;
		if (!found)
			policy_err(ctx, policy_line(m), "unknown key '%s' %s", name, where);
	}
}

/* --- values ----------------------------------------------------------- */

/* An int or int64 setting's value; false for any other type. */
static bool policy_int_value(const config_setting_t *s, long long *out)
{
	if (config_setting_type(s) == CONFIG_TYPE_INT) {
		*out = config_setting_get_int(s);
		return true;
	}
	if (config_setting_type(s) == CONFIG_TYPE_INT64) {
		*out = config_setting_get_int64(s);
		return true;
	}
	return false;
}

/* Network and class names: [a-z0-9_-]+, short. */
static bool policy_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > POLICY_MAX_NAME)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static void policy_parse_serial(struct policy_ctx *ctx, const config_setting_t *s)
{
	long long v;

	if (s == NULL) {
		policy_err(ctx, 0, "missing required key 'serial'");
		return;
	}
	if (!policy_int_value(s, &v) || v < 1) {
		policy_err(ctx, policy_line(s), "'serial' must be an integer >= 1");
		return;
	}
	ctx->pol->serial = v;
}

/* Only the one spelling "YYYY-MM-DDTHH:MM:SSZ": a policy is compared by
 * people across hosts, and an offset or a fraction there is a trap. */
static void policy_parse_expires(struct policy_ctx *ctx, const config_setting_t *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	const char *text;
	int64_t when;
	bool ok;

	if (s == NULL)
		return;
	text = config_setting_get_string(s);
	ok = text != NULL && strlen(text) == sizeof(shape) - 1;
	for (size_t i = 0; ok && i < sizeof(shape) - 1; i++)
		ok = shape[i] == 'd' ? (text[i] >= '0' && text[i] <= '9') : text[i] == shape[i];
	/* 0 means "never", so an expiry must be after the epoch. */
	if (ok)
		ok = rfc3339_parse(text, &when) == 0 && when > 0;
	if (!ok) {
		policy_err(ctx, policy_line(s),
			   "'expires' must be a UTC time like \"2027-06-30T00:00:00Z\" (got '%.64s')",
			   text != NULL ? text : "not a string");
		return;
	}
	ctx->pol->expires = when;
}

static void policy_parse_mode(struct policy_ctx *ctx, const config_setting_t *s)
{
	const char *text;

	if (s == NULL)
		return;
	text = config_setting_get_string(s);
	if (text != NULL && strcmp(text, "enforce") == 0)
		ctx->pol->report_only_mode = false;
	else if (text != NULL && strcmp(text, "report-only") == 0)
		ctx->pol->report_only_mode = true;
	else
		policy_err(ctx, policy_line(s), "'mode' must be \"enforce\" or \"report-only\"");
}

static void policy_parse_timezone(struct policy_ctx *ctx, const config_setting_t *s,
				  const char *zoneinfo_dir)
{
	const char *name = "UTC";
	char err[256] = "";

	if (s != NULL) {
		name = config_setting_get_string(s);
		if (name == NULL) {
			policy_err(ctx, policy_line(s),
				   "'timezone' must be a string such as \"Europe/Paris\"");
			return;
		}
	}
	ctx->pol->timezone = strdup(name);
	if (ctx->pol->timezone == NULL) {
		policy_err(ctx, policy_line(s), "out of memory");
		return;
	}
	if (tz_load(name, zoneinfo_dir, &ctx->pol->tz, err, sizeof(err)) != 0) {
		ctx->pol->tz = NULL;
		if (err[0] != '\0')
			policy_err(ctx, policy_line(s), "%s", err);
		else
			policy_err(ctx, policy_line(s), "unknown time zone '%.64s'", name);
	}
}

/* An array or a list whose entries must all be strings. */
static bool policy_is_sequence(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
}

static void policy_parse_networks(struct policy_ctx *ctx, const config_setting_t *s)
{
	static const char *const reserved[] = { "local", "elsewhere", "unknown", NULL };
	struct policy *pol = ctx->pol;
	int n;

	if (s == NULL)
		return;
	if (!config_setting_is_group(s)) {
		policy_err(ctx, policy_line(s),
			   "'networks' must be a group: networks = { lan = [ \"10.0.0.0/8\" ]; };");
		return;
	}
	n = config_setting_length(s);
	if (n == 0)
		return;
	pol->networks = calloc((size_t)n, sizeof(*pol->networks));
	if (pol->networks == NULL) {
		policy_err(ctx, policy_line(s), "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(m);
		struct policy_network *net;
		bool is_reserved = false;
		int count;

		for (const char *const *r = reserved; *r != NULL; r++)
			is_reserved |= strcmp(name, *r) == 0;
		if (is_reserved) {
			policy_err(ctx, policy_line(m), "network name '%s' is reserved", name);
			continue;
		}
		if (!policy_name_ok(name)) {
			policy_err(ctx, policy_line(m),
				   "bad network name '%s' (use a-z, 0-9, '_' and '-')", name);
			continue;
		}
		/* Registered even when its entries are wrong, so that rules
		 * naming it get no second, misleading "unknown network". */
		net = &pol->networks[pol->n_networks];
		net->name = strdup(name);
		net->set = netset_new();
		if (net->name == NULL || net->set == NULL) {
			policy_err(ctx, policy_line(m), "out of memory");
			free(net->name);
			netset_free(net->set);
			memset(net, 0, sizeof(*net));
			continue;
		}
		pol->n_networks++;
		if (!policy_is_sequence(m)) {
			policy_err(ctx, policy_line(m),
				   "network '%s' must be a list of prefixes like [ \"10.0.0.0/8\" ]", name);
			continue;
		}
		count = config_setting_length(m);
		if (count == 0)
			policy_err(ctx, policy_line(m), "network '%s' is empty", name);
		for (int k = 0; k < count; k++) {
			const config_setting_t *e = config_setting_get_elem(m, (unsigned)k);
			const char *cidr = config_setting_get_string(e);
			char why[256];
			uint8_t addr[16];
			unsigned plen;
			int family;

			if (cidr == NULL) {
				policy_err(ctx, policy_line(e),
					   "network '%s': entries must be strings like \"10.0.0.0/8\"", name);
				continue;
			}
			why[0] = '\0';
			if (cidr_parse(cidr, &family, addr, &plen, why, sizeof(why)) != 0)
				policy_err(ctx, policy_line(e), "network '%s': %s", name, why);
			else if (netset_add(net->set, family, addr, plen) != 0)
				policy_err(ctx, policy_line(e), "out of memory");
		}
	}
}

/* The class that already lists service, or -1. */
static int policy_find_service(const struct policy *pol, const char *service)
{
	for (size_t c = 0; c < pol->n_classes; c++)
		for (size_t k = 0; k < pol->classes[c].services.n; k++)
			if (strcmp(pol->classes[c].services.v[k], service) == 0)
				return (int)c;
	return -1;
}

static void policy_parse_class(struct policy_ctx *ctx, const config_setting_t *m,
			       struct policy_class *cls, size_t *total)
{
	const char *name = config_setting_name(m);
	int count;

	if (!policy_is_sequence(m)) {
		policy_err(ctx, policy_line(m),
			   "class '%s' must be a list of PAM services like [ \"sshd\", \"sudo\" ]", name);
		return;
	}
	count = config_setting_length(m);
	if (count == 0) {
		policy_err(ctx, policy_line(m), "class '%s' is empty", name);
		return;
	}
	cls->services.present = true;
	cls->services.v = calloc((size_t)count, sizeof(char *));
	if (cls->services.v == NULL) {
		policy_err(ctx, policy_line(m), "out of memory");
		return;
	}
	for (int k = 0; k < count; k++) {
		const config_setting_t *e = config_setting_get_elem(m, (unsigned)k);
		const char *service = config_setting_get_string(e);
		int other;

		if (!policy_text_ok(service, POLICY_MAX_ITEM, false)) {
			policy_err(ctx, policy_line(e), "class '%s': bad service name%s%.64s%s", name,
				   service != NULL ? " '" : " (not a string)", service != NULL ? service : "",
				   service != NULL ? "'" : "");
			continue;
		}
		other = policy_find_service(ctx->pol, service);
		if (other >= 0 && ctx->pol->classes + other != cls) {
			policy_err(ctx, policy_line(e), "service '%s' is in classes '%s' and '%s'",
				   service, ctx->pol->classes[other].name, name);
			continue;
		}
		if (other >= 0)
			continue; /* listed twice in the same class: harmless */
		if (++*total > POLICY_MAX_SERVICES) {
			policy_err(ctx, policy_line(e), "too many services in classes (at most %d)",
				   POLICY_MAX_SERVICES);
			return;
		}
		cls->services.v[cls->services.n] = strdup(service);
		if (cls->services.v[cls->services.n] == NULL) {
			policy_err(ctx, policy_line(e), "out of memory");
			return;
		}
		cls->services.n++;
	}
}

static void policy_parse_classes(struct policy_ctx *ctx, const config_setting_t *s)
{
	struct policy *pol = ctx->pol;
	size_t total = 0;
	int n;

	if (s == NULL)
		return;
	if (!config_setting_is_group(s)) {
		policy_err(ctx, policy_line(s),
			   "'classes' must be a group: classes = { admin = [ \"sshd\" ]; };");
		return;
	}
	n = config_setting_length(s);
	if (n == 0)
		return;
	pol->classes = calloc((size_t)n, sizeof(*pol->classes));
	if (pol->classes == NULL) {
		policy_err(ctx, policy_line(s), "out of memory");
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
		const char *name = config_setting_name(m);
		struct policy_class *cls;

		if (strcmp(name, "other") == 0) {
			policy_err(ctx, policy_line(m),
				   "class name 'other' is reserved (it is the class of every unlisted service)");
			continue;
		}
		if (!policy_name_ok(name)) {
			policy_err(ctx, policy_line(m),
				   "bad class name '%s' (use a-z, 0-9, '_' and '-')", name);
			continue;
		}
		if (pol->n_classes == POLICY_MAX_CLASSES) {
			policy_err(ctx, policy_line(m), "too many classes (at most %d)", POLICY_MAX_CLASSES);
			return;
		}
		cls = &pol->classes[pol->n_classes];
		cls->name = strdup(name);
		if (cls->name == NULL) {
			policy_err(ctx, policy_line(m), "out of memory");
			continue;
		}
		pol->n_classes++;
		policy_parse_class(ctx, m, cls, &total);
	}
}

/* --- numeric sections: mfa, lockout, history ------------------------- */

struct policy_number {
	const char *key;
	unsigned min, max, def;
	size_t offset; /* of an unsigned in the section's struct */
};

static const struct policy_number policy_mfa_numbers[] = {
	{ "digits", 6, 8, 6, offsetof(struct policy_mfa, digits) },
	{ "step", 1, 300, 30, offsetof(struct policy_mfa, step) },
	{ "window_past", 0, 10, 1, offsetof(struct policy_mfa, window_past) },
	{ "window_future", 0, 10, 1, offsetof(struct policy_mfa, window_future) },
	{ "remember", 0, 2592000, 0, offsetof(struct policy_mfa, remember) },
	{ NULL, 0, 0, 0, 0 },
};

static const struct policy_number policy_lockout_user_numbers[] = {
	{ "deny", 1, 1000000, 5, offsetof(struct policy_lockout_slot, deny) },
	{ "interval", 1, 86400, 900, offsetof(struct policy_lockout_slot, interval) },
	{ "unlock", 1, 604800, 900, offsetof(struct policy_lockout_slot, unlock) },
	{ NULL, 0, 0, 0, 0 },
};

static const struct policy_number policy_lockout_source_numbers[] = {
	{ "deny", 1, 1000000, 20, offsetof(struct policy_lockout_slot, deny) },
	{ "interval", 1, 86400, 300, offsetof(struct policy_lockout_slot, interval) },
	{ "unlock", 1, 604800, 3600, offsetof(struct policy_lockout_slot, unlock) },
	{ NULL, 0, 0, 0, 0 },
};

static const struct policy_number policy_history_numbers[] = {
	{ "ttl_days", 1, 3650, 90, offsetof(struct policy_history, ttl_days) },
	{ "prefix_v4", 0, 32, 24, offsetof(struct policy_history, prefix_v4) },
	{ "prefix_v6", 0, 128, 64, offsetof(struct policy_history, prefix_v6) },
	{ NULL, 0, 0, 0, 0 },
};

/* Sets the defaults, then the values of group (may be NULL). section names
 * the group in messages ("mfa", "lockout.user"); label prefixes key names
 * in value messages where the bare key would be ambiguous ("user."). */
static void policy_parse_numbers(struct policy_ctx *ctx, const config_setting_t *group,
				 const char *section, const char *label,
				 const struct policy_number *nums, void *base)
{
	int n;

	for (const struct policy_number *k = nums; k->key != NULL; k++)
		*(unsigned *)(void *)((char *)base + k->offset) = k->def;
	if (group == NULL)
		return;
	if (!config_setting_is_group(group)) {
		policy_err(ctx, policy_line(group), "'%s' must be a group { ... }", section);
		return;
	}
	n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(m);
		const struct policy_number *k;
		long long v;

		for (k = nums; k->key != NULL && strcmp(k->key, name) != 0; k++)
			;
		if (k->key == NULL) {
			policy_err(ctx, policy_line(m), "unknown key '%s' in %s", name, section);
			continue;
		}
		if (!policy_int_value(m, &v)) {
			policy_err(ctx, policy_line(m), "'%s%s' must be an integer", label, name);
			continue;
		}
		if (v < k->min || v > k->max) {
			policy_err(ctx, policy_line(m), "'%s%s' must be between %u and %u (got %lld)",
				   label, name, k->min, k->max, v);
			continue;
		}
		*(unsigned *)(void *)((char *)base + k->offset) = (unsigned)v;
	}
}

static void policy_parse_lockout(struct policy_ctx *ctx, const config_setting_t *s)
{
	static const char *const keys[] = { "user", "source", NULL };
	const config_setting_t *user = NULL, *source = NULL;

	if (s != NULL && !config_setting_is_group(s)) {
		policy_err(ctx, policy_line(s), "'lockout' must be a group { user = { ... }; source = { ... }; }");
		s = NULL;
	}
	if (s != NULL) {
		policy_check_keys(ctx, s, keys, "in lockout");
		user = config_setting_get_member(s, "user");
		source = config_setting_get_member(s, "source");
	}
	policy_parse_numbers(ctx, user, "lockout.user", "user.", policy_lockout_user_numbers,
			     &ctx->pol->lockout_user);
	policy_parse_numbers(ctx, source, "lockout.source", "source.",
			     policy_lockout_source_numbers, &ctx->pol->lockout_source);
}

/* --- the whole policy -------------------------------------------------- */

static void policy_parse_root(struct policy_ctx *ctx, const config_setting_t *root,
			      const struct policy_load_opts *opts)
{
	static const char *const keys[] = { "serial", "expires", "mode", "timezone", "networks",
					    "classes", "mfa", "lockout", "history", "rules", NULL };
	const config_setting_t *rules;

	policy_check_keys(ctx, root, keys, "at top level");
	policy_parse_serial(ctx, config_setting_get_member(root, "serial"));
	policy_parse_expires(ctx, config_setting_get_member(root, "expires"));
	policy_parse_mode(ctx, config_setting_get_member(root, "mode"));
	policy_parse_timezone(ctx, config_setting_get_member(root, "timezone"),
			      opts != NULL ? opts->zoneinfo_dir : NULL);
	policy_parse_networks(ctx, config_setting_get_member(root, "networks"));
	policy_parse_classes(ctx, config_setting_get_member(root, "classes"));
	policy_parse_numbers(ctx, config_setting_get_member(root, "mfa"), "mfa", "",
			     policy_mfa_numbers, &ctx->pol->mfa);
	policy_parse_lockout(ctx, config_setting_get_member(root, "lockout"));
	policy_parse_numbers(ctx, config_setting_get_member(root, "history"), "history", "",
			     policy_history_numbers, &ctx->pol->history);
	rules = config_setting_get_member(root, "rules");
	if (rules == NULL)
		policy_err(ctx, 0, "missing 'rules' (a policy with no rules denies everything)");
	else
		policy_rules_parse(ctx, rules);
}

int policy_parse(const char *text, size_t len, const char *name,
		 const struct policy_load_opts *opts, struct policy **out)
{
	struct policy_ctx ctx = {
		.name = name != NULL ? name : "policy",
		.diag = opts != NULL ? opts->diag : NULL,
		.diag_arg = opts != NULL ? opts->diag_arg : NULL,
	};
	config_t cfg;
	bool cfg_ready = false;
	char *copy = NULL;
	int rv = -1;

	if (text == NULL || out == NULL) {
		policy_err(&ctx, 0, "no policy text");
		goto out;
	}
	if (len > POLICY_MAX_BYTES) {
		policy_err(&ctx, 0, "policy is larger than 4 MiB");
		goto out;
	}
	ctx.pol = calloc(1, sizeof(*ctx.pol));
	copy = malloc(len + 1);
	if (ctx.pol == NULL || copy == NULL) {
		policy_err(&ctx, 0, "out of memory");
		goto out;
	}
	policy_lex_check(&ctx, text, len);
	if (ctx.errors != 0)
		goto out;
	/* libconfig reads NUL-terminated text; the caller's need not be. */
	memcpy(copy, text, len);
	copy[len] = '\0';
	config_init(&cfg);
	cfg_ready = true;
	if (config_read_string(&cfg, copy) != CONFIG_TRUE) {
		policy_err(&ctx, config_error_line(&cfg), "%s",
			   config_error_text(&cfg) != NULL ? config_error_text(&cfg) : "syntax error");
		goto out;
	}
	policy_parse_root(&ctx, config_root_setting(&cfg), opts);
	if (ctx.errors == 0) {
		*out = ctx.pol;
		ctx.pol = NULL;
		rv = 0;
	}
out:
	if (cfg_ready)
		config_destroy(&cfg);
	free(copy);
	policy_free(ctx.pol);
	return rv;
}

/* For `garde check` on a draft that is not installed yet: the same size cap
 * and file type check, without the owner and mode rules. */
static int policy_read_untrusted(const char *path, char **data, size_t *len)
{
	struct stat st;
	int fd, rv;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? TRUST_ENOENT : TRUST_EIO;
	if (fstat(fd, &st) != 0)
		rv = TRUST_EIO;
	else if (!S_ISREG(st.st_mode))
		rv = TRUST_ETYPE;
	else
		rv = trust_read_fd(fd, POLICY_MAX_BYTES, data, len);
	close(fd);
	return rv;
}

int policy_load(const char *path, const struct policy_load_opts *opts, struct policy **out)
{
	struct policy_ctx ctx = {
		.name = path,
		.diag = opts != NULL ? opts->diag : NULL,
		.diag_arg = opts != NULL ? opts->diag_arg : NULL,
	};
	char *text = NULL;
	size_t len = 0;
	int rv = -1, trv;

	if (path == NULL || out == NULL) {
		ctx.name = "policy";
		policy_err(&ctx, 0, "no policy file");
		goto out;
	}
	if (opts != NULL && opts->skip_trust_check)
		trv = policy_read_untrusted(path, &text, &len);
	else
		trv = trust_read_file(path, POLICY_MAX_BYTES, &text, &len);
	if (trv != TRUST_OK) {
		policy_err(&ctx, 0, "%s",
			   trv == TRUST_ETOOBIG ? "is larger than 4 MiB" : trust_strerror(trv));
		goto out;
	}
	rv = policy_parse(text, len, path, opts, out);
out:
	free(text);
	return rv;
}

int policy_load_fd(int fd, const char *path, const struct policy_load_opts *opts,
		   struct policy **out)
{
	struct policy_ctx ctx = {
		.name = path,
		.diag = opts != NULL ? opts->diag : NULL,
		.diag_arg = opts != NULL ? opts->diag_arg : NULL,
	};
	char *text = NULL;
	size_t len = 0;
	int rv, trv = trust_read_fd(fd, POLICY_MAX_BYTES, &text, &len);

	if (trv != TRUST_OK) {
		policy_err(&ctx, 0, "%s",
			   trv == TRUST_ETOOBIG ? "is larger than 4 MiB" : trust_strerror(trv));
		return -1;
	}
	rv = policy_parse(text, len, path, opts, out);
	free(text);
	return rv;
}

void policy_names_free(struct policy_names *names)
{
	for (size_t i = 0; i < names->n; i++)
		free(names->v[i]);
	free(names->v);
	memset(names, 0, sizeof(*names));
}

void policy_free(struct policy *pol)
{
	if (pol == NULL)
		return;
	for (size_t i = 0; i < pol->n_networks; i++) {
		free(pol->networks[i].name);
		netset_free(pol->networks[i].set);
	}
	free(pol->networks);
	for (size_t i = 0; i < pol->n_classes; i++) {
		free(pol->classes[i].name);
		policy_names_free(&pol->classes[i].services);
	}
	free(pol->classes);
	policy_rules_free(pol->rules, pol->n_rules);
	free(pol->timezone);
	tz_free(pol->tz);
	if (pol->snapshot_map != NULL)
		munmap(pol->snapshot_map, pol->snapshot_len);
	free(pol);
}

size_t policy_class_of(const struct policy *pol, const char *service)
{
	int c;

	if (service == NULL)
		return pol->n_classes;
	c = policy_find_service(pol, service);
	return c >= 0 ? (size_t)c : pol->n_classes;
}

const char *policy_class_name(const struct policy *pol, size_t class_index)
{
	/* Out of range is a caller's bug; "other" is the harmless answer. */
	return class_index < pol->n_classes ? pol->classes[class_index].name : "other";
}
