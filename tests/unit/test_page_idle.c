// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The page idle tracking source (src/ops/page-idle.c), the paddr
 * operations set (src/ops/paddr.c), vaddr on page idle, and the ops
 * filters (src/ops/kpageflags.c), against a fake physical memory behind
 * the sys seam: a page_idle/bitmap with the real one's quirks (4096 bytes
 * per call, 8-byte words, an unreachable last partial word, 0 bits that
 * do nothing, a reverse-map walk per idle page read), /proc/kpageflags,
 * /proc/kpagecgroup, /proc/iomem, /proc/zoneinfo and a process pagemap.
 */
#include "../lib/tap.h"
#include "fake-files.h"

#include "ops/vaddr.h"

#include <limits.h>
#include <stdlib.h>

/* max_pfn % 64 == 20: the last 20 PFNs sit in an unreachable word. */
#define NR_PFNS (64 * 1000 + 20)
#define PID 4242
#define FD_PIDFD 77

#define F(b) (1ULL << (b))
#define LRU_ANON (F(UDAMON_KPF_LRU) | F(UDAMON_KPF_ANON) | F(UDAMON_KPF_MMAP))
#define LRU_FILE (F(UDAMON_KPF_LRU) | F(UDAMON_KPF_MMAP))

static struct {
	uint64_t flags[NR_PFNS];
	uint64_t memcg[NR_PFNS];
	bool idle[NR_PFNS];
	bool young[NR_PFNS];
	/* PFNs in [hot_lo, hot_hi) are accessed before every read. */
	uint64_t hot_lo, hot_hi;
	int nr_rmap_walks;
	size_t max_call_len;
	int nr_bad_calls;
	/* the process: virtual page i of VBASE maps to vpfn[i] */
	uint64_t vpfn[1024];
} pm;

#define VBASE 0x7f0000000000UL

static void pm_access_hot(void)
{
	uint64_t p;

	for (p = pm.hot_lo; p < pm.hot_hi; p++)
		pm.young[p] = true;
}

static bool pm_check_call(size_t len, off_t off)
{
	if (len > pm.max_call_len)
		pm.max_call_len = len;
	if (len % 8 || off % 8) {
		pm.nr_bad_calls++;
		return false;
	}
	return true;
}

static ssize_t bitmap_pread(void *arg, void *buf, size_t len, off_t off)
{
	uint64_t *words = buf, w0 = (uint64_t)off / 8, w, p;
	size_t n, i;

	if (!pm_check_call(len, off)) {
		errno = EINVAL;
		return -1;
	}
	pm_access_hot();
	n = len > 4096 ? 512 : len / 8;
	for (i = 0; i < n; i++) {
		w = w0 + i;
		if ((w + 1) * 64 > NR_PFNS)
			break; /* the partial last word: 0 bytes */
		words[i] = 0;
		for (p = w * 64; p < (w + 1) * 64; p++) {
			if (!pm.idle[p])
				continue;
			pm.nr_rmap_walks++;
			if (pm.young[p]) {
				pm.young[p] = false;
				pm.idle[p] = false;
			} else {
				words[i] |= 1ULL << (p % 64);
			}
		}
	}
	return (ssize_t)(i * 8);
}

static ssize_t bitmap_pwrite(void *arg, const void *buf, size_t len, off_t off)
{
	const uint64_t *words = buf;
	uint64_t w0 = (uint64_t)off / 8, w, p;
	size_t n, i;

	if (!pm_check_call(len, off)) {
		errno = EINVAL;
		return -1;
	}
	n = len > 4096 ? 512 : len / 8;
	for (i = 0; i < n; i++) {
		w = w0 + i;
		if ((w + 1) * 64 > NR_PFNS)
			break;
		for (p = w * 64; p < (w + 1) * 64; p++) {
			if (!(words[i] >> (p % 64) & 1))
				continue; /* 0 bits do nothing */
			if (pm.flags[p] & F(UDAMON_KPF_LRU)) {
				pm.idle[p] = true;
				pm.young[p] = false;
			}
		}
	}
	return (ssize_t)(i * 8);
}

