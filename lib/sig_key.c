/* sig_key.c - the signer's side of policy signatures: key generation,
 * loading a private key, and adding a signature line to a .sig text.
 * Only garde keygen/sign use this; hosts verify with sig.c alone. */
#include "sig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "trust.h"

#define SIG_B64_SIG_LEN 88 /* base64 of 64 bytes */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Creates path exclusively with exactly mode (fchmod: the umask may only
 * have narrowed it, but say what is meant). An fd or a negative error. */
static int create_exclusive(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd < 0)
		return errno == EEXIST || errno == ELOOP ? SIG_EEXIST : SIG_EIO;
	if (fchmod(fd, mode) != 0) {
		int saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return SIG_EIO;
	}
	return fd;
}

static int raw_public(EVP_PKEY *pkey, struct sig_pubkey *pub)
{
	size_t len = SIG_RAW_PUBKEY_LEN;

	if (EVP_PKEY_get_raw_public_key(pkey, pub->raw, &len) != 1 || len != SIG_RAW_PUBKEY_LEN)
		return SIG_ECRYPTO;
	sig_keyid(pub->raw, pub->id);
	return SIG_OK;
}

int sig_keygen(const char *prefix, char id[SIG_KEYID_LEN + 1])
{
	char keypath[PATH_MAX], pubpath[PATH_MAX], publine[SIG_PUB_MAX_BYTES];
	struct sig_pubkey pub;
	EVP_PKEY *pkey = NULL;
	BIO *pem = NULL;
	char *pem_data = NULL;
	long pem_len = 0;
	int keyfd = -1, pubfd = -1, rv = SIG_EINVAL;
	int n1, n2;

	if (prefix == NULL || prefix[0] == '\0')
		goto out;
	n1 = snprintf(keypath, sizeof(keypath), "%s.key", prefix);
	n2 = snprintf(pubpath, sizeof(pubpath), "%s.pub", prefix);
	if (n1 < 0 || (size_t)n1 >= sizeof(keypath) || n2 < 0 || (size_t)n2 >= sizeof(pubpath))
		goto out;

	rv = SIG_ECRYPTO;
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL)
		goto out;
	if ((rv = raw_public(pkey, &pub)) != SIG_OK)
		goto out;
	if ((rv = sig_pubkey_format(&pub, publine, sizeof(publine))) != SIG_OK)
		goto out;
	/* The PEM goes through memory, not stdio, so that the only copies of
	 * the key outside OpenSSL are buffers wiped below. */
	rv = SIG_ECRYPTO;
	pem = BIO_new(BIO_s_mem());
	if (pem == NULL || PEM_write_bio_PrivateKey(pem, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	pem_len = BIO_get_mem_data(pem, &pem_data);
	if (pem_len <= 0)
		goto out;

	/* Both names are claimed before anything is written: a second keygen
	 * with the same prefix fails without touching the first key pair. */
	keyfd = create_exclusive(keypath, 0600);
	if (keyfd < 0) {
		rv = keyfd;
		goto out;
	}
	pubfd = create_exclusive(pubpath, 0644);
	if (pubfd < 0) {
		rv = pubfd;
		goto out;
	}
	rv = SIG_EIO;
	if (write_all(keyfd, pem_data, (size_t)pem_len) != 0 || fsync(keyfd) != 0 ||
	    write_all(pubfd, publine, strlen(publine)) != 0 || fsync(pubfd) != 0)
		goto out;
	memcpy(id, pub.id, SIG_KEYID_LEN + 1);
	rv = SIG_OK;
out:
	if (pem_data != NULL && pem_len > 0)
		OPENSSL_cleanse(pem_data, (size_t)pem_len);
	BIO_free(pem);
	EVP_PKEY_free(pkey);
	if (keyfd >= 0) {
		close(keyfd);
		if (rv != SIG_OK)
			unlink(keypath);
	}
	if (pubfd >= 0) {
		close(pubfd);
		if (rv != SIG_OK)
			unlink(pubpath);
	}
	return rv;
}

/* An encrypted key would make OpenSSL prompt on the terminal: refuse it. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

static int privkey_load(const char *path, EVP_PKEY **out, struct sig_sign_info *info)
{
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	int fd, rv;

	fd = trust_openat(AT_FDCWD, path, 0);
	if (fd < 0) {
		info->trust_err = fd;
		return SIG_ETRUST;
	}
	rv = SIG_EIO;
	if (fstat(fd, &st) != 0)
		goto out;
	/* Beyond the trust rules: a private key readable by others is no
	 * longer private (as ssh refuses such a key). */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		info->trust_err = TRUST_EMODE;
		info->detail = "is readable by group or other (chmod 600)";
		rv = SIG_ETRUST;
		goto out;
	}
	rv = trust_read_fd(fd, SIG_KEY_MAX_BYTES, &text, &len);
	if (rv == TRUST_ENOMEM) {
		rv = SIG_ENOMEM;
		goto out;
	}
	if (rv != TRUST_OK) {
		rv = rv == TRUST_ETOOBIG ? SIG_EKEY : SIG_EIO;
		goto out;
	}
	rv = SIG_ENOMEM;
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio == NULL)
		goto out;
	rv = SIG_EKEY;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (pkey == NULL || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519)
		goto out;
	*out = pkey;
	pkey = NULL;
	rv = SIG_OK;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	if (text != NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	close(fd);
	return rv;
}

