/* policy_lex.c - checks on the policy text that must happen before
 * libconfig parses it, because libconfig 1.5 cannot be trusted with it:
 * it opens the file named by any @include directive (any file the process
 * can read), and it stores integer literals with atoi(), so 4294967297
 * reads as 1 and would pass a range check. Neither is visible after
 * parsing. It also accepts an unclosed comment, dropping what follows. */
#include "policy.h"
#include "policy_internal.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define POLICY_MAX_TOKEN_SHOWN 40

/* NUL bytes and @include. The @include search ignores strings and comments
 * on purpose: being stricter than the lexer cannot be fooled by a
 * difference between this scanner and libconfig's. */
static void policy_scan_raw(struct policy_ctx *ctx, const char *text, size_t len)
{
	int line = 1;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n') {
			line++;
		} else if (text[i] == '\0') {
			policy_err(ctx, line, "the policy contains a NUL byte");
			return;
		} else if (text[i] == '@' && len - i > 7 && strncasecmp(text + i + 1, "include", 7) == 0) {
			policy_err(ctx, line, "@include is not allowed");
		}
	}
}

static bool policy_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool policy_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool policy_is_xdigit(char c)
{
	return policy_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* True when digits (with an optional sign already skipped) fit below limit
 * (limit is the largest magnitude allowed). */
static bool policy_fits(const char *p, size_t n, int base, unsigned long long limit)
{
	unsigned long long v = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned d = policy_is_digit(p[i]) ? (unsigned)(p[i] - '0')
						  : (unsigned)((p[i] | 0x20) - 'a' + 10);
		if (v > (limit - d) / (unsigned)base)
			return false;
		v = v * (unsigned)base + d;
	}
	return true;
}

/* At a number token (libconfig's integer, integer64, hex, hex64 or float
 * rules, longest match): reports an integer out of its type's range and
 * returns the token's length. */
static size_t policy_scan_number(struct policy_ctx *ctx, const char *t, size_t len, int line)
{
	size_t i = 0, d0, nd, j;
	bool neg = false;

	if (len > 2 && t[0] == '0' && (t[1] | 0x20) == 'x' && policy_is_xdigit(t[2])) {
		for (j = 2; j < len && policy_is_xdigit(t[j]); j++)
			;
		nd = j - 2;
		if (j < len && t[j] == 'L') {
			j += (j + 1 < len && t[j + 1] == 'L') ? 2 : 1;
			if (!policy_fits(t + 2, nd, 16, UINT64_MAX))
				policy_err(ctx, line, "integer %.*s is out of range",
					   (int)(j < POLICY_MAX_TOKEN_SHOWN ? j : POLICY_MAX_TOKEN_SHOWN), t);
		} else if (!policy_fits(t + 2, nd, 16, INT_MAX)) {
			int shown = (int)(j < POLICY_MAX_TOKEN_SHOWN ? j : POLICY_MAX_TOKEN_SHOWN);
			policy_err(ctx, line, "integer %.*s is out of range; write %.*sL for a 64-bit integer",
				   shown, t, shown, t);
		}
		return j;
	}
	if (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-';
		i = 1;
	}
	d0 = i;
	while (i < len && policy_is_digit(t[i]))
		i++;
	nd = i - d0;
	/* A float: these are never integers, whatever follows. */
	if (i < len && t[i] == '.') {
		for (i++; i < len && policy_is_digit(t[i]); i++)
			;
		goto exponent;
	}
	if (nd == 0)
		return 1; /* a lone sign: libconfig's syntax error, not ours */
	if (i < len && (t[i] | 0x20) == 'e')
		goto exponent;
	if (i < len && t[i] == 'L') {
		j = i + ((i + 1 < len && t[i + 1] == 'L') ? 2 : 1);
		if (!policy_fits(t + d0, nd, 10, neg ? (unsigned long long)INT64_MAX + 1 : INT64_MAX))
			policy_err(ctx, line, "integer %.*s is out of range",
				   (int)(j < POLICY_MAX_TOKEN_SHOWN ? j : POLICY_MAX_TOKEN_SHOWN), t);
		return j;
	}
	if (!policy_fits(t + d0, nd, 10, neg ? (unsigned long long)INT_MAX + 1 : INT_MAX)) {
		int shown = (int)(i < POLICY_MAX_TOKEN_SHOWN ? i : POLICY_MAX_TOKEN_SHOWN);
		policy_err(ctx, line, "integer %.*s is out of range; write %.*sL for a 64-bit integer",
			   shown, t, shown, t);
	}
	return i;
exponent:
	if (i < len && (t[i] | 0x20) == 'e') {
		j = i + 1;
		if (j < len && (t[j] == '-' || t[j] == '+'))
			j++;
		if (j < len && policy_is_digit(t[j])) {
			while (j < len && policy_is_digit(t[j]))
				j++;
			i = j;
		}
	}
	return i > 0 ? i : 1;
}

/* Walks the text the way libconfig's lexer does (strings, the three comment
 * forms, names, numbers) to find integer literals and unclosed strings and
 * comments. */
static void policy_scan_tokens(struct policy_ctx *ctx, const char *t, size_t len)
{
	enum { CODE, STRING, LINE_COMMENT, BLOCK_COMMENT } state = CODE;
	int line = 1, opened = 0;
	size_t i = 0;

	while (i < len) {
		char c = t[i];

		if (state == STRING) {
			if (c == '\\' && i + 1 < len) {
				line += t[i + 1] == '\n';
				i += 2;
				continue;
			}
			state = c == '"' ? CODE : STRING;
		} else if (state == LINE_COMMENT) {
			state = c == '\n' ? CODE : LINE_COMMENT;
		} else if (state == BLOCK_COMMENT) {
			if (c == '*' && i + 1 < len && t[i + 1] == '/') {
				state = CODE;
				i += 2;
				continue;
			}
		} else if (c == '"') {
			state = STRING;
			opened = line;
		} else if (c == '#' || (c == '/' && i + 1 < len && t[i + 1] == '/')) {
			state = LINE_COMMENT;
		} else if (c == '/' && i + 1 < len && t[i + 1] == '*') {
			state = BLOCK_COMMENT;
			opened = line;
			i += 2;
			continue;
		} else if (policy_is_alpha(c) || c == '*') {
			/* A name: digits inside it are not numbers. */
			for (i++; i < len; i++) {
				char n = t[i];
				if (!(policy_is_alpha(n) || policy_is_digit(n) || n == '-' || n == '_' ||
				      n == '*'))
					break;
			}
			continue;
		} else if (policy_is_digit(c) || c == '-' || c == '+' || c == '.') {
			size_t n = policy_scan_number(ctx, t + i, len - i, line);
			for (size_t k = 0; k < n; k++)
				line += t[i + k] == '\n';
			i += n;
			continue;
		}
		line += c == '\n';
		i++;
	}
	/* libconfig 1.5 leaks its string buffer on an unterminated string, and
	 * silently drops whatever follows an unterminated comment (rules
	 * included): both are refused here. */
	if (state == STRING)
		policy_err(ctx, opened, "unterminated string (a '\"' is missing)");
	else if (state == BLOCK_COMMENT)
		policy_err(ctx, opened, "unterminated comment (a '*/' is missing)");
}

void policy_lex_check(struct policy_ctx *ctx, const char *text, size_t len)
{
	unsigned before = ctx->errors;

	policy_scan_raw(ctx, text, len);
	/* After a NUL or an @include the text is not worth reading further. */
	if (ctx->errors == before)
		policy_scan_tokens(ctx, text, len);
}
