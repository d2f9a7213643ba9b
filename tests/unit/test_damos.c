// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Tests of DAMOS in the core (src/core/damos.c): the DAMOS cases of the
 * kernel's core kunit suite (spec §9.1), and behaviour tests that drive a
 * context with a tiny fake operations set, a virtual clock and
 * damon_manual_step(), so every run gives the same numbers.
 */
#include "../lib/tap.h"

#include "core/core.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096UL
#define KiB 1024UL
#define MiB (1024UL * 1024UL)

/* ------------------------------------------------------------------ */
/* The fake operations set                                             */
/* ------------------------------------------------------------------ */

/*
 * Regions overlapping [hot_start, hot_end) are seen accessed in every
 * sample.  apply_scheme applies everything (or apply_permil of it) and
 * charges ns_per_byte of modelled time to the virtual clock.
 */
static struct fake_state {
	unsigned long hot_start, hot_end;
	unsigned long ns_per_byte;
	unsigned int apply_permil; /* 0 means 1000 */
	bool with_score;
	unsigned long goal_value;
	int goal_err;
	unsigned long wmark_value;
	int wmark_err;
	bool no_wmark_hook;
	unsigned long nr_apply_calls;
} fake;

static bool fake_is_hot(const struct damon_region *r)
{
	return r->ar.start < fake.hot_end && fake.hot_start < r->ar.end;
}

static unsigned int fake_check_accesses(struct damon_ctx *ctx)
{
	struct damon_target *t;
	struct damon_region *r;
	unsigned int max_nr = 0;

	damon_for_each_target(t, ctx) {
		damon_for_each_region(r, t) {
			damon_update_region_access_rate(r, fake_is_hot(r),
							&ctx->attrs);
			if (r->nr_accesses > max_nr)
				max_nr = r->nr_accesses;
		}
	}
	return max_nr;
}

static int fake_get_scheme_score(struct damon_ctx *ctx, struct damon_target *t,
				 struct damon_region *r, struct damos *s)
{
	return fake_is_hot(r) ? DAMOS_MAX_SCORE : 0;
}

static unsigned long fake_apply_scheme(struct damon_ctx *ctx,
				       struct damon_target *t,
				       struct damon_region *r, struct damos *s,
				       unsigned long *sz_filter_passed)
{
	unsigned long sz = damon_sz_region(r);
	unsigned int permil = fake.apply_permil ? fake.apply_permil : 1000;

	fake.nr_apply_calls++;
	*sz_filter_passed = sz;
	if (fake.ns_per_byte)
		damon_clock_advance(ctx, (uint64_t)sz * fake.ns_per_byte);
	return sz * permil / 1000;
}

static int fake_get_goal_metric(struct damon_ctx *ctx,
				const struct damos_quota_goal *goal,
				unsigned long *value)
{
	if (fake.goal_err)
		return fake.goal_err;
	*value = fake.goal_value;
	return 0;
}

static int fake_get_wmark_metric(struct damon_ctx *ctx,
				 enum damos_wmark_metric metric,
				 unsigned long *value)
{
	if (fake.wmark_err)
		return fake.wmark_err;
	*value = fake.wmark_value;
	return 0;
}

static void fake_register(void)
{
	struct damon_operations ops = {
		.id = DAMON_OPS_APP,
		.check_accesses = fake_check_accesses,
		.apply_scheme = fake_apply_scheme,
		.get_goal_metric = fake_get_goal_metric,
		.get_wmark_metric = fake_get_wmark_metric,
	};

	if (fake.with_score)
		ops.get_scheme_score = fake_get_scheme_score;
	if (fake.no_wmark_hook)
		ops.get_wmark_metric = NULL;
	damon_unregister_ops(DAMON_OPS_APP);
	damon_register_ops(&ops);
}

/* ------------------------------------------------------------------ */
/* Event capture                                                       */
/* ------------------------------------------------------------------ */

#define MAX_APPLIES 4096
#define NR_TRACKED_SCHEMES 4

static struct events {
	unsigned long nr[NR_DAMON_EVENTS];
	unsigned long stat_passes[NR_TRACKED_SCHEMES];
	struct damos_stat last_stat[NR_TRACKED_SCHEMES];
	unsigned long last_esz[NR_TRACKED_SCHEMES];
	/* damos_before_apply ranges, and the pass (stat event count) */
	unsigned long nr_applies;
	struct {
		unsigned long start, end, target_idx, scheme_idx, pass;
	} applies[MAX_APPLIES];
} ev;

