// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The overhead budget of the uffd-wp access source, against a fake kernel
 * behind the sys seam that keeps each page's write-protect state and logs
 * every PAGEMAP_SCAN: the exact protect/check sequence per sample, that a
 * budget which fits changes nothing (same ioctls, same nr_accesses as
 * unbounded), the round-robin window and the repeated results when it
 * binds, split regions inheriting their parent's result, the planner's
 * arithmetic, and the library calls.  No threads, deterministic.
 */
#include "../lib/tap.h"

#include "core/core.h"
#include "ops/vaddr.h"
#include "sys/sys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PID 4343
#define FD_PAGEMAP 2001
#define FD_PIDFD 2003
#define PAGE 4096UL
#define BASE 0x7f0000000000UL
#define NR_REGIONS 20
#define REGION_SZ (64 * PAGE)
#define MAX_LOG 4096
#define MAX_WP 4096

struct scan_call {
	char op; /* 'P': protect (WP_MATCHING), 'C': check */
	unsigned long page;
};

static struct fake {
	struct scan_call log[MAX_LOG];
	int nr_log;
	unsigned long wp[MAX_WP]; /* write-protected pages */
	int nr_wp;
	unsigned long hot_start, hot_end; /* written between samples */
} fk;

static int wp_find(unsigned long page)
{
	int i;

	for (i = 0; i < fk.nr_wp; i++)
		if (fk.wp[i] == page)
			return i;
	return -1;
}

static void log_call(char op, unsigned long page)
{
	if (fk.nr_log < MAX_LOG) {
		fk.log[fk.nr_log].op = op;
		fk.log[fk.nr_log].page = page;
	}
	fk.nr_log++;
}

static int fake_open(const char *path, int flags, mode_t mode)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "/proc/%d/pagemap", PID);
	if (!strcmp(path, buf))
		return FD_PAGEMAP;
	errno = ENOENT;
	return -1;
}

static int fake_close(int fd)
{
	return 0;
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

/*
 * PAGEMAP_SCAN on one page.  Protect: a written (unprotected) page gets
 * protected and is reported; a protected one is left alone.  Check: the
 * target writes its hot pages between prepare and check, so a hot page
 * reads written (and loses its protection), others as their state says.
 */
static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	struct udamon_pm_scan_arg *a = arg;
	struct udamon_page_region *vec;
	unsigned long page = a->start;
	int i;

	if (fd != FD_PAGEMAP || req != UDAMON_PAGEMAP_SCAN ||
	    a->size != sizeof(*a) || a->end - a->start != PAGE ||
	    a->start % PAGE || a->vec_len < 1) {
		errno = EINVAL;
		return -1;
	}
	vec = (struct udamon_page_region *)(uintptr_t)a->vec;
	i = wp_find(page);
	if (a->flags & UDAMON_PM_SCAN_WP_MATCHING) {
		log_call('P', page);
		if (i >= 0)
			return 0;
		if (fk.nr_wp < MAX_WP)
			fk.wp[fk.nr_wp++] = page;
		vec[0].start = page;
		vec[0].end = page + PAGE;
		vec[0].categories = UDAMON_PAGE_IS_WRITTEN;
		return 1;
	}
	if (!(a->category_mask & UDAMON_PAGE_IS_WPALLOWED)) {
		errno = EINVAL;
		return -1;
	}
	log_call('C', page);
	if (i >= 0 && page >= fk.hot_start && page < fk.hot_end) {
		fk.wp[i] = fk.wp[--fk.nr_wp];
		i = -1;
	}
	if (i >= 0)
		return 0;
	vec[0].start = page;
	vec[0].end = page + PAGE;
	vec[0].categories = UDAMON_PAGE_IS_WPALLOWED | UDAMON_PAGE_IS_WRITTEN;
	return 1;
}

