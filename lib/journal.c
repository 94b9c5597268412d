/* journal.c - append-only event journal with a hash chain (see journal.h). */
#define _GNU_SOURCE /* O_CLOEXEC, pread */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "trust.h"

#define JOURNAL_READ_BUF 65536
#define JOURNAL_WRITE_BUF 65536
/* "garde-journal 1 " + 20 digits + " " + 64 hex + "\n" */
#define JOURNAL_HEADER_MAX 128

const char *journal_strerror(int err)
{
	switch (err) {
	case JOURNAL_OK: return "ok";
	case JOURNAL_EINVAL: return "invalid record (empty, too long, or with a newline or NUL)";
	case JOURNAL_EFORMAT: return "not a journal record";
	case JOURNAL_ETORN: return "the file ends inside a record (torn write)";
	case JOURNAL_ETRUST:
		return "unsafe journal file (symbolic link, not a regular file, wrong owner, or "
		       "writable by group or other)";
	case JOURNAL_ENOMEM: return "out of memory";
	case JOURNAL_ENOSPC: return "disk full";
	default: return "journal I/O error";
	}
}

static int journal_from_errno(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT: return JOURNAL_ENOSPC;
	case ENOMEM: return JOURNAL_ENOMEM;
	case ELOOP: return JOURNAL_ETRUST;
	default: return JOURNAL_EIO;
	}
}

static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

/* Exactly 64 lower-case hex digits: one spelling per hash, so that the
 * hashed text of the next record is unambiguous. */
static int hex_decode(const char *in, uint8_t *out)
{
	for (size_t i = 0; i < JOURNAL_HASH_LEN; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = in[2 * i + (size_t)k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return -1;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* Decimal without sign or leading zero, at most UINT64_MAX; *p moves past it. */
static int parse_u64(const char **p, const char *end, uint64_t *out)
{
	const char *q = *p;
	uint64_t v = 0;

	if (q >= end || *q < '0' || *q > '9' || (*q == '0' && q + 1 < end && q[1] >= '0' &&
						 q[1] <= '9'))
		return -1;
	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		unsigned d = (unsigned)(*q - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*p = q;
	*out = v;
	return 0;
}

void journal_hash(uint64_t seq, const uint8_t prev[JOURNAL_HASH_LEN], const char *json,
		  size_t json_len, uint8_t out[JOURNAL_HASH_LEN])
{
	char head[24 + JOURNAL_HEX_LEN + 2];
	int n = snprintf(head, sizeof(head), "%" PRIu64 " ", seq);
	unsigned int outlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	hex_encode(prev, JOURNAL_HASH_LEN, head + n);
	head[n + JOURNAL_HEX_LEN] = ' ';
	/* An allocation failure leaves a hash that verifies nothing: the chain
	 * then reports the record as broken rather than passing it. */
	memset(out, 0, JOURNAL_HASH_LEN);
	if (ctx == NULL)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, head, (size_t)n + JOURNAL_HEX_LEN + 1) != 1 ||
	    EVP_DigestUpdate(ctx, json, json_len) != 1 || EVP_DigestFinal_ex(ctx, out, &outlen) != 1)
		memset(out, 0, JOURNAL_HASH_LEN);
	EVP_MD_CTX_free(ctx);
}

/* ------------------------------------------------------------ reader */

struct journal_reader {
	int fd;
	char *buf;
	size_t start, end;  /* unread bytes are buf[start..end) */
	uint64_t buf_off;   /* file offset of buf[0] */
	uint64_t line;      /* number of the next line */
	bool skipping;      /* discarding the rest of an over-long line */
	uint64_t anchor_seq;
	uint8_t anchor_hash[JOURNAL_HASH_LEN];
};

/* Reads more; 1 when bytes came, 0 at end of file, <0 error. */
static int reader_fill(struct journal_reader *r)
{
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->buf_off += r->start;
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == JOURNAL_READ_BUF)
		return 1; /* full: the caller copes (over-long line) */
	do
		n = pread(r->fd, r->buf + r->end, JOURNAL_READ_BUF - r->end,
			  (off_t)(r->buf_off + r->end));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return journal_from_errno(errno);
	r->end += (size_t)n;
	return n > 0;
}

/* The next whole line (newline included) or why not. */
static int reader_line(struct journal_reader *r, const char **line, size_t *len, uint64_t *off)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		int rv;

		if (nl != NULL) {
			*line = r->buf + r->start;
			*len = (size_t)(nl - *line) + 1;
			*off = r->buf_off + r->start;
			r->start += *len;
			r->line++;
			if (r->skipping) {
				r->skipping = false;
				continue;
			}
			return 1;
		}
		if (r->end - r->start >= JOURNAL_MAX_LINE) {
			*off = r->buf_off + r->start;
			r->start = r->end;
			if (r->skipping)
				continue;
			r->skipping = true;
			return JOURNAL_EFORMAT;
		}
		rv = reader_fill(r);
		if (rv < 0)
			return rv;
		if (rv == 0) {
			*off = r->buf_off + r->start;
			return r->start == r->end ? 0 : JOURNAL_ETORN;
		}
	}
}

