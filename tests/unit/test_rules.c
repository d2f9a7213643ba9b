// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One test per DAMON rule: each asserts the exact value the specification
 * gives, so that breaking the rule in the code fails the test (see
 * scripts/mutation-check.sh, which breaks each rule in a copy of the tree
 * and checks that this suite notices).
 *
 *   - kernel kunit vectors: every step of the moving sum (§3.6), exact
 *     split counts (§3.2), merge ages and thresholds (§3.1);
 *   - region rules: split stops above max_nr_regions / 2, three-way split,
 *     aggregation reset, damon_set_regions alignment (§3.7), commit
 *     coalescing (§6.2), failed splits;
 *   - DAMOS reads the moving sum, not the raw count (§3.6, §5.1);
 *   - pause and commit (§2.7, §6.2, §10): where a pause takes effect,
 *     what a paused kdamond does and does not do, resume finishing the
 *     paused iteration, stops while paused, failed live commits, and that
 *     a paused kdamond answers callers at once (no whole-interval sleep).
 *
 * Everything runs on a virtual clock with damon_manual_step() except the
 * wake-up tests, which need a real clock and a real kdamond thread.
 */
#include "../lib/tap.h"

#include "core/core.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

/* ------------------------------------------------------------------ */
/* Allocation failure, for the failed-split rules                      */
/* ------------------------------------------------------------------ */

/*
 * The test program replaces calloc(), which every region allocation of
 * the library goes through, to make the Nth call from now fail once.
 * The sanitizers own the allocator, so there the cases are skipped.
 */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define HAVE_CALLOC_FAILURE 1
extern void *__libc_calloc(size_t nmemb, size_t size);
static int calloc_fail_in;

void *calloc(size_t nmemb, size_t size)
{
	if (calloc_fail_in && --calloc_fail_in == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(nmemb, size);
}

static void fail_nth_calloc(int nth)
{
	calloc_fail_in = nth;
}
#endif

/* ------------------------------------------------------------------ */
/* A fake operations set                                               */
/* ------------------------------------------------------------------ */

/*
 * A region is accessed in a sample when it overlaps [hot_start, hot_end)
 * and accesses are on.  Counters record which hooks ran.
 */
static struct fake_state {
	unsigned long hot_start, hot_end;
	bool accesses_off;
	bool targets_invalid;
	unsigned long nr_prepares, nr_checks, nr_updates, nr_wmark_reads;
	unsigned long nr_applies;
	/* passed_sample_intervals of the last apply_scheme call */
	unsigned long last_apply_passed;
	/* commit_priv fails when committing into this context */
	struct damon_ctx *fail_commit_into;
} fake;

static void fake_prepare(struct damon_ctx *ctx)
{
	fake.nr_prepares++;
}

static unsigned int fake_check(struct damon_ctx *ctx)
{
	struct damon_target *t;
	struct damon_region *r;
	unsigned int max = 0;

	fake.nr_checks++;
	damon_for_each_target(t, ctx) {
		damon_for_each_region(r, t) {
			bool hot = !fake.accesses_off &&
				   r->ar.start < fake.hot_end &&
				   fake.hot_start < r->ar.end;

			damon_update_region_access_rate(r, hot, &ctx->attrs);
			if (r->nr_accesses > max)
				max = r->nr_accesses;
		}
	}
	return max;
}

static void fake_update(struct damon_ctx *ctx)
{
	fake.nr_updates++;
}

static bool fake_target_valid(struct damon_target *t)
{
	return !fake.targets_invalid;
}

static unsigned long fake_apply(struct damon_ctx *ctx, struct damon_target *t,
				struct damon_region *r, struct damos *s,
				unsigned long *sz_filter_passed)
{
	fake.nr_applies++;
	fake.last_apply_passed = ctx->passed_sample_intervals;
	*sz_filter_passed = damon_sz_region(r);
	return damon_sz_region(r);
}

static int fake_wmark(struct damon_ctx *ctx, enum damos_wmark_metric metric,
		      unsigned long *value)
{
	fake.nr_wmark_reads++;
	*value = 500; /* between mid (600) and low (100): active */
	return 0;
}

static int fake_commit_priv(struct damon_ctx *dst, struct damon_ctx *src)
{
	return dst == fake.fail_commit_into ? -ENOMEM : 0;
}

static void fake_register(void)
{
	static const struct damon_operations ops = {
		.id = DAMON_OPS_APP,
		.prepare_access_checks = fake_prepare,
		.check_accesses = fake_check,
		.update = fake_update,
		.target_valid = fake_target_valid,
		.apply_scheme = fake_apply,
		.get_wmark_metric = fake_wmark,
		.commit_priv = fake_commit_priv,
	};
	struct damon_operations copy = ops;

	damon_unregister_ops(DAMON_OPS_APP);
	damon_register_ops(&copy);
}

/*
 * A context on the fake ops with a virtual clock: sample 1 ms, a window
 * of @window samples, ops update every @window samples too, one target
 * [0, @sz) in @nr_regions equal regions; min_nr_regions 3 and
 * max_nr_regions @nr_regions, so that no split or merge happens unless a
 * test asks for it (equal regions are exactly at the size limit).
 */
static struct damon_ctx *new_ctx(unsigned int window, unsigned long sz,
				 unsigned int nr_regions)
{
	struct damon_attrs attrs = {
		.sample_interval = 1000,
		.aggr_interval = 1000UL * window,
		.ops_update_interval = 1000UL * window,
		.min_nr_regions = 3,
		.max_nr_regions = nr_regions,
	};
	struct damon_ctx *ctx;
	struct damon_target *t;
	unsigned int i;

	fake_register();
	memset(&fake, 0, sizeof(fake));
	ctx = damon_new_ctx();
	if (!ctx)
		return NULL;
	damon_use_virtual_clock(ctx);
	ctx->min_region_sz = 1;
	if (damon_select_ops(ctx, DAMON_OPS_APP) ||
	    damon_set_attrs(ctx, &attrs)) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	t = damon_new_target();
	if (!t) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	damon_add_target(ctx, t);
	for (i = 0; i < nr_regions; i++)
		damon_add_region(damon_new_region(sz / nr_regions * i,
						  sz / nr_regions * (i + 1)),
				 t);
	return ctx;
}

static struct damon_target *target0(struct damon_ctx *ctx)
{
	return damon_nth_target(0, ctx);
}

static struct damos *add_stat_scheme(struct damon_ctx *ctx, unsigned int min_nr,
				     unsigned int max_nr,
				     unsigned long apply_interval_us)
{
	struct damos_access_pattern pattern = {
		.min_sz_region = 0,
		.max_sz_region = ULONG_MAX,
		.min_nr_accesses = min_nr,
		.max_nr_accesses = max_nr,
		.min_age_region = 0,
		.max_age_region = UINT_MAX,
	};
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_NONE };
	struct damos *s = damon_new_scheme(
		&pattern, DAMOS_STAT, apply_interval_us, NULL, &wmarks, -1);

	if (s)
		damon_add_scheme(ctx, s);
	return s;
}

