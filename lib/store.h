/* store.h - per-user token and state records, per-source lockout records,
 * their locks, and trusted, atomic file access.
 *
 * Layout under the store directory DIR (created 0700 if missing; DIR and
 * every subdirectory must pass the DESIGN.md trust rules, subdirectories
 * only when others may enter DIR: see struct store in store.c):
 *
 *   DIR/users/<H>          the record of the user whose name hashes to H, which
 *                          is also that user's lock (flock)
 *   DIR/sources/<H>        the lockout record of the source address text hashing to H
 *   DIR/lock/source-<H3>   source locks, striped over 4096 files by the first
 *                          3 hex digits of H (one lock file per address would
 *                          let an IPv6 attacker fill the disk with them)
 *   DIR/lock/user-<H3>     the same for making a user's record where there is none
 *
 * H is the lower-case hex SHA-256 of the name: a user name never becomes a
 * path, a lookup opens exactly one record file whatever the number of
 * users, and no other user's file is read or written.
 *
 * Records are files of mode 0600 (a record readable by group or other is
 * refused: it holds a secret). A record file holds two slots, A at offset 0
 * and B at offset STORE_RECORD_MAX, each a STORE_SLOT_HDR-byte header
 *
 *   garde-slot SEQ LEN SHA256\n     (SEQ 20 digits, LEN 10 digits, padded
 *                                     with spaces to STORE_SLOT_HDR bytes)
 *
 * followed by LEN bytes of the text of store_record.c (at most
 * STORE_TEXT_MAX). SHA256 is the hex digest of the header up to and
 * including the space before it, then the text: it binds the sequence
 * number and the length to the text. The valid slot (digest right, text
 * parses) with the larger SEQ is the record; both invalid: STORE_ECORRUPT.
 * The framing is in store_slot.c (store_slot.h).
 *
 * A commit writes SEQ + 1 into the other slot with one pwrite (no rename,
 * no truncation), so a crash or a torn write can only damage the slot being
 * written and the previous state is read back. A new record file is written
 * to a temporary file and renamed into place (0600, O_EXCL), so that a
 * reader never sees it half-written; enrollment always writes a new file
 * (see store_enroll). store_peek_user/store_peek_source read without the
 * lock, which the checksummed slots make safe: a slot being written is
 * skipped.
 *
 * Locking: store_lock_user() takes an exclusive flock() on the user's
 * record itself and then reads it; the lock is held until store_unlock(),
 * so read-verify-update-commit is atomic against every other garde
 * process. The kernel drops the lock if the process dies. A record is
 * replaced (a new file renamed over it) or removed only by a holder of its
 * lock, and a new file is locked before it takes the name: a waiter that
 * gets the lock of a file no longer linked opens the name again. Where
 * there is no record, the user's stripe lock (lock/user-H3) is taken
 * instead, so that two writers cannot both make one. The fd of the last
 * record peeked is kept by the store and is the one locked, which saves a
 * login an open. Sources are locked by their stripe (lock/source-H3).
 * Never hold a lock across a PAM conversation (a user typing slowly would
 * block their other logins): lock, reserve/check, commit, unlock; prompt;
 * lock again to verify. A process must not lock a user it holds locked
 * already (flock on a second open of the file waits for the first), nor
 * fork while holding a lock (the child would share it).
 *
 * A user without a record gets no file (a stripe lock file is shared by
 * the names hashing to it): guessed names do not fill the store. */
#ifndef GARDE_STORE_H
#define GARDE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lockout.h"
#include "otp.h"
#include "policy.h"
#include "source.h"

#define STORE_DEFAULT_DIR "/var/lib/garde"
#define STORE_RECORD_MAX (64u * 1024) /* bytes of one slot; a record file holds two */
#define STORE_SLOT_HDR 128u            /* bytes of a slot's header */
#define STORE_TEXT_MAX (STORE_RECORD_MAX - STORE_SLOT_HDR) /* bytes of a record's text */
#define STORE_USER_MAX 1024           /* bytes of a user name */
#define STORE_NAME_MAX 128            /* bytes of a zone or class name */
#define STORE_SOURCE_MAX 64           /* bytes of a source address or prefix text */
#define STORE_MAX_ZONES 16            /* lockout slots per user */
#define STORE_MAX_REMEMBER 32         /* remembered (source, class) pairs per user */
#define STORE_MAX_HISTORY 64          /* networks seen per user */
#define STORE_HASH_HEX 65             /* 64 hex digits and a NUL */
/* Scratch (emergency) codes, as google-authenticator keeps them. Only a
 * PBKDF2-HMAC-SHA256 hash of each is stored, under one random salt per
 * record: a backup or a stray `grep` of the store never shows a usable
 * code. The iteration count is recorded with the salt so that it can be
 * raised later without a format change; it is capped because the module
 * pays one derivation per scratch code tried. */
