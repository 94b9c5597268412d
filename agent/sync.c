/* sync.c - the checks and the atomic install shared by pull and push.
 *
 * Install order in the target's directory, chosen so that a crash (kill -9,
 * power loss) at any point leaves TARGET whole, old or new, never missing:
 *   1. TARGET.new and TARGET.sig.new written and fsync'd;
 *   2. the previous files kept: link(TARGET, TARGET.prev.tmp), then rename
 *      over TARGET.prev (a link, so TARGET itself never moves);
 *   3. rename(TARGET.sig.new, TARGET.sig), then rename(TARGET.new, TARGET):
 *      TARGET is the commit point; a crash between the two leaves the new
 *      signature beside the old policy, and the next sync (serial still
 *      higher than the installed one) installs both again;
 *   4. fsync of the directory, then the state file.
 * One lock (STATE_DIR/lock) serialises sync and apply, so a push from a
 * configuration tool and the daemon's pull cannot interleave. */
#include "sync.h"
#include "policy.h"
#include "rfc3339.h"
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SYNC_PATH_MAX 4096

void sync_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	/* One line, whatever the server or the file put in it. */
	for (char *p = why; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static void sync_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		hex[0] = '\0';
		return;
	}
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

int sync_load_keys(const struct agent_config *cfg, struct sync_keys *keys, char *why,
		   size_t whylen)
{
	memset(keys, 0, sizeof(*keys));
	if (cfg->n_keys == 0) {
		sync_why(why, whylen, "%s: no trusted keys: add policy.keys = [ \"/etc/garde/keys/NAME.pub\" ]",
			 cfg->path);
		return SYNC_ELOCAL;
	}
	for (size_t i = 0; i < cfg->n_keys; i++) {
		int terr = 0, rc = sig_pubkey_load(cfg->keys[i], &keys->keys[i], &terr);

		if (rc != SIG_OK) {
			sync_why(why, whylen, "%s: trusted key %s: %s", cfg->path, cfg->keys[i],
				 rc == SIG_ETRUST ? trust_strerror(terr) : sig_strerror(rc));
			return SYNC_ELOCAL;
		}
	}
	keys->n = cfg->n_keys;
	keys->threshold = cfg->threshold > 0 ? cfg->threshold : 1;
	return 0;
}

/* --- the lock and the state ------------------------------------------- */

