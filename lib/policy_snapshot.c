/* policy_snapshot.c - struct policy <-> flat snapshot (snapshot.h). Every
 * string and list is copied out on decode; only the netset tables, the bulk
 * of a large policy, are used in place from the mapping. */
#include "policy_snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "snapshot.h"

/* Bumped whenever the encoding or struct policy changes. The build's
 * version string is part of the header as well, so that a snapshot is never
 * read by another build. */
#define SNAPSHOT_FORMAT 6
#define SNAPSHOT_MAGIC "garde-policy-snapshot"
#define SNAPSHOT_PAGE 4096 /* the tables start on a page of their own */
#define SNAPSHOT_MAX_ITEMS (1u << 22) /* far above what a 4 MiB policy can hold */

void policy_source_id_of(const struct stat *st, struct policy_source_id *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_sec = (uint64_t)st->st_mtim.tv_sec;
	id->mtime_nsec = (uint64_t)st->st_mtim.tv_nsec;
	id->ctime_sec = (uint64_t)st->st_ctim.tv_sec;
	id->ctime_nsec = (uint64_t)st->st_ctim.tv_nsec;
}

/* --- encode ---------------------------------------------------------- */

static void put_names(struct snap_writer *w, const struct policy_names *names)
{
	snap_put_u64(w, names->present);
	snap_put_u64(w, names->present ? names->n : 0);
	for (size_t i = 0; names->present && i < names->n; i++)
		snap_put_str(w, names->v[i]);
}

static void put_sources(struct snap_writer *w, struct snap_writer *bulk,
			const struct policy_sources *src)
{
	snap_put_u64(w, src->present);
	snap_put_u64(w, src->local);
	snap_put_u64(w, src->nets != NULL);
	if (src->nets != NULL)
		netset_export(src->nets, w, bulk);
}

static void put_windows(struct snap_writer *w, const struct policy_windows *win)
{
	snap_put_u64(w, win->present);
	snap_put_u64(w, win->present ? win->n : 0);
	for (size_t i = 0; win->present && i < win->n; i++) {
		snap_put_u64(w, win->v[i].days);
		snap_put_u64(w, win->v[i].start);
		snap_put_u64(w, win->v[i].end);
	}
}

static void put_rule(struct snap_writer *w, struct snap_writer *bulk, const struct policy_rule *r)
{
	snap_put_str(w, r->name);
	snap_put_u64(w, (uint64_t)r->line);
	snap_put_u64(w, r->action);
	snap_put_u64(w, r->report_only);
	snap_put_u64(w, r->alert);
	snap_put_u64(w, r->app_password);
	snap_put_u64(w, r->remember);
	snap_put_str(w, r->message);
	put_names(w, &r->users);
	put_names(w, &r->not_users);
	put_names(w, &r->groups);
	put_names(w, &r->not_groups);
	put_names(w, &r->services);
	snap_put_u64(w, r->has_class);
	snap_put_u64(w, r->class_mask);
	put_sources(w, bulk, &r->from);
	put_sources(w, bulk, &r->not_from);
	put_windows(w, &r->hours);
	put_windows(w, &r->not_hours);
	snap_put_u64(w, (uint64_t)(int64_t)r->new_network);
}

int policy_snapshot_encode(const struct policy *pol, const struct policy_source_id *id,
			   void **buf, size_t *len)
{
	struct snap_writer w, bulk, out;

	snap_writer_init(&w);
	snap_writer_init(&bulk);
	snap_writer_init(&out);
	snap_put_u64(&w, (uint64_t)pol->serial);
	snap_put_u64(&w, (uint64_t)pol->expires);
	snap_put_u64(&w, pol->report_only_mode);
	snap_put_str(&w, pol->timezone);
	snap_put_u64(&w, pol->n_networks);
	for (size_t i = 0; i < pol->n_networks; i++) {
		snap_put_str(&w, pol->networks[i].name);
		netset_export(pol->networks[i].set, &w, &bulk);
	}
	snap_put_u64(&w, pol->n_classes);
	for (size_t i = 0; i < pol->n_classes; i++) {
		snap_put_str(&w, pol->classes[i].name);
		put_names(&w, &pol->classes[i].services);
	}
	snap_put(&w, &pol->mfa, sizeof(pol->mfa));
	snap_put(&w, &pol->lockout_user, sizeof(pol->lockout_user));
	snap_put(&w, &pol->lockout_source, sizeof(pol->lockout_source));
	snap_put(&w, &pol->history, sizeof(pol->history));
	snap_put_u64(&w, pol->uses_new_network);
	snap_put_u64(&w, pol->uses_groups);
	snap_put_u64(&w, pol->n_rules);
	for (size_t i = 0; i < pol->n_rules; i++)
		put_rule(&w, &bulk, &pol->rules[i]);

	/* The file: header, then everything a decode reads (w), then from the
	 * next page the netset tables (bulk), which a login maps and touches
	 * only where it probes. */
	snap_put_str(&out, SNAPSHOT_MAGIC);
	snap_put_u64(&out, SNAPSHOT_FORMAT);
	snap_put_str(&out, GARDE_VERSION);
	snap_put(&out, id, sizeof(*id));
	snap_put_u64(&out, w.len);
	snap_put(&out, w.buf, w.len);
	snap_pad_to(&out, SNAPSHOT_PAGE);
	snap_put(&out, bulk.buf, bulk.len);
	if (w.failed || bulk.failed || out.failed) {
		snap_writer_free(&out);
		out.buf = NULL;
	}
	snap_writer_free(&w);
	snap_writer_free(&bulk);
	if (out.buf == NULL)
		return -1;
	*buf = out.buf;
	*len = out.len;
	return 0;
}

