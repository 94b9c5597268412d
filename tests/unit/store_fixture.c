/* store_fixture.c - the store suites' temporary directory (store_fixture.h). */
#include "store_fixture.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

char fixture_base[64];
char fixture_store[96];

void fixture_setup(void)
{
	snprintf(fixture_base, sizeof(fixture_base), "/tmp/garde-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fixture_base));
	snprintf(fixture_store, sizeof(fixture_store), "%s/store", fixture_base);
}

void fixture_teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixture_base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fixture_base);
}
