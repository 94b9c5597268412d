/* test_lockout.c - lockout slots, zone independence, and the bounded
 * remember/history state of a record. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lockout.h"
#include "runner.h"
#include "store.h"

static const struct policy_lockout_slot P = { .deny = 3, .interval = 60, .unlock = 100 };

START_TEST(counts_then_locks)
{
	struct lockout_slot s = { 0 };

	ck_assert(!lockout_is_locked(&s, 1000));
	ck_assert(!lockout_record_failure(&s, &P, 1000));
	ck_assert(!lockout_record_failure(&s, &P, 1010));
	ck_assert_uint_eq(s.failures, 2);
	ck_assert_int_eq(s.first_failure, 1000);
	ck_assert(lockout_record_failure(&s, &P, 1020));
	ck_assert_int_eq(s.locked_until, 1120);
	ck_assert(lockout_is_locked(&s, 1020));
	ck_assert(lockout_is_locked(&s, 1119));
	ck_assert(!lockout_is_locked(&s, 1120));
	/* A failure during the lock is counted but never extends it. */
	ck_assert(lockout_record_failure(&s, &P, 1100));
	ck_assert_int_eq(s.locked_until, 1120);
	ck_assert_uint_eq(s.failures, 4);
	/* After the lock, counting starts over. */
	ck_assert(!lockout_record_failure(&s, &P, 1200));
	ck_assert_uint_eq(s.failures, 1);
	ck_assert_int_eq(s.first_failure, 1200);
	ck_assert_int_eq(s.locked_until, 0);
}
END_TEST

START_TEST(old_failures_restart)
{
	struct lockout_slot s = { 0 };

	lockout_record_failure(&s, &P, 1000);
	lockout_record_failure(&s, &P, 1050);
	/* 60 s after the first failure the window has passed: count restarts. */
	ck_assert(!lockout_record_failure(&s, &P, 1060));
	ck_assert_uint_eq(s.failures, 1);
	ck_assert_int_eq(s.first_failure, 1060);
	ck_assert(!lockout_record_failure(&s, &P, 1061));
	ck_assert(lockout_record_failure(&s, &P, 1119));
	ck_assert(lockout_is_idle(&(struct lockout_slot){ .failures = 2, .first_failure = 0 }, &P, 60));
	ck_assert(!lockout_is_idle(&(struct lockout_slot){ .failures = 2, .first_failure = 0 }, &P, 59));
	ck_assert(!lockout_is_idle(&s, &P, 1200));
	ck_assert(lockout_is_idle(&s, &P, 1219));
	lockout_reset(&s);
	ck_assert_uint_eq(s.failures, 0);
	ck_assert(!lockout_is_locked(&s, 1120));
}
END_TEST

START_TEST(deny_one_and_clock_back)
{
	const struct policy_lockout_slot one = { .deny = 1, .interval = 10, .unlock = 5 };
	struct lockout_slot s = { 0 };

	ck_assert(lockout_record_failure(&s, &one, 500));
	ck_assert_int_eq(s.locked_until, 505);
	lockout_reset(&s);
	lockout_record_failure(&s, &P, 500);
	/* A clock that goes back does not wipe the count. */
	lockout_record_failure(&s, &P, 400);
	ck_assert_uint_eq(s.failures, 2);
}
END_TEST

static struct store_record *empty_record(void)
{
	static struct store_record rec; /* test-only: too big for the stack of Check's child */

	memset(&rec, 0, sizeof(rec));
	strcpy(rec.user, "alice");
	return &rec;
}

