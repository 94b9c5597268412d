/* cmd_sign.c - `garde keygen`, `garde sign`, `garde verify`: the central
 * team's side of signed policies (lib/sig.h). Hosts check the same
 * signatures with the same sig_verify() before garde-agent installs a
 * policy. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "policy.h"
#include "sig.h"
#include "trust.h"

static void keygen_usage(FILE *out)
{
	fprintf(out,
		"usage: garde keygen --out PREFIX\n"
		"\n"
		"Creates an Ed25519 key pair for signing policies: PREFIX.key, the private\n"
		"key (PEM PKCS#8, mode 0600: keep it off the hosts), and PREFIX.pub, the\n"
		"public key to install on every host (garde-agent.conf keys). Existing\n"
		"files are never overwritten. Prints the new key's id.\n"
		"\n"
		"  -o, --out PREFIX   where to write PREFIX.key and PREFIX.pub\n"
		"  -h, --help         this help\n"
		"\n"
		"Exit status: 0 created, 1 not created (a file exists, I/O error),\n"
		"2 usage error.\n");
}

int cmd_keygen(int argc, char **argv)
{
	static const struct option options[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prefix = NULL;
	char id[SIG_KEYID_LEN + 1];
	int c, rv;

	while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
		switch (c) {
		case 'o': prefix = optarg; break;
		case 'h': keygen_usage(stdout); return CLI_OK;
		default: keygen_usage(stderr); return CLI_USAGE;
		}
	}
	if (optind != argc || prefix == NULL || prefix[0] == '\0') {
		keygen_usage(stderr);
		return CLI_USAGE;
	}
	rv = sig_keygen(prefix, id);
	if (rv == SIG_EEXIST) {
		cli_error("keygen", "%s.key or %s.pub already exists: choose another --out PREFIX "
			  "(an existing key is never overwritten)", prefix, prefix);
		return CLI_FAIL;
	}
	if (rv != SIG_OK) {
		if (rv == SIG_EIO)
			cli_error("keygen", "cannot create %s.key and %s.pub: %s (does the "
				  "directory exist, and may you write in it?)", prefix, prefix,
				  strerror(errno));
		else
			cli_error("keygen", "%s: %s", prefix, sig_strerror(rv));
		return rv == SIG_EINVAL ? CLI_USAGE : CLI_FAIL;
	}
	printf("%s.key: private key, mode 0600: keep it secret and off the hosts\n", prefix);
	printf("%s.pub: public key %s: install it on the hosts\n", prefix, id);
	return CLI_OK;
}

/* Reads a file that need not pass the trust rules (a policy to verify, a
 * .sig) but is still no symbolic link, FIFO or device, and at most max bytes
 * (TRUST_ETOOBIG past it). 0 or a negative enum trust_error. */
static int read_plain(const char *path, size_t max, char **data, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), rv;

	if (fd < 0)
		return errno == ENOENT ? TRUST_ENOENT : errno == ELOOP ? TRUST_ESYMLINK : TRUST_EIO;
	if (fstat(fd, &st) != 0)
		rv = TRUST_EIO;
	else if (!S_ISREG(st.st_mode))
		rv = TRUST_ETYPE;
	else
		rv = trust_read_fd(fd, max, data, len);
	close(fd);
	return rv;
}

static int sig_path(const char *command, const char *policy, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s.sig", policy);

	if (n < 0 || (size_t)n >= cap) {
		cli_error(command, "%s: path too long", policy);
		return -1;
	}
	return 0;
}

/* Replaces path with len bytes of text, mode 0644, atomically: a temporary
 * file in the same directory, fsync, rename, fsync of the directory. A
 * host fetching the .sig mid-way sees the old one or the new one. */
static int write_atomic(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd = -1, dfd = -1, rv = -1, n;
	bool created = false;
	size_t off = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		goto out;
	created = true;
	/* The .sig is public: it is published next to the policy. */
	if (fchmod(fd, 0644) != 0)
		goto out;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	created = false;
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	rv = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (created) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
	}
	return rv;
}

static void sign_usage(FILE *out)
{
	fprintf(out,
		"usage: garde sign --key PREFIX.key [--replace] POLICY\n"
		"\n"
		"Signs the exact bytes of POLICY with an Ed25519 private key and writes\n"
		"POLICY.sig (atomically). When POLICY.sig exists, this key's signature is\n"
		"added to it, so that several keys can sign one policy (threshold); a key\n"
		"that already signed these bytes changes nothing. Publish POLICY and\n"
		"POLICY.sig together.\n"
		"\n"
		"  -k, --key FILE   the private key (garde keygen); mode 0600, owned by you\n"
		"  -r, --replace    start a fresh POLICY.sig with this signature alone (after\n"
		"                   the policy changed, the other signers sign again)\n"
		"  -h, --help       this help\n"
		"\n"
		"Exit status: 0 signed, 1 not signed, 2 usage error or unusable input.\n");
}

