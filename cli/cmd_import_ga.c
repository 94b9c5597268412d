/* cmd_import_ga.c - `garde import-google-authenticator`: one user's
 * ~/.google_authenticator file into the store.
 *
 *   BASE32SECRET
 *   " RATE_LIMIT 3 30 ...         options: one per line, after a '"'
 *   " WINDOW_SIZE 17
 *   " DISALLOW_REUSE ...
 *   " TOTP_AUTH                   (TOTP) or " HOTP_COUNTER N (HOTP, N >= 1:
 *   " STEP_SIZE 30                 the next counter it accepts)
 *   12345678                      scratch codes: 8 digits each
 *
 * google-authenticator codes are always 6 digits of HMAC-SHA1. The scratch
 * codes are stored hashed (store_scratch_prepare); every buffer that held
 * one, or the secret, is wiped. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "otp.h"
#include "store.h"

#define GA_LINE_MAX 1024
#define GA_LINES_MAX 200 /* the tool writes about 20; a longer file is not one of its */
#define GA_CODE_LEN 8

static void usage(FILE *out)
{
	fprintf(out,
		"usage: garde import-google-authenticator USER FILE [--force] [--store DIR]\n"
		"\n"
		"Imports USER's google-authenticator file (usually ~USER/.google_authenticator):\n"
		"the secret, TOTP_AUTH or HOTP_COUNTER, STEP_SIZE, and the scratch codes\n"
		"(stored hashed; each works once). WINDOW_SIZE, RATE_LIMIT and DISALLOW_REUSE\n"
		"are not carried over: garde takes the window and the lockout from the\n"
		"policy, and always refuses a code used before.\n"
		"\n"
		"  -f, --force       replace USER's existing token\n"
		"  -s, --store DIR   token store (default " GARDE_DEFAULT_STORE ")\n"
		"  -h, --help        this help\n"
		"\n"
		"Exit status: 0 imported, 1 not imported (bad file, already has a token,\n"
		"store error), 2 usage error or unreadable FILE.\n");
}

struct ga_file {
	struct otp_token tok;
	bool totp_auth, hotp;
	size_t n_scratch;
	char scratch[STORE_MAX_SCRATCH][GA_CODE_LEN + 1];
};

