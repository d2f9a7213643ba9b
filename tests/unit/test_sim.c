// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Tests of the sim operations set: workload layout and ground truth,
 * determinism, DAMON's accuracy on the stairs and zigzag workloads,
 * DAMOS actions on the model, goal metrics, commit of the workload, and
 * the ops-common priority scores.
 */
#include "../lib/tap.h"

#include "ops/ops-common.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1UL << 20)

static char errbuf[512];

/* Find configs/ from the repository root or from next to this file. */
static int set_config(struct damon_ctx *ctx, const char *name)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	int err;

	snprintf(path, sizeof(path), "configs/%s", name);
	err = damon_sim_set_workload(ctx, path, errbuf, sizeof(errbuf));
	if (err != -ENOENT)
		return err;
	snprintf(path, sizeof(path), "%.*s../../configs/%s",
		 slash ? (int)(slash - __FILE__ + 1) : 0, __FILE__, name);
	return damon_sim_set_workload(ctx, path, errbuf, sizeof(errbuf));
}

static struct damon_ctx *sim_ctx(const char *config, uint64_t seed,
				 struct damon_target **tp)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t;
	int err;

	if (!ctx)
		return NULL;
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = seed;
	err = set_config(ctx, config);
	if (err) {
		tap_diag("%s: %s (%d)", config, errbuf, err);
		damon_destroy_ctx(ctx);
		return NULL;
	}
	t = damon_new_target();
	if (!t) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	damon_add_target(ctx, t);
	if (tp)
		*tp = t;
	return ctx;
}

