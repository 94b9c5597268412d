/* tz.c - reads TZif files (RFC 8536) and converts UTC instants to wall-clock
 * time in a zone, without TZ/tzset: the module runs inside sshd and dovecot,
 * whose process-wide time-zone state is not ours to change. */
#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX 255
#define TZ_FILE_MAX (512 * 1024)
/* tzcode itself caps transitions at 2000; a little headroom for future data. */
#define TZ_TIMES_MAX 10000
#define TZ_TYPES_MAX 256 /* a type index is one byte */
#define TZ_FOOTER_MAX 255
#define TZ_HEADER_LEN 44
/* Real offsets stay within a day; anything further is a corrupt file, and
 * the bound keeps the arithmetic below far from overflow. */
#define TZ_UTOFF_MAX (26 * 3600)
/* Instants are clamped to about +-8.9 million years so that every year and
 * day count below fits its type; no login happens outside that range. */
#define TZ_WHEN_LIMIT (INT64_C(1) << 48)
#define TZ_SECS_PER_DAY 86400

enum tz_rule_kind { TZ_RULE_JULIAN1, TZ_RULE_ZERO_BASED, TZ_RULE_MONTH_WEEK };

/* One transition date of a POSIX TZ rule ("M3.5.0/3", "J60", "59/26"). */
struct tz_rule_date {
	enum tz_rule_kind kind;
	int day;      /* Jn: 1..365, n: 0..365 */
	int month;    /* Mm.w.d */
	int week;     /* 1..5, 5 = last */
	int weekday;  /* 0 = Sunday */
	int32_t secs; /* local time of day; v3 allows -167h..167h */
};

struct tz_posix {
	int32_t std_utoff; /* seconds east of UTC */
	int32_t dst_utoff;
	int has_dst;
	struct tz_rule_date start, end;
};

struct tz {
	size_t ntimes;
	size_t ntypes;
	int64_t *times;  /* strictly ascending */
	uint8_t *types;  /* index into utoff, one per transition */
	int32_t utoff[TZ_TYPES_MAX];
	int has_footer;
	struct tz_posix footer;
};

/* Counts from a TZif header, in file order. */
struct tz_counts {
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

__attribute__((format(printf, 3, 4)))
static void tz_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t tz_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* H. Hinnant's days_from_civil: exact for negative years too. */
static int64_t tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = tz_floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void tz_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = tz_floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int tz_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int tz_month_days(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && tz_is_leap(y) ? 29 : days[m - 1];
}

/* 1970-01-01 was a Thursday. */
static int tz_weekday(int64_t days)
{
	return (int)(days - tz_floor_div(days + 4, 7) * 7 + 4);
}

/* ---- POSIX TZ string (the TZif footer) ---- */

/* Reads up to maxdigits decimal digits into a value no larger than max. */
static int tz_parse_num(const char **sp, int maxdigits, int max, int *out)
{
	const char *s = *sp;
	int n = 0, v = 0;

	while (n < maxdigits && s[n] >= '0' && s[n] <= '9') {
		v = v * 10 + (s[n] - '0');
		n++;
	}
	if (n == 0 || v > max)
		return -1;
	*sp = s + n;
	*out = v;
	return 0;
}

/* [+-]hh[:mm[:ss]] with hh <= maxhours; returns seconds. */
static int tz_parse_hms(const char **sp, int maxhours, int32_t *out)
{
	const char *s = *sp;
	int sign = 1, h, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (tz_parse_num(&s, 3, maxhours, &h) != 0)
		return -1;
	if (*s == ':') {
		s++;
		if (tz_parse_num(&s, 2, 59, &m) != 0)
			return -1;
		if (*s == ':') {
			s++;
			if (tz_parse_num(&s, 2, 59, &sec) != 0)
				return -1;
		}
	}
	*sp = s;
	*out = sign * (h * 3600 + m * 60 + sec);
	return 0;
}

/* "CET" or "<+0330>": only checked, the abbreviation itself is never used. */
static int tz_parse_abbr(const char **sp)
{
	const char *s = *sp;
	size_t n = 0;

	if (*s == '<') {
		s++;
		while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
		       (s[n] >= '0' && s[n] <= '9') || s[n] == '+' || s[n] == '-')
			n++;
		if (n < 3 || s[n] != '>')
			return -1;
		*sp = s + n + 1;
		return 0;
	}
	while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'))
		n++;
	if (n < 3)
		return -1;
	*sp = s + n;
	return 0;
}

