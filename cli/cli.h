/* cli.h - shared pieces of the `garde` command. */
#ifndef GARDE_CLI_H
#define GARDE_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "store.h"

#define GARDE_DEFAULT_POLICY "/etc/garde/policy.conf"
#define GARDE_DEFAULT_STORE "/var/lib/garde"
#define GARDE_DEFAULT_SPOOL "/var/spool/garde"
/* --policy @default: the embedded default policy (policies/ministry.conf). */
#define GARDE_BUILTIN_POLICY "@default"

/* Exit codes shared by the commands. */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,  /* the command ran and the answer is "no" (invalid policy, ...) */
	CLI_USAGE = 2, /* bad usage or unusable input */
};

/* Each command: argv[0] is the command name. */
int cmd_check(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_enroll(int argc, char **argv);
int cmd_import_oath(int argc, char **argv);
int cmd_import_ga(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_unlock(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_app_password(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* Loads a policy file (or GARDE_BUILTIN_POLICY), printing every error as "FILE:LINE: message" on
 * stderr. Returns 0 and *out, or -1. */
int cli_load_policy(const char *path, struct policy **out, unsigned *n_errors);

/* Prints "garde COMMAND: message" on stderr (printf format). */
void cli_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- shared by the token commands (cli_token.c) --- */

/* Strict decimal in min..max: no sign, no leading zero, no junk. 0 or -1. */
int cli_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* Hex (either case, even length) into out, 1..cap bytes. 0 or -1. */
int cli_parse_hex(const char *text, uint8_t *out, size_t cap, size_t *len);

/* in with bytes outside printable ASCII (and the backslash) shown as \xNN, cut to
 * fit out: names from files and the command line reach the terminal. */
const char *cli_printable(const char *in, char *out, size_t cap);

/* Opens the store, printing what is wrong and what to do. 0 or -1. */
int cli_open_store(const char *command, const char *dir, struct store **out);

/* A line reader for files that hold secrets: a fixed line buffer, and a
 * stdio buffer wiped on close. */
struct cli_lines;
enum {
	CLI_LINE_OK = 1,
	CLI_LINE_EOF = 0,
	CLI_LINE_TOOLONG = -1, /* cut to the buffer; the rest of the line was skipped */
	CLI_LINE_NUL = -2,     /* the line holds a NUL byte */
	CLI_LINE_EIO = -3,
};
/* 0, or -1 with errno (EINVAL: not a regular file). */
int cli_lines_open(const char *path, struct cli_lines **out);
/* Reads the next line without its '\n' into buf (cap bytes, NUL-terminated)
 * and its number into *lineno. Returns a CLI_LINE_* value. */
int cli_lines_next(struct cli_lines *lr, char *buf, size_t cap, size_t *lineno);
void cli_lines_close(struct cli_lines *lr);

#endif
