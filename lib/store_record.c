/* store_record.c - the record text format: strict to read, simple to audit.
 *
 *   garde-record 1
 *   user alice
 *   kind totp                        (totp | hotp | none)
 *   algorithm sha1                   \
 *   digits 6                          |
 *   step 30                           | only when kind is not none,
 *   secret 3132333435...             | and then all of them
 *   counter 0                         |
 *   last-step 56666667               /
 *   created 1700000000
 *   last-success 1700000015
 *   scratch-kdf pbkdf2-sha256 ITER SALT          \ only with a token, both or
 *   scratch HASH                  (1..STORE_MAX_SCRATCH lines) / neither; hex
 *   lockout ZONE FAILURES FIRST LOCKED_UNTIL     (0..STORE_MAX_ZONES lines)
 *   remember SOURCE CLASS EXPIRES [FACTOR]       (0..STORE_MAX_REMEMBER lines)
 *   history PREFIX LAST_SEEN                     (0..STORE_MAX_HISTORY lines)
 *   app-password ID CLASS CREATED EXPIRES LAST_USED LAST_SOURCE LABEL
 *                scrypt:LOG2N:R:P SALT HASH      (0..STORE_MAX_APPPW lines, one line)
 *   end
 *
 * One `key value` per line, fields separated by one space, every line ends
 * in '\n', and `end` is the last line, so a file cut short at any byte is
 * refused. Text fields are percent-encoded: bytes outside '!'..'~' and '%'
 * itself are written %XX, so a name with spaces, newlines or any non-UTF-8
 * byte round-trips and %00 is refused. Numbers are plain decimal without
 * sign or leading zeros, range-checked. Unknown keys or versions, repeated
 * keys, missing fields: STORE_ECORRUPT. A remember line without FACTOR
 * (written before it existed, or when it is 0) has factor 0; an app
 * password's LAST_SOURCE and LABEL are "-" when empty (a label of exactly
 * "-" is refused when it is made). */
#define _GNU_SOURCE /* explicit_bzero */
#include "hex.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include <openssl/crypto.h>

#define STORE_MAX_FIELDS 10

/* --- writing --- */

