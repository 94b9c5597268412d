/* pam_fixture.h - what the pam tier's Check programs (test_pam.c,
 * test_pam_mail.c) share: the modules under test, a temporary directory per
 * test holding the policy, the token store, the event spool and the PAM
 * service files, logins through real libpam with pam_garde's PAM_IGNORE made
 * visible, and tokens, lockout counters and events read back. Each program
 * keeps what it is about: its policy text, its services, its conversation.
 *
 * Check runs each test in a child process, so the fixture's state is one
 * global that each child sets up for itself. */
#ifndef GARDE_PAM_FIXTURE_H
#define GARDE_PAM_FIXTURE_H

#include <check.h>
#include <limits.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "otp.h"

struct pam_fixture {
	/* Absolute paths, set once in main by fixture_find_modules(): service
	 * files name the modules by path, not by name. */
	char garde_so[PATH_MAX + 64];  /* BUILD/pam_garde.so */
	char expect_so[PATH_MAX + 64]; /* BUILD/tests/pam_expect_authtok.so */
	/* Per test, set by fixture_setup_dir(). */
	char dir[PATH_MAX];             /* the temporary directory */
	char policy[PATH_MAX + 32];     /* DIR/policy.conf, written by each program */
	char store[PATH_MAX + 32];      /* DIR/store, the token store */
	char spool[PATH_MAX + 32];      /* DIR/spool, the event spool */
	char pamd[PATH_MAX + 32];       /* DIR/pam.d, the services for pam_start_confdir */
	char module_args[4 * PATH_MAX]; /* "policy=... store=... spool=..." for pam_garde lines */
};

extern struct pam_fixture fixture;

/* Fills fixture.garde_so and fixture.expect_so from the build directory and
 * checks both are there. 0, or 2 (the exit status) after saying why on
 * stderr under the name prog. */
int fixture_find_modules(const char *prog, const char *build_dir);

/* Runs suite; the exit status of the program. */
int fixture_run(Suite *suite);

/* Makes the temporary directory from dir_template (mkdtemp's XXXXXX at the
 * end), names its paths and makes DIR/pam.d. The caller writes the policy
 * and the services. */
void fixture_setup_dir(const char *dir_template);

/* Removes the temporary directory and everything in it (a Check teardown). */
void fixture_teardown(void);

/* path holds text and has mode (fchmod: the umask does not apply). Never
 * follows a link. */
void fixture_write_file(const char *path, mode_t mode, const char *text);

/* Writes the service name in DIR/pam.d, mode 0644, from a printf format. */
void fixture_write_service(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* pam_start_confdir on DIR/pam.d, and PAM_RHOST when rhost is not NULL.
 * NULL when either fails. No Check assertion: forked children and threads
 * call it too. */
pam_handle_t *fixture_pam_start(const char *service, const char *user, const char *rhost,
				const struct pam_conv *conv);

/* pam_authenticate (or pam_acct_mgmt when account), with pam_garde's
 * PAM_IGNORE made visible: the stacks put `pam_expect_authtok.so mark=PHASE`
 * after `[... ignore=ignore ...] pam_garde.so`, so the mark is set only when
 * pam_garde stepped aside, and PAM_SUCCESS with the mark is PAM_IGNORE. */
int fixture_probe(pam_handle_t *pamh, bool account);

/* Gives user a TOTP token (30 s steps) of algo with the ASCII secret; its
 * copy in *out unless out is NULL. Enrolling again resets the last step. */
void fixture_enroll(const char *user, enum otp_algo algo, const char *secret, unsigned digits,
		    struct otp_token *out);

/* tok's code at now + steps time steps. */
void fixture_code_at(const struct otp_token *tok, int steps, char out[OTP_CODE_BUF]);

/* A well-formed code of tok that matches no step within three of now: the
 * first one counting up from first (zero-padded to tok's digits). */
void fixture_code_wrong(const struct otp_token *tok, unsigned first, char out[OTP_CODE_BUF]);

/* Failures counted in user's record for zone, read under the user's lock;
 * *locked tells whether that zone is locked now, unless locked is NULL. */
unsigned fixture_user_failures(const char *user, const char *zone, bool *locked);

/* Nothing in the store was made for user: no record, and not the stripe
 * lock that making a first record takes. */
void fixture_expect_no_files_for(const char *user);

/* Events taken out of DIR/spool/new. */
#define FIXTURE_MAX_EVENTS 128
#define FIXTURE_EVENT_READ 8191 /* bytes read of each; a real event is far shorter */

struct fixture_events {
	size_t n;
	char *v[FIXTURE_MAX_EVENTS];    /* NUL-terminated, allocated */
	size_t len[FIXTURE_MAX_EVENTS]; /* bytes read: an embedded NUL ends v[i] early */
};

/* Reads and removes every event in the spool, in directory order. Checks
 * nothing in them: each program asks what it needs of them. */
void fixture_events_take(struct fixture_events *ev);
void fixture_events_free(struct fixture_events *ev);
void fixture_events_dump(const struct fixture_events *ev); /* to stderr */

/* The spool holds no event (and is emptied when it does). */
void fixture_expect_no_event(void);

#endif
