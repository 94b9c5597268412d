/* main.c - `garde-agent`: commands sync, apply, forward, run, status. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "deliver.h"
#include "json.h"
#include "privsep.h"
#include "state.h"
#include "sync.h"

/* Exit codes (garde-agent(8)). */
enum {
	EXIT_OK = 0,      /* installed, unchanged, delivered */
	EXIT_REFUSED = 1, /* the policy was refused: signature, key, rollback, expired, ... */
	EXIT_USAGE = 2,   /* bad command line or bad config */
	EXIT_FAILED = 3,  /* could not fetch, or a local failure (disk, permissions) */
};

#define STATUS_JSON_MAX (64u * 1024)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: garde-agent [--config FILE] COMMAND\n"
		"\n"
		"commands:\n"
		"  sync                  fetch the signed policy once; install it if newer\n"
		"  apply POLICY SIG      install a policy pushed by a configuration tool\n"
		"  forward               deliver the spooled events once\n"
		"  run                   the daemon (foreground): poll and deliver continuously\n"
		"  status                JSON: installed policy, last fetch and error, delivery\n"
		"\n"
		"  -c, --config FILE     default " AGENT_DEFAULT_CONFIG "\n"
		"  -h, --help            this help\n"
		"  -V, --version\n"
		"\n"
		"Exit status: 0 installed or unchanged, 1 policy refused (the reason on stderr),\n"
		"2 usage or config error, 3 network or local failure. man garde-agent(8).\n");
}

static void print_diag(void *arg, const char *file, int line, const char *message)
{
	(void)arg;
	if (line > 0)
		fprintf(stderr, "%s:%d: %s\n", file, line, message);
	else
		fprintf(stderr, "%s: %s\n", file, message);
}

static int exit_for(int status)
{
	switch (status) {
	case SYNC_INSTALLED:
	case SYNC_UNCHANGED: return EXIT_OK;
	case SYNC_EREFUSED: return EXIT_REFUSED;
	default: return EXIT_FAILED;
	}
}

/* One line per outcome: success on stdout, anything else on stderr. */
static void report(const char *command, int status, const char *why)
{
	if (status >= 0)
		printf("garde-agent %s: %s\n", command, why);
	else
		fprintf(stderr, "garde-agent %s: %s: %s\n", command,
			status == SYNC_EREFUSED ? "refused" : "failed", why);
}

static int cmd_sync(const struct agent_config *cfg, const struct sync_keys *keys)
{
	char why[SYNC_WHY_MAX];
	int status = sync_pull(cfg, keys, why, sizeof(why));

	report("sync", status, why);
	return exit_for(status);
}

static int cmd_apply(const struct agent_config *cfg, const struct sync_keys *keys,
		     const char *pol, const char *sig)
{
	char why[SYNC_WHY_MAX];
	int status = sync_apply_files(cfg, keys, pol, sig, NULL, why, sizeof(why));

	report("apply", status, why);
	return exit_for(status);
}

static int cmd_forward(const struct agent_config *cfg)
{
	struct agent_delivery *d = NULL;
	char why[SYNC_WHY_MAX];
	int rv = EXIT_FAILED, moved, more;

	if (agent_delivery_open(cfg, DELIVERY_WHOLE, &d, why, sizeof(why)) != 0) {
		fprintf(stderr, "garde-agent forward: %s\n", why);
		return EXIT_FAILED;
	}
	moved = agent_delivery_intake(d);
	if (moved < 0)
		goto out;
	/* Until every sink is up to date or backing off: a sink that is down
	 * does not hold the command, its events stay for the next run. */
	do
		more = agent_delivery_send(d);
	while (more > 0);
	rv = EXIT_OK;
out:
	agent_delivery_close(d);
	return rv;
}

static int cmd_status(const struct agent_config *cfg)
{
	struct agent_delivery *d = NULL;
	struct agent_state st;
	struct json_buf jb;
	char why[SYNC_WHY_MAX], *buf = malloc(STATUS_JSON_MAX);
	int rv = EXIT_FAILED, err;

	if (buf == NULL)
		return EXIT_FAILED;
	if (state_load(cfg->state_dir, &st, why, sizeof(why)) != 0)
		fprintf(stderr, "garde-agent status: %s\n", why); /* reported, status goes on */
	json_init(&jb, buf, STATUS_JSON_MAX);
	json_obj_begin(&jb);
	json_key(&jb, "version");
	json_str(&jb, GARDE_VERSION);
	json_key(&jb, "config");
	json_str(&jb, cfg->path);
	json_key(&jb, "policy_target");
	json_str(&jb, cfg->policy_target);
	state_status_json(&st, &jb);
	/* Next to a running agent this only reads (it holds the journal). */
	if (agent_delivery_open(cfg, DELIVERY_WHOLE, &d, why, sizeof(why)) == 0) {
		agent_delivery_status_json(d, &jb);
	} else {
		json_key(&jb, "delivery_error");
		json_str(&jb, why);
	}
	json_obj_end(&jb);
	err = json_finish(&jb);
	if (err != JSON_OK) {
		fprintf(stderr, "garde-agent status: %s\n", json_strerror(err));
		goto out;
	}
	printf("%s\n", buf);
	rv = EXIT_OK;
out:
	agent_delivery_close(d);
	free(buf);
	return rv;
}

