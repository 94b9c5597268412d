/* test_journal.c - the event journal: append and read back, the hash chain
 * catching an edit and a deletion, a torn tail cut off on open, damage in
 * the middle refused, compaction that keeps the chain verifiable, one
 * writer at a time; and the JSON scanner the intake relies on. Runs in
 * temporary directories. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "jsonscan.h"
#include "runner.h"

struct jfix {
	char dir[64];
	char path[96];
};

static void jfix_init(struct jfix *f)
{
	strcpy(f->dir, "/tmp/garde-journal-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/journal", f->dir);
}

static void jfix_free(struct jfix *f)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct journal *open_ok(const char *path, char *note, size_t notelen)
{
	struct journal *j = NULL;
	char why[512];
	int rv = journal_open(path, &j, note, notelen, why, sizeof(why));

	ck_assert_msg(rv == JOURNAL_OK, "journal_open: %s", why);
	return j;
}

static void append_n(struct journal *j, int from, int n)
{
	char json[64];

	for (int i = from; i < from + n; i++) {
		uint64_t seq;
		snprintf(json, sizeof(json), "{\"event\":{\"id\":\"%032x\"},\"n\":%d}", i, i);
		ck_assert_int_eq(journal_append(j, json, strlen(json), &seq), JOURNAL_OK);
	}
	ck_assert_int_eq(journal_sync(j), JOURNAL_OK);
}

static void verify(const char *path, struct journal_verify *v)
{
	char why[512];

	ck_assert_int_eq(journal_verify(path, v, why, sizeof(why)), JOURNAL_OK);
}

/* Rewrites the file through a sed expression (tests edit it like an attacker). */
static void sed(const char *path, const char *expr)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "sed -i '%s' '%s'", expr, path);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_append_read_verify)
{
	struct jfix f;
	struct journal *j;
	struct journal_reader *r;
	struct journal_record rec;
	struct journal_verify v;
	char note[256], why[256];
	int n = 0;

	jfix_init(&f);
	j = open_ok(f.path, note, sizeof(note));
	ck_assert_str_eq(note, "");
	ck_assert_uint_eq(journal_last_seq(j), 0);
	append_n(j, 1, 3);
	ck_assert_uint_eq(journal_last_seq(j), 3);
	ck_assert_int_eq(journal_append(j, "a\nb", 3, NULL), JOURNAL_EINVAL);
	ck_assert_int_eq(journal_append(j, "", 0, NULL), JOURNAL_EINVAL);

	ck_assert_int_eq(journal_reader_open(f.path, &r, why, sizeof(why)), JOURNAL_OK);
	while (journal_reader_next(r, &rec) == 1) {
		n++;
		ck_assert_uint_eq(rec.seq, (uint64_t)n);
		ck_assert_uint_eq(rec.line, (uint64_t)n + 1);
		ck_assert(memmem(rec.json, rec.json_len, "\"n\":", 4) != NULL);
	}
	ck_assert_int_eq(n, 3);
	/* A reader at the end sees later appends. */
	append_n(j, 4, 1);
	ck_assert_int_eq(journal_reader_next(r, &rec), 1);
	ck_assert_uint_eq(rec.seq, 4);
	journal_reader_close(r);
	journal_close(j);

	verify(f.path, &v);
	ck_assert(!v.broken);
	ck_assert_uint_eq(v.records, 4);
	ck_assert_uint_eq(v.first_seq, 1);
	ck_assert_uint_eq(v.last_seq, 4);

	/* Reopened, the chain goes on from the last record. */
	j = open_ok(f.path, note, sizeof(note));
	ck_assert_uint_eq(journal_last_seq(j), 4);
	append_n(j, 5, 2);
	journal_close(j);
	verify(f.path, &v);
	ck_assert(!v.broken);
	ck_assert_uint_eq(v.records, 6);
	jfix_free(&f);
}
END_TEST

/* The privilege-separated reader: a read-only fd from the writer, read
 * through journal_reader_fdopen, sees the same records and later appends,
 * and cannot write. */
