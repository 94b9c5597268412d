/* test_store.c - records on disk: round trip, the two-slot layout, torn
 * writes, trust refusals, corrupt records, hostile user names, lock-free
 * peeks, O(1) lookup among 100,000 records, and parallel logins under the
 * per-user lock. Runs as root (chown tests). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lockout.h"
#include "otp.h"
#include "runner.h"
#include "store.h"
#include "store_fixture.h"
#include "store_slot.h"

/* Makes the directory of path (0700) when missing: below a 0700 store the
 * store makes a subdirectory only when it first writes a file there. */
static void make_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	ck_assert_ptr_nonnull(slash);
	*slash = '\0';
	ck_assert(mkdir(dir, 0700) == 0 || errno == EEXIST);
}

static void write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd;

	make_parent(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* A record file as the store creates it: slot A only, sequence 1. */
static void write_record(const char *path, const char *text, size_t len, mode_t mode)
{
	char *slot = malloc(STORE_RECORD_MAX);

	ck_assert_ptr_nonnull(slot);
	ck_assert_uint_le(len, STORE_TEXT_MAX);
	memcpy(slot + STORE_SLOT_HDR, text, len);
	ck_assert_int_eq(store_slot_seal(slot, 1, len), STORE_OK);
	write_file(path, slot, STORE_SLOT_HDR + len, mode);
	free(slot);
}

START_TEST(round_trip)
{
	const struct policy_lockout_slot lp = { 5, 900, 900 };
	const struct policy_history hp = { 90, 24, 64 };
	struct otp_token t = totp_token();
	struct store *st = NULL;
	struct store_handle *h = NULL;
	struct store_record *rec;
	struct source src;
	struct stat sb;
	char path[PATH_MAX];
	bool changed;

	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(stat(fixture_store, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0700);
	/* Not enrolled: an empty record, no file. */
	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	ck_assert(!store_exists(h));
	ck_assert(!store_record(h)->has_token);
	ck_assert_ptr_null(store_source_slot(h));
	store_unlock(h);
	ck_assert_int_eq(store_enroll(st, "alice", &t, false, 1700000000), STORE_OK);
	ck_assert_int_eq(store_enroll(st, "alice", &t, false, 1700000001), STORE_EEXIST);

	/* The file is named by the hash of the name, mode 0600. */
	snprintf(path, sizeof(path), "%s/users/%s", fixture_store,
		 "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90");
	ck_assert_int_eq(lstat(path, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	/* Slot A only, sequence 1. */
	ck_assert_uint_eq(slot_seq_at(path, 0), 1);
	ck_assert_int_lt(sb.st_size, STORE_RECORD_MAX);

	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	ck_assert(store_exists(h));
	rec = store_record(h);
	ck_assert(rec->has_token);
	ck_assert_str_eq(rec->user, "alice");
	ck_assert_int_eq(rec->token.kind, OTP_TOTP);
	ck_assert_uint_eq(rec->token.secret_len, 20);
	ck_assert_mem_eq(rec->token.secret, "12345678901234567890", 20);
	ck_assert_int_eq(rec->created, 1700000000);
	rec->last_step = 56666667;
	rec->last_success = 1700000015;
	lockout_record_failure(store_zone_slot(rec, "lan", &lp, 1700000010), &lp, 1700000010);
	ck_assert_int_eq(store_remember_add(rec, "10.20.1.2", "mail", 1700003600, 1700000015), STORE_OK);
	ck_assert_int_eq(source_parse("10.20.1.2", &src), 0);
	ck_assert_int_eq(store_history_add(rec, &src, &hp, 1700000015, &changed), STORE_OK);
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);

	/* Another store handle (another process would do the same) reads it back. */
	store_close(st);
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	rec = store_record(h);
	ck_assert_uint_eq(rec->last_step, 56666667);
	ck_assert_int_eq(rec->last_success, 1700000015);
	ck_assert_uint_eq(store_zone_find(rec, "lan")->failures, 1);
	ck_assert(store_remember_check(rec, "10.20.1.2", "mail", 1700000100));
	ck_assert(store_history_seen(rec, &src, &hp, 1700000100));
	store_unlock(h);

	/* force replaces the token and restarts the replay state. */
	t.secret[0] = 'X';
	ck_assert_int_eq(store_enroll(st, "alice", &t, true, 1700001000), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	rec = store_record(h);
	ck_assert_uint_eq(rec->token.secret[0], 'X');
	ck_assert_uint_eq(rec->last_step, 0);
	ck_assert_uint_eq(store_zone_find(rec, "lan")->failures, 1); /* kept */
	store_unlock(h);

	ck_assert_int_eq(store_remove(st, "alice"), STORE_OK);
	ck_assert_int_eq(lstat(path, &sb), -1);
	ck_assert_int_eq(store_remove(st, "alice"), STORE_ENOENT);
	/* users, lock: sources not created yet */
	ck_assert_int_eq(count_entries(fixture_store), 2);
	store_close(st);
}
END_TEST

/* Numbers are formatted by hand (store_putf, store_slot_seal): 0 and the
 * largest values come out exactly, and read back. */
START_TEST(format_extremes)
{
	static struct store_record rec, back;
	char text[STORE_TEXT_MAX + 1], slot[STORE_SLOT_HDR + 512];
	int n;

	memset(&rec, 0, sizeof(rec));
	strcpy(rec.user, "alice");
	rec.has_token = true;
	rec.token = totp_token();
	rec.last_step = (uint64_t)INT64_MAX; /* the largest a record may hold */
	rec.created = 0;
	rec.last_success = INT64_MAX;
	n = store_record_format(&rec, text, sizeof(text));
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(text, "\ncounter 0\nlast-step 9223372036854775807\n"));
	ck_assert_ptr_nonnull(strstr(text, "created 0\nlast-success 9223372036854775807\n"));
	ck_assert_int_eq(store_record_parse(text, (size_t)n, &back), STORE_OK);
	ck_assert_uint_eq(back.last_step, (uint64_t)INT64_MAX);
	ck_assert_int_eq(back.last_success, INT64_MAX);
	store_record_wipe(&back);

	memcpy(slot + STORE_SLOT_HDR, "end\n", 4);
	ck_assert_int_eq(store_slot_seal(slot, UINT64_MAX, 4), STORE_OK);
	ck_assert_mem_eq(slot, "garde-slot 18446744073709551615 0000000004 ", 43);
	ck_assert(store_slot_verify(slot, 4));
	ck_assert_int_eq(store_slot_seal(slot, 1, 4), STORE_OK);
	ck_assert_mem_eq(slot, "garde-slot 00000000000000000001 0000000004 ", 43);
	ck_assert_int_eq(slot[STORE_SLOT_HDR - 1], '\n');
}
END_TEST

START_TEST(source_records)
{
	const struct policy_lockout_slot lp = { 2, 300, 3600 };
	struct store *st = NULL;
	struct store_handle *h = NULL;
	char lockpath[PATH_MAX], hex[STORE_HASH_HEX];
	struct stat sb;

	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_source(st, "203.0.113.9", &h), STORE_OK);
	ck_assert(!store_exists(h));
	ck_assert_ptr_null(store_record(h));
	lockout_record_failure(store_source_slot(h), &lp, 1000);
	lockout_record_failure(store_source_slot(h), &lp, 1001);
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);
	ck_assert_int_eq(store_lock_source(st, "203.0.113.9", &h), STORE_OK);
	ck_assert(store_exists(h));
	ck_assert(lockout_is_locked(store_source_slot(h), 1002));
	ck_assert_int_eq(store_source_slot(h)->locked_until, 4601);
	store_unlock(h);
	/* The user "203.0.113.9" is another namespace. */
	ck_assert_int_eq(lock_status(st, "203.0.113.9"), STORE_OK);
	/* Striped lock file. */
	store_name_hash("203.0.113.9", 11, hex);
	snprintf(lockpath, sizeof(lockpath), "%s/lock/source-%.3s", fixture_store, hex);
	ck_assert_int_eq(lstat(lockpath, &sb), 0);
	ck_assert_int_eq(store_lock_source(st, "", &h), STORE_EINVAL);
	store_close(st);
}
END_TEST

START_TEST(trust_refusals)
{
	struct otp_token t = totp_token();
	struct store *st = NULL;
	char path[PATH_MAX], other[PATH_MAX];

	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_enroll(st, "alice", &t, false, 1), STORE_OK);
	ck_assert_int_eq(store_enroll(st, "bob", &t, false, 1), STORE_OK);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_OK);

	/* A record owned by another user (nobody). */
	path_of(path, sizeof(path), "users", "alice");
	ck_assert_int_eq(chown(path, 65534, 65534), 0);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_EOWNER);
	ck_assert(store_error_is_unsafe(STORE_EOWNER));
	ck_assert_int_eq(chown(path, 0, 0), 0);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_OK);

	/* A record readable by others: it holds a secret. */
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_EMODE);
	ck_assert_int_eq(chmod(path, 0620), 0);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_EMODE);
	ck_assert_int_eq(chmod(path, 0600), 0);

	/* A symlinked record, even to a valid record of the same user. */
	snprintf(other, sizeof(other), "%s/alice-copy", fixture_base);
	ck_assert_int_eq(rename(path, other), 0);
	ck_assert_int_eq(symlink(other, path), 0);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_ESYMLINK);
	ck_assert_int_eq(unlink(path), 0);

	/* A directory in place of a record. */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_ETYPE);
	ck_assert_int_eq(rmdir(path), 0);

	/* bob's record copied over alice's: the name inside decides. */
	path_of(other, sizeof(other), "users", "bob");
	{
		char cmd[3 * PATH_MAX];
		snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s'", other, path);
		ck_assert_int_eq(system(cmd), 0);
	}
	ck_assert_int_eq(lock_status(st, "alice"), STORE_EWRONGUSER);
	ck_assert_int_eq(unlink(path), 0);

	/* A symlinked lock file: the stripe lock taken for a user who has no
	 * record yet (a record is its own lock). */
	{
		char hex[STORE_HASH_HEX];

		store_name_hash("carol", 5, hex);
		snprintf(path, sizeof(path), "%s/lock/user-%.3s", fixture_store, hex);
	}
	ck_assert(unlink(path) == 0 || errno == ENOENT);
	ck_assert_int_eq(symlink("/tmp/garde-nowhere", path), 0);
	ck_assert_int_eq(lock_status(st, "carol"), STORE_ESYMLINK);
	ck_assert_int_eq(access("/tmp/garde-nowhere", F_OK), -1); /* nothing created through it */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(lock_status(st, "carol"), STORE_OK);
	store_close(st);

	/* A group-writable subdirectory: refused below a store the group can
	 * enter, unreachable (and so not looked at) below a 0700 store. */
	snprintf(path, sizeof(path), "%s/users", fixture_store);
	ck_assert_int_eq(chmod(path, 0770), 0);
	ck_assert_int_eq(chmod(fixture_store, 0750), 0);
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(lock_status(st, "bob"), STORE_EMODE);
	store_close(st);
	ck_assert_int_eq(chmod(fixture_store, 0700), 0);
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(lock_status(st, "bob"), STORE_OK);
	store_close(st);
	ck_assert_int_eq(chmod(path, 0700), 0);
	/* Then a group-writable store. */
	ck_assert_int_eq(chmod(fixture_store, 0770), 0);
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_EMODE);
	ck_assert_int_eq(chmod(fixture_store, 0700), 0);
	/* A store owned by nobody, a symlinked store, a file as store. */
	ck_assert_int_eq(chown(fixture_store, 65534, 65534), 0);
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_EOWNER);
	ck_assert_int_eq(chown(fixture_store, 0, 0), 0);
	snprintf(path, sizeof(path), "%s/link", fixture_base);
	ck_assert_int_eq(symlink(fixture_store, path), 0);
	ck_assert_int_eq(store_open(path, &st), STORE_ESYMLINK);
	snprintf(path, sizeof(path), "%s/file", fixture_base);
	write_file(path, "x", 1, 0600);
	ck_assert_int_eq(store_open(path, &st), STORE_ETYPE);
	/* A missing parent is not created. */
	snprintf(path, sizeof(path), "%s/no/such", fixture_base);
	ck_assert_int_eq(store_open(path, &st), STORE_EIO);
	ck_assert_str_eq(store_strerror(STORE_ESYMLINK), "refused: is a symbolic link");
}
END_TEST

