/* policy.h - the policy language: libconfig text -> validated, immutable,
 * compiled policy. A policy with any error is never returned: every error is
 * reported through the diagnostic callback and the load fails whole. */
#ifndef GARDE_POLICY_H
#define GARDE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netset.h"
#include "tz.h"

#define POLICY_MAX_BYTES (4u * 1024 * 1024)
#define POLICY_MAX_CLASSES 63 /* class masks are 64 bits; the last bit is "other" */

enum garde_action {
	GARDE_ALLOW = 0,
	GARDE_DENY,
	GARDE_MFA,
};

const char *garde_action_name(enum garde_action action);

/* DAYS HH:MM-HH:MM. end < start wraps past midnight and belongs to the start
 * day; end == 1440 is "24:00". */
struct policy_window {
	uint8_t days;   /* bit d set: weekday d (0 = Sunday) */
	uint16_t start; /* minutes since midnight, inclusive */
	uint16_t end;   /* minutes since midnight, exclusive */
};

struct policy_names {
	bool present;
	size_t n;
	char **v;
};

struct policy_sources {
	bool present;
	bool local;          /* the word "local" was listed */
	struct netset *nets; /* union of the named networks and CIDR literals */
};

struct policy_windows {
	bool present;
	size_t n;
	struct policy_window *v;
};

struct policy_rule {
	char *name;
	int line;
	enum garde_action action;
	bool report_only;
	bool alert;
	bool app_password; /* a login this rule decides may present an app password */
	bool remember;     /* mfa.remember applies to the logins this rule decides (default) */
	char *message; /* NULL when absent */

	struct policy_names users, not_users;
	struct policy_names groups, not_groups;
	struct policy_names services;
	bool has_class;
	uint64_t class_mask; /* bit i: class i; bit policy->n_classes: "other" */
	struct policy_sources from, not_from;
	struct policy_windows hours, not_hours;
	int new_network; /* -1 absent, 0 false, 1 true */
};

struct policy_network {
	char *name;
	struct netset *set;
};

struct policy_class {
	char *name;
	struct policy_names services;
};

struct policy_mfa {
	unsigned digits;        /* 6..8 */
	unsigned step;          /* 1..300 seconds */
	unsigned window_past;   /* 0..10 steps */
	unsigned window_future; /* 0..10 steps */
	unsigned remember;      /* seconds, 0 = never */
};

struct policy_lockout_slot {
	unsigned deny;     /* failures that lock, >= 1 */
	unsigned interval; /* seconds over which failures count */
	unsigned unlock;   /* seconds a lock lasts */
};

struct policy_history {
	unsigned ttl_days;
	unsigned prefix_v4; /* 0..32 */
	unsigned prefix_v6; /* 0..128 */
};

struct policy {
	int64_t serial;
	int64_t expires; /* UTC seconds, 0 = never */
	bool report_only_mode;
	char *timezone;
	struct tz *tz;

	size_t n_networks;
	struct policy_network *networks;
	size_t n_classes;
	struct policy_class *classes;

	struct policy_mfa mfa;
	struct policy_lockout_slot lockout_user, lockout_source;
	struct policy_history history;

	size_t n_rules;
	struct policy_rule *rules;
	bool uses_new_network; /* some rule has new_network: the caller must look history up */
	bool uses_groups;      /* some rule has groups/not_groups: the caller must look groups up */

	/* A policy decoded from a snapshot keeps the mapping its netset tables
	 * live in; policy_free unmaps it. NULL for a parsed policy. */
	void *snapshot_map;
	size_t snapshot_len;
};

/* Where errors go: one call per error, with the 1-based line (0 if none). */
typedef void (*policy_diag_fn)(void *arg, const char *file, int line, const char *message);

struct policy_load_opts {
	policy_diag_fn diag;
	void *diag_arg;
	const char *zoneinfo_dir; /* NULL: /usr/share/zoneinfo */
	bool skip_trust_check;    /* for text that did not come from a file */
};

/* Reads path with the trust rules of DESIGN.md (O_NOFOLLOW, regular file,
 * owner root or euid, not group/other-writable, at most POLICY_MAX_BYTES),
 * then parses it. Returns 0 and *out, or -1 after reporting every error. */
int policy_load(const char *path, const struct policy_load_opts *opts, struct policy **out);

/* The same from a file the caller opened and checked (trust.h), so that
 * what was checked is what is parsed. path names it in messages. */
int policy_load_fd(int fd, const char *path, const struct policy_load_opts *opts,
		   struct policy **out);

/* Parses text (len bytes) named name in messages. */
int policy_parse(const char *text, size_t len, const char *name,
		 const struct policy_load_opts *opts, struct policy **out);

void policy_free(struct policy *pol);

/* The class of a PAM service: its index, or pol->n_classes for "other". */
size_t policy_class_of(const struct policy *pol, const char *service);
const char *policy_class_name(const struct policy *pol, size_t class_index);

/* The embedded default policy (policies/ministry.conf). */
extern const char policy_default_text[];
extern const size_t policy_default_len;

#endif
