/* test_decide.c - the pure decision, table-driven: each row is a policy text
 * (through the real parser), a login context and the expected decision. */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decide.h"
#include "policy.h"
#include "runner.h"
#include "source.h"
#include "tz.h"

/* ---- policies ---------------------------------------------------------- */

#define COMMON                                                                          \
	"mfa     = { digits = 6; step = 30; window_past = 1; window_future = 1; remember = 0; };\n" \
	"lockout = { user   = { deny = 5;  interval = 900; unlock = 900;  };\n"            \
	"            source = { deny = 20; interval = 300; unlock = 3600; }; };\n"          \
	"history = { ttl_days = 90; prefix_v4 = 24; prefix_v6 = 64; };\n"

/* lan is declared before admin, which it contains: 10.20.5.x is zone "lan". */
#define NETS                                                                            \
	"networks = {\n"                                                                \
	"  lan   = [ \"10.20.0.0/16\", \"fd00:20::/48\" ];\n"                           \
	"  vpn   = [ \"10.99.0.0/16\" ];\n"                                             \
	"  admin = [ \"10.20.5.0/24\" ];\n"                                             \
	"  v6only = [ \"2001:db8:1::/48\" ];\n"                                         \
	"};\n"

#define CLASSES                                                                         \
	"classes = {\n"                                                                 \
	"  admin = [ \"sshd\", \"sudo\" ];\n"                                           \
	"  mail  = [ \"dovecot\", \"imap\" ];\n"                                        \
	"};\n"

#define HEAD_TZ(tz) "serial = 1;\ntimezone = \"" tz "\";\n" NETS CLASSES COMMON
#define HEAD HEAD_TZ("UTC")