/* Stop a manually driven context (if started) and destroy it. */
static void sim_done(struct damon_ctx *ctx)
{
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

static void region_range(struct damon_ctx *ctx, unsigned int idx,
			 struct damon_addr_range *range)
{
	range->start = range->end = 0;
	CHECK_EQ(damon_sim_workload_region(ctx, idx, range, NULL), 0);
}

static bool overlaps(const struct damon_addr_range *a,
		     const struct damon_addr_range *b)
{
	return a->start < b->end && b->start < a->end;
}

static void test_registered(void)
{
	struct damon_ctx *ctx;

	/* The constructor registered it; registering again is fine. */
	CHECK(damon_is_registered_ops(DAMON_OPS_SIM));
	CHECK_EQ(damon_sim_register(), 0);
	CHECK_EQ(damon_sim_register(), 0);
	ctx = damon_new_ctx();
	REQUIRE(ctx);
	CHECK_EQ(damon_select_ops(ctx, DAMON_OPS_SIM), 0);
	CHECK_EQ(ctx->ops.id, DAMON_OPS_SIM);
	CHECK(ctx->ops.check_accesses != NULL);
	damon_destroy_ctx(ctx);
}

static void test_set_workload(void)
{
	static const char good[] = "x,8192\ny,5000\nz,4096\n\np\n10\nx,0,1,1\n";
	static const char bad[] = "x,8192\n\np\n10\nq,0,1,1\n";
	struct damon_addr_range r;
	const char *name;
	struct damon_ctx *ctx = damon_new_ctx();

	REQUIRE(ctx);
	/* Selects the sim operations set itself. */
	CHECK_EQ(damon_sim_set_workload_buf(ctx, good, strlen(good), "g.cfg",
					    errbuf, sizeof(errbuf)),
		 0);
	CHECK_EQ(ctx->ops.id, DAMON_OPS_SIM);

	/* Layout: from DAMON_SIM_BASE, page aligned, a guard page between. */
	CHECK_EQ(damon_sim_workload_region(ctx, 0, &r, &name), 0);
	CHECK_STREQ(name, "x");
	CHECK_EQ(r.start, DAMON_SIM_BASE);
	CHECK_EQ(r.end, DAMON_SIM_BASE + 8192);
	CHECK_EQ(damon_sim_workload_region(ctx, 1, &r, &name), 0);
	CHECK_STREQ(name, "y");
	CHECK_EQ(r.start, DAMON_SIM_BASE + 8192 + 4096);
	CHECK_EQ(r.end, DAMON_SIM_BASE + 8192 + 4096 + 8192);
	CHECK_EQ(damon_sim_workload_region(ctx, 2, &r, NULL), 0);
	CHECK_EQ(r.start, DAMON_SIM_BASE + 8192 + 4096 + 8192 + 4096);
	CHECK_EQ(damon_sim_workload_region(ctx, 3, &r, NULL), -ENOENT);

	/* A bad config leaves the old workload in place. */
	CHECK_EQ(damon_sim_set_workload_buf(ctx, bad, strlen(bad), "b.cfg",
					    errbuf, sizeof(errbuf)),
		 -EINVAL);
	CHECK_STREQ(errbuf, "b.cfg:5: unknown region 'q' in pattern");
	CHECK_EQ(damon_sim_workload_region(ctx, 2, &r, NULL), 0);

	CHECK_EQ(damon_sim_set_workload(ctx, "/nonexistent.cfg", errbuf,
					sizeof(errbuf)),
		 -ENOENT);
	CHECK_STREQ(errbuf, "/nonexistent.cfg: No such file or directory");

	/* Replacing works and frees the old one (ASan would tell). */
	CHECK_EQ(set_config(ctx, "zigzag.cfg"), 0);
	CHECK_EQ(damon_sim_workload_region(ctx, 0, &r, &name), 0);
	CHECK_STREQ(name, "a");
	CHECK_EQ(r.end - r.start, 100 * MiB);
	CHECK_EQ(damon_sim_workload_region(ctx, 2, &r, NULL), -ENOENT);
	damon_destroy_ctx(ctx);

	CHECK_EQ(damon_sim_workload_region(NULL, 0, &r, NULL), -EINVAL);
}

static void test_too_big(void)
{
	static const char huge[] = "a,70368744177664\nb,70368744177664\n\n"
				   "p\n10\na,0,1,1\n";
	struct damon_ctx *ctx = damon_new_ctx();

	REQUIRE(ctx);
	CHECK_EQ(damon_sim_set_workload_buf(ctx, huge, strlen(huge), "h.cfg",
					    errbuf, sizeof(errbuf)),
		 -EINVAL);
	CHECK_STREQ(errbuf, "h.cfg:2: region 'b' does not fit in the "
			    "simulated address space");
	damon_destroy_ctx(ctx);
}

/* Initial regions: the three regions of the workload's regions. */
static void test_init_regions(void)
{
	struct damon_addr_range s0, s1, s2, s9;
	struct damon_target *t;
	struct damon_region *r;
	struct damon_ctx *ctx = sim_ctx("stairs.cfg", 1, &t);
	unsigned long covered = 0;

	REQUIRE(ctx);
	REQUIRE(damon_manual_start(ctx) == 0);
	region_range(ctx, 0, &s0);
	region_range(ctx, 1, &s1);
	region_range(ctx, 2, &s2);
	region_range(ctx, 9, &s9);
	CHECK_EQ(damon_first_region(t)->ar.start, s0.start);
	CHECK_EQ(damon_last_region(t)->ar.end, s9.end);
	/* min_nr_regions (10) cut the three into at least ten. */
	CHECK(damon_nr_regions(t) >= 10);
	damon_for_each_region(r, t) {
		struct damon_addr_range gap1 = { s0.end, s1.start };
		struct damon_addr_range gap2 = { s1.end, s2.start };

		/* The two (first, equal) biggest gaps are not monitored. */
		CHECK(!overlaps(&r->ar, &gap1));
		CHECK(!overlaps(&r->ar, &gap2));
		covered += r->ar.end - r->ar.start;
	}
	/* Everything else is: 100 MiB and the 7 remaining guard pages. */
	CHECK_EQ(covered, 100 * MiB + 7 * 4096);
	sim_done(ctx);

	/* Two regions have one gap only: one region per workload region. */
	ctx = sim_ctx("zigzag.cfg", 1, &t);
	REQUIRE(ctx);
	REQUIRE(damon_manual_start(ctx) == 0);
	region_range(ctx, 0, &s0);
	region_range(ctx, 1, &s1);
	covered = 0;
	damon_for_each_region(r, t) {
		struct damon_addr_range gap = { s0.end, s1.start };

		CHECK(!overlaps(&r->ar, &gap));
		covered += r->ar.end - r->ar.start;
	}
	CHECK_EQ(covered, 200 * MiB);
	sim_done(ctx);
}

/* Regions a user set are kept (init only fits targets without any). */
static void test_init_keeps_user_regions(void)
{
	struct damon_addr_range want = { DAMON_SIM_BASE,
					 DAMON_SIM_BASE + 40 * MiB };
	struct damon_target *t;
	struct damon_ctx *ctx = sim_ctx("stairs.cfg", 1, &t);
	struct damon_region *r;

	REQUIRE(ctx);
	REQUIRE(damon_set_regions(t, &want, 1, DAMON_MIN_REGION_SZ) == 0);
	REQUIRE(damon_manual_start(ctx) == 0);
	CHECK_EQ(damon_first_region(t)->ar.start, want.start);
	CHECK_EQ(damon_last_region(t)->ar.end, want.end);
	CHECK_EQ(damon_manual_run_for(ctx, 2000000), 0);
	damon_for_each_region(r, t) {
		CHECK(r->ar.start >= want.start);
		CHECK(r->ar.end <= want.end);
	}
	sim_done(ctx);
}

static void test_ground_truth(void)
{
	struct damon_addr_range s3, s4, s9;
	struct damon_target *t;
	struct damon_ctx *ctx = sim_ctx("stairs_30secs.cfg", 1, &t);
	unsigned long wss = 0;
	double rate = -1;

	REQUIRE(ctx);
	region_range(ctx, 3, &s3);
	region_range(ctx, 4, &s4);
	region_range(ctx, 9, &s9);

	/* The clock starts at 0 with the workload's first phase. */
	CHECK_STREQ(damon_sim_phase_name(ctx, t), "initial");
	CHECK_EQ(damon_sim_phase_idx(ctx, t), 0);
	CHECK_EQ(damon_sim_true_wss(ctx, t, 0, &wss), 0);
	CHECK_EQ(wss, 100 * MiB);
	CHECK_EQ(damon_sim_resident_bytes(ctx, t), 100 * MiB);

	/* 5 s initial + 3 x 2.5 s + 1 s: stair_3. */
	damon_clock_advance(ctx, 13500000000ULL);
	CHECK_STREQ(damon_sim_phase_name(ctx, t), "stair_3");
	CHECK_EQ(damon_sim_phase_idx(ctx, t), 4);
	CHECK_EQ(damon_sim_true_wss(ctx, t, 0, &wss), 0);
	CHECK_EQ(wss, 10 * MiB);
	/* Sequential 4 KiB strides over 10 MiB: ~3900 touches/s a page. */
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, s3.start, s3.end, &rate),
		 0);
	CHECK(rate > 0.99 && rate <= 1.0);
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, s4.start, s4.end, &rate),
		 0);
	CHECK(rate == 0);
	/* Half of the range is s3. */
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, s3.start + 5 * MiB,
					    s3.end + 4096 + 5 * MiB, &rate),
		 0);
	CHECK(rate > 0.49 && rate < 0.51);
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, s3.end, s3.end, &rate),
		 -EINVAL);
	/*
	 * All 1e8 accesses/s sweep s3's 2560 pages: 39062/s a page.  In a
	 * 10 us window that is 0.39 expected accesses, P = 0.32 < 1/2.
	 */
	CHECK_EQ(damon_sim_true_wss(ctx, t, 10000, &wss), 0);
	CHECK_EQ(wss, 0);

	CHECK_EQ(damon_sim_true_wss(ctx, t, 20000, &wss), 0);
	CHECK_EQ(wss, 10 * MiB);

	/* The phase list repeats after 30 s. */
	damon_clock_advance(ctx, 15000000000ULL);
	CHECK_STREQ(damon_sim_phase_name(ctx, t), "stair_9");
	damon_clock_advance(ctx, 2000000000ULL);
	CHECK_STREQ(damon_sim_phase_name(ctx, t), "initial");
	CHECK_EQ(damon_sim_true_wss(ctx, t, 0, &wss), 0);
	CHECK_EQ(wss, 100 * MiB);
	damon_clock_advance(ctx, 5000000000ULL);
	CHECK_STREQ(damon_sim_phase_name(ctx, t), "stair_0");
	damon_destroy_ctx(ctx);
}

