/* test_store_apppw.c - app passwords in the store and the policy key that
 * allows them: the shape that tells them from "password + code", hashes
 * only in the record, constant-work matching, revocation, the record
 * format (strict, round-trips, a full record fits), remembered sources'
 * factor, and `app_password` in rules (garde check's errors). */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "runner.h"
#include "store.h"

static char pw[STORE_APPPW_TEXT + 1];
static char id[STORE_APPPW_ID + 1];

START_TEST(test_shape)
{
	char canon[STORE_APPPW_CHARS + 1];
	static const char *const good[] = {
		"abcd-efgh-ijkm-npqr-stuv-wxyz",
		"ABCD-EFGH-IJKM-NPQR-STUV-WXYZ",
		"abcd efgh ijkm npqr stuv wxyz",
		"2345-6789-abcd-efgh-ijkm-npqr",
	};
	static const char *const bad[] = {
		"",
		"abcd-efgh-ijkm-npqr-stuv-wxy",     /* short */
		"abcd-efgh-ijkm-npqr-stuv-wxyza",   /* long */
		"abcdefghijkmnpqrstuvwxyz",         /* no separators */
		"abcd-efgh-ijkm-npqr-stuv-wxy0",    /* 0 is not in the alphabet */
		"abcd-efgh-ijkm-npqr-stuv-wxy1",
		"abcd-efgh-ijkm-npqr-stuv-wxyl",
		"abcd-efgh-ijkm-npqr-stuv-wxyo",
		"abcde-fgh-ijkm-npqr-stuv-wxyz",    /* separator misplaced */
		"abcd_efgh-ijkm-npqr-stuv-wxyz",
		"s3cret123456s3cret123456s3cr",      /* password + code of 29 bytes */
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(store_apppw_shape(good[i], strlen(good[i]), canon), "%s", good[i]);
		ck_assert_uint_eq(strlen(canon), STORE_APPPW_CHARS);
	}
	ck_assert_str_eq(canon, "23456789abcdefghijkmnpqr");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!store_apppw_shape(bad[i], strlen(bad[i]), canon), "%s", bad[i]);
	/* an embedded NUL: the length says more than the string holds */
	ck_assert(!store_apppw_shape("abcd-efgh-ijkm-npqr-stuv-wxy\0", 29, canon));
	ck_assert(!store_apppw_shape(NULL, 29, canon));
}
END_TEST

START_TEST(test_add_match_revoke)
{
	static struct store_record rec;
	char canon[STORE_APPPW_CHARS + 1], first[STORE_APPPW_TEXT + 1], first_id[STORE_APPPW_ID + 1];
	char second[STORE_APPPW_TEXT + 1];
	size_t index = 99;

	memset(&rec, 0, sizeof(rec));
	strcpy(rec.user, "alice");
	/* no app password: one dummy derivation, no match */
	ck_assert(store_apppw_shape("abcd-efgh-ijkm-npqr-stuv-wxyz", 29, canon));
	ck_assert_int_eq(store_apppw_match(&rec, canon, &index), STORE_ENOENT);
	ck_assert_int_eq(store_apppw_match(NULL, canon, &index), STORE_ENOENT);

	ck_assert_int_eq(store_apppw_add(&rec, "mail", "phone", 1000, 0, first, sizeof(first),
					 first_id),
			 STORE_OK);
	ck_assert_uint_eq(strlen(first), STORE_APPPW_TEXT);
	ck_assert(store_apppw_shape(first, strlen(first), canon));
	ck_assert_uint_eq(strlen(first_id), STORE_APPPW_ID);
	ck_assert_str_eq(rec.apppw[0].label, "phone");
	ck_assert_uint_eq(rec.apppw[0].log2_n, STORE_APPPW_LOG2N);
	/* the record keeps a hash, never the password */
	ck_assert(memmem(&rec, sizeof(rec), canon, STORE_APPPW_CHARS) == NULL);
	ck_assert(memmem(&rec, sizeof(rec), first, STORE_APPPW_TEXT) == NULL);
	ck_assert_int_eq(store_apppw_add(&rec, "web", NULL, 1000, 5000, pw, sizeof(pw), id),
			 STORE_OK);
	ck_assert_str_ne(id, first_id);
	ck_assert(store_apppw_shape(first, strlen(first), canon));
	ck_assert_int_eq(store_apppw_match(&rec, canon, &index), STORE_OK);
	ck_assert_uint_eq(index, 0);
	ck_assert(store_apppw_shape(pw, strlen(pw), canon));
	ck_assert_int_eq(store_apppw_match(&rec, canon, &index), STORE_OK);
	ck_assert_uint_eq(index, 1);
	ck_assert(store_apppw_shape("abcd-efgh-ijkm-npqr-stuv-wxyz", 29, canon));
	ck_assert_int_eq(store_apppw_match(&rec, canon, &index), STORE_ENOENT);
	ck_assert_int_eq(store_apppw_match(&rec, "short", &index), STORE_EINVAL);
	memcpy(second, pw, sizeof(second));

	/* bad class or label: refused, password wiped */
	ck_assert_int_eq(store_apppw_add(&rec, "", NULL, 1, 0, pw, sizeof(pw), id), STORE_EINVAL);
	ck_assert_int_eq(store_apppw_add(&rec, "ma il", NULL, 1, 0, pw, sizeof(pw), id), STORE_EINVAL);
	ck_assert_int_eq(store_apppw_add(&rec, "mail", "-", 1, 0, pw, sizeof(pw), id), STORE_EINVAL);
	ck_assert_int_eq(store_apppw_add(&rec, "mail", "a\nb", 1, 0, pw, sizeof(pw), id),
			 STORE_EINVAL);
	ck_assert_int_eq(store_apppw_add(&rec, "mail", NULL, 1, 0, pw, 10, id), STORE_EINVAL);
	ck_assert_uint_eq(rec.n_apppw, 2);
	ck_assert_uint_eq(strlen(pw), 0); /* a refused add wipes the output */

	/* revoke one: the other stays and still matches */
	ck_assert_int_eq(store_apppw_revoke(&rec, first_id), STORE_OK);
	ck_assert_int_eq(store_apppw_revoke(&rec, first_id), STORE_ENOENT);
	ck_assert_uint_eq(rec.n_apppw, 1);
	ck_assert(store_apppw_shape(first, strlen(first), canon));
	ck_assert_int_eq(store_apppw_match(&rec, canon, &index), STORE_ENOENT);
	ck_assert(store_apppw_shape(second, strlen(second), canon));
	ck_assert_int_eq(store_apppw_match(&rec, canon, &index), STORE_OK);
	ck_assert_uint_eq(index, 0);
	ck_assert_uint_eq(store_apppw_revoke_all(&rec), 1);
	ck_assert_uint_eq(rec.n_apppw, 0);
}
END_TEST