struct store_out {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void store_put(struct store_out *o, const char *s, size_t n)
{
	if (o->overflow || n >= o->cap - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void store_puts(struct store_out *o, const char *s)
{
	store_put(o, s, strlen(s));
}

/* key, then v in decimal. By hand: a record is formatted at every login
 * that writes one, and snprintf was a visible share of that. */
static void store_putf(struct store_out *o, const char *key, uint64_t v)
{
	char digits[20]; /* UINT64_MAX has 20 */
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	store_puts(o, key);
	store_put(o, digits + n, sizeof(digits) - n);
}

static uint64_t store_time_out(int64_t t)
{
	return t < 0 ? 0 : (uint64_t)t;
}

static void store_put_hex(struct store_out *o, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		char pair[2] = { hex[p[i] >> 4], hex[p[i] & 15] };
		store_put(o, pair, 2);
	}
}

static void store_put_escaped(struct store_out *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > ' ' && c < 0x7f && c != '%') {
			store_put(o, (const char *)&c, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			store_put(o, e, 3);
		}
	}
}

/* "-" stands for an empty text field (an unused app password's source,
 * no label): the escaped form of any real text is never empty. */
static void store_put_text_or_dash(struct store_out *o, const char *s)
{
	if (s[0] == '\0')
		store_puts(o, "-");
	else
		store_put_escaped(o, s);
}

static void store_put_apppw(struct store_out *o, const struct store_apppw *a)
{
	char kdf[48];
	int n = snprintf(kdf, sizeof(kdf), " scrypt:%u:%u:%u ", a->log2_n, a->r, a->p);

	if (a->id[0] == '\0' || a->class_name[0] == '\0' || n < 0 || (size_t)n >= sizeof(kdf) ||
	    strcmp(a->label, "-") == 0) {
		o->overflow = true; /* never written: the caller made a bad entry */
		return;
	}
	store_puts(o, "app-password ");
	store_put_escaped(o, a->id);
	store_puts(o, " ");
	store_put_escaped(o, a->class_name);
	store_putf(o, " ", store_time_out(a->created));
	store_putf(o, " ", store_time_out(a->expires));
	store_putf(o, " ", store_time_out(a->last_used));
	store_puts(o, " ");
	store_put_text_or_dash(o, a->last_source);
	store_puts(o, " ");
	store_put_text_or_dash(o, a->label);
	store_puts(o, kdf);
	store_put_hex(o, a->salt, sizeof(a->salt));
	store_puts(o, " ");
	store_put_hex(o, a->hash, sizeof(a->hash));
	store_puts(o, "\n");
}

int store_record_format(const struct store_record *rec, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	struct store_out o = { buf, cap, 0, cap == 0 };
	char pair[2];
	size_t i;

	if (rec->user[0] == '\0')
		return STORE_EINVAL;
	if (rec->has_token && otp_token_check(&rec->token) != OTP_OK)
		return STORE_EINVAL;
	store_puts(&o, "garde-record 1\nuser ");
	store_put_escaped(&o, rec->user);
	if (!rec->has_token) {
		store_puts(&o, "\nkind none\n");
	} else {
		const struct otp_token *t = &rec->token;

		store_puts(&o, "\nkind ");
		store_puts(&o, otp_kind_name(t->kind));
		store_puts(&o, "\nalgorithm ");
		store_puts(&o, otp_algo_name(t->algo));
		store_putf(&o, "\ndigits ", t->digits);
		store_putf(&o, "\nstep ", t->step);
		store_puts(&o, "\nsecret ");
		for (i = 0; i < t->secret_len; i++) {
			pair[0] = hex[t->secret[i] >> 4];
			pair[1] = hex[t->secret[i] & 15];
			store_put(&o, pair, 2);
		}
		store_putf(&o, "\ncounter ", t->counter);
		store_putf(&o, "\nlast-step ", rec->last_step);
		store_puts(&o, "\n");
	}
	store_putf(&o, "created ", store_time_out(rec->created));
	store_putf(&o, "\nlast-success ", store_time_out(rec->last_success));
	store_puts(&o, "\n");
	if (rec->has_token && rec->scratch.n > 0) {
		const struct store_scratch *sc = &rec->scratch;

		if (sc->n > STORE_MAX_SCRATCH || sc->iterations == 0 ||
		    sc->iterations > STORE_SCRATCH_ITER_MAX)
			return STORE_EINVAL;
		store_putf(&o, "scratch-kdf pbkdf2-sha256 ", sc->iterations);
		store_puts(&o, " ");
		store_put_hex(&o, sc->salt, sizeof(sc->salt));
		store_puts(&o, "\n");
		for (i = 0; i < sc->n; i++) {
			store_puts(&o, "scratch ");
			store_put_hex(&o, sc->hash[i], sizeof(sc->hash[i]));
			store_puts(&o, "\n");
		}
	}
	for (i = 0; i < rec->n_zones && i < STORE_MAX_ZONES; i++) {
		const struct store_zone *z = &rec->zones[i];

		store_puts(&o, "lockout ");
		store_put_escaped(&o, z->name);
		store_putf(&o, " ", z->slot.failures);
		store_putf(&o, " ", store_time_out(z->slot.first_failure));
		store_putf(&o, " ", store_time_out(z->slot.locked_until));
		store_puts(&o, "\n");
	}
	for (i = 0; i < rec->n_remember && i < STORE_MAX_REMEMBER; i++) {
		const struct store_remember *r = &rec->remember[i];

		store_puts(&o, "remember ");
		store_put_escaped(&o, r->source);
		store_puts(&o, " ");
		store_put_escaped(&o, r->class_name);
		store_putf(&o, " ", store_time_out(r->expires));
		if (r->factor != 0)
			store_putf(&o, " ", r->factor);
		store_puts(&o, "\n");
	}
	for (i = 0; i < rec->n_history && i < STORE_MAX_HISTORY; i++) {
		store_puts(&o, "history ");
		store_put_escaped(&o, rec->history[i].prefix);
		store_putf(&o, " ", store_time_out(rec->history[i].last_seen));
		store_puts(&o, "\n");
	}
	for (i = 0; i < rec->n_apppw && i < STORE_MAX_APPPW; i++)
		store_put_apppw(&o, &rec->apppw[i]);
	store_puts(&o, "end\n");
	OPENSSL_cleanse(pair, sizeof(pair));
	if (o.overflow) {
		OPENSSL_cleanse(buf, cap);
		return STORE_ENOMEM;
	}
	return (int)o.len;
}

int store_source_format(const char *source_text, const struct lockout_slot *slot, char *buf,
			size_t cap)
{
	struct store_out o = { buf, cap, 0, cap == 0 };

	if (source_text[0] == '\0' || strlen(source_text) > STORE_SOURCE_MAX)
		return STORE_EINVAL;
	store_puts(&o, "garde-source 1\nsource ");
	store_put_escaped(&o, source_text);
	store_putf(&o, "\nfailures ", slot->failures);
	store_putf(&o, "\nfirst-failure ", store_time_out(slot->first_failure));
	store_putf(&o, "\nlocked-until ", store_time_out(slot->locked_until));
	store_puts(&o, "\nend\n");
	return o.overflow ? STORE_ENOMEM : (int)o.len;
}

/* --- reading --- */

/* Strict decimal: no sign, no leading zero, at most max. */
static int store_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return STORE_ECORRUPT;
	for (; *s != '\0'; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return STORE_ECORRUPT;
		d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return STORE_ECORRUPT;
		v = v * 10 + d;
	}
	*out = v;
	return STORE_OK;
}

