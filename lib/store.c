/* store.c - the store directory, locks and atomic record files (see store.h). */
#define _GNU_SOURCE /* syncfs */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "trust.h"

enum store_dir_id {
	STORE_DIR_USERS,
	STORE_DIR_SOURCES,
	STORE_DIR_LOCK,
	STORE_N_DIRS,
};

static const char *const store_dir_names[STORE_N_DIRS] = { "users", "sources", "lock" };

struct store {
	int root_fd;
	int dir_fd[STORE_N_DIRS]; /* opened on first use, -1 until then */
};

enum store_kind { STORE_KIND_USER, STORE_KIND_SOURCE };

struct store_handle {
	struct store *st;
	enum store_kind kind;
	int lock_fd;
	bool exists;
	char hash[STORE_HASH_HEX];
	char source_text[STORE_SOURCE_MAX + 1];
	struct lockout_slot source_slot;
	struct store_record rec;
};

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

void store_name_hash(const char *name, size_t len, char hex[STORE_HASH_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;

	SHA256((const unsigned char *)name, len, md);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * SHA256_DIGEST_LENGTH] = '\0';
}

int store_open(const char *dir, struct store **out)
{
	struct store *st = NULL;
	int fd, i, rv;

	if (dir == NULL || dir[0] == '\0' || out == NULL)
		return STORE_EINVAL;
	fd = trust_opendir(dir);
	if (fd == TRUST_ENOENT) {
		/* Only the last component: a missing parent is a configuration
		 * error, not something to invent. */
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return STORE_EIO;
		fd = trust_opendir(dir);
	}
	if (fd < 0)
		return store_from_trust(fd);
	st = malloc(sizeof(*st));
	if (st == NULL) {
		rv = STORE_ENOMEM;
		goto out;
	}
	st->root_fd = fd;
	for (i = 0; i < STORE_N_DIRS; i++)
		st->dir_fd[i] = -1;
	fd = -1;
	*out = st;
	rv = STORE_OK;
out:
	if (fd >= 0)
		close(fd);
	return rv;
}

void store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < STORE_N_DIRS; i++)
		if (st->dir_fd[i] >= 0)
			close(st->dir_fd[i]);
	close(st->root_fd);
	free(st);
}

/* The subdirectory's fd, created 0700 and checked on first use. */
static int store_dir(struct store *st, enum store_dir_id id)
{
	const char *name = store_dir_names[id];
	int fd, rv;

	if (st->dir_fd[id] >= 0)
		return st->dir_fd[id];
	fd = openat(st->root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(st->root_fd, name, 0700) != 0 && errno != EEXIST)
			return STORE_EIO;
		fd = openat(st->root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return errno == ELOOP ? STORE_ESYMLINK : errno == ENOTDIR ? STORE_ETYPE : STORE_EIO;
	rv = store_from_trust(trust_check_fd(fd, 1));
	if (rv != STORE_OK) {
		close(fd);
		return rv;
	}
	st->dir_fd[id] = fd;
	return fd;
}

/* Opens (creating 0600) and flock()s a lock file. Blocking: the holders are
 * other logins doing a few microseconds of work, and a holder that dies
 * releases the lock with its last fd. */
static int store_take_lock(struct store *st, const char *name, int *lock_fd)
{
	int dfd = store_dir(st, STORE_DIR_LOCK), fd, rv;

	if (dfd < 0)
		return dfd;
	fd = openat(dfd, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return errno == ELOOP ? STORE_ESYMLINK : STORE_EIO;
	rv = store_from_trust(trust_check_fd(fd, 0));
	if (rv != STORE_OK)
		goto out;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			rv = STORE_EIO;
			goto out;
		}
	}
	*lock_fd = fd;
	fd = -1;
	rv = STORE_OK;
out:
	if (fd >= 0)
		close(fd);
	return rv;
}

/* Reads a whole record file under dfd into buf (STORE_RECORD_MAX + 1
 * bytes). Records hold secrets, so beyond the trust rules any access by
 * group or other is refused. */
static int store_read_file(int dfd, const char *name, char *buf, size_t *len)
{
	struct stat sb;
	size_t used = 0;
	int fd, rv = STORE_EIO;

	fd = trust_openat(dfd, name, 0);
	if (fd < 0)
		return store_from_trust(fd);
	if (fstat(fd, &sb) != 0)
		goto out;
	if ((sb.st_mode & 077) != 0) {
		rv = STORE_EMODE;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, STORE_RECORD_MAX + 1 - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > STORE_RECORD_MAX) {
			rv = STORE_ECORRUPT;
			goto out;
		}
	}
	rv = STORE_OK;