static void record_event(void *arg, struct damon_ctx *ctx,
			 const struct damon_event *e)
{
	unsigned int si = e->scheme_idx < NR_TRACKED_SCHEMES ?
				  e->scheme_idx :
				  NR_TRACKED_SCHEMES - 1;

	ev.nr[e->type]++;
	switch (e->type) {
	case DAMON_EVENT_DAMOS_STAT_AFTER_APPLY_INTERVAL:
		ev.stat_passes[si]++;
		ev.last_stat[si] = e->stat;
		break;
	case DAMON_EVENT_DAMOS_ESZ:
		ev.last_esz[si] = e->esz;
		break;
	case DAMON_EVENT_DAMOS_BEFORE_APPLY:
		if (ev.nr_applies < MAX_APPLIES) {
			ev.applies[ev.nr_applies].start = e->start;
			ev.applies[ev.nr_applies].end = e->end;
			ev.applies[ev.nr_applies].target_idx = e->target_idx;
			ev.applies[ev.nr_applies].scheme_idx = e->scheme_idx;
			ev.applies[ev.nr_applies].pass = ev.stat_passes[si];
			ev.nr_applies++;
		}
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static const struct damos_access_pattern match_all = {
	.min_sz_region = 0,
	.max_sz_region = ULONG_MAX,
	.min_nr_accesses = 0,
	.max_nr_accesses = UINT_MAX,
	.min_age_region = 0,
	.max_age_region = UINT_MAX,
};

/*
 * A context on the fake ops with a virtual clock: sample 5 ms, aggregation
 * 100 ms, @nr_targets targets of @sz bytes each, at least 10 regions.
 */
static struct damon_ctx *new_ctx(unsigned int nr_targets, unsigned long sz)
{
	struct damon_attrs attrs = {
		.sample_interval = 5000,
		.aggr_interval = 100000,
		.ops_update_interval = 1000000,
		.min_nr_regions = 10,
		.max_nr_regions = 1000,
	};
	struct damon_ctx *ctx;
	unsigned int i;

	fake_register();
	memset(&ev, 0, sizeof(ev));
	ctx = damon_new_ctx();
	if (!ctx)
		return NULL;
	damon_use_virtual_clock(ctx);
	if (damon_select_ops(ctx, DAMON_OPS_APP) ||
	    damon_set_attrs(ctx, &attrs)) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	damon_set_event_fn(ctx, record_event, NULL);
	for (i = 0; i < nr_targets; i++) {
		struct damon_addr_range range = { 0, sz };
		struct damon_target *t = damon_new_target();

		if (!t) {
			damon_destroy_ctx(ctx);
			return NULL;
		}
		damon_add_target(ctx, t);
		if (damon_set_regions(t, &range, 1, PAGE)) {
			damon_destroy_ctx(ctx);
			return NULL;
		}
	}
	return ctx;
}

static struct damos *add_scheme(struct damon_ctx *ctx, enum damos_action act,
				unsigned long apply_interval_us,
				struct damos_quota *quota)
{
	struct damos_access_pattern pattern = match_all;
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_NONE };
	struct damos *s = damon_new_scheme(&pattern, act, apply_interval_us,
					   quota, &wmarks, -1);

	if (s)
		damon_add_scheme(ctx, s);
	return s;
}

static void finish(struct damon_ctx *ctx)
{
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

static unsigned long total_sz(struct damon_target *t)
{
	struct damon_region *r;
	unsigned long sz = 0;

	damon_for_each_region(r, t)
		sz += damon_sz_region(r);
	return sz;
}

/* ------------------------------------------------------------------ */
/* Keywords and objects                                                */
/* ------------------------------------------------------------------ */

static void test_keywords(void)
{
	enum damos_action a;
	enum damos_filter_type ft;
	enum damos_quota_goal_metric m;
	int i;

	CHECK_STREQ(damos_action_name(DAMOS_WILLNEED), "willneed");
	CHECK_STREQ(damos_action_name(DAMOS_COLLAPSE), "collapse");
	CHECK_STREQ(damos_action_name(DAMOS_LRU_DEPRIO), "lru_deprio");
	CHECK_STREQ(damos_action_name(DAMOS_STAT), "stat");
	CHECK(damos_action_name(NR_DAMOS_ACTIONS) == NULL);
	for (i = 0; i < NR_DAMOS_ACTIONS; i++) {
		CHECK_EQ(damos_action_from_name(
				 damos_action_name((enum damos_action)i), &a),
			 0);
		CHECK_EQ(a, i);
	}
	CHECK_EQ(damos_action_from_name("foo", &a), -EINVAL);
	CHECK_EQ(damos_action_from_name("stat\n", &a), -EINVAL);
	CHECK_EQ(damos_action_from_name(NULL, &a), -EINVAL);

	CHECK_STREQ(damos_filter_type_name(DAMOS_FILTER_TYPE_ANON), "anon");
	CHECK_STREQ(damos_filter_type_name(DAMOS_FILTER_TYPE_HUGEPAGE_SIZE),
		    "hugepage_size");
	CHECK_STREQ(damos_filter_type_name(DAMOS_FILTER_TYPE_TARGET), "target");
	CHECK(damos_filter_type_name(NR_DAMOS_FILTER_TYPES) == NULL);
	for (i = 0; i < NR_DAMOS_FILTER_TYPES; i++) {
		CHECK_EQ(damos_filter_type_from_name(
				 damos_filter_type_name(
					 (enum damos_filter_type)i),
				 &ft),
			 0);
		CHECK_EQ(ft, i);
	}
	CHECK_EQ(damos_filter_type_from_name("foo", &ft), -EINVAL);

	CHECK_STREQ(damos_quota_goal_metric_name(DAMOS_QUOTA_USER_INPUT),
		    "user_input");
	CHECK_STREQ(
		damos_quota_goal_metric_name(DAMOS_QUOTA_NODE_ELIGIBLE_MEM_BP),
		"node_eligible_mem_bp");
	CHECK(damos_quota_goal_metric_name(NR_DAMOS_QUOTA_GOAL_METRICS) ==
	      NULL);
	for (i = 0; i < NR_DAMOS_QUOTA_GOAL_METRICS; i++) {
		CHECK_EQ(damos_quota_goal_metric_from_name(
				 damos_quota_goal_metric_name(
					 (enum damos_quota_goal_metric)i),
				 &m),
			 0);
		CHECK_EQ(m, i);
	}
	CHECK_EQ(damos_quota_goal_metric_from_name("", &m), -EINVAL);
}

/* kunit damos_test_new_filter */
static void test_new_filter(void)
{
	struct damos_filter *f =
		damos_new_filter(DAMOS_FILTER_TYPE_ANON, true, false);

	REQUIRE(f);
	CHECK_EQ(f->type, DAMOS_FILTER_TYPE_ANON);
	CHECK_EQ(f->matching, true);
	CHECK_EQ(f->allow, false);
	CHECK(f->list.prev == &f->list);
	CHECK(f->list.next == &f->list);
	damos_destroy_filter(f);
}

static void test_scheme_objects(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damos_quota quota = {
		.ms = 7, .sz = 8, .esz = 99, .charged_sz = 5
	};
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_FREE_MEM_RATE,
					   .interval = 1,
					   .high = 3,
					   .mid = 2,
					   .low = 1 };
	struct damos_access_pattern pattern = match_all;
	unsigned int ids[] = { 1, 2 }, ws[] = { 30, 70 };
	struct damos_filter *f;
	struct damos *s;

	REQUIRE(ctx);
	s = damon_new_scheme(&pattern, DAMOS_PAGEOUT, 1000, &quota, &wmarks, 3);
	REQUIRE(s);
	CHECK_EQ(s->quota.ms, 7);
	CHECK_EQ(s->quota.sz, 8);
	/* private quota state starts fresh */
	CHECK_EQ(s->quota.esz, 0);
	CHECK_EQ(s->quota.charged_sz, 0);
	CHECK(damon_list_empty(&s->quota.goals));
	CHECK(s->wmarks.activated);
	CHECK_EQ(s->target_nid, 3);

	/* filters go to the list of their layer */
	f = damos_new_filter(DAMOS_FILTER_TYPE_ADDR, true, true);
	REQUIRE(f);
	damos_add_filter(s, f);
	f = damos_new_filter(DAMOS_FILTER_TYPE_YOUNG, true, false);
	REQUIRE(f);
	damos_add_filter(s, f);
	CHECK(!damos_filter_for_ops(DAMOS_FILTER_TYPE_ADDR));
	CHECK(!damos_filter_for_ops(DAMOS_FILTER_TYPE_TARGET));
	CHECK(damos_filter_for_ops(DAMOS_FILTER_TYPE_ANON));
	CHECK(damos_filter_for_ops(DAMOS_FILTER_TYPE_MEMCG));
	CHECK(damos_filter_for_ops(DAMOS_FILTER_TYPE_UNMAPPED));
	CHECK_EQ(damon_list_entry(s->core_filters.next, struct damos_filter,
				  list)
			 ->type,
		 DAMOS_FILTER_TYPE_ADDR);
	CHECK_EQ(damon_list_entry(s->ops_filters.next, struct damos_filter,
				  list)
			 ->type,
		 DAMOS_FILTER_TYPE_YOUNG);

	CHECK_EQ(damos_set_migrate_dests(s, ids, ws, 2), 0);
	CHECK_EQ(s->migrate_dests.nr_dests, 2);
	CHECK_EQ(s->migrate_dests.weight_arr[1], 70);
	CHECK_EQ(damos_set_migrate_dests(s, NULL, NULL, 2), -EINVAL);
	CHECK_EQ(damos_set_migrate_dests(s, NULL, NULL, 0), 0);
	CHECK_EQ(s->migrate_dests.nr_dests, 0);
	CHECK_EQ(damos_set_migrate_dests(s, ids, ws, 1), 0);

	damos_add_quota_goal(&s->quota,
			     damos_new_quota_goal(DAMOS_QUOTA_USER_INPUT, 10));
	CHECK_EQ(damon_nr_schemes(ctx), 0);
	damon_add_scheme(ctx, s);
	CHECK_EQ(damon_nr_schemes(ctx), 1);
	/* next_apply_sis: apply interval in samples from now */
	CHECK_EQ(s->next_apply_sis, 1000 / 5000);
	s = damon_new_scheme(&pattern, DAMOS_STAT, 0, NULL, NULL, -1);
	REQUIRE(s);
	damon_add_scheme(ctx, s);
	CHECK_EQ(s->next_apply_sis, 100000 / 5000);
	CHECK_EQ(damon_nr_schemes(ctx), 2);
	damon_destroy_scheme(s);
	CHECK_EQ(damon_nr_schemes(ctx), 1);
	/* the rest (goal, filters, dests) is freed with the context */
	damon_destroy_ctx(ctx);
}

/* ------------------------------------------------------------------ */
/* Commit (kunit damos_test_commit_*)                                  */
/* ------------------------------------------------------------------ */

static void check_goal_committed(struct damos_quota_goal *dst,
				 const struct damos_quota_goal *src)
{
	CHECK_EQ(dst->metric, src->metric);
	CHECK_EQ(dst->target_value, src->target_value);
	if (src->metric == DAMOS_QUOTA_USER_INPUT)
		CHECK_EQ(dst->current_value, src->current_value);
	switch (src->metric) {
	case DAMOS_QUOTA_NODE_MEM_USED_BP:
	case DAMOS_QUOTA_NODE_MEM_FREE_BP:
		CHECK_EQ(dst->nid, src->nid);
		break;
	case DAMOS_QUOTA_NODE_MEMCG_USED_BP:
	case DAMOS_QUOTA_NODE_MEMCG_FREE_BP:
		CHECK_EQ(dst->nid, src->nid);
		CHECK_EQ(dst->memcg_id, src->memcg_id);
		break;
	default:
		break;
	}
}

/* Commit a one-goal source quota holding @src into @dst. */
static int commit_one_goal(struct damos_quota *dst,
			   struct damos_quota_goal *src)
{
	struct damos_quota srcq = { 0 };
	int err;

	damon_list_init(&srcq.goals);
	damon_list_init(&src->list);
	damos_add_quota_goal(&srcq, src);
	err = damos_commit_quota_goals(dst, &srcq);
	damon_list_del(&src->list);
	return err;
}

/* kunit damos_test_commit_quota_goal */
static void test_commit_quota_goal(void)
{
	struct damos_quota dstq = { 0 };
	struct damos_quota_goal *dst;
	struct damos_quota_goal srcs[] = {
		{ .metric = DAMOS_QUOTA_SOME_MEM_PSI_US,
		  .target_value = 2000,
		  .current_value = 1,
		  .last_psi_total = 999 },
		{ .metric = DAMOS_QUOTA_USER_INPUT,
		  .target_value = 789,
		  .current_value = 12 },
		{ .metric = DAMOS_QUOTA_NODE_MEM_FREE_BP,
		  .target_value = 345,
		  .current_value = 678,
		  .nid = 9 },
		{ .metric = DAMOS_QUOTA_NODE_MEM_USED_BP,
		  .target_value = 12,
		  .current_value = 345,
		  .nid = 6 },
		{ .metric = DAMOS_QUOTA_NODE_MEMCG_USED_BP,
		  .target_value = 456,
		  .current_value = 567,
		  .nid = 6,
		  .memcg_id = 7,
		  .memcg_path = "/a/b" },
		{ .metric = DAMOS_QUOTA_NODE_MEMCG_FREE_BP,
		  .target_value = 890,
		  .current_value = 901,
		  .nid = 10,
		  .memcg_id = 1 },
		{ .metric = DAMOS_QUOTA_SOME_MEM_PSI_US,
		  .target_value = 234,
		  .current_value = 345,
		  .last_psi_total = 567 },
	};
	size_t i;

	damon_list_init(&dstq.goals);
	dst = damos_new_quota_goal(DAMOS_QUOTA_SOME_MEM_PSI_US, 1000);
	REQUIRE(dst);
	dst->current_value = 123;
	dst->last_psi_total = 456;
	damos_add_quota_goal(&dstq, dst);

	for (i = 0; i < TAP_NR(srcs); i++) {
		CHECK_EQ(commit_one_goal(&dstq, &srcs[i]), 0);
		/* the goal object is updated in place */
		CHECK(damon_list_entry(dstq.goals.next, struct damos_quota_goal,
				       list) == dst);
		check_goal_committed(dst, &srcs[i]);
		if (i == 0) {
			/* PSI -> PSI keeps the reference total (V-pause) */
			CHECK_EQ(dst->last_psi_total, 456);
			CHECK_EQ(dst->current_value, 123);
		}
		if (i == 4)
			CHECK_STREQ(dst->memcg_path, "/a/b");
		if (i == 5)
			CHECK(dst->memcg_path == NULL);
	}
	/* A goal that just became a PSI goal has no reference total. */
	CHECK_EQ(dst->last_psi_total, UINT64_MAX);

	/* target_value 0 is refused */
	{
		struct damos_quota_goal zero = {
			.metric = DAMOS_QUOTA_USER_INPUT, .target_value = 0
		};

		CHECK_EQ(commit_one_goal(&dstq, &zero), -EINVAL);
	}
	damos_destroy_quota_goal(dst);
}

static void commit_goals_for(const struct damos_quota_goal *dst_goals,
			     int nr_dst, struct damos_quota_goal *src_goals,
			     int nr_src)
{
	struct damos_quota dst = { 0 }, src = { 0 };
	struct damos_quota_goal *g, *next;
	int i, n;

	damon_list_init(&dst.goals);
	damon_list_init(&src.goals);
	for (i = 0; i < nr_dst; i++) {
		g = damos_new_quota_goal(dst_goals[i].metric,
					 dst_goals[i].target_value);
		REQUIRE(g);
		damos_add_quota_goal(&dst, g);
	}
	for (i = 0; i < nr_src; i++) {
		damon_list_init(&src_goals[i].list);
		damos_add_quota_goal(&src, &src_goals[i]);
	}
	CHECK_EQ(damos_commit_quota_goals(&dst, &src), 0);
	n = 0;
	damos_for_each_quota_goal(g, &dst) {
		REQUIRE(n < nr_src);
		CHECK_EQ(g->metric, src_goals[n].metric);
		CHECK_EQ(g->target_value, src_goals[n].target_value);
		n++;
	}
	CHECK_EQ(n, nr_src);
	damos_for_each_quota_goal_safe(g, next, &dst)
		damos_destroy_quota_goal(g);
}

/* kunit damos_test_commit_quota_goals */
static void test_commit_quota_goals(void)
{
	struct damos_quota_goal one_dst[] = {
		{ .metric = DAMOS_QUOTA_USER_INPUT, .target_value = 234 }
	};
	struct damos_quota_goal one_src[] = {
		{ .metric = DAMOS_QUOTA_USER_INPUT, .target_value = 123 }
	};
	struct damos_quota_goal one_src2[] = {
		{ .metric = DAMOS_QUOTA_USER_INPUT, .target_value = 345 }
	};
	struct damos_quota_goal two_src[] = {
		{ .metric = DAMOS_QUOTA_USER_INPUT, .target_value = 1 },
		{ .metric = DAMOS_QUOTA_NODE_MEM_FREE_BP, .target_value = 2 },
	};

	commit_goals_for(NULL, 0, one_src, 1);
	commit_goals_for(one_dst, 1, one_src2, 1);
	commit_goals_for(one_dst, 1, NULL, 0);
	commit_goals_for(one_dst, 1, two_src, 2);
}

/* Two contexts with one scheme each, for commit tests. */
struct commit_pair {
	struct damon_ctx *dst, *src;
	struct damos *ds, *ss;
};

static bool commit_pair_init(struct commit_pair *p, struct damos *dst_scheme,
			     struct damos *src_scheme)
{
	p->dst = damon_new_ctx();
	p->src = damon_new_ctx();
	p->ds = dst_scheme;
	p->ss = src_scheme;
	if (!p->dst || !p->src || !p->ds || !p->ss)
		return false;
	damon_add_scheme(p->dst, p->ds);
	damon_add_scheme(p->src, p->ss);
	return true;
}

static void commit_pair_fini(struct commit_pair *p)
{
	damon_destroy_ctx(p->dst);
	damon_destroy_ctx(p->src);
}

static struct damos *plain_scheme(enum damos_action action)
{
	return damon_new_scheme(NULL, action, 0, NULL, NULL, -1);
}

/* kunit damos_test_commit_quota, plus "tuned state survives" */
static void test_commit_quota(void)
{
	struct damos_quota dq = { .reset_interval = 1,
				  .ms = 2,
				  .sz = 3,
				  .goal_tuner = DAMOS_QUOTA_GOAL_TUNER_CONSIST,
				  .fail_charge_num = 2,
				  .fail_charge_denom = 3,
				  .weight_sz = 4,
				  .weight_nr_accesses = 5,
				  .weight_age = 6 };
	struct damos_quota sq = { .reset_interval = 7,
				  .ms = 8,
				  .sz = 9,
				  .goal_tuner = DAMOS_QUOTA_GOAL_TUNER_TEMPORAL,
				  .fail_charge_num = 1,
				  .fail_charge_denom = 1024,
				  .weight_sz = 10,
				  .weight_nr_accesses = 11,
				  .weight_age = 12 };
	struct commit_pair p;
	struct damos_quota *d;

	REQUIRE(commit_pair_init(
		&p, damon_new_scheme(NULL, DAMOS_STAT, 0, &dq, NULL, -1),
		damon_new_scheme(NULL, DAMOS_STAT, 0, &sq, NULL, -1)));
	d = &p.ds->quota;
	d->esz = 1234;
	d->esz_bp = 12340000;
	d->charged_sz = 77;
	d->total_charged_sz = 88;
	d->min_score = 42;
	p.ds->stat.nr_tried = 5;

	CHECK_EQ(damos_commit_schemes(p.dst, p.src), 0);
	CHECK_EQ(d->reset_interval, 7);
	CHECK_EQ(d->ms, 8);
	CHECK_EQ(d->sz, 9);
	CHECK_EQ(d->goal_tuner, DAMOS_QUOTA_GOAL_TUNER_TEMPORAL);
	CHECK_EQ(d->fail_charge_num, 1);
	CHECK_EQ(d->fail_charge_denom, 1024);
	CHECK_EQ(d->weight_sz, 10);
	CHECK_EQ(d->weight_nr_accesses, 11);
	CHECK_EQ(d->weight_age, 12);
	/* tuned state and stats of a matched scheme are kept */
	CHECK_EQ(d->esz, 1234);
	CHECK_EQ(d->esz_bp, 12340000);
	CHECK_EQ(d->charged_sz, 77);
	CHECK_EQ(d->total_charged_sz, 88);
	CHECK_EQ(d->min_score, 42);
	CHECK_EQ(p.ds->stat.nr_tried, 5);
	CHECK(p.ss->quota.esz == 0);

	/* committing the quota away leaves no stale effective size */
	p.ss->quota.ms = 0;
	p.ss->quota.sz = 0;
	CHECK_EQ(damos_commit_schemes(p.dst, p.src), 0);
	CHECK_EQ(d->esz, 0);
	CHECK_EQ(d->charged_sz, 0);
	commit_pair_fini(&p);
}

static void commit_dests_for(const unsigned int *dst_ids,
			     const unsigned int *dst_ws, size_t nr_dst,
			     const unsigned int *src_ids,
			     const unsigned int *src_ws, size_t nr_src)
{
	struct commit_pair p;
	size_t i;

	REQUIRE(commit_pair_init(&p, plain_scheme(DAMOS_MIGRATE_HOT),
				 plain_scheme(DAMOS_MIGRATE_HOT)));
	CHECK_EQ(damos_set_migrate_dests(p.ds, dst_ids, dst_ws, nr_dst), 0);
	CHECK_EQ(damos_set_migrate_dests(p.ss, src_ids, src_ws, nr_src), 0);
	CHECK_EQ(damos_commit_schemes(p.dst, p.src), 0);
	CHECK_EQ(p.ds->migrate_dests.nr_dests, nr_src);
	for (i = 0; i < nr_src && i < p.ds->migrate_dests.nr_dests; i++) {
		CHECK_EQ(p.ds->migrate_dests.node_id_arr[i], src_ids[i]);
		CHECK_EQ(p.ds->migrate_dests.weight_arr[i], src_ws[i]);
	}
	/* a copy, not the source's arrays */
	if (nr_src)
		CHECK(p.ds->migrate_dests.node_id_arr !=
		      p.ss->migrate_dests.node_id_arr);
	commit_pair_fini(&p);
}

/* kunit damos_test_commit_dests: 3->3, 2->3, 0->3, 3->2, 3->0 */
static void test_commit_dests(void)
{
	const unsigned int a_ids[] = { 1, 2, 3 }, a_ws[] = { 2, 3, 4 };
	const unsigned int b_ids[] = { 4, 5, 6 }, b_ws[] = { 5, 6, 7 };

	commit_dests_for(a_ids, a_ws, 3, b_ids, b_ws, 3);
	commit_dests_for(a_ids, a_ws, 2, b_ids, b_ws, 3);
	commit_dests_for(NULL, NULL, 0, b_ids, b_ws, 3);
	commit_dests_for(a_ids, a_ws, 3, b_ids, b_ws, 2);
	commit_dests_for(a_ids, a_ws, 3, NULL, NULL, 0);
}

static struct damos_filter *only_filter(struct damos *s)
{
	struct damos_filter *f, *found = NULL;
	int n = 0;

	damos_for_each_core_filter(f, s) {
		found = f;
		n++;
	}
	damos_for_each_ops_filter(f, s) {
		found = f;
		n++;
	}
	return n == 1 ? found : NULL;
}

/* kunit damos_test_commit_filter, for every type */
static void test_commit_filter(void)
{
	struct damos_filter srcs[] = {
		{ .type = DAMOS_FILTER_TYPE_ANON,
		  .matching = true,
		  .allow = true },
		{ .type = DAMOS_FILTER_TYPE_MEMCG,
		  .matching = false,
		  .allow = false,
		  .memcg_id = 123,
		  .memcg_path = "/x" },
		{ .type = DAMOS_FILTER_TYPE_YOUNG,
		  .matching = true,
		  .allow = true },
		{ .type = DAMOS_FILTER_TYPE_HUGEPAGE_SIZE,
		  .matching = false,
		  .allow = false,
		  .sz_range = { .min = 234, .max = 345 } },
		{ .type = DAMOS_FILTER_TYPE_UNMAPPED,
		  .matching = true,
		  .allow = true },
		{ .type = DAMOS_FILTER_TYPE_ADDR,
		  .matching = false,
		  .allow = false,
		  .addr_range = { .start = 456, .end = 567 } },
		{ .type = DAMOS_FILTER_TYPE_TARGET,
		  .matching = true,
		  .allow = true,
		  .target_idx = 6 },
		{ .type = DAMOS_FILTER_TYPE_ACTIVE,
		  .matching = true,
		  .allow = false },
	};
	struct commit_pair p;
	struct damos_filter *f;
	size_t i;

	REQUIRE(commit_pair_init(&p, plain_scheme(DAMOS_STAT),
				 plain_scheme(DAMOS_STAT)));
	f = damos_new_filter(DAMOS_FILTER_TYPE_ACTIVE, false, false);
	REQUIRE(f);
	damos_add_filter(p.ds, f);

	for (i = 0; i < TAP_NR(srcs); i++) {
		struct damos_filter *sf = damos_new_filter(
			srcs[i].type, srcs[i].matching, srcs[i].allow);

		REQUIRE(sf);
		sf->addr_range = srcs[i].addr_range;
		if (srcs[i].type == DAMOS_FILTER_TYPE_TARGET)
			sf->target_idx = srcs[i].target_idx;
		if (srcs[i].type == DAMOS_FILTER_TYPE_HUGEPAGE_SIZE)
			sf->sz_range = srcs[i].sz_range;
		if (srcs[i].type == DAMOS_FILTER_TYPE_MEMCG) {
			sf->memcg_id = srcs[i].memcg_id;
			sf->memcg_path = strdup(srcs[i].memcg_path);
		}
		damos_add_filter(p.ss, sf);

		CHECK_EQ(damos_commit_schemes(p.dst, p.src), 0);
		f = only_filter(p.ds);
		REQUIRE(f);
		CHECK_EQ(f->type, srcs[i].type);
		CHECK_EQ(f->matching, srcs[i].matching);
		CHECK_EQ(f->allow, srcs[i].allow);
		switch (srcs[i].type) {
		case DAMOS_FILTER_TYPE_MEMCG:
			CHECK_EQ(f->memcg_id, 123);
			CHECK_STREQ(f->memcg_path, "/x");
			CHECK(f->memcg_path != sf->memcg_path);
			break;
		case DAMOS_FILTER_TYPE_ADDR:
			CHECK_EQ(f->addr_range.start, 456);
			CHECK_EQ(f->addr_range.end, 567);
			break;
		case DAMOS_FILTER_TYPE_TARGET:
			CHECK_EQ(f->target_idx, 6);
			break;
		case DAMOS_FILTER_TYPE_HUGEPAGE_SIZE:
			CHECK_EQ(f->sz_range.min, 234);
			CHECK_EQ(f->sz_range.max, 345);
			break;
		default:
			break;
		}
		/* default-reject recomputed from the committed lists */
		CHECK_EQ(p.ds->ops_filters_default_reject,
			 damos_filter_for_ops(f->type) && f->allow);
		CHECK_EQ(p.ds->core_filters_default_reject,
			 !damos_filter_for_ops(f->type) && f->allow);
		damos_destroy_filter(sf);
	}

	/* invalid ranges are refused */
	f = damos_new_filter(DAMOS_FILTER_TYPE_ADDR, true, true);
	REQUIRE(f);
	f->addr_range.start = 8192;
	f->addr_range.end = 4096;
	damos_add_filter(p.ss, f);
	CHECK_EQ(damos_commit_schemes(p.dst, p.src), -EINVAL);
	CHECK_EQ(udamon__damos_validate(p.src), -EINVAL);
	damos_destroy_filter(f);
	f = damos_new_filter(DAMOS_FILTER_TYPE_HUGEPAGE_SIZE, true, true);
	REQUIRE(f);
	f->sz_range.min = 2 * MiB;
	f->sz_range.max = 4096;
	damos_add_filter(p.ss, f);
	CHECK_EQ(damos_commit_schemes(p.dst, p.src), -EINVAL);
	CHECK_EQ(udamon__damos_validate(p.src), -EINVAL);
	damos_destroy_filter(f);
	CHECK_EQ(udamon__damos_validate(p.src), 0);
	commit_pair_fini(&p);
}

static void commit_scheme_for(struct damos *dst, struct damos *src)
{
	struct commit_pair p;

	REQUIRE(commit_pair_init(&p, dst, src));
	CHECK_EQ(damos_commit_schemes(p.dst, p.src), 0);
	CHECK_EQ(dst->pattern.min_sz_region, src->pattern.min_sz_region);
	CHECK_EQ(dst->pattern.max_sz_region, src->pattern.max_sz_region);
	CHECK_EQ(dst->pattern.min_nr_accesses, src->pattern.min_nr_accesses);
	CHECK_EQ(dst->pattern.max_nr_accesses, src->pattern.max_nr_accesses);
	CHECK_EQ(dst->pattern.min_age_region, src->pattern.min_age_region);
	CHECK_EQ(dst->pattern.max_age_region, src->pattern.max_age_region);
	CHECK_EQ(dst->action, src->action);
	CHECK_EQ(dst->apply_interval_us, src->apply_interval_us);
	CHECK_EQ(dst->wmarks.metric, src->wmarks.metric);
	CHECK_EQ(dst->wmarks.interval, src->wmarks.interval);
	CHECK_EQ(dst->wmarks.high, src->wmarks.high);
	CHECK_EQ(dst->wmarks.mid, src->wmarks.mid);
	CHECK_EQ(dst->wmarks.low, src->wmarks.low);
	CHECK_EQ(dst->wmarks.activated, src->wmarks.activated);
	CHECK_EQ(dst->target_nid, src->target_nid);
	commit_pair_fini(&p);
}

/* kunit damos_test_commit_pageout and damos_test_commit_migrate_hot */
static void test_commit_pageout_migrate_hot(void)
{
	struct damos_access_pattern p1 = { 1, 2, 3, 4, 5, 6 };
	struct damos_access_pattern p2 = { 2, 3, 4, 5, 6, 7 };
	struct damos_watermarks w1 = { DAMOS_WMARK_FREE_MEM_RATE, 900, 100,
				       50 };
	struct damos_watermarks w2 = { DAMOS_WMARK_FREE_MEM_RATE, 800, 50, 30 };
	struct damos_watermarks w0 = { DAMOS_WMARK_NONE };
	struct damos *dst;

	commit_scheme_for(
		damon_new_scheme(&p1, DAMOS_PAGEOUT, 1000000, NULL, &w1, -1),
		damon_new_scheme(&p2, DAMOS_PAGEOUT, 2000000, NULL, &w2, -1));
	commit_scheme_for(damon_new_scheme(&p1, DAMOS_PAGEOUT, 1000000, NULL,
					   &w1, -1),
			  damon_new_scheme(&p2, DAMOS_MIGRATE_HOT, 2000000,
					   NULL, &w0, 5));
	/* a commit re-activates a watermark-deactivated scheme */
	dst = damon_new_scheme(&p1, DAMOS_PAGEOUT, 1000000, NULL, &w1, -1);
	REQUIRE(dst);
	dst->wmarks.activated = false;
	commit_scheme_for(dst, damon_new_scheme(&p2, DAMOS_PAGEOUT, 2000000,
						NULL, &w2, -1));
}

/* Index-wise scheme lists: extra dst schemes go, extra src ones come. */
static void test_commit_schemes_lists(void)
{
	struct damon_ctx *dst = damon_new_ctx(), *src = damon_new_ctx();
	struct damos *s, *first;
	int i;

	REQUIRE(dst && src);
	for (i = 0; i < 3; i++)
		damon_add_scheme(dst, plain_scheme(DAMOS_PAGEOUT));
	first = damon_list_entry(dst->schemes.next, struct damos, list);
	first->stat.nr_applied = 11;
	damon_add_scheme(src, plain_scheme(DAMOS_STAT));
	CHECK_EQ(damos_commit_schemes(dst, src), 0);
	CHECK_EQ(damon_nr_schemes(dst), 1);
	CHECK(damon_list_entry(dst->schemes.next, struct damos, list) == first);
	CHECK_EQ(first->action, DAMOS_STAT);
	CHECK_EQ(first->stat.nr_applied, 11);

	damon_add_scheme(src, plain_scheme(DAMOS_WILLNEED));
	s = damon_list_entry(src->schemes.prev, struct damos, list);
	s->apply_interval_us = 20000;
	s->max_nr_snapshots = 9;
	damos_add_quota_goal(&s->quota,
			     damos_new_quota_goal(DAMOS_QUOTA_USER_INPUT, 5));
	dst->passed_sample_intervals = 100;
	CHECK_EQ(damos_commit_schemes(dst, src), 0);
	CHECK_EQ(damon_nr_schemes(dst), 2);
	s = damon_list_entry(dst->schemes.prev, struct damos, list);
	CHECK_EQ(s->action, DAMOS_WILLNEED);
	CHECK_EQ(s->max_nr_snapshots, 9);
	CHECK_EQ(s->target_nid, -1);
	/* a new scheme is scheduled from the destination's clock */
	CHECK_EQ(s->next_apply_sis, 100 + 20000 / 5000);
	CHECK(!damon_list_empty(&s->quota.goals));
	CHECK(damon_list_entry(s->quota.goals.next, struct damos_quota_goal,
			       list)
		      ->target_value == 5);

	/* node_eligible_mem_bp only on paddr */
	s = damon_list_entry(src->schemes.prev, struct damos, list);
	damos_add_quota_goal(
		&s->quota,
		damos_new_quota_goal(DAMOS_QUOTA_NODE_ELIGIBLE_MEM_BP, 5));
	src->ops.id = DAMON_OPS_VADDR;
	CHECK_EQ(udamon__damos_validate(src), -EINVAL);
	src->ops.id = DAMON_OPS_PADDR;
	CHECK_EQ(udamon__damos_validate(src), 0);
	damos_add_quota_goal(&s->quota,
			     damos_new_quota_goal(DAMOS_QUOTA_USER_INPUT, 0));
	CHECK_EQ(udamon__damos_validate(src), -EINVAL);

	/* everything goes when the source has no schemes */
	udamon__damos_destroy_all(src);
	CHECK_EQ(damos_commit_schemes(dst, src), 0);
	CHECK_EQ(damon_nr_schemes(dst), 0);
	damon_destroy_ctx(dst);
	damon_destroy_ctx(src);
}

/* damon_commit_ctx() runs the DAMOS validation and commit. */
static void test_commit_ctx_schemes(void)
{
	struct damon_ctx *dst = damon_new_ctx(), *src = damon_new_ctx();
	struct damos *s;

	REQUIRE(dst && src);
	s = plain_scheme(DAMOS_STAT);
	REQUIRE(s);
	damon_add_scheme(src, s);
	CHECK_EQ(damon_commit_ctx(dst, src), 0);
	CHECK_EQ(damon_nr_schemes(dst), 1);
	damos_add_quota_goal(
		&s->quota,
		damos_new_quota_goal(DAMOS_QUOTA_NODE_ELIGIBLE_MEM_BP, 5000));
	CHECK_EQ(damon_commit_ctx(dst, src), -EINVAL);
	/* the failed commit did not touch dst */
	s = damon_list_entry(dst->schemes.next, struct damos, list);
	CHECK(damon_list_empty(&s->quota.goals));
	damon_destroy_ctx(dst);
	damon_destroy_ctx(src);
}

/* ------------------------------------------------------------------ */
/* Filters                                                             */
/* ------------------------------------------------------------------ */

/* kunit damos_test_filter_out: addr filter [2, 6) with min_region_sz 1 */
static void test_filter_out(void)
{
	struct damos_filter *f;
	struct damon_target *t;
	struct damon_region *r, *r2;

	f = damos_new_filter(DAMOS_FILTER_TYPE_ADDR, true, false);
	t = damon_new_target();
	r = damon_new_region(3, 5);
	REQUIRE(f && t && r);
	f->addr_range.start = 2;
	f->addr_range.end = 6;
	damon_add_region(r, t);

	/* inside */
	CHECK(udamon__damos_filter_match(NULL, t, r, f, 1));
	CHECK_EQ(damon_nr_regions(t), 1);
	/* before */
	r->ar.start = 1;
	r->ar.end = 2;
	CHECK(!udamon__damos_filter_match(NULL, t, r, f, 1));
	CHECK_EQ(damon_nr_regions(t), 1);
	/* after */
	r->ar.start = 6;
	r->ar.end = 8;
	CHECK(!udamon__damos_filter_match(NULL, t, r, f, 1));
	CHECK_EQ(damon_nr_regions(t), 1);
	/* starts before and overlaps: split at 2, head does not match */
	r->ar.start = 1;
	r->ar.end = 4;
	CHECK(!udamon__damos_filter_match(NULL, t, r, f, 1));
	CHECK_EQ(r->ar.start, 1);
	CHECK_EQ(r->ar.end, 2);
	REQUIRE(damon_nr_regions(t) == 2);
	r2 = damon_next_region(r);
	CHECK_EQ(r2->ar.start, 2);
	CHECK_EQ(r2->ar.end, 4);
	damon_destroy_region(r2, t);
	/* starts inside and goes beyond: split at 6, head matches */
	r->ar.start = 2;
	r->ar.end = 8;
	CHECK(udamon__damos_filter_match(NULL, t, r, f, 1));
	CHECK_EQ(r->ar.start, 2);
	CHECK_EQ(r->ar.end, 6);
	REQUIRE(damon_nr_regions(t) == 2);
	r2 = damon_next_region(r);
	CHECK_EQ(r2->ar.start, 6);
	CHECK_EQ(r2->ar.end, 8);

	/* matching=false inverts; bounds are aligned down to the unit */
	f->matching = false;
	r->ar.start = 2;
	r->ar.end = 6;
	CHECK(!udamon__damos_filter_match(NULL, t, r, f, 1));
	f->matching = true;
	r->ar.start = 0;
	r->ar.end = 4;
	CHECK(udamon__damos_filter_match(NULL, t, r, f, 4));
	damon_destroy_target(t, NULL);
	damos_destroy_filter(f);
}

static void test_filter_target(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t0 = damon_new_target(), *t1 = damon_new_target();
	struct damon_region *r = damon_new_region(0, PAGE);
	struct damos_filter *f =
		damos_new_filter(DAMOS_FILTER_TYPE_TARGET, true, true);

	REQUIRE(ctx && t0 && t1 && r && f);
	damon_add_target(ctx, t0);
	damon_add_target(ctx, t1);
	damon_add_region(r, t1);
	f->target_idx = 1;
	CHECK(udamon__damos_filter_match(ctx, t1, r, f, PAGE));
	CHECK(!udamon__damos_filter_match(ctx, t0, r, f, PAGE));
	f->matching = false;
	CHECK(!udamon__damos_filter_match(ctx, t1, r, f, PAGE));
	damos_destroy_filter(f);
	damon_destroy_ctx(ctx);
}

/* kunit damon_test_set_filters_default_reject */
static void test_set_filters_default_reject(void)
{
	struct damos *s = plain_scheme(DAMOS_STAT);
	struct damos_filter *target_filter, *anon_filter;

	REQUIRE(s);
	damos_set_filters_default_reject(s);
	CHECK_EQ(s->core_filters_default_reject, false);
	CHECK_EQ(s->ops_filters_default_reject, false);

	target_filter = damos_new_filter(DAMOS_FILTER_TYPE_TARGET, true, true);
	REQUIRE(target_filter);
	damos_add_filter(s, target_filter);
	damos_set_filters_default_reject(s);
	CHECK_EQ(s->core_filters_default_reject, true);
	CHECK_EQ(s->ops_filters_default_reject, false);

	target_filter->allow = false;
	damos_set_filters_default_reject(s);
	CHECK_EQ(s->core_filters_default_reject, false);
	CHECK_EQ(s->ops_filters_default_reject, false);

	anon_filter = damos_new_filter(DAMOS_FILTER_TYPE_ANON, true, true);
	REQUIRE(anon_filter);
	damos_add_filter(s, anon_filter);
	damos_set_filters_default_reject(s);
	CHECK_EQ(s->core_filters_default_reject, false);
	CHECK_EQ(s->ops_filters_default_reject, true);

	target_filter->allow = true;
	damos_set_filters_default_reject(s);
	CHECK_EQ(s->core_filters_default_reject, false);
	CHECK_EQ(s->ops_filters_default_reject, true);
	damon_destroy_scheme(s);
}

/* kunit damon_test_feed_loop_next_input */
static void test_feed_loop_next_input(void)
{
	unsigned long last_input = 900000;

	CHECK(damon_feed_loop_next_input(last_input, 200) > last_input);
	CHECK(damon_feed_loop_next_input(last_input, 250000000) < last_input);
	CHECK(damon_feed_loop_next_input(last_input, 200) >
	      damon_feed_loop_next_input(last_input, 2000));
	/* on target: unchanged; far above: the minimum */
	CHECK_EQ(damon_feed_loop_next_input(last_input, 10000), last_input);
	CHECK_EQ(damon_feed_loop_next_input(last_input, 20000), 10000);
	CHECK_EQ(damon_feed_loop_next_input(ULONG_MAX - 5, 0), ULONG_MAX);
}

/* kunit damon_test_walk_control_obsolete */
static void test_walk_control_obsolete(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damos_walk_control control = { 0 };

	REQUIRE(ctx);
	/* never started: refused instead of waiting forever */
	CHECK_EQ(damos_walk(ctx, &control), -ECANCELED);
	ctx->walk_control_obsolete = true;
	CHECK_EQ(damos_walk(ctx, &control), -ECANCELED);
	CHECK_EQ(damos_walk(NULL, &control), -EINVAL);
	damon_destroy_ctx(ctx);
}

/* ------------------------------------------------------------------ */
/* Behaviour: quotas                                                   */
/* ------------------------------------------------------------------ */

/*
 * A 64 KiB per 100 ms size quota over a 1 MiB target: no pass (one window
 * each) tries more than the quota, windows end full, and the resume point
 * walks through the target instead of restarting at its start.
 */
static void test_size_quota_never_exceeded(void)
{
	struct damos_quota quota = { .sz = 64 * KiB, .reset_interval = 100 };
	struct damon_ctx *ctx = new_ctx(1, MiB);
	unsigned long prev_tried = 0, passes = 0, starts_at_zero = 0;
	unsigned char covered[MiB / PAGE] = { 0 };
	unsigned long i, nr_covered = 0, seen = 0, pass;
	struct damos *s;

	REQUIRE(ctx);
	s = add_scheme(ctx, DAMOS_PAGEOUT, 0, &quota);
	REQUIRE(s);
	REQUIRE(damon_manual_start(ctx) == 0);
	while (passes < 40) {
		REQUIRE(damon_manual_step(ctx) == 0);
		CHECK(s->quota.charged_sz <= quota.sz);
		if (ev.stat_passes[0] == passes)
			continue;
		passes = ev.stat_passes[0];
		CHECK(s->stat.sz_tried - prev_tried <= quota.sz);
		prev_tried = s->stat.sz_tried;
	}
	CHECK_EQ(s->quota.esz, quota.sz);
	/* the first windows are spent entirely */
	CHECK(s->stat.qt_exceeds >= 30);
	CHECK(s->stat.sz_tried >= 30 * quota.sz);
	CHECK_EQ(s->stat.sz_tried, s->stat.sz_applied);
	CHECK_EQ(ev.nr[DAMON_EVENT_DAMOS_BEFORE_APPLY], s->stat.nr_tried);

	for (i = 0; i < ev.nr_applies; i++) {
		unsigned long a;

		for (a = ev.applies[i].start; a < ev.applies[i].end; a += PAGE)
			covered[a / PAGE] = 1;
	}
	for (i = 0; i < MiB / PAGE; i++)
		nr_covered += covered[i];
	for (i = 0, pass = ULONG_MAX; i < ev.nr_applies; i++) {
		if (ev.applies[i].pass == pass)
			continue;
		pass = ev.applies[i].pass;
		seen++;
		if (ev.applies[i].start == 0)
			starts_at_zero++;
	}
	tap_diag("covered %lu/%lu pages, %lu/%lu windows restart at 0",
		 nr_covered, MiB / PAGE, starts_at_zero, seen);
	CHECK(nr_covered >= MiB / PAGE * 9 / 10);
	CHECK(seen >= 30);
	/* without a resume point every window would start at 0 */
	CHECK(starts_at_zero <= 6);
	finish(ctx);
}

/*
 * A 10 ms time quota per 1 s window, with actions costing 1 ns per byte
 * of virtual time: the effective size converges to 10 ms of throughput.
 */
static void test_time_quota_converges(void)
{
	struct damos_quota quota = { .ms = 10, .reset_interval = 1000 };
	struct damon_ctx *ctx = new_ctx(1, 64 * MiB);
	unsigned long qt_exceeds, window_start = 0;
	uint64_t charged_ns;
	struct damos *s;
	int i;

	REQUIRE(ctx);
	fake.ns_per_byte = 1;
	s = add_scheme(ctx, DAMOS_PAGEOUT, 0, &quota);
	REQUIRE(s);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 150000) == 0);
	/* first window: the default throughput, 4 MiB per ms */
	CHECK_EQ(s->quota.esz, 4096UL * 1024 * 10);
	CHECK_EQ(ev.last_esz[0], 4096UL * 1024 * 10);
	REQUIRE(damon_manual_run_for(ctx, 3000000) == 0);
	CHECK_EQ(s->quota.esz, 1000000UL * 10);
	CHECK_EQ(s->quota.total_charged_ns,
		 s->quota.total_charged_sz + s->quota.charged_sz);
	/*
	 * A whole window spends about 10 ms of action time.  total_charged_sz
	 * grows by a finished window's charge at each window start, and
	 * bytes cost 1 ns each here.
	 */
	for (i = 0; i < 3; i++) {
		qt_exceeds = s->stat.qt_exceeds;
		while (s->stat.qt_exceeds == qt_exceeds)
			REQUIRE(damon_manual_step(ctx) == 0);
		if (i) {
			charged_ns = s->quota.total_charged_sz - window_start;
			CHECK(charged_ns <= 10 * 1000000);
			CHECK(charged_ns >= 9 * 1000000);
		}
		window_start = s->quota.total_charged_sz;
	}
	finish(ctx);
}

