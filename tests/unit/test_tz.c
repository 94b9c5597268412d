/* test_tz.c - tz.c against glibc's localtime_r (TZ is set here, in the test
 * process only), plus hostile names and files. */
#include "runner.h"
#include "tz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ZONEINFO "/usr/share/zoneinfo"
#define T1970 INT64_C(0)
#define T2100 INT64_C(4102444800)

static const char *const test_tz_zones[] = {
	"Europe/Paris",     "America/New_York",  "Australia/Sydney",  "Asia/Kolkata",
	"Asia/Tehran",      "Pacific/Chatham",   "America/St_Johns",  "Africa/Casablanca",
	"Europe/London",    "UTC",               "Asia/Jerusalem",    "America/Sao_Paulo",
	"Pacific/Apia",     "Europe/Dublin",     "Australia/Lord_Howe", "America/Santiago",
	"America/Nuuk",     "Antarctica/Troll",  "America/Havana",    "Asia/Gaza",
	"Asia/Kathmandu",   "Pacific/Kiritimati", "America/Los_Angeles", "GB",
	"Etc/GMT+5",        "Europe/Moscow",
};
#define TEST_TZ_NZONES (sizeof(test_tz_zones) / sizeof(test_tz_zones[0]))

/* POSIX TZ strings fed to glibc directly and to tz.c as a TZif footer. */
static const char *const test_tz_rules[] = {
	"CET-1CEST,M3.5.0,M10.5.0/3",
	"EST5EDT,M3.2.0,M11.1.0",
	"<+0330>-3:30",
	"AEST-10AEDT,M10.1.0,M4.1.0/3",
	"IST-2IDT,M3.4.4/26,M10.5.0",
	"<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
	"IST-1GMT0,M10.5.0,M3.5.0/1",
	"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
	"EET-2EEST,M3.4.4/50,M10.4.4/50",
	"NST3:30NDT,M3.2.0,M11.1.0",
	"XXX3YYY,J60/1,J300",
	"XXX-5:45:30YYY-7,59,280/3:15",
	"XXX3YYY,M2.5.0,M12.5.6/23",
	"<+00>0<+02>-2,M3.5.0/1,M10.5.0/3",
	"<-04>4<-03>,M9.1.6/24,M4.1.6/24",
};
#define TEST_TZ_NRULES (sizeof(test_tz_rules) / sizeof(test_tz_rules[0]))

