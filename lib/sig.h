/* sig.h - Ed25519 signatures over policies (garde keygen/sign/verify, and
 * the agent's check before it parses anything it fetched).
 *
 * Files (man garde(8), "Key and signature files"):
 *   PREFIX.key  the private key, PEM PKCS#8 as OpenSSL writes it, mode 0600
 *   PREFIX.pub  one line: "garde-ed25519-pub KEYID BASE64(raw 32-byte key)\n"
 *   POLICY.sig  "garde-signature 1\n", then 1..SIG_MAX_LINES lines
 *               "ed25519 KEYID BASE64(64-byte signature of the exact bytes of POLICY)\n"
 * KEYID is the first 16 hex digits (lower case) of SHA-256 of the raw public
 * key. Several signature lines let several keys sign one policy (threshold).
 *
 * Verification needs nothing but the policy bytes, the .sig text and the
 * trusted public keys; it never looks inside the policy. */
#ifndef GARDE_SIG_H
#define GARDE_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIG_RAW_PUBKEY_LEN 32
#define SIG_RAW_SIG_LEN 64
#define SIG_KEYID_LEN 16         /* hex digits */
#define SIG_MAX_LINES 16         /* signature lines in a .sig (the header not counted) */
#define SIG_MAX_BYTES 4096       /* a whole .sig */
#define SIG_PUB_MAX_BYTES 256    /* a .pub file (one 80-byte line) */
#define SIG_KEY_MAX_BYTES 4096   /* a .key file (an Ed25519 PKCS#8 PEM is 119 bytes) */
#define SIG_HEADER "garde-signature 1"
#define SIG_PUB_TAG "garde-ed25519-pub"

enum sig_error {
	SIG_OK = 0,
	SIG_EFORMAT = -1,     /* the .sig is malformed (or over SIG_MAX_BYTES / SIG_MAX_LINES) */
	SIG_EBADSIG = -2,     /* a trusted key's signature does not match the data */
	SIG_EUNKNOWNKEY = -3, /* no line is by a trusted key */
	SIG_ETHRESHOLD = -4,  /* fewer distinct trusted keys signed than the threshold */
	SIG_EKEY = -5,        /* a key file is malformed (or not Ed25519, or encrypted) */
	SIG_ETRUST = -6,      /* a key file fails the trust rules; trust_err says which */
	SIG_EEXIST = -7,      /* keygen: PREFIX.key or PREFIX.pub already exists */
	SIG_ESTALE = -8,      /* sign: the .sig holds this key's signature of other bytes */
	SIG_EINVAL = -9,      /* bad argument (threshold 0, prefix too long, ...) */
	SIG_ENOMEM = -10,
	SIG_EIO = -11,        /* a system error; errno is kept */
	SIG_ECRYPTO = -12,    /* OpenSSL failed (not a bad signature) */
};

const char *sig_strerror(int err);

/* A trusted public key. */
struct sig_pubkey {
	uint8_t raw[SIG_RAW_PUBKEY_LEN];
	char id[SIG_KEYID_LEN + 1];
};

/* What sig_verify found; filled whatever it returns. */
struct sig_result {
	int error;              /* the return value */
	unsigned n_lines;       /* signature lines in the .sig */
	unsigned n_unknown;     /* lines by keys not among the trusted ones */
	unsigned n_valid;       /* distinct trusted keys whose signature is valid */
	char valid_ids[SIG_MAX_LINES][SIG_KEYID_LEN + 1]; /* their ids, in .sig order */
	size_t line;            /* SIG_EFORMAT, SIG_EBADSIG: the .sig line at fault (1-based) */
	char bad_id[SIG_KEYID_LEN + 1]; /* SIG_EBADSIG: the key whose signature failed */
	const char *detail;     /* SIG_EFORMAT: what is wrong (static text) */
};

/* A parsed .sig. */
struct sig_line {
	char id[SIG_KEYID_LEN + 1];
	uint8_t sig[SIG_RAW_SIG_LEN];
	size_t lineno;
};
struct sig_file {
	unsigned n;
	struct sig_line lines[SIG_MAX_LINES];
	size_t err_line;        /* SIG_EFORMAT: the line at fault (1-based) */
	const char *err_detail; /* SIG_EFORMAT: what is wrong */
};

