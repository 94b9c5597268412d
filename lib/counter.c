/* counter.c - persistent counters (counter.h). */
#include "counter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "trust.h"

#define COUNTER_TEXT_MAX 24

/* A damaged file counts from zero again rather than failing: the count is
 * an alarm for the administrator, not a security decision. */
static uint64_t counter_parse(int fd)
{
	char text[COUNTER_TEXT_MAX + 1];
	ssize_t n = pread(fd, text, COUNTER_TEXT_MAX, 0);
	unsigned long long v;
	char *end;

	if (n <= 0)
		return 0;
	text[n] = '\0';
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || end == text || (*end != '\n' && *end != '\0'))
		return 0;
	return v;
}

static int counter_open(const char *dir, const char *name, int flags)
{
	int dirfd = trust_opendir(dir), fd, rv;

	if (dirfd < 0)
		return dirfd;
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
	close(dirfd);
	if (fd < 0)
		return errno == ENOENT ? TRUST_ENOENT : TRUST_EIO;
	rv = trust_check_fd(fd, 0);
	if (rv != TRUST_OK) {
		close(fd);
		return rv;
	}
	return fd;
}

int counter_bump(const char *dir, const char *name, uint64_t *value)
{
	char text[COUNTER_TEXT_MAX + 2];
	int fd = counter_open(dir, name, O_RDWR | O_CREAT), len, rv = TRUST_OK;

	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX) != 0) {
		close(fd);
		return TRUST_EIO;
	}
	*value = counter_parse(fd) + 1;
	len = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)*value);
	if (pwrite(fd, text, (size_t)len, 0) != len || ftruncate(fd, len) != 0)
		rv = TRUST_EIO;
	close(fd); /* releases the lock */
	return rv;
}

int counter_read(const char *dir, const char *name, uint64_t *value)
{
	int fd = counter_open(dir, name, O_RDONLY);

	*value = 0;
	if (fd == TRUST_ENOENT)
		return TRUST_OK;
	if (fd < 0)
		return fd;
	*value = counter_parse(fd);
	close(fd);
	return TRUST_OK;
}