#define STORE_MAX_SCRATCH 10
#define STORE_SCRATCH_SALT 16          /* bytes */
#define STORE_SCRATCH_HASH 32          /* bytes (SHA-256) */
#define STORE_SCRATCH_ITER 10000       /* iterations written by store_scratch_prepare */
#define STORE_SCRATCH_ITER_MAX 1000000 /* a record asking for more is corrupt */
#define STORE_SCRATCH_CODE_MAX 16      /* digits of one code */
/* history_add refreshes the time of a network already seen at most this
 * often, so that a client reconnecting all day does not rewrite the record
 * on every login; it shortens the ttl by at most this much. */
#define STORE_HISTORY_REFRESH 3600
/* App passwords (store_apppw.c): a random password that stands for the
 * whole credential of one class of services (mail clients that cannot send
 * a code). Only a salted scrypt hash is stored, with its parameters, so
 * that they can be raised for new passwords without a format change. The
 * module derives one hash per app password of the user at each login that
 * presents one, so both the count and the cost are capped. */
#define STORE_MAX_APPPW 16
#define STORE_APPPW_ID 8           /* hex digits of an app password's id */
#define STORE_APPPW_LABEL_MAX 64   /* bytes of a label */
#define STORE_APPPW_SALT 16        /* bytes */
#define STORE_APPPW_HASH 32        /* bytes */
#define STORE_APPPW_CHARS 24       /* random characters, 5 bits each: 120 bits */
#define STORE_APPPW_GROUP 4        /* shown in groups of 4, joined by '-' */
#define STORE_APPPW_TEXT (STORE_APPPW_CHARS + STORE_APPPW_CHARS / STORE_APPPW_GROUP - 1)
/* scrypt N = 2^13, r = 8, p = 1: 8 MiB and 15-40 ms per derivation on
 * current x86-64 servers. The limits refuse a record that would make a
 * login derive with more than 64 MiB or for seconds. */
#define STORE_APPPW_LOG2N 13
#define STORE_APPPW_R 8
#define STORE_APPPW_P 1
#define STORE_APPPW_LOG2N_MAX 20
#define STORE_APPPW_R_MAX 32
#define STORE_APPPW_P_MAX 4
#define STORE_APPPW_MEM_MAX (64u * 1024 * 1024) /* bytes: 128 * r * N */

enum store_error {
	STORE_OK = 0,
	STORE_ENOENT = -1,     /* no record: the user is not enrolled / the file is missing */
	STORE_ESYMLINK = -2,   /* refused: a symbolic link */
	STORE_ETYPE = -3,      /* refused: not a regular file / directory */
	STORE_EOWNER = -4,     /* refused: owned by another user than root or the euid */
	STORE_EMODE = -5,      /* refused: writable by group/other (a record: accessible at all) */
	STORE_ECORRUPT = -6,   /* neither slot of the record is valid, or the file is oversize */
	STORE_EWRONGUSER = -7, /* the record names another user than the one asked for */
	STORE_EEXIST = -8,     /* enroll: the user already has a token (use force) */
	STORE_EINVAL = -9,     /* bad argument: empty or oversize name, bad token */
	STORE_ENOMEM = -10,
	STORE_EIO = -11,       /* any other system error */
	STORE_EFULL = -12,     /* the user has STORE_MAX_APPPW app passwords already */
};

const char *store_strerror(int err);

/* true for the refusals of the trust rules (symlink, type, owner, mode):
 * the module logs them as an unsafe store, not as a missing one. */
bool store_error_is_unsafe(int err);

struct store_zone {
	char name[STORE_NAME_MAX + 1];
	struct lockout_slot slot;
};

struct store_remember {
	char source[STORE_SOURCE_MAX + 1];   /* source_format() text */
	char class_name[STORE_NAME_MAX + 1];
	int64_t expires;                     /* UTC seconds */
	uint64_t factor; /* the TOTP step / HOTP counter accepted from there, 0 = unknown */
};