static const char good_record[] =
	"garde-record 1\n"
	"user alice\n"
	"kind totp\n"
	"algorithm sha1\n"
	"digits 6\n"
	"step 30\n"
	"secret 3132333435363738393031323334353637383930\n"
	"counter 0\n"
	"last-step 56666667\n"
	"created 1700000000\n"
	"last-success 0\n"
	"lockout lan 1 1700000010 0\n"
	"remember 10.20.1.2 mail 1700003600\n"
	"history 10.20.1.0/24 1700000015\n"
	"end\n";

/* Each edit applied to good_record must make it corrupt. */
static const struct {
	const char *from, *to;
} corruptions[] = {
	{ "garde-record 1\n", "garde-record 2\n" },
	{ "garde-record 1\n", "" },
	{ "garde-record 1\n", "garde-record  1\n" },
	{ "end\n", "" },
	{ "end\n", "end\nend\n" },
	{ "end\n", "end\nuser bob\n" },
	{ "end\n", "end" },
	{ "user alice\n", "" },
	{ "user alice\n", "user alice\nuser alice\n" },
	{ "user alice\n", "user alice bob\n" },
	{ "user alice\n", "user al%00ice\n" },
	{ "user alice\n", "user al%4\n" },
	{ "user alice\n", "user \n" },
	{ "user alice\n", "user alice\r\n" },
	{ "user alice\n", "User alice\n" },
	{ "user alice\n", "user ali\xc3\xa9" "e\n" },
	{ "kind totp\n", "kind sotp\n" },
	{ "kind totp\n", "kind none\n" },
	{ "algorithm sha1\n", "algorithm md5\n" },
	{ "algorithm sha1\n", "" },
	{ "digits 6\n", "digits 06\n" },
	{ "digits 6\n", "digits 5\n" },
	{ "digits 6\n", "digits 9\n" },
	{ "digits 6\n", "digits -6\n" },
	{ "digits 6\n", "digits +6\n" },
	{ "digits 6\n", "digits 6x\n" },
	{ "step 30\n", "step 0\n" },
	{ "step 30\n", "step 301\n" },
	{ "secret 3132333435363738393031323334353637383930\n", "secret 313\n" },
	{ "secret 3132333435363738393031323334353637383930\n", "secret 31323g\n" },
	{ "secret 3132333435363738393031323334353637383930\n", "" },
	{ "counter 0\n", "counter 99999999999999999999\n" },
	{ "counter 0\n", "counter 9223372036854775808\n" },
	{ "last-step 56666667\n", "last-step \n" },
	{ "created 1700000000\n", "" },
	{ "created 1700000000\n", "created 18446744073709551615\n" },
	{ "last-success 0\n", "last-success 0 \n" },
	{ "lockout lan 1 1700000010 0\n", "lockout lan 1 1700000010\n" },
	{ "lockout lan 1 1700000010 0\n", "lockout lan 4294967296 1700000010 0\n" },
	{ "remember 10.20.1.2 mail 1700003600\n", "remember 10.20.1.2  mail 1700003600\n" },
	{ "history 10.20.1.0/24 1700000015\n", "history 10.20.1.0/24\n" },
	{ "history 10.20.1.0/24 1700000015\n", "colour blue\n" },
	{ "history 10.20.1.0/24 1700000015\n", "\n" },
};