static ssize_t table_pread(const uint64_t *table, uint64_t nr, void *buf,
			   size_t len, off_t off)
{
	uint64_t first = (uint64_t)off / 8, i;
	uint64_t *out = buf;

	if (len % 8 || off % 8) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < len / 8 && first + i < nr; i++)
		out[i] = table[first + i];
	return (ssize_t)(i * 8);
}

static ssize_t kpf_pread(void *arg, void *buf, size_t len, off_t off)
{
	return table_pread(pm.flags, NR_PFNS, buf, len, off);
}

static ssize_t kpcg_pread(void *arg, void *buf, size_t len, off_t off)
{
	return table_pread(pm.memcg, NR_PFNS, buf, len, off);
}

static ssize_t pagemap_pread(void *arg, void *buf, size_t len, off_t off)
{
	uint64_t first = (uint64_t)off / 8, i, page;
	uint64_t *out = buf;

	for (i = 0; i < len / 8; i++) {
		page = first + i - VBASE / 4096;
		out[i] = page < 1024 && pm.vpfn[page] ?
				 UDAMON_PM_PRESENT | pm.vpfn[page] :
				 0;
	}
	return (ssize_t)len;
}

static int fake_pidfd_open(pid_t pid, unsigned int flags)
{
	if (pid != PID) {
		errno = ESRCH;
		return -1;
	}
	return FD_PIDFD;
}

static int fake_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	fds[0].revents = 0;
	return 0;
}

static int fake_close(int fd)
{
	return fd == FD_PIDFD ? 0 : ff_close(fd);
}

static int fake_stat(const char *path, struct stat *st)
{
	if (!strcmp(path, "/sys/fs/cgroup/app")) {
		memset(st, 0, sizeof(*st));
		st->st_ino = 777;
		return 0;
	}
	errno = ENOENT;
	return -1;
}

static const char iomem[] = "00000000-00000fff : Reserved\n"
			    "00001000-0009fbff : System RAM\n"
			    "00100000-00fa3fff : System RAM\n"
			    "  01000000-022090c7 : Kernel code\n"
			    "fec00000-fec003ff : IOAPIC 0\n";

static const char zoneinfo[] = "Node 0, zone      DMA\n"
			       "  pages free     3840\n"
			       "        spanned  4095\n"
			       "  start_pfn:           1\n"
			       "Node 0, zone    DMA32\n"
			       "        spanned  28672\n"
			       "  start_pfn:           4096\n"
			       "Node 1, zone   Normal\n"
			       "        spanned  31252\n"
			       "  start_pfn:           32768\n";

static const char maps[] =
	"7f0000000000-7f0000400000 rw-p 00000000 00:00 0\n"
	"7f1000000000-7f1000001000 rw-p 00000000 00:00 0\n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n";

static void install(bool with_bitmap)
{
	struct ff_file *f;
	uint64_t p;

	memset(&pm, 0, sizeof(pm));
	for (p = 0; p < NR_PFNS; p++)
		pm.flags[p] = p % 2 ? LRU_ANON : LRU_FILE;
	ff_reset();
	udamon__sys_reset();
	ff_install();
	udamon__sys.pidfd_open = fake_pidfd_open;
	udamon__sys.poll = fake_poll;
	udamon__sys.close = fake_close;
	udamon__sys.stat = fake_stat;
	if (with_bitmap) {
		f = ff_add(UDAMON_PAGE_IDLE_BITMAP);
		f->pread = bitmap_pread;
		f->pwrite = bitmap_pwrite;
	}
	f = ff_add("/proc/kpageflags");
	f->pread = kpf_pread;
	f = ff_add("/proc/kpagecgroup");
	f->pread = kpcg_pread;
	f = ff_add("/proc/4242/pagemap");
	f->pread = pagemap_pread;
	ff_text("/proc/iomem", iomem);
	ff_text("/proc/zoneinfo", zoneinfo);
	ff_text("/proc/4242/maps", maps);
	ff_text("/proc/meminfo", "MemTotal: 100 kB\nMemFree: 25 kB\n");
}