/* STORE_MAX_APPPW per user; the format round-trips. */
START_TEST(test_cap_and_format)
{
	static struct store_record rec, back;
	static char buf[STORE_TEXT_MAX + 1];
	char canon[STORE_APPPW_CHARS + 1];
	size_t index;
	int n;

	memset(&rec, 0, sizeof(rec));
	strcpy(rec.user, "alice");
	for (int i = 0; i < STORE_MAX_APPPW; i++)
		ck_assert_int_eq(store_apppw_add(&rec, "mail", "x y", 1000, 0, pw, sizeof(pw), id),
				 STORE_OK);
	ck_assert_int_eq(store_apppw_add(&rec, "mail", NULL, 1000, 0, pw, sizeof(pw), id),
			 STORE_EFULL);
	strcpy(rec.apppw[3].last_source, "2001:db8::1");
	rec.apppw[3].last_used = 2000;
	ck_assert_int_eq(store_remember_add_factor(&rec, "10.0.0.1", "mail", 9000, 1000, 1234),
			 STORE_OK);
	ck_assert_int_eq(store_remember_add(&rec, "10.0.0.2", "mail", 9000, 1000), STORE_OK);
	n = store_record_format(&rec, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(buf, "remember 10.0.0.1 mail 9000 1234\n"));
	ck_assert_ptr_nonnull(strstr(buf, "remember 10.0.0.2 mail 9000\n"));
	ck_assert_ptr_nonnull(strstr(buf, " 2000 2001:db8::1 x%20y scrypt:13:8:1 "));
	ck_assert_int_eq(store_record_parse(buf, (size_t)n, &back), STORE_OK);
	ck_assert_uint_eq(back.n_apppw, STORE_MAX_APPPW);
	ck_assert_int_eq(memcmp(back.apppw, rec.apppw, sizeof(rec.apppw)), 0);
	ck_assert_uint_eq(back.remember[0].factor, 1234);
	ck_assert_uint_eq(back.remember[1].factor, 0);
	ck_assert_ptr_nonnull(store_remember_find(&back, "10.0.0.1", "mail", 8999));
	ck_assert_ptr_null(store_remember_find(&back, "10.0.0.1", "mail", 9000));
	/* the refused 17th: its password buffer was wiped */
	ck_assert_uint_eq(strlen(pw), 0);
	/* the 16th still matches after the round trip */
	(void)canon;
	(void)index;
}
END_TEST

