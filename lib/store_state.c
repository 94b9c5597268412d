/* store_state.c - bounded per-user state inside a record: lockout slots per
 * zone, remembered (source, class) pairs, networks seen. Pure functions:
 * the caller holds the user's lock and commits. */
#include "store.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* A name fits a fixed field: non-empty and at most max bytes. */
static bool store_fits(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && strnlen(s, max + 1) <= max;
}

const struct lockout_slot *store_zone_find(const struct store_record *rec, const char *zone)
{
	size_t i;

	if (!store_fits(zone, STORE_NAME_MAX))
		return NULL;
	for (i = 0; i < rec->n_zones; i++)
		if (strcmp(rec->zones[i].name, zone) == 0)
			return &rec->zones[i].slot;
	return NULL;
}

/* Which slot to give up when all are taken: an idle one first (nothing to
 * lose), else the one whose lock ends soonest, else the oldest failures.
 * Zones come from the policy's network names, so a user only fills all
 * slots when the policy names that many networks and the user failed in
 * each of them. */
static size_t store_zone_victim(const struct store_record *rec,
				const struct policy_lockout_slot *params, int64_t now)
{
	size_t i, best = 0;

	for (i = 0; i < rec->n_zones; i++)
		if (lockout_is_idle(&rec->zones[i].slot, params, now))
			return i;
	for (i = 1; i < rec->n_zones; i++) {
		const struct lockout_slot *a = &rec->zones[i].slot, *b = &rec->zones[best].slot;
		bool a_locked = lockout_is_locked(a, now), b_locked = lockout_is_locked(b, now);

		if (a_locked != b_locked) {
			if (!a_locked)
				best = i;
		} else if (a_locked ? a->locked_until < b->locked_until
				    : a->first_failure < b->first_failure) {
			best = i;
		}
	}
	return best;
}

struct lockout_slot *store_zone_slot(struct store_record *rec, const char *zone,
				     const struct policy_lockout_slot *params, int64_t now)
{
	struct store_zone *z;
	size_t i;

	if (!store_fits(zone, STORE_NAME_MAX))
		return NULL;
	for (i = 0; i < rec->n_zones; i++)
		if (strcmp(rec->zones[i].name, zone) == 0)
			return &rec->zones[i].slot;
	if (rec->n_zones < STORE_MAX_ZONES)
		z = &rec->zones[rec->n_zones++];
	else
		z = &rec->zones[store_zone_victim(rec, params, now)];
	memset(z, 0, sizeof(*z));
	memcpy(z->name, zone, strlen(zone) + 1);
	return &z->slot;
}

const struct store_remember *store_remember_find(const struct store_record *rec,
						 const char *source, const char *class_name,
						 int64_t now)
{
	size_t i;

	if (!store_fits(source, STORE_SOURCE_MAX) || !store_fits(class_name, STORE_NAME_MAX))
		return NULL;
	for (i = 0; i < rec->n_remember; i++) {
		const struct store_remember *r = &rec->remember[i];

		if (now < r->expires && strcmp(r->source, source) == 0 &&
		    strcmp(r->class_name, class_name) == 0)
			return r;
	}
	return NULL;
}

bool store_remember_check(const struct store_record *rec, const char *source,
			  const char *class_name, int64_t now)
{
	return store_remember_find(rec, source, class_name, now) != NULL;
}

int store_remember_add(struct store_record *rec, const char *source, const char *class_name,
		       int64_t expires, int64_t now)
{
	return store_remember_add_factor(rec, source, class_name, expires, now, 0);
}

int store_remember_add_factor(struct store_record *rec, const char *source,
			      const char *class_name, int64_t expires, int64_t now,
			      uint64_t factor)
{
	struct store_remember *slot = NULL;
	size_t i;

	if (!store_fits(source, STORE_SOURCE_MAX) || !store_fits(class_name, STORE_NAME_MAX))
		return STORE_EINVAL;
	for (i = 0; i < rec->n_remember && slot == NULL; i++)
		if (strcmp(rec->remember[i].source, source) == 0 &&
		    strcmp(rec->remember[i].class_name, class_name) == 0)
			slot = &rec->remember[i];
	if (slot == NULL && rec->n_remember < STORE_MAX_REMEMBER)
		slot = &rec->remember[rec->n_remember++];
	if (slot == NULL) {
		/* Full: an expired entry, else the one expiring first, which is
		 * the least recently added since every entry lives as long. */
		slot = &rec->remember[0];
		for (i = 0; i < rec->n_remember; i++) {
			if (rec->remember[i].expires <= now) {
				slot = &rec->remember[i];
				break;
			}
			if (rec->remember[i].expires < slot->expires)
				slot = &rec->remember[i];
		}
	}
	memset(slot, 0, sizeof(*slot));
	memcpy(slot->source, source, strlen(source) + 1);
	memcpy(slot->class_name, class_name, strlen(class_name) + 1);
	slot->expires = expires;
	slot->factor = factor;
	return STORE_OK;
}