static struct damon_ctx *new_ctx(enum damon_ops_id id, int pid,
				 struct damon_target **tp)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t;

	if (!ctx)
		return NULL;
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = 7;
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

/* ---- the bitmap primitives ---- */

static void test_bitmap_batching(void)
{
	uint64_t pfns[200];
	int8_t idle[200];
	size_t i, nr = 0;
	int calls;

	install(true);
	int fd = ff_open(UDAMON_PAGE_IDLE_BITMAP, O_RDWR, 0);

	REQUIRE(fd >= 0);
	/* 10 clusters of 20 PFNs, 3 pages apart, clusters far apart. */
	for (i = 0; i < 200; i++)
		pfns[nr++] = (i / 20) * 6000 + (i % 20) * 3;
	CHECK_EQ(udamon__page_idle_set(fd, pfns, nr), 0);
	calls = ff.nr_pwrite;
	CHECK(calls <= 10);
	CHECK(pm.max_call_len <= 4096);
	CHECK_EQ(pm.nr_bad_calls, 0);
	/* Only the asked bits became idle: 0 bits did nothing. */
	CHECK(pm.idle[0] && pm.idle[3] && !pm.idle[1] && !pm.idle[2]);
	pm.young[3] = true; /* accessed since */
	CHECK_EQ(udamon__page_idle_get(fd, pfns, nr, idle), 0);
	CHECK(ff.nr_pread <= 10);
	CHECK(ff.nr_pread < (int)nr); /* never a word per page */
	CHECK_EQ(idle[0], 1);
	CHECK_EQ(idle[1], 0); /* PFN 3 */
	CHECK_EQ(idle[2], 1);
	/* Only idle pages walked the rmap: our 200. */
	CHECK_EQ(pm.nr_rmap_walks, 200);
	ff_close(fd);
	udamon__sys_reset();
}

/* A span longer than 4096 bytes is split into 4096-byte calls. */
static void test_bitmap_4k_calls(void)
{
	uint64_t pfns[200];
	int8_t idle[200];
	size_t i;

	install(true);
	int fd = ff_open(UDAMON_PAGE_IDLE_BITMAP, O_RDWR, 0);

	REQUIRE(fd >= 0);
	/* PFNs 4 words apart (close enough to write the words between):
	 * 797 words, so two calls of at most 512 words. */
	for (i = 0; i < 200; i++)
		pfns[i] = i * 256;
	CHECK_EQ(udamon__page_idle_set(fd, pfns, 200), 0);
	CHECK(pm.max_call_len <= 4096);
	CHECK_EQ(ff.nr_pwrite, 2);
	for (i = 0; i < 200; i++)
		CHECK(pm.idle[pfns[i]]);
	CHECK_EQ(udamon__page_idle_get(fd, pfns, 200, idle), 0);
	CHECK_EQ(ff.nr_pread, 2);
	for (i = 0; i < 200; i++)
		CHECK_EQ(idle[i], 1);
	ff_close(fd);
	udamon__sys_reset();
}

/* The unreachable last partial word: unknown, never an error. */
static void test_bitmap_last_word(void)
{
	uint64_t pfns[3] = { 100, NR_PFNS - 30, NR_PFNS - 1 };
	int8_t idle[3];

	install(true);
	int fd = ff_open(UDAMON_PAGE_IDLE_BITMAP, O_RDWR, 0);

	REQUIRE(fd >= 0);
	CHECK_EQ(udamon__page_idle_set(fd, pfns, 3), 0);
	CHECK(pm.idle[100]);
	CHECK(pm.idle[NR_PFNS - 30]);
	CHECK(!pm.idle[NR_PFNS - 1]);
	CHECK_EQ(udamon__page_idle_get(fd, pfns, 3, idle), 0);
	CHECK_EQ(idle[0], 1);
	CHECK_EQ(idle[1], 1);
	CHECK_EQ(idle[2], -1);
	ff_close(fd);
	udamon__sys_reset();
}

