/* store.c - the store directory, locks, and records kept in two checksummed
 * slots written in place (see store.h). */
#define _GNU_SOURCE /* syncfs */
#include "store.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "store_root.h"
#include "store_slot.h"
#include "trust.h"

enum store_dir_id {
	STORE_DIR_USERS,
	STORE_DIR_SOURCES,
	STORE_DIR_LOCK,
	STORE_N_DIRS,
};

static const char *const store_dir_names[STORE_N_DIRS] = { "users", "sources", "lock" };

/* Subdirectories are not opened: their entries are opened by a path
 * relative to root_fd ("users/H"). Only root or the euid can change what
 * "users" is (root passed the trust rules), and each subdirectory is
 * checked once per store handle with one fstatat, so this is as safe as
 * holding an fd to it and costs a system call instead of three.
 *
 * When the root gives group and other no access at all (0700, as it is
 * made), nobody else can even reach a subdirectory, let alone change it:
 * checking them would cost a path lookup per login for nothing. They are
 * then made when a file is first created in them (store_create_at). */
enum store_kind { STORE_KIND_USER, STORE_KIND_SOURCE };

/* The last name hashed per kind (user, source): a login looks its user and
 * its source up twice, before the prompt and under the lock. */
struct store_hashed {
	size_t len; /* 0: none yet */
	char name[STORE_USER_MAX + 1];
	char hex[STORE_HASH_HEX];
};

struct store {
	int root_fd;
	bool private_root; /* the root's mode gives group and other nothing */
	unsigned checked;  /* bit per subdirectory that passed the trust rules */
	struct store_hashed hashed[2]; /* by enum store_kind */
	/* The user record the last peek opened (read-write when it could), for
	 * store_lock_user: a login then locks the very file it peeked at,
	 * without opening it again. -1: none. */
	int kept_fd;
	char kept_hash[STORE_HASH_HEX];
};

struct store_handle {
	struct store *st;
	enum store_kind kind;
	int lock_fd;           /* a stripe lock: a source's, or a user's while its record is made */
	int rec_fd;            /* the record, open read-write; -1 when there is none. A
				* user's record is flock()ed: it is the user's lock */
	bool exists;
	unsigned slot;         /* the slot the record was read from / last written to */
	uint64_t seq;          /* its sequence number */
	size_t scratch_read;   /* scratch codes when read: a commit that uses one syncs */
	char hash[STORE_HASH_HEX];
	char source_text[STORE_SOURCE_MAX + 1];
	struct lockout_slot source_slot;
	struct store_record rec;
};

/* "sources/.<64 hex>.tmp" and a NUL, with room to spare. */
#define STORE_PATH_MAX 96

/* A peek that finds both slots invalid reads again this many times: a slot
 * can be torn by a commit in progress, and a reader that sees one slot torn
 * and then the other (two commits back to back) is rare but possible. */
#define STORE_PEEK_TRIES 3

/* A user's record replaced this many times in a row while a login waited
 * for its lock is refused (STORE_EIO) rather than waited for forever. */
#define STORE_LOCK_TRIES 16

const char *store_strerror(int err)
{
	switch (err) {
	case STORE_OK: return "ok";
	case STORE_ENOENT: return "no record (not enrolled)";
	case STORE_ESYMLINK: return "refused: is a symbolic link";
	case STORE_ETYPE: return "refused: wrong file type";
	case STORE_EOWNER: return "refused: not owned by root or the current user";
	case STORE_EMODE: return "refused: permissions too open (records 0600, directories go-w)";
	case STORE_ECORRUPT: return "corrupt record";
	case STORE_EWRONGUSER: return "the record belongs to another user";
	case STORE_EEXIST: return "already enrolled (use --force to replace)";
	case STORE_EINVAL: return "invalid argument";
	case STORE_ENOMEM: return "out of memory";
	case STORE_EFULL: return "too many app passwords (revoke one first)";
	default: return "store I/O error";
	}
}

bool store_error_is_unsafe(int err)
{
	return err == STORE_ESYMLINK || err == STORE_ETYPE || err == STORE_EOWNER ||
	       err == STORE_EMODE;
}

static int store_from_trust(int err)
{
	switch (err) {
	case TRUST_OK: return STORE_OK;
	case TRUST_ENOENT: return STORE_ENOENT;
	case TRUST_ESYMLINK: return STORE_ESYMLINK;
	case TRUST_ETYPE: return STORE_ETYPE;
	case TRUST_EOWNER: return STORE_EOWNER;
	case TRUST_EMODE: return STORE_EMODE;
	case TRUST_ETOOBIG: return STORE_ECORRUPT;
	case TRUST_ENOMEM: return STORE_ENOMEM;
	default: return STORE_EIO;
	}
}

