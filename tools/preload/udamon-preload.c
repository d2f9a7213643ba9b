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
 * Kernels before 6.7 have no WP_ASYNC: there the userfaultfd is created
 * synchronous (non-blocking descriptor, WP_UNPOPULATED where the kernel
 * has it) and registered the same way.  Registration protects nothing, so
 * the process runs as before; udamon's uffd-wp-sync source takes a copy of
 * the descriptor (pidfd_getfd), protects sampled pages and serves their
 * write faults.  Should the monitor die while a page is protected, a
 * watchdog thread here serves the faults nobody read for a second, so a
 * write never blocks for good.  The watchdog runs on a stack of its own
 * that is never registered (it must not fault on its own protection).
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
 * UDAMON_PRELOAD_VERBOSE=1 reports failures on stderr;
 * UDAMON_PRELOAD_WP=async|sync|auto (default auto: async where the kernel
 * has it, else sync) chooses the kind of userfaultfd.  A failure never
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
#include <poll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PRELOAD_API __attribute__((visibility("default")))
#define PRELOAD_WP_UNPOPULATED (1ULL << 13)
#define PRELOAD_WP_ASYNC (1ULL << 15)
#define PRELOAD_USER_MODE_ONLY 1
#define PRELOAD_PAGE 4096UL

static int preload_uffd = -1;
static bool preload_sync; /* preload_uffd lacks WP_ASYNC */
static int preload_verbose;
static unsigned long preload_rescan_ms = 200;
/* WP kinds allowed by UDAMON_PRELOAD_WP. */
static bool preload_allow_async = true, preload_allow_sync = true;
/* The watchdog's own stack: never registered. */
static unsigned long preload_nowp_start, preload_nowp_end;
#define PRELOAD_WATCHDOG_STACK (128 * 1024)
/* A fault nobody read for this long is served by the watchdog. */
#define PRELOAD_WATCHDOG_MS 1000
#define PRELOAD_WATCHDOG_TICK_MS 100
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

/*
 * A userfaultfd with @features, or -1 (errno set).  @user_mode_only: may
 * it handle user-mode faults only (all an unprivileged process gets)?
 * Fine for WP_ASYNC, which the kernel resolves itself.  Not for a
 * synchronous one: a protected page written by the kernel (the rseq area
 * on every return to user space, a read(2) buffer) would fail with EFAULT
 * instead of waiting for the monitor, and a failed rseq write is SIGSEGV.
 */
static int preload_try_uffd(unsigned long long features, bool user_mode_only)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd, err;

	/* Non-blocking: poll(2) on a blocking userfaultfd says POLLERR. */
	if (user_mode_only) {
		fd = (int)syscall(SYS_userfaultfd,
				  O_CLOEXEC | O_NONBLOCK |
					  PRELOAD_USER_MODE_ONLY);
		if (fd < 0 && errno == EINVAL)
			fd = (int)syscall(SYS_userfaultfd,
					  O_CLOEXEC | O_NONBLOCK);
	} else {
		/* Needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1. */
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	}
	if (fd < 0)
		return -1;
	/* A failed UFFDIO_API may leave the descriptor unusable: a new one
	 * per attempt. */
	if (preload_ioctl(fd, UFFDIO_API, &api)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	/* Write-protect of anonymous memory (x86_64 since 5.7). */
	if (!(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP)) {
		close(fd);
		errno = EOPNOTSUPP;
		return -1;
	}
	return fd;
}

static int preload_create_uffd(void)
{
	int fd = -1;

	preload_sync = false;
	if (preload_allow_async) {
		fd = preload_try_uffd(PRELOAD_WP_ASYNC | PRELOAD_WP_UNPOPULATED,
				      true);
		if (fd >= 0)
			return fd;
		preload_say("udamon-preload: userfaultfd WP_ASYNC: %s\n",
			    strerror(errno));
	}
	if (!preload_allow_sync)
		return -1;
	/* Before 6.7: synchronous; WP_UNPOPULATED came in 6.4. */
	fd = preload_try_uffd(PRELOAD_WP_UNPOPULATED, false);
	if (fd < 0 && errno != EPERM)
		fd = preload_try_uffd(0, false);
	if (fd < 0) {
		preload_say(
			"udamon-preload: synchronous userfaultfd: %s%s\n",
			strerror(errno),
			errno == EPERM ?
				" (it must handle kernel-mode faults: CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1)" :
				"");
		return -1;
	}
	preload_sync = true;
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
	if (start < preload_nowp_end && start + len > preload_nowp_start) {
		/* Register around the watchdog's stack. */
		if (start < preload_nowp_start)
			preload_register(start, preload_nowp_start - start);
		if (start + len > preload_nowp_end)
			preload_register(preload_nowp_end,
					 start + len - preload_nowp_end);
		return;
	}
	/* Registering a range again with the same userfaultfd is a no-op. */
	if (preload_ioctl(fd, UFFDIO_REGISTER, &reg) && errno != EBUSY)
		preload_say("udamon-preload: register %lx+%lx: %s\n", start,
			    len, strerror(errno));
}

