/* event.c - the event record as one line of JSON (see event.h). */
#include "event.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/rand.h>

#include "json.h"

/* Everything but the capped fields: keys, punctuation, fixed values, the
 * longest vocabulary words, 20-digit numbers, a 45-byte IPv6 address and a
 * 6-digit year. Measured at about 570 bytes; the margin is deliberate. */
#define EVENT_FIXED_MAX 1024

_Static_assert(EVENT_FIXED_MAX + EVENT_CAP_USER + EVENT_CAP_ADDRESS + EVENT_CAP_SERVICE +
			       EVENT_CAP_HOST + EVENT_CAP_RULE + EVENT_CAP_CLASS +
			       EVENT_CAP_ZONE < EVENT_MAX_BYTES,
	       "the capped fields must always fit in an event");

static const char *const event_actions[] = {
	"login-denied", "login-alert", "login-would-deny", "events-dropped", NULL,
};

static const char *const event_outcomes[] = {
	"failure", "unknown", "success", NULL,
};

static const char *const event_reasons[] = {
	"policy_deny",      "no_rule",     "mfa_invalid",   "mfa_replay",
	"mfa_missing",      "mfa_not_enrolled", "locked_user", "locked_source",
	"policy_unavailable", "app_password_invalid", NULL,
};

static const char *const event_modes[] = {
	"enforce", "report-only", NULL,
};

const char *event_strerror(int err)
{
	switch (err) {
	case EVENT_OK: return "ok";
	case EVENT_EINVAL: return "event field missing or not a known value";
	case EVENT_ERANDOM: return "no random bytes for the event id";
	case EVENT_ETOOSMALL: return "event buffer too small";
	case EVENT_ETIME: return "event time out of range";
	default: return "unknown event error";
	}
}

static bool event_in(const char *const *words, const char *s)
{
	for (; *words != NULL; words++)
		if (strcmp(*words, s) == 0)
			return true;
	return false;
}

static int event_check(const struct event_fields *f)
{
	if (f->action == NULL || !event_in(event_actions, f->action))
		return EVENT_EINVAL;
	if (f->outcome == NULL || !event_in(event_outcomes, f->outcome))
		return EVENT_EINVAL;
	if (f->reason != NULL && !event_in(event_reasons, f->reason))
		return EVENT_EINVAL;
	if (f->mode != NULL && !event_in(event_modes, f->mode))
		return EVENT_EINVAL;
	if (f->source != NULL) {
		switch (f->source->kind) {
		case SOURCE_LOCAL:
			break;
		case SOURCE_UNKNOWN:
			/* The raw text is the only thing an auditor can act on. */
			if (f->rhost_text == NULL)
				return EVENT_EINVAL;
			break;
		case SOURCE_IP:
			if (f->source->family != AF_INET && f->source->family != AF_INET6)
				return EVENT_EINVAL;
			break;
		default:
			return EVENT_EINVAL;
		}
	}
	return EVENT_OK;
}

/* "2026-11-22T14:07:52.123456Z" */
static int event_timestamp(int64_t now_usec, char *out, size_t len)
{
	int64_t secs = now_usec / 1000000;
	int64_t usec = now_usec % 1000000;
	time_t t;
	struct tm tm;
	char date[64];
	int k;

	if (usec < 0) { /* floor, so that times before 1970 still read right */
		usec += 1000000;
		secs -= 1;
	}
	t = (time_t)secs;
	if ((int64_t)t != secs || gmtime_r(&t, &tm) == NULL)
		return EVENT_ETIME;
	if (strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return EVENT_ETIME;
	k = snprintf(out, len, "%s.%06dZ", date, (int)usec);
	if (k < 0 || (size_t)k >= len)
		return EVENT_ETIME;
	return EVENT_OK;
}

static int event_new_id(char out[EVENT_ID_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[EVENT_ID_HEX / 2];
	size_t i;

	if (RAND_bytes(raw, (int)sizeof(raw)) != 1)
		return EVENT_ERANDOM;
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xF];
	}
	out[EVENT_ID_HEX] = '\0';
	return EVENT_OK;
}

static void event_source(struct json_buf *jb, const struct event_fields *f, bool *cut)
{
	const struct source *src = f->source;
	char text[INET6_ADDRSTRLEN];

	if (src == NULL || src->kind == SOURCE_LOCAL)
		return;
	json_key(jb, "source");
	json_obj_begin(jb);
	if (src->kind == SOURCE_IP) {
		/* inet_ntop rather than source_format: the canonical RFC 5952 text
		 * with no dependency beyond libc, and it cannot fail for these
		 * families with this buffer. */
		if (inet_ntop(src->family, src->addr, text, sizeof(text)) == NULL)
			strcpy(text, "invalid");
		json_key(jb, "ip");
		json_str(jb, text);
	} else {
		json_key(jb, "address");
		*cut |= json_str_capped(jb, f->rhost_text, EVENT_CAP_ADDRESS);
	}
	json_obj_end(jb);
}

