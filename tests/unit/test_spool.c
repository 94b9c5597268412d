/* test_spool.c - the spool writer: atomic files in new/, modes, refusal of
 * untrusted directories, a full disk. Runs in temporary directories; the
 * owner and full-disk cases need root and say so when they cannot run. */
#define _GNU_SOURCE /* unshare, CLONE_NEWNS */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"
#include "spool.h"

#define ID1 "0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210"
#define REC "{\"event\":{\"id\":\"x\"}}"

struct spool_fixture {
	char base[64];  /* temporary directory */
	char spool[96]; /* base/spool, not created yet */
};

static void fixture_init(struct spool_fixture *fx)
{
	strcpy(fx->base, "/tmp/garde-spool-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx->base));
	snprintf(fx->spool, sizeof(fx->spool), "%s/spool", fx->base);
}

static void fixture_free(struct spool_fixture *fx)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->base);
	ck_assert_int_eq(system(cmd), 0);
}

/* Names in dir/sub, not counting . and .. */
static int entries(const char *dir, const char *sub)
{
	char path[256];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void assert_event_file(const char *spool, const char *id, const char *want)
{
	char path[256], got[SPOOL_MAX_RECORD + 1];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/new/%s.json", spool, id);
	ck_assert_uint_eq(mode_of(path), 0600);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, got, sizeof(got) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	got[n] = '\0';
	ck_assert_str_eq(got, want);
}

START_TEST(test_write_creates_and_publishes)
{
	struct spool_fixture fx;
	char path[256];
	size_t count = 99;

	fixture_init(&fx);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_OK);
	ck_assert_uint_eq(mode_of(fx.spool), 0700);
	snprintf(path, sizeof(path), "%s/tmp", fx.spool);
	ck_assert_uint_eq(mode_of(path), 0700);
	snprintf(path, sizeof(path), "%s/new", fx.spool);
	ck_assert_uint_eq(mode_of(path), 0700);
	assert_event_file(fx.spool, ID1, REC);
	ck_assert_int_eq(entries(fx.spool, "tmp"), 0);
	ck_assert_int_eq(entries(fx.spool, "new"), 1);
	ck_assert_int_eq(spool_count(fx.spool, &count), SPOOL_OK);
	ck_assert_uint_eq(count, 1);

	ck_assert_int_eq(spool_write(fx.spool, "{}", 2, ID2), SPOOL_OK);
	assert_event_file(fx.spool, ID2, "{}");
	ck_assert_int_eq(spool_count(fx.spool, &count), SPOOL_OK);
	ck_assert_uint_eq(count, 2);
	ck_assert_int_eq(entries(fx.spool, "tmp"), 0);
	fixture_free(&fx);
}
END_TEST

/* The host process's umask must not change the file's mode (the agent
 * relies on 0600) nor make an unsafe directory. */
START_TEST(test_mode_ignores_umask)
{
	struct spool_fixture fx;
	char path[160];

	fixture_init(&fx);
	umask(0277);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_OK);
	ck_assert_uint_eq(mode_of(fx.spool), 0700);
	snprintf(path, sizeof(path), "%s/new", fx.spool);
	ck_assert_uint_eq(mode_of(path), 0700);
	umask(0);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID2), SPOOL_OK);
	assert_event_file(fx.spool, ID1, REC);
	assert_event_file(fx.spool, ID2, REC);
	umask(022);
	fixture_free(&fx);
}
END_TEST

START_TEST(test_existing_id_not_replaced)
{
	struct spool_fixture fx;

	fixture_init(&fx);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_OK);
	ck_assert_int_eq(spool_write(fx.spool, "{}", 2, ID1), SPOOL_EEXIST);
	assert_event_file(fx.spool, ID1, REC);
	ck_assert_int_eq(entries(fx.spool, "tmp"), 0);
	fixture_free(&fx);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct spool_fixture fx;
	char big[SPOOL_MAX_RECORD + 1];
	char long_id[SPOOL_MAX_ID + 2];

	fixture_init(&fx);
	memset(big, 'x', sizeof(big));
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), "../x"), SPOOL_EINVAL);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ""), SPOOL_EINVAL);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), "ABCDEF"), SPOOL_EINVAL);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ".hidden"), SPOOL_EINVAL);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), NULL), SPOOL_EINVAL);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), long_id), SPOOL_EINVAL);
	long_id[SPOOL_MAX_ID] = '\0'; /* exactly the maximum is fine */
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), long_id), SPOOL_OK);
	ck_assert_int_eq(spool_write(fx.spool, REC, 0, ID1), SPOOL_EINVAL);
	ck_assert_int_eq(spool_write(fx.spool, big, sizeof(big), ID1), SPOOL_EINVAL);
	ck_assert_int_eq(spool_write(fx.spool, big, SPOOL_MAX_RECORD, ID1), SPOOL_OK);
	ck_assert_int_eq(spool_write(NULL, REC, strlen(REC), ID2), SPOOL_EINVAL);
	fixture_free(&fx);
}
END_TEST

