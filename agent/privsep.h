/* privsep.h - `run` as root with a user to drop to: two processes.
 *
 *   installer (stays root): loads nothing from the network, holds the
 *     trusted keys, and waits on a socket for "apply the staged policy" or
 *     "record this outcome". It re-checks everything itself (signature
 *     first), exactly as `garde-agent apply` does, so a compromised worker
 *     can at worst ask for the install of a policy a trusted key signed.
 *   worker (the configured user): the network (libcurl, TLS), the spool,
 *     the journal, the sinks. It stages what it fetched in STATE_DIR and
 *     asks.
 *
 * Why not one unprivileged process: the module only trusts a policy owned
 * by root (or by the uid it runs as, which for sshd is root), so an
 * unprivileged agent could not install one the module would accept. */
#ifndef GARDE_AGENT_PRIVSEP_H
#define GARDE_AGENT_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent.h"
#include "sync.h"

/* Looks up cfg->user. 0, or -1 with why. */
int privsep_lookup(const struct agent_config *cfg, uid_t *uid, gid_t *gid, char *why,
		   size_t whylen);

/* Forks. In the parent: serves the worker until it exits, then returns its
 * exit status (>= 0) for the parent to exit with. In the child: returns -1
 * with *chan the socket to the parent (privileges are not dropped yet: the
 * caller opens what it needs, then calls privsep_drop). -2 with why on
 * failure. */
int privsep_fork(const struct agent_config *cfg, const struct sync_keys *keys, int *chan,
		 char *why, size_t whylen);

/* Drops to uid/gid for good (supplementary groups too) and forbids
 * regaining privileges. 0 or -1 with why. */
int privsep_drop(uid_t uid, gid_t gid, char *why, size_t whylen);

/* The worker's pull: fetch, stage, ask the installer. An enum sync_status. */
int privsep_pull(const struct agent_config *cfg, int chan, char *why, size_t whylen);

#endif
