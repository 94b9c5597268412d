/* usergroups.c - group names of a user from NSS (getpwnam_r, getgrouplist,
 * getgrgid_r). */
#include "usergroups.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSS_BUF_START 4096
#define NSS_BUF_MAX (1024 * 1024)

/* getpwnam_r and getgrgid_r report ERANGE when the buffer is small: grow it
 * up to a cap instead of trusting sysconf's hint. */
static int lookup_passwd(const char *user, gid_t *gid)
{
	size_t cap = NSS_BUF_START;
	int rv = -2;

	for (;;) {
		struct passwd pw, *res = NULL;
		char *buf = malloc(cap);
		int err;

		if (buf == NULL)
			return -2;
		err = getpwnam_r(user, &pw, buf, cap, &res);
		if (err == 0 && res != NULL) {
			*gid = pw.pw_gid;
			rv = 0;
		} else if (err == 0 || err == ENOENT || err == ESRCH) {
			rv = -1;
		}
		free(buf);
		if (err != ERANGE || cap >= NSS_BUF_MAX)
			return rv;
		cap *= 2;
	}
}

/* 0 with *name set (NULL for a gid without a name), or -2: a lookup that
 * failed must not silently shrink the list (not_groups would then hold). */
static int group_name(gid_t gid, char **name)
{
	size_t cap = NSS_BUF_START;

	*name = NULL;
	for (;;) {
		struct group gr, *res = NULL;
		char *buf = malloc(cap);
		int err, rv = 0;

		if (buf == NULL)
			return -2;
		err = getgrgid_r(gid, &gr, buf, cap, &res);
		if (err == 0 && res != NULL) {
			*name = strdup(gr.gr_name);
			if (*name == NULL)
				rv = -2;
		} else if (err != 0 && err != ENOENT && err != ESRCH && err != ERANGE) {
			rv = -2;
		}
		free(buf);
		if (err != ERANGE)
			return rv;
		if (cap >= NSS_BUF_MAX)
			return -2;
		cap *= 2;
	}
}

int usergroups_lookup(const char *user, struct usergroups *out)
{
	gid_t primary, gids[USERGROUPS_MAX];
	int ngids = USERGROUPS_MAX, rv;

	out->n = 0;
	out->names = NULL;
	rv = lookup_passwd(user, &primary);
	if (rv != 0)
		return rv;
	/* Past the cap getgrouplist returns -1 and fills what fits: a user in
	 * more than USERGROUPS_MAX groups is judged on the first ones. */
	if (getgrouplist(user, primary, gids, &ngids) < 0)
		ngids = USERGROUPS_MAX;
	out->names = calloc((size_t)ngids, sizeof(*out->names));
	if (out->names == NULL)
		return -2;
	for (int i = 0; i < ngids; i++) {
		char *name;
		if (group_name(gids[i], &name) != 0) {
			usergroups_free(out);
			return -2;
		}
		if (name != NULL)
			out->names[out->n++] = name;
	}
	return 0;
}

void usergroups_free(struct usergroups *groups)
{
	for (size_t i = 0; i < groups->n; i++)
		free(groups->names[i]);
	free(groups->names);
	groups->names = NULL;
	groups->n = 0;
}

int usergroups_user_exists(const char *user)
{
	gid_t gid;

	return lookup_passwd(user, &gid);
}