static void set_user_input(struct damos *s, unsigned long value)
{
	struct damos_quota_goal g = { .metric = DAMOS_QUOTA_USER_INPUT,
				      .target_value = 10000,
				      .current_value = value };

	CHECK_EQ(commit_one_goal(&s->quota, &g), 0);
}

/*
 * The selftest damos_quota_goal.py: current 0/15000/5000/18000 against
 * target 10000 move the effective size up/down/up/down.
 */
static void test_user_input_goal(void)
{
	struct damos_quota quota = { .reset_interval = 100 };
	const unsigned long values[] = { 0, 15000, 5000, 18000 };
	struct damon_ctx *ctx = new_ctx(1, 4 * MiB);
	unsigned long last_esz = 0;
	struct damos *s;
	size_t i;

	REQUIRE(ctx);
	s = add_scheme(ctx, DAMOS_STAT, 0, &quota);
	REQUIRE(s);
	damos_add_quota_goal(
		&s->quota, damos_new_quota_goal(DAMOS_QUOTA_USER_INPUT, 10000));
	REQUIRE(damon_manual_start(ctx) == 0);
	for (i = 0; i < TAP_NR(values); i++) {
		set_user_input(s, values[i]);
		REQUIRE(damon_manual_run_for(ctx, 1000000) == 0);
		tap_diag("current %lu: esz %lu", values[i], s->quota.esz);
		if (values[i] < 10000)
			CHECK(s->quota.esz > last_esz);
		else
			CHECK(s->quota.esz < last_esz);
		last_esz = s->quota.esz;
	}
	/* tracing saw the changes */
	CHECK(ev.nr[DAMON_EVENT_DAMOS_ESZ] >= 4);
	CHECK_EQ(ev.last_esz[0], s->quota.esz);
	finish(ctx);
}