/* {"name": value} under key, when value is set. */
static void event_named(struct json_buf *jb, const char *key, const char *value, size_t cap,
			bool *cut)
{
	if (value == NULL)
		return;
	json_key(jb, key);
	json_obj_begin(jb);
	json_key(jb, "name");
	*cut |= json_str_capped(jb, value, cap);
	json_obj_end(jb);
}

static void event_rule(struct json_buf *jb, const struct event_fields *f, bool *cut)
{
	char serial[24];

	if (f->rule == NULL && f->ruleset <= 0)
		return;
	json_key(jb, "rule");
	json_obj_begin(jb);
	if (f->rule != NULL) {
		json_key(jb, "name");
		*cut |= json_str_capped(jb, f->rule, EVENT_CAP_RULE);
	}
	if (f->ruleset > 0) {
		/* A string, as in the design's example: ECS rule.ruleset is a keyword. */
		snprintf(serial, sizeof(serial), "%lld", (long long)f->ruleset);
		json_key(jb, "ruleset");
		json_str(jb, serial);
	}
	json_obj_end(jb);
}

static void event_garde(struct json_buf *jb, const struct event_fields *f, bool *cut)
{
	if (f->class == NULL && f->zone == NULL && f->mode == NULL && f->dropped <= 0 && !*cut)
		return;
	json_key(jb, "garde");
	json_obj_begin(jb);
	if (f->class != NULL) {
		json_key(jb, "class");
		*cut |= json_str_capped(jb, f->class, EVENT_CAP_CLASS);
	}
	if (f->zone != NULL) {
		json_key(jb, "zone");
		*cut |= json_str_capped(jb, f->zone, EVENT_CAP_ZONE);
	}
	if (f->mode != NULL) {
		json_key(jb, "mode");
		json_str(jb, f->mode);
	}
	if (f->dropped > 0) {
		json_key(jb, "dropped");
		json_int(jb, f->dropped);
	}
	/* Last, so that it covers every field written before it. */
	if (*cut) {
		json_key(jb, "truncated");
		json_bool(jb, true);
	}
	json_obj_end(jb);
}

int event_format(const struct event_fields *f, char *buf, size_t cap, char id_out[EVENT_ID_SIZE])
{
	struct json_buf jb;
	char stamp[64];
	char id[EVENT_ID_SIZE];
	bool cut = false;
	int rv;

	if (buf != NULL && cap > 0)
		buf[0] = '\0';
	if (id_out != NULL)
		id_out[0] = '\0';
	if (f == NULL || buf == NULL || id_out == NULL) {
		rv = EVENT_EINVAL;
		goto out;
	}
	rv = event_check(f);
	if (rv != EVENT_OK)
		goto out;
	rv = event_timestamp(f->now_usec, stamp, sizeof(stamp));
	if (rv != EVENT_OK)
		goto out;
	rv = event_new_id(id);
	if (rv != EVENT_OK)
		goto out;

	json_init(&jb, buf, cap);
	json_obj_begin(&jb);
	json_key(&jb, "@timestamp");
	json_str(&jb, stamp);

	json_key(&jb, "event");
	json_obj_begin(&jb);
	json_key(&jb, "id");
	json_str(&jb, id);
	json_key(&jb, "kind");
	json_str(&jb, "event");
	json_key(&jb, "category");
	json_arr_begin(&jb);
	json_str(&jb, "authentication");
	json_arr_end(&jb);
	json_key(&jb, "type");
	json_arr_begin(&jb);
	json_str(&jb, "start");
	json_arr_end(&jb);
	json_key(&jb, "action");
	json_str(&jb, f->action);
	json_key(&jb, "outcome");
	json_str(&jb, f->outcome);
	if (f->reason != NULL) {
		json_key(&jb, "reason");
		json_str(&jb, f->reason);
	}
	json_key(&jb, "provider");
	json_str(&jb, "pam_garde");
	json_obj_end(&jb);

	event_named(&jb, "user", f->user, EVENT_CAP_USER, &cut);
	event_source(&jb, f, &cut);
	event_named(&jb, "service", f->service, EVENT_CAP_SERVICE, &cut);
	event_named(&jb, "host", f->host, EVENT_CAP_HOST, &cut);
	if (f->pid > 0) {
		json_key(&jb, "process");
		json_obj_begin(&jb);
		json_key(&jb, "pid");
		json_int(&jb, f->pid);
		json_obj_end(&jb);
	}
	event_rule(&jb, f, &cut);
	event_garde(&jb, f, &cut);
	json_obj_end(&jb);

	rv = json_finish(&jb);
	if (rv == JSON_EOVERFLOW) {
		rv = EVENT_ETOOSMALL;
		goto out;
	}
	if (rv != JSON_OK) {
		rv = EVENT_EINVAL; /* a writer bug; never emit a broken record */
		goto out;
	}
	memcpy(id_out, id, EVENT_ID_SIZE);
	rv = EVENT_OK;
out:
	if (rv != EVENT_OK && buf != NULL && cap > 0)
		buf[0] = '\0';
	return rv;
}
