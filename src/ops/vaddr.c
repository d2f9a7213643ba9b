// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vaddr and fvaddr operations sets on real processes (spec §1.2,
 * §3.8, §5.2), with the userfaultfd asynchronous write-protect access
 * source read back through PAGEMAP_SCAN on /proc/PID/pagemap.
 *
 * Sampling: prepare_access_checks write-protects the one page at each
 * region's new sampling address (PAGEMAP_SCAN with PM_SCAN_WP_MATCHING
 * over that page); check_accesses asks, without re-protecting, whether
 * that page is both in async-WP registered memory and written since.  That
 * is two ioctls per region per sample; see docs/design-real-memory.md for
 * why not one per target.  Every checked page the target writes costs it
 * a fault and a TLB flush, so an overhead budget bounds the checks per
 * second: beyond it, regions take turns and the others repeat their last
 * result.  Only writes are seen, and only in memory the
 * target registered itself (the preload library, or
 * damon_uffd_self_register()): sampled pages elsewhere read as idle.
 * Kernels without PAGEMAP_SCAN get the synchronous source of uffd-sync.c
 * instead ("uffd-wp-sync"), on the target's own userfaultfd.
 *
 * Every system access goes through the sys seam (src/sys/sys.h).
 */
#include "ops/ops-common.h"
#include "sys/alloc.h"
#include "ops/vaddr.h"
#include "ops/attach.h"
#include "core/ops-api.h"
#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define VADDR_PAGE_SZ 4096UL
/* /proc/PID/maps and smaps of big processes stay far below this. */
#define VADDR_MAX_PROC_FILE (64UL << 20)
/* Addresses from here up are the kernel's (e.g. [vsyscall]), not VMAs. */
#define VADDR_USER_END 0x800000000000UL

/* ---- per-target state ---- */

struct vaddr_target {
	int pid; /* the pid the descriptors below belong to */
	int pidfd; /* -1: not opened (yet) */
	int pagemap_fd; /* -1: not opened (yet) */
	bool exited; /* the process exited but is not reaped: still valid */
	bool gone; /* the process was reaped, or its pid was reused */
	bool pagemap_failed; /* opening pagemap failed: retry at update */
	int pagemap_errno; /* the failure last logged */
	bool exe_known; /* exe_dev/exe_ino hold the program last seen */
	dev_t exe_dev;
	ino_t exe_ino;
	unsigned int nr_execs; /* execve()s followed */
	unsigned int logged_actions; /* bit per action already logged */
	int last_scan_err; /* last PAGEMAP_SCAN errno logged */
	struct udamon_attach *attach; /* uffd-wp registration udamon made */
	bool attach_tried;
	int attach_err; /* of the last attempt */
	/* CLOCK_MONOTONIC ns when a preload launch was first seen waiting */
	uint64_t preload_wait_since;
	struct udamon_uffd_sync *sync; /* uffd-wp-sync: taken on first use */
	bool sync_failed; /* taking it failed: retry after a while */
	uint64_t sync_failed_at; /* CLOCK_MONOTONIC ns of that failure */
	int sync_logged_err; /* the failure to take it last logged */

	/*
	 * The uffd-wp source under an overhead budget.  @sample: per region
	 * (in list order) what prepare did this sample.  @held_start and
	 * @held_written: each region's start and last result as of the last
	 * check, sorted by address; a region not checked in a sample repeats
	 * the result of the held entry covering its start (a split child
	 * inherits its parent's).  Swapped with @new_* after every check.
	 */
	unsigned char *sample;
	unsigned long *held_start, *new_start;
	unsigned char *held_written, *new_written;
	size_t nr_sample, nr_held, cap;
};

/* What prepare did with a region's sampled page in this sample. */
enum vaddr_sample_state {
	VADDR_SAMPLE_SKIPPED, /* not checked: over the overhead budget */
	VADDR_SAMPLE_PROTECTED, /* protected: the check reads it */
	VADDR_SAMPLE_FAILED, /* protecting failed: the check reads idle */
};

static void vaddr_free_samples(struct vaddr_target *vt)
{
	free(vt->sample);
	free(vt->held_start);
	free(vt->new_start);
	free(vt->held_written);
	free(vt->new_written);
}

/*
 * How long a process launched under the preload library may take to
 * register its memory before udamon attaches to it instead (a static
 * binary, or a preload that failed).
 */
#define VADDR_PRELOAD_GRACE_NS (5ULL * 1000 * 1000 * 1000)
/* How often to try again to take a target's synchronous userfaultfd. */
#define VADDR_SYNC_RETRY_NS (200ULL * 1000 * 1000)

static uint64_t vaddr_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int vaddr_find_uffd_wp_vma(int pid, struct damon_addr_range *range,
				  bool *preloaded);
static bool vaddr_preload_asked(int pid);

static void vaddr_close_fds(struct vaddr_target *vt)
{
	/* First: lifting protections needs the target's memory alive. */
	udamon__uffd_sync_close(vt->sync);
	vt->sync = NULL;
	/* Detach first: nothing of udamon's stays in the target. */
	udamon__attach_close(vt->attach);
	vt->attach = NULL;
	if (vt->pagemap_fd >= 0)
		udamon__sys.close(vt->pagemap_fd);
	if (vt->pidfd >= 0)
		udamon__sys.close(vt->pidfd);
	vt->pagemap_fd = -1;
	vt->pidfd = -1;
}

/*
 * Whether the program /proc/PID/exe names differs from the one seen last
 * time (remembering it).  The first look, or one that fails (the process
 * exited, or exe is unreadable), is no change.
 */
static bool vaddr_exe_changed(struct vaddr_target *vt)
{
	char path[64];
	struct stat st;
	bool changed;

	snprintf(path, sizeof(path), "/proc/%d/exe", vt->pid);
	if (udamon__sys.stat(path, &st))
		return false;
	changed = vt->exe_known &&
		  (st.st_dev != vt->exe_dev || st.st_ino != vt->exe_ino);
	vt->exe_known = true;
	vt->exe_dev = st.st_dev;
	vt->exe_ino = st.st_ino;
	return changed;
}

/*
 * The target's state, opening its pidfd on first use.  The pidfd pins
 * the process identity: if the pid is later reused by another process,
 * the pidfd still refers to the dead one, so the target reads as gone.
 */
static struct vaddr_target *vaddr_target_of(struct damon_target *t)
{
	struct vaddr_target *vt = t->ops_priv;

	if (vt && vt->pid != t->pid) {
		/* A commit gave this target another process. */
		vaddr_close_fds(vt);
		vaddr_free_samples(vt);
		free(vt);
		vt = NULL;
		t->ops_priv = NULL;
	}
	if (!vt) {
		vt = udamon__calloc(1, sizeof(*vt));
		if (!vt)
			return NULL;
		vt->pid = t->pid;
		vt->pidfd = -1;
		vt->pagemap_fd = -1;
		t->ops_priv = vt;
		if (t->pid <= 0) {
			vt->gone = true;
			return vt;
		}
		vt->pidfd = udamon__sys.pidfd_open(t->pid, 0);
		if (vt->pidfd < 0) {
			udamon__log(DAMON_LOG_WARN, "vaddr: pidfd_open(%d): %s",
				    t->pid, strerror(errno));
			vt->gone = true;
			return vt;
		}
		vaddr_exe_changed(vt);
	}
	return vt;
}

/* The pagemap descriptor of @vt, opened on first use, or -1. */
static int vaddr_pagemap_fd(struct vaddr_target *vt)
{
	char path[64];

	if (vt->gone || vt->exited || vt->pagemap_failed)
		return -1;
	if (vt->pagemap_fd >= 0)
		return vt->pagemap_fd;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", vt->pid);
	vt->pagemap_fd = udamon__sys.open(path, O_RDONLY | O_CLOEXEC, 0);
	if (vt->pagemap_fd < 0) {
		if (errno != vt->pagemap_errno)
			udamon__log(DAMON_LOG_ERR, "vaddr: open %s: %s", path,
				    strerror(errno));
		vt->pagemap_errno = errno;
		vt->pagemap_failed = true;
	}
	return vt->pagemap_fd;
}

