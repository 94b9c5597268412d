/* journal.c - the journal's writer: open and repair, append, sync, trim
 * (the format is in journal.h; reading and verifying in journal_read.c). */
#define _GNU_SOURCE /* O_CLOEXEC, asprintf */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_internal.h"
#include "trust.h"

#define JOURNAL_WRITE_BUF 65536
/* "garde-journal 1 " + 20 digits + " " + 64 hex + "\n" */
#define JOURNAL_HEADER_MAX 128

struct journal {
	int fd;
	char *path;
	uint64_t anchor_seq, last_seq;
	uint8_t last_hash[JOURNAL_HASH_LEN];
	uint64_t header_len;
	uint64_t size;   /* on disk + buffered */
	char *wbuf;
	size_t wlen;
};

uint64_t journal_last_seq(const struct journal *j) { return j->last_seq; }
uint64_t journal_anchor_seq(const struct journal *j) { return j->anchor_seq; }
uint64_t journal_size(const struct journal *j) { return j->size; }
uint64_t journal_header_len(const struct journal *j) { return j->header_len; }
const char *journal_path(const struct journal *j) { return j->path; }

int journal_open_rdonly(const struct journal *j)
{
	struct stat mine, theirs;
	int fd;

	if (fstat(j->fd, &mine) != 0)
		return journal_from_errno(errno);
	fd = open(j->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return journal_from_errno(errno);
	/* The path could name another file than the one being written (moved
	 * aside by hand): a reader must see what the writer writes. */
	if (fstat(fd, &theirs) != 0 || theirs.st_dev != mine.st_dev || theirs.st_ino != mine.st_ino) {
		close(fd);
		return JOURNAL_ETRUST;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? JOURNAL_EIO : journal_from_errno(errno);
		p += n;
		len -= (size_t)n;
	}
	return JOURNAL_OK;
}

static int fsync_parent(const char *path)
{
	char *copy = strdup(path);
	int fd, rv = JOURNAL_OK;

	if (copy == NULL)
		return JOURNAL_ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rv = journal_from_errno(errno);
	if (fd >= 0)
		close(fd);
	free(copy);
	return rv;
}

static size_t format_header(char *out, uint64_t seq, const uint8_t hash[JOURNAL_HASH_LEN])
{
	int n = snprintf(out, JOURNAL_HEADER_MAX, JOURNAL_MAGIC " %" PRIu64 " ", seq);

	journal_hex_encode(hash, JOURNAL_HASH_LEN, out + n);
	out[n + JOURNAL_HEX_LEN] = '\n';
	return (size_t)n + JOURNAL_HEX_LEN + 1;
}

/* The parent directory (only the last component) is created 0700. */
static int make_parent(const char *path)
{
	char *copy = strdup(path);
	const char *dir;
	int rv = JOURNAL_OK;

	if (copy == NULL)
		return JOURNAL_ENOMEM;
	dir = dirname(copy);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		rv = journal_from_errno(errno);
	free(copy);
	return rv;
}

static int journal_scan(struct journal *j, char *note, size_t notelen, char *why, size_t whylen)
{
	struct journal_reader *r = NULL;
	struct journal_record rec;
	uint64_t bad_off = 0, bad_line = 0;
	bool bad = false;
	int rv;

	rv = journal_reader_open(j->path, &r, why, whylen);
	if (rv == JOURNAL_ETORN) {
		/* Not even a header: a crash while creating it. Nothing else can
		 * be in the file, so start it again. */
		if (ftruncate(j->fd, 0) != 0)
			return journal_from_errno(errno);
		journal_say(note, notelen, "%s: torn header rewritten (a crash while the journal was created)",
		    j->path);
		return 1;
	}
	if (rv != JOURNAL_OK)
		return rv;
	j->anchor_seq = j->last_seq = journal_reader_anchor(r, j->last_hash);
	j->header_len = journal_reader_offset(r);
	for (;;) {
		rv = journal_reader_next(r, &rec);
		if (rv == 1 && !bad) {
			j->last_seq = rec.seq;
			memcpy(j->last_hash, rec.hash, JOURNAL_HASH_LEN);
			continue;
		}
		if (rv == 1 || (rv == JOURNAL_EFORMAT && bad)) {
			/* A bad line with more lines after it is not a crash's torn
			 * tail; truncating would destroy records. */
			journal_say(why, whylen, "%s:%" PRIu64 ": not a journal record; the journal is damaged: "
			    "check it with 'garde report --verify --journal %s', then move it aside "
			    "so that the agent starts a new one", j->path, bad_line, j->path);
			rv = JOURNAL_EFORMAT;
			goto out;
		}
		if (rv == JOURNAL_EFORMAT) {
			bad = true;
			bad_off = rec.offset;
			bad_line = rec.line;
			continue;
		}
		if (rv == JOURNAL_ETORN || (rv == 0 && bad)) {
			uint64_t cut = bad ? bad_off : rec.offset;
			struct stat st;
			if (fstat(j->fd, &st) != 0 || ftruncate(j->fd, (off_t)cut) != 0 ||
			    fsync(j->fd) != 0) {
				rv = journal_from_errno(errno);
				journal_say(why, whylen, "%s: cannot cut off its torn tail: %s", j->path,
				    strerror(errno));
				goto out;
			}
			journal_say(note, notelen, "%s:%" PRIu64 ": torn last record (%" PRIu64 " bytes at offset "
			    "%" PRIu64 ") cut off: a crash during a write; its event is still in the "
			    "spool and will be journaled again", j->path, bad ? bad_line : rec.line,
			    (uint64_t)st.st_size - cut, cut);
			j->size = cut;
			rv = JOURNAL_OK;
			goto out;
		}
		if (rv < 0) {
			journal_say(why, whylen, "%s: read error: %s", j->path, strerror(errno));
			goto out;
		}
		j->size = rec.offset; /* rv == 0: the end */
		rv = JOURNAL_OK;
		goto out;
	}
out:
	journal_reader_close(r);
	return rv;
}

int journal_open(const char *path, struct journal **out, char *note, size_t notelen, char *why,
		 size_t whylen)
{
	struct journal *j = NULL;
	struct stat st;
	int rv;

	*out = NULL;
	journal_say(note, notelen, "%s", "");
	j = calloc(1, sizeof(*j));
	if (j == NULL || (j->path = strdup(path)) == NULL ||
	    (j->wbuf = malloc(JOURNAL_WRITE_BUF)) == NULL) {
		rv = JOURNAL_ENOMEM;
		journal_say(why, whylen, "%s: out of memory", path);
		goto out;
	}
	j->fd = -1;
	rv = make_parent(path);
	if (rv != JOURNAL_OK) {
		journal_say(why, whylen, "%s: cannot create its directory: %s", path, strerror(errno));
		goto out;
	}
	j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		rv = journal_from_errno(errno);
		journal_say(why, whylen, "%s: cannot open: %s%s", path, strerror(errno),
		    errno == ELOOP ? " (a symbolic link: refused)" : "");
		goto out;
	}
	if (trust_check_fd(j->fd, 0) != TRUST_OK) {
		rv = JOURNAL_ETRUST;
		journal_say(why, whylen, "%s: %s; it must be a regular file owned by root (or the agent's "
		    "user), mode 0600", path, journal_strerror(rv));
		goto out;
	}
	if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
		rv = errno == EWOULDBLOCK ? JOURNAL_EBUSY : journal_from_errno(errno);
		journal_say(why, whylen, "%s: %s", path, rv == JOURNAL_EBUSY ? journal_strerror(rv)
								    : strerror(errno));
		goto out;
	}
	if (fstat(j->fd, &st) != 0) {
		rv = journal_from_errno(errno);
		journal_say(why, whylen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rv = st.st_size == 0 ? 1 : journal_scan(j, note, notelen, why, whylen);
	if (rv == 1) { /* new (or header-less): write the header */
		char hdr[JOURNAL_HEADER_MAX];
		uint8_t zero[JOURNAL_HASH_LEN] = { 0 };
		size_t n = format_header(hdr, 0, zero);
		rv = write_all(j->fd, hdr, n);
		if (rv == JOURNAL_OK && fsync(j->fd) != 0)
			rv = journal_from_errno(errno);
		if (rv == JOURNAL_OK)
			rv = fsync_parent(path);
		if (rv != JOURNAL_OK) {
			journal_say(why, whylen, "%s: cannot write its header: %s", path, strerror(errno));
			goto out;
		}
		j->anchor_seq = j->last_seq = 0;
		memset(j->last_hash, 0, sizeof(j->last_hash));
		j->header_len = j->size = n;
	}
out:
	if (rv != JOURNAL_OK) {
		journal_close(j);
		return rv;
	}
	*out = j;
	return JOURNAL_OK;
}

static int journal_flush(struct journal *j)
{
	int rv;

	if (j->wlen == 0)
		return JOURNAL_OK;
	rv = write_all(j->fd, j->wbuf, j->wlen);
	if (rv != JOURNAL_OK) {
		/* Never leave half a line: cut back to the last whole record. */
		int saved = errno;
		if (ftruncate(j->fd, (off_t)(j->size - j->wlen)) != 0)
			rv = JOURNAL_EIO;
		errno = saved;
		return rv;
	}
	j->wlen = 0;
	return JOURNAL_OK;
}

void journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0) {
		(void)journal_flush(j);
		close(j->fd);
	}
	free(j->wbuf);
	free(j->path);
	free(j);
}

