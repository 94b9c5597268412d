/* cmd_app_password.c - `garde app-password add|list|revoke`: a user's app
 * passwords, the credential of mail clients that cannot send a code. The
 * password is shown once, when made; only its scrypt hash is stored. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "rfc3339.h"
#include "store.h"

#define APPPW_SHOWN 128                           /* bytes of a name in a message */
#define APPPW_EXPIRES_MAX (10LL * 366 * 86400)    /* --expires at most ten years */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: garde app-password add USER --class CLASS [--label TEXT]\n"
		"                              [--expires DURATION] [--store DIR]\n"
		"       garde app-password list USER [--store DIR]\n"
		"       garde app-password revoke USER ID|--all [--store DIR]\n"
		"\n"
		"add prints a new app password for USER on the first line of standard\n"
		"output, once: 24 random characters in six groups of four\n"
		"(\"abcd-efgh-...\"). It stands for USER's password and code on the\n"
		"services of CLASS (a class of the policy, such as mail) whose pam_garde\n"
		"line has the app_password option and whose deciding rule says\n"
		"app_password = true. Only a salted scrypt hash is stored. A user has at\n"
		"most %d app passwords.\n"
		"list shows each one's id, class, label, when it was made, when it\n"
		"expires, when and from where it was last used; never the password.\n"
		"revoke deletes one (by its id) or all of them, at once.\n"
		"\n"
		"  -c, --class CLASS      the class of services it is good for (required)\n"
		"  -l, --label TEXT       a note for the list, such as the device (at most\n"
		"                         %d bytes)\n"
		"  -e, --expires DURATION it stops working after DURATION: N followed by\n"
		"                         s, m, h, d or w (90d, 12h); default never\n"
		"  -a, --all              revoke: every app password of USER\n"
		"  -s, --store DIR        token store (default " GARDE_DEFAULT_STORE ")\n"
		"  -h, --help             this help\n"
		"\n"
		"Exit status: 0 done, 1 refused (no such id, too many, store error), 2 usage\n"
		"error.\n",
		STORE_MAX_APPPW, STORE_APPPW_LABEL_MAX);
}

struct apppw_args {
	const char *action;
	const char *user;
	const char *id;
	const char *class_name;
	const char *label;
	const char *store;
	int64_t expires_in; /* seconds, 0 = never */
	bool all;
};

/* "90d", "12h", "30m", "45s", "2w": a number without a leading zero and
 * one unit, at most APPPW_EXPIRES_MAX seconds. 0 or -1. */