out:
	*len = used; /* also on failure: the caller wipes what was read */
	close(fd);
	return rv;
}

static int store_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return STORE_EIO;
		buf += n;
		len -= (size_t)n;
	}
	return STORE_OK;
}

/* Atomic replace of dfd/name: write ".name.tmp", rename it over name. The
 * temporary name is fixed per record because the caller holds the record's
 * lock, so no one else writes it; a leftover from a killed process is
 * removed first, then the file is created with O_EXCL so that nothing
 * planted there (a symlink) is ever followed.
 *
 * No fsync on the login path (durable = false): a login must cost well
 * under 30 us of garde's own work and an fsync costs milliseconds. What a
 * crash can lose is the last update of lockout counters, remember or
 * history entries, or the last accepted TOTP step; replaying that step
 * after a crash and reboot needs the code to still be inside its window
 * (about 90 s), and a crash that leaves a torn file is refused as corrupt
 * (the `end` line), failing closed. Enrollment (durable = true) syncs the
 * file and the directory: losing a new secret would lock the user out.
 * Even without fsync a rename over a record costs about 1 ms on ext4
 * (auto_da_alloc starts writeback of the new file), against ~15 us on
 * tmpfs: which is why logins that change nothing must not commit. */
static int store_write(int dfd, const char *name, const char *buf, size_t len, bool durable)
{
	char tmp[STORE_HASH_HEX + 16];
	int fd = -1, rv = STORE_EIO, n;

	n = snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return STORE_EINVAL;
	if (unlinkat(dfd, tmp, 0) != 0 && errno != ENOENT)
		return STORE_EIO;
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return STORE_EIO;
	if (fchmod(fd, 0600) != 0)
		goto out;
	rv = store_write_all(fd, buf, len);
	if (rv != STORE_OK)
		goto out;
	rv = STORE_EIO;
	if (durable && fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) != 0)
		goto out;
	if (durable && fsync(dfd) != 0)
		goto out;
	rv = STORE_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rv != STORE_OK)
		unlinkat(dfd, tmp, 0);
	return rv;
}

static int store_handle_new(struct store *st, enum store_kind kind, struct store_handle **out)
{
	struct store_handle *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return STORE_ENOMEM;
	h->st = st;
	h->kind = kind;
	h->lock_fd = -1;
	*out = h;
	return STORE_OK;
}

void store_unlock(struct store_handle *h)
{
	if (h == NULL)
		return;
	if (h->lock_fd >= 0)
		close(h->lock_fd); /* releases the flock */
	/* Only the token (and the scratch-code hashes) are secret.
	 * OPENSSL_cleanse goes a byte at a time, and the whole handle (16 KiB)
	 * would cost microseconds on every login. */
	otp_token_wipe(&h->rec.token);
	OPENSSL_cleanse(&h->rec.scratch, sizeof(h->rec.scratch));
	free(h);
}

/* A buffer for one record's text (it holds the secret in hex). Only the
 * used bytes are wiped before it is freed: a full 64 KiB OPENSSL_cleanse
 * would be most of a login's cost. */
static char *store_buf_new(void)
{
	return malloc(STORE_RECORD_MAX + 1);
}

static void store_buf_free(char *buf, size_t used)
{
	if (buf != NULL) {
		OPENSSL_cleanse(buf, used < STORE_RECORD_MAX + 1 ? used : STORE_RECORD_MAX + 1);
		free(buf);
	}
}

/* replace_bad: the CLI's enroll --force and remove may replace a record
 * that does not parse or names another user (never one refused by the
 * trust rules): it is then treated as present but empty. */
static int store_lock_user_mode(struct store *st, const char *user, bool replace_bad,
				struct store_handle **out)
{
	struct store_handle *h = NULL;
	char *buf = NULL;
	size_t ulen, len = 0;
	int dfd, rv;

