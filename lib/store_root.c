/* store_root.c - the store directory, kept open by a process between
 * logins (store_open_kept).
 *
 * Opening the store by its path (a path walk, a new open file, an fstat,
 * and closing the last reference) was a tenth of a login's cost on a busy
 * machine (perf). The module stays in its host for good (-z nodelete), and
 * the hosts that run many logins (dovecot's auth workers, a service calling
 * libpam in a loop) can keep the directory open: each login then takes a
 * duplicate and checks it with one fstat.
 *
 * What each login takes is checked as a fresh open is checked:
 *  - by fstat: still the directory that was opened (device and inode) and
 *    still linked, so a store removed and made again is seen at once; and
 *    the trust rules, so a chmod g+w is refused at once;
 *  - the path is looked up again at most STORE_ROOT_RECHECK_NS after the
 *    last lookup, so a store directory renamed away and replaced by another
 *    is used for at most that long.
 * What is kept is an O_PATH descriptor: a host that later drops its
 * privileges without exec holds a name for the directory, not a way to
 * list it. A host may close descriptors it does not know (closefrom) and
 * reuse the number: the fstat sees another file, and the number is then
 * forgotten, never closed, since it may be the host's now. */
#define _GNU_SOURCE /* O_PATH, F_DUPFD_CLOEXEC */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kept.h"
#include "store_root.h"
#include "trust.h"

#define STORE_ROOT_RECHECK_NS 1000000000LL

static struct {
	char *path;
	int fd; /* O_PATH; -1: none */
	dev_t dev;
	ino_t ino;
	long long looked_up; /* CLOCK_MONOTONIC ns of the path's last lookup */
} kept_root = { NULL, -1, 0, 0, 0 };

static long long monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A duplicate of the kept directory when it is the one for dir and its
 * path was looked up recently; -1 otherwise. *dev and *ino: what it must
 * be. Under the lock. */
static int kept_dup(const char *dir, long long now, dev_t *dev, ino_t *ino)
{
	if (kept_root.fd < 0 || strcmp(kept_root.path, dir) != 0 ||
	    now - kept_root.looked_up >= STORE_ROOT_RECHECK_NS)
		return -1;
	*dev = kept_root.dev;
	*ino = kept_root.ino;
	return fcntl(kept_root.fd, F_DUPFD_CLOEXEC, 0);
}

/* Replaces what is kept by fd (ours, O_PATH, checked) for dir. The previous
 * descriptor is closed only while it is still the directory it was. */
static void kept_replace(const char *dir, int fd, const struct stat *sb, long long now)
{
	char *path = fd >= 0 ? strdup(dir) : NULL;
	struct stat old;

	if (fd >= 0 && path == NULL) {
		close(fd);
		fd = -1;
	}
	kept_lock();
	if (kept_root.fd >= 0 && fstat(kept_root.fd, &old) == 0 && old.st_dev == kept_root.dev &&
	    old.st_ino == kept_root.ino)
		close(kept_root.fd);
	free(kept_root.path);
	kept_root.path = path;
	kept_root.fd = fd;
	if (fd >= 0) {
		kept_root.dev = sb->st_dev;
		kept_root.ino = sb->st_ino;
		kept_root.looked_up = now;
	}
	kept_unlock();
}

/* Forgets the kept descriptor without closing it: its number no longer
 * names the directory, and may name a file of the host's. */
static void kept_forget(dev_t dev, ino_t ino)
{
	kept_lock();
	if (kept_root.fd >= 0 && kept_root.dev == dev && kept_root.ino == ino)
		kept_root.fd = -1;
	kept_unlock();
}

int store_root_open(const char *dir, bool keep, struct stat *sb)
{
	long long now;
	dev_t dev = 0;
	ino_t ino = 0;
	int fd, kfd, rv;

	if (!keep)
		return trust_opendir_stat(dir, sb);
	now = monotonic_ns();
	kept_lock();
	fd = kept_dup(dir, now, &dev, &ino);
	kept_unlock();
	if (fd >= 0) {
		if (fstat(fd, sb) == 0 && sb->st_dev == dev && sb->st_ino == ino &&
		    sb->st_nlink > 0) {
			rv = trust_check_stat(sb, 1);
			if (rv == TRUST_OK)
				return fd;
			close(fd);
			return rv;
		}
		close(fd);
		kept_forget(dev, ino);
	}
	fd = trust_opendir_path(dir, sb);
	if (fd < 0)
		return fd;
	kfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	kept_replace(dir, kfd, sb, now);
	return fd;
}