static void store_hex(const uint8_t md[32], char hex[STORE_HASH_HEX])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

void store_name_hash(const char *name, size_t len, char hex[STORE_HASH_HEX])
{
	uint8_t md[32] = { 0 }; /* a digest that fails names nothing real */

	store_sha256(name, len, NULL, 0, md);
	store_hex(md, hex);
}

/* store_name_hash of a user or source name (len <= STORE_USER_MAX bytes),
 * remembered per kind for the second lookup of the same login. */
static void store_hash_name(struct store *st, enum store_kind kind, const char *name, size_t len,
			    char hex[STORE_HASH_HEX])
{
	struct store_hashed *last = &st->hashed[kind];

	if (last->len == len && memcmp(last->name, name, len) == 0) {
		memcpy(hex, last->hex, STORE_HASH_HEX);
		return;
	}
	store_name_hash(name, len, hex);
	memcpy(last->name, name, len);
	memcpy(last->hex, hex, STORE_HASH_HEX);
	last->len = len;
}

static int store_open_with(const char *dir, bool keep, struct store **out)
{
	struct store *st = NULL;
	struct stat sb;
	int fd, rv;

	if (dir == NULL || dir[0] == '\0' || out == NULL)
		return STORE_EINVAL;
	fd = store_root_open(dir, keep, &sb);
	if (fd == TRUST_ENOENT) {
		/* Only the last component: a missing parent is a configuration
		 * error, not something to invent. */
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return STORE_EIO;
		fd = store_root_open(dir, keep, &sb);
	}
	if (fd < 0)
		return store_from_trust(fd);
	st = malloc(sizeof(*st));
	if (st == NULL) {
		rv = STORE_ENOMEM;
		goto out;
	}
	st->root_fd = fd;
	st->private_root = (sb.st_mode & 077) == 0;
	st->checked = 0;
	st->hashed[STORE_KIND_USER].len = st->hashed[STORE_KIND_SOURCE].len = 0;
	st->kept_fd = -1;
	fd = -1;
	*out = st;
	rv = STORE_OK;
out:
	if (fd >= 0)
		close(fd);
	return rv;
}

int store_open(const char *dir, struct store **out)
{
	return store_open_with(dir, false, out);
}

int store_open_kept(const char *dir, struct store **out)
{
	return store_open_with(dir, true, out);
}

int store_dirfd(const struct store *st)
{
	return st->root_fd;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->kept_fd >= 0)
		close(st->kept_fd);
	close(st->root_fd);
	free(st);
}

/* The trust rules on a stat: a regular file (or a directory), not a
 * symlink, owned by root or the euid, not writable by group or other;
 * records hold secrets, so for them any access by group or other. */
static int store_check_stat(const struct stat *sb, bool want_dir)
{
	if (S_ISLNK(sb->st_mode))
		return STORE_ESYMLINK;
	if (want_dir ? !S_ISDIR(sb->st_mode) : !S_ISREG(sb->st_mode))
		return STORE_ETYPE;
	if (sb->st_uid != 0 && sb->st_uid != geteuid())
		return STORE_EOWNER;
	if ((sb->st_mode & (S_IWGRP | S_IWOTH)) != 0 || (!want_dir && (sb->st_mode & 077) != 0))
		return STORE_EMODE;
	return STORE_OK;
}

/* Checks a subdirectory once per store handle; create: make it 0700 when
 * missing (the writers do; a peek never creates anything). */