START_TEST(test_rdonly_fd_reader)
{
	struct jfix f;
	struct journal *j;
	struct journal_reader *r;
	struct journal_record rec;
	char note[256], why[256];
	int fd, n = 0;

	jfix_init(&f);
	j = open_ok(f.path, note, sizeof(note));
	append_n(j, 1, 3);
	fd = journal_open_rdonly(j);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	ck_assert_int_eq(write(fd, "x", 1), -1);
	ck_assert_int_eq(journal_reader_fdopen(fd, "journal (fd)", &r, why, sizeof(why)), JOURNAL_OK);
	while (journal_reader_next(r, &rec) == 1)
		ck_assert_uint_eq(rec.seq, (uint64_t)++n);
	ck_assert_int_eq(n, 3);
	append_n(j, 4, 2);
	ck_assert_int_eq(journal_reader_next(r, &rec), 1);
	ck_assert_uint_eq(rec.seq, 4);
	ck_assert_int_eq(journal_reader_next(r, &rec), 1);
	ck_assert_uint_eq(rec.seq, 5);
	ck_assert_int_eq(journal_reader_next(r, &rec), 0);
	journal_reader_close(r);
	journal_close(j);
	jfix_free(&f);
}
END_TEST

START_TEST(test_edit_detected)
{
	struct jfix f;
	struct journal *j;
	struct journal_verify v;
	char note[256];

	jfix_init(&f);
	j = open_ok(f.path, note, sizeof(note));
	append_n(j, 1, 5);
	journal_close(j);
	sed(f.path, "4s/\"n\":3/\"n\":9/"); /* line 4 = seq 3 */
	verify(f.path, &v);
	ck_assert(v.broken);
	ck_assert_uint_eq(v.broken_seq, 3);
	ck_assert_uint_eq(v.broken_line, 4);
	ck_assert_uint_eq(v.records, 2);
	ck_assert(strstr(v.why, "edited") != NULL);
	jfix_free(&f);
}
END_TEST

/* The attacker recomputes the edited record's own hash: the next record's
 * link still breaks. */
START_TEST(test_edit_with_rehash_detected)
{
	struct jfix f;
	struct journal *j;
	struct journal_verify v;
	struct journal_reader *r;
	struct journal_record rec;
	char note[256], why[256], json[128], line[512], hex[65];
	uint8_t prev[JOURNAL_HASH_LEN], h[JOURNAL_HASH_LEN];

	jfix_init(&f);
	j = open_ok(f.path, note, sizeof(note));
	append_n(j, 1, 3);
	journal_close(j);
	ck_assert_int_eq(journal_reader_open(f.path, &r, why, sizeof(why)), JOURNAL_OK);
	ck_assert_int_eq(journal_reader_next(r, &rec), 1);
	ck_assert_int_eq(journal_reader_next(r, &rec), 1); /* seq 2 */
	memcpy(prev, rec.prev, sizeof(prev));
	journal_reader_close(r);
	snprintf(json, sizeof(json), "{\"event\":{\"id\":\"%032x\"},\"n\":%d}", 2, 42);
	journal_hash(2, prev, json, strlen(json), h);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", h[i]);
	snprintf(line, sizeof(line), "3s/^2 \\([0-9a-f]*\\) [0-9a-f]* .*/2 \\1 %s %s/", hex, json);
	sed(f.path, line);
	verify(f.path, &v);
	ck_assert(v.broken);
	ck_assert_uint_eq(v.broken_seq, 3);
	ck_assert(strstr(v.why, "chain") != NULL);
	jfix_free(&f);
}
END_TEST

START_TEST(test_delete_detected)
{
	struct jfix f;
	struct journal *j;
	struct journal_verify v;
	char note[256];

	jfix_init(&f);
	j = open_ok(f.path, note, sizeof(note));
	append_n(j, 1, 5);
	journal_close(j);
	sed(f.path, "4d"); /* seq 3 */
	verify(f.path, &v);
	ck_assert(v.broken);
	ck_assert_uint_eq(v.broken_seq, 4);
	ck_assert(strstr(v.why, "deleted") != NULL);
	jfix_free(&f);
}
END_TEST