/* The temporal tuner: full size until the goal is met, then nothing. */
static void test_temporal_tuner(void)
{
	struct damos_quota quota = {
		.reset_interval = 100,
		.sz = 256 * KiB,
		.goal_tuner = DAMOS_QUOTA_GOAL_TUNER_TEMPORAL,
	};
	struct damon_ctx *ctx = new_ctx(1, 4 * MiB);
	unsigned long tried;
	struct damos *s;

	REQUIRE(ctx);
	s = add_scheme(ctx, DAMOS_PAGEOUT, 0, &quota);
	REQUIRE(s);
	damos_add_quota_goal(
		&s->quota, damos_new_quota_goal(DAMOS_QUOTA_USER_INPUT, 10000));
	REQUIRE(damon_manual_start(ctx) == 0);
	set_user_input(s, 5000);
	REQUIRE(damon_manual_run_for(ctx, 500000) == 0);
	CHECK_EQ(s->quota.esz, 256 * KiB);
	CHECK(s->stat.sz_tried > 0);
	set_user_input(s, 10000);
	REQUIRE(damon_manual_run_for(ctx, 200000) == 0);
	CHECK_EQ(s->quota.esz, 0);
	tried = s->stat.sz_applied;
	REQUIRE(damon_manual_run_for(ctx, 500000) == 0);
	CHECK_EQ(s->stat.sz_applied, tried);
	finish(ctx);
}

