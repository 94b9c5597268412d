/* store_fixture.h - a temporary directory with a store path inside it, made
 * before and removed after each test of the store's suites. */
#ifndef GARDE_TEST_STORE_FIXTURE_H
#define GARDE_TEST_STORE_FIXTURE_H

extern char fixture_base[64]; /* the test's temporary directory */
extern char fixture_store[96]; /* "<base>/store", not made: store_open makes it */

/* Check fixtures (tcase_add_checked_fixture). */
void fixture_setup(void);
void fixture_teardown(void);

#endif