static char *apply(const char *from, const char *to, size_t *len)
{
	static char out[sizeof(good_record) + 256];
	const char *at = strstr(good_record, from);
	size_t pre;

	ck_assert_ptr_nonnull(at);
	pre = (size_t)(at - good_record);
	memcpy(out, good_record, pre);
	strcpy(out + pre, to);
	strcat(out, at + strlen(from));
	*len = strlen(out);
	return out;
}

START_TEST(corrupt_records)
{
	struct store_record rec;
	struct store *st = NULL;
	char path[PATH_MAX], *big;
	size_t len, i;

	ck_assert_int_eq(store_record_parse(good_record, strlen(good_record), &rec), STORE_OK);
	ck_assert_str_eq(rec.user, "alice");
	ck_assert_uint_eq(rec.n_zones, 1);
	for (i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		const char *text = apply(corruptions[i].from, corruptions[i].to, &len);
		ck_assert_msg(store_record_parse(text, len, &rec) == STORE_ECORRUPT,
			      "edit %zu accepted: %s", i, text);
	}
	/* Cut short at every byte. */
	for (len = 0; len < strlen(good_record); len++)
		ck_assert_msg(store_record_parse(good_record, len, &rec) == STORE_ECORRUPT,
			      "truncated at %zu accepted", len);
	/* An embedded NUL. */
	{
		char nul[sizeof(good_record)];
		memcpy(nul, good_record, sizeof(good_record));
		nul[20] = '\0';
		ck_assert_int_eq(store_record_parse(nul, sizeof(good_record) - 1, &rec), STORE_ECORRUPT);
	}

	/* The same through the files: truncated, garbage, oversize. */
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_OK); /* creates users/ */
	path_of(path, sizeof(path), "users", "alice");
	write_record(path, good_record, strlen(good_record), 0600);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_OK);
	/* A well-sealed slot whose text does not parse. */
	write_record(path, good_record, strlen(good_record) - 3, 0600);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_ECORRUPT);
	/* The bare text, without a slot header. */
	write_file(path, good_record, strlen(good_record), 0600);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_ECORRUPT);
	write_file(path, "", 0, 0600);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_ECORRUPT);
	write_file(path, "\x7f" "ELF\x02\x01\x01\0\0\0", 10, 0600);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_ECORRUPT);
	big = malloc(2 * STORE_RECORD_MAX + 2);
	ck_assert_ptr_nonnull(big);
	/* Text over STORE_TEXT_MAX: refused even when the digest matches. */
	memset(big, 'a', 2 * STORE_RECORD_MAX + 1);
	ck_assert_int_eq(store_slot_seal(big, 1, STORE_TEXT_MAX + 1), STORE_EINVAL);
	snprintf(big, STORE_SLOT_HDR, "garde-slot %020d %010u ", 1, STORE_TEXT_MAX + 1);
	big[STORE_SLOT_HDR - 1] = '\n';
	write_file(path, big, STORE_RECORD_MAX, 0600);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_ECORRUPT);
	/* A file longer than two slots, even with a valid slot A. */
	memcpy(big + STORE_SLOT_HDR, good_record, strlen(good_record));
	ck_assert_int_eq(store_slot_seal(big, 1, strlen(good_record)), STORE_OK);
	write_file(path, big, 2 * STORE_RECORD_MAX, 0600);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_OK);
	write_file(path, big, 2 * STORE_RECORD_MAX + 1, 0600);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_ECORRUPT);
	/* ... which remove and enroll --force get rid of like any corrupt one. */
	ck_assert_int_eq(store_remove(st, "alice"), STORE_OK);
	ck_assert_int_eq(lock_status(st, "alice"), STORE_OK);
	write_file(path, big, 2 * STORE_RECORD_MAX + 1, 0600);
	{
		struct otp_token t = totp_token();
		ck_assert_int_eq(store_enroll(st, "alice", &t, false, 1), STORE_ECORRUPT);
		ck_assert_int_eq(store_enroll(st, "alice", &t, true, 1), STORE_OK);
		ck_assert_int_eq(lock_status(st, "alice"), STORE_OK);
	}
	free(big);
	/* A corrupt record is only replaced by enroll with force. */
	write_record(path, "garbage\n", 8, 0600);
	{
		struct otp_token t = totp_token();
		ck_assert_int_eq(store_enroll(st, "alice", &t, false, 1), STORE_ECORRUPT);
		ck_assert_int_eq(store_enroll(st, "alice", &t, true, 1), STORE_OK);
		ck_assert_int_eq(lock_status(st, "alice"), STORE_OK);
		/* remove also gets rid of a corrupt record. */
		write_file(path, "garbage\n", 8, 0600);
		ck_assert_int_eq(store_remove(st, "alice"), STORE_OK);
		ck_assert_int_eq(lock_status(st, "alice"), STORE_OK);
		/* But never of one refused by the trust rules. */
		write_record(path, good_record, strlen(good_record), 0644);
		ck_assert_int_eq(store_enroll(st, "alice", &t, true, 1), STORE_EMODE);
		ck_assert_int_eq(store_remove(st, "alice"), STORE_EMODE);
	}
	store_close(st);
}
END_TEST

