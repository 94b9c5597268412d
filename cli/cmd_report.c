/* cmd_report.c - `garde report`: the auditor's view of the events, from the
 * agent's journal and the spool files not journaled yet; and `--verify`,
 * the journal's hash chain checked record by record.
 *
 * Everything read is hostile: records come through the journal reader
 * (bounded lines), spool files are capped at 4 KiB and validated, each
 * field is unescaped into a fixed buffer, and every byte printed to a
 * terminal or a CSV goes through cli_printable. Memory is bounded by the
 * number of distinct keys of --by (capped), never by the number of events:
 * listings stream. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "journal.h"
#include "json.h"
#include "jsonscan.h"
#include "rfc3339.h"
#include "spool.h"

#define GARDE_DEFAULT_JOURNAL "/var/lib/garde-agent/journal"
#define REPORT_FIELD 260
#define REPORT_MAX_KEYS 100000

enum report_format { FMT_TABLE, FMT_JSON, FMT_CSV };
enum report_by { BY_NONE, BY_USER, BY_SOURCE, BY_RULE, BY_SERVICE, BY_REASON, BY_HOUR };

struct report_event {
	int64_t when; /* UTC seconds; INT64_MIN when the timestamp does not parse */
	char ts[REPORT_FIELD], id[REPORT_FIELD], action[REPORT_FIELD], outcome[REPORT_FIELD];
	char user[REPORT_FIELD], source[REPORT_FIELD], service[REPORT_FIELD];
	char rule[REPORT_FIELD], reason[REPORT_FIELD];
};

struct report_key {
	char *key;
	uint64_t count;
};

struct report {
	int64_t since, until; /* [since, until) */
	const char *user, *source, *rule, *reason;
	bool cidr;
	int cidr_family;
	uint8_t cidr_addr[16];
	unsigned cidr_bits;
	enum report_format fmt;
	enum report_by by;
	uint64_t matched, skipped;
	bool first_json;
	struct report_key *keys;
	size_t n_keys, cap_keys;
	uint64_t other; /* counts past REPORT_MAX_KEYS distinct keys */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: garde report [OPTIONS]\n"
		"       garde report --verify [--journal FILE]\n"
		"\n"
		"Lists or counts the events (denials, alerts) in the agent's journal and in the\n"
		"spool files it has not journaled yet.\n"
		"\n"
		"  --journal FILE     default " GARDE_DEFAULT_JOURNAL "\n"
		"  --spool DIR        default " GARDE_DEFAULT_SPOOL " (its new/ files)\n"
		"  --since WHEN       RFC 3339 time, or a duration back from now: 90m, 24h, 7d, 2w\n"
		"  --until WHEN       the same; events strictly before it\n"
		"  --user NAME        only this user\n"
		"  --source ADDR      only this source address, or a CIDR prefix, or 'local'\n"
		"  --rule NAME        only this rule\n"
		"  --reason REASON    only this reason (policy_deny, mfa_invalid, locked_user, ...)\n"
		"  --by KEY           count by user, source, rule, service, reason or hour\n"
		"  --format FMT       table (default), json or csv\n"
		"  --verify           check the journal's hash chain; exit 1 where it breaks\n"
		"  -h, --help         this help\n"
		"\n"
		"Exit status: 0 ok, 1 the chain is broken (--verify), 2 usage or unreadable input.\n");
}

/* "7d" -> seconds; units s m h d w. */
static int parse_duration(const char *text, int64_t *out)
{
	uint64_t n;
	size_t len = strlen(text);
	char num[24], unit;
	int64_t mult;

	if (len < 2 || len > sizeof(num))
		return -1;
	unit = text[len - 1];
	memcpy(num, text, len - 1);
	num[len - 1] = '\0';
	switch (unit) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 7 * 86400; break;
	default: return -1;
	}
	if (cli_parse_uint(num, 0, 100u * 366 * 86400, &n) != 0)
		return -1;
	*out = (int64_t)n * mult;
	return 0;
}

static int parse_when(const char *text, int64_t now, int64_t *out)
{
	int64_t d;

	if (rfc3339_parse(text, out) == 0)
		return 0;
	if (parse_duration(text, &d) == 0 && d <= now) {
		*out = now - d;
		return 0;
	}
	return -1;
}

