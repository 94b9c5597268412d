/* json.c - bounded JSON writer (see json.h). */
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The longest escaped form of one input character: \uXXXX. */
#define JSON_CHAR_MAX 6

const char *json_strerror(int err)
{
	switch (err) {
	case JSON_OK: return "ok";
	case JSON_EOVERFLOW: return "JSON text does not fit its buffer";
	case JSON_ESTATE: return "JSON writer misused (unbalanced or out-of-order calls)";
	default: return "unknown JSON error";
	}
}

void json_init(struct json_buf *jb, char *buf, size_t cap)
{
	memset(jb, 0, sizeof(*jb));
	jb->buf = buf;
	jb->cap = cap;
	if (buf != NULL && cap > 0)
		buf[0] = '\0';
	else
		jb->overflow = true;
}

static bool json_stopped(const struct json_buf *jb)
{
	return jb->overflow || jb->misuse;
}

/* All or nothing: a partial token would leave text that is not a prefix of
 * valid JSON, and the caller could not tell where it was cut. */
static void json_append(struct json_buf *jb, const char *p, size_t n)
{
	if (json_stopped(jb))
		return;
	if (n >= jb->cap - jb->len) { /* the NUL needs one byte */
		jb->overflow = true;
		return;
	}
	memcpy(jb->buf + jb->len, p, n);
	jb->len += n;
	jb->buf[jb->len] = '\0';
}

static bool json_in_array(const struct json_buf *jb)
{
	return jb->depth > 0 && (jb->is_array >> (jb->depth - 1)) & 1u;
}

static bool json_has_items(const struct json_buf *jb)
{
	return jb->depth > 0 && (jb->has_items >> (jb->depth - 1)) & 1u;
}

/* Checks that a value may come now and writes the comma it needs. */
static bool json_value_start(struct json_buf *jb)
{
	if (json_stopped(jb))
		return false;
	if (jb->depth == 0) {
		if (jb->top_done) {
			jb->misuse = true;
			return false;
		}
		return true;
	}
	if (json_in_array(jb)) {
		if (json_has_items(jb))
			json_append(jb, ",", 1);
		jb->has_items |= 1u << (jb->depth - 1);
		return !json_stopped(jb);
	}
	if (!jb->after_key) {
		jb->misuse = true;
		return false;
	}
	jb->after_key = false;
	return true;
}

static void json_value_done(struct json_buf *jb)
{
	if (jb->depth == 0 && !json_stopped(jb))
		jb->top_done = true;
}

/* Decodes one character of s[0..n). Returns the bytes it takes (>= 1) and
 * sets *valid; an invalid byte counts alone so that decoding resumes on the
 * next byte, as Unicode's "maximal subpart" practice does for the common
 * cases. Overlong forms, surrogates and values past U+10FFFF are invalid. */
