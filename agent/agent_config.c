/* agent_config.c - agent.conf (libconfig) -> struct agent_config.
 *
 * The same rules as the policy (lib/policy.c), and the same helpers: the
 * text is read with the trust rules (the file may hold an HTTP token, and
 * whoever writes it chooses the keys policies are checked against), it goes
 * through policy_lex_check before libconfig sees it (libconfig 1.5 follows
 * @include and wraps large integers silently), unknown keys are refused at
 * every level, and every error is reported as FILE:LINE before the load
 * fails whole. */
#include "agent.h"
#include "policy.h"
#include "policy_internal.h"
#include "trust.h"

#include <libconfig.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AGENT_CONFIG_MAX_BYTES (1024u * 1024)
#define AGENT_MAX_PATH 1024
#define AGENT_MAX_URL 2048
#define AGENT_MAX_SINK_NAME 32
#define AGENT_MAX_TOKEN 4096

/* --- values ------------------------------------------------------------- */

static bool agent_int_value(const config_setting_t *s, long long *out)
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

/* An integer member of group in min..max; absent leaves *out alone. */
static void agent_get_number(struct policy_ctx *ctx, const config_setting_t *group,
			     const char *key, long long min, long long max, long long *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	long long v;

	if (s == NULL)
		return;
	if (!agent_int_value(s, &v)) {
		policy_err(ctx, policy_line(s), "'%s' must be an integer", key);
		return;
	}
	if (v < min || v > max) {
		policy_err(ctx, policy_line(s), "'%s' must be between %lld and %lld (got %lld)", key,
			   min, max, v);
		return;
	}
	*out = v;
}

static void agent_get_unsigned(struct policy_ctx *ctx, const config_setting_t *group,
			       const char *key, unsigned min, unsigned max, unsigned *out)
{
	long long v = *out;

	agent_get_number(ctx, group, key, min, max, &v);
	*out = (unsigned)v;
}

static void agent_get_size(struct policy_ctx *ctx, const config_setting_t *group,
			   const char *key, long long min, long long max, size_t *out)
{
	long long v = (long long)*out;

	agent_get_number(ctx, group, key, min, max, &v);
	*out = (size_t)v;
}

static void agent_get_bool(struct policy_ctx *ctx, const config_setting_t *group,
			   const char *key, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);

	if (s == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		policy_err(ctx, policy_line(s), "'%s' must be true or false", key);
		return;
	}
	*out = config_setting_get_bool(s) != 0;
}

/* Replaces *out with a copy of text (a default is never freed: defaults are
 * strdup'd too, so every string in the struct is owned). */
static void agent_set_string(struct policy_ctx *ctx, int line, const char *text, char **out)
{
	char *copy = strdup(text);

	if (copy == NULL) {
		policy_err(ctx, line, "out of memory");
		return;
	}
	free(*out);
	*out = copy;
}

enum agent_string_kind {
	AGENT_TEXT,      /* printable, no spaces */
	AGENT_PATH,      /* absolute path */
	AGENT_HTTPS_URL, /* https:// only */
	AGENT_HTTP_URL,  /* https:// or http:// */
	AGENT_SECRET,    /* printable, spaces allowed (an Authorization value) */
};

static bool agent_prefix_ci(const char *text, const char *prefix)
{
	return strncasecmp(text, prefix, strlen(prefix)) == 0;
}

static void agent_get_string(struct policy_ctx *ctx, const config_setting_t *group,
			     const char *key, enum agent_string_kind kind, char **out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	const char *text;
	size_t max = kind == AGENT_PATH ? AGENT_MAX_PATH
		   : kind == AGENT_SECRET ? AGENT_MAX_TOKEN
		   : AGENT_MAX_URL;

	if (s == NULL)
		return;
	text = config_setting_get_string(s);
	if (text == NULL) {
		policy_err(ctx, policy_line(s), "'%s' must be a string", key);
		return;
	}
	/* Paths and URLs end up in messages, logs and libcurl: no control
	 * characters, and no spaces that would make a log line ambiguous. */
	if (!policy_text_ok(text, max, kind == AGENT_SECRET)) {
		policy_err(ctx, policy_line(s),
			   "'%s' must be 1 to %zu printable characters without spaces", key, max);
		return;
	}
	switch (kind) {
	case AGENT_PATH:
		if (text[0] != '/') {
			policy_err(ctx, policy_line(s),
				   "'%s' must be an absolute path (got '%.64s')", key, text);
			return;
		}
		break;
	case AGENT_HTTPS_URL:
		if (!agent_prefix_ci(text, "https://") || text[8] == '\0') {
			policy_err(ctx, policy_line(s),
				   "'%s' must be an https:// URL (got '%.64s'): policies are only "
				   "fetched over TLS", key, text);
			return;
		}
		break;
	case AGENT_HTTP_URL:
		if (!agent_prefix_ci(text, "https://") && !agent_prefix_ci(text, "http://")) {
			policy_err(ctx, policy_line(s), "'%s' must be an http:// or https:// URL", key);
			return;
		}
		break;
	case AGENT_TEXT:
	case AGENT_SECRET:
		break;
	}
	agent_set_string(ctx, policy_line(s), text, out);
}

