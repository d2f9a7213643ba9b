// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libudamon-preload.so: loaded into a process udamon launches
 * (LD_PRELOAD), it lets udamon's uffd-wp access source see the process's
 * writes.  A monitor cannot attach userfaultfd write-protect to another
 * process; the process must create the userfaultfd itself, so this
 * library does it in a constructor: a userfaultfd with WP_ASYNC (faults
 * resolve themselves in the kernel, nobody reads the descriptor) and
 * WP_UNPOPULATED, registered in write-protect mode over every writable
 * private anonymous mapping and the heap.  The monitor then protects and
 * tests sampled pages through /proc/PID/pagemap (PAGEMAP_SCAN).
 *
 * Memory mapped later is registered two ways: mmap() and mremap() calls
 * that reach this library's wrappers are registered at once, and a
 * thread re-reads /proc/self/maps every UDAMON_PRELOAD_RESCAN_MS
 * milliseconds (default 200, 0 disables) for the rest -- glibc's malloc
 * maps big blocks through an internal mmap that no wrapper sees, and
 * heap growth by brk makes a new, unregistered VMA.  After fork() the
 * child gets its own userfaultfd (a userfaultfd belongs to its creator's
 * address space); exec() starts over through LD_PRELOAD.
 *
 * A program that uses userfaultfd itself keeps working: its
 * UFFDIO_REGISTER would fail with EBUSY over memory this library
 * registered (a range belongs to one userfaultfd at a time), so the
 * ioctl() wrapper below unregisters this library's registration over the
 * program's range first and says so once on stderr.  udamon then sees no
 * writes there; the rescan thread's later registrations of that range
 * fail with EBUSY and are dropped, until the program unregisters it.
 *
 * Environment: UDAMON_PRELOAD_DISABLE=1 does nothing;
 * UDAMON_PRELOAD_VERBOSE=1 reports failures on stderr.  A failure never
 * stops the program: it just runs unmonitored.  Registered memory gets no
 * transparent huge pages, and each write to a protected page costs one
 * minor fault (about a microsecond).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PRELOAD_API __attribute__((visibility("default")))
#define PRELOAD_WP_UNPOPULATED (1ULL << 13)
#define PRELOAD_WP_ASYNC (1ULL << 15)
#define PRELOAD_USER_MODE_ONLY 1
#define PRELOAD_PAGE 4096UL

static int preload_uffd = -1;
static int preload_verbose;
static unsigned long preload_rescan_ms = 200;
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mremap)(void *, size_t, size_t, int, ...);
static int preload_stepped_aside;

/* ioctl() without the wrapper below: the library's own calls. */
static int preload_ioctl(int fd, unsigned long req, void *arg)
{
	return (int)syscall(SYS_ioctl, fd, req, arg);
}

static void preload_say(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void preload_say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	if (!preload_verbose)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(2, buf,
			   (size_t)n > sizeof(buf) - 1 ? sizeof(buf) - 1 :
							 (size_t)n) < 0)
		return;
}