static int store_parse_time(const char *s, int64_t *out)
{
	uint64_t v;
	int rv = store_parse_u64(s, (uint64_t)INT64_MAX, &v);

	if (rv == STORE_OK)
		*out = (int64_t)v;
	return rv;
}

/* Decodes a percent-encoded field into out (cap bytes including the NUL). */
static int store_unescape(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '%') {
			int hi = hex_digit(s[1]), lo = hi < 0 ? -1 : hex_digit(s[2]);

			if (lo < 0)
				return STORE_ECORRUPT;
			c = (unsigned char)(hi * 16 + lo);
			if (c == 0)
				return STORE_ECORRUPT;
			s += 2;
		} else if (c <= ' ' || c >= 0x7f) {
			return STORE_ECORRUPT;
		}
		if (o + 1 >= cap)
			return STORE_ECORRUPT;
		out[o++] = (char)c;
	}
	if (o == 0)
		return STORE_ECORRUPT;
	out[o] = '\0';
	return STORE_OK;
}

static int store_parse_secret(const char *s, struct otp_token *t)
{
	int n = hex_decode(s, t->secret, OTP_SECRET_MAX);

	if (n < 0)
		return STORE_ECORRUPT;
	t->secret_len = (size_t)n;
	return STORE_OK;
}

/* Exactly n bytes of lower- or upper-case hex. */
static int store_parse_hex(const char *s, uint8_t *out, size_t n)
{
	return hex_decode(s, out, n) == (int)n ? STORE_OK : STORE_ECORRUPT;
}

/* A line cut into its key and up to STORE_MAX_FIELDS fields, in place. */
struct store_line {
	char *key;
	size_t n;
	char *f[STORE_MAX_FIELDS];
};

static int store_split(char *line, struct store_line *l)
{
	char *p = line;

	l->key = line;
	l->n = 0;
	for (;;) {
		p = strchr(p, ' ');
		if (p == NULL)
			break;
		*p++ = '\0';
		if (l->n == STORE_MAX_FIELDS || *p == '\0' || *p == ' ')
			return STORE_ECORRUPT;
		l->f[l->n++] = p;
	}
	return l->key[0] == '\0' ? STORE_ECORRUPT : STORE_OK;
}

/* Copies len bytes into a NUL-terminated work buffer and walks its lines,
 * calling fn for each; checks the framing shared by both formats. */
typedef int (*store_line_fn)(void *arg, size_t lineno, struct store_line *l);

