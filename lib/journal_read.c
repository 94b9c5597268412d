/* journal_read.c - reading and verifying the journal, and the helpers the
 * writer (journal.c) shares; the format is in journal.h. */
#define _GNU_SOURCE /* pread */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "journal_internal.h"

#define JOURNAL_READ_BUF 65536

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
	case JOURNAL_EBUSY: return "the journal is in use by another garde-agent";
	default: return "journal I/O error";
	}
}

int journal_from_errno(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT: return JOURNAL_ENOSPC;
	case ENOMEM: return JOURNAL_ENOMEM;
	case ELOOP: return JOURNAL_ETRUST;
	default: return JOURNAL_EIO;
	}
}

void journal_say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void journal_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

/* Exactly 64 lower-case hex digits: one spelling per hash, so that the
 * hashed text of the next record is unambiguous. */
int journal_hex_decode(const char *in, uint8_t *out)
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

	journal_hex_encode(prev, JOURNAL_HASH_LEN, head + n);
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
	if (end - p != JOURNAL_HEX_LEN || journal_hex_decode(p, r->anchor_hash) != 0)
		return -1;
	return 0;
}

int journal_reader_open(const char *path, struct journal_reader **out, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	*out = NULL;
	if (fd < 0) {
		int rv = journal_from_errno(errno);
		journal_say(why, whylen, "%s: cannot open: %s", path, strerror(errno));
		return rv;
	}
	return journal_reader_fdopen(fd, path, out, why, whylen);
}

int journal_reader_fdopen(int fd, const char *name, struct journal_reader **out, char *why,
			  size_t whylen)
{
	struct journal_reader *r = NULL;
	const char *line;
	size_t len;
	uint64_t off;
	int rv;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->buf = malloc(JOURNAL_READ_BUF)) == NULL) {
		free(r);
		close(fd);
		journal_say(why, whylen, "%s: out of memory", name);
		return JOURNAL_ENOMEM;
	}
	r->fd = fd;
	r->line = 1;
	rv = reader_line(r, &line, &len, &off);
	if (rv == 1 && parse_header(r, line, len) == 0) {
		rv = JOURNAL_OK;
	} else if (rv == 0 || rv == JOURNAL_ETORN) {
		rv = JOURNAL_ETORN;
		journal_say(why, whylen, "%s: line 1: no complete header (an empty or torn journal)", name);
	} else if (rv < 0 && rv != JOURNAL_EFORMAT) {
		journal_say(why, whylen, "%s: cannot read: %s", name, strerror(errno));
	} else {
		rv = JOURNAL_EFORMAT;
		journal_say(why, whylen, "%s: line 1: not a garde journal (the header must be '"
			JOURNAL_MAGIC " SEQ HASH')", name);
	}
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
	if (journal_hex_decode(p, rec->prev) != 0 || p[JOURNAL_HEX_LEN] != ' ')
		return -1;
	p += JOURNAL_HEX_LEN + 1;
	if (journal_hex_decode(p, rec->hash) != 0 || p[JOURNAL_HEX_LEN] != ' ')
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
			journal_say(v->why, sizeof(v->why), "the file ends inside a record (a torn write; "
			    "the agent cuts it off when it next starts)");
			break;
		}
		if (rv == JOURNAL_EFORMAT) {
			v->broken = true;
			journal_say(v->why, sizeof(v->why), "the line is not a journal record");
			break;
		}
		if (rv < 0) {
			journal_say(why, whylen, "%s: read error: %s", path, strerror(errno));
			goto out;
		}
		v->broken_seq = rec.seq;
		if (rec.seq != want) {
			v->broken = true;
			if (rec.seq > want)
				journal_say(v->why, sizeof(v->why), "sequence jumps from %" PRIu64 " to %" PRIu64
				    ": %" PRIu64 " record(s) deleted", want - 1, rec.seq, rec.seq - want);
			else
				journal_say(v->why, sizeof(v->why), "sequence goes back from %" PRIu64 " to %"
				    PRIu64 ": a record was copied or moved", want - 1, rec.seq);
			break;
		}
		journal_hash(rec.seq, rec.prev, rec.json, rec.json_len, h);
		if (CRYPTO_memcmp(h, rec.hash, JOURNAL_HASH_LEN) != 0) {
			v->broken = true;
			journal_say(v->why, sizeof(v->why), "the record's hash does not match its content: "
			    "the record was edited");
			break;
		}
		if (CRYPTO_memcmp(prev, rec.prev, JOURNAL_HASH_LEN) != 0) {
			v->broken = true;
			journal_say(v->why, sizeof(v->why), "the record does not chain to the one before "
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

uint64_t journal_reader_offset(const struct journal_reader *r)
{
	return r->buf_off + r->start;
}