/* Failures in "elsewhere" never lock "lan", also after a write and a read. */
START_TEST(zones_are_independent)
{
	struct store_record *rec = empty_record(), back;
	char buf[STORE_RECORD_MAX + 1];
	struct lockout_slot *out, *lan;
	int i, n;

	lan = store_zone_slot(rec, "lan", &P, 1000);
	ck_assert_ptr_nonnull(lan);
	lockout_record_failure(lan, &P, 1000);
	for (i = 0; i < 10; i++) {
		out = store_zone_slot(rec, "elsewhere", &P, 1000 + i);
		ck_assert_ptr_nonnull(out);
		lockout_record_failure(out, &P, 1000 + i);
	}
	ck_assert(lockout_is_locked(store_zone_find(rec, "elsewhere"), 1010));
	ck_assert(!lockout_is_locked(store_zone_find(rec, "lan"), 1010));
	ck_assert_uint_eq(store_zone_find(rec, "lan")->failures, 1);
	ck_assert_ptr_null(store_zone_find(rec, "vpn"));
	ck_assert_uint_eq(rec->n_zones, 2);

	n = store_record_format(rec, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(store_record_parse(buf, (size_t)n, &back), STORE_OK);
	ck_assert(lockout_is_locked(store_zone_find(&back, "elsewhere"), 1010));
	ck_assert(!lockout_is_locked(store_zone_find(&back, "lan"), 1010));
	ck_assert_uint_eq(store_zone_find(&back, "elsewhere")->failures, 10);
}
END_TEST

START_TEST(zone_slots_bounded)
{
	struct store_record *rec = empty_record();
	char name[32];
	int i;

	for (i = 0; i < STORE_MAX_ZONES; i++) {
		struct lockout_slot *s;

		snprintf(name, sizeof(name), "net%d", i);
		s = store_zone_slot(rec, name, &P, 1000);
		/* net0..net14 locked (deny 3), net15 has one recent failure. */
		lockout_record_failure(s, &P, 1000);
		if (i < STORE_MAX_ZONES - 1) {
			lockout_record_failure(s, &P, 1000);
			lockout_record_failure(s, &P, 1000 + i);
		}
	}
	ck_assert_uint_eq(rec->n_zones, STORE_MAX_ZONES);
	/* Full, nothing idle: the unlocked slot goes before any locked one. */
	ck_assert_ptr_nonnull(store_zone_slot(rec, "new1", &P, 1010));
	ck_assert_uint_eq(rec->n_zones, STORE_MAX_ZONES);
	ck_assert_ptr_null(store_zone_find(rec, "net15"));
	for (i = 0; i < STORE_MAX_ZONES - 1; i++) {
		snprintf(name, sizeof(name), "net%d", i);
		ck_assert_ptr_nonnull(store_zone_find(rec, name));
	}
	/* Now all locked: the lock ending first (net0) goes. */
	lockout_record_failure(store_zone_slot(rec, "new1", &P, 1010), &P, 1010);
	lockout_record_failure(store_zone_slot(rec, "new1", &P, 1010), &P, 1010);
	lockout_record_failure(store_zone_slot(rec, "new1", &P, 1010), &P, 1010);
	ck_assert_ptr_nonnull(store_zone_slot(rec, "new2", &P, 1011));
	ck_assert_ptr_null(store_zone_find(rec, "net0"));
	ck_assert_ptr_nonnull(store_zone_find(rec, "net1"));
	/* Once net1's lock is over it is idle and is reused before net2.. (new2
	 * in slot 0 has a recent failure, so it is not idle). */
	lockout_record_failure(store_zone_slot(rec, "new2", &P, 1100), &P, 1100);
	ck_assert_ptr_nonnull(store_zone_slot(rec, "new3", &P, 1101));
	ck_assert_ptr_nonnull(store_zone_find(rec, "new2"));
	ck_assert_ptr_nonnull(store_zone_find(rec, "net2"));
	ck_assert_ptr_null(store_zone_find(rec, "net1"));
	/* Bad names. */
	ck_assert_ptr_null(store_zone_slot(rec, "", &P, 1));
	{
		char longname[STORE_NAME_MAX + 2];

		memset(longname, 'z', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		ck_assert_ptr_null(store_zone_slot(rec, longname, &P, 1));
	}
}
END_TEST

START_TEST(remember_lru_and_expiry)
{
	struct store_record *rec = empty_record();
	char src[32];
	int i;

	ck_assert(!store_remember_check(rec, "10.0.0.1", "mail", 100));
	ck_assert_int_eq(store_remember_add(rec, "10.0.0.1", "mail", 200, 100), STORE_OK);
	ck_assert(store_remember_check(rec, "10.0.0.1", "mail", 199));
	ck_assert(!store_remember_check(rec, "10.0.0.1", "mail", 200));
	ck_assert(!store_remember_check(rec, "10.0.0.1", "admin", 150));
	ck_assert(!store_remember_check(rec, "10.0.0.2", "mail", 150));
	/* Re-adding refreshes instead of duplicating. */
	ck_assert_int_eq(store_remember_add(rec, "10.0.0.1", "mail", 300, 150), STORE_OK);
	ck_assert_uint_eq(rec->n_remember, 1);
	ck_assert(store_remember_check(rec, "10.0.0.1", "mail", 250));
	/* Fill up; the next one replaces the entry expiring first. */
	for (i = 2; i <= STORE_MAX_REMEMBER; i++) {
		snprintf(src, sizeof(src), "10.0.0.%d", i);
		ck_assert_int_eq(store_remember_add(rec, src, "mail", 1000 + i, 160), STORE_OK);
	}
	ck_assert_uint_eq(rec->n_remember, STORE_MAX_REMEMBER);
	ck_assert_int_eq(store_remember_add(rec, "192.0.2.7", "mail", 2000, 170), STORE_OK);
	ck_assert_uint_eq(rec->n_remember, STORE_MAX_REMEMBER);
	ck_assert(!store_remember_check(rec, "10.0.0.1", "mail", 171));
	ck_assert(store_remember_check(rec, "10.0.0.2", "mail", 171));
	ck_assert(store_remember_check(rec, "192.0.2.7", "mail", 171));
	/* An expired entry is reused before a live one that expires sooner. */
	ck_assert_int_eq(store_remember_add(rec, "192.0.2.8", "mail", 3000, 1003), STORE_OK);
	ck_assert(store_remember_check(rec, "10.0.0.4", "mail", 1003));
	ck_assert(!store_remember_check(rec, "10.0.0.2", "mail", 1000)); /* expired at 1002: reused */
	ck_assert_int_eq(store_remember_add(rec, "", "mail", 1, 0), STORE_EINVAL);
}
END_TEST

static struct source src_of(const char *text)
{
	struct source s;

	ck_assert_int_eq(source_parse(text, &s), 0);
	return s;
}

START_TEST(history_prefix_ttl_lru)
{
	const struct policy_history H = { .ttl_days = 2, .prefix_v4 = 24, .prefix_v6 = 64 };
	struct store_record *rec = empty_record();
	struct source a = src_of("192.0.2.77"), a2 = src_of("192.0.2.200"), b = src_of("198.51.100.1");
	struct source v6 = src_of("2001:db8:1:2:3:4:5:6"), mapped = src_of("::ffff:192.0.2.9");
	struct source local = src_of(NULL), unknown = src_of("mail.example.org");
	char buf[STORE_SOURCE_MAX + 1];
	bool changed;
	int i;

	ck_assert_int_eq(store_history_prefix(&a, &H, buf, sizeof(buf)), STORE_OK);
	ck_assert_str_eq(buf, "192.0.2.0/24");
	ck_assert_int_eq(store_history_prefix(&v6, &H, buf, sizeof(buf)), STORE_OK);
	ck_assert_str_eq(buf, "2001:db8:1:2::/64");
	ck_assert_int_eq(store_history_prefix(&(struct source){ SOURCE_IP, AF_INET, { 10, 1, 255, 255 } },
					      &(struct policy_history){ 1, 13, 0 }, buf, sizeof(buf)),
			 STORE_OK);
	ck_assert_str_eq(buf, "10.0.0.0/13");
	ck_assert_int_eq(store_history_prefix(&v6, &(struct policy_history){ 1, 0, 128 }, buf,
					      sizeof(buf)), STORE_OK);
	ck_assert_str_eq(buf, "2001:db8:1:2:3:4:5:6/128");
	ck_assert_int_eq(store_history_prefix(&a, &(struct policy_history){ 1, 0, 0 }, buf,
					      sizeof(buf)), STORE_OK);
	ck_assert_str_eq(buf, "0.0.0.0/0");
	/* Too small a buffer: refused, never cut. */
	ck_assert_int_eq(store_history_prefix(&a, &H, buf, 12), STORE_EINVAL);
	ck_assert_int_eq(store_history_prefix(&local, &H, buf, sizeof(buf)), STORE_OK);
	ck_assert_str_eq(buf, "local");
	ck_assert_int_eq(store_history_prefix(&unknown, &H, buf, sizeof(buf)), STORE_EINVAL);

	ck_assert(!store_history_seen(rec, &a, &H, 1000));
	ck_assert_int_eq(store_history_add(rec, &a, &H, 1000, &changed), STORE_OK);
	ck_assert(changed);
	ck_assert(store_history_seen(rec, &a2, &H, 1000));     /* same /24 */
	ck_assert(store_history_seen(rec, &mapped, &H, 1000)); /* IPv4-mapped counts as IPv4 */
	ck_assert(!store_history_seen(rec, &b, &H, 1000));
	ck_assert(store_history_seen(rec, &a, &H, 1000 + 2 * 86400 - 1));
	ck_assert(!store_history_seen(rec, &a, &H, 1000 + 2 * 86400)); /* ttl applied on read */
	/* A refresh within the hour changes nothing, after it does. */
	ck_assert_int_eq(store_history_add(rec, &a2, &H, 1000 + 60, &changed), STORE_OK);
	ck_assert(!changed);
	ck_assert_int_eq(store_history_add(rec, &a2, &H, 1000 + STORE_HISTORY_REFRESH, &changed), STORE_OK);
	ck_assert(changed);
	ck_assert_int_eq(rec->history[0].last_seen, 1000 + STORE_HISTORY_REFRESH);
	/* Unknown: never seen, never stored. */
	ck_assert_int_eq(store_history_add(rec, &unknown, &H, 5000, &changed), STORE_OK);
	ck_assert(!changed);
	ck_assert(!store_history_seen(rec, &unknown, &H, 5000));
	ck_assert_uint_eq(rec->n_history, 1);

	/* LRU: fill with distinct /24s; the least recently seen goes. */
	for (i = 0; i < STORE_MAX_HISTORY - 1; i++) {
		struct source s = { SOURCE_IP, AF_INET, { 10, 0, (uint8_t)i, 1 } };
		ck_assert_int_eq(store_history_add(rec, &s, &H, 10000 + i, &changed), STORE_OK);
	}
	ck_assert_uint_eq(rec->n_history, STORE_MAX_HISTORY);
	ck_assert_int_eq(store_history_add(rec, &b, &H, 20000, &changed), STORE_OK);
	ck_assert_uint_eq(rec->n_history, STORE_MAX_HISTORY);
	ck_assert(!store_history_seen(rec, &a, &H, 20000));   /* oldest (4600) replaced */
	ck_assert(store_history_seen(rec, &b, &H, 20000));
	/* Much later, every old entry has expired and is dropped on add. */
	ck_assert_int_eq(store_history_add(rec, &v6, &H, 20000 + 3 * 86400, &changed), STORE_OK);
	ck_assert_uint_eq(rec->n_history, 1);
	ck_assert(store_history_seen(rec, &v6, &H, 20000 + 3 * 86400));
}
END_TEST

static Suite *lockout_suite(void)
{
	Suite *s = suite_create("lockout");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, counts_then_locks);
	tcase_add_test(tc, old_failures_restart);
	tcase_add_test(tc, deny_one_and_clock_back);
	tcase_add_test(tc, zones_are_independent);
	tcase_add_test(tc, zone_slots_bounded);
	tcase_add_test(tc, remember_lru_and_expiry);
	tcase_add_test(tc, history_prefix_ttl_lru);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(lockout_suite)
