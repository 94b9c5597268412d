/* runner.h - one main() for every Check test binary: each test_*.c defines
 * its suite with TEST_MAIN(suite_function). */
#ifndef GARDE_TEST_RUNNER_H
#define GARDE_TEST_RUNNER_H

#include <check.h>
#include <stdlib.h>

#define TEST_MAIN(make_suite)                                          \
	int main(void)                                                 \
	{                                                              \
		SRunner *runner = srunner_create(make_suite());        \
		int failed;                                            \
		srunner_run_all(runner, CK_NORMAL);                    \
		failed = srunner_ntests_failed(runner);                \
		srunner_free(runner);                                  \
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;      \
	}

#endif