int journal_append(struct journal *j, const char *json, size_t len, uint64_t *seq)
{
	char head[24];
	uint8_t h[JOURNAL_HASH_LEN];
	uint64_t s = j->last_seq + 1;
	size_t need;
	int n, rv;

	if (json == NULL || len == 0 || len > JOURNAL_MAX_JSON || memchr(json, '\n', len) != NULL ||
	    memchr(json, '\r', len) != NULL || memchr(json, '\0', len) != NULL)
		return JOURNAL_EINVAL;
	n = snprintf(head, sizeof(head), "%" PRIu64 " ", s);
	need = (size_t)n + 2 * (JOURNAL_HEX_LEN + 1) + len + 1;
	if (JOURNAL_WRITE_BUF - j->wlen < need) {
		rv = journal_flush(j);
		if (rv != JOURNAL_OK)
			return rv;
	}
	journal_hash(s, j->last_hash, json, len, h);
	char *o = j->wbuf + j->wlen;
	memcpy(o, head, (size_t)n);
	o += n;
	journal_hex_encode(j->last_hash, JOURNAL_HASH_LEN, o);
	o += JOURNAL_HEX_LEN;
	*o++ = ' ';
	journal_hex_encode(h, JOURNAL_HASH_LEN, o);
	o += JOURNAL_HEX_LEN;
	*o++ = ' ';
	memcpy(o, json, len);
	o += len;
	*o++ = '\n';
	j->wlen += need;
	j->size += need;
	j->last_seq = s;
	memcpy(j->last_hash, h, JOURNAL_HASH_LEN);
	if (seq != NULL)
		*seq = s;
	return JOURNAL_OK;
}

