/* privsep.h - `run` as root with a user to drop to: two processes.
 *
 *   the privileged side (stays root): never touches the network. It holds
 *     the trusted keys and installs a staged policy when the worker asks,
 *     re-checking everything itself (signature first) exactly as
 *     `garde-agent apply` does, so a compromised worker can at worst ask
 *     for the install of a policy a trusted key signed. It also does the
 *     local-file side of delivery (deliver.h, DELIVERY_INTAKE): it watches
 *     the spool, which stays root's, moves events into the journal (fsync
 *     before unlink), keeps the bounds, counts and journals what it drops.
 *     It is the journal's only writer.
 *   the worker (the configured user): the network (libcurl, TLS) and the
 *     sinks (DELIVERY_SEND). It reads the journal through a read-only
 *     descriptor the privileged side passes, and writes only in
 *     STATE_DIR/worker: its checkpoints and the policy it fetched.
 *
 * Two socket pairs join them. The request channel: the worker asks
 * ("apply the staged policy", "record this outcome"), the privileged side
 * answers; fixed-size messages both ways. The journal channel
 * (SOCK_SEQPACKET): the privileged side announces each change of the
 * journal (struct agent_journal_info), with a new descriptor (SCM_RIGHTS)
 * when compaction replaced the file, and passes on the signals it gets
 * (SIGHUP, SIGTERM: systemd signals the main pid, and kill(2) of another
 * uid's process would need CAP_KILL); it never blocks on it (a message
 * that does not fit waits, news superseded by later news).
 *
 * Why not one unprivileged process: the module only trusts a policy owned
 * by root (or by the uid it runs as, which for sshd is root), and it only
 * writes a spool owned by root, so an unprivileged agent could neither
 * install a policy the module would accept nor take the events out. */
#ifndef GARDE_AGENT_PRIVSEP_H
#define GARDE_AGENT_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent.h"
#include "sync.h"

struct agent_delivery;

/* Exit status of `run` when the privileged side cannot start its part
 * (garde-agent(8): 3, a local failure). */
#define PRIVSEP_EXIT_FAILED 3

/* Looks up cfg->user. 0, or -1 with why. */
int privsep_lookup(const struct agent_config *cfg, uid_t *uid, gid_t *gid, char *why,
		   size_t whylen);

/* Before the fork, as root: STATE_DIR becomes root's, group gid, 0750 (the
 * worker may read the state file, not write there); STATE_DIR/worker is
 * made the user's, 0755. Symbolic links are refused. 0, or -1 with why. */
int privsep_prepare(const struct agent_config *cfg, uid_t uid, gid_t gid, char *why,
		    size_t whylen);

struct privsep_worker {
	int chan;    /* requests to the privileged side */
	int journal; /* the privileged side's news of the journal */
};

/* Forks. In the parent: serves the worker until it exits, then returns its
 * exit status (>= 0) for the parent to exit with. In the child: returns -1
 * with *w set (privileges are not dropped yet: the caller opens what it
 * needs, then calls privsep_drop). -2 with why on failure. */
int privsep_fork(const struct agent_config *cfg, const struct sync_keys *keys,
		 struct privsep_worker *w, char *why, size_t whylen);

/* Drops to uid/gid for good (supplementary groups too) and forbids
 * regaining privileges. 0 or -1 with why. */
int privsep_drop(uid_t uid, gid_t gid, char *why, size_t whylen);

/* The worker: takes every pending journal announcement into d (never
 * blocks), and sets *signo to a signal the privileged side passed on
 * (SIGTERM or SIGINT over SIGHUP; left alone when none came). 1 when a
 * message came, 0 when none was waiting, -1 (logged) when the privileged
 * side is gone or broke the protocol. */
int privsep_journal_recv(int fd, struct agent_delivery *d, int *signo);

/* The worker's pull: fetch, stage, ask the installer. An enum sync_status. */
int privsep_pull(const struct agent_config *cfg, int chan, char *why, size_t whylen);

#endif
