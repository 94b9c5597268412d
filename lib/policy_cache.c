/* policy_cache.c - loading the policy for a login, through a snapshot.
 *
 * The snapshot lives in the (root-only) token store as
 * policy-<hash of the policy path>.snap. It is trusted like any store file
 * (DESIGN.md "Files and trust") and bound to the policy file's identity
 * (policy_snapshot.h), so an edited, replaced or touched policy is parsed
 * again. Losing a snapshot costs one parse, so it is written without fsync. */
#include "policy_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_snapshot.h"
#include "store.h"
#include "trust.h"

#define SNAPSHOT_NAME_MAX 64

static void snapshot_name(const char *path, char *name, size_t len)
{
	char hex[STORE_HASH_HEX];

	store_name_hash(path, strlen(path), hex);
	snprintf(name, len, "policy-%.16s.snap", hex);
}

/* 0 with *out, or nonzero when there is no usable snapshot. */
static int snapshot_read(int dirfd, const char *name, const struct policy_source_id *id,
			 const struct policy_load_opts *opts, struct policy **out)
{
	struct stat st;
	void *map;
	int fd = trust_openat_stat(dirfd, name, 0, &st), rv = -1;

	if (fd < 0)
		return -1;
	if (st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX)
		goto out;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		goto out;
	rv = policy_snapshot_decode(map, (size_t)st.st_size, id,
				    opts != NULL ? opts->zoneinfo_dir : NULL, out);
	if (rv != 0)
		munmap(map, (size_t)st.st_size);
out:
	close(fd);
	return rv;
}

static void snapshot_write(int dirfd, const char *name, const struct policy_source_id *id,
			   const struct policy *pol)
{
	char tmp[SNAPSHOT_NAME_MAX + 32];
	void *buf = NULL;
	size_t len = 0, done = 0;
	int fd;

	if (policy_snapshot_encode(pol, id, &buf, &len) != 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", name, (long)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (close(fd) != 0 || done != len || renameat(dirfd, tmp, dirfd, name) != 0)
		unlinkat(dirfd, tmp, 0);
out:
	free(buf);
}

static void report(const struct policy_load_opts *opts, const char *path, const char *message)
{
	if (opts != NULL && opts->diag != NULL)
		opts->diag(opts->diag_arg, path, 0, message);
}

int policy_cache_load(const char *path, int dirfd, const struct policy_load_opts *opts,
		      struct policy **out, struct policy_source_id *id_out)
{
	struct policy_source_id id;
	char name[SNAPSHOT_NAME_MAX];
	struct stat st;
	int fd, rv;

	/* The usual login: the snapshot matches the file's identity, read with
	 * one stat and the trust rules, and the text is never opened. */
	snapshot_name(path, name, sizeof(name));
	if (dirfd >= 0 && trust_stat(path, &st) == TRUST_OK) {
		policy_source_id_of(&st, &id);
		if (snapshot_read(dirfd, name, &id, opts, out) == 0)
			goto loaded;
	}
	/* Otherwise the text, identified by the file actually opened. */
	fd = trust_openat_stat(AT_FDCWD, path, 0, &st);
	if (fd < 0) {
		report(opts, path, trust_strerror(fd));
		return -1;
	}
	policy_source_id_of(&st, &id);
	rv = policy_load_fd(fd, path, opts, out);
	if (rv == 0 && dirfd >= 0)
		snapshot_write(dirfd, name, &id, *out);
	close(fd);
	if (rv != 0)
		return rv;
loaded:
	if (id_out != NULL)
		*id_out = id;
	return 0;
}
