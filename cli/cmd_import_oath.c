/* cmd_import_oath.c - `garde import-oath`: the tokens of a pam_oath users
 * file (liboath's usersfile.c format) into the store, one record per user.
 *
 *   TYPE USER PIN SECRET [COUNTER [LASTOTP [TIME]]]
 *
 * TYPE is HOTP, HOTP/E (the same), HOTP/T30 or HOTP/T60 (TOTP), each with
 * an optional /6, /7 or /8 digits suffix; PIN is '-' (none) or '+' (checked
 * by another module); SECRET is hex. pam_oath stores in COUNTER the last
 * counter it accepted, and writes LASTOTP with it: the next acceptable
 * counter is COUNTER + 1 when LASTOTP is there, COUNTER when it is not (a
 * token never used). garde keeps one token per user: a user's first line
 * is imported, later ones are reported. */
#define _GNU_SOURCE /* strptime */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "otp.h"
#include "store.h"

#define OATH_LINE_MAX 4096
#define OATH_FIELDS_MAX 7

static void usage(FILE *out)
{
	fprintf(out,
		"usage: garde import-oath FILE [--force] [--store DIR]\n"
		"\n"
		"Imports the tokens of a pam_oath users file (for example\n"
		"/etc/users.oath): lines 'TYPE USER PIN SECRET [COUNTER [LASTOTP [TIME]]]',\n"
		"TYPE one of HOTP, HOTP/E, HOTP/T30, HOTP/T60 with an optional /6../8 digits\n"
		"suffix. Lines whose PIN is not '-' or '+' are skipped: garde does not do\n"
		"PINs (the password is checked by the rest of the PAM stack). HOTP counters\n"
		"carry over. The users need not exist on this host. Every skipped line is\n"
		"reported as FILE:LINE: skipped: reason on standard error.\n"
		"\n"
		"  -f, --force       replace the tokens of users who already have one\n"
		"                    (otherwise they are skipped)\n"
		"  -s, --store DIR   token store (default " GARDE_DEFAULT_STORE ")\n"
		"  -h, --help        this help\n"
		"\n"
		"Exit status: 0 every token line imported, 1 some lines skipped or a store\n"
		"error, 2 usage error or unreadable FILE.\n");
}

/* The user names imported so far: a user's later lines are reported, not
 * imported over the first one (pam_oath would use the first). Open
 * addressing, grown at half load. */
struct oath_names {
	char **slot;
	size_t cap, n;
};

static uint64_t oath_name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static char **oath_names_find(struct oath_names *ns, const char *name)
{
	size_t i = (size_t)oath_name_hash(name) & (ns->cap - 1);

	while (ns->slot[i] != NULL && strcmp(ns->slot[i], name) != 0)
		i = (i + 1) & (ns->cap - 1);
	return &ns->slot[i];
}

static int oath_names_grow(struct oath_names *ns)
{
	struct oath_names bigger = { NULL, ns->cap == 0 ? 1024 : 2 * ns->cap, ns->n };
	size_t i;

	bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
	if (bigger.slot == NULL)
		return -1;
	for (i = 0; i < ns->cap; i++)
		if (ns->slot[i] != NULL)
			*oath_names_find(&bigger, ns->slot[i]) = ns->slot[i];
	free(ns->slot);
	*ns = bigger;
	return 0;
}

/* 1 when name was already there, 0 when added, -1 out of memory. */
static int oath_names_add(struct oath_names *ns, const char *name)
{
	char **at;

	if (2 * (ns->n + 1) > ns->cap && oath_names_grow(ns) != 0)
		return -1;
	at = oath_names_find(ns, name);
	if (*at != NULL)
		return 1;
	*at = strdup(name);
	if (*at == NULL)
		return -1;
	ns->n++;
	return 0;
}

static void oath_names_free(struct oath_names *ns)
{
	size_t i;

	for (i = 0; i < ns->cap; i++)
		free(ns->slot[i]);
	free(ns->slot);
}

