/* rfc3339.h - RFC 3339 timestamps <-> UTC seconds, without mktime/TZ. */
#ifndef GARDE_RFC3339_H
#define GARDE_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" ('t'/' ' for 'T' and
 * 'z' for 'Z' accepted). Fractions are ignored. Returns 0 or -1. */
int rfc3339_parse(const char *text, int64_t *out);

/* Formats UTC seconds as "YYYY-MM-DDTHH:MM:SSZ". */
void rfc3339_format(int64_t when, char *buf, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date (any year). */
int64_t rfc3339_days_from_civil(int64_t year, unsigned month, unsigned day);

/* The date of a day count since 1970-01-01. */
void rfc3339_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

#endif
