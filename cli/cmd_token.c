/* cmd_token.c - `garde status`, `garde unlock` and `garde remove`: look at
 * and clear one user's token and lockout state. The secret is never shown. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"
#include "lockout.h"
#include "rfc3339.h"
#include "source.h"
#include "store.h"

#define TOKEN_SHOWN 128 /* bytes of a user or zone name in a message */

static void status_usage(FILE *out)
{
	fprintf(out,
		"usage: garde status USER [--json] [--store DIR]\n"
		"\n"
		"Shows whether USER has a token, its type, algorithm, digits and step,\n"
		"when it was enrolled and last used, the scratch codes left, and the\n"
		"lockout of each zone (\"zone lan: locked, 12 min left\"). Never the secret.\n"
		"Failures are shown as stored: whether they still count depends on the\n"
		"policy's lockout.user.interval.\n"
		"\n"
		"  -j, --json        one JSON object instead of text\n"
		"  -s, --store DIR   token store (default " GARDE_DEFAULT_STORE ")\n"
		"  -h, --help        this help\n"
		"\n"
		"Exit status: 0 enrolled, 1 not enrolled or store error, 2 usage error.\n");
}

static void unlock_usage(FILE *out)
{
	fprintf(out,
		"usage: garde unlock USER [--zone ZONE] [--store DIR]\n"
		"       garde unlock --source ADDR [--store DIR]\n"
		"\n"
		"Clears the failures and lock of USER in ZONE, or in every zone without\n"
		"--zone; or clears the lock of one source address.\n"
		"\n"
		"  -z, --zone ZONE     only this zone (a network name, elsewhere or local)\n"
		"  -S, --source ADDR   an IPv4 or IPv6 address instead of a user\n"
		"  -s, --store DIR     token store (default " GARDE_DEFAULT_STORE ")\n"
		"  -h, --help          this help\n"
		"\n"
		"Exit status: 0 unlocked (or nothing was locked), 1 no such zone or store\n"
		"error, 2 usage error.\n");
}

static void remove_usage(FILE *out)
{
	fprintf(out,
		"usage: garde remove USER [--store DIR]\n"
		"\n"
		"Deletes USER's record: the token, its scratch codes and the lockout,\n"
		"remember and history state. USER then has no second factor: under a\n"
		"policy that asks for one, USER cannot log in until enrolled again.\n"
		"\n"
		"  -s, --store DIR   token store (default " GARDE_DEFAULT_STORE ")\n"
		"  -h, --help        this help\n"
		"\n"
		"Exit status: 0 removed, 1 no record or store error, 2 usage error.\n");
}

static bool user_ok(const char *command, const char *user)
{
	if (user[0] == '\0' || strnlen(user, STORE_USER_MAX + 1) > STORE_USER_MAX) {
		cli_error(command, "USER: use 1 to %d bytes", STORE_USER_MAX);
		return false;
	}
	return true;
}

/* Locks user's record, printing what went wrong. 0 or -1. */
static int lock_user(const char *command, struct store *st, const char *dir, const char *user,
		     struct store_handle **h)
{
	char shown[TOKEN_SHOWN];
	int err = store_lock_user(st, user, h);

	if (err == STORE_OK)
		return 0;
	cli_printable(user, shown, sizeof(shown));
	if (err == STORE_ECORRUPT || err == STORE_EWRONGUSER)
		cli_error(command, "%s: the record of %s is unreadable (%s); 'garde remove' deletes "
			  "it, 'garde enroll --force' replaces it", dir, shown, store_strerror(err));
	else
		cli_error(command, "%s: cannot read the record of %s: %s", dir, shown,
			  store_strerror(err));
	return -1;
}

static void format_time(int64_t t, char *buf, size_t len)
{
	if (t <= 0)
		snprintf(buf, len, "never");
	else
		rfc3339_format(t, buf, len);
}