/* --- decode ---------------------------------------------------------- */

static void get_names(struct snap_reader *r, struct policy_names *names)
{
	names->present = snap_get_count(r, 1) != 0;
	names->n = (size_t)snap_get_count(r, SNAPSHOT_MAX_ITEMS);
	if (r->failed || names->n == 0)
		return;
	names->v = calloc(names->n, sizeof(*names->v));
	if (names->v == NULL) {
		names->n = 0;
		r->failed = true;
		return;
	}
	for (size_t i = 0; i < names->n && !r->failed; i++)
		snap_get_str(r, &names->v[i]);
}

static void get_sources(struct snap_reader *r, struct snap_reader *bulk, struct policy_sources *src)
{
	src->present = snap_get_count(r, 1) != 0;
	src->local = snap_get_count(r, 1) != 0;
	if (snap_get_count(r, 1) != 0 && !r->failed) {
		src->nets = netset_import(r, bulk);
		if (src->nets == NULL)
			r->failed = true;
	}
}

static void get_windows(struct snap_reader *r, struct policy_windows *win)
{
	win->present = snap_get_count(r, 1) != 0;
	win->n = (size_t)snap_get_count(r, SNAPSHOT_MAX_ITEMS);
	if (r->failed || win->n == 0)
		return;
	win->v = calloc(win->n, sizeof(*win->v));
	if (win->v == NULL) {
		win->n = 0;
		r->failed = true;
		return;
	}
	for (size_t i = 0; i < win->n; i++) {
		win->v[i].days = (uint8_t)snap_get_count(r, 0x7f);
		win->v[i].start = (uint16_t)snap_get_count(r, 1440);
		win->v[i].end = (uint16_t)snap_get_count(r, 1440);
	}
}

static void get_rule(struct snap_reader *r, struct snap_reader *bulk, struct policy_rule *rule)
{
	snap_get_str(r, &rule->name);
	rule->line = (int)snap_get_count(r, INT32_MAX);
	rule->action = (enum garde_action)snap_get_count(r, GARDE_MFA);
	rule->report_only = snap_get_count(r, 1) != 0;
	rule->alert = snap_get_count(r, 1) != 0;
	rule->app_password = snap_get_count(r, 1) != 0;
	rule->remember = snap_get_count(r, 1) != 0;
	snap_get_str(r, &rule->message);
	get_names(r, &rule->users);
	get_names(r, &rule->not_users);
	get_names(r, &rule->groups);
	get_names(r, &rule->not_groups);
	get_names(r, &rule->services);
	rule->has_class = snap_get_count(r, 1) != 0;
	rule->class_mask = snap_get_u64(r);
	get_sources(r, bulk, &rule->from);
	get_sources(r, bulk, &rule->not_from);
	get_windows(r, &rule->hours);
	get_windows(r, &rule->not_hours);
	rule->new_network = (int)(int64_t)snap_get_u64(r);
	if (rule->name == NULL || rule->new_network < -1 || rule->new_network > 1)
		r->failed = true;
}

/* Fixed-size settings copied out of the snapshot, then range-checked the
 * way the parser would have. */
static void get_struct(struct snap_reader *r, void *out, size_t n)
{
	const void *p = snap_get(r, n);

	if (p != NULL)
		memcpy(out, p, n);
}

static bool settings_ok(const struct policy *pol)
{
	const struct policy_mfa *m = &pol->mfa;

	return m->digits >= 6 && m->digits <= 8 && m->step >= 1 && m->step <= 300 &&
	       m->window_past <= 10 && m->window_future <= 10 && pol->lockout_user.deny >= 1 &&
	       pol->lockout_source.deny >= 1 && pol->history.prefix_v4 <= 32 &&
	       pol->history.prefix_v6 <= 128;
}