/* A sub-group, or NULL (reported) when the member is not a group. */
static const config_setting_t *agent_group(struct policy_ctx *ctx, const config_setting_t *parent,
					   const char *key, const char *example)
{
	const config_setting_t *s = config_setting_get_member(parent, key);

	if (s != NULL && !config_setting_is_group(s)) {
		policy_err(ctx, policy_line(s), "'%s' must be a group: %s", key, example);
		return NULL;
	}
	return s;
}

/* --- policy = { ... } ---------------------------------------------------- */

static void agent_parse_keys(struct policy_ctx *ctx, const config_setting_t *s,
			     struct agent_config *cfg)
{
	int n;

	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		policy_err(ctx, policy_line(s),
			   "'keys' must be a list of public key files: keys = [ \"/etc/garde/keys/a.pub\" ];");
		return;
	}
	n = config_setting_length(s);
	if (n == 0 || n > AGENT_MAX_KEYS) {
		policy_err(ctx, policy_line(s), "'keys' must list 1 to %d public key files",
			   AGENT_MAX_KEYS);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *path = config_setting_get_string(e);

		if (path == NULL || !policy_text_ok(path, AGENT_MAX_PATH, false) || path[0] != '/') {
			policy_err(ctx, policy_line(e), "'keys' entries must be absolute paths");
			continue;
		}
		for (size_t k = 0; k < cfg->n_keys; k++)
			if (strcmp(cfg->keys[k], path) == 0)
				policy_err(ctx, policy_line(e), "key file '%s' is listed twice", path);
		cfg->keys[cfg->n_keys] = strdup(path);
		if (cfg->keys[cfg->n_keys] == NULL) {
			policy_err(ctx, policy_line(e), "out of memory");
			continue;
		}
		cfg->n_keys++;
	}
}

static void agent_parse_policy(struct policy_ctx *ctx, const config_setting_t *g,
			       struct agent_config *cfg)
{
	static const char *const keys[] = { "url", "interval", "jitter", "keys", "threshold",
					    "ca_file", "client_cert", "client_key", "target",
					    "max_bytes", "timeout", NULL };
	const config_setting_t *s;
	bool jitter_set = config_setting_get_member(g, "jitter") != NULL;

