/* module_policy.c - the compiled policy kept by the process between logins.
 *
 * A service that runs many logins in one process (dovecot's auth worker,
 * sudo's plugin host, anything using libpam in a loop) would otherwise map
 * and decode the policy snapshot on every pam_start, and unmap it on every
 * pam_end: a dozen system calls and page faults per login. The module is
 * linked -z nodelete, so what it keeps here stays valid between handles.
 *
 * What is kept is bound to the exact file: one stat per login (the trust
 * rules of DESIGN.md, then device, inode, size, mtime and ctime to the
 * nanosecond) decides whether it is still the policy. Time zone rules are
 * read when the policy is compiled, so a kept policy is also dropped after
 * MODULE_POLICY_MAX_AGE seconds: a tzdata update reaches a long-running
 * service without anyone touching the policy.
 *
 * Kept policies are shared by handles in other threads (under kept.h's
 * lock): each holder has a reference, and the last one frees. */
#include <stdlib.h>
#include <string.h>

#include "kept.h"
#include "module.h"
#include "policy_snapshot.h"
#include "trust.h"

#define MODULE_POLICY_MAX_AGE 300

struct module_policy {
	struct policy *pol;
	char *path;
	struct policy_source_id id;
	int64_t loaded_at;
	unsigned refs;
};

static struct module_policy *kept; /* holds one reference */

static void policy_unref_locked(struct module_policy *mp, struct module_policy **to_free)
{
	*to_free = --mp->refs == 0 ? mp : NULL;
}

static void policy_destroy(struct module_policy *mp)
{
	if (mp == NULL)
		return;
	policy_free(mp->pol);
	free(mp->path);
	free(mp);
}

void module_policy_release(struct module_policy *mp)
{
	struct module_policy *dead = NULL;

	if (mp == NULL)
		return;
	kept_lock();
	policy_unref_locked(mp, &dead);
	kept_unlock();
	policy_destroy(dead);
}

const struct policy *module_policy_get(const struct module_policy *mp)
{
	return mp->pol;
}

bool module_policy_is(const struct module_policy *mp, const char *path)
{
	return strcmp(mp->path, path) == 0;
}

/* The kept policy when it is still the file at path, with a reference. */
static struct module_policy *kept_if_current(const char *path, int64_t now)
{
	struct module_policy *mp = NULL;
	struct policy_source_id id;
	struct stat st;

	if (trust_stat(path, &st) != TRUST_OK)
		return NULL; /* the load that follows says why */
	policy_source_id_of(&st, &id);
	kept_lock();
	if (kept != NULL && strcmp(kept->path, path) == 0 &&
	    memcmp(&kept->id, &id, sizeof(id)) == 0 && now >= kept->loaded_at &&
	    now - kept->loaded_at < MODULE_POLICY_MAX_AGE) {
		mp = kept;
		mp->refs++;
	}
	kept_unlock();
	return mp;
}

int module_policy_load(const char *path, int64_t now, struct module_policy **out,
		       int (*load)(const char *path, struct policy **pol,
				   struct policy_source_id *id, void *arg),
		       void *arg)
{
	struct module_policy *mp, *dead = NULL;
	int rv;

	mp = kept_if_current(path, now);
	if (mp != NULL) {
		*out = mp;
		return PAM_SUCCESS;
	}
	mp = calloc(1, sizeof(*mp));
	if (mp == NULL || (mp->path = strdup(path)) == NULL) {
		free(mp);
		return PAM_BUF_ERR;
	}
	rv = load(path, &mp->pol, &mp->id, arg);
	if (rv != PAM_SUCCESS) {
		policy_destroy(mp);
		return rv;
	}
	mp->loaded_at = now;
	mp->refs = 2; /* the caller's, and kept's */
	kept_lock();
	if (kept != NULL)
		policy_unref_locked(kept, &dead);
	kept = mp;
	kept_unlock();
	policy_destroy(dead);
	*out = mp;
	return PAM_SUCCESS;
}
