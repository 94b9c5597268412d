/* deliver.h - event delivery: spool -> journal -> sinks, at least once.
 *
 *   intake   SPOOL/new/ID.json -> journal (lib/journal.h), fsync, then the
 *            spool file is removed. Malformed files go to SPOOL/bad/.
 *   send     each sink reads the journal from its own checkpoint
 *            (STATE_DIR/checkpoint.NAME) and moves it only after the
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
 * for longer than that. */
#ifndef GARDE_AGENT_DELIVER_H
#define GARDE_AGENT_DELIVER_H

#include <stddef.h>

#include "agent.h"
#include "json.h"

struct agent_delivery;

/* Opens the spool, the journal (repairing a torn tail, reported on stderr)
 * and every sink's checkpoint. Connects to nothing yet. 0, or -1 with why. */
int agent_delivery_open(const struct agent_config *cfg, struct agent_delivery **out, char *why,
			size_t whylen);

/* spool -> journal: the number of events moved (0: none waiting), or -1
 * when the journal cannot be written (logged; the spool files stay). */
int agent_delivery_intake(struct agent_delivery *d);

/* One pass over the sinks: at most one batch each, for those not backing
 * off. Returns >0 when a sink has more to send right now (call again),
 * 0 when every sink is up to date or waiting for its retry time. */
int agent_delivery_send(struct agent_delivery *d);

/* An inotify fd on SPOOL/new: readable when events arrive. intake drains it. */
int agent_delivery_wait_fd(struct agent_delivery *d);

/* Milliseconds until a sink's retry is due: 0 when one can send now; at
 * most 60000 otherwise, so that the spool is rescanned at least once a
 * minute even if an inotify event was missed. */
unsigned agent_delivery_next_retry_ms(struct agent_delivery *d);

/* Adds "spool_depth", "journal_bytes", "dropped" and "sinks": {NAME:
 * {"delivered", "failed", "pending"}} to an open JSON object. */
void agent_delivery_status_json(struct agent_delivery *d, struct json_buf *jb);

void agent_delivery_close(struct agent_delivery *d);

#endif