struct store_seen {
	char prefix[STORE_SOURCE_MAX + 1]; /* "192.0.2.0/24", "2001:db8::/64" or "local" */
	int64_t last_seen;                 /* UTC seconds */
};

/* A record's scratch codes: n hashes under one salt (n == 0: none). */
struct store_scratch {
	uint32_t iterations;
	uint8_t salt[STORE_SCRATCH_SALT];
	size_t n;
	uint8_t hash[STORE_MAX_SCRATCH][STORE_SCRATCH_HASH];
};

/* One app password. expires and last_used are 0 for never. */
struct store_apppw {
	char id[STORE_APPPW_ID + 1];            /* lower-case hex, unique in the record */
	char class_name[STORE_NAME_MAX + 1];
	char label[STORE_APPPW_LABEL_MAX + 1];  /* "" for none */
	int64_t created, expires, last_used;
	char last_source[STORE_SOURCE_MAX + 1]; /* "" until used */
	unsigned log2_n, r, p;                  /* scrypt parameters of this hash */
	uint8_t salt[STORE_APPPW_SALT];
	uint8_t hash[STORE_APPPW_HASH];
};

/* One user's record. A record may exist without a token (lockout or
 * history state of a user who never enrolled): has_token says. */
struct store_record {
	char user[STORE_USER_MAX + 1];
	bool has_token;
	struct otp_token token;  /* HOTP: token.counter is the next acceptable counter */
	uint64_t last_step;      /* TOTP: last accepted step, 0 = none */
	int64_t created;         /* UTC seconds of enrollment */
	int64_t last_success;    /* UTC seconds of the last accepted code, 0 = never */
	struct store_scratch scratch; /* only with a token; replaced with it */
	size_t n_zones;
	struct store_zone zones[STORE_MAX_ZONES];
	size_t n_remember;
	struct store_remember remember[STORE_MAX_REMEMBER];
	size_t n_history;
	struct store_seen history[STORE_MAX_HISTORY];
	size_t n_apppw;
	struct store_apppw apppw[STORE_MAX_APPPW];
};

struct store;        /* an open store directory */
struct store_handle; /* a held lock and the record it protects */

/* Opens DIR, creating it 0700 when missing (not its parents), and checks it
 * with the trust rules: two system calls when it exists. Subdirectories are
 * checked on first use (and created by the functions that write), so a
 * login only pays for the ones it touches. */
int store_open(const char *dir, struct store **out);
void store_close(struct store *st);

/* The same for a process that runs many logins (the PAM module): the
 * directory is kept open between them and each open is a duplicate checked
 * with one fstat; the path is looked up again at most once a second
 * (store_root.c). The store's descriptor is then O_PATH: store_sync() is
 * not for it. */
int store_open_kept(const char *dir, struct store **out);

/* The store directory, open and checked (for files kept beside the
 * records, such as the policy snapshot). Owned by st. */
int store_dirfd(const struct store *st);

/* hex = lower-case hex SHA-256 of name (len bytes). */
void store_name_hash(const char *name, size_t len, char hex[STORE_HASH_HEX]);

/* Locks user and reads the record. *out is set on STORE_OK only. A missing
 * record is not an error: store_exists() is false and the record is empty
 * but for the user name (has_token false). Any refused or corrupt record is
 * an error and nothing is locked. */
int store_lock_user(struct store *st, const char *user, struct store_handle **out);

/* Locks the source address text (source_format() output) and reads its
 * lockout record (a zeroed slot when there is none). */
int store_lock_source(struct store *st, const char *source_text, struct store_handle **out);

/* A record file was there when the lock was taken. */
bool store_exists(const struct store_handle *h);

/* The record under a user lock (NULL for a source handle). The caller may
 * change it freely; nothing reaches the disk before store_commit(). */
struct store_record *store_record(struct store_handle *h);

/* The lockout slot under a source lock (NULL for a user handle). */
struct lockout_slot *store_source_slot(struct store_handle *h);

/* For the CLI's changes to app passwords: writes the record as a new file
 * renamed over the old one, with fsync of the file and the directory, so
 * that a revoked password's hash does not survive in the other slot and a
 * revocation is not lost to a crash. The lock stays held. */
int store_commit_sync(struct store_handle *h);

