// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The synchronous userfaultfd write-protect access source of vaddr and
 * fvaddr ("uffd-wp-sync"), for kernels without PAGEMAP_SCAN and without
 * page idle tracking (Linux 5.10 to 6.6, e.g. Debian 12's 6.1).
 *
 * The target registers its memory in write-protect mode on a userfaultfd
 * of its own without WP_ASYNC (the preload library does that where
 * WP_ASYNC is missing).  Nothing is protected by the registration alone,
 * so the target runs without faults until the monitor protects a page.
 * The monitor takes a copy of that descriptor with pidfd_getfd() (Linux
 * 5.6, ptrace rights over the target) and then, per sample:
 *
 *  - prepare: note the page in a table and protect it (UFFDIO_WRITEPROTECT
 *    over one page).  The kernel of 6.1 cannot protect a page that is not
 *    present (no PTE to mark before WP_UNPOPULATED, 6.4), so the pagemap
 *    present bit is read first; a page that was absent and is present at
 *    check time was faulted in meanwhile, by a write or a read, which is an
 *    access worth counting.
 *  - the handler thread reads the write faults (UFFD_PAGEFAULT_FLAG_WP),
 *    marks the page written and lifts the protection, which wakes the
 *    faulting thread.
 *  - check: read the mark, then lift the protection of every page nobody
 *    wrote, so that nothing stays protected between samples.
 *
 * The target must never be left blocked: the handler lifts the protection
 * of every write fault it reads, including faults on pages the table no
 * longer holds; closing lifts what is still protected and serves what is
 * still queued.  Closing our copy alone would not do: the target's own
 * descriptor keeps the userfaultfd context alive.  If the monitor dies
 * without closing, the preload library's watchdog serves faults that
 * nobody read for a second.
 *
 * Every system access goes through the sys seam (src/sys/sys.h).
 */
#include "ops/vaddr.h"
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

#define SYNC_PAGE_SZ 4096UL
/* How often the handler looks at its stop flag while no fault comes. */
#define SYNC_POLL_MS 100
/* Messages read per read(2). */
#define SYNC_MSG_BATCH 16
/* Bound of the fd table scan in /proc/PID/fd. */
#define SYNC_MAX_FDS (1 << 20)

/* Page states in the table. */
#define SYNC_WRITTEN 1U /* a write fault came (protection lifted) */
#define SYNC_ABSENT 2U /* not present when protected */
#define SYNC_UNPROTECTED 4U /* protecting failed: nothing to lift */

struct sync_page {
	unsigned long page; /* 0: free slot */
	unsigned int state;
};

struct udamon_uffd_sync {
	int pid;
	int uffd; /* our copy of the target's userfaultfd */
	pthread_t thread;
	bool thread_started;
	int stop; /* atomic: the handler should return */
	int dead; /* atomic: the descriptor failed; the errno */
	unsigned long nr_faults; /* atomic: write faults served */
	pthread_mutex_t lock; /* the table */
	struct sync_page *tab;
	size_t cap, nr; /* cap: 0 or a power of two */
	unsigned long *scratch; /* pages to unprotect at the end of a sample */
	size_t scratch_cap;
	unsigned int logged; /* bit per one-time log line */
};

/* ---- the page table (open addressing, linear probing) ---- */

static size_t sync_slot(const struct udamon_uffd_sync *s, unsigned long page)
{
	unsigned long long h = (unsigned long long)(page / SYNC_PAGE_SZ) *
			       0x9E3779B97F4A7C15ULL;

	return (size_t)(h >> 20) & (s->cap - 1);
}

static struct sync_page *sync_find(struct udamon_uffd_sync *s,
				   unsigned long page)
{
	size_t i;

	if (!s->cap)
		return NULL;
	for (i = sync_slot(s, page); s->tab[i].page; i = (i + 1) & (s->cap - 1))
		if (s->tab[i].page == page)
			return &s->tab[i];
	return NULL;
}

/* Grow to at least twice @want entries; call with the lock held. */
static int sync_grow(struct udamon_uffd_sync *s, size_t want)
{
	struct sync_page *old = s->tab, *nt;
	size_t old_cap = s->cap, cap = s->cap ? s->cap : 64;

	while (cap < want * 2)
		cap *= 2;
	if (cap == s->cap)
		return 0;
	nt = calloc(cap, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	s->tab = nt;
	s->cap = cap;
	s->nr = 0;
	for (size_t i = 0; i < old_cap; i++) {
		size_t j;

		if (!old[i].page)
			continue;
		for (j = sync_slot(s, old[i].page); s->tab[j].page;
		     j = (j + 1) & (cap - 1))
			;
		s->tab[j] = old[i];
		s->nr++;
	}
	free(old);
	return 0;
}

/* The entry of @page, added if new; call with the lock held. */
static struct sync_page *sync_add(struct udamon_uffd_sync *s,
				  unsigned long page)
{
	struct sync_page *e = sync_find(s, page);
	size_t i;

	if (e)
		return e;
	if (sync_grow(s, s->nr + 1))
		return NULL;
	for (i = sync_slot(s, page); s->tab[i].page; i = (i + 1) & (s->cap - 1))
		;
	s->tab[i].page = page;
	s->tab[i].state = 0;
	s->nr++;
	return &s->tab[i];
}

/* ---- kernel calls ---- */

/* Protect (@protect) or unprotect-and-wake one page; -errno. */
static int sync_writeprotect(int uffd, unsigned long page, bool protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = page, .len = SYNC_PAGE_SZ },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return udamon__sys.ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

/* Whether the page at @page is present per the pagemap @fd (-errno). */
static int sync_present(int fd, unsigned long page)
{
	uint64_t ent;
	ssize_t n = udamon__kpage_read(fd, page / SYNC_PAGE_SZ, 1, &ent);

	if (n < 0)
		return (int)n;
	if (n != 1)
		return -EIO;
	return !!(ent & UDAMON_PM_PRESENT);
}

static void sync_log_once(struct udamon_uffd_sync *s, unsigned int bit,
			  const char *what, int err)
{
	if (__atomic_fetch_or(&s->logged, bit, __ATOMIC_RELAXED) & bit)
		return;
	udamon__log(DAMON_LOG_WARN, "vaddr: uffd-wp-sync of pid %d: %s%s%s",
		    s->pid, what, err ? ": " : "", err ? strerror(err) : "");
}

/* Serve one message: a write fault is recorded and let go. */
static void sync_handle_msg(struct udamon_uffd_sync *s,
			    const struct uffd_msg *msg)
{
	unsigned long page;
	struct sync_page *e;
	int err;

	if (msg->event != UFFD_EVENT_PAGEFAULT) {
		/* Fork/remap/remove events are never enabled by udamon. */
		sync_log_once(s, 1U << 0, "unexpected userfaultfd event", 0);
		return;
	}
	page = (unsigned long)msg->arg.pagefault.address & ~(SYNC_PAGE_SZ - 1);
	if (!(msg->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)) {
		/* A missing-page fault: the target registered MODE_MISSING
		 * itself; only it can resolve that. */
		sync_log_once(
			s, 1U << 1,
			"missing-page fault on a write-protect descriptor", 0);
		return;
	}
	pthread_mutex_lock(&s->lock);
	e = sync_find(s, page);
	if (e)
		e->state |= SYNC_WRITTEN;
	pthread_mutex_unlock(&s->lock);
	/* Lift it even if the table forgot the page: never leave a waiter. */
	err = sync_writeprotect(s->uffd, page, false);
	if (err && err != -ESRCH)
		sync_log_once(s, 1U << 2, "lifting a protection", -err);
	__atomic_fetch_add(&s->nr_faults, 1, __ATOMIC_RELAXED);
}

/* Read and serve what is queued.  Return: 0, -EAGAIN if none, -errno. */
static int sync_drain(struct udamon_uffd_sync *s)
{
	struct uffd_msg msgs[SYNC_MSG_BATCH];
	ssize_t n = udamon__sys.read(s->uffd, msgs, sizeof(msgs));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	if (n == 0)
		return -EPIPE;
	for (size_t i = 0; i < (size_t)n / sizeof(msgs[0]); i++)
		sync_handle_msg(s, &msgs[i]);
	return 0;
}

static void *sync_handler_fn(void *arg)
{
	struct udamon_uffd_sync *s = arg;

	pthread_setname_np(pthread_self(), "udamon-uffd");
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd = { .fd = s->uffd, .events = POLLIN };
		int rc = udamon__sys.poll(&pfd, 1, SYNC_POLL_MS);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 ||
		    (rc > 0 && (pfd.revents & (POLLERR | POLLNVAL)))) {
			__atomic_store_n(&s->dead, rc < 0 ? errno : EIO,
					 __ATOMIC_RELEASE);
			break;
		}
		if (rc == 0)
			continue;
		/* Another reader (the preload's watchdog) may have won. */
		rc = sync_drain(s);
		if (rc && rc != -EAGAIN) {
			__atomic_store_n(&s->dead, -rc, __ATOMIC_RELEASE);
			break;
		}
	}
	return NULL;
}

