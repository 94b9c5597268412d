/* cmd_enroll.c - `garde enroll`: a new TOTP/HOTP token for a user, shown
 * as an otpauth:// URI and, on request, a QR code in the terminal. */
#include <getopt.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <qrencode.h>

#include "cli.h"
#include "otp.h"
#include "store.h"

#define ENROLL_SECRET_LEN 20 /* bytes: RFC 4226 recommends 160 bits */
#define ENROLL_ISSUER_MAX 128
/* The URI: label and issuer percent-encoded (3 bytes per byte at worst),
 * base32 of the largest secret, the parameters. */
#define ENROLL_URI_MAX (3 * STORE_USER_MAX + 6 * ENROLL_ISSUER_MAX + 512)
#define ENROLL_QR_QUIET 2 /* modules of light border around the code */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: garde enroll USER [--totp|--hotp] [--digits N] [--algorithm ALG]\n"
		"                    [--step S] [--secret HEX] [--issuer NAME] [--qr] [--force]\n"
		"                    [--store DIR]\n"
		"\n"
		"Gives USER a new token and prints its otpauth:// URI on the first line of\n"
		"standard output (it holds the secret: give it to the user only). Default:\n"
		"TOTP, sha1, 6 digits, 30 s steps, a random 160-bit secret, issuer \"garde\".\n"
		"\n"
		"      --totp            time-based token (default)\n"
		"      --hotp            counter-based token (starts at counter 0)\n"
		"  -d, --digits N        6, 7 or 8 digits (default 6)\n"
		"  -a, --algorithm ALG   sha1, sha256 or sha512 (default sha1; most apps\n"
		"                        only support sha1)\n"
		"  -S, --step S          TOTP step in seconds, 1..%d (default 30)\n"
		"      --secret HEX      use this secret (1..%d bytes in hex) instead of a\n"
		"                        random one; it is visible to other users in ps(1)\n"
		"                        while garde runs: prefer the random default\n"
		"  -i, --issuer NAME     the name the app shows (default \"garde\")\n"
		"  -q, --qr              also draw the URI as a QR code (for a terminal with a\n"
		"                        dark background: the light modules are drawn)\n"
		"  -f, --force           replace the user's existing token\n"
		"  -s, --store DIR       token store (default " GARDE_DEFAULT_STORE ")\n"
		"  -h, --help            this help\n"
		"\n"
		"Exit status: 0 enrolled, 1 not enrolled (already has a token, store\n"
		"error), 2 usage error.\n",
		OTP_STEP_MAX, OTP_SECRET_MAX);
}

struct enroll_args {
	const char *user;
	const char *issuer;
	const char *store;
	bool qr;
	bool force;
	bool step_given;
	struct otp_token tok;
};

/* Parses argv into args; the --secret text is wiped from argv once decoded.
 * Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct enroll_args *a)
{
	enum { OPT_TOTP = 256, OPT_HOTP, OPT_SECRET };
	static const struct option options[] = {
		{ "totp", no_argument, NULL, OPT_TOTP },
		{ "hotp", no_argument, NULL, OPT_HOTP },
		{ "digits", required_argument, NULL, 'd' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "step", required_argument, NULL, 'S' },
		{ "secret", required_argument, NULL, OPT_SECRET },
		{ "issuer", required_argument, NULL, 'i' },
		{ "qr", no_argument, NULL, 'q' },
		{ "force", no_argument, NULL, 'f' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool secret_given = false, kind_given = false;
	uint64_t v;
	int c;

	a->tok.kind = OTP_TOTP;
	a->tok.algo = OTP_SHA1;
	a->tok.digits = 6;
	a->tok.step = 30;
	a->issuer = "garde";
	a->store = GARDE_DEFAULT_STORE;
	while ((c = getopt_long(argc, argv, "d:a:S:i:qfs:h", options, NULL)) != -1) {
		switch (c) {
		case OPT_TOTP:
		case OPT_HOTP:
			if (kind_given && a->tok.kind != (c == OPT_HOTP ? OTP_HOTP : OTP_TOTP)) {
				cli_error("enroll", "--totp and --hotp exclude each other");
				return CLI_USAGE;
			}
			kind_given = true;
			a->tok.kind = c == OPT_HOTP ? OTP_HOTP : OTP_TOTP;
			break;
		case 'd':
			if (cli_parse_uint(optarg, OTP_DIGITS_MIN, OTP_DIGITS_MAX, &v) != 0) {
				cli_error("enroll", "--digits '%s': use 6, 7 or 8", optarg);
				return CLI_USAGE;
			}
			a->tok.digits = (unsigned)v;
			break;
		case 'a':
			if (otp_algo_parse(optarg, &a->tok.algo) != OTP_OK) {
				cli_error("enroll", "--algorithm '%s': use sha1, sha256 or sha512",
					  optarg);
				return CLI_USAGE;
			}
			break;
		case 'S':
			if (cli_parse_uint(optarg, 1, OTP_STEP_MAX, &v) != 0) {
				cli_error("enroll", "--step '%s': use a number of seconds, 1..%d",
					  optarg, OTP_STEP_MAX);
				return CLI_USAGE;
			}
			a->tok.step = (unsigned)v;
			a->step_given = true;
			break;
		case OPT_SECRET: {
			size_t n = strlen(optarg);
			int bad = cli_parse_hex(optarg, a->tok.secret, sizeof(a->tok.secret),
						&a->tok.secret_len);

			OPENSSL_cleanse(optarg, n);
			if (bad != 0) {
				cli_error("enroll", "--secret: use an even number of hex digits, "
					  "1 to %d bytes", OTP_SECRET_MAX);
				return CLI_USAGE;
			}
			secret_given = true;
			break;
		}
		case 'i':
			if (optarg[0] == '\0' || strlen(optarg) > ENROLL_ISSUER_MAX) {
				cli_error("enroll", "--issuer: use 1 to %d bytes", ENROLL_ISSUER_MAX);
				return CLI_USAGE;
			}
			a->issuer = optarg;
			break;
		case 'q': a->qr = true; break;
		case 'f': a->force = true; break;
		case 's': a->store = optarg; break;
		case 'h': usage(stdout); return CLI_OK;
		default: usage(stderr); return CLI_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	a->user = argv[optind];
	if (a->user[0] == '\0' || strnlen(a->user, STORE_USER_MAX + 1) > STORE_USER_MAX) {
		cli_error("enroll", "USER: use 1 to %d bytes", STORE_USER_MAX);
		return CLI_USAGE;
	}
	if (a->tok.kind == OTP_HOTP && a->step_given) {
		cli_error("enroll", "--step is for TOTP tokens; drop it or drop --hotp");
		return CLI_USAGE;
	}
	if (!secret_given) {
		a->tok.secret_len = ENROLL_SECRET_LEN;
		if (RAND_bytes(a->tok.secret, ENROLL_SECRET_LEN) != 1) {
			cli_error("enroll", "the random generator failed; nothing was enrolled");
			return CLI_FAIL;
		}
	}
	return -1;
}

/* One terminal row shows two module rows with the Unicode half blocks.
 * The light modules are drawn (the quiet zone too), so the code reads dark
 * on light on the usual dark terminal background. */