/* Hostile names only ever become a hash inside users/ and lock/. */
START_TEST(hostile_names)
{
	struct otp_token t = totp_token();
	struct store *st = NULL;
	struct store_handle *h = NULL;
	char longname[STORE_USER_MAX + 2];
	const char *names[] = { "../x", "../../etc/passwd", "a/b", "\xff\xfe\x80 bad\nname%00", "-", ".", longname };
	char path[PATH_MAX];
	struct stat sb;
	size_t i;

	memset(longname, 'n', STORE_USER_MAX);
	longname[STORE_USER_MAX] = '\0';
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_int_eq(store_enroll(st, names[i], &t, false, 1), STORE_OK);
		path_of(path, sizeof(path), "users", names[i]);
		ck_assert_int_eq(lstat(path, &sb), 0);
		ck_assert(S_ISREG(sb.st_mode));
		ck_assert_int_eq(store_lock_user(st, names[i], &h), STORE_OK);
		ck_assert_str_eq(store_record(h)->user, names[i]);
		store_unlock(h);
	}
	/* Nothing but the store's own directories appeared anywhere. */
	ck_assert_int_eq(count_entries(fixture_base), 1);
	ck_assert_int_eq(count_entries(fixture_store), 2);
	snprintf(path, sizeof(path), "%s/users", fixture_store);
	ck_assert_int_eq(count_entries(path), (int)(sizeof(names) / sizeof(names[0])));
	/* Over the cap, or empty: refused. */
	longname[STORE_USER_MAX] = 'n';
	longname[STORE_USER_MAX + 1] = '\0';
	ck_assert_int_eq(store_lock_user(st, longname, &h), STORE_EINVAL);
	ck_assert_int_eq(store_lock_user(st, "", &h), STORE_EINVAL);
	ck_assert_int_eq(store_enroll(st, longname, &t, false, 1), STORE_EINVAL);
	store_close(st);
}
END_TEST

