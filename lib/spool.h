/* spool.h - the event spool: SPOOL/tmp/ID.json, then renamed into
 * SPOOL/new/ID.json for the agent to deliver (DESIGN.md "Events").
 *
 * The spool directory and its tmp/ and new/ are trusted directories
 * (DESIGN.md "Files and trust"): not symbolic links, owned by root or the
 * effective uid, not writable by group or other. Missing ones are created
 * 0700. Every later step is relative to the directory fds opened and checked
 * once, so swapping a path component mid-way cannot redirect the write.
 *
 * Nothing here waits on the agent, a lock or the network; the only blocking
 * calls are on the local file system (open, write, fsync, rename). */
#ifndef GARDE_SPOOL_H
#define GARDE_SPOOL_H

#include <stddef.h>

#define SPOOL_MAX_RECORD 4096 /* bytes; an event is smaller (EVENT_MAX_BYTES) */
#define SPOOL_MAX_ID 64       /* id: 1..64 characters of [0-9a-f] */

enum spool_error {
	SPOOL_OK = 0,
	SPOOL_EINVAL = -1,   /* bad argument: empty or oversize record, id not lower-case hex */
	SPOOL_ENOENT = -2,   /* the spool (or new/) does not exist (spool_count only) */
	SPOOL_ESYMLINK = -3, /* a spool directory is a symbolic link */
	SPOOL_ETYPE = -4,    /* a spool directory is not a directory */
	SPOOL_EOWNER = -5,   /* a spool directory is owned by another user */
	SPOOL_EMODE = -6,    /* a spool directory is writable by group or other */
	SPOOL_ENOSPC = -7,   /* disk full (or quota exceeded) */
	SPOOL_EEXIST = -8,   /* an event with this id is already spooled */
	SPOOL_EIO = -9,      /* any other system error; errno is kept */
	SPOOL_ENOMEM = -10,
};

const char *spool_strerror(int err);

/* Writes len bytes of record as SPOOL/new/ID.json, atomically: the file
 * appears there whole, mode 0600, or not at all (no partial file is left in
 * tmp/ or new/). The file and new/ are fsync'ed before returning: events are
 * audit records, and a denial that a crash could erase is a record an
 * attacker could erase by crashing the host. Returns 0 or a negative enum
 * spool_error. */
int spool_write(const char *spool_dir, const char *record, size_t len, const char *id);

/* How many events wait in SPOOL/new/ (for `garde status`). Opens nothing
 * for writing and creates nothing. Returns 0 or a negative error. */
int spool_count(const char *spool_dir, size_t *count);

#endif