static int tz_parse_rule_date(const char **sp, struct tz_rule_date *out)
{
	const char *s = *sp;

	memset(out, 0, sizeof(*out));
	if (*s == 'M') {
		s++;
		out->kind = TZ_RULE_MONTH_WEEK;
		if (tz_parse_num(&s, 2, 12, &out->month) != 0 || out->month < 1 || *s++ != '.' ||
		    tz_parse_num(&s, 1, 5, &out->week) != 0 || out->week < 1 || *s++ != '.' ||
		    tz_parse_num(&s, 1, 6, &out->weekday) != 0)
			return -1;
	} else if (*s == 'J') {
		s++;
		out->kind = TZ_RULE_JULIAN1;
		if (tz_parse_num(&s, 3, 365, &out->day) != 0 || out->day < 1)
			return -1;
	} else {
		out->kind = TZ_RULE_ZERO_BASED;
		if (tz_parse_num(&s, 3, 365, &out->day) != 0)
			return -1;
	}
	out->secs = 2 * 3600; /* POSIX default */
	if (*s == '/') {
		s++;
		/* RFC 8536 section 3.3.1: hours may range from -167 to 167. */
		if (tz_parse_hms(&s, 167, &out->secs) != 0)
			return -1;
	}
	*sp = s;
	return 0;
}

/* Parses e.g. "CET-1CEST,M3.5.0,M10.5.0/3"; POSIX offsets count west of UTC. */
static int tz_parse_posix(const char *s, struct tz_posix *out)
{
	int32_t off;

	memset(out, 0, sizeof(*out));
	if (tz_parse_abbr(&s) != 0 || tz_parse_hms(&s, 24, &off) != 0)
		return -1;
	out->std_utoff = -off;
	if (*s == '\0')
		return 0;
	if (tz_parse_abbr(&s) != 0)
		return -1;
	out->has_dst = 1;
	out->dst_utoff = out->std_utoff + 3600;
	if (*s == '+' || *s == '-' || (*s >= '0' && *s <= '9')) {
		if (tz_parse_hms(&s, 24, &off) != 0)
			return -1;
		out->dst_utoff = -off;
	}
	if (*s == '\0') {
		/* No rule: POSIX leaves it to the implementation; zic never writes
		 * this, and glibc's posixrules default is the US rule. */
		s = "M3.2.0,M11.1.0";
		if (tz_parse_rule_date(&s, &out->start) != 0 || *s++ != ',' ||
		    tz_parse_rule_date(&s, &out->end) != 0)
			return -1;
		return 0;
	}
	if (*s++ != ',' || tz_parse_rule_date(&s, &out->start) != 0 || *s++ != ',' ||
	    tz_parse_rule_date(&s, &out->end) != 0 || *s != '\0')
		return -1;
	return 0;
}

/* Day (since the epoch) on which a rule date falls in year y. */
static int64_t tz_rule_day(const struct tz_rule_date *r, int64_t y)
{
	int64_t jan1 = tz_days_from_civil(y, 1, 1), first;
	int day;

	switch (r->kind) {
	case TZ_RULE_JULIAN1:
		/* Jn never counts February 29. */
		return jan1 + r->day - 1 + (tz_is_leap(y) && r->day >= 60);
	case TZ_RULE_ZERO_BASED:
		return jan1 + r->day;
	case TZ_RULE_MONTH_WEEK:
	default:
		first = tz_days_from_civil(y, r->month, 1);
		day = (r->weekday - tz_weekday(first) + 7) % 7 + 7 * (r->week - 1);
		if (day >= tz_month_days(y, r->month))
			day -= 7; /* week 5 means the last such weekday */
		return first + day;
	}
}

/* The UTC instant of a rule date in year y; the rule's wall-clock time is
 * read in the offset in force just before the change. */
static int64_t tz_rule_instant(const struct tz_rule_date *r, int64_t y, int32_t utoff_before)
{
	return tz_rule_day(r, y) * TZ_SECS_PER_DAY + r->secs - utoff_before;
}

/* Offset given by the footer rule at instant when. */
static int32_t tz_posix_utoff(const struct tz_posix *p, int64_t when)
{
	int64_t y, best = INT64_MIN, start, end;
	int32_t utoff = p->std_utoff;
	int m, d;

	if (!p->has_dst)
		return p->std_utoff;
	tz_civil_from_days(tz_floor_div(when, TZ_SECS_PER_DAY), &y, &m, &d);
	/* The last change at or before when: with hours up to +-167 and DST
	 * periods crossing new year (southern hemisphere, Europe/Dublin), it
	 * may belong to the year before or after when's UTC year. */
	for (int64_t yy = y - 1; yy <= y + 1; yy++) {
		start = tz_rule_instant(&p->start, yy, p->std_utoff);
		end = tz_rule_instant(&p->end, yy, p->dst_utoff);
		if (end <= when && end > best) {
			best = end;
			utoff = p->std_utoff;
		}
		/* ">=": DST all year is written as an end that coincides with the
		 * next start (RFC 8536 section 3.3.1), and then DST wins. */
		if (start <= when && start >= best) {
			best = start;
			utoff = p->dst_utoff;
		}
	}
	return utoff;
}

