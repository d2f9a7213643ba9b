// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sys seam's default table: thin wrappers of the real system calls,
 * and a whole-file reader on top of the table.  See sys.h.
 */
#include "sys/sys.h"
#include "sys/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#ifndef SYS_userfaultfd
#define SYS_userfaultfd 323
#endif

static int real_open(const char *path, int flags, mode_t mode)
{
	return open(path, flags, mode);
}

static ssize_t real_read(int fd, void *buf, size_t len)
{
	return read(fd, buf, len);
}

static ssize_t real_pread(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off);
}

static ssize_t real_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return pwrite(fd, buf, len, off);
}

static int real_close(int fd)
{
	return close(fd);
}

static int real_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

static int real_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	return poll(fds, nfds, timeout);
}

static int real_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int real_pidfd_send_signal(int pidfd, int sig, siginfo_t *info,
				  unsigned int flags)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

static int real_pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_getfd, pidfd, targetfd, flags);
}

static ssize_t real_process_madvise(int pidfd, const struct iovec *iov,
				    size_t iovcnt, int advice,
				    unsigned int flags)
{
	return syscall(SYS_process_madvise, pidfd, iov, iovcnt, advice, flags);
}

static int real_madvise(void *addr, size_t len, int advice)
{
	return madvise(addr, len, advice);
}

static long real_move_pages(pid_t pid, unsigned long count, void **pages,
			    const int *nodes, int *status, int flags)
{
	return syscall(SYS_move_pages, pid, count, pages, nodes, status, flags);
}

static ssize_t real_readlink(const char *path, char *buf, size_t len)
{
	return readlink(path, buf, len);
}

static pid_t real_getpid(void)
{
	return getpid();
}

static int real_userfaultfd(int flags)
{
	return (int)syscall(SYS_userfaultfd, flags);
}

static int real_stat(const char *path, struct stat *st)
{
	return stat(path, st);
}

static const struct udamon_sys_table udamon_sys_default = {
	.open = real_open,
	.read = real_read,
	.pread = real_pread,
	.pwrite = real_pwrite,
	.close = real_close,
	.ioctl = real_ioctl,
	.poll = real_poll,
	.pidfd_open = real_pidfd_open,
	.pidfd_send_signal = real_pidfd_send_signal,
	.pidfd_getfd = real_pidfd_getfd,
	.process_madvise = real_process_madvise,
	.madvise = real_madvise,
	.move_pages = real_move_pages,
	.readlink = real_readlink,
	.getpid = real_getpid,
	.userfaultfd = real_userfaultfd,
	.stat = real_stat,
};

struct udamon_sys_table udamon__sys = {
	.open = real_open,
	.read = real_read,
	.pread = real_pread,
	.pwrite = real_pwrite,
	.close = real_close,
	.ioctl = real_ioctl,
	.poll = real_poll,
	.pidfd_open = real_pidfd_open,
	.pidfd_send_signal = real_pidfd_send_signal,
	.pidfd_getfd = real_pidfd_getfd,
	.process_madvise = real_process_madvise,
	.madvise = real_madvise,
	.move_pages = real_move_pages,
	.readlink = real_readlink,
	.getpid = real_getpid,
	.userfaultfd = real_userfaultfd,
	.stat = real_stat,
};

void udamon__sys_reset(void)
{
	udamon__sys = udamon_sys_default;
}

int udamon__sys_read_file(const char *path, char **bufp, size_t *lenp,
			  size_t max)
{
	size_t cap = max < 4096 ? max : 4096, len = 0;
	char *buf, *nbuf;
	ssize_t n;
	int fd, err = 0;

	fd = udamon__sys.open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	buf = udamon__malloc(cap + 1);
	if (!buf) {
		udamon__sys.close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				char probe;

				/* Full: fine if this was all of it. */
				n = udamon__sys.read(fd, &probe, 1);
				if (n > 0)
					err = -EFBIG;
				else if (n < 0)
					err = -errno;
				break;
			}
			cap = cap * 2 > max ? max : cap * 2;
			nbuf = udamon__realloc(buf, cap + 1);
			if (!nbuf) {
				err = -ENOMEM;
				break;
			}
			buf = nbuf;
		}
		n = udamon__sys.read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	udamon__sys.close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*bufp = buf;
	if (lenp)
		*lenp = len;
	return 0;
}
