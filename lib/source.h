/* source.h - the login's source, parsed from PAM_RHOST without DNS. */
#ifndef GARDE_SOURCE_H
#define GARDE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#define SOURCE_MAX_TEXT 1024 /* longer rhost / user values are refused */

enum source_kind {
	SOURCE_LOCAL,   /* no PAM_RHOST, or an empty one */
	SOURCE_UNKNOWN, /* anything that is not an address literal: no network contains it */
	SOURCE_IP,
};

struct source {
	enum source_kind kind;
	int family;       /* AF_INET or AF_INET6 when kind == SOURCE_IP */
	uint8_t addr[16]; /* network order; IPv4 uses the first 4 bytes */
};

/* Parses rhost (NULL or "" is local). An IPv4-mapped IPv6 address becomes
 * IPv4. A "[addr]" bracketed literal and an IPv6 zone suffix are accepted.
 * Never resolves names. Returns 0, or -1 when rhost is over SOURCE_MAX_TEXT
 * (the caller refuses the login). */
int source_parse(const char *rhost, struct source *out);

/* "local", "unknown" or the address in canonical text form, written into
 * buf (when it fits) and returned. */
const char *source_format(const struct source *src, char *buf, size_t len);

#endif
