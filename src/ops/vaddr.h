/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals of the real-memory operations sets (vaddr.c, uffd-self.c)
 * that the unit tests reach directly.
 */
#ifndef UDAMON_OPS_VADDR_H
#define UDAMON_OPS_VADDR_H

#include <udamon/damon.h>

/*
 * udamon__vaddr_parse_maps() - the mapped ranges of a /proc/PID/maps text,
 * in address order, without the kernel's [vsyscall] page.  A last line
 * without '\n' (a torn read) is ignored.
 * Return: 0 with a malloc'd array in @vmasp, -EINVAL for text that is not
 * maps, -ENOMEM.
 */
int udamon__vaddr_parse_maps(const char *text, struct damon_addr_range **vmasp,
			     size_t *nrp);

/* Write-protect the page at @addr through the pagemap @fd (-errno). */
int udamon__vaddr_protect_page(int fd, unsigned long addr);

/* 1 if the page at @addr was written since protected, 0, or -errno. */
int udamon__vaddr_page_written(int fd, unsigned long addr);

/* The calling process's userfaultfd, creating it on first use (-errno). */
int udamon__uffd_self_fd(void);

#endif /* UDAMON_OPS_VADDR_H */