/* Per-page rates of random and strided patterns. */
static void test_pattern_rates(void)
{
	static const char cfg[] = "rnd,4096000\nseq,4096000\nbig,4096000\n"
				  "one,40960\n\n"
				  "p\n1000\nrnd,1,0,1\nseq,0,8192,1\n"
				  "big,0,40960,1\none,0,0,1\n";
	struct damon_addr_range rnd, seq, big, one;
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	unsigned long wss;
	double rate;

	REQUIRE(ctx && t);
	damon_use_virtual_clock(ctx);
	damon_add_target(ctx, t);
	REQUIRE(damon_sim_set_workload_buf(ctx, cfg, strlen(cfg), "r.cfg",
					   errbuf, sizeof(errbuf)) == 0);
	region_range(ctx, 0, &rnd);
	region_range(ctx, 1, &seq);
	region_range(ctx, 2, &big);
	region_range(ctx, 3, &one);

	/*
	 * Each pattern gets 25M accesses/s.  Random over 1000 pages: 25000/s
	 * a page, P(5 ms) ~ 1.  Stride 8 KiB: every other page, 50000/s.
	 * Stride 40 KiB over 1000 pages: every tenth page.  Stride 0: page 0.
	 */
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, rnd.start, rnd.end, &rate),
		 0);
	CHECK(rate > 0.999);
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, seq.start, seq.end, &rate),
		 0);
	CHECK(fabs(rate - 0.5) < 0.001);
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, seq.start + 4096,
					    seq.start + 8192, &rate),
		 0);
	CHECK(rate == 0);
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, big.start, big.end, &rate),
		 0);
	CHECK(fabs(rate - 0.1) < 0.001);
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, one.start, one.end, &rate),
		 0);
	CHECK(fabs(rate - 0.1) < 0.001);
	CHECK_EQ(damon_sim_true_wss(ctx, t, 0, &wss), 0);
	CHECK_EQ(wss, (1000 + 500 + 100 + 1) * 4096UL);
	damon_destroy_ctx(ctx);
}

/*
 * With partial access probabilities, the samples follow the model: region
 * "cold" gets 1/1000 of the accesses, uniformly: 100000/s over 25600 pages
 * is 3.9/s a page, P(access within 5 ms) = 1.9%.  The hooks are driven
 * directly, without the kdamond's merging (whose integer averages lose
 * such small counts).
 */
static void test_partial_access_rate(void)
{
	static const char cfg[] = "hot,104857600\ncold,104857600\n\n"
				  "p\n60000\nhot,1,64,999\ncold,1,64,1\n";
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	struct damon_addr_range hot, cold;
	double truth = 0, hot_truth = 0, hits = 0, hot_hits = 0;
	struct damon_region *r;
	unsigned int i, n = 4000;

	REQUIRE(ctx && t);
	damon_use_virtual_clock(ctx);
	damon_add_target(ctx, t);
	REQUIRE(damon_sim_set_workload_buf(ctx, cfg, strlen(cfg), "p.cfg",
					   errbuf, sizeof(errbuf)) == 0);
	region_range(ctx, 0, &hot);
	region_range(ctx, 1, &cold);
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, cold.start, cold.end,
					    &truth),
		 0);
	CHECK(fabs(truth - 0.0193) < 0.0005);
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, hot.start, hot.end,
					    &hot_truth),
		 0);
	CHECK(hot_truth > 0.99);

	ctx->ops.init(ctx);
	REQUIRE(damon_nr_regions(t) == 2);
	for (i = 0; i < n; i++) {
		ctx->ops.prepare_access_checks(ctx);
		damon_clock_advance(ctx, ctx->attrs.sample_interval * 1000);
		ctx->ops.check_accesses(ctx);
	}
	damon_for_each_region(r, t) {
		if (r->ar.start == cold.start && r->ar.end == cold.end)
			hits = r->nr_accesses;
		if (r->ar.start == hot.start && r->ar.end == hot.end)
			hot_hits = r->nr_accesses;
	}
	tap_diag("cold: true access rate %.4f, sampled %.4f; hot: %.4f, %.4f",
		 truth, hits / n, hot_truth, hot_hits / n);
	/* 4000 samples at 1.9%: 77 expected, a standard deviation of 8.7. */
	CHECK(fabs(hits / n - truth) < truth * 0.3);
	CHECK(hot_hits / n > 0.98);
	damon_destroy_ctx(ctx);
}

struct snapshot {
	unsigned int nr;
	unsigned long v[8192];
};

static void take_snapshot(struct damon_target *t, struct snapshot *s)
{
	struct damon_region *r;

	s->nr = 0;
	damon_for_each_region(r, t) {
		if (s->nr + 6 > TAP_NR(s->v))
			break;
		s->v[s->nr++] = r->ar.start;
		s->v[s->nr++] = r->ar.end;
		s->v[s->nr++] = r->nr_accesses;
		s->v[s->nr++] = r->last_nr_accesses;
		s->v[s->nr++] = r->age;
		s->v[s->nr++] = r->nr_accesses_bp;
	}
}

static void run_snapshot(uint64_t seed, struct snapshot *s)
{
	struct damon_target *t;
	struct damon_ctx *ctx = sim_ctx("stairs_30secs.cfg", seed, &t);

	s->nr = 0;
	if (!ctx)
		return;
	if (damon_manual_start(ctx) == 0) {
		damon_manual_run_for(ctx, 12 * 1000000ULL);
		take_snapshot(t, s);
	}
	sim_done(ctx);
}