	policy_check_keys(ctx, g, keys, "in policy");
	agent_get_string(ctx, g, "url", AGENT_HTTPS_URL, &cfg->policy_url);
	agent_get_unsigned(ctx, g, "interval", 10, 86400, &cfg->poll_interval);
	cfg->poll_jitter = cfg->poll_interval / 10;
	agent_get_unsigned(ctx, g, "jitter", 0, 86400, &cfg->poll_jitter);
	if (jitter_set && cfg->poll_jitter > cfg->poll_interval)
		policy_err(ctx, policy_line(config_setting_get_member(g, "jitter")),
			   "'jitter' (%u) must not exceed 'interval' (%u)", cfg->poll_jitter,
			   cfg->poll_interval);
	s = config_setting_get_member(g, "keys");
	if (s != NULL)
		agent_parse_keys(ctx, s, cfg);
	agent_get_unsigned(ctx, g, "threshold", 1, AGENT_MAX_KEYS, &cfg->threshold);
	s = config_setting_get_member(g, "threshold");
	if (s != NULL && cfg->n_keys > 0 && cfg->threshold > cfg->n_keys)
		policy_err(ctx, policy_line(s),
			   "'threshold' is %u but only %zu key%s listed: no policy could ever be accepted",
			   cfg->threshold, cfg->n_keys, cfg->n_keys == 1 ? " is" : "s are");
	agent_get_string(ctx, g, "ca_file", AGENT_PATH, &cfg->ca_file);
	agent_get_string(ctx, g, "client_cert", AGENT_PATH, &cfg->client_cert);
	agent_get_string(ctx, g, "client_key", AGENT_PATH, &cfg->client_key);
	if ((cfg->client_cert == NULL) != (cfg->client_key == NULL))
		policy_err(ctx, policy_line(g),
			   "'client_cert' and 'client_key' go together: set both or neither");
	agent_get_string(ctx, g, "target", AGENT_PATH, &cfg->policy_target);
	agent_get_size(ctx, g, "max_bytes", 256, POLICY_MAX_BYTES, &cfg->policy_max_bytes);
	agent_get_unsigned(ctx, g, "timeout", 1, 3600, &cfg->policy_timeout);
	if (cfg->policy_url != NULL && cfg->n_keys == 0)
		policy_err(ctx, policy_line(g),
			   "'url' is set but 'keys' is missing: list the public keys policies are signed with");
}

/* --- sinks = ( { ... }, ... ) ---------------------------------------------- */

static bool agent_sink_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= AGENT_MAX_SINK_NAME &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* Keys that make no sense for the sink's type are errors, not silently
 * ignored: a "url" on a relp sink is a config that does not do what its
 * author thinks. */
static void agent_refuse_keys(struct policy_ctx *ctx, const config_setting_t *g,
			      const char *const *keys, const char *type)
{
	for (const char *const *k = keys; *k != NULL; k++) {
		const config_setting_t *s = config_setting_get_member(g, *k);
		if (s != NULL)
			policy_err(ctx, policy_line(s), "'%s' does not apply to a %s sink", *k, type);
	}
}

static void agent_parse_sink(struct policy_ctx *ctx, const config_setting_t *g,
			     struct agent_config *cfg)
{
	static const char *const keys[] = { "name", "type", "host", "port", "tls", "ca_file",
					    "client_cert", "client_key", "url", "format", "token",
					    "batch", "timeout", "backoff_max", NULL };
	static const char *const net_only[] = { "host", "port", NULL };
	static const char *const http_only[] = { "url", "format", "token", NULL };
	struct agent_sink *sk = &cfg->sinks[cfg->n_sinks];
	const config_setting_t *s;
	const char *type;
	int line = policy_line(g);

	if (!config_setting_is_group(g)) {
		policy_err(ctx, line, "each sink must be a group { name = ...; type = ...; }");
		return;
	}
	cfg->n_sinks++; /* counted first so that agent_config_free sees what was set */
	sk->batch = 500;
	sk->timeout = 10;
	sk->backoff_max = 300;
	policy_check_keys(ctx, g, keys, "in a sink");

	agent_get_string(ctx, g, "name", AGENT_TEXT, &sk->name);
	if (sk->name == NULL) {
		policy_err(ctx, line, "a sink needs a 'name' (a-z, 0-9, '_', '-')");
	} else if (!agent_sink_name_ok(sk->name)) {
		policy_err(ctx, policy_line(config_setting_get_member(g, "name")),
			   "bad sink name '%s' (use a-z, 0-9, '_' and '-', at most %d)", sk->name,
			   AGENT_MAX_SINK_NAME);
	} else {
		for (size_t i = 0; i + 1 < cfg->n_sinks; i++)
			if (cfg->sinks[i].name != NULL && strcmp(cfg->sinks[i].name, sk->name) == 0)
				policy_err(ctx, line, "duplicate sink name '%s'", sk->name);
	}

	s = config_setting_get_member(g, "type");
	type = s != NULL ? config_setting_get_string(s) : NULL;
	if (type != NULL && strcmp(type, "relp") == 0) {
		sk->type = SINK_RELP;
	} else if (type != NULL && strcmp(type, "syslog") == 0) {
		sk->type = SINK_SYSLOG;
	} else if (type != NULL && strcmp(type, "http") == 0) {
		sk->type = SINK_HTTP;
	} else {
		policy_err(ctx, s != NULL ? policy_line(s) : line,
			   "sink 'type' must be \"relp\", \"syslog\" or \"http\"");
		return;
	}

