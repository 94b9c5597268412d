/* module_opts.h - the options on a pam_garde.so line in /etc/pam.d. */
#ifndef GARDE_MODULE_OPTS_H
#define GARDE_MODULE_OPTS_H

#include <stdbool.h>

#define MODULE_DEFAULT_POLICY "/etc/garde/policy.conf"
#define MODULE_DEFAULT_STORE "/var/lib/garde"
#define MODULE_DEFAULT_SPOOL "/var/spool/garde"
#define MODULE_PATH_MAX 1024

enum module_code_mode {
	CODE_PROMPT, /* ask "Verification code: " through the conversation */
	CODE_SUFFIX, /* the last `digits` characters of PAM_AUTHTOK are the code */
};

enum module_failmode {
	FAILMODE_SECURE, /* an unusable policy denies */
	FAILMODE_SAFE,   /* an unusable policy lets the rest of the stack decide */
};

struct module_opts {
	const char *policy; /* point into argv, which outlives the call */
	const char *store;
	const char *spool;
	enum module_code_mode mode;
	enum module_failmode failmode;
	bool debug;
	bool app_password; /* a PAM_AUTHTOK shaped as an app password is checked as one */
};

/* Parses argv. Returns 0, or -1 with the offending argument in *bad. */
int module_opts_parse(int argc, const char **argv, struct module_opts *out, const char **bad);

#endif