static int store_walk(const char *text, size_t len, const char *magic, store_line_fn fn,
		      void *arg)
{
	char *work = NULL, *line, *nl;
	size_t lineno = 0;
	bool ended = false;
	int rv = STORE_ECORRUPT;

	if (len == 0 || len > STORE_TEXT_MAX || text[len - 1] != '\n' ||
	    memchr(text, '\0', len) != NULL)
		goto out;
	work = malloc(len + 1);
	if (work == NULL) {
		rv = STORE_ENOMEM;
		goto out;
	}
	memcpy(work, text, len);
	work[len] = '\0';
	for (line = work; *line != '\0'; line = nl + 1) {
		struct store_line l;

		nl = strchr(line, '\n');
		if (nl == NULL) /* cannot happen: the text ends in '\n' */
			goto out;
		*nl = '\0';
		if (ended || strchr(line, '\r') != NULL || strchr(line, '\t') != NULL)
			goto out;
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, magic) != 0)
				goto out;
			continue;
		}
		if (strcmp(line, "end") == 0) {
			ended = true;
			continue;
		}
		if (store_split(line, &l) != STORE_OK || fn(arg, lineno, &l) != STORE_OK)
			goto out;
	}
	rv = ended ? STORE_OK : STORE_ECORRUPT;
out:
	if (work != NULL) {
		/* The copy holds the secret (explicit_bzero: OPENSSL_cleanse
		 * goes a byte at a time, on every login). */
		explicit_bzero(work, len + 1);
		free(work);
	}
	return rv;
}

enum {
	SEEN_USER = 1 << 0,
	SEEN_KIND = 1 << 1,
	SEEN_ALGO = 1 << 2,
	SEEN_DIGITS = 1 << 3,
	SEEN_STEP = 1 << 4,
	SEEN_SECRET = 1 << 5,
	SEEN_COUNTER = 1 << 6,
	SEEN_LAST_STEP = 1 << 7,
	SEEN_CREATED = 1 << 8,
	SEEN_LAST_SUCCESS = 1 << 9,
	SEEN_SCRATCH_KDF = 1 << 10,
	SEEN_TOKEN = SEEN_ALGO | SEEN_DIGITS | SEEN_STEP | SEEN_SECRET | SEEN_COUNTER | SEEN_LAST_STEP,
	SEEN_ALWAYS = SEEN_USER | SEEN_KIND | SEEN_CREATED | SEEN_LAST_SUCCESS,
};

struct store_parse_state {
	struct store_record *rec;
	unsigned seen;
	bool kind_none;
};

static int store_single(struct store_parse_state *ps, unsigned bit, const struct store_line *l)
{
	if ((ps->seen & bit) != 0 || l->n != 1)
		return STORE_ECORRUPT;
	ps->seen |= bit;
	return STORE_OK;
}

static int store_parse_text_or_dash(const char *s, char *out, size_t cap)
{
	if (strcmp(s, "-") == 0) {
		out[0] = '\0';
		return STORE_OK;
	}
	return store_unescape(s, out, cap);
}

/* "scrypt:LOG2N:R:P" within the limits of store.h. */
static int store_parse_kdf(const char *s, struct store_apppw *a)
{
	char work[48], *f[3], *save = NULL;
	uint64_t v[3];
	size_t i;

	if (strncmp(s, "scrypt:", 7) != 0 || strlen(s) >= sizeof(work))
		return STORE_ECORRUPT;
	memcpy(work, s + 7, strlen(s + 7) + 1);
	for (i = 0; i < 3; i++) {
		f[i] = strtok_r(i == 0 ? work : NULL, ":", &save);
		if (f[i] == NULL || store_parse_u64(f[i], 1u << 20, &v[i]) != STORE_OK)
			return STORE_ECORRUPT;
	}
	if (strtok_r(NULL, ":", &save) != NULL || strstr(s, "::") != NULL ||
	    s[strlen(s) - 1] == ':')
		return STORE_ECORRUPT;
	if (v[0] < 1 || v[0] > STORE_APPPW_LOG2N_MAX || v[1] < 1 || v[1] > STORE_APPPW_R_MAX ||
	    v[2] < 1 || v[2] > STORE_APPPW_P_MAX ||
	    (uint64_t)128 * v[1] * ((uint64_t)1 << v[0]) > STORE_APPPW_MEM_MAX)
		return STORE_ECORRUPT;
	a->log2_n = (unsigned)v[0];
	a->r = (unsigned)v[1];
	a->p = (unsigned)v[2];
	return STORE_OK;
}