/* TYPE into kind, digits and step. 0 or -1. */
static int oath_parse_type(const char *type, struct otp_token *t)
{
	static const struct {
		const char *name;
		enum otp_kind kind;
		unsigned step;
	} bases[] = {
		{ "HOTP/T30", OTP_TOTP, 30 }, { "HOTP/T60", OTP_TOTP, 60 },
		{ "HOTP/E", OTP_HOTP, 30 },   { "HOTP", OTP_HOTP, 30 },
	};
	size_t i, n;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		n = strlen(bases[i].name);
		if (strncmp(type, bases[i].name, n) != 0)
			continue;
		if (type[n] == '\0')
			t->digits = 6;
		else if (type[n] == '/' && type[n + 1] >= '6' && type[n + 1] <= '8' &&
			 type[n + 2] == '\0')
			t->digits = (unsigned)(type[n + 1] - '0');
		else
			return -1;
		t->kind = bases[i].kind;
		t->step = bases[i].step;
		t->algo = OTP_SHA1;
		return 0;
	}
	return -1;
}

/* pam_oath's last-use time: "%Y-%m-%dT%H:%M:%SL" (local time). */
static bool oath_time_ok(const char *text)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(text, "%Y-%m-%dT%H:%M:%SL", &tm);
	return end != NULL && *end == '\0';
}

/* Parses one line. Returns 1 for a token (user and tok set), 0 for a blank
 * or comment line, -1 to skip with *why set. */
static int oath_parse_line(char *line, const char **user, struct otp_token *t, const char **why)
{
	char *f[OATH_FIELDS_MAX + 1], *save = NULL, *p;
	size_t n = 0;
	uint64_t counter = 0;

	for (p = strtok_r(line, " \t\r", &save); p != NULL; p = strtok_r(NULL, " \t\r", &save)) {
		if (n == OATH_FIELDS_MAX) {
			*why = "more than 7 fields";
			return -1;
		}
		f[n++] = p;
	}
	if (n == 0 || f[0][0] == '#')
		return 0;
	if (oath_parse_type(f[0], t) != 0) {
		*why = "unknown token type (use HOTP, HOTP/E, HOTP/T30 or HOTP/T60, optionally "
		       "with /6, /7 or /8)";
		return -1;
	}
	if (n < 4) {
		*why = "missing fields (TYPE USER PIN SECRET are required)";
		return -1;
	}
	*user = f[1];
	if (strlen(f[1]) > STORE_USER_MAX) {
		*why = "user name longer than 1024 bytes";
		return -1;
	}
	if (strcmp(f[2], "-") != 0 && strcmp(f[2], "+") != 0) {
		*why = "the token has a PIN: garde does not do PINs (the password is checked by "
		       "the PAM stack); set the PIN field to - to import it";
		return -1;
	}
	if (cli_parse_hex(f[3], t->secret, sizeof(t->secret), &t->secret_len) != 0) {
		*why = "the secret is not 1 to 64 bytes of hex";
		return -1;
	}
	if (n >= 5 && cli_parse_uint(f[4], 0, (uint64_t)INT64_MAX - 1, &counter) != 0) {
		*why = "the counter is not a decimal number";
		return -1;
	}
	if (n >= 7 && !oath_time_ok(f[6])) {
		*why = "the last-use time is not YYYY-MM-DDTHH:MM:SSL";
		return -1;
	}
	/* pam_oath's counter is the last one used when a last OTP is recorded. */
	t->counter = t->kind == OTP_HOTP ? counter + (n >= 6 ? 1 : 0) : 0;
	return 1;
}

struct oath_run {
	const char *file;
	struct store *st;
	bool force;
	unsigned long imported, skipped;
	struct oath_names names;
};

static void oath_skip(struct oath_run *r, size_t lineno, const char *why, const char *user)
{
	char shown[128];

	r->skipped++;
	if (user != NULL)
		fprintf(stderr, "%s:%zu: skipped: %s: %s\n", r->file, lineno,
			cli_printable(user, shown, sizeof(shown)), why);
	else
		fprintf(stderr, "%s:%zu: skipped: %s\n", r->file, lineno, why);
}

/* Imports one parsed line. Returns 0, or -1 on an error that stops the
 * import (the store cannot be written). */
