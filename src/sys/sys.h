/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sys seam: every system call and /proc file access of the real-memory
 * operations sets goes through one override table, so that unit tests can
 * run the real code against a fake kernel or inject failures (SQLite's
 * aSyscall[] habit).  Entries default to thin wrappers of the real calls.
 *
 * All entries follow the libc convention of the call they stand for
 * (return -1 and set errno), so that the code above reads like plain
 * system programming.  Tests replace members of udamon__sys directly
 * before they start a context and call udamon__sys_reset() at the end.
 * The table is not locked: swap entries only while no kdamond runs.
 *
 * Also here: the userfaultfd and PAGEMAP_SCAN ABI that Debian 12's kernel
 * headers (linux-libc-dev 6.1) lack.
 */
#ifndef UDAMON_SYS_H
#define UDAMON_SYS_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

/* ---- PAGEMAP_SCAN (Linux 6.7, include/uapi/linux/fs.h) ---- */
#define UDAMON_PAGE_IS_WPALLOWED (1ULL << 0)
#define UDAMON_PAGE_IS_WRITTEN (1ULL << 1)
#define UDAMON_PAGE_IS_FILE (1ULL << 2)
#define UDAMON_PAGE_IS_PRESENT (1ULL << 3)

#define UDAMON_PM_SCAN_WP_MATCHING (1ULL << 0)
#define UDAMON_PM_SCAN_CHECK_WPASYNC (1ULL << 1)

/* One run of pages with the same categories, as PAGEMAP_SCAN reports. */
struct udamon_page_region {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};

/* The argument of PAGEMAP_SCAN; field meanings as in the kernel. */
struct udamon_pm_scan_arg {
	uint64_t size;
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end;
	uint64_t vec;
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};

/* _IOWR('f', 16, struct pm_scan_arg), spelled out for old headers. */
#define UDAMON_PAGEMAP_SCAN                                         \
	((3UL << 30) |                                              \
	 ((unsigned long)sizeof(struct udamon_pm_scan_arg) << 16) | \
	 ((unsigned long)'f' << 8) | 16UL)

/* ---- userfaultfd features newer than the 6.1 headers ---- */
#define UDAMON_UFFD_FEATURE_WP_UNPOPULATED (1ULL << 13)
#define UDAMON_UFFD_FEATURE_WP_ASYNC (1ULL << 15)
#define UDAMON_UFFD_USER_MODE_ONLY 1

/**
 * struct udamon_sys_table - the overridable calls.  Each has the meaning
 * and error convention of the libc function or system call of its name.
 */
struct udamon_sys_table {
	int (*open)(const char *path, int flags, mode_t mode);
	ssize_t (*read)(int fd, void *buf, size_t len);
	ssize_t (*pread)(int fd, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
	int (*close)(int fd);
	int (*ioctl)(int fd, unsigned long req, void *arg);
	int (*poll)(struct pollfd *fds, nfds_t nfds, int timeout);
	int (*pidfd_open)(pid_t pid, unsigned int flags);
	int (*pidfd_send_signal)(int pidfd, int sig, siginfo_t *info,
				 unsigned int flags);
	int (*pidfd_getfd)(int pidfd, int targetfd, unsigned int flags);
	ssize_t (*process_madvise)(int pidfd, const struct iovec *iov,
				   size_t iovcnt, int advice,
				   unsigned int flags);
	int (*madvise)(void *addr, size_t len, int advice);
	long (*move_pages)(pid_t pid, unsigned long count, void **pages,
			   const int *nodes, int *status, int flags);
	ssize_t (*readlink)(const char *path, char *buf, size_t len);
	pid_t (*getpid)(void);
	int (*userfaultfd)(int flags);
	int (*stat)(const char *path, struct stat *st);
};

/* The table the library calls through. */
extern struct udamon_sys_table udamon__sys;

/* Put every entry back to the real call. */
void udamon__sys_reset(void);

/*
 * udamon__sys_read_file() - read a whole (/proc) file through the seam.
 * @path: the file.
 * @bufp: gets a malloc'd, NUL-terminated buffer of the contents.
 * @lenp: gets its length (without the NUL); may be NULL.
 * @max: refuse files longer than this (-EFBIG).
 *
 * /proc files return short reads whenever they like, so this reads until
 * end of file.  Return: 0 or a negative errno.
 */
int udamon__sys_read_file(const char *path, char **bufp, size_t *lenp,
			  size_t max);

#endif /* UDAMON_SYS_H */