	if (st == NULL || user == NULL || out == NULL)
		return STORE_EINVAL;
	ulen = strnlen(user, STORE_USER_MAX + 1);
	if (ulen == 0 || ulen > STORE_USER_MAX)
		return STORE_EINVAL;
	rv = store_handle_new(st, STORE_KIND_USER, &h);
	if (rv != STORE_OK)
		goto out;
	store_name_hash(user, ulen, h->hash);
	dfd = store_dir(st, STORE_DIR_USERS);
	if (dfd < 0) {
		rv = dfd;
		goto out;
	}
	rv = store_take_lock(st, h->hash, &h->lock_fd);
	if (rv != STORE_OK)
		goto out;
	rv = STORE_ENOMEM;
	buf = store_buf_new();
	if (buf == NULL)
		goto out;
	rv = store_read_file(dfd, h->hash, buf, &len);
	if (rv == STORE_ENOENT) {
		memcpy(h->rec.user, user, ulen + 1);
		rv = STORE_OK;
	} else if (rv == STORE_OK) {
		h->exists = true;
		rv = store_record_parse(buf, len, &h->rec);
		if (rv == STORE_OK && strcmp(h->rec.user, user) != 0)
			rv = STORE_EWRONGUSER;
		if (replace_bad && (rv == STORE_ECORRUPT || rv == STORE_EWRONGUSER)) {
			OPENSSL_cleanse(&h->rec, sizeof(h->rec));
			memcpy(h->rec.user, user, ulen + 1);
			rv = STORE_OK;
		}
	}
	if (rv != STORE_OK)
		goto out;
	*out = h;
	h = NULL;
out:
	store_buf_free(buf, len);
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
	char *buf = NULL, lock_name[16];
	size_t slen, len = 0;
	int dfd, rv;

	if (st == NULL || source_text == NULL || out == NULL)
		return STORE_EINVAL;
	slen = strnlen(source_text, STORE_SOURCE_MAX + 1);
	if (slen == 0 || slen > STORE_SOURCE_MAX)
		return STORE_EINVAL;
	rv = store_handle_new(st, STORE_KIND_SOURCE, &h);
	if (rv != STORE_OK)
		goto out;
	store_name_hash(source_text, slen, h->hash);
	memcpy(h->source_text, source_text, slen + 1);
	dfd = store_dir(st, STORE_DIR_SOURCES);
	if (dfd < 0) {
		rv = dfd;
		goto out;
	}
	snprintf(lock_name, sizeof(lock_name), "source-%.3s", h->hash);
	rv = store_take_lock(st, lock_name, &h->lock_fd);
	if (rv != STORE_OK)
		goto out;
	rv = STORE_ENOMEM;
	buf = store_buf_new();
	if (buf == NULL)
		goto out;
	rv = store_read_file(dfd, h->hash, buf, &len);
	if (rv == STORE_ENOENT) {
		rv = STORE_OK;
	} else if (rv == STORE_OK) {
		char stored[STORE_SOURCE_MAX + 1];

		h->exists = true;
		rv = store_source_parse(buf, len, stored, &h->source_slot);
		if (rv == STORE_OK && strcmp(stored, source_text) != 0)
			rv = STORE_EWRONGUSER;
	}
	if (rv != STORE_OK)
		goto out;
	*out = h;
	h = NULL;
out:
	store_buf_free(buf, len);
	store_unlock(h);
	return rv;
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

static int store_commit_mode(struct store_handle *h, bool durable)
{
	char *buf = NULL;
	int dfd, n, rv;

	if (h == NULL || h->lock_fd < 0)
		return STORE_EINVAL;
	dfd = store_dir(h->st, h->kind == STORE_KIND_USER ? STORE_DIR_USERS : STORE_DIR_SOURCES);
	if (dfd < 0)
		return dfd;
	buf = store_buf_new();
	if (buf == NULL)
		return STORE_ENOMEM;
	if (h->kind == STORE_KIND_USER)
		n = store_record_format(&h->rec, buf, STORE_RECORD_MAX + 1);
	else
		n = store_source_format(h->source_text, &h->source_slot, buf, STORE_RECORD_MAX + 1);
	if (n < 0) {
		rv = n;
		goto out;
	}
	rv = store_write(dfd, h->hash, buf, (size_t)n, durable);
	if (rv == STORE_OK)
		h->exists = true;
out:
	store_buf_free(buf, n > 0 ? (size_t)n : STORE_RECORD_MAX + 1);
	return rv;
}

int store_commit(struct store_handle *h)
{
	return store_commit_mode(h, false);
}

int store_delete(struct store_handle *h)
{
	int dfd;

	if (h == NULL || h->lock_fd < 0)
		return STORE_EINVAL;
	dfd = store_dir(h->st, h->kind == STORE_KIND_USER ? STORE_DIR_USERS : STORE_DIR_SOURCES);
	if (dfd < 0)
		return dfd;
	if (unlinkat(dfd, h->hash, 0) != 0)
		return errno == ENOENT ? STORE_ENOENT : STORE_EIO;
	h->exists = false;
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
	OPENSSL_cleanse(&rec->scratch, sizeof(rec->scratch));
	if (scratch != NULL)
		rec->scratch = *scratch;
	rv = store_commit_mode(h, !batch);
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
	store_unlock(h);
	return rv;
}