static void test_determinism(void)
{
	static struct snapshot a, b, c;

	run_snapshot(7, &a);
	run_snapshot(7, &b);
	run_snapshot(8, &c);
	REQUIRE(a.nr > 0);
	CHECK_EQ(a.nr, b.nr);
	CHECK(a.nr == b.nr && !memcmp(a.v, b.v, a.nr * sizeof(a.v[0])));
	/* Another seed takes other samples and splits. */
	CHECK(a.nr != c.nr || memcmp(a.v, c.v, a.nr * sizeof(a.v[0])));
}

/* The region DAMON finds hottest in each stair is that stair's region. */
static void test_stairs_hot_region(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx = sim_ctx("stairs_30secs.cfg", 3, &t);
	uint64_t next_ms = 0;
	unsigned int i;

	REQUIRE(ctx);
	REQUIRE(damon_manual_start(ctx) == 0);
	for (i = 0; i < 10; i++) {
		struct damon_addr_range truth;
		struct damon_region *r, *hot = NULL;
		char want[16];

		/* 2 of the 2.5 s of stair i. */
		next_ms = 5000 + 2500 * i + 2000;
		REQUIRE(damon_manual_run_for(ctx, next_ms * 1000 -
							  damon_now_ns(ctx) /
								  1000) == 0);
		snprintf(want, sizeof(want), "stair_%u", i);
		CHECK_STREQ(damon_sim_phase_name(ctx, t), want);
		region_range(ctx, i, &truth);
		damon_for_each_region(r, t) {
			if (!hot || r->last_nr_accesses > hot->last_nr_accesses)
				hot = r;
		}
		REQUIRE(hot);
		if (!overlaps(&hot->ar, &truth))
			tap_diag(
				"stair %u: hottest %lx-%lx (%u) misses %lx-%lx",
				i, hot->ar.start, hot->ar.end,
				hot->last_nr_accesses, truth.start, truth.end);
		CHECK(overlaps(&hot->ar, &truth));
		CHECK(hot->last_nr_accesses >=
		      damon_nr_samples_per_aggr(&ctx->attrs) / 2);
		/* And nothing outside the stair looks accessed. */
		damon_for_each_region(r, t) {
			if (!overlaps(&r->ar, &truth))
				CHECK_EQ(r->last_nr_accesses, 0);
		}
	}
	sim_done(ctx);
}

struct wss_probe {
	struct damon_target *t;
	unsigned long sum;
	unsigned long last_sis;
	bool aggregated;
};

static void wss_event(void *arg, struct damon_ctx *ctx,
		      const struct damon_event *ev)
{
	struct wss_probe *p = arg;

	if (ev->type != DAMON_EVENT_AGGREGATED)
		return;
	if (!p->aggregated || ev->passed_sample_intervals != p->last_sis) {
		p->sum = 0;
		p->last_sis = ev->passed_sample_intervals;
	}
	p->aggregated = true;
	if (ev->nr_accesses)
		p->sum += ev->end - ev->start;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* DAMON's WSS estimate is within 20% of the truth in steady phases. */
static void test_zigzag_wss(void)
{
	static double err[1000];
	struct wss_probe probe = { 0 };
	struct damon_target *t;
	struct damon_ctx *ctx = sim_ctx("zigzag_30secs.cfg", 5, &t);
	unsigned int nr = 0, bad = 0, i;

	REQUIRE(ctx);
	probe.t = t;
	damon_set_event_fn(ctx, wss_event, &probe);
	REQUIRE(damon_manual_start(ctx) == 0);
	while (damon_now_ns(ctx) < 35000000000ULL) {
		uint64_t ms, in_phase;
		unsigned long truth;

		probe.aggregated = false;
		REQUIRE(damon_manual_step(ctx) == 0);
		if (!probe.aggregated)
			continue;
		/* Steady: from 1 s into a 2.5 s phase to its end. */
		ms = damon_now_ns(ctx) / 1000000;
		if (ms < 5000)
			continue;
		in_phase = (ms - 5000) % 2500;
		if (in_phase < 1000 || in_phase > 2400)
			continue;
		REQUIRE(damon_sim_true_wss(ctx, t, 0, &truth) == 0);
		REQUIRE(truth == 100 * MiB);
		if (nr < TAP_NR(err))
			err[nr++] = fabs((double)probe.sum - (double)truth) /
				    (double)truth;
	}
	REQUIRE(nr > 50);
	for (i = 0; i < nr; i++)
		bad += err[i] > 0.2;
	qsort(err, nr, sizeof(err[0]), cmp_double);
	tap_diag("zigzag: %u steady windows, median error %.3f, p90 %.3f, "
		 "%u above 20%%",
		 nr, err[nr / 2], err[nr * 9 / 10], bad);
	CHECK(err[nr / 2] <= 0.2);
	CHECK(err[nr * 3 / 4] <= 0.2);
	sim_done(ctx);
}

static struct damos *new_scheme(enum damos_action action)
{
	struct damos_access_pattern pat = {
		.min_sz_region = 0,
		.max_sz_region = ~0UL,
		.min_nr_accesses = 0,
		.max_nr_accesses = ~0U,
		.min_age_region = 0,
		.max_age_region = ~0U,
	};
	struct damos_quota quota = { 0 };
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_NONE };

	return damon_new_scheme(&pat, action, 0, &quota, &wmarks, -1);
}

