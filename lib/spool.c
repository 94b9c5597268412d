/* spool.c - the event spool writer (see spool.h). */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"

#define SPOOL_SUFFIX ".json"

const char *spool_strerror(int err)
{
	switch (err) {
	case SPOOL_OK: return "ok";
	case SPOOL_EINVAL: return "invalid spool record or id";
	case SPOOL_ENOENT: return "spool directory does not exist";
	case SPOOL_ESYMLINK: return "spool directory (or its tmp/ or new/) is a symbolic link (refused)";
	case SPOOL_ETYPE: return "spool path (or its tmp/ or new/) is not a directory";
	case SPOOL_EOWNER:
		return "spool directory (or its tmp/ or new/) is not owned by root or the current user";
	case SPOOL_EMODE:
		return "spool directory (or its tmp/ or new/) is writable by group or other (chmod go-w)";
	case SPOOL_ENOSPC: return "disk full";
	case SPOOL_EEXIST: return "an event with this id is already spooled";
	case SPOOL_ENOMEM: return "out of memory";
	default: return "spool I/O error";
	}
}

static int spool_from_errno(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT: return SPOOL_ENOSPC;
	case ENOENT: return SPOOL_ENOENT;
	case ELOOP: return SPOOL_ESYMLINK;
	case ENOTDIR: return SPOOL_ETYPE;
	case EEXIST: return SPOOL_EEXIST;
	case ENOMEM: return SPOOL_ENOMEM;
	default: return SPOOL_EIO;
	}
}

static int spool_from_trust(int err)
{
	switch (err) {
	case TRUST_ENOENT: return SPOOL_ENOENT;
	case TRUST_ESYMLINK: return SPOOL_ESYMLINK;
	case TRUST_ETYPE: return SPOOL_ETYPE;
	case TRUST_EOWNER: return SPOOL_EOWNER;
	case TRUST_EMODE: return SPOOL_EMODE;
	case TRUST_ENOMEM: return SPOOL_ENOMEM;
	default: return SPOOL_EIO;
	}
}

/* open(O_DIRECTORY|O_NOFOLLOW) on a symbolic link fails with ENOTDIR, not
 * ELOOP; look again so that the refusal names the real problem. */
static int spool_type_error(int dirfd, const char *path)
{
	struct stat st;

	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return SPOOL_ESYMLINK;
	return SPOOL_ETYPE;
}

/* A directory this call created gets exactly 0700, whatever the host
 * process's umask: 0500 would lock out a non-root owner, and an existing
 * directory is the administrator's to set. Returns fd or closes it. */
static int spool_fix_mode(int fd, bool made)
{
	int rv;

	if (made && fchmod(fd, 0700) != 0) {
		rv = spool_from_errno(errno);
		close(fd);
		return rv;
	}
	return fd;
}

/* The spool directory itself, created 0700 when missing and create is set.
 * Only the last component is created: a missing parent is an installation
 * error to report, not to paper over. */
static int spool_open_root(const char *path, bool create)
{
	int fd = trust_opendir(path);
	bool made = false;

	if (fd == TRUST_ENOENT && create) {
		if (mkdir(path, 0700) == 0)
			made = true;
		else if (errno != EEXIST)
			return spool_from_errno(errno);
		fd = trust_opendir(path);
	}
	if (fd == TRUST_ETYPE)
		return spool_type_error(AT_FDCWD, path);
	if (fd < 0)
		return spool_from_trust(fd);
	return spool_fix_mode(fd, made);
}

/* tmp/ or new/, relative to the already checked spool fd. */
static int spool_open_sub(int parent, const char *name, bool create)
{
	bool made = false;
	int fd, rv;

	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(parent, name, 0700) == 0)
			made = true;
		else if (errno != EEXIST)
			return spool_from_errno(errno);
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return spool_type_error(parent, name);
		return spool_from_errno(errno);
	}
	rv = trust_check_fd(fd, 1);
	if (rv != TRUST_OK) {
		close(fd);
		return spool_from_trust(rv);
	}
	return spool_fix_mode(fd, made);
}

/* Ids become file names: lower-case hex only, so no '/', "..", or dot file. */
static bool spool_id_ok(const char *id)
{
	size_t n;

	if (id == NULL)
		return false;
	for (n = 0; id[n] != '\0'; n++) {
		if (n >= SPOOL_MAX_ID)
			return false;
		if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f')))
			return false;
	}
	return n > 0;
}

static int spool_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return spool_from_errno(errno);
		if (n == 0) {
			errno = EIO;
			return SPOOL_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return SPOOL_OK;
}

