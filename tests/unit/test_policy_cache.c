/* test_policy_cache.c - the policy snapshot: used when it matches the policy
 * file exactly, ignored (and rewritten) when stale or damaged, and deciding
 * exactly as the parsed policy does. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide.h"
#include "policy_cache.h"
#include "runner.h"
#include "trust.h"

static char dir[64], policy_path[128];

static void write_policy(unsigned n_prefixes, int serial)
{
	FILE *f = fopen(policy_path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "serial = %d;\ntimezone = \"Europe/Paris\";\nnetworks = {\n big = [", serial);
	for (unsigned i = 0; i < n_prefixes; i++)
		fprintf(f, "%s\"10.%u.%u.0/24\"", i ? ", " : "", (i >> 8) & 0xff, i & 0xff);
	fprintf(f, ", \"fd00:20::/48\" ];\n lan = [ \"192.168.0.0/16\" ];\n};\n"
		   "classes = { admin = [ \"sshd\" ]; };\n"
		   "rules = (\n"
		   " { name = \"night\"; hours = [ \"* 22:00-06:00\" ]; action = \"deny\"; report_only = true; },\n"
		   " { name = \"lan\"; from = [ \"lan\", \"local\" ]; class = \"admin\"; action = \"mfa\"; },\n"
		   " { name = \"big\"; from = [ \"big\" ]; users = [ \"alice\", \"bob\" ]; action = \"allow\"; },\n"
		   " { name = \"default\"; action = \"deny\"; message = \"no\"; }\n);\n");
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(policy_path, 0600), 0);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/garde-cache.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(policy_path, sizeof(policy_path), "%s/policy.conf", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct policy *load(void)
{
	struct policy *pol = NULL;
	int dirfd = trust_opendir(dir);

	ck_assert_int_ge(dirfd, 0);
	ck_assert_int_eq(policy_cache_load(policy_path, dirfd, NULL, &pol, NULL), 0);
	close(dirfd);
	return pol;
}

static void same_decisions(const struct policy *a, const struct policy *b)
{
	static const char *const users[] = { "alice", "carol" };
	static const char *const services[] = { "sshd", "imap" };

	srandom(7);
	for (int i = 0; i < 20000; i++) {
		char rhost[64];
		struct login_ctx ctx = { .user = users[i & 1], .service = services[(i >> 1) & 1] };
		struct decision da, db;
		switch (i % 4) {
		case 0: snprintf(rhost, sizeof(rhost), "10.%ld.%ld.9", random() % 48, random() % 256); break;
		case 1: snprintf(rhost, sizeof(rhost), "192.168.%ld.1", random() % 256); break;
		case 2: snprintf(rhost, sizeof(rhost), "fd00:20::%lx", random() % 65536); break;
		default: rhost[0] = '\0'; break;
		}
		ck_assert_int_eq(source_parse(rhost, &ctx.source), 0);
		ctx.now = 1790000000 + random() % 200000;
		decide(a, &ctx, &da, NULL, NULL);
		decide(b, &ctx, &db, NULL, NULL);
		ck_assert_int_eq(da.action, db.action);
		ck_assert_int_eq(da.rule == NULL, db.rule == NULL);
		if (da.rule != NULL)
			ck_assert_str_eq(da.rule->name, db.rule->name);
		ck_assert_str_eq(da.zone, db.zone);
		ck_assert_uint_eq(da.n_report_only, db.n_report_only);
	}
}

START_TEST(snapshot_used_and_equal)
{
	struct policy *parsed, *mapped;

	write_policy(10000, 5);
	parsed = load(); /* first load parses and writes the snapshot */
	ck_assert_ptr_null(parsed->snapshot_map);
	mapped = load();
	ck_assert_ptr_nonnull(mapped->snapshot_map);
	ck_assert_int_eq(mapped->serial, 5);
	ck_assert_uint_eq(mapped->n_rules, 4);
	ck_assert_str_eq(mapped->rules[3].message, "no");
	ck_assert_uint_eq(netset_count(mapped->networks[0].set), 10001);
	same_decisions(parsed, mapped);
	policy_free(parsed);
	policy_free(mapped);
}
END_TEST

START_TEST(stale_snapshot_ignored)
{
	struct policy *pol;

	write_policy(10, 1);
	policy_free(load());
	/* A new file (another inode, same path) must not reuse the snapshot. */
	ck_assert_int_eq(unlink(policy_path), 0);
	write_policy(10, 2);
	pol = load();
	ck_assert_ptr_null(pol->snapshot_map);
	ck_assert_int_eq(pol->serial, 2);
	policy_free(pol);
	pol = load();
	ck_assert_ptr_nonnull(pol->snapshot_map);
	ck_assert_int_eq(pol->serial, 2);
	policy_free(pol);
	/* A chmod changes ctime: stale as well. */
	ck_assert_int_eq(chmod(policy_path, 0640), 0);
	pol = load();
	ck_assert_ptr_null(pol->snapshot_map);
	policy_free(pol);
}
END_TEST

static char *snapshot_file(void)
{
	static char path[512];
	DIR *d = opendir(dir);
	struct dirent *e;

	path[0] = '\0';
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "policy-", 7) == 0 && strstr(e->d_name, ".snap") != NULL &&
		    strstr(e->d_name, ".tmp") == NULL)
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
	closedir(d);
	ck_assert(path[0] != '\0');
	return path;
}

START_TEST(damaged_snapshot_ignored)
{
	struct policy *pol;
	struct stat st;
	char *snap;
	int fd;

	write_policy(300, 3);
	policy_free(load());
	snap = snapshot_file();
	ck_assert_int_eq(stat(snap, &st), 0);
	/* Truncated at every 97th length, then bytes flipped: never a crash,
	 * always the right policy (parsed again when the snapshot is unusable). */
	for (off_t cut = 1; cut < st.st_size; cut += 97) {
		ck_assert_int_eq(truncate(snap, cut), 0);
		pol = load();
		ck_assert_int_eq(pol->serial, 3);
		policy_free(pol);
		snap = snapshot_file(); /* rewritten whole by that load */
	}
	srandom(11);
	for (int i = 0; i < 300; i++) {
		unsigned char byte;
		off_t at;
		fd = open(snap, O_RDWR);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(fstat(fd, &st), 0);
		at = random() % st.st_size;
		ck_assert_int_eq(pread(fd, &byte, 1, at), 1);
		byte ^= (unsigned char)(1u << (random() % 8));
		ck_assert_int_eq(pwrite(fd, &byte, 1, at), 1);
		close(fd);
		pol = load();
		ck_assert_int_ge(pol->n_rules, 1);
		policy_free(pol);
		snap = snapshot_file();
	}
}
END_TEST

START_TEST(untrusted_snapshot_ignored)
{
	struct policy *pol;
	char *snap;

	write_policy(10, 4);
	policy_free(load());
	snap = snapshot_file();
	ck_assert_int_eq(chmod(snap, 0666), 0);
	pol = load();
	ck_assert_ptr_null(pol->snapshot_map); /* group/other-writable: not read */
	policy_free(pol);
}
END_TEST

static Suite *cache_suite(void)
{
	Suite *s = suite_create("policy_cache");
	TCase *tc = tcase_create("snapshot");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, snapshot_used_and_equal);
	tcase_add_test(tc, stale_snapshot_ignored);
	tcase_add_test(tc, damaged_snapshot_ignored);
	tcase_add_test(tc, untrusted_snapshot_ignored);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(cache_suite)