/* ---- finding the target's descriptor ---- */

#define SYNC_UFFD_LINK "anon_inode:[userfaultfd]"

/* FDSize of /proc/@pid/status: how far its fd table goes. */
static int sync_fd_table_size(int pid)
{
	char path[64], *text, *p;
	long n = 0;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	err = udamon__sys_read_file(path, &text, NULL, 1UL << 20);
	if (err)
		return err;
	p = strstr(text, "\nFDSize:");
	if (p)
		n = strtol(p + 8, NULL, 10);
	free(text);
	if (n <= 0)
		n = 1024;
	return n > SYNC_MAX_FDS ? SYNC_MAX_FDS : (int)n;
}

int udamon__uffd_parse_fdinfo(const char *text, unsigned long *flags,
			      unsigned long long *features)
{
	const char *f = strstr(text, "flags:");
	const char *api = strstr(text, "\nAPI:");
	char *q;

	if (!f || !api)
		return -EINVAL;
	errno = 0;
	*flags = strtoul(f + 6, &q, 8);
	if (q == f + 6 || errno)
		return -EINVAL;
	/* "API:\t<api hex>:<features hex>:<ioctls hex>" */
	api = strchr(api + 5, ':');
	if (!api)
		return -EINVAL;
	*features = strtoull(api + 1, &q, 16);
	if (q == api + 1 || *q != ':' || errno)
		return -EINVAL;
	return 0;
}

