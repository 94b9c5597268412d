/* json.h - a small bounded JSON writer over a caller's fixed buffer.
 *
 * Used for the denial events (event.c) and `garde explain --json`. Nothing
 * is allocated: the text goes into (buf, cap) and stays NUL-terminated.
 * Every append is all-or-nothing, so when the buffer is too small the text
 * written so far is a clean prefix, the overflow flag is set and every later
 * call does nothing; json_finish() then reports it.
 *
 * Strings are always valid JSON whatever the input bytes: '"' and '\' are
 * escaped, control characters (and DEL, U+2028, U+2029) become \uXXXX, and
 * each byte that is not part of well-formed UTF-8 becomes U+FFFD.
 *
 * Commas are automatic: call json_key() before each member of an object and
 * nothing before an array element. Calls out of order (a value in an object
 * without a key, a key in an array, unbalanced ends, two top-level values)
 * set a misuse flag that json_finish() reports. */
#ifndef GARDE_JSON_H
#define GARDE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 32 /* nesting; one bit per level in the state masks */

/* Appended to a string cut by json_str_capped(). */
#define JSON_TRUNC_MARKER "...[truncated]"

enum json_error {
	JSON_OK = 0,
	JSON_EOVERFLOW = -1, /* the buffer is too small: the text was cut */
	JSON_ESTATE = -2,    /* calls out of order, containers left open, or too deep */
};

/* Treat the members as private; they are public only so that the writer
 * can live on the caller's stack. */
struct json_buf {
	char *buf;
	size_t cap; /* bytes of buf, the terminating NUL included */
	size_t len; /* bytes written, NUL excluded */
	bool overflow;
	bool misuse;
	bool after_key; /* a key was written, its value is due */
	bool top_done;  /* the single top-level value is complete */
	unsigned depth;
	uint32_t is_array;  /* bit d: the container at depth d+1 is an array */
	uint32_t has_items; /* bit d: the container at depth d+1 has a member */
};

const char *json_strerror(int err);

void json_init(struct json_buf *jb, char *buf, size_t cap);

void json_obj_begin(struct json_buf *jb);
void json_obj_end(struct json_buf *jb);
void json_arr_begin(struct json_buf *jb);
void json_arr_end(struct json_buf *jb);

/* The member name of the next value; escaped like a string. */
void json_key(struct json_buf *jb, const char *key);

/* A NUL-terminated string; NULL writes null. */
void json_str(struct json_buf *jb, const char *s);
/* n bytes of s; embedded NULs become \u0000. */
void json_strn(struct json_buf *jb, const char *s, size_t n);
/* Like json_str, but the escaped text between the quotes is at most
 * max_bytes: a longer value is cut on a character boundary and ends with
 * JSON_TRUNC_MARKER. Returns true when it cut. max_bytes below the marker's
 * length counts as the marker's length. */
bool json_str_capped(struct json_buf *jb, const char *s, size_t max_bytes);

void json_int(struct json_buf *jb, int64_t v);
void json_bool(struct json_buf *jb, bool v);
void json_null(struct json_buf *jb);

bool json_overflowed(const struct json_buf *jb);
size_t json_len(const struct json_buf *jb);

/* JSON_OK when the text is one complete value that fit; else the error. */
int json_finish(const struct json_buf *jb);

#endif
