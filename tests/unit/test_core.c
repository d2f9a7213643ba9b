// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the DAMON core: the kernel's core kunit cases that concern
 * regions, attrs, commit, call and walk (spec §9.1), and the kdamond loop
 * with its pause loop, driven with a virtual clock and a fake operations
 * set both without threads (manual stepping) and with a real kdamond.
 */
#include "../lib/tap.h"
#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <limits.h>
#include <unistd.h>

/* ---------------------------------------------------------------- */
/* A fake operations set: pages in [hot_start, hot_end) are accessed */
/* in every sample, everything else never.                           */
/* ---------------------------------------------------------------- */

static unsigned long hot_start, hot_end;
static unsigned int nr_prepares, nr_checks, nr_updates;

static void fake_prepare(struct damon_ctx *ctx)
{
	struct damon_target *t;
	struct damon_region *r;

	nr_prepares++;
	damon_for_each_target(t, ctx)
		damon_for_each_region(r, t)
			r->sampling_addr =
				damon_rand(ctx, r->ar.start, r->ar.end);
}

static unsigned int fake_check(struct damon_ctx *ctx)
{
	struct damon_target *t;
	struct damon_region *r;
	unsigned int max = 0;

	nr_checks++;
	damon_for_each_target(t, ctx) {
		damon_for_each_region(r, t) {
			bool accessed = r->sampling_addr >= hot_start &&
					r->sampling_addr < hot_end;

			damon_update_region_access_rate(r, accessed,
							&ctx->attrs);
			if (r->nr_accesses > max)
				max = r->nr_accesses;
		}
	}
	return max;
}

static void fake_update(struct damon_ctx *ctx)
{
	nr_updates++;
}

static bool fake_target_valid(struct damon_target *t)
{
	return true;
}

static struct damon_operations fake_ops = {
	.id = DAMON_OPS_APP,
	.prepare_access_checks = fake_prepare,
	.check_accesses = fake_check,
	.update = fake_update,
	.target_valid = fake_target_valid,
};

static void register_fake_ops(void)
{
	damon_unregister_ops(DAMON_OPS_APP);
	damon_register_ops(&fake_ops);
}

#define MIB (1024UL * 1024)

/*
 * A context on the fake ops with one 100 MiB target, hot in 23-33 MiB: not
 * on the 10 MiB slices min_nr_regions cuts at start, so the loop has to
 * find both edges by splitting.
 */
static struct damon_ctx *new_fake_ctx(void)
{
	struct damon_addr_range range = { 0, 100 * MIB };
	struct damon_ctx *ctx;
	struct damon_target *t;

	register_fake_ops();
	hot_start = 23 * MIB;
	hot_end = 33 * MIB;
	nr_prepares = nr_checks = nr_updates = 0;
	ctx = damon_new_ctx();
	if (!ctx)
		return NULL;
	damon_select_ops(ctx, DAMON_OPS_APP);
	damon_use_virtual_clock(ctx);
	t = damon_new_target();
	damon_add_target(ctx, t);
	damon_set_regions(t, &range, 1, DAMON_MIN_REGION_SZ);
	return ctx;
}

static struct damon_target *first_target(struct damon_ctx *ctx)
{
	return damon_nth_target(0, ctx);
}

/* Flat copy of every region of the first target, for comparisons. */
struct region_snapshot {
	unsigned int nr;
	struct damon_region regions[2048];
};

static void snapshot(struct damon_ctx *ctx, struct region_snapshot *s)
{
	struct damon_region *r;

	s->nr = 0;
	damon_for_each_region(r, first_target(ctx)) {
		if (s->nr >= 2048)
			break;
		s->regions[s->nr] = *r;
		s->regions[s->nr].list.next = NULL;
		s->regions[s->nr].list.prev = NULL;
		s->nr++;
	}
}

