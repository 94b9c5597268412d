/* test_store_layout.c - the two slots of a record file (store.h): commits
 * alternate in place, a torn slot costs only the update being written, and
 * no valid slot is refused. Runs as root. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"
#include "store.h"
#include "store_fixture.h"
#include "store_slot.h"

/* Commits go to the other slot with the next sequence number, in place:
 * same inode, no temporary file left, the size only grows to two slots. */
START_TEST(slots_alternate)
{
	struct otp_token t = totp_token();
	struct store *st = NULL;
	char path[PATH_MAX], users[PATH_MAX];
	struct stat before, after;
	uint64_t i;

	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_enroll(st, "alice", &t, false, 1), STORE_OK);
	path_of(path, sizeof(path), "users", "alice");
	ck_assert_uint_eq(slot_seq_at(path, 0), 1);
	ck_assert_uint_eq(slot_seq_at(path, STORE_RECORD_MAX), 0); /* no slot B yet */
	ck_assert_int_eq(stat(path, &before), 0);
	for (i = 2; i <= 7; i++) {
		commit_step(st, 1000 + i);
		/* The newest in slot B for even numbers, A for odd; the other
		 * slot keeps the previous state. */
		ck_assert_uint_eq(slot_seq_at(path, i % 2 == 0 ? STORE_RECORD_MAX : 0), i);
		ck_assert_uint_eq(slot_seq_at(path, i % 2 == 0 ? 0 : STORE_RECORD_MAX), i - 1);
		ck_assert_uint_eq(step_of(st), 1000 + i);
	}
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_eq(after.st_ino, before.st_ino);
	ck_assert_int_gt(after.st_size, STORE_RECORD_MAX);
	ck_assert_int_le(after.st_size, 2 * STORE_RECORD_MAX);
	snprintf(users, sizeof(users), "%s/users", fixture_store);
	ck_assert_int_eq(count_entries(users), 1);
	/* Enrolling again writes a new file, slot A only: the old secret does
	 * not survive in slot B. */
	ck_assert_int_eq(store_enroll(st, "alice", &t, true, 2), STORE_OK);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_ne(after.st_ino, before.st_ino);
	ck_assert_int_lt(after.st_size, STORE_RECORD_MAX);
	ck_assert_uint_eq(slot_seq_at(path, 0), 1);
	ck_assert_uint_eq(step_of(st), 0);
	commit_step(st, 42);
	ck_assert_uint_eq(slot_seq_at(path, STORE_RECORD_MAX), 2);
	ck_assert_uint_eq(step_of(st), 42);
	store_close(st);
}
END_TEST

/* A crash in the middle of a commit damages only the slot being written:
 * the previous state is read back, and the next commit goes to the
 * damaged slot. */
START_TEST(torn_write_reads_previous)
{
	struct otp_token t = totp_token();
	struct store *st = NULL;
	char path[PATH_MAX], byte;

	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_enroll(st, "alice", &t, false, 1), STORE_OK);
	path_of(path, sizeof(path), "users", "alice");
	commit_step(st, 100); /* slot B, seq 2 */
	commit_step(st, 200); /* slot A, seq 3 */
	ck_assert_uint_eq(step_of(st), 200);

	/* One byte of slot A's text flipped: slot B's state. */
	read_at(path, STORE_SLOT_HDR + 20, &byte, 1);
	byte ^= 0x20;
	write_at(path, STORE_SLOT_HDR + 20, &byte, 1);
	ck_assert_uint_eq(slot_seq_at(path, 0), 0);
	ck_assert_uint_eq(step_of(st), 100);
	/* The next commit overwrites the damaged slot with seq 3. */
	commit_step(st, 300);
	ck_assert_uint_eq(slot_seq_at(path, 0), 3);
	ck_assert_uint_eq(slot_seq_at(path, STORE_RECORD_MAX), 2);
	ck_assert_uint_eq(step_of(st), 300);

	/* Slot B newest, then the file cut in the middle of slot B. */
	commit_step(st, 400); /* slot B, seq 4 */
	ck_assert_uint_eq(step_of(st), 400);
	ck_assert_int_eq(truncate(path, STORE_RECORD_MAX + STORE_SLOT_HDR + 10), 0);
	ck_assert_uint_eq(step_of(st), 300);
	/* Cut inside slot B's header. */
	ck_assert_int_eq(truncate(path, STORE_RECORD_MAX + 40), 0);
	ck_assert_uint_eq(step_of(st), 300);
	commit_step(st, 500); /* slot B again, seq 4 */
	ck_assert_uint_eq(slot_seq_at(path, STORE_RECORD_MAX), 4);
	ck_assert_uint_eq(step_of(st), 500);

	/* A header whose sequence number was changed to a larger one (only
	 * the digest binds it): refused, the other slot wins. */
	write_at(path, STORE_RECORD_MAX + 11 + 18, "9", 1);
	ck_assert_uint_eq(step_of(st), 300);
	store_close(st);
}
END_TEST

/* No valid slot: refused (fail closed), by the lock and by a peek. */
START_TEST(both_slots_corrupt)
{
	struct otp_token t = totp_token();
	static struct store_record rec;
	struct store *st = NULL;
	struct lockout_slot slot;
	struct store_handle *h = NULL;
	char path[PATH_MAX], byte;

	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_enroll(st, "alice", &t, false, 1), STORE_OK);
	commit_step(st, 100);
	path_of(path, sizeof(path), "users", "alice");
	read_at(path, STORE_SLOT_HDR + 5, &byte, 1);
	byte ^= 1;
	write_at(path, STORE_SLOT_HDR + 5, &byte, 1);
	ck_assert_uint_eq(step_of(st), 100);
	write_at(path, STORE_RECORD_MAX + 60, "0", 1); /* a digit of slot B's digest */
	ck_assert_int_eq(lock_status(st, "alice"), STORE_ECORRUPT);
	ck_assert_int_eq(store_peek_user(st, "alice", &rec), STORE_ECORRUPT);
	ck_assert_int_eq(store_enroll(st, "alice", &t, false, 2), STORE_ECORRUPT);
	ck_assert_int_eq(store_enroll(st, "alice", &t, true, 2), STORE_OK);
	ck_assert_uint_eq(step_of(st), 0);

	/* The same for a source record. */
	ck_assert_int_eq(store_lock_source(st, "203.0.113.9", &h), STORE_OK);
	store_source_slot(h)->failures = 3;
	ck_assert_int_eq(store_commit(h), STORE_OK);
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);
	ck_assert_int_eq(store_peek_source(st, "203.0.113.9", &slot), STORE_OK);
	ck_assert_uint_eq(slot.failures, 3);
	path_of(path, sizeof(path), "sources", "203.0.113.9");
	write_at(path, 0, "x", 1);
	ck_assert_int_eq(store_peek_source(st, "203.0.113.9", &slot), STORE_OK);
	write_at(path, STORE_RECORD_MAX, "x", 1);
	ck_assert_int_eq(store_peek_source(st, "203.0.113.9", &slot), STORE_ECORRUPT);
	ck_assert_int_eq(store_lock_source(st, "203.0.113.9", &h), STORE_ECORRUPT);
	store_close(st);
}
END_TEST

static Suite *store_layout_suite(void)
{
	Suite *s = suite_create("store_layout");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_test(tc, slots_alternate);
	tcase_add_test(tc, torn_write_reads_previous);
	tcase_add_test(tc, both_slots_corrupt);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(store_layout_suite)