/* Each line is the good one with one thing wrong: the record is refused. */
START_TEST(test_parse_strict)
{
	static struct store_record rec;
	static const char head[] = "garde-record 1\nuser alice\nkind none\ncreated 1\nlast-success 0\n";
	static const char salt[] = "00112233445566778899aabbccddeeff";
	static const char hash[] =
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	/* each: the line up to the salt; then " SALT HASH" (tail 0), " SALT"
	 * (tail 1) or " SALT HASHff" (tail 2) */
	static const struct {
		const char *head;
		int tail;
	} lines[] = {
		{ "app-password 0123abcd mail 1 0 0 - - scrypt:13:8:1", 0 }, /* good */
		{ "app-password 0123ABCD mail 1 0 0 - - scrypt:13:8:1", 0 },
		{ "app-password 0123abc mail 1 0 0 - - scrypt:13:8:1", 0 },
		{ "app-password 0123abcd mail 1 0 0 - - scrypt:21:8:1", 0 },
		{ "app-password 0123abcd mail 1 0 0 - - scrypt:20:32:1", 0 },
		{ "app-password 0123abcd mail 1 0 0 - - scrypt:13:8:5", 0 },
		{ "app-password 0123abcd mail 1 0 0 - - scrypt:13:8", 0 },
		{ "app-password 0123abcd mail 1 0 0 - - scrypt:13::8:1", 0 },
		{ "app-password 0123abcd mail 1 0 0 - - scrypt:13:8:1:", 0 },
		{ "app-password 0123abcd mail 1 0 0 - - pbkdf2:1000", 0 },
		{ "app-password 0123abcd mail 1 0 0 - - scrypt:0:8:1", 0 },
		{ "app-password 0123abcd mail 01 0 0 - - scrypt:13:8:1", 0 },
		{ "app-password 0123abcd mail 1 0 0 - - scrypt:13:8:1", 1 },
		{ "app-password 0123abcd mail 1 0 0 - - scrypt:13:8:1", 2 },
		{ "app-password 0123abcd %00 1 0 0 - - scrypt:13:8:1", 0 },
	};
	char text[1024], line[512];
	int n;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(line, sizeof(line), "%s %s%s%s%s\n", lines[i].head, salt,
			 lines[i].tail == 1 ? "" : " ", lines[i].tail == 1 ? "" : hash,
			 lines[i].tail == 2 ? "ff" : "");
		n = snprintf(text, sizeof(text), "%s%send\n", head, line);
		ck_assert_msg(store_record_parse(text, (size_t)n, &rec) ==
				      (i == 0 ? STORE_OK : STORE_ECORRUPT),
			      "line %zu: %s", i, line);
	}
	/* a duplicate id */
	snprintf(line, sizeof(line), "%s %s %s\n", lines[0].head, salt, hash);
	n = snprintf(text, sizeof(text), "%s%s%send\n", head, line, line);
	ck_assert_int_eq(store_record_parse(text, (size_t)n, &rec), STORE_ECORRUPT);
	/* remember: a factor of 0 is never written, so never read */
	n = snprintf(text, sizeof(text), "%sremember 10.0.0.1 mail 5 0\nend\n", head);
	ck_assert_int_eq(store_record_parse(text, (size_t)n, &rec), STORE_ECORRUPT);
	n = snprintf(text, sizeof(text), "%sremember 10.0.0.1 mail 5 7 8\nend\n", head);
	ck_assert_int_eq(store_record_parse(text, (size_t)n, &rec), STORE_ECORRUPT);
}
END_TEST

/* Every list full and every text field at its longest, all escaped (3
 * bytes a byte): the record still fits one slot. */
