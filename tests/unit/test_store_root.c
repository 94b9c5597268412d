/* test_store_root.c - the store directory a process keeps open between
 * logins (store_open_kept): each open is checked as a fresh one would be,
 * a store removed or replaced is followed, and a descriptor the host
 * closed or reused is neither trusted nor closed. Runs as root. */
#define _GNU_SOURCE /* O_PATH */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"
#include "store.h"
#include "store_fixture.h"

static void enroll(const char *dir, const char *user)
{
	struct otp_token t = { .kind = OTP_HOTP, .algo = OTP_SHA1, .digits = 6, .secret_len = 20 };
	struct store *st = NULL;

	memcpy(t.secret, "12345678901234567890", 20);
	ck_assert_int_eq(store_open(dir, &st), STORE_OK);
	ck_assert_int_eq(store_enroll(st, user, &t, true, 1), STORE_OK);
	store_close(st);
}

/* STORE_OK when a kept open of the store finds user's record. */
static int kept_peek(const char *user)
{
	struct store_record *rec = malloc(sizeof(*rec));
	struct store *st = NULL;
	int rv;

	ck_assert_ptr_nonnull(rec);
	store_record_clear(rec);
	rv = store_open_kept(fixture_store, &st);
	if (rv == STORE_OK) {
		rv = store_peek_user(st, user, rec);
		store_close(st);
	}
	store_record_wipe(rec);
	free(rec);
	return rv;
}

/* The number of the descriptor this process keeps for the store: the only
 * one naming fixture_store once every store handle is closed; -1 when none. */
static int kept_fd_number(void)
{
	char link[32], target[PATH_MAX];
	int found = -1;

	for (int fd = 3; fd < 1024; fd++) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, fixture_store) == 0) {
			ck_assert_int_eq(found, -1);
			found = fd;
		}
	}
	return found;
}

START_TEST(kept_is_checked_every_time)
{
	enroll(fixture_store, "alice");
	ck_assert_int_eq(kept_peek("alice"), STORE_OK);
	ck_assert_int_ge(kept_fd_number(), 0);
	ck_assert_int_eq(kept_peek("alice"), STORE_OK);
	ck_assert_int_eq(kept_peek("bob"), STORE_ENOENT);
	/* What is kept is only a name for the directory: it cannot list it. */
	ck_assert_int_eq(fcntl(kept_fd_number(), F_GETFL) & O_PATH, O_PATH);
	/* The trust rules, at once, kept or not. */
	ck_assert_int_eq(chmod(fixture_store, 0770), 0);
	ck_assert_int_eq(kept_peek("alice"), STORE_EMODE);
	ck_assert_int_eq(chmod(fixture_store, 0700), 0);
	ck_assert_int_eq(kept_peek("alice"), STORE_OK);
	ck_assert_int_eq(chown(fixture_store, 1, 0), 0);
	ck_assert_int_eq(kept_peek("alice"), STORE_EOWNER);
}
END_TEST

START_TEST(kept_follows_a_removed_store)
{
	char cmd[PATH_MAX + 16];

	enroll(fixture_store, "alice");
	ck_assert_int_eq(kept_peek("alice"), STORE_OK);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixture_store);
	ck_assert_int_eq(system(cmd), 0);
	/* Removed: not linked any more, seen at once. */
	ck_assert_int_eq(kept_peek("alice"), STORE_ENOENT);
	enroll(fixture_store, "carol");
	ck_assert_int_eq(kept_peek("carol"), STORE_OK);
}
END_TEST

START_TEST(kept_follows_a_replaced_store)
{
	char old[128];
	struct timespec pause = { 1, 100 * 1000 * 1000 };

	enroll(fixture_store, "alice");
	ck_assert_int_eq(kept_peek("alice"), STORE_OK);
	snprintf(old, sizeof(old), "%s.old", fixture_store);
	ck_assert_int_eq(rename(fixture_store, old), 0);
	enroll(fixture_store, "carol");
	/* Renamed away, the old directory is still a store: the path is looked
	 * up again within a second (store_root.c). */
	nanosleep(&pause, NULL);
	ck_assert_int_eq(kept_peek("carol"), STORE_OK);
	ck_assert_int_eq(kept_peek("alice"), STORE_ENOENT);
}
END_TEST

START_TEST(kept_number_reused_by_the_host)
{
	char link[32], target[PATH_MAX];
	ssize_t n;
	int fd, null;

	enroll(fixture_store, "alice");
	ck_assert_int_eq(kept_peek("alice"), STORE_OK);
	fd = kept_fd_number();
	ck_assert_int_ge(fd, 0);
	/* The host closed every descriptor it did not know and reused the
	 * number for a file of its own. */
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(null, 0);
	ck_assert_int_eq(dup2(null, fd), fd);
	close(null);
	ck_assert_int_eq(kept_peek("alice"), STORE_OK);
	ck_assert_int_eq(kept_peek("alice"), STORE_OK);
	/* The host's file is still open, and still the host's. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, "/dev/null");
	close(fd);
	/* Closed, and the number left free. */
	ck_assert_int_eq(kept_peek("alice"), STORE_OK);
	close(kept_fd_number());
	ck_assert_int_eq(kept_peek("alice"), STORE_OK);
}
END_TEST

/* Logins in several threads share what is kept, across the once-a-second
 * lookup of the path: every open is good, and one descriptor is kept in
 * the end, none leaked. */
struct peeker {
	pthread_t thread;
	int failures;
};

static void *peek_for_a_while(void *arg)
{
	struct peeker *p = arg;
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		p->failures += kept_peek("alice") != STORE_OK;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < 2);
	return NULL;
}

START_TEST(kept_shared_by_threads)
{
	struct peeker peekers[4];

	enroll(fixture_store, "alice");
	for (size_t i = 0; i < 4; i++) {
		peekers[i].failures = 0;
		ck_assert_int_eq(pthread_create(&peekers[i].thread, NULL, peek_for_a_while,
						&peekers[i]), 0);
	}
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(peekers[i].thread, NULL), 0);
		ck_assert_int_eq(peekers[i].failures, 0);
	}
	ck_assert_int_ge(kept_fd_number(), 0); /* exactly one: kept_fd_number checks */
}
END_TEST

static Suite *store_root_suite(void)
{
	Suite *s = suite_create("store_root");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_test(tc, kept_is_checked_every_time);
	tcase_add_test(tc, kept_follows_a_removed_store);
	tcase_add_test(tc, kept_follows_a_replaced_store);
	tcase_add_test(tc, kept_number_reused_by_the_host);
	tcase_add_test(tc, kept_shared_by_threads);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(store_root_suite)
