/* privsep.c - the installer and worker processes of `run` (privsep.h). */
#define _GNU_SOURCE /* setresuid, setresgid */
#include "privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PRIVSEP_STAGED "staged.conf"
#define PRIVSEP_STAGED_SIG "staged.conf.sig"

enum privsep_op {
	PRIVSEP_APPLY = 1,  /* install STATE_DIR/staged.conf with its .sig */
	PRIVSEP_RECORD = 2, /* a 304 or a fetch error: note it in the state */
};

/* Fixed size both ways: the installer never sizes a read from what the
 * worker sends. */
struct privsep_req {
	int32_t op;
	int32_t status;
	char etag[STATE_ETAG_MAX];
	char why[SYNC_WHY_MAX];
};

struct privsep_reply {
	int32_t status;
	char why[SYNC_WHY_MAX];
};

int privsep_lookup(const struct agent_config *cfg, uid_t *uid, gid_t *gid, char *why,
		   size_t whylen)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int rc = getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &found);

	if (rc != 0 || found == NULL) {
		snprintf(why, whylen, "%s: user '%s' does not exist: create it (see garde-agent(8)) "
			 "or remove 'user'", cfg->path, cfg->user);
		return -1;
	}
	if (pw.pw_uid == 0) {
		snprintf(why, whylen, "%s: user '%s' is root: name an unprivileged user", cfg->path,
			 cfg->user);
		return -1;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int privsep_drop(uid_t uid, gid_t gid, char *why, size_t whylen)
{
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		snprintf(why, whylen, "cannot drop privileges to uid %ld: %s", (long)uid, strerror(errno));
		return -1;
	}
	/* Paranoia: the drop must be irreversible. */
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(why, whylen, "privileges could be regained after dropping them: refusing to run");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(why, whylen, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int privsep_io(int fd, void *buf, size_t len, bool writing)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = writing ? send(fd, (char *)buf + done, len - done, MSG_NOSIGNAL)
				    : recv(fd, (char *)buf + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* --- the installer ---------------------------------------------------------- */

static void privsep_serve_one(const struct agent_config *cfg, const struct sync_keys *keys,
			      struct privsep_req *req, struct privsep_reply *rep)
{
	char pol[4096], sig[4096];

	req->etag[sizeof(req->etag) - 1] = '\0';
	req->why[sizeof(req->why) - 1] = '\0';
	memset(rep, 0, sizeof(*rep));
	if (req->op == PRIVSEP_RECORD && req->status >= SYNC_ELOCAL && req->status <= SYNC_UNCHANGED) {
		sync_record(cfg, req->status, req->why);
		rep->status = req->status;
		snprintf(rep->why, sizeof(rep->why), "%s", req->why);
		return;
	}
	if (req->op != PRIVSEP_APPLY ||
	    (size_t)snprintf(pol, sizeof(pol), "%s/%s", cfg->state_dir, PRIVSEP_STAGED) >= sizeof(pol) ||
	    (size_t)snprintf(sig, sizeof(sig), "%s/%s", cfg->state_dir, PRIVSEP_STAGED_SIG) >= sizeof(sig)) {
		rep->status = SYNC_ELOCAL;
		snprintf(rep->why, sizeof(rep->why), "installer: bad request from the worker");
		return;
	}
	/* The staged files are the worker's, hence untrusted: read once into
	 * memory with a cap, and the copy is what is verified and installed. */
	rep->status = sync_apply_files(cfg, keys, pol, sig, req->etag, rep->why, sizeof(rep->why));
}

static int privsep_serve(const struct agent_config *cfg, const struct sync_keys *keys, int chan,
			 pid_t worker)
{
	struct privsep_req req;
	struct privsep_reply rep;
	struct signalfd_siginfo si;
	sigset_t mask;
	int sfd, status = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	for (;;) {
		struct pollfd pfd[2] = { { chan, POLLIN, 0 }, { sfd, POLLIN, 0 } };

		if (poll(pfd, sfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* systemd signals the main pid: pass reload and stop on. */
		if (sfd >= 0 && (pfd[1].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			kill(worker, (int)si.ssi_signo);
		if (pfd[0].revents == 0)
			continue;
		if (privsep_io(chan, &req, sizeof(req), false) != 0)
			break; /* the worker is gone */
		privsep_serve_one(cfg, keys, &req, &rep);
		if (privsep_io(chan, &rep, sizeof(rep), true) != 0)
			break;
	}
	if (sfd >= 0)
		close(sfd);
	close(chan);
	while (waitpid(worker, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int privsep_fork(const struct agent_config *cfg, const struct sync_keys *keys, int *chan,
		 char *why, size_t whylen)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return -2;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -2;
	}
	if (pid == 0) {
		close(sv[0]);
		/* The worker must not outlive the installer. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		*chan = sv[1];
		return -1;
	}
	close(sv[1]);
	return privsep_serve(cfg, keys, sv[0], pid);
}

/* --- the worker ------------------------------------------------------------- */

static int privsep_stage(const char *dir, const char *name, const char *data, size_t len,
			 char *why, size_t whylen)
{
	char path[4096];
	size_t done = 0;
	int fd, rv = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		snprintf(why, whylen, "%s: path too long", dir);
		return -1;
	}
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, whylen, "%.300s: cannot stage: %s: the state directory must be writable by the agent user",
			 path, strerror(errno));
		return -1;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "%.300s: %s", path, strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	rv = 0;
out:
	close(fd);
	return rv;
}

static int privsep_ask(int chan, struct privsep_req *req, char *why, size_t whylen)
{
	struct privsep_reply rep;

	if (privsep_io(chan, req, sizeof(*req), true) != 0 ||
	    privsep_io(chan, &rep, sizeof(rep), false) != 0) {
		snprintf(why, whylen, "the installer process is gone");
		return SYNC_ELOCAL;
	}
	rep.why[sizeof(rep.why) - 1] = '\0';
	snprintf(why, whylen, "%s", rep.why);
	return rep.status;
}

int privsep_pull(const struct agent_config *cfg, int chan, char *why, size_t whylen)
{
	struct privsep_req req;
	struct sync_fetched f;
	char etag[STATE_ETAG_MAX];
	int rv;

	memset(&req, 0, sizeof(req));
	sync_etag_for_request(cfg, etag);
	rv = sync_fetch(cfg, etag, &f, req.why, sizeof(req.why));
	if (rv == 0 && f.not_modified) {
		snprintf(req.why, sizeof(req.why),
			 "unchanged: the server's policy is the installed one (HTTP 304)");
		rv = SYNC_UNCHANGED;
	} else if (rv == 0 &&
		   (privsep_stage(cfg->state_dir, PRIVSEP_STAGED, f.policy, f.policy_len, req.why,
				  sizeof(req.why)) != 0 ||
		    privsep_stage(cfg->state_dir, PRIVSEP_STAGED_SIG, f.sig, f.sig_len, req.why,
				  sizeof(req.why)) != 0)) {
		rv = SYNC_ELOCAL;
	}
	if (rv == 0) {
		req.op = PRIVSEP_APPLY;
		memcpy(req.etag, f.etag, sizeof(req.etag));
	} else {
		req.op = PRIVSEP_RECORD;
		req.status = rv;
	}
	sync_fetched_free(&f);
	return privsep_ask(chan, &req, why, whylen);
}