/* Pageout through the operations set, then the pages come back. */
static void test_pageout(void)
{
	struct damon_addr_range s0, s5;
	struct damon_target *t;
	struct damon_ctx *ctx = sim_ctx("stairs_30secs.cfg", 1, &t);
	struct damos *pageout = new_scheme(DAMOS_PAGEOUT);
	struct damon_region *r, out;
	unsigned long passed = 1, applied;

	REQUIRE(ctx && pageout);
	REQUIRE(damon_manual_start(ctx) == 0);
	region_range(ctx, 0, &s0);
	region_range(ctx, 5, &s5);
	/* Into stair_0: only s0 is accessed. */
	REQUIRE(damon_manual_run_for(ctx, 6000000) == 0);
	CHECK_STREQ(damon_sim_phase_name(ctx, t), "stair_0");
	CHECK_EQ(damon_sim_resident_bytes(ctx, t), 100 * MiB);

	memset(&out, 0, sizeof(out));
	out.ar = s5;
	applied = ctx->ops.apply_scheme(ctx, t, &out, pageout, &passed);
	CHECK_EQ(applied, 10 * MiB);
	CHECK_EQ(passed, 0); /* no ops filters */
	CHECK_EQ(damon_sim_resident_bytes(ctx, t), 90 * MiB);
	/* Paging out again finds nothing resident. */
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, &out, pageout, &passed), 0);

	/* s5 stays out while nobody touches it ... */
	REQUIRE(damon_manual_run_for(ctx, 10000000) == 0);
	CHECK_STREQ(damon_sim_phase_name(ctx, t), "stair_4");
	CHECK_EQ(damon_sim_resident_bytes(ctx, t), 90 * MiB);
	CHECK_EQ(damon_sim_refaults(ctx, t), 0);
	/* ... and comes back when stair_5 sweeps it. */
	REQUIRE(damon_manual_run_for(ctx, 2000000) == 0);
	CHECK_STREQ(damon_sim_phase_name(ctx, t), "stair_5");
	CHECK_EQ(damon_sim_resident_bytes(ctx, t), 100 * MiB);
	CHECK_EQ(damon_sim_refaults(ctx, t), 10 * MiB / 4096);
	/* DAMON saw it accessed all the same. */
	damon_for_each_region(r, t) {
		if (r->ar.start >= s5.start && r->ar.end <= s5.end)
			CHECK(r->last_nr_accesses > 0);
	}

	damon_destroy_scheme(pageout);
	sim_done(ctx);
}

/* A young filter spares the pages in use; stat counts filtered bytes. */
static void test_pageout_filters(void)
{
	struct damon_addr_range s0, s1;
	struct damon_target *t;
	struct damon_ctx *ctx = sim_ctx("stairs_30secs.cfg", 1, &t);
	struct damos *pageout = new_scheme(DAMOS_PAGEOUT);
	struct damos *stat = new_scheme(DAMOS_STAT);
	struct damos_filter *f;
	struct damon_region both;
	unsigned long passed = 0;

	REQUIRE(ctx && pageout && stat);
	region_range(ctx, 0, &s0);
	region_range(ctx, 1, &s1);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 6000000) == 0);

	/* Reject young pages: s0 (in use) stays, s1 (idle) goes. */
	f = damos_new_filter(DAMOS_FILTER_TYPE_YOUNG, true, false);
	REQUIRE(f);
	damos_add_filter(pageout, f);
	damos_set_filters_default_reject(pageout);
	memset(&both, 0, sizeof(both));
	both.ar.start = s0.start;
	both.ar.end = s1.end;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, &both, pageout, &passed),
		 10 * MiB);
	/* Everything but the young s0 passed (gaps hold no pages). */
	CHECK_EQ(passed, 10 * MiB);
	CHECK_EQ(damon_sim_resident_bytes(ctx, t), 90 * MiB);

	/* stat applies nothing; with an anon filter all bytes pass. */
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, &both, stat, &passed), 0);
	CHECK_EQ(passed, 0);
	f = damos_new_filter(DAMOS_FILTER_TYPE_ANON, true, true);
	REQUIRE(f);
	damos_add_filter(stat, f);
	damos_set_filters_default_reject(stat);
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, &both, stat, &passed), 0);
	CHECK_EQ(passed, 20 * MiB);
	/* Not-anon matches nothing in the model. */
	f->matching = false;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, &both, stat, &passed), 0);
	CHECK_EQ(passed, 0);

	damon_destroy_scheme(pageout);
	damon_destroy_scheme(stat);
	sim_done(ctx);
}

/* A pageout scheme run by the core on cold regions frees memory. */
static void test_pageout_scheme(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx = sim_ctx("stairs_30secs.cfg", 2, &t);
	struct damos *s = new_scheme(DAMOS_PAGEOUT);
	struct damos_quota_goal goal = { .metric = DAMOS_QUOTA_SOME_MEM_PSI_US,
					 .nid = 0 };
	unsigned long resident, psi0 = 0, psi1 = 0;

	REQUIRE(ctx && s);
	/* Cold: not accessed for 1 s (10 aggregations). */
	s->pattern.max_nr_accesses = 0;
	s->pattern.min_age_region = 10;
	damon_add_scheme(ctx, s);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 8000000) == 0);
	resident = damon_sim_resident_bytes(ctx, t);
	tap_diag("resident after 8 s: %lu MiB, tried %lu applied %lu MiB",
		 resident / MiB, s->stat.nr_tried, s->stat.sz_applied / MiB);
	CHECK(s->stat.sz_applied > 0);
	CHECK(resident < 100 * MiB);
	/* Out is what was paged out minus what came back since. */
	CHECK_EQ(resident, 100 * MiB - s->stat.sz_applied +
				   damon_sim_refaults(ctx, t) * 4096);
	/* Stairs 0 and 1 are out by now: at least the 8 later stairs. */
	CHECK(resident <= 30 * MiB);
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, &goal, &psi0), 0);

	/* Later stairs fault their pages back in: PSI grows. */
	REQUIRE(damon_manual_run_for(ctx, 6000000) == 0);
	CHECK(damon_sim_refaults(ctx, t) > 0);
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, &goal, &psi1), 0);
	CHECK_EQ(psi1, damon_sim_refaults(ctx, t) * DAMON_SIM_REFAULT_STALL_US);
	CHECK(psi1 > psi0);
	sim_done(ctx);
}