static int parse_cidr(struct report *r, const char *text)
{
	char addr[64];
	const char *slash = strchr(text, '/');
	uint64_t bits;
	size_t n;

	if (slash == NULL)
		return 0; /* an exact match */
	n = (size_t)(slash - text);
	if (n >= sizeof(addr))
		return -1;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, r->cidr_addr) == 1)
		r->cidr_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, r->cidr_addr) == 1)
		r->cidr_family = AF_INET6;
	else
		return -1;
	if (cli_parse_uint(slash + 1, 0, r->cidr_family == AF_INET ? 32 : 128, &bits) != 0)
		return -1;
	r->cidr_bits = (unsigned)bits;
	r->cidr = true;
	return 0;
}

static bool source_matches(const struct report *r, const char *src)
{
	uint8_t a[16];
	unsigned full, rest;

	if (!r->cidr)
		return strcmp(src, r->source) == 0;
	if (inet_pton(r->cidr_family, src, a) != 1)
		return false;
	full = r->cidr_bits / 8;
	rest = r->cidr_bits % 8;
	if (memcmp(a, r->cidr_addr, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ r->cidr_addr[full]) & (0xff << (8 - rest))) == 0;
}

/* One event's fields from its JSON; false when it is not an object. */
static bool report_parse(const char *json, size_t len, struct report_event *ev)
{
	if (jsonscan_validate(json, len, NULL, NULL) != 0)
		return false;
	jsonscan_get_str(json, len, "@timestamp", ev->ts, sizeof(ev->ts));
	jsonscan_get_str(json, len, "event.id", ev->id, sizeof(ev->id));
	jsonscan_get_str(json, len, "event.action", ev->action, sizeof(ev->action));
	jsonscan_get_str(json, len, "event.outcome", ev->outcome, sizeof(ev->outcome));
	jsonscan_get_str(json, len, "event.reason", ev->reason, sizeof(ev->reason));
	jsonscan_get_str(json, len, "user.name", ev->user, sizeof(ev->user));
	jsonscan_get_str(json, len, "service.name", ev->service, sizeof(ev->service));
	jsonscan_get_str(json, len, "rule.name", ev->rule, sizeof(ev->rule));
	if (jsonscan_get_str(json, len, "source.ip", ev->source, sizeof(ev->source)) != 1 &&
	    jsonscan_get_str(json, len, "source.address", ev->source, sizeof(ev->source)) != 1)
		strcpy(ev->source, "local"); /* DESIGN.md: source is absent for local logins */
	if (rfc3339_parse(ev->ts, &ev->when) != 0)
		ev->when = INT64_MIN;
	return true;
}

static bool report_wanted(const struct report *r, const struct report_event *ev)
{
	if ((r->since != INT64_MIN || r->until != INT64_MAX) && ev->when == INT64_MIN)
		return false;
	if (ev->when < r->since || ev->when >= r->until)
		return false;
	if (r->user && strcmp(ev->user, r->user) != 0)
		return false;
	if (r->source && !source_matches(r, ev->source))
		return false;
	if (r->rule && strcmp(ev->rule, r->rule) != 0)
		return false;
	if (r->reason && strcmp(ev->reason, r->reason) != 0)
		return false;
	return true;
}

static const char *by_key(const struct report *r, const struct report_event *ev, char *buf,
			  size_t cap)
{
	switch (r->by) {
	case BY_USER: return ev->user;
	case BY_SOURCE: return ev->source;
	case BY_RULE: return ev->rule;
	case BY_SERVICE: return ev->service;
	case BY_REASON: return ev->reason;
	case BY_HOUR:
		if (ev->when == INT64_MIN)
			return "?";
		rfc3339_format(ev->when - ev->when % 3600, buf, cap); /* YYYY-MM-DDTHH:00:00Z */
		return buf;
	default: return "";
	}
}

/* Linear probing would be faster; a sorted insert keeps it short and the
 * keys are few (users, sources, rules) next to the events. */