/* Huge page tails are asked by their head; non-LRU pages not at all. */
static void test_sample_pfn(void)
{
	struct udamon_pidle pi;
	uint64_t p;

	install(true);
	for (p = 1024; p < 1536; p++)
		pm.flags[p] = LRU_ANON | F(UDAMON_KPF_THP) |
			      F(p == 1024 ? UDAMON_KPF_COMPOUND_HEAD :
					    UDAMON_KPF_COMPOUND_TAIL);
	pm.flags[5] = 0; /* e.g. a kernel page */
	REQUIRE(udamon__pidle_open(&pi, NULL, 0) == 0);
	CHECK_EQ(udamon__pidle_sample_pfn(&pi, 1100), 1024);
	CHECK_EQ(udamon__pidle_sample_pfn(&pi, 1024), 1024);
	CHECK_EQ(udamon__pidle_sample_pfn(&pi, 7), 7);
	CHECK(udamon__pidle_sample_pfn(&pi, 5) == UDAMON_PFN_NONE);
	CHECK(udamon__pidle_sample_pfn(&pi, NR_PFNS + 5) == UDAMON_PFN_NONE);
	/* Two samples in one huge page: one PFN marked, one answer. */
	udamon__pidle_begin(&pi);
	udamon__pidle_add(&pi, udamon__pidle_sample_pfn(&pi, 1100));
	udamon__pidle_add(&pi, udamon__pidle_sample_pfn(&pi, 1300));
	udamon__pidle_add(&pi, udamon__pidle_sample_pfn(&pi, 5));
	CHECK_EQ(udamon__pidle_mark(&pi), 0);
	CHECK_EQ(pi.nr_sorted, 1);
	pm.young[1024] = true;
	CHECK_EQ(udamon__pidle_collect(&pi), 0);
	CHECK(udamon__pidle_accessed(&pi, 0));
	CHECK(udamon__pidle_accessed(&pi, 1));
	CHECK(!udamon__pidle_accessed(&pi, 2)); /* not trackable */
	udamon__pidle_close(&pi);
	CHECK_EQ(ff_open_fds(), 0);
	udamon__sys_reset();
}

/* ---- paddr ---- */

static void test_paddr_registration(void)
{
	/* This host has no page idle tracking: not offered. */
	udamon__sys_reset();
	if (!udamon__page_idle_usable())
		CHECK(!damon_is_registered_ops(DAMON_OPS_PADDR));
	install(false);
	CHECK_EQ(damon_paddr_register(), -ENODEV);
	install(true);
	CHECK_EQ(damon_paddr_register(), 0);
	CHECK(damon_is_registered_ops(DAMON_OPS_PADDR));
	CHECK_EQ(damon_paddr_register(), 0); /* idempotent */
	udamon__sys_reset();
}

static void test_paddr_check_ctx(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damos *s;
	char why[512] = "";

	install(true);
	REQUIRE(damon_paddr_register() == 0);
	ctx = new_ctx(DAMON_OPS_PADDR, 0, &t);
	REQUIRE(ctx);
	CHECK_STREQ(damon_access_source_name(ctx), "page-idle");
	s = add_scheme(ctx, DAMOS_STAT);
	REQUIRE(s);
	CHECK_EQ(damon_paddr_check_ctx(ctx, why, sizeof(why)), 0);
	s->action = DAMOS_PAGEOUT;
	CHECK_EQ(damon_paddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "pageout") && strstr(why, "stat only"));
	/* The start is refused through the hook. */
	CHECK_EQ(damon_manual_start(ctx), -EINVAL);
	s->action = DAMOS_STAT;
	ff_fail("/proc/kpageflags", EACCES);
	CHECK_EQ(damon_paddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "kpageflags") != NULL);
	install(true);
	ff_remove(UDAMON_PAGE_IDLE_BITMAP);
	CHECK_EQ(damon_paddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "page_idle/bitmap") != NULL);
	damon_destroy_ctx(ctx);
	udamon__sys_reset();
}