	agent_get_bool(ctx, g, "tls", &sk->tls);
	agent_get_string(ctx, g, "ca_file", AGENT_PATH, &sk->ca_file);
	agent_get_string(ctx, g, "client_cert", AGENT_PATH, &sk->client_cert);
	agent_get_string(ctx, g, "client_key", AGENT_PATH, &sk->client_key);
	if ((sk->client_cert == NULL) != (sk->client_key == NULL))
		policy_err(ctx, line, "'client_cert' and 'client_key' go together: set both or neither");
	agent_get_unsigned(ctx, g, "batch", 1, 100000, &sk->batch);
	agent_get_unsigned(ctx, g, "timeout", 1, 3600, &sk->timeout);
	agent_get_unsigned(ctx, g, "backoff_max", 1, 86400, &sk->backoff_max);

	if (sk->type == SINK_HTTP) {
		agent_refuse_keys(ctx, g, net_only, "http");
		if (config_setting_get_member(g, "tls") != NULL)
			policy_err(ctx, policy_line(config_setting_get_member(g, "tls")),
				   "'tls' does not apply to an http sink: use an https:// url");
		agent_get_string(ctx, g, "url", AGENT_HTTP_URL, &sk->url);
		if (sk->url == NULL && config_setting_get_member(g, "url") == NULL)
			policy_err(ctx, line, "an http sink needs a 'url'");
		agent_set_string(ctx, line, "ndjson", &sk->http_format);
		agent_get_string(ctx, g, "format", AGENT_TEXT, &sk->http_format);
		if (sk->http_format != NULL && strcmp(sk->http_format, "ndjson") != 0 &&
		    strcmp(sk->http_format, "es-bulk") != 0 && strcmp(sk->http_format, "splunk-hec") != 0)
			policy_err(ctx, policy_line(config_setting_get_member(g, "format")),
				   "'format' must be \"ndjson\", \"es-bulk\" or \"splunk-hec\"");
		agent_get_string(ctx, g, "token", AGENT_SECRET, &sk->http_token);
		return;
	}
	agent_refuse_keys(ctx, g, http_only, type);
	agent_get_string(ctx, g, "host", AGENT_TEXT, &sk->host);
	if (sk->host == NULL && config_setting_get_member(g, "host") == NULL)
		policy_err(ctx, line, "a %s sink needs a 'host'", type);
	sk->port = sk->type == SINK_RELP ? 2514 : sk->tls ? 6514 : 514;
	agent_get_unsigned(ctx, g, "port", 1, 65535, &sk->port);
}

static void agent_parse_sinks(struct policy_ctx *ctx, const config_setting_t *s,
			      struct agent_config *cfg)
{
	int n;

	if (!config_setting_is_list(s)) {
		policy_err(ctx, policy_line(s),
			   "'sinks' must be a list of groups: sinks = ( { name = \"siem\"; type = \"relp\"; ... } );");
		return;
	}
	n = config_setting_length(s);
	if (n > AGENT_MAX_SINKS) {
		policy_err(ctx, policy_line(s), "too many sinks (at most %d)", AGENT_MAX_SINKS);
		return;
	}
	for (int i = 0; i < n; i++)
		agent_parse_sink(ctx, config_setting_get_elem(s, (unsigned)i), cfg);
}

/* --- the whole file ----------------------------------------------------- */

static int agent_set_defaults(struct agent_config *cfg)
{
	cfg->poll_interval = 300;
	cfg->poll_jitter = 30;
	cfg->threshold = 1;
	cfg->policy_max_bytes = POLICY_MAX_BYTES;
	cfg->policy_timeout = 60;
	cfg->journal_max = 64u * 1024 * 1024;
	cfg->journal_hard = 256u * 1024 * 1024;
	cfg->policy_target = strdup("/etc/garde/policy.conf");
	cfg->spool = strdup("/var/spool/garde");
	cfg->journal = strdup("/var/lib/garde-agent/journal");
	cfg->state_dir = strdup("/var/lib/garde-agent");
	if (cfg->policy_target == NULL || cfg->spool == NULL || cfg->journal == NULL ||
	    cfg->state_dir == NULL)
		return -1;
	return 0;
}

