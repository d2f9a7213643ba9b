/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny fake file system behind the sys seam for the real-memory unit
 * tests: text files (served in short reads when asked), files that fail
 * to open with a given errno, and binary files whose pread/pwrite go to
 * test callbacks (pagemap, page_idle/bitmap, kpageflags).  Header-only so
 * that each test program stays one file; include it once.
 */
#ifndef UDAMON_TEST_FAKE_FILES_H
#define UDAMON_TEST_FAKE_FILES_H

#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>

#define FF_MAX_FILES 32
#define FF_MAX_FDS 64
#define FF_FD_BASE 3000

struct ff_file {
	const char *path;
	const char *text; /* text file contents, or NULL */
	int open_errno; /* open fails with this */
	int flags_needed; /* O_RDWR etc.: open with less fails with EACCES */
	/* binary files: */
	ssize_t (*pread)(void *arg, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(void *arg, const void *buf, size_t len, off_t off);
	void *arg;
};

static struct {
	struct ff_file files[FF_MAX_FILES];
	int nr_files;
	struct {
		int file; /* index, -1: free */
		size_t pos;
	} fds[FF_MAX_FDS];
	size_t short_read;
	int nr_open, nr_close, nr_pread, nr_pwrite;
} ff;

static inline void ff_reset(void)
{
	int i;

	memset(&ff, 0, sizeof(ff));
	for (i = 0; i < FF_MAX_FDS; i++)
		ff.fds[i].file = -1;
}

/* Add or replace @path. */
static inline struct ff_file *ff_add(const char *path)
{
	int i;

	for (i = 0; i < ff.nr_files; i++)
		if (!strcmp(ff.files[i].path, path))
			break;
	if (i == ff.nr_files) {
		if (ff.nr_files == FF_MAX_FILES)
			return NULL;
		ff.nr_files++;
	}
	memset(&ff.files[i], 0, sizeof(ff.files[i]));
	ff.files[i].path = path;
	return &ff.files[i];
}

static inline void ff_text(const char *path, const char *text)
{
	struct ff_file *f = ff_add(path);

	if (f)
		f->text = text;
}

static inline void ff_fail(const char *path, int err)
{
	struct ff_file *f = ff_add(path);

	if (f)
		f->open_errno = err;
}

static inline void ff_remove(const char *path)
{
	int i;

	for (i = 0; i < ff.nr_files; i++)
		if (!strcmp(ff.files[i].path, path))
			ff.files[i].path = "";
}

static inline int ff_open(const char *path, int flags, mode_t mode)
{
	int i, fd;

	for (i = 0; i < ff.nr_files; i++)
		if (!strcmp(ff.files[i].path, path))
			break;
	if (i == ff.nr_files) {
		errno = ENOENT;
		return -1;
	}
	if (ff.files[i].open_errno) {
		errno = ff.files[i].open_errno;
		return -1;
	}
	if ((flags & O_ACCMODE) == O_RDWR && !ff.files[i].pwrite &&
	    !ff.files[i].text) {
		errno = EACCES;
		return -1;
	}
	for (fd = 0; fd < FF_MAX_FDS; fd++)
		if (ff.fds[fd].file < 0)
			break;
	if (fd == FF_MAX_FDS) {
		errno = EMFILE;
		return -1;
	}
	ff.fds[fd].file = i;
	ff.fds[fd].pos = 0;
	ff.nr_open++;
	return FF_FD_BASE + fd;
}

static inline struct ff_file *ff_of(int fd)
{
	fd -= FF_FD_BASE;
	if (fd < 0 || fd >= FF_MAX_FDS || ff.fds[fd].file < 0)
		return NULL;
	return &ff.files[ff.fds[fd].file];
}

static inline ssize_t ff_read(int fd, void *buf, size_t len)
{
	struct ff_file *f = ff_of(fd);
	size_t left, *pos;

	if (!f) {
		errno = EBADF;
		return -1;
	}
	pos = &ff.fds[fd - FF_FD_BASE].pos;
	if (!f->text) {
		ssize_t n;

		if (!f->pread) {
			errno = EINVAL;
			return -1;
		}
		n = f->pread(f->arg, buf, len, (off_t)*pos);
		if (n > 0)
			*pos += (size_t)n;
		return n;
	}
	left = strlen(f->text) - *pos;
	if (len > left)
		len = left;
	if (ff.short_read && len > ff.short_read)
		len = ff.short_read;
	memcpy(buf, f->text + *pos, len);
	*pos += len;
	return (ssize_t)len;
}

static inline ssize_t ff_pread(int fd, void *buf, size_t len, off_t off)
{
	struct ff_file *f = ff_of(fd);

	if (!f || !f->pread) {
		errno = f ? EINVAL : EBADF;
		return -1;
	}
	ff.nr_pread++;
	return f->pread(f->arg, buf, len, off);
}

static inline ssize_t ff_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	struct ff_file *f = ff_of(fd);

	if (!f || !f->pwrite) {
		errno = f ? EINVAL : EBADF;
		return -1;
	}
	ff.nr_pwrite++;
	return f->pwrite(f->arg, buf, len, off);
}

static inline int ff_close(int fd)
{
	if (!ff_of(fd)) {
		errno = EBADF;
		return -1;
	}
	ff.fds[fd - FF_FD_BASE].file = -1;
	ff.nr_close++;
	return 0;
}

/* Route the seam's file calls to the fake files. */
static inline void ff_install(void)
{
	udamon__sys.open = ff_open;
	udamon__sys.read = ff_read;
	udamon__sys.pread = ff_pread;
	udamon__sys.pwrite = ff_pwrite;
	udamon__sys.close = ff_close;
}

/* Descriptors still open (leak check). */
static inline int ff_open_fds(void)
{
	int i, n = 0;

	for (i = 0; i < FF_MAX_FDS; i++)
		n += ff.fds[i].file >= 0;
	return n;
}

#endif /* UDAMON_TEST_FAKE_FILES_H */
