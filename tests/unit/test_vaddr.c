// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vaddr and fvaddr operations sets against a fake kernel behind the
 * sys seam: /proc/PID/maps (served in short reads) to three regions, the
 * uffd-wp sampling protocol over PAGEMAP_SCAN, a target that exits in the
 * middle of a sample, pid reuse, EPERM on pagemap, the start checks, the
 * DAMOS actions through process_madvise/madvise, and descriptor cleanup.
 * Virtual clock, no threads, deterministic.
 */
#include "../lib/tap.h"

#include "ops/vaddr.h"
#include "sys/sys.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PID 4242
#define SELF 999
#define FD_MAPS 1000
#define FD_PAGEMAP 1001
#define FD_SMAPS 1002
#define FD_PIDFD 1003

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

static struct fake {
	const char *maps;
	const char *smaps;
	size_t pos; /* read position in the open text file */
	const char *open_text;
	size_t short_read; /* max bytes per read() */
	int pagemap_errno; /* open of pagemap fails with this */
	int scan_errno; /* every PAGEMAP_SCAN fails with this */
	int wpasync_errno; /* PAGEMAP_SCAN with CHECK_WPASYNC fails so */
	bool exited; /* reaped: gone */
	bool zombie; /* exited, not reaped yet */
	unsigned long exe_ino; /* /proc/PID/exe's inode (0: unreadable) */
	bool mm_dead; /* pagemap reads return nothing (exec'd) */
	bool pm_entries; /* pagemap reads give present entries */
	unsigned long hot_start, hot_end; /* pages written all the time */
	int nr_open, nr_close, nr_pidfd;
	int nr_protect, nr_check, nr_check_outside;
	ssize_t madv_ret; /* -1: fail with madv_errno; else bytes */
	int madv_errno;
	int madv_advice;
	unsigned long madv_start, madv_len;
	int nr_madvise;
	int self_madvise_advice;
} fk;

static int fake_open(const char *path, int flags, mode_t mode)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "/proc/%d/maps", PID);
	if (!strcmp(path, buf)) {
		fk.nr_open++;
		fk.open_text = fk.maps;
		fk.pos = 0;
		return FD_MAPS;
	}
	snprintf(buf, sizeof(buf), "/proc/%d/smaps", PID);
	if (!strcmp(path, buf)) {
		fk.nr_open++;
		fk.open_text = fk.smaps;
		fk.pos = 0;
		return FD_SMAPS;
	}
	snprintf(buf, sizeof(buf), "/proc/%d/pagemap", PID);
	if (!strcmp(path, buf)) {
		if (fk.pagemap_errno) {
			errno = fk.pagemap_errno;
			return -1;
		}
		if (fk.zombie || fk.exited) {
			errno = ESRCH;
			return -1;
		}
		fk.nr_open++;
		return FD_PAGEMAP;
	}
	errno = ENOENT;
	return -1;
}

static ssize_t fake_read(int fd, void *buf, size_t len)
{
	size_t left;

	if (fd != FD_MAPS && fd != FD_SMAPS) {
		errno = EBADF;
		return -1;
	}
	if (!fk.open_text) {
		errno = ESRCH;
		return -1;
	}
	left = strlen(fk.open_text) - fk.pos;
	if (len > left)
		len = left;
	if (fk.short_read && len > fk.short_read)
		len = fk.short_read;
	memcpy(buf, fk.open_text + fk.pos, len);
	fk.pos += len;
	return (ssize_t)len;
}

static int fake_close(int fd)
{
	fk.nr_close++;
	return 0;
}

static int fake_pidfd_open(pid_t pid, unsigned int flags)
{
	if ((pid != PID && pid != SELF) || fk.exited) {
		errno = ESRCH;
		return -1;
	}
	fk.nr_open++;
	fk.nr_pidfd++;
	return FD_PIDFD;
}

static int fake_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	bool dead = fk.exited || fk.zombie;

	fds[0].revents = dead ? POLLIN : 0;
	return dead ? 1 : 0;
}