static const char P_USERS[] = HEAD "rules = (\n"
	"  { name = \"u\"; users = [ \"alice\", \"bob\" ]; action = \"allow\"; },\n"
	"  { name = \"nu\"; not_users = [ \"carol\" ]; action = \"mfa\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_GROUPS[] = HEAD "rules = (\n"
	"  { name = \"g\"; groups = [ \"wheel\", \"ops\" ]; action = \"allow\"; },\n"
	"  { name = \"ng\"; not_groups = [ \"contractors\" ]; action = \"mfa\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_CLASS[] = HEAD "rules = (\n"
	"  { name = \"ca\"; class = \"admin\"; action = \"mfa\"; },\n"
	"  { name = \"cm\"; class = [ \"mail\" ]; action = \"allow\"; },\n"
	"  { name = \"co\"; class = \"other\"; action = \"deny\"; }\n"
	");\n";

static const char P_CLASS_LIST[] = HEAD "rules = (\n"
	"  { name = \"mail-or-other\"; class = [ \"mail\", \"other\" ]; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_SERVICES[] = HEAD "rules = (\n"
	"  { name = \"s\"; services = [ \"sshd\", \"dovecot\" ]; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_FROM[] = HEAD "rules = (\n"
	"  { name = \"f-local\"; from = [ \"local\" ]; action = \"allow\"; },\n"
	"  { name = \"f-lan\"; from = [ \"lan\", \"192.0.2.0/24\" ]; action = \"mfa\"; },\n"
	"  { name = \"offsite\"; not_from = [ \"lan\", \"vpn\", \"local\" ]; action = \"deny\"; },\n"
	"  { name = \"inside\"; action = \"allow\"; }\n"
	");\n";

static const char P_FROM_LAN[] = HEAD "rules = (\n"
	"  { name = \"lan-only\"; from = [ \"lan\" ]; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_NOT_FROM_LAN[] = HEAD "rules = (\n"
	"  { name = \"not-lan\"; not_from = [ \"lan\" ]; action = \"deny\"; },\n"
	"  { name = \"rest\"; action = \"allow\"; }\n"
	");\n";

static const char P_FROM_V6[] = HEAD "rules = (\n"
	"  { name = \"v6\"; from = [ \"v6only\", \"2001:db8:ff::/64\" ]; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_NIGHT[] = HEAD "rules = (\n"
	"  { name = \"night\"; hours = [ \"Mon 22:00-06:00\" ]; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_WEEKEND[] = HEAD "rules = (\n"
	"  { name = \"fri-mon\"; hours = [ \"Fri-Mon 09:00-17:00\" ]; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_EVENINGS[] = HEAD "rules = (\n"
	"  { name = \"eve\"; hours = [ \"Sat,Sun 18:00-24:00\", \"Wed 12:00-13:00\" ]; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_NOT_HOURS[] = HEAD "rules = (\n"
	"  { name = \"off-hours\"; not_hours = [ \"Mon-Fri 08:00-18:00\" ]; action = \"deny\"; },\n"
	"  { name = \"rest\"; action = \"allow\"; }\n"
	");\n";

static const char P_ALWAYS[] = HEAD "rules = (\n"
	"  { name = \"always\"; hours = [ \"* 00:00-24:00\" ]; action = \"allow\"; }\n"
	");\n";

static const char P_PARIS_DST[] = HEAD_TZ("Europe/Paris") "rules = (\n"
	"  { name = \"two-am\"; hours = [ \"* 02:00-03:00\" ]; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_PARIS_MON[] = HEAD_TZ("Europe/Paris") "rules = (\n"
	"  { name = \"mon-early\"; hours = [ \"Mon 00:00-01:00\" ]; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_NY_MON[] = HEAD_TZ("America/New_York") "rules = (\n"
	"  { name = \"mon-evening\"; hours = [ \"Mon 20:00-22:00\" ]; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_NEWNET[] = HEAD "rules = (\n"
	"  { name = \"new\"; new_network = true; action = \"mfa\"; },\n"
	"  { name = \"known\"; new_network = false; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_KNOWN_ONLY[] = HEAD "rules = (\n"
	"  { name = \"known\"; new_network = false; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_ORDER[] = HEAD "rules = (\n"
	"  { name = \"first\"; class = \"admin\"; action = \"deny\"; },\n"
	"  { name = \"second\"; class = \"admin\"; action = \"allow\"; },\n"
	"  { name = \"third\"; action = \"mfa\"; }\n"
	");\n";

/* Every condition in one rule, so one row per condition shows that each is
 * checked and that the first failing one (in header order) is reported. */
static const char P_ALL[] = HEAD "rules = (\n"
	"  { name = \"all\"; users = [ \"alice\", \"bob\" ]; not_users = [ \"bob\" ];\n"
	"    groups = [ \"staff\" ]; not_groups = [ \"contractors\" ]; class = \"admin\";\n"
	"    services = [ \"sshd\" ]; from = [ \"lan\" ]; not_from = [ \"admin\" ];\n"
	"    hours = [ \"Mon-Fri 08:00-18:00\" ]; not_hours = [ \"* 12:00-13:00\" ];\n"
	"    new_network = false; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_RO[] = HEAD "rules = (\n"
	"  { name = \"ro1\"; class = \"mail\"; action = \"deny\"; report_only = true; },\n"
	"  { name = \"ro2\"; hours = [ \"* 00:00-24:00\" ]; action = \"mfa\"; report_only = true; },\n"
	"  { name = \"ro-never\"; users = [ \"nobody\" ]; action = \"deny\"; report_only = true; },\n"
	"  { name = \"mail-ok\"; class = \"mail\"; action = \"allow\"; },\n"
	"  { name = \"rest\"; action = \"deny\"; }\n"
	");\n";

static const char P_RO_DENY_THEN_ALLOW[] = HEAD "rules = (\n"
	"  { name = \"trial-deny\"; not_from = [ \"lan\" ]; action = \"deny\"; report_only = true; },\n"
	"  { name = \"ok\"; action = \"allow\"; }\n"
	");\n";

static const char P_RO_ONLY[] = HEAD "rules = (\n"
	"  { name = \"trial-allow\"; action = \"allow\"; report_only = true; alert = true; }\n"
	");\n";

static const char P_GLOBAL_RO[] = "serial = 1;\nmode = \"report-only\";\n" NETS CLASSES COMMON
	"rules = (\n"
	"  { name = \"d\"; class = \"admin\"; action = \"deny\"; },\n"
	"  { name = \"m\"; class = \"mail\"; action = \"mfa\"; },\n"
	"  { name = \"a\"; services = [ \"cron\" ]; action = \"allow\"; alert = true; },\n"
	"  { name = \"trial\"; services = [ \"httpd\" ]; action = \"deny\"; report_only = true; }\n"
	");\n";

static const char P_ONLY_ALICE[] = HEAD "rules = (\n"
	"  { name = \"only\"; users = [ \"alice\" ]; action = \"allow\"; }\n"
	");\n";

static const char P_ALERT[] = HEAD "rules = (\n"
	"  { name = \"bg\"; users = [ \"breakglass\" ]; from = [ \"local\" ]; action = \"mfa\"; alert = true; },\n"
	"  { name = \"bg-remote\"; users = [ \"breakglass\" ]; action = \"deny\"; },\n"
	"  { name = \"ro-alert\"; users = [ \"eve\" ]; action = \"deny\"; report_only = true; alert = true; },\n"
	"  { name = \"rest\"; action = \"allow\"; }\n"
	");\n";

/* admin declared before lan: the same address is zone "admin" here. */
static const char P_ZONE_ADMIN_FIRST[] = "serial = 1;\n"
	"networks = {\n"
	"  admin = [ \"10.20.5.0/24\" ];\n"
	"  lan   = [ \"10.20.0.0/16\", \"fd00:20::/48\" ];\n"
	"};\n" CLASSES COMMON
	"rules = ( { name = \"any\"; action = \"allow\"; } );\n";

#define P_DEFAULT NULL /* the embedded policies/ministry.conf */

/* ---- table ------------------------------------------------------------- */

#define MON_10 "2026-03-02T10:00:00Z"

struct dcase {
	const char *name;
	const char *pol;
	const char *user;    /* NULL: "alice" */
	const char *service; /* NULL: "sshd" */
	const char *rhost;   /* NULL: local */
	const char *groups;  /* comma-separated, NULL: none */
	const char *time;    /* NULL: MON_10 */
	bool new_network;
	enum garde_action action;
	bool mode_ro;             /* global report-only: then `would` is checked apart */
	enum garde_action would;  /* only read when mode_ro */
	const char *rule;         /* NULL: implicit deny */
	const char *zone;         /* NULL: not checked */
	const char *klass;        /* NULL: not checked */
	const char *ro;           /* "name=action,..." report-only entries, NULL: none */
	const char *trace;        /* "cond,cond": trace of the n_traced evaluated rules, NULL: not checked */
	bool alert;
};

#define A GARDE_ALLOW
#define D GARDE_DENY
#define M GARDE_MFA

static const struct dcase cases[] = {
	/* users / not_users */
	{ .name = "users listed", .pol = P_USERS, .user = "alice", .action = A, .rule = "u", .trace = "none" },
	{ .name = "users second listed", .pol = P_USERS, .user = "bob", .action = A, .rule = "u" },
	{ .name = "users not listed, not_users holds", .pol = P_USERS, .user = "dave", .action = M, .rule = "nu", .trace = "users,none" },
	{ .name = "users exact compare", .pol = P_USERS, .user = "Alice", .action = M, .rule = "nu", .trace = "users,none" },
	{ .name = "not_users fails", .pol = P_USERS, .user = "carol", .action = D, .rule = "rest", .trace = "users,not_users,none" },
	/* groups / not_groups */
	{ .name = "groups first listed", .pol = P_GROUPS, .groups = "wheel", .action = A, .rule = "g" },
	{ .name = "groups second listed, supplementary", .pol = P_GROUPS, .groups = "staff,ops", .action = A, .rule = "g" },
	{ .name = "groups none, not_groups holds", .pol = P_GROUPS, .groups = "staff", .action = M, .rule = "ng", .trace = "groups,none" },
	{ .name = "no groups at all", .pol = P_GROUPS, .action = M, .rule = "ng", .trace = "groups,none" },
	{ .name = "not_groups fails", .pol = P_GROUPS, .groups = "staff,contractors", .action = D, .rule = "rest", .trace = "groups,not_groups,none" },
	{ .name = "groups checked before not_groups", .pol = P_GROUPS, .groups = "contractors,wheel", .action = A, .rule = "g" },
	/* class */
	{ .name = "class admin", .pol = P_CLASS, .service = "sshd", .action = M, .rule = "ca", .klass = "admin" },
	{ .name = "class admin sudo", .pol = P_CLASS, .service = "sudo", .action = M, .rule = "ca", .klass = "admin" },
	{ .name = "class list mail", .pol = P_CLASS, .service = "imap", .action = A, .rule = "cm", .klass = "mail", .trace = "class,none" },
	{ .name = "class other", .pol = P_CLASS, .service = "cron", .action = D, .rule = "co", .klass = "other", .trace = "class,class,none" },
	{ .name = "class list with other: mail", .pol = P_CLASS_LIST, .service = "dovecot", .action = A, .rule = "mail-or-other", .klass = "mail" },
	{ .name = "class list with other: other", .pol = P_CLASS_LIST, .service = "httpd", .action = A, .rule = "mail-or-other", .klass = "other" },
	{ .name = "class list without admin", .pol = P_CLASS_LIST, .service = "sudo", .action = D, .rule = "rest", .klass = "admin", .trace = "class,none" },
	/* services */
	{ .name = "services listed", .pol = P_SERVICES, .service = "sshd", .action = A, .rule = "s" },
	{ .name = "services listed (mail)", .pol = P_SERVICES, .service = "dovecot", .action = A, .rule = "s" },
	{ .name = "services not listed, same class", .pol = P_SERVICES, .service = "sudo", .action = D, .rule = "rest", .trace = "services,none" },
	{ .name = "services exact compare", .pol = P_SERVICES, .service = "SSHD", .action = D, .rule = "rest", .klass = "other" },
	/* from / not_from, local, unknown, mapped, IPv6 */
	{ .name = "local login (no rhost)", .pol = P_FROM, .rhost = NULL, .action = A, .rule = "f-local", .zone = "local", .trace = "none" },
	{ .name = "local login (empty rhost)", .pol = P_FROM, .rhost = "", .action = A, .rule = "f-local", .zone = "local" },
	{ .name = "from lan", .pol = P_FROM, .rhost = "10.20.1.1", .action = M, .rule = "f-lan", .zone = "lan", .trace = "from,none" },
	{ .name = "from lan via IPv4-mapped IPv6", .pol = P_FROM, .rhost = "::ffff:10.20.1.1", .action = M, .rule = "f-lan", .zone = "lan" },
	{ .name = "from lan bracketed IPv6", .pol = P_FROM, .rhost = "[fd00:20::7]", .action = M, .rule = "f-lan", .zone = "lan" },
	{ .name = "from CIDR literal", .pol = P_FROM, .rhost = "192.0.2.77", .action = M, .rule = "f-lan", .zone = "elsewhere" },
	{ .name = "from lan IPv6", .pol = P_FROM, .rhost = "fd00:20::5", .action = M, .rule = "f-lan", .zone = "lan" },
	{ .name = "vpn: not in from, fails not_from", .pol = P_FROM, .rhost = "10.99.1.1", .action = A, .rule = "inside", .zone = "vpn", .trace = "from,from,not_from,none" },
	{ .name = "internet: not_from holds", .pol = P_FROM, .rhost = "203.0.113.9", .action = D, .rule = "offsite", .zone = "elsewhere", .trace = "from,from,none" },
	{ .name = "host name: unknown, holds for not_from", .pol = P_FROM, .rhost = "mail.example.org", .action = D, .rule = "offsite", .zone = "elsewhere", .trace = "from,from,none" },
	{ .name = "IPv6 outside every network", .pol = P_FROM, .rhost = "2001:db8::1", .action = D, .rule = "offsite", .zone = "elsewhere" },
	{ .name = "IPv6 link-local with zone id", .pol = P_FROM, .rhost = "fe80::1%eth0", .action = D, .rule = "offsite", .zone = "elsewhere" },
	{ .name = "lan edge 10.20.255.255", .pol = P_FROM, .rhost = "10.20.255.255", .action = M, .rule = "f-lan" },
	{ .name = "just outside lan 10.21.0.0", .pol = P_FROM, .rhost = "10.21.0.0", .action = D, .rule = "offsite", .zone = "elsewhere" },
	{ .name = "local is not in a network", .pol = P_FROM_LAN, .rhost = NULL, .action = D, .rule = "rest", .zone = "local", .trace = "from,none" },
	{ .name = "unknown is not in a network", .pol = P_FROM_LAN, .rhost = "laptop", .action = D, .rule = "rest", .trace = "from,none" },
	{ .name = "mapped IPv6 outside lan", .pol = P_FROM_LAN, .rhost = "::ffff:10.21.0.1", .action = D, .rule = "rest" },
	{ .name = "not_from holds for local", .pol = P_NOT_FROM_LAN, .rhost = NULL, .action = D, .rule = "not-lan" },
	{ .name = "not_from holds for unknown", .pol = P_NOT_FROM_LAN, .rhost = "evil.example", .action = D, .rule = "not-lan" },
	{ .name = "not_from fails inside", .pol = P_NOT_FROM_LAN, .rhost = "10.20.9.9", .action = A, .rule = "rest", .trace = "not_from,none" },
	{ .name = "IPv6 named network", .pol = P_FROM_V6, .rhost = "2001:db8:1:2::3", .action = A, .rule = "v6", .zone = "v6only" },
	{ .name = "IPv6 literal prefix", .pol = P_FROM_V6, .rhost = "2001:db8:ff::9", .action = A, .rule = "v6", .zone = "elsewhere" },
	{ .name = "IPv6 outside both", .pol = P_FROM_V6, .rhost = "2001:db8:2::1", .action = D, .rule = "rest" },
	{ .name = "IPv4 never in an IPv6 set", .pol = P_FROM_V6, .rhost = "32.1.13.184", .action = D, .rule = "rest" },
	/* hours: wrapping window */
	{ .name = "Mon 23:00 in Mon 22:00-06:00", .pol = P_NIGHT, .time = "2026-03-02T23:00:00Z", .action = A, .rule = "night" },
	{ .name = "Tue 03:00 in Mon 22:00-06:00", .pol = P_NIGHT, .time = "2026-03-03T03:00:00Z", .action = A, .rule = "night" },
	{ .name = "Mon 03:00 not in Mon 22:00-06:00", .pol = P_NIGHT, .time = "2026-03-02T03:00:00Z", .action = D, .rule = "rest", .trace = "hours,none" },
	{ .name = "start inclusive Mon 22:00", .pol = P_NIGHT, .time = "2026-03-02T22:00:00Z", .action = A, .rule = "night" },
	{ .name = "end exclusive Tue 06:00", .pol = P_NIGHT, .time = "2026-03-03T06:00:00Z", .action = D, .rule = "rest" },
	{ .name = "Tue 05:59:59", .pol = P_NIGHT, .time = "2026-03-03T05:59:59Z", .action = A, .rule = "night" },
	{ .name = "Sun 23:00 not Mon", .pol = P_NIGHT, .time = "2026-03-01T23:00:00Z", .action = D, .rule = "rest" },
	{ .name = "Tue 23:00 not Mon", .pol = P_NIGHT, .time = "2026-03-03T23:00:00Z", .action = D, .rule = "rest" },
	/* hours: day ranges that wrap the week */
	{ .name = "Fri-Mon: Fri", .pol = P_WEEKEND, .time = "2026-03-06T10:00:00Z", .action = A, .rule = "fri-mon" },
	{ .name = "Fri-Mon: Sat", .pol = P_WEEKEND, .time = "2026-03-07T10:00:00Z", .action = A, .rule = "fri-mon" },
	{ .name = "Fri-Mon: Sun", .pol = P_WEEKEND, .time = "2026-03-08T16:59:00Z", .action = A, .rule = "fri-mon" },
	{ .name = "Fri-Mon: Mon", .pol = P_WEEKEND, .time = "2026-03-02T09:00:00Z", .action = A, .rule = "fri-mon" },
	{ .name = "Fri-Mon: Tue", .pol = P_WEEKEND, .time = "2026-03-03T10:00:00Z", .action = D, .rule = "rest" },
	{ .name = "Fri-Mon: Thu", .pol = P_WEEKEND, .time = "2026-03-05T10:00:00Z", .action = D, .rule = "rest" },
	{ .name = "Fri-Mon: Fri 17:00 end", .pol = P_WEEKEND, .time = "2026-03-06T17:00:00Z", .action = D, .rule = "rest" },
	{ .name = "Fri-Mon: Sat 08:59", .pol = P_WEEKEND, .time = "2026-03-07T08:59:00Z", .action = D, .rule = "rest" },
	/* hours: 24:00 end, several windows */
	{ .name = "24:00 end: Sat 23:59", .pol = P_EVENINGS, .time = "2026-03-07T23:59:59Z", .action = A, .rule = "eve" },
	{ .name = "24:00 end: Sat 18:00", .pol = P_EVENINGS, .time = "2026-03-07T18:00:00Z", .action = A, .rule = "eve" },
	{ .name = "24:00 end: Sun 00:00 not", .pol = P_EVENINGS, .time = "2026-03-08T00:00:00Z", .action = D, .rule = "rest", .trace = "hours,none" },
	{ .name = "24:00 end: Mon 00:00 after Sun", .pol = P_EVENINGS, .time = "2026-03-09T00:00:00Z", .action = D, .rule = "rest" },
	{ .name = "second window Wed 12:30", .pol = P_EVENINGS, .time = "2026-03-04T12:30:00Z", .action = A, .rule = "eve" },
	{ .name = "second window Thu 12:30 not", .pol = P_EVENINGS, .time = "2026-03-05T12:30:00Z", .action = D, .rule = "rest" },
	{ .name = "* 00:00-24:00 midnight", .pol = P_ALWAYS, .time = "2026-03-04T00:00:00Z", .action = A, .rule = "always" },
	{ .name = "* 00:00-24:00 last second", .pol = P_ALWAYS, .time = "2026-03-07T23:59:59Z", .action = A, .rule = "always" },
	/* not_hours */
	{ .name = "not_hours fails in office hours", .pol = P_NOT_HOURS, .time = "2026-03-02T10:00:00Z", .action = A, .rule = "rest", .trace = "not_hours,none" },
	{ .name = "not_hours holds Saturday", .pol = P_NOT_HOURS, .time = "2026-03-07T10:00:00Z", .action = D, .rule = "off-hours" },
	{ .name = "not_hours holds Mon 19:00", .pol = P_NOT_HOURS, .time = "2026-03-02T19:00:00Z", .action = D, .rule = "off-hours" },
	/* time zones and DST */
	{ .name = "Paris spring-forward 00:30Z is 01:30", .pol = P_PARIS_DST, .time = "2026-03-29T00:30:00Z", .action = D, .rule = "rest" },
	{ .name = "Paris spring-forward 00:59:59Z is 01:59:59", .pol = P_PARIS_DST, .time = "2026-03-29T00:59:59Z", .action = D, .rule = "rest" },
	{ .name = "Paris spring-forward 01:00Z is 03:00", .pol = P_PARIS_DST, .time = "2026-03-29T01:00:00Z", .action = D, .rule = "rest" },
	{ .name = "Paris fall-back 00:30Z is 02:30 CEST", .pol = P_PARIS_DST, .time = "2026-10-25T00:30:00Z", .action = A, .rule = "two-am" },
	{ .name = "Paris fall-back 01:30Z is 02:30 CET", .pol = P_PARIS_DST, .time = "2026-10-25T01:30:00Z", .action = A, .rule = "two-am" },
	{ .name = "Paris fall-back 02:00Z is 03:00 CET", .pol = P_PARIS_DST, .time = "2026-10-25T02:00:00Z", .action = D, .rule = "rest" },
	{ .name = "Paris summer 00:30Z is 02:30", .pol = P_PARIS_DST, .time = "2026-07-01T00:30:00Z", .action = A, .rule = "two-am" },
	{ .name = "Paris winter 01:30Z is 02:30", .pol = P_PARIS_DST, .time = "2026-01-15T01:30:00Z", .action = A, .rule = "two-am" },
	{ .name = "Paris winter 02:30Z is 03:30", .pol = P_PARIS_DST, .time = "2026-01-15T02:30:00Z", .action = D, .rule = "rest" },
	{ .name = "Paris: Sun 23:30Z is Mon 00:30", .pol = P_PARIS_MON, .time = "2026-03-01T23:30:00Z", .action = A, .rule = "mon-early" },
	{ .name = "Paris: Mon 00:30Z is Mon 01:30", .pol = P_PARIS_MON, .time = "2026-03-02T00:30:00Z", .action = D, .rule = "rest" },
	{ .name = "New York: Tue 02:00Z is Mon 21:00", .pol = P_NY_MON, .time = "2026-03-03T02:00:00Z", .action = A, .rule = "mon-evening" },
	{ .name = "New York: Mon 21:00Z is Mon 16:00", .pol = P_NY_MON, .time = "2026-03-02T21:00:00Z", .action = D, .rule = "rest" },
	/* new_network */
	{ .name = "new_network true holds", .pol = P_NEWNET, .new_network = true, .action = M, .rule = "new", .trace = "none" },
	{ .name = "new_network false holds", .pol = P_NEWNET, .new_network = false, .action = A, .rule = "known", .trace = "new_network,none" },
	{ .name = "new_network false fails", .pol = P_KNOWN_ONLY, .new_network = true, .action = D, .rule = "rest", .trace = "new_network,none" },
	/* first match */
	{ .name = "first match wins", .pol = P_ORDER, .service = "sshd", .action = D, .rule = "first", .trace = "none" },
	{ .name = "falls through to third", .pol = P_ORDER, .service = "imap", .action = M, .rule = "third", .trace = "class,class,none" },
	/* every condition of one rule, in check order */
	{ .name = "all conditions hold", .pol = P_ALL, .user = "alice", .groups = "staff", .service = "sshd", .rhost = "10.20.1.1", .action = A, .rule = "all", .trace = "none" },
	{ .name = "all: users first", .pol = P_ALL, .user = "carol", .groups = "contractors", .service = "imap", .rhost = "203.0.113.1", .time = "2026-03-07T12:30:00Z", .new_network = true, .action = D, .rule = "rest", .trace = "users,none" },
	{ .name = "all: not_users", .pol = P_ALL, .user = "bob", .groups = "staff", .service = "sshd", .rhost = "10.20.1.1", .action = D, .rule = "rest", .trace = "not_users,none" },
	{ .name = "all: groups", .pol = P_ALL, .groups = "ops", .service = "sshd", .rhost = "10.20.1.1", .action = D, .rule = "rest", .trace = "groups,none" },
	{ .name = "all: not_groups", .pol = P_ALL, .groups = "staff,contractors", .service = "sshd", .rhost = "10.20.1.1", .action = D, .rule = "rest", .trace = "not_groups,none" },
	{ .name = "all: class before services", .pol = P_ALL, .groups = "staff", .service = "imap", .rhost = "10.20.1.1", .action = D, .rule = "rest", .trace = "class,none" },
	{ .name = "all: services", .pol = P_ALL, .groups = "staff", .service = "sudo", .rhost = "10.20.1.1", .action = D, .rule = "rest", .trace = "services,none" },
	{ .name = "all: from", .pol = P_ALL, .groups = "staff", .rhost = "10.99.1.1", .action = D, .rule = "rest", .trace = "from,none" },
	{ .name = "all: not_from", .pol = P_ALL, .groups = "staff", .rhost = "10.20.5.1", .action = D, .rule = "rest", .zone = "lan", .trace = "not_from,none" },
	{ .name = "all: hours", .pol = P_ALL, .groups = "staff", .rhost = "10.20.1.1", .time = "2026-03-07T10:00:00Z", .action = D, .rule = "rest", .trace = "hours,none" },
	{ .name = "all: not_hours", .pol = P_ALL, .groups = "staff", .rhost = "10.20.1.1", .time = "2026-03-02T12:30:00Z", .action = D, .rule = "rest", .trace = "not_hours,none" },
	{ .name = "all: new_network", .pol = P_ALL, .groups = "staff", .rhost = "10.20.1.1", .new_network = true, .action = D, .rule = "rest", .trace = "new_network,none" },
	/* report-only rules */
	{ .name = "two report-only then allow", .pol = P_RO, .service = "imap", .action = A, .rule = "mail-ok", .ro = "ro1=deny,ro2=mfa", .trace = "none,none,users,none" },
	{ .name = "one report-only then deny", .pol = P_RO, .service = "sshd", .action = D, .rule = "rest", .ro = "ro2=mfa", .trace = "class,none,users,class,none" },
	{ .name = "report-only deny then allow", .pol = P_RO_DENY_THEN_ALLOW, .rhost = "203.0.113.5", .action = A, .rule = "ok", .ro = "trial-deny=deny" },
	{ .name = "report-only deny not matching", .pol = P_RO_DENY_THEN_ALLOW, .rhost = "10.20.0.1", .action = A, .rule = "ok", .trace = "not_from,none" },
	{ .name = "only report-only: implicit deny", .pol = P_RO_ONLY, .action = D, .rule = NULL, .ro = "trial-allow=allow", .alert = false, .trace = "none" },
	/* global report-only mode */
	{ .name = "global ro: would deny", .pol = P_GLOBAL_RO, .service = "sshd", .action = A, .mode_ro = true, .would = D, .rule = "d" },
	{ .name = "global ro: would mfa", .pol = P_GLOBAL_RO, .service = "imap", .action = A, .mode_ro = true, .would = M, .rule = "m" },
	{ .name = "global ro: allow", .pol = P_GLOBAL_RO, .service = "cron", .action = A, .mode_ro = true, .would = A, .rule = "a", .alert = true },
	{ .name = "global ro: would no_rule", .pol = P_GLOBAL_RO, .service = "httpd", .action = A, .mode_ro = true, .would = D, .rule = NULL, .ro = "trial=deny", .trace = "class,class,services,none" },
	/* implicit deny */
	{ .name = "implicit deny", .pol = P_ONLY_ALICE, .user = "bob", .action = D, .rule = NULL, .trace = "users" },
	{ .name = "implicit deny not taken", .pol = P_ONLY_ALICE, .user = "alice", .action = A, .rule = "only" },
	/* alert */
	{ .name = "alert on break-glass", .pol = P_ALERT, .user = "breakglass", .action = M, .rule = "bg", .alert = true },
	{ .name = "no alert on break-glass remote", .pol = P_ALERT, .user = "breakglass", .rhost = "10.20.0.1", .action = D, .rule = "bg-remote", .trace = "from,none" },
	{ .name = "report-only alert does not decide alert", .pol = P_ALERT, .user = "eve", .action = A, .rule = "rest", .ro = "ro-alert=deny", .alert = false },
	{ .name = "no alert plain", .pol = P_ALERT, .user = "alice", .action = A, .rule = "rest", .alert = false },
	/* zone */
	{ .name = "zone: lan declared first", .pol = P_FROM, .rhost = "10.20.5.7", .action = M, .rule = "f-lan", .zone = "lan" },
	{ .name = "zone: admin declared first", .pol = P_ZONE_ADMIN_FIRST, .rhost = "10.20.5.7", .action = A, .rule = "any", .zone = "admin" },
	{ .name = "zone: admin first, mapped", .pol = P_ZONE_ADMIN_FIRST, .rhost = "::ffff:10.20.5.7", .action = A, .rule = "any", .zone = "admin" },
	{ .name = "zone: lan outside admin", .pol = P_ZONE_ADMIN_FIRST, .rhost = "10.20.6.7", .action = A, .rule = "any", .zone = "lan" },
	{ .name = "zone: lan IPv6", .pol = P_ZONE_ADMIN_FIRST, .rhost = "fd00:20:0:1::1", .action = A, .rule = "any", .zone = "lan" },
	{ .name = "zone: elsewhere", .pol = P_ZONE_ADMIN_FIRST, .rhost = "198.51.100.1", .action = A, .rule = "any", .zone = "elsewhere" },
	{ .name = "zone: local", .pol = P_ZONE_ADMIN_FIRST, .rhost = NULL, .action = A, .rule = "any", .zone = "local" },
	{ .name = "zone: unknown is elsewhere", .pol = P_ZONE_ADMIN_FIRST, .rhost = "host.example", .action = A, .rule = "any", .zone = "elsewhere" },
	/* the embedded default policy (Europe/Paris) */
	{ .name = "default: admin offsite", .pol = P_DEFAULT, .service = "sshd", .rhost = "203.0.113.9", .action = D, .rule = "admin-offsite", .zone = "elsewhere", .klass = "admin", .trace = "users,users,none" },
	{ .name = "default: admin from vpn", .pol = P_DEFAULT, .service = "sudo", .rhost = "10.99.3.4", .action = M, .rule = "admin-mfa", .zone = "vpn", .klass = "admin" },
	{ .name = "default: admin local", .pol = P_DEFAULT, .service = "login", .rhost = NULL, .action = M, .rule = "admin-mfa", .zone = "local" },
	{ .name = "default: mail at night watched", .pol = P_DEFAULT, .service = "imap", .rhost = "10.20.1.1", .time = "2026-03-02T22:30:00Z", .action = A, .rule = "mail-lan", .ro = "mail-night-watch=deny", .klass = "mail" },
	{ .name = "default: mail offsite day", .pol = P_DEFAULT, .service = "dovecot", .rhost = "198.51.100.7", .action = M, .rule = "mail-offsite", .ro = NULL },
	{ .name = "default: break-glass console", .pol = P_DEFAULT, .user = "breakglass", .service = "login", .action = M, .rule = "break-glass", .alert = true },
	{ .name = "default: break-glass remote", .pol = P_DEFAULT, .user = "breakglass", .service = "sshd", .rhost = "10.20.1.1", .action = D, .rule = "break-glass-remote" },
	{ .name = "default: other service", .pol = P_DEFAULT, .service = "cron", .action = D, .rule = "default-deny", .klass = "other" },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* ---- helpers ----------------------------------------------------------- */

static void diag_print(void *arg, const char *file, int line, const char *message)
{
	(void)arg;
	fprintf(stderr, "%s:%d: %s\n", file, line, message);
}

static struct policy *parse_or_fail(const char *text, size_t len, const char *what)
{
	struct policy_load_opts opts = { .diag = diag_print, .skip_trust_check = true };
	struct policy *pol = NULL;

	ck_assert_msg(policy_parse(text, len, what, &opts, &pol) == 0 && pol != NULL,
		      "%s: policy does not parse", what);
	return pol;
}

static struct policy *case_policy(const struct dcase *c)
{
	if (c->pol == P_DEFAULT)
		return parse_or_fail(policy_default_text, policy_default_len, c->name);
	return parse_or_fail(c->pol, strlen(c->pol), c->name);
}

/* "YYYY-MM-DDTHH:MM:SSZ" only: the table writes UTC instants. */
static int64_t rfc3339(const char *text)
{
	struct tm tm = { 0 };
	char z = 0;

	ck_assert_msg(sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) == 7 && z == 'Z',
		      "bad test time %s", text);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

static enum decide_condition cond_by_name(const char *name, size_t len)
{
	for (int c = COND_NONE; c <= COND_NEW_NETWORK; c++) {
		const char *n = decide_condition_name((enum decide_condition)c);
		if (strlen(n) == len && strncmp(n, name, len) == 0)
			return (enum decide_condition)c;
	}
	ck_abort_msg("unknown condition in table: %.*s", (int)len, name);
	return COND_NONE;
}

static enum decide_reason expected_reason(const struct dcase *c, enum garde_action would)
{
	if (c->rule == NULL)
		return REASON_NO_RULE;
	return would == GARDE_ALLOW ? REASON_POLICY_ALLOW
	       : would == GARDE_MFA ? REASON_POLICY_MFA
				    : REASON_POLICY_DENY;
}

#define MAX_GROUPS 8

/* ---- the table test ---------------------------------------------------- */

START_TEST(test_decide_table)
{
	const struct dcase *c = &cases[_i];
	struct policy *pol = case_policy(c);
	char groupbuf[256];
	const char *groups[MAX_GROUPS];
	size_t n_groups = 0;
	struct login_ctx ctx = { 0 };
	struct decision d;
	enum decide_condition trace[64];
	size_t n_traced = 999;
	enum garde_action want_would = c->mode_ro ? c->would : c->action;

	ck_assert_uint_le(pol->n_rules, 64);
	if (c->groups != NULL) {
		char *save = NULL;
		snprintf(groupbuf, sizeof(groupbuf), "%s", c->groups);
		for (char *g = strtok_r(groupbuf, ",", &save); g != NULL && n_groups < MAX_GROUPS;
		     g = strtok_r(NULL, ",", &save))
			groups[n_groups++] = g;
	}
	ctx.user = c->user != NULL ? c->user : "alice";
	ctx.service = c->service != NULL ? c->service : "sshd";
	ck_assert_int_eq(source_parse(c->rhost, &ctx.source), 0);
	ctx.groups = groups;
	ctx.n_groups = n_groups;
	ctx.now = rfc3339(c->time != NULL ? c->time : MON_10);
	ctx.new_network = c->new_network;

	for (size_t i = 0; i < 64; i++)
		trace[i] = COND_USERS; /* garbage the callee must overwrite */
	decide(pol, &ctx, &d, trace, &n_traced);

	ck_assert_msg(d.action == c->action, "%s: action %s, want %s", c->name,
		      garde_action_name(d.action), garde_action_name(c->action));
	ck_assert_msg(d.would == want_would, "%s: would %s, want %s", c->name,
		      garde_action_name(d.would), garde_action_name(want_would));
	ck_assert_msg(d.report_only_mode == c->mode_ro, "%s: report_only_mode", c->name);
	if (c->rule == NULL)
		ck_assert_msg(d.rule == NULL, "%s: rule %s, want none", c->name, d.rule ? d.rule->name : "");
	else
		ck_assert_msg(d.rule != NULL && strcmp(d.rule->name, c->rule) == 0, "%s: rule %s, want %s",
			      c->name, d.rule ? d.rule->name : "(none)", c->rule);
	ck_assert_msg(d.reason == expected_reason(c, want_would), "%s: reason %s", c->name,
		      decide_reason_name(d.reason));
	ck_assert_msg(d.alert == c->alert, "%s: alert %d", c->name, d.alert);
	ck_assert_msg(d.class_index == policy_class_of(pol, ctx.service), "%s: class_index", c->name);
	ck_assert_ptr_nonnull(d.class_name);
	if (c->klass != NULL)
		ck_assert_msg(strcmp(d.class_name, c->klass) == 0, "%s: class %s, want %s", c->name,
			      d.class_name, c->klass);
	ck_assert_ptr_nonnull(d.zone);
	if (c->zone != NULL)
		ck_assert_msg(strcmp(d.zone, c->zone) == 0, "%s: zone %s, want %s", c->name, d.zone, c->zone);

	/* report-only list, in rule order */
	{
		size_t n = 0;
		const char *p = c->ro;
		while (p != NULL && *p != '\0') {
			const char *eq = strchr(p, '=');
			const char *end = strchr(p, ',');
			size_t len_name, len_act;
			ck_assert_ptr_nonnull(eq);
			if (end == NULL)
				end = p + strlen(p);
			len_name = (size_t)(eq - p);
			len_act = (size_t)(end - eq - 1);
			ck_assert_msg(n < d.n_report_only, "%s: only %zu report-only entries", c->name,
				      d.n_report_only);
			ck_assert_msg(strlen(d.report_only[n].rule->name) == len_name &&
					      strncmp(d.report_only[n].rule->name, p, len_name) == 0,
				      "%s: report-only[%zu] is %s, want %.*s", c->name, n,
				      d.report_only[n].rule->name, (int)len_name, p);
			ck_assert_msg(strlen(garde_action_name(d.report_only[n].would)) == len_act &&
					      strncmp(garde_action_name(d.report_only[n].would), eq + 1,
						      len_act) == 0,
				      "%s: report-only[%zu] would %s", c->name, n,
				      garde_action_name(d.report_only[n].would));
			n++;
			p = *end == ',' ? end + 1 : end;
		}
		ck_assert_msg(d.n_report_only == n, "%s: %zu report-only entries, want %zu", c->name,
			      d.n_report_only, n);
		ck_assert_uint_eq(d.n_report_only_dropped, 0);
	}

	/* trace: exactly the evaluated rules, the rest COND_NONE */
	if (c->trace != NULL) {
		size_t n = 0;
		const char *p = c->trace;
		while (*p != '\0') {
			const char *end = strchr(p, ',');
			if (end == NULL)
				end = p + strlen(p);
			ck_assert_msg(n < pol->n_rules, "%s: trace longer than rules", c->name);
			enum decide_condition want = cond_by_name(p, (size_t)(end - p));
			ck_assert_msg(trace[n] == want, "%s: trace[%zu] %s, want %s", c->name, n,
				      decide_condition_name(trace[n]), decide_condition_name(want));
			n++;
			p = *end == ',' ? end + 1 : end;
		}
		ck_assert_msg(n_traced == n, "%s: n_traced %zu, want %zu", c->name, n_traced, n);
	}
	ck_assert_uint_le(n_traced, pol->n_rules);
	for (size_t i = n_traced; i < pol->n_rules; i++)
		ck_assert_msg(trace[i] == COND_NONE, "%s: trace[%zu] after the deciding rule", c->name, i);

	/* The same call without trace decides the same way. */
	{
		struct decision d2;
		decide(pol, &ctx, &d2, NULL, NULL);
		ck_assert_int_eq(d2.action, d.action);
		ck_assert_int_eq(d2.would, d.would);
		ck_assert_ptr_eq(d2.rule, d.rule);
		ck_assert_uint_eq(d2.n_report_only, d.n_report_only);
	}
	policy_free(pol);
}
END_TEST

/* ---- decide_rule with hand-built rules (no parser) ---------------------- */

static struct policy_rule blank_rule(void)
{
	struct policy_rule r;
	memset(&r, 0, sizeof(r));
	r.name = (char *)(uintptr_t) "hand";
	r.new_network = -1;
	return r;
}

static struct tz_wallclock at(int wday, int hour, int min)
{
	struct tz_wallclock w;
	memset(&w, 0, sizeof(w));
	w.wday = wday;
	w.minute = hour * 60 + min;
	w.hour = hour;
	w.min = min;
	return w;
}

struct wcase {
	uint8_t days;
	uint16_t start, end;
	int wday, hour, min;
	bool inside;
};

#define SUN 0x01
#define MON 0x02
#define TUE 0x04
#define FRI 0x20
#define SAT 0x40
#define ALL 0x7f

static const struct wcase wcases[] = {
	{ MON, 22 * 60, 6 * 60, 1, 23, 0, true },   /* Mon 23:00 */
	{ MON, 22 * 60, 6 * 60, 2, 3, 0, true },    /* Tue 03:00: yesterday was Mon */
	{ MON, 22 * 60, 6 * 60, 1, 3, 0, false },   /* Mon 03:00 belongs to Sun's window */
	{ MON, 22 * 60, 6 * 60, 2, 22, 30, false }, /* Tue 22:30 */
	{ SAT, 22 * 60, 6 * 60, 0, 5, 59, true },   /* Sat night into Sun morning */
	{ SAT, 22 * 60, 6 * 60, 0, 6, 0, false },
	{ SAT, 22 * 60, 2 * 60, 6, 23, 59, true },
	{ SUN, 23 * 60, 60, 1, 0, 30, true },       /* Sun -> Mon across the week start */
	{ SUN, 23 * 60, 60, 0, 0, 30, false },      /* Sun 00:30 belongs to Sat */
	{ ALL, 0, 1440, 3, 23, 59, true },
	{ ALL, 0, 1440, 3, 0, 0, true },
	{ FRI | SAT | SUN | MON, 9 * 60, 17 * 60, 0, 12, 0, true },
	{ FRI | SAT | SUN | MON, 9 * 60, 17 * 60, 2, 12, 0, false },
	{ TUE, 9 * 60, 17 * 60, 2, 8, 59, false },
	{ TUE, 9 * 60, 17 * 60, 2, 9, 0, true },
	{ TUE, 9 * 60, 17 * 60, 2, 16, 59, true },
	{ TUE, 9 * 60, 17 * 60, 2, 17, 0, false },
	{ TUE, 22 * 60, 0, 2, 23, 59, true },       /* end 00:00 wraps to an empty tail */
	{ TUE, 22 * 60, 0, 3, 0, 0, false },
};

START_TEST(test_decide_rule_windows)
{
	const struct wcase *w = &wcases[_i];
	struct policy_window win = { .days = w->days, .start = w->start, .end = w->end };
	struct policy_rule hours = blank_rule();
	struct policy_rule not_hours = blank_rule();
	struct tz_wallclock local = at(w->wday, w->hour, w->min);
	struct login_ctx ctx = { .user = "alice", .service = "sshd" };

	hours.hours.present = true;
	hours.hours.n = 1;
	hours.hours.v = &win;
	not_hours.not_hours.present = true;
	not_hours.not_hours.n = 1;
	not_hours.not_hours.v = &win;
	ctx.source.kind = SOURCE_LOCAL;

	ck_assert_int_eq(decide_rule(NULL, &hours, &ctx, 0, &local), w->inside ? COND_NONE : COND_HOURS);
	ck_assert_int_eq(decide_rule(NULL, &not_hours, &ctx, 0, &local),
			 w->inside ? COND_NOT_HOURS : COND_NONE);
}
END_TEST

START_TEST(test_decide_rule_names_and_class)
{
	char *users_v[] = { (char *)(uintptr_t) "alice" };
	char *groups_v[] = { (char *)(uintptr_t) "wheel" };
	const char *ctx_groups[] = { "staff", "wheel" };
	struct policy_rule r = blank_rule();
	struct login_ctx ctx = { .user = "alice", .service = "sshd" };
	struct tz_wallclock local = at(1, 10, 0);

	ctx.source.kind = SOURCE_UNKNOWN;
	/* An empty rule matches everything. */
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_NONE);

	r.users = (struct policy_names){ .present = true, .n = 1, .v = users_v };
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_NONE);
	ctx.user = NULL; /* a missing user is listed nowhere */
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_USERS);
	ctx.user = "alice";

	r.groups = (struct policy_names){ .present = true, .n = 1, .v = groups_v };
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_GROUPS);
	ctx.groups = ctx_groups;
	ctx.n_groups = 1; /* only "staff" counted */
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_GROUPS);
	ctx.n_groups = 2;
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_NONE);

	r.has_class = true;
	r.class_mask = (uint64_t)1 << 2;
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 2, &local), COND_NONE);
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 1, &local), COND_CLASS);
	r.class_mask = (uint64_t)1 << 63; /* "other" when there are 63 classes */
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 63, &local), COND_NONE);
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 64, &local), COND_CLASS);
	r.has_class = false;

	/* from with only `local`: an unknown source fails from, holds not_from */
	r.from.present = true;
	r.from.local = true;
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_FROM);
	ctx.source.kind = SOURCE_LOCAL;
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_NONE);
	r.not_from.present = true;
	r.not_from.local = true;
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_NOT_FROM);
	r.from.present = false;
	ctx.source.kind = SOURCE_UNKNOWN;
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_NONE);

	r.new_network = 1;
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_NEW_NETWORK);
	ctx.new_network = true;
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_NONE);
	r.new_network = 0;
	ck_assert_int_eq(decide_rule(NULL, &r, &ctx, 0, &local), COND_NEW_NETWORK);
}
END_TEST