/* ---- TZif parsing ---- */

static uint32_t tz_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t tz_be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)tz_be32(p) << 32 | tz_be32(p + 4));
}

/* Reads the header at off; 0, or -1 if the magic is missing. */
static int tz_read_header(const unsigned char *data, size_t len, size_t off, struct tz_counts *c)
{
	const unsigned char *h = data + off;

	if (len - off < TZ_HEADER_LEN || memcmp(h, "TZif", 4) != 0)
		return -1;
	c->isutcnt = tz_be32(h + 20);
	c->isstdcnt = tz_be32(h + 24);
	c->leapcnt = tz_be32(h + 28);
	c->timecnt = tz_be32(h + 32);
	c->typecnt = tz_be32(h + 36);
	c->charcnt = tz_be32(h + 40);
	return 0;
}

/* Size of the data block after a header; 64-bit sums of 32-bit counts. */
static uint64_t tz_block_size(const struct tz_counts *c, unsigned timesize)
{
	return (uint64_t)c->timecnt * (timesize + 1) + (uint64_t)c->typecnt * 6 + c->charcnt +
	       (uint64_t)c->leapcnt * (timesize + 4) + c->isstdcnt + c->isutcnt;
}

/* Fills zone from a data block (its size already checked against the file).
 * Leap-second records are skipped: system clocks count POSIX time. */
static int tz_parse_block(const unsigned char *data, const struct tz_counts *c, unsigned timesize,
			  struct tz *zone, const char *name, char *err, size_t errlen)
{
	const unsigned char *times = data;
	const unsigned char *idx = times + (size_t)c->timecnt * timesize;
	const unsigned char *ttinfo = idx + c->timecnt;

	for (size_t i = 0; i < c->typecnt; i++) {
		const unsigned char *t = ttinfo + 6 * i;
		int32_t utoff = (int32_t)tz_be32(t);

		if (utoff < -TZ_UTOFF_MAX || utoff > TZ_UTOFF_MAX || t[4] > 1 || t[5] >= c->charcnt) {
			tz_set_err(err, errlen, "%s: bad local time type in TZif file", name);
			return -1;
		}
		zone->utoff[i] = utoff;
	}
	zone->ntypes = c->typecnt;
	for (size_t i = 0; i < c->timecnt; i++) {
		int64_t t = timesize == 8 ? tz_be64(times + 8 * i)
					  : (int64_t)(int32_t)tz_be32(times + 4 * i);

		if (i > 0 && t <= zone->times[i - 1]) {
			tz_set_err(err, errlen, "%s: transitions out of order in TZif file", name);
			return -1;
		}
		if (idx[i] >= c->typecnt) {
			tz_set_err(err, errlen, "%s: bad transition type in TZif file", name);
			return -1;
		}
		zone->times[i] = t;
		zone->types[i] = idx[i];
	}
	zone->ntimes = c->timecnt;
	return 0;
}

static int tz_check_counts(const struct tz_counts *c, const char *name, char *err, size_t errlen)
{
	if (c->typecnt == 0 || c->typecnt > TZ_TYPES_MAX || c->timecnt > TZ_TIMES_MAX ||
	    (c->isstdcnt != 0 && c->isstdcnt != c->typecnt) ||
	    (c->isutcnt != 0 && c->isutcnt != c->typecnt)) {
		tz_set_err(err, errlen, "%s: bad counts in TZif header", name);
		return -1;
	}
	return 0;
}