/*
 * Whether @vt's process exited (its pidfd polls readable), and if so
 * whether it was also reaped: a pidfd can still signal an exited process
 * its parent has not waited for yet, and fails with ESRCH once it is gone.
 * An exited process has no memory left, so its pagemap is closed.
 */
static void vaddr_poll_exit(struct vaddr_target *vt)
{
	struct pollfd pfd = { .fd = vt->pidfd, .events = POLLIN };
	int rc;

	if (vt->gone)
		return;
	if (!vt->exited) {
		rc = udamon__sys.poll(&pfd, 1, 0);
		if (rc <= 0 ||
		    !(pfd.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
			return;
		vt->exited = true;
		if (vt->pagemap_fd >= 0)
			udamon__sys.close(vt->pagemap_fd);
		vt->pagemap_fd = -1;
	}
	if (udamon__sys.pidfd_send_signal(vt->pidfd, 0, NULL, 0) &&
	    errno == ESRCH)
		vt->gone = true;
}

/*
 * As in the kernel, a target is valid until its process is reaped: an
 * exited process its parent has not waited for yet (a zombie) is still
 * there, with no memory to sample.
 */
static bool vaddr_target_valid(struct damon_target *t)
{
	struct vaddr_target *vt = vaddr_target_of(t);

	if (!vt)
		return true; /* out of memory: don't give the target up */
	vaddr_poll_exit(vt);
	return !vt->gone;
}

/* Room for @nr regions in the sample arrays of @vt; -ENOMEM. */
static int vaddr_reserve_samples(struct vaddr_target *vt, size_t nr)
{
	size_t cap = vt->cap ? vt->cap : 16;
	void *p;

	if (nr <= vt->cap)
		return 0;
	while (cap < nr)
		cap *= 2;
#define VADDR_GROW(f)                                             \
	do {                                                      \
		p = udamon__realloc(vt->f, cap * sizeof(*vt->f)); \
		if (!p)                                           \
			return -ENOMEM;                           \
		vt->f = p;                                        \
	} while (0)
	VADDR_GROW(sample);
	VADDR_GROW(held_start);
	VADDR_GROW(new_start);
	VADDR_GROW(held_written);
	VADDR_GROW(new_written);
#undef VADDR_GROW
	vt->cap = cap;
	return 0;
}

static void vaddr_cleanup_target(struct damon_target *t)
{
	struct vaddr_target *vt = t->ops_priv;

	if (!vt)
		return;
	vaddr_close_fds(vt);
	vaddr_free_samples(vt);
	free(vt);
	t->ops_priv = NULL;
}

/* ---- /proc/PID/maps and the three regions ---- */

int udamon__vaddr_parse_maps(const char *text, struct damon_addr_range **vmasp,
			     size_t *nrp)
{
	struct damon_addr_range *vmas = NULL, *nv;
	size_t nr = 0, cap = 0;
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		unsigned long start, end;
		char *q;

		if (!eol)
			break; /* a torn last line: ignore it */
		errno = 0;
		start = strtoul(p, &q, 16);
		if (q == p || *q != '-' || errno)
			goto bad;
		p = q + 1;
		end = strtoul(p, &q, 16);
		if (q == p || *q != ' ' || errno || end <= start)
			goto bad;
		p = eol + 1;
		if (start >= VADDR_USER_END)
			continue; /* [vsyscall] is not a VMA */
		if (nr && start < vmas[nr - 1].end)
			goto bad;
		if (nr == cap) {
			cap = cap ? cap * 2 : 64;
			nv = udamon__realloc(vmas, cap * sizeof(*vmas));
			if (!nv) {
				free(vmas);
				return -ENOMEM;
			}
			vmas = nv;
		}
		vmas[nr].start = start;
		vmas[nr].end = end;
		nr++;
	}
	*vmasp = vmas;
	*nrp = nr;
	return 0;
bad:
	free(vmas);
	return -EINVAL;
}

/* The mapped ranges of @pid in address order. */
static int vaddr_read_vmas(int pid, struct damon_addr_range **vmasp,
			   size_t *nrp)
{
	char path[64], *text;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	err = udamon__sys_read_file(path, &text, NULL, VADDR_MAX_PROC_FILE);
	if (err)
		return err;
	err = udamon__vaddr_parse_maps(text, vmasp, nrp);
	free(text);
	return err;
}

static int vaddr_apply_three_regions(struct damon_ctx *ctx,
				     struct damon_target *t)
{
	struct damon_addr_range *vmas;
	size_t nr;
	int err;

	err = vaddr_read_vmas(t->pid, &vmas, &nr);
	if (err)
		return err;
	err = damon_apply_three_regions(
		t, vmas, nr,
		ctx->min_region_sz ? ctx->min_region_sz : DAMON_MIN_REGION_SZ);
	free(vmas);
	return err;
}

static void vaddr_init(struct damon_ctx *ctx)
{
	struct damon_target *t;
	int err;

	damon_for_each_target(t, ctx) {
		if (!vaddr_target_of(t))
			continue;
		if (damon_nr_regions(t))
			continue;
		err = vaddr_apply_three_regions(ctx, t);
		if (err)
			udamon__log(DAMON_LOG_WARN,
				    "vaddr: no initial regions for pid %d: %s",
				    t->pid, strerror(-err));
	}
}

/*
 * Whether the memory @vt's pagemap descriptor reads is gone while the
 * process lives on: the descriptor pins the address space it was opened
 * on, and once execve() replaced that one, reads of it return nothing.
 */
static bool vaddr_pagemap_stale(struct vaddr_target *vt)
{
	uint64_t ent;

	if (vt->pagemap_fd < 0)
		return false;
	if (udamon__sys.pread(vt->pagemap_fd, &ent, sizeof(ent), 0) != 0)
		return false;
	vaddr_poll_exit(vt); /* nothing to read: exec, or exit */
	return !vt->exited && !vt->gone;
}

/*
 * Follow an execve() of @t's process: same pid, new memory.  Detected by
 * the program changing (/proc/PID/exe's file) or the pagemap descriptor's
 * address space dying under a live process; either way pagemap is opened
 * again on the new memory (which the preload library of the new image
 * registers), and the exec is logged and reported as an event.
 */
static void vaddr_follow_exec(struct damon_ctx *ctx, struct damon_target *t,
			      struct vaddr_target *vt, unsigned long idx)
{
	struct damon_event ev = { .type = DAMON_EVENT_TARGET_EXEC };
	char path[64], prog[256];
	ssize_t n;

	if (vt->gone || vt->exited)
		return;
	/*
	 * Opening pagemap can fail for a while (e.g. in the middle of an
	 * execve()): try again once per update, not once per sample.
	 */
	vt->pagemap_failed = false;
	if (!vaddr_exe_changed(vt) && !vaddr_pagemap_stale(vt))
		return;
	if (vt->pagemap_fd >= 0)
		udamon__sys.close(vt->pagemap_fd);
	vt->pagemap_fd = -1;
	vt->pagemap_failed = false;
	vt->last_scan_err = 0;
	vt->logged_actions = 0;
	vt->nr_execs++;
	/* A userfaultfd udamon attached belongs to the old memory too. */
	udamon__attach_close(vt->attach);
	vt->attach = NULL;
	vt->attach_tried = false;
	snprintf(path, sizeof(path), "/proc/%d/exe", vt->pid);
	n = udamon__sys.readlink(path, prog, sizeof(prog) - 1);
	prog[n > 0 ? n : 0] = '\0';
	udamon__log(DAMON_LOG_INFO, "vaddr: pid %d exec'd %s", vt->pid,
		    n > 0 ? prog : "(unknown program)");
	ev.target_idx = idx;
	ev.pid = vt->pid;
	udamon__emit(ctx, &ev);
}

static void vaddr_update(struct damon_ctx *ctx)
{
	struct damon_target *t;
	unsigned long idx = 0;

	damon_for_each_target(t, ctx) {
		struct vaddr_target *vt = vaddr_target_of(t);

		if (!vt || vt->gone || vt->exited) {
			idx++;
			continue;
		}
		vaddr_follow_exec(ctx, t, vt, idx++);
		/* The process may be gone meanwhile: keep what we have. */
		vaddr_apply_three_regions(ctx, t);
		/*
		 * A transient failure (an exec in between), or a preload
		 * launch still within its grace time: again now.
		 */
		if (!vt->attach &&
		    (vt->attach_err == -EAGAIN || vt->preload_wait_since))
			vt->attach_tried = false;
		if (vt->attach &&
		    udamon__attach_follow(vt->attach) == -ESTALE) {
			/* exec(): the next sampling attaches to the new image. */
			udamon__log(
				DAMON_LOG_INFO,
				"vaddr: process %d executed a new program; attaching again",
				vt->pid);
			udamon__attach_close(vt->attach);
			vt->attach = NULL;
			vt->attach_tried = false;
			/* Its pagemap, too, is of the old address space. */
			if (vt->pagemap_fd >= 0)
				udamon__sys.close(vt->pagemap_fd);
			vt->pagemap_fd = -1;
			vt->pagemap_failed = false;
		}
	}
}

/* fvaddr keeps the user's regions; it only follows execve(). */
static void fvaddr_update(struct damon_ctx *ctx)
{
	struct damon_target *t;
	unsigned long idx = 0;

	damon_for_each_target(t, ctx) {
		struct vaddr_target *vt = vaddr_target_of(t);

		if (vt)
			vaddr_follow_exec(ctx, t, vt, idx);
		idx++;
	}
}

static void fvaddr_init(struct damon_ctx *ctx)
{
	struct damon_target *t;

	damon_for_each_target(t, ctx)
		vaddr_target_of(t);
}

/* ---- choosing the access source ---- */

/* Which source @ctx uses, deciding it on first use (auto: page idle). */
static enum udamon_access_src vaddr_source(struct damon_ctx *ctx,
					   struct udamon_pidle **pip)
{
	struct udamon_real_ctx *rc = udamon__real_ctx(ctx);

	*pip = NULL;
	if (!rc)
		return UDAMON_SRC_UFFD_WP;
	if (rc->src == UDAMON_SRC_AUTO) {
		if (rc->want != UDAMON_SRC_AUTO)
			rc->src = rc->want;
		else if (udamon__page_idle_usable())
			rc->src = UDAMON_SRC_PAGE_IDLE;
		else if (udamon__pagemap_scan_usable())
			rc->src = UDAMON_SRC_UFFD_WP;
		else
			rc->src = UDAMON_SRC_UFFD_WP_SYNC;
	}
	if (rc->src == UDAMON_SRC_PAGE_IDLE)
		*pip = udamon__real_pidle(rc);
	return rc->src;
}

int damon_vaddr_set_attach(struct damon_ctx *ctx, bool attach)
{
	struct udamon_real_ctx *rc;

	if (!ctx ||
	    (ctx->ops.id != DAMON_OPS_VADDR && ctx->ops.id != DAMON_OPS_FVADDR))
		return -EINVAL;
	rc = udamon__real_ctx(ctx);
	if (!rc)
		return -ENOMEM;
	rc->no_attach = !attach;
	return 0;
}

/* Whether the uffd-wp source may attach to @pid (src/ops/attach.c). */
static bool vaddr_may_attach(struct damon_ctx *ctx, int pid)
{
	struct udamon_real_ctx *rc = ctx->ops_priv;

	/* The calling process has damon_uffd_self_register() instead. */
	return !(rc && rc->no_attach) && pid != udamon__sys.getpid();
}

/*
 * The uffd-wp source on a process that registered no memory itself (it
 * was not launched under udamon): attach to it, once per target.
 */
static void vaddr_attach(struct damon_ctx *ctx, struct vaddr_target *vt)
{
	struct damon_addr_range uw;
	char why[384];
	bool preloaded = false;
	int rc;

	vt->attach_tried = true;
	if (vt->gone || vt->exited || !vaddr_may_attach(ctx, vt->pid))
		return;
	/* Registered already (the preload library), or unreadable. */
	rc = vaddr_find_uffd_wp_vma(vt->pid, &uw, &preloaded);
	if (rc) {
		if (rc > 0)
			vt->preload_wait_since = 0; /* it registered */
		return;
	}
	/*
	 * Launched under the preload library, which registers its memory
	 * in a moment: two registrations would fight over the ranges.  Ask
	 * again at the next updates, and attach only if it still registered
	 * nothing after the grace time.
	 */
	if (preloaded || vaddr_preload_asked(vt->pid)) {
		uint64_t now = vaddr_mono_ns();

		if (!vt->preload_wait_since)
			vt->preload_wait_since = now;
		if (now - vt->preload_wait_since < VADDR_PRELOAD_GRACE_NS)
			return;
		udamon__log(
			DAMON_LOG_WARN,
			"vaddr: process %d was launched with the preload library but registered no memory in 5 s; attaching to it",
			vt->pid);
		vt->preload_wait_since = 0;
	}
	vt->attach_err =
		udamon__attach_open(vt->pid, &vt->attach, why, sizeof(why));
	if (vt->attach_err)
		udamon__log(DAMON_LOG_ERR, "vaddr: %s", why);
}

int damon_set_access_source(struct damon_ctx *ctx, const char *name)
{
	struct udamon_real_ctx *rc;
	enum udamon_access_src want;

	if (!ctx || !name ||
	    (ctx->ops.id != DAMON_OPS_VADDR && ctx->ops.id != DAMON_OPS_FVADDR))
		return -EINVAL;
	if (!strcmp(name, "auto"))
		want = UDAMON_SRC_AUTO;
	else if (!strcmp(name, "page-idle"))
		want = UDAMON_SRC_PAGE_IDLE;
	else if (!strcmp(name, "uffd-wp"))
		want = UDAMON_SRC_UFFD_WP;
	else if (!strcmp(name, "uffd-wp-sync"))
		want = UDAMON_SRC_UFFD_WP_SYNC;
	else
		return -EINVAL;
	rc = udamon__real_ctx(ctx);
	if (!rc)
		return -ENOMEM;
	if (rc->want != want) {
		rc->want = want;
		rc->src = UDAMON_SRC_AUTO;
	}
	return 0;
}

/* ---- the page idle source: PFNs from /proc/PID/pagemap ---- */

/* The PFN mapped at @addr, or UDAMON_PFN_NONE. */
static uint64_t vaddr_pfn_of(int fd, unsigned long addr)
{
	uint64_t ent;

	if (fd < 0 ||
	    udamon__kpage_read(fd, addr / VADDR_PAGE_SZ, 1, &ent) != 1)
		return UDAMON_PFN_NONE;
	/* Without CAP_SYS_ADMIN the kernel hides PFNs as 0. */
	if (!(ent & UDAMON_PM_PRESENT) || !(ent & UDAMON_PM_PFN_MASK))
		return UDAMON_PFN_NONE;
	return ent & UDAMON_PM_PFN_MASK;
}

static void vaddr_pidle_prepare(struct damon_ctx *ctx, struct udamon_pidle *pi)
{
	struct damon_target *t;
	struct damon_region *r;

	udamon__pidle_begin(pi);
	damon_for_each_target(t, ctx) {
		struct vaddr_target *vt = vaddr_target_of(t);
		int fd = vt ? vaddr_pagemap_fd(vt) : -1;

		damon_for_each_region(r, t) {
			r->sampling_addr =
				damon_rand(ctx, r->ar.start, r->ar.end);
			if (udamon__pidle_add(
				    pi,
				    udamon__pidle_sample_pfn(
					    pi,
					    vaddr_pfn_of(fd,
							 r->sampling_addr)))) {
				pi->nr = 0;
				return;
			}
		}
	}
	udamon__pidle_mark(pi);
}

static unsigned int vaddr_pidle_check(struct damon_ctx *ctx,
				      struct udamon_pidle *pi)
{
	unsigned int max_nr_accesses = 0;
	struct damon_target *t;
	struct damon_region *r;
	size_t i = 0;

	udamon__pidle_collect(pi);
	damon_for_each_target(t, ctx) {
		damon_for_each_region(r, t) {
			damon_update_region_access_rate(
				r, udamon__pidle_accessed(pi, i++),
				&ctx->attrs);
			if (r->nr_accesses > max_nr_accesses)
				max_nr_accesses = r->nr_accesses;
		}
	}
	return max_nr_accesses;
}

/* ---- the access source: uffd-wp + PAGEMAP_SCAN ---- */

/*
 * One PAGEMAP_SCAN over [@start, @end).  Return: the number of page
 * regions reported (0 or 1 with @vec of one entry), or -errno.
 */
static int vaddr_scan(int fd, unsigned long start, unsigned long end,
		      uint64_t flags, uint64_t category_mask,
		      struct udamon_page_region *vec, size_t vec_len)
{
	struct udamon_pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = flags,
		.start = start,
		.end = end,
		.vec = (uint64_t)(uintptr_t)vec,
		.vec_len = vec_len,
		.category_mask = category_mask,
		.return_mask = category_mask,
	};
	int rc = udamon__sys.ioctl(fd, UDAMON_PAGEMAP_SCAN, &arg);

	return rc < 0 ? -errno : rc;
}