START_TEST(test_torn_tail_recovered)
{
	struct jfix f;
	struct journal *j;
	struct journal_verify v;
	char note[512], why[256];
	const char *torn = "4 00000000";
	struct stat st;
	off_t before;
	int fd;

	jfix_init(&f);
	j = open_ok(f.path, note, sizeof(note));
	append_n(j, 1, 3);
	journal_close(j);
	ck_assert_int_eq(stat(f.path, &st), 0);
	before = st.st_size;
	fd = open(f.path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, torn, strlen(torn)), (ssize_t)strlen(torn));
	close(fd);

	verify(f.path, &v);
	ck_assert(v.broken);
	ck_assert(strstr(v.why, "torn") != NULL);

	j = open_ok(f.path, note, sizeof(note));
	ck_assert_msg(strstr(note, "torn") != NULL, "note: %s", note);
	ck_assert_uint_eq(journal_last_seq(j), 3);
	ck_assert_int_eq(stat(f.path, &st), 0);
	ck_assert_int_eq(st.st_size, before);
	append_n(j, 4, 2);
	journal_close(j);
	verify(f.path, &v);
	ck_assert(!v.broken);
	ck_assert_uint_eq(v.records, 5);

	/* A torn header (a crash while creating the journal) starts it again. */
	fd = open(f.path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "garde-jou", 9), 9);
	close(fd);
	ck_assert_int_eq(journal_open(f.path, &j, note, sizeof(note), why, sizeof(why)), JOURNAL_OK);
	ck_assert(note[0] != '\0');
	journal_close(j);
	verify(f.path, &v);
	ck_assert(!v.broken);
	jfix_free(&f);
}
END_TEST

START_TEST(test_middle_damage_refused)
{
	struct jfix f;
	struct journal *j = NULL;
	char note[256], why[512];

	jfix_init(&f);
	j = open_ok(f.path, note, sizeof(note));
	append_n(j, 1, 4);
	journal_close(j);
	sed(f.path, "3s/.*/garbage/");
	ck_assert_int_eq(journal_open(f.path, &j, note, sizeof(note), why, sizeof(why)),
			 JOURNAL_EFORMAT);
	ck_assert_msg(strstr(why, ":3:") != NULL && strstr(why, "--verify") != NULL, "why: %s", why);
	jfix_free(&f);
}
END_TEST

START_TEST(test_trim_keeps_chain)
{
	struct jfix f;
	struct journal *j;
	struct journal_verify v;
	struct journal_trim t;
	struct journal_reader *r;
	struct journal_record rec;
	char note[256], why[256];
	uint64_t size_before;

	jfix_init(&f);
	j = open_ok(f.path, note, sizeof(note));
	append_n(j, 1, 10);
	/* Not past max_seq, however many bytes are wanted. */
	size_before = journal_size(j);
	ck_assert_int_eq(journal_trim(j, 6, UINT64_MAX, &t, why, sizeof(why)), JOURNAL_OK);
	ck_assert_uint_eq(t.removed, 6);
	ck_assert_uint_eq(t.upto_seq, 6);
	ck_assert_uint_eq(journal_anchor_seq(j), 6);
	ck_assert_uint_lt(journal_size(j), size_before);
	verify(f.path, &v);
	ck_assert(!v.broken);
	ck_assert_uint_eq(v.anchor_seq, 6);
	ck_assert_uint_eq(v.first_seq, 7);
	ck_assert_uint_eq(v.records, 4);

	/* Appends after a trim go to the new file and chain on. */
	append_n(j, 11, 3);
	ck_assert_uint_eq(journal_last_seq(j), 13);
	verify(f.path, &v);
	ck_assert(!v.broken);
	ck_assert_uint_eq(v.records, 7);

	/* want_bytes: one record's worth removes exactly one. */
	ck_assert_int_eq(journal_trim(j, 13, 1, &t, why, sizeof(why)), JOURNAL_OK);
	ck_assert_uint_eq(t.removed, 1);
	ck_assert_uint_eq(t.upto_seq, 7);
	/* The shift maps a kept record's old offset to its new one. */
	ck_assert_int_eq(journal_reader_open(f.path, &r, why, sizeof(why)), JOURNAL_OK);
	ck_assert_int_eq(journal_reader_next(r, &rec), 1);
	ck_assert_uint_eq(rec.seq, 8);
	ck_assert_uint_eq(rec.offset, journal_header_len(j));
	journal_reader_close(r);
	journal_close(j);
	verify(f.path, &v);
	ck_assert(!v.broken);
	ck_assert_uint_eq(v.first_seq, 8);

	/* Deleting the first record after the anchor is still caught. */
	sed(f.path, "2d");
	verify(f.path, &v);
	ck_assert(v.broken);
	ck_assert(strstr(v.why, "deleted") != NULL);
	jfix_free(&f);
}
END_TEST