/* Parses a whole TZif file into a new zone. */
static int tz_parse(const unsigned char *data, size_t len, const char *name, struct tz **out,
		    char *err, size_t errlen)
{
	struct tz_counts c;
	struct tz *zone = NULL;
	char footer[TZ_FOOTER_MAX + 1];
	unsigned timesize = 4;
	uint64_t size;
	size_t off = 0, flen;
	const unsigned char *nl;
	int rv = -1;

	if (tz_read_header(data, len, 0, &c) != 0 || (data[4] != 0 && data[4] < '2')) {
		tz_set_err(err, errlen, "%s: not a TZif file", name);
		goto out;
	}
	if (data[4] != 0) {
		/* Version 2 and later: skip the 32-bit block, use the 64-bit one. */
		size = tz_block_size(&c, 4);
		if (size > len - TZ_HEADER_LEN) {
			tz_set_err(err, errlen, "%s: truncated TZif file", name);
			goto out;
		}
		off = TZ_HEADER_LEN + (size_t)size;
		if (tz_read_header(data, len, off, &c) != 0) {
			tz_set_err(err, errlen, "%s: truncated TZif file (no 64-bit header)", name);
			goto out;
		}
		timesize = 8;
	}
	off += TZ_HEADER_LEN;
	if (tz_check_counts(&c, name, err, errlen) != 0)
		goto out;
	size = tz_block_size(&c, timesize);
	if (size > len - off) {
		tz_set_err(err, errlen, "%s: truncated TZif file", name);
		goto out;
	}
	zone = calloc(1, sizeof(*zone) + (size_t)c.timecnt * (sizeof(int64_t) + 1));
	if (zone == NULL) {
		tz_set_err(err, errlen, "%s: out of memory", name);
		goto out;
	}
	zone->times = (int64_t *)(zone + 1);
	zone->types = (uint8_t *)(zone->times + c.timecnt);
	if (tz_parse_block(data + off, &c, timesize, zone, name, err, errlen) != 0)
		goto out;
	off += (size_t)size;
	if (timesize == 8) {
		/* The footer: "\n" POSIX-TZ-string "\n"; an empty string is valid. */
		if (len - off < 2 || data[off] != '\n' ||
		    (nl = memchr(data + off + 1, '\n', len - off - 1)) == NULL) {
			tz_set_err(err, errlen, "%s: truncated TZif file (no footer)", name);
			goto out;
		}
		flen = (size_t)(nl - (data + off + 1));
		if (flen > TZ_FOOTER_MAX || memchr(data + off + 1, '\0', flen) != NULL) {
			tz_set_err(err, errlen, "%s: bad TZ string in TZif footer", name);
			goto out;
		}
		memcpy(footer, data + off + 1, flen);
		footer[flen] = '\0';
		if (flen > 0) {
			if (tz_parse_posix(footer, &zone->footer) != 0) {
				tz_set_err(err, errlen, "%s: bad TZ string '%s' in TZif footer", name,
					   footer);
				goto out;
			}
			zone->has_footer = 1;
		}
	}
	*out = zone;
	zone = NULL;
	rv = 0;
out:
	free(zone);
	return rv;
}

/* ---- loading ---- */

/* IANA names use only these characters; '.' is not among them, so neither
 * "." nor ".." can appear as a component. */
static int tz_name_ok(const char *name)
{
	size_t n = strnlen(name, TZ_NAME_MAX + 1);

	if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '/' || ch == '_' || ch == '+' || ch == '-'))
			return 0;
		if (ch == '/' && name[i + 1] == '/')
			return 0;
	}
	return 1;
}