static void test_goal_and_wmark_metrics(void)
{
	struct damon_addr_range s5;
	struct damon_target *t;
	struct damon_ctx *ctx = sim_ctx("stairs_30secs.cfg", 1, &t);
	struct damos *pageout = new_scheme(DAMOS_PAGEOUT);
	struct damos_quota_goal goal = { .nid = 0 };
	struct damon_region r;
	unsigned long v = 0, passed, total = (1UL << 30) + 100 * MiB;

	REQUIRE(ctx && pageout);
	region_range(ctx, 5, &s5);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 6000000) == 0);

	goal.metric = DAMOS_QUOTA_NODE_MEM_USED_BP;
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, &goal, &v), 0);
	CHECK_EQ(v, 100 * MiB * 10000 / total);
	goal.metric = DAMOS_QUOTA_NODE_MEM_FREE_BP;
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, &goal, &v), 0);
	CHECK_EQ(v, (total - 100 * MiB) * 10000 / total);
	/* Other nodes do not exist. */
	goal.nid = 1;
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, &goal, &v), 0);
	CHECK_EQ(v, 10000);
	goal.metric = DAMOS_QUOTA_NODE_MEM_USED_BP;
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, &goal, &v), 0);
	CHECK_EQ(v, 0);
	goal.nid = 0;
	/* Only s0 (of 100 MiB) is in use in stair_0. */
	goal.metric = DAMOS_QUOTA_ACTIVE_MEM_BP;
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, &goal, &v), 0);
	CHECK_EQ(v, 1000);
	goal.metric = DAMOS_QUOTA_INACTIVE_MEM_BP;
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, &goal, &v), 0);
	CHECK_EQ(v, 9000);
	goal.metric = DAMOS_QUOTA_USER_INPUT;
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, &goal, &v), -EINVAL);
	CHECK_EQ(ctx->ops.get_wmark_metric(ctx, DAMOS_WMARK_FREE_MEM_RATE, &v),
		 0);
	CHECK_EQ(v, (total - 100 * MiB) * 1000 / total);

	memset(&r, 0, sizeof(r));
	r.ar = s5;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, &r, pageout, &passed), 10 * MiB);
	goal.metric = DAMOS_QUOTA_NODE_MEM_USED_BP;
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, &goal, &v), 0);
	CHECK_EQ(v, 90 * MiB * 10000 / total);
	/* s5 is out: the inactive share shrinks by it. */
	goal.metric = DAMOS_QUOTA_INACTIVE_MEM_BP;
	CHECK_EQ(ctx->ops.get_goal_metric(ctx, &goal, &v), 0);
	CHECK_EQ(v, 80 * MiB * 10000 / (90 * MiB));
	CHECK_EQ(ctx->ops.get_wmark_metric(ctx, DAMOS_WMARK_FREE_MEM_RATE, &v),
		 0);
	CHECK_EQ(v, (total - 90 * MiB) * 1000 / total);

	/* willneed brings it back without a refault. */
	pageout->action = DAMOS_WILLNEED;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, &r, pageout, &passed), 10 * MiB);
	CHECK_EQ(damon_sim_resident_bytes(ctx, t), 100 * MiB);
	CHECK_EQ(damon_sim_refaults(ctx, t), 0);
	pageout->action = DAMOS_COLD;
	CHECK_EQ(ctx->ops.apply_scheme(ctx, t, &r, pageout, &passed), 10 * MiB);
	CHECK_EQ(damon_sim_resident_bytes(ctx, t), 100 * MiB);
	damon_destroy_scheme(pageout);
	sim_done(ctx);
}

/* commit_priv hands the source's workload over; both stay valid. */
static void test_commit_workload(void)
{
	struct damon_addr_range a, b;
	struct damon_target *t, *src_t;
	struct damon_ctx *dst = sim_ctx("stairs_30secs.cfg", 1, &t);
	struct damon_ctx *src = sim_ctx("zigzag_30secs.cfg", 1, &src_t);
	struct damon_region *r;
	void *src_wl;
	unsigned long covered = 0;

	REQUIRE(dst && src);
	REQUIRE(damon_manual_start(dst) == 0);
	REQUIRE(damon_manual_run_for(dst, 6000000) == 0);
	CHECK_STREQ(damon_sim_phase_name(dst, t), "stair_0");
	src_wl = src->ops_priv;
	region_range(src, 0, &a);
	region_range(src, 1, &b);
	REQUIRE(damon_commit_ctx(dst, src) == 0);
	CHECK(dst->ops_priv == src_wl);
	damon_destroy_ctx(src);

	/* The target restarts with the new workload and its regions. */
	REQUIRE(damon_manual_run_for(dst, 1000000) == 0);
	CHECK_STREQ(damon_sim_phase_name(dst, t), "initial");
	damon_for_each_region(r, t) {
		struct damon_addr_range gap = { a.end, b.start };

		CHECK(!overlaps(&r->ar, &gap));
		covered += r->ar.end - r->ar.start;
	}
	CHECK_EQ(covered, 200 * MiB);
	sim_done(dst);
}

/* A source without a workload keeps the destination's. */
static void test_commit_without_workload(void)
{
	struct damon_target *t;
	struct damon_ctx *dst = sim_ctx("stairs_30secs.cfg", 1, &t);
	struct damon_ctx *src = damon_new_ctx();
	void *wl;

	REQUIRE(dst && src);
	REQUIRE(damon_select_ops(src, DAMON_OPS_SIM) == 0);
	damon_add_target(src, damon_new_target());
	REQUIRE(damon_manual_start(dst) == 0);
	wl = dst->ops_priv;
	REQUIRE(damon_commit_ctx(dst, src) == 0);
	CHECK(dst->ops_priv == wl);
	CHECK_EQ(damon_manual_run_for(dst, 1000000), 0);
	CHECK_STREQ(damon_sim_phase_name(dst, t), "initial");
	damon_destroy_ctx(src);
	sim_done(dst);
}

static void test_cleanup_target(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx = sim_ctx("stairs_30secs.cfg", 1, &t);

	REQUIRE(ctx);
	/* No model yet: nothing to free. */
	CHECK(t->ops_priv == NULL);
	ctx->ops.cleanup_target(t);
	CHECK(ctx->ops.target_valid(t));
	/* A model, freed twice over. */
	CHECK_STREQ(damon_sim_phase_name(ctx, t), "initial");
	CHECK(t->ops_priv != NULL);
	ctx->ops.cleanup_target(t);
	CHECK(t->ops_priv == NULL);
	ctx->ops.cleanup_target(t);
	damon_destroy_ctx(ctx);
}

