/* journal_internal.h - shared by journal.c (writer) and journal_read.c
 * (reader, verify); not for other callers. */
#ifndef GARDE_JOURNAL_INTERNAL_H
#define GARDE_JOURNAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "journal.h"

int journal_from_errno(int e);
void journal_say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void journal_hex_encode(const uint8_t *in, size_t n, char *out);
/* Exactly 64 lower-case hex digits into 32 bytes. 0 or -1. */
int journal_hex_decode(const char *in, uint8_t *out);
/* File offset of the next unread byte. */
uint64_t journal_reader_offset(const struct journal_reader *r);

#endif
