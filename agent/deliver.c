/* deliver.c - checkpoints, batches, retries and bounds (see deliver.h).
 *
 * Each sink has a checkpoint: the seq of the last journal record its
 * collector acknowledged, in STATE_DIR/worker/checkpoint.NAME
 * ("garde-checkpoint 1 SEQ"), rewritten atomically (temp file, fsync,
 * rename) after each acknowledged batch and never before. A crash between
 * the acknowledgement and the rename resends that one batch: the only
 * duplicates. Checkpoints are written by whoever sends (the worker under
 * privilege separation) and only read by the journal's writer, which
 * treats them as hostile input: a lie can at worst make it compact records
 * a sink had not delivered, which the liar could have withheld anyway. */
#define _GNU_SOURCE
#include "deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "journal.h"
#include "sink.h"

#define INTAKE_BATCH 1024
#define INTAKE_MAX (256 * INTAKE_BATCH) /* per call: the sinks get their turn */
#define BATCH_BYTES (1u << 20)   /* JSON bytes per batch, whatever the count */
#define BACKOFF_FIRST_MS 1000
#define RESCAN_MS 60000
#define DEFAULT_JOURNAL_MAX (64ull << 20)
#define DEFAULT_JOURNAL_HARD (256ull << 20)

struct dsink {
	const struct agent_sink *conf;
	const struct sink_ops *ops;
	void *st;
	char *cp_path;
	uint64_t acked;            /* checkpoint */
	bool ack_pos;              /* ack_off/ack_line known */
	uint64_t ack_off, ack_line; /* where the record after `acked` starts */
	struct journal_reader *rd;
	uint64_t delivered, failed; /* since the first start, kept in stats_path[] */
	char *stats_path[2];        /* STATE_DIR/worker/delivered.NAME, failed.NAME */
	unsigned streak;           /* failures in a row */
	uint64_t retry_at;         /* monotonic ms */
	struct sink_msg *msgs;
	char *arena;
	bool bad_logged;
};

struct agent_delivery {
	const struct agent_config *cfg;
	enum agent_delivery_role role;
	struct journal *j;         /* the writer; NULL for an observer and DELIVERY_SEND */
	struct intake *in;         /* NULL in DELIVERY_SEND */
	size_t n;
	struct dsink sinks[AGENT_MAX_SINKS];
	uint64_t dropped;          /* total, kept in STATE_DIR/dropped */
	char *dropped_path;
	uint64_t jmax, jhard;
	uint64_t generation;       /* of the journal file: +1 per compaction */
	char hostname[256];
	/* Another agent holds the journal (`status` next to `run`): this one
	 * only reads, and reports what it read. */
	bool observer;
	uint64_t obs_size;
	/* Without the writer (observer, DELIVERY_SEND): the journal as read or
	 * as announced. */
	uint64_t view_anchor, view_last, view_gen;
	int jfd;                   /* DELIVERY_SEND: read-only, -1 until announced */
};

