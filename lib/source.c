/* source.c - the login's source from PAM_RHOST (contract in source.h).
 *
 * Only address literals count: inet_pton, never getaddrinfo. A host name in
 * PAM_RHOST comes from reverse DNS the attacker may control, so it is
 * "unknown" and no network contains it. */
#include "source.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

/* An interface name (IFNAMSIZ is 16) or a decimal interface index. */
#define SOURCE_MAX_ZONE 15

static bool source_zone_ok(const char *zone)
{
	size_t n = strlen(zone);

	if (n == 0 || n > SOURCE_MAX_ZONE)
		return false;
	for (const char *p = zone; *p != '\0'; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static bool source_parse_v6(char *text, uint8_t addr[16])
{
	char *zone = strchr(text, '%');

	if (zone != NULL) {
		/* The zone says which link a link-local address was seen on; it
		 * does not change which networks contain the address. */
		if (!source_zone_ok(zone + 1))
			return false;
		*zone = '\0';
	}
	return inet_pton(AF_INET6, text, addr) == 1;
}

int source_parse(const char *rhost, struct source *out)
{
	char buf[SOURCE_MAX_TEXT + 1];
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint8_t a[16] = { 0 };
	size_t n;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	out->kind = SOURCE_UNKNOWN;
	if (rhost == NULL || rhost[0] == '\0') {
		out->kind = SOURCE_LOCAL;
		return 0;
	}
	n = strnlen(rhost, SOURCE_MAX_TEXT + 1);
	if (n > SOURCE_MAX_TEXT)
		return -1;
	memcpy(buf, rhost, n + 1);

	if (buf[0] == '[') {
		/* [addr] is how URIs and some daemons write IPv6; only IPv6 may
		 * be bracketed. */
		if (n < 3 || buf[n - 1] != ']')
			return 0;
		buf[n - 1] = '\0';
		if (!source_parse_v6(buf + 1, a))
			return 0;
	} else if (inet_pton(AF_INET, buf, a) == 1) {
		out->kind = SOURCE_IP;
		out->family = AF_INET;
		memcpy(out->addr, a, 4);
		return 0;
	} else if (!source_parse_v6(buf, a)) {
		return 0;
	}

	out->kind = SOURCE_IP;
	if (memcmp(a, mapped, sizeof(mapped)) == 0) {
		/* ::ffff:a.b.c.d is an IPv4 peer on a dual-stack socket. */
		out->family = AF_INET;
		memcpy(out->addr, a + 12, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->addr, a, 16);
	}
	return 0;
}

/* The words are written into buf too, so that a caller may keep buf. */
static const char *format_word(const char *word, char *buf, size_t len)
{
	size_t n = strlen(word);

	if (buf == NULL || len <= n)
		return word;
	memcpy(buf, word, n + 1);
	return buf;
}

/* a.b.c.d by hand: glibc's inet_ntop formats IPv4 with sprintf, which
 * costs a login more than the rest of its decision. */
static const char *format_v4(const uint8_t a[4], char *buf, size_t len)
{
	char text[INET_ADDRSTRLEN], *p = text;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	if (buf == NULL || len < (size_t)(p - text))
		return "invalid";
	memcpy(buf, text, (size_t)(p - text));
	return buf;
}

const char *source_format(const struct source *src, char *buf, size_t len)
{
	if (src == NULL)
		return format_word("unknown", buf, len);
	switch (src->kind) {
	case SOURCE_LOCAL:
		return format_word("local", buf, len);
	case SOURCE_UNKNOWN:
		return format_word("unknown", buf, len);
	case SOURCE_IP:
		break;
	default:
		return format_word("unknown", buf, len);
	}
	if (src->family == AF_INET)
		return format_v4(src->addr, buf, len);
	/* The longest text is INET6_ADDRSTRLEN; a larger buffer gains nothing
	 * and the clamp keeps the socklen_t conversion exact. */
	if (len > INET6_ADDRSTRLEN)
		len = INET6_ADDRSTRLEN;
	if (buf == NULL || (src->family != AF_INET && src->family != AF_INET6) ||
	    inet_ntop(src->family, src->addr, buf, (socklen_t)len) == NULL)
		return "invalid"; /* buffer too small or a corrupt struct */
	return buf;
}
