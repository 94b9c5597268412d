/* intake.c - spool -> journal (see sink.h "intake").
 *
 * The order is what makes delivery at least once: every accepted event is
 * appended to the journal, the journal is fsync'ed, and only then are the
 * spool files removed. A crash before the fsync leaves the spool files (the
 * journal's torn tail is cut at the next start); a crash after it but
 * before the unlinks journals those events twice, which the event id lets
 * a collector remove.
 *
 * Every spool file is hostile input: it must be a regular file named
 * HEX.json, at most SPOOL_MAX_RECORD bytes, one JSON object whose event.id
 * is that HEX. Anything else is renamed into SPOOL/bad/ with a log line that
 * says why and what to do: never delivered, never silently lost. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "jsonscan.h"
#include "sink.h"
#include "spool.h"
#include "trust.h"

struct intake {
	char *spool;
	int root_fd, new_fd, bad_fd;
	int ino_fd;
	DIR *dir;
	/* names of the files journaled in this round, removed after the fsync */
	char (*done)[SPOOL_MAX_ID + 8];
	size_t n_done, cap_done;
};

static bool intake_name_ok(const char *name, size_t *stem)
{
	size_t n = strlen(name);

	if (n < 6 || n - 5 > SPOOL_MAX_ID || strcmp(name + n - 5, ".json") != 0)
		return false;
	for (size_t i = 0; i < n - 5; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	*stem = n - 5;
	return true;
}

int intake_open(const char *spool, struct intake **out, char *why, size_t whylen)
{
	struct intake *in = calloc(1, sizeof(*in));
	int rv = -1;

	*out = NULL;
	if (in == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	in->root_fd = in->new_fd = in->bad_fd = in->ino_fd = -1;
	in->spool = strdup(spool);
	if (in->spool == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	in->root_fd = trust_opendir(spool);
	if (in->root_fd == TRUST_ENOENT) {
		/* The module creates it on its first event; the agent may start first. */
		if (mkdir(spool, 0700) != 0 && errno != EEXIST) {
			snprintf(why, whylen, "%s: cannot create the spool: %s", spool, strerror(errno));
			goto out;
		}
		in->root_fd = trust_opendir(spool);
	}
	if (in->root_fd < 0) {
		snprintf(why, whylen, "%s: %s; the spool must be a directory owned by root (or the "
			 "agent's user), mode 0700", spool, trust_strerror(in->root_fd));
		goto out;
	}
	if (mkdirat(in->root_fd, "new", 0700) != 0 && errno != EEXIST) {
		snprintf(why, whylen, "%s/new: cannot create: %s", spool, strerror(errno));
		goto out;
	}
	in->new_fd = openat(in->root_fd, "new", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in->new_fd < 0 || trust_check_fd(in->new_fd, 1) != TRUST_OK) {
		snprintf(why, whylen, "%s/new: not a safe directory (%s); it must be owned by root "
			 "(or the agent's user), mode 0700", spool,
			 in->new_fd < 0 ? strerror(errno) : "owner or mode");
		goto out;
	}
	int dup_fd = fcntl(in->new_fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0 || (in->dir = fdopendir(dup_fd)) == NULL) {
		if (dup_fd >= 0)
			close(dup_fd);
		snprintf(why, whylen, "%s/new: %s", spool, strerror(errno));
		goto out;
	}
	in->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (in->ino_fd >= 0) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/new", spool);
		if (inotify_add_watch(in->ino_fd, path, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE) < 0) {
			close(in->ino_fd);
			in->ino_fd = -1;
		}
	}
	if (in->ino_fd < 0) {
		/* The agent still works: the caller rescans at least every minute. */
		deliver_log("%s/new: no inotify watch (%s): new events are picked up by the "
			    "periodic rescan only", spool, strerror(errno));
	}
	rv = 0;
out:
	if (rv != 0)
		intake_close(in);
	else
		*out = in;
	return rv;
}

void intake_close(struct intake *in)
{
	if (in == NULL)
		return;
	if (in->dir != NULL)
		closedir(in->dir);
	if (in->ino_fd >= 0)
		close(in->ino_fd);
	if (in->bad_fd >= 0)
		close(in->bad_fd);
	if (in->new_fd >= 0)
		close(in->new_fd);
	if (in->root_fd >= 0)
		close(in->root_fd);
	free(in->done);
	free(in->spool);
	free(in);
}

int intake_wait_fd(struct intake *in)
{
	return in->ino_fd;
}

/* Moves new/NAME to bad/NAME, logging why. A file that cannot be moved
 * stays where it is and is logged again next time: nothing is deleted. */
static void intake_reject(struct intake *in, const char *name, const char *reason)
{
	if (in->bad_fd < 0) {
		if (mkdirat(in->root_fd, "bad", 0700) != 0 && errno != EEXIST) {
			deliver_log("%s/new/%s: %s; cannot create %s/bad: %s", in->spool, name, reason,
				    in->spool, strerror(errno));
			return;
		}
		in->bad_fd = openat(in->root_fd, "bad", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				    O_CLOEXEC);
		if (in->bad_fd < 0) {
			deliver_log("%s/new/%s: %s; cannot open %s/bad: %s", in->spool, name, reason,
				    in->spool, strerror(errno));
			return;
		}
	}
	if (renameat(in->new_fd, name, in->bad_fd, name) != 0) {
		deliver_log("%s/new/%s: %s; cannot move it to %s/bad: %s", in->spool, name, reason,
			    in->spool, strerror(errno));
		return;
	}
	deliver_log("%s/new/%s: %s: moved to %s/bad/ and never delivered; inspect it, then "
		    "delete it", in->spool, name, reason, in->spool);
}

/* Reads and checks one spool file into buf; NULL on success, else why
 * (static text, or written into why[0..96)). */
static const char *intake_read(struct intake *in, const char *name, size_t stem, char *buf,
			       size_t cap, size_t *len, char why[96])
{
	char id[SPOOL_MAX_ID + 1];
	const char *jwhy = NULL;
	size_t off = 0, n = 0;
	struct stat st;
	ssize_t got;
	int fd;

	fd = openat(in->new_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? "a symbolic link" : "cannot be opened";
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return "not a regular file";
	}
	if (st.st_size > SPOOL_MAX_RECORD) {
		close(fd);
		return "larger than 4096 bytes";
	}
	while (n < cap && (got = read(fd, buf + n, cap - n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			close(fd);
			return "read error";
		}
		n += (size_t)got;
	}
	close(fd);
	if (n > SPOOL_MAX_RECORD)
		return "larger than 4096 bytes";
	if (memchr(buf, '\0', n) != NULL)
		return "contains a NUL byte";
	/* Inter-token white space may be any of these; inside a string they are
	 * invalid anyway. The journal wants one line. */
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	while (off < n && buf[off] == ' ')
		off++;
	if (off == n)
		return "empty";
	memmove(buf, buf + off, n - off);
	n -= off;
	if (jsonscan_validate(buf, n, &off, &jwhy) != 0) {
		snprintf(why, 96, "not JSON (byte %zu: %s)", off, jwhy ? jwhy : "error");
		return why;
	}
	if (jsonscan_get_str(buf, n, "event.id", id, sizeof(id)) != 1)
		return "no event.id";
	if (strlen(id) != stem || memcmp(id, name, stem) != 0)
		return "event.id does not match the file name";
	*len = n;
	return NULL;
}

static void intake_drain_inotify(struct intake *in)
{
	char buf[4096];

	if (in->ino_fd < 0)
		return;
	while (read(in->ino_fd, buf, sizeof(buf)) > 0)
		;
}

int intake_run(struct intake *in, struct journal *j, size_t max)
{
	char buf[SPOOL_MAX_RECORD + 1], whybuf[96];
	struct dirent *de;
	size_t moved = 0;
	int rv = -1;

	intake_drain_inotify(in);
	if (in->cap_done < max) {
		void *p = realloc(in->done, max * sizeof(*in->done));
		if (p == NULL) {
			deliver_log("out of memory in the spool intake");
			return -1;
		}
		in->done = p;
		in->cap_done = max;
	}
	in->n_done = 0;
	rewinddir(in->dir);
	while (in->n_done < max && (de = readdir(in->dir)) != NULL) {
		const char *why;
		size_t stem = 0, len = 0;
		int jr;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!intake_name_ok(de->d_name, &stem)) {
			intake_reject(in, de->d_name, "not named HEX.json");
			continue;
		}
		why = intake_read(in, de->d_name, stem, buf, sizeof(buf), &len, whybuf);
		if (why != NULL) {
			intake_reject(in, de->d_name, why);
			continue;
		}
		jr = journal_append(j, buf, len, NULL);
		if (jr != JOURNAL_OK) {
			deliver_log("%s: cannot append: %s; the events stay in the spool",
				    journal_path(j), journal_strerror(jr));
			goto out;
		}
		memcpy(in->done[in->n_done++], de->d_name, stem + 6);
	}
	if (in->n_done == 0) {
		rv = 0;
		goto out;
	}
	rv = journal_sync(j);
	if (rv != JOURNAL_OK) {
		deliver_log("%s: cannot write or fsync: %s (%s); the events stay in the spool",
			    journal_path(j), journal_strerror(rv), strerror(errno));
		rv = -1;
		goto out;
	}
	/* Durable in the journal: now, and only now, the spool copies go. */
	for (size_t i = 0; i < in->n_done; i++) {
		if (unlinkat(in->new_fd, in->done[i], 0) != 0 && errno != ENOENT)
			deliver_log("%s/new/%s: journaled but cannot be removed (%s): it will be "
				    "journaled again (a duplicate)", in->spool, in->done[i],
				    strerror(errno));
		moved++;
	}
	(void)fsync(in->new_fd);
	rv = (int)moved;
out:
	if (rv < 0) {
		/* The appended records may be on disk or not: either way their
		 * spool files remain, so nothing is lost (duplicates at worst). */
		(void)journal_sync(j);
	}
	return rv;
}

size_t intake_depth(struct intake *in)
{
	size_t n = 0;

	if (spool_count(in->spool, &n) != SPOOL_OK)
		return 0;
	return n;
}