#define MANY 100000

/* 100,000 records: a lookup opens exactly one file, the user's, which an
 * inotify watch on users/ proves (no strace, no timing). */
START_TEST(many_records_one_open)
{
	struct store *st = NULL;
	struct store_handle *h = NULL;
	char users[PATH_MAX], path[PATH_MAX], text[512], user[32];
	char want[STORE_HASH_HEX], evbuf[64 * 1024];
	int i, ifd, wd, opens = 0, others = 0;
	ssize_t n;

	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(lock_status(st, "warm-up"), STORE_OK); /* users/ and lock/ exist and are open */
	snprintf(users, sizeof(users), "%s/users", fixture_store);
	for (i = 0; i < MANY; i++) {
		int len;

		snprintf(user, sizeof(user), "user%06d", i);
		len = snprintf(text, sizeof(text),
			       "garde-record 1\nuser %s\nkind totp\nalgorithm sha1\ndigits 6\nstep 30\n"
			       "secret %08x3132333435363738\ncounter 0\nlast-step %d\ncreated 1\n"
			       "last-success 0\nend\n", user, (unsigned)i, i);
		path_of(path, sizeof(path), "users", user);
		write_record(path, text, (size_t)len, 0600);
	}
	ck_assert_int_eq(count_entries(users), MANY);

	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ck_assert_int_ge(ifd, 0);
	wd = inotify_add_watch(ifd, users, IN_OPEN | IN_ACCESS | IN_CLOSE | IN_MODIFY | IN_CREATE);
	ck_assert_int_ge(wd, 0);

	ck_assert_int_eq(store_lock_user(st, "user054321", &h), STORE_OK);
	ck_assert(store_exists(h));
	ck_assert_str_eq(store_record(h)->user, "user054321");
	ck_assert_uint_eq(store_record(h)->last_step, 54321);
	store_unlock(h);

	store_name_hash("user054321", 10, want);
	n = read(ifd, evbuf, sizeof(evbuf));
	ck_assert_int_gt(n, 0);
	for (char *p = evbuf; p < evbuf + n;) {
		struct inotify_event *ev = (struct inotify_event *)(void *)p;

		/* A nameless event would be the directory itself (a listing). */
		if (ev->len == 0 || strcmp(ev->name, want) != 0)
			others++;
		else if (ev->mask & IN_OPEN)
			opens++;
		p += sizeof(*ev) + ev->len;
	}
	ck_assert_int_eq(opens, 1);
	ck_assert_int_eq(others, 0);
	close(ifd);
	/* And no lock file was added: an existing record is its own lock
	 * (the one there is the stripe lock "warm-up", who has no record,
	 * took). */
	snprintf(path, sizeof(path), "%s/lock", fixture_store);
	ck_assert_int_eq(count_entries(path), 1);
	store_close(st);
}
END_TEST

enum child_result { CHILD_OK = 0, CHILD_INVALID = 1, CHILD_REPLAY = 2, CHILD_LOCKED = 3, CHILD_ERROR = 4 };

#define PARALLEL 32
#define NOW 1700000015

/* One login as the module will do it: lock, refuse when locked, verify,
 * update the last step or count the failure, commit, unlock. */
static int child_login(const char *code, const struct policy_lockout_slot *lp)
{
	struct store *st = NULL;
	struct store_handle *h = NULL;
	struct store_record *rec;
	struct lockout_slot *slot;
	uint64_t matched = 0;
	int rv = CHILD_ERROR, v;

	if (store_open(fixture_store, &st) != STORE_OK ||
	    store_lock_user(st, "alice", &h) != STORE_OK)
		goto out;
	rec = store_record(h);
	slot = store_zone_slot(rec, "lan", lp, NOW);
	if (rec == NULL || slot == NULL || !rec->has_token)
		goto out;
	if (lockout_is_locked(slot, NOW)) {
		rv = CHILD_LOCKED;
		goto out;
	}
	v = otp_verify(&rec->token, code, strlen(code), NOW, 1, 1, rec->last_step, &matched);
	if (v == OTP_OK) {
		rec->last_step = matched;
		rec->last_success = NOW;
		lockout_reset(slot);
		rv = CHILD_OK;
	} else {
		lockout_record_failure(slot, lp, NOW);
		rv = v == OTP_EREPLAY ? CHILD_REPLAY : CHILD_INVALID;
	}
	if (store_commit(h) != STORE_OK)
		rv = CHILD_ERROR;
out:
	store_unlock(h);
	store_close(st);
	return rv;
}

/* Forks PARALLEL logins that start together (a pipe closed by the parent
 * is the starting gun) and counts their results. */