static void fake_install(void)
{
	memset(&fk, 0, sizeof(fk));
	/* Regions 0..9 are written all the time, 10..19 never. */
	fk.hot_start = BASE;
	fk.hot_end = BASE + 10 * REGION_SZ;
	udamon__sys.open = fake_open;
	udamon__sys.close = fake_close;
	udamon__sys.pidfd_open = fake_pidfd_open;
	udamon__sys.poll = fake_poll;
	udamon__sys.ioctl = fake_ioctl;
}

/* An fvaddr context on PID with NR_REGIONS equal regions, 5 ms samples. */
static struct damon_ctx *budget_ctx(unsigned long budget, bool set,
				    struct damon_target **tp)
{
	struct damon_addr_range rr[NR_REGIONS];
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t;
	int i;

	if (!ctx)
		return NULL;
	ctx->rnd_seed = 7;
	ctx->rnd_state = 7;
	if (damon_select_ops(ctx, DAMON_OPS_FVADDR) ||
	    damon_set_access_source(ctx, "uffd-wp") ||
	    (set && damon_set_overhead_budget(ctx, budget))) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	t = damon_new_target();
	if (!t) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	t->pid = PID;
	damon_add_target(ctx, t);
	for (i = 0; i < NR_REGIONS; i++) {
		rr[i].start = BASE + (unsigned long)i * REGION_SZ;
		rr[i].end = rr[i].start + REGION_SZ;
	}
	if (damon_set_regions(t, rr, NR_REGIONS, PAGE)) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	*tp = t;
	return ctx;
}

static void one_sample(struct damon_ctx *ctx)
{
	ctx->ops.prepare_access_checks(ctx);
	ctx->ops.check_accesses(ctx);
}

static int region_index(unsigned long addr)
{
	return (int)((addr - BASE) / REGION_SZ);
}

/*
 * Unbounded: per sample, one protect per region in address order, then
 * one check per region of the same pages; hot regions count every
 * sample, cold ones none.
 */
static void test_unbounded_sequence(void)
{
	struct damon_target *t;
	struct damon_region *r;
	struct damon_ctx *ctx;
	int s, i, bad = 0;

	fake_install();
	ctx = budget_ctx(0, true, &t);
	REQUIRE(ctx);
	CHECK_EQ(damon_overhead_budget(ctx), 0);
	for (s = 0; s < 10; s++)
		one_sample(ctx);
	CHECK_EQ(fk.nr_log, 10 * 2 * NR_REGIONS);
	for (s = 0; s < 10; s++) {
		struct scan_call *p = &fk.log[s * 2 * NR_REGIONS];

		for (i = 0; i < NR_REGIONS; i++) {
			if (p[i].op != 'P' || region_index(p[i].page) != i)
				bad++;
			if (p[NR_REGIONS + i].op != 'C' ||
			    p[NR_REGIONS + i].page != p[i].page)
				bad++;
		}
	}
	CHECK_EQ(bad, 0);
	i = 0;
	damon_for_each_region(r, t) {
		CHECK_EQ(r->nr_accesses, i < 10 ? 10u : 0u);
		i++;
	}
	damon_destroy_ctx(ctx);
	udamon__sys_reset();
}

/*
 * A budget that pays for every region (20 regions x 200 samples/s =
 * 4000/s) changes nothing: the same ioctls on the same pages and the
 * same counts as unbounded, with the same random seed.
 */
