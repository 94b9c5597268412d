/* store_slot.h - the two-slot record file (layout in store.h): sealing,
 * checking and reading slots. Shared by store.c and the tests; not part of
 * the API the module and the CLI use. */
#ifndef GARDE_STORE_SLOT_H
#define GARDE_STORE_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

/* out = SHA-256 of a (alen bytes) then b (blen bytes; b may be NULL if 0). */
int store_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32]);

/* Writes the STORE_SLOT_HDR-byte header of a slot whose text is the len
 * bytes that follow it in slot (len <= STORE_TEXT_MAX, seq >= 1). */
int store_slot_seal(char *slot, uint64_t seq, size_t len);

/* Checks a slot's header, of which avail bytes were read: *seq and *len on
 * STORE_OK, STORE_ECORRUPT when it is not a well-formed header. The text
 * may still be short or not match: see store_slot_verify(). */
int store_slot_header(const char *slot, size_t avail, uint64_t *seq, size_t *len);

/* true when the slot (header, then the len bytes of text store_slot_header
 * announced) carries the right digest. */
bool store_slot_verify(const char *slot, size_t len);

/* Parses one slot's text into the caller's record; STORE_ECORRUPT lets the
 * reader fall back to the other slot, any other error is final. */
typedef int (*store_parse_fn)(void *arg, const char *text, size_t len);

/* Reads the record in fd (size bytes, as fstat said): parse() on the text
 * of the valid slot with the larger sequence number, else of the other
 * valid slot. *which (0 = A, 1 = B) and *seq say which one was taken.
 * STORE_ECORRUPT when no slot is valid and parses, after tries reads (a
 * reader without the lock may meet slots torn by commits in progress, and
 * reads again rather than take a slot that commits may have overwritten
 * while it read the other). */
int store_slot_read(int fd, off_t size, int tries,
		    store_parse_fn parse, void *arg, unsigned *which, uint64_t *seq);

/* Writes a sealed slot (header and text, len bytes) as slot which of fd:
 * one pwrite, in place. */
int store_slot_write(int fd, const char *slot, size_t len, unsigned which);

#endif
