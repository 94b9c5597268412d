/* cmd_explain.c - `garde explain`: the decision for one login, made by the
 * very function the module calls, with the reason every earlier rule did not
 * apply. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "decide.h"
#include "explain.h"
#include "rfc3339.h"
#include "usergroups.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: garde explain [--policy FILE] --user USER --service SERVICE [--rhost ADDR]\n"
		"                     [--groups G1,G2] [--at RFC3339] [--new-network] [--json]\n"
		"\n"
		"Evaluates one login with the module's own decision function and prints\n"
		"the decision, the deciding rule, the reason, and for each earlier rule the\n"
		"first condition that did not hold. Nothing is changed.\n"
		"\n"
		"  -p, --policy FILE   policy file (default " GARDE_DEFAULT_POLICY ")\n"
		"  -u, --user USER     the login name\n"
		"  -s, --service NAME  the PAM service (sshd, sudo, dovecot, ...)\n"
		"  -r, --rhost ADDR    the remote address (PAM_RHOST); absent: a local login;\n"
		"                      a host name is an 'unknown' source (no DNS lookup)\n"
		"  -g, --groups LIST   comma-separated groups (default: the user's groups from NSS)\n"
		"  -a, --at TIME       RFC 3339 time of the login (default: now)\n"
		"  -n, --new-network   the source is a network the user has not logged in from\n"
		"  -j, --json          one JSON object instead of text\n"
		"  -h, --help          this help\n"
		"\n"
		"Exit status: 0 when the evaluation ran (whatever the decision), 2 on usage\n"
		"or policy errors.\n");
}

struct explain_args {
	const char *policy;
	const char *user;
	const char *service;
	const char *rhost;
	const char *groups;
	const char *at;
	bool new_network;
	bool json;
};

static int parse_args(int argc, char **argv, struct explain_args *args)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'u' },
		{ "service", required_argument, NULL, 's' },
		{ "rhost", required_argument, NULL, 'r' },
		{ "groups", required_argument, NULL, 'g' },
		{ "at", required_argument, NULL, 'a' },
		{ "new-network", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	args->policy = GARDE_DEFAULT_POLICY;
	while ((c = getopt_long(argc, argv, "p:u:s:r:g:a:njh", options, NULL)) != -1) {
		switch (c) {
		case 'p': args->policy = optarg; break;
		case 'u': args->user = optarg; break;
		case 's': args->service = optarg; break;
		case 'r': args->rhost = optarg; break;
		case 'g': args->groups = optarg; break;
		case 'a': args->at = optarg; break;
		case 'n': args->new_network = true; break;
		case 'j': args->json = true; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc || args->user == NULL || args->service == NULL) {
		if (optind == argc)
			cli_error("explain", "--user and --service are required");
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Refuses values a module would refuse: empty, oversize, control bytes. */
static bool value_ok(const char *what, const char *value, bool may_be_empty)
{
	size_t len = strlen(value);

	if (len == 0 && !may_be_empty) {
		cli_error("explain", "%s is empty", what);
		return false;
	}
	if (len > SOURCE_MAX_TEXT) {
		cli_error("explain", "%s is longer than %d bytes; refused", what, SOURCE_MAX_TEXT);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f) {
			cli_error("explain", "%s contains a control character; refused", what);
			return false;
		}
	}
	return true;
}

/* Splits "a,b,c" into the groups list; empty items are skipped. */
static int split_groups(char *list, struct usergroups *out)
{
	size_t cap = 1;

	for (const char *p = list; *p != '\0'; p++)
		cap += *p == ',';
	if (cap > USERGROUPS_MAX)
		return -1;
	out->n = 0;
	out->names = calloc(cap, sizeof(*out->names));
	if (out->names == NULL)
		return -1;
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		out->names[out->n] = strdup(tok);
		if (out->names[out->n] == NULL)
			return -1;
		out->n++;
	}
	return 0;
}

static int load_groups(const struct explain_args *args, struct usergroups *groups,
		       bool *from_nss)
{
	*from_nss = args->groups == NULL;
	if (args->groups != NULL) {
		char *copy = strdup(args->groups);
		int rv = copy == NULL ? -1 : split_groups(copy, groups);

		free(copy);
		if (rv != 0)
			cli_error("explain", "--groups: too many groups or out of memory");
		return rv;
	}
	switch (usergroups_lookup(args->user, groups)) {
	case 0:
		return 0;
	case -1:
		/* Not an error: explain is also used for users of other hosts. */
		fprintf(stderr, "garde explain: note: user '%s' is unknown to NSS here; "
				"evaluating with no groups (use --groups)\n", args->user);
		return 0;
	default:
		cli_error("explain", "cannot read the groups of '%s' from NSS", args->user);
		return -1;
	}
}

int cmd_explain(int argc, char **argv)
{
	struct explain_args args = { 0 };
	struct usergroups groups = { 0 };
	struct policy *pol = NULL;
	struct login_ctx ctx = { 0 };
	struct decision dec;
	enum decide_condition *trace = NULL;
	size_t n_traced = 0;
	unsigned n_errors;
	bool groups_from_nss;
	int rv = CLI_USAGE;

	switch (parse_args(argc, argv, &args)) {
	case 0: break;
	case 1: return CLI_OK;
	default: return CLI_USAGE;
	}
	if (!value_ok("--user", args.user, false) || !value_ok("--service", args.service, false) ||
	    (args.rhost != NULL && !value_ok("--rhost", args.rhost, true)))
		return CLI_USAGE;

	ctx.user = args.user;
	ctx.service = args.service;
	ctx.new_network = args.new_network;
	if (source_parse(args.rhost, &ctx.source) != 0) {
		cli_error("explain", "--rhost is not usable");
		return CLI_USAGE;
	}
	ctx.now = (int64_t)time(NULL);
	if (args.at != NULL && rfc3339_parse(args.at, &ctx.now) != 0) {
		cli_error("explain", "--at '%s' is not an RFC 3339 time such as 2026-11-30T08:15:00Z",
			  args.at);
		return CLI_USAGE;
	}
	if (load_groups(&args, &groups, &groups_from_nss) != 0)
		goto out;
	ctx.groups = (const char *const *)groups.names;
	ctx.n_groups = groups.n;

	if (cli_load_policy(args.policy, &pol, &n_errors) != 0) {
		cli_error("explain", "%s is not a valid policy (%u error%s); run 'garde check'",
			  args.policy, n_errors, n_errors == 1 ? "" : "s");
		goto out;
	}
	trace = calloc(pol->n_rules + 1, sizeof(*trace));
	if (trace == NULL) {
		cli_error("explain", "out of memory");
		goto out;
	}
	decide(pol, &ctx, &dec, trace, &n_traced);

	struct explain_view view = {
		.pol = pol, .ctx = &ctx, .dec = &dec, .trace = trace, .n_traced = n_traced,
		.groups_from_nss = groups_from_nss,
	};
	if (args.json ? explain_print_json(stdout, &view) : explain_print_text(stdout, &view)) {
		cli_error("explain", "cannot write the result");
		goto out;
	}
	rv = CLI_OK;
out:
	free(trace);
	policy_free(pol);
	usergroups_free(&groups);
	return rv;
}