static int count_key(struct report *r, const char *key)
{
	size_t lo = 0, hi = r->n_keys;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(r->keys[mid].key, key);
		if (c == 0) {
			r->keys[mid].count++;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (r->n_keys >= REPORT_MAX_KEYS) {
		r->other++;
		return 0;
	}
	if (r->n_keys == r->cap_keys) {
		size_t cap = r->cap_keys ? r->cap_keys * 2 : 256;
		void *p = realloc(r->keys, cap * sizeof(*r->keys));
		if (p == NULL)
			return -1;
		r->keys = p;
		r->cap_keys = cap;
	}
	char *copy = strdup(key);
	if (copy == NULL)
		return -1;
	memmove(r->keys + lo + 1, r->keys + lo, (r->n_keys - lo) * sizeof(*r->keys));
	r->keys[lo].key = copy;
	r->keys[lo].count = 1;
	r->n_keys++;
	return 0;
}

static void csv_field(const char *s, bool last)
{
	char buf[REPORT_FIELD * 4];

	cli_printable(s, buf, sizeof(buf));
	/* A leading = + - @ makes spreadsheets evaluate the cell. */
	fputs(strchr("=+-@", buf[0]) != NULL && buf[0] != '\0' ? "\"'" : "\"", stdout);
	for (const char *p = buf; *p; p++) {
		if (*p == '"')
			putchar('"');
		putchar(*p);
	}
	fputs(last ? "\"\n" : "\",", stdout);
}

static void print_event(struct report *r, const struct report_event *ev, const char *json,
			size_t len)
{
	char a[7][REPORT_FIELD * 4];

	switch (r->fmt) {
	case FMT_JSON:
		/* The stored JSON itself: already validated, one line. */
		printf("%s%.*s", r->first_json ? "[\n" : ",\n", (int)len, json);
		r->first_json = false;
		break;
	case FMT_CSV:
		csv_field(ev->ts, false);
		csv_field(ev->action, false);
		csv_field(ev->user, false);
		csv_field(ev->source, false);
		csv_field(ev->service, false);
		csv_field(ev->rule, false);
		csv_field(ev->reason, false);
		csv_field(ev->id, true);
		break;
	default:
		printf("%-27s %-16s %-12s %-20s %-10s %-16s %s\n", cli_printable(ev->ts, a[0], 64),
		       cli_printable(ev->action, a[1], sizeof(a[1])),
		       cli_printable(ev->user[0] ? ev->user : "-", a[2], sizeof(a[2])),
		       cli_printable(ev->source, a[3], sizeof(a[3])),
		       cli_printable(ev->service[0] ? ev->service : "-", a[4], sizeof(a[4])),
		       cli_printable(ev->rule[0] ? ev->rule : "-", a[5], sizeof(a[5])),
		       cli_printable(ev->reason[0] ? ev->reason : "-", a[6], sizeof(a[6])));
	}
}

static int report_one(struct report *r, const char *json, size_t len)
{
	struct report_event *ev = malloc(sizeof(*ev));
	char hour[32];
	int rv = 0;

	if (ev == NULL)
		return -1;
	memset(ev, 0, sizeof(*ev));
	if (!report_parse(json, len, ev)) {
		r->skipped++;
		goto out;
	}
	if (!report_wanted(r, ev))
		goto out;
	r->matched++;
	if (r->by != BY_NONE)
		rv = count_key(r, by_key(r, ev, hour, sizeof(hour)));
	else
		print_event(r, ev, json, len);
out:
	free(ev);
	return rv;
}

static int report_journal(struct report *r, const char *path)
{
	struct journal_reader *rd = NULL;
	struct journal_record rec;
	char why[512];
	int rv;

	rv = journal_reader_open(path, &rd, why, sizeof(why));
	if (rv == JOURNAL_EIO && errno == ENOENT) {
		fprintf(stderr, "garde report: %s: no journal (the agent has not run yet?); "
			"reporting the spool only\n", path);
		return 0;
	}
	if (rv != JOURNAL_OK) {
		fprintf(stderr, "garde report: %s\n", why);
		return -1;
	}
	while ((rv = journal_reader_next(rd, &rec)) != 0) {
		if (rv == JOURNAL_EFORMAT || rv == JOURNAL_ETORN) {
			fprintf(stderr, "garde report: %s:%" PRIu64 ": %s: skipped; check the chain "
				"with garde report --verify\n", path, rec.line, journal_strerror(rv));
			if (rv == JOURNAL_ETORN)
				break;
			continue;
		}
		if (rv < 0) {
			fprintf(stderr, "garde report: %s: %s\n", path, strerror(errno));
			journal_reader_close(rd);
			return -1;
		}
		if (report_one(r, rec.json, rec.json_len) != 0) {
			journal_reader_close(rd);
			return -1;
		}
	}
	journal_reader_close(rd);
	return 0;
}

static int report_spool(struct report *r, const char *spool)
{
	char path[4096], buf[SPOOL_MAX_RECORD + 1];
	struct dirent *de;
	DIR *d;
	int rv = 0;

	snprintf(path, sizeof(path), "%s/new", spool);
	d = opendir(path);
	if (d == NULL)
		return errno == ENOENT ? 0 : (fprintf(stderr, "garde report: %s: %s\n", path,
						      strerror(errno)), -1);
	while (rv == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		ssize_t n;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue; /* delivered since readdir, or not a file */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= SPOOL_MAX_RECORD &&
		    (n = read(fd, buf, sizeof(buf))) > 0 && n <= SPOOL_MAX_RECORD)
			rv = report_one(r, buf, (size_t)n);
		else
			r->skipped++;
		close(fd);
	}
	closedir(d);
	return rv;
}