static void vaddr_log_scan_err(struct vaddr_target *vt, int err)
{
	/*
	 * Log a failure once per kind, not once per region and sample.  ESRCH
	 * is the process exiting or exec'ing: target_valid and update follow.
	 */
	if (vt->last_scan_err == err || err == -ESRCH)
		return;
	vt->last_scan_err = err;
	udamon__log(DAMON_LOG_WARN, "vaddr: PAGEMAP_SCAN of pid %d: %s",
		    vt->pid, strerror(-err));
}

/* Write-protect the page at @addr; written pages are matched, so reset. */
int udamon__vaddr_protect_page(int fd, unsigned long addr)
{
	struct udamon_page_region vec[1];
	unsigned long page = addr & ~(VADDR_PAGE_SZ - 1);

	return vaddr_scan(fd, page, page + VADDR_PAGE_SZ,
			  UDAMON_PM_SCAN_WP_MATCHING, UDAMON_PAGE_IS_WRITTEN,
			  vec, 1);
}

/*
 * Whether the page at @addr was written since it was protected: it must
 * be async-WP capable (else the kernel calls every page "written") and
 * written.  Return: 1, 0, or -errno.
 */
int udamon__vaddr_page_written(int fd, unsigned long addr)
{
	struct udamon_page_region vec[1];
	unsigned long page = addr & ~(VADDR_PAGE_SZ - 1);
	int rc;

	rc = vaddr_scan(fd, page, page + VADDR_PAGE_SZ, 0,
			UDAMON_PAGE_IS_WPALLOWED | UDAMON_PAGE_IS_WRITTEN, vec,
			1);
	if (rc < 0)
		return rc;
	return rc > 0 && vec[0].start <= page && page < vec[0].end;
}

