/* store_fixture.c - the store suites' temporary directory and the helpers
 * that look at record files from outside the store (store_fixture.h). */
#include "store_fixture.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lockout.h"
#include "source.h"

char fixture_base[64];
char fixture_store[96];

void fixture_setup(void)
{
	snprintf(fixture_base, sizeof(fixture_base), "/tmp/garde-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fixture_base));
	snprintf(fixture_store, sizeof(fixture_store), "%s/store", fixture_base);
}

void fixture_teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixture_base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fixture_base);
}

struct otp_token totp_token(void)
{
	struct otp_token t;

	memset(&t, 0, sizeof(t));
	t.kind = OTP_TOTP;
	t.algo = OTP_SHA1;
	t.digits = 6;
	t.step = 30;
	t.secret_len = 20;
	memcpy(t.secret, "12345678901234567890", 20);
	return t;
}

void path_of(char *out, size_t len, const char *sub, const char *user)
{
	char hex[STORE_HASH_HEX];

	store_name_hash(user, strlen(user), hex);
	snprintf(out, len, "%s/%s/%s", fixture_store, sub, hex);
}

off_t file_size(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_size;
}

/* Reads n bytes at off of path into buf. */
void read_at(const char *path, off_t off, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, n, off), (ssize_t)n);
	close(fd);
}

void write_at(const char *path, off_t off, const char *buf, size_t n)
{
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, buf, n, off), (ssize_t)n);
	close(fd);
}

/* The sequence number in the slot header at off, checked independently of
 * the store's code: the layout of store.h, and the SHA-256 of the header's
 * first 43 bytes then the text. 0 when the slot does not verify. */
uint64_t slot_seq_at(const char *path, off_t off)
{
	static char slot[STORE_RECORD_MAX];
	unsigned char md[32];
	char hex[65];
	unsigned long long seq;
	unsigned long len;
	unsigned mdlen, i;

	if (file_size(path) < off + (off_t)STORE_SLOT_HDR)
		return 0;
	read_at(path, off, slot, STORE_SLOT_HDR);
	if (sscanf(slot, "garde-slot %20llu %10lu ", &seq, &len) != 2 || slot[31] != ' ' ||
	    slot[42] != ' ' || slot[STORE_SLOT_HDR - 1] != '\n' || len > STORE_TEXT_MAX ||
	    file_size(path) < off + (off_t)(STORE_SLOT_HDR + len))
		return 0;
	read_at(path, off + STORE_SLOT_HDR, slot + STORE_SLOT_HDR, len);
	memmove(slot + 43, slot + STORE_SLOT_HDR, len);
	ck_assert_int_eq(EVP_Digest(slot, 43 + len, md, &mdlen, EVP_sha256(), NULL), 1);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	read_at(path, off + 43, slot, 64);
	return memcmp(slot, hex, 64) == 0 ? seq : 0;
}

void commit_step(struct store *st, uint64_t step)
{
	struct store_handle *h = NULL;

	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	store_record(h)->last_step = step;
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);
}

/* alice's last step, read under the lock and by a peek (which must agree). */
uint64_t step_of(struct store *st)
{
	static struct store_record rec;
	struct store_handle *h = NULL;
	uint64_t step;

	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	step = store_record(h)->last_step;
	store_unlock(h);
	ck_assert_int_eq(store_peek_user(st, "alice", &rec), STORE_OK);
	ck_assert_uint_eq(rec.last_step, step);
	store_record_wipe(&rec);
	return step;
}


int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Fills alice's record with 64 networks and 16 zones with long names
 * (about 5 KiB: a slot over two pages) and commits it. */
void grow_alice(struct store *st)
{
	const struct policy_history hp = { 90, 24, 64 };
	const struct policy_lockout_slot lp = { 5, 900, 900 };
	struct store_handle *h = NULL;
	struct source src;
	char ip[32], zone[STORE_NAME_MAX + 1];
	bool changed;

	ck_assert_int_eq(store_lock_user(st, "alice", &h), STORE_OK);
	for (int i = 0; i < STORE_MAX_HISTORY; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:%x::1", i);
		ck_assert_int_eq(source_parse(ip, &src), 0);
		ck_assert_int_eq(store_history_add(store_record(h), &src, &hp, 1000, &changed),
				 STORE_OK);
	}
	memset(zone, 'z', STORE_NAME_MAX);
	zone[STORE_NAME_MAX] = '\0';
	for (int i = 0; i < STORE_MAX_ZONES; i++) {
		snprintf(zone, 8, "zone%02d", i);
		zone[6] = 'z';
		ck_assert_ptr_nonnull(store_zone_slot(store_record(h), zone, &lp, 1000));
	}
	ck_assert_int_eq(store_commit(h), STORE_OK);
	store_unlock(h);
}

int lock_status(struct store *st, const char *user)
{
	struct store_handle *h = NULL;
	int rv = store_lock_user(st, user, &h);

	store_unlock(h);
	return rv;
}
