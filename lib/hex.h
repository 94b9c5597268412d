/* hex.h - hexadecimal text to bytes, for secrets, hashes and salts in the
 * store and on the command line. */
#ifndef GARDE_HEX_H
#define GARDE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (either case), or -1. */
int hex_digit(char c);

/* Decodes text (either case, even length) into out: the number of bytes,
 * 1..cap, or -1 when text is empty, of odd length, longer than 2 * cap or
 * not hex (out is then wiped: it may have held part of a secret). */
int hex_decode(const char *text, uint8_t *out, size_t cap);

#endif