/* ---- the synchronous source (uffd-sync.c) ---- */

/* @vt's taken userfaultfd, taken on first use, or NULL. */
static struct udamon_uffd_sync *vaddr_sync_of(struct vaddr_target *vt)
{
	int err;

	if (vt->gone)
		return NULL;
	/*
	 * A process just launched registers its userfaultfd in a moment;
	 * one whose userfaultfd failed may make another: look again now and
	 * then, not at every sample.
	 */
	if (vt->sync_failed &&
	    vaddr_mono_ns() - vt->sync_failed_at < VADDR_SYNC_RETRY_NS)
		return NULL;
	vt->sync_failed = false;
	if (vt->sync) {
		err = udamon__uffd_sync_dead(vt->sync);
		if (!err)
			return vt->sync;
		udamon__log(DAMON_LOG_WARN,
			    "vaddr: pid %d's userfaultfd failed: %s", vt->pid,
			    strerror(err));
		udamon__uffd_sync_close(vt->sync);
		vt->sync = NULL;
		vt->sync_failed = true;
		vt->sync_failed_at = vaddr_mono_ns();
		return NULL;
	}
	err = udamon__uffd_sync_open(vt->pid, vt->pidfd, &vt->sync);
	if (err) {
		if (err != vt->sync_logged_err)
			udamon__log(
				DAMON_LOG_WARN,
				"vaddr: cannot take pid %d's userfaultfd: %s",
				vt->pid, strerror(-err));
		vt->sync_logged_err = err;
		vt->sync_failed = true;
		vt->sync_failed_at = vaddr_mono_ns();
		return NULL;
	}
	return vt->sync;
}

static void vaddr_sync_prepare(struct damon_ctx *ctx)
{
	struct damon_target *t;
	struct damon_region *r;

	damon_for_each_target(t, ctx) {
		struct vaddr_target *vt = vaddr_target_of(t);
		struct udamon_uffd_sync *sync = vt ? vaddr_sync_of(vt) : NULL;
		int fd = sync ? vaddr_pagemap_fd(vt) : -1;
		int rc;

		damon_for_each_region(r, t) {
			r->sampling_addr =
				damon_rand(ctx, r->ar.start, r->ar.end);
			if (!sync)
				continue;
			rc = udamon__uffd_sync_protect(sync, fd,
						       r->sampling_addr);
			if (rc == -ESRCH)
				break; /* its memory is gone: it exited */
			if (rc < 0 && vt->last_scan_err != rc) {
				/* Once per kind, not per region and sample. */
				vt->last_scan_err = rc;
				udamon__log(
					DAMON_LOG_WARN,
					"vaddr: write-protecting a page of pid %d: %s",
					vt->pid, strerror(-rc));
			}
		}
	}
}

static unsigned int vaddr_sync_check(struct damon_ctx *ctx)
{
	unsigned int max_nr_accesses = 0;
	struct damon_target *t;
	struct damon_region *r;

	damon_for_each_target(t, ctx) {
		struct vaddr_target *vt = vaddr_target_of(t);
		struct udamon_uffd_sync *sync = vt ? vt->sync : NULL;
		int fd = sync ? vaddr_pagemap_fd(vt) : -1;

		damon_for_each_region(r, t) {
			bool accessed = sync &&
					udamon__uffd_sync_accessed(
						sync, fd, r->sampling_addr) > 0;

			damon_update_region_access_rate(r, accessed,
							&ctx->attrs);
			if (r->nr_accesses > max_nr_accesses)
				max_nr_accesses = r->nr_accesses;
		}
		if (sync)
			udamon__uffd_sync_end_sample(sync);
	}
	return max_nr_accesses;
}

/* ---- the overhead budget of the uffd-wp source ---- */

int damon_set_overhead_budget(struct damon_ctx *ctx,
			      unsigned long checks_per_sec)
{
	struct udamon_real_ctx *rc;

	if (!ctx ||
	    (ctx->ops.id != DAMON_OPS_VADDR && ctx->ops.id != DAMON_OPS_FVADDR))
		return -EINVAL;
	rc = udamon__real_ctx(ctx);
	if (!rc)
		return -ENOMEM;
	rc->budget.per_sec = checks_per_sec;
	return 0;
}

unsigned long damon_overhead_budget(struct damon_ctx *ctx)
{
	struct udamon_real_ctx *rc;

	if (!ctx ||
	    (ctx->ops.id != DAMON_OPS_VADDR && ctx->ops.id != DAMON_OPS_FVADDR))
		return 0;
	rc = ctx->ops_priv;
	return rc ? rc->budget.per_sec : UDAMON_DEFAULT_OVERHEAD_BUDGET;
}

/*
 * Decide which of the context's @nr regions get a page checked in this
 * sample: all while the budget allows, else a window of as many as it
 * pays for, moving round-robin so every region takes its turn.  Credit
 * left over from a sample is kept, up to one sample's worth, so budgets
 * below one check per sample still check now and then.
 */