static size_t json_utf8_next(const unsigned char *s, size_t n, uint32_t *cp, bool *valid)
{
	unsigned char b = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need, i;
	uint32_t v;

	*valid = false;
	*cp = 0xFFFD;
	if (b < 0x80) {
		*cp = b;
		*valid = true;
		return 1;
	}
	if (b >= 0xC2 && b <= 0xDF) {
		need = 1;
		v = b & 0x1F;
	} else if (b >= 0xE0 && b <= 0xEF) {
		need = 2;
		v = b & 0x0F;
		if (b == 0xE0)
			lo = 0xA0; /* overlong */
		else if (b == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (b >= 0xF0 && b <= 0xF4) {
		need = 3;
		v = b & 0x07;
		if (b == 0xF0)
			lo = 0x90; /* overlong */
		else if (b == 0xF4)
			hi = 0x8F; /* past U+10FFFF */
	} else {
		return 1;
	}
	if (need >= n)
		return 1;
	for (i = 1; i <= need; i++) {
		unsigned char c = s[i];
		if (c < lo || c > hi)
			return 1;
		lo = 0x80;
		hi = 0xBF;
		v = (v << 6) | (c & 0x3F);
	}
	*cp = v;
	*valid = true;
	return need + 1;
}

/* The escaped form of the character at s into out[JSON_CHAR_MAX]. Returns
 * its length and sets *used to the input bytes it consumed. */
static size_t json_escape_char(const unsigned char *s, size_t n, char *out, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t cp;
	bool valid;
	size_t k = json_utf8_next(s, n, &cp, &valid);

	*used = k;
	if (!valid) {
		/* U+FFFD as UTF-8 */
		memcpy(out, "\xEF\xBF\xBD", 3);
		return 3;
	}
	if (cp == '"' || cp == '\\') {
		out[0] = '\\';
		out[1] = (char)cp;
		return 2;
	}
	/* Control characters always; DEL because it is invisible in logs;
	 * U+2028/2029 because JavaScript treats them as line ends. */
	if (cp < 0x20 || cp == 0x7F || cp == 0x2028 || cp == 0x2029) {
		out[0] = '\\';
		out[1] = 'u';
		out[2] = hex[(cp >> 12) & 0xF];
		out[3] = hex[(cp >> 8) & 0xF];
		out[4] = hex[(cp >> 4) & 0xF];
		out[5] = hex[cp & 0xF];
		return 6;
	}
	memcpy(out, s, k);
	return k;
}

/* Writes the escaped bytes of s[0..n) while they fit in max_out (SIZE_MAX:
 * no limit). Returns true when all of s was written. */
static bool json_write_escaped(struct json_buf *jb, const char *s, size_t n, size_t max_out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0, out_len = 0;

	while (off < n && !json_stopped(jb)) {
		char tmp[JSON_CHAR_MAX];
		size_t used;
		size_t k = json_escape_char(p + off, n - off, tmp, &used);

		if (k > max_out - out_len)
			return false;
		json_append(jb, tmp, k);
		out_len += k;
		off += used;
	}
	return off >= n;
}

/* Escaped length of s[0..n), or SIZE_MAX once it passes limit. */
static size_t json_escaped_len(const char *s, size_t n, size_t limit)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0, total = 0;

	while (off < n) {
		char tmp[JSON_CHAR_MAX];
		size_t used;

		total += json_escape_char(p + off, n - off, tmp, &used);
		off += used;
		if (total > limit)
			return SIZE_MAX;
	}
	return total;
}

static void json_quoted(struct json_buf *jb, const char *s, size_t n)
{
	json_append(jb, "\"", 1);
	json_write_escaped(jb, s, n, SIZE_MAX);
	json_append(jb, "\"", 1);
}

void json_key(struct json_buf *jb, const char *key)
{
	if (json_stopped(jb))
		return;
	if (jb->depth == 0 || json_in_array(jb) || jb->after_key || key == NULL) {
		jb->misuse = true;
		return;
	}
	if (json_has_items(jb))
		json_append(jb, ",", 1);
	jb->has_items |= 1u << (jb->depth - 1);
	json_quoted(jb, key, strlen(key));
	json_append(jb, ":", 1);
	jb->after_key = true;
}

static void json_open(struct json_buf *jb, bool array)
{
	if (!json_value_start(jb))
		return;
	if (jb->depth >= JSON_MAX_DEPTH) {
		jb->misuse = true;
		return;
	}
	json_append(jb, array ? "[" : "{", 1);
	if (json_stopped(jb))
		return;
	jb->depth++;
	if (array)
		jb->is_array |= 1u << (jb->depth - 1);
	else
		jb->is_array &= ~(1u << (jb->depth - 1));
	jb->has_items &= ~(1u << (jb->depth - 1));
}

static void json_close(struct json_buf *jb, bool array)
{
	if (json_stopped(jb))
		return;
	if (jb->depth == 0 || json_in_array(jb) != array || jb->after_key) {
		jb->misuse = true;
		return;
	}
	json_append(jb, array ? "]" : "}", 1);
	if (json_stopped(jb))
		return;
	jb->depth--;
	json_value_done(jb);
}

void json_obj_begin(struct json_buf *jb)
{
	json_open(jb, false);
}

void json_obj_end(struct json_buf *jb)
{
	json_close(jb, false);
}

void json_arr_begin(struct json_buf *jb)
{
	json_open(jb, true);
}

void json_arr_end(struct json_buf *jb)
{
	json_close(jb, true);
}

void json_strn(struct json_buf *jb, const char *s, size_t n)
{
	if (!json_value_start(jb))
		return;
	json_quoted(jb, s, n);
	json_value_done(jb);
}

void json_str(struct json_buf *jb, const char *s)
{
	if (s == NULL) {
		json_null(jb);
		return;
	}
	json_strn(jb, s, strlen(s));
}

bool json_str_capped(struct json_buf *jb, const char *s, size_t max_bytes)
{
	size_t marker = sizeof(JSON_TRUNC_MARKER) - 1;
	size_t n;
	bool cut;

	if (s == NULL) {
		json_null(jb);
		return false;
	}
	if (!json_value_start(jb))
		return false;
	if (max_bytes < marker)
		max_bytes = marker;
	n = strlen(s);
	cut = json_escaped_len(s, n, max_bytes) == SIZE_MAX;
	json_append(jb, "\"", 1);
	if (cut) {
		json_write_escaped(jb, s, n, max_bytes - marker);
		json_append(jb, JSON_TRUNC_MARKER, marker);
	} else {
		json_write_escaped(jb, s, n, SIZE_MAX);
	}
	json_append(jb, "\"", 1);
	json_value_done(jb);
	return cut;
}

void json_int(struct json_buf *jb, int64_t v)
{
	char num[24];
	int k;

	if (!json_value_start(jb))
		return;
	k = snprintf(num, sizeof(num), "%" PRId64, v);
	if (k < 0 || (size_t)k >= sizeof(num)) {
		jb->misuse = true; /* cannot happen for 64 bits; fail closed */
		return;
	}
	json_append(jb, num, (size_t)k);
	json_value_done(jb);
}

static void json_literal(struct json_buf *jb, const char *lit)
{
	if (!json_value_start(jb))
		return;
	json_append(jb, lit, strlen(lit));
	json_value_done(jb);
}

void json_bool(struct json_buf *jb, bool v)
{
	json_literal(jb, v ? "true" : "false");
}

void json_null(struct json_buf *jb)
{
	json_literal(jb, "null");
}

bool json_overflowed(const struct json_buf *jb)
{
	return jb->overflow;
}

size_t json_len(const struct json_buf *jb)
{
	return jb->len;
}

int json_finish(const struct json_buf *jb)
{
	if (jb->overflow)
		return JSON_EOVERFLOW;
	if (jb->misuse || jb->depth != 0 || !jb->top_done)
		return JSON_ESTATE;
	return JSON_OK;
}