/*
 * some_mem_psi_us: the hook returns a cumulative total; the goal sees
 * the growth since the last evaluation, and the first evaluation is
 * neutral.  A failing hook keeps the last value.
 */
static void test_psi_goal_delta(void)
{
	struct damos_quota quota = { .reset_interval = 100 };
	struct damon_ctx *ctx = new_ctx(1, MiB);
	struct damos_quota_goal *g;
	struct damos *s;
	unsigned long esz_bp;

	REQUIRE(ctx);
	s = add_scheme(ctx, DAMOS_STAT, 0, &quota);
	REQUIRE(s);
	g = damos_new_quota_goal(DAMOS_QUOTA_SOME_MEM_PSI_US, 1000);
	REQUIRE(g);
	damos_add_quota_goal(&s->quota, g);
	fake.goal_value = 5000;
	REQUIRE(damon_manual_start(ctx) == 0);
	/* first window at 100 ms: neutral */
	REQUIRE(damon_manual_run_for(ctx, 100000) == 0);
	CHECK_EQ(g->current_value, 1000);
	CHECK_EQ(g->last_psi_total, 5000);
	CHECK_EQ(s->quota.esz_bp, 10000);
	fake.goal_value = 5400;
	REQUIRE(damon_manual_run_for(ctx, 100000) == 0);
	CHECK_EQ(g->current_value, 400);
	CHECK_EQ(g->last_psi_total, 5400);
	/* 400 of 1000: under target, so the quota grows by 60% */
	CHECK_EQ(s->quota.esz_bp, 16000);
	esz_bp = s->quota.esz_bp;
	fake.goal_err = -EIO;
	REQUIRE(damon_manual_run_for(ctx, 100000) == 0);
	CHECK_EQ(g->current_value, 400);
	CHECK_EQ(g->last_psi_total, 5400);
	CHECK(s->quota.esz_bp > esz_bp);
	finish(ctx);
}