START_TEST(test_missing_parent)
{
	struct spool_fixture fx;
	char path[160];

	fixture_init(&fx);
	snprintf(path, sizeof(path), "%s/no/such/spool", fx.base);
	ck_assert_int_eq(spool_write(path, REC, strlen(REC), ID1), SPOOL_ENOENT);
	fixture_free(&fx);
}
END_TEST

START_TEST(test_symlink_spool_refused)
{
	struct spool_fixture fx;
	char real[128];

	fixture_init(&fx);
	snprintf(real, sizeof(real), "%s/real", fx.base);
	ck_assert_int_eq(mkdir(real, 0700), 0);
	ck_assert_int_eq(symlink(real, fx.spool), 0);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_ESYMLINK);
	ck_assert_int_eq(entries(real, ""), 0); /* nothing created behind the link */
	fixture_free(&fx);
}
END_TEST

/* tmp/ as a link to a directory an attacker controls: refused, nothing
 * written there. */
START_TEST(test_symlink_tmp_refused)
{
	struct spool_fixture fx;
	char elsewhere[128], link[160];

	fixture_init(&fx);
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", fx.base);
	ck_assert_int_eq(mkdir(elsewhere, 0700), 0);
	ck_assert_int_eq(mkdir(fx.spool, 0700), 0);
	snprintf(link, sizeof(link), "%s/tmp", fx.spool);
	ck_assert_int_eq(symlink(elsewhere, link), 0);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_ESYMLINK);
	ck_assert_int_eq(entries(elsewhere, ""), 0);
	ck_assert_str_eq(spool_strerror(SPOOL_ESYMLINK),
			 "spool directory (or its tmp/ or new/) is a symbolic link (refused)");
	fixture_free(&fx);
}
END_TEST

START_TEST(test_writable_by_others_refused)
{
	struct spool_fixture fx;
	char path[160];

	fixture_init(&fx);
	ck_assert_int_eq(mkdir(fx.spool, 0700), 0);
	ck_assert_int_eq(chmod(fx.spool, 0770), 0);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_EMODE);
	ck_assert_int_eq(chmod(fx.spool, 0757), 0);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_EMODE);
	ck_assert_int_eq(entries(fx.spool, ""), 0);

	/* a group-writable new/ under a good spool */
	ck_assert_int_eq(chmod(fx.spool, 0700), 0);
	snprintf(path, sizeof(path), "%s/new", fx.spool);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(chmod(path, 0770), 0);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_EMODE);
	ck_assert_int_eq(entries(fx.spool, "new"), 0);
	ck_assert_int_eq(entries(fx.spool, "tmp"), 0);
	fixture_free(&fx);
}
END_TEST

START_TEST(test_other_owner_refused)
{
	struct spool_fixture fx;
	char path[160];

	if (geteuid() != 0) {
		printf("test_other_owner_refused: SKIPPED: needs root to chown to nobody\n");
		return;
	}
	fixture_init(&fx);
	ck_assert_int_eq(mkdir(fx.spool, 0700), 0);
	ck_assert_int_eq(chown(fx.spool, 65534, 65534), 0);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_EOWNER);
	ck_assert_int_eq(entries(fx.spool, ""), 0);

	/* tmp/ owned by another user under a good spool */
	ck_assert_int_eq(chown(fx.spool, 0, 0), 0);
	snprintf(path, sizeof(path), "%s/tmp", fx.spool);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(chown(path, 65534, 65534), 0);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_EOWNER);
	ck_assert_int_eq(entries(fx.spool, "tmp"), 0);
	fixture_free(&fx);
}
END_TEST

