/* privsep.c - the installer and worker processes of `run` (privsep.h). */
#define _GNU_SOURCE /* setresuid, setresgid */
#include "privsep.h"
#include "deliver.h"

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

/* In STATE_DIR/worker: the worker's to write, the installer's to read as
 * untrusted input. */
#define PRIVSEP_STAGED AGENT_WORKER_DIR "/staged.conf"
#define PRIVSEP_STAGED_SIG AGENT_WORKER_DIR "/staged.conf.sig"

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

/* Opens dirfd/name as a directory (created with mode when missing), never
 * through a symbolic link, and gives it to uid:gid with mode. */
static int privsep_own_dir(int dirfd, const char *name, const char *shown, uid_t uid, gid_t gid,
			   mode_t mode, char *why, size_t whylen)
{
	int fd;

	if (mkdirat(dirfd, name, mode) != 0 && errno != EEXIST) {
		snprintf(why, whylen, "%s: cannot create: %s", shown, strerror(errno));
		return -1;
	}
	/* Root's first, by name and without following a link: a directory the
	 * user owns and keeps closed (as an older version left the state
	 * directory) cannot be opened without CAP_DAC_OVERRIDE, which the unit
	 * does not grant. A symbolic link only has its own owner changed, and
	 * is refused by the open. */
	if (fchownat(dirfd, name, 0, (gid_t)-1, AT_SYMLINK_NOFOLLOW) != 0) {
		snprintf(why, whylen, "%s: cannot take it back: %s", shown, strerror(errno));
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s%s", shown, strerror(errno),
			 errno == ENOTDIR ? " (a symbolic link or not a directory: refused)" : "");
		return -1;
	}
	/* The mode is set while it is root's (chmod of another user's would
	 * need CAP_FOWNER), then it is given. */
	if (fchmod(fd, mode) != 0 || fchown(fd, uid, gid) != 0) {
		snprintf(why, whylen, "%s: cannot set its owner and mode: %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int privsep_prepare(const struct agent_config *cfg, uid_t uid, gid_t gid, char *why,
		    size_t whylen)
{
	char shown[4200];
	int sfd, wfd;

	/* The state directory is root's: the journal (by default), the state,
	 * the lock and the dropped count are written there by the privileged
	 * side only, so the worker must not be able to replace them. */
	sfd = privsep_own_dir(AT_FDCWD, cfg->state_dir, cfg->state_dir, 0, gid, 0750, why, whylen);
	if (sfd < 0)
		return -1;
	snprintf(shown, sizeof(shown), "%s/%s", cfg->state_dir, AGENT_WORKER_DIR);
	wfd = privsep_own_dir(sfd, AGENT_WORKER_DIR, shown, uid, gid, 0755, why, whylen);
	close(sfd);
	if (wfd < 0)
		return -1;
	close(wfd);
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

/* On the journal channel, from the privileged side to the worker. */
struct privsep_news_msg {
	struct agent_journal_info info; /* signo == 0: where the journal is */
	/* Else: SIGHUP, SIGTERM or SIGINT, received by the privileged side
	 * (systemd signals the main pid), for the worker to act on. Relayed
	 * here because kill(2) of another uid's process needs CAP_KILL. */
	int32_t signo;
	int32_t reserved;
};

/* One message on the journal channel, never blocking: 0 sent, 1 try
 * again when writable, -1 the worker is gone. */
static int privsep_journal_send(int fd, const struct privsep_news_msg *info, int jfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)(uintptr_t)info, sizeof(*info) };
	struct msghdr mh;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (jfd >= 0) {
		struct cmsghdr *cm;
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &jfd, sizeof(int));
	}
	do
		n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(*info))
		return 0;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
		return 1;
	return -1;
}

/* What the worker was last told, and what it must be told still. */
struct privsep_news {
	struct agent_journal_info sent;
	uint64_t fd_generation; /* of the last descriptor passed; 0: none yet */
	int relay;              /* a signal to pass on; 0: none */
	bool blocked;           /* the channel was full: wait for POLLOUT */
};

/* The pending signal, then the journal's news if it changed. 0, or -1 when
 * the worker is gone. */
static int privsep_tell(struct agent_delivery *d, int jchan, struct privsep_news *nw)
{
	struct privsep_news_msg msg;
	int jfd = -1, rv;

	memset(&msg, 0, sizeof(msg));
	nw->blocked = false;
	if (nw->relay != 0) {
		msg.signo = nw->relay;
		rv = privsep_journal_send(jchan, &msg, -1);
		nw->blocked = rv == 1;
		if (rv != 0)
			return rv < 0 ? -1 : 0;
		nw->relay = 0;
	}
	agent_delivery_journal_info(d, &msg.info);
	msg.signo = 0;
	if (memcmp(&msg.info, &nw->sent, sizeof(msg.info)) == 0)
		return 0;
	/* A new file needs its descriptor: without one the worker would read
	 * a file that no longer grows. Retried on the next pass (logged). */
	if (msg.info.generation != nw->fd_generation && (jfd = agent_delivery_journal_fd(d)) < 0)
		return 0;
	rv = privsep_journal_send(jchan, &msg, jfd);
	if (jfd >= 0)
		close(jfd);
	nw->blocked = rv == 1;
	if (rv != 0)
		return rv < 0 ? -1 : 0;
	nw->sent = msg.info;
	if (jfd >= 0)
		nw->fd_generation = msg.info.generation;
	return 0;
}