/* tmp/NAME -> new/NAME without ever replacing an event already in new/.
 * renameat2(RENAME_NOREPLACE) where the file system has it; otherwise
 * link + unlink, the classic maildir way, which also refuses to replace. */
static int spool_publish(int tmp_fd, int new_fd, const char *name)
{
	if (renameat2(tmp_fd, name, new_fd, name, RENAME_NOREPLACE) == 0)
		return SPOOL_OK;
	if (errno != EINVAL && errno != ENOSYS)
		return spool_from_errno(errno);
	if (linkat(tmp_fd, name, new_fd, name, 0) != 0)
		return spool_from_errno(errno);
	/* Published. Should this unlink fail, the stale tmp/ name is harmless:
	 * the agent reads only new/. */
	(void)unlinkat(tmp_fd, name, 0);
	return SPOOL_OK;
}

int spool_write(const char *spool_dir, const char *record, size_t len, const char *id)
{
	char name[SPOOL_MAX_ID + sizeof(SPOOL_SUFFIX)];
	int root_fd = -1, tmp_fd = -1, new_fd = -1, fd = -1;
	bool in_tmp = false;
	int saved_errno = 0;
	int rv;

	if (spool_dir == NULL || record == NULL || len == 0 || len > SPOOL_MAX_RECORD ||
	    !spool_id_ok(id)) {
		rv = SPOOL_EINVAL;
		goto out;
	}
	snprintf(name, sizeof(name), "%s" SPOOL_SUFFIX, id);

	rv = root_fd = spool_open_root(spool_dir, true);
	if (rv < 0)
		goto out;
	rv = tmp_fd = spool_open_sub(root_fd, "tmp", true);
	if (rv < 0)
		goto out;
	rv = new_fd = spool_open_sub(root_fd, "new", true);
	if (rv < 0)
		goto out;

	fd = openat(tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rv = spool_from_errno(errno);
		goto out;
	}
	in_tmp = true;
	/* 0600 whatever the host process's umask: the agent's contract. */
	if (fchmod(fd, 0600) != 0) {
		rv = spool_from_errno(errno);
		goto out;
	}
	rv = spool_write_all(fd, record, len);
	if (rv != SPOOL_OK)
		goto out;
	/* Durable before it becomes visible: the agent must never deliver, or
	 * find after a crash, a truncated record. */
	if (fsync(fd) != 0) {
		rv = spool_from_errno(errno);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rv = spool_from_errno(errno);
		goto out;
	}
	fd = -1;
	rv = spool_publish(tmp_fd, new_fd, name);
	if (rv != SPOOL_OK)
		goto out;
	in_tmp = false;
	/* The rename itself must survive a crash. An error here means the event
	 * is in new/ but may not be on disk yet; the caller logs it. */
	if (fsync(new_fd) != 0) {
		rv = spool_from_errno(errno);
		goto out;
	}
	rv = SPOOL_OK;
out:
	saved_errno = errno;
	if (fd >= 0)
		close(fd);
	if (in_tmp)
		(void)unlinkat(tmp_fd, name, 0);
	if (new_fd >= 0)
		close(new_fd);
	if (tmp_fd >= 0)
		close(tmp_fd);
	if (root_fd >= 0)
		close(root_fd);
	errno = saved_errno;
	return rv;
}

int spool_count(const char *spool_dir, size_t *count)
{
	int root_fd = -1, new_fd = -1;
	DIR *dir = NULL;
	struct dirent *de;
	size_t n = 0, suffix = sizeof(SPOOL_SUFFIX) - 1;
	int rv;

	if (count != NULL)
		*count = 0;
	if (spool_dir == NULL || count == NULL) {
		rv = SPOOL_EINVAL;
		goto out;
	}
	rv = root_fd = spool_open_root(spool_dir, false);
	if (rv < 0)
		goto out;
	rv = new_fd = spool_open_sub(root_fd, "new", false);
	if (rv < 0)
		goto out;
	dir = fdopendir(new_fd);
	if (dir == NULL) {
		rv = spool_from_errno(errno);
		goto out;
	}
	new_fd = -1; /* owned by dir now */
	/* readdir on a stream private to this call is thread-safe in glibc;
	 * readdir_r is deprecated. */
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] != '.' && len > suffix &&
		    strcmp(de->d_name + len - suffix, SPOOL_SUFFIX) == 0)
			n++;
		errno = 0;
	}
	if (errno != 0) {
		rv = spool_from_errno(errno);
		goto out;
	}
	*count = n;
	rv = SPOOL_OK;
out:
	if (dir != NULL)
		closedir(dir);
	if (new_fd >= 0)
		close(new_fd);
	if (root_fd >= 0)
		close(root_fd);
	return rv;
}
