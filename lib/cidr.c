/* cidr.c - prefix text for the policy: "ADDR/LEN" or a bare address, with
 * messages an administrator can act on (cidr_parse in netset.h). Never
 * resolves a name: inet_pton only. */
#include "netset.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CIDR_MAX_TEXT 64

static bool cidr_is_mapped(const uint8_t *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(a, mapped, sizeof(mapped)) == 0;
}

__attribute__((format(printf, 3, 4)))
static void cidr_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	/* A truncated message is still a message; nothing else to do. */
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* A copy of hostile text fit to quote in a message: control bytes and
 * non-ASCII become '?', so a policy cannot inject terminal escapes or fake
 * log lines through an error message. */
static void cidr_shown(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
}

/* Decimal prefix length: digits only, no sign, no space, no leading zero.
 * Returns the value, or -1 when it is not such a number, or maxlen + 1 when
 * it is a number over maxlen. */
static long cidr_parse_len(const char *s, unsigned maxlen)
{
	long v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v <= (long)maxlen)
			v = v * 10 + (*p - '0');
	}
	return v > (long)maxlen ? (long)maxlen + 1 : v;
}

int cidr_parse(const char *text, int *family, uint8_t addr[16], unsigned *prefixlen,
	       char *why, size_t whylen)
{
	char buf[CIDR_MAX_TEXT + 1];
	char shown[CIDR_MAX_TEXT + 1];
	char canon[INET6_ADDRSTRLEN];
	uint8_t a[16] = { 0 };
	uint8_t masked[16];
	const char *lentext = NULL;
	const char *fname;
	unsigned maxlen, len;
	size_t n;
	char *slash;
	long parsed;
	int fam;

	if (text == NULL || text[0] == '\0') {
		cidr_why(why, whylen, "empty network address");
		return -1;
	}
	n = strnlen(text, CIDR_MAX_TEXT + 1);
	if (n > CIDR_MAX_TEXT) {
		cidr_why(why, whylen, "network address longer than %d characters",
			   CIDR_MAX_TEXT);
		return -1;
	}
	memcpy(buf, text, n + 1);
	cidr_shown(shown, text, n);

	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		lentext = slash + 1;
	}
	/* inet_pton only: a name here would need DNS, which garde never does. */
	if (inet_pton(AF_INET, buf, a) == 1) {
		fam = AF_INET;
		maxlen = 32;
		fname = "IPv4";
	} else if (inet_pton(AF_INET6, buf, a) == 1) {
		fam = AF_INET6;
		maxlen = 128;
		fname = "IPv6";
	} else {
		cidr_why(why, whylen, "'%s' is not an IPv4 or IPv6 address", shown);
		return -1;
	}

	len = maxlen;
	if (lentext != NULL) {
		parsed = cidr_parse_len(lentext, maxlen);
		if (parsed < 0) {
			cidr_why(why, whylen,
				   "'%s' has a bad prefix length; expected a number 0-%u after '/'",
				   shown, maxlen);
			return -1;
		}
		if (parsed > (long)maxlen) {
			/* lentext holds digits only here, so it is safe to quote. */
			cidr_why(why, whylen, "prefix length %s out of range for %s (0-%u)",
				   lentext, fname, maxlen);
			return -1;
		}
		len = (unsigned)parsed;
	}

	memset(masked, 0, sizeof(masked));
	memcpy(masked, a, len / 8);
	if (len % 8 != 0)
		masked[len / 8] = a[len / 8] & (uint8_t)(0xff << (8 - len % 8));
	if (memcmp(masked, a, sizeof(a)) != 0) {
		if (inet_ntop(fam, masked, canon, sizeof(canon)) == NULL)
			canon[0] = '\0';
		cidr_why(why, whylen, "%s has host bits set; did you mean %s/%u?", shown, canon,
			   len);
		return -1;
	}

	/* ::ffff:a.b.c.d/len names IPv4 sources; store it as the IPv4 prefix
	 * that lookups (which see such sources as IPv4) will probe. */
	if (fam == AF_INET6 && len >= 96 && cidr_is_mapped(a)) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		fam = AF_INET;
		len -= 96;
	}
	if (family != NULL)
		*family = fam;
	if (addr != NULL)
		memcpy(addr, a, 16);
	if (prefixlen != NULL)
		*prefixlen = len;
	return 0;
}