static int store_parse_apppw(struct store_record *rec, const struct store_line *l)
{
	struct store_apppw *a;
	size_t i, idlen;

	if (l->n != 10 || rec->n_apppw == STORE_MAX_APPPW)
		return STORE_ECORRUPT;
	a = &rec->apppw[rec->n_apppw];
	memset(a, 0, sizeof(*a));
	idlen = strlen(l->f[0]);
	if (idlen != STORE_APPPW_ID || strspn(l->f[0], "0123456789abcdef") != idlen)
		return STORE_ECORRUPT;
	memcpy(a->id, l->f[0], idlen + 1);
	for (i = 0; i < rec->n_apppw; i++)
		if (strcmp(rec->apppw[i].id, a->id) == 0)
			return STORE_ECORRUPT;
	if (store_unescape(l->f[1], a->class_name, sizeof(a->class_name)) != STORE_OK ||
	    store_parse_time(l->f[2], &a->created) != STORE_OK ||
	    store_parse_time(l->f[3], &a->expires) != STORE_OK ||
	    store_parse_time(l->f[4], &a->last_used) != STORE_OK ||
	    store_parse_text_or_dash(l->f[5], a->last_source, sizeof(a->last_source)) != STORE_OK ||
	    store_parse_text_or_dash(l->f[6], a->label, sizeof(a->label)) != STORE_OK ||
	    store_parse_kdf(l->f[7], a) != STORE_OK ||
	    store_parse_hex(l->f[8], a->salt, sizeof(a->salt)) != STORE_OK ||
	    store_parse_hex(l->f[9], a->hash, sizeof(a->hash)) != STORE_OK) {
		memset(a, 0, sizeof(*a));
		return STORE_ECORRUPT;
	}
	rec->n_apppw++;
	return STORE_OK;
}

/* Whether key k is name: the first letters differ for most pairs, and a
 * record has a dozen lines, each tried against the keys in turn (strcmp
 * alone was a visible share of a login). */
static inline bool key_is(const char *k, const char *name)
{
	return k[0] == name[0] && strcmp(k, name) == 0;
}