static int parse_header(struct journal_reader *r, const char *p, size_t len)
{
	const char *end = p + len - 1; /* before the newline */
	size_t m = strlen(JOURNAL_MAGIC);

	if (len < m + 1 || memcmp(p, JOURNAL_MAGIC, m) != 0 || p[m] != ' ')
		return -1;
	p += m + 1;
	if (parse_u64(&p, end, &r->anchor_seq) != 0 || p >= end || *p++ != ' ')
		return -1;
	if (end - p != JOURNAL_HEX_LEN || hex_decode(p, r->anchor_hash) != 0)
		return -1;
	return 0;
}

int journal_reader_open(const char *path, struct journal_reader **out, char *why, size_t whylen)
{
	struct journal_reader *r = NULL;
	const char *line;
	size_t len;
	uint64_t off;
	int rv;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r != NULL)
		r->fd = -1;
	if (r == NULL || (r->buf = malloc(JOURNAL_READ_BUF)) == NULL) {
		rv = JOURNAL_ENOMEM;
		say(why, whylen, "%s: out of memory", path);
		goto out;
	}
	r->fd = -1;
	r->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (r->fd < 0) {
		rv = journal_from_errno(errno);
		say(why, whylen, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	r->line = 1;
	rv = reader_line(r, &line, &len, &off);
	if (rv == 1 && parse_header(r, line, len) == 0) {
		rv = JOURNAL_OK;
	} else if (rv == 0 || rv == JOURNAL_ETORN) {
		rv = JOURNAL_ETORN;
		say(why, whylen, "%s: line 1: no complete header (an empty or torn journal)", path);
	} else if (rv < 0 && rv != JOURNAL_EFORMAT) {
		say(why, whylen, "%s: cannot read: %s", path, strerror(errno));
	} else {
		rv = JOURNAL_EFORMAT;
		say(why, whylen, "%s: line 1: not a garde journal (the header must be '"
			JOURNAL_MAGIC " SEQ HASH')", path);
	}
out:
	if (rv != JOURNAL_OK) {
		journal_reader_close(r);
		return rv;
	}
	*out = r;
	return JOURNAL_OK;
}

void journal_reader_close(struct journal_reader *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r);
}

uint64_t journal_reader_anchor(const struct journal_reader *r, uint8_t hash[JOURNAL_HASH_LEN])
{
	if (hash != NULL)
		memcpy(hash, r->anchor_hash, JOURNAL_HASH_LEN);
	return r->anchor_seq;
}

void journal_reader_seek(struct journal_reader *r, uint64_t offset, uint64_t line)
{
	r->buf_off = offset;
	r->start = r->end = 0;
	r->line = line;
	r->skipping = false;
}