/* Failed bytes are charged at fail_charge_num/denom of their size. */
static void test_fail_charge(void)
{
	struct damos_quota quota = { .sz = 1 * MiB,
				     .reset_interval = 10000,
				     .fail_charge_num = 1,
				     .fail_charge_denom = 1024 };
	struct damon_ctx *ctx = new_ctx(1, 400 * KiB);
	struct damos *s;

	REQUIRE(ctx);
	fake.apply_permil = 500;
	s = add_scheme(ctx, DAMOS_PAGEOUT, 0, &quota);
	REQUIRE(s);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 100000) == 0);
	REQUIRE(ev.stat_passes[0] == 1);
	CHECK_EQ(s->stat.sz_tried, 400 * KiB);
	CHECK_EQ(s->stat.sz_applied, 200 * KiB);
	CHECK_EQ(s->quota.charged_sz, 200 * KiB + 200 * KiB / 1024);
	finish(ctx);
}

/*
 * With a score hook, the quota goes to the highest-scored memory first:
 * min_score lets only the hot quarter of the target in.
 */
static void test_priority_min_score(void)
{
	struct damos_quota quota = { .sz = 128 * KiB, .reset_interval = 100 };
	struct damon_ctx *ctx;
	struct damos *s;
	unsigned long i;

	fake.with_score = true;
	fake.hot_start = 512 * KiB;
	fake.hot_end = 768 * KiB;
	ctx = new_ctx(1, MiB);
	REQUIRE(ctx);
	s = add_scheme(ctx, DAMOS_STAT, 0, &quota);
	REQUIRE(s);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 1000000) == 0);
	CHECK_EQ(s->quota.min_score, DAMOS_MAX_SCORE);
	CHECK(ev.nr_applies > 0);
	for (i = 0; i < ev.nr_applies; i++) {
		CHECK(ev.applies[i].start < fake.hot_end);
		CHECK(ev.applies[i].end > fake.hot_start);
	}
	finish(ctx);
}

/* ------------------------------------------------------------------ */
/* Behaviour: scheduling, patterns, filters, snapshots                 */
/* ------------------------------------------------------------------ */

/*
 * The selftest damos_apply_interval.py: a 10 ms apply interval is tried at
 * least 9 times as often as one on the 100 ms aggregation interval.
 */
static void test_apply_interval(void)
{
	struct damon_ctx *ctx = new_ctx(1, 4 * MiB);
	struct damos *fast, *slow;

	REQUIRE(ctx);
	fast = add_scheme(ctx, DAMOS_STAT, 10000, NULL);
	slow = add_scheme(ctx, DAMOS_STAT, 0, NULL);
	REQUIRE(fast && slow);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 3000000) == 0);
	tap_diag("passes %lu vs %lu, nr_tried %lu vs %lu", ev.stat_passes[0],
		 ev.stat_passes[1], fast->stat.nr_tried, slow->stat.nr_tried);
	CHECK_EQ(ev.stat_passes[1], 30);
	CHECK_EQ(ev.stat_passes[0], 300);
	CHECK(fast->stat.nr_tried >= 9 * slow->stat.nr_tried);
	CHECK(slow->stat.nr_tried > 0);
	/* stat changes nothing, so ages keep growing */
	CHECK(damon_first_region(damon_list_entry(ctx->adaptive_targets.next,
						  struct damon_target, list))
		      ->age > 0);
	finish(ctx);
}

