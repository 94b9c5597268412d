/* test_policies.c - every shipped policy (each .conf in policies/, run from the repo
 * root) and the embedded default parse with no error at all. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "runner.h"

struct errors {
	int n;
};

/* Shown on stderr so that a failing policy says what is wrong with it. */
static void report(void *arg, const char *file, int line, const char *message)
{
	struct errors *e = arg;

	fprintf(stderr, "%s:%d: %s\n", file, line, message);
	e->n++;
}

START_TEST(test_shipped_policies)
{
	glob_t g;
	size_t checked = 0;

	ck_assert_int_eq(glob("policies/*.conf", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct errors e = { 0 };
		/* The language is under test here, not the checkout's modes. */
		struct policy_load_opts opts = { .diag = report, .diag_arg = &e, .skip_trust_check = true };
		struct policy *pol = NULL;
		int rv = policy_load(g.gl_pathv[i], &opts, &pol);

		ck_assert_msg(rv == 0 && e.n == 0, "%s: %d errors", g.gl_pathv[i], e.n);
		ck_assert_ptr_nonnull(pol);
		ck_assert_int_ge(pol->serial, 1);
		ck_assert_uint_ge(pol->n_rules, 1);
		policy_free(pol);
		checked++;
	}
	globfree(&g);
	ck_assert_uint_ge(checked, 1);
}
END_TEST

START_TEST(test_default_policy)
{
	struct errors e = { 0 };
	struct policy_load_opts opts = { .diag = report, .diag_arg = &e, .skip_trust_check = true };
	struct policy *pol = NULL;

	ck_assert_uint_gt(policy_default_len, 0);
	ck_assert_uint_eq(strlen(policy_default_text), policy_default_len);
	ck_assert_int_eq(policy_parse(policy_default_text, policy_default_len, "(default policy)",
				      &opts, &pol),
			 0);
	ck_assert_int_eq(e.n, 0);
	ck_assert_uint_ge(pol->n_rules, 1);
	/* The default must fail closed: whatever no rule names is denied. */
	ck_assert_int_eq(pol->rules[pol->n_rules - 1].action, GARDE_DENY);
	policy_free(pol);
}
END_TEST

/* Embedded byte for byte: the default cannot drift from the file. */
START_TEST(test_default_is_ministry)
{
	FILE *f = fopen("policies/ministry.conf", "rb");
	char *buf = malloc(policy_default_len + 2);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, policy_default_len + 2, f);
	fclose(f);
	ck_assert_uint_eq(n, policy_default_len);
	ck_assert_int_eq(memcmp(buf, policy_default_text, n), 0);
	free(buf);
}
END_TEST

static Suite *policies_suite(void)
{
	Suite *s = suite_create("policies");
	TCase *tc = tcase_create("shipped");

	tcase_add_test(tc, test_shipped_policies);
	tcase_add_test(tc, test_default_policy);
	tcase_add_test(tc, test_default_is_ministry);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(policies_suite)
