/* store_root.h - opening the store directory, or taking the one this
 * process keeps open (store_root.c). Internal to the store. */
#ifndef GARDE_STORE_ROOT_H
#define GARDE_STORE_ROOT_H

#include <stdbool.h>
#include <sys/stat.h>

/* An fd of the directory dir, checked by the trust rules, and its stat:
 * the caller closes it. keep: an O_PATH descriptor, a duplicate of the one
 * the process keeps when that is still dir's (store_root.c). Returns the fd
 * or a negative enum trust_error. */
int store_root_open(const char *dir, bool keep, struct stat *sb);

#endif
