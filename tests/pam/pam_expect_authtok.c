/* pam_expect_authtok.c - a test module for the pam tier, never installed.
 *
 *   expect=TEXT  auth: PAM_SUCCESS iff PAM_AUTHTOK is exactly TEXT, else
 *                PAM_AUTH_ERR. Stacked after `pam_garde.so mode=suffix`, it
 *                proves that the password half reaches the next module
 *                intact (what pam_unix.so use_first_pass would check).
 *   mark=NAME    auth and account: sets the PAM environment variable
 *                GARDE_REACHED_NAME=1 and returns PAM_SUCCESS. Placed after
 *                `[success=done ignore=ignore default=die] pam_garde.so`, it
 *                tells the test that pam_garde returned PAM_IGNORE (the line
 *                was reached) rather than PAM_SUCCESS (the stack was done):
 *                libpam itself never hands a module's PAM_IGNORE back. */
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <string.h>

static int expect_run(pam_handle_t *pamh, int argc, const char **argv)
{
	const void *tok = NULL;

	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "mark=", 5) == 0) {
			char env[128];
			int n = snprintf(env, sizeof(env), "GARDE_REACHED_%s=1", argv[i] + 5);

			if (n < 0 || (size_t)n >= sizeof(env))
				return PAM_SERVICE_ERR;
			return pam_putenv(pamh, env) == PAM_SUCCESS ? PAM_SUCCESS : PAM_SERVICE_ERR;
		}
		if (strncmp(argv[i], "expect=", 7) == 0) {
			if (pam_get_item(pamh, PAM_AUTHTOK, &tok) != PAM_SUCCESS || tok == NULL)
				return PAM_AUTH_ERR;
			return strcmp(tok, argv[i] + 7) == 0 ? PAM_SUCCESS : PAM_AUTH_ERR;
		}
	}
	return PAM_SERVICE_ERR;
}

PAM_EXTERN __attribute__((visibility("default"))) int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return expect_run(pamh, argc, argv);
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
	(void)flags;
	return expect_run(pamh, argc, argv);
}