static void run_parallel(const char *code, const struct policy_lockout_slot *lp, int counts[5])
{
	int gun[2], i;
	pid_t pids[PARALLEL];

	memset(counts, 0, 5 * sizeof(int));
	ck_assert_int_eq(pipe(gun), 0);
	for (i = 0; i < PARALLEL; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char c;

			close(gun[1]);
			while (read(gun[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(child_login(code, lp));
		}
	}
	close(gun[0]);
	close(gun[1]);
	for (i = 0; i < PARALLEL; i++) {
		int status;

		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_le(WEXITSTATUS(status), 4);
		counts[WEXITSTATUS(status)]++;
	}
}

static struct store_record *read_alice(struct store_record *copy)
{
	struct store *st = NULL;
	struct store_handle *h = NULL;

	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	*copy = *store_record(h);
	store_unlock(h);
	store_close(st);
	return copy;
}

static void enroll_alice(void)
{
	struct otp_token t = totp_token();
	struct store *st = NULL;

	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_enroll(st, "alice", &t, false, 1), STORE_OK);
	store_close(st);
}

START_TEST(parallel_same_code_one_wins)
{
	const struct policy_lockout_slot lp = { 100, 900, 900 };
	struct otp_token t = totp_token();
	static struct store_record rec;
	char code[OTP_CODE_BUF];
	int counts[5];

	enroll_alice();
	ck_assert_int_eq(otp_generate(&t, NOW, code, sizeof(code)), OTP_OK);
	run_parallel(code, &lp, counts);
	ck_assert_int_eq(counts[CHILD_OK], 1);
	ck_assert_int_eq(counts[CHILD_REPLAY], PARALLEL - 1);
	ck_assert_int_eq(counts[CHILD_ERROR], 0);
	read_alice(&rec);
	ck_assert_uint_eq(rec.last_step, NOW / 30);
	ck_assert_int_eq(rec.last_success, NOW);
	/* The replays counted as failures after the success reset the slot. */
	ck_assert_uint_eq(store_zone_find(&rec, "lan")->failures, PARALLEL - 1);
}
END_TEST

static const char *wrong_code(char *buf)
{
	struct otp_token t = totp_token();
	char good[OTP_CODE_BUF];
	uint64_t f;

	/* A code that matches no step of the window. */
	strcpy(buf, "000000");
	for (;;) {
		int hit = 0;
		for (f = NOW / 30 - 1; f <= NOW / 30 + 1; f++) {
			otp_generate_factor(&t, f, good, sizeof(good));
			hit |= strcmp(good, buf) == 0;
		}
		if (!hit)
			return buf;
		buf[5]++;
	}
}

START_TEST(parallel_wrong_codes_all_counted)
{
	const struct policy_lockout_slot lp = { 100, 900, 900 };
	static struct store_record rec;
	char bad[OTP_CODE_BUF];
	int counts[5];

	enroll_alice();
	run_parallel(wrong_code(bad), &lp, counts);
	ck_assert_int_eq(counts[CHILD_INVALID], PARALLEL);
	read_alice(&rec);
	ck_assert_uint_eq(store_zone_find(&rec, "lan")->failures, PARALLEL);
	ck_assert(!lockout_is_locked(store_zone_find(&rec, "lan"), NOW));
	ck_assert_uint_eq(rec.last_step, 0);
}
END_TEST

START_TEST(parallel_wrong_codes_deny_five)
{
	const struct policy_lockout_slot lp = { 5, 900, 900 };
	static struct store_record rec;
	char bad[OTP_CODE_BUF];
	int counts[5];

	enroll_alice();
	run_parallel(wrong_code(bad), &lp, counts);
	ck_assert_int_eq(counts[CHILD_INVALID], 5);
	ck_assert_int_eq(counts[CHILD_LOCKED], PARALLEL - 5);
	read_alice(&rec);
	ck_assert_uint_eq(store_zone_find(&rec, "lan")->failures, 5);
	ck_assert(lockout_is_locked(store_zone_find(&rec, "lan"), NOW));
	ck_assert_int_eq(store_zone_find(&rec, "lan")->locked_until, NOW + 900);
	/* The lock is per zone: elsewhere is not locked. */
	ck_assert_ptr_null(store_zone_find(&rec, "elsewhere"));
}
END_TEST

/* A process killed while holding the lock does not block the next login. */
START_TEST(killed_holder_releases)
{
	struct store *st = NULL;
	struct store_handle *h = NULL;
	int ready[2];
	pid_t pid;
	char c;

	enroll_alice();
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (store_open(fixture_store, &st) == STORE_OK &&
		    store_lock_user(st, "alice", &h) == STORE_OK &&
		    write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK); /* would hang otherwise */
	store_unlock(h);
	store_close(st);
}
END_TEST

/* A user's record is its own lock. A child waits for it while the parent,
 * holding it, replaces the file (a commit_sync renames a new file over it)
 * or removes it: the child must get the record as it is then, and its
 * commit must land in the file that has the name (an update to the
 * replaced file would be lost). */
static void replaced_while_waiting(bool remove)
{
	struct store *st = NULL;
	struct store_handle *h = NULL;
	int go[2], status;
	pid_t pid;
	char c;

	enroll_alice();
	ck_assert_int_eq(pipe(go), 0);
	/* Forked before the lock is taken: a child would share its open file,
	 * and so the lock. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store *cst = NULL;
		struct store_handle *ch = NULL;
		int rv = 1;

		close(go[1]);
		if (read(go[0], &c, 1) != 1 || store_open(fixture_store, &cst) != STORE_OK ||
		    store_lock_user(cst, "alice", &ch) != STORE_OK)
			_exit(2);
		if (remove)
			rv = store_exists(ch) ? 3 : 0;
		else if (store_record(ch)->last_success == 4242) {
			store_record(ch)->last_step = 77;
			rv = store_commit(ch) == STORE_OK ? 0 : 4;
		}
		store_unlock(ch);
		_exit(rv);
	}
	close(go[0]);
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	usleep(100 * 1000); /* the child is now (almost surely) waiting for the lock */
	if (remove) {
		ck_assert_int_eq(store_delete(h), STORE_OK);
	} else {
		store_record(h)->last_success = 4242;
		ck_assert_int_eq(store_commit_sync(h), STORE_OK);
	}
	store_unlock(h);
	close(go[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	if (!remove) {
		ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
		ck_assert_uint_eq(store_record(h)->last_step, 77);
		ck_assert_int_eq(store_record(h)->last_success, 4242);
		store_unlock(h);
	}
	store_close(st);
}

START_TEST(lock_follows_replacement)
{
	replaced_while_waiting(false);
}
END_TEST

START_TEST(lock_follows_removal)
{
	replaced_while_waiting(true);
}
END_TEST

/* A login peeks (the store keeps the file open for the lock), then the
 * token is replaced before the code is checked: the lock reads the new
 * record, not the file the peek opened. */
START_TEST(peek_then_replaced)
{
	static struct store_record rec;
	struct otp_token t = totp_token();
	struct store *st = NULL, *other = NULL;
	struct store_handle *h = NULL;

	enroll_alice();
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_peek_user(st, "alice", &rec), STORE_OK);
	ck_assert_uint_eq(rec.token.secret[0], '1');
	store_record_wipe(&rec);
	t.secret[0] = 'X';
	ck_assert_int_eq(store_open(fixture_store, &other), STORE_OK);
	ck_assert_int_eq(store_enroll(other, "alice", &t, true, 2), STORE_OK);
	store_close(other);
	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	ck_assert_uint_eq(store_record(h)->token.secret[0], 'X');
	store_record(h)->last_step = 5;
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);
	ck_assert_int_eq(store_peek_user(st, "alice", &rec), STORE_OK);
	ck_assert_uint_eq(rec.last_step, 5);
	store_record_wipe(&rec);
	store_close(st);
}
END_TEST

/* An immutable record (chattr +i) can still be peeked at, as before the
 * peek opened records read-write to keep them for the lock; a commit to
 * it fails, closed. */
START_TEST(peek_unwritable_record)
{
	static struct store_record rec;
	struct store *st = NULL;
	struct store_handle *h = NULL;
	char path[PATH_MAX];
	int fd, flags = 0;

	enroll_alice();
	path_of(path, sizeof(path), "users", "alice");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ioctl(fd, FS_IOC_GETFLAGS, &flags), 0);
	flags |= FS_IMMUTABLE_FL;
	ck_assert_msg(ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0, "chattr +i: %s", strerror(errno));
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_peek_user(st, "alice", &rec), STORE_OK);
	ck_assert(rec.has_token);
	store_record_wipe(&rec);
	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	store_record(h)->last_step = 9;
	ck_assert_int_eq(store_commit(h), STORE_EIO);
	store_unlock(h);
	store_close(st);
	flags &= ~FS_IMMUTABLE_FL;
	ck_assert_int_eq(ioctl(fd, FS_IOC_SETFLAGS, &flags), 0);
	close(fd);
}
END_TEST