static int fake_pidfd_send_signal(int pidfd, int sig, siginfo_t *info,
				  unsigned int flags)
{
	if (pidfd != FD_PIDFD || sig) {
		errno = EINVAL;
		return -1;
	}
	if (fk.exited) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

static int fake_stat(const char *path, struct stat *st)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "/proc/%d/exe", PID);
	if (strcmp(path, buf) || !fk.exe_ino || fk.exited || fk.zombie) {
		errno = ENOENT;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->st_dev = 8;
	st->st_ino = fk.exe_ino;
	return 0;
}

static ssize_t fake_readlink(const char *path, char *buf, size_t len)
{
	static const char prog[] = "/usr/bin/newprog";

	if (len < sizeof(prog) - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, prog, sizeof(prog) - 1);
	return (ssize_t)(sizeof(prog) - 1);
}

static ssize_t fake_pread(int fd, void *buf, size_t len, off_t off)
{
	if (fd != FD_PAGEMAP) {
		errno = EBADF;
		return -1;
	}
	if (fk.mm_dead)
		return 0;
	memset(buf, 0, len);
	if (fk.pm_entries && len == 8) {
		/* present; anonymous in the hot VMA, file-backed elsewhere */
		unsigned long addr = (unsigned long)off / 8 * 4096;
		uint64_t ent = 1ULL << 63;

		if (addr < fk.hot_start || addr >= fk.hot_end)
			ent |= 1ULL << 61;
		memcpy(buf, &ent, 8);
	}
	return (ssize_t)len;
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	struct udamon_pm_scan_arg *a = arg;
	struct udamon_page_region *vec;

	if (fd != FD_PAGEMAP || req != UDAMON_PAGEMAP_SCAN) {
		errno = ENOTTY;
		return -1;
	}
	if (a->size != sizeof(*a)) {
		errno = EINVAL;
		return -1;
	}
	if (fk.exited || fk.zombie || fk.mm_dead) {
		errno = ESRCH;
		return -1;
	}
	if (fk.scan_errno) {
		errno = fk.scan_errno;
		return -1;
	}
	if (a->flags & UDAMON_PM_SCAN_CHECK_WPASYNC && fk.wpasync_errno) {
		errno = fk.wpasync_errno;
		return -1;
	}
	if (a->start == a->end)
		return 0;
	/* The ops ask about one page at a time. */
	if (a->end - a->start != 4096 || a->start % 4096 || a->vec_len < 1) {
		errno = EINVAL;
		return -1;
	}
	if (a->flags & UDAMON_PM_SCAN_WP_MATCHING) {
		fk.nr_protect++;
		return 0;
	}
	if (a->flags & UDAMON_PM_SCAN_CHECK_WPASYNC)
		return 0;
	if (!(a->category_mask & UDAMON_PAGE_IS_WPALLOWED)) {
		/* Without it every unregistered page would read written. */
		errno = EINVAL;
		return -1;
	}
	fk.nr_check++;
	if (a->start < fk.hot_start || a->start >= fk.hot_end) {
		fk.nr_check_outside++;
		return 0;
	}
	vec = (struct udamon_page_region *)(uintptr_t)a->vec;
	vec[0].start = a->start;
	vec[0].end = a->end;
	vec[0].categories = UDAMON_PAGE_IS_WRITTEN;
	return 1;
}

static ssize_t fake_process_madvise(int pidfd, const struct iovec *iov,
				    size_t iovcnt, int advice,
				    unsigned int flags)
{
	fk.nr_madvise++;
	fk.madv_advice = advice;
	fk.madv_start = (unsigned long)iov[0].iov_base;
	fk.madv_len = iov[0].iov_len;
	if (pidfd != FD_PIDFD || iovcnt != 1) {
		errno = EBADF;
		return -1;
	}
	if (fk.madv_ret < 0) {
		errno = fk.madv_errno;
		return -1;
	}
	return fk.madv_ret ? fk.madv_ret : (ssize_t)iov[0].iov_len;
}

static int fake_madvise(void *addr, size_t len, int advice)
{
	fk.self_madvise_advice = advice;
	return 0;
}

static pid_t fake_getpid(void)
{
	return SELF;
}

