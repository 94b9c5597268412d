/* main.c - `garde`, the administrator's command: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "check", cmd_check, "validate a policy file and print a summary" },
	{ "explain", cmd_explain, "show the decision for one login, and why" },
	{ "enroll", cmd_enroll, "give a user a new TOTP/HOTP token" },
	{ "import-oath", cmd_import_oath, "import the tokens of a pam_oath users file" },
	{ "import-google-authenticator", cmd_import_ga,
	  "import a user's ~/.google_authenticator file" },
	{ "status", cmd_status, "show a user's token and lockout state" },
	{ "unlock", cmd_unlock, "clear a user's or a source's lockout" },
	{ "remove", cmd_remove, "delete a user's token and state" },
	{ "app-password", cmd_app_password, "add, list or revoke a user's app passwords (mail clients)" },
	{ "report", cmd_report, "list or count the events; verify the journal's hash chain" },
	{ "keygen", cmd_keygen, "create an Ed25519 key pair for signing policies" },
	{ "sign", cmd_sign, "sign a policy (writes POLICY.sig)" },
	{ "verify", cmd_verify, "check a policy's signatures against trusted keys" },
};

static void usage(FILE *out)
{
	const size_t n = sizeof(commands) / sizeof(commands[0]);
	int width = 0;

	for (size_t i = 0; i < n; i++)
		if ((int)strlen(commands[i].name) > width)
			width = (int)strlen(commands[i].name);
	fprintf(out, "usage: garde COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-*s %s\n", width, commands[i].name, commands[i].summary);
	fprintf(out, "\n'garde COMMAND --help' describes a command; man garde(8), garde-policy(5).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("garde %s\n", GARDE_VERSION);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "garde: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}
