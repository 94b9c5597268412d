/* snapshot.h - a flat binary encoding for compiled data (the policy
 * snapshot): a growable writer and a bounds-checked reader. Every item is
 * 8-byte aligned, so arrays can be used in place from a mapped file. A
 * reader never reads past its buffer: a truncated or corrupt snapshot only
 * sets the failed flag. */
#ifndef GARDE_SNAPSHOT_H
#define GARDE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct snap_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool failed; /* out of memory: the result is unusable */
};

struct snap_reader {
	const uint8_t *buf;
	size_t len;
	size_t off;
	bool failed; /* read past the end, or a malformed item */
};

void snap_writer_init(struct snap_writer *w);
void snap_writer_free(struct snap_writer *w);
void snap_put(struct snap_writer *w, const void *data, size_t n); /* padded to 8 */
void snap_put_u64(struct snap_writer *w, uint64_t v);
void snap_put_str(struct snap_writer *w, const char *s);         /* NULL allowed */

/* Where the next item will be written (an offset snap_at can use). */
uint64_t snap_offset(const struct snap_writer *w);
/* Zero bytes up to the next multiple of align (a power of two). */
void snap_pad_to(struct snap_writer *w, size_t align);

void snap_reader_init(struct snap_reader *r, const void *buf, size_t len);
/* n bytes at offset off of r's buffer (8-byte aligned), or NULL (and r
 * failed) when they are not all inside it. Does not move r. */
const void *snap_at(struct snap_reader *r, uint64_t off, uint64_t n);
/* n bytes in place (8-byte aligned), or NULL (and failed) past the end. */
const void *snap_get(struct snap_reader *r, size_t n);
uint64_t snap_get_u64(struct snap_reader *r);
/* A u64 that must be at most max; failed otherwise. */
uint64_t snap_get_count(struct snap_reader *r, uint64_t max);
/* A malloc'd copy of a string written by snap_put_str; *out NULL for NULL.
 * Returns false (and failed) when malformed or out of memory. */
bool snap_get_str(struct snap_reader *r, char **out);

#endif
