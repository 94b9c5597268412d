/* counter.h - a persistent event counter: one small file, bumped under
 * flock, in a trusted directory. The module counts with it the events that
 * could not reach the spool and went to syslog only. */
#ifndef GARDE_COUNTER_H
#define GARDE_COUNTER_H

#include <stdint.h>

/* Adds one to DIR/NAME (created 0600 when missing) and gives the new
 * value. Returns 0, or a negative enum trust_error. */
int counter_bump(const char *dir, const char *name, uint64_t *value);

/* Reads DIR/NAME without changing it (0 when missing). */
int counter_read(const char *dir, const char *name, uint64_t *value);

#endif