void udamon__vaddr_budget_plan(struct udamon_budget *b,
			       unsigned long sample_interval_us,
			       unsigned long nr)
{
	double per_sample, cap;
	unsigned long count;

	b->nr = nr;
	b->first = 0;
	b->count = nr;
	if (!b->per_sec || !nr)
		return;
	per_sample = (double)b->per_sec *
		     (double)(sample_interval_us ? sample_interval_us : 1) /
		     1e6;
	b->credit += per_sample;
	count = b->credit >= (double)nr ? nr : (unsigned long)b->credit;
	b->credit -= (double)count;
	cap = per_sample > 1 ? per_sample : 1;
	if (b->credit > cap)
		b->credit = cap;
	if (count == nr)
		return;
	b->first = b->cursor % nr;
	b->count = count;
	b->cursor = (b->first + count) % nr;
}

/* Whether region ordinal @ord is checked under the plan @b. */
bool udamon__vaddr_budget_picks(const struct udamon_budget *b,
				unsigned long ord)
{
	if (b->count >= b->nr)
		return true;
	return (ord + b->nr - b->first) % b->nr < b->count;
}

static void vaddr_prepare_access_checks(struct damon_ctx *ctx)
{
	enum udamon_access_src src;
	struct udamon_budget unbounded = { 0 }, *b = &unbounded;
	struct udamon_real_ctx *real;
	struct udamon_pidle *pi;
	struct damon_target *t;
	struct damon_region *r;
	unsigned long nr = 0, ord = 0;

	src = vaddr_source(ctx, &pi);
	if (src == UDAMON_SRC_UFFD_WP_SYNC) {
		vaddr_sync_prepare(ctx);
		return;
	}
	if (src == UDAMON_SRC_PAGE_IDLE) {
		if (pi) {
			vaddr_pidle_prepare(ctx, pi);
			return;
		}
		/* Unusable after all: sample, see nothing. */
		damon_for_each_target(t, ctx) {
			damon_for_each_region(r, t)
				r->sampling_addr =
					damon_rand(ctx, r->ar.start, r->ar.end);
		}
		return;
	}

	real = ctx->ops_priv;
	if (real)
		b = &real->budget;
	damon_for_each_target(t, ctx)
		nr += damon_nr_regions(t);
	udamon__vaddr_budget_plan(b, ctx->attrs.sample_interval, nr);

	damon_for_each_target(t, ctx) {
		struct vaddr_target *vt = vaddr_target_of(t);
		int fd;
		size_t i = 0;
		bool keep;
		int rc;

		if (vt && !vt->attach_tried)
			vaddr_attach(ctx, vt);
		fd = vt ? vaddr_pagemap_fd(vt) : -1;
		keep = vt && !vaddr_reserve_samples(vt, damon_nr_regions(t));
		if (vt)
			vt->nr_sample = keep ? damon_nr_regions(t) : 0;
		damon_for_each_region(r, t) {
			unsigned char state = VADDR_SAMPLE_FAILED;

			if (!udamon__vaddr_budget_picks(b, ord++)) {
				/*
				 * Not this sample's turn: no protect, no
				 * check.  sampling_addr stays the last one
				 * checked, unless a split left it outside.
				 */
				if (r->sampling_addr < r->ar.start ||
				    r->sampling_addr >= r->ar.end)
					r->sampling_addr = damon_rand(
						ctx, r->ar.start, r->ar.end);
				state = VADDR_SAMPLE_SKIPPED;
			} else {
				r->sampling_addr =
					damon_rand(ctx, r->ar.start, r->ar.end);
				if (fd >= 0) {
					rc = udamon__vaddr_protect_page(
						fd, r->sampling_addr);
					if (rc < 0)
						vaddr_log_scan_err(vt, rc);
					else
						state = VADDR_SAMPLE_PROTECTED;
				}
			}
			if (keep)
				vt->sample[i++] = state;
		}
	}
}

/*
 * The result standing in for a region not checked in this sample: that
 * of the held entry covering its start; *@j walks the held entries along
 * with the regions, which both go up in address.
 */
static bool vaddr_held_result(const struct vaddr_target *vt, size_t *j,
			      unsigned long start)
{
	while (*j + 1 < vt->nr_held && vt->held_start[*j + 1] <= start)
		(*j)++;
	return *j < vt->nr_held && vt->held_start[*j] <= start &&
	       vt->held_written[*j];
}

static unsigned int vaddr_check_accesses(struct damon_ctx *ctx)
{
	struct damon_target *t;
	struct damon_region *r;
	unsigned int max_nr_accesses = 0;
	struct udamon_real_ctx *real = ctx->ops_priv;

	if (real && real->src == UDAMON_SRC_PAGE_IDLE) {
		if (real->pi_open)
			return vaddr_pidle_check(ctx, &real->pi);
		damon_for_each_target(t, ctx) {
			damon_for_each_region(r, t)
				damon_update_region_access_rate(r, false,
								&ctx->attrs);
		}
		return 0;
	}
	if (real && real->src == UDAMON_SRC_UFFD_WP_SYNC)
		return vaddr_sync_check(ctx);

	damon_for_each_target(t, ctx) {
		struct vaddr_target *vt = vaddr_target_of(t);
		int fd = vt ? vaddr_pagemap_fd(vt) : -1;
		bool keep = vt && vt->nr_sample == damon_nr_regions(t) &&
			    vt->cap >= damon_nr_regions(t);
		size_t i = 0, j = 0;
		int rc;

		damon_for_each_region(r, t) {
			unsigned char state = keep ? vt->sample[i] :
						     VADDR_SAMPLE_PROTECTED;
			bool written = false;

			if (state == VADDR_SAMPLE_SKIPPED) {
				written =
					vaddr_held_result(vt, &j, r->ar.start);
			} else if (state == VADDR_SAMPLE_PROTECTED && fd >= 0) {
				rc = udamon__vaddr_page_written(
					fd, r->sampling_addr);
				if (rc < 0)
					vaddr_log_scan_err(vt, rc);
				written = rc > 0;
			}
			if (keep) {
				vt->new_start[i] = r->ar.start;
				vt->new_written[i] = written;
			}
			i++;
			damon_update_region_access_rate(r, written,
							&ctx->attrs);
			if (r->nr_accesses > max_nr_accesses)
				max_nr_accesses = r->nr_accesses;
		}
		if (keep) {
			unsigned long *ts = vt->held_start;
			unsigned char *tw = vt->held_written;

			vt->held_start = vt->new_start;
			vt->held_written = vt->new_written;
			vt->new_start = ts;
			vt->new_written = tw;
			vt->nr_held = i;
		} else if (vt) {
			vt->nr_held = 0;
		}
		if (vt)
			vt->nr_sample = 0;
	}
	return max_nr_accesses;
}

