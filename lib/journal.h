/* journal.h - the agent's append-only event journal with a hash chain.
 *
 * Format (text, one line each, '\n'-terminated; documented in garde.8):
 *
 *   garde-journal 1 ANCHOR-SEQ ANCHOR-HASH          first line, the header
 *   SEQ PREV-HASH HASH JSON                         one line per event
 *
 * SEQ is decimal, 1 + the previous record's (the first record after the
 * header has ANCHOR-SEQ + 1). The hashes are 64 lower-case hex digits.
 * HASH = SHA-256 of the bytes "SEQ PREV-HASH JSON" (the record line without
 * its HASH field and its newline), PREV-HASH is the HASH of the record
 * before, and the first record's PREV-HASH is ANCHOR-HASH. So
 *   printf '%s %s %s' SEQ PREV JSON | sha256sum
 * checks one record by hand.
 *
 * A new journal has anchor 0 and 64 zeros. Compaction (journal_trim) removes
 * records from the head and writes the last removed record's SEQ and HASH as
 * the new anchor, in a whole new file renamed over the old one: the chain of
 * what is left still verifies, and the header says where it starts. Editing,
 * inserting or removing a record anywhere after the anchor breaks the chain
 * at that point. What a hash chain without a key cannot show, and `garde
 * report --verify` says so: records cut from the very end, and a head cut
 * whose anchor was rewritten to match (it reads as a compaction).
 *
 * Durability: journal_append writes whole lines with one write(2) each;
 * journal_sync fsyncs. The agent removes spool files only after
 * journal_sync, so a crash loses nothing; a torn last line (a crash inside
 * a write) is cut off by journal_open, and its event is still in the spool.
 *
 * Single writer: the agent. Readers (the agent's sinks, `garde report`) use
 * their own fds and never lock. A reader that must not be able to write
 * (the unprivileged worker of `garde-agent run`) is handed a descriptor
 * from journal_open_rdonly instead of the path. */
#ifndef GARDE_JOURNAL_H
#define GARDE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_HASH_LEN 32
#define JOURNAL_HEX_LEN 64
#define JOURNAL_MAX_JSON 4096      /* bytes of one event (EVENT_MAX_BYTES) */
#define JOURNAL_MAX_LINE 4400      /* a record line: JSON + seq + 2 hashes + spaces */
#define JOURNAL_MAGIC "garde-journal 1"

enum journal_error {
	JOURNAL_OK = 0,
	JOURNAL_EINVAL = -1,  /* bad argument: JSON empty, too long, or with a newline / NUL */
	JOURNAL_EIO = -2,     /* system error (errno kept) */
	JOURNAL_EFORMAT = -3, /* a line that is not a record (or a bad header) */
	JOURNAL_ETORN = -4,   /* the file ends inside a line (a crash during a write) */
	JOURNAL_ETRUST = -5,  /* symbolic link, not a regular file, wrong owner, or group/other-writable */
	JOURNAL_ENOMEM = -6,
	JOURNAL_ENOSPC = -7,
	JOURNAL_EBUSY = -8,   /* another process (a running agent) holds the journal */
};

const char *journal_strerror(int err);

struct journal_record {
	uint64_t seq;
	uint64_t offset; /* of the line in the file */
	uint64_t line;   /* 1-based line number (the header is line 1) */
	size_t line_len; /* newline included */
	uint8_t prev[JOURNAL_HASH_LEN];
	uint8_t hash[JOURNAL_HASH_LEN];
	const char *json; /* not NUL-terminated; valid until the next call */
	size_t json_len;
};

/* ---- reading (agent sinks, garde report) ---- */

struct journal_reader;

/* Opens and reads the header. Does not create. why gets "PATH: reason". */
int journal_reader_open(const char *path, struct journal_reader **out, char *why, size_t whylen);
/* The same over an fd opened elsewhere (the agent's worker gets a read-only
 * one from its privileged side and cannot open the path); the reader owns
 * fd from now on, closed on every path. name is only for messages. */
int journal_reader_fdopen(int fd, const char *name, struct journal_reader **out, char *why,
			  size_t whylen);
void journal_reader_close(struct journal_reader *r);
/* The header's anchor. */
uint64_t journal_reader_anchor(const struct journal_reader *r, uint8_t hash[JOURNAL_HASH_LEN]);
/* Continues at a record's offset and line number (from journal_record). */
void journal_reader_seek(struct journal_reader *r, uint64_t offset, uint64_t line);
/* 1 and *rec, 0 at the end of the file (a later call sees later appends),
 * JOURNAL_ETORN when the file ends inside a line, JOURNAL_EFORMAT for a line
 * that does not parse (rec->offset and rec->line say where), or another
 * negative error. Hashes are parsed, not checked: see journal_verify. */
int journal_reader_next(struct journal_reader *r, struct journal_record *rec);

/* SHA-256 of "SEQ PREV-HEX JSON". */
void journal_hash(uint64_t seq, const uint8_t prev[JOURNAL_HASH_LEN], const char *json,
		  size_t json_len, uint8_t out[JOURNAL_HASH_LEN]);

struct journal_verify {
	uint64_t records;    /* records that verified before the break (or all) */
	uint64_t anchor_seq; /* from the header */
	uint64_t first_seq, last_seq; /* of the records read; 0 when none */
	bool broken;
	uint64_t broken_line, broken_offset, broken_seq;
	char why[160];       /* what is wrong at the break */
};

/* Walks the whole chain. 0 with v->broken telling the outcome, or a
 * negative error when the file cannot be read at all (why says). */
int journal_verify(const char *path, struct journal_verify *v, char *why, size_t whylen);

/* ---- writing (the agent) ---- */

struct journal;

/* Opens (creating mode 0600 with its header when missing) and scans the
 * journal. A torn last line is truncated away and described in note
 * (empty otherwise); any other bad line refuses the open. The writer holds
 * an exclusive flock(2) on the file for as long as it is open: a second
 * writer gets JOURNAL_EBUSY and must not touch the file. */
int journal_open(const char *path, struct journal **out, char *note, size_t notelen, char *why,
		 size_t whylen);
void journal_close(struct journal *j);

/* Appends one record (JSON: one line, no NUL, 1..JOURNAL_MAX_JSON bytes).
 * Not durable until journal_sync. Returns 0 and the new record's seq. */
int journal_append(struct journal *j, const char *json, size_t len, uint64_t *seq);
int journal_sync(struct journal *j);

uint64_t journal_last_seq(const struct journal *j);   /* anchor when empty */
uint64_t journal_anchor_seq(const struct journal *j);
uint64_t journal_size(const struct journal *j);        /* bytes, header included */
uint64_t journal_header_len(const struct journal *j);  /* offset of the first record */
const char *journal_path(const struct journal *j);
/* A new O_RDONLY descriptor of the journal's current file (the same inode
 * as the writer's, checked): for a reader in a less trusted process. After
 * journal_trim the file is a new one and needs a new descriptor. An fd, or
 * a negative enum journal_error. */
int journal_open_rdonly(const struct journal *j);

struct journal_trim {
	uint64_t removed;   /* records removed */
	uint64_t upto_seq;  /* the new anchor (last removed seq) */
	int64_t shift;      /* a kept record's new offset = old offset - shift */
};

/* Removes records from the head, none past max_seq, until at least
 * want_bytes are gone (or max_seq is reached); atomically (new file,
 * fsync, rename). Nothing to remove is not an error (res->removed = 0). */
int journal_trim(struct journal *j, uint64_t max_seq, uint64_t want_bytes,
		 struct journal_trim *res, char *why, size_t whylen);

#endif