static int cmp_count(const void *a, const void *b)
{
	const struct report_key *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->key, y->key);
}

static int print_counts(struct report *r)
{
	char k[REPORT_FIELD * 4];

	qsort(r->keys, r->n_keys, sizeof(*r->keys), cmp_count);
	if (r->fmt == FMT_JSON) {
		size_t cap = 64 + r->n_keys * (REPORT_FIELD * 6 + 48);
		char *buf = malloc(cap);
		struct json_buf jb;
		if (buf == NULL)
			return -1;
		json_init(&jb, buf, cap);
		json_arr_begin(&jb);
		for (size_t i = 0; i < r->n_keys; i++) {
			json_obj_begin(&jb);
			json_key(&jb, "key");
			json_str(&jb, r->keys[i].key);
			json_key(&jb, "count");
			json_int(&jb, (int64_t)r->keys[i].count);
			json_obj_end(&jb);
		}
		json_arr_end(&jb);
		if (json_finish(&jb) != JSON_OK) {
			free(buf);
			return -1;
		}
		printf("%s\n", buf);
		free(buf);
	} else if (r->fmt == FMT_CSV) {
		printf("\"key\",\"count\"\n");
		for (size_t i = 0; i < r->n_keys; i++) {
			csv_field(r->keys[i].key, false);
			printf("\"%" PRIu64 "\"\n", r->keys[i].count);
		}
	} else {
		for (size_t i = 0; i < r->n_keys; i++)
			printf("%8" PRIu64 "  %s\n", r->keys[i].count,
			       cli_printable(r->keys[i].key[0] ? r->keys[i].key : "-", k, sizeof(k)));
	}
	if (r->other > 0)
		fprintf(stderr, "garde report: over %d distinct keys: %" PRIu64 " events not counted\n",
			REPORT_MAX_KEYS, r->other);
	return 0;
}

static int report_verify(const char *path)
{
	struct journal_verify v;
	char why[512];

	if (journal_verify(path, &v, why, sizeof(why)) != JOURNAL_OK) {
		fprintf(stderr, "garde report --verify: %s\n", why);
		return CLI_USAGE;
	}
	if (v.broken) {
		printf("%s:%" PRIu64 ": chain broken at seq %" PRIu64 " (byte offset %" PRIu64 "): %s\n",
		       path, v.broken_line, v.broken_seq, v.broken_offset, v.why);
		printf("%s: %" PRIu64 " record(s) verified before the break\n", path, v.records);
		return CLI_FAIL;
	}
	if (v.records == 0)
		printf("%s: ok: no records (anchor seq %" PRIu64 ")\n", path, v.anchor_seq);
	else
		printf("%s: ok: %" PRIu64 " records, seq %" PRIu64 "..%" PRIu64 "\n", path, v.records,
		       v.first_seq, v.last_seq);
	if (v.anchor_seq > 0)
		printf("%s: records up to seq %" PRIu64 " were compacted away by the agent (the header's "
		       "anchor)\n", path, v.anchor_seq);
	printf("%s: a hash chain cannot show records cut from the very end, nor a head cut whose "
	       "anchor was rewritten: compare the last seq with the collectors'\n", path);
	return CLI_OK;
}