static int sync_lock(const struct agent_config *cfg, char *why, size_t whylen)
{
	char path[SYNC_PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/lock", cfg->state_dir) >= sizeof(path)) {
		sync_why(why, whylen, "%s: path too long", cfg->state_dir);
		return -1;
	}
	/* The state directory is the agent's own; created on first use so that
	 * `apply` works on a host where the daemon never ran. */
	if (mkdir(cfg->state_dir, 0755) != 0 && errno != EEXIST) {
		sync_why(why, whylen, "%s: cannot create (%s): create it, or set state_dir in %s",
			 cfg->state_dir, strerror(errno), cfg->path);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		sync_why(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			sync_why(why, whylen, "%s: cannot lock: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void sync_state_note(struct agent_state *st, int status, const char *why, int64_t now)
{
	switch (status) {
	case SYNC_INSTALLED:
		state_set_text(st->last_result, sizeof(st->last_result), "installed");
		st->last_install = now;
		break;
	case SYNC_UNCHANGED:
		state_set_text(st->last_result, sizeof(st->last_result), "unchanged");
		break;
	default:
		state_set_text(st->last_result, sizeof(st->last_result),
			       status == SYNC_EREFUSED ? "refused" : "error");
		state_set_text(st->last_error, sizeof(st->last_error), why);
		st->last_error_at = now;
		break;
	}
}

void sync_record(const struct agent_config *cfg, int status, const char *why)
{
	struct agent_state st;
	char err[SYNC_WHY_MAX];
	int lock = sync_lock(cfg, err, sizeof(err));

	if (lock < 0)
		return;
	if (state_load(cfg->state_dir, &st, err, sizeof(err)) == 0) {
		int64_t now = (int64_t)time(NULL);
		if (status == SYNC_UNCHANGED)
			st.last_fetch = now;
		sync_state_note(&st, status, why, now);
		(void)state_save(cfg->state_dir, &st, err, sizeof(err));
	}
	close(lock);
}

/* --- what is installed --------------------------------------------------- */

struct sync_installed {
	bool present;
	int64_t serial; /* 0 when absent or unreadable */
	char sha256[65];
};

static void sync_read_installed(const struct agent_config *cfg, struct sync_installed *in)
{
	struct policy_load_opts opts = { 0 };
	struct policy *pol = NULL;
	char *text = NULL;
	size_t len = 0;

	memset(in, 0, sizeof(*in));
	if (trust_read_file(cfg->policy_target, POLICY_MAX_BYTES, &text, &len) != TRUST_OK)
		return;
	in->present = true;
	sync_sha256_hex(text, len, in->sha256);
	if (policy_parse(text, len, cfg->policy_target, &opts, &pol) == 0)
		in->serial = pol->serial;
	policy_free(pol);
	free(text);
}

void sync_etag_for_request(const struct agent_config *cfg, char etag[STATE_ETAG_MAX])
{
	struct sync_installed in;
	struct agent_state st;
	char err[SYNC_WHY_MAX];

	etag[0] = '\0';
	if (state_load(cfg->state_dir, &st, err, sizeof(err)) != 0 || st.etag[0] == '\0')
		return;
	sync_read_installed(cfg, &in);
	if (in.present && strcmp(in.sha256, st.sha256) == 0)
		memcpy(etag, st.etag, STATE_ETAG_MAX);
}

/* --- the checks ------------------------------------------------------------ */

struct sync_first_error {
	unsigned n;
	char text[320];
};

static void sync_keep_first(void *arg, const char *file, int line, const char *message)
{
	struct sync_first_error *fe = arg;

	if (fe->n++ != 0)
		return;
	if (line > 0)
		snprintf(fe->text, sizeof(fe->text), "%s:%d: %s", file, line, message);
	else
		snprintf(fe->text, sizeof(fe->text), "%s: %s", file, message);
}

static const char *sync_sig_category(int rc)
{
	switch (rc) {
	case SIG_EBADSIG: return "bad signature";
	case SIG_EUNKNOWNKEY: return "unknown key";
	case SIG_ETHRESHOLD: return "not enough signatures";
	case SIG_EFORMAT: return "malformed signature";
	default: return "signature not verified";
	}
}

/* Size, signature, validity, expiry: the checks that need nothing from
 * the host. *out is the parsed policy on success. */
static int sync_check(const struct agent_config *cfg, const struct sync_keys *keys,
		      const char *text, size_t len, const char *sig, size_t sig_len,
		      const char *name, struct policy **out, char *why, size_t whylen)
{
	struct sync_first_error fe = { 0 };
	struct policy_load_opts opts = { .diag = sync_keep_first, .diag_arg = &fe };
	struct sig_result res;
	char detail[256];
	int rc;

	if (len > cfg->policy_max_bytes) {
		sync_why(why, whylen, "too large: %s is over %zu bytes (policy.max_bytes)", name,
			 cfg->policy_max_bytes);
		return SYNC_EREFUSED;
	}
	if (sig_len > SIG_MAX_BYTES) {
		sync_why(why, whylen, "malformed signature: %s.sig is over %d bytes", name,
			 SIG_MAX_BYTES);
		return SYNC_EREFUSED;
	}
	/* Before parsing: the parser is never exposed to bytes no trusted key
	 * signed. */
	rc = sig_verify((const uint8_t *)text, len, sig, sig_len, keys->keys, keys->n,
			keys->threshold, &res);
	if (rc != SIG_OK) {
		sig_result_describe(&res, keys->threshold, detail, sizeof(detail));
		sync_why(why, whylen, "%s: %s", sync_sig_category(rc), detail);
		return rc == SIG_ENOMEM || rc == SIG_ECRYPTO ? SYNC_ELOCAL : SYNC_EREFUSED;
	}
	if (policy_parse(text, len, name, &opts, out) != 0) {
		sync_why(why, whylen, "invalid policy: %s%s", fe.n > 0 ? fe.text : name,
			 fe.n > 1 ? " (and more: run garde check on it)" : "");
		return SYNC_EREFUSED;
	}
	if ((*out)->expires != 0 && (*out)->expires <= (int64_t)time(NULL)) {
		char when[32];
		rfc3339_format((*out)->expires, when, sizeof(when));
		sync_why(why, whylen, "expired: serial %" PRId64 " expired at %s: publish a newer policy",
			 (*out)->serial, when);
		policy_free(*out);
		*out = NULL;
		return SYNC_EREFUSED;
	}
	return 0;
}

/* --- the install ------------------------------------------------------------ */

struct sync_paths {
	char dir[SYNC_PATH_MAX];
	char target[SYNC_PATH_MAX], target_new[SYNC_PATH_MAX];
	char prev[SYNC_PATH_MAX], prev_tmp[SYNC_PATH_MAX];
	char sig[SYNC_PATH_MAX], sig_new[SYNC_PATH_MAX];
	char sig_prev[SYNC_PATH_MAX], sig_prev_tmp[SYNC_PATH_MAX];
};

static int sync_make_paths(const char *target, struct sync_paths *p)
{
	const char *slash = strrchr(target, '/');
	size_t dlen;

	if (slash == NULL || slash[1] == '\0')
		return -1;
	dlen = slash == target ? 1 : (size_t)(slash - target);
	if (dlen >= sizeof(p->dir))
		return -1;
	memcpy(p->dir, target, dlen);
	p->dir[dlen] = '\0';
#define SYNC_FMT(field, suffix) \
	((size_t)snprintf(p->field, sizeof(p->field), "%s%s", target, suffix) >= sizeof(p->field))
	if (SYNC_FMT(target, "") || SYNC_FMT(target_new, ".new") || SYNC_FMT(prev, ".prev") ||
	    SYNC_FMT(prev_tmp, ".prev.tmp") || SYNC_FMT(sig, ".sig") || SYNC_FMT(sig_new, ".sig.new") ||
	    SYNC_FMT(sig_prev, ".sig.prev") || SYNC_FMT(sig_prev_tmp, ".sig.prev.tmp"))
		return -1;
#undef SYNC_FMT
	return 0;
}

static int sync_write_new(const char *path, const char *data, size_t len, char *why,
			  size_t whylen)
{
	size_t done = 0;
	int fd, rv = -1;

	/* A leftover of a crashed install is removed; the new file is created
	 * exclusively, so a planted link is never followed. */
	if (unlink(path) != 0 && errno != ENOENT) {
		sync_why(why, whylen, "%s: cannot remove a leftover: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		sync_why(why, whylen, "%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	/* 0644 whatever the umask: the module and garde read it. */
	if (fchmod(fd, 0644) != 0)
		goto io;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto io;
		done += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto io;
	rv = 0;
	goto out;
io:
	sync_why(why, whylen, "%s: cannot write: %s", path, strerror(errno));
out:
	close(fd);
	if (rv != 0)
		unlink(path);
	return rv;
}

/* path -> keep as a second name, replacing keep atomically. A missing path
 * (first install) is not an error. */
static int sync_keep_previous(const char *path, const char *keep, const char *keep_tmp,
			      char *why, size_t whylen)
{
	if (unlink(keep_tmp) != 0 && errno != ENOENT)
		goto fail;
	if (link(path, keep_tmp) != 0)
		return errno == ENOENT ? 0 : -1;
	if (rename(keep_tmp, keep) != 0)
		goto fail;
	return 0;
fail:
	sync_why(why, whylen, "%s: cannot keep the previous file: %s", keep, strerror(errno));
	return -1;
}

static int sync_install(const struct agent_config *cfg, const char *text, size_t len,
			const char *sig, size_t sig_len, char *why, size_t whylen)
{
	struct sync_paths *p = calloc(1, sizeof(*p));
	int dfd = -1, rv = -1;

	if (p == NULL) {
		sync_why(why, whylen, "out of memory");
		goto out;
	}
	if (sync_make_paths(cfg->policy_target, p) != 0) {
		sync_why(why, whylen, "%s: bad policy.target path", cfg->policy_target);
		goto out;
	}
	if (sync_write_new(p->target_new, text, len, why, whylen) != 0 ||
	    sync_write_new(p->sig_new, sig, sig_len, why, whylen) != 0)
		goto out;
	if (sync_keep_previous(p->target, p->prev, p->prev_tmp, why, whylen) != 0 ||
	    sync_keep_previous(p->sig, p->sig_prev, p->sig_prev_tmp, why, whylen) != 0)
		goto out;
	if (rename(p->sig_new, p->sig) != 0 || rename(p->target_new, p->target) != 0) {
		sync_why(why, whylen, "%s: cannot install: %s", p->target, strerror(errno));
		goto out;
	}
	dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		sync_why(why, whylen, "%s: cannot fsync the directory: %s", p->dir, strerror(errno));
		goto out;
	}
	rv = 0;
out:
	if (rv != 0 && p != NULL) {
		unlink(p->target_new);
		unlink(p->sig_new);
	}
	if (dfd >= 0)
		close(dfd);
	free(p);
	return rv;
}

/* --- apply ----------------------------------------------------------------- */

/* name: the policy in messages (its URL or file). */
static int sync_apply_named(const struct agent_config *cfg, const struct sync_keys *keys,
			    const char *name, const char *pol, size_t pol_len, const char *sig,
			    size_t sig_len, const char *etag, char *why, size_t whylen)
{
	struct sync_installed in;
	struct agent_state st;
	struct policy *parsed = NULL;
	char sha[65], err[SYNC_WHY_MAX];
	int64_t floor, now = (int64_t)time(NULL);
	int lock, rv;

	lock = sync_lock(cfg, why, whylen);
	if (lock < 0)
		return SYNC_ELOCAL;
	if (state_load(cfg->state_dir, &st, err, sizeof(err)) != 0)
		memset(&st, 0, sizeof(st)); /* a damaged state only loses history */
	rv = sync_check(cfg, keys, pol, pol_len, sig, sig_len, name, &parsed, why, whylen);
	if (rv != 0)
		goto record;

	/* Rollback floor: the installed file's serial, and the recorded one in
	 * case the file was removed or damaged by hand. */
	sync_read_installed(cfg, &in);
	sync_sha256_hex(pol, pol_len, sha);
	floor = in.serial > st.serial ? in.serial : st.serial;
	if (parsed->serial < floor) {
		sync_why(why, whylen, "rollback: serial %" PRId64 " is lower than the installed serial %" PRId64,
			 parsed->serial, floor);
		rv = SYNC_EREFUSED;
	} else if (parsed->serial == floor && in.present && strcmp(sha, in.sha256) == 0) {
		sync_why(why, whylen, "unchanged: serial %" PRId64 " is already installed", floor);
		rv = SYNC_UNCHANGED;
	} else if (parsed->serial == floor && strcmp(sha, st.sha256) != 0) {
		/* The same serial with other bytes: someone changed a published
		 * policy without bumping its serial. Hosts would disagree on
		 * what serial N means. */
		sync_why(why, whylen,
			 "same serial with different content: serial %" PRId64
			 " is already installed with other bytes: publish serial %" PRId64,
			 floor, floor + 1);
		rv = SYNC_EREFUSED;
	} else if (sync_install(cfg, pol, pol_len, sig, sig_len, why, whylen) != 0) {
		rv = SYNC_ELOCAL;
	} else {
		sync_why(why, whylen, "installed serial %" PRId64 " (sha256 %s) into %s", parsed->serial,
			 sha, cfg->policy_target);
		rv = SYNC_INSTALLED;
	}
	if (rv == SYNC_INSTALLED || rv == SYNC_UNCHANGED) {
		st.serial = parsed->serial;
		memcpy(st.sha256, sha, sizeof(st.sha256));
		if (etag != NULL) {
			state_set_text(st.etag, sizeof(st.etag), etag);
			st.last_fetch = now;
		} else {
			st.etag[0] = '\0'; /* a pushed policy: the server's copy may differ */
		}
	}
record:
	sync_state_note(&st, rv, why, now);
	if (state_save(cfg->state_dir, &st, err, sizeof(err)) != 0 && rv >= 0) {
		/* Installed, but status will be stale: say so, still a success. */
		size_t n = strlen(why);
		if (n < whylen)
			snprintf(why + n, whylen - n, "; state not saved: %s", err);
	}
	policy_free(parsed);
	close(lock);
	return rv;
}

int sync_apply(const struct agent_config *cfg, const struct sync_keys *keys, const char *pol,
	       size_t pol_len, const char *sig, size_t sig_len, const char *etag, char *why,
	       size_t whylen)
{
	const char *name = cfg->policy_url != NULL && etag != NULL ? cfg->policy_url : "policy";

	return sync_apply_named(cfg, keys, name, pol, pol_len, sig, sig_len, etag, why, whylen);
}

/* An untrusted file, whole, at most max bytes: O_NOFOLLOW, a regular file,
 * and the cap enforced while reading. */
static int sync_read_capped(const char *path, size_t max, char **data, size_t *len, char *why,
			    size_t whylen, const char *what)
{
	struct stat sb;
	int fd, rv;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		sync_why(why, whylen, "%s: cannot read %s: %s", path, what,
			 fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return SYNC_ELOCAL;
	}
	rv = trust_read_fd(fd, max, data, len);
	close(fd);
	if (rv == TRUST_ETOOBIG) {
		sync_why(why, whylen, "too large: %s is over %zu bytes", path, max);
		return SYNC_EREFUSED;
	}
	if (rv != TRUST_OK) {
		sync_why(why, whylen, "%s: %s", path, trust_strerror(rv));
		return SYNC_ELOCAL;
	}
	return 0;
}

int sync_apply_files(const struct agent_config *cfg, const struct sync_keys *keys,
		     const char *pol_path, const char *sig_path, const char *etag, char *why,
		     size_t whylen)
{
	char *pol = NULL, *sig = NULL;
	size_t pol_len = 0, sig_len = 0;
	int rv;

	rv = sync_read_capped(pol_path, cfg->policy_max_bytes, &pol, &pol_len, why, whylen, "the policy");
	if (rv == 0)
		rv = sync_read_capped(sig_path, SIG_MAX_BYTES, &sig, &sig_len, why, whylen,
				      "the signature");
	if (rv == 0)
		rv = sync_apply_named(cfg, keys,
				      etag != NULL && cfg->policy_url != NULL ? cfg->policy_url : pol_path,
				      pol, pol_len, sig, sig_len, etag, why, whylen);
	else
		sync_record(cfg, rv, why);
	free(pol);
	free(sig);
	return rv;
}

int sync_pull(const struct agent_config *cfg, const struct sync_keys *keys, char *why,
	      size_t whylen)
{
	struct sync_fetched f;
	char etag[STATE_ETAG_MAX];
	int rv;

	if (cfg->policy_url == NULL) {
		sync_why(why, whylen, "%s: no policy.url: nothing to pull (use apply to push)",
			 cfg->path);
		return SYNC_ELOCAL;
	}
	sync_etag_for_request(cfg, etag);
	rv = sync_fetch(cfg, etag, &f, why, whylen);
	if (rv == 0 && f.not_modified) {
		sync_why(why, whylen, "unchanged: the server's policy is the installed one (HTTP 304)");
		rv = SYNC_UNCHANGED;
		sync_record(cfg, rv, why);
	} else if (rv == 0) {
		rv = sync_apply(cfg, keys, f.policy, f.policy_len, f.sig, f.sig_len, f.etag, why,
				whylen);
	} else {
		sync_record(cfg, rv, why);
	}
	sync_fetched_free(&f);
	return rv;
}