static void test_iomem(void)
{
	struct damon_addr_range r;

	CHECK_EQ(udamon__iomem_biggest_ram(iomem, &r), 0);
	CHECK_EQ(r.start, 0x100000);
	CHECK_EQ(r.end, 0xfa4000);
	CHECK_EQ(udamon__iomem_biggest_ram("0-fff : Reserved\n", &r), -ENOENT);
	/* Nested (indented) System RAM does not count. */
	CHECK_EQ(udamon__iomem_biggest_ram(
			 "0-fff : Reserved\n  100-ffff : System RAM\n", &r),
		 -ENOENT);
}

struct acc {
	uint64_t hot_lo, hot_hi; /* bytes */
	unsigned long hot_acc, hot_sz, cold_acc, cold_sz;
};

static void sum_event(void *arg, struct damon_ctx *ctx,
		      const struct damon_event *ev)
{
	struct acc *a = arg;
	unsigned long sz = ev->end - ev->start;

	if (ev->type != DAMON_EVENT_AGGREGATED)
		return;
	if (ev->start >= a->hot_lo && ev->end <= a->hot_hi) {
		a->hot_acc += ev->nr_accesses * (sz >> 12);
		a->hot_sz += sz >> 12;
	} else if (ev->end <= a->hot_lo || ev->start >= a->hot_hi) {
		a->cold_acc += ev->nr_accesses * (sz >> 12);
		a->cold_sz += sz >> 12;
	}
}