/* Three clusters of VMAs, a [vsyscall] page, and no newline games. */
static const char maps_text[] =
	"00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/prog\n"
	"00651000-00652000 r--p 00051000 08:02 173521 /usr/bin/prog\n"
	"00652000-00655000 rw-p 00052000 08:02 173521 /usr/bin/prog\n"
	"7f0000000000-7f0000400000 rw-p 00000000 00:00 0 \n"
	"7f0000400000-7f0000800000 rw-p 00000000 00:00 0 \n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n";

static const char smaps_uw[] =
	"7f0000000000-7f0000400000 rw-p 00000000 00:00 0 \n"
	"Size:               4096 kB\n"
	"AnonHugePages:         0 kB\n"
	"VmFlags: rd wr mr mw me ac uw \n";

static const char smaps_plain[] =
	"7f0000000000-7f0000400000 rw-p 00000000 00:00 0 \n"
	"Size:               4096 kB\n"
	"VmFlags: rd wr mr mw me ac \n";

static void fake_install(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.maps = maps_text;
	fk.smaps = smaps_uw;
	fk.short_read = 7;
	fk.hot_start = 0x7f0000000000UL;
	fk.hot_end = 0x7f0000400000UL;
	udamon__sys.open = fake_open;
	udamon__sys.read = fake_read;
	udamon__sys.close = fake_close;
	udamon__sys.pidfd_open = fake_pidfd_open;
	udamon__sys.poll = fake_poll;
	udamon__sys.pidfd_send_signal = fake_pidfd_send_signal;
	udamon__sys.stat = fake_stat;
	udamon__sys.readlink = fake_readlink;
	udamon__sys.pread = fake_pread;
	udamon__sys.ioctl = fake_ioctl;
	udamon__sys.process_madvise = fake_process_madvise;
	udamon__sys.madvise = fake_madvise;
	udamon__sys.getpid = fake_getpid;
}

static struct damon_ctx *fake_ctx(enum damon_ops_id id, int pid,
				  struct damon_target **tp)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t;

	if (!ctx)
		return NULL;
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = 42;
	if (damon_select_ops(ctx, id)) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	t = damon_new_target();
	if (!t) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	t->pid = pid;
	damon_add_target(ctx, t);
	*tp = t;
	return ctx;
}

static void test_parse_maps(void)
{
	struct damon_addr_range *v;
	size_t nr;

	REQUIRE(udamon__vaddr_parse_maps(maps_text, &v, &nr) == 0);
	CHECK_EQ(nr, 6); /* [vsyscall] is not a VMA */
	CHECK_EQ(v[0].start, 0x400000);
	CHECK_EQ(v[5].end, 0x7ffd00021000UL);
	free(v);
	/* A torn last line is dropped, not misparsed. */
	REQUIRE(udamon__vaddr_parse_maps("1000-2000 rw-p 0 0:0 0\n3000-4", &v,
					 &nr) == 0);
	CHECK_EQ(nr, 1);
	free(v);
	CHECK_EQ(udamon__vaddr_parse_maps("hello\n", &v, &nr), -EINVAL);
	CHECK_EQ(udamon__vaddr_parse_maps("2000-1000 r\n", &v, &nr), -EINVAL);
	CHECK_EQ(udamon__vaddr_parse_maps("1000-3000 r\n2000-4000 r\n", &v,
					  &nr),
		 -EINVAL);
}

/* init: three regions from maps read 7 bytes at a time. */
static void test_init_three_regions_short_reads(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;

	fake_install();
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	ctx->ops.init(ctx);
	REQUIRE(damon_nr_regions(t) == 3);
	r = damon_first_region(t);
	CHECK_EQ(r->ar.start, 0x400000);
	CHECK_EQ(r->ar.end, 0x655000);
	r = damon_list_entry(r->list.next, struct damon_region, list);
	CHECK_EQ(r->ar.start, 0x7f0000000000UL);
	CHECK_EQ(r->ar.end, 0x7f0000800000UL);
	r = damon_list_entry(r->list.next, struct damon_region, list);
	CHECK_EQ(r->ar.start, 0x7ffd00000000UL);
	CHECK_EQ(r->ar.end, 0x7ffd00021000UL);
	CHECK_STREQ(damon_access_source_name(ctx), "uffd-wp (writes only)");
	damon_destroy_ctx(ctx);
	CHECK_EQ(fk.nr_open, fk.nr_close);
	udamon__sys_reset();
}