/* Lift any write protection of [start, start + len): wakes its waiters. */
static void preload_unprotect(unsigned long start, unsigned long len)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = start, .len = len },
		.mode = 0,
	};
	int fd = __atomic_load_n(&preload_uffd, __ATOMIC_ACQUIRE);

	/* ENOENT: not registered (the kernel wants one registered VMA). */
	if (fd >= 0 && preload_ioctl(fd, UFFDIO_WRITEPROTECT, &wp) &&
	    errno != ENOENT)
		preload_say("udamon-preload: unprotect %lx+%lx: %s\n", start,
			    len, strerror(errno));
}

/*
 * Apply @fn to every writable private anonymous mapping and the heap
 * listed in /proc/self/maps.  Reads with plain system calls and a
 * static-size buffer per line, so it can run in a constructor or an
 * atfork handler.
 */
static void preload_for_each_mapping(void (*fn)(unsigned long start,
						unsigned long len))
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
			fn(start, end - start);
		}
	}
	close(fd);
}

static void preload_register_all(void)
{
	preload_for_each_mapping(preload_register);
}

/*
 * The monitor is gone: lift every protection it left (one page per
 * sampled region, anywhere in registered memory; serving them one fault
 * at a time would cost a watchdog period each), then the queued faults.
 */
static void preload_serve_faults(int fd)
{
	struct uffd_msg msg;

	preload_say(
		"udamon-preload: faults not served for %d ms: lifting every protection\n",
		PRELOAD_WATCHDOG_MS);
	preload_for_each_mapping(preload_unprotect);
	while (read(fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
		if (msg.event == UFFD_EVENT_PAGEFAULT)
			preload_unprotect(msg.arg.pagefault.address &
						  ~(PRELOAD_PAGE - 1),
					  PRELOAD_PAGE);
	}
}

/*
 * The synchronous userfaultfd's watchdog: a descriptor that stays
 * readable for PRELOAD_WATCHDOG_MS means faults that the monitor does not
 * read (it died, or was killed, with pages protected).
 */
static void preload_watchdog_tick(unsigned long *readable_ms)
{
	int fd = __atomic_load_n(&preload_uffd, __ATOMIC_ACQUIRE);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (fd < 0 || !preload_sync)
		return;
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN)) {
		*readable_ms = 0;
		return;
	}
	*readable_ms += PRELOAD_WATCHDOG_TICK_MS;
	if (*readable_ms < PRELOAD_WATCHDOG_MS)
		return;
	preload_serve_faults(fd);
	*readable_ms = 0;
}

static void *preload_thread_fn(void *arg)
{
	struct timespec tick = {
		.tv_sec = 0,
		.tv_nsec = PRELOAD_WATCHDOG_TICK_MS * 1000000L,
	};
	unsigned long since_rescan = 0, readable_ms = 0;

	for (;;) {
		nanosleep(&tick, NULL);
		preload_watchdog_tick(&readable_ms);
		since_rescan += PRELOAD_WATCHDOG_TICK_MS;
		if (preload_rescan_ms && since_rescan >= preload_rescan_ms) {
			since_rescan = 0;
			preload_register_all();
		}
	}
	return NULL;
}

/* The rescan and watchdog thread, on a stack that is never registered. */
static void preload_start_thread(void)
{
	pthread_attr_t attr;
	pthread_t th;
	void *stack;

	if (!preload_rescan_ms && !preload_sync)
		return;
	if (!preload_nowp_start) {
		stack = (void *)syscall(SYS_mmap, NULL, PRELOAD_WATCHDOG_STACK,
					PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (stack == MAP_FAILED) {
			preload_say("udamon-preload: no thread stack\n");
			return;
		}
		preload_nowp_start = (unsigned long)stack;
		preload_nowp_end = preload_nowp_start + PRELOAD_WATCHDOG_STACK;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstack(&attr, (void *)preload_nowp_start,
			      PRELOAD_WATCHDOG_STACK);
	if (pthread_create(&th, &attr, preload_thread_fn, NULL))
		preload_say("udamon-preload: no rescan thread\n");
	pthread_attr_destroy(&attr);
}

static void preload_setup(void)
{
	int fd = preload_create_uffd();

	__atomic_store_n(&preload_uffd, fd, __ATOMIC_RELEASE);
	if (fd < 0)
		return;
	preload_start_thread(); /* first: its stack must stay unregistered */
	preload_register_all();
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
	s = getenv("UDAMON_PRELOAD_WP");
	if (s && !strcmp(s, "sync"))
		preload_allow_async = false;
	else if (s && !strcmp(s, "async"))
		preload_allow_sync = false;
	else if (s && *s && strcmp(s, "auto"))
		preload_say(
			"udamon-preload: UDAMON_PRELOAD_WP=%s: expected async, sync or auto\n",
			s);
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