static int store_subdir(struct store *st, enum store_dir_id id, bool create)
{
	const char *name = store_dir_names[id];
	struct stat sb;
	int rv;

	if ((st->checked & (1u << id)) != 0)
		return STORE_OK;
	if (st->private_root) {
		st->checked |= 1u << id;
		return STORE_OK;
	}
	if (fstatat(st->root_fd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			return STORE_EIO;
		if (!create)
			return STORE_ENOENT;
		if (mkdirat(st->root_fd, name, 0700) != 0 && errno != EEXIST)
			return STORE_EIO;
		if (fstatat(st->root_fd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			return STORE_EIO;
	}
	rv = store_check_stat(&sb, true);
	if (rv == STORE_OK)
		st->checked |= 1u << id;
	return rv;
}

/* openat(path, flags | O_CREAT, 0600) for a file in subdirectory id. Only
 * a private root leaves a subdirectory to be made here (store_subdir made
 * it otherwise): when it is missing, it is made (0700) and the open tried
 * once more. */
static int store_create_at(struct store *st, enum store_dir_id id, const char *path, int flags)
{
	int fd = openat(st->root_fd, path, flags | O_CREAT, 0600);

	if (fd < 0 && errno == ENOENT && st->private_root &&
	    (mkdirat(st->root_fd, store_dir_names[id], 0700) == 0 || errno == EEXIST))
		fd = openat(st->root_fd, path, flags | O_CREAT, 0600);
	return fd;
}

/* "DIR/" prefix name suffix: at most "sources/" "." 64 hex ".tmp" and a NUL
 * (every caller's pieces are constants and a hash). Built by hand: the
 * formatted version cost a visible share of a login. */
static void store_path(char out[STORE_PATH_MAX], enum store_dir_id id, const char *prefix,
		       const char *name, const char *suffix)
{
	const char *parts[] = { store_dir_names[id], "/", prefix, name, suffix };
	size_t used = 0;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t n = strnlen(parts[i], STORE_PATH_MAX - 1 - used);

		memcpy(out + used, parts[i], n);
		used += n;
	}
	out[used] = '\0';
}

static int store_fsync_subdir(struct store *st, enum store_dir_id id)
{
	int fd = openat(st->root_fd, store_dir_names[id],
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rv;

	if (fd < 0)
		return STORE_EIO;
	rv = fsync(fd) == 0 ? STORE_OK : STORE_EIO;
	close(fd);
	return rv;
}

/* flock(LOCK_EX), blocking: the holders are other logins doing a few
 * microseconds of work, and a holder that dies releases the lock with its
 * last fd. */
static int store_flock(int fd)
{
	while (flock(fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return STORE_EIO;
	return STORE_OK;
}

/* Opens (creating 0600) and flock()s the stripe lock file
 * "<prefix>-<first 3 hex digits of hash>": 4096 lock files in all,
 * whatever the number of names (one per IPv6 address would let an
 * attacker fill the disk with them). */
static int store_take_stripe(struct store *st, const char *prefix, const char *hash,
			     int *lock_fd)
{
	char name[16], path[STORE_PATH_MAX];
	int fd, rv = store_subdir(st, STORE_DIR_LOCK, true);

	if (rv != STORE_OK)
		return rv;
	snprintf(name, sizeof(name), "%s-%.3s", prefix, hash);
	store_path(path, STORE_DIR_LOCK, "", name, "");
	fd = store_create_at(st, STORE_DIR_LOCK, path,
			     O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? STORE_ESYMLINK : STORE_EIO;
	rv = store_from_trust(trust_check_fd(fd, 0));
	if (rv == STORE_OK)
		rv = store_flock(fd);
	if (rv != STORE_OK) {
		close(fd);
		return rv;
	}
	*lock_fd = fd;
	return STORE_OK;
}

/* The error of an open of a record that failed with errno. */
static int store_open_error(int err)
{
	switch (err) {
	case ENOENT: return STORE_ENOENT;
	case ELOOP: return STORE_ESYMLINK;
	case EISDIR: return STORE_ETYPE;
	case ENOMEM: return STORE_ENOMEM;
	default: return STORE_EIO;
	}
}

/* Checks an open record: a regular file of the trust rules, not larger
 * than two slots. *sb is its fstat. */
static int store_check_record(int fd, struct stat *sb)
{
	int rv = fstat(fd, sb) == 0 ? store_check_stat(sb, false) : STORE_EIO;

	if (rv == STORE_OK && sb->st_size > (off_t)(2 * STORE_RECORD_MAX))
		rv = STORE_ECORRUPT;
	return rv;
}

/* Checks the record just opened as fd (or -1 with errno set) and hands it
 * to *fd_out; closes it when it is refused. */
static int store_accept_record(int fd, int *fd_out, struct stat *sb)
{
	int rv;

	if (fd < 0)
		return store_open_error(errno);
	rv = store_check_record(fd, sb);
	if (rv != STORE_OK) {
		close(fd);
		return rv;
	}
	*fd_out = fd;
	return STORE_OK;
}

/* Flags every open of a record takes. O_NONBLOCK: a FIFO planted there
 * must not hang a login. O_NOATIME: with relatime, the first read after
 * each commit would otherwise write the inode's atime through the journal,
 * on every code login (perf); nothing reads a record's atime. */
#define STORE_RECORD_OPEN (O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOATIME)

/* openat of a record file. O_NOATIME is refused (EPERM) on a file the
 * process neither owns nor has CAP_FOWNER for; such a file is then opened
 * without it, for the trust rules to say what is wrong with it. */
static int store_openat_record(struct store *st, enum store_dir_id id, const char *hash,
			       int flags)
{
	char path[STORE_PATH_MAX];
	int fd;

	store_path(path, id, "", hash, "");
	fd = openat(st->root_fd, path, flags | STORE_RECORD_OPEN);
	if (fd < 0 && errno == EPERM)
		fd = openat(st->root_fd, path, (flags | STORE_RECORD_OPEN) & ~O_NOATIME);
	return fd;
}

/* Below a private root (struct store) a peek opens its record with one
 * openat2: RESOLVE_NO_SYMLINKS refuses a symbolic link anywhere on
 * "users/H" (which only the owner could have put there), and the record
 * itself is checked as always. Kernels without openat2 (before 5.6, or a
 * seccomp filter refusing it) and other roots take the checked path.
 * A user's record is opened read-write when it can be, to be kept for the
 * lock (struct store); one that cannot be written (a read-only file
 * system, an immutable file) can still be peeked at, as before. */
static int store_open_peek(struct store *st, enum store_dir_id id, const char *hash, int *fd_out,
			   struct stat *sb)
{
	struct open_how how = {
		.flags = STORE_RECORD_OPEN,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
	};
	int mode = id == STORE_DIR_USERS ? O_RDWR : O_RDONLY;
	char path[STORE_PATH_MAX];
	long fd = -1;
	int rv;

	store_path(path, id, "", hash, "");
	for (;;) {
		if (st->private_root) {
			how.flags = (uint64_t)(STORE_RECORD_OPEN | mode);
			fd = syscall(SYS_openat2, st->root_fd, path, &how, sizeof(how));
		}
		if (!st->private_root || (fd < 0 && (errno == ENOSYS || errno == EPERM))) {
			rv = store_subdir(st, id, false);
			if (rv != STORE_OK)
				return rv;
			fd = store_openat_record(st, id, hash, mode);
		}
		if (fd >= 0 || mode == O_RDONLY ||
		    (errno != EROFS && errno != EACCES && errno != EPERM))
			return store_accept_record((int)fd, fd_out, sb);
		mode = O_RDONLY;
	}
}

/* Keeps the record fd a peek of hash opened, for store_lock_user. */
static void store_keep(struct store *st, int fd, const char *hash)
{
	if (st->kept_fd >= 0)
		close(st->kept_fd);
	st->kept_fd = fd;
	memcpy(st->kept_hash, hash, STORE_HASH_HEX);
}

/* Opens and locks a user's record: the record is its own lock (flock).
 * The fd a peek kept is used when it is this record's. A writer that
 * replaces the record (a new file renamed over it) or removes it does so
 * holding the lock of the file it replaces, so a waiter that then gets
 * the lock of a file no longer linked (st_nlink 0) opens the name again
 * and waits for the new file's lock. STORE_ENOENT: there is no record. */
static int store_lock_record(struct store *st, const char *hash, int *fd_out, struct stat *sb)
{
	int fd = -1, rv;

	if (st->kept_fd >= 0 && memcmp(st->kept_hash, hash, STORE_HASH_HEX) == 0) {
		fd = st->kept_fd;
		st->kept_fd = -1;
	}
	for (int tries = 0; tries < STORE_LOCK_TRIES; tries++) {
		if (fd < 0 && (fd = store_openat_record(st, STORE_DIR_USERS, hash, O_RDWR)) < 0)
			return store_open_error(errno);
		rv = store_flock(fd);
		if (rv == STORE_OK)
			rv = store_check_record(fd, sb);
		if (rv == STORE_OK && sb->st_nlink > 0) {
			*fd_out = fd;
			return STORE_OK;
		}
		close(fd);
		fd = -1;
		if (rv != STORE_OK)
			return rv;
	}
	return STORE_EIO;
}

struct store_user_parse {
	const char *user;
	struct store_record *rec;
};

static int store_parse_user(void *arg, const char *text, size_t len)
{
	struct store_user_parse *up = arg;
	int rv = store_record_parse(text, len, up->rec);

	if (rv == STORE_OK && strcmp(up->rec->user, up->user) != 0) {
		store_record_wipe(up->rec);
		store_record_clear(up->rec);
		rv = STORE_EWRONGUSER;
	}
	return rv;
}

struct store_source_parse {
	const char *source_text;
	struct lockout_slot *slot;
};

static int store_parse_source(void *arg, const char *text, size_t len)
{
	struct store_source_parse *sp = arg;
	char stored[STORE_SOURCE_MAX + 1];
	int rv = store_source_parse(text, len, stored, sp->slot);

	if (rv == STORE_OK && strcmp(stored, sp->source_text) != 0)
		rv = STORE_EWRONGUSER;
	return rv;
}

void store_record_wipe(struct store_record *rec)
{
	if (rec == NULL)
		return;
	/* Only the token and the scratch-code and app-password hashes are
	 * secret. OPENSSL_cleanse goes a byte at a time, and the whole record
	 * (16 KiB) would cost microseconds on every login. */
	otp_token_wipe(&rec->token);
	explicit_bzero(&rec->scratch, sizeof(rec->scratch));
	for (size_t i = 0; i < rec->n_apppw && i < STORE_MAX_APPPW; i++)
		explicit_bzero(rec->apppw[i].hash, sizeof(rec->apppw[i].hash));
}

/* --- handles and locks --- */

/* Not calloc: the record is most of a handle, unused by a source's, and
 * emptied by store_record_clear. */
static int store_handle_new(struct store *st, enum store_kind kind, struct store_handle **out)
{
	struct store_handle *h = malloc(sizeof(*h));

	if (h == NULL)
		return STORE_ENOMEM;
	memset(h, 0, offsetof(struct store_handle, rec));
	h->st = st;
	h->kind = kind;
	h->lock_fd = -1;
	h->rec_fd = -1;
	if (kind == STORE_KIND_USER)
		store_record_clear(&h->rec);
	*out = h;
	return STORE_OK;
}

void store_unlock(struct store_handle *h)
{
	if (h == NULL)
		return;
	if (h->rec_fd >= 0)
		close(h->rec_fd);
	if (h->lock_fd >= 0)
		close(h->lock_fd); /* releases the flock */
	if (h->kind == STORE_KIND_USER)
		store_record_wipe(&h->rec);
	free(h);
}

static int store_user_name_ok(const char *user, size_t *ulen)
{
	*ulen = strnlen(user, STORE_USER_MAX + 1);
	return *ulen == 0 || *ulen > STORE_USER_MAX ? STORE_EINVAL : STORE_OK;
}

/* replace_bad: the CLI's enroll --force and remove may replace a record
 * with no valid slot or that names another user (never one refused by the
 * trust rules): it is then treated as present but empty. */
static int store_lock_user_mode(struct store *st, const char *user, bool replace_bad,
				struct store_handle **out)
{
	struct store_handle *h = NULL;
	struct store_user_parse up;
	struct stat sb;
	size_t ulen;
	int rv;

	if (st == NULL || user == NULL || out == NULL)
		return STORE_EINVAL;
	rv = store_user_name_ok(user, &ulen);
	if (rv != STORE_OK)
		return rv;
	rv = store_handle_new(st, STORE_KIND_USER, &h);
	if (rv != STORE_OK)
		goto out;
	store_hash_name(st, STORE_KIND_USER, user, ulen, h->hash);
	rv = store_subdir(st, STORE_DIR_USERS, true);
	if (rv == STORE_OK)
		rv = store_lock_record(st, h->hash, &h->rec_fd, &sb);
	if (rv == STORE_ENOENT || (replace_bad && rv == STORE_ECORRUPT)) {
		/* No record to lock (or one too large to be used): whoever makes
		 * one holds the user's stripe lock, so two cannot; and looks
		 * again, for the one who just did. */
		rv = store_take_stripe(st, "user", h->hash, &h->lock_fd);
		if (rv == STORE_OK)
			rv = store_lock_record(st, h->hash, &h->rec_fd, &sb);
	}
	if (rv == STORE_OK) {
		h->exists = true;
		up.user = user;
		up.rec = &h->rec;
		/* Under the lock nobody writes: one try. */
		rv = store_slot_read(h->rec_fd, sb.st_size, 1, store_parse_user, &up,
				     &h->slot, &h->seq);
		if (replace_bad && (rv == STORE_ECORRUPT || rv == STORE_EWRONGUSER)) {
			store_record_wipe(&h->rec);
			store_record_clear(&h->rec);
			rv = STORE_OK;
		}
	} else if (rv == STORE_ENOENT) {
		rv = STORE_OK;
	} else if (replace_bad && rv == STORE_ECORRUPT) {
		h->exists = true; /* larger than two slots: replaced or deleted by name */
		rv = STORE_OK;
	}
	if (rv != STORE_OK)
		goto out;
	if (h->rec.user[0] == '\0')
		memcpy(h->rec.user, user, ulen + 1);
	h->scratch_read = h->rec.scratch.n;
	*out = h;
	h = NULL;
out:
	store_unlock(h);
	return rv;
}

int store_lock_user(struct store *st, const char *user, struct store_handle **out)
{
	return store_lock_user_mode(st, user, false, out);
}

int store_lock_source(struct store *st, const char *source_text, struct store_handle **out)
{
	struct store_handle *h = NULL;
	struct store_source_parse sp;
	struct stat sb;
	size_t slen;
	int rv;

	if (st == NULL || source_text == NULL || out == NULL)
		return STORE_EINVAL;
	slen = strnlen(source_text, STORE_SOURCE_MAX + 1);
	if (slen == 0 || slen > STORE_SOURCE_MAX)
		return STORE_EINVAL;
	rv = store_handle_new(st, STORE_KIND_SOURCE, &h);
	if (rv != STORE_OK)
		goto out;
	store_hash_name(st, STORE_KIND_SOURCE, source_text, slen, h->hash);
	memcpy(h->source_text, source_text, slen + 1);
	rv = store_subdir(st, STORE_DIR_SOURCES, true);
	if (rv != STORE_OK)
		goto out;
	rv = store_take_stripe(st, "source", h->hash, &h->lock_fd);
	if (rv != STORE_OK)
		goto out;
	rv = store_accept_record(store_openat_record(st, STORE_DIR_SOURCES, h->hash, O_RDWR),
				 &h->rec_fd, &sb);
	if (rv == STORE_OK) {
		h->exists = true;
		sp.source_text = source_text;
		sp.slot = &h->source_slot;
		rv = store_slot_read(h->rec_fd, sb.st_size, 1, store_parse_source, &sp,
				     &h->slot, &h->seq);
	} else if (rv == STORE_ENOENT) {
		rv = STORE_OK;
	}
	if (rv != STORE_OK)
		goto out;
	*out = h;
	h = NULL;
out:
	store_unlock(h);
	return rv;
}

/* A peek of the record of name (len bytes, already checked) in dir: the
 * parse of its newest valid slot, read without the lock. */
static int store_peek(struct store *st, enum store_kind kind, enum store_dir_id dir,
		      const char *name, size_t len, store_parse_fn parse, void *arg)
{
	char hash[STORE_HASH_HEX];
	struct stat sb;
	unsigned which;
	uint64_t seq;
	int fd = -1, rv;

	store_hash_name(st, kind, name, len, hash);
	rv = store_open_peek(st, dir, hash, &fd, &sb);
	if (rv != STORE_OK)
		return rv;
	rv = store_slot_read(fd, sb.st_size, STORE_PEEK_TRIES, parse, arg, &which, &seq);
	if (rv == STORE_OK && kind == STORE_KIND_USER)
		store_keep(st, fd, hash);
	else
		close(fd);
	return rv;
}

int store_peek_user(struct store *st, const char *user, struct store_record *out)
{
	struct store_user_parse up = { user, out };
	size_t ulen;
	int rv;

	if (st == NULL || user == NULL || out == NULL)
		return STORE_EINVAL;
	rv = store_user_name_ok(user, &ulen);
	if (rv != STORE_OK)
		return rv;
	return store_peek(st, STORE_KIND_USER, STORE_DIR_USERS, user, ulen, store_parse_user, &up);
}

int store_peek_source(struct store *st, const char *source_text, struct lockout_slot *out)
{
	struct lockout_slot slot;
	struct store_source_parse sp = { source_text, &slot };
	size_t slen;
	int rv;

	if (st == NULL || source_text == NULL || out == NULL)
		return STORE_EINVAL;
	slen = strnlen(source_text, STORE_SOURCE_MAX + 1);
	if (slen == 0 || slen > STORE_SOURCE_MAX)
		return STORE_EINVAL;
	rv = store_peek(st, STORE_KIND_SOURCE, STORE_DIR_SOURCES, source_text, slen,
			store_parse_source, &sp);
	if (rv == STORE_OK)
		*out = slot;
	return rv;
}

/* The handle may write: it holds the record's lock (a user's record is its
 * own lock) or, when there is no record yet, the stripe lock its maker
 * needs. */
static bool store_held(const struct store_handle *h)
{
	if (h == NULL)
		return false;
	if (h->kind == STORE_KIND_SOURCE || h->lock_fd >= 0)
		return h->lock_fd >= 0;
	return h->rec_fd >= 0 && h->exists;
}

bool store_exists(const struct store_handle *h)
{
	return h != NULL && h->exists;
}

struct store_record *store_record(struct store_handle *h)
{
	return h != NULL && h->kind == STORE_KIND_USER ? &h->rec : NULL;
}

struct lockout_slot *store_source_slot(struct store_handle *h)
{
	return h != NULL && h->kind == STORE_KIND_SOURCE ? &h->source_slot : NULL;
}

/* --- writing --- */

/* A new record file holding slot A only: written to ".H.tmp" in the same
 * directory and renamed into place, so that a reader (a peek takes no lock)
 * never sees a file half-written. The temporary name is fixed per record
 * because the caller holds the record's lock, so no one else writes it; it
 * is created with O_EXCL, so that nothing planted there (a symlink) is ever
 * followed, and a leftover of a killed process is removed and the create
 * tried again. The fd, which now is the record's, replaces h->rec_fd. */
static int store_write_new(struct store_handle *h, enum store_dir_id id, const char *slot,
			   size_t len, bool durable)
{
	struct store *st = h->st;
	char tmp[STORE_PATH_MAX], path[STORE_PATH_MAX];
	int fd, rv = STORE_EIO;

	store_path(tmp, id, ".", h->hash, ".tmp");
	store_path(path, id, "", h->hash, "");
	fd = store_create_at(st, id, tmp, O_RDWR | O_EXCL | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EEXIST) {
		if (unlinkat(st->root_fd, tmp, 0) != 0 && errno != ENOENT)
			return STORE_EIO;
		fd = store_create_at(st, id, tmp, O_RDWR | O_EXCL | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return STORE_EIO;
	if (fchmod(fd, 0600) != 0)
		goto out;
	/* A user's record is its own lock: the new file is locked before it
	 * takes the name, so a login that finds it waits for this writer. */
	if (h->kind == STORE_KIND_USER && store_flock(fd) != STORE_OK)
		goto out;
	rv = store_slot_write(fd, slot, len, 0);
	if (rv != STORE_OK)
		goto out;
	rv = STORE_EIO;
	if (durable && fsync(fd) != 0)
		goto out;
	if (renameat(st->root_fd, tmp, st->root_fd, path) != 0)
		goto out;
	if (durable && store_fsync_subdir(st, id) != STORE_OK)
		goto out;
	if (h->rec_fd >= 0)
		close(h->rec_fd);
	h->rec_fd = fd;
	fd = -1;
	rv = STORE_OK;
out:
	if (fd >= 0) {
		close(fd);
		unlinkat(st->root_fd, tmp, 0);
	}
	return rv;
}

/* fresh: write a new file (enrollment) even when the record exists, so
 * that the replaced secret does not survive in the other slot.
 *
 * No fsync on the login path (durable = false): a login must cost well
 * under 30 us of garde's own work and an fsync costs milliseconds. A commit
 * is one pwrite into the slot that does not hold the record read, so
 * whatever a crash or a power loss does to that write, the other slot still
 * holds the state before it and is read back; nothing is refused as
 * corrupt because a login was interrupted. What can be lost is the last
 * updates (until the kernel writes the page back, ~30 s): lockout counters,
 * remember and history entries, and the last accepted TOTP step or HOTP
 * counter. Reopening a TOTP step lets the code already used be replayed
 * only while it is inside its window (about 90 s) and only after a reboot;
 * an HOTP code already used stays replayable until the user's next login.
 * A commit that uses up a scratch code is synced (fdatasync): scratch
 * codes do not expire, and their use is rare. Enrollment (durable = true)
 * syncs the file and the directory: losing a new secret would lock the
 * user out.
 *
 * Two commits within the write-back delay followed by a power loss that
 * tears both (a slot spans several pages only when the record is over
 * ~4 KiB) would leave no valid slot: the record is then refused, failing
 * closed, and `garde enroll --force` rewrites it. */
static int store_commit_mode(struct store_handle *h, bool fresh, bool durable)
{
	enum store_dir_id id;
	char *buf = NULL;
	int n, rv;

	if (!store_held(h))
		return STORE_EINVAL;
	id = h->kind == STORE_KIND_USER ? STORE_DIR_USERS : STORE_DIR_SOURCES;
	if (h->kind == STORE_KIND_USER && h->rec.scratch.n < h->scratch_read)
		durable = true;
	buf = malloc(STORE_RECORD_MAX + 1);
	if (buf == NULL)
		return STORE_ENOMEM;
	if (h->kind == STORE_KIND_USER)
		n = store_record_format(&h->rec, buf + STORE_SLOT_HDR, STORE_TEXT_MAX + 1);
	else
		n = store_source_format(h->source_text, &h->source_slot, buf + STORE_SLOT_HDR,
					STORE_TEXT_MAX + 1);
	if (n < 0) {
		rv = n;
		goto out;
	}
	if (fresh || !h->exists || h->rec_fd < 0) {
		rv = store_slot_seal(buf, 1, (size_t)n);
		if (rv == STORE_OK)
			rv = store_write_new(h, id, buf, STORE_SLOT_HDR + (size_t)n, durable);
		if (rv == STORE_OK) {
			h->slot = 0;
			h->seq = 1;
		}
	} else {
		unsigned next = 1 - h->slot;

		rv = h->seq == UINT64_MAX ? STORE_ECORRUPT
					  : store_slot_seal(buf, h->seq + 1, (size_t)n);
		if (rv == STORE_OK)
			rv = store_slot_write(h->rec_fd, buf, STORE_SLOT_HDR + (size_t)n, next);
		if (rv == STORE_OK && durable && fdatasync(h->rec_fd) != 0)
			rv = STORE_EIO;
		if (rv == STORE_OK) {
			h->slot = next;
			h->seq++;
		}
	}
	if (rv == STORE_OK) {
		h->exists = true;
		h->scratch_read = h->rec.scratch.n;
	}
out:
	explicit_bzero(buf, n > 0 ? STORE_SLOT_HDR + (size_t)n : STORE_RECORD_MAX + 1);
	free(buf);
	return rv;
}

int store_commit(struct store_handle *h)
{
	return store_commit_mode(h, false, false);
}

int store_commit_sync(struct store_handle *h)
{
	return store_commit_mode(h, true, true);
}

int store_delete(struct store_handle *h)
{
	char path[STORE_PATH_MAX];

	if (!store_held(h))
		return STORE_EINVAL;
	store_path(path, h->kind == STORE_KIND_USER ? STORE_DIR_USERS : STORE_DIR_SOURCES, "",
		   h->hash, "");
	if (unlinkat(h->st->root_fd, path, 0) != 0)
		return errno == ENOENT ? STORE_ENOENT : STORE_EIO;
	if (h->rec_fd >= 0)
		close(h->rec_fd);
	h->rec_fd = -1;
	h->exists = false;
	h->seq = 0;
	return STORE_OK;
}

int store_enroll_with(struct store *st, const char *user, const struct otp_token *tok,
		      const struct store_scratch *scratch, bool force, bool batch, int64_t now)
{
	struct store_handle *h = NULL;
	struct store_record *rec;
	int rv;

	if (otp_token_check(tok) != OTP_OK)
		return STORE_EINVAL;
	if (scratch != NULL && scratch->n > STORE_MAX_SCRATCH)
		return STORE_EINVAL;
	rv = store_lock_user_mode(st, user, force, &h);
	if (rv != STORE_OK)
		goto out;
	rec = &h->rec;
	if (rec->has_token && !force) {
		rv = STORE_EEXIST;
		goto out;
	}
	/* A new secret starts a new replay history, and the old token's
	 * scratch codes go with it. */
	rec->has_token = true;
	rec->token = *tok;
	rec->last_step = 0;
	rec->created = now;
	rec->last_success = 0;
	explicit_bzero(&rec->scratch, sizeof(rec->scratch));
	if (scratch != NULL)
		rec->scratch = *scratch;
	h->scratch_read = rec->scratch.n;
	rv = store_commit_mode(h, true, !batch);
out:
	store_unlock(h);
	return rv;
}

int store_enroll(struct store *st, const char *user, const struct otp_token *tok, bool force,
		 int64_t now)
{
	return store_enroll_with(st, user, tok, NULL, force, false, now);
}

int store_sync(struct store *st)
{
	if (st == NULL)
		return STORE_EINVAL;
	/* One syncfs covers every record file, the renames and the new
	 * directory entries of a batch. */
	return syncfs(st->root_fd) == 0 ? STORE_OK : STORE_EIO;
}

int store_remove(struct store *st, const char *user)
{
	struct store_handle *h = NULL;
	int rv = store_lock_user_mode(st, user, true, &h);

	if (rv == STORE_OK)
		rv = store_exists(h) ? store_delete(h) : STORE_ENOENT;
	if (rv == STORE_OK)
		rv = store_fsync_subdir(st, STORE_DIR_USERS);
	store_unlock(h);
	return rv;
}