static void draw_qr(const QRcode *qr, FILE *out)
{
	const int w = qr->width, size = w + 2 * ENROLL_QR_QUIET;
	int x, y;

	for (y = 0; y < size; y += 2) {
		for (x = 0; x < size; x++) {
			bool top = true, bottom = true;
			int mx = x - ENROLL_QR_QUIET, my = y - ENROLL_QR_QUIET;

			if (mx >= 0 && mx < w && my >= 0 && my < w)
				top = (qr->data[my * w + mx] & 1) == 0;
			if (y + 1 >= size)
				bottom = false; /* past the last row */
			else if (mx >= 0 && mx < w && my + 1 >= 0 && my + 1 < w)
				bottom = (qr->data[(my + 1) * w + mx] & 1) == 0;
			fputs(top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ", out);
		}
		fputc('\n', out);
	}
}

int cmd_enroll(int argc, char **argv)
{
	struct enroll_args a;
	struct store *st = NULL;
	QRcode *qr = NULL;
	char *uri = NULL, shown[128];
	int rv = CLI_FAIL, err;

	memset(&a, 0, sizeof(a));
	err = parse_args(argc, argv, &a);
	if (err >= 0) {
		rv = err;
		goto out;
	}
	cli_printable(a.user, shown, sizeof(shown));
	uri = OPENSSL_zalloc(ENROLL_URI_MAX);
	if (uri == NULL) {
		cli_error("enroll", "out of memory");
		goto out;
	}
	/* The URI and the QR code are made before the token is stored, so that
	 * a failure here never leaves a token that no one was shown. */
	err = otp_uri(&a.tok, a.user, a.issuer, uri, ENROLL_URI_MAX);
	if (err != OTP_OK) {
		cli_error("enroll", "cannot build the otpauth URI: %s", otp_strerror(err));
		goto out;
	}
	if (a.qr) {
		qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
		if (qr == NULL) {
			cli_error("enroll", "cannot draw the QR code (the URI is %zu bytes: use a "
				  "shorter user or issuer name, or drop --qr)", strlen(uri));
			goto out;
		}
	}
	if (cli_open_store("enroll", a.store, &st) != 0)
		goto out;
	err = store_enroll(st, a.user, &a.tok, a.force, (int64_t)time(NULL));
	if (err == STORE_EEXIST) {
		cli_error("enroll", "%s already has a token; use --force to replace it", shown);
		goto out;
	}
	if (err == STORE_ECORRUPT || err == STORE_EWRONGUSER) {
		cli_error("enroll", "%s: the record of %s is unreadable (%s); --force replaces it",
			  a.store, shown, store_strerror(err));
		goto out;
	}
	if (err != STORE_OK) {
		cli_error("enroll", "%s: cannot store the token of %s: %s", a.store, shown,
			  store_strerror(err));
		goto out;
	}
	printf("%s\n", uri);
	if (qr != NULL)
		draw_qr(qr, stdout);
	printf("enrolled %s: %s, %s, %u digits", shown, otp_kind_name(a.tok.kind),
	       otp_algo_name(a.tok.algo), a.tok.digits);
	if (a.tok.kind == OTP_TOTP)
		printf(", %u s steps\n", a.tok.step);
	else
		printf(", counter 0\n");
	fflush(stdout);
	if (getpwnam(a.user) == NULL)
		fprintf(stderr, "garde enroll: note: %s is not a user on this host (the token "
			"is stored anyway)\n", shown);
	rv = CLI_OK;
out:
	if (qr != NULL) {
		OPENSSL_cleanse(qr->data, (size_t)qr->width * (size_t)qr->width);
		QRcode_free(qr);
	}
	if (uri != NULL)
		OPENSSL_clear_free(uri, ENROLL_URI_MAX);
	otp_token_wipe(&a.tok);
	store_close(st);
	return rv;
}