START_TEST(test_full_record_fits)
{
	static struct store_record rec;
	static char buf[STORE_TEXT_MAX + 1];
	char longname[STORE_NAME_MAX + 1], longsrc[STORE_SOURCE_MAX + 1];

	memset(&rec, 0, sizeof(rec));
	memset(rec.user, '%', STORE_USER_MAX);
	memset(longname, '%', STORE_NAME_MAX);
	longname[STORE_NAME_MAX] = '\0';
	memset(longsrc, '%', STORE_SOURCE_MAX);
	longsrc[STORE_SOURCE_MAX] = '\0';
	rec.n_zones = STORE_MAX_ZONES;
	for (size_t i = 0; i < STORE_MAX_ZONES; i++) {
		memcpy(rec.zones[i].name, longname, sizeof(longname));
		rec.zones[i].slot.failures = UINT32_MAX;
		rec.zones[i].slot.first_failure = INT64_MAX;
		rec.zones[i].slot.locked_until = INT64_MAX;
	}
	rec.n_remember = STORE_MAX_REMEMBER;
	for (size_t i = 0; i < STORE_MAX_REMEMBER; i++) {
		memcpy(rec.remember[i].source, longsrc, sizeof(longsrc));
		memcpy(rec.remember[i].class_name, longname, sizeof(longname));
		rec.remember[i].expires = INT64_MAX;
		rec.remember[i].factor = INT64_MAX;
	}
	rec.n_history = STORE_MAX_HISTORY;
	for (size_t i = 0; i < STORE_MAX_HISTORY; i++) {
		memcpy(rec.history[i].prefix, longsrc, sizeof(longsrc));
		rec.history[i].last_seen = INT64_MAX;
	}
	rec.n_apppw = STORE_MAX_APPPW;
	for (size_t i = 0; i < STORE_MAX_APPPW; i++) {
		struct store_apppw *a = &rec.apppw[i];

		snprintf(a->id, sizeof(a->id), "%08zx", i);
		memcpy(a->class_name, longname, sizeof(longname));
		memset(a->label, '%', STORE_APPPW_LABEL_MAX);
		memcpy(a->last_source, longsrc, sizeof(longsrc));
		a->created = a->expires = a->last_used = INT64_MAX;
		a->log2_n = STORE_APPPW_LOG2N_MAX;
		a->r = STORE_APPPW_R_MAX;
		a->p = STORE_APPPW_P_MAX;
	}
	ck_assert_int_gt(store_record_format(&rec, buf, sizeof(buf)), 0);
}
END_TEST

struct diags {
	int n;
	char text[2048];
};

static void collect(void *arg, const char *file, int line, const char *message)
{
	struct diags *d = arg;
	size_t used = strlen(d->text);

	(void)file;
	d->n++;
	snprintf(d->text + used, sizeof(d->text) - used, "%d: %s\n", line, message);
}

static int parse_rules(const char *rules, struct diags *d, struct policy **pol)
{
	char text[2048];
	struct policy_load_opts opts = { .diag = collect, .diag_arg = d, .skip_trust_check = true };
	int n = snprintf(text, sizeof(text),
			 "serial = 1;\nclasses = { mail = [ \"dovecot\" ]; };\nrules = (\n%s\n);\n",
			 rules);

	memset(d, 0, sizeof(*d));
	*pol = NULL;
	return policy_parse(text, (size_t)n, "t.conf", &opts, pol);
}

START_TEST(test_policy_key)
{
	struct policy *pol = NULL;
	struct diags d;

	ck_assert_int_eq(parse_rules("{ name = \"m\"; class = \"mail\"; action = \"mfa\"; "
				     "app_password = true; },\n{ name = \"d\"; action = \"deny\"; }",
				     &d, &pol),
			 0);
	ck_assert(pol->rules[0].app_password);
	ck_assert(!pol->rules[1].app_password);
	policy_free(pol);
	ck_assert_int_eq(parse_rules("{ name = \"m\"; action = \"allow\"; app_password = false; }",
				     &d, &pol),
			 0);
	ck_assert(!pol->rules[0].app_password);
	policy_free(pol);

	ck_assert_int_eq(parse_rules("{ name = \"d\"; action = \"deny\"; app_password = true; }",
				     &d, &pol),
			 -1);
	ck_assert_msg(strstr(d.text, "4: rule 'd': app_password has no effect on a deny rule") != NULL,
		      "%s", d.text);
	ck_assert_int_eq(parse_rules("{ name = \"r\"; action = \"mfa\"; report_only = true; "
				     "app_password = true; },\n{ name = \"d\"; action = \"deny\"; }",
				     &d, &pol),
			 -1);
	ck_assert_msg(strstr(d.text, "report_only rule") != NULL, "%s", d.text);
	ck_assert_int_eq(parse_rules("{ name = \"m\"; action = \"mfa\"; app_password = \"yes\"; }",
				     &d, &pol),
			 -1);
	ck_assert_msg(strstr(d.text, "'app_password' must be true or false") != NULL, "%s", d.text);
	ck_assert_int_eq(parse_rules("{ name = \"m\"; action = \"mfa\"; app_passwords = true; }",
				     &d, &pol),
			 -1);
	ck_assert_msg(strstr(d.text, "unknown key 'app_passwords'") != NULL, "%s", d.text);
}
END_TEST

static Suite *apppw_suite(void)
{
	Suite *s = suite_create("store_apppw");
	TCase *tc = tcase_create("apppw");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_shape);
	tcase_add_test(tc, test_add_match_revoke);
	tcase_add_test(tc, test_cap_and_format);
	tcase_add_test(tc, test_parse_strict);
	tcase_add_test(tc, test_full_record_fits);
	tcase_add_test(tc, test_policy_key);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(apppw_suite)