static int parse_duration(const char *text, int64_t *out)
{
	static const struct {
		char unit;
		uint64_t seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 } };
	char number[24];
	size_t n = strnlen(text, sizeof(number));
	uint64_t v;

	if (n < 2 || n >= sizeof(number))
		return -1;
	memcpy(number, text, n - 1);
	number[n - 1] = '\0';
	if (cli_parse_uint(number, 1, (uint64_t)APPPW_EXPIRES_MAX, &v) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (text[n - 1] != units[i].unit)
			continue;
		if (v > (uint64_t)APPPW_EXPIRES_MAX / units[i].seconds)
			return -1;
		*out = (int64_t)(v * units[i].seconds);
		return 0;
	}
	return -1;
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct apppw_args *a)
{
	static const struct option options[] = {
		{ "class", required_argument, NULL, 'c' },
		{ "label", required_argument, NULL, 'l' },
		{ "expires", required_argument, NULL, 'e' },
		{ "all", no_argument, NULL, 'a' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t npos;
	int c;

	a->store = GARDE_DEFAULT_STORE;
	while ((c = getopt_long(argc, argv, "c:l:e:as:h", options, NULL)) != -1) {
		switch (c) {
		case 'c': a->class_name = optarg; break;
		case 'l': a->label = optarg; break;
		case 'e':
			if (parse_duration(optarg, &a->expires_in) != 0) {
				cli_error("app-password", "--expires '%s': use a number and a unit, "
					  "s, m, h, d or w (90d), at most ten years", optarg);
				return CLI_USAGE;
			}
			break;
		case 'a': a->all = true; break;
		case 's': a->store = optarg; break;
		case 'h': usage(stdout); return CLI_OK;
		default: usage(stderr); return CLI_USAGE;
		}
	}
	npos = (size_t)(argc - optind);
	if (npos < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	a->action = argv[optind];
	a->user = argv[optind + 1];
	if (a->user[0] == '\0' || strnlen(a->user, STORE_USER_MAX + 1) > STORE_USER_MAX) {
		cli_error("app-password", "USER: use 1 to %d bytes", STORE_USER_MAX);
		return CLI_USAGE;
	}
	if (strcmp(a->action, "revoke") == 0) {
		if (npos == 3 && !a->all)
			a->id = argv[optind + 2];
		else if (npos != 2 || !a->all) {
			cli_error("app-password", "revoke: give one ID or --all");
			return CLI_USAGE;
		}
	} else if (npos != 2 || a->all) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(a->action, "add") == 0) {
		if (a->class_name == NULL) {
			cli_error("app-password", "add: --class CLASS is required (the class of the "
				  "services it is for, such as mail)");
			return CLI_USAGE;
		}
	} else if (a->class_name != NULL || a->label != NULL || a->expires_in != 0) {
		cli_error("app-password", "--class, --label and --expires are for add");
		return CLI_USAGE;
	}
	if (strcmp(a->action, "add") != 0 && strcmp(a->action, "list") != 0 &&
	    strcmp(a->action, "revoke") != 0) {
		cli_error("app-password", "unknown action '%s': use add, list or revoke",
			  a->action);
		return CLI_USAGE;
	}
	return -1;
}

/* Locks user's record, printing what went wrong. 0 or -1. */
static int lock_user(struct store *st, const struct apppw_args *a, struct store_handle **h)
{
	char shown[APPPW_SHOWN];
	int err = store_lock_user(st, a->user, h);

	if (err == STORE_OK)
		return 0;
	cli_printable(a->user, shown, sizeof(shown));
	cli_error("app-password", "%s: cannot read the record of %s: %s", a->store, shown,
		  store_strerror(err));
	return -1;
}

static int commit(struct store_handle *h, const struct apppw_args *a)
{
	int err = store_commit_sync(h);

	if (err == STORE_OK)
		return 0;
	cli_error("app-password", "%s: the record was not written: %s; nothing changed",
		  a->store, store_strerror(err));
	return -1;
}

static int do_add(struct store *st, const struct apppw_args *a)
{
	struct store_handle *h = NULL;
	char password[STORE_APPPW_TEXT + 1], id[STORE_APPPW_ID + 1], shown[APPPW_SHOWN];
	char when[40] = "never";
	int64_t now = (int64_t)time(NULL), expires = 0;
	int rv = CLI_FAIL, err;

	if (a->expires_in > 0) {
		expires = now + a->expires_in;
		rfc3339_format(expires, when, sizeof(when));
	}
	if (lock_user(st, a, &h) != 0)
		goto out;
	err = store_apppw_add(store_record(h), a->class_name, a->label, now, expires, password,
			      sizeof(password), id);
	if (err == STORE_EINVAL) {
		cli_error("app-password", "--class '%s' or --label: a class is letters, digits, "
			  "'_', '.' and '-'; a label is 1 to %d bytes of text, not \"-\"",
			  cli_printable(a->class_name, shown, sizeof(shown)), STORE_APPPW_LABEL_MAX);
		rv = CLI_USAGE;
		goto out;
	}
	if (err == STORE_EFULL) {
		cli_error("app-password", "%s has %d app passwords already; revoke one first "
			  "(garde app-password list)", cli_printable(a->user, shown, sizeof(shown)),
			  STORE_MAX_APPPW);
		goto out;
	}
	if (err != STORE_OK) {
		cli_error("app-password", "cannot make an app password: %s", store_strerror(err));
		goto out;
	}
	if (commit(h, a) != 0)
		goto out;
	/* Shown once, after it is stored: a password that is printed but not
	 * stored would be one the user types in vain. */
	printf("%s\n", password);
	printf("app password %s for %s: class %s, expires %s\n", id,
	       cli_printable(a->user, shown, sizeof(shown)), a->class_name, when);
	fflush(stdout);
	rv = CLI_OK;
out:
	OPENSSL_cleanse(password, sizeof(password));
	store_unlock(h);
	return rv;
}

static void format_time(int64_t t, char *buf, size_t len)
{
	if (t <= 0)
		snprintf(buf, len, "never");
	else
		rfc3339_format(t, buf, len);
}

static int do_list(struct store *st, const struct apppw_args *a)
{
	struct store_handle *h = NULL;
	const struct store_record *rec;
	char shown[APPPW_SHOWN], label[APPPW_SHOWN], created[40], expires[40], used[40];
	int64_t now = (int64_t)time(NULL);

	if (lock_user(st, a, &h) != 0)
		return CLI_FAIL;
	rec = store_record(h);
	if (rec->n_apppw == 0)
		printf("%s has no app passwords\n", cli_printable(a->user, shown, sizeof(shown)));
	else
		printf("%-8s  %-10s  %-20s  %-20s  %-20s  %-20s  %s\n", "ID", "CLASS", "LABEL",
		       "CREATED", "EXPIRES", "LAST USED", "LAST SOURCE");
	for (size_t i = 0; i < rec->n_apppw; i++) {
		const struct store_apppw *p = &rec->apppw[i];

		format_time(p->created, created, sizeof(created));
		format_time(p->expires, expires, sizeof(expires));
		format_time(p->last_used, used, sizeof(used));
		if (p->expires != 0 && p->expires <= now)
			snprintf(expires, sizeof(expires), "expired");
		printf("%-8s  %-10s  %-20s  %-20s  %-20s  %-20s  %s\n", p->id,
		       cli_printable(p->class_name, shown, sizeof(shown)),
		       p->label[0] != '\0' ? cli_printable(p->label, label, sizeof(label)) : "-",
		       created, expires, used, p->last_source[0] != '\0' ? p->last_source : "-");
	}
	store_unlock(h);
	return CLI_OK;
}

static int do_revoke(struct store *st, const struct apppw_args *a)
{
	struct store_handle *h = NULL;
	char shown[APPPW_SHOWN], id[APPPW_SHOWN];
	size_t n = 0;
	int rv = CLI_FAIL;

	if (lock_user(st, a, &h) != 0)
		goto out;
	cli_printable(a->user, shown, sizeof(shown));
	if (a->all) {
		n = store_apppw_revoke_all(store_record(h));
	} else if (store_apppw_revoke(store_record(h), a->id) == STORE_OK) {
		n = 1;
	} else {
		cli_error("app-password", "%s has no app password %s (garde app-password list %s)",
			  shown, cli_printable(a->id, id, sizeof(id)), shown);
		goto out;
	}
	if (n > 0 && commit(h, a) != 0)
		goto out;
	printf("revoked %zu app password%s of %s\n", n, n == 1 ? "" : "s", shown);
	rv = CLI_OK;
out:
	store_unlock(h);
	return rv;
}

int cmd_app_password(int argc, char **argv)
{
	struct apppw_args a;
	struct store *st = NULL;
	int rv;

	memset(&a, 0, sizeof(a));
	rv = parse_args(argc, argv, &a);
	if (rv >= 0)
		return rv;
	if (cli_open_store("app-password", a.store, &st) != 0)
		return CLI_FAIL;
	if (strcmp(a.action, "add") == 0)
		rv = do_add(st, &a);
	else if (strcmp(a.action, "list") == 0)
		rv = do_list(st, &a);
	else
		rv = do_revoke(st, &a);
	store_close(st);
	return rv;
}