/* Access pattern: only the hot range qualifies; pageout resets ages. */
static void test_pattern_and_age_reset(void)
{
	struct damos_access_pattern hot = match_all;
	struct damon_ctx *ctx;
	struct damon_target *t;
	struct damon_region *r;
	struct damos *s;
	unsigned long i;

	fake.hot_start = 0;
	fake.hot_end = 256 * KiB;
	ctx = new_ctx(1, MiB);
	REQUIRE(ctx);
	hot.min_nr_accesses = 10;
	s = damon_new_scheme(&hot, DAMOS_PAGEOUT, 0, NULL, NULL, -1);
	REQUIRE(s);
	damon_add_scheme(ctx, s);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 1000000) == 0);
	CHECK(s->stat.nr_tried > 0);
	for (i = 0; i < ev.nr_applies; i++)
		CHECK(ev.applies[i].start < fake.hot_end);
	t = damon_list_entry(ctx->adaptive_targets.next, struct damon_target,
			     list);
	damon_for_each_region(r, t) {
		if (r->ar.end <= fake.hot_end)
			CHECK(r->age <= 1);
		else if (r->ar.start >= fake.hot_end)
			CHECK(r->age > 1);
	}
	CHECK_EQ(total_sz(t), MiB);
	finish(ctx);
}

/* Core filters in the pass: an allow addr filter splits at its bounds. */
static void test_addr_filter_in_pass(void)
{
	struct damon_ctx *ctx = new_ctx(1, MiB);
	struct damos_filter *f;
	struct damos *s;
	unsigned long i, applied = 0;

	REQUIRE(ctx);
	s = add_scheme(ctx, DAMOS_STAT, 0, NULL);
	f = damos_new_filter(DAMOS_FILTER_TYPE_ADDR, true, true);
	REQUIRE(s && f);
	f->addr_range.start = 300 * KiB + 100; /* aligned down */
	f->addr_range.end = 700 * KiB;
	damos_add_filter(s, f);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 100000) == 0);
	REQUIRE(ev.stat_passes[0] == 1);
	for (i = 0; i < ev.nr_applies; i++) {
		CHECK(ev.applies[i].start >= 300 * KiB);
		CHECK(ev.applies[i].end <= 700 * KiB);
		applied += ev.applies[i].end - ev.applies[i].start;
	}
	CHECK_EQ(applied, 400 * KiB);
	/* filtered-out regions are not counted as tried */
	CHECK_EQ(s->stat.sz_tried, 400 * KiB);
	CHECK(s->core_filters_default_reject);
	finish(ctx);
}

static void test_target_filter_in_pass(void)
{
	struct damon_ctx *ctx = new_ctx(3, 512 * KiB);
	struct damos_filter *f;
	struct damos *s;
	unsigned long i;

	REQUIRE(ctx);
	s = add_scheme(ctx, DAMOS_STAT, 0, NULL);
	f = damos_new_filter(DAMOS_FILTER_TYPE_TARGET, true, false);
	REQUIRE(s && f);
	f->target_idx = 1;
	damos_add_filter(s, f);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 100000) == 0);
	CHECK_EQ(s->stat.sz_tried, 2 * 512 * KiB);
	for (i = 0; i < ev.nr_applies; i++)
		CHECK(ev.applies[i].target_idx != 1);
	/* one snapshot per target, including the filtered one */
	CHECK_EQ(s->stat.nr_snapshots, 3);
	finish(ctx);
}

/* max_nr_snapshots deactivates the scheme; monitoring goes on. */
static void test_max_nr_snapshots(void)
{
	struct damon_ctx *ctx = new_ctx(1, MiB);
	unsigned long psi;
	struct damos *s;

	REQUIRE(ctx);
	s = add_scheme(ctx, DAMOS_STAT, 0, NULL);
	REQUIRE(s);
	s->max_nr_snapshots = 3;
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 1000000) == 0);
	CHECK_EQ(s->stat.nr_snapshots, 3);
	CHECK_EQ(ev.stat_passes[0], 10);
	psi = ctx->passed_sample_intervals;
	CHECK(psi >= 199);
	CHECK(s->stat.nr_tried > 0);
	CHECK_EQ(ev.nr[DAMON_EVENT_DAMOS_BEFORE_APPLY], s->stat.nr_tried);
	finish(ctx);
}

/* ------------------------------------------------------------------ */
/* Behaviour: watermarks                                               */
/* ------------------------------------------------------------------ */

static void test_watermarks(void)
{
	struct damos_watermarks wmarks = {
		.metric = DAMOS_WMARK_FREE_MEM_RATE,
		.interval = 50000,
		.high = 500,
		.mid = 400,
		.low = 100,
	};
	struct damos_access_pattern pattern = match_all;
	struct damon_ctx *ctx = new_ctx(1, MiB);
	unsigned long psi, tried;
	uint64_t now;
	struct damos *s;
	int i;

	REQUIRE(ctx);
	s = damon_new_scheme(&pattern, DAMOS_STAT, 0, NULL, &wmarks, -1);
	REQUIRE(s);
	damon_add_scheme(ctx, s);
	fake.wmark_value = 600; /* above high: inactive */
	REQUIRE(damon_manual_start(ctx) == 0);
	psi = ctx->passed_sample_intervals;
	now = damon_now_ns(ctx);
	for (i = 0; i < 10; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	CHECK(!s->wmarks.activated);
	/* waiting rounds sleep the interval and take no samples */
	CHECK_EQ(ctx->passed_sample_intervals, psi);
	CHECK_EQ(damon_now_ns(ctx) - now, 10 * 50000 * 1000ULL);
	CHECK_EQ(s->stat.nr_tried, 0);

	fake.wmark_value = 450; /* between mid and high: stays inactive */
	for (i = 0; i < 10; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	CHECK(!s->wmarks.activated);
	CHECK_EQ(ctx->passed_sample_intervals, psi);

	fake.wmark_value = 300; /* between low and mid: activates */
	REQUIRE(damon_manual_run_for(ctx, 500000) == 0);
	CHECK(s->wmarks.activated);
	CHECK(s->stat.nr_tried > 0);

	fake.wmark_value = 450; /* between mid and high: stays active */
	REQUIRE(damon_manual_run_for(ctx, 500000) == 0);
	CHECK(s->wmarks.activated);

	fake.wmark_value = 50; /* below low: deactivates */
	REQUIRE(damon_manual_step(ctx) == 0);
	CHECK(!s->wmarks.activated);
	tried = s->stat.nr_tried;
	REQUIRE(damon_manual_run_for(ctx, 500000) == 0);
	CHECK_EQ(s->stat.nr_tried, tried);

	/* an unreadable metric leaves schemes active */
	fake.wmark_err = -EIO;
	REQUIRE(damon_manual_run_for(ctx, 500000) == 0);
	CHECK(s->stat.nr_tried > tried);
	finish(ctx);
}

static void test_watermarks_without_hook(void)
{
	struct damos_watermarks wmarks = {
		.metric = DAMOS_WMARK_FREE_MEM_RATE,
		.interval = 50000,
		.high = 0,
		.mid = 0,
		.low = 0,
	};
	struct damos_access_pattern pattern = match_all;
	struct damon_ctx *ctx;
	struct damos *s;

	fake.no_wmark_hook = true;
	ctx = new_ctx(1, MiB);
	REQUIRE(ctx);
	s = damon_new_scheme(&pattern, DAMOS_STAT, 0, NULL, &wmarks, -1);
	REQUIRE(s);
	damon_add_scheme(ctx, s);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 300000) == 0);
	CHECK(s->wmarks.activated);
	CHECK_EQ(ev.stat_passes[0], 3);
	finish(ctx);
}

/* ------------------------------------------------------------------ */
/* Behaviour: pause                                                    */
/* ------------------------------------------------------------------ */

struct damos_snapshot {
	struct damos_stat stat;
	unsigned long esz, esz_bp, charged_sz, total_charged_sz;
	uint64_t charged_from;
	unsigned long next_apply_sis;
};

static void take_snapshot(struct damos *s, struct damos_snapshot *snap)
{
	snap->stat = s->stat;
	snap->esz = s->quota.esz;
	snap->esz_bp = s->quota.esz_bp;
	snap->charged_sz = s->quota.charged_sz;
	snap->total_charged_sz = s->quota.total_charged_sz;
	snap->charged_from = s->quota.charged_from;
	snap->next_apply_sis = s->next_apply_sis;
}

/*
 * While paused, stats, tuned sizes and charges stay as they were for any
 * number of pause rounds; after resume they move on from there.  One
 * scheme has a goal (its esz_bp moves every window), the other a size
 * quota (its stats and charges move every pass).
 */
static void test_pause_freezes_damos(void)
{
	struct damos_quota goal_quota = { .reset_interval = 100 };
	struct damos_quota sz_quota = { .reset_interval = 300, .sz = 64 * KiB };
	struct damon_ctx *ctx = new_ctx(1, 4 * MiB);
	struct damos_snapshot before[2], after[2];
	struct damos *s[2];
	unsigned long passes[2];
	int i;

	REQUIRE(ctx);
	s[0] = add_scheme(ctx, DAMOS_STAT, 0, &goal_quota);
	s[1] = add_scheme(ctx, DAMOS_PAGEOUT, 0, &sz_quota);
	REQUIRE(s[0] && s[1]);
	damos_add_quota_goal(&s[0]->quota,
			     damos_new_quota_goal(DAMOS_QUOTA_USER_INPUT,
						  10000));
	REQUIRE(damon_manual_start(ctx) == 0);
	set_user_input(s[0], 0);
	REQUIRE(damon_manual_run_for(ctx, 550000) == 0);
	CHECK(s[1]->stat.nr_tried > 0);
	CHECK(s[1]->quota.charged_sz > 0);

	for (i = 0; i < 2; i++) {
		take_snapshot(s[i], &before[i]);
		passes[i] = ev.stat_passes[i];
	}
	ctx->pause = true;
	for (i = 0; i < 400; i++)
		REQUIRE(damon_manual_step(ctx) == 0);
	/* 400 pause rounds of 5 ms went by on the context clock */
	CHECK(damon_now_ns(ctx) >= 2550000000ULL);
	for (i = 0; i < 2; i++) {
		take_snapshot(s[i], &after[i]);
		CHECK(memcmp(&before[i].stat, &after[i].stat,
			     sizeof(before[i].stat)) == 0);
		CHECK_EQ(after[i].esz, before[i].esz);
		CHECK_EQ(after[i].esz_bp, before[i].esz_bp);
		CHECK_EQ(after[i].charged_sz, before[i].charged_sz);
		CHECK_EQ(after[i].total_charged_sz, before[i].total_charged_sz);
		CHECK_EQ(after[i].charged_from, before[i].charged_from);
		CHECK_EQ(after[i].next_apply_sis, before[i].next_apply_sis);
		CHECK_EQ(ev.stat_passes[i], passes[i]);
	}

	ctx->pause = false;
	REQUIRE(damon_manual_run_for(ctx, 500000) == 0);
	CHECK(s[0]->quota.esz_bp > before[0].esz_bp);
	CHECK(s[1]->stat.nr_tried > before[1].stat.nr_tried);
	CHECK(s[1]->stat.sz_tried > before[1].stat.sz_tried);
	CHECK(s[1]->quota.total_charged_sz > before[1].total_charged_sz);
	CHECK(ev.stat_passes[0] > passes[0]);
	CHECK(ev.stat_passes[1] > passes[1]);
	finish(ctx);
}