static int oath_import(struct oath_run *r, size_t lineno, const char *user,
		       const struct otp_token *t, int64_t now)
{
	int err = oath_names_add(&r->names, user);

	if (err < 0) {
		cli_error("import-oath", "out of memory");
		return -1;
	}
	if (err == 1) {
		oath_skip(r, lineno, "a second token for this user: garde keeps one token per "
			  "user, the first one was imported", user);
		return 0;
	}
	/* batch: one syncfs at the end instead of two fsyncs per user. */
	err = store_enroll_with(r->st, user, t, NULL, r->force, true, now);
	switch (err) {
	case STORE_OK:
		r->imported++;
		return 0;
	case STORE_EEXIST:
		oath_skip(r, lineno, "already has a token; use --force to replace it", user);
		return 0;
	case STORE_EINVAL:
	case STORE_ECORRUPT:
	case STORE_EWRONGUSER:
	case STORE_ESYMLINK:
	case STORE_ETYPE:
	case STORE_EOWNER:
	case STORE_EMODE:
		oath_skip(r, lineno, store_strerror(err), user);
		return 0;
	default:
		cli_error("import-oath", "%s:%zu: cannot write the store: %s; the import stopped "
			  "here", r->file, lineno, store_strerror(err));
		return -1;
	}
}

int cmd_import_oath(int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct oath_run r;
	struct cli_lines *lr = NULL;
	struct otp_token tok;
	const char *dir = GARDE_DEFAULT_STORE, *user = NULL, *why = NULL;
	char *line = NULL;
	size_t lineno = 0;
	int64_t now = (int64_t)time(NULL);
	bool stopped = false;
	int c, got, rv = CLI_FAIL, err;

	memset(&r, 0, sizeof(r));
	memset(&tok, 0, sizeof(tok));
	while ((c = getopt_long(argc, argv, "fs:h", options, NULL)) != -1) {
		switch (c) {
		case 'f': r.force = true; break;
		case 's': dir = optarg; break;
		case 'h': usage(stdout); return CLI_OK;
		default: usage(stderr); return CLI_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	r.file = argv[optind];
	if (cli_lines_open(r.file, &lr) != 0) {
		err = errno;
		cli_error("import-oath", "%s: cannot read it: %s", r.file,
			  err == EINVAL ? "not a regular file" : strerror(err));
		return CLI_USAGE;
	}
	line = OPENSSL_malloc(OATH_LINE_MAX);
	if (line == NULL) {
		cli_error("import-oath", "out of memory");
		goto out;
	}
	if (cli_open_store("import-oath", dir, &r.st) != 0)
		goto out;
	while ((got = cli_lines_next(lr, line, OATH_LINE_MAX, &lineno)) != CLI_LINE_EOF) {
		if (got == CLI_LINE_EIO) {
			cli_error("import-oath", "%s: read error after line %zu; the import stopped "
				  "there", r.file, lineno);
			stopped = true;
			break;
		}
		if (got == CLI_LINE_TOOLONG) {
			oath_skip(&r, lineno, "line longer than 4095 bytes", NULL);
			continue;
		}
		if (got == CLI_LINE_NUL) {
			oath_skip(&r, lineno, "line holds a NUL byte", NULL);
			continue;
		}
		user = NULL;
		got = oath_parse_line(line, &user, &tok, &why);
		if (got < 0)
			oath_skip(&r, lineno, why, user);
		else if (got > 0 && oath_import(&r, lineno, user, &tok, now) != 0)
			stopped = true;
		otp_token_wipe(&tok);
		if (stopped)
			break;
	}
	/* What was written is made durable even when the import stopped. */
	err = store_sync(r.st);
	if (err != STORE_OK) {
		cli_error("import-oath", "%s: cannot sync the store: %s; run sync(1) and check "
			  "the disk", dir, store_strerror(err));
		stopped = true;
	}
	printf("imported %lu user%s, skipped %lu line%s\n", r.imported, r.imported == 1 ? "" : "s",
	       r.skipped, r.skipped == 1 ? "" : "s");
	rv = stopped || r.skipped > 0 ? CLI_FAIL : CLI_OK;
out:
	if (line != NULL)
		OPENSSL_clear_free(line, OATH_LINE_MAX);
	otp_token_wipe(&tok);
	cli_lines_close(lr);
	oath_names_free(&r.names);
	store_close(r.st);
	return rv;
}