static void test_paddr_hot_cold(void)
{
	struct acc a = { 0 };
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;
	int i;

	install(true);
	REQUIRE(damon_paddr_register() == 0);
	ctx = new_ctx(DAMON_OPS_PADDR, 0, &t);
	REQUIRE(ctx);
	/* 4 MiB to 8 MiB of the 1 MiB..15.6 MiB System RAM is hot. */
	pm.hot_lo = 1024;
	pm.hot_hi = 2048;
	a.hot_lo = pm.hot_lo * 4096;
	a.hot_hi = pm.hot_hi * 4096;
	damon_set_event_fn(ctx, sum_event, &a);
	REQUIRE(damon_manual_start(ctx) == 0);
	/* init took the biggest System RAM range of /proc/iomem. */
	r = damon_first_region(t);
	REQUIRE(r);
	CHECK_EQ(r->ar.start, 0x100000);
	CHECK_EQ(damon_last_region(t)->ar.end, 0xfa4000);
	for (i = 0; i < 400; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	damon_manual_stop(ctx);
	tap_diag("hot %lu/%lu cold %lu/%lu", a.hot_acc, a.hot_sz, a.cold_acc,
		 a.cold_sz);
	CHECK(a.hot_sz > 0 && a.cold_sz > 0);
	CHECK(a.hot_sz && a.cold_sz &&
	      (double)a.hot_acc / a.hot_sz > 5.0 * a.cold_acc / a.cold_sz + 1);
	CHECK(pm.max_call_len <= 4096);
	CHECK_EQ(pm.nr_bad_calls, 0);
	damon_destroy_ctx(ctx);
	CHECK_EQ(ff_open_fds(), 0);
	udamon__sys_reset();
}

/* Pages the bitmap cannot track read 0 ("not idle"), yet are not hot. */
static void test_paddr_non_lru(void)
{
	struct damon_addr_range range = { 0, 64 * 4096 * 100 };
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;
	uint64_t p;
	int i;

	install(true);
	REQUIRE(damon_paddr_register() == 0);
	for (p = 0; p < 6400; p++)
		pm.flags[p] = F(UDAMON_KPF_NOPAGE);
	ctx = new_ctx(DAMON_OPS_PADDR, 0, &t);
	REQUIRE(ctx);
	REQUIRE(damon_set_regions(t, &range, 1, DAMON_MIN_REGION_SZ) == 0);
	REQUIRE(damon_manual_start(ctx) == 0);
	for (i = 0; i < 50; i++) {
		REQUIRE(damon_manual_step(ctx) == 0);
		damon_for_each_region(r, t)
			CHECK_EQ(r->nr_accesses, 0);
	}
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	udamon__sys_reset();
}

static void test_paddr_node_eligible(void)
{
	struct damon_addr_range spans[4];
	struct damon_addr_range range = { 0, 64UL << 20 }; /* pfn 0..16384 */
	struct damos_quota_goal *g;
	struct damon_target *t;
	struct damon_ctx *ctx;
	unsigned long v = 0;
	struct damos *s;

	CHECK_EQ(udamon__zoneinfo_node_spans(zoneinfo, 0, spans, 4), 2);
	CHECK_EQ(spans[0].start, 1);
	CHECK_EQ(spans[1].end, 4096 + 28672);
	CHECK_EQ(udamon__zoneinfo_node_spans(zoneinfo, 1, spans, 4), 1);
	CHECK_EQ(udamon__zoneinfo_node_spans(zoneinfo, 2, spans, 4), 0);

	install(true);
	REQUIRE(damon_paddr_register() == 0);
	ctx = new_ctx(DAMON_OPS_PADDR, 0, &t);
	REQUIRE(ctx);
	REQUIRE(damon_set_regions(t, &range, 1, DAMON_MIN_REGION_SZ) == 0);
	s = add_scheme(ctx, DAMOS_STAT);
	REQUIRE(s);
	g = damos_new_quota_goal(DAMOS_QUOTA_NODE_ELIGIBLE_MEM_BP, 5000);
	REQUIRE(g);
	damos_add_quota_goal(&s->quota, g);
	g->nid = 0;
	/* PFNs 1..16383 of 0..16383 are node 0. */
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, g, &v), 0);
	CHECK_EQ(v, 9999);
	g->nid = 1;
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, g, &v), 0);
	CHECK_EQ(v, 0);
	/* Nothing eligible: 0. */
	s->pattern.min_nr_accesses = 5;
	g->nid = 0;
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, g, &v), 0);
	CHECK_EQ(v, 0);
	/* The other metrics come from the system. */
	CHECK(ctx->ops.get_wmark_metric(ctx, DAMOS_WMARK_FREE_MEM_RATE, &v) ==
	      0);
	CHECK_EQ(v, 250);
	damon_destroy_ctx(ctx);
	udamon__sys_reset();
}

/* ---- ops filters ---- */

static unsigned long stat_passed(struct damon_ctx *ctx, struct damon_target *t,
				 struct damos *s)
{
	unsigned long passed = 0;

	damos_set_filters_default_reject(s);
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, damon_first_region(t), s,
				       &passed),
		 0);
	return passed;
}

