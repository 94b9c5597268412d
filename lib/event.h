/* event.h - the denial / alert event record: one line of ECS-compatible
 * JSON in the shape of DESIGN.md "Events".
 *
 * Choices the design leaves open, made here:
 * - source: absent when source is NULL or local; {"ip": canonical text} for
 *   an address; for an "unknown" source (PAM_RHOST that is not an address
 *   literal, e.g. a host name) {"address": raw rhost_text, capped} and no
 *   "ip", because ECS keeps source.ip for real addresses and no DNS lookup
 *   is ever made.
 * - rule: "rule.name" is omitted when rule is NULL (implicit deny, policy
 *   unavailable); "rule.ruleset" (the policy serial, as a string like the
 *   design's example) is omitted when ruleset <= 0 (no usable policy); an
 *   empty "rule" object is omitted altogether.
 * - Long values are cut (json.h JSON_TRUNC_MARKER) to the EVENT_CAP_* sizes
 *   below and "garde.truncated": true is added, so an event always fits in
 *   EVENT_MAX_BYTES whatever the user or the remote host sends.
 * - action, outcome, reason and mode are closed vocabularies: any other
 *   value is refused (EVENT_EINVAL) rather than written.
 *
 * There is no field for a password or a code, on purpose. */
#ifndef GARDE_EVENT_H
#define GARDE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

/* An event, NUL included, always fits in this many bytes. */
#define EVENT_MAX_BYTES 4096

#define EVENT_ID_HEX 32 /* 128 random bits */
#define EVENT_ID_SIZE (EVENT_ID_HEX + 1)

/* Caps on the escaped text of each variable field, marker included. */
#define EVENT_CAP_USER 256
#define EVENT_CAP_ADDRESS 256 /* raw rhost of an unknown source */
#define EVENT_CAP_SERVICE 128
#define EVENT_CAP_HOST 256
#define EVENT_CAP_RULE 128
#define EVENT_CAP_CLASS 128
#define EVENT_CAP_ZONE 128

enum event_error {
	EVENT_OK = 0,
	EVENT_EINVAL = -1,    /* a required field is missing or outside its vocabulary */
	EVENT_ERANDOM = -2,   /* RAND_bytes failed: no event id */
	EVENT_ETOOSMALL = -3, /* buf is smaller than the event (EVENT_MAX_BYTES always suffices) */
	EVENT_ETIME = -4,     /* now_usec is not a representable date */
};

struct event_fields {
	const char *action;  /* "login-denied", "login-alert", "login-would-deny", "events-dropped" */
	const char *outcome; /* "failure", "unknown", "success" */
	const char *reason;  /* policy_deny, no_rule, mfa_*, locked_*, ...; NULL: omitted */
	const char *user;    /* NULL: omitted */
	const struct source *source; /* NULL or local: no "source" */
	const char *rhost_text;      /* raw PAM_RHOST; required when source is unknown */
	const char *service;         /* PAM service; NULL: omitted */
	const char *host;            /* this host's name; NULL: omitted */
	long pid;                    /* <= 0: omitted */
	const char *rule;            /* deciding rule's name; NULL: omitted */
	int64_t ruleset;             /* policy serial; <= 0: omitted */
	const char *class;           /* NULL: omitted */
	const char *zone;            /* NULL: omitted */
	const char *mode;            /* "enforce" or "report-only"; NULL: omitted */
	int64_t dropped;             /* events-dropped: how many were lost; <= 0: omitted */
	int64_t now_usec;            /* UTC microseconds since the epoch */
};

const char *event_strerror(int err);

/* Writes the event as one line of JSON (no newline) into buf (NUL-terminated)
 * and its new random id into id_out. Returns 0 or a negative enum
 * event_error; on error buf and id_out hold nothing usable. */
int event_format(const struct event_fields *fields, char *buf, size_t cap,
		 char id_out[EVENT_ID_SIZE]);

#endif