static void agent_parse_root(struct policy_ctx *ctx, const config_setting_t *root,
			     struct agent_config *cfg)
{
	static const char *const keys[] = { "policy", "spool", "journal", "journal_max",
					    "journal_hard", "state_dir", "user", "sinks", NULL };
	const config_setting_t *g, *s;

	policy_check_keys(ctx, root, keys, "at top level");
	g = agent_group(ctx, root, "policy",
			"policy = { url = \"https://...\"; keys = [ \"/etc/garde/keys/a.pub\" ]; };");
	if (g != NULL)
		agent_parse_policy(ctx, g, cfg);
	agent_get_string(ctx, root, "spool", AGENT_PATH, &cfg->spool);
	agent_get_string(ctx, root, "journal", AGENT_PATH, &cfg->journal);
	/* Sizes in bytes; above 2 GiB they need libconfig's L suffix. */
	agent_get_size(ctx, root, "journal_max", 65536, INT64_MAX, &cfg->journal_max);
	agent_get_size(ctx, root, "journal_hard", 65536, INT64_MAX, &cfg->journal_hard);
	if (cfg->journal_max > cfg->journal_hard)
		policy_err(ctx, policy_line(config_setting_get_member(root, "journal_max")),
			   "'journal_max' (%zu) must not exceed 'journal_hard' (%zu)", cfg->journal_max,
			   cfg->journal_hard);
	agent_get_string(ctx, root, "state_dir", AGENT_PATH, &cfg->state_dir);
	agent_get_string(ctx, root, "user", AGENT_TEXT, &cfg->user);
	s = config_setting_get_member(root, "sinks");
	if (s != NULL)
		agent_parse_sinks(ctx, s, cfg);
}

int agent_config_load(const char *path, agent_diag_fn diag, void *arg, struct agent_config **out)
{
	struct policy_ctx ctx = { .name = path, .diag = diag, .diag_arg = arg };
	struct agent_config *cfg = NULL;
	char *text = NULL;
	size_t len = 0;
	config_t lc;
	bool lc_ready = false;
	int rv = -1, trv;

	if (path == NULL || out == NULL) {
		ctx.name = "agent.conf";
		policy_err(&ctx, 0, "no config file");
		goto out;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL || agent_set_defaults(cfg) != 0 || (cfg->path = strdup(path)) == NULL) {
		policy_err(&ctx, 0, "out of memory");
		goto out;
	}
	trv = trust_read_file(path, AGENT_CONFIG_MAX_BYTES, &text, &len);
	if (trv != TRUST_OK) {
		policy_err(&ctx, 0, "%s", trv == TRUST_ETOOBIG ? "is larger than 1 MiB" : trust_strerror(trv));
		goto out;
	}
	policy_lex_check(&ctx, text, len);
	if (ctx.errors != 0)
		goto out;
	config_init(&lc);
	lc_ready = true;
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		policy_err(&ctx, config_error_line(&lc), "%s",
			   config_error_text(&lc) != NULL ? config_error_text(&lc) : "syntax error");
		goto out;
	}
	agent_parse_root(&ctx, config_root_setting(&lc), cfg);
	if (ctx.errors == 0) {
		*out = cfg;
		cfg = NULL;
		rv = 0;
	}
out:
	if (lc_ready)
		config_destroy(&lc);
	if (text != NULL)
		explicit_bzero(text, len); /* a sink token may be in it */
	free(text);
	agent_config_free(cfg);
	return rv;
}

static void agent_sink_free(struct agent_sink *sk)
{
	free(sk->name);
	free(sk->host);
	free(sk->ca_file);
	free(sk->client_cert);
	free(sk->client_key);
	free(sk->url);
	free(sk->http_format);
	if (sk->http_token != NULL) {
		explicit_bzero(sk->http_token, strlen(sk->http_token));
		free(sk->http_token);
	}
}

void agent_config_free(struct agent_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->policy_url);
	for (size_t i = 0; i < cfg->n_keys; i++)
		free(cfg->keys[i]);
	free(cfg->ca_file);
	free(cfg->client_cert);
	free(cfg->client_key);
	free(cfg->policy_target);
	free(cfg->spool);
	free(cfg->journal);
	free(cfg->state_dir);
	free(cfg->user);
	for (size_t i = 0; i < cfg->n_sinks; i++)
		agent_sink_free(&cfg->sinks[i]);
	free(cfg);
}