/* Writes the record into its other slot (a new record: a new file, renamed
 * into place). No fsync on the login path: see the comment at
 * store_commit_mode() in store.c; a commit that uses up a scratch code is
 * the exception and is synced. Commit only when something changed: the
 * helpers below say when they changed nothing. The lock stays held. */
int store_commit(struct store_handle *h);

/* Removes the record under the lock; the handle can then write nothing. */
int store_delete(struct store_handle *h);

/* Releases the lock, wipes the record (secret included) and frees h. NULL ok. */
void store_unlock(struct store_handle *h);

/* Reads user's record WITHOUT the lock, for checks that decide nothing by
 * themselves (is the user enrolled, locked out in this zone, remembered?):
 * whatever changes them is done again under store_lock_user(), because
 * the record may change right after the peek (and a peek racing commits
 * may return the record as it was before the last of them, never older:
 * see store_slot_read). Creates
 * nothing (no directory, no lock file, no record). STORE_ENOENT when there
 * is no record; the other errors as store_lock_user(). *out is set on
 * STORE_OK only; it holds the secret: store_record_wipe() it. */
int store_peek_user(struct store *st, const char *user, struct store_record *out);

/* The same for a source's lockout record: *out is set on STORE_OK only. */
int store_peek_source(struct store *st, const char *source_text, struct lockout_slot *out);

/* Wipes the secret parts of a record (token, scratch-code hashes) cheaply. */
void store_record_wipe(struct store_record *rec);

/* Empties a record: its fixed part and the counts of its lists. The
 * entries past each count are never read and each is cleared when it is
 * added, so the lists (20 KiB) are not zeroed: that was a visible share of
 * a login's cost. */
void store_record_clear(struct store_record *rec);

/* For the CLI: gives user the token (counter, last step and success time
 * reset; lockout, remember and history state kept). A user who already has a
 * token is refused with STORE_EEXIST unless force. Always written as a new
 * file renamed over the old one, so the replaced secret does not linger in
 * the other slot; with fsync of the file and the directory: losing an
 * enrollment to a crash would lock the user out. */
int store_enroll(struct store *st, const char *user, const struct otp_token *tok, bool force,
		 int64_t now);

/* store_enroll with more: the scratch codes that come with the token
 * (NULL: none; any codes of the replaced token are dropped either way), and
 * batch: skip the two fsyncs per record. A bulk import (100,000 users from
 * a pam_oath file) sets batch and calls store_sync() once at the end: two
 * fsyncs per user would take minutes on a real disk. */
int store_enroll_with(struct store *st, const char *user, const struct otp_token *tok,
		      const struct store_scratch *scratch, bool force, bool batch, int64_t now);

/* Makes every record written through st durable (syncfs of the store's
 * file system). */
int store_sync(struct store *st);

/* For the CLI: deletes user's record, durably (the directory is synced).
 * STORE_ENOENT when there is none. */
int store_remove(struct store *st, const char *user);

/* --- helpers over a record (store_state.c); pure, no I/O --- */

/* The lockout slot of zone, or NULL when the record has none. */
const struct lockout_slot *store_zone_find(const struct store_record *rec, const char *zone);

/* The lockout slot of zone, created when missing. When all STORE_MAX_ZONES
 * are taken, an idle slot (lockout_is_idle) is reused first, else the one
 * whose lock or failures are oldest. NULL when zone is empty or too long. */
struct lockout_slot *store_zone_slot(struct store_record *rec, const char *zone,
				     const struct policy_lockout_slot *params, int64_t now);

/* true when (source, class_name) was remembered and has not expired at now. */
bool store_remember_check(const struct store_record *rec, const char *source,
			  const char *class_name, int64_t now);

/* Remembers (source, class_name) until expires. When full, an expired entry
 * is reused first, else the one expiring first. STORE_EINVAL on empty or
 * oversize text. */
int store_remember_add(struct store_record *rec, const char *source, const char *class_name,
		       int64_t expires, int64_t now);

/* store_remember_add that also records factor, the TOTP step (HOTP
 * counter) accepted from that source: a mail client that keeps sending the
 * password with the code it was set up with is recognised by it. */
int store_remember_add_factor(struct store_record *rec, const char *source,
			      const char *class_name, int64_t expires, int64_t now,
			      uint64_t factor);

/* The remembered entry of (source, class_name) that has not expired at
 * now, or NULL. */
const struct store_remember *store_remember_find(const struct store_record *rec,
						 const char *source, const char *class_name,
						 int64_t now);