int udamon__uffd_sync_find(int pid, int *fdnum)
{
	char path[80], link[64], *text;
	int max = sync_fd_table_size(pid), err = 0;

	if (max < 0)
		return max;
	for (int fd = 0; fd < max; fd++) {
		unsigned long long features;
		unsigned long flags;
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		n = udamon__sys.readlink(path, link, sizeof(link) - 1);
		if (n < 0) {
			if (errno == ENOENT)
				continue;
			return -errno; /* EACCES: no ptrace rights */
		}
		link[n] = '\0';
		if (strcmp(link, SYNC_UFFD_LINK))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
		if (udamon__sys_read_file(path, &text, NULL, 1UL << 16))
			continue; /* closed meanwhile */
		err = udamon__uffd_parse_fdinfo(text, &flags, &features);
		free(text);
		if (err)
			continue;
		if (features & UDAMON_UFFD_FEATURE_WP_ASYNC)
			continue; /* the PAGEMAP_SCAN source's kind */
		/* poll(2) on a blocking userfaultfd only says POLLERR. */
		if (!(flags & O_NONBLOCK)) {
			err = -EWOULDBLOCK;
			continue;
		}
		*fdnum = fd;
		return 1;
	}
	return err == -EWOULDBLOCK ? err : 0;
}

/* ---- the public face for vaddr.c ---- */

int udamon__uffd_sync_open(int pid, int pidfd, struct udamon_uffd_sync **sp)
{
	struct udamon_uffd_sync *s;
	char path[64], link[64];
	int fdnum, uffd, rc;
	ssize_t n;

	rc = udamon__uffd_sync_find(pid, &fdnum);
	if (rc <= 0)
		return rc ? rc : -ENOENT;
	uffd = udamon__sys.pidfd_getfd(pidfd, fdnum, 0);
	if (uffd < 0)
		return -errno;
	/* The target may have closed and reused the number meanwhile. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", uffd);
	n = udamon__sys.readlink(path, link, sizeof(link) - 1);
	if (n < 0 || (link[n] = '\0', strcmp(link, SYNC_UFFD_LINK))) {
		udamon__sys.close(uffd);
		return -ENOENT;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		udamon__sys.close(uffd);
		return -ENOMEM;
	}
	s->pid = pid;
	s->uffd = uffd;
	pthread_mutex_init(&s->lock, NULL);
	rc = pthread_create(&s->thread, NULL, sync_handler_fn, s);
	if (rc) {
		pthread_mutex_destroy(&s->lock);
		udamon__sys.close(uffd);
		free(s);
		return -rc;
	}
	s->thread_started = true;
	*sp = s;
	return 0;
}

int udamon__uffd_sync_protect(struct udamon_uffd_sync *s, int pagemap_fd,
			      unsigned long addr)
{
	unsigned long page = addr & ~(SYNC_PAGE_SZ - 1);
	struct sync_page *e;
	int present = 1, err;

	if (pagemap_fd >= 0) {
		present = sync_present(pagemap_fd, page);
		if (present < 0)
			present = 1; /* unknown: count only writes */
	}
	/* In the table before the protection, so no fault finds it absent. */
	pthread_mutex_lock(&s->lock);
	e = sync_add(s, page);
	if (e)
		e->state = present ? 0 : SYNC_ABSENT;
	pthread_mutex_unlock(&s->lock);
	if (!e)
		return -ENOMEM;
	err = sync_writeprotect(s->uffd, page, true);
	if (err) {
		pthread_mutex_lock(&s->lock);
		e = sync_find(s, page);
		if (e)
			e->state |= SYNC_UNPROTECTED;
		pthread_mutex_unlock(&s->lock);
		/* ENOENT: not in registered memory, which reads as idle. */
		if (err == -ENOENT)
			err = 0;
	}
	return err;
}

