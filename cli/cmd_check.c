/* cmd_check.c - `garde check`: validate a policy, report every error. */
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "rfc3339.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: garde check [--policy FILE]\n"
		"\n"
		"Validates a policy (default " GARDE_DEFAULT_POLICY ").\n"
		"Valid: prints a one-line summary and exits 0.\n"
		"Invalid: prints every error as FILE:LINE: message on stderr and exits 1.\n"
		"\n"
		"  -p, --policy FILE   the policy file to check\n"
		"  -h, --help          this help\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = GARDE_DEFAULT_POLICY;
	struct policy *pol = NULL;
	unsigned n_errors = 0;
	int c;

	while ((c = getopt_long(argc, argv, "p:h", options, NULL)) != -1) {
		switch (c) {
		case 'p': path = optarg; break;
		case 'h': usage(stdout); return CLI_OK;
		default: usage(stderr); return CLI_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (cli_load_policy(path, &pol, &n_errors) != 0) {
		fprintf(stderr, "%s: %u error%s; the policy was not accepted\n", path, n_errors,
			n_errors == 1 ? "" : "s");
		return CLI_FAIL;
	}
	if (pol->expires != 0 && pol->expires <= (int64_t)time(NULL)) {
		char when[32];
		rfc3339_format(pol->expires, when, sizeof(when));
		fprintf(stderr, "%s: expired at %s; the module refuses it: publish a newer policy\n",
			path, when);
		policy_free(pol);
		return CLI_FAIL;
	}
	printf("%s: ok: serial %lld, %zu rule%s, %zu network%s%s\n", path, (long long)pol->serial,
	       pol->n_rules, pol->n_rules == 1 ? "" : "s", pol->n_networks,
	       pol->n_networks == 1 ? "" : "s",
	       pol->report_only_mode ? ", mode report-only (nothing enforced)" : "");
	policy_free(pol);
	return CLI_OK;
}