static void test_no_workload(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	unsigned long wss;
	double rate;

	REQUIRE(ctx && t);
	damon_use_virtual_clock(ctx);
	REQUIRE(damon_select_ops(ctx, DAMON_OPS_SIM) == 0);
	damon_add_target(ctx, t);
	CHECK(damon_sim_phase_name(ctx, t) == NULL);
	CHECK_EQ(damon_sim_phase_idx(ctx, t), -EINVAL);
	CHECK_EQ(damon_sim_true_wss(ctx, t, 0, &wss), -EINVAL);
	CHECK_EQ(damon_sim_true_access_rate(ctx, t, 0, 4096, &rate), -EINVAL);
	CHECK_EQ(damon_sim_resident_bytes(ctx, t), 0);
	/* Monitoring nothing is harmless. */
	REQUIRE(damon_manual_start(ctx) == 0);
	CHECK_EQ(damon_manual_run_for(ctx, 100000), 0);
	CHECK_EQ(damon_nr_regions(t), 0);
	sim_done(ctx);
}

/* Priority scores of spec §5.2. */
static void test_scores(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damos *s = new_scheme(DAMOS_PAGEOUT);
	struct damon_region r;

	REQUIRE(ctx && s);
	memset(&r, 0, sizeof(r));
	/* Default intervals: 20 samples a window, 100 ms aggregations. */
	s->quota.weight_nr_accesses = 1;
	s->quota.weight_age = 1;
	r.nr_accesses_bp = 20 * 10000;
	r.age = 0;
	/* freq 100, age sub-score 50: (100 + 50) / 2 * 99 / 100 = 74. */
	CHECK_EQ(damon_hot_score(ctx, &r, s), 74);
	CHECK_EQ(damon_cold_score(ctx, &r, s), 25);
	/* Idle for 10 s: age_log 4, negated: 28 * 100 / 64 = 43; 21 -> 20. */
	r.nr_accesses_bp = 0;
	r.age = 100;
	CHECK_EQ(damon_hot_score(ctx, &r, s), 20);
	CHECK_EQ(damon_cold_score(ctx, &r, s), 79);
	/* Half the samples, 1.6 s old: freq 50, age_log 1 -> 51; 50 -> 49. */
	r.nr_accesses_bp = 10 * 10000;
	r.age = 16;
	CHECK_EQ(damon_hot_score(ctx, &r, s), 49);
	/* Frequency only. */
	s->quota.weight_age = 0;
	CHECK_EQ(damon_hot_score(ctx, &r, s), 49);
	/* No weights: 0. */
	s->quota.weight_nr_accesses = 0;
	CHECK_EQ(damon_hot_score(ctx, &r, s), 0);
	CHECK_EQ(damon_cold_score(ctx, &r, s), 99);
	/* Very old and accessed: age_log 29, sub-score 95; 95 -> 94. */
	s->quota.weight_age = 1000;
	r.age = ~0U;
	CHECK_EQ(damon_hot_score(ctx, &r, s), 94);

	/* Which score each action uses. */
	s->quota.weight_nr_accesses = 1;
	s->quota.weight_age = 0;
	r.nr_accesses_bp = 20 * 10000;
	s->action = DAMOS_PAGEOUT;
	CHECK_EQ(damon_ops_scheme_score(ctx, &r, s), 0);
	s->action = DAMOS_MIGRATE_COLD;
	CHECK_EQ(damon_ops_scheme_score(ctx, &r, s), 0);
	s->action = DAMOS_LRU_DEPRIO;
	CHECK_EQ(damon_ops_scheme_score(ctx, &r, s), 0);
	s->action = DAMOS_LRU_PRIO;
	CHECK_EQ(damon_ops_scheme_score(ctx, &r, s), 99);
	r.nr_accesses_bp = 0;
	s->action = DAMOS_MIGRATE_HOT;
	CHECK_EQ(damon_ops_scheme_score(ctx, &r, s), 0);
	s->action = DAMOS_STAT;
	CHECK_EQ(damon_ops_scheme_score(ctx, &r, s), DAMOS_MAX_SCORE);
	s->action = DAMOS_WILLNEED;
	CHECK_EQ(damon_ops_scheme_score(ctx, &r, s), DAMOS_MAX_SCORE);
	damon_destroy_scheme(s);
	damon_destroy_ctx(ctx);
}

/* Bytes the process holds in malloc'ed memory now. */
#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_bytes(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>
static size_t heap_bytes(void)
{
	return mallinfo2().uordblks + mallinfo2().hblkhd;
}
#endif

/*
 * The pageout model's cost follows regions, not the modelled size: a
 * 64 GiB region paged out and faulting back for 3 virtual seconds holds a
 * few ranges, not 16 bytes per modelled page (256 MiB here), and the
 * resident and refault counts stay consistent.
 */
static void test_pageout_huge_region_bounded(void)
{
	static const char cfg[] = "big, 68719476736\n"
				  "small, 1048576\n\n"
				  "warm\n100000\n"
				  "big, 1, 4096, 1\n"
				  "small, 1, 4096, 9\n";
	struct damon_attrs attrs = {
		.sample_interval = 5000,
		.aggr_interval = 100000,
		.ops_update_interval = 1000000,
		.min_nr_regions = 10,
		.max_nr_regions = 1000,
	};
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	struct damos *pageout = new_scheme(DAMOS_PAGEOUT);
	unsigned long total = 64UL << 30, resident, refaults;
	size_t before, after;

	REQUIRE(ctx && t && pageout);
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = 3;
	REQUIRE(damon_sim_set_workload_buf(ctx, cfg, sizeof(cfg) - 1, "big",
					   errbuf, sizeof(errbuf)) == 0);
	REQUIRE(damon_set_attrs(ctx, &attrs) == 0);
	damon_add_target(ctx, t);
	damon_add_scheme(ctx, pageout);
	REQUIRE(damon_manual_start(ctx) == 0);
	before = heap_bytes();
	REQUIRE(damon_manual_run_for(ctx, 3000000) == 0);
	after = heap_bytes();
	resident = damon_sim_resident_bytes(ctx, t);
	refaults = damon_sim_refaults(ctx, t);
	tap_diag("64 GiB: resident %lu MiB, %lu refaults, heap %+ld KiB",
		 resident >> 20, refaults, ((long)after - (long)before) / 1024);
	/* pageout hit it, and the random accesses fault pages back */
	CHECK(resident < total);
	CHECK(refaults > 0);
	CHECK(resident <= total + MiB);
	/* per-page state would be 16 B x 16 Mi pages = 256 MiB */
	CHECK(after < before + 16 * MiB);
	sim_done(ctx);
}

