/* jsonscan.h - reading back the JSON that garde wrote: a strict validator
 * and a getter for one member by its dotted path.
 *
 * The agent validates every spool file with it before the event enters the
 * journal (a file that is not one JSON object is moved aside, never
 * delivered), and `garde report` reads the fields it filters on. Nothing is
 * allocated; the input is never modified; nesting is capped at
 * JSONSCAN_MAX_DEPTH, so a hostile file costs bounded stack. */
#ifndef GARDE_JSONSCAN_H
#define GARDE_JSONSCAN_H

#include <stddef.h>
#include <stdint.h>

#define JSONSCAN_MAX_DEPTH 32

/* 0 when text[0..len) is exactly one JSON object (RFC 8259; surrounding
 * white space allowed, NUL bytes refused). Otherwise -1, with the byte
 * offset of the first error in *err_off and a short reason in *why (static
 * text). */
int jsonscan_validate(const char *text, size_t len, size_t *err_off, const char **why);

/* The string at a dotted path ("event.id", "user.name") of a validated
 * object, unescaped (\uXXXX as UTF-8; a lone surrogate becomes U+FFFD) into
 * out, NUL-terminated. Returns 1 found, 0 absent or not a string, -1 longer
 * than cap - 1 (out then holds a cut prefix). */
int jsonscan_get_str(const char *text, size_t len, const char *path, char *out, size_t cap);

/* An integer member (no fraction or exponent) in INT64 range: 1 found, 0
 * absent or not such a number. */
int jsonscan_get_int(const char *text, size_t len, const char *path, int64_t *out);

/* Calls leaf(arg, path, value, value_len, is_string) once for every
 * string, number, true, false or null member reachable through objects
 * only (array contents are skipped), with its dotted path ("user.name")
 * and its raw text (a string without its quotes, still escaped: see
 * jsonscan_unescape). One pass over the text, for readers that want many
 * fields. Returns 0, or -1 when the text is not a well-formed object or a
 * path is longer than 255 bytes. */
typedef void (*jsonscan_leaf_fn)(void *arg, const char *path, const char *value, size_t len,
				 int is_string);
int jsonscan_each(const char *text, size_t len, jsonscan_leaf_fn leaf, void *arg);

/* Unescapes the raw text of a string (as jsonscan_each gives it) into out,
 * NUL-terminated. Returns 0, or -1 when cut to fit cap. */
int jsonscan_unescape(const char *raw, size_t len, char *out, size_t cap);

#endif