/* --- run --------------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next poll: interval plus a random share of the jitter, so that a
 * fleet restarted together does not hit the server together. */
static int64_t next_poll_at(const struct agent_config *cfg)
{
	unsigned r = 0;

	if (cfg->poll_jitter > 0 && getrandom(&r, sizeof(r), 0) == (ssize_t)sizeof(r))
		r %= cfg->poll_jitter * 1000u + 1;
	else
		r = 0;
	return now_ms() + (int64_t)cfg->poll_interval * 1000 + r;
}

/* chan >= 0: the installer does the install (privsep); else in-process. */
static void run_sync(const struct agent_config *cfg, const struct sync_keys *keys, int chan)
{
	char why[SYNC_WHY_MAX];
	int status = chan >= 0 ? privsep_pull(cfg, chan, why, sizeof(why))
			       : sync_pull(cfg, keys, why, sizeof(why));

	/* stderr is the journal under systemd: one line per outcome. */
	fprintf(stderr, "garde-agent: sync %s: %s\n",
		status >= 0 ? "ok" : status == SYNC_EREFUSED ? "refused" : "failed", why);
}

/* SIGHUP pulls now; anything else stops the loop. */
static void run_on_signal(const struct agent_config *cfg, int signo, int64_t *next_poll,
			  bool *stop)
{
	if (signo == SIGHUP) {
		*next_poll = cfg->policy_url != NULL ? now_ms() : INT64_MAX;
	} else if (!*stop) {
		fprintf(stderr, "garde-agent: signal %d: stopping\n", signo);
		*stop = true;
	}
}

/* w == NULL: everything in this process. Else the worker of privsep.h:
 * the privileged side does the spool and the journal and says when the
 * journal grew, on w->journal. */
static int run_loop(const struct agent_config *cfg, const struct sync_keys *keys,
		    const struct privsep_worker *w, struct agent_delivery *d, int sfd)
{
	int64_t next_poll = cfg->policy_url != NULL ? now_ms() : INT64_MAX;
	int chan = w != NULL ? w->chan : -1;
	bool stop = false;

	fprintf(stderr, "garde-agent: running (pid %ld%s)\n", (long)getpid(),
		w != NULL ? ", unprivileged worker" : "");
	while (!stop) {
		struct pollfd pfd[2] = {
			{ sfd, POLLIN, 0 },
			{ w != NULL ? w->journal : agent_delivery_wait_fd(d), POLLIN, 0 },
		};
		struct signalfd_siginfo si;
		int64_t wait_ms, now;
		int more, relayed = 0;

		if (cfg->policy_url != NULL && now_ms() >= next_poll) {
			run_sync(cfg, keys, chan);
			next_poll = next_poll_at(cfg);
		}
		if (w == NULL && agent_delivery_intake(d) < 0)
			fprintf(stderr, "garde-agent: the journal cannot be written; events stay in the spool\n");
		more = agent_delivery_send(d);
		now = now_ms();
		wait_ms = more > 0 ? 0 : agent_delivery_next_retry_ms(d);
		if (next_poll != INT64_MAX && next_poll - now < wait_ms)
			wait_ms = next_poll - now > 0 ? next_poll - now : 0;
		if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1, (int)wait_ms) < 0 && errno != EINTR) {
			fprintf(stderr, "garde-agent: poll: %s\n", strerror(errno));
			return EXIT_FAILED;
		}
		if (w != NULL && pfd[1].revents != 0) {
			if (privsep_journal_recv(w->journal, d, &relayed) < 0)
				return EXIT_FAILED;
			if (relayed != 0)
				run_on_signal(cfg, relayed, &next_poll, &stop);
		}
		/* Signals are read here, between batches: SIGTERM never cuts a
		 * batch in flight. Under privilege separation they come from the
		 * privileged side too (systemd signals the main pid). */
		while ((pfd[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			run_on_signal(cfg, (int)si.ssi_signo, &next_poll, &stop);
			pfd[0].revents = 0;
		}
	}
	return EXIT_OK;
}