static void test_fitting_budget_is_exact(void)
{
	static struct scan_call log0[MAX_LOG];
	unsigned int acc0[NR_REGIONS], acc1[NR_REGIONS];
	struct damon_target *t;
	struct damon_region *r;
	struct damon_ctx *ctx;
	int s, i, nr0;

	fake_install();
	ctx = budget_ctx(0, true, &t);
	REQUIRE(ctx);
	for (s = 0; s < 30; s++)
		one_sample(ctx);
	i = 0;
	damon_for_each_region(r, t)
		acc0[i++] = r->nr_accesses;
	nr0 = fk.nr_log;
	memcpy(log0, fk.log, sizeof(log0));
	damon_destroy_ctx(ctx);

	fake_install();
	ctx = budget_ctx(4000, true, &t);
	REQUIRE(ctx);
	for (s = 0; s < 30; s++)
		one_sample(ctx);
	i = 0;
	damon_for_each_region(r, t)
		acc1[i++] = r->nr_accesses;
	CHECK_EQ(fk.nr_log, nr0);
	CHECK(!memcmp(log0, fk.log, sizeof(log0)));
	CHECK(!memcmp(acc0, acc1, sizeof(acc0)));
	damon_destroy_ctx(ctx);
	udamon__sys_reset();
}

/*
 * 1000 checks/s at 5 ms pays for 5 of the 20 regions per sample: each
 * sample protects and checks exactly 5 pages, regions take turns (each
 * once per 4 samples), and a region counts its last result again in the
 * samples it is skipped.  Region k is first checked in sample k / 5, so
 * after 20 samples a hot region counts 20 - k / 5, a cold one 0.
 */
static void test_binding_budget_round_robin(void)
{
	int checked[NR_REGIONS] = { 0 };
	struct damon_target *t;
	struct damon_region *r;
	struct damon_ctx *ctx;
	int s, i, bad = 0;

	fake_install();
	ctx = budget_ctx(1000, true, &t);
	REQUIRE(ctx);
	for (s = 0; s < 20; s++) {
		int first = fk.nr_log;

		one_sample(ctx);
		CHECK_EQ(fk.nr_log - first, 10);
		for (i = 0; i < 5; i++) {
			struct scan_call *p = &fk.log[first + i];
			struct scan_call *c = &fk.log[first + 5 + i];

			if (p->op != 'P' || c->op != 'C' || c->page != p->page)
				bad++;
			if (region_index(p->page) != (s * 5 + i) % NR_REGIONS)
				bad++;
			checked[region_index(p->page)]++;
		}
	}
	CHECK_EQ(bad, 0);
	for (i = 0; i < NR_REGIONS; i++)
		CHECK_EQ(checked[i], 5);
	i = 0;
	damon_for_each_region(r, t) {
		CHECK_EQ(r->nr_accesses, i < 10 ? 20u - (unsigned)i / 5 : 0u);
		i++;
	}
	damon_destroy_ctx(ctx);
	udamon__sys_reset();
}

/*
 * A region split between samples: the right part, not checked in the
 * next sample, repeats the result its parent had.
 */
static void test_split_child_inherits(void)
{
	struct damon_target *t;
	struct damon_region *r, *hot = NULL, *cold = NULL;
	struct damon_ctx *ctx;
	unsigned int before_hot, before_cold;
	int s, i = 0;

	fake_install();
	ctx = budget_ctx(1000, true, &t);
	REQUIRE(ctx);
	for (s = 0; s < 4; s++)
		one_sample(ctx);
	/* Every region has been checked once; the window is back at 0. */
	damon_for_each_region(r, t) {
		if (i == 8)
			hot = r;
		if (i == 18)
			cold = r;
		i++;
	}
	REQUIRE(hot && cold);
	damon_split_region_at(t, hot, REGION_SZ / 2);
	damon_split_region_at(t, cold, REGION_SZ / 2);
	/* 22 regions now; sample 5 checks ordinals 0..4 only. */
	before_hot = damon_list_entry(hot->list.next, struct damon_region, list)
			     ->nr_accesses;
	before_cold =
		damon_list_entry(cold->list.next, struct damon_region, list)
			->nr_accesses;
	one_sample(ctx);
	CHECK_EQ(damon_list_entry(hot->list.next, struct damon_region, list)
			 ->nr_accesses,
		 before_hot + 1);
	CHECK_EQ(damon_list_entry(cold->list.next, struct damon_region, list)
			 ->nr_accesses,
		 before_cold);
	damon_destroy_ctx(ctx);
	udamon__sys_reset();
}