/* Sets alice's last step under the lock and commits. */
static int count_tree(void)
{
	static const char *const subs[] = { "users", "sources", "lock" };
	char path[PATH_MAX];
	int n = count_entries(fixture_store);
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", fixture_store, subs[i]);
		if (access(path, F_OK) == 0)
			n += count_entries(path);
	}
	return n;
}

/* A peek reads without the lock and creates nothing: no directory, no
 * lock file, no record. */
START_TEST(peek_creates_nothing)
{
	const struct policy_lockout_slot lp = { 5, 900, 900 };
	struct otp_token t = totp_token();
	static struct store_record rec;
	struct store *st = NULL;
	struct store_handle *h = NULL;
	struct lockout_slot slot;
	char path[PATH_MAX], other[PATH_MAX];
	int n;

	/* A new store: store_open makes the directory, peeks nothing more. */
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(count_tree(), 0);
	ck_assert_int_eq(store_peek_user(st, "alice", &rec), STORE_ENOENT);
	ck_assert_int_eq(store_peek_source(st, "203.0.113.9", &slot), STORE_ENOENT);
	ck_assert_int_eq(count_tree(), 0);
	ck_assert_int_eq(store_peek_user(st, "", &rec), STORE_EINVAL);
	ck_assert_int_eq(store_peek_source(st, "", &slot), STORE_EINVAL);

	/* Records of alice and of one source. */
	ck_assert_int_eq(store_enroll(st, "alice", &t, false, 1), STORE_OK);
	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	lockout_record_failure(store_zone_slot(store_record(h), "lan", &lp, 1000), &lp, 1000);
	ck_assert_int_eq(store_remember_add(store_record(h), "10.20.1.2", "mail", 5000, 1000),
			 STORE_OK);
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);
	ck_assert_int_eq(store_lock_source(st, "203.0.113.9", &h), STORE_OK);
	lockout_record_failure(store_source_slot(h), &lp, 1000);
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);
	store_close(st);
	n = count_tree();

	/* A new handle (a new login) peeks existing and missing records. */
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_peek_user(st, "alice", &rec), STORE_OK);
	ck_assert(rec.has_token);
	ck_assert_str_eq(rec.user, "alice");
	ck_assert_uint_eq(store_zone_find(&rec, "lan")->failures, 1);
	ck_assert(store_remember_check(&rec, "10.20.1.2", "mail", 2000));
	store_record_wipe(&rec);
	ck_assert_int_eq(store_peek_source(st, "203.0.113.9", &slot), STORE_OK);
	ck_assert_uint_eq(slot.failures, 1);
	ck_assert_int_eq(store_peek_user(st, "bob", &rec), STORE_ENOENT);
	ck_assert_int_eq(store_peek_source(st, "198.51.100.1", &slot), STORE_ENOENT);
	ck_assert_int_eq(count_tree(), n);

	/* The trust rules and the name inside hold for peeks too. */
	path_of(path, sizeof(path), "users", "alice");
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(store_peek_user(st, "alice", &rec), STORE_EMODE);
	ck_assert_int_eq(chmod(path, 0600), 0);
	path_of(other, sizeof(other), "users", "bob");
	ck_assert_int_eq(link(path, other), 0);
	ck_assert_int_eq(store_peek_user(st, "bob", &rec), STORE_EWRONGUSER);
	ck_assert_int_eq(unlink(other), 0);
	ck_assert_int_eq(symlink(path, other), 0);
	ck_assert_int_eq(store_peek_user(st, "bob", &rec), STORE_ESYMLINK);
	ck_assert_int_eq(unlink(other), 0);
	store_close(st);
	snprintf(path, sizeof(path), "%s/sources", fixture_store);
	ck_assert_int_eq(chmod(path, 0730), 0);
	ck_assert_int_eq(chmod(fixture_store, 0755), 0);
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_peek_source(st, "203.0.113.9", &slot), STORE_EMODE);
	ck_assert_int_eq(store_peek_source(st, "198.51.100.1", &slot), STORE_EMODE);
	store_close(st);
	ck_assert_int_eq(chmod(fixture_store, 0700), 0);
	ck_assert_int_eq(chmod(path, 0700), 0);
	/* A symlinked subdirectory is refused by a peek below a 0700 store
	 * too (openat2 resolves no link anywhere). */
	snprintf(other, sizeof(other), "%s/sources-moved", fixture_store);
	ck_assert_int_eq(rename(path, other), 0);
	ck_assert_int_eq(symlink("sources-moved", path), 0);
	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_peek_source(st, "203.0.113.9", &slot), STORE_ESYMLINK);
	store_close(st);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rename(other, path), 0);
	ck_assert_int_eq(count_tree(), n);
}
END_TEST

