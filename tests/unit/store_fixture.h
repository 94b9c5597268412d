/* store_fixture.h - a temporary directory with a store path inside it, made
 * before and removed after each test of the store's suites, and helpers
 * that look at record files from outside the store. */
#ifndef GARDE_TEST_STORE_FIXTURE_H
#define GARDE_TEST_STORE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "otp.h"
#include "store.h"

extern char fixture_base[64]; /* the test's temporary directory */
extern char fixture_store[96]; /* "<base>/store", not made: store_open makes it */

/* Check fixtures (tcase_add_checked_fixture). */
void fixture_setup(void);
void fixture_teardown(void);

/* A TOTP token with RFC 6238's SHA-1 secret. */
struct otp_token totp_token(void);

/* out = the path of the record of user (or source text) in subdirectory
 * sub ("users", "sources") of the fixture's store. */
void path_of(char *out, size_t len, const char *sub, const char *user);

/* Entries of dir, but . and .. */
int count_entries(const char *dir);

off_t file_size(const char *path);
void read_at(const char *path, off_t off, char *buf, size_t n);
void write_at(const char *path, off_t off, const char *buf, size_t n);

/* The sequence number of the slot at off, checked independently of the
 * store's code (store.h's framing, OpenSSL's SHA-256); 0 when it does not
 * verify. */
uint64_t slot_seq_at(const char *path, off_t off);

/* What store_lock_user says of user (the lock is given back at once). */
int lock_status(struct store *st, const char *user);

/* Sets alice's last TOTP step under the lock and commits. */
void commit_step(struct store *st, uint64_t step);

/* alice's last step, read under the lock and by a peek (which must agree). */
uint64_t step_of(struct store *st);

/* Fills alice's record with 64 networks and 16 zones with long names
 * (about 5 KiB: a slot over two pages) and commits it. */
void grow_alice(struct store *st);

#endif
