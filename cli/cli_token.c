/* cli_token.c - pieces shared by the token commands (enroll, import-*,
 * status, unlock, remove): strict number and hex parsing, a bounded line
 * reader for files that hold secrets, printable names, the store. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "hex.h"

int cli_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = text;

	if (text == NULL || *p == '\0' || (p[0] == '0' && p[1] != '\0'))
		return -1;
	for (; *p != '\0'; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			return -1;
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cli_parse_hex(const char *text, uint8_t *out, size_t cap, size_t *len)
{
	int n = hex_decode(text, out, cap);

	if (n < 0)
		return -1;
	*len = (size_t)n;
	return 0;
}

const char *cli_printable(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (cap == 0)
		return "";
	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= cap)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= cap)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

int cli_open_store(const char *command, const char *dir, struct store **out)
{
	int rv = store_open(dir, out);

	if (rv == STORE_OK)
		return 0;
	if (store_error_is_unsafe(rv))
		cli_error(command, "%s: %s; the store must be a directory owned by root (or you), "
			  "mode 0700", dir, store_strerror(rv));
	else if (rv == STORE_EIO && errno == ENOENT)
		cli_error(command, "%s: its parent directory does not exist; create it or pass "
			  "--store DIR", dir);
	else
		cli_error(command, "%s: cannot open the store: %s (%s)", dir, store_strerror(rv),
			  strerror(errno));
	return -1;
}

/* Stdio's buffer holds whatever the file holds (secrets): it is ours, so
 * that it can be wiped when the file is closed. */
#define CLI_IOBUF 65536

struct cli_lines {
	FILE *f;
	char *iobuf;
	size_t lineno;
};

int cli_lines_open(const char *path, struct cli_lines **out)
{
	struct cli_lines *lr = NULL;
	struct stat sb;
	int fd = -1, rv = -1, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		goto out;
	if (fstat(fd, &sb) != 0)
		goto out;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	lr = calloc(1, sizeof(*lr));
	if (lr == NULL || (lr->iobuf = malloc(CLI_IOBUF)) == NULL)
		goto out;
	lr->f = fdopen(fd, "r");
	if (lr->f == NULL)
		goto out;
	fd = -1;
	if (setvbuf(lr->f, lr->iobuf, _IOFBF, CLI_IOBUF) != 0)
		goto out;
	*out = lr;
	lr = NULL;
	rv = 0;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	cli_lines_close(lr);
	errno = saved; /* for the caller's message */
	return rv;
}

int cli_lines_next(struct cli_lines *lr, char *buf, size_t cap, size_t *lineno)
{
	size_t len = 0;
	bool too_long = false, nul = false, any = false;
	int c;

	for (;;) {
		c = getc_unlocked(lr->f);
		if (c == EOF || c == '\n')
			break;
		any = true;
		if (c == '\0')
			nul = true;
		if (len + 1 < cap)
			buf[len++] = (char)c;
		else
			too_long = true;
	}
	buf[len] = '\0';
	if (c == EOF && ferror(lr->f))
		return CLI_LINE_EIO;
	if (c == EOF && !any)
		return CLI_LINE_EOF;
	*lineno = ++lr->lineno;
	if (too_long)
		return CLI_LINE_TOOLONG;
	return nul ? CLI_LINE_NUL : CLI_LINE_OK;
}

void cli_lines_close(struct cli_lines *lr)
{
	if (lr == NULL)
		return;
	if (lr->f != NULL)
		fclose(lr->f);
	if (lr->iobuf != NULL) {
		OPENSSL_cleanse(lr->iobuf, CLI_IOBUF);
		free(lr->iobuf);
	}
	free(lr);
}