/* "locked, 12 min left", "3 failures, the first at T" or "no failures". */
static void describe_slot(const struct lockout_slot *s, int64_t now, char *buf, size_t len)
{
	char when[40];

	if (lockout_is_locked(s, now)) {
		int64_t left = s->locked_until - now;

		if (left < 60)
			snprintf(buf, len, "locked, %lld s left", (long long)left);
		else
			snprintf(buf, len, "locked, %lld min left", (long long)((left + 59) / 60));
	} else if (s->failures > 0) {
		format_time(s->first_failure, when, sizeof(when));
		snprintf(buf, len, "%u failure%s, the first at %s", s->failures,
			 s->failures == 1 ? "" : "s", when);
	} else {
		snprintf(buf, len, "no failures");
	}
}

static void status_text(const struct store_record *rec, bool exists, int64_t now)
{
	char shown[TOKEN_SHOWN], when[40], what[96];
	size_t i;

	printf("user:          %s\n", cli_printable(rec->user, shown, sizeof(shown)));
	if (!rec->has_token) {
		printf("token:         none (not enrolled)\n");
	} else {
		const struct otp_token *t = &rec->token;

		printf("token:         %s, %s, %u digits", otp_kind_name(t->kind),
		       otp_algo_name(t->algo), t->digits);
		if (t->kind == OTP_TOTP)
			printf(", %u s steps\n", t->step);
		else
			printf(", next counter %llu\n", (unsigned long long)t->counter);
		format_time(rec->created, when, sizeof(when));
		printf("enrolled:      %s\n", when);
		format_time(rec->last_success, when, sizeof(when));
		printf("last success:  %s\n", when);
		printf("scratch codes: %zu left\n", rec->scratch.n);
	}
	/* How many, never the hashes: `garde app-password list` has the rest. */
	printf("app passwords: %zu%s\n", rec->n_apppw,
	       rec->n_apppw > 0 ? " (garde app-password list)" : "");
	if (!exists || rec->n_zones == 0)
		printf("lockout:       none\n");
	for (i = 0; i < rec->n_zones; i++) {
		describe_slot(&rec->zones[i].slot, now, what, sizeof(what));
		printf("zone %s: %s\n", cli_printable(rec->zones[i].name, shown, sizeof(shown)),
		       what);
	}
}

static void json_time(struct json_buf *jb, int64_t t)
{
	char when[40];

	if (t <= 0) {
		json_null(jb);
	} else {
		rfc3339_format(t, when, sizeof(when));
		json_str(jb, when);
	}
}