static int privsep_serve(const struct agent_config *cfg, const struct sync_keys *keys, int chan,
			 int jchan, pid_t worker)
{
	struct agent_delivery *d = NULL;
	struct privsep_news news;
	struct privsep_req req;
	struct privsep_reply rep;
	struct signalfd_siginfo si;
	char why[SYNC_WHY_MAX];
	sigset_t mask;
	bool stopping = false;
	int sfd, status = 0, failed = -1;

	memset(&news, 0, sizeof(news));
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	/* Opened after the fork: the worker never holds the writer's
	 * descriptor, the spool's or the inotify watch. */
	if (agent_delivery_open(cfg, DELIVERY_INTAKE, &d, why, sizeof(why)) != 0) {
		fprintf(stderr, "garde-agent run: %s\n", why);
		/* The worker stops when it finds both channels closed. */
		failed = PRIVSEP_EXIT_FAILED;
		goto out;
	}
	for (;;) {
		struct pollfd pfd[4] = {
			{ chan, POLLIN, 0 },
			{ sfd, POLLIN, 0 },
			{ agent_delivery_wait_fd(d), POLLIN, 0 },
			{ jchan, 0, 0 },
		};

		/* Each pass: whatever waits in the spool, then the news. The
		 * spool is rescanned at least once a minute without inotify. */
		if (!stopping && agent_delivery_intake(d) < 0)
			fprintf(stderr, "garde-agent: the journal cannot be written; events stay in the spool\n");
		if (privsep_tell(d, jchan, &news) != 0)
			break; /* the worker is gone */
		pfd[3].events = news.blocked ? POLLOUT : 0;
		if (poll(pfd, 4, (int)agent_delivery_next_retry_ms(d)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/* systemd signals the main pid: pass reload and stop on (a stop
		 * is not overridden by a later reload). */
		if (sfd >= 0 && (pfd[1].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGHUP)
				stopping = true;
			if (news.relay != SIGTERM && news.relay != SIGINT)
				news.relay = (int)si.ssi_signo;
			continue; /* told at the top of the loop */
		}
		if (pfd[0].revents == 0)
			continue;
		if (privsep_io(chan, &req, sizeof(req), false) != 0)
			break; /* the worker is gone */
		privsep_serve_one(cfg, keys, &req, &rep);
		if (privsep_io(chan, &rep, sizeof(rep), true) != 0)
			break;
	}
out:
	/* Everything journaled is fsync'ed already: closing loses nothing. */
	agent_delivery_close(d);
	if (sfd >= 0)
		close(sfd);
	close(chan);
	close(jchan);
	while (waitpid(worker, &status, 0) < 0 && errno == EINTR)
		;
	if (failed >= 0)
		return failed;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int privsep_fork(const struct agent_config *cfg, const struct sync_keys *keys,
		 struct privsep_worker *w, char *why, size_t whylen)
{
	int sv[2], jv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return -2;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, jv) != 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -2;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		close(jv[0]);
		close(jv[1]);
		return -2;
	}
	if (pid == 0) {
		close(sv[0]);
		close(jv[0]);
		/* The worker must not outlive the privileged side. */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		w->chan = sv[1];
		w->journal = jv[1];
		return -1;
	}
	close(sv[1]);
	close(jv[1]);
	return privsep_serve(cfg, keys, sv[0], jv[0], pid);
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
	/* 0644: a signed policy is no secret (the installed one is 0644), and
	 * the installer reads it without any privilege over the worker's files. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(why, whylen, "%.300s: cannot stage: %s: the directory must be writable by the agent user",
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

int privsep_journal_recv(int fd, struct agent_delivery *d, int *signo)
{
	int got = 0;

	for (;;) {
		union {
			char buf[CMSG_SPACE(4 * sizeof(int))];
			struct cmsghdr align;
		} u;
		struct privsep_news_msg msg;
		struct iovec iov = { &msg, sizeof(msg) };
		struct msghdr mh;
		struct cmsghdr *cm;
		int jfd = -1;
		ssize_t n;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return got;
		/* Every descriptor that came is closed but the first. */
		for (cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; (i + 1) * sizeof(int) <= cm->cmsg_len - CMSG_LEN(0); i++) {
				int one;
				memcpy(&one, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (jfd < 0)
					jfd = one;
				else
					close(one);
			}
		}
		if (n == (ssize_t)sizeof(msg) && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0 &&
		    msg.signo != 0 && jfd < 0 &&
		    (msg.signo == SIGHUP || msg.signo == SIGTERM || msg.signo == SIGINT)) {
			if (*signo != SIGTERM && *signo != SIGINT)
				*signo = msg.signo;
			got = 1;
			continue;
		}
		if (n == (ssize_t)sizeof(msg) && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0 &&
		    msg.signo == 0) {
			/* It closes jfd when it refuses it. */
			if (agent_delivery_journal(d, &msg.info, jfd) == 0) {
				got = 1;
				continue;
			}
			fprintf(stderr, "garde-agent: journal channel: a new journal file without its descriptor\n");
			return -1;
		}
		if (n == 0)
			fprintf(stderr, "garde-agent: the privileged process is gone: stopping\n");
		else
			fprintf(stderr, "garde-agent: journal channel: %s\n",
				n < 0 ? strerror(errno) : "malformed message");
		if (jfd >= 0)
			close(jfd);
		return -1;
	}
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