/* ------------------------------------------------------------------ */
/* damos_walk()                                                        */
/* ------------------------------------------------------------------ */

struct walker {
	struct damon_ctx *ctx;
	struct damos_walk_control control;
	pthread_t thread;
	atomic_bool done;
	int ret;
	unsigned long nr_calls[NR_TRACKED_SCHEMES];
	unsigned long sz;
};

static void walk_fn(void *data, struct damon_ctx *ctx, struct damon_target *t,
		    struct damon_region *r, struct damos *s,
		    unsigned long sz_filter_passed)
{
	struct walker *w = data;
	struct damos *siter;
	unsigned int idx = 0;

	damon_for_each_scheme(siter, ctx) {
		if (siter == s)
			break;
		idx++;
	}
	if (idx < NR_TRACKED_SCHEMES)
		w->nr_calls[idx]++;
	w->sz += sz_filter_passed;
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
	w->control.walk_fn = walk_fn;
	w->control.data = w;
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

/* Wait (in real time) until the walker's request is installed or done. */
static void walker_wait_installed(struct walker *w)
{
	int i;

	for (i = 0;
	     i < 10000 && !walk_installed(w->ctx) && !atomic_load(&w->done);
	     i++)
		usleep(1000);
}

/* Whether the kdamond completed (or canceled) the walker's request. */
static bool walk_done(struct walker *w)
{
	bool done;

	pthread_mutex_lock(&w->ctx->lock);
	done = w->control.done;
	pthread_mutex_unlock(&w->ctx->lock);
	return done || atomic_load(&w->done);
}

/*
 * Step @ctx until the walker's request is done (bounded); join it.  The
 * request's own flag is checked, not the thread's return, so no extra
 * steps run while the walker thread wakes up.
 */
static int walker_finish(struct walker *w)
{
	int i;

	for (i = 0; i < 100000 && !walk_done(w); i++) {
		if (damon_manual_step(w->ctx))
			break;
	}
	pthread_join(w->thread, NULL);
	return w->ret;
}

static void test_walk_completes(void)
{
	struct damon_ctx *ctx = new_ctx(2, MiB);
	struct walker w, busy;
	struct damos *fast, *slow;
	unsigned long slow_tried;

	REQUIRE(ctx);
	fast = add_scheme(ctx, DAMOS_STAT, 10000, NULL);
	slow = add_scheme(ctx, DAMOS_STAT, 0, NULL);
	REQUIRE(fast && slow);
	REQUIRE(damon_manual_start(ctx) == 0);
	/* the driving thread cannot wait for itself */
	memset(&w, 0, sizeof(w));
	CHECK_EQ(damos_walk(ctx, &w.control), -EDEADLK);

	REQUIRE(damon_manual_run_for(ctx, 50000) == 0);
	REQUIRE(walker_start(&w, ctx));
	walker_wait_installed(&w);
	REQUIRE(walk_installed(ctx));
	/* a second request while one is installed */
	REQUIRE(walker_start(&busy, ctx));
	pthread_join(busy.thread, NULL);
	CHECK_EQ(busy.ret, -EBUSY);

	slow_tried = slow->stat.nr_tried;
	CHECK_EQ(walker_finish(&w), 0);
	/* every scheme walked exactly one of its apply intervals */
	CHECK(w.nr_calls[1] > 0);
	CHECK_EQ(w.nr_calls[1], slow->stat.nr_tried - slow_tried);
	CHECK(w.nr_calls[0] > 0);
	CHECK(w.nr_calls[0] <= w.nr_calls[1] + 50);
	CHECK_EQ(w.sz, 2 * 2 * MiB);
	CHECK(!walk_installed(ctx));
	CHECK(!fast->walk_completed && !slow->walk_completed);

	/* after the kdamond stops, walks are refused */
	damon_manual_stop(ctx);
	CHECK_EQ(damos_walk(ctx, &w.control), -ECANCELED);
	damon_destroy_ctx(ctx);
}

static void test_walk_canceled_without_schemes(void)
{
	struct damon_ctx *ctx = new_ctx(1, MiB);
	struct walker w;

	REQUIRE(ctx);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(walker_start(&w, ctx));
	walker_wait_installed(&w);
	CHECK_EQ(walker_finish(&w), -ECANCELED);
	CHECK(!walk_installed(ctx));
	finish(ctx);
}

static void test_walk_canceled_while_paused(void)
{
	struct damon_ctx *ctx = new_ctx(1, MiB);
	struct walker w;
	struct damos *s;

	REQUIRE(ctx);
	s = add_scheme(ctx, DAMOS_STAT, 0, NULL);
	REQUIRE(s);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 50000) == 0);
	ctx->pause = true;
	REQUIRE(damon_manual_step(ctx) == 0);
	REQUIRE(walker_start(&w, ctx));
	walker_wait_installed(&w);
	CHECK_EQ(walker_finish(&w), -ECANCELED);
	CHECK_EQ(w.nr_calls[0], 0);
	CHECK(ctx->pause);
	finish(ctx);
}

static void test_walk_canceled_while_inactive(void)
{
	struct damos_watermarks wmarks = {
		.metric = DAMOS_WMARK_FREE_MEM_RATE,
		.interval = 10000,
		.high = 500,
		.mid = 400,
		.low = 100,
	};
	struct damos_access_pattern pattern = match_all;
	struct damon_ctx *ctx = new_ctx(1, MiB);
	struct walker w;
	struct damos *s;

	REQUIRE(ctx);
	s = damon_new_scheme(&pattern, DAMOS_STAT, 0, NULL, &wmarks, -1);
	REQUIRE(s);
	damon_add_scheme(ctx, s);
	fake.wmark_value = 900;
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(walker_start(&w, ctx));
	walker_wait_installed(&w);
	CHECK_EQ(walker_finish(&w), -ECANCELED);
	CHECK(!s->wmarks.activated);
	finish(ctx);
}

/* A damon_call() callback runs on the kdamond, which cannot wait. */
static int walk_from_kdamond(void *data)
{
	struct damon_ctx *ctx = data;
	struct damos_walk_control control = { 0 };

	return damos_walk(ctx, &control);
}

/* Real threads: a walk on a running kdamond, then stop. */
static void test_walk_threaded(void)
{
	struct damon_ctx *ctx = new_ctx(1, MiB);
	struct damos_walk_control control = { 0 };
	struct damon_call_control call = { 0 };
	struct walker w;
	struct damos *s;

	REQUIRE(ctx);
	/* a real clock with short intervals keeps this quick */
	ctx->virtual_clock = false;
	ctx->attrs.sample_interval = 1000;
	ctx->attrs.aggr_interval = 10000;
	s = add_scheme(ctx, DAMOS_STAT, 0, NULL);
	REQUIRE(s);
	REQUIRE(damon_start(&ctx, 1, false) == 0);
	memset(&w, 0, sizeof(w));
	control.walk_fn = walk_fn;
	control.data = &w;
	CHECK_EQ(damos_walk(ctx, &control), 0);
	CHECK(w.nr_calls[0] > 0);
	CHECK_EQ(w.sz, MiB);
	call.fn = walk_from_kdamond;
	call.data = ctx;
	CHECK_EQ(damon_call(ctx, &call), 0);
	CHECK_EQ(call.return_code, -EDEADLK);
	CHECK_EQ(damon_stop(&ctx, 1), 0);
	CHECK_EQ(damos_walk(ctx, &control), -ECANCELED);
	damon_destroy_ctx(ctx);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_keywords),
	TAP_CASE(test_new_filter),
	TAP_CASE(test_scheme_objects),
	TAP_CASE(test_commit_quota_goal),
	TAP_CASE(test_commit_quota_goals),
	TAP_CASE(test_commit_quota),
	TAP_CASE(test_commit_dests),
	TAP_CASE(test_commit_filter),
	TAP_CASE(test_commit_pageout_migrate_hot),
	TAP_CASE(test_commit_schemes_lists),
	TAP_CASE(test_commit_ctx_schemes),
	TAP_CASE(test_filter_out),
	TAP_CASE(test_filter_target),
	TAP_CASE(test_set_filters_default_reject),
	TAP_CASE(test_feed_loop_next_input),
	TAP_CASE(test_walk_control_obsolete),
	TAP_CASE(test_size_quota_never_exceeded),
	TAP_CASE(test_time_quota_converges),
	TAP_CASE(test_user_input_goal),
	TAP_CASE(test_temporal_tuner),
	TAP_CASE(test_psi_goal_delta),
	TAP_CASE(test_fail_charge),
	TAP_CASE(test_priority_min_score),
	TAP_CASE(test_apply_interval),
	TAP_CASE(test_pattern_and_age_reset),
	TAP_CASE(test_addr_filter_in_pass),
	TAP_CASE(test_target_filter_in_pass),
	TAP_CASE(test_max_nr_snapshots),
	TAP_CASE(test_watermarks),
	TAP_CASE(test_watermarks_without_hook),
	TAP_CASE(test_pause_freezes_damos),
	TAP_CASE(test_walk_completes),
	TAP_CASE(test_walk_canceled_without_schemes),
	TAP_CASE(test_walk_canceled_while_paused),
	TAP_CASE(test_walk_canceled_while_inactive),
	TAP_CASE(test_walk_threaded),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