int journal_sync(struct journal *j)
{
	int rv = journal_flush(j);

	if (rv != JOURNAL_OK)
		return rv;
	if (fdatasync(j->fd) != 0)
		return journal_from_errno(errno);
	return JOURNAL_OK;
}

static int copy_range(int in, uint64_t off, int outfd)
{
	char buf[65536];

	for (;;) {
		ssize_t n = pread(in, buf, sizeof(buf), (off_t)off);
		int rv;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return journal_from_errno(errno);
		if (n == 0)
			return JOURNAL_OK;
		rv = write_all(outfd, buf, (size_t)n);
		if (rv != JOURNAL_OK)
			return rv;
		off += (uint64_t)n;
	}
}

int journal_trim(struct journal *j, uint64_t max_seq, uint64_t want_bytes,
		 struct journal_trim *res, char *why, size_t whylen)
{
	struct journal_reader *r = NULL;
	struct journal_record rec;
	uint8_t anchor[JOURNAL_HASH_LEN];
	uint64_t removed = 0, bytes = 0, upto = 0, keep_off = 0;
	char *tmp = NULL, hdr[JOURNAL_HEADER_MAX];
	size_t hlen;
	int fd = -1, rv;

	memset(res, 0, sizeof(*res));
	rv = journal_flush(j);
	if (rv != JOURNAL_OK) {
		journal_say(why, whylen, "%s: write error: %s", j->path, strerror(errno));
		return rv;
	}
	rv = journal_reader_open(j->path, &r, why, whylen);
	if (rv != JOURNAL_OK)
		return rv;
	while (bytes < want_bytes && (rv = journal_reader_next(r, &rec)) == 1 && rec.seq <= max_seq) {
		removed++;
		bytes += rec.line_len;
		upto = rec.seq;
		memcpy(anchor, rec.hash, JOURNAL_HASH_LEN);
		keep_off = rec.offset + rec.line_len;
	}
	if (rv < 0) {
		journal_say(why, whylen, "%s:%" PRIu64 ": %s", j->path, rec.line, journal_strerror(rv));
		goto out;
	}
	rv = JOURNAL_OK;
	if (removed == 0)
		goto out;
	if (asprintf(&tmp, "%s.tmp", j->path) < 0) {
		tmp = NULL;
		rv = JOURNAL_ENOMEM;
		goto out;
	}
	(void)unlink(tmp);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	/* Locked before it becomes the journal: no other writer ever sees it free. */
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		rv = journal_from_errno(errno);
		journal_say(why, whylen, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
	hlen = format_header(hdr, upto, anchor);
	rv = write_all(fd, hdr, hlen);
	if (rv == JOURNAL_OK)
		rv = copy_range(j->fd, keep_off, fd);
	if (rv == JOURNAL_OK && fsync(fd) != 0)
		rv = journal_from_errno(errno);
	if (rv == JOURNAL_OK && rename(tmp, j->path) != 0)
		rv = journal_from_errno(errno);
	if (rv != JOURNAL_OK) {
		journal_say(why, whylen, "%s: cannot compact: %s", j->path, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	(void)fsync_parent(j->path);
	/* The new file is the journal now; the old fd goes with the old inode. */
	if (fcntl(fd, F_SETFL, O_APPEND) != 0) {
		rv = journal_from_errno(errno);
		journal_say(why, whylen, "%s: after compaction: %s", j->path, strerror(errno));
		goto out;
	}
	close(j->fd);
	j->fd = fd;
	fd = -1;
	res->removed = removed;
	res->upto_seq = upto;
	res->shift = (int64_t)keep_off - (int64_t)hlen;
	j->anchor_seq = upto;
	j->size = j->size - keep_off + hlen;
	j->header_len = hlen;
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	journal_reader_close(r);
	return rv;
}