static int preload_create_uffd(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = PRELOAD_WP_ASYNC | PRELOAD_WP_UNPOPULATED,
	};
	int fd;

	fd = (int)syscall(SYS_userfaultfd,
			  O_CLOEXEC | O_NONBLOCK | PRELOAD_USER_MODE_ONLY);
	if (fd < 0 && errno == EINVAL)
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		preload_say("udamon-preload: userfaultfd: %s\n",
			    strerror(errno));
		return -1;
	}
	if (preload_ioctl(fd, UFFDIO_API, &api)) {
		preload_say("udamon-preload: UFFDIO_API WP_ASYNC: %s\n",
			    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void preload_register(unsigned long start, unsigned long len)
{
	struct uffdio_register reg = {
		.range = { .start = start,
			   .len = (len + PRELOAD_PAGE - 1) &
				  ~(PRELOAD_PAGE - 1) },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	int fd = __atomic_load_n(&preload_uffd, __ATOMIC_ACQUIRE);

	if (fd < 0 || !len)
		return;
	/* Registering a range again with the same userfaultfd is a no-op. */
	if (preload_ioctl(fd, UFFDIO_REGISTER, &reg) && errno != EBUSY)
		preload_say("udamon-preload: register %lx+%lx: %s\n", start,
			    len, strerror(errno));
}

/*
 * Register every writable private anonymous mapping and the heap listed
 * in /proc/self/maps.  Reads with plain system calls and a static-size
 * buffer per line, so it can run in a constructor or an atfork handler.
 */
static void preload_register_all(void)
{
	char buf[8192], line[512];
	size_t ll = 0;
	ssize_t n;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			unsigned long start, end;
			char perms[5], name[256];
			int fields;

			if (buf[i] != '\n') {
				if (ll < sizeof(line) - 1)
					line[ll++] = buf[i];
				continue;
			}
			line[ll] = '\0';
			ll = 0;
			name[0] = '\0';
			fields = sscanf(line, "%lx-%lx %4s %*s %*s %*s %255s",
					&start, &end, perms, name);
			if (fields < 3 || strcmp(perms, "rw-p"))
				continue;
			if (name[0] && strcmp(name, "[heap]"))
				continue; /* files, [stack], [vvar] ... */
			preload_register(start, end - start);
		}
	}
	close(fd);
}

static void *preload_rescan_fn(void *arg)
{
	struct timespec ts = {
		.tv_sec = (time_t)(preload_rescan_ms / 1000),
		.tv_nsec = (long)(preload_rescan_ms % 1000) * 1000000L,
	};

	for (;;) {
		nanosleep(&ts, NULL);
		preload_register_all();
	}
	return NULL;
}

static void preload_start_rescan(void)
{
	pthread_attr_t attr;
	pthread_t th;

	if (!preload_rescan_ms)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	if (pthread_create(&th, &attr, preload_rescan_fn, NULL))
		preload_say("udamon-preload: no rescan thread\n");
	pthread_attr_destroy(&attr);
}

static void preload_setup(void)
{
	int fd = preload_create_uffd();

	__atomic_store_n(&preload_uffd, fd, __ATOMIC_RELEASE);
	if (fd < 0)
		return;
	preload_register_all();
	preload_start_rescan();
}

/* The child of fork() has a copy of the memory, unregistered. */
static void preload_atfork_child(void)
{
	int old = preload_uffd;

	preload_uffd = -1;
	if (old >= 0)
		close(old);
	preload_setup();
}

__attribute__((constructor)) static void preload_init(void)
{
	const char *s;

	real_mmap = (void *(*)(void *, size_t, int, int, int,
			       off_t))dlsym(RTLD_NEXT, "mmap");
	real_mremap = (void *(*)(void *, size_t, size_t, int,
				 ...))dlsym(RTLD_NEXT, "mremap");
	s = getenv("UDAMON_PRELOAD_DISABLE");
	if (s && *s && strcmp(s, "0"))
		return;
	s = getenv("UDAMON_PRELOAD_VERBOSE");
	preload_verbose = s && *s && strcmp(s, "0");
	s = getenv("UDAMON_PRELOAD_RESCAN_MS");
	if (s && *s)
		preload_rescan_ms = strtoul(s, NULL, 10);
	preload_setup();
	pthread_atfork(NULL, NULL, preload_atfork_child);
}

static bool preload_wanted(int prot, int flags)
{
	return (prot & PROT_WRITE) && (flags & MAP_ANONYMOUS) &&
	       !(flags & MAP_HUGETLB);
}

PRELOAD_API void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	void *p;

	if (!real_mmap) {
		/* Called before the constructor: go to the kernel. */
		return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd,
				       off);
	}
	p = real_mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED && preload_wanted(prot, flags))
		preload_register((unsigned long)p, len);
	return p;
}

PRELOAD_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
			 off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

PRELOAD_API void *mremap(void *old, size_t old_len, size_t new_len, int flags,
			 ...)
{
	void *new_addr = NULL, *p;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (!real_mremap)
		p = (void *)syscall(SYS_mremap, old, old_len, new_len, flags,
				    new_addr);
	else
		p = real_mremap(old, old_len, new_len, flags, new_addr);
	/* Grown in place or moved: the new tail is not registered. */
	if (p != MAP_FAILED && new_len > old_len)
		preload_register((unsigned long)p, new_len);
	return p;
}

/*
 * Step aside for a program's own userfaultfd: drop this library's
 * registration over the range the program registers, then let the
 * program's UFFDIO_REGISTER go through.  Everything else passes as is.
 */
PRELOAD_API int ioctl(int fd, unsigned long req, ...)
{
	struct uffdio_register *reg;
	int own = __atomic_load_n(&preload_uffd, __ATOMIC_ACQUIRE);
	va_list ap;
	void *arg;
	int rc;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	rc = preload_ioctl(fd, req, arg);
	if (!(rc < 0 && errno == EBUSY && req == UFFDIO_REGISTER && own >= 0 &&
	      fd != own && arg))
		return rc;
	reg = arg;
	/* The rescan thread may register the range again in between. */
	for (int tries = 0; tries < 3; tries++) {
		struct uffdio_range range = reg->range;

		if (preload_ioctl(own, UFFDIO_UNREGISTER, &range))
			goto busy; /* someone else's: leave the EBUSY */
		rc = preload_ioctl(fd, req, arg);
		if (!(rc < 0 && errno == EBUSY))
			break;
	}
	if (rc == 0 &&
	    !__atomic_exchange_n(&preload_stepped_aside, 1, __ATOMIC_ACQ_REL)) {
		char buf[200];
		int n = snprintf(
			buf, sizeof(buf),
			"udamon-preload: the program registers memory with its own userfaultfd (%#llx+%#llx); udamon stops watching writes there\n",
			(unsigned long long)reg->range.start,
			(unsigned long long)reg->range.len);

		if (n > 0 &&
		    write(2, buf,
			  (size_t)n < sizeof(buf) ? (size_t)n :
						    sizeof(buf) - 1) < 0)
			n = 0;
	}
	return rc;
busy:
	errno = EBUSY;
	return -1;
}