static int vaddr_why(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- probes: anon from pagemap ---- */

/* /proc/PID/pagemap entry bits beyond the PFN and presence. */
#define VADDR_PM_SWAP (1ULL << 62)
#define VADDR_PM_FILE (1ULL << 61)

/*
 * Count probe hits of each region's sampled page.  User space can answer
 * only the anon filter here, from the page's pagemap entry (not
 * file-backed or shared); check_ctx refuses the other filter types and
 * preps.  A page that is neither present nor swapped has no folio, so it
 * hits nothing, as in the kernel.
 */
static unsigned int vaddr_apply_probes(struct damon_ctx *ctx,
				       bool set_sampling_addr,
				       bool return_max_wsum)
{
	unsigned int max_wsum = 0;
	struct damon_target *t;
	struct damon_region *r;

	damon_for_each_target(t, ctx) {
		struct vaddr_target *vt = vaddr_target_of(t);
		int fd = vt ? vaddr_pagemap_fd(vt) : -1;

		damon_for_each_region(r, t) {
			struct damon_page_attrs pa = { 0 };
			unsigned int wsum;
			uint64_t ent;

			if (set_sampling_addr)
				r->sampling_addr =
					damon_rand(ctx, r->ar.start, r->ar.end);
			if (fd >= 0 &&
			    udamon__kpage_read(fd,
					       r->sampling_addr / VADDR_PAGE_SZ,
					       1, &ent) == 1 &&
			    (ent & (UDAMON_PM_PRESENT | VADDR_PM_SWAP))) {
				pa.anon = !(ent & VADDR_PM_FILE);
				wsum = damon_probe_account(ctx, r, &pa);
			} else {
				wsum = damon_probe_hits_wsum(ctx, r, false,
							     false);
			}
			if (wsum > max_wsum)
				max_wsum = wsum;
		}
	}
	return return_max_wsum ? max_wsum : 0;
}

/* Whether every probe of @ctx asks only what vaddr can answer. */
static int vaddr_check_probes(struct damon_ctx *ctx, char *why, size_t len)
{
	struct damon_probe *p;
	struct damon_filter *f;

	damon_for_each_probe(p, ctx) {
		if (!damon_list_empty(&p->preps))
			return vaddr_why(
				why, len, -EINVAL,
				"%s: probe preps (set_pgidle) are not supported by udamon's real operations sets (sim only)",
				damon_ops_name(ctx->ops.id));
		damon_for_each_filter(f, p) {
			if (f->type != DAMON_FILTER_TYPE_ANON)
				return vaddr_why(
					why, len, -EINVAL,
					"%s: probe filter %s is not supported by udamon here (user space reads only anon, from pagemap; sim has all)",
					damon_ops_name(ctx->ops.id),
					damon_filter_type_name(f->type));
		}
	}
	return 0;
}

/* ---- DAMOS ---- */

static int vaddr_get_scheme_score(struct damon_ctx *ctx, struct damon_target *t,
				  struct damon_region *r, struct damos *s)
{
	return damon_ops_scheme_score(ctx, r, s);
}

static int vaddr_madvise_advice(enum damos_action action)
{
	switch (action) {
	case DAMOS_WILLNEED:
		return MADV_WILLNEED;
	case DAMOS_COLD:
		return MADV_COLD;
	case DAMOS_PAGEOUT:
		return MADV_PAGEOUT;
	case DAMOS_COLLAPSE:
		return MADV_COLLAPSE;
	case DAMOS_HUGEPAGE:
		return MADV_HUGEPAGE;
	case DAMOS_NOHUGEPAGE:
		return MADV_NOHUGEPAGE;
	default:
		return -1;
	}
}

static void vaddr_log_action_once(struct vaddr_target *vt,
				  enum damos_action action, const char *why)
{
	unsigned int bit = 1U << action;

	if (vt && (vt->logged_actions & bit))
		return;
	if (vt)
		vt->logged_actions |= bit;
	udamon__log(DAMON_LOG_WARN,
		    "vaddr: action %s not applied to pid %d: %s",
		    damos_action_name(action), vt ? vt->pid : -1, why);
}

static bool vaddr_written_fn(void *arg, unsigned long addr)
{
	return udamon__vaddr_page_written(*(int *)arg, addr) > 0;
}

/* Bytes of [@start, @end) that pass @s's ops filters (stat, migrate). */
static unsigned long vaddr_filters_walk(struct damon_ctx *ctx,
					struct vaddr_target *vt,
					struct damos *s, unsigned long start,
					unsigned long end)
{
	struct udamon_real_ctx *rc = udamon__real_ctx(ctx);
	int fd = vaddr_pagemap_fd(vt);
	enum udamon_access_src src;
	struct udamon_pidle *pi;

	if (!rc || fd < 0)
		return 0;
	src = vaddr_source(ctx, &pi);
	/*
	 * young comes from the source: the bitmap, or uffd-wp writes.  The
	 * synchronous source keeps no protection between samples, so it has
	 * nothing to say about a page here: its folios read as not young.
	 */
	return udamon__ops_filters_walk_pagemap(
		udamon__real_kpages(rc), fd, s, start, end,
		src == UDAMON_SRC_UFFD_WP ? vaddr_written_fn : NULL, &fd);
}

static unsigned long vaddr_apply_scheme(struct damon_ctx *ctx,
					struct damon_target *t,
					struct damon_region *r, struct damos *s,
					unsigned long *sz_filter_passed)
{
	struct vaddr_target *vt = vaddr_target_of(t);
	unsigned long start = r->ar.start & ~(VADDR_PAGE_SZ - 1);
	unsigned long end = (r->ar.end + VADDR_PAGE_SZ - 1) &
			    ~(VADDR_PAGE_SZ - 1);
	int advice = vaddr_madvise_advice(s->action);
	struct iovec iov;
	ssize_t done;

	if (s->action == DAMOS_STAT) {
		if (vt && !vt->gone && !damon_list_empty(&s->ops_filters))
			*sz_filter_passed =
				vaddr_filters_walk(ctx, vt, s, start, end);
		return 0;
	}
	if (!vt || vt->gone)
		return 0;
	if (s->action == DAMOS_MIGRATE_HOT || s->action == DAMOS_MIGRATE_COLD)
		return udamon__vaddr_migrate(t->pid, s, start, end);
	if (advice < 0) {
		vaddr_log_action_once(vt, s->action,
				      "not supported by udamon's vaddr");
		return 0;
	}
	if (s->action == DAMOS_HUGEPAGE || s->action == DAMOS_NOHUGEPAGE) {
		/* process_madvise() takes no THP hints: only madvise(). */
		if (t->pid != udamon__sys.getpid()) {
			vaddr_log_action_once(
				vt, s->action,
				"only the calling process can get it");
			return 0;
		}
		if (udamon__sys.madvise((void *)start, end - start, advice)) {
			vaddr_log_action_once(vt, s->action, strerror(errno));
			return 0;
		}
		return end - start;
	}
	iov.iov_base = (void *)start;
	iov.iov_len = end - start;
	done = udamon__sys.process_madvise(vt->pidfd, &iov, 1, advice, 0);
	if (done < 0) {
		if (errno == ESRCH)
			vt->gone = true;
		else
			vaddr_log_action_once(vt, s->action, strerror(errno));
		return 0;
	}
	return (unsigned long)done;
}

/* ---- checks and registration ---- */

static int vaddr_why(char *why, size_t len, int err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (why && len)
		snprintf(why, len, "%s", buf);
	udamon__log(DAMON_LOG_ERR, "%s", buf);
	return err;
}

/*
 * Find an async-WP registered VMA of @pid via smaps ("uw" in VmFlags),
 * noting in @preloaded whether the preload library is mapped.
 * Return: 1 with @range set, 0 if none, or -errno.
 */
static int vaddr_find_uffd_wp_vma(int pid, struct damon_addr_range *range,
				  bool *preloaded)
{
	char path[64], *text, *line, *next;
	unsigned long start = 0, end = 0;
	int err, found = 0;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	err = udamon__sys_read_file(path, &text, NULL, VADDR_MAX_PROC_FILE);
	if (err)
		return err;
	*preloaded = strstr(text, "libudamon-preload") != NULL;
	for (line = text; line && *line && !found; line = next) {
		unsigned long v;
		char *q;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "VmFlags:", 8)) {
			if (strstr(line + 8, " uw"))
				found = 1;
			continue;
		}
		/* A VMA header line starts with "start-end ". */
		v = strtoul(line, &q, 16);
		if (q != line && *q == '-') {
			start = v;
			end = strtoul(q + 1, NULL, 16);
		}
	}
	free(text);
	if (found) {
		range->start = start;
		range->end = end;
	}
	return found;
}