START_TEST(test_one_writer)
{
	struct jfix f;
	struct journal *j, *j2 = NULL;
	char note[256], why[256];

	jfix_init(&f);
	j = open_ok(f.path, note, sizeof(note));
	ck_assert_int_eq(journal_open(f.path, &j2, note, sizeof(note), why, sizeof(why)),
			 JOURNAL_EBUSY);
	ck_assert_ptr_null(j2);
	journal_close(j);
	j = open_ok(f.path, note, sizeof(note));
	journal_close(j);
	/* A symbolic link is refused. */
	char link[128];
	snprintf(link, sizeof(link), "%s/link", f.dir);
	ck_assert_int_eq(symlink(f.path, link), 0);
	ck_assert_int_eq(journal_open(link, &j2, note, sizeof(note), why, sizeof(why)),
			 JOURNAL_ETRUST);
	jfix_free(&f);
}
END_TEST

START_TEST(test_jsonscan)
{
	static const char good[] = "{\"@timestamp\":\"t\",\"event\":{\"id\":\"ab\",\"n\":[1,{\"x\":2}]},"
				   "\"user\":{\"name\":\"\\u00e9\\\"x\"},\"g\":{\"d\":-12}}";
	static const char *const bad[] = {
		"", "[]", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":\"\x01\"}", "{\"a\":\"\xc3\"}",
		"{\"a\":01}", "{} {}", "{\"a\":tru}", "{\"a\":\"\\x\"}",
	};
	char out[64];
	int64_t v;
	size_t off;
	const char *why;

	ck_assert_int_eq(jsonscan_validate(good, strlen(good), &off, &why), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(jsonscan_validate(bad[i], strlen(bad[i]), &off, &why) != 0, "%s", bad[i]);
	ck_assert_int_eq(jsonscan_get_str(good, strlen(good), "event.id", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "ab");
	ck_assert_int_eq(jsonscan_get_str(good, strlen(good), "user.name", out, sizeof(out)), 1);
	ck_assert_str_eq(out, "\xc3\xa9\"x");
	ck_assert_int_eq(jsonscan_get_str(good, strlen(good), "user.nope", out, sizeof(out)), 0);
	ck_assert_int_eq(jsonscan_get_str(good, strlen(good), "event.id", out, 2), -1);
	ck_assert_int_eq(jsonscan_get_int(good, strlen(good), "g.d", &v), 1);
	ck_assert_int_eq(v, -12);

	/* Nesting is capped: a hostile file cannot exhaust the stack. */
	char deep[200];
	memset(deep, '[', sizeof(deep));
	deep[0] = '{';
	ck_assert_int_ne(jsonscan_validate(deep, sizeof(deep), &off, &why), 0);
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_append_read_verify);
	tcase_add_test(tc, test_rdonly_fd_reader);
	tcase_add_test(tc, test_edit_detected);
	tcase_add_test(tc, test_edit_with_rehash_detected);
	tcase_add_test(tc, test_delete_detected);
	tcase_add_test(tc, test_torn_tail_recovered);
	tcase_add_test(tc, test_middle_damage_refused);
	tcase_add_test(tc, test_trim_keeps_chain);
	tcase_add_test(tc, test_one_writer);
	tcase_add_test(tc, test_jsonscan);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(journal_suite)