/* update follows the maps; preset regions survive init. */
static void test_update_and_preset(void)
{
	struct damon_addr_range preset = { 0x1000, 0x9000 };
	static const char maps2[] = "10000-20000 r 0 0:0 0\n"
				    "30000-40000 r 0 0:0 0\n"
				    "80000-90000 r 0 0:0 0\n";
	struct damon_target *t;
	struct damon_ctx *ctx;

	fake_install();
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	REQUIRE(damon_set_regions(t, &preset, 1, DAMON_MIN_REGION_SZ) == 0);
	ctx->ops.init(ctx);
	REQUIRE(damon_nr_regions(t) == 1);
	CHECK_EQ(damon_first_region(t)->ar.start, 0x1000);
	fk.maps = maps2;
	ctx->ops.update(ctx);
	REQUIRE(damon_nr_regions(t) == 3);
	CHECK_EQ(damon_first_region(t)->ar.start, 0x10000);
	CHECK_EQ(damon_last_region(t)->ar.end, 0x90000);
	/* A process whose maps vanish keeps its regions. */
	fk.maps = "";
	ctx->ops.update(ctx);
	CHECK_EQ(damon_nr_regions(t), 3);
	damon_destroy_ctx(ctx);
	CHECK_EQ(fk.nr_open, fk.nr_close);
	udamon__sys_reset();
}

/*
 * The sampling protocol: every sample protects one page per region and
 * checks the same page; hot VMA regions count, the others don't.
 */
static void test_sampling_hot_cold(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;
	unsigned int hot_max = 0, cold_max = 0;
	int i;

	fake_install();
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	REQUIRE(damon_manual_start(ctx) == 0);
	/* Stop just before the first aggregation resets the counters. */
	for (i = 0; i < 19; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	CHECK_EQ(fk.nr_protect, fk.nr_check);
	CHECK(fk.nr_check >= 19 * 3);
	damon_for_each_region(r, t) {
		CHECK(r->sampling_addr >= r->ar.start &&
		      r->sampling_addr < r->ar.end);
		if (r->ar.start >= fk.hot_start && r->ar.end <= fk.hot_end) {
			if (r->nr_accesses > hot_max)
				hot_max = r->nr_accesses;
		} else if (r->ar.end <= fk.hot_start ||
			   r->ar.start >= fk.hot_end) {
			if (r->nr_accesses > cold_max)
				cold_max = r->nr_accesses;
		}
	}
	CHECK_EQ(hot_max, 19);
	CHECK_EQ(cold_max, 0);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	CHECK_EQ(fk.nr_open, fk.nr_close);
	udamon__sys_reset();
}

/* The target exits between prepare and check: no crash, then it stops. */
static void test_target_exits_mid_sample(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;
	int i, rc = 0;

	fake_install();
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_step(ctx) == 0);
	ctx->ops.prepare_access_checks(ctx);
	fk.exited = true;
	ctx->ops.check_accesses(ctx);
	/* Failed checks count as "not accessed". */
	damon_for_each_region(r, t)
		CHECK(r->nr_accesses <= 1);
	CHECK(!ctx->ops.target_valid(t));
	for (i = 0; i < 5 && rc == 0; i++)
		rc = damon_manual_step(ctx);
	CHECK_EQ(rc, 1);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	CHECK_EQ(fk.nr_open, fk.nr_close);
	udamon__sys_reset();
}

/* The pid comes back as another process: the old pidfd still says gone. */
static void test_pid_reuse(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx;

	fake_install();
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	CHECK(ctx->ops.target_valid(t));
	CHECK_EQ(fk.nr_pidfd, 1);
	fk.exited = true;
	CHECK(!ctx->ops.target_valid(t));
	fk.exited = false; /* pidfd_open(PID) would succeed again... */
	CHECK(!ctx->ops.target_valid(t)); /* ...but this target is gone */
	CHECK_EQ(fk.nr_pidfd, 1);
	/* A target that never existed is invalid from the start. */
	t->pid = 0;
	CHECK(!ctx->ops.target_valid(t));
	damon_destroy_ctx(ctx);
	CHECK_EQ(fk.nr_open, fk.nr_close);
	udamon__sys_reset();
}