/* The planner: fractional budgets, credit, the moving window. */
static void test_plan_arithmetic(void)
{
	struct udamon_budget b;
	unsigned long total = 0;
	int s, ord, picked;

	/* Unbounded and empty contexts check everything. */
	memset(&b, 0, sizeof(b));
	udamon__vaddr_budget_plan(&b, 5000, 7);
	CHECK_EQ(b.count, 7);
	CHECK(udamon__vaddr_budget_picks(&b, 6));
	/* 100/s at 5 ms: 0.5 per sample, one check every other sample. */
	memset(&b, 0, sizeof(b));
	b.per_sec = 100;
	for (s = 0; s < 40; s++) {
		udamon__vaddr_budget_plan(&b, 5000, 10);
		picked = 0;
		for (ord = 0; ord < 10; ord++)
			picked += udamon__vaddr_budget_picks(&b, ord);
		CHECK_EQ(picked, (int)b.count);
		total += b.count;
	}
	CHECK_EQ(total, 20);
	/* 3000/s at 5 ms over 40 regions: 15 per sample, wrapping. */
	memset(&b, 0, sizeof(b));
	b.per_sec = 3000;
	udamon__vaddr_budget_plan(&b, 5000, 40);
	udamon__vaddr_budget_plan(&b, 5000, 40);
	udamon__vaddr_budget_plan(&b, 5000, 40);
	CHECK_EQ(b.first, 30);
	CHECK_EQ(b.count, 15);
	CHECK(udamon__vaddr_budget_picks(&b, 39));
	CHECK(udamon__vaddr_budget_picks(&b, 4));
	CHECK(!udamon__vaddr_budget_picks(&b, 5));
	CHECK(!udamon__vaddr_budget_picks(&b, 29));
	/* A budget larger than the regions saves no credit for bursts. */
	memset(&b, 0, sizeof(b));
	b.per_sec = 1000000;
	udamon__vaddr_budget_plan(&b, 5000, 10);
	udamon__vaddr_budget_plan(&b, 5000, 10);
	CHECK_EQ(b.count, 10);
	CHECK(b.credit <= 5000.0);
}

/* The library calls: default, other ops refused, commits carry it. */
static void test_set_and_commit(void)
{
	struct damon_ctx *a = damon_new_ctx(), *b = damon_new_ctx();
	struct damon_ctx *p = damon_new_ctx();

	REQUIRE(a && b && p);
	REQUIRE(!damon_select_ops(a, DAMON_OPS_VADDR));
	REQUIRE(!damon_select_ops(b, DAMON_OPS_VADDR));
	CHECK_EQ(damon_overhead_budget(a), UDAMON_DEFAULT_OVERHEAD_BUDGET);
	CHECK_EQ(damon_set_overhead_budget(a, 12345), 0);
	CHECK_EQ(damon_overhead_budget(a), 12345);
	CHECK_EQ(damon_commit_ctx(b, a), 0);
	CHECK_EQ(damon_overhead_budget(b), 12345);
	CHECK_EQ(damon_set_overhead_budget(NULL, 1), -EINVAL);
	if (!damon_select_ops(p, DAMON_OPS_PADDR) ||
	    !damon_select_ops(p, DAMON_OPS_SIM)) {
		CHECK_EQ(damon_set_overhead_budget(p, 1), -EINVAL);
		CHECK_EQ(damon_overhead_budget(p), 0);
	}
	damon_destroy_ctx(a);
	damon_destroy_ctx(b);
	damon_destroy_ctx(p);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_unbounded_sequence),
	TAP_CASE(test_fitting_budget_is_exact),
	TAP_CASE(test_binding_budget_round_robin),
	TAP_CASE(test_split_child_inherits),
	TAP_CASE(test_plan_arithmetic),
	TAP_CASE(test_set_and_commit),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