/* The history key of src: its prefix_v4 / prefix_v6 network in CIDR text,
 * or "local". STORE_EINVAL for an unknown source (a host name has no
 * network: it is never "seen"). */
int store_history_prefix(const struct source *src, const struct policy_history *params,
			 char *buf, size_t len);

/* true when src's network had a successful login within ttl_days of now. */
bool store_history_seen(const struct store_record *rec, const struct source *src,
			const struct policy_history *params, int64_t now);

/* Records a successful login from src's network at now; entries past the
 * ttl are dropped, and when full the least recently seen is replaced.
 * *changed tells whether the record needs a commit (an entry refreshed less
 * than STORE_HISTORY_REFRESH ago is left alone). An unknown source is a
 * no-op. */
int store_history_add(struct store_record *rec, const struct source *src,
		      const struct policy_history *params, int64_t now, bool *changed);

/* --- scratch codes (store_scratch.c) --- */

/* Hashes n codes (each 1..STORE_SCRATCH_CODE_MAX ASCII digits) under a new
 * random salt into out. STORE_EINVAL on a bad code or n > STORE_MAX_SCRATCH,
 * STORE_EIO when the random generator or the KDF fails; out is wiped then. */
int store_scratch_prepare(struct store_scratch *out, const char *const *codes, size_t n);

/* Tries code (len bytes) against rec's scratch codes. On a match the code
 * is removed from rec (single use: the caller commits) and STORE_OK is
 * returned; STORE_ENOENT when none matches (or there are none). Every
 * stored hash is compared in constant time. */
int store_scratch_use(struct store_record *rec, const char *code, size_t len);

/* --- app passwords (store_apppw.c) --- */

/* The canonical form of an app password as typed: STORE_APPPW_CHARS
 * characters of the alphabet in groups of STORE_APPPW_GROUP, joined by '-'
 * or one space, either case. Writes the STORE_APPPW_CHARS lower-case
 * characters and a NUL into out and returns true when text (len bytes) has
 * that shape; false otherwise, quickly, without deriving anything. The shape
 * is what tells an app password from "password + code" in one field. */
bool store_apppw_shape(const char *text, size_t len, char out[STORE_APPPW_CHARS + 1]);

/* Gives rec a new app password for class_name: a random password (the
 * OpenSSL CSPRNG) written, grouped for typing, into password (cap >=
 * STORE_APPPW_TEXT + 1 bytes), a new id into id. label may be NULL or "";
 * expires is 0 for never. STORE_EFULL when rec has STORE_MAX_APPPW, STORE_EINVAL
 * on a bad class or label, STORE_EIO when the random generator or the KDF
 * fails. Only the hash is kept in rec; the caller commits, shows password
 * once and wipes it. */
int store_apppw_add(struct store_record *rec, const char *class_name, const char *label,
		    int64_t now, int64_t expires, char *password, size_t cap,
		    char id[STORE_APPPW_ID + 1]);

/* Derives canon (store_apppw_shape output) under every app password of rec,
 * each with its own salt and parameters, and compares each result in
 * constant time: the work is one derivation per app password whatever
 * matches (one when there are none, or rec is NULL for a user that has no
 * record, so that a user without any is not told apart by the time). STORE_OK with *index of the match, STORE_ENOENT when
 * none matches, STORE_EIO when the KDF fails. Class and expiry are the
 * caller's to check, so that it can say which of them refused. */
int store_apppw_match(const struct store_record *rec, const char *canon, size_t *index);

/* Removes the app password with this id (STORE_ENOENT when none has it). */
int store_apppw_revoke(struct store_record *rec, const char *id);

/* Removes every app password; returns how many there were. */
size_t store_apppw_revoke_all(struct store_record *rec);

/* --- the record text format (store_record.c) --- */

/* Serialises rec into buf. Returns the length (> 0) or a negative error. */
int store_record_format(const struct store_record *rec, char *buf, size_t cap);

/* Parses len bytes of text (no NUL needed) into rec. STORE_ECORRUPT on
 * anything but a well-formed record. */
int store_record_parse(const char *text, size_t len, struct store_record *rec);

/* The same for a source lockout record. */
int store_source_format(const char *source_text, const struct lockout_slot *slot, char *buf,
			size_t cap);
int store_source_parse(const char *text, size_t len, char source_text[STORE_SOURCE_MAX + 1],
		       struct lockout_slot *slot);

#endif