static int get_header(struct snap_reader *r, const struct policy_source_id *id)
{
	struct policy_source_id stored;
	char *magic = NULL, *version = NULL;
	int rv = -1;

	if (!snap_get_str(r, &magic) || magic == NULL || strcmp(magic, SNAPSHOT_MAGIC) != 0)
		goto out;
	rv = 1; /* from here on a mismatch means stale, not corrupt */
	if (snap_get_u64(r) != SNAPSHOT_FORMAT || !snap_get_str(r, &version) ||
	    version == NULL || strcmp(version, GARDE_VERSION) != 0)
		goto out;
	get_struct(r, &stored, sizeof(stored));
	if (r->failed)
		rv = -1;
	else if (memcmp(&stored, id, sizeof(stored)) == 0)
		rv = 0;
out:
	free(magic);
	free(version);
	return rv;
}

static int get_body(struct snap_reader *r, struct snap_reader *bulk, const char *zoneinfo_dir,
		    struct policy *pol)
{
	char err[256];

	pol->serial = (int64_t)snap_get_u64(r);
	pol->expires = (int64_t)snap_get_u64(r);
	pol->report_only_mode = snap_get_count(r, 1) != 0;
	if (!snap_get_str(r, &pol->timezone) || pol->timezone == NULL)
		return -1;
	/* The zone is read again from tzdata: the snapshot need not carry it,
	 * and a tzdata update reaches the next login. */
	if (tz_load(pol->timezone, zoneinfo_dir, &pol->tz, err, sizeof(err)) != 0)
		return -1;
	pol->n_networks = (size_t)snap_get_count(r, SNAPSHOT_MAX_ITEMS);
	if (pol->n_networks > 0 &&
	    (pol->networks = calloc(pol->n_networks, sizeof(*pol->networks))) == NULL)
		return -1;
	for (size_t i = 0; i < pol->n_networks && !r->failed; i++) {
		snap_get_str(r, &pol->networks[i].name);
		if (!r->failed && (pol->networks[i].set = netset_import(r, bulk)) == NULL)
			r->failed = true;
	}
	pol->n_classes = (size_t)snap_get_count(r, POLICY_MAX_CLASSES);
	if (pol->n_classes > 0 &&
	    (pol->classes = calloc(pol->n_classes, sizeof(*pol->classes))) == NULL)
		return -1;
	for (size_t i = 0; i < pol->n_classes && !r->failed; i++) {
		snap_get_str(r, &pol->classes[i].name);
		get_names(r, &pol->classes[i].services);
	}
	get_struct(r, &pol->mfa, sizeof(pol->mfa));
	get_struct(r, &pol->lockout_user, sizeof(pol->lockout_user));
	get_struct(r, &pol->lockout_source, sizeof(pol->lockout_source));
	get_struct(r, &pol->history, sizeof(pol->history));
	pol->uses_new_network = snap_get_count(r, 1) != 0;
	pol->uses_groups = snap_get_count(r, 1) != 0;
	pol->n_rules = (size_t)snap_get_count(r, SNAPSHOT_MAX_ITEMS);
	if (pol->n_rules > 0 && (pol->rules = calloc(pol->n_rules, sizeof(*pol->rules))) == NULL)
		return -1;
	for (size_t i = 0; i < pol->n_rules && !r->failed; i++)
		get_rule(r, bulk, &pol->rules[i]);
	if (r->failed || r->off != r->len || !settings_ok(pol))
		return -1;
	return 0;
}

int policy_snapshot_decode(void *map, size_t len, const struct policy_source_id *id,
			   const char *zoneinfo_dir, struct policy **out)
{
	struct snap_reader r, meta, bulk;
	struct policy *pol;
	const void *m;
	uint64_t meta_len, bulk_off;
	int rv;

	snap_reader_init(&r, map, len);
	rv = get_header(&r, id);
	if (rv != 0)
		return rv;
	meta_len = snap_get_u64(&r);
	m = meta_len < len ? snap_get(&r, (size_t)meta_len) : NULL;
	bulk_off = ((uint64_t)r.off + SNAPSHOT_PAGE - 1) / SNAPSHOT_PAGE * SNAPSHOT_PAGE;
	if (m == NULL || bulk_off > len)
		return -1;
	snap_reader_init(&meta, m, (size_t)meta_len);
	snap_reader_init(&bulk, (const uint8_t *)map + bulk_off, len - (size_t)bulk_off);
	pol = calloc(1, sizeof(*pol));
	if (pol == NULL)
		return -1;
	if (get_body(&meta, &bulk, zoneinfo_dir, pol) != 0) {
		policy_free(pol); /* the mapping is not the policy's yet */
		return -1;
	}
	pol->snapshot_map = map;
	pol->snapshot_len = len;
	*out = pol;
	return 0;
}