/* Replace the regions of @t by @n regions from @starts/@ends. */
static void remake_regions(struct damon_target *t, const unsigned long *starts,
			   const unsigned long *ends, unsigned int n)
{
	struct damon_region *r, *next;
	unsigned int i;

	damon_for_each_region_safe(r, next, t)
		damon_destroy_region(r, t);
	for (i = 0; i < n; i++) {
		r = damon_new_region(starts[i], ends[i]);
		REQUIRE(r);
		damon_add_region(r, t);
	}
}

/*
 * The checks are the model, draw for draw (their fast path included):
 * driven directly on regions of assorted sizes (one over the guard page
 * between the workload's regions), every sampling address is damon_rand()'s
 * on a twin PRNG, and every check of a page of "a" is one uniform draw
 * u < 1 - exp(-rate x interval), the rate that of a's 4 KiB-stride
 * pattern, in region order; "b" and the guard page draw nothing.  Half
 * way the regions are remade, so that what the sim remembers of the last
 * walk is stale.
 */
static void test_checks_follow_model(void)
{
	static const char cfg[] = "a,4294967296\nb,4294967296\n\n"
				  "p\n600000\na,0,4096,1\n";
	static const unsigned long sizes[] = {
		1,	   2,	      4095,
		4096,	   4097,      8191,
		12345,	   65536,     (1UL << 20) + 7,
		3UL << 20, 1UL << 30,
	};
	struct damon_ctx *ctx = damon_new_ctx(), *twin = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	unsigned long starts[64], ends[64], before[64], addr;
	unsigned int i, k, n = 0, s, nr_samples = 400;
	unsigned int bad_addr = 0, bad_draw = 0, hits = 0, draws = 0;
	struct damon_addr_range a, b;
	struct damon_region *r;
	double rate, lambda, chance;

	REQUIRE(ctx && twin && t);
	damon_use_virtual_clock(ctx);
	damon_add_target(ctx, t);
	REQUIRE(damon_sim_set_workload_buf(ctx, cfg, strlen(cfg), "m.cfg",
					   errbuf, sizeof(errbuf)) == 0);
	region_range(ctx, 0, &a);
	region_range(ctx, 1, &b);
	ctx->ops.init(ctx);
	/* The model's numbers, as src/ops/sim.c documents them. */
	rate = DAMON_SIM_ACCESS_RATE * 1.0 / 1.0 * 1.0 /
	       (double)((a.end - a.start - 1) / 4096 + 1);
	lambda = rate * (double)(ctx->attrs.sample_interval * 1000) / 1e9;
	chance = -expm1(-lambda);

	for (s = 0; s < nr_samples; s++) {
		if (s == 0 || s == nr_samples / 2) {
			/* assorted sizes through a, the guard page, b */
			addr = a.start + (s ? 12288 : 0);
			for (n = 0, k = 0; addr < a.end - (1UL << 31); n++) {
				starts[n] = addr;
				addr += sizes[(k++ + s) % TAP_NR(sizes)];
				ends[n] = addr;
			}
			starts[n] = a.end - 8192;
			ends[n++] = b.start + 8192;
			starts[n] = b.start + 16384;
			ends[n++] = b.start + (1UL << 20);
			remake_regions(t, starts, ends, n);
		}
		ctx->ops.prepare_access_checks(ctx);
		i = 0;
		damon_for_each_region(r, t) {
			if (r->sampling_addr !=
			    damon_rand(twin, r->ar.start, r->ar.end))
				bad_addr++;
			before[i++] = r->nr_accesses;
		}
		damon_clock_advance(ctx, ctx->attrs.sample_interval * 1000);
		ctx->ops.check_accesses(ctx);
		i = 0;
		damon_for_each_region(r, t) {
			bool want = false, got = r->nr_accesses != before[i++];

			if (r->sampling_addr >= a.start &&
			    r->sampling_addr < a.end) {
				want = (double)damon_rand(twin, 0, 1UL << 32) /
					       4294967296.0 <
				       chance;
				draws++;
			}
			bad_draw += want != got;
			hits += got;
		}
	}
	tap_diag("%u regions, %u draws, %u accessed (%.3f; chance %.3f)", n,
		 draws, hits, (double)hits / draws, chance);
	CHECK(n > 20 && n < TAP_NR(starts));
	CHECK_EQ(bad_addr, 0);
	CHECK_EQ(bad_draw, 0);
	CHECK(draws > nr_samples * 15);
	CHECK(fabs((double)hits / draws - chance) < 0.05);
	damon_destroy_ctx(ctx);
	damon_destroy_ctx(twin);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_registered),
	TAP_CASE(test_set_workload),
	TAP_CASE(test_too_big),
	TAP_CASE(test_init_regions),
	TAP_CASE(test_init_keeps_user_regions),
	TAP_CASE(test_ground_truth),
	TAP_CASE(test_pattern_rates),
	TAP_CASE(test_partial_access_rate),
	TAP_CASE(test_checks_follow_model),
	TAP_CASE(test_determinism),
	TAP_CASE(test_stairs_hot_region),
	TAP_CASE(test_zigzag_wss),
	TAP_CASE(test_pageout),
	TAP_CASE(test_pageout_filters),
	TAP_CASE(test_pageout_scheme),
	TAP_CASE(test_goal_and_wmark_metrics),
	TAP_CASE(test_commit_workload),
	TAP_CASE(test_commit_without_workload),
	TAP_CASE(test_cleanup_target),
	TAP_CASE(test_no_workload),
	TAP_CASE(test_scores),
	TAP_CASE(test_pageout_huge_region_bounded),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
