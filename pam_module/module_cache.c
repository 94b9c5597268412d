/* module_cache.c - what one PAM transaction loads once. The policy and the
 * user's NSS data are kept as PAM data on the handle, so the account phase
 * that follows the auth phase in the same process (sudo, su, dovecot, the
 * child in which sshd runs keyboard-interactive) does not read them again.
 * The policy itself is the process's (module_policy.c): the handle holds a
 * reference, which pam_end gives back. */
#include <security/pam_modules.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"

#define MODULE_CACHE_DATA "pam_garde_cache"

struct module_cache {
	struct module_policy *pol; /* a reference */
	char *user; /* whom the NSS data below describes */
	int user_state; /* usergroups_* result: 0 known, -1 unknown */
	bool groups_loaded;
	struct usergroups groups;
};

static void forget_user(struct module_cache *c)
{
	usergroups_free(&c->groups);
	free(c->user);
	c->user = NULL;
	c->groups_loaded = false;
}

static void cache_cleanup(pam_handle_t *pamh, void *data, int status)
{
	struct module_cache *c = data;

	(void)pamh;
	(void)status;
	forget_user(c);
	module_policy_release(c->pol);
	free(c);
}

static struct module_cache *cache_get(pam_handle_t *pamh)
{
	const void *data = NULL;
	struct module_cache *c;

	if (pam_get_data(pamh, MODULE_CACHE_DATA, &data) == PAM_SUCCESS && data != NULL)
		return (struct module_cache *)(uintptr_t)data;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	if (pam_set_data(pamh, MODULE_CACHE_DATA, c, cache_cleanup) != PAM_SUCCESS) {
		free(c);
		return NULL;
	}
	return c;
}

int module_cache_policy(pam_handle_t *pamh, const char *path, int64_t now,
			const struct policy **pol,
			int (*load)(const char *path, struct policy **out,
				    struct policy_source_id *id, void *arg),
			void *arg)
{
	struct module_cache *c = cache_get(pamh);
	int rv;

	if (c == NULL)
		return PAM_BUF_ERR;
	if (c->pol == NULL || !module_policy_is(c->pol, path)) {
		module_policy_release(c->pol);
		c->pol = NULL;
		rv = module_policy_load(path, now, &c->pol, load, arg);
		if (rv != PAM_SUCCESS)
			return rv;
	}
	*pol = module_policy_get(c->pol);
	return PAM_SUCCESS;
}

int module_cache_user(pam_handle_t *pamh, const char *user, bool need_groups, bool *known,
		      const struct usergroups **groups)
{
	static const struct usergroups none = { 0, NULL };
	struct module_cache *c = cache_get(pamh);
	int rv;

	if (c == NULL)
		return -2;
	if (c->user == NULL || strcmp(c->user, user) != 0) {
		forget_user(c);
		c->user = strdup(user);
		if (c->user == NULL)
			return -2;
		c->user_state = 1; /* not looked up yet */
	}
	if (need_groups && !c->groups_loaded) {
		rv = usergroups_lookup(user, &c->groups);
		if (rv == -2)
			return rv;
		c->user_state = rv;
		c->groups_loaded = true;
	} else if (c->user_state == 1) {
		rv = usergroups_user_exists(user);
		if (rv == -2)
			return rv;
		c->user_state = rv;
	}
	*known = c->user_state == 0;
	*groups = c->groups_loaded ? &c->groups : &none;
	return 0;
}