/* pagemap refused: the check says why; sampling counts nothing. */
static void test_pagemap_eperm(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;
	char why[512] = "";
	int i;

	fake_install();
	fk.pagemap_errno = EPERM;
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	CHECK_EQ(damon_vaddr_check_target(ctx, t, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "/proc/4242/pagemap") != NULL);
	CHECK(strstr(why, strerror(EPERM)) != NULL);
	/* damon_manual_start() refuses it too: the check is the hook. */
	CHECK_EQ(damon_manual_start(ctx), -EINVAL);
	/* Past the check, a failure mid-run must not break the loop. */
	ctx->ops.check_ctx = NULL;
	REQUIRE(damon_manual_start(ctx) == 0);
	for (i = 0; i < 10; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	damon_for_each_region(r, t)
		CHECK_EQ(r->nr_accesses, 0);
	CHECK_EQ(fk.nr_protect + fk.nr_check, 0);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	CHECK_EQ(fk.nr_open, fk.nr_close);
	udamon__sys_reset();
}

/* Scans that fail (e.g. EPERM) are "not accessed", never a crash. */
static void test_scan_errors(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;
	int i;

	fake_install();
	fk.scan_errno = EPERM;
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	/* Scans failing after the start check passed (or was skipped). */
	ctx->ops.check_ctx = NULL;
	REQUIRE(damon_manual_start(ctx) == 0);
	for (i = 0; i < 10; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	damon_for_each_region(r, t)
		CHECK_EQ(r->nr_accesses, 0);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	udamon__sys_reset();
}

static void test_check_target(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx;
	char why[512];

	fake_install();
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	if (damon_vaddr_check_target(ctx, t, why, sizeof(why)))
		tap_diag("%s", why);
	CHECK_EQ(damon_vaddr_check_target(ctx, t, why, sizeof(why)), 0);
	CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), 0);

	/* Nothing registered yet (just launched): accepted, as the kernel. */
	fk.smaps = smaps_plain;
	/* Unregistered: a start would attach, which needs /proc/PID/mem. */
	CHECK(damon_vaddr_check_target(ctx, t, why, sizeof(why)) < 0);
	CHECK(strstr(why, "cannot attach") != NULL);
	/* Not attaching: accepted, reads idle until it registers. */
	REQUIRE(damon_vaddr_set_attach(ctx, false) == 0);
	CHECK_EQ(damon_vaddr_check_target(ctx, t, why, sizeof(why)), 0);

	/* Exited but not reaped: accepted, nothing else is asked. */
	fk.zombie = true;
	fk.scan_errno = ENOTTY;
	CHECK_EQ(damon_vaddr_check_target(ctx, t, why, sizeof(why)), 0);
	fk.scan_errno = 0;
	fk.zombie = false;
	REQUIRE(damon_vaddr_set_attach(ctx, true) == 0);

	fk.smaps = smaps_uw;
	fk.wpasync_errno = EPERM;
	CHECK_EQ(damon_vaddr_check_target(ctx, t, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "WP_ASYNC") != NULL);

	fk.wpasync_errno = 0;
	fk.scan_errno = ENOTTY;
	/* auto: without PAGEMAP_SCAN, the synchronous source is tried. */
	CHECK_EQ(damon_vaddr_check_target(ctx, t, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "uffd-wp-sync") != NULL);
	CHECK_EQ(damon_set_access_source(ctx, "uffd-wp"), 0);
	CHECK_EQ(damon_vaddr_check_target(ctx, t, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "PAGEMAP_SCAN") != NULL);
	CHECK_EQ(damon_set_access_source(ctx, "auto"), 0);

	fk.scan_errno = 0;
	fk.exited = true;
	CHECK_EQ(damon_vaddr_check_target(ctx, t, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "4242") != NULL);
	CHECK(strstr(why, "no such process") != NULL);
	fk.exited = false;

	t->pid = 0;
	CHECK_EQ(damon_vaddr_check_target(ctx, t, why, sizeof(why)), -EINVAL);
	t->pid = PID;
	damon_destroy_ctx(ctx);
	CHECK_EQ(fk.nr_open, fk.nr_close);
	udamon__sys_reset();
}