static int parse_record(const char *p, size_t len, struct journal_record *rec)
{
	const char *end = p + len - 1; /* the newline */

	if (memchr(p, '\0', len) != NULL)
		return -1;
	if (parse_u64(&p, end, &rec->seq) != 0 || rec->seq == 0 || p >= end || *p++ != ' ')
		return -1;
	if (end - p < 2 * (JOURNAL_HEX_LEN + 1) + 1)
		return -1;
	if (hex_decode(p, rec->prev) != 0 || p[JOURNAL_HEX_LEN] != ' ')
		return -1;
	p += JOURNAL_HEX_LEN + 1;
	if (hex_decode(p, rec->hash) != 0 || p[JOURNAL_HEX_LEN] != ' ')
		return -1;
	p += JOURNAL_HEX_LEN + 1;
	rec->json = p;
	rec->json_len = (size_t)(end - p);
	if (rec->json_len == 0 || rec->json_len > JOURNAL_MAX_JSON || memchr(p, '\r', rec->json_len))
		return -1;
	return 0;
}

int journal_reader_next(struct journal_reader *r, struct journal_record *rec)
{
	const char *line = NULL;
	size_t len = 0;
	uint64_t off = 0;
	int rv;

	memset(rec, 0, sizeof(*rec));
	rec->line = r->line;
	rv = reader_line(r, &line, &len, &off);
	rec->offset = off;
	if (rv != 1)
		return rv;
	rec->line_len = len;
	if (parse_record(line, len, rec) != 0) {
		rec->offset = off;
		return JOURNAL_EFORMAT;
	}
	rec->offset = off;
	return 1;
}

/* ------------------------------------------------------------ verify */

int journal_verify(const char *path, struct journal_verify *v, char *why, size_t whylen)
{
	struct journal_reader *r = NULL;
	struct journal_record rec;
	uint8_t prev[JOURNAL_HASH_LEN], h[JOURNAL_HASH_LEN];
	uint64_t want;
	int rv;

	memset(v, 0, sizeof(*v));
	rv = journal_reader_open(path, &r, why, whylen);
	if (rv != JOURNAL_OK)
		return rv;
	v->anchor_seq = journal_reader_anchor(r, prev);
	want = v->anchor_seq + 1;
	for (;;) {
		rv = journal_reader_next(r, &rec);
		if (rv == 0)
			break;
		v->broken_line = rec.line;
		v->broken_offset = rec.offset;
		v->broken_seq = want;
		if (rv == JOURNAL_ETORN) {
			v->broken = true;
			say(v->why, sizeof(v->why), "the file ends inside a record (a torn write; "
			    "the agent cuts it off when it next starts)");
			break;
		}
		if (rv == JOURNAL_EFORMAT) {
			v->broken = true;
			say(v->why, sizeof(v->why), "the line is not a journal record");
			break;
		}
		if (rv < 0) {
			say(why, whylen, "%s: read error: %s", path, strerror(errno));
			goto out;
		}
		v->broken_seq = rec.seq;
		if (rec.seq != want) {
			v->broken = true;
			if (rec.seq > want)
				say(v->why, sizeof(v->why), "sequence jumps from %" PRIu64 " to %" PRIu64
				    ": %" PRIu64 " record(s) deleted", want - 1, rec.seq, rec.seq - want);
			else
				say(v->why, sizeof(v->why), "sequence goes back from %" PRIu64 " to %"
				    PRIu64 ": a record was copied or moved", want - 1, rec.seq);
			break;
		}
		journal_hash(rec.seq, rec.prev, rec.json, rec.json_len, h);
		if (CRYPTO_memcmp(h, rec.hash, JOURNAL_HASH_LEN) != 0) {
			v->broken = true;
			say(v->why, sizeof(v->why), "the record's hash does not match its content: "
			    "the record was edited");
			break;
		}
		if (CRYPTO_memcmp(prev, rec.prev, JOURNAL_HASH_LEN) != 0) {
			v->broken = true;
			say(v->why, sizeof(v->why), "the record does not chain to the one before "
			    "(that one was edited or replaced)");
			break;
		}
		memcpy(prev, rec.hash, JOURNAL_HASH_LEN);
		if (v->first_seq == 0)
			v->first_seq = rec.seq;
		v->last_seq = rec.seq;
		v->records++;
		want++;
	}
	if (!v->broken)
		v->broken_line = v->broken_offset = v->broken_seq = 0;
	rv = JOURNAL_OK;
out:
	journal_reader_close(r);
	return rv;
}