static int store_record_line(void *arg, size_t lineno, struct store_line *l)
{
	struct store_parse_state *ps = arg;
	struct store_record *rec = ps->rec;
	struct otp_token *t = &rec->token;
	uint64_t v;
	const char *k = l->key;

	(void)lineno;
	if (key_is(k, "user")) {
		if (store_single(ps, SEEN_USER, l) != STORE_OK)
			return STORE_ECORRUPT;
		return store_unescape(l->f[0], rec->user, sizeof(rec->user));
	}
	if (key_is(k, "kind")) {
		if (store_single(ps, SEEN_KIND, l) != STORE_OK)
			return STORE_ECORRUPT;
		if (strcmp(l->f[0], "none") == 0) {
			ps->kind_none = true;
			return STORE_OK;
		}
		return otp_kind_parse(l->f[0], &t->kind) == OTP_OK ? STORE_OK : STORE_ECORRUPT;
	}
	if (key_is(k, "algorithm")) {
		if (store_single(ps, SEEN_ALGO, l) != STORE_OK)
			return STORE_ECORRUPT;
		return otp_algo_parse(l->f[0], &t->algo) == OTP_OK ? STORE_OK : STORE_ECORRUPT;
	}
	if (key_is(k, "digits")) {
		if (store_single(ps, SEEN_DIGITS, l) != STORE_OK ||
		    store_parse_u64(l->f[0], OTP_DIGITS_MAX, &v) != STORE_OK)
			return STORE_ECORRUPT;
		t->digits = (unsigned)v;
		return STORE_OK;
	}
	if (key_is(k, "step")) {
		if (store_single(ps, SEEN_STEP, l) != STORE_OK ||
		    store_parse_u64(l->f[0], OTP_STEP_MAX, &v) != STORE_OK)
			return STORE_ECORRUPT;
		t->step = (unsigned)v;
		return STORE_OK;
	}
	if (key_is(k, "secret")) {
		if (store_single(ps, SEEN_SECRET, l) != STORE_OK)
			return STORE_ECORRUPT;
		return store_parse_secret(l->f[0], t);
	}
	if (key_is(k, "counter")) {
		if (store_single(ps, SEEN_COUNTER, l) != STORE_OK)
			return STORE_ECORRUPT;
		return store_parse_u64(l->f[0], (uint64_t)INT64_MAX, &t->counter);
	}
	if (key_is(k, "last-step")) {
		if (store_single(ps, SEEN_LAST_STEP, l) != STORE_OK)
			return STORE_ECORRUPT;
		return store_parse_u64(l->f[0], (uint64_t)INT64_MAX, &rec->last_step);
	}
	if (key_is(k, "created")) {
		if (store_single(ps, SEEN_CREATED, l) != STORE_OK)
			return STORE_ECORRUPT;
		return store_parse_time(l->f[0], &rec->created);
	}
	if (key_is(k, "last-success")) {
		if (store_single(ps, SEEN_LAST_SUCCESS, l) != STORE_OK)
			return STORE_ECORRUPT;
		return store_parse_time(l->f[0], &rec->last_success);
	}
	if (key_is(k, "scratch-kdf")) {
		struct store_scratch *sc = &rec->scratch;

		if ((ps->seen & SEEN_SCRATCH_KDF) != 0 || l->n != 3 ||
		    strcmp(l->f[0], "pbkdf2-sha256") != 0 ||
		    store_parse_u64(l->f[1], STORE_SCRATCH_ITER_MAX, &v) != STORE_OK || v == 0 ||
		    store_parse_hex(l->f[2], sc->salt, sizeof(sc->salt)) != STORE_OK)
			return STORE_ECORRUPT;
		ps->seen |= SEEN_SCRATCH_KDF;
		sc->iterations = (uint32_t)v;
		return STORE_OK;
	}
	if (key_is(k, "scratch")) {
		struct store_scratch *sc = &rec->scratch;

		if (l->n != 1 || sc->n == STORE_MAX_SCRATCH ||
		    store_parse_hex(l->f[0], sc->hash[sc->n], STORE_SCRATCH_HASH) != STORE_OK)
			return STORE_ECORRUPT;
		sc->n++;
		return STORE_OK;
	}
	if (key_is(k, "lockout")) {
		struct store_zone *z;

		if (l->n != 4 || rec->n_zones == STORE_MAX_ZONES)
			return STORE_ECORRUPT;
		z = &rec->zones[rec->n_zones];
		if (store_unescape(l->f[0], z->name, sizeof(z->name)) != STORE_OK ||
		    store_parse_u64(l->f[1], UINT32_MAX, &v) != STORE_OK ||
		    store_parse_time(l->f[2], &z->slot.first_failure) != STORE_OK ||
		    store_parse_time(l->f[3], &z->slot.locked_until) != STORE_OK)
			return STORE_ECORRUPT;
		z->slot.failures = (uint32_t)v;
		rec->n_zones++;
		return STORE_OK;
	}
	if (key_is(k, "remember")) {
		struct store_remember *r;

		if ((l->n != 3 && l->n != 4) || rec->n_remember == STORE_MAX_REMEMBER)
			return STORE_ECORRUPT;
		r = &rec->remember[rec->n_remember];
		if (store_unescape(l->f[0], r->source, sizeof(r->source)) != STORE_OK ||
		    store_unescape(l->f[1], r->class_name, sizeof(r->class_name)) != STORE_OK ||
		    store_parse_time(l->f[2], &r->expires) != STORE_OK)
			return STORE_ECORRUPT;
		r->factor = 0;
		/* Written only when not 0, so "0" is not a form it takes. */
		if (l->n == 4 && (store_parse_u64(l->f[3], (uint64_t)INT64_MAX, &r->factor) !=
					  STORE_OK || r->factor == 0))
			return STORE_ECORRUPT;
		rec->n_remember++;
		return STORE_OK;
	}
	if (key_is(k, "app-password"))
		return store_parse_apppw(rec, l);
	if (key_is(k, "history")) {
		struct store_seen *h;

		if (l->n != 2 || rec->n_history == STORE_MAX_HISTORY)
			return STORE_ECORRUPT;
		h = &rec->history[rec->n_history];
		if (store_unescape(l->f[0], h->prefix, sizeof(h->prefix)) != STORE_OK ||
		    store_parse_time(l->f[1], &h->last_seen) != STORE_OK)
			return STORE_ECORRUPT;
		rec->n_history++;
		return STORE_OK;
	}
	return STORE_ECORRUPT; /* unknown key */
}

