/* module_opts.c - pam_garde.so options. Anything unknown or malformed is
 * an error: a typo on a pam.d line must not quietly weaken a login. */
#include "module_opts.h"

#include <string.h>

static bool path_value(const char *arg, const char *key, const char **out)
{
	size_t klen = strlen(key);

	if (strncmp(arg, key, klen) != 0)
		return false;
	*out = arg + klen;
	return true;
}

/* A path option must be absolute and of sane length. */
static bool path_ok(const char *path)
{
	return path[0] == '/' && strlen(path) < MODULE_PATH_MAX;
}

int module_opts_parse(int argc, const char **argv, struct module_opts *out, const char **bad)
{
	*out = (struct module_opts){
		.policy = MODULE_DEFAULT_POLICY,
		.store = MODULE_DEFAULT_STORE,
		.spool = MODULE_DEFAULT_SPOOL,
		.mode = CODE_PROMPT,
		.failmode = FAILMODE_SECURE,
	};
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *value;

		*bad = arg;
		if (arg == NULL)
			return -1;
		if (path_value(arg, "policy=", &value)) {
			if (!path_ok(value))
				return -1;
			out->policy = value;
		} else if (path_value(arg, "store=", &value)) {
			if (!path_ok(value))
				return -1;
			out->store = value;
		} else if (path_value(arg, "spool=", &value)) {
			if (!path_ok(value))
				return -1;
			out->spool = value;
		} else if (strcmp(arg, "mode=prompt") == 0) {
			out->mode = CODE_PROMPT;
		} else if (strcmp(arg, "mode=suffix") == 0) {
			out->mode = CODE_SUFFIX;
		} else if (strcmp(arg, "failmode=secure") == 0) {
			out->failmode = FAILMODE_SECURE;
		} else if (strcmp(arg, "failmode=safe") == 0) {
			out->failmode = FAILMODE_SAFE;
		} else if (strcmp(arg, "debug") == 0) {
			out->debug = true;
		} else if (strcmp(arg, "app_password") == 0) {
			out->app_password = true;
		} else {
			return -1;
		}
	}
	*bad = NULL;
	return 0;
}