/* Peeks racing commits never see a torn record: every peek succeeds with a
 * whole record. (The step seen is not asserted to grow: a peek preempted
 * between its reads of the two slots while two commits complete can read
 * an older one, which a lock-free read is allowed to.) */
START_TEST(peek_races_commits)
{
	struct otp_token t = totp_token();
	static struct store_record rec;
	struct store *st = NULL;
	char path[PATH_MAX];
	bool large = _i == 1;
	int status, peeks = 0;
	pid_t pid;

	ck_assert_int_eq(store_open(fixture_store, &st), STORE_OK);
	ck_assert_int_eq(store_enroll(st, "alice", &t, false, 1), STORE_OK);
	/* Small: each slot within one page. Large (about 5 KiB): a slot
	 * spans two pages, so a reader can see one page new, one old. Slot B
	 * written either way. */
	if (large)
		grow_alice(st);
	commit_step(st, 0);
	path_of(path, sizeof(path), "users", "alice");
	ck_assert_int_gt(file_size(path), STORE_RECORD_MAX + (large ? 4096 : 0));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store *cst = NULL;
		uint64_t i;

		if (store_open(fixture_store, &cst) != STORE_OK)
			_exit(1);
		for (i = 1; i <= 3000; i++) {
			struct store_handle *h = NULL;

			if (store_lock_user(cst, "alice", &h) != STORE_OK)
				_exit(2);
			store_record(h)->last_step = i;
			if (store_commit(h) != STORE_OK)
				_exit(3);
			store_unlock(h);
		}
		_exit(0);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		ck_assert_int_eq(store_peek_user(st, "alice", &rec), STORE_OK);
		ck_assert_uint_le(rec.last_step, 3000);
		ck_assert_uint_eq(rec.n_history, large ? STORE_MAX_HISTORY : 0);
		ck_assert_uint_eq(rec.n_zones, large ? STORE_MAX_ZONES : 0);
		ck_assert(rec.has_token);
		store_record_wipe(&rec);
		peeks++;
	}
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_gt(peeks, 0);
	ck_assert_uint_eq(step_of(st), 3000);
	store_close(st);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");
	TCase *big = tcase_create("scale");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, format_extremes);
	tcase_add_test(tc, source_records);
	tcase_add_test(tc, trust_refusals);
	tcase_add_test(tc, corrupt_records);
	tcase_add_test(tc, hostile_names);
	tcase_add_test(tc, peek_creates_nothing);
	tcase_add_loop_test(tc, peek_races_commits, 0, 2);
	tcase_add_test(tc, parallel_same_code_one_wins);
	tcase_add_test(tc, parallel_wrong_codes_all_counted);
	tcase_add_test(tc, parallel_wrong_codes_deny_five);
	tcase_add_test(tc, killed_holder_releases);
	tcase_add_test(tc, lock_follows_replacement);
	tcase_add_test(tc, lock_follows_removal);
	tcase_add_test(tc, peek_then_replaced);
	tcase_add_test(tc, peek_unwritable_record);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(big, fixture_setup, fixture_teardown);
	tcase_add_test(big, many_records_one_open);
	tcase_set_timeout(big, 300);
	suite_add_tcase(s, big);
	return s;
}

TEST_MAIN(store_suite)