void store_record_clear(struct store_record *rec)
{
	memset(rec, 0, offsetof(struct store_record, zones));
	rec->n_remember = 0;
	rec->n_history = 0;
	rec->n_apppw = 0;
}

int store_record_parse(const char *text, size_t len, struct store_record *rec)
{
	struct store_parse_state ps = { rec, 0, false };
	int rv;

	store_record_clear(rec);
	rv = store_walk(text, len, "garde-record 1", store_record_line, &ps);
	if (rv != STORE_OK)
		goto out;
	rv = STORE_ECORRUPT;
	if ((ps.seen & SEEN_ALWAYS) != SEEN_ALWAYS)
		goto out;
	/* Scratch codes: the kdf line and at least one code, or neither. */
	if (((ps.seen & SEEN_SCRATCH_KDF) != 0) != (rec->scratch.n > 0))
		goto out;
	if (ps.kind_none) {
		if ((ps.seen & SEEN_TOKEN) != 0 || rec->scratch.n > 0)
			goto out;
	} else {
		if ((ps.seen & SEEN_TOKEN) != SEEN_TOKEN || otp_token_check(&rec->token) != OTP_OK)
			goto out;
		rec->has_token = true;
	}
	rv = STORE_OK;
out:
	if (rv != STORE_OK) {
		store_record_wipe(rec);
		store_record_clear(rec);
	}
	return rv;
}

struct store_source_state {
	char *source;
	struct lockout_slot *slot;
	unsigned seen;
};

static int store_source_line(void *arg, size_t lineno, struct store_line *l)
{
	struct store_source_state *ss = arg;
	static const char *const keys[] = { "source", "failures", "first-failure", "locked-until" };
	uint64_t v;
	unsigned i;

	(void)lineno;
	for (i = 0; i < 4; i++)
		if (strcmp(l->key, keys[i]) == 0)
			break;
	if (i == 4 || l->n != 1 || (ss->seen & (1u << i)) != 0)
		return STORE_ECORRUPT;
	ss->seen |= 1u << i;
	switch (i) {
	case 0: return store_unescape(l->f[0], ss->source, STORE_SOURCE_MAX + 1);
	case 1:
		if (store_parse_u64(l->f[0], UINT32_MAX, &v) != STORE_OK)
			return STORE_ECORRUPT;
		ss->slot->failures = (uint32_t)v;
		return STORE_OK;
	case 2: return store_parse_time(l->f[0], &ss->slot->first_failure);
	default: return store_parse_time(l->f[0], &ss->slot->locked_until);
	}
}

int store_source_parse(const char *text, size_t len, char source_text[STORE_SOURCE_MAX + 1],
		       struct lockout_slot *slot)
{
	struct store_source_state ss = { source_text, slot, 0 };
	int rv;

	memset(slot, 0, sizeof(*slot));
	source_text[0] = '\0';
	rv = store_walk(text, len, "garde-source 1", store_source_line, &ss);
	if (rv == STORE_OK && ss.seen != 15)
		rv = STORE_ECORRUPT;
	return rv;
}