static struct damos *add_scheme(struct damon_ctx *ctx, enum damos_action a)
{
	struct damos_access_pattern pattern = {
		.max_sz_region = ULONG_MAX,
		.max_nr_accesses = UINT_MAX,
		.max_age_region = UINT_MAX,
	};
	struct damos_quota quota = { 0 };
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_NONE };
	struct damos *s = damon_new_scheme(&pattern, a, 0, &quota, &wmarks, -1);

	if (s)
		damon_add_scheme(ctx, s);
	return s;
}

static void test_actions(void)
{
	struct damon_addr_range range = { 0x7f0000001000UL, 0x7f0000009000UL };
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;
	struct damos *s;
	unsigned long passed = 0;
	char why[512];

	fake_install();
	ctx = fake_ctx(DAMON_OPS_FVADDR, PID, &t);
	REQUIRE(ctx);
	REQUIRE(damon_set_regions(t, &range, 1, DAMON_MIN_REGION_SZ) == 0);
	r = damon_first_region(t);
	s = add_scheme(ctx, DAMOS_PAGEOUT);
	REQUIRE(s);
	/* pageout on the writes-only source needs the explicit opt-in. */
	CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "writes only") != NULL);
	REQUIRE(damon_allow_cold_on_writes_only(ctx, true) == 0);
	CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), 0);

	/* pageout: the bytes the kernel accepted. */
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, r, s, &passed), 0x8000);
	CHECK_EQ(fk.madv_advice, MADV_PAGEOUT);
	CHECK_EQ(fk.madv_start, range.start);
	CHECK_EQ(fk.madv_len, 0x8000);
	fk.madv_ret = 0x3000;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, r, s, &passed), 0x3000);
	fk.madv_ret = -1;
	fk.madv_errno = EPERM;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, r, s, &passed), 0);
	fk.madv_ret = 0;

	s->action = DAMOS_COLD;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, r, s, &passed), 0x8000);
	CHECK_EQ(fk.madv_advice, MADV_COLD);
	s->action = DAMOS_WILLNEED;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, r, s, &passed), 0x8000);
	CHECK_EQ(fk.madv_advice, MADV_WILLNEED);

	/* stat and unsupported actions do nothing to the process. */
	fk.nr_madvise = 0;
	s->action = DAMOS_STAT;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, r, s, &passed), 0);
	s->action = DAMOS_LRU_PRIO;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, r, s, &passed), 0);
	CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "lru_prio") != NULL);

	/* hugepage: another process can't get it; the caller can. */
	s->action = DAMOS_HUGEPAGE;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, r, s, &passed), 0);
	CHECK_EQ(fk.self_madvise_advice, 0);
	CHECK_EQ(fk.nr_madvise, 0);
	CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "hugepage") != NULL);
	t->pid = SELF;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, r, s, &passed), 0x8000);
	CHECK_EQ(fk.self_madvise_advice, MADV_HUGEPAGE);

	/* Score: pageout uses the cold score, stat the maximum. */
	s->action = DAMOS_STAT;
	CHECK_EQ(ctx->ops.get_scheme_score(ctx, t, r, s), DAMOS_MAX_SCORE);
	t->pid = PID;
	damon_destroy_ctx(ctx);
	udamon__sys_reset();
}

/* The seam's whole-file reader on short reads and read errors. */
static void test_read_file(void)
{
	char *buf, path[64];
	size_t len;

	fake_install();
	fk.short_read = 1;
	snprintf(path, sizeof(path), "/proc/%d/maps", PID);
	REQUIRE(udamon__sys_read_file(path, &buf, &len, 1 << 20) == 0);
	CHECK_EQ(len, strlen(maps_text));
	CHECK_STREQ(buf, maps_text);
	free(buf);
	CHECK_EQ(udamon__sys_read_file(path, &buf, &len, 16), -EFBIG);
	CHECK_EQ(udamon__sys_read_file("/nonexistent", &buf, &len, 16),
		 -ENOENT);
	fk.maps = NULL; /* reads fail with ESRCH (process gone) */
	CHECK_EQ(udamon__sys_read_file(path, &buf, &len, 1 << 20), -ESRCH);
	CHECK_EQ(fk.nr_open, fk.nr_close);
	udamon__sys_reset();
}

