/* deliver.h - event delivery: spool -> journal -> sinks, at least once.
 *
 *   intake   SPOOL/new/ID.json -> journal (lib/journal.h), fsync, then the
 *            spool file is removed. Malformed files go to SPOOL/bad/.
 *   send     each sink reads the journal from its own checkpoint
 *            (STATE_DIR/worker/checkpoint.NAME) and moves it only after the
 *            collector acknowledged (relp: RELP close handshake; http: 2xx;
 *            syslog: written to the socket, no acknowledgement exists).
 *   bounds   past journal_max the oldest records every sink has delivered
 *            are compacted away; past journal_hard the oldest records go
 *            whether delivered or not, counted in "dropped" and in a
 *            synthetic events-dropped event.
 *
 * Single-threaded: the caller's loop polls agent_delivery_wait_fd() with
 * agent_delivery_next_retry_ms() as its timeout, then calls intake and send.
 * A sink that is down costs at most one connection attempt (bounded by its
 * timeout) per retry, and retries back off exponentially up to
 * backoff_max, so it never holds up the spool intake or the other sinks
 * for longer than that.
 *
 * Roles. `forward`, `status` and `run` without privilege separation do all
 * of it in one process (DELIVERY_WHOLE). `run` as root with `user` splits
 * it (privsep.h): the privileged side never touches the network and does
 * the local files (DELIVERY_INTAKE: the spool, which stays root's, the
 * journal it alone writes, the bounds, the dropped count, reading the
 * worker's checkpoints to know what compaction may remove); the worker
 * does the sinks (DELIVERY_SEND), reads the journal through a read-only
 * descriptor the privileged side passes (agent_delivery_journal) and
 * writes nothing but its checkpoints in STATE_DIR/worker. */
#ifndef GARDE_AGENT_DELIVER_H
#define GARDE_AGENT_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "json.h"

struct agent_delivery;

enum agent_delivery_role {
	DELIVERY_WHOLE,  /* intake, bounds and sinks in this process */
	DELIVERY_INTAKE, /* spool -> journal and bounds; no sink, no network */
	DELIVERY_SEND,   /* the sinks, over a journal descriptor handed in */
};

/* Where the journal stands, as its writer sees it (DELIVERY_INTAKE) and
 * tells the worker (DELIVERY_SEND). */
struct agent_journal_info {
	uint64_t generation; /* changes when compaction replaces the file */
	uint64_t anchor_seq; /* records up to this one are gone */
	uint64_t last_seq;   /* durable: journaled and fsync'ed */
};

/* Opens, by role: the spool and the journal (repairing a torn tail,
 * reported on stderr) unless DELIVERY_SEND; every sink's checkpoint; the
 * sinks themselves unless DELIVERY_INTAKE. Connects to nothing yet. 0, or
 * -1 with why. */
int agent_delivery_open(const struct agent_config *cfg, enum agent_delivery_role role,
			struct agent_delivery **out, char *why, size_t whylen);

/* spool -> journal: the number of events moved (0: none waiting), or -1
 * when the journal cannot be written (logged; the spool files stay).
 * DELIVERY_SEND: 0, it has no spool. */
int agent_delivery_intake(struct agent_delivery *d);

/* DELIVERY_INTAKE: the journal's position now, and a new read-only
 * descriptor of its current file (for a new generation), or -1 (logged). */
void agent_delivery_journal_info(struct agent_delivery *d, struct agent_journal_info *info);
int agent_delivery_journal_fd(struct agent_delivery *d);

/* DELIVERY_SEND: the writer's news. fd >= 0 (ownership passes) when the
 * file is a new one: the readers start over on it, by sequence number.
 * The sinks never read past info->last_seq: only announced records, which
 * are durable, are sent. 0, or -1 when a new generation comes without its
 * descriptor (the caller's protocol is broken). */
int agent_delivery_journal(struct agent_delivery *d, const struct agent_journal_info *info,
			   int fd);

/* One pass over the sinks: at most one batch each, for those not backing
 * off (nothing in DELIVERY_INTAKE). Returns >0 when a sink has more to send right now (call again),
 * 0 when every sink is up to date or waiting for its retry time. */
int agent_delivery_send(struct agent_delivery *d);

/* An inotify fd on SPOOL/new: readable when events arrive. intake drains
 * it. -1 when there is none (DELIVERY_SEND: the caller waits on the
 * privileged side instead). */
int agent_delivery_wait_fd(struct agent_delivery *d);

/* Milliseconds until a sink's retry is due: 0 when one can send now; at
 * most 60000 otherwise, so that the spool is rescanned at least once a
 * minute even if an inotify event was missed (DELIVERY_INTAKE: always
 * 60000, the rescan). */
unsigned agent_delivery_next_retry_ms(struct agent_delivery *d);

/* Adds "spool_depth", "journal_bytes", "dropped" and "sinks": {NAME:
 * {"delivered", "failed", "pending"}} to an open JSON object. */
void agent_delivery_status_json(struct agent_delivery *d, struct json_buf *jb);

void agent_delivery_close(struct agent_delivery *d);

#endif
