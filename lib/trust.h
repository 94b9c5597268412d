/* trust.h - opening files the way DESIGN.md "Files and trust" says:
 * O_NOFOLLOW, a regular file (or a directory), owned by root or the
 * effective uid, not writable by group or other. */
#ifndef GARDE_TRUST_H
#define GARDE_TRUST_H

#include <stddef.h>
#include <sys/types.h>

enum trust_error {
	TRUST_OK = 0,
	TRUST_ENOENT = -1,    /* missing */
	TRUST_ESYMLINK = -2,  /* a symbolic link */
	TRUST_ETYPE = -3,     /* not a regular file / directory */
	TRUST_EOWNER = -4,    /* owned by another user */
	TRUST_EMODE = -5,     /* group- or other-writable */
	TRUST_ETOOBIG = -6,   /* over the size cap */
	TRUST_EIO = -7,       /* any other system error (errno kept) */
	TRUST_ENOMEM = -8,
};

const char *trust_strerror(int err);

/* Opens path (O_RDONLY|O_NOFOLLOW|O_CLOEXEC plus extra_flags) relative to
 * dirfd (AT_FDCWD for a plain path) and checks it. Returns an fd or a
 * negative enum trust_error. */
int trust_openat(int dirfd, const char *path, int extra_flags);

/* The same, also giving the stat that was checked (one fstat, not two). */
struct stat;
int trust_openat_stat(int dirfd, const char *path, int extra_flags, struct stat *st);

/* The trust rules on a regular file's metadata alone, without opening it
 * (for an identity check; open with trust_openat to read it). */
int trust_stat(const char *path, struct stat *st);

/* Opens and checks a directory. Returns an fd or a negative error. */
int trust_opendir(const char *path);

/* The same, also giving the stat that was checked. */
int trust_opendir_stat(const char *path, struct stat *st);

/* Reads a whole trusted file of at most max bytes into a NUL-terminated
 * malloc'd buffer. Returns 0 or a negative error. */
int trust_read_file(const char *path, size_t max, char **data, size_t *len);

/* The same from an fd already opened and checked (read from its offset). */
int trust_read_fd(int fd, size_t max, char **data, size_t *len);

/* The same as an O_PATH descriptor: good for *at() calls and fstat, not
 * for reading (a process that drops its privileges while holding one
 * cannot list the directory). */
int trust_opendir_path(const char *path, struct stat *st);

/* Checks an open fd (for callers that opened it themselves). */
int trust_check_fd(int fd, int want_dir);

/* The trust rules on a stat already taken (of a regular file, or of a
 * directory when want_dir). */
int trust_check_stat(const struct stat *st, int want_dir);

#endif
