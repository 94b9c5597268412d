/* tz.h - wall-clock time in an IANA time zone, without touching TZ or any
 * process-wide state (the module runs inside sshd and dovecot). Zones are
 * read from the system's TZif files (tzdata), including the POSIX rule in
 * the footer for times past the last transition. */
#ifndef GARDE_TZ_H
#define GARDE_TZ_H

#include <stddef.h>
#include <stdint.h>

struct tz;

/* name is an IANA name such as "Europe/Paris" or "UTC"; names with "..",
 * a leading "/" or characters outside [A-Za-z0-9/_+-] are refused. dir is
 * the zoneinfo directory (NULL: /usr/share/zoneinfo). Returns 0, or -1 with
 * a message in err. */
int tz_load(const char *name, const char *dir, struct tz **out, char *err, size_t errlen);
void tz_free(struct tz *zone);

struct tz_wallclock {
	int wday;   /* 0 = Sunday .. 6 = Saturday */
	int minute; /* minutes since local midnight, 0..1439 */
	int year, month, mday, hour, min, sec;
	long utc_offset; /* seconds east of UTC */
};

/* Pure: converts a UTC instant to local wall-clock time in zone. */
void tz_localtime(const struct tz *zone, int64_t when, struct tz_wallclock *out);

#endif
