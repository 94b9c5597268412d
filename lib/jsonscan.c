/* jsonscan.c - strict JSON validation and dotted-path lookup (see jsonscan.h). */
#include "jsonscan.h"

#include <stdbool.h>
#include <string.h>

struct jscan {
	const char *p, *end, *start;
	const char *why;
	/* Lookups over text already validated: strings are skipped without
	 * checking UTF-8 (still bounded by end, so damaged text is safe). */
	bool fast;
};

static void js_ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int js_fail(struct jscan *s, const char *why)
{
	if (s->why == NULL)
		s->why = why;
	return -1;
}

static int js_hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* The length of a well-formed UTF-8 sequence at p, or 0. */
static size_t js_utf8(const unsigned char *p, const unsigned char *end)
{
	size_t n;
	unsigned min, cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2; cp = p[0] & 0x1f; min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3; cp = p[0] & 0x0f; min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4; cp = p[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Skips a string (s->p at the opening quote). */
static int js_string(struct jscan *s)
{
	s->p++;
	if (s->fast) {
		while (s->p < s->end && *s->p != '"')
			s->p += (*s->p == '\\' && s->end - s->p >= 2) ? 2 : 1;
		if (s->p >= s->end)
			return js_fail(s, "unterminated string");
		s->p++;
		return 0;
	}
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p;
		if (c == '"') {
			s->p++;
			return 0;
		}
		if (c < 0x20)
			return js_fail(s, "control character in a string");
		if (c == '\\') {
			unsigned u;
			if (s->end - s->p < 2)
				break;
			switch (s->p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				s->p += 2;
				continue;
			case 'u':
				if (s->end - s->p < 6 || js_hex4(s->p + 2, &u) != 0)
					return js_fail(s, "bad \\u escape");
				s->p += 6;
				continue;
			default:
				return js_fail(s, "bad escape in a string");
			}
		}
		size_t n = js_utf8((const unsigned char *)s->p, (const unsigned char *)s->end);
		if (n == 0)
			return js_fail(s, "invalid UTF-8");
		s->p += n;
	}
	return js_fail(s, "unterminated string");
}

static int js_number(struct jscan *s)
{
	const char *q = s->p;

	if (q < s->end && *q == '-')
		q++;
	if (q >= s->end)
		return js_fail(s, "bad number");
	if (*q == '0') {
		q++;
	} else if (*q >= '1' && *q <= '9') {
		while (q < s->end && *q >= '0' && *q <= '9')
			q++;
	} else {
		return js_fail(s, "bad number");
	}
	if (q < s->end && *q == '.') {
		q++;
		if (q >= s->end || *q < '0' || *q > '9')
			return js_fail(s, "bad number");
		while (q < s->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < s->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < s->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= s->end || *q < '0' || *q > '9')
			return js_fail(s, "bad number");
		while (q < s->end && *q >= '0' && *q <= '9')
			q++;
	}
	s->p = q;
	return 0;
}

static int js_word(struct jscan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return js_fail(s, "unexpected token");
	s->p += n;
	return 0;
}

static int js_value(struct jscan *s, unsigned depth);

/* Objects and arrays share the loop: members have a key, elements not. */
static int js_container(struct jscan *s, unsigned depth, char close)
{
	if (depth >= JSONSCAN_MAX_DEPTH)
		return js_fail(s, "nested too deep");
	s->p++;
	js_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (s->p >= s->end || *s->p != '"')
				return js_fail(s, "expected a member name");
			if (js_string(s) != 0)
				return -1;
			js_ws(s);
			if (s->p >= s->end || *s->p != ':')
				return js_fail(s, "expected ':'");
			s->p++;
		}
		if (js_value(s, depth + 1) != 0)
			return -1;
		js_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			js_ws(s);
			continue;
		}
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return 0;
		}
		return js_fail(s, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int js_value(struct jscan *s, unsigned depth)
{
	js_ws(s);
	if (s->p >= s->end)
		return js_fail(s, "unexpected end");
	switch (*s->p) {
	case '{': return js_container(s, depth, '}');
	case '[': return js_container(s, depth, ']');
	case '"': return js_string(s);
	case 't': return js_word(s, "true");
	case 'f': return js_word(s, "false");
	case 'n': return js_word(s, "null");
	default: return js_number(s);
	}
}

int jsonscan_validate(const char *text, size_t len, size_t *err_off, const char **why)
{
	struct jscan s = { text, text + len, text, NULL, false };

	js_ws(&s);
	if (s.p >= s.end || *s.p != '{') {
		js_fail(&s, "not a JSON object");
		goto bad;
	}
	if (js_value(&s, 0) != 0)
		goto bad;
	js_ws(&s);
	if (s.p != s.end) {
		js_fail(&s, "text after the object");
		goto bad;
	}
	return 0;
bad:
	if (err_off != NULL)
		*err_off = (size_t)(s.p - s.start);
	if (why != NULL)
		*why = s.why;
	return -1;
}

/* Compares the raw (escaped) key at p (after its quote) with name[0..n);
 * garde's keys never need escapes, so an escaped key simply never matches. */
static bool js_key_is(const char *p, const char *end, const char *name, size_t n)
{
	return (size_t)(end - p) > n && memcmp(p, name, n) == 0 && p[n] == '"';
}

/* Positions s->p at the value of path in the object at s->p; false if absent. */
static bool js_find(struct jscan *s, const char *path)
{
	while (*path != '\0') {
		const char *dot = strchr(path, '.');
		size_t n = dot != NULL ? (size_t)(dot - path) : strlen(path);
		bool found = false;

		js_ws(s);
		if (s->p >= s->end || *s->p != '{')
			return false;
		s->p++;
		js_ws(s);
		while (s->p < s->end && *s->p == '"') {
			bool match = js_key_is(s->p + 1, s->end, path, n);
			if (js_string(s) != 0)
				return false;
			js_ws(s);
			if (s->p >= s->end || *s->p != ':')
				return false;
			s->p++;
			js_ws(s);
			if (match) {
				found = true;
				break;
			}
			if (js_value(s, 1) != 0)
				return false;
			js_ws(s);
			if (s->p < s->end && *s->p == ',') {
				s->p++;
				js_ws(s);
			}
		}
		if (!found)
			return false;
		path += n;
		if (*path == '.')
			path++;
	}
	return true;
}

static size_t js_put_utf8(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Unescapes s->p (after the opening quote) up to the closing quote. 1, or
 * -1 cut to fit, or 0 unterminated. */
static int js_unescape_at(struct jscan *s, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	while (s->p < s->end && *s->p != '"') {
		char tmp[4];
		size_t n = 1;
		const char *src = tmp;

		if (*s->p == '\\' && s->end - s->p >= 2) {
			unsigned u = 0xfffd;
			char c = s->p[1];
			s->p += 2;
			switch (c) {
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			case 'u':
				if (s->end - s->p < 4 || js_hex4(s->p, &u) != 0)
					return 0;
				s->p += 4;
				if (u >= 0xd800 && u <= 0xdbff && s->end - s->p >= 6 && s->p[0] == '\\' &&
				    s->p[1] == 'u') {
					unsigned lo;
					if (js_hex4(s->p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
						u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
						s->p += 6;
					}
				}
				if (u >= 0xd800 && u <= 0xdfff)
					u = 0xfffd;
				n = js_put_utf8(u, tmp);
				break;
			default: tmp[0] = c; break;
			}
		} else {
			src = s->p++;
		}
		if (o + n >= cap) {
			out[o] = '\0';
			return -1;
		}
		memcpy(out + o, src, n);
		o += n;
	}
	out[o] = '\0';
	return s->p < s->end ? 1 : 0;
}

int jsonscan_get_str(const char *text, size_t len, const char *path, char *out, size_t cap)
{
	struct jscan s = { text, text + len, text, NULL, true };

	if (cap == 0)
		return -1;
	out[0] = '\0';
	if (!js_find(&s, path) || s.p >= s.end || *s.p != '"')
		return 0;
	s.p++;
	return js_unescape_at(&s, out, cap);
}

int jsonscan_unescape(const char *raw, size_t len, char *out, size_t cap)
{
	struct jscan s = { raw, raw + len, raw, NULL, true };

	if (cap == 0)
		return -1;
	return js_unescape_at(&s, out, cap) < 0 ? -1 : 0;
}

#define JS_PATH_MAX 256

static int js_each_obj(struct jscan *s, char *path, size_t plen, unsigned depth,
		       jsonscan_leaf_fn leaf, void *arg)
{
	if (depth >= JSONSCAN_MAX_DEPTH)
		return -1;
	s->p++; /* '{' */
	js_ws(s);
	while (s->p < s->end && *s->p == '"') {
		const char *key = s->p + 1, *v;
		size_t klen, n = plen;

		if (js_string(s) != 0)
			return -1;
		klen = (size_t)(s->p - 1 - key);
		if (plen + klen + 2 > JS_PATH_MAX)
			return -1;
		if (plen > 0)
			path[n++] = '.';
		memcpy(path + n, key, klen);
		n += klen;
		path[n] = '\0';
		js_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		s->p++;
		js_ws(s);
		if (s->p >= s->end)
			return -1;
		v = s->p;
		if (*v == '{') {
			if (js_each_obj(s, path, n, depth + 1, leaf, arg) != 0)
				return -1;
		} else if (*v == '"') {
			if (js_string(s) != 0)
				return -1;
			leaf(arg, path, v + 1, (size_t)(s->p - v - 2), 1);
		} else {
			if (js_value(s, depth + 1) != 0)
				return -1;
			if (*v != '[')
				leaf(arg, path, v, (size_t)(s->p - v), 0);
		}
		path[plen] = '\0';
		js_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			js_ws(s);
		}
	}
	if (s->p >= s->end || *s->p != '}')
		return -1;
	s->p++;
	return 0;
}

int jsonscan_each(const char *text, size_t len, jsonscan_leaf_fn leaf, void *arg)
{
	struct jscan s = { text, text + len, text, NULL, true };
	char path[JS_PATH_MAX];

	path[0] = '\0';
	js_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return -1;
	return js_each_obj(&s, path, 0, 0, leaf, arg);
}

int jsonscan_get_int(const char *text, size_t len, const char *path, int64_t *out)
{
	struct jscan s = { text, text + len, text, NULL, true };
	bool neg = false;
	uint64_t v = 0;

	if (!js_find(&s, path) || s.p >= s.end)
		return 0;
	if (*s.p == '-') {
		neg = true;
		s.p++;
	}
	if (s.p >= s.end || *s.p < '0' || *s.p > '9')
		return 0;
	while (s.p < s.end && *s.p >= '0' && *s.p <= '9') {
		unsigned d = (unsigned)(*s.p++ - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	if (s.p < s.end && (*s.p == '.' || *s.p == 'e' || *s.p == 'E'))
		return 0;
	if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
		return 0;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 1;
}
