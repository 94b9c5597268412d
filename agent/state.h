/* state.h - the agent's state file (STATE_DIR/state): what is installed,
 * the server's ETag for it, and when things last happened. `status` reads
 * it; sync and apply rewrite it atomically after every attempt.
 *
 * The file is hostile input like any other (it lives in a directory the
 * unprivileged agent can write): fixed-size fields, numbers parsed with
 * range checks, unknown or malformed lines ignored rather than trusted. */
#ifndef GARDE_AGENT_STATE_H
#define GARDE_AGENT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define STATE_FILE "state"
#define STATE_MAX_BYTES 8192
#define STATE_ETAG_MAX 256
#define STATE_TEXT_MAX 512

struct agent_state {
	int64_t serial;             /* installed serial, 0: none recorded */
	char sha256[65];            /* hex of the installed bytes, "" when none */
	char etag[STATE_ETAG_MAX];  /* the server's ETag of those bytes, "" when none */
	int64_t last_fetch;         /* last successful fetch (200 or 304), UTC seconds */
	int64_t last_install;       /* last install */
	int64_t last_error_at;      /* last refusal or failure (kept after later successes), 0: never */
	char last_error[STATE_TEXT_MAX];
	char last_result[32];       /* "installed", "unchanged", "refused", "error" */
};

/* Reads dir/state. A missing file is an empty state (0). -1 with why when
 * it cannot be read at all; a damaged line is skipped. */
int state_load(const char *dir, struct agent_state *st, char *why, size_t whylen);

/* Writes dir/state atomically (temp file, fsync, rename, fsync dir). 0 or -1. */
int state_save(const char *dir, const struct agent_state *st, char *why, size_t whylen);

/* Adds the "policy" member: serial, sha256, last_fetch/last_install (RFC
 * 3339 or null), last_result, last_error {at, reason} or null. */
void state_status_json(const struct agent_state *st, struct json_buf *jb);

/* Copies text into a fixed field, control characters made '?', cut to fit. */
void state_set_text(char *dst, size_t cap, const char *text);

#endif