static bool snapshots_equal(const struct region_snapshot *a,
			    const struct region_snapshot *b)
{
	unsigned int i;

	if (a->nr != b->nr)
		return false;
	for (i = 0; i < a->nr; i++) {
		const struct damon_region *x = &a->regions[i];
		const struct damon_region *y = &b->regions[i];

		if (x->ar.start != y->ar.start || x->ar.end != y->ar.end ||
		    x->nr_accesses != y->nr_accesses ||
		    x->nr_accesses_bp != y->nr_accesses_bp ||
		    x->last_nr_accesses != y->last_nr_accesses ||
		    x->age != y->age || x->sampling_addr != y->sampling_addr)
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- */
/* Kernel kunit cases (spec §9.1)                                    */
/* ---------------------------------------------------------------- */

static void damon_test_target(void)
{
	struct damon_ctx *c = damon_new_ctx();
	struct damon_target *t = damon_new_target();

	CHECK_EQ(damon_nr_targets(c), 0);
	damon_add_target(c, t);
	CHECK_EQ(damon_nr_targets(c), 1);
	damon_destroy_target(t, c);
	CHECK_EQ(damon_nr_targets(c), 0);
	damon_destroy_ctx(c);
}

static void damon_test_regions(void)
{
	struct damon_region *r = damon_new_region(1, 2);
	struct damon_target *t = damon_new_target();

	CHECK_EQ(r->ar.start, 1);
	CHECK_EQ(r->ar.end, 2);
	CHECK_EQ(r->nr_accesses, 0);
	CHECK_EQ(damon_nr_regions(t), 0);
	damon_add_region(r, t);
	CHECK_EQ(damon_nr_regions(t), 1);
	damon_destroy_region(r, t);
	CHECK_EQ(damon_nr_regions(t), 0);
	damon_destroy_target(t, NULL);
}

static void damon_test_aggregate(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	unsigned long saddr[3][3] = { { 10, 20, 30 },
				      { 5, 42, 49 },
				      { 13, 33, 55 } };
	unsigned long eaddr[3][3] = { { 15, 27, 40 },
				      { 31, 45, 55 },
				      { 23, 44, 66 } };
	unsigned int accesses[3][3] = { { 42, 95, 84 },
					{ 10, 20, 30 },
					{ 0, 1, 2 } };
	struct damon_target *t;
	struct damon_region *r;
	int i, j;

	for (i = 0; i < 3; i++) {
		t = damon_new_target();
		damon_add_target(ctx, t);
		for (j = 0; j < 3; j++) {
			r = damon_new_region(saddr[i][j], eaddr[i][j]);
			r->nr_accesses = accesses[i][j];
			r->nr_accesses_bp = accesses[i][j] * 10000;
			damon_add_region(r, t);
		}
	}
	kdamond_reset_aggregated(ctx);
	i = 0;
	damon_for_each_target(t, ctx) {
		j = 0;
		damon_for_each_region(r, t) {
			CHECK_EQ(r->nr_accesses, 0);
			CHECK_EQ(r->last_nr_accesses, accesses[i][j]);
			j++;
		}
		CHECK_EQ(j, 3);
		i++;
	}
	CHECK_EQ(i, 3);
	damon_destroy_ctx(ctx);
}

static void damon_test_split_at(void)
{
	struct damon_target *t = damon_new_target();
	struct damon_region *r = damon_new_region(0, 100), *r_new;

	r->nr_accesses_bp = 420000;
	r->nr_accesses = 42;
	r->last_nr_accesses = 15;
	r->age = 10;
	damon_add_region(r, t);
	damon_split_region_at(t, r, 25);
	CHECK_EQ(r->ar.start, 0);
	CHECK_EQ(r->ar.end, 25);
	r_new = damon_next_region(r);
	CHECK_EQ(r_new->ar.start, 25);
	CHECK_EQ(r_new->ar.end, 100);
	CHECK_EQ(r_new->nr_accesses_bp, r->nr_accesses_bp);
	CHECK_EQ(r_new->nr_accesses, r->nr_accesses);
	CHECK_EQ(r_new->last_nr_accesses, r->last_nr_accesses);
	CHECK_EQ(r_new->age, r->age);
	CHECK_EQ(damon_nr_regions(t), 2);
	damon_destroy_target(t, NULL);
}

static void damon_test_merge_two(void)
{
	struct damon_target *t = damon_new_target();
	struct damon_region *r = damon_new_region(0, 100), *r2;

	r->nr_accesses = 10;
	r->nr_accesses_bp = 100000;
	r->age = 9;
	damon_add_region(r, t);
	r2 = damon_new_region(100, 300);
	r2->nr_accesses = 20;
	r2->nr_accesses_bp = 200000;
	r2->age = 21;
	damon_add_region(r2, t);

	damon_merge_two_regions(t, r, r2);
	CHECK_EQ(r->ar.start, 0);
	CHECK_EQ(r->ar.end, 300);
	CHECK_EQ(r->nr_accesses, 16);
	CHECK_EQ(r->nr_accesses_bp, 160000);
	CHECK_EQ(r->age, 17);
	CHECK_EQ(damon_nr_regions(t), 1);
	damon_destroy_target(t, NULL);
}

static void damon_test_merge_regions_of(void)
{
	unsigned long sa[] = { 0, 100, 114, 122, 130, 156, 170, 184, 230 };
	unsigned long ea[] = { 100, 112, 122, 130, 156, 170, 184, 230, 10170 };
	unsigned int nrs[] = { 0, 0, 10, 10, 20, 30, 1, 2, 5 };
	unsigned long saddrs[] = { 0, 114, 130, 156, 170, 230 };
	unsigned long eaddrs[] = { 112, 130, 156, 170, 230, 10170 };
	struct damon_target *t = damon_new_target();
	struct damon_region *r;
	unsigned int i;

	for (i = 0; i < TAP_NR(sa); i++) {
		r = damon_new_region(sa[i], ea[i]);
		r->nr_accesses = nrs[i];
		r->nr_accesses_bp = nrs[i] * 10000;
		damon_add_region(r, t);
	}
	damon_merge_regions_of(t, 9, 9999, true);
	CHECK_EQ(damon_nr_regions(t), 6);
	i = 0;
	damon_for_each_region(r, t) {
		if (i < TAP_NR(saddrs)) {
			CHECK_EQ(r->ar.start, saddrs[i]);
			CHECK_EQ(r->ar.end, eaddrs[i]);
		}
		i++;
	}
	damon_destroy_target(t, NULL);
}

static void damon_test_split_regions_of(void)
{
	struct damon_ctx *c = damon_new_ctx();
	struct damon_target *t;
	struct damon_region *r;
	unsigned long sa[] = { 0, 300, 500 };
	unsigned long ea[] = { 220, 400, 700 };
	unsigned int i;

	t = damon_new_target();
	r = damon_new_region(0, 22);
	damon_add_region(r, t);
	damon_split_regions_of(c, t, 2, 1);
	CHECK(damon_nr_regions(t) <= 2);
	damon_destroy_target(t, NULL);

	t = damon_new_target();
	r = damon_new_region(0, 220);
	damon_add_region(r, t);
	damon_split_regions_of(c, t, 4, 1);
	CHECK(damon_nr_regions(t) <= 4);
	damon_destroy_target(t, NULL);

	t = damon_new_target();
	for (i = 0; i < TAP_NR(sa); i++)
		damon_add_region(damon_new_region(sa[i], ea[i]), t);
	damon_split_regions_of(c, t, 4, 5);
	CHECK(damon_nr_regions(t) <= 12);
	/* Pieces stay aligned to the minimum size, in order, no gaps lost. */
	damon_for_each_region(r, t) {
		CHECK(r->ar.start < r->ar.end);
		CHECK_EQ(r->ar.start % 5, 0);
	}
	damon_destroy_target(t, NULL);
	damon_destroy_ctx(c);
}

static void damon_test_ops_registration(void)
{
	struct damon_ctx *c = damon_new_ctx();
	struct damon_operations ops = { .id = DAMON_OPS_APP }, bak;
	bool was_registered = damon_is_registered_ops(DAMON_OPS_APP);

	if (was_registered) {
		damon_select_ops(c, DAMON_OPS_APP);
		bak = c->ops;
		damon_unregister_ops(DAMON_OPS_APP);
	}
	CHECK_EQ(damon_select_ops(c, DAMON_OPS_APP), -EINVAL);
	CHECK_EQ(damon_register_ops(&ops), 0);
	CHECK_EQ(damon_select_ops(c, DAMON_OPS_APP), 0);
	/* Double registration fails. */
	CHECK_EQ(damon_register_ops(&ops), -EINVAL);
	/* Unknown ids fail. */
	ops.id = NR_DAMON_OPS;
	CHECK_EQ(damon_register_ops(&ops), -EINVAL);
	CHECK_EQ(damon_select_ops(c, NR_DAMON_OPS), -EINVAL);
	/* Re-registration after unregistration works. */
	CHECK_EQ(damon_unregister_ops(DAMON_OPS_APP), 0);
	ops.id = DAMON_OPS_APP;
	CHECK_EQ(damon_register_ops(&ops), 0);
	damon_unregister_ops(DAMON_OPS_APP);
	if (was_registered)
		damon_register_ops(&bak);
	c->ops.id = DAMON_OPS_APP;
	damon_destroy_ctx(c);
}

struct set_regions_case {
	unsigned long old[6][2];
	unsigned int nr_old;
	struct damon_addr_range new[4];
	unsigned int nr_new;
	unsigned long expect[6][2];
	unsigned int nr_expect;
};

static void check_set_regions(const struct set_regions_case *c,
			      unsigned long min_sz)
{
	struct damon_target *t = damon_new_target();
	struct damon_addr_range ranges[4];
	struct damon_region *r;
	unsigned int i;

	for (i = 0; i < c->nr_old; i++)
		damon_add_region(damon_new_region(c->old[i][0], c->old[i][1]),
				 t);
	for (i = 0; i < c->nr_new; i++)
		ranges[i] = c->new[i];
	CHECK_EQ(damon_set_regions(t, ranges, c->nr_new, min_sz), 0);
	CHECK_EQ(damon_nr_regions(t), c->nr_expect);
	i = 0;
	damon_for_each_region(r, t) {
		if (i < c->nr_expect) {
			CHECK_EQ(r->ar.start, c->expect[i][0]);
			CHECK_EQ(r->ar.end, c->expect[i][1]);
		}
		i++;
	}
	damon_destroy_target(t, NULL);
}

static void damon_test_set_regions(void)
{
	static const struct set_regions_case cases[] = {
		{ .nr_old = 0,
		  .new = { { 5, 15 }, { 15, 25 } },
		  .nr_new = 2,
		  .expect = { { 5, 15 }, { 15, 25 } },
		  .nr_expect = 2 },
		{ .old = { { 4, 16 }, { 24, 32 } },
		  .nr_old = 2,
		  .new = { { 18, 23 } },
		  .nr_new = 1,
		  .expect = { { 18, 23 } },
		  .nr_expect = 1 },
		{ .old = { { 4, 16 }, { 24, 32 } },
		  .nr_old = 2,
		  .new = { { 8, 28 } },
		  .nr_new = 1,
		  .expect = { { 8, 16 }, { 16, 24 }, { 24, 28 } },
		  .nr_expect = 3 },
		{ .old = { { 0, 4 }, { 4, 17 } },
		  .nr_old = 2,
		  .new = { { 0, 15 }, { 25, 40 } },
		  .nr_new = 2,
		  .expect = { { 0, 4 }, { 4, 15 }, { 25, 40 } },
		  .nr_expect = 3 },
		{ .old = { { 0, 4 }, { 42, 52 } },
		  .nr_old = 2,
		  .new = { { 0, 15 }, { 25, 40 }, { 44, 50 } },
		  .nr_new = 3,
		  .expect = { { 0, 15 }, { 25, 40 }, { 44, 50 } },
		  .nr_expect = 3 },
	};
	struct damon_target *t = damon_new_target();
	struct damon_addr_range bad[2];
	unsigned int i;

	for (i = 0; i < TAP_NR(cases); i++)
		check_set_regions(&cases[i], 1);

	/* Invalid inputs are refused and change nothing. */
	damon_add_region(damon_new_region(4096, 8192), t);
	bad[0] = (struct damon_addr_range){ 10, 10 };
	CHECK_EQ(damon_set_regions(t, bad, 1, 1), -EINVAL);
	bad[0] = (struct damon_addr_range){ 20, 10 };
	CHECK_EQ(damon_set_regions(t, bad, 1, 1), -EINVAL);
	/* Two ranges that are the same after 4096 alignment. */
	bad[0] = (struct damon_addr_range){ 4096 + 8, 4096 + 16 };
	bad[1] = (struct damon_addr_range){ 4096 + 32, 4096 + 64 };
	CHECK_EQ(damon_set_regions(t, bad, 2, 4096), -EINVAL);
	CHECK_EQ(damon_nr_regions(t), 1);
	CHECK_EQ(damon_first_region(t)->ar.start, 4096);
	CHECK_EQ(damon_first_region(t)->ar.end, 8192);
	damon_destroy_target(t, NULL);
}

static void damon_test_nr_samples_per_aggr(void)
{
	struct damon_attrs attrs = { .sample_interval = 0, .aggr_interval = 0 };

	CHECK_EQ(damon_nr_samples_per_aggr(&attrs), 1);
	attrs.sample_interval = 1;
	attrs.aggr_interval = (unsigned long)UINT_MAX + 1;
	CHECK_EQ(damon_nr_samples_per_aggr(&attrs), UINT_MAX);
	attrs.sample_interval = 5000;
	attrs.aggr_interval = 100000;
	CHECK_EQ(damon_nr_samples_per_aggr(&attrs), 20);
}

static void damon_test_update_monitoring_result(void)
{
	struct damon_attrs old_attrs = { .sample_interval = 10,
					 .aggr_interval = 1000 };
	struct damon_attrs new_attrs;
	struct damon_region *r = damon_new_region(3, 7);

	r->nr_accesses = 15;
	r->age = 20;

	new_attrs = (struct damon_attrs){ .sample_interval = 100,
					  .aggr_interval = 10000 };
	damon_update_monitoring_result(r, &old_attrs, &new_attrs, false);
	CHECK_EQ(r->nr_accesses, 15);
	CHECK_EQ(r->age, 2);

	new_attrs = (struct damon_attrs){ .sample_interval = 1,
					  .aggr_interval = 1000 };
	damon_update_monitoring_result(r, &old_attrs, &new_attrs, false);
	CHECK_EQ(r->nr_accesses, 150);
	CHECK_EQ(r->age, 2);

	new_attrs = (struct damon_attrs){ .sample_interval = 1,
					  .aggr_interval = 100 };
	damon_update_monitoring_result(r, &old_attrs, &new_attrs, false);
	CHECK_EQ(r->nr_accesses, 150);
	CHECK_EQ(r->age, 20);

	/* In the middle of a window the last complete count is rescaled. */
	r->nr_accesses = 3;
	r->last_nr_accesses = 15;
	new_attrs = (struct damon_attrs){ .sample_interval = 1,
					  .aggr_interval = 1000 };
	damon_update_monitoring_result(r, &old_attrs, &new_attrs, true);
	CHECK_EQ(r->last_nr_accesses, 150);
	CHECK_EQ(r->nr_accesses, 0);
	CHECK_EQ(r->nr_accesses_bp, 1500000);
	free(r);
}

static void damon_test_set_attrs(void)
{
	struct damon_ctx *c = damon_new_ctx();
	struct damon_attrs valid = { .sample_interval = 5000,
				     .aggr_interval = 100000,
				     .ops_update_interval = 1000000,
				     .min_nr_regions = 10,
				     .max_nr_regions = 1000 };
	struct damon_attrs invalid;

	CHECK_EQ(damon_set_attrs(c, &valid), 0);
	CHECK_EQ(c->attrs.aggr_samples, 20);

	invalid = valid;
	invalid.min_nr_regions = 1;
	CHECK_EQ(damon_set_attrs(c, &invalid), -EINVAL);
	invalid = valid;
	invalid.max_nr_regions = 9;
	CHECK_EQ(damon_set_attrs(c, &invalid), -EINVAL);
	invalid = valid;
	invalid.aggr_interval = 4999;
	CHECK_EQ(damon_set_attrs(c, &invalid), -EINVAL);
	/* Intervals goal: min > max, or sample interval out of range. */
	invalid = valid;
	invalid.intervals_goal =
		(struct damon_intervals_goal){ .access_bp = 400,
					       .aggrs = 3,
					       .min_sample_us = 6000,
					       .max_sample_us = 5000 };
	CHECK_EQ(damon_set_attrs(c, &invalid), -EINVAL);
	invalid.intervals_goal.min_sample_us = 1000;
	invalid.intervals_goal.max_sample_us = 4000;
	CHECK_EQ(damon_set_attrs(c, &invalid), -EINVAL);
	invalid.intervals_goal.max_sample_us = 10000;
	CHECK_EQ(damon_set_attrs(c, &invalid), 0);
	damon_destroy_ctx(c);
}

static void damon_test_moving_sum(void)
{
	struct damon_attrs attrs = { .sample_interval = 10,
				     .aggr_interval = 100 };
	struct damon_region *r = damon_new_region(0, 4096);
	bool pattern[10] = { 1, 0, 1, 1, 0, 0, 1, 0, 1, 1 };
	unsigned int i;

	/* Fresh window after a window with 4 accesses of 10 samples. */
	r->last_nr_accesses = 4;
	r->nr_accesses_bp = 40000;
	for (i = 0; i < 10; i++)
		damon_update_region_access_rate(r, pattern[i], &attrs);
	/* At the end of a full window the sum equals nr_accesses. */
	CHECK_EQ(r->nr_accesses, 6);
	CHECK_EQ(r->nr_accesses_bp, 60000);
	free(r);
}

static void damon_test_commit_target_regions(void)
{
	struct damon_target *dst = damon_new_target();
	struct damon_target *src = damon_new_target();
	struct damon_region *r;

	damon_add_region(damon_new_region(3, 8), dst);
	damon_add_region(damon_new_region(8, 10), dst);
	/* An empty source keeps the destination's regions. */
	CHECK_EQ(damon_commit_target_regions(dst, src, 1), 0);
	CHECK_EQ(damon_nr_regions(dst), 2);

	damon_add_region(damon_new_region(4, 6), src);
	CHECK_EQ(damon_commit_target_regions(dst, src, 1), 0);
	CHECK_EQ(damon_nr_regions(dst), 1);
	r = damon_first_region(dst);
	CHECK_EQ(r->ar.start, 4);
	CHECK_EQ(r->ar.end, 6);
	damon_destroy_target(dst, NULL);
	damon_destroy_target(src, NULL);
}

static void damon_test_commit_ctx(void)
{
	struct damon_ctx *src = damon_new_ctx(), *dst = damon_new_ctx();

	src->min_region_sz = 4096;
	CHECK_EQ(damon_commit_ctx(dst, src), 0);
	src->min_region_sz = 4095;
	CHECK_EQ(damon_commit_ctx(dst, src), -EINVAL);
	/* The scratch commit refused it: dst is untouched and sane. */
	CHECK_EQ(dst->min_region_sz, 4096);
	CHECK(!dst->maybe_corrupted);
	src->min_region_sz = 4096;
	src->pause = true;
	CHECK_EQ(damon_commit_ctx(dst, src), 0);
	CHECK(dst->pause);
	src->pause = false;
	CHECK_EQ(damon_commit_ctx(dst, src), 0);
	CHECK(!dst->pause);
	damon_destroy_ctx(src);
	damon_destroy_ctx(dst);
}

/* Commit targets index-wise: obsolete removal, appending, kept regions. */
static void damon_test_commit_targets(void)
{
	struct damon_ctx *src = damon_new_ctx(), *dst = damon_new_ctx();
	struct damon_addr_range range = { 0, 8192 };
	struct damon_target *t;
	int i;

	for (i = 0; i < 3; i++) {
		t = damon_new_target();
		t->pid = 100 + i;
		damon_set_regions(t, &range, 1, 4096);
		damon_add_target(dst, t);
	}
	for (i = 0; i < 3; i++) {
		t = damon_new_target();
		t->pid = 100 + i;
		t->obsolete = i == 1;
		damon_add_target(src, t);
	}
	CHECK_EQ(damon_commit_ctx(dst, src), 0);
	CHECK_EQ(damon_nr_targets(dst), 2);
	CHECK_EQ(damon_nth_target(0, dst)->pid, 100);
	CHECK_EQ(damon_nth_target(1, dst)->pid, 102);
	/* Source targets had no regions: learned regions stay. */
	CHECK_EQ(damon_nr_regions(damon_nth_target(1, dst)), 1);

	/* An obsolete target beyond the destination's is invalid. */
	damon_destroy_ctx(src);
	src = damon_new_ctx();
	for (i = 0; i < 3; i++) {
		t = damon_new_target();
		t->obsolete = i == 2;
		damon_add_target(src, t);
	}
	CHECK_EQ(damon_commit_ctx(dst, src), -EINVAL);
	CHECK_EQ(damon_nr_targets(dst), 2);
	damon_destroy_ctx(src);
	damon_destroy_ctx(dst);
}

static void damon_test_apply_min_nr_regions(void)
{
	struct {
		unsigned long min_sz, min_nr, limit, nr;
	} cases[] = {
		{ 1, 10, 1, 10 },
		{ 1, 15, 1, 10 },
		{ 2, 2, 6, 2 },
		{ 2, 10, 2, 5 },
	};
	unsigned int i;

	for (i = 0; i < TAP_NR(cases); i++) {
		struct damon_ctx *c = damon_new_ctx();
		struct damon_target *t = damon_new_target();

		c->min_region_sz = cases[i].min_sz;
		c->attrs.min_nr_regions = cases[i].min_nr;
		damon_add_target(c, t);
		damon_add_region(damon_new_region(0, 10), t);
		CHECK_EQ(damon_apply_min_nr_regions(c), cases[i].limit);
		CHECK_EQ(damon_nr_regions(t), cases[i].nr);
		damon_destroy_ctx(c);
	}
}

static void damon_test_is_last_region(void)
{
	struct damon_target *t = damon_new_target();
	struct damon_region *r;
	int i;

	for (i = 0; i < 4; i++) {
		r = damon_new_region(i * 2, (i + 1) * 2);
		damon_add_region(r, t);
		CHECK(damon_is_last_region(r, t));
	}
	CHECK(!damon_is_last_region(damon_first_region(t), t));
	damon_destroy_target(t, NULL);
}

static void walk_fn_nop(void *data, struct damon_ctx *ctx,
			struct damon_target *t, struct damon_region *r,
			struct damos *s, unsigned long sz_filter_passed)
{
}

static void damon_test_walk_control_obsolete(void)
{
	struct damon_ctx *c = damon_new_ctx();
	struct damos_walk_control control = { .walk_fn = walk_fn_nop };

	CHECK_EQ(damos_walk(c, &control), -ECANCELED);
	damon_destroy_ctx(c);
}

static void damon_test_rand(void)
{
	struct damon_ctx *c = damon_new_ctx();
	int i;

	for (i = 0; i < 10000; i++) {
		unsigned long v = damon_rand(c, 0, 10);

		CHECK(v < 10);
		if (v >= 10)
			break;
	}
	CHECK_EQ(damon_rand(c, 5, 5), 5);
	damon_destroy_ctx(c);
}

static void damon_test_feed_loop_next_input(void)
{
	unsigned long last = 900000, up, up_more, down;

	up = damon_feed_loop_next_input(last, 5000);
	CHECK(up > last);
	up_more = damon_feed_loop_next_input(last, 2000);
	CHECK(up_more > up);
	down = damon_feed_loop_next_input(last, 15000);
	CHECK(down < last);
	CHECK(damon_feed_loop_next_input(last, 19000) < down);
	CHECK_EQ(damon_feed_loop_next_input(last, 10000), last);
	CHECK_EQ(damon_feed_loop_next_input(last, 20000), 10000);
	/* Never below the minimum input, never overflowing. */
	CHECK_EQ(damon_feed_loop_next_input(10000, 19999), 10000);
	CHECK_EQ(damon_feed_loop_next_input(ULONG_MAX, 0), ULONG_MAX);
}

/* ---------------------------------------------------------------- */
/* The kdamond loop                                                  */
/* ---------------------------------------------------------------- */

static unsigned long nr_aggregated_events;

static void count_events(void *arg, struct damon_ctx *ctx,
			 const struct damon_event *ev)
{
	if (ev->type == DAMON_EVENT_AGGREGATED)
		__atomic_fetch_add(&nr_aggregated_events, 1, __ATOMIC_RELAXED);
}

static unsigned long aggregated_events(void)
{
	return __atomic_load_n(&nr_aggregated_events, __ATOMIC_RELAXED);
}

/* The loop finds the hot range and keeps the region count in bounds. */
static void test_loop_finds_hot_range(void)
{
	struct damon_ctx *ctx = new_fake_ctx();
	struct damon_region *r;
	unsigned long hot_bytes = 0, cold_hot_bytes = 0;

	REQUIRE(ctx);
	REQUIRE(damon_manual_start(ctx) == 0);
	/* 0.5 s after start min_nr_regions was applied. */
	CHECK(damon_nr_regions(first_target(ctx)) >= 10);
	CHECK_EQ(damon_manual_run_for(ctx, 10 * 1000 * 1000), 0);
	CHECK(damon_nr_regions(first_target(ctx)) >= 10);
	CHECK(damon_nr_regions(first_target(ctx)) <= 1000);
	damon_for_each_region(r, first_target(ctx)) {
		bool in_hot = r->ar.start >= hot_start && r->ar.end <= hot_end;

		if (r->last_nr_accesses >= 15 && in_hot)
			hot_bytes += damon_sz_region(r);
		if (r->last_nr_accesses >= 15 && !in_hot)
			cold_hot_bytes += damon_sz_region(r);
	}
	/* Nearly all of the 10 MiB hot range is seen hot, nothing else. */
	CHECK(hot_bytes >= 9 * MIB);
	CHECK_EQ(cold_hot_bytes, 0);
	/* 10 s at 5 ms samples; ops update is every 60 s: none yet. */
	CHECK_EQ(ctx->passed_sample_intervals, 2000);
	CHECK_EQ(nr_updates, 0);
	damon_manual_stop(ctx);
	CHECK(!damon_is_running(ctx));
	/* The exit path destroys targets. */
	CHECK_EQ(damon_nr_targets(ctx), 0);
	damon_destroy_ctx(ctx);
}

/* Same seed, same results; a different seed, different regions. */
static void test_loop_deterministic(void)
{
	static struct region_snapshot a, b, c;
	int run;

	for (run = 0; run < 3; run++) {
		struct damon_ctx *ctx = new_fake_ctx();

		REQUIRE(ctx);
		if (run == 2)
			ctx->rnd_seed = 7;
		REQUIRE(damon_manual_start(ctx) == 0);
		damon_manual_run_for(ctx, 3 * 1000 * 1000);
		snapshot(ctx, run == 0 ? &a : run == 1 ? &b : &c);
		damon_manual_stop(ctx);
		damon_destroy_ctx(ctx);
	}
	CHECK(snapshots_equal(&a, &b));
	CHECK(!snapshots_equal(&a, &c));
}

/* A paused context keeps everything bit for bit while time passes. */
static void test_pause_freezes_state(void)
{
	static struct region_snapshot before, after;
	struct damon_ctx *ctx = new_fake_ctx();
	unsigned long passed, events;
	unsigned int prepares;
	uint64_t t0;
	int i;

	REQUIRE(ctx);
	damon_set_event_fn(ctx, count_events, NULL);
	nr_aggregated_events = 0;
	REQUIRE(damon_manual_start(ctx) == 0);
	damon_manual_run_for(ctx, 2 * 1000 * 1000);
	CHECK(aggregated_events() > 0);

	ctx->pause = true;
	/* The iteration that sees pause set still samples once. */
	CHECK_EQ(damon_manual_step(ctx), 0);
	CHECK(ctx->in_pause_loop);
	snapshot(ctx, &before);
	passed = ctx->passed_sample_intervals;
	prepares = nr_prepares;
	events = aggregated_events();
	t0 = damon_now_ns(ctx);
	for (i = 0; i < 1000; i++)
		CHECK_EQ(damon_manual_step(ctx), 0);
	snapshot(ctx, &after);
	CHECK(snapshots_equal(&before, &after));
	CHECK_EQ(ctx->passed_sample_intervals, passed);
	/* The public accessor reads the same, frozen count. */
	CHECK_EQ(damon_passed_sample_intervals(ctx), passed);
	CHECK_EQ(nr_prepares, prepares);
	CHECK_EQ(aggregated_events(), events);
	/* Each pause round sleeps one sample interval. */
	CHECK_EQ(damon_now_ns(ctx) - t0, 1000ULL * 5000 * 1000);
	/*
	 * The pause's time is counted from where it took effect (after the
	 * sample of the step that saw it, which then ran one round), the
	 * pause in progress included, all of it the user's.
	 */
	CHECK_EQ(damon_paused_ns(ctx, false), 1001ULL * 5000 * 1000);
	CHECK_EQ(damon_paused_ns(ctx, true), 0);

	/* Resume: sampling and aggregation continue where they were. */
	ctx->pause = false;
	damon_manual_run_for(ctx, 1000 * 1000);
	CHECK(ctx->passed_sample_intervals > passed);
	CHECK(aggregated_events() > events);
	CHECK(!ctx->in_pause_loop);
	CHECK_EQ(damon_passed_sample_intervals(ctx),
		 ctx->passed_sample_intervals);
	/* Resumed: the count stands still while the context runs. */
	CHECK_EQ(damon_paused_ns(ctx, false), 1001ULL * 5000 * 1000);
	/* A second pause adds to it; stopping ends its count. */
	ctx->pause = true;
	for (i = 0; i < 11; i++)
		CHECK_EQ(damon_manual_step(ctx), 0);
	CHECK_EQ(damon_paused_ns(ctx, false), 1012ULL * 5000 * 1000);
	damon_manual_stop(ctx);
	CHECK_EQ(damon_paused_ns(ctx, false), 1012ULL * 5000 * 1000);
	damon_destroy_ctx(ctx);
}

/* Started with pause set, the kdamond takes one full sample first. */
static void test_start_paused_samples_once(void)
{
	struct damon_ctx *ctx = new_fake_ctx();
	int i;

	REQUIRE(ctx);
	ctx->pause = true;
	REQUIRE(damon_manual_start(ctx) == 0);
	for (i = 0; i < 50; i++)
		CHECK_EQ(damon_manual_step(ctx), 0);
	CHECK_EQ(ctx->passed_sample_intervals, 1);
	CHECK_EQ(nr_prepares, 1);
	CHECK_EQ(nr_checks, 1);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

struct resume_call {
	struct damon_ctx *ctx;
	int rounds_left;
	int commit_result;
	bool committed;
};

/* A repeat call that, after some rounds, commits pause=N. */
static int resume_after_rounds(void *data)
{
	struct resume_call *rc = data;
	struct damon_ctx *src;

	if (rc->committed || --rc->rounds_left > 0)
		return 0;
	src = damon_new_ctx();
	if (!src)
		return -ENOMEM;
	damon_select_ops(src, DAMON_OPS_APP);
	/* Same target, no regions: the destination keeps what it learned. */
	damon_add_target(src, damon_new_target());
	src->pause = false;
	rc->commit_result = damon_commit_ctx(rc->ctx, src);
	rc->committed = true;
	damon_destroy_ctx(src);
	return rc->commit_result;
}

/* While paused, calls are served, so a commit can resume it. */
static void test_pause_serves_commit(void)
{
	static struct region_snapshot before, after;
	struct damon_ctx *ctx = new_fake_ctx();
	struct resume_call rc = { .rounds_left = 20 };
	struct damon_call_control control = { .fn = resume_after_rounds,
					      .data = &rc,
					      .repeat = true };
	unsigned long passed;
	int i;

	REQUIRE(ctx);
	rc.ctx = ctx;
	ctx->pause = true;
	REQUIRE(damon_manual_start(ctx) == 0);
	CHECK_EQ(damon_manual_step(ctx), 0);
	snapshot(ctx, &before);
	passed = ctx->passed_sample_intervals;
	CHECK_EQ(damon_call(ctx, &control), 0);
	for (i = 0; i < 19; i++)
		CHECK_EQ(damon_manual_step(ctx), 0);
	CHECK(ctx->pause);
	CHECK_EQ(ctx->passed_sample_intervals, passed);
	/* The 20th round commits pause=N; the iteration goes on. */
	CHECK_EQ(damon_manual_step(ctx), 0);
	CHECK(rc.committed);
	CHECK_EQ(rc.commit_result, 0);
	CHECK(!ctx->pause);
	CHECK(!ctx->in_pause_loop);
	/* The commit kept the regions the paused context had learned. */
	snapshot(ctx, &after);
	CHECK(snapshots_equal(&before, &after));
	damon_manual_step(ctx);
	CHECK_EQ(ctx->passed_sample_intervals, passed + 1);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

static int set_corrupted(void *data)
{
	struct damon_ctx *ctx = data;

	/* What a failed commit leaves behind. */
	ctx->maybe_corrupted = true;
	return -ENOMEM;
}

/* A failed commit while paused makes the kdamond exit. */
static void test_pause_exits_when_corrupted(void)
{
	struct damon_ctx *ctx = new_fake_ctx();
	struct damon_call_control control = { .fn = set_corrupted,
					      .repeat = true };

	REQUIRE(ctx);
	control.data = ctx;
	ctx->pause = true;
	REQUIRE(damon_manual_start(ctx) == 0);
	CHECK_EQ(damon_manual_step(ctx), 0);
	CHECK_EQ(damon_call(ctx, &control), 0);
	CHECK_EQ(damon_manual_step(ctx), 1);
	damon_manual_stop(ctx);
	CHECK(!damon_is_running(ctx));
	damon_destroy_ctx(ctx);
}

/* Tuned intervals survive a pause and tuning continues after it. */
static void test_pause_keeps_tuned_intervals(void)
{
	struct damon_ctx *ctx = new_fake_ctx();
	struct damon_attrs attrs;
	unsigned long tuned;
	int i;

	REQUIRE(ctx);
	attrs = ctx->attrs;
	attrs.intervals_goal =
		(struct damon_intervals_goal){ .access_bp = 400,
					       .aggrs = 3,
					       .min_sample_us = 1000,
					       .max_sample_us = 100000 };
	REQUIRE(damon_set_attrs(ctx, &attrs) == 0);
	/* Only 10% of the space is hot: far above 4%, so it shrinks. */
	REQUIRE(damon_manual_start(ctx) == 0);
	damon_manual_run_for(ctx, 5 * 1000 * 1000);
	tuned = ctx->attrs.sample_interval;
	CHECK(tuned != 5000);
	CHECK_EQ(ctx->attrs.aggr_interval, tuned * ctx->attrs.aggr_samples);
	ctx->pause = true;
	for (i = 0; i < 500; i++)
		damon_manual_step(ctx);
	CHECK_EQ(ctx->attrs.sample_interval, tuned);
	ctx->pause = false;
	damon_manual_run_for(ctx, 5 * 1000 * 1000);
	CHECK(ctx->attrs.sample_interval >= 1000);
	CHECK(ctx->attrs.sample_interval <= 100000);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

/* Intervals tuning: little access -> longer intervals, and vice versa. */
static void test_intervals_tuning_direction(void)
{
	int run;

	for (run = 0; run < 2; run++) {
		struct damon_ctx *ctx = new_fake_ctx();
		struct damon_attrs attrs;

		REQUIRE(ctx);
		if (run == 1) {
			/* Everything hot: 100% >> 4%: shorter samples. */
			hot_start = 0;
			hot_end = 100 * MIB;
		} else {
			/* Nothing hot: 0% << 4%: longer samples. */
			hot_start = hot_end = 0;
		}
		attrs = ctx->attrs;
		attrs.intervals_goal =
			(struct damon_intervals_goal){ .access_bp = 400,
						       .aggrs = 3,
						       .min_sample_us = 1000,
						       .max_sample_us = 50000 };
		REQUIRE(damon_set_attrs(ctx, &attrs) == 0);
		REQUIRE(damon_manual_start(ctx) == 0);
		damon_manual_run_for(ctx, 20 * 1000 * 1000);
		if (run == 0)
			CHECK_EQ(ctx->attrs.sample_interval, 50000);
		else
			CHECK_EQ(ctx->attrs.sample_interval, 1000);
		CHECK_EQ(ctx->attrs.aggr_interval,
			 ctx->attrs.sample_interval * 20);
		damon_manual_stop(ctx);
		damon_destroy_ctx(ctx);
	}
}

static void test_ops_update_runs(void)
{
	struct damon_ctx *ctx = new_fake_ctx();
	struct damon_attrs attrs;

	REQUIRE(ctx);
	attrs = ctx->attrs;
	attrs.ops_update_interval = 1000 * 1000;
	REQUIRE(damon_set_attrs(ctx, &attrs) == 0);
	REQUIRE(damon_manual_start(ctx) == 0);
	damon_manual_run_for(ctx, 10 * 1000 * 1000);
	CHECK_EQ(nr_updates, 10);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

static bool invalid_target(struct damon_target *t)
{
	return false;
}

/* Without a valid target the kdamond stops by itself (§2.4). */
static void test_stops_without_valid_target(void)
{
	struct damon_ctx *ctx = new_fake_ctx();

	REQUIRE(ctx);
	ctx->ops.target_valid = invalid_target;
	REQUIRE(damon_manual_start(ctx) == 0);
	CHECK_EQ(damon_manual_step(ctx), 1);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

/* ---------------------------------------------------------------- */
/* Threads: start/stop, call, walk, pause with a real kdamond        */
/* ---------------------------------------------------------------- */

static int count_calls(void *data)
{
	__atomic_fetch_add((int *)data, 1, __ATOMIC_RELAXED);
	return 7;
}

static void test_thread_start_stop_call(void)
{
	struct damon_ctx *ctx = new_fake_ctx();
	int calls = 0;
	struct damon_call_control control = { .fn = count_calls,
					      .data = &calls };
	char path[64], comm[32] = "";
	FILE *f;
	int tid;

	REQUIRE(ctx);
	CHECK_EQ(damon_call(ctx, &control), -ECANCELED);
	CHECK_EQ(damon_stop(&ctx, 1), -EPERM);
	REQUIRE(damon_start(&ctx, 1, false) == 0);
	CHECK(damon_is_running(ctx));
	CHECK_EQ(damon_start(&ctx, 1, false), -EBUSY);
	tid = damon_kdamond_pid(ctx);
	CHECK(tid > 0);
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	CHECK(!strncmp(comm, "kdamond.", 8));

	CHECK_EQ(damon_call(ctx, &control), 0);
	CHECK_EQ(control.return_code, 7);
	CHECK_EQ(calls, 1);
	CHECK_EQ(damon_stop(&ctx, 1), 0);
	CHECK(!damon_is_running(ctx));
	CHECK_EQ(damon_kdamond_pid(ctx), -1);
	CHECK_EQ(damon_call(ctx, &control), -ECANCELED);
	CHECK_EQ(damon_stop(&ctx, 1), -EPERM);
	damon_destroy_ctx(ctx);
}

static void test_thread_exclusive(void)
{
	struct damon_ctx *a = new_fake_ctx(), *b = new_fake_ctx();

	REQUIRE(a && b);
	REQUIRE(damon_start(&a, 1, true) == 0);
	CHECK_EQ(damon_start(&b, 1, false), -EBUSY);
	CHECK_EQ(damon_stop(&a, 1), 0);
	CHECK_EQ(damon_start(&b, 1, false), 0);
	CHECK_EQ(damon_start(&a, 1, true), -EBUSY);
	CHECK_EQ(damon_stop(&b, 1), 0);
	damon_destroy_ctx(a);
	damon_destroy_ctx(b);
}

struct pause_commit {
	struct damon_ctx *ctx;
	bool pause;
};

static int commit_pause(void *data)
{
	struct pause_commit *pc = data;
	struct damon_ctx *src = damon_new_ctx();
	int err;

	if (!src)
		return -ENOMEM;
	damon_select_ops(src, DAMON_OPS_APP);
	damon_add_target(src, damon_new_target());
	src->pause = pc->pause;
	err = damon_commit_ctx(pc->ctx, src);
	damon_destroy_ctx(src);
	return err;
}

static void set_pause_online(struct damon_ctx *ctx, bool pause)
{
	struct pause_commit pc = { .ctx = ctx, .pause = pause };
	struct damon_call_control control = { .fn = commit_pause, .data = &pc };

	CHECK_EQ(damon_call(ctx, &control), 0);
	CHECK_EQ(control.return_code, 0);
}

struct snap_call {
	struct damon_ctx *ctx;
	struct region_snapshot *snap;
	unsigned long passed;
};

/* Runs on the kdamond: the only safe place to read its regions. */
static int take_snapshot(void *data)
{
	struct snap_call *sc = data;

	snapshot(sc->ctx, sc->snap);
	sc->passed = sc->ctx->passed_sample_intervals;
	return 0;
}

static unsigned long snapshot_online(struct damon_ctx *ctx,
				     struct region_snapshot *snap)
{
	struct snap_call sc = { .ctx = ctx, .snap = snap };
	struct damon_call_control control = { .fn = take_snapshot,
					      .data = &sc };

	CHECK_EQ(damon_call(ctx, &control), 0);
	return sc.passed;
}

/*
 * Pause and resume a real kdamond online: aggregation events stop while
 * paused and come back after, walks are canceled, regions are kept, and
 * stop works while paused.
 */
static void test_thread_pause_resume(void)
{
	static struct region_snapshot before, during, after;
	struct damon_ctx *ctx = new_fake_ctx();
	struct damos_walk_control walk = { .walk_fn = walk_fn_nop };
	unsigned long events, passed_before, passed_during;
	uint64_t t0;

	REQUIRE(ctx);
	damon_set_event_fn(ctx, count_events, NULL);
	nr_aggregated_events = 0;
	REQUIRE(damon_start(&ctx, 1, false) == 0);
	/* Virtual time runs as fast as the kdamond can go. */
	while (aggregated_events() < 200)
		usleep(1000);

	set_pause_online(ctx, true);
	passed_before = snapshot_online(ctx, &before);
	events = aggregated_events();
	t0 = damon_now_ns(ctx);
	/* Let plenty of (virtual) time pass while paused. */
	while (damon_now_ns(ctx) - t0 < 10ULL * 1000 * 1000 * 1000)
		usleep(1000);
	passed_during = snapshot_online(ctx, &during);
	CHECK_EQ(passed_during, passed_before);
	CHECK(snapshots_equal(&before, &during));
	CHECK_EQ(aggregated_events(), events);
	CHECK_EQ(damos_walk(ctx, &walk), -ECANCELED);

	set_pause_online(ctx, false);
	while (aggregated_events() < events + 100)
		usleep(1000);
	CHECK(snapshot_online(ctx, &after) > passed_before);

	/* Pause again, then stop while paused. */
	set_pause_online(ctx, true);
	CHECK_EQ(damon_stop(&ctx, 1), 0);
	CHECK(!damon_is_running(ctx));
	damon_destroy_ctx(ctx);
}

/* A walk on a running context without schemes is canceled. */
static void test_thread_walk_no_schemes(void)
{
	struct damon_ctx *ctx = new_fake_ctx();
	struct damos_walk_control walk = { .walk_fn = walk_fn_nop };

	REQUIRE(ctx);
	REQUIRE(damon_start(&ctx, 1, false) == 0);
	CHECK_EQ(damos_walk(ctx, &walk), -ECANCELED);
	CHECK_EQ(damon_stop(&ctx, 1), 0);
	CHECK_EQ(damos_walk(ctx, &walk), -ECANCELED);
	damon_destroy_ctx(ctx);
}

/* A real clock: a stop request ends a long sleep at once. */
static void test_thread_real_clock_stop(void)
{
	struct damon_ctx *ctx = new_fake_ctx();
	struct damon_attrs attrs;

	REQUIRE(ctx);
	ctx->virtual_clock = false;
	attrs = ctx->attrs;
	attrs.sample_interval = 10 * 1000 * 1000;
	attrs.aggr_interval = 100 * 1000 * 1000;
	REQUIRE(damon_set_attrs(ctx, &attrs) == 0);
	ctx->pause = true;
	REQUIRE(damon_start(&ctx, 1, false) == 0);
	usleep(20000);
	/* Within the test's timeout although a sample takes 10 s. */
	CHECK_EQ(damon_stop(&ctx, 1), 0);
	damon_destroy_ctx(ctx);
}

static int never_called(void *data)
{
	return 0;
}

/* Repeat controls are canceled (and freed if asked) at exit. */
static void test_call_repeat_cancel(void)
{
	struct damon_ctx *ctx = new_fake_ctx();
	struct damon_call_control *heap = calloc(1, sizeof(*heap));
	struct damon_call_control stack = { .fn = never_called,
					    .repeat = true };

	REQUIRE(ctx && heap);
	heap->fn = never_called;
	heap->repeat = true;
	heap->dealloc_on_cancel = true;
	REQUIRE(damon_manual_start(ctx) == 0);
	CHECK_EQ(damon_call(ctx, heap), 0);
	CHECK_EQ(damon_call(ctx, &stack), 0);
	damon_manual_step(ctx);
	damon_manual_stop(ctx);
	/* heap was freed by the exit path (valgrind/ASan would notice). */
	CHECK(stack.canceled);
	damon_destroy_ctx(ctx);
}

static const struct tap_case cases[] = {
	TAP_CASE(damon_test_target),
	TAP_CASE(damon_test_regions),
	TAP_CASE(damon_test_aggregate),
	TAP_CASE(damon_test_split_at),
	TAP_CASE(damon_test_merge_two),
	TAP_CASE(damon_test_merge_regions_of),
	TAP_CASE(damon_test_split_regions_of),
	TAP_CASE(damon_test_ops_registration),
	TAP_CASE(damon_test_set_regions),
	TAP_CASE(damon_test_nr_samples_per_aggr),
	TAP_CASE(damon_test_update_monitoring_result),
	TAP_CASE(damon_test_set_attrs),
	TAP_CASE(damon_test_moving_sum),
	TAP_CASE(damon_test_commit_target_regions),
	TAP_CASE(damon_test_commit_ctx),
	TAP_CASE(damon_test_commit_targets),
	TAP_CASE(damon_test_apply_min_nr_regions),
	TAP_CASE(damon_test_is_last_region),
	TAP_CASE(damon_test_walk_control_obsolete),
	TAP_CASE(damon_test_rand),
	TAP_CASE(damon_test_feed_loop_next_input),
	TAP_CASE(test_loop_finds_hot_range),
	TAP_CASE(test_loop_deterministic),
	TAP_CASE(test_pause_freezes_state),
	TAP_CASE(test_start_paused_samples_once),
	TAP_CASE(test_pause_serves_commit),
	TAP_CASE(test_pause_exits_when_corrupted),
	TAP_CASE(test_pause_keeps_tuned_intervals),
	TAP_CASE(test_intervals_tuning_direction),
	TAP_CASE(test_ops_update_runs),
	TAP_CASE(test_stops_without_valid_target),
	TAP_CASE(test_thread_start_stop_call),
	TAP_CASE(test_thread_exclusive),
	TAP_CASE_TIMEOUT(test_thread_pause_resume, 300),
	TAP_CASE(test_thread_walk_no_schemes),
	TAP_CASE(test_thread_real_clock_stop),
	TAP_CASE(test_call_repeat_cancel),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