static uint64_t test_tz_rand(uint64_t *state)
{
	/* xorshift64*: deterministic, so a failure can be replayed. */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

static void test_tz_setenv(const char *tz)
{
	ck_assert_int_eq(setenv("TZ", tz, 1), 0);
	tzset();
}

/* Returns 0 if tz.c and glibc agree on when; else fills why. */
static int test_tz_compare(const struct tz *zone, int64_t when, char *why, size_t whylen)
{
	struct tz_wallclock w;
	struct tm tm;
	time_t t = (time_t)when;

	memset(&w, 0x55, sizeof(w));
	tz_localtime(zone, when, &w);
	if (localtime_r(&t, &tm) == NULL) {
		snprintf(why, whylen, "glibc localtime_r failed");
		return -1;
	}
	if (w.year != tm.tm_year + 1900 || w.month != tm.tm_mon + 1 || w.mday != tm.tm_mday ||
	    w.hour != tm.tm_hour || w.min != tm.tm_min || w.sec != tm.tm_sec ||
	    w.wday != tm.tm_wday || w.minute != tm.tm_hour * 60 + tm.tm_min ||
	    w.utc_offset != tm.tm_gmtoff) {
		snprintf(why, whylen,
			 "instant %lld: tz.c %04d-%02d-%02d %02d:%02d:%02d wday %d min %d off %ld, "
			 "glibc %04d-%02d-%02d %02d:%02d:%02d wday %d off %ld",
			 (long long)when, w.year, w.month, w.mday, w.hour, w.min, w.sec, w.wday,
			 w.minute, w.utc_offset, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_wday, tm.tm_gmtoff);
		return -1;
	}
	return 0;
}

/* Compares every second within 2 h of each offset change in [from, to). */
static int test_tz_compare_changes(const struct tz *zone, int64_t from, int64_t to,
				   int *nchanges, char *why, size_t whylen)
{
	struct tm a, b;

	*nchanges = 0;
	for (int64_t t = from; t < to; t += 900) {
		time_t ta = (time_t)t, tb = (time_t)(t + 900);

		localtime_r(&ta, &a);
		localtime_r(&tb, &b);
		if (a.tm_gmtoff == b.tm_gmtoff)
			continue;
		(*nchanges)++;
		for (int64_t u = t - 7200; u <= t + 900 + 7200; u++)
			if (test_tz_compare(zone, u, why, whylen) != 0)
				return -1;
	}
	return 0;
}

START_TEST(test_tz_matches_glibc)
{
	const char *name = test_tz_zones[_i];
	char err[256], why[512], env[300];
	struct tz *zone = NULL;
	uint64_t state = UINT64_C(0x9e3779b97f4a7c15) + (uint64_t)_i;
	int nchanges;

	snprintf(env, sizeof(env), ":%s", name);
	test_tz_setenv(env);
	ck_assert_msg(tz_load(name, NULL, &zone, err, sizeof(err)) == 0, "%s: %s", name, err);
	ck_assert_ptr_nonnull(zone);
	for (int i = 0; i < 100000; i++) {
		int64_t when = T1970 + (int64_t)(test_tz_rand(&state) % (uint64_t)(T2100 - T1970));

		if (test_tz_compare(zone, when, why, sizeof(why)) != 0)
			ck_abort_msg("%s: %s", name, why);
	}
	/* 2025-01-01 .. 2028-01-01 (table), 2090-01-01 .. 2092-01-01 (footer). */
	if (test_tz_compare_changes(zone, INT64_C(1735689600), INT64_C(1830297600), &nchanges,
				    why, sizeof(why)) != 0)
		ck_abort_msg("%s: %s", name, why);
	if (test_tz_compare_changes(zone, INT64_C(3786912000), INT64_C(3849984000), &nchanges,
				    why, sizeof(why)) != 0)
		ck_abort_msg("%s: %s", name, why);
	tz_free(zone);
}
END_TEST

/* Writes a version-2 TZif file with the given transitions and footer. */
static void test_tz_write_tzif(const char *path, char version, const int64_t *times,
			       const uint8_t *idx, uint32_t ntimes, const int32_t *utoff,
			       uint32_t ntypes, const char *footer)
{
	FILE *f = fopen(path, "wb");
	unsigned char hdr[44];
	int blocks = version == 0 ? 1 : 2;

	ck_assert_ptr_nonnull(f);
	for (int b = 0; b < blocks; b++) {
		unsigned timesize = (version == 0 || b == 0) ? 4 : 8;
		uint32_t counts[6] = { 0, 0, 0, ntimes, ntypes, 4 };

		memset(hdr, 0, sizeof(hdr));
		memcpy(hdr, "TZif", 4);
		hdr[4] = (unsigned char)version;
		for (int c = 0; c < 6; c++)
			for (int k = 0; k < 4; k++)
				hdr[20 + 4 * c + k] = (unsigned char)(counts[c] >> (24 - 8 * k));
		fwrite(hdr, 1, sizeof(hdr), f);
		for (uint32_t i = 0; i < ntimes; i++)
			for (unsigned k = 0; k < timesize; k++)
				fputc((int)(((uint64_t)times[i] >> (8 * (timesize - 1 - k))) & 0xff), f);
		if (ntimes > 0)
			fwrite(idx, 1, ntimes, f);
		for (uint32_t i = 0; i < ntypes; i++) {
			for (int k = 0; k < 4; k++)
				fputc((int)(((uint32_t)utoff[i] >> (24 - 8 * k)) & 0xff), f);
			fputc(0, f);
			fputc(0, f);
		}
		fwrite("ABC", 1, 4, f);
	}
	if (version != 0)
		fprintf(f, "\n%s\n", footer);
	ck_assert_int_eq(fclose(f), 0);
}

static void test_tz_tempdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/test_tz.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void test_tz_rmdir(const char *dir, const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	unlink(path);
	rmdir(dir);
}

/* Footer-only zones (no transitions) against glibc reading the same string. */
START_TEST(test_tz_footer_rules_match_glibc)
{
	const char *rule = test_tz_rules[_i];
	char dir[64], path[128], err[256], why[512];
	int32_t utoff = 0;
	struct tz *zone = NULL;
	uint64_t state = UINT64_C(0x1234567) + (uint64_t)_i;
	int nchanges;

	test_tz_tempdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/Rule", dir);
	test_tz_write_tzif(path, '3', NULL, NULL, 0, &utoff, 1, rule);
	ck_assert_msg(tz_load("Rule", dir, &zone, err, sizeof(err)) == 0, "%s: %s", rule, err);
	test_tz_setenv(rule);
	for (int i = 0; i < 20000; i++) {
		int64_t when = T1970 + (int64_t)(test_tz_rand(&state) % (uint64_t)(T2100 - T1970));

		if (test_tz_compare(zone, when, why, sizeof(why)) != 0)
			ck_abort_msg("%s: %s", rule, why);
	}
	if (test_tz_compare_changes(zone, INT64_C(1735689600), INT64_C(1830297600), &nchanges,
				    why, sizeof(why)) != 0)
		ck_abort_msg("%s: %s", rule, why);
	ck_assert_int_eq(nchanges > 0, strchr(rule, ',') != NULL);
	tz_free(zone);
	test_tz_rmdir(dir, "Rule");
}
END_TEST

/* Rules glibc does not read as RFC 8536 does: checked by hand. */
START_TEST(test_tz_footer_rules_by_hand)
{
	char dir[64], path[128], err[256];
	int32_t utoff = 0;
	struct tz *zone = NULL;
	struct tz_wallclock w;

	test_tz_tempdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/Rule", dir);
	/* DST all year (RFC 8536 section 3.3.1); glibc 2.36 drops to EST in the
	 * last hour of each year. */
	test_tz_write_tzif(path, '3', NULL, NULL, 0, &utoff, 1, "EST5EDT4,0/0,J365/25");
	ck_assert_int_eq(tz_load("Rule", dir, &zone, err, sizeof(err)), 0);
	for (int64_t t = 0; t < T2100; t += 1800 + 7) {
		tz_localtime(zone, t, &w);
		if (w.utc_offset != -4 * 3600)
			ck_abort_msg("not DST at %lld", (long long)t);
	}
	tz_free(zone);
	/* DST without a rule: the US rule (glibc would read posixrules instead). */
	test_tz_write_tzif(path, '3', NULL, NULL, 0, &utoff, 1, "EST5EDT");
	ck_assert_int_eq(tz_load("Rule", dir, &zone, err, sizeof(err)), 0);
	/* 2026-03-08 07:00Z: 02:00 EST becomes 03:00 EDT. */
	tz_localtime(zone, INT64_C(1772953199), &w);
	ck_assert_int_eq(w.utc_offset, -5 * 3600);
	ck_assert_int_eq(w.minute, 119);
	tz_localtime(zone, INT64_C(1772953200), &w);
	ck_assert_int_eq(w.utc_offset, -4 * 3600);
	ck_assert_int_eq(w.minute, 180);
	tz_free(zone);
	test_tz_rmdir(dir, "Rule");
}
END_TEST

static void test_tz_expect(const struct tz *zone, int64_t when, int year, int month, int mday,
			   int hour, int min, long offset)
{
	struct tz_wallclock w;

	tz_localtime(zone, when, &w);
	ck_assert_int_eq(w.year, year);
	ck_assert_int_eq(w.month, month);
	ck_assert_int_eq(w.mday, mday);
	ck_assert_int_eq(w.hour, hour);
	ck_assert_int_eq(w.min, min);
	ck_assert_int_eq(w.minute, hour * 60 + min);
	ck_assert_int_eq(w.utc_offset, offset);
}

START_TEST(test_tz_paris_2026_dst)
{
	struct tz *zone = NULL;
	char err[256];

	ck_assert_int_eq(tz_load("Europe/Paris", NULL, &zone, err, sizeof(err)), 0);
	/* Spring forward: 2026-03-29 01:00Z; 02:00-03:00 local never happens. */
	test_tz_expect(zone, INT64_C(1774745999), 2026, 3, 29, 1, 59, 3600);
	test_tz_expect(zone, INT64_C(1774746000), 2026, 3, 29, 3, 0, 7200);
	/* Fall back: 2026-10-25 00:30Z and 01:30Z are both 02:30 local. */
	test_tz_expect(zone, INT64_C(1792888200), 2026, 10, 25, 2, 30, 7200);
	test_tz_expect(zone, INT64_C(1792891800), 2026, 10, 25, 2, 30, 3600);
	tz_free(zone);
}
END_TEST

START_TEST(test_tz_negative_and_far_times)
{
	struct tz *zone = NULL;
	struct tz_wallclock w;
	char err[256];

	ck_assert_int_eq(tz_load("UTC", NULL, &zone, err, sizeof(err)), 0);
	/* 1969-12-31 23:59:59 was a Wednesday. */
	tz_localtime(zone, -1, &w);
	ck_assert_int_eq(w.year, 1969);
	ck_assert_int_eq(w.mday, 31);
	ck_assert_int_eq(w.hour, 23);
	ck_assert_int_eq(w.sec, 59);
	ck_assert_int_eq(w.wday, 3);
	ck_assert_int_eq(w.minute, 1439);
	/* 1900-03-01 00:00:00Z, after a non-leap February. */
	tz_localtime(zone, INT64_C(-2203891200), &w);
	ck_assert_int_eq(w.year, 1900);
	ck_assert_int_eq(w.month, 3);
	ck_assert_int_eq(w.mday, 1);
	/* Extremes are clamped, not undefined behaviour. */
	tz_localtime(zone, INT64_MAX, &w);
	ck_assert_int_gt(w.year, 1000000);
	tz_localtime(zone, INT64_MIN, &w);
	ck_assert_int_lt(w.year, -1000000);
	ck_assert_int_ge(w.month, 1);
	ck_assert_int_le(w.month, 12);
	tz_free(zone);
}
END_TEST

START_TEST(test_tz_unknown_zone)
{
	struct tz *zone = (struct tz *)&zone;
	char err[256];

	ck_assert_int_eq(tz_load("Mars/Base", NULL, &zone, err, sizeof(err)), -1);
	ck_assert_ptr_null(zone);
	ck_assert_str_eq(err, "unknown time zone 'Mars/Base' (no such file in /usr/share/zoneinfo)");
	/* A directory is not a zone. */
	ck_assert_int_eq(tz_load("Europe", NULL, &zone, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	/* Below a file, not below a directory. */
	ck_assert_int_eq(tz_load("UTC/Paris", NULL, &zone, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown time zone"));
}
END_TEST

START_TEST(test_tz_bad_names)
{
	static const char *const bad[] = {
		"../etc/passwd", "/etc/localtime", "", "Europe/../UTC", "Europe/./Paris", ".",
		"Europe/", "Europe//Paris", "Europe/Pa ris", "Europe/Paris\n", "UTC;rm", "Europe\\Paris",
	};
	char err[256], longname[300];
	struct tz *zone = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(tz_load(bad[i], NULL, &zone, err, sizeof(err)) == -1, "accepted '%s'",
			      bad[i]);
		ck_assert_ptr_null(zone);
		ck_assert_msg(strstr(err, "invalid time zone name") != NULL, "'%s': %s", bad[i], err);
		ck_assert_ptr_null(strchr(err, '\n'));
	}
	memset(longname, 'A', 256);
	longname[256] = '\0';
	ck_assert_int_eq(tz_load(longname, NULL, &zone, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "invalid time zone name"));
	ck_assert_int_eq(tz_load(NULL, NULL, &zone, err, sizeof(err)), -1);
	/* Names with '+', '-' and '_' are fine. */
	ck_assert_int_eq(tz_load("Etc/GMT-14", NULL, &zone, NULL, 0), 0);
	tz_free(zone);
	ck_assert_int_eq(tz_load("America/Port-au-Prince", NULL, &zone, NULL, 0), 0);
	tz_free(zone);
}
END_TEST

START_TEST(test_tz_utc_without_file_and_alias)
{
	char dir[64], err[256];
	struct tz *zone = NULL, *london = NULL;
	struct tz_wallclock a, b;

	test_tz_tempdir(dir, sizeof(dir));
	ck_assert_int_eq(tz_load("UTC", dir, &zone, err, sizeof(err)), 0);
	tz_localtime(zone, INT64_C(1774746000), &a);
	ck_assert_int_eq(a.utc_offset, 0);
	ck_assert_int_eq(a.hour, 1);
	tz_free(zone);
	ck_assert_int_eq(tz_load("Europe/Paris", dir, &zone, err, sizeof(err)), -1);
	rmdir(dir);
	/* GB is a symbolic link to Europe/London in Debian's tzdata. */
	ck_assert_int_eq(tz_load("GB", NULL, &zone, err, sizeof(err)), 0);
	ck_assert_int_eq(tz_load("Europe/London", NULL, &london, err, sizeof(err)), 0);
	for (int64_t t = 0; t < T2100; t += 86400 * 7 + 3599) {
		tz_localtime(zone, t, &a);
		tz_localtime(london, t, &b);
		ck_assert_int_eq(a.utc_offset, b.utc_offset);
	}
	tz_free(zone);
	tz_free(london);
	tz_free(NULL);
}
END_TEST

static size_t test_tz_slurp(const char *path, unsigned char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	ck_assert_uint_lt(n, cap);
	return n;
}

static void test_tz_spit(const char *path, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_tz_truncated_files)
{
	static unsigned char data[65536];
	char dir[64], path[128], err[256];
	struct tz *zone = NULL;
	size_t len = test_tz_slurp(ZONEINFO "/Europe/Paris", data, sizeof(data));

	test_tz_tempdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/Paris", dir);
	test_tz_spit(path, data, len);
	ck_assert_int_eq(tz_load("Paris", dir, &zone, err, sizeof(err)), 0);
	tz_free(zone);
	zone = NULL;
	/* Every proper prefix lacks at least the footer's final newline. */
	for (size_t cut = 0; cut < len; cut++) {
		test_tz_spit(path, data, cut);
		err[0] = '\0';
		ck_assert_msg(tz_load("Paris", dir, &zone, err, sizeof(err)) == -1,
			      "prefix of %zu bytes accepted", cut);
		ck_assert_ptr_null(zone);
		ck_assert_msg(strncmp(err, "Paris: ", 7) == 0, "cut %zu: %s", cut, err);
		if (cut < 4)
			ck_assert_str_eq(err, "Paris: not a TZif file");
		else if (cut > 44)
			ck_assert_msg(strstr(err, "truncated") != NULL, "cut %zu: %s", cut, err);
	}
	test_tz_rmdir(dir, "Paris");
}
END_TEST

START_TEST(test_tz_random_and_mutated_files)
{
	static unsigned char data[65536], mutated[65536];
	char dir[64], path[128], err[256];
	struct tz *zone = NULL;
	struct tz_wallclock w;
	uint64_t state = UINT64_C(0xdeadbeefcafe);
	size_t len = test_tz_slurp(ZONEINFO "/America/New_York", data, sizeof(data));
	int accepted = 0;

	test_tz_tempdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/Zone", dir);
	for (size_t i = 0; i < 4096; i++)
		mutated[i] = (unsigned char)test_tz_rand(&state);
	test_tz_spit(path, mutated, 4096);
	ck_assert_int_eq(tz_load("Zone", dir, &zone, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Zone: not a TZif file");
	/* Random bytes behind a valid magic: refused, never a crash. */
	memcpy(mutated, "TZif2", 5);
	test_tz_spit(path, mutated, 4096);
	ck_assert_int_eq(tz_load("Zone", dir, &zone, err, sizeof(err)), -1);
	ck_assert_ptr_null(zone);
	/* Flipped bytes in a real file: whatever loads must still convert sanely. */
	for (int round = 0; round < 3000; round++) {
		memcpy(mutated, data, len);
		for (int k = 0; k < 1 + round % 4; k++)
			mutated[test_tz_rand(&state) % len] = (unsigned char)test_tz_rand(&state);
		test_tz_spit(path, mutated, len);
		if (tz_load("Zone", dir, &zone, err, sizeof(err)) != 0) {
			ck_assert_ptr_null(zone);
			continue;
		}
		accepted++;
		for (int64_t t = -INT64_C(4000000000); t < T2100 * 2; t += INT64_C(7776000) + 4321) {
			tz_localtime(zone, t, &w);
			if (w.month < 1 || w.month > 12 || w.mday < 1 || w.mday > 31 || w.hour > 23 ||
			    w.minute > 1439 || w.wday > 6 || w.utc_offset > 26 * 3600 ||
			    w.utc_offset < -26 * 3600)
				ck_abort_msg("round %d: bad wall clock at %lld", round, (long long)t);
		}
		tz_free(zone);
		zone = NULL;
	}
	ck_assert_int_gt(accepted, 0); /* flips in the names region load fine */
	test_tz_rmdir(dir, "Zone");
}
END_TEST

START_TEST(test_tz_crafted_files)
{
	char dir[64], path[128], err[256];
	struct tz *zone = NULL;
	int64_t times[3] = { 1000, 2000, 3000 };
	int64_t backwards[3] = { 1000, 3000, 2000 };
	uint8_t idx[3] = { 1, 0, 1 }, badidx[3] = { 1, 0, 2 };
	int32_t utoff[2] = { 3600, -7200 }, badoff[2] = { 3600, 30 * 3600 };
	struct tz_wallclock w;

	test_tz_tempdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/Zone", dir);

	/* Version 1 (32-bit only, no footer): type 0 before, last type after. */
	test_tz_write_tzif(path, 0, times, idx, 3, utoff, 2, "");
	ck_assert_msg(tz_load("Zone", dir, &zone, err, sizeof(err)) == 0, "%s", err);
	tz_localtime(zone, 999, &w);
	ck_assert_int_eq(w.utc_offset, 3600);
	tz_localtime(zone, 1000, &w);
	ck_assert_int_eq(w.utc_offset, -7200);
	tz_localtime(zone, 2500, &w);
	ck_assert_int_eq(w.utc_offset, 3600);
	tz_localtime(zone, INT64_C(4000000000), &w);
	ck_assert_int_eq(w.utc_offset, -7200);
	tz_free(zone);

	/* Version 2 with a footer: the footer rules after the last transition. */
	test_tz_write_tzif(path, '2', times, idx, 3, utoff, 2, "<+05>-5");
	ck_assert_msg(tz_load("Zone", dir, &zone, err, sizeof(err)) == 0, "%s", err);
	tz_localtime(zone, 3000, &w);
	ck_assert_int_eq(w.utc_offset, -7200);
	tz_localtime(zone, 3001, &w);
	ck_assert_int_eq(w.utc_offset, 5 * 3600);
	tz_free(zone);

	/* Empty footer: the last type goes on. */
	test_tz_write_tzif(path, '4', times, idx, 3, utoff, 2, "");
	ck_assert_msg(tz_load("Zone", dir, &zone, err, sizeof(err)) == 0, "%s", err);
	tz_localtime(zone, INT64_C(4000000000), &w);
	ck_assert_int_eq(w.utc_offset, -7200);
	tz_free(zone);

	test_tz_write_tzif(path, '2', backwards, idx, 3, utoff, 2, "");
	ck_assert_int_eq(tz_load("Zone", dir, &zone, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Zone: transitions out of order in TZif file");
	test_tz_write_tzif(path, '2', times, badidx, 3, utoff, 2, "");
	ck_assert_int_eq(tz_load("Zone", dir, &zone, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Zone: bad transition type in TZif file");
	test_tz_write_tzif(path, '2', times, idx, 3, badoff, 2, "");
	ck_assert_int_eq(tz_load("Zone", dir, &zone, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Zone: bad local time type in TZif file");
	test_tz_write_tzif(path, '2', times, idx, 3, utoff, 0, "");
	ck_assert_int_eq(tz_load("Zone", dir, &zone, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Zone: bad counts in TZif header");
	test_tz_write_tzif(path, '1', times, idx, 3, utoff, 2, "");
	ck_assert_int_eq(tz_load("Zone", dir, &zone, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Zone: not a TZif file");

	/* Malformed footers. */
	static const char *const bad_footers[] = {
		"CET-1CEST,M13.5.0,M10.5.0/3", "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
		"CET-1CEST,M3.5.0",           "CET-1CEST,M3.5.0,M10.5.0/168", "CE-1",
		"CET",                        "CET-25",                  "<+0330-3:30",
		"CET-1CEST,J0,J100",          "CET-1CEST,366,J100",      "CET-1:60",
		"CET-1CEST,M3.5.0,M10.5.0x",  "CET-1CEST-25",
	};
	for (size_t i = 0; i < sizeof(bad_footers) / sizeof(bad_footers[0]); i++) {
		test_tz_write_tzif(path, '3', times, idx, 3, utoff, 2, bad_footers[i]);
		ck_assert_msg(tz_load("Zone", dir, &zone, err, sizeof(err)) == -1, "accepted %s",
			      bad_footers[i]);
		ck_assert_ptr_nonnull(strstr(err, "bad TZ string"));
	}
	test_tz_rmdir(dir, "Zone");
}
END_TEST

static Suite *test_tz_suite(void)
{
	Suite *s = suite_create("tz");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_tz_matches_glibc, 0, (int)TEST_TZ_NZONES);
	tcase_add_loop_test(tc, test_tz_footer_rules_match_glibc, 0, (int)TEST_TZ_NRULES);
	tcase_add_test(tc, test_tz_footer_rules_by_hand);
	tcase_add_test(tc, test_tz_paris_2026_dst);
	tcase_add_test(tc, test_tz_negative_and_far_times);
	tcase_add_test(tc, test_tz_unknown_zone);
	tcase_add_test(tc, test_tz_bad_names);
	tcase_add_test(tc, test_tz_utc_without_file_and_alias);
	tcase_add_test(tc, test_tz_truncated_files);
	tcase_add_test(tc, test_tz_random_and_mutated_files);
	tcase_add_test(tc, test_tz_crafted_files);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(test_tz_suite)