static void print_sign_error(const char *keyfile, const char *sigfile, int rv,
			     const struct sig_sign_info *info)
{
	switch (rv) {
	case SIG_ETRUST:
		cli_error("sign", "%s: %s%s", keyfile,
			  info->detail != NULL ? info->detail : trust_strerror(info->trust_err),
			  info->trust_err == TRUST_ENOENT ? " (create a key with garde keygen)" : "");
		break;
	case SIG_EKEY:
		cli_error("sign", "%s: not an unencrypted Ed25519 private key in PEM "
			  "(create one with garde keygen)", keyfile);
		break;
	case SIG_EFORMAT:
		if (info->line > 0)
			cli_error("sign", "%s:%zu: %s: fix it or use --replace", sigfile, info->line,
				  info->detail);
		else
			cli_error("sign", "%s: %s: fix it or use --replace", sigfile, info->detail);
		break;
	case SIG_ESTALE:
		cli_error("sign", "%s:%zu: holds a signature by key %s of other bytes (the policy "
			  "changed since): use --replace to start a fresh signature file",
			  sigfile, info->line, info->id);
		break;
	default:
		cli_error("sign", "%s: %s", keyfile, sig_strerror(rv));
		break;
	}
}

int cmd_sign(int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "replace", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = NULL, *policy;
	char sigfile[PATH_MAX];
	char *data = NULL, *old = NULL, *text = NULL;
	size_t len = 0, old_len = 0, text_len = 0;
	struct sig_sign_info info;
	int replace = 0, c, rv = CLI_USAGE, err;

	while ((c = getopt_long(argc, argv, "k:rh", options, NULL)) != -1) {
		switch (c) {
		case 'k': keyfile = optarg; break;
		case 'r': replace = 1; break;
		case 'h': sign_usage(stdout); return CLI_OK;
		default: sign_usage(stderr); return CLI_USAGE;
		}
	}
	if (optind + 1 != argc || keyfile == NULL) {
		sign_usage(stderr);
		return CLI_USAGE;
	}
	policy = argv[optind];
	if (sig_path("sign", policy, sigfile, sizeof(sigfile)) != 0)
		goto out;
	/* The bytes signed are the bytes on disk, read once under the trust
	 * rules: a policy that others may rewrite is not what was reviewed. */
	err = trust_read_file(policy, POLICY_MAX_BYTES, &data, &len);
	if (err != TRUST_OK) {
		cli_error("sign", "%s: %s", policy,
			  err == TRUST_ETOOBIG ? "over 4 MiB (the module refuses it)"
					       : trust_strerror(err));
		goto out;
	}
	if (!replace) {
		err = read_plain(sigfile, SIG_MAX_BYTES, &old, &old_len);
		if (err == TRUST_ETOOBIG) {
			cli_error("sign", "%s: over 4096 bytes: use --replace", sigfile);
			goto out;
		}
		if (err != TRUST_OK && err != TRUST_ENOENT) {
			cli_error("sign", "%s: %s", sigfile, trust_strerror(err));
			goto out;
		}
	}
	err = sig_sign(keyfile, (const uint8_t *)data, len, old, old_len, &text, &text_len, &info);
	if (err != SIG_OK) {
		print_sign_error(keyfile, sigfile, err, &info);
		rv = err == SIG_ETRUST || err == SIG_EKEY ? CLI_USAGE : CLI_FAIL;
		goto out;
	}
	if (info.already) {
		printf("%s: already signed by key %s; unchanged\n", sigfile, info.id);
		rv = CLI_OK;
		goto out;
	}
	if (write_atomic(sigfile, text, text_len) != 0) {
		cli_error("sign", "%s: cannot write: %s", sigfile, strerror(errno));
		rv = CLI_FAIL;
		goto out;
	}
	printf("%s: signed by key %s (%u signature%s)\n", sigfile, info.id, info.n_lines,
	       info.n_lines == 1 ? "" : "s");
	rv = CLI_OK;
out:
	free(data);
	free(old);
	free(text);
	return rv;
}