void deliver_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("garde-agent: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t d_last(const struct agent_delivery *d)
{
	return d->j != NULL ? journal_last_seq(d->j) : d->view_last;
}

static uint64_t d_anchor(const struct agent_delivery *d)
{
	return d->j != NULL ? journal_anchor_seq(d->j) : d->view_anchor;
}

/* Reads what a running agent's journal holds, without writing to it. */
static int observe(struct agent_delivery *d, char *why, size_t whylen)
{
	struct journal_reader *r = NULL;
	struct journal_record rec;
	struct stat st;
	int rv;

	if (journal_reader_open(d->cfg->journal, &r, why, whylen) != JOURNAL_OK)
		return -1;
	d->observer = true;
	d->view_anchor = d->view_last = journal_reader_anchor(r, NULL);
	while ((rv = journal_reader_next(r, &rec)) != 0) {
		if (rv == 1)
			d->view_last = rec.seq;
		else if (rv != JOURNAL_EFORMAT)
			break; /* a torn tail is the running agent's write in progress */
	}
	d->obs_size = stat(d->cfg->journal, &st) == 0 ? (uint64_t)st.st_size : 0;
	journal_reader_close(r);
	return 0;
}

/* ---------------------------------------------------------- checkpoints */

/* "garde-checkpoint 1 N\n": a sink's checkpoint, or the dropped count.
 * 1 and *seq, 0 when missing, -1 when unreadable. */
static int counter_load(const char *path, uint64_t *seq)
{
	char buf[128];
	const char *magic = "garde-checkpoint 1 ";
	uint64_t v = 0;
	struct stat st;
	ssize_t n;
	/* Possibly another user's file (the worker's checkpoints, read by the
	 * privileged side): a FIFO must not block, a link is not followed. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	*seq = 0;
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (strncmp(buf, magic, strlen(magic)) != 0)
		return -1;
	const char *p = buf + strlen(magic);
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*p != '\n')
		return -1;
	*seq = v;
	return 1;
}

static int counter_save(const char *path, uint64_t value, bool durable)
{
	char tmp[4200], line[64];
	int fd, n, rv = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	n = snprintf(line, sizeof(line), "garde-checkpoint 1 %" PRIu64 "\n", value);
	/* A stale temp file (a crash; or one `forward` left as root where the
	 * worker now writes) is removed, then created exclusively. 0644: a
	 * count is no secret, and the journal's writer reads the worker's. */
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out;
	if (write(fd, line, (size_t)n) != n || (durable && fsync(fd) != 0))
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	rv = 0;
out:
	if (fd >= 0)
		close(fd);
	return rv;
}

/* A sink's checkpoint, clamped to the journal: 1 found, 0 missing (or
 * unreadable: logged when log is set), and *seq is then the anchor. The
 * place before STATE_DIR/worker/ is read when the new one has none. */
static int checkpoint_load(struct agent_delivery *d, struct dsink *s, bool log, uint64_t *seq)
{
	char old[4200];
	int rv = counter_load(s->cp_path, seq);

	if (rv == 0 && (size_t)snprintf(old, sizeof(old), "%s/checkpoint.%s", d->cfg->state_dir,
					s->conf->name) < sizeof(old))
		rv = counter_load(old, seq);
	if (rv < 0 && log) {
		/* Resending is the safe direction: at least once. */
		deliver_log("%s: unreadable checkpoint: sink %s starts again from the oldest "
			    "journal record (duplicates possible)", s->cp_path, s->conf->name);
	}
	if (rv <= 0)
		*seq = d_anchor(d);
	return rv > 0;
}

static int checkpoint_save(struct dsink *s)
{
	if (counter_save(s->cp_path, s->acked, true) == 0)
		return 0;
	deliver_log("%s: cannot write the checkpoint (%s): the sink's last batch will be sent "
		    "again after a restart", s->cp_path, strerror(errno));
	return -1;
}

/* The per-sink counts `status` shows. Informational: written without
 * fsync, so a crash may lose the last few (the checkpoint, which decides
 * what is sent, is durable). */
static void stats_save(struct dsink *s)
{
	(void)counter_save(s->stats_path[0], s->delivered, false);
	(void)counter_save(s->stats_path[1], s->failed, false);
}

static void stats_load(struct dsink *s)
{
	if (counter_load(s->stats_path[0], &s->delivered) < 0)
		s->delivered = 0;
	if (counter_load(s->stats_path[1], &s->failed) < 0)
		s->failed = 0;
}

/* ---------------------------------------------------------- open/close */

static const struct sink_ops *ops_for(enum agent_sink_type t)
{
	switch (t) {
	case SINK_RELP: return &sink_relp_ops;
	case SINK_SYSLOG: return &sink_syslog_ops;
	case SINK_HTTP: return &sink_http_ops;
	default: return NULL;
	}
}

static int sink_open(struct agent_delivery *d, struct dsink *s, const struct agent_sink *conf,
		     char *why, size_t whylen)
{
	char swhy[256];
	uint64_t seq = 0;
	size_t batch;

	s->conf = conf;
	s->ops = ops_for(conf->type);
	batch = conf->batch ? conf->batch : 500;
	if (s->ops == NULL) {
		snprintf(why, whylen, "sink %s: unknown type", conf->name);
		return -1;
	}
	if (asprintf(&s->cp_path, "%s/" AGENT_WORKER_DIR "/checkpoint.%s", d->cfg->state_dir,
		     conf->name) < 0)
		s->cp_path = NULL;
	if (asprintf(&s->stats_path[0], "%s/" AGENT_WORKER_DIR "/delivered.%s", d->cfg->state_dir,
		     conf->name) < 0)
		s->stats_path[0] = NULL;
	if (asprintf(&s->stats_path[1], "%s/" AGENT_WORKER_DIR "/failed.%s", d->cfg->state_dir,
		     conf->name) < 0)
		s->stats_path[1] = NULL;
	if (s->cp_path == NULL || s->stats_path[0] == NULL || s->stats_path[1] == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	stats_load(s);
	if (d->role == DELIVERY_INTAKE) {
		/* Only the checkpoint, for the bounds: no network, no TLS here. */
		(void)checkpoint_load(d, s, false, &s->acked);
		return 0;
	}
	s->msgs = calloc(batch, sizeof(*s->msgs));
	s->arena = malloc(BATCH_BYTES + JOURNAL_MAX_JSON);
	if (s->msgs == NULL || s->arena == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (s->ops->init(conf, &s->st, swhy, sizeof(swhy)) != 0) {
		snprintf(why, whylen, "%s: sink %s: %s", d->cfg->path ? d->cfg->path : "config",
			 conf->name, swhy);
		return -1;
	}
	(void)checkpoint_load(d, s, true, &seq);
	s->acked = seq;
	if (d->role == DELIVERY_SEND)
		return 0; /* checked against the journal when it is announced */
	if (seq > d_last(d)) {
		deliver_log("%s: checkpoint %" PRIu64 " is past the journal's last record %" PRIu64
			    " (a new journal?): sink %s starts from its oldest record", s->cp_path,
			    seq, d_last(d), conf->name);
		seq = d_anchor(d);
	}
	s->acked = seq;
	return 0;
}

int agent_delivery_open(const struct agent_config *cfg, enum agent_delivery_role role,
			struct agent_delivery **out, char *why, size_t whylen)
{
	struct agent_delivery *d = calloc(1, sizeof(*d));
	char note[512], wdir[4200];
	int rv = -1;

	*out = NULL;
	if (d == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	d->cfg = cfg;
	d->role = role;
	d->jfd = -1;
	d->generation = 1;
	d->jmax = cfg->journal_max ? cfg->journal_max : DEFAULT_JOURNAL_MAX;
	d->jhard = cfg->journal_hard ? cfg->journal_hard : DEFAULT_JOURNAL_HARD;
	if (d->jhard < d->jmax)
		d->jhard = d->jmax;
	if (gethostname(d->hostname, sizeof(d->hostname) - 1) != 0)
		strcpy(d->hostname, "localhost");
	/* A collector that closes mid-write must give EPIPE, not kill the agent. */
	signal(SIGPIPE, SIG_IGN);
	if (mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(why, whylen, "%s: cannot create the state directory: %s", cfg->state_dir,
			 strerror(errno));
		goto out;
	}
	/* 0755: the journal's writer reads the checkpoints without any
	 * privilege over the worker's files (the unit grants none). */
	if ((size_t)snprintf(wdir, sizeof(wdir), "%s/" AGENT_WORKER_DIR, cfg->state_dir) >=
	    sizeof(wdir) || (mkdir(wdir, 0755) != 0 && errno != EEXIST)) {
		snprintf(why, whylen, "%s/" AGENT_WORKER_DIR ": cannot create: %s", cfg->state_dir,
			 strerror(errno));
		goto out;
	}
	if (role != DELIVERY_SEND) {
		if (asprintf(&d->dropped_path, "%s/dropped", cfg->state_dir) < 0) {
			d->dropped_path = NULL;
			snprintf(why, whylen, "out of memory");
			goto out;
		}
		if (counter_load(d->dropped_path, &d->dropped) < 0)
			deliver_log("%s: unreadable; the dropped count starts again from 0",
				    d->dropped_path);
		rv = journal_open(cfg->journal, &d->j, note, sizeof(note), why, whylen);
		if (rv == JOURNAL_EBUSY && role == DELIVERY_WHOLE) {
			rv = observe(d, why, whylen);
			if (rv != 0)
				goto out;
		} else if (rv != JOURNAL_OK) {
			rv = -1;
			goto out;
		}
		rv = -1;
		if (note[0] != '\0')
			deliver_log("%s", note);
		if (intake_open(cfg->spool, &d->in, why, whylen) != 0)
			goto out;
	}
	for (size_t i = 0; i < cfg->n_sinks; i++) {
		d->n++;
		if (sink_open(d, &d->sinks[i], &cfg->sinks[i], why, whylen) != 0)
			goto out;
	}
	rv = 0;
out:
	if (rv != 0)
		agent_delivery_close(d);
	else
		*out = d;
	return rv;
}

void agent_delivery_close(struct agent_delivery *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		struct dsink *s = &d->sinks[i];
		if (s->st != NULL)
			s->ops->free(s->st);
		journal_reader_close(s->rd);
		free(s->msgs);
		free(s->arena);
		free(s->cp_path);
		free(s->stats_path[0]);
		free(s->stats_path[1]);
	}
	intake_close(d->in);
	journal_close(d->j);
	if (d->jfd >= 0)
		close(d->jfd);
	free(d->dropped_path);
	free(d);
}

/* ---------------------------------------------------------- bounds */

/* DELIVERY_INTAKE: what the worker has acknowledged, from its files. */
static void refresh_acked(struct agent_delivery *d)
{
	uint64_t anchor = d_anchor(d), last = d_last(d);

	for (size_t i = 0; i < d->n; i++) {
		struct dsink *s = &d->sinks[i];
		(void)checkpoint_load(d, s, false, &s->acked);
		/* Past the end: not this journal's (or a lie): nothing delivered. */
		if (s->acked > last || s->acked < anchor)
			s->acked = anchor;
	}
}

static uint64_t min_acked(struct agent_delivery *d)
{
	uint64_t m = d_last(d);

	if (d->role == DELIVERY_INTAKE)
		refresh_acked(d);
	for (size_t i = 0; i < d->n; i++)
		if (d->sinks[i].acked < m)
			m = d->sinks[i].acked;
	return m;
}

/* The file was replaced: readers reopen; known positions move by the shift. */
static void after_trim(struct agent_delivery *d, const struct journal_trim *t)
{
	d->generation++;
	for (size_t i = 0; i < d->n; i++) {
		struct dsink *s = &d->sinks[i];
		journal_reader_close(s->rd);
		s->rd = NULL;
		if (s->acked < t->upto_seq) {
			s->acked = t->upto_seq;
			s->ack_pos = false;
			/* The worker's file is the worker's to move (it learns of the
			 * new anchor with the new descriptor). */
			if (d->role == DELIVERY_WHOLE)
				(void)checkpoint_save(s);
		} else if (s->ack_pos) {
			s->ack_off -= (uint64_t)t->shift;
			s->ack_line -= t->removed;
		}
	}
}

static void emit_dropped(struct agent_delivery *d, uint64_t count)
{
	char buf[EVENT_MAX_BYTES], id[EVENT_ID_SIZE];
	struct timespec ts;
	struct event_fields f = {
		.action = "events-dropped",
		.outcome = "failure",
		.host = d->hostname,
		.pid = (long)getpid(),
		.dropped = (int64_t)count,
	};
	int rv;

	clock_gettime(CLOCK_REALTIME, &ts);
	f.now_usec = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	rv = event_format(&f, buf, sizeof(buf), id);
	if (rv != EVENT_OK) {
		deliver_log("cannot build the events-dropped event: %s", event_strerror(rv));
		return;
	}
	rv = journal_append(d->j, buf, strlen(buf), NULL);
	if (rv == JOURNAL_OK)
		rv = journal_sync(d->j);
	if (rv != JOURNAL_OK)
		deliver_log("%s: cannot journal the events-dropped event: %s", journal_path(d->j),
			    journal_strerror(rv));
}

static void enforce_bounds(struct agent_delivery *d)
{
	struct journal_trim t;
	char why[512];
	uint64_t size = journal_size(d->j);

	if (size > d->jmax) {
		uint64_t keep = d->jmax / 4 * 3; /* hysteresis: not a rewrite per intake */
		if (journal_trim(d->j, min_acked(d), size - keep, &t, why, sizeof(why)) != 0)
			deliver_log("%s", why);
		else if (t.removed > 0)
			after_trim(d, &t);
	}
	size = journal_size(d->j);
	if (size > d->jhard) {
		uint64_t keep = d->jhard / 16 * 15, lo = min_acked(d), lost;
		if (journal_trim(d->j, journal_last_seq(d->j), size - keep, &t, why,
				 sizeof(why)) != 0) {
			deliver_log("%s", why);
			return;
		}
		lost = t.upto_seq > lo ? t.upto_seq - lo : 0;
		after_trim(d, &t);
		if (lost > 0) {
			d->dropped += lost;
			if (counter_save(d->dropped_path, d->dropped, true) != 0)
				deliver_log("%s: cannot record the dropped count: %s", d->dropped_path,
					    strerror(errno));
			deliver_log("%s: over its hard bound (%" PRIu64 " bytes) with sinks behind: "
				    "%" PRIu64 " undelivered event(s) dropped (up to seq %" PRIu64 ")",
				    journal_path(d->j), d->jhard, lost, t.upto_seq);
			emit_dropped(d, lost);
		}
	}
}

int agent_delivery_intake(struct agent_delivery *d)
{
	int total = 0, n;

	if (d->observer || d->j == NULL)
		return 0;
	do {
		n = intake_run(d->in, d->j, INTAKE_BATCH);
		if (n < 0)
			return total > 0 ? total : -1;
		total += n;
		enforce_bounds(d);
	} while (n == INTAKE_BATCH && total < INTAKE_MAX);
	return total;
}

void agent_delivery_journal_info(struct agent_delivery *d, struct agent_journal_info *info)
{
	info->generation = d->generation;
	info->anchor_seq = d_anchor(d);
	info->last_seq = d_last(d);
}

int agent_delivery_journal_fd(struct agent_delivery *d)
{
	int fd = d->j != NULL ? journal_open_rdonly(d->j) : JOURNAL_EINVAL;

	if (fd < 0)
		deliver_log("%s: cannot open it for the worker: %s", d->cfg->journal,
			    journal_strerror(fd));
	return fd;
}

int agent_delivery_journal(struct agent_delivery *d, const struct agent_journal_info *info,
			   int fd)
{
	bool first = d->jfd < 0;

	if (d->role != DELIVERY_SEND || (fd < 0 && (first || info->generation != d->view_gen))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd >= 0) {
		/* A new file (the first, or a compaction): positions are byte
		 * offsets in the old one; start over and skip by seq. */
		if (d->jfd >= 0)
			close(d->jfd);
		d->jfd = fd;
		for (size_t i = 0; i < d->n; i++) {
			journal_reader_close(d->sinks[i].rd);
			d->sinks[i].rd = NULL;
			d->sinks[i].ack_pos = false;
		}
	}
	d->view_gen = info->generation;
	d->view_anchor = info->anchor_seq;
	d->view_last = info->last_seq > info->anchor_seq ? info->last_seq : info->anchor_seq;
	for (size_t i = 0; i < d->n; i++) {
		struct dsink *s = &d->sinks[i];
		if (first && s->acked > d->view_last) {
			deliver_log("%s: checkpoint %" PRIu64 " is past the journal's last record %"
				    PRIu64 " (a new journal?): sink %s starts from its oldest record",
				    s->cp_path, s->acked, d->view_last, s->conf->name);
			s->acked = d->view_anchor;
			(void)checkpoint_save(s);
		} else if (s->acked < d->view_anchor) {
			/* Compacted or dropped by the writer: gone, not pending. */
			s->acked = d->view_anchor;
			s->ack_pos = false;
			(void)checkpoint_save(s);
		}
	}
	return 0;
}

/* ---------------------------------------------------------- sending */

static int sink_reader(struct agent_delivery *d, struct dsink *s)
{
	char why[512];

	int rv;

	if (s->rd != NULL)
		return 0;
	if (d->j != NULL) {
		rv = journal_reader_open(journal_path(d->j), &s->rd, why, sizeof(why));
	} else {
		/* The worker: its own descriptor of the one it was handed, for
		 * the reader to own. */
		int fd = fcntl(d->jfd, F_DUPFD_CLOEXEC, 0);
		rv = fd < 0 ? JOURNAL_EIO
			    : journal_reader_fdopen(fd, d->cfg->journal, &s->rd, why, sizeof(why));
		if (fd < 0)
			snprintf(why, sizeof(why), "%s: %s", d->cfg->journal, strerror(errno));
	}
	if (rv != JOURNAL_OK) {
		deliver_log("sink %s: %s", s->conf->name, why);
		return -1;
	}
	/* A new reader stands after the header: the oldest record. */
	if (s->ack_pos)
		journal_reader_seek(s->rd, s->ack_off, s->ack_line);
	return 0;
}

/* Up to a batch of records after s->acked into s->msgs; the count, or -1. */
static long sink_fill(struct agent_delivery *d, struct dsink *s, uint64_t *end_off,
		      uint64_t *end_line)
{
	size_t batch = s->conf->batch ? s->conf->batch : 500, n = 0, used = 0;
	uint64_t last = d_last(d);
	struct journal_record rec;

	if (sink_reader(d, s) != 0)
		return -1;
	while (n < batch && used < BATCH_BYTES) {
		int r = journal_reader_next(s->rd, &rec);
		if (r == 0 || r == JOURNAL_ETORN)
			break;
		if (r == 1 && rec.seq > last) {
			/* Written but not yet announced (the writer's fsync may still
			 * be to come): read it again next time. */
			journal_reader_seek(s->rd, rec.offset, rec.line);
			break;
		}
		if (r == JOURNAL_EFORMAT) {
			if (!s->bad_logged)
				deliver_log("%s:%" PRIu64 ": damaged record skipped by sink %s; run "
					    "garde report --verify", journal_path(d->j), rec.line,
					    s->conf->name);
			s->bad_logged = true;
			continue;
		}
		if (r < 0)
			return -1;
		if (rec.seq <= s->acked) {
			s->ack_pos = true;
			s->ack_off = rec.offset + rec.line_len;
			s->ack_line = rec.line + 1;
			continue;
		}
		memcpy(s->arena + used, rec.json, rec.json_len);
		s->msgs[n].json = s->arena + used;
		s->msgs[n].len = rec.json_len;
		s->msgs[n].seq = rec.seq;
		used += rec.json_len;
		*end_off = rec.offset + rec.line_len;
		*end_line = rec.line + 1;
		n++;
	}
	return (long)n;
}

static void sink_failed(struct agent_delivery *d, struct dsink *s, const char *why)
{
	uint64_t delay = BACKOFF_FIRST_MS, cap = (s->conf->backoff_max ? s->conf->backoff_max
							     : 300) * 1000ull;

	(void)d;
	s->failed++;
	s->streak++;
	for (unsigned i = 1; i < s->streak && delay < cap; i++)
		delay *= 2;
	if (delay > cap)
		delay = cap;
	s->retry_at = now_ms() + delay;
	stats_save(s);
	s->ops->reset(s->st);
	/* Read the batch again next time, from the checkpoint. */
	journal_reader_close(s->rd);
	s->rd = NULL;
	deliver_log("sink %s: %s; retry in %" PRIu64 " ms", s->conf->name, why, delay);
}

int agent_delivery_send(struct agent_delivery *d)
{
	uint64_t now = now_ms(), last = d_last(d);
	int more = 0;

	if (d->observer || d->role == DELIVERY_INTAKE || (d->j == NULL && d->jfd < 0))
		return 0;
	for (size_t i = 0; i < d->n; i++) {
		struct dsink *s = &d->sinks[i];
		uint64_t end_off = 0, end_line = 0;
		char why[512];
		long n;

		if (s->acked >= last || now < s->retry_at)
			continue;
		n = sink_fill(d, s, &end_off, &end_line);
		if (n < 0) {
			sink_failed(d, s, "cannot read the journal");
			continue;
		}
		if (n == 0)
			continue;
		if (s->ops->send(s->st, s->msgs, (size_t)n, why, sizeof(why)) != 0) {
			sink_failed(d, s, why);
			continue;
		}
		if (s->streak > 0)
			deliver_log("sink %s: delivering again", s->conf->name);
		s->streak = 0;
		s->retry_at = 0;
		s->acked = s->msgs[n - 1].seq;
		s->ack_pos = true;
		s->ack_off = end_off;
		s->ack_line = end_line;
		s->delivered += (uint64_t)n;
		(void)checkpoint_save(s);
		stats_save(s);
		if (s->acked < last)
			more++;
	}
	return more;
}

int agent_delivery_wait_fd(struct agent_delivery *d)
{
	return d->in != NULL ? intake_wait_fd(d->in) : -1;
}

unsigned agent_delivery_next_retry_ms(struct agent_delivery *d)
{
	uint64_t now = now_ms(), last = d_last(d), best = RESCAN_MS;

	if (d->observer || d->role == DELIVERY_INTAKE)
		return RESCAN_MS;

	for (size_t i = 0; i < d->n; i++) {
		struct dsink *s = &d->sinks[i];
		if (s->acked >= last)
			continue;
		if (s->retry_at <= now)
			return 0;
		if (s->retry_at - now < best)
			best = s->retry_at - now;
	}
	return (unsigned)best;
}

void agent_delivery_status_json(struct agent_delivery *d, struct json_buf *jb)
{
	uint64_t last = d_last(d);

	json_key(jb, "spool_depth");
	json_int(jb, (int64_t)(d->in != NULL ? intake_depth(d->in) : 0));
	json_key(jb, "journal_bytes");
	json_int(jb, (int64_t)(d->observer ? d->obs_size : journal_size(d->j)));
	json_key(jb, "dropped");
	json_int(jb, (int64_t)d->dropped);
	json_key(jb, "sinks");
	json_obj_begin(jb);
	for (size_t i = 0; i < d->n; i++) {
		struct dsink *s = &d->sinks[i];
		json_key(jb, s->conf->name);
		json_obj_begin(jb);
		json_key(jb, "delivered");
		json_int(jb, (int64_t)s->delivered);
		json_key(jb, "failed");
		json_int(jb, (int64_t)s->failed);
		json_key(jb, "pending");
		json_int(jb, (int64_t)(last > s->acked ? last - s->acked : 0));
		json_obj_end(jb);
	}
	json_obj_end(jb);
}
