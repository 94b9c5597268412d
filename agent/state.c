/* state.c - the agent's state file (see state.h).
 *
 * Format: one "key=value" per line, written only by state_save. Plain text
 * rather than JSON so that a reader needs no parser beyond strchr, and an
 * administrator can read it with cat. */
#include "state.h"
#include "rfc3339.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void state_set_text(char *dst, size_t cap, const char *text)
{
	size_t i = 0;

	if (cap == 0)
		return;
	for (; text != NULL && text[i] != '\0' && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)text[i];
		/* One line per value: a newline in an error text would start a
		 * forged key on the next read. */
		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* Strict decimal (optional '-'), no junk. */
static int state_parse_int(const char *text, int64_t *out)
{
	char *end;
	long long v;

	if (text[0] == '\0')
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static void state_apply_line(struct agent_state *st, const char *key, const char *value)
{
	int64_t v;

	if (strcmp(key, "serial") == 0) {
		if (state_parse_int(value, &v) == 0 && v >= 0)
			st->serial = v;
	} else if (strcmp(key, "sha256") == 0) {
		if (strlen(value) == 64 && strspn(value, "0123456789abcdef") == 64)
			memcpy(st->sha256, value, 65);
	} else if (strcmp(key, "etag") == 0) {
		state_set_text(st->etag, sizeof(st->etag), value);
	} else if (strcmp(key, "last_fetch") == 0) {
		if (state_parse_int(value, &v) == 0 && v >= 0)
			st->last_fetch = v;
	} else if (strcmp(key, "last_install") == 0) {
		if (state_parse_int(value, &v) == 0 && v >= 0)
			st->last_install = v;
	} else if (strcmp(key, "last_error_at") == 0) {
		if (state_parse_int(value, &v) == 0 && v >= 0)
			st->last_error_at = v;
	} else if (strcmp(key, "last_error") == 0) {
		state_set_text(st->last_error, sizeof(st->last_error), value);
	} else if (strcmp(key, "last_result") == 0) {
		state_set_text(st->last_result, sizeof(st->last_result), value);
	}
}

int state_load(const char *dir, struct agent_state *st, char *why, size_t whylen)
{
	char path[4096], buf[STATE_MAX_BYTES + 1];
	size_t used = 0;
	struct stat sb;
	int fd = -1, rv = -1;

	memset(st, 0, sizeof(*st));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE) >= sizeof(path)) {
		snprintf(why, whylen, "%s: path too long", dir);
		goto out;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		rv = 0;
		goto out;
	}
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(why, whylen, "%s: cannot be read (%s): remove it, the next sync rewrites it",
			 path, fd < 0 ? strerror(errno) : "not a regular file");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0 || (used += (size_t)n) == sizeof(buf) - 1)
			break;
	}
	buf[used] = '\0';
	for (char *line = buf, *next; line != NULL && *line != '\0'; line = next) {
		char *eq;

		next = strchr(line, '\n');
		if (next == NULL)
			break; /* a line without its newline was cut: ignore it */
		*next++ = '\0';
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		state_apply_line(st, line, eq + 1);
	}
	rv = 0;
out:
	if (fd >= 0)
		close(fd);
	return rv;
}

int state_save(const char *dir, const struct agent_state *st, char *why, size_t whylen)
{
	char path[4096], tmp[4096], text[STATE_MAX_BYTES];
	int fd = -1, dfd = -1, rv = -1, n;
	size_t done = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dir, STATE_FILE,
			     (long)getpid()) >= sizeof(tmp)) {
		snprintf(why, whylen, "%s: path too long", dir);
		goto out;
	}
	n = snprintf(text, sizeof(text),
		     "serial=%" PRId64 "\nsha256=%s\netag=%s\nlast_fetch=%" PRId64
		     "\nlast_install=%" PRId64 "\nlast_error_at=%" PRId64
		     "\nlast_error=%s\nlast_result=%s\n",
		     st->serial, st->sha256, st->etag, st->last_fetch, st->last_install,
		     st->last_error_at, st->last_error, st->last_result);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		snprintf(why, whylen, "%s: state too large", path);
		goto out;
	}
	/* A stale temp file (a crash, or a name planted by someone who can
	 * write here) is removed, then created exclusively: never followed. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(why, whylen, "%s: cannot create (%s): check that %s exists and is writable",
			 tmp, strerror(errno), dir);
		goto out;
	}
	while (done < (size_t)n) {
		ssize_t w = write(fd, text + done, (size_t)n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	rv = 0;
out:
	if (fd >= 0) {
		close(fd);
		if (rv != 0)
			unlink(tmp);
	}
	if (dfd >= 0)
		close(dfd);
	return rv;
}

static void state_json_time(struct json_buf *jb, const char *key, int64_t when)
{
	char text[32];

	json_key(jb, key);
	if (when <= 0) {
		json_null(jb);
		return;
	}
	rfc3339_format(when, text, sizeof(text));
	json_str(jb, text);
}

void state_status_json(const struct agent_state *st, struct json_buf *jb)
{
	json_key(jb, "policy");
	json_obj_begin(jb);
	json_key(jb, "serial");
	if (st->serial > 0)
		json_int(jb, st->serial);
	else
		json_null(jb);
	json_key(jb, "sha256");
	json_str(jb, st->sha256[0] != '\0' ? st->sha256 : NULL);
	state_json_time(jb, "last_fetch", st->last_fetch);
	state_json_time(jb, "last_install", st->last_install);
	json_key(jb, "last_result");
	json_str(jb, st->last_result[0] != '\0' ? st->last_result : NULL);
	json_key(jb, "last_error");
	if (st->last_error_at > 0) {
		json_obj_begin(jb);
		state_json_time(jb, "at", st->last_error_at);
		json_key(jb, "reason");
		json_str(jb, st->last_error);
		json_obj_end(jb);
	} else {
		json_null(jb);
	}
	json_obj_end(jb);
}
