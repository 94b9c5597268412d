/* snapshot.c - flat binary writer and bounds-checked reader. */
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

#define SNAP_ALIGN 8
#define SNAP_NULL_STR UINT64_MAX

static size_t padded(size_t n)
{
	return (n + SNAP_ALIGN - 1) & ~(size_t)(SNAP_ALIGN - 1);
}

void snap_writer_init(struct snap_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void snap_put(struct snap_writer *w, const void *data, size_t n)
{
	size_t need = padded(n);

	if (w->failed || need < n)
		goto fail;
	if (w->cap - w->len < need) {
		size_t cap = w->cap == 0 ? 4096 : w->cap;
		uint8_t *bigger;
		while (cap - w->len < need) {
			if (cap > SIZE_MAX / 2)
				goto fail;
			cap *= 2;
		}
		bigger = realloc(w->buf, cap);
		if (bigger == NULL)
			goto fail;
		w->buf = bigger;
		w->cap = cap;
	}
	if (n > 0)
		memcpy(w->buf + w->len, data, n);
	memset(w->buf + w->len + n, 0, need - n);
	w->len += need;
	return;
fail:
	w->failed = true;
}

void snap_put_u64(struct snap_writer *w, uint64_t v)
{
	snap_put(w, &v, sizeof(v));
}

void snap_put_str(struct snap_writer *w, const char *s)
{
	if (s == NULL) {
		snap_put_u64(w, SNAP_NULL_STR);
		return;
	}
	snap_put_u64(w, strlen(s));
	snap_put(w, s, strlen(s) + 1);
}

uint64_t snap_offset(const struct snap_writer *w)
{
	return w->len;
}

void snap_pad_to(struct snap_writer *w, size_t align)
{
	static const uint8_t zeros[4096];
	size_t pad = (align - w->len % align) % align;

	while (pad > 0 && !w->failed) {
		size_t n = pad < sizeof(zeros) ? pad : sizeof(zeros);
		snap_put(w, zeros, n);
		pad -= n;
	}
}

const void *snap_at(struct snap_reader *r, uint64_t off, uint64_t n)
{
	if (r->failed || off % SNAP_ALIGN != 0 || off > r->len || n > r->len - off) {
		r->failed = true;
		return NULL;
	}
	return r->buf + off;
}

void snap_reader_init(struct snap_reader *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->off = 0;
	r->failed = false;
}

const void *snap_get(struct snap_reader *r, size_t n)
{
	size_t need = padded(n);
	const void *p;

	if (r->failed || need < n || r->len - r->off < need) {
		r->failed = true;
		return NULL;
	}
	p = r->buf + r->off;
	r->off += need;
	return p;
}

uint64_t snap_get_u64(struct snap_reader *r)
{
	const void *p = snap_get(r, sizeof(uint64_t));
	uint64_t v = 0;

	if (p != NULL)
		memcpy(&v, p, sizeof(v));
	return v;
}

uint64_t snap_get_count(struct snap_reader *r, uint64_t max)
{
	uint64_t v = snap_get_u64(r);

	if (v > max) {
		r->failed = true;
		return 0;
	}
	return v;
}

bool snap_get_str(struct snap_reader *r, char **out)
{
	uint64_t len = snap_get_u64(r);
	const char *p;

	*out = NULL;
	if (r->failed)
		return false;
	if (len == SNAP_NULL_STR)
		return true;
	if (len >= r->len) {
		r->failed = true;
		return false;
	}
	p = snap_get(r, (size_t)len + 1);
	if (p == NULL || p[len] != '\0' || memchr(p, '\0', (size_t)len) != NULL) {
		r->failed = true;
		return false;
	}
	*out = strdup(p);
	if (*out == NULL)
		r->failed = true;
	return *out != NULL;
}