static void test_paddr_filters(void)
{
	struct damon_addr_range range = { 4096 * 64, 4096 * 64 * 3 };
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damos_filter *f;
	struct damos *s;
	uint64_t p;

	install(true);
	REQUIRE(damon_paddr_register() == 0);
	ctx = new_ctx(DAMON_OPS_PADDR, 0, &t);
	REQUIRE(ctx);
	REQUIRE(damon_set_regions(t, &range, 1, DAMON_MIN_REGION_SZ) == 0);
	s = add_scheme(ctx, DAMOS_STAT);
	REQUIRE(s);
	/* 128 pages: odd anon, even file; 8 of them active. */
	for (p = 64; p < 72; p++)
		pm.flags[p] |= F(UDAMON_KPF_ACTIVE);
	/* A 16-page folio at 96..111 (anon head at 96, so odd/even moot). */
	pm.flags[96] = LRU_ANON | F(UDAMON_KPF_COMPOUND_HEAD) |
		       F(UDAMON_KPF_THP);
	for (p = 97; p < 112; p++)
		pm.flags[p] = LRU_ANON | F(UDAMON_KPF_COMPOUND_TAIL) |
			      F(UDAMON_KPF_THP);
	/* A non-LRU page is never visited. */
	pm.flags[150] = 0;
	for (p = 64; p < 80; p++)
		pm.memcg[p] = 777;

	f = damos_new_filter(DAMOS_FILTER_TYPE_ANON, true, true);
	REQUIRE(f);
	damos_add_filter(s, f);
	/* anon: 56 odd pages outside the folio (not 151? it is odd: 63
	 * odd pages outside 96..111, minus none) + the folio's 16. */
	{
		unsigned long anon = 0;

		for (p = 64; p < 192; p++)
			if ((p < 96 || p >= 112) && p != 150 && p % 2)
				anon++;
		CHECK_EQ(stat_passed(ctx, t, s), (anon + 16) * 4096);
	}
	f->type = DAMOS_FILTER_TYPE_ACTIVE;
	CHECK_EQ(stat_passed(ctx, t, s), 8 * 4096);
	f->type = DAMOS_FILTER_TYPE_HUGEPAGE_SIZE;
	f->sz_range.min = 64 * 1024;
	f->sz_range.max = 2 << 20;
	CHECK_EQ(stat_passed(ctx, t, s), 64 * 1024);
	f->type = DAMOS_FILTER_TYPE_UNMAPPED;
	CHECK_EQ(stat_passed(ctx, t, s), 0);
	f->type = DAMOS_FILTER_TYPE_MEMCG;
	f->memcg_path = strdup("/app");
	CHECK_EQ(stat_passed(ctx, t, s), 16 * 4096);
	free(f->memcg_path);
	f->memcg_path = NULL;
	f->memcg_id = 777; /* no path: the inode number itself */
	CHECK_EQ(stat_passed(ctx, t, s), 16 * 4096);
	/* Reject matching: the rest passes by default-allow. */
	f->allow = false;
	CHECK_EQ(stat_passed(ctx, t, s), 111 * 4096);
	/* young: marked idle, two pages accessed since; seen and cleared. */
	f->type = DAMOS_FILTER_TYPE_YOUNG;
	f->allow = true;
	for (p = 64; p < 192; p++)
		pm.idle[p] = pm.flags[p] & F(UDAMON_KPF_LRU);
	pm.young[70] = pm.young[71] = true;
	CHECK_EQ(stat_passed(ctx, t, s), 2 * 4096);
	CHECK(pm.idle[70] && pm.idle[71]); /* cleared again */
	CHECK_EQ(stat_passed(ctx, t, s), 0);
	damon_destroy_ctx(ctx);
	udamon__sys_reset();
}

/* ---- vaddr on page idle ---- */

