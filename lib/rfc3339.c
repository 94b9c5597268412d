/* rfc3339.c - RFC 3339 timestamps, computed with Howard Hinnant's civil
 * date algorithms so that no libc time-zone state is involved. */
#include "rfc3339.h"

#include <stdbool.h>
#include <stdio.h>

int64_t rfc3339_days_from_civil(int64_t year, unsigned month, unsigned day)
{
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void rfc3339_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);

	*day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = yoe + era * 400 + (m <= 2);
}

/* Reads exactly n decimal digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool expect(const char **p, const char *choices)
{
	for (const char *c = choices; *c != '\0'; c++) {
		if (**p == *c) {
			(*p)++;
			return true;
		}
	}
	return false;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int rfc3339_parse(const char *text, int64_t *out)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = text;
	int year, month, day, hour, min, sec, oh = 0, om = 0, sign = 0;

	if (!digits(&p, 4, &year) || !expect(&p, "-") || !digits(&p, 2, &month) ||
	    !expect(&p, "-") || !digits(&p, 2, &day) || !expect(&p, "Tt ") ||
	    !digits(&p, 2, &hour) || !expect(&p, ":") || !digits(&p, 2, &min) ||
	    !expect(&p, ":") || !digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (expect(&p, "Zz")) {
		sign = 0;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (!digits(&p, 2, &oh) || !expect(&p, ":") || !digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	if (month < 1 || month > 12 || day < 1 ||
	    day > mdays[month - 1] + (month == 2 && leap(year)) || hour > 23 || min > 59 ||
	    sec > 60) /* 60: a leap second, read as the next second */
		return -1;
	*out = rfc3339_days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 +
	       hour * 3600 + min * 60 + sec - sign * (oh * 3600 + om * 60);
	return 0;
}

void rfc3339_format(int64_t when, char *buf, size_t len)
{
	int64_t days = when / 86400, rem = when % 86400, year;
	unsigned month, day;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	rfc3339_civil_from_days(days, &year, &month, &day);
	snprintf(buf, len, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)year, month, day,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}