static void verify_usage(FILE *out)
{
	fprintf(out,
		"usage: garde verify --key PREFIX.pub [--key PREFIX.pub ...] [--threshold N]\n"
		"                    POLICY\n"
		"\n"
		"Checks POLICY.sig against the exact bytes of POLICY, as garde-agent does\n"
		"before it installs a policy: at least N distinct keys among those given\n"
		"must have signed it, and no signature by a given key may be bad.\n"
		"Signatures by other keys are ignored.\n"
		"\n"
		"  -k, --key FILE       a trusted public key (up to %d)\n"
		"  -t, --threshold N    distinct trusted keys required (default 1)\n"
		"  -h, --help           this help\n"
		"\n"
		"Exit status: 0 good signature, 1 not validly signed (the reason is\n"
		"printed), 2 usage error or unusable input (policy or key unreadable).\n",
		SIG_MAX_LINES);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option options[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "threshold", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfiles[SIG_MAX_LINES], *policy;
	struct sig_pubkey keys[SIG_MAX_LINES];
	size_t nkeys = 0, len = 0, sig_len = 0;
	uint64_t threshold = 1;
	char sigfile[PATH_MAX], why[512];
	char *data = NULL, *sig_text = NULL;
	struct sig_result res;
	int c, rv = CLI_USAGE, err, trust_err;

	while ((c = getopt_long(argc, argv, "k:t:h", options, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (nkeys == SIG_MAX_LINES) {
				cli_error("verify", "more than %d --key options", SIG_MAX_LINES);
				return CLI_USAGE;
			}
			keyfiles[nkeys++] = optarg;
			break;
		case 't':
			if (cli_parse_uint(optarg, 1, SIG_MAX_LINES, &threshold) != 0) {
				cli_error("verify", "--threshold: '%s' is not a number from 1 to %d",
					  optarg, SIG_MAX_LINES);
				return CLI_USAGE;
			}
			break;
		case 'h': verify_usage(stdout); return CLI_OK;
		default: verify_usage(stderr); return CLI_USAGE;
		}
	}
	if (optind + 1 != argc || nkeys == 0) {
		verify_usage(stderr);
		return CLI_USAGE;
	}
	if (threshold > nkeys) {
		cli_error("verify", "--threshold %u can never be met with %zu key%s",
			  (unsigned)threshold, nkeys, nkeys == 1 ? "" : "s");
		return CLI_USAGE;
	}
	for (size_t i = 0; i < nkeys; i++) {
		err = sig_pubkey_load(keyfiles[i], &keys[i], &trust_err);
		if (err == SIG_ETRUST) {
			cli_error("verify", "%s: %s", keyfiles[i], trust_strerror(trust_err));
			return CLI_USAGE;
		}
		if (err != SIG_OK) {
			cli_error("verify", "%s: not a garde public key (one line: "
				  "%s KEYID BASE64; made by garde keygen)", keyfiles[i], SIG_PUB_TAG);
			return CLI_USAGE;
		}
	}
	policy = argv[optind];
	if (sig_path("verify", policy, sigfile, sizeof(sigfile)) != 0)
		goto out;
	err = read_plain(policy, POLICY_MAX_BYTES, &data, &len);
	if (err != TRUST_OK) {
		cli_error("verify", "%s: %s", policy,
			  err == TRUST_ETOOBIG ? "over 4 MiB" : trust_strerror(err));
		goto out;
	}
	/* One byte over the cap, so that sig_verify itself names an oversize
	 * .sig the way a host would. */
	err = read_plain(sigfile, SIG_MAX_BYTES + 1, &sig_text, &sig_len);
	if (err == TRUST_ETOOBIG) {
		fprintf(stderr, "%s: malformed signature file %s: over 4096 bytes\n", policy, sigfile);
		rv = CLI_FAIL;
		goto out;
	}
	if (err != TRUST_OK) {
		fprintf(stderr, "%s: not signed: %s %s%s\n", policy, sigfile, trust_strerror(err),
			err == TRUST_ENOENT ? " (sign it with garde sign)" : "");
		rv = CLI_FAIL;
		goto out;
	}
	err = sig_verify((const uint8_t *)data, len, sig_text, sig_len, keys, nkeys,
			 (unsigned)threshold, &res);
	sig_result_describe(&res, (unsigned)threshold, why, sizeof(why));
	if (err != SIG_OK) {
		fprintf(stderr, "%s: %s\n", policy, why);
		rv = err == SIG_ENOMEM || err == SIG_ECRYPTO || err == SIG_EINVAL ? CLI_USAGE
										 : CLI_FAIL;
		goto out;
	}
	printf("%s: %s\n", policy, why);
	rv = CLI_OK;
out:
	free(data);
	free(sig_text);
	return rv;
}