static int cmd_run(const struct agent_config *cfg, const struct sync_keys *keys)
{
	struct agent_delivery *d = NULL;
	struct privsep_worker w = { -1, -1 };
	char why[SYNC_WHY_MAX];
	bool separate = cfg->user != NULL && geteuid() == 0;
	uid_t uid = 0;
	gid_t gid = 0;
	sigset_t mask;
	int sfd = -1, rv = EXIT_FAILED;

	/* Blocked before the fork: both processes read them from a signalfd. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (cfg->user != NULL && !separate) {
		fprintf(stderr, "garde-agent run: not root: 'user = \"%s\"' ignored, running as uid %ld\n",
			cfg->user, (long)geteuid());
	}
	if (separate) {
		int status;
		if (privsep_lookup(cfg, &uid, &gid, why, sizeof(why)) != 0) {
			fprintf(stderr, "garde-agent run: %s\n", why);
			return EXIT_USAGE;
		}
		if (privsep_prepare(cfg, uid, gid, why, sizeof(why)) != 0) {
			fprintf(stderr, "garde-agent run: %s\n", why);
			return EXIT_FAILED;
		}
		status = privsep_fork(cfg, keys, &w, why, sizeof(why));
		if (status >= 0)
			return status; /* the privileged side, after the worker exited */
		if (status == -2) {
			fprintf(stderr, "garde-agent run: %s\n", why);
			return EXIT_FAILED;
		}
	}
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "garde-agent run: signalfd: %s\n", strerror(errno));
		goto out;
	}
	/* Opened with the privileges the spool, the journal and the sinks'
	 * credentials need, then (the worker) dropped before the first byte
	 * comes off the network. The worker opens no spool and no journal:
	 * the privileged side does the intake and passes a read-only
	 * descriptor of the journal. */
	if (agent_delivery_open(cfg, separate ? DELIVERY_SEND : DELIVERY_WHOLE, &d, why,
				sizeof(why)) != 0) {
		fprintf(stderr, "garde-agent run: %s\n", why);
		goto out;
	}
	if (separate && privsep_drop(uid, gid, why, sizeof(why)) != 0) {
		fprintf(stderr, "garde-agent run: %s\n", why);
		goto out;
	}
	rv = run_loop(cfg, keys, separate ? &w : NULL, d, sfd);
out:
	agent_delivery_close(d);
	if (sfd >= 0)
		close(sfd);
	if (w.chan >= 0)
		close(w.chan);
	if (w.journal >= 0)
		close(w.journal);
	return rv;
}

/* --- main ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = AGENT_DEFAULT_CONFIG, *command;
	struct agent_config *cfg = NULL;
	struct sync_keys keys;
	char why[SYNC_WHY_MAX];
	int c, nargs, rv = EXIT_USAGE;
	bool needs_keys;

	/* '+': options stop at the command, as in `git`. */
	while ((c = getopt_long(argc, argv, "+c:hV", options, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("garde-agent %s\n", GARDE_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	command = argv[optind];
	nargs = argc - optind - 1;
	if (strcmp(command, "help") == 0 || (nargs == 1 && strcmp(argv[optind + 1], "--help") == 0)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(command, "apply") == 0 ? nargs != 2
	    : (strcmp(command, "sync") == 0 || strcmp(command, "forward") == 0 ||
	       strcmp(command, "run") == 0 || strcmp(command, "status") == 0) ? nargs != 0
	    : true) {
		fprintf(stderr, "garde-agent: unknown command or wrong arguments: '%s'\n", command);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (agent_config_load(path, print_diag, NULL, &cfg) != 0) {
		fprintf(stderr, "%s: the config was not accepted; fix the errors above\n", path);
		return EXIT_USAGE;
	}
	if (sync_fetch_init() != 0) {
		fprintf(stderr, "garde-agent: libcurl could not be initialised\n");
		rv = EXIT_FAILED;
		goto out;
	}
	/* Keys are loaded up front, by the process that will verify: a key
	 * file that is missing or unsafe is a config error, said at once. */
	needs_keys = strcmp(command, "sync") == 0 || strcmp(command, "apply") == 0 ||
		     (strcmp(command, "run") == 0 && cfg->policy_url != NULL);
	memset(&keys, 0, sizeof(keys));
	if (needs_keys && sync_load_keys(cfg, &keys, why, sizeof(why)) != 0) {
		fprintf(stderr, "garde-agent %s: %s\n", command, why);
		goto out;
	}
	if (strcmp(command, "sync") == 0)
		rv = cmd_sync(cfg, &keys);
	else if (strcmp(command, "apply") == 0)
		rv = cmd_apply(cfg, &keys, argv[optind + 1], argv[optind + 2]);
	else if (strcmp(command, "forward") == 0)
		rv = cmd_forward(cfg);
	else if (strcmp(command, "run") == 0)
		rv = cmd_run(cfg, &keys);
	else
		rv = cmd_status(cfg);
out:
	agent_config_free(cfg);
	return rv;
}
