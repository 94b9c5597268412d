/* explain.h - printing a decision for `garde explain` (text and JSON). */
#ifndef GARDE_EXPLAIN_H
#define GARDE_EXPLAIN_H

#include <stdbool.h>
#include <stdio.h>

#include "decide.h"

struct explain_view {
	const struct policy *pol;
	const struct login_ctx *ctx;
	const struct decision *dec;
	const enum decide_condition *trace;
	size_t n_traced;
	bool groups_from_nss;
};

/* Return 0, or -1 when the output could not be written. */
int explain_print_text(FILE *out, const struct explain_view *view);
int explain_print_json(FILE *out, const struct explain_view *view);

#endif
