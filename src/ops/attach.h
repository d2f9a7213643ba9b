/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Attaching the uffd-wp access source to a process that udamon did not
 * launch (src/ops/attach.c): a userfaultfd is created inside the target by
 * ptrace syscall injection and taken into the monitor with pidfd_getfd();
 * the target's own copy is closed at once, so its descriptor table never
 * keeps anything of udamon's.
 */
#ifndef UDAMON_OPS_ATTACH_H
#define UDAMON_OPS_ATTACH_H

#include <stddef.h>
#include <sys/types.h>

/*
 * udamon__attach_uffd() - a userfaultfd of process @pid, in this process.
 * @pid:  the target (any thread group; one of its threads is borrowed).
 * @why:  gets a one-line reason on failure (may be NULL).
 * @len:  size of @why.
 *
 * The descriptor is close-on-exec and non-blocking, and UFFDIO_API has not
 * been done on it: the caller chooses the features.  It acts on @pid's
 * memory (a userfaultfd belongs to the address space that created it).
 * Needs the rights of ptrace attach over @pid.  x86_64 only.
 * Return: the descriptor, or -EPERM (no rights, already traced), -ESRCH
 * (gone), -EAGAIN (it executed a new program meanwhile: try again),
 * -ETIMEDOUT (no thread stopped), -EOPNOTSUPP (not x86_64 or a 32-bit
 * process), another -errno.
 */
int udamon__attach_uffd(pid_t pid, char *why, size_t len);

/*
 * udamon__attach_probe() - whether udamon__attach_uffd(@pid) may work:
 * the rights of ptrace attach (tested by opening /proc/PID/mem), no other
 * tracer, a 64-bit x86 process.  Return: 0 or -errno with @why.
 */
int udamon__attach_probe(pid_t pid, char *why, size_t len);

/* An attached write-protect registration of one process. */
struct udamon_attach;

/*
 * udamon__attach_open() - attach to @pid: take a userfaultfd of it, enable
 * asynchronous write-protect (WP_ASYNC, WP_UNPOPULATED) and register its
 * writable private anonymous mappings and heap in MODE_WP.
 * Return: 0 with *@ap set, or -errno with @why.
 */
int udamon__attach_open(pid_t pid, struct udamon_attach **ap, char *why,
			size_t len);

/*
 * udamon__attach_follow() - register mappings @a's process made since.
 * Ranges the process registered with a userfaultfd of its own are left to
 * it (logged once).  Return: how many mappings are registered, -ESTALE
 * when the process executed a new program (the userfaultfd belongs to the
 * old address space: close @a and attach again), or -errno.
 */
int udamon__attach_follow(struct udamon_attach *a);

/*
 * udamon__attach_close() - detach: closing the last reference of the
 * userfaultfd makes the kernel unregister every range it registered and
 * drop its write-protection, so nothing of udamon is left in the target.
 */
void udamon__attach_close(struct udamon_attach *a);

/* The offset of the first x86 "syscall" instruction in @buf, or -1. */
long udamon__attach_find_syscall(const unsigned char *buf, size_t len);

/*
 * Register with @uffd, in MODE_WP, the writable private anonymous
 * mappings and the heap listed in the maps file @maps_path.  @nr_busy
 * (may be NULL) gets how many were skipped because another userfaultfd
 * holds them.  Return: how many are registered, -ESTALE if no listed
 * mapping exists in the userfaultfd's address space (the process
 * executed a new program), or -errno if none is registered and something
 * failed (src/ops/uffd-self.c).
 */
int udamon__uffd_register_maps(int uffd, const char *maps_path,
			       unsigned int *nr_busy);

#endif /* UDAMON_OPS_ATTACH_H */