static int sign_bytes(EVP_PKEY *pkey, const uint8_t *data, size_t len,
		      uint8_t sig[SIG_RAW_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = SIG_RAW_SIG_LEN;
	int rv = SIG_ECRYPTO;

	if (ctx == NULL)
		return SIG_ENOMEM;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, len == 0 ? (const uint8_t *)"" : data, len) == 1 &&
	    siglen == SIG_RAW_SIG_LEN)
		rv = SIG_OK;
	EVP_MD_CTX_free(ctx);
	return rv;
}

/* Whether old already has lines by pub: SIG_OK none, 1 present and valid,
 * SIG_ESTALE present and not valid for data, or another error. */
static int existing_line(const struct sig_file *old, const char *old_text, size_t old_len,
			 const struct sig_pubkey *pub, const uint8_t *data, size_t len,
			 struct sig_sign_info *info)
{
	struct sig_result res;
	bool present = false;
	int rv;

	for (unsigned i = 0; i < old->n; i++)
		present = present || strcmp(old->lines[i].id, pub->id) == 0;
	if (!present)
		return SIG_OK;
	rv = sig_verify(data, len, old_text, old_len, pub, 1, 1, &res);
	if (rv == SIG_OK)
		return 1;
	if (rv == SIG_EBADSIG) {
		info->line = res.line;
		return SIG_ESTALE;
	}
	return rv;
}

int sig_sign(const char *keyfile, const uint8_t *data, size_t len, const char *old_text,
	     size_t old_len, char **out, size_t *out_len, struct sig_sign_info *info)
{
	struct sig_file old = { .n = 0 };
	struct sig_pubkey pub;
	struct sig_result check;
	EVP_PKEY *pkey = NULL;
	uint8_t sig[SIG_RAW_SIG_LEN];
	char b64[SIG_B64_SIG_LEN + 1];
	char *text = NULL;
	size_t used = 0, cap;
	int rv, n;

	memset(info, 0, sizeof(*info));
	*out = NULL;
	*out_len = 0;
	if (old_text != NULL) {
		rv = sig_parse(old_text, old_len, &old);
		if (rv != SIG_OK) {
			info->line = old.err_line;
			info->detail = old.err_detail;
			goto out;
		}
	}
	if ((rv = privkey_load(keyfile, &pkey, info)) != SIG_OK)
		goto out;
	if ((rv = raw_public(pkey, &pub)) != SIG_OK)
		goto out;
	memcpy(info->id, pub.id, sizeof(info->id));
	rv = existing_line(&old, old_text, old_len, &pub, data, len, info);
	if (rv < 0)
		goto out;
	info->already = rv == 1;
	if (!info->already && old.n == SIG_MAX_LINES) {
		info->detail = "already 16 signature lines";
		rv = SIG_EFORMAT;
		goto out;
	}

	cap = SIG_MAX_BYTES + 1;
	rv = SIG_ENOMEM;
	if ((text = malloc(cap)) == NULL)
		goto out;
	if (old_text != NULL) {
		memcpy(text, old_text, old_len);
		used = old_len;
		text[used] = '\0';
	} else {
		used = (size_t)snprintf(text, cap, "%s\n", SIG_HEADER);
	}
	if (!info->already) {
		if ((rv = sign_bytes(pkey, data, len, sig)) != SIG_OK)
			goto out;
		EVP_EncodeBlock((unsigned char *)b64, sig, SIG_RAW_SIG_LEN);
		n = snprintf(text + used, cap - used, "ed25519 %s %s\n", pub.id, b64);
		rv = SIG_EFORMAT;
		if (n < 0 || (size_t)n >= cap - used || used + (size_t)n > SIG_MAX_BYTES) {
			info->detail = "over 4096 bytes";
			goto out;
		}
		used += (size_t)n;
	}
	/* Check the result as a host will: this key must verify on the very
	 * text that is about to be written. */
	rv = sig_verify(data, len, text, used, &pub, 1, 1, &check);
	if (rv != SIG_OK) {
		rv = SIG_ECRYPTO;
		goto out;
	}
	info->n_lines = check.n_lines;
	*out = text;
	*out_len = used;
	text = NULL;
	rv = SIG_OK;
out:
	free(text);
	EVP_PKEY_free(pkey);
	return rv;
}