/* Whether the process of @pidfd exited (reaped or not). */
static bool vaddr_pidfd_exited(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return udamon__sys.poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

/* The source @ctx uses or will use, without deciding it. */
static enum udamon_access_src vaddr_planned_source(struct damon_ctx *ctx)
{
	struct udamon_real_ctx *rc = ctx->ops_priv;

	if (rc && rc->src != UDAMON_SRC_AUTO)
		return rc->src;
	if (rc && rc->want != UDAMON_SRC_AUTO)
		return rc->want;
	return udamon__page_idle_usable() ? UDAMON_SRC_PAGE_IDLE :
					    UDAMON_SRC_UFFD_WP;
}

/*
 * Like the kernel, accept any process that exists, including one that
 * exited but is not reaped yet and one that has not registered memory for
 * the uffd-wp source yet (a process just launched under the preload
 * library): refuse only what can never work.
 */
/*
 * Whether @pid runs with the preload library asked for (its LD_PRELOAD):
 * right after the exec it is not mapped yet, but will register soon.
 */
static bool vaddr_preload_asked(int pid)
{
	static const char want[] = "libudamon-preload";
	char path[64], *env, *p;
	size_t n;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	if (udamon__sys_read_file(path, &env, &n, VADDR_MAX_PROC_FILE))
		return false;
	/* NUL-separated NAME=VALUE strings. */
	for (p = env; p < env + n && !found; p += strlen(p) + 1)
		found = !strncmp(p, "LD_PRELOAD=", 11) && strstr(p, want);
	free(env);
	return found;
}

/* Whether the uffd-wp-sync source can serve @t; 0 or -EINVAL + @why. */
static int vaddr_check_sync(struct damon_target *t, char *why, size_t len)
{
	struct damon_addr_range uw = { 0, 0 };
	int rc, fdnum, pidfd, fd;
	bool preloaded = false;

	rc = vaddr_find_uffd_wp_vma(t->pid, &uw, &preloaded);
	if (rc < 0)
		return vaddr_why(why, len, -EINVAL,
				 "vaddr: read /proc/%d/smaps: %s", t->pid,
				 strerror(-rc));
	if (rc == 0 && (preloaded || vaddr_preload_asked(t->pid))) {
		/* Just launched: taken once its preload library registers. */
		udamon__log(
			DAMON_LOG_INFO,
			"vaddr: process %d has registered no memory for userfaultfd write-protect yet; it reads as idle until it does",
			t->pid);
		return 0;
	}
	if (rc == 0)
		return vaddr_why(
			why, len, -EINVAL,
			"vaddr: process %d registered no memory for userfaultfd write-protect, and this kernel has neither page idle tracking nor PAGEMAP_SCAN; launch it under udamon (LD_PRELOAD=libudamon-preload.so)",
			t->pid);
	rc = udamon__uffd_sync_find(t->pid, &fdnum);
	if (rc == -EWOULDBLOCK)
		return vaddr_why(
			why, len, -EINVAL,
			"vaddr: process %d's userfaultfd is blocking (no O_NONBLOCK): the uffd-wp-sync source cannot poll it",
			t->pid);
	if (rc < 0)
		return vaddr_why(
			why, len, -EINVAL,
			"vaddr: cannot list process %d's descriptors: %s (the uffd-wp-sync source needs ptrace rights over it)",
			t->pid, strerror(-rc));
	if (rc == 0)
		return vaddr_why(
			why, len, -EINVAL,
			"vaddr: process %d has no synchronous userfaultfd (its write-protect registration is WP_ASYNC, which the uffd-wp source reads)",
			t->pid);
	/* Taking it is what needs the rights: try it once here. */
	pidfd = udamon__sys.pidfd_open(t->pid, 0);
	if (pidfd < 0)
		return vaddr_why(why, len, -EINVAL, "vaddr: process %d: %s",
				 t->pid, strerror(errno));
	fd = udamon__sys.pidfd_getfd(pidfd, fdnum, 0);
	rc = fd < 0 ? errno : 0;
	if (fd >= 0)
		udamon__sys.close(fd);
	udamon__sys.close(pidfd);
	if (rc == ENOSYS)
		return vaddr_why(
			why, len, -EINVAL,
			"vaddr: this kernel has no pidfd_getfd (Linux >= 5.6 needed for the uffd-wp-sync source)");
	if (rc)
		return vaddr_why(
			why, len, -EINVAL,
			"vaddr: cannot take process %d's userfaultfd (pidfd_getfd): %s (ptrace rights over it are needed)",
			t->pid, strerror(rc));
	return 0;
}

int damon_vaddr_check_target(struct damon_ctx *ctx, struct damon_target *t,
			     char *why, size_t len)
{
	struct udamon_page_region vec[1];
	struct damon_addr_range uw = { 0, 0 };
	char path[64];
	enum udamon_access_src want;
	int pidfd, fd, rc;
	bool exited, preloaded = false;

	if (!ctx || !t)
		return vaddr_why(why, len, -EINVAL, "vaddr: no context/target");
	if (ctx->ops.id != DAMON_OPS_VADDR && ctx->ops.id != DAMON_OPS_FVADDR)
		return vaddr_why(why, len, -EINVAL,
				 "vaddr: the context uses %s, not vaddr/fvaddr",
				 damon_ops_name(ctx->ops.id));
	if (t->pid <= 0)
		return vaddr_why(why, len, -EINVAL,
				 "vaddr: target has no process id (pid %d)",
				 t->pid);
	pidfd = udamon__sys.pidfd_open(t->pid, 0);
	if (pidfd < 0)
		return vaddr_why(
			why, len, -EINVAL, "vaddr: process %d: %s", t->pid,
			errno == ESRCH ? "no such process" : strerror(errno));
	exited = vaddr_pidfd_exited(pidfd);
	udamon__sys.close(pidfd);
	if (exited)
		return 0; /* valid until reaped, with nothing to sample */

	snprintf(path, sizeof(path), "/proc/%d/pagemap", t->pid);
	fd = udamon__sys.open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0 && errno == ESRCH)
		return 0; /* it exited meanwhile */
	if (fd < 0)
		return vaddr_why(
			why, len, -EINVAL,
			"vaddr: cannot open %s: %s (monitoring another process needs ptrace read access to it)",
			path, strerror(errno));
	want = ctx->ops_priv ? ((struct udamon_real_ctx *)ctx->ops_priv)->want :
			       UDAMON_SRC_AUTO;
	if (vaddr_planned_source(ctx) == UDAMON_SRC_PAGE_IDLE) {
		struct udamon_pidle pi;
		char buf[256];

		udamon__sys.close(fd);
		if (udamon__pidle_open(&pi, buf, sizeof(buf)))
			return vaddr_why(
				why, len, -EINVAL,
				"vaddr: page-idle source chosen, but %s", buf);
		udamon__pidle_close(&pi);
		return 0;
	}
	if (want == UDAMON_SRC_UFFD_WP_SYNC) {
		udamon__sys.close(fd);
		return vaddr_check_sync(t, why, len);
	}
	/* An empty scan tells whether the kernel has PAGEMAP_SCAN at all. */
	rc = vaddr_scan(fd, 0, 0, 0, UDAMON_PAGE_IS_WRITTEN, vec, 1);
	if (rc == -ENOTTY || rc == -EINVAL || rc == -ENOSYS) {
		udamon__sys.close(fd);
		/* Before 6.7: the synchronous source is what is left. */
		if (want == UDAMON_SRC_AUTO)
			return vaddr_check_sync(t, why, len);
		return vaddr_why(
			why, len, -EINVAL,
			"vaddr: this kernel has no PAGEMAP_SCAN (Linux >= 6.7 needed for the uffd-wp source; the uffd-wp-sync source works without it)");
	}
	rc = vaddr_find_uffd_wp_vma(t->pid, &uw, &preloaded);
	if (rc == 0 && !preloaded && !vaddr_preload_asked(t->pid) &&
	    vaddr_may_attach(ctx, t->pid)) {
		char buf[384];

		udamon__sys.close(fd);
		/* Not launched under udamon: the start will attach to it. */
		rc = udamon__attach_probe(t->pid, buf, sizeof(buf));
		if (rc)
			return vaddr_why(
				why, len, rc,
				"vaddr: process %d registered no memory for userfaultfd write-protect (not launched under udamon) and udamon cannot attach to it: %s",
				t->pid, buf);
		return 0;
	}
	if (rc <= 0) {
		udamon__sys.close(fd);
		if (rc == -ESRCH || rc == 0) {
			/*
			 * Not registered yet (or exited meanwhile): regions
			 * read idle until the process registers memory, as
			 * the preload library does right after its start.
			 */
			if (rc == 0)
				udamon__log(
					preloaded || vaddr_preload_asked(
							     t->pid) ?
						DAMON_LOG_INFO :
						DAMON_LOG_WARN,
					"vaddr: process %d has registered no memory for userfaultfd write-protect yet; it reads as idle until it does (launch it with LD_PRELOAD=libudamon-preload.so, allow attaching, or call damon_uffd_self_register() in it)",
					t->pid);
			return 0;
		}
		return vaddr_why(why, len, -EINVAL,
				 "vaddr: read /proc/%d/smaps: %s", t->pid,
				 strerror(-rc));
	}
	/* A synchronous uffd-wp would block the target on our protection. */
	rc = vaddr_scan(fd, uw.start, uw.start + VADDR_PAGE_SZ,
			UDAMON_PM_SCAN_CHECK_WPASYNC, UDAMON_PAGE_IS_WRITTEN,
			vec, 1);
	udamon__sys.close(fd);
	if (rc < 0 && rc != -ESRCH)
		return vaddr_why(
			why, len, -EINVAL,
			"vaddr: process %d's userfaultfd write-protect is not asynchronous (WP_ASYNC): %s (the uffd-wp-sync source serves synchronous ones)",
			t->pid, strerror(-rc));
	return 0;
}

