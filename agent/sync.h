/* sync.h - getting a signed policy onto the host: pull (fetch.c, libcurl)
 * and the checks and install shared by pull and push (sync.c).
 *
 * Order of the checks, each a refusal with a one-line reason that leaves
 * the installed policy untouched: size, signature (before a single byte is
 * parsed), validity (the module's own parser), expiry, serial (rollback).
 * Then the atomic install, then the state file. */
#ifndef GARDE_AGENT_SYNC_H
#define GARDE_AGENT_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "sig.h"
#include "state.h"

enum sync_status {
	SYNC_INSTALLED = 0,
	SYNC_UNCHANGED = 1,
	SYNC_EREFUSED = -1, /* signature, key, rollback, expired, invalid, too large */
	SYNC_ENETWORK = -2, /* could not fetch: connection, TLS, HTTP status, redirect */
	SYNC_ELOCAL = -3,   /* this host: disk, permissions, memory, config */
};

#define SYNC_WHY_MAX 512

struct sync_keys {
	size_t n;
	unsigned threshold;
	struct sig_pubkey keys[AGENT_MAX_KEYS];
};

/* Loads cfg's trusted keys (trust rules apply). SYNC_ELOCAL with why when
 * one cannot be used, or when there is none. */
int sync_load_keys(const struct agent_config *cfg, struct sync_keys *keys, char *why,
		   size_t whylen);

/* --- fetch.c --- */

struct sync_fetched {
	int not_modified;            /* 304: nothing else is set */
	char *policy;                /* malloc'd */
	size_t policy_len;
	char *sig;                   /* malloc'd, NUL-terminated */
	size_t sig_len;
	char etag[STATE_ETAG_MAX];   /* of the policy, "" when the server sent none */
};

/* Process-wide libcurl set-up, before any thread or fork. 0 or -1. */
int sync_fetch_init(void);

/* GETs cfg->policy_url (If-None-Match: etag when etag is not "") and then
 * URL.sig: https only, no redirects, sizes capped while reading, the whole
 * transfer bounded in time. 0, or SYNC_ENETWORK / SYNC_EREFUSED (too large)
 * / SYNC_ELOCAL with why. */
int sync_fetch(const struct agent_config *cfg, const char *etag, struct sync_fetched *out,
	       char *why, size_t whylen);
void sync_fetched_free(struct sync_fetched *f);

/* --- sync.c --- */

/* The ETag to send: the recorded one, but only while the installed file is
 * still the one it was recorded for (a policy restored by hand must not be
 * kept by a 304). etag gets "" otherwise. */
void sync_etag_for_request(const struct agent_config *cfg, char etag[STATE_ETAG_MAX]);

/* Checks policy (pol_len bytes) and its .sig and installs both. etag: the
 * server's (pull) or NULL (push). why receives the one-line outcome, also
 * on success. Returns an enum sync_status. */
int sync_apply(const struct agent_config *cfg, const struct sync_keys *keys, const char *pol,
	       size_t pol_len, const char *sig, size_t sig_len, const char *etag, char *why,
	       size_t whylen);

/* The same from two files (the push path, and the privileged helper's
 * staged files): read with a size cap, as untrusted input. */
int sync_apply_files(const struct agent_config *cfg, const struct sync_keys *keys,
		     const char *pol_path, const char *sig_path, const char *etag, char *why,
		     size_t whylen);

/* Records an outcome that never reached sync_apply (a 304, a network
 * error) in the state file. */
void sync_record(const struct agent_config *cfg, int status, const char *why);

/* One whole pull in this process: fetch, then apply or record. */
int sync_pull(const struct agent_config *cfg, const struct sync_keys *keys, char *why,
	      size_t whylen);

/* A one-line reason into why (printf format): control bytes from a server
 * or a file become '?', so the line stays one line. */
void sync_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
