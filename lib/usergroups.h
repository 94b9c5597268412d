/* usergroups.h - a user's group names (primary and supplementary) from NSS,
 * with reentrant calls only (the module runs inside sshd and dovecot). */
#ifndef GARDE_USERGROUPS_H
#define GARDE_USERGROUPS_H

#include <stddef.h>

#define USERGROUPS_MAX 1024

struct usergroups {
	size_t n;
	char **names;
};

/* Returns 0, -1 when the user is unknown to NSS, -2 on any other failure. */
int usergroups_lookup(const char *user, struct usergroups *out);
/* The user's passwd entry only: 0 known, -1 unknown to NSS, -2 failure.
 * Cheaper than usergroups_lookup when the groups are not needed. */
int usergroups_user_exists(const char *user);

void usergroups_free(struct usergroups *groups);

#endif
