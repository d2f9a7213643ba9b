// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Registration of the calling process's own memory for userfaultfd
 * asynchronous write-protect, so the vaddr/fvaddr access source can see
 * writes to it (library use; launched processes use the preload library
 * in tools/preload/ instead).
 */
#include "ops/vaddr.h"
#include "ops/attach.h"
#include "core/ops-api.h"
#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define UFFD_SELF_PAGE_SZ 4096UL

static pthread_mutex_t uffd_self_lock = PTHREAD_MUTEX_INITIALIZER;
static int uffd_self = -1;

/* Create and enable the userfaultfd; call with uffd_self_lock held. */
static int uffd_self_create(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UDAMON_UFFD_FEATURE_WP_ASYNC |
			    UDAMON_UFFD_FEATURE_WP_UNPOPULATED,
	};
	int fd, err;

	/* Unprivileged users may only handle user-mode faults. */
	fd = udamon__sys.userfaultfd(O_CLOEXEC | O_NONBLOCK |
				     UDAMON_UFFD_USER_MODE_ONLY);
	if (fd < 0 && errno == EINVAL)
		fd = udamon__sys.userfaultfd(O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		udamon__log(DAMON_LOG_ERR, "uffd: userfaultfd(): %s",
			    strerror(errno));
		return err;
	}
	if (udamon__sys.ioctl(fd, UFFDIO_API, &api)) {
		err = errno == EINVAL ? -EOPNOTSUPP : -errno;
		udamon__log(
			DAMON_LOG_ERR,
			"uffd: UFFDIO_API with WP_ASYNC: %s (Linux >= 6.7 needed)",
			strerror(errno));
		udamon__sys.close(fd);
		return err;
	}
	return fd;
}

int udamon__uffd_self_fd(void)
{
	int fd;

	pthread_mutex_lock(&uffd_self_lock);
	if (uffd_self < 0)
		uffd_self = uffd_self_create();
	fd = uffd_self;
	/* Don't remember a failure: a later call may be luckier. */
	if (uffd_self < 0)
		uffd_self = -1;
	pthread_mutex_unlock(&uffd_self_lock);
	return fd;
}

static int uffd_self_register_range(int fd, unsigned long start,
				    unsigned long end)
{
	struct uffdio_register reg = {
		.range = { .start = start, .len = end - start },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	if (udamon__sys.ioctl(fd, UFFDIO_REGISTER, &reg))
		return -errno;
	return 0;
}

int udamon__uffd_register_maps(int fd, const char *maps_path,
			       unsigned int *nr_busy)
{
	char *text, *line, *next;
	int err, nr_ok = 0, first_err = 0, nr_other_err = 0;

	if (nr_busy)
		*nr_busy = 0;
	err = udamon__sys_read_file(maps_path, &text, NULL, 64UL << 20);
	if (err)
		return err;
	for (line = text; line && *line; line = next) {
		unsigned long start, end;
		char perms[8], *q, *name;

		next = strchr(line, '\n');
		if (!next)
			break;
		*next++ = '\0';
		start = strtoul(line, &q, 16);
		if (*q != '-')
			continue;
		end = strtoul(q + 1, &q, 16);
		if (*q != ' ' || strlen(q + 1) < 4)
			continue;
		memcpy(perms, q + 1, 4);
		perms[4] = '\0';
		if (strcmp(perms, "rw-p"))
			continue;
		/* Skip offset, device and inode to the name, if any. */
		name = q + 6;
		for (int i = 0; i < 3 && name; i++) {
			name = strchr(name, ' ');
			while (name && *name == ' ')
				name++;
		}
		if (name && *name && strcmp(name, "[heap]"))
			continue; /* file-backed or special ([stack] ...) */
		err = uffd_self_register_range(fd, start, end);
		/* EBUSY: another userfaultfd (the program's own) has it. */
		if (err == -EBUSY && nr_busy)
			(*nr_busy)++;
		else if (err && !first_err)
			first_err = err;
		if (err && err != -ENOMEM && err != -EBUSY)
			nr_other_err++;
		if (!err)
			nr_ok++;
	}
	free(text);
	/*
	 * Every listed mapping missing from the userfaultfd's memory
	 * (ENOMEM: no VMA there): the maps are of another address space,
	 * i.e. the process executed a new program since the userfaultfd was
	 * made.
	 */
	if (!nr_ok && first_err == -ENOMEM && !nr_other_err)
		return -ESTALE;
	return nr_ok ? nr_ok : (first_err ? first_err : -ENOENT);
}

int damon_uffd_self_register(void *addr, size_t len)
{
	unsigned long start = (unsigned long)addr;
	unsigned long end;
	int fd = udamon__uffd_self_fd();

	if (fd < 0)
		return fd;
	if (!addr && !len) {
		int rc =
			udamon__uffd_register_maps(fd, "/proc/self/maps", NULL);

		return rc < 0 ? rc : 0;
	}
	if (start % UFFD_SELF_PAGE_SZ || !len)
		return -EINVAL;
	end = (start + len + UFFD_SELF_PAGE_SZ - 1) & ~(UFFD_SELF_PAGE_SZ - 1);
	return uffd_self_register_range(fd, start, end);
}