/* ---- names -------------------------------------------------------------- */

START_TEST(test_decide_names)
{
	static const char *const conds[] = { "none", "users", "not_users", "groups", "not_groups",
					     "class", "services", "from", "not_from", "hours",
					     "not_hours", "new_network" };
	ck_assert_int_eq(COND_NEW_NETWORK + 1, (int)(sizeof(conds) / sizeof(conds[0])));
	for (int c = COND_NONE; c <= COND_NEW_NETWORK; c++)
		ck_assert_str_eq(decide_condition_name((enum decide_condition)c), conds[c]);
	ck_assert_str_eq(decide_reason_name(REASON_POLICY_ALLOW), "policy_allow");
	ck_assert_str_eq(decide_reason_name(REASON_POLICY_MFA), "policy_mfa");
	ck_assert_str_eq(decide_reason_name(REASON_POLICY_DENY), "policy_deny");
	ck_assert_str_eq(decide_reason_name(REASON_NO_RULE), "no_rule");
}
END_TEST

/* ---- report-only overflow ------------------------------------------------ */

START_TEST(test_decide_report_only_overflow)
{
	enum { N_TRIAL = DECIDE_MAX_REPORT_ONLY + 8 };
	char text[16384];
	size_t len;
	struct policy *pol;
	struct login_ctx ctx = { .user = "alice", .service = "sshd", .now = rfc3339(MON_10) };
	struct decision d;
	size_t n_traced = 0;
	enum decide_condition trace[N_TRIAL + 1];

	len = (size_t)snprintf(text, sizeof(text), "%s", HEAD "rules = (\n");
	for (int i = 0; i < N_TRIAL; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"  { name = \"t%d\"; action = \"%s\"; report_only = true; },\n", i,
					i % 2 ? "mfa" : "deny");
	len += (size_t)snprintf(text + len, sizeof(text) - len, "  { name = \"last\"; action = \"allow\"; }\n);\n");
	ck_assert_uint_lt(len, sizeof(text));

	pol = parse_or_fail(text, len, "overflow");
	ck_assert_int_eq(source_parse(NULL, &ctx.source), 0);
	decide(pol, &ctx, &d, trace, &n_traced);
	ck_assert_int_eq(d.action, GARDE_ALLOW);
	ck_assert_str_eq(d.rule->name, "last");
	ck_assert_uint_eq(d.n_report_only, DECIDE_MAX_REPORT_ONLY);
	ck_assert_uint_eq(d.n_report_only_dropped, 8);
	ck_assert_str_eq(d.report_only[0].rule->name, "t0");
	ck_assert_int_eq(d.report_only[0].would, GARDE_DENY);
	ck_assert_str_eq(d.report_only[DECIDE_MAX_REPORT_ONLY - 1].rule->name, "t31");
	ck_assert_int_eq(d.report_only[DECIDE_MAX_REPORT_ONLY - 1].would, GARDE_MFA);
	ck_assert_uint_eq(n_traced, N_TRIAL + 1);
	policy_free(pol);
}
END_TEST

static Suite *decide_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_decide_table, 0, (int)N_CASES);
	tcase_add_loop_test(tc, test_decide_rule_windows, 0, (int)(sizeof(wcases) / sizeof(wcases[0])));
	tcase_add_test(tc, test_decide_rule_names_and_class);
	tcase_add_test(tc, test_decide_names);
	tcase_add_test(tc, test_decide_report_only_overflow);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(decide_suite)
