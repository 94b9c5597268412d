/* rfc5424.c - one event as an RFC 5424 syslog message (see sink.h).
 *
 *   <PRI>1 TIMESTAMP HOSTNAME garde - MSGID [garde@32473 id=".." ...] JSON
 *
 * The SD-ID needs an IANA private enterprise number; garde has none, so it
 * uses 32473, the number RFC 5612 reserves for documentation and examples.
 * A collector that keys on it can match "garde@32473". SD-PARAM values are
 * escaped as RFC 5424 section 6.3.3 says ('"', '\' and ']' get a
 * backslash); the header fields are restricted to printable US-ASCII
 * without spaces, as the grammar requires, anything else becoming '_'.
 * The message is the event JSON unchanged, so a collector that parses JSON
 * gets the whole event and the structured data is only a convenience. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jsonscan.h"
#include "sink.h"

#define FAC_AUTHPRIV 10
#define SEV_WARNING 4
#define SEV_NOTICE 5

struct out {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->overflow || n >= o->cap - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A header field: PRINTUSASCII (33..126), at most max, "-" when empty. */
static void put_token(struct out *o, const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n] != '\0' && n < max; n++) {
		char c = s[n] > 32 && s[n] < 127 ? s[n] : '_';
		put(o, &c, 1);
	}
	if (n == 0)
		put(o, "-", 1);
}

static void put_param(struct out *o, const char *name, const char *value)
{
	puts_(o, " ");
	puts_(o, name);
	puts_(o, "=\"");
	for (const char *v = value; *v != '\0'; v++) {
		char c = (unsigned char)*v < 32 ? '?' : *v; /* no line breaks in a frame */
		if (c == '"' || c == '\\' || c == ']')
			put(o, "\\", 1);
		put(o, &c, 1);
	}
	puts_(o, "\"");
}

static const struct { const char *path, *param; } rfc5424_params[] = {
	{ "event.id", "id" },           { "event.action", "action" },
	{ "event.outcome", "outcome" }, { "event.reason", "reason" },
	{ "user.name", "user" },        { "source.ip", "src" },
	{ "source.address", "src_address" },
	{ "service.name", "service" },  { "rule.name", "rule" },
	{ "rule.ruleset", "ruleset" },  { "garde.class", "class" },
	{ "garde.zone", "zone" },       { "garde.mode", "mode" },
	{ "garde.dropped", "dropped" },
};
#define N_PARAMS (sizeof(rfc5424_params) / sizeof(rfc5424_params[0]))

/* The raw text of each field, found in one pass over the JSON. */
struct fields {
	const char *v[N_PARAMS + 2];
	size_t len[N_PARAMS + 2];
};
#define F_TIMESTAMP N_PARAMS
#define F_HOST (N_PARAMS + 1)

static void collect(void *arg, const char *path, const char *value, size_t len, int is_string)
{
	struct fields *f = arg;
	size_t i;

	(void)is_string;
	if (strcmp(path, "@timestamp") == 0)
		i = F_TIMESTAMP;
	else if (strcmp(path, "host.name") == 0)
		i = F_HOST;
	else
		for (i = 0; i < N_PARAMS && strcmp(path, rfc5424_params[i].path) != 0; i++)
			;
	if (i == N_PARAMS && strcmp(path, "@timestamp") != 0)
		return; /* a field the message does not use */
	if (i < N_PARAMS + 2) {
		f->v[i] = value;
		f->len[i] = len;
	}
}

/* A field's value, unescaped into buf; "" when absent. */
static const char *field(const struct fields *f, size_t i, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (f->v[i] != NULL && jsonscan_unescape(f->v[i], f->len[i], buf, cap) != 0)
		buf[0] = '\0';
	return buf;
}

int rfc5424_format(const char *json, size_t len, const char *hostname, char *out, size_t cap)
{
	struct out o = { out, 0, cap, cap == 0 };
	struct fields f;
	char buf[512], pri[16];

	memset(&f, 0, sizeof(f));
	if (cap > 0)
		out[0] = '\0';
	/* A journal record was validated at intake; should one not parse now,
	 * the message still goes out, with the JSON and no structured fields. */
	(void)jsonscan_each(json, len, collect, &f);
	field(&f, 2, buf, sizeof(buf)); /* event.outcome */
	snprintf(pri, sizeof(pri), "<%d>1 ",
		 FAC_AUTHPRIV * 8 + (strcmp(buf, "success") == 0 ? SEV_NOTICE : SEV_WARNING));
	puts_(&o, pri);
	/* The event's time, not the sending time: a retried event keeps it. */
	put_token(&o, field(&f, F_TIMESTAMP, buf, sizeof(buf)), 32);
	puts_(&o, " ");
	field(&f, F_HOST, buf, sizeof(buf));
	put_token(&o, buf[0] != '\0' ? buf : hostname, 255);
	puts_(&o, " garde - ");
	put_token(&o, field(&f, 1, buf, sizeof(buf)), 32); /* event.action */
	puts_(&o, " [garde@32473");
	for (size_t i = 0; i < N_PARAMS; i++) {
		if (field(&f, i, buf, sizeof(buf))[0] != '\0')
			put_param(&o, rfc5424_params[i].param, buf);
	}
	puts_(&o, "] ");
	put(&o, json, len);
	return o.overflow ? -1 : (int)o.len;
}
