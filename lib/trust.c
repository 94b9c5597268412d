/* trust.c - trusted file opens (DESIGN.md "Files and trust"). */
#define _GNU_SOURCE /* O_PATH */
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *trust_strerror(int err)
{
	switch (err) {
	case TRUST_OK: return "ok";
	case TRUST_ENOENT: return "no such file";
	case TRUST_ESYMLINK: return "is a symbolic link (refused)";
	case TRUST_ETYPE: return "has the wrong file type";
	case TRUST_EOWNER: return "is not owned by root or the current user";
	case TRUST_EMODE: return "is writable by group or other (chmod go-w)";
	case TRUST_ETOOBIG: return "is too large";
	case TRUST_ENOMEM: return "out of memory";
	default: return "cannot be read";
	}
}

int trust_check_stat(const struct stat *st, int want_dir)
{
	if (want_dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return TRUST_ETYPE;
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return TRUST_EOWNER;
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return TRUST_EMODE;
	return TRUST_OK;
}

int trust_check_fd(int fd, int want_dir)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return TRUST_EIO;
	return trust_check_stat(&st, want_dir);
}

static int open_error(int dirfd, const char *path)
{
	struct stat st;

	/* O_DIRECTORY|O_NOFOLLOW on a symbolic link fails with ENOTDIR, not
	 * ELOOP: look at the link itself to say what was refused. */
	if (errno == ENOTDIR && fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return TRUST_ESYMLINK;
	switch (errno) {
	case ENOENT: return TRUST_ENOENT;
	case ELOOP: return TRUST_ESYMLINK;
	case ENOTDIR: return TRUST_ETYPE;
	case ENOMEM: return TRUST_ENOMEM;
	default: return TRUST_EIO;
	}
}

static int open_checked(int dirfd, const char *path, int flags, int want_dir, struct stat *st)
{
	int fd = openat(dirfd, path, flags | O_NOFOLLOW | O_CLOEXEC);
	int rv;

	if (fd < 0)
		return open_error(dirfd, path);
	rv = fstat(fd, st) != 0 ? TRUST_EIO : trust_check_stat(st, want_dir);
	if (rv != TRUST_OK) {
		close(fd);
		return rv;
	}
	return fd;
}

int trust_stat(const char *path, struct stat *st)
{
	if (fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? TRUST_ENOENT : TRUST_EIO;
	if (S_ISLNK(st->st_mode))
		return TRUST_ESYMLINK;
	return trust_check_stat(st, 0);
}

int trust_openat_stat(int dirfd, const char *path, int extra_flags, struct stat *st)
{
	/* O_NONBLOCK: a FIFO planted in place of a file must not hang a login. */
	return open_checked(dirfd, path, O_RDONLY | O_NONBLOCK | extra_flags, 0, st);
}

int trust_openat(int dirfd, const char *path, int extra_flags)
{
	struct stat st;

	return trust_openat_stat(dirfd, path, extra_flags, &st);
}

int trust_opendir_stat(const char *path, struct stat *st)
{
	return open_checked(AT_FDCWD, path, O_RDONLY | O_DIRECTORY, 1, st);
}

int trust_opendir_path(const char *path, struct stat *st)
{
	return open_checked(AT_FDCWD, path, O_PATH | O_DIRECTORY, 1, st);
}

int trust_opendir(const char *path)
{
	struct stat st;

	return trust_opendir_stat(path, &st);
}

int trust_read_fd(int fd, size_t max, char **data, size_t *len)
{
	char *buf = malloc(max + 1);
	size_t used = 0;
	int rv = TRUST_EIO;

	if (buf == NULL)
		return TRUST_ENOMEM;
	/* Read one byte past the cap so that an oversize file is detected even
	 * when it grows between fstat and read. */
	for (;;) {
		ssize_t n = read(fd, buf + used, max + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			rv = TRUST_ETOOBIG;
			goto out;
		}
	}
	buf[used] = '\0';
	*data = buf;
	*len = used;
	buf = NULL;
	rv = TRUST_OK;
out:
	free(buf);
	return rv;
}

int trust_read_file(const char *path, size_t max, char **data, size_t *len)
{
	int fd = trust_openat(AT_FDCWD, path, 0), rv;

	if (fd < 0)
		return fd;
	rv = trust_read_fd(fd, max, data, len);
	close(fd);
	return rv;
}
