/* pam_calls.c - a PAM module for make bench only (never installed): it
 * makes the system calls a pam_garde login makes, in the same order, and
 * does nothing else but compute the file names (the SHA-256 of the user
 * and of the source): no decision, no parsing, no checking, no code. Timed
 * beside pam_garde on the same harness, what it costs over pam_permit is
 * what the design's file-system work (one policy file, one record per user
 * and per source, the record as its own lock) costs on this machine, which
 * no implementation of that design can avoid; the rest of pam_garde's cost
 * is its own work.
 *
 * Options: policy=FILE store=DIR, and code for a login that asks for a
 * code (the auth phase of `auth required pam_garde.so` with a mfa rule).
 * What a code login writes back is the slot it read, unchanged: pam_garde
 * logins of the same user go on working. It mirrors pam_module/ and
 * lib/store.c as they are; a change to the calls those make belongs here
 * too. */
#define _GNU_SOURCE /* O_PATH, O_NOATIME, F_DUPFD_CLOEXEC */
#include <fcntl.h>
#include <linux/openat2.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "store.h"

#define CALLS_OPEN (O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOATIME)

static int kept_root = -1;

static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(CALLS_OPEN | flags),
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* "users/<H>" or "sources/<H>" of name. */
static void record_path(char *out, size_t len, const char *dir, const char *name)
{
	char hex[STORE_HASH_HEX];
	size_t n = strlen(dir);

	store_name_hash(name, strlen(name), hex);
	if (n + 1 + sizeof(hex) > len)
		n = 0;
	memcpy(out, dir, n);
	out[n] = '/';
	memcpy(out + n + 1, hex, sizeof(hex));
}

/* The peek of a source: pam_garde opens it, and reads it when it exists. */
static void peek_source(int root, const char *source)
{
	char path[96], buf[STORE_SLOT_HDR + 512];
	int fd;

	record_path(path, sizeof(path), "sources", source);
	fd = open_beneath(root, path, O_RDONLY);
	if (fd < 0)
		return;
	if (pread(fd, buf, sizeof(buf), 0) < 0)
		buf[0] = '\0';
	close(fd);
}

/* The two slots' first reads, as lib/store_slot.c makes them. */
static ssize_t read_slots(int fd, char *a, char *b)
{
	ssize_t n = pread(fd, a, 2048, 0);

	if (pread(fd, b, 2048, STORE_RECORD_MAX) < 0)
		b[0] = '\0';
	return n;
}

PAM_EXTERN __attribute__((visibility("default"))) int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const char *policy = "", *store = "", *user = NULL;
	const void *rhost = NULL;
	char path[96], a[2048], b[2048], *code = NULL;
	bool ask = false;
	struct stat sb;
	int root, fd;
	ssize_t n;

	(void)flags;
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "policy=", 7) == 0)
			policy = argv[i] + 7;
		else if (strncmp(argv[i], "store=", 6) == 0)
			store = argv[i] + 6;
		else if (strcmp(argv[i], "code") == 0)
			ask = true;
	}
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS ||
	    pam_get_item(pamh, PAM_RHOST, &rhost) != PAM_SUCCESS || rhost == NULL)
		return PAM_AUTH_ERR;
	if (fstatat(AT_FDCWD, policy, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return PAM_AUTH_ERR;
	if (kept_root < 0)
		kept_root = open(store, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	root = fcntl(kept_root, F_DUPFD_CLOEXEC, 0);
	if (root < 0 || fstat(root, &sb) != 0)
		return PAM_AUTH_ERR;
	peek_source(root, rhost);
	record_path(path, sizeof(path), "users", user);
	fd = open_beneath(root, path, O_RDWR);
	if (fd >= 0 && fstat(fd, &sb) == 0)
		read_slots(fd, a, b);
	if (fd >= 0 && ask) {
		pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &code, "Verification code: ");
		free(code);
		if (flock(fd, LOCK_EX) == 0 && fstat(fd, &sb) == 0 &&
		    (n = read_slots(fd, a, b)) > STORE_SLOT_HDR) {
			/* Slot A as it is: its header's length field, then one pwrite. */
			size_t len = STORE_SLOT_HDR + strtoul(a + 32, NULL, 10);

			peek_source(root, rhost);
			if (len <= (size_t)n && pwrite(fd, a, len, 0) != (ssize_t)len)
				a[0] = '\0';
		}
	}
	if (fd >= 0)
		close(fd);
	close(root);
	return PAM_IGNORE;
}

PAM_EXTERN __attribute__((visibility("default"))) int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN __attribute__((visibility("default"))) int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