static unsigned long nr_aggregated;
static unsigned long last_aggregated_passed;

static void count_aggregated(void *arg, struct damon_ctx *ctx,
			     const struct damon_event *ev)
{
	if (ev->type != DAMON_EVENT_AGGREGATED)
		return;
	nr_aggregated++;
	last_aggregated_passed = ev->passed_sample_intervals;
}

/* The list of @t is consistent: count, order, no gap, no empty region. */
static bool regions_consistent(struct damon_target *t, unsigned long start,
			       unsigned long end)
{
	struct damon_region *r;
	unsigned long expect = start;
	unsigned int nr = 0;

	damon_for_each_region(r, t) {
		if (r->ar.start != expect || r->ar.end <= r->ar.start)
			return false;
		expect = r->ar.end;
		nr++;
	}
	return nr == damon_nr_regions(t) && expect == end;
}

/* ------------------------------------------------------------------ */
/* §3.6 moving sum, every step                                         */
/* ------------------------------------------------------------------ */

/*
 * A window of 10 samples after a window with 10 accesses; accesses at
 * samples 1, 3 and 5.  bp after step k = 100000 - k * 10000 + 10000 *
 * (accesses so far).  Steps 3, 5 and 8 are the kunit vectors (3, 10,
 * 7000) -> 10, (passed 5, cur 3, last 10) -> 8 and (8, 3, 10) -> 5; the
 * last step gives the window's count, 3.
 */
static void rules_mvsum_every_step(void)
{
	struct damon_attrs attrs = { .sample_interval = 1,
				     .aggr_interval = 10 };
	static const bool accessed[10] = { 1, 0, 1, 0, 1, 0, 0, 0, 0, 0 };
	static const unsigned int bp[10] = {
		100000, 90000, 90000, 80000, 80000,
		70000,	60000, 50000, 40000, 30000
	};
	static const unsigned int nr[10] = { 1, 1, 2, 2, 3, 3, 3, 3, 3, 3 };
	struct damon_region *r = damon_new_region(0, 10);
	unsigned int i;

	REQUIRE(r);
	r->last_nr_accesses = 10;
	r->nr_accesses_bp = 100000;
	for (i = 0; i < 10; i++) {
		damon_update_region_access_rate(r, accessed[i], &attrs);
		CHECK_EQ(r->nr_accesses_bp, bp[i]);
		CHECK_EQ(r->nr_accesses, nr[i]);
	}
	CHECK_EQ(r->nr_accesses_bp / 10000, 3);
	free(r);
}

/*
 * The other kunit vectors, on a window of 100 samples: (90 samples, 32
 * accesses, last 100) -> 42 (left_bp 1000), and a whole window of 42
 * accesses after one of 49 -> 42 (left_bp 0).
 */
static void rules_mvsum_long_window(void)
{
	struct damon_attrs attrs = { .sample_interval = 1,
				     .aggr_interval = 100 };
	struct damon_region *r = damon_new_region(0, 10);
	unsigned int i;

	REQUIRE(r);
	r->last_nr_accesses = 100;
	r->nr_accesses_bp = 1000000;
	for (i = 0; i < 90; i++)
		damon_update_region_access_rate(r, i < 32, &attrs);
	CHECK_EQ(r->nr_accesses_bp, 420000);
	CHECK_EQ(r->nr_accesses_bp / 10000, 42);

	r->last_nr_accesses = 49;
	r->nr_accesses = 0;
	r->nr_accesses_bp = 490000;
	for (i = 0; i < 100; i++)
		damon_update_region_access_rate(r, i % 2 == 0 && i < 84,
						&attrs);
	CHECK_EQ(r->nr_accesses, 42);
	CHECK_EQ(r->nr_accesses_bp, 420000);
	free(r);
}

/*
 * The aggregation reset (§2.3 step 10c): the moving sum is resynced to
 * the finished window's count before that count becomes last, so a fresh
 * window reads last_nr_accesses (kunit (0, 10, 0, 7) -> 7), whatever
 * rounding or clamping did to the sum during the window.
 */
static void rules_reset_resyncs_bp(void)
{
	struct damon_ctx *ctx = new_ctx(10, 30, 3);
	struct damon_region *r;
	unsigned int i = 0;

	REQUIRE(ctx);
	damon_for_each_region(r, target0(ctx)) {
		r->nr_accesses = 7 + i;
		r->nr_accesses_bp = 12345 * (i + 1); /* drifted */
		r->last_nr_accesses = 1;
		i++;
	}
	kdamond_reset_aggregated(ctx);
	i = 0;
	damon_for_each_region(r, target0(ctx)) {
		CHECK_EQ(r->last_nr_accesses, 7 + i);
		CHECK_EQ(r->nr_accesses, 0);
		CHECK_EQ(r->nr_accesses_bp, (7 + i) * 10000);
		i++;
	}
	damon_destroy_ctx(ctx);
}

