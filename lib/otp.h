/* otp.h - TOTP (RFC 6238) and HOTP (RFC 4226) on liboath: code checks with
 * a window, replay refusal (RFC 6238 section 5.2) and a constant-time
 * compare of every candidate. No I/O, no clock: the caller passes the time. */
#ifndef GARDE_OTP_H
#define GARDE_OTP_H

#include <stddef.h>
#include <stdint.h>

#define OTP_SECRET_MAX 64  /* bytes; RFC 4226 asks for at least 16 */
#define OTP_DIGITS_MIN 6
#define OTP_DIGITS_MAX 8
#define OTP_STEP_MAX 300   /* seconds, as the policy allows */
#define OTP_WINDOW_MAX 10  /* steps (TOTP) or counters (HOTP) either side */
#define OTP_CODE_BUF (OTP_DIGITS_MAX + 1)

enum otp_kind {
	OTP_TOTP = 0,
	OTP_HOTP = 1,
};

enum otp_algo {
	OTP_SHA1 = 0,
	OTP_SHA256 = 1,
	OTP_SHA512 = 2,
};

/* A token. The secret lives in this fixed buffer: whoever owns a struct
 * otp_token wipes it with otp_token_wipe() when done. */
struct otp_token {
	enum otp_kind kind;
	enum otp_algo algo;
	unsigned digits;   /* OTP_DIGITS_MIN..OTP_DIGITS_MAX */
	unsigned step;     /* TOTP: seconds per step, 1..OTP_STEP_MAX; HOTP: unused */
	uint64_t counter;  /* HOTP: the next counter value that may be accepted */
	size_t secret_len; /* 1..OTP_SECRET_MAX */
	uint8_t secret[OTP_SECRET_MAX];
};

enum otp_error {
	OTP_OK = 0,
	OTP_EINVAL = -1,    /* bad token parameters or arguments */
	OTP_EFORMAT = -2,   /* the code is not exactly `digits` ASCII digits (nothing was compared) */
	OTP_EMISMATCH = -3, /* no candidate matched: log mfa_invalid */
	OTP_EREPLAY = -4,   /* the code matches a step/counter already used: log mfa_replay */
	OTP_ECRYPTO = -5,   /* liboath failed */
	OTP_ERANGE = -6,    /* output buffer too small, or time/counter out of range */
};

const char *otp_strerror(int err);

const char *otp_kind_name(enum otp_kind kind); /* "totp" / "hotp" */
const char *otp_algo_name(enum otp_algo algo); /* "sha1" / "sha256" / "sha512" */
/* Parse the names above (exact, lower case). Return 0 or OTP_EINVAL. */
int otp_kind_parse(const char *text, enum otp_kind *out);
int otp_algo_parse(const char *text, enum otp_algo *out);

/* 0 when every field of tok is in range, else OTP_EINVAL. */
int otp_token_check(const struct otp_token *tok);

void otp_token_wipe(struct otp_token *tok);

/* Checks code (code_len bytes, so an embedded NUL is seen and refused).
 *
 * TOTP: with T = now / step, the candidates are T - window_past ..
 * T + window_future. `last` is the last accepted step (0: none; step 0, the
 * first `step` seconds of 1970, is therefore never accepted). A match on a
 * step <= last is OTP_EREPLAY; a match on a step > last is OTP_OK with
 * *matched = that step: the caller stores it as the new last accepted step.
 *
 * HOTP: `last` is ignored and tok->counter is the next acceptable value. The
 * candidates are counter .. counter + look-ahead, with look-ahead =
 * window_future clamped into 1..OTP_WINDOW_MAX (at least one press of the
 * button without a login must not desynchronise the token for good). The
 * window_past counters just below tok->counter are checked as already used:
 * a match there is OTP_EREPLAY. On OTP_OK *matched is the matched counter:
 * the caller stores matched + 1 as the new counter.
 *
 * Windows above OTP_WINDOW_MAX are clamped. Every candidate is generated and
 * compared with CRYPTO_memcmp, and the result is folded without branching
 * on a match, so timing says nothing about which candidate matched. */
int otp_verify(const struct otp_token *tok, const char *code, size_t code_len, int64_t now,
	       unsigned window_past, unsigned window_future, uint64_t last, uint64_t *matched);

/* The code for a moving factor (TOTP: the step number; HOTP: the counter),
 * NUL-terminated into out (at least tok->digits + 1 bytes). */
int otp_generate_factor(const struct otp_token *tok, uint64_t factor, char *out, size_t outlen);

/* The current code: TOTP at time now; HOTP at tok->counter (now ignored). */
int otp_generate(const struct otp_token *tok, int64_t now, char *out, size_t outlen);

/* RFC 4648 base32, upper case, no padding. Returns 0 or OTP_ERANGE. */
int otp_base32_encode(const uint8_t *data, size_t len, char *out, size_t outlen);

/* Decodes base32 as authenticator apps show it: either case, spaces and
 * dashes ignored, trailing '=' padding accepted. At most outcap bytes.
 * Returns 0 or OTP_EINVAL (bad character, bad trailing bits) / OTP_ERANGE. */
int otp_base32_decode(const char *text, uint8_t *out, size_t outcap, size_t *outlen);

/* otpauth://totp/ISSUER:USER?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * (hotp: &counter=N instead of &period). Label and issuer are
 * percent-encoded (everything but RFC 3986 unreserved characters). The URI
 * contains the secret: the caller wipes out after use. Returns 0, OTP_EINVAL
 * or OTP_ERANGE when outlen is too small. */
int otp_uri(const struct otp_token *tok, const char *user, const char *issuer, char *out,
	    size_t outlen);

#endif