static int status_json(const struct store_record *rec, int64_t now)
{
	/* A user name of 1 KiB escapes to at most 6 KiB; 16 zones of 128 bytes. */
	static char buf[32768];
	struct json_buf jb;
	size_t i;
	int err;

	json_init(&jb, buf, sizeof(buf));
	json_obj_begin(&jb);
	json_key(&jb, "user");
	json_str(&jb, rec->user);
	json_key(&jb, "enrolled");
	json_bool(&jb, rec->has_token);
	if (rec->has_token) {
		const struct otp_token *t = &rec->token;

		json_key(&jb, "token");
		json_obj_begin(&jb);
		json_key(&jb, "type");
		json_str(&jb, otp_kind_name(t->kind));
		json_key(&jb, "algorithm");
		json_str(&jb, otp_algo_name(t->algo));
		json_key(&jb, "digits");
		json_int(&jb, t->digits);
		if (t->kind == OTP_TOTP) {
			json_key(&jb, "step");
			json_int(&jb, t->step);
		} else {
			json_key(&jb, "counter");
			json_int(&jb, (int64_t)t->counter);
		}
		json_obj_end(&jb);
		json_key(&jb, "created");
		json_time(&jb, rec->created);
		json_key(&jb, "last_success");
		json_time(&jb, rec->last_success);
		json_key(&jb, "scratch_codes");
		json_int(&jb, (int64_t)rec->scratch.n);
	}
	json_key(&jb, "app_passwords");
	json_int(&jb, (int64_t)rec->n_apppw);
	json_key(&jb, "zones");
	json_arr_begin(&jb);
	for (i = 0; i < rec->n_zones; i++) {
		const struct lockout_slot *s = &rec->zones[i].slot;
		bool locked = lockout_is_locked(s, now);

		json_obj_begin(&jb);
		json_key(&jb, "zone");
		json_str(&jb, rec->zones[i].name);
		json_key(&jb, "locked");
		json_bool(&jb, locked);
		json_key(&jb, "seconds_left");
		json_int(&jb, locked ? s->locked_until - now : 0);
		json_key(&jb, "failures");
		json_int(&jb, s->failures);
		json_key(&jb, "first_failure");
		json_time(&jb, s->failures > 0 ? s->first_failure : 0);
		json_obj_end(&jb);
	}
	json_arr_end(&jb);
	json_obj_end(&jb);
	err = json_finish(&jb);
	if (err != JSON_OK) {
		cli_error("status", "cannot write the JSON: %s", json_strerror(err));
		return -1;
	}
	printf("%s\n", buf);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = GARDE_DEFAULT_STORE, *user;
	struct store *st = NULL;
	struct store_handle *h = NULL;
	const struct store_record *rec;
	bool json = false;
	int64_t now = (int64_t)time(NULL);
	int c, rv = CLI_FAIL;

	while ((c = getopt_long(argc, argv, "js:h", options, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 's': dir = optarg; break;
		case 'h': status_usage(stdout); return CLI_OK;
		default: status_usage(stderr); return CLI_USAGE;
		}
	}
	if (optind + 1 != argc) {
		status_usage(stderr);
		return CLI_USAGE;
	}
	user = argv[optind];
	if (!user_ok("status", user))
		return CLI_USAGE;
	if (cli_open_store("status", dir, &st) != 0 ||
	    lock_user("status", st, dir, user, &h) != 0)
		goto out;
	rec = store_record(h);
	if (json) {
		if (status_json(rec, now) != 0)
			goto out;
	} else {
		status_text(rec, store_exists(h), now);
	}
	rv = rec->has_token ? CLI_OK : CLI_FAIL;
out:
	store_unlock(h); /* wipes the record, secret included */
	store_close(st);
	return rv;
}

/* Drops the zone at i: an unlocked zone has nothing worth keeping. */
static void drop_zone(struct store_record *rec, size_t i)
{
	memmove(&rec->zones[i], &rec->zones[i + 1], (rec->n_zones - i - 1) * sizeof(rec->zones[0]));
	rec->n_zones--;
	memset(&rec->zones[rec->n_zones], 0, sizeof(rec->zones[0]));
}

static int unlock_user(struct store *st, const char *dir, const char *user, const char *zone)
{
	struct store_handle *h = NULL;
	struct store_record *rec;
	char shown[TOKEN_SHOWN], zshown[TOKEN_SHOWN], what[96];
	int64_t now = (int64_t)time(NULL);
	bool found = false;
	size_t i;
	int err, rv = CLI_FAIL;

	if (lock_user("unlock", st, dir, user, &h) != 0)
		goto out;
	rec = store_record(h);
	cli_printable(user, shown, sizeof(shown));
	for (i = rec->n_zones; i-- > 0;) {
		if (zone != NULL && strcmp(rec->zones[i].name, zone) != 0)
			continue;
		found = true;
		describe_slot(&rec->zones[i].slot, now, what, sizeof(what));
		printf("unlocked %s in zone %s (was: %s)\n", shown,
		       cli_printable(rec->zones[i].name, zshown, sizeof(zshown)), what);
		drop_zone(rec, i);
	}
	if (!found) {
		if (zone == NULL) {
			printf("%s has no lockout state: nothing to unlock\n", shown);
			rv = CLI_OK;
		} else {
			cli_error("unlock", "%s has no lockout state in zone %s; 'garde status %s' "
				  "lists the zones", shown,
				  cli_printable(zone, zshown, sizeof(zshown)), shown);
		}
		goto out;
	}
	err = store_commit(h);
	if (err != STORE_OK) {
		cli_error("unlock", "%s: cannot write the record of %s: %s; nothing was unlocked",
			  dir, shown, store_strerror(err));
		goto out;
	}
	rv = CLI_OK;
out:
	store_unlock(h);
	return rv;
}

static int unlock_source(struct store *st, const char *dir, const char *addr)
{
	struct store_handle *h = NULL;
	struct source src;
	char text[STORE_SOURCE_MAX + 1], what[96], shown[TOKEN_SHOWN];
	int err, rv = CLI_FAIL;

	if (source_parse(addr, &src) != 0 || src.kind != SOURCE_IP) {
		cli_error("unlock", "--source '%s': use an IPv4 or IPv6 address",
			  cli_printable(addr, shown, sizeof(shown)));
		return CLI_USAGE;
	}
	source_format(&src, text, sizeof(text));
	err = store_lock_source(st, text, &h);
	if (err != STORE_OK) {
		cli_error("unlock", "%s: cannot read the lockout record of %s: %s", dir, text,
			  store_strerror(err));
		goto out;
	}
	if (!store_exists(h)) {
		printf("source %s has no lockout state: nothing to unlock\n", text);
		rv = CLI_OK;
		goto out;
	}
	describe_slot(store_source_slot(h), (int64_t)time(NULL), what, sizeof(what));
	err = store_delete(h);
	if (err != STORE_OK && err != STORE_ENOENT) {
		cli_error("unlock", "%s: cannot delete the lockout record of %s: %s", dir, text,
			  store_strerror(err));
		goto out;
	}
	printf("unlocked source %s (was: %s)\n", text, what);
	rv = CLI_OK;
out:
	store_unlock(h);
	return rv;
}

int cmd_unlock(int argc, char **argv)
{
	static const struct option options[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "source", required_argument, NULL, 'S' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = GARDE_DEFAULT_STORE, *zone = NULL, *addr = NULL;
	struct store *st = NULL;
	int c, rv = CLI_FAIL;

	while ((c = getopt_long(argc, argv, "z:S:s:h", options, NULL)) != -1) {
		switch (c) {
		case 'z': zone = optarg; break;
		case 'S': addr = optarg; break;
		case 's': dir = optarg; break;
		case 'h': unlock_usage(stdout); return CLI_OK;
		default: unlock_usage(stderr); return CLI_USAGE;
		}
	}
	if (addr != NULL ? (optind != argc || zone != NULL) : optind + 1 != argc) {
		unlock_usage(stderr);
		return CLI_USAGE;
	}
	if (addr == NULL && !user_ok("unlock", argv[optind]))
		return CLI_USAGE;
	if (zone != NULL && (zone[0] == '\0' || strlen(zone) > STORE_NAME_MAX)) {
		cli_error("unlock", "--zone: use 1 to %d bytes", STORE_NAME_MAX);
		return CLI_USAGE;
	}
	if (cli_open_store("unlock", dir, &st) != 0)
		goto out;
	rv = addr != NULL ? unlock_source(st, dir, addr) : unlock_user(st, dir, argv[optind], zone);
out:
	store_close(st);
	return rv;
}

int cmd_remove(int argc, char **argv)
{
	static const struct option options[] = {
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = GARDE_DEFAULT_STORE, *user;
	char shown[TOKEN_SHOWN];
	struct store *st = NULL;
	int c, err, rv = CLI_FAIL;

	while ((c = getopt_long(argc, argv, "s:h", options, NULL)) != -1) {
		switch (c) {
		case 's': dir = optarg; break;
		case 'h': remove_usage(stdout); return CLI_OK;
		default: remove_usage(stderr); return CLI_USAGE;
		}
	}
	if (optind + 1 != argc) {
		remove_usage(stderr);
		return CLI_USAGE;
	}
	user = argv[optind];
	if (!user_ok("remove", user))
		return CLI_USAGE;
	cli_printable(user, shown, sizeof(shown));
	if (cli_open_store("remove", dir, &st) != 0)
		goto out;
	err = store_remove(st, user);
	if (err == STORE_ENOENT) {
		cli_error("remove", "%s has no record in %s: nothing was removed", shown, dir);
		goto out;
	}
	if (err != STORE_OK) {
		cli_error("remove", "%s: cannot remove the record of %s: %s", dir, shown,
			  store_strerror(err));
		goto out;
	}
	printf("removed %s: token and lockout state deleted\n", shown);
	rv = CLI_OK;
out:
	store_close(st);
	return rv;
}
