/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsers and printers for the DAMON sysfs tree, with the kernel's input
 * rules and errno values (kstrtoul/kstrtoint/kstrtouint with base 0,
 * kstrtobool, sysfs_streq), plus a small growable text buffer.  Pure code:
 * no FUSE, no library state, so unit tests and fuzzers use it directly.
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

/* A growable, always NUL-terminated text buffer. */
struct fs_buf {
	char *data;
	size_t len;
	size_t cap;
	bool oom; /* an allocation failed; the content is truncated */
};

void fs_buf_init(struct fs_buf *b);
void fs_buf_free(struct fs_buf *b);
void fs_buf_reset(struct fs_buf *b);
void fs_buf_add(struct fs_buf *b, const char *s, size_t n);
void fs_buf_puts(struct fs_buf *b, const char *s);
void fs_buf_printf(struct fs_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* UDAMON_FS_PARSE_H */