/* A refused name is echoed in errors, made printable and cut short. */
static void tz_printable(const char *in, char *out, size_t outlen)
{
	size_t i = 0;

	for (; in[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f && in[i] != '\'') ? in[i] : '?';
	out[i] = '\0';
}

enum tz_read_result { TZ_READ_OK, TZ_READ_ENOENT, TZ_READ_ETYPE, TZ_READ_ETOOBIG, TZ_READ_EIO };

/* Reads a whole regular file of at most TZ_FILE_MAX bytes. Symbolic links
 * are followed on purpose: tzdata ships aliases (GB, Eire) as symlinks. */
static enum tz_read_result tz_read_file(const char *path, unsigned char **data, size_t *len,
					int *saved_errno)
{
	enum tz_read_result rv = TZ_READ_EIO;
	unsigned char *buf = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t r;
	/* O_NONBLOCK: a FIFO in the zone directory must not hang a login. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		*saved_errno = errno;
		rv = (errno == ENOENT || errno == ENOTDIR) ? TZ_READ_ENOENT : TZ_READ_EIO;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		*saved_errno = errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rv = TZ_READ_ETYPE;
		goto out;
	}
	if (st.st_size > TZ_FILE_MAX) {
		rv = TZ_READ_ETOOBIG;
		goto out;
	}
	/* One spare byte detects a file that grew past the cap since fstat. */
	buf = malloc(TZ_FILE_MAX + 1);
	if (buf == NULL) {
		*saved_errno = ENOMEM;
		goto out;
	}
	while (got < TZ_FILE_MAX + 1) {
		r = read(fd, buf + got, TZ_FILE_MAX + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*saved_errno = errno;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > TZ_FILE_MAX) {
		rv = TZ_READ_ETOOBIG;
		goto out;
	}
	*data = buf;
	*len = got;
	buf = NULL;
	rv = TZ_READ_OK;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rv;
}

/* UTC with no file at all, so a system without tzdata still has it. */
static int tz_builtin_utc(struct tz **out, char *err, size_t errlen)
{
	struct tz *zone = calloc(1, sizeof(*zone));

	if (zone == NULL) {
		tz_set_err(err, errlen, "UTC: out of memory");
		return -1;
	}
	zone->times = NULL;
	zone->types = NULL;
	zone->ntypes = 1;
	*out = zone;
	return 0;
}

int tz_load(const char *name, const char *dir, struct tz **out, char *err, size_t errlen)
{
	char path[4096], shown[64];
	unsigned char *data = NULL;
	size_t len = 0;
	enum tz_read_result rr;
	int n, saved_errno = EIO, rv = -1;

	if (out == NULL) {
		tz_set_err(err, errlen, "tz_load: no place for the zone");
		goto out;
	}
	*out = NULL;
	if (name == NULL) {
		tz_set_err(err, errlen, "no time zone name");
		goto out;
	}
	if (!tz_name_ok(name)) {
		tz_printable(name, shown, sizeof(shown));
		tz_set_err(err, errlen,
			   "invalid time zone name '%s' (want an IANA name such as Europe/Paris)",
			   shown);
		goto out;
	}
	/* UTC has no transitions and no rule: nothing to read (and the policy
	 * default costs no file access on every login). */
	if (strcmp(name, "UTC") == 0) {
		rv = tz_builtin_utc(out, err, errlen);
		goto out;
	}
	if (dir == NULL)
		dir = TZ_DEFAULT_DIR;
	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		tz_set_err(err, errlen, "%s: zoneinfo path too long", name);
		goto out;
	}
	rr = tz_read_file(path, &data, &len, &saved_errno);
	switch (rr) {
	case TZ_READ_OK:
		rv = tz_parse(data, len, name, out, err, errlen);
		break;
	case TZ_READ_ENOENT:
		tz_set_err(err, errlen, "unknown time zone '%s' (no such file in %s)", name, dir);
		break;
	case TZ_READ_ETYPE:
		tz_set_err(err, errlen, "unknown time zone '%s' (%s is not a regular file)", name,
			   path);
		break;
	case TZ_READ_ETOOBIG:
		tz_set_err(err, errlen, "%s: %s is too large for a TZif file", name, path);
		break;
	case TZ_READ_EIO:
	default:
		tz_set_err(err, errlen, "%s: cannot read %s: %s", name, path, strerror(saved_errno));
		break;
	}
out:
	free(data);
	return rv;
}

void tz_free(struct tz *zone)
{
	free(zone);
}

/* ---- conversion ---- */

static int32_t tz_utoff_at(const struct tz *zone, int64_t when)
{
	size_t lo = 0, hi;

	if (zone->ntimes == 0)
		return zone->has_footer ? tz_posix_utoff(&zone->footer, when) : zone->utoff[0];
	/* RFC 8536: type 0 before the first transition, the footer after the last. */
	if (when < zone->times[0])
		return zone->utoff[0];
	if (zone->has_footer && when > zone->times[zone->ntimes - 1])
		return tz_posix_utoff(&zone->footer, when);
	/* Largest i with times[i] <= when. */
	hi = zone->ntimes;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (zone->times[mid] <= when)
			lo = mid;
		else
			hi = mid;
	}
	return zone->utoff[zone->types[lo]];
}

void tz_localtime(const struct tz *zone, int64_t when, struct tz_wallclock *out)
{
	int64_t local, days, secs, year;
	int32_t utoff = 0;

	if (when > TZ_WHEN_LIMIT)
		when = TZ_WHEN_LIMIT;
	if (when < -TZ_WHEN_LIMIT)
		when = -TZ_WHEN_LIMIT;
	if (zone != NULL)
		utoff = tz_utoff_at(zone, when);
	local = when + utoff;
	days = tz_floor_div(local, TZ_SECS_PER_DAY);
	secs = local - days * TZ_SECS_PER_DAY;
	tz_civil_from_days(days, &year, &out->month, &out->mday);
	out->year = (int)year;
	out->wday = tz_weekday(days);
	out->hour = (int)(secs / 3600);
	out->min = (int)(secs / 60 % 60);
	out->sec = (int)(secs % 60);
	out->minute = (int)(secs / 60);
	out->utc_offset = utoff;
}