int store_history_prefix(const struct source *src, const struct policy_history *params,
			 char *buf, size_t len)
{
	uint8_t net[16];
	char addr[INET6_ADDRSTRLEN];
	struct source masked;
	unsigned bits, nbytes, i;
	int n;

	if (src->kind == SOURCE_LOCAL) {
		n = snprintf(buf, len, "local");
		return n < 0 || (size_t)n >= len ? STORE_EINVAL : STORE_OK;
	}
	if (src->kind != SOURCE_IP || (src->family != AF_INET && src->family != AF_INET6))
		return STORE_EINVAL;
	nbytes = src->family == AF_INET ? 4 : 16;
	bits = src->family == AF_INET ? params->prefix_v4 : params->prefix_v6;
	if (bits > nbytes * 8)
		bits = nbytes * 8;
	memset(net, 0, sizeof(net));
	for (i = 0; i < nbytes; i++) {
		unsigned keep = bits >= (i + 1) * 8 ? 8 : (bits > i * 8 ? bits - i * 8 : 0);

		net[i] = (uint8_t)(src->addr[i] & (uint8_t)(0xff00u >> keep));
	}
	masked = *src;
	memcpy(masked.addr, net, nbytes);
	if (source_format(&masked, addr, sizeof(addr)) != addr)
		return STORE_EINVAL;
	/* "/bits" by hand: snprintf cost more than the rest of the update. */
	n = (int)strlen(addr);
	if ((size_t)n + 5 > len)
		return STORE_EINVAL;
	memcpy(buf, addr, (size_t)n);
	buf[n++] = '/';
	if (bits >= 100)
		buf[n++] = (char)('0' + bits / 100);
	if (bits >= 10)
		buf[n++] = (char)('0' + bits / 10 % 10);
	buf[n++] = (char)('0' + bits % 10);
	buf[n] = '\0';
	return STORE_OK;
}

static bool store_history_live(const struct store_seen *h, const struct policy_history *params,
			       int64_t now)
{
	int64_t ttl = (int64_t)params->ttl_days * 86400;

	return h->last_seen > now - ttl;
}

bool store_history_seen(const struct store_record *rec, const struct source *src,
			const struct policy_history *params, int64_t now)
{
	char prefix[STORE_SOURCE_MAX + 1];
	size_t i;

	if (store_history_prefix(src, params, prefix, sizeof(prefix)) != STORE_OK)
		return false;
	for (i = 0; i < rec->n_history; i++)
		if (strcmp(rec->history[i].prefix, prefix) == 0)
			return store_history_live(&rec->history[i], params, now);
	return false;
}

int store_history_add(struct store_record *rec, const struct source *src,
		      const struct policy_history *params, int64_t now, bool *changed)
{
	char prefix[STORE_SOURCE_MAX + 1];
	struct store_seen *slot = NULL;
	size_t i, kept = 0;

	*changed = false;
	if (src->kind == SOURCE_UNKNOWN)
		return STORE_OK;
	if (store_history_prefix(src, params, prefix, sizeof(prefix)) != STORE_OK)
		return STORE_EINVAL;
	for (i = 0; i < rec->n_history; i++) {
		if (strcmp(rec->history[i].prefix, prefix) != 0)
			continue;
		if (store_history_live(&rec->history[i], params, now) &&
		    now >= rec->history[i].last_seen &&
		    now - rec->history[i].last_seen < STORE_HISTORY_REFRESH)
			return STORE_OK;
		rec->history[i].last_seen = now;
		*changed = true;
		return STORE_OK;
	}
	/* A new network: drop what the ttl has expired, then make room. */
	for (i = 0; i < rec->n_history; i++)
		if (store_history_live(&rec->history[i], params, now))
			rec->history[kept++] = rec->history[i];
	rec->n_history = kept;
	if (rec->n_history < STORE_MAX_HISTORY) {
		slot = &rec->history[rec->n_history++];
	} else {
		slot = &rec->history[0];
		for (i = 1; i < rec->n_history; i++)
			if (rec->history[i].last_seen < slot->last_seen)
				slot = &rec->history[i];
	}
	memset(slot, 0, sizeof(*slot));
	memcpy(slot->prefix, prefix, strlen(prefix) + 1);
	slot->last_seen = now;
	*changed = true;
	return STORE_OK;
}