/* Strict parse of a .sig text: the exact format above, nothing else (no
 * blank lines, no CR, no NUL, no comments, canonical base64, a final
 * newline). Returns 0 or SIG_EFORMAT with err_line/err_detail set. */
int sig_parse(const char *text, size_t len, struct sig_file *out);

/* Checks that at least threshold (>= 1) distinct trusted keys signed the
 * len bytes of data. Every line is parsed before any is checked. A line by
 * an unknown key id is skipped; a line by a trusted key that does not verify
 * fails the whole check (SIG_EBADSIG): a trusted signer never signed these
 * bytes, so the policy or the .sig was altered. A key listed twice in keys,
 * or signing on two lines, counts once. Returns 0 or SIG_EFORMAT,
 * SIG_EBADSIG, SIG_EUNKNOWNKEY (nothing by a trusted key), SIG_ETHRESHOLD
 * (some, not enough), SIG_EINVAL, SIG_ENOMEM, SIG_ECRYPTO. */
int sig_verify(const uint8_t *data, size_t len, const char *sig_text, size_t sig_len,
	       const struct sig_pubkey *keys, size_t nkeys, unsigned threshold,
	       struct sig_result *res);

/* One line explaining res (for logs and the CLI), e.g. "line 2: the
 * signature by trusted key 0123456789abcdef does not match: the policy or
 * its signature was changed after signing". Cut to fit buf. Returns buf. */
const char *sig_result_describe(const struct sig_result *res, unsigned threshold, char *buf,
				size_t cap);

/* The key id of a raw public key. */
void sig_keyid(const uint8_t raw[SIG_RAW_PUBKEY_LEN], char id[SIG_KEYID_LEN + 1]);

/* Parses the text of a .pub file (exactly one line, the id must match the
 * key). 0 or SIG_EKEY. */
int sig_pubkey_parse(const char *text, size_t len, struct sig_pubkey *key);

/* Formats a .pub line (with its newline) into buf. 0 or SIG_EINVAL. */
int sig_pubkey_format(const struct sig_pubkey *key, char *buf, size_t cap);

/* Loads a trusted .pub file (DESIGN.md "Files and trust"). Returns 0,
 * SIG_ETRUST with *trust_err a negative enum trust_error, or SIG_EKEY. */
int sig_pubkey_load(const char *path, struct sig_pubkey *key, int *trust_err);

/* --- sig_key.c: the signer's side --- */

/* Creates PREFIX.key (0600) and PREFIX.pub (0644), each with
 * O_CREAT|O_EXCL|O_NOFOLLOW: an existing file is never overwritten
 * (SIG_EEXIST). On any error neither file is left behind. id receives the
 * new key's id. */
int sig_keygen(const char *prefix, char id[SIG_KEYID_LEN + 1]);

struct sig_sign_info {
	char id[SIG_KEYID_LEN + 1]; /* the signing key's id */
	bool already;               /* the .sig held this key's valid signature: text unchanged */
	unsigned n_lines;           /* signature lines in the result */
	int trust_err;              /* SIG_ETRUST: the enum trust_error for the key file */
	size_t line;                /* SIG_EFORMAT, SIG_ESTALE: the line of old_text at fault */
	const char *detail;         /* SIG_EFORMAT: what is wrong */
};

/* Signs the len bytes of data with the private key in keyfile (a trusted
 * file that must also not be readable by group or other) and returns in
 * *out (malloc'd, NUL-terminated, *out_len bytes) the .sig text: old_text
 * (NULL for a fresh .sig) with this key's line appended. When old_text
 * already has a line by this key: unchanged if it verifies (info->already),
 * else SIG_ESTALE (the policy changed since: start a fresh .sig). Returns
 * 0 or SIG_ETRUST, SIG_EKEY, SIG_EFORMAT (old_text, or SIG_MAX_LINES
 * reached), SIG_ESTALE, SIG_ENOMEM, SIG_EIO, SIG_ECRYPTO. */
int sig_sign(const char *keyfile, const uint8_t *data, size_t len, const char *old_text,
	     size_t old_len, char **out, size_t *out_len, struct sig_sign_info *info);

#endif