static int parse_by(const char *s, enum report_by *by)
{
	static const char *const names[] = { "user", "source", "rule", "service", "reason", "hour" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*by = (enum report_by)(BY_USER + (int)i);
			return 0;
		}
	return -1;
}

int cmd_report(int argc, char **argv)
{
	enum { O_JOURNAL = 256, O_SPOOL, O_SINCE, O_UNTIL, O_USER, O_SOURCE, O_RULE, O_REASON,
	       O_BY, O_FORMAT, O_VERIFY };
	static const struct option options[] = {
		{ "journal", required_argument, NULL, O_JOURNAL },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "since", required_argument, NULL, O_SINCE },
		{ "until", required_argument, NULL, O_UNTIL },
		{ "user", required_argument, NULL, O_USER },
		{ "source", required_argument, NULL, O_SOURCE },
		{ "rule", required_argument, NULL, O_RULE },
		{ "reason", required_argument, NULL, O_REASON },
		{ "by", required_argument, NULL, O_BY },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report r = { .since = INT64_MIN, .until = INT64_MAX, .first_json = true };
	const char *journal = GARDE_DEFAULT_JOURNAL, *spool = GARDE_DEFAULT_SPOOL;
	int64_t now = (int64_t)time(NULL);
	bool verify = false;
	int c, rv = CLI_USAGE;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case O_JOURNAL: journal = optarg; break;
		case O_SPOOL: spool = optarg; break;
		case O_SINCE:
		case O_UNTIL:
			if (parse_when(optarg, now, c == O_SINCE ? &r.since : &r.until) != 0) {
				cli_error("report", "--%s %s: not an RFC 3339 time (2026-11-20T18:00:00Z) "
					  "nor a duration (90m, 24h, 7d, 2w)", c == O_SINCE ? "since" :
					  "until", optarg);
				return CLI_USAGE;
			}
			break;
		case O_USER: r.user = optarg; break;
		case O_SOURCE:
			r.source = optarg;
			if (parse_cidr(&r, optarg) != 0) {
				cli_error("report", "--source %s: not an address, a CIDR prefix or 'local'",
					  optarg);
				return CLI_USAGE;
			}
			break;
		case O_RULE: r.rule = optarg; break;
		case O_REASON: r.reason = optarg; break;
		case O_BY:
			if (parse_by(optarg, &r.by) != 0) {
				cli_error("report", "--by %s: use user, source, rule, service, reason or "
					  "hour", optarg);
				return CLI_USAGE;
			}
			break;
		case O_FORMAT:
			if (strcmp(optarg, "table") == 0)
				r.fmt = FMT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				r.fmt = FMT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				r.fmt = FMT_CSV;
			else {
				cli_error("report", "--format %s: use table, json or csv", optarg);
				return CLI_USAGE;
			}
			break;
		case O_VERIFY: verify = true; break;
		case 'h': usage(stdout); return CLI_OK;
		default: usage(stderr); return CLI_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (verify)
		return report_verify(journal);
	if (r.by == BY_NONE && r.fmt == FMT_CSV)
		printf("\"time\",\"action\",\"user\",\"source\",\"service\",\"rule\",\"reason\",\"id\"\n");
	if (report_journal(&r, journal) != 0 || report_spool(&r, spool) != 0)
		goto out;
	if (r.by != BY_NONE) {
		if (print_counts(&r) != 0)
			goto out;
	} else if (r.fmt == FMT_JSON) {
		fputs(r.first_json ? "[]\n" : "\n]\n", stdout);
	}
	if (r.skipped > 0)
		fprintf(stderr, "garde report: %" PRIu64 " record(s) skipped: not JSON events\n",
			r.skipped);
	rv = CLI_OK;
out:
	for (size_t i = 0; i < r.n_keys; i++)
		free(r.keys[i].key);
	free(r.keys);
	return rv;
}
