/* cli_policy.c - loading a policy for a command, errors on stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cli_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "garde %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void print_diag(void *arg, const char *file, int line, const char *message)
{
	unsigned *n_errors = arg;

	(*n_errors)++;
	if (line > 0)
		fprintf(stderr, "%s:%d: %s\n", file, line, message);
	else
		fprintf(stderr, "%s: %s\n", file, message);
}

int cli_load_policy(const char *path, struct policy **out, unsigned *n_errors)
{
	struct policy_load_opts opts = { .diag = print_diag, .diag_arg = n_errors };

	*n_errors = 0;
	if (strcmp(path, GARDE_BUILTIN_POLICY) == 0) {
		/* The embedded text never came from a file: nothing to trust-check. */
		opts.skip_trust_check = true;
		return policy_parse(policy_default_text, policy_default_len, path, &opts, out);
	}
	return policy_load(path, &opts, out);
}