static void test_registered_and_names(void)
{
	struct damon_ctx *ctx = damon_new_ctx();

	REQUIRE(ctx);
	CHECK(damon_is_registered_ops(DAMON_OPS_VADDR));
	CHECK(damon_is_registered_ops(DAMON_OPS_FVADDR));
	CHECK_EQ(damon_vaddr_register(), 0);
	REQUIRE(damon_select_ops(ctx, DAMON_OPS_SIM) == 0);
	CHECK_STREQ(damon_access_source_name(ctx), "sim");
	CHECK_STREQ(damon_access_source_name(NULL), "none");
	damon_destroy_ctx(ctx);
}

/*
 * A zombie (exited, not reaped) stays valid with nothing sampled; the
 * reap ends it, and the loop's stop condition fires only then.
 */
static void test_zombie_until_reaped(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;
	int i, rc = 0;

	fake_install();
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_step(ctx) == 0);
	fk.zombie = true;
	fk.nr_protect = 0;
	for (i = 0; i < 30 && rc == 0; i++)
		rc = damon_manual_step(ctx);
	CHECK_EQ(rc, 0);
	CHECK(ctx->ops.target_valid(t));
	CHECK_EQ(fk.nr_protect, 0); /* no memory left to sample */
	damon_for_each_region(r, t)
		CHECK_EQ(r->nr_accesses, 0);
	fk.zombie = false;
	fk.exited = true;
	for (i = 0; i < 5 && rc == 0; i++)
		rc = damon_manual_step(ctx);
	CHECK_EQ(rc, 1);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	CHECK_EQ(fk.nr_open, fk.nr_close);
	udamon__sys_reset();
}

struct exec_seen {
	unsigned int nr;
	int pid;
	unsigned long target_idx;
};

static void exec_event(void *arg, struct damon_ctx *ctx,
		       const struct damon_event *ev)
{
	struct exec_seen *e = arg;

	if (ev->type != DAMON_EVENT_TARGET_EXEC)
		return;
	e->nr++;
	e->pid = ev->pid;
	e->target_idx = ev->target_idx;
}

/*
 * execve() followed: a new program (exe changes) or a dead address space
 * under the pagemap descriptor (same program exec'd again) reopens
 * pagemap and reports one exec event each; nothing else does.
 */
static void test_exec_followed(void)
{
	struct exec_seen seen = { 0 };
	struct damon_target *t;
	struct damon_ctx *ctx;
	int opens;

	fake_install();
	fk.exe_ino = 100;
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	damon_set_event_fn(ctx, exec_event, &seen);
	ctx->ops.init(ctx);
	ctx->ops.prepare_access_checks(ctx); /* opens pagemap */
	ctx->ops.update(ctx);
	CHECK_EQ(seen.nr, 0);

	opens = fk.nr_open;
	fk.exe_ino = 200; /* sh exec'd prog */
	ctx->ops.update(ctx);
	CHECK_EQ(seen.nr, 1);
	CHECK_EQ(seen.pid, PID);
	CHECK_EQ(seen.target_idx, 0);
	ctx->ops.prepare_access_checks(ctx);
	CHECK(fk.nr_open > opens + 1); /* maps, and pagemap again */
	ctx->ops.update(ctx);
	CHECK_EQ(seen.nr, 1);

	/* The same program again: only the old memory's death tells. */
	fk.mm_dead = true;
	ctx->ops.update(ctx);
	CHECK_EQ(seen.nr, 2);
	fk.mm_dead = false;
	ctx->ops.prepare_access_checks(ctx);
	ctx->ops.update(ctx);
	CHECK_EQ(seen.nr, 2);

	/* An exit is not an exec. */
	fk.zombie = true;
	fk.mm_dead = true;
	ctx->ops.update(ctx);
	CHECK_EQ(seen.nr, 2);
	damon_destroy_ctx(ctx);
	CHECK_EQ(fk.nr_open, fk.nr_close);
	udamon__sys_reset();
}