/* ------------------------------------------------------------ writer */

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

	hex_encode(hash, JOURNAL_HASH_LEN, out + n);
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
		say(note, notelen, "%s: torn header rewritten (a crash while the journal was created)",
		    j->path);
		return 1;
	}
	if (rv != JOURNAL_OK)
		return rv;
	j->anchor_seq = j->last_seq = journal_reader_anchor(r, j->last_hash);
	j->header_len = r->buf_off + r->start;
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
			say(why, whylen, "%s:%" PRIu64 ": not a journal record; the journal is damaged: "
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
				say(why, whylen, "%s: cannot cut off its torn tail: %s", j->path,
				    strerror(errno));
				goto out;
			}
			say(note, notelen, "%s:%" PRIu64 ": torn last record (%" PRIu64 " bytes at offset "
			    "%" PRIu64 ") cut off: a crash during a write; its event is still in the "
			    "spool and will be journaled again", j->path, bad ? bad_line : rec.line,
			    (uint64_t)st.st_size - cut, cut);
			j->size = cut;
			rv = JOURNAL_OK;
			goto out;
		}
		if (rv < 0) {
			say(why, whylen, "%s: read error: %s", j->path, strerror(errno));
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
	say(note, notelen, "%s", "");
	j = calloc(1, sizeof(*j));
	if (j == NULL || (j->path = strdup(path)) == NULL ||
	    (j->wbuf = malloc(JOURNAL_WRITE_BUF)) == NULL) {
		rv = JOURNAL_ENOMEM;
		say(why, whylen, "%s: out of memory", path);
		goto out;
	}
	j->fd = -1;
	rv = make_parent(path);
	if (rv != JOURNAL_OK) {
		say(why, whylen, "%s: cannot create its directory: %s", path, strerror(errno));
		goto out;
	}
	j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		rv = journal_from_errno(errno);
		say(why, whylen, "%s: cannot open: %s%s", path, strerror(errno),
		    errno == ELOOP ? " (a symbolic link: refused)" : "");
		goto out;
	}
	if (trust_check_fd(j->fd, 0) != TRUST_OK) {
		rv = JOURNAL_ETRUST;
		say(why, whylen, "%s: %s; it must be a regular file owned by root (or the agent's "
		    "user), mode 0600", path, journal_strerror(rv));
		goto out;
	}
	if (fstat(j->fd, &st) != 0) {
		rv = journal_from_errno(errno);
		say(why, whylen, "%s: %s", path, strerror(errno));
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
			say(why, whylen, "%s: cannot write its header: %s", path, strerror(errno));
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
	hex_encode(j->last_hash, JOURNAL_HASH_LEN, o);
	o += JOURNAL_HEX_LEN;
	*o++ = ' ';
	hex_encode(h, JOURNAL_HASH_LEN, o);
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
		say(why, whylen, "%s: write error: %s", j->path, strerror(errno));
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
		say(why, whylen, "%s:%" PRIu64 ": %s", j->path, rec.line, journal_strerror(rv));
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
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rv = journal_from_errno(errno);
		say(why, whylen, "%s: cannot create: %s", tmp, strerror(errno));
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
		say(why, whylen, "%s: cannot compact: %s", j->path, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	(void)fsync_parent(j->path);
	/* The new file is the journal now; the old fd goes with the old inode. */
	close(j->fd);
	j->fd = open(j->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (j->fd < 0) {
		rv = journal_from_errno(errno);
		say(why, whylen, "%s: cannot reopen after compaction: %s", j->path, strerror(errno));
		goto out;
	}
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
