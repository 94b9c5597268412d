/* agent.h - garde-agent: the shared contract between its parts.
 *
 *   agent_config.c  libconfig agent.conf -> struct agent_config (every error as FILE:LINE)
 *   sync.c          pull (libcurl, ETag) and apply (push): verify the signature
 *                   before parsing, anti-rollback, expiry, validation, atomic install
 *   intake.c        spool -> journal (fsync before the spool file is removed)
 *   privsep.c       `run` as root with `user`: the privileged side (install,
 *                   intake, bounds) and the unprivileged worker (network)
 *   sink_*.c        relp, syslog (RFC 5424 over TCP/TLS, octet counting), http
 *   deliver.c       per-sink checkpoints into the journal, retries with backoff
 *   state.c         the agent's state file and `status` JSON
 *   main.c          commands: sync, apply, forward, run, status
 *
 * The journal format and reader live in lib/journal.[ch] because `garde
 * report` reads the same journal. */
#ifndef GARDE_AGENT_H
#define GARDE_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_DEFAULT_CONFIG "/etc/garde/agent.conf"
/* STATE_DIR/worker: what the delivery and fetch side writes (the sinks'
 * checkpoints, the staged download). Under `run` with `user` it is the only
 * place the unprivileged worker can write; the rest of STATE_DIR (state,
 * lock, dropped, the default journal) is the privileged side's. */
#define AGENT_WORKER_DIR "worker"
#define AGENT_MAX_KEYS 16
#define AGENT_MAX_SINKS 16

enum agent_sink_type {
	SINK_RELP,
	SINK_SYSLOG,
	SINK_HTTP,
};

struct agent_sink {
	char *name;               /* unique, [a-z0-9_-]+ */
	enum agent_sink_type type;
	char *host;               /* relp, syslog */
	unsigned port;            /* relp, syslog */
	bool tls;                 /* syslog (RFC 5425); relp over TLS if librelp allows */
	char *ca_file;            /* tls: CA to verify the collector */
	char *client_cert, *client_key;
	char *url;                /* http */
	char *http_format;        /* http: "ndjson" (default), "es-bulk", "splunk-hec" */
	char *http_token;         /* http: Authorization header value, if any */
	unsigned batch;           /* events per batch (default 500) */
	unsigned timeout;         /* seconds per network operation (default 10) */
	unsigned backoff_max;     /* seconds, cap of the exponential retry (default 300) */
};

struct agent_config {
	char *path; /* of the config file itself */

	/* policy sync; url NULL = no pull (apply only) */
	char *policy_url;
	unsigned poll_interval; /* seconds (default 300) */
	unsigned poll_jitter;   /* seconds added at random (default interval/10) */
	size_t n_keys;
	char *keys[AGENT_MAX_KEYS]; /* trusted Ed25519 public key files */
	unsigned threshold;         /* distinct trusted signatures needed (default 1) */
	char *ca_file;              /* TLS CA for the policy server (NULL: system CAs) */
	char *client_cert, *client_key;
	char *policy_target;        /* installed policy (default /etc/garde/policy.conf) */
	size_t policy_max_bytes;    /* default 4 MiB */
	unsigned policy_timeout;    /* seconds for one whole fetch (default 60) */

	/* events */
	char *spool;        /* default /var/spool/garde */
	char *journal;      /* default /var/lib/garde-agent/journal */
	size_t journal_max;  /* soft bound in bytes: oldest delivered records go first */
	size_t journal_hard; /* hard bound: past it undelivered events are dropped and counted */
	char *state_dir;    /* default /var/lib/garde-agent: checkpoints, ETag, status */
	char *user;         /* run: drop to this user after opening what it needs (NULL: stay) */
	size_t n_sinks;
	struct agent_sink sinks[AGENT_MAX_SINKS];
};

typedef void (*agent_diag_fn)(void *arg, const char *file, int line, const char *message);

/* Loads and validates the config; every error goes to diag. 0 or -1. */
int agent_config_load(const char *path, agent_diag_fn diag, void *arg, struct agent_config **out);
void agent_config_free(struct agent_config *cfg);

#endif