/*
 * Probes on vaddr: the anon filter is answered from pagemap (hits in the
 * anonymous VMA only, with or without weights); filters and preps user
 * space cannot answer are refused with the reason, as is any probe on
 * paddr.
 */
static void test_probes(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;
	struct damon_probe *p;
	struct damon_filter *f;
	struct damon_prep *prep;
	unsigned int anon_hits = 0, file_hits = 0;
	char why[512] = "";
	int i;

	fake_install();
	fk.pm_entries = true;
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	p = damon_new_probe();
	REQUIRE(p);
	damon_add_probe(ctx, p);
	f = damon_new_filter(DAMON_FILTER_TYPE_ANON, true, true);
	REQUIRE(f);
	damon_add_filter(p, f);
	f = damon_new_filter(DAMON_FILTER_TYPE_ANON, false, false);
	REQUIRE(f);
	damon_add_filter(p, f);
	CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), 0);
	REQUIRE(damon_manual_start(ctx) == 0);
	for (i = 0; i < 19; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	damon_for_each_region(r, t) {
		if (r->ar.start >= fk.hot_start && r->ar.end <= fk.hot_end)
			anon_hits += r->probe_hits[0];
		else if (r->ar.end <= fk.hot_start || r->ar.start >= fk.hot_end)
			file_hits += r->probe_hits[0];
	}
	tap_diag("anon probe hits: %u in the anonymous VMA, %u elsewhere",
		 anon_hits, file_hits);
	CHECK(anon_hits >= 19);
	CHECK_EQ(file_hits, 0);
	CHECK(fk.nr_check > 0); /* no weight: access checks go on */
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);

	/* A weight: attributes only, regions adjusted on the hits. */
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	p = damon_new_probe();
	REQUIRE(p);
	damon_add_probe(ctx, p);
	f = damon_new_filter(DAMON_FILTER_TYPE_ANON, true, true);
	REQUIRE(f);
	damon_add_filter(p, f);
	p->weight = 1;
	fk.nr_check = 0;
	REQUIRE(damon_manual_start(ctx) == 0);
	for (i = 0; i < 19; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	anon_hits = 0;
	damon_for_each_region(r, t)
		anon_hits += r->probe_hits[0];
	CHECK(anon_hits > 0);
	CHECK_EQ(fk.nr_check, 0);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	ctx = fake_ctx(DAMON_OPS_VADDR, PID, &t);
	REQUIRE(ctx);
	p = damon_new_probe();
	REQUIRE(p);
	damon_add_probe(ctx, p);

	/* What user space cannot answer is refused, with why. */
	f = damon_new_filter(DAMON_FILTER_TYPE_MEMCG, true, true);
	REQUIRE(f);
	damon_add_filter(p, f);
	CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "memcg") != NULL);
	CHECK_EQ(damon_manual_start(ctx), -EINVAL);
	CHECK(strstr(damon_refusal(ctx), "memcg") != NULL);
	damon_destroy_filter(f); /* unlinks it */
	prep = damon_new_prep(DAMON_PREP_SET_PGIDLE);
	REQUIRE(prep);
	damon_add_prep(p, prep);
	CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "set_pgidle") != NULL);

	/* paddr answers no probe, whatever else this machine lacks. */
	why[0] = '\0';
	CHECK_EQ(damon_paddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "probes") != NULL);
	damon_destroy_ctx(ctx);
	udamon__sys_reset();
}

static const struct tap_case cases[] = {
	TAP_CASE(test_parse_maps),
	TAP_CASE(test_init_three_regions_short_reads),
	TAP_CASE(test_update_and_preset),
	TAP_CASE(test_sampling_hot_cold),
	TAP_CASE(test_target_exits_mid_sample),
	TAP_CASE(test_pid_reuse),
	TAP_CASE(test_pagemap_eperm),
	TAP_CASE(test_scan_errors),
	TAP_CASE(test_check_target),
	TAP_CASE(test_zombie_until_reaped),
	TAP_CASE(test_exec_followed),
	TAP_CASE(test_probes),
	TAP_CASE(test_actions),
	TAP_CASE(test_read_file),
	TAP_CASE(test_registered_and_names),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