START_TEST(test_not_a_directory)
{
	struct spool_fixture fx;
	char path[160];
	int fd;

	fixture_init(&fx);
	fd = open(fx.spool, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_ETYPE);
	ck_assert_int_eq(unlink(fx.spool), 0);

	ck_assert_int_eq(mkdir(fx.spool, 0700), 0);
	snprintf(path, sizeof(path), "%s/new", fx.spool);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_ETYPE);
	fixture_free(&fx);
}
END_TEST

START_TEST(test_count)
{
	struct spool_fixture fx;
	char path[192];
	size_t count = 99;
	int fd;

	fixture_init(&fx);
	ck_assert_int_eq(spool_count(fx.spool, &count), SPOOL_ENOENT);
	ck_assert_uint_eq(count, 0);
	ck_assert_int_eq(mkdir(fx.spool, 0700), 0); /* no new/ yet */
	ck_assert_int_eq(spool_count(fx.spool, &count), SPOOL_ENOENT);
	ck_assert_int_eq(entries(fx.spool, ""), 0); /* count creates nothing */

	ck_assert_int_eq(spool_write(fx.spool, REC, strlen(REC), ID1), SPOOL_OK);
	/* a dot file and a file without .json are not events */
	snprintf(path, sizeof(path), "%s/new/.partial.json", fx.spool);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/new/README", fx.spool);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(spool_count(fx.spool, &count), SPOOL_OK);
	ck_assert_uint_eq(count, 1);

	ck_assert_int_eq(chmod(fx.spool, 0777), 0);
	ck_assert_int_eq(spool_count(fx.spool, &count), SPOOL_EMODE);
	fixture_free(&fx);
}
END_TEST

/* A tiny tmpfs, filled: the write reports "disk full" and leaves no file in
 * tmp/ or new/; once space is back, writing works again. The mount lives in
 * a private mount namespace of this (forked) test, so a failed assertion
 * cannot leave it behind. */
START_TEST(test_disk_full)
{
	struct spool_fixture fx;
	char mnt[96], spool[128], filler[128], chunk[4096];
	size_t count = 0;
	int fd, rv, private_ns;

	fixture_init(&fx);
	snprintf(mnt, sizeof(mnt), "%s/mnt", fx.base);
	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	private_ns = unshare(CLONE_NEWNS) == 0 &&
		     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0700") != 0) {
		printf("test_disk_full: SKIPPED: cannot mount a tmpfs here (%s)\n",
		       strerror(errno));
		fixture_free(&fx);
		return;
	}
	snprintf(spool, sizeof(spool), "%s/spool", mnt);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);

	ck_assert_int_eq(spool_write(spool, REC, strlen(REC), ID1), SPOOL_OK);
	fd = open(filler, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	memset(chunk, 'f', sizeof(chunk));
	while (write(fd, chunk, sizeof(chunk)) > 0)
		;
	ck_assert_int_eq(errno, ENOSPC);
	/* the last page may hold a partial chunk: fill it byte by byte */
	while (write(fd, chunk, 1) > 0)
		;
	close(fd);

	memset(chunk, 'e', 2000);
	rv = spool_write(spool, chunk, 2000, ID2);
	ck_assert_int_eq(rv, SPOOL_ENOSPC);
	ck_assert_str_eq(spool_strerror(rv), "disk full");
	ck_assert_int_eq(entries(spool, "tmp"), 0);
	ck_assert_int_eq(entries(spool, "new"), 1);
	ck_assert_int_eq(spool_count(spool, &count), SPOOL_OK);
	ck_assert_uint_eq(count, 1);
	assert_event_file(spool, ID1, REC);

	ck_assert_int_eq(unlink(filler), 0);
	ck_assert_int_eq(spool_write(spool, chunk, 2000, ID2), SPOOL_OK);
	ck_assert_int_eq(spool_count(spool, &count), SPOOL_OK);
	ck_assert_uint_eq(count, 2);

	ck_assert_int_eq(umount2(mnt, private_ns ? MNT_DETACH : 0), 0);
	fixture_free(&fx);
}
END_TEST

static Suite *spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_write_creates_and_publishes);
	tcase_add_test(tc, test_mode_ignores_umask);
	tcase_add_test(tc, test_existing_id_not_replaced);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_missing_parent);
	tcase_add_test(tc, test_symlink_spool_refused);
	tcase_add_test(tc, test_symlink_tmp_refused);
	tcase_add_test(tc, test_writable_by_others_refused);
	tcase_add_test(tc, test_other_owner_refused);
	tcase_add_test(tc, test_not_a_directory);
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_disk_full);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(spool_suite)
