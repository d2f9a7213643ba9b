/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsers and printers for the DAMON sysfs tree, with the kernel's input
 * rules and errno values (kstrtoul/kstrtoint/kstrtouint with base 0,
 * kstrtobool, sysfs_streq).  Pure code: no FUSE, no library state, so unit
 * tests and fuzzers use it directly.
 */
#ifndef UDAMON_FS_PARSE_H
#define UDAMON_FS_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The kernel copies at most one page of a sysfs write into a NUL-terminated
 * buffer before parsing; we do the same.
 */
#define FS_WRITE_MAX 4096

int fs_kstrtoull(const char *s, unsigned long long *res);
int fs_kstrtoul(const char *s, unsigned long *res);
int fs_kstrtouint(const char *s, unsigned int *res);
int fs_kstrtoll(const char *s, long long *res);
int fs_kstrtoint(const char *s, int *res);
int fs_kstrtobool(const char *s, bool *res);
bool fs_sysfs_streq(const char *s1, const char *s2);

#endif /* UDAMON_FS_PARSE_H */
