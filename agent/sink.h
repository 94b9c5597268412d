/* sink.h - inside event delivery: what deliver.c needs from each sink type
 * (sink_relp.c, sink_syslog.c, sink_http.c), the RFC 5424 formatter
 * (rfc5424.c) and the spool intake (intake.c). Not part of the agent's
 * public contract (deliver.h is). */
#ifndef GARDE_AGENT_SINK_H
#define GARDE_AGENT_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "journal.h"

/* One event of a batch: the JSON as journaled. */
struct sink_msg {
	const char *json;
	size_t len;
	uint64_t seq;
};

struct sink_ops {
	const char *type;
	/* Prepares (connects lazily in send). 0 or -1 with why. */
	int (*init)(const struct agent_sink *conf, void **state, char *why, size_t whylen);
	/* Sends msgs[0..n) and returns 0 only once they count as delivered for
	 * this sink type (see each file); -1 with why otherwise, and then the
	 * whole batch is sent again later. */
	int (*send)(void *state, const struct sink_msg *msgs, size_t n, char *why, size_t whylen);
	/* Drops the connection (after a failure, or idle). */
	void (*reset)(void *state);
	void (*free)(void *state);
};

extern const struct sink_ops sink_relp_ops;
extern const struct sink_ops sink_syslog_ops;
extern const struct sink_ops sink_http_ops;

/* RFC 5424 message for one event: PRI from the outcome (authpriv.warning
 * for a failure, authpriv.notice otherwise), the event's own @timestamp,
 * host.name (or this host's name), APP-NAME garde, MSGID = event.action,
 * the fields as structured data [garde@32473 ...] and the JSON as MSG.
 * Returns the length written (no NUL counted; out is NUL-terminated), or
 * -1 when cap is too small. RFC5424_MAX always suffices. */
#define RFC5424_MAX (JOURNAL_MAX_JSON + 2048)
int rfc5424_format(const char *json, size_t len, const char *hostname, char *out, size_t cap);

/* "garde-agent: " + message on stderr (the agent's log: journald or the
 * caller's redirection). */
void deliver_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- intake.c --- */
struct intake;
/* Opens SPOOL (trusted directory rules) and its new/; creates bad/ on
 * first use. 0 or -1 with why. */
int intake_open(const char *spool, struct intake **out, char *why, size_t whylen);
void intake_close(struct intake *in);
int intake_wait_fd(struct intake *in);
/* Moves up to max well-formed events into j (one fsync), then removes
 * their spool files; malformed ones go to bad/. The number journaled, or
 * -1 (logged) when the journal cannot be written. */
int intake_run(struct intake *in, struct journal *j, size_t max);
/* Files waiting in new/ (counted on each call; for status). */
size_t intake_depth(struct intake *in);

#endif