int udamon__uffd_sync_accessed(struct udamon_uffd_sync *s, int pagemap_fd,
			       unsigned long addr)
{
	unsigned long page = addr & ~(SYNC_PAGE_SZ - 1);
	struct sync_page *e;
	unsigned int state;

	pthread_mutex_lock(&s->lock);
	e = sync_find(s, page);
	state = e ? e->state : 0;
	pthread_mutex_unlock(&s->lock);
	if (!e)
		return 0;
	if (state & SYNC_WRITTEN)
		return 1;
	if ((state & SYNC_ABSENT) && pagemap_fd >= 0)
		return sync_present(pagemap_fd, page) > 0;
	return 0;
}

/* Lift every protection the table holds and empty it. */
static int sync_unprotect_all(struct udamon_uffd_sync *s)
{
	size_t nr = 0;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	if (s->scratch_cap < s->nr) {
		unsigned long *ns = realloc(s->scratch, s->cap * sizeof(*ns));

		if (ns) {
			s->scratch = ns;
			s->scratch_cap = s->cap;
		}
	}
	for (size_t i = 0; i < s->cap; i++) {
		struct sync_page *e = &s->tab[i];

		if (!e->page)
			continue;
		if (!(e->state & (SYNC_WRITTEN | SYNC_UNPROTECTED))) {
			if (nr < s->scratch_cap) {
				s->scratch[nr++] = e->page;
			} else {
				/* No memory for the list: lift it here. */
				int rc = sync_writeprotect(s->uffd, e->page,
							   false);

				if (rc && !err)
					err = rc;
			}
		}
		e->page = 0;
	}
	s->nr = 0;
	pthread_mutex_unlock(&s->lock);
	/* Outside the lock: the handler must not wait on these ioctls. */
	for (size_t i = 0; i < nr; i++) {
		int rc = sync_writeprotect(s->uffd, s->scratch[i], false);

		if (rc && !err)
			err = rc;
	}
	return err == -ESRCH ? 0 : err;
}

int udamon__uffd_sync_end_sample(struct udamon_uffd_sync *s)
{
	return sync_unprotect_all(s);
}

int udamon__uffd_sync_dead(struct udamon_uffd_sync *s)
{
	return __atomic_load_n(&s->dead, __ATOMIC_ACQUIRE);
}

unsigned long udamon__uffd_sync_nr_faults(struct udamon_uffd_sync *s)
{
	return __atomic_load_n(&s->nr_faults, __ATOMIC_RELAXED);
}

void udamon__uffd_sync_close(struct udamon_uffd_sync *s)
{
	if (!s)
		return;
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	sync_unprotect_all(s);
	/* Faults queued meanwhile: serve them, or their threads would wait
	 * for a reader that is gone. */
	for (int i = 0; i < 1024 && !sync_drain(s); i++)
		;
	udamon__sys.close(s->uffd);
	pthread_mutex_destroy(&s->lock);
	free(s->tab);
	free(s->scratch);
	free(s);
}

int udamon__pagemap_scan_usable(void)
{
	struct udamon_page_region vec[1];
	struct udamon_pm_scan_arg arg = {
		.size = sizeof(arg),
		.vec = (uint64_t)(uintptr_t)vec,
		.vec_len = 1,
		.category_mask = UDAMON_PAGE_IS_WRITTEN,
		.return_mask = UDAMON_PAGE_IS_WRITTEN,
	};
	int fd =
		udamon__sys.open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
	int rc;

	/* Unknown: keep the newer source, whose start check explains. */
	if (fd < 0)
		return 1;
	/* An empty range: only whether the ioctl exists. */
	rc = udamon__sys.ioctl(fd, UDAMON_PAGEMAP_SCAN, &arg);
	rc = rc >= 0 || (errno != ENOTTY && errno != EINVAL && errno != ENOSYS);
	udamon__sys.close(fd);
	return rc;
}