/* The same through the loop: at every step of the window after a reset. */
static void rules_loop_mvsum_after_reset(void)
{
	struct damon_ctx *ctx = new_ctx(10, 30, 3);
	struct damon_region *r;
	unsigned int k;

	REQUIRE(ctx);
	fake.hot_start = 0;
	fake.hot_end = 30;
	REQUIRE(damon_manual_start(ctx) == 0);
	/* First window: every region accessed in every sample. */
	for (k = 0; k < 10; k++)
		REQUIRE(damon_manual_step(ctx) == 0);
	r = damon_first_region(target0(ctx));
	CHECK_EQ(r->last_nr_accesses, 10);
	CHECK_EQ(r->nr_accesses, 0);
	CHECK_EQ(r->nr_accesses_bp, 100000);
	/* Second window: nothing accessed; the sum falls 1 per sample. */
	fake.accesses_off = true;
	for (k = 1; k <= 9; k++) {
		REQUIRE(damon_manual_step(ctx) == 0);
		r = damon_first_region(target0(ctx));
		CHECK_EQ(r->nr_accesses_bp, (10 - k) * 10000);
	}
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

/* ------------------------------------------------------------------ */
/* §3.6/§5.1: DAMOS reads the moving sum                               */
/* ------------------------------------------------------------------ */

/*
 * In the middle of a window the pattern is matched against bp / 10000,
 * not the raw count: after a window of 10 accesses, k idle samples read
 * 10 - k.  A scheme for [5, 10] accesses applied every sample thus
 * applies at samples 1..5 of the idle window (raw count 0), then stops.
 */
static void rules_pattern_uses_moving_sum(void)
{
	struct damon_ctx *ctx = new_ctx(10, 30, 3);
	unsigned long applies[10];
	struct damos *s;
	unsigned int k;

	REQUIRE(ctx);
	fake.hot_start = 0;
	fake.hot_end = 30;
	s = add_stat_scheme(ctx, 5, 10, 1000);
	REQUIRE(s);
	REQUIRE(damon_manual_start(ctx) == 0);
	for (k = 0; k < 10; k++)
		REQUIRE(damon_manual_step(ctx) == 0);
	fake.accesses_off = true;
	for (k = 1; k <= 9; k++) {
		unsigned long before = fake.nr_applies;

		REQUIRE(damon_manual_step(ctx) == 0);
		applies[k] = fake.nr_applies - before;
	}
	/* bp / 10000 is 10 - k: [5, 10] for k <= 5, on all 3 regions */
	for (k = 1; k <= 9; k++)
		CHECK_EQ(applies[k], k <= 5 ? 3 : 0);
	CHECK_EQ(damon_first_region(target0(ctx))->nr_accesses, 0);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

/* ------------------------------------------------------------------ */
/* §3.2 split                                                          */
/* ------------------------------------------------------------------ */

/* Exact counts where every random choice gives the same number. */
static void rules_split_regions_of_exact(void)
{
	struct {
		unsigned long sz, min_sz;
		int nr_subs;
		unsigned int expect;
	} cases[] = {
		{ 22, 1, 2, 2 }, /* every 10%-90% cut is valid */
		{ 10000, 1, 4, 4 }, /* 3 cuts, the last on >= 100 */
		{ 1000 * PAGE, PAGE, 3, 3 }, /* page-aligned cuts */
		{ 2, 1, 4, 1 }, /* not above 2 * min: no split */
		{ 2 * PAGE, PAGE, 2, 1 }, /* likewise, aligned */
	};
	unsigned int i, seed;

	for (i = 0; i < TAP_NR(cases); i++) {
		for (seed = 0; seed < 20; seed++) {
			struct damon_ctx *c = damon_new_ctx();
			struct damon_target *t = damon_new_target();
			struct damon_region *r =
				damon_new_region(0, cases[i].sz);

			REQUIRE(c && t && r);
			c->rnd_state = seed;
			r->nr_accesses = 4;
			r->nr_accesses_bp = 40000;
			r->last_nr_accesses = 5;
			r->age = 6;
			damon_add_region(r, t);
			damon_split_regions_of(c, t, cases[i].nr_subs,
					       cases[i].min_sz);
			CHECK_EQ(damon_nr_regions(t), cases[i].expect);
			CHECK(regions_consistent(t, 0, cases[i].sz));
			damon_for_each_region(r, t) {
				CHECK_EQ(r->ar.start % cases[i].min_sz, 0);
				CHECK_EQ(r->nr_accesses, 4);
				CHECK_EQ(r->nr_accesses_bp, 40000);
				CHECK_EQ(r->last_nr_accesses, 5);
				CHECK_EQ(r->age, 6);
			}
			/* The first cut is at 10%..90% of the region. */
			r = damon_first_region(t);
			if (cases[i].expect == 2) {
				CHECK(r->ar.end >= cases[i].sz / 10);
				CHECK(r->ar.end <= cases[i].sz * 9 / 10);
			}
			damon_destroy_target(t, NULL);
			damon_destroy_ctx(c);
		}
	}
}

static unsigned int total_regions(struct damon_ctx *ctx)
{
	struct damon_target *t;
	unsigned int nr = 0;

	damon_for_each_target(t, ctx)
		nr += damon_nr_regions(t);
	return nr;
}

/*
 * V-pause split: nothing when there are more than max_nr_regions / 2
 * regions (and last_nr_regions is not updated); otherwise every region in
 * two, or in three when the count did not change since the last split
 * and is below max / 3.
 */
static void rules_split_limits(void)
{
	struct damon_ctx *ctx = new_ctx(10, 1000000, 11);

	REQUIRE(ctx);
	/* 11 > 20 / 2: no split, last_nr_regions untouched */
	ctx->attrs.max_nr_regions = 20;
	ctx->last_nr_regions = 7;
	kdamond_split_regions(ctx);
	CHECK_EQ(total_regions(ctx), 11);
	CHECK_EQ(ctx->last_nr_regions, 7);
	/* 11 <= 22 / 2: each in two (last differs) */
	ctx->attrs.max_nr_regions = 22;
	kdamond_split_regions(ctx);
	CHECK_EQ(total_regions(ctx), 22);
	CHECK_EQ(ctx->last_nr_regions, 11);
	CHECK(regions_consistent(target0(ctx), 0, 1000000 / 11 * 11));
	damon_destroy_ctx(ctx);

	/* Unchanged count below max / 3: each in three. */
	ctx = new_ctx(10, 1000000, 10);
	REQUIRE(ctx);
	ctx->attrs.max_nr_regions = 33;
	ctx->last_nr_regions = 10;
	kdamond_split_regions(ctx);
	CHECK_EQ(total_regions(ctx), 30);
	CHECK_EQ(ctx->last_nr_regions, 10);
	damon_destroy_ctx(ctx);

	/* Unchanged count but not below max / 3 (10 = 30 / 3): two. */
	ctx = new_ctx(10, 1000000, 10);
	REQUIRE(ctx);
	ctx->attrs.max_nr_regions = 30;
	ctx->last_nr_regions = 10;
	kdamond_split_regions(ctx);
	CHECK_EQ(total_regions(ctx), 20);
	damon_destroy_ctx(ctx);
}

/* ------------------------------------------------------------------ */
/* §3.1 merge: ages and threshold                                      */
/* ------------------------------------------------------------------ */

/*
 * Ages: |cur - last| > thres resets, exactly one of them zero resets,
 * else +1.  Merge iff adjacent, |diff| <= thres and the sum of sizes
 * <= sz_limit; the merged count and age are size-weighted averages.
 *
 *   [0,10)  nr 5  last 5  age 3  -> age 4, alone (|5-20| > 9)
 *   [10,20) nr 20 last 5  age 7  -> age 0 (|20-5| > 9), alone
 *   [20,30) nr 0  last 1  age 2  -> age 0 (one zero)
 *   [30,40) nr 0  last 0  age 5  -> age 6, merged: [20,40) nr 0 age 3
 *   [40,50) nr 9  last 9  age 1  -> age 2, |0-9| = 9 <= 9: merged:
 *                                   [20,50) nr 3 age (3*20+2*10)/30 = 2
 *   [50,60) nr 3  last 3  age 0  -> age 1, |3-3| = 0 but 30+10 > 35
 */
static void rules_merge_ages_and_threshold(void)
{
	static const struct {
		unsigned long start, end;
		unsigned int nr, last, age;
	} in[] = {
		{ 0, 10, 5, 5, 3 },  { 10, 20, 20, 5, 7 }, { 20, 30, 0, 1, 2 },
		{ 30, 40, 0, 0, 5 }, { 40, 50, 9, 9, 1 },  { 50, 60, 3, 3, 0 },
	};
	static const struct {
		unsigned long start, end;
		unsigned int nr, age;
	} out[] = {
		{ 0, 10, 5, 4 },
		{ 10, 20, 20, 0 },
		{ 20, 50, 3, 2 },
		{ 50, 60, 3, 1 },
	};
	struct damon_target *t = damon_new_target();
	struct damon_region *r;
	unsigned int i;

	REQUIRE(t);
	for (i = 0; i < TAP_NR(in); i++) {
		r = damon_new_region(in[i].start, in[i].end);
		r->nr_accesses = in[i].nr;
		r->nr_accesses_bp = in[i].nr * 10000;
		r->last_nr_accesses = in[i].last;
		r->age = in[i].age;
		damon_add_region(r, t);
	}
	damon_merge_regions_of(t, 9, 35, true);
	CHECK_EQ(damon_nr_regions(t), TAP_NR(out));
	i = 0;
	damon_for_each_region(r, t) {
		if (i < TAP_NR(out)) {
			CHECK_EQ(r->ar.start, out[i].start);
			CHECK_EQ(r->ar.end, out[i].end);
			CHECK_EQ(r->nr_accesses, out[i].nr);
			CHECK_EQ(r->nr_accesses_bp, out[i].nr * 10000);
			CHECK_EQ(r->age, out[i].age);
		}
		i++;
	}
	/* Without counting age, ages stay; the size limit is inclusive. */
	damon_merge_regions_of(t, 9, 40, false);
	CHECK_EQ(damon_nr_regions(t), 3);
	r = damon_last_region(t);
	CHECK_EQ(r->ar.start, 20);
	CHECK_EQ(r->age, (2 * 30 + 1 * 10) / 40);
	damon_destroy_target(t, NULL);
}

/* ------------------------------------------------------------------ */
/* §3.4 min_nr_regions, §3.7 set_regions, §6.2 commit of regions       */
/* ------------------------------------------------------------------ */

/* The pieces of an enforced limit: exact bounds, limit-sized from left. */
static void rules_min_nr_regions_pieces(void)
{
	struct damon_ctx *c = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	struct damon_region *r;
	unsigned long expect = 0;

	REQUIRE(c && t);
	c->min_region_sz = PAGE;
	c->attrs.min_nr_regions = 4;
	damon_add_target(c, t);
	/* 10 pages / 4 = 2.5 pages, aligned up: 3-page pieces */
	damon_add_region(damon_new_region(0, 10 * PAGE), t);
	CHECK_EQ(damon_apply_min_nr_regions(c), 3 * PAGE);
	CHECK_EQ(damon_nr_regions(t), 4);
	damon_for_each_region(r, t) {
		CHECK_EQ(r->ar.start, expect);
		expect = DAMON_MIN(expect + 3 * PAGE, 10 * PAGE);
		CHECK_EQ(r->ar.end, expect);
	}
	damon_destroy_ctx(c);
}

/*
 * damon_set_regions() aligns every new or extended bound to
 * min_region_sz: starts down, ends up.
 */
static void rules_set_regions_aligns(void)
{
	struct damon_target *t = damon_new_target();
	struct damon_addr_range one = { PAGE + 1, 2 * PAGE - 1 };
	struct damon_addr_range two[] = { { 5000, 10000 },
					  { 5 * PAGE + 7, 6 * PAGE + 1 } };
	struct damon_region *r;

	REQUIRE(t);
	CHECK_EQ(damon_set_regions(t, &one, 1, PAGE), 0);
	CHECK_EQ(damon_nr_regions(t), 1);
	r = damon_first_region(t);
	CHECK_EQ(r->ar.start, PAGE);
	CHECK_EQ(r->ar.end, 2 * PAGE);

	/* Extending the existing region, and a new one after it. */
	CHECK_EQ(damon_set_regions(t, two, 2, PAGE), 0);
	CHECK_EQ(damon_nr_regions(t), 2);
	r = damon_first_region(t);
	CHECK_EQ(r->ar.start, PAGE);
	CHECK_EQ(r->ar.end, 3 * PAGE);
	r = damon_next_region(r);
	CHECK_EQ(r->ar.start, 5 * PAGE);
	CHECK_EQ(r->ar.end, 7 * PAGE);

	/* Ranges that collide once aligned are refused, nothing changes. */
	two[0] = (struct damon_addr_range){ 0, PAGE + 1 };
	two[1] = (struct damon_addr_range){ PAGE + 2, 3 * PAGE };
	CHECK_EQ(damon_set_regions(t, two, 2, PAGE), -EINVAL);
	CHECK_EQ(damon_nr_regions(t), 2);
	damon_destroy_target(t, NULL);
}

/*
 * Contiguous source regions are one range: dst {0-5, 5-15, 15-20} with src
 * {0-10, 10-20} keeps all three destination regions (their counters too).
 * Committed as two ranges it would cut 5-15 at 10.
 */
static void rules_commit_coalesces_source(void)
{
	unsigned long dst_b[] = { 0, 5, 15, 20 };
	struct damon_target *dst = damon_new_target();
	struct damon_target *src = damon_new_target();
	struct damon_region *r;
	unsigned int i;

	REQUIRE(dst && src);
	for (i = 0; i < 3; i++) {
		r = damon_new_region(dst_b[i], dst_b[i + 1]);
		r->age = 10 + i;
		damon_add_region(r, dst);
	}
	damon_add_region(damon_new_region(0, 10), src);
	damon_add_region(damon_new_region(10, 20), src);
	CHECK_EQ(damon_commit_target_regions(dst, src, 1), 0);
	CHECK_EQ(damon_nr_regions(dst), 3);
	i = 0;
	damon_for_each_region(r, dst) {
		CHECK_EQ(r->ar.start, dst_b[i]);
		CHECK_EQ(r->ar.end, dst_b[i + 1]);
		CHECK_EQ(r->age, 10 + i);
		i++;
	}
	/* A gap in the source is a gap in the result. */
	damon_destroy_target(src, NULL);
	src = damon_new_target();
	damon_add_region(damon_new_region(0, 8), src);
	damon_add_region(damon_new_region(12, 20), src);
	CHECK_EQ(damon_commit_target_regions(dst, src, 1), 0);
	CHECK_EQ(damon_nr_regions(dst), 3);
	r = damon_first_region(dst);
	CHECK_EQ(r->ar.end, 5);
	r = damon_next_region(r);
	CHECK_EQ(r->ar.start, 5);
	CHECK_EQ(r->ar.end, 8);
	r = damon_next_region(r);
	CHECK_EQ(r->ar.start, 12);
	CHECK_EQ(r->ar.end, 20);
	damon_destroy_target(dst, NULL);
	damon_destroy_target(src, NULL);
}

/* ------------------------------------------------------------------ */
/* Failed splits (out of memory)                                       */
/* ------------------------------------------------------------------ */

/*
 * A split that cannot allocate leaves the list as it was: enforcing
 * min_nr_regions stops cutting that region (it used to step onto the
 * list head), and an addr filter refuses to answer for a region it could
 * not cut (it used to answer "match" for all of it).
 */
static void rules_failed_split(void)
{
#ifdef HAVE_CALLOC_FAILURE
	struct damos_filter *f;
	struct damon_ctx *c;
	struct damon_target *t;
	struct damon_region *r;

	c = damon_new_ctx();
	t = damon_new_target();
	REQUIRE(c && t);
	c->min_region_sz = 1;
	c->attrs.min_nr_regions = 10;
	damon_add_target(c, t);
	damon_add_region(damon_new_region(0, 100), t);
	fail_nth_calloc(1);
	CHECK_EQ(damon_apply_min_nr_regions(c), 10);
	CHECK_EQ(damon_nr_regions(t), 1);
	CHECK(regions_consistent(t, 0, 100));
	/* The third cut fails: two pieces and the rest. */
	fail_nth_calloc(3);
	CHECK_EQ(damon_apply_min_nr_regions(c), 10);
	CHECK_EQ(damon_nr_regions(t), 3);
	CHECK(regions_consistent(t, 0, 100));
	CHECK_EQ(damon_last_region(t)->ar.start, 20);
	/* Memory back: the next enforcement finishes the job. */
	CHECK_EQ(damon_apply_min_nr_regions(c), 10);
	CHECK_EQ(damon_nr_regions(t), 10);
	CHECK(regions_consistent(t, 0, 100));
	damon_destroy_ctx(c);

	/*
	 * When the region that cannot be cut is the last one, the region
	 * after it is the list head.  The target sits after guard words
	 * that make the head, read as a region, a 100-byte range: stepping
	 * onto it would cut that "region" and put pieces into the list.
	 */
	{
		static struct {
			unsigned long guard[8];
			struct damon_target t;
		} holder;
		unsigned int g;

		for (g = 0; g < TAP_NR(holder.guard); g++)
			holder.guard[g] = 100 * g;
		c = damon_new_ctx();
		REQUIRE(c);
		c->min_region_sz = 1;
		c->attrs.min_nr_regions = 10;
		damon_list_init(&holder.t.regions_list);
		damon_list_init(&holder.t.list);
		damon_add_target(c, &holder.t);
		damon_add_region(damon_new_region(0, 100), &holder.t);
		fail_nth_calloc(1);
		CHECK_EQ(damon_apply_min_nr_regions(c), 10);
		CHECK_EQ(damon_nr_regions(&holder.t), 1);
		CHECK(regions_consistent(&holder.t, 0, 100));
		for (g = 0; g < TAP_NR(holder.guard); g++)
			CHECK_EQ(holder.guard[g], 100 * g);
		damon_list_del(&holder.t.list);
		while ((r = damon_first_region(&holder.t)))
			damon_destroy_region(r, &holder.t);
		damon_destroy_ctx(c);
	}

	/* Splitting into subregions stops at the failure. */
	c = damon_new_ctx();
	t = damon_new_target();
	REQUIRE(c && t);
	damon_add_region(damon_new_region(0, 10000), t);
	fail_nth_calloc(2);
	damon_split_regions_of(c, t, 4, 1);
	CHECK_EQ(damon_nr_regions(t), 2);
	CHECK(regions_consistent(t, 0, 10000));
	damon_destroy_target(t, NULL);
	damon_destroy_ctx(c);

	/* Filter [2, 6): regions straddling either bound. */
	t = damon_new_target();
	f = damos_new_filter(DAMOS_FILTER_TYPE_ADDR, true, true);
	REQUIRE(t && f);
	f->addr_range = (struct damon_addr_range){ 2, 6 };
	r = damon_new_region(3, 8);
	damon_add_region(r, t);
	fail_nth_calloc(1);
	CHECK_EQ(udamon__damos_filter_match(NULL, t, r, f, 1), -ENOMEM);
	CHECK_EQ(damon_nr_regions(t), 1);
	CHECK(regions_consistent(t, 3, 8));
	r->ar.start = 1;
	fail_nth_calloc(1);
	CHECK_EQ(udamon__damos_filter_match(NULL, t, r, f, 1), -ENOMEM);
	CHECK(regions_consistent(t, 1, 8));
	/* With memory: cut at 2, the head [1, 2) does not match. */
	CHECK_EQ(udamon__damos_filter_match(NULL, t, r, f, 1), 0);
	CHECK_EQ(r->ar.end, 2);
	r = damon_next_region(r);
	CHECK_EQ(udamon__damos_filter_match(NULL, t, r, f, 1), 1);
	CHECK_EQ(r->ar.start, 2);
	CHECK_EQ(r->ar.end, 6);
	CHECK(regions_consistent(t, 1, 8));
	damos_destroy_filter(f);
	damon_destroy_target(t, NULL);
#else
	tap_skip("the sanitizers own calloc()");
#endif
}

/* ------------------------------------------------------------------ */
/* §2.7 pause                                                          */
/* ------------------------------------------------------------------ */

/* Step until passed_sample_intervals reaches @passed. */
static void step_to(struct damon_ctx *ctx, unsigned long passed)
{
	while (ctx->passed_sample_intervals < passed)
		REQUIRE(damon_manual_step(ctx) == 0);
}

/*
 * Resume finishes the paused iteration: a pause that took effect at an
 * aggregation boundary (after its sample and merge) leaves DAMOS, the
 * reset and the split of that boundary to the step that resumes, which
 * runs them without another sample.
 */
static void rules_resume_finishes_iteration(void)
{
	struct damon_ctx *ctx = new_ctx(10, 30, 3);
	unsigned long applies;
	struct damos *s;
	int i;

	REQUIRE(ctx);
	fake.hot_start = 0;
	fake.hot_end = 30;
	damon_set_event_fn(ctx, count_aggregated, NULL);
	nr_aggregated = 0;
	s = add_stat_scheme(ctx, 0, UINT_MAX, 0); /* every aggregation */
	REQUIRE(s);
	REQUIRE(damon_manual_start(ctx) == 0);
	step_to(ctx, 9);
	CHECK_EQ(nr_aggregated, 0);
	ctx->pause = true;
	REQUIRE(damon_manual_step(ctx) == 0);
	/* The boundary sample was taken; DAMOS and the reset were not. */
	CHECK_EQ(ctx->passed_sample_intervals, 10);
	CHECK(ctx->in_pause_loop);
	CHECK_EQ(nr_aggregated, 0);
	CHECK_EQ(fake.nr_applies, 0);
	CHECK_EQ(damon_first_region(target0(ctx))->nr_accesses, 10);
	for (i = 0; i < 5; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	CHECK_EQ(nr_aggregated, 0);
	CHECK_EQ(fake.nr_applies, 0);

	ctx->pause = false;
	REQUIRE(damon_manual_step(ctx) == 0);
	CHECK_EQ(ctx->passed_sample_intervals, 10);
	CHECK(fake.nr_applies > 0);
	CHECK_EQ(fake.last_apply_passed, 10);
	/* One event per region of the window that ended at sample 10. */
	CHECK_EQ(nr_aggregated, 3);
	CHECK_EQ(last_aggregated_passed, 10);
	CHECK_EQ(damon_first_region(target0(ctx))->last_nr_accesses, 10);
	CHECK_EQ(ctx->next_aggregation_sis, 20);
	/* The ops update due at sample 10 ran in that same step. */
	CHECK_EQ(fake.nr_updates, 1);
	applies = fake.nr_applies;
	REQUIRE(damon_manual_step(ctx) == 0);
	CHECK_EQ(ctx->passed_sample_intervals, 11);
	CHECK_EQ(fake.nr_applies, applies);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

/*
 * While paused: no prepare/check, no counter, no aggregation, no ops
 * update, no watermark reads, no DAMOS; one current sample interval of
 * sleep per round (a commit of a new interval changes the next rounds).
 */
static void rules_paused_does_nothing_else(void)
{
	struct damon_ctx *ctx = new_ctx(2, 30, 3);
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_FREE_MEM_RATE,
					   .interval = 1000,
					   .high = 900,
					   .mid = 600,
					   .low = 100 };
	struct damon_attrs attrs;
	unsigned long prepares, checks, updates, wmark_reads, applies, passed;
	struct damos *s;
	uint64_t t0;
	int i;

	REQUIRE(ctx);
	s = add_stat_scheme(ctx, 0, UINT_MAX, 1000);
	REQUIRE(s);
	s->wmarks = wmarks;
	damon_set_event_fn(ctx, count_aggregated, NULL);
	nr_aggregated = 0;
	REQUIRE(damon_manual_start(ctx) == 0);
	step_to(ctx, 7);
	CHECK(fake.nr_updates > 0);
	CHECK(fake.nr_wmark_reads > 0);
	CHECK(fake.nr_applies > 0);
	ctx->pause = true;
	REQUIRE(damon_manual_step(ctx) == 0);
	REQUIRE(ctx->in_pause_loop);
	prepares = fake.nr_prepares;
	checks = fake.nr_checks;
	updates = fake.nr_updates;
	wmark_reads = fake.nr_wmark_reads;
	applies = fake.nr_applies;
	passed = ctx->passed_sample_intervals;
	nr_aggregated = 0;
	t0 = damon_now_ns(ctx);
	for (i = 0; i < 100; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	CHECK_EQ(fake.nr_prepares, prepares);
	CHECK_EQ(fake.nr_checks, checks);
	CHECK_EQ(fake.nr_updates, updates);
	CHECK_EQ(fake.nr_wmark_reads, wmark_reads);
	CHECK_EQ(fake.nr_applies, applies);
	CHECK_EQ(ctx->passed_sample_intervals, passed);
	CHECK_EQ(nr_aggregated, 0);
	CHECK_EQ(damon_now_ns(ctx) - t0, 100ULL * 1000 * 1000);

	/*
	 * A new interval while paused: rounds sleep it, and the schedule
	 * is recomputed from the frozen counter.
	 */
	attrs = ctx->attrs;
	attrs.sample_interval = 3000;
	attrs.aggr_interval = 30000;
	attrs.ops_update_interval = 6000;
	REQUIRE(damon_set_attrs(ctx, &attrs) == 0);
	CHECK_EQ(ctx->next_aggregation_sis, passed + 10);
	CHECK_EQ(ctx->next_ops_update_sis, passed + 2);
	t0 = damon_now_ns(ctx);
	for (i = 0; i < 10; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	CHECK_EQ(damon_now_ns(ctx) - t0, 10ULL * 3000 * 1000);
	CHECK_EQ(ctx->passed_sample_intervals, passed);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

/* A paused kdamond stops when every target becomes invalid (§2.4). */
static void rules_paused_stops_without_valid_target(void)
{
	struct damon_ctx *ctx = new_ctx(10, 30, 3);
	int i;

	REQUIRE(ctx);
	ctx->pause = true;
	REQUIRE(damon_manual_start(ctx) == 0);
	for (i = 0; i < 5; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	REQUIRE(ctx->in_pause_loop);
	fake.targets_invalid = true;
	CHECK_EQ(damon_manual_step(ctx), 1);
	damon_manual_stop(ctx);
	CHECK(!damon_is_running(ctx));
	damon_destroy_ctx(ctx);
}

/* A stop request ends a paused (manually driven) kdamond at its next round. */
static void rules_paused_stops_on_request(void)
{
	struct damon_ctx *ctx = new_ctx(10, 30, 3);

	REQUIRE(ctx);
	ctx->pause = true;
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_step(ctx) == 0);
	REQUIRE(damon_manual_step(ctx) == 0);
	CHECK_EQ(damon_stop(&ctx, 1), 0);
	CHECK_EQ(damon_manual_step(ctx), 1);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

struct online_commit {
	struct damon_ctx *ctx;
	unsigned long at_passed; /* commit when the counter is here */
	bool in_pause_loop; /* ... and only from the pause loop */
	bool pause;
	bool done;
	int err;
};

static int commit_once(void *data)
{
	struct online_commit *oc = data;
	struct damon_ctx *src;

	if (oc->done || oc->ctx->passed_sample_intervals != oc->at_passed ||
	    (oc->in_pause_loop && !oc->ctx->in_pause_loop))
		return 0;
	oc->done = true;
	src = damon_new_ctx();
	if (!src) {
		oc->err = -ENOMEM;
		return oc->err;
	}
	damon_select_ops(src, DAMON_OPS_APP);
	src->min_region_sz = 1;
	src->attrs = oc->ctx->attrs;
	damon_add_target(src, damon_new_target());
	/* the same scheme again, or the commit would remove it */
	if (damon_nr_schemes(oc->ctx))
		add_stat_scheme(src, 0, UINT_MAX, 1000);
	src->pause = oc->pause;
	oc->err = damon_commit_ctx(oc->ctx, src);
	damon_destroy_ctx(src);
	return oc->err;
}

/*
 * A pause committed online takes effect in the iteration that serves the
 * commit, after its sample and before its DAMOS; a commit of the same
 * attrs does not move the schedule.
 */
static void rules_online_pause_before_damos(void)
{
	struct damon_ctx *ctx = new_ctx(10, 30, 3);
	struct online_commit oc = { .at_passed = 4, .pause = true };
	struct damon_call_control control = { .fn = commit_once,
					      .data = &oc,
					      .repeat = true };
	unsigned long applies;

	REQUIRE(ctx);
	oc.ctx = ctx;
	REQUIRE(add_stat_scheme(ctx, 0, UINT_MAX, 1000));
	REQUIRE(damon_manual_start(ctx) == 0);
	CHECK_EQ(damon_call(ctx, &control), 0);
	step_to(ctx, 3);
	applies = fake.nr_applies;
	CHECK(applies > 0);
	REQUIRE(damon_manual_step(ctx) == 0);
	CHECK(oc.done);
	CHECK_EQ(oc.err, 0);
	CHECK(ctx->pause);
	CHECK(ctx->in_pause_loop);
	CHECK_EQ(ctx->passed_sample_intervals, 4);
	CHECK_EQ(fake.nr_applies, applies);
	/* Same attrs: next_aggregation_sis stays where the start put it. */
	CHECK_EQ(ctx->next_aggregation_sis, 10);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

/*
 * A commit that passes the trial but fails on the live context leaves
 * maybe_corrupted set, and the kdamond exits after the call that ran it,
 * paused or not.
 */
static void rules_failed_live_commit_corrupts(void)
{
	int paused;

	for (paused = 0; paused < 2; paused++) {
		struct damon_ctx *ctx = new_ctx(10, 30, 3);
		struct online_commit oc = { .at_passed = 3, .pause = paused };
		struct damon_call_control control = { .fn = commit_once,
						      .data = &oc,
						      .repeat = true };
		int i, rc = 0;

		REQUIRE(ctx);
		oc.ctx = ctx;
		ctx->pause = paused;
		fake.fail_commit_into = ctx;
		REQUIRE(damon_manual_start(ctx) == 0);
		CHECK_EQ(damon_call(ctx, &control), 0);
		if (paused) {
			/* committed in the pause loop, at the frozen counter */
			oc.at_passed = 1;
			oc.in_pause_loop = true;
		}
		for (i = 0; i < 10 && !rc; i++)
			rc = damon_manual_step(ctx);
		CHECK(oc.done);
		CHECK_EQ(oc.err, -ENOMEM);
		CHECK(ctx->maybe_corrupted);
		CHECK_EQ(rc, 1);
		CHECK_EQ(ctx->passed_sample_intervals, paused ? 1 : 3);
		damon_manual_stop(ctx);
		CHECK(!damon_is_running(ctx));
		damon_destroy_ctx(ctx);
	}
	/* A trial failure leaves the live context untouched and running. */
	{
		struct damon_ctx *ctx = new_ctx(10, 30, 3);
		struct damon_ctx *src = damon_new_ctx();

		REQUIRE(ctx && src);
		damon_select_ops(src, DAMON_OPS_APP);
		src->min_region_sz = 3;
		CHECK_EQ(damon_commit_ctx(ctx, src), -EINVAL);
		CHECK(!ctx->maybe_corrupted);
		CHECK_EQ(ctx->min_region_sz, 1);
		damon_destroy_ctx(src);
		damon_destroy_ctx(ctx);
	}
}

/* ------------------------------------------------------------------ */
/* Walks while paused (§2.7, §6.4, §10)                                */
/* ------------------------------------------------------------------ */

struct walker {
	struct damon_ctx *ctx;
	struct damos_walk_control control;
	pthread_t thread;
	atomic_bool done;
	int ret;
};

static void walk_nop(void *data, struct damon_ctx *ctx, struct damon_target *t,
		     struct damon_region *r, struct damos *s,
		     unsigned long sz_filter_passed)
{
}

static void *walker_main(void *arg)
{
	struct walker *w = arg;

	w->ret = damos_walk(w->ctx, &w->control);
	atomic_store(&w->done, true);
	return NULL;
}

static bool walker_start(struct walker *w, struct damon_ctx *ctx)
{
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->control.walk_fn = walk_nop;
	atomic_init(&w->done, false);
	return pthread_create(&w->thread, NULL, walker_main, w) == 0;
}

static bool walk_installed(struct damon_ctx *ctx)
{
	bool installed;

	pthread_mutex_lock(&ctx->lock);
	installed = ctx->walk_control != NULL;
	pthread_mutex_unlock(&ctx->lock);
	return installed;
}

static bool call_queued(struct damon_ctx *ctx)
{
	bool queued;

	pthread_mutex_lock(&ctx->lock);
	queued = !damon_list_empty(&ctx->call_controls);
	pthread_mutex_unlock(&ctx->lock);
	return queued;
}

/* Wait up to @ms of real time for @w to finish; whether it did. */
static bool walker_wait_done(struct walker *w, unsigned int ms)
{
	unsigned int i;

	for (i = 0; i < ms && !atomic_load(&w->done); i++)
		usleep(1000);
	return atomic_load(&w->done);
}

/*
 * Every pause round cancels the installed walk: one round after a walk is
 * installed it has returned -ECANCELED.  Bounded: if it were not canceled,
 * the stop below cancels it and the check fails instead of hanging.
 */
static void rules_paused_round_cancels_walk(void)
{
	struct damon_ctx *ctx = new_ctx(10, 30, 3);
	struct walker w;
	int i;

	REQUIRE(ctx);
	REQUIRE(add_stat_scheme(ctx, 0, UINT_MAX, 0));
	ctx->pause = true;
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_step(ctx) == 0);
	REQUIRE(ctx->in_pause_loop);
	REQUIRE(walker_start(&w, ctx));
	for (i = 0; i < 5000 && !walk_installed(ctx); i++)
		usleep(1000);
	REQUIRE(walk_installed(ctx));
	REQUIRE(damon_manual_step(ctx) == 0);
	CHECK(walker_wait_done(&w, 5000));
	CHECK(!walk_installed(ctx));
	damon_manual_stop(ctx);
	pthread_join(w.thread, NULL);
	CHECK_EQ(w.ret, -ECANCELED);
	damon_destroy_ctx(ctx);
}

/* ------------------------------------------------------------------ */
/* A paused kdamond answers at once (real clock)                       */
/* ------------------------------------------------------------------ */

#define LONG_SAMPLE_US (30UL * 1000 * 1000)
/* Far below one 30 s round: a wake, not a whole sleep. */
#define PROMPT_MS 5000

static uint64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int count_call(void *data)
{
	atomic_fetch_add((atomic_int *)data, 1);
	return 7;
}

struct caller {
	struct damon_ctx *ctx;
	atomic_int calls;
	struct damon_call_control control;
	pthread_t thread;
	atomic_bool done;
	int ret;
};

static void *caller_main(void *arg)
{
	struct caller *c = arg;

	c->ret = damon_call(c->ctx, &c->control);
	atomic_store(&c->done, true);
	return NULL;
}

static bool caller_start(struct caller *c, struct damon_ctx *ctx)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	atomic_init(&c->calls, 0);
	atomic_init(&c->done, false);
	c->control.fn = count_call;
	c->control.data = &c->calls;
	return pthread_create(&c->thread, NULL, caller_main, c) == 0;
}

/* A manually driven context, paused, whose rounds sleep 30 real seconds. */
static struct damon_ctx *new_paused_real_clock_ctx(void)
{
	struct damon_ctx *ctx = new_ctx(10, 30, 3);
	struct damon_attrs attrs;

	if (!ctx)
		return NULL;
	ctx->virtual_clock = false;
	ctx->pause = true;
	if (damon_manual_start(ctx)) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	/* the one sample before the pause takes 1 ms */
	if (damon_manual_step(ctx) || !ctx->in_pause_loop)
		return ctx;
	attrs = ctx->attrs;
	attrs.sample_interval = LONG_SAMPLE_US;
	attrs.aggr_interval = 10 * LONG_SAMPLE_US;
	damon_set_attrs(ctx, &attrs);
	return ctx;
}

/*
 * The lost wake-up: a call queued before the pause round begins to sleep
 * (here: before the round even starts) is served by that round at once,
 * not after the round's 30 s sleep.
 */
static void rules_paused_serves_queued_call_at_once(void)
{
	struct damon_ctx *ctx = new_paused_real_clock_ctx();
	struct caller c;
	uint64_t t0;
	int i;

	REQUIRE(ctx);
	REQUIRE(ctx->in_pause_loop);
	REQUIRE(caller_start(&c, ctx));
	for (i = 0; i < 5000 && !call_queued(ctx); i++)
		usleep(1000);
	REQUIRE(call_queued(ctx));
	t0 = real_ms();
	REQUIRE(damon_manual_step(ctx) == 0);
	CHECK(real_ms() - t0 < PROMPT_MS);
	pthread_join(c.thread, NULL);
	CHECK_EQ(c.ret, 0);
	CHECK_EQ(c.control.return_code, 7);
	CHECK_EQ(atomic_load(&c.calls), 1);
	CHECK(ctx->pause);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

static int commit_pause_long_interval(void *data)
{
	struct damon_ctx *ctx = data;
	struct damon_ctx *src = damon_new_ctx();
	int err;

	if (!src)
		return -ENOMEM;
	damon_select_ops(src, DAMON_OPS_APP);
	src->min_region_sz = 1;
	src->attrs = ctx->attrs;
	src->attrs.sample_interval = LONG_SAMPLE_US;
	src->attrs.aggr_interval = 10 * LONG_SAMPLE_US;
	damon_add_target(src, damon_new_target());
	add_stat_scheme(src, 0, UINT_MAX, 0);
	src->pause = true;
	err = damon_commit_ctx(ctx, src);
	damon_destroy_ctx(src);
	return err;
}

/*
 * A real kdamond paused with a 30 s sample interval: a damon_call()
 * returns, and a damos_walk() is canceled, in well under one interval,
 * whenever they arrive (repeatedly, so some land mid-sleep and some
 * between rounds).
 */
static void rules_thread_paused_answers_at_once(void)
{
	struct damon_ctx *ctx = new_ctx(10, 30, 3);
	struct damon_call_control pause_it = {
		.fn = commit_pause_long_interval
	};
	struct walker w;
	uint64_t t0, slowest = 0;
	int i, calls = 0;

	REQUIRE(ctx);
	REQUIRE(add_stat_scheme(ctx, 0, UINT_MAX, 0));
	ctx->virtual_clock = false;
	pause_it.data = ctx;
	REQUIRE(damon_start(&ctx, 1, false) == 0);
	CHECK_EQ(damon_call(ctx, &pause_it), 0);
	CHECK_EQ(pause_it.return_code, 0);
	for (i = 0; i < 6; i++) {
		struct damon_call_control control = { .fn = count_call,
						      .data = &calls };

		t0 = real_ms();
		CHECK_EQ(damon_call(ctx, &control), 0);
		CHECK_EQ(control.return_code, 7);
		CHECK(real_ms() - t0 < PROMPT_MS);
		if (real_ms() - t0 > slowest)
			slowest = real_ms() - t0;
		usleep(i * 20000);
	}
	CHECK_EQ(calls, 6);
	tap_diag("slowest call on a paused 30 s kdamond: %llu ms",
		 (unsigned long long)slowest);
	for (i = 0; i < 3; i++) {
		t0 = real_ms();
		REQUIRE(walker_start(&w, ctx));
		CHECK(walker_wait_done(&w, PROMPT_MS));
		if (!atomic_load(&w.done))
			break; /* the stop below cancels it */
		pthread_join(w.thread, NULL);
		CHECK_EQ(w.ret, -ECANCELED);
		usleep(i * 20000);
	}
	CHECK_EQ(damon_stop(&ctx, 1), 0);
	if (i < 3) {
		pthread_join(w.thread, NULL);
		CHECK_EQ(w.ret, -ECANCELED);
	}
	damon_destroy_ctx(ctx);
}

static const struct tap_case cases[] = {
	TAP_CASE(rules_mvsum_every_step),
	TAP_CASE(rules_mvsum_long_window),
	TAP_CASE(rules_reset_resyncs_bp),
	TAP_CASE(rules_loop_mvsum_after_reset),
	TAP_CASE(rules_pattern_uses_moving_sum),
	TAP_CASE(rules_split_regions_of_exact),
	TAP_CASE(rules_split_limits),
	TAP_CASE(rules_merge_ages_and_threshold),
	TAP_CASE(rules_min_nr_regions_pieces),
	TAP_CASE(rules_set_regions_aligns),
	TAP_CASE(rules_commit_coalesces_source),
	TAP_CASE(rules_failed_split),
	TAP_CASE(rules_resume_finishes_iteration),
	TAP_CASE(rules_paused_does_nothing_else),
	TAP_CASE(rules_paused_stops_without_valid_target),
	TAP_CASE(rules_paused_stops_on_request),
	TAP_CASE(rules_online_pause_before_damos),
	TAP_CASE(rules_failed_live_commit_corrupts),
	TAP_CASE(rules_paused_round_cancels_walk),
	TAP_CASE(rules_paused_serves_queued_call_at_once),
	TAP_CASE(rules_thread_paused_answers_at_once),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