/* Reads "N" after an option name: decimal in min..max. */
static int ga_number(const char *file, size_t lineno, const char *name, const char *text,
		     uint64_t min, uint64_t max, uint64_t *out)
{
	if (text == NULL || cli_parse_uint(text, min, max, out) != 0) {
		fprintf(stderr, "%s:%zu: %s wants a number from %llu to %llu\n", file, lineno, name,
			(unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

/* One option line (without its leading '"'). 0 or -1 after an error. */
static int ga_option(const char *file, size_t lineno, char *text, struct ga_file *g)
{
	char *save = NULL, *name = strtok_r(text, " \t", &save);
	char *arg = strtok_r(NULL, " \t", &save);
	uint64_t v;

	if (name == NULL) {
		fprintf(stderr, "%s:%zu: note: empty option line ignored\n", file, lineno);
		return 0;
	}
	if (strcmp(name, "TOTP_AUTH") == 0) {
		g->totp_auth = true;
	} else if (strcmp(name, "HOTP_COUNTER") == 0) {
		if (ga_number(file, lineno, name, arg, 1, (uint64_t)INT64_MAX, &v) != 0)
			return -1;
		g->hotp = true;
		g->tok.counter = v;
	} else if (strcmp(name, "STEP_SIZE") == 0) {
		if (ga_number(file, lineno, name, arg, 1, OTP_STEP_MAX, &v) != 0)
			return -1;
		g->tok.step = (unsigned)v;
	} else if (strcmp(name, "WINDOW_SIZE") == 0) {
		fprintf(stderr, "%s:%zu: note: WINDOW_SIZE is not imported: garde's window comes "
			"from the policy (mfa.window_past, mfa.window_future)\n", file, lineno);
	} else if (strcmp(name, "RATE_LIMIT") == 0) {
		fprintf(stderr, "%s:%zu: note: RATE_LIMIT is not imported: garde's lockout comes "
			"from the policy (lockout.user, lockout.source)\n", file, lineno);
	} else if (strcmp(name, "DISALLOW_REUSE") == 0) {
		fprintf(stderr, "%s:%zu: note: DISALLOW_REUSE: garde always refuses a code used "
			"before\n", file, lineno);
	} else if (strcmp(name, "TIME_SKEW") == 0 || strcmp(name, "RESETTING_TIME_SKEW") == 0) {
		fprintf(stderr, "%s:%zu: note: %s is not imported: garde does not learn clock "
			"skew; keep the host's clock in sync (NTP)\n", file, lineno, name);
	} else {
		char shown[64];

		fprintf(stderr, "%s:%zu: note: unknown option %s ignored\n", file, lineno,
			cli_printable(name, shown, sizeof(shown)));
	}
	return 0;
}

static bool ga_is_code(const char *s)
{
	size_t i;

	for (i = 0; i < GA_CODE_LEN; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return s[GA_CODE_LEN] == '\0';
}

/* Reads the whole file into g. 0, -1 after printing FILE:LINE: error, or
 * -2 when the file cannot be read at all. */
static int ga_read(const char *file, struct ga_file *g)
{
	struct cli_lines *lr = NULL;
	char *line = NULL;
	size_t lineno = 0, n;
	int got, err, rv = -1;

	if (cli_lines_open(file, &lr) != 0) {
		err = errno;
		fprintf(stderr, "%s: cannot read it: %s\n", file,
			err == EINVAL ? "not a regular file" : strerror(err));
		return -2;
	}
	line = OPENSSL_malloc(GA_LINE_MAX);
	if (line == NULL) {
		fprintf(stderr, "garde import-google-authenticator: out of memory\n");
		goto out;
	}
	while ((got = cli_lines_next(lr, line, GA_LINE_MAX, &lineno)) != CLI_LINE_EOF) {
		if (got != CLI_LINE_OK) {
			fprintf(stderr, "%s:%zu: %s\n", file, lineno,
				got == CLI_LINE_TOOLONG ? "line too long: this is not a "
							  "google-authenticator file" :
				got == CLI_LINE_NUL ? "NUL byte: this is not a google-authenticator file" :
				"read error");
			goto out;
		}
		if (lineno > GA_LINES_MAX) {
			fprintf(stderr, "%s:%zu: more than %d lines: this is not a "
				"google-authenticator file\n", file, lineno, GA_LINES_MAX);
			goto out;
		}
		n = strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (lineno == 1) {
			err = otp_base32_decode(line, g->tok.secret, sizeof(g->tok.secret),
						&g->tok.secret_len);
			if (err != OTP_OK || g->tok.secret_len == 0) {
				fprintf(stderr, "%s:1: the first line is not a base32 secret of 1 to "
					"%d bytes\n", file, OTP_SECRET_MAX);
				goto out;
			}
		} else if (line[0] == '"') {
			if (ga_option(file, lineno, line + 1, g) != 0)
				goto out;
		} else if (n == 0) {
			continue;
		} else if (ga_is_code(line)) {
			if (g->n_scratch == STORE_MAX_SCRATCH) {
				fprintf(stderr, "%s:%zu: more than %d scratch codes: garde keeps %d; "
					"remove the extra ones from a copy of the file\n", file,
					lineno, STORE_MAX_SCRATCH, STORE_MAX_SCRATCH);
				goto out;
			}
			memcpy(g->scratch[g->n_scratch++], line, GA_CODE_LEN + 1);
		} else {
			fprintf(stderr, "%s:%zu: neither an option (\" NAME) nor an 8-digit scratch "
				"code\n", file, lineno);
			goto out;
		}
	}
	if (lineno == 0) {
		fprintf(stderr, "%s: empty file\n", file);
		goto out;
	}
	if (g->totp_auth == g->hotp) {
		fprintf(stderr, "%s: %s: the file must have exactly one of \" TOTP_AUTH and "
			"\" HOTP_COUNTER\n", file, g->hotp ? "both" : "neither");
		goto out;
	}
	g->tok.kind = g->hotp ? OTP_HOTP : OTP_TOTP;
	rv = 0;
out:
	if (line != NULL)
		OPENSSL_clear_free(line, GA_LINE_MAX);
	cli_lines_close(lr);
	return rv;
}

int cmd_import_ga(int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = GARDE_DEFAULT_STORE, *user, *file;
	const char *codes[STORE_MAX_SCRATCH];
	struct ga_file g;
	struct store_scratch sc;
	struct store *st = NULL;
	char shown[128];
	bool force = false;
	size_t i;
	int c, err, rv = CLI_FAIL;

	memset(&g, 0, sizeof(g));
	memset(&sc, 0, sizeof(sc));
	while ((c = getopt_long(argc, argv, "fs:h", options, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 's': dir = optarg; break;
		case 'h': usage(stdout); return CLI_OK;
		default: usage(stderr); return CLI_USAGE;
		}
	}
	if (optind + 2 != argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	user = argv[optind];
	file = argv[optind + 1];
	if (user[0] == '\0' || strnlen(user, STORE_USER_MAX + 1) > STORE_USER_MAX) {
		cli_error("import-google-authenticator", "USER: use 1 to %d bytes", STORE_USER_MAX);
		return CLI_USAGE;
	}
	cli_printable(user, shown, sizeof(shown));
	g.tok.algo = OTP_SHA1;
	g.tok.digits = 6;
	g.tok.step = 30;
	err = ga_read(file, &g);
	if (err != 0) {
		fprintf(stderr, "garde import-google-authenticator: %s was not imported\n", shown);
		if (err == -2)
			rv = CLI_USAGE;
		goto out;
	}
	for (i = 0; i < g.n_scratch; i++)
		codes[i] = g.scratch[i];
	err = store_scratch_prepare(&sc, codes, g.n_scratch);
	if (err != STORE_OK) {
		cli_error("import-google-authenticator", "cannot hash the scratch codes: %s",
			  store_strerror(err));
		goto out;
	}
	if (cli_open_store("import-google-authenticator", dir, &st) != 0)
		goto out;
	err = store_enroll_with(st, user, &g.tok, &sc, force, false, (int64_t)time(NULL));
	if (err == STORE_EEXIST) {
		cli_error("import-google-authenticator", "%s already has a token; use --force to "
			  "replace it", shown);
		goto out;
	}
	if (err != STORE_OK) {
		cli_error("import-google-authenticator", "%s: cannot store the token of %s: %s",
			  dir, shown, store_strerror(err));
		goto out;
	}
	printf("imported %s: %s, sha1, 6 digits", shown, otp_kind_name(g.tok.kind));
	if (g.tok.kind == OTP_TOTP)
		printf(", %u s steps", g.tok.step);
	else
		printf(", next counter %llu", (unsigned long long)g.tok.counter);
	printf(", %zu scratch code%s (stored hashed)\n", g.n_scratch, g.n_scratch == 1 ? "" : "s");
	rv = CLI_OK;
out:
	OPENSSL_cleanse(&g, sizeof(g));
	OPENSSL_cleanse(&sc, sizeof(sc));
	store_close(st);
	return rv;
}