static void test_vaddr_page_idle(void)
{
	struct damon_addr_range range = { VBASE, VBASE + 1024 * 4096 };
	struct acc a = { 0 };
	struct damon_target *t;
	struct damon_ctx *ctx;
	char why[512] = "";
	unsigned long passed;
	struct damos *s;
	int i;

	install(true);
	/* Page i maps PFN 20000 + 3 * i; pages 0..255 are hot. */
	for (i = 0; i < 1024; i++)
		pm.vpfn[i] = 20000 + 3 * (uint64_t)i;
	pm.vpfn[1000] = 0; /* not present */
	pm.hot_lo = 20000;
	pm.hot_hi = 20000 + 3 * 256;
	a.hot_lo = VBASE;
	a.hot_hi = VBASE + 256 * 4096;
	ctx = new_ctx(DAMON_OPS_FVADDR, PID, &t);
	REQUIRE(ctx);
	REQUIRE(damon_set_regions(t, &range, 1, DAMON_MIN_REGION_SZ) == 0);
	CHECK_STREQ(damon_access_source_name(ctx), "page-idle");
	/* No userfaultfd registration needed with page idle. */
	CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), 0);
	damon_set_event_fn(ctx, sum_event, &a);
	REQUIRE(damon_manual_start(ctx) == 0);
	for (i = 0; i < 400; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	damon_manual_stop(ctx);
	tap_diag("hot %lu/%lu cold %lu/%lu", a.hot_acc, a.hot_sz, a.cold_acc,
		 a.cold_sz);
	CHECK(a.hot_sz && a.cold_sz &&
	      (double)a.hot_acc / a.hot_sz > 5.0 * a.cold_acc / a.cold_sz + 1);
	CHECK_STREQ(damon_access_source_name(ctx), "page-idle");
	damon_destroy_ctx(ctx);

	/* Ops filters for stat through the pagemap: anon = odd PFNs. */
	ctx = new_ctx(DAMON_OPS_FVADDR, PID, &t);
	REQUIRE(ctx);
	REQUIRE(damon_set_regions(t, &range, 1, DAMON_MIN_REGION_SZ) == 0);
	s = add_scheme(ctx, DAMOS_STAT);
	REQUIRE(s);
	damos_add_filter(s,
			 damos_new_filter(DAMOS_FILTER_TYPE_ANON, true, true));
	damos_set_filters_default_reject(s);
	{
		struct damon_region *r;
		unsigned long want = 0;

		passed = 0;
		damon_for_each_region(r, t) {
			unsigned long one = 0, pg;

			ctx->ops.apply_scheme(ctx, t, r, s, &one);
			passed += one;
			for (pg = r->ar.start; pg < r->ar.end; pg += 4096) {
				uint64_t pfn = pm.vpfn[(pg - VBASE) / 4096];

				want += pfn && pfn % 2 ? 4096 : 0;
			}
		}
		CHECK_EQ(passed, want);
	}

	/* Forcing uffd-wp: this fake has no registered memory. */
	CHECK_EQ(damon_set_access_source(ctx, "uffd-wp"), 0);
	CHECK_STREQ(damon_access_source_name(ctx), "uffd-wp (writes only)");
	CHECK_EQ(damon_set_access_source(ctx, "bogus"), -EINVAL);
	CHECK_EQ(damon_set_access_source(ctx, "auto"), 0);
	CHECK_STREQ(damon_access_source_name(ctx), "page-idle");
	damon_destroy_ctx(ctx);

	/* page-idle asked for where it is not usable: refused. */
	ff_remove(UDAMON_PAGE_IDLE_BITMAP);
	ctx = new_ctx(DAMON_OPS_FVADDR, PID, &t);
	REQUIRE(ctx);
	CHECK_EQ(damon_set_access_source(ctx, "page-idle"), 0);
	CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "page idle") != NULL);
	damon_destroy_ctx(ctx);
	CHECK_EQ(ff_open_fds(), 0);
	udamon__sys_reset();
}

int main(void)
{
	static const struct tap_case cases[] = {
		TAP_CASE(test_bitmap_batching),
		TAP_CASE(test_bitmap_4k_calls),
		TAP_CASE(test_bitmap_last_word),
		TAP_CASE(test_sample_pfn),
		TAP_CASE(test_paddr_registration),
		TAP_CASE(test_paddr_check_ctx),
		TAP_CASE(test_iomem),
		TAP_CASE(test_paddr_hot_cold),
		TAP_CASE(test_paddr_non_lru),
		TAP_CASE(test_paddr_node_eligible),
		TAP_CASE(test_paddr_filters),
		TAP_CASE(test_vaddr_page_idle),
	};

	return tap_main(cases, TAP_NR(cases));
}