/*
 * Actions that act on memory because it looks cold.  A writes-only source
 * calls read-hot memory cold, so these would page out or demote what a
 * program reads all the time.
 */
static bool vaddr_acts_on_cold(enum damos_action action)
{
	switch (action) {
	case DAMOS_PAGEOUT:
	case DAMOS_COLD:
	case DAMOS_LRU_DEPRIO:
	case DAMOS_MIGRATE_COLD:
		return true;
	default:
		return false;
	}
}

int damon_allow_cold_on_writes_only(struct damon_ctx *ctx, bool allow)
{
	struct udamon_real_ctx *rc;

	if (!ctx ||
	    (ctx->ops.id != DAMON_OPS_VADDR && ctx->ops.id != DAMON_OPS_FVADDR))
		return -EINVAL;
	rc = udamon__real_ctx(ctx);
	if (!rc)
		return -ENOMEM;
	rc->cold_on_writes_only = allow;
	return 0;
}

int damon_vaddr_check_ctx(struct damon_ctx *ctx, char *why, size_t len)
{
	struct udamon_real_ctx *rc;
	struct damon_target *t;
	struct damos *s;
	bool all_self = true;
	int err;

	if (!ctx)
		return -EINVAL;
	rc = ctx->ops_priv;
	/*
	 * A probe asking what user space cannot answer would count nothing
	 * (and a weight would stop access checks): refuse it.
	 */
	err = vaddr_check_probes(ctx, why, len);
	if (err)
		return err;
	damon_for_each_target(t, ctx) {
		err = damon_vaddr_check_target(ctx, t, why, len);
		if (err)
			return err;
		if (t->pid != udamon__sys.getpid())
			all_self = false;
	}
	damon_for_each_scheme(s, ctx) {
		if (vaddr_acts_on_cold(s->action) &&
		    vaddr_planned_source(ctx) == UDAMON_SRC_UFFD_WP &&
		    !(rc && rc->cold_on_writes_only))
			return vaddr_why(
				why, len, -EINVAL,
				"vaddr: action %s acts on cold memory, but the uffd-wp access source sees writes only and calls memory that is only read cold; allow it explicitly (udamond --allow-cold-on-writes-only, udamon --allow-cold-on-writes-only, damon_allow_cold_on_writes_only())",
				damos_action_name(s->action));
		/*
		 * The kernel filters migrations per folio; udamon's
		 * move_pages path does not walk page flags, so refuse rather
		 * than move pages a filter should have kept.
		 */
		if ((s->action == DAMOS_MIGRATE_HOT ||
		     s->action == DAMOS_MIGRATE_COLD) &&
		    !damon_list_empty(&s->ops_filters))
			return vaddr_why(
				why, len, -EINVAL,
				"vaddr: ops filters on %s are not supported by udamon (stat only)",
				damos_action_name(s->action));
		if (s->action == DAMOS_STAT || s->action == DAMOS_MIGRATE_HOT ||
		    s->action == DAMOS_MIGRATE_COLD)
			continue;
		if (vaddr_madvise_advice(s->action) < 0)
			return vaddr_why(
				why, len, -EINVAL,
				"vaddr: action %s is not supported by udamon's vaddr",
				damos_action_name(s->action));
		if ((s->action == DAMOS_HUGEPAGE ||
		     s->action == DAMOS_NOHUGEPAGE) &&
		    !all_self)
			return vaddr_why(
				why, len, -EINVAL,
				"vaddr: action %s works only on the calling process (madvise); process_madvise does not take it",
				damos_action_name(s->action));
	}
	return 0;
}

/* The source in use, or the one a start would choose. */
static const char *vaddr_source_name(struct damon_ctx *ctx)
{
	struct udamon_real_ctx *rc = ctx->ops_priv;
	enum udamon_access_src src = rc ? rc->src : UDAMON_SRC_AUTO;

	if (src == UDAMON_SRC_AUTO) {
		if (rc && rc->want != UDAMON_SRC_AUTO)
			src = rc->want;
		else if (udamon__page_idle_usable())
			src = UDAMON_SRC_PAGE_IDLE;
		else if (udamon__pagemap_scan_usable())
			src = UDAMON_SRC_UFFD_WP;
		else
			src = UDAMON_SRC_UFFD_WP_SYNC;
	}
	switch (src) {
	case UDAMON_SRC_PAGE_IDLE:
		return "page-idle";
	case UDAMON_SRC_UFFD_WP_SYNC:
		/* Writes, and pages first touched while sampled. */
		return "uffd-wp-sync (writes only)";
	default:
		return "uffd-wp (writes only)";
	}
}

const char *damon_access_source_name(struct damon_ctx *ctx)
{
	if (!ctx)
		return "none";
	switch (ctx->ops.id) {
	case DAMON_OPS_VADDR:
	case DAMON_OPS_FVADDR:
		return vaddr_source_name(ctx);
	case DAMON_OPS_PADDR:
		return "page-idle";
	case DAMON_OPS_SIM:
		return "sim";
	case DAMON_OPS_APP:
		return "application";
	default:
		return "none";
	}
}

static struct damon_operations vaddr_ops = {
	.id = DAMON_OPS_VADDR,
	.init = vaddr_init,
	.update = vaddr_update,
	.prepare_access_checks = vaddr_prepare_access_checks,
	.check_accesses = vaddr_check_accesses,
	.get_scheme_score = vaddr_get_scheme_score,
	.apply_scheme = vaddr_apply_scheme,
	.target_valid = vaddr_target_valid,
	.cleanup_target = vaddr_cleanup_target,
	.get_goal_metric = udamon__sysmetrics_goal,
	.get_wmark_metric = udamon__sysmetrics_wmark,
	.commit_priv = udamon__real_commit_priv,
	.free_priv = udamon__real_free_priv,
	.check_ctx = damon_vaddr_check_ctx,
	.apply_probes = vaddr_apply_probes,
};

static struct damon_operations fvaddr_ops = {
	.id = DAMON_OPS_FVADDR,
	.init = fvaddr_init,
	.update = fvaddr_update,
	.prepare_access_checks = vaddr_prepare_access_checks,
	.check_accesses = vaddr_check_accesses,
	.get_scheme_score = vaddr_get_scheme_score,
	.apply_scheme = vaddr_apply_scheme,
	.target_valid = vaddr_target_valid,
	.cleanup_target = vaddr_cleanup_target,
	.get_goal_metric = udamon__sysmetrics_goal,
	.get_wmark_metric = udamon__sysmetrics_wmark,
	.commit_priv = udamon__real_commit_priv,
	.free_priv = udamon__real_free_priv,
	.check_ctx = damon_vaddr_check_ctx,
	.apply_probes = vaddr_apply_probes,
};

static int vaddr_register_one(struct damon_operations *ops)
{
	int err;

	if (damon_is_registered_ops(ops->id))
		return 0;
	err = damon_register_ops(ops);
	/* Lost a race with another caller: registered all the same. */
	if (err == -EINVAL && damon_is_registered_ops(ops->id))
		return 0;
	return err;
}

int damon_vaddr_register(void)
{
	int err = vaddr_register_one(&vaddr_ops);

	if (err)
		return err;
	return vaddr_register_one(&fvaddr_ops);
}

__attribute__((constructor)) static void vaddr_register_at_load(void)
{
	damon_vaddr_register();
}
