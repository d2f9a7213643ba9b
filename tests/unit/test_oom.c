// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Out-of-memory torture.  Every allocation of the library and of the tree
 * goes through the allocation seam (src/sys/alloc.h).  Each cycle below is
 * run once to count its allocations (N_total), then once for every N in
 * 1..N_total with allocation number N failing: every call must give a
 * clean negative errno (-ENOMEM) or carry on correctly, the running
 * context must stay valid (sorted, non-overlapping regions inside the
 * workload, nr_regions matching the list, parameters either all old or
 * all new), and nothing may leak (LeakSanitizer and valgrind check that
 * at exit).
 *
 * The sim cycle drives a context by hand on a virtual clock, so its
 * allocation sequence is the same on every run.  The tree cycle writes
 * the files of a full kdamond lifetime through the in-process tree API (no
 * FUSE); its kdamond is a real thread, so a failure can also land there.
 *
 * UDAMON_OOM_STRIDE=k tries every k-th N only; it defaults to 1, and to a
 * stride giving about 40 runs per cycle under valgrind and TSan, which
 * are too slow for every N.  UDAMON_OOM_ONLY=N runs one N (for debugging).
 */
#include "fs/parse.c"
#include "fs/tree.c"
#include "fs/build.c"
#include "fs/cmd.c"
#include "fs/ckpt.c"
#include "fs/dump.c"
#include "fs/path.c"

#include "sys/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../lib/tap.h"

#define KiB 1024UL
#define MiB (1024 * KiB)
#define MAX_REPORTED 10

/* Failure reports so far; past MAX_REPORTED the loops give up. */
static unsigned int nr_reported;
/* The N of the current run, for the reports. */
static unsigned long cur_n;

/* Report a failed check with the N of the run; true if it failed. */
static bool oom_failed(bool ok, const char *what, int line)
{
	if (ok)
		return false;
	tap_failures++;
	nr_reported++;
	tap_diag("N=%lu: line %d: %s failed", cur_n, line, what);
	return true;
}

#define OOM_EXPECT(cond) oom_failed(cond, #cond, __LINE__)
/* Check, and leave through the "out" label if it failed. */
#define OOM_CHECK(cond)               \
	do {                          \
		if (OOM_EXPECT(cond)) \
			goto out;     \
	} while (0)

static bool under_slow_checker(void)
{
	const char *preload = getenv("LD_PRELOAD");

#if defined(__SANITIZE_THREAD__)
	return true;
#endif
	return preload && strstr(preload, "vgpreload");
}

/* Which N to try: every one, or about 40 spread over 1..@total. */
static unsigned long stride_for(unsigned long total)
{
	const char *s = getenv("UDAMON_OOM_STRIDE");

	if (s && atol(s) > 0)
		return (unsigned long)atol(s);
	if (under_slow_checker())
		return total / 40 ? total / 40 : 1;
	return 1;
}

/* ------------------------------------------------------------------ */
/* The sim cycle                                                       */
/* ------------------------------------------------------------------ */

static const char sim_cfg[] = "a, 1048576\n"
			      "b, 524288\n"
			      "c, 1048576\n"
			      "\n"
			      "first\n20\na, 0, 4096, 1\nc, 0, 4096, 1\n"
			      "\n"
			      "second\n20\nb, 0, 4096, 1\n";

/* One version of the parameters the cycle commits. */
struct sim_params {
	unsigned long aggr_us;
	unsigned int nr_targets;
	unsigned int nr_schemes;
	unsigned long quota_sz;
	unsigned long goal_value;
	unsigned long addr_end; /* end of the addr filter's range */
	unsigned int probe_weight;
	bool memcg_filter; /* a probe filter with a memcg path */
	bool pause;
	bool workload; /* load the workload (else keep the running one's) */
};

static const struct sim_params params_a = {
	.aggr_us = 5000,
	.nr_targets = 1,
	.nr_schemes = 2,
	.quota_sz = 256 * KiB,
	.goal_value = 1000,
	.addr_end = DAMON_SIM_BASE + 576 * KiB,
	.probe_weight = 1,
	.workload = true,
};

static const struct sim_params params_b = {
	.aggr_us = 4000,
	.nr_targets = 2,
	.nr_schemes = 3,
	.quota_sz = 128 * KiB,
	.goal_value = 2000,
	.addr_end = DAMON_SIM_BASE + 832 * KiB,
	.probe_weight = 2,
	.memcg_filter = true,
};

static int add_filter(struct damos *s, enum damos_filter_type type,
		      bool matching, bool allow, unsigned long addr_end)
{
	struct damos_filter *f = damos_new_filter(type, matching, allow);

	if (!f)
		return -ENOMEM;
	if (type == DAMOS_FILTER_TYPE_ADDR) {
		f->addr_range.start = DAMON_SIM_BASE + 64 * KiB;
		f->addr_range.end = addr_end;
	}
	damos_add_filter(s, f);
	return 0;
}

static int add_scheme(struct damon_ctx *ctx, const struct sim_params *p,
		      unsigned int idx)
{
	struct damos_access_pattern pattern = {
		.min_sz_region = 0,
		.max_sz_region = ULONG_MAX,
		.min_nr_accesses = 0,
		.max_nr_accesses = UINT_MAX,
		.min_age_region = 0,
		.max_age_region = UINT_MAX,
	};
	struct damos_quota quota = {
		.reset_interval = 10,
		.sz = p->quota_sz,
		.weight_sz = 1,
		.weight_nr_accesses = 1,
		.weight_age = 1,
	};
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_NONE };
	struct damos_quota_goal *g;
	struct damos *s;

	/*
	 * Only scheme 1 has a quota: the others meet their addr filter
	 * first in the apply pass (a quota's priority pass would cut the
	 * regions before), where a failed cut would act on the wrong part.
	 */
	if (idx != 1)
		quota.sz = 0;
	s = damon_new_scheme(&pattern, idx ? DAMOS_STAT : DAMOS_PAGEOUT, 0,
			     &quota, &wmarks, -1);
	if (!s)
		return -ENOMEM;
	damon_add_scheme(ctx, s);
	/*
	 * A goal starts its feedback loop from a tiny quota, which would
	 * keep the scheme from applying during the short cycle: only
	 * scheme 1 has one.
	 */
	if (idx == 1) {
		g = damos_new_quota_goal(DAMOS_QUOTA_USER_INPUT, p->goal_value);
		if (!g)
			return -ENOMEM;
		g->current_value = 500;
		damos_add_quota_goal(&s->quota, g);
	}
	/*
	 * Scheme 0 applies only inside the addr range (an allow filter, the
	 * only filter, so the rest is rejected); the others never inside it
	 * (a reject filter, then ops filters).  sim_event() checks both.
	 */
	if (!idx)
		return add_filter(s, DAMOS_FILTER_TYPE_ADDR, true, true,
				  p->addr_end);
	/* Other boundaries than scheme 0's, which they would cut first. */
	if (add_filter(s, DAMOS_FILTER_TYPE_ADDR, true, false,
		       p->addr_end + idx * 128 * KiB) ||
	    add_filter(s, DAMOS_FILTER_TYPE_YOUNG, true, false, 0) ||
	    add_filter(s, DAMOS_FILTER_TYPE_ANON, false, false, 0))
		return -ENOMEM;
	return 0;
}

/* A data attribute probe: accessed pages, and of memcg 0 for @p. */
static int add_probe(struct damon_ctx *ctx, const struct sim_params *p)
{
	struct damon_probe *probe = damon_new_probe();
	struct damon_filter *f;
	struct damon_prep *prep;

	if (!probe)
		return -ENOMEM;
	probe->weight = p->probe_weight;
	damon_add_probe(ctx, probe);
	prep = damon_new_prep(DAMON_PREP_SET_PGIDLE);
	if (!prep)
		return -ENOMEM;
	damon_add_prep(probe, prep);
	f = damon_new_filter(DAMON_FILTER_TYPE_PGIDLE_UNSET, true, true);
	if (!f)
		return -ENOMEM;
	damon_add_filter(probe, f);
	if (!p->memcg_filter)
		return 0;
	f = damon_new_filter(DAMON_FILTER_TYPE_MEMCG, true, true);
	if (!f)
		return -ENOMEM;
	damon_add_filter(probe, f);
	/* The memcg's path goes with its id through commits. */
	f->memcg_id = 0;
	f->memcg_path = udamon__strdup("/");
	return f->memcg_path ? 0 : -ENOMEM;
}

/* Build a context of version @p; NULL and *errp on failure. */
static struct damon_ctx *sim_build(const struct sim_params *p, int *errp)
{
	struct damon_attrs attrs = {
		.sample_interval = 1000,
		.aggr_interval = p->aggr_us,
		.ops_update_interval = 20000,
		.min_nr_regions = 10,
		.max_nr_regions = 60,
	};
	struct damon_ctx *ctx = damon_new_ctx();
	char why[128];
	unsigned int i;
	int err = -ENOMEM;

	if (!ctx)
		goto fail;
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = 42;
	ctx->pause = p->pause;
	if (p->workload)
		err = damon_sim_set_workload_buf(ctx, sim_cfg,
						 sizeof(sim_cfg) - 1, "oom.cfg",
						 why, sizeof(why));
	else
		err = damon_select_ops(ctx, DAMON_OPS_SIM);
	if (err)
		goto fail;
	err = damon_set_attrs(ctx, &attrs);
	if (err)
		goto fail;
	err = add_probe(ctx, p);
	if (err)
		goto fail;
	err = -ENOMEM;
	for (i = 0; i < p->nr_targets; i++) {
		struct damon_target *t = damon_new_target();

		if (!t)
			goto fail;
		damon_add_target(ctx, t);
	}
	for (i = 0; i < p->nr_schemes; i++) {
		err = add_scheme(ctx, p, i);
		if (err)
			goto fail;
	}
	*errp = 0;
	return ctx;
fail:
	damon_destroy_ctx(ctx);
	*errp = err;
	return NULL;
}

/* The parameters a commit changes, as text, to tell old from new. */
static void sim_fingerprint(struct damon_ctx *ctx, char *buf, size_t len)
{
	struct damos_quota_goal *g;
	struct damos_filter *f;
	struct damos *s;
	size_t n;

	struct damon_filter *pf;
	struct damon_probe *probe;

	n = snprintf(buf, len, "aggr %lu targets %u pause %d;",
		     ctx->attrs.aggr_interval, damon_nr_targets(ctx),
		     ctx->pause);
	damon_for_each_probe(probe, ctx) {
		if (n < len)
			n += snprintf(buf + n, len - n, " probe %u filters",
				      probe->weight);
		damon_for_each_filter(pf, probe) {
			if (n < len)
				n += snprintf(
					buf + n, len - n, " %d %s", pf->type,
					pf->memcg_path ? pf->memcg_path : "-");
		}
	}
	damon_for_each_scheme(s, ctx) {
		if (n >= len)
			return;
		n += snprintf(buf + n, len - n, " scheme %d sz %lu goals",
			      s->action, s->quota.sz);
		damos_for_each_quota_goal(g, &s->quota) {
			if (n < len)
				n += snprintf(buf + n, len - n, " %lu",
					      g->target_value);
		}
		damos_for_each_core_filter(f, s) {
			if (n < len)
				n += snprintf(buf + n, len - n,
					      " core %d %lx-%lx", f->type,
					      f->addr_range.start,
					      f->addr_range.end);
		}
		damos_for_each_ops_filter(f, s) {
			if (n < len)
				n += snprintf(buf + n, len - n, " ops %d %d %d",
					      f->type, f->matching, f->allow);
		}
	}
}

/*
 * Whether the monitoring regions are sound: each non-empty and inside the
 * workload, sorted, not overlapping, and as many as the count says.
 */
static bool sim_regions_valid(struct damon_ctx *ctx)
{
	unsigned long lo = DAMON_SIM_BASE, hi = DAMON_SIM_BASE + 3 * MiB;
	struct damon_target *t;
	struct damon_region *r;

	damon_for_each_target(t, ctx) {
		unsigned long prev_end = lo;
		unsigned int nr = 0;

		damon_for_each_region(r, t) {
			if (r->ar.start >= r->ar.end ||
			    r->ar.start < prev_end || r->ar.end > hi)
				return false;
			prev_end = r->ar.end;
			nr++;
		}
		if (nr != damon_nr_regions(t))
			return false;
	}
	return true;
}

/* What sim_event() found wrong, or NULL. */
static const char *bad_apply;

/* Check that schemes act only where their addr filter lets them. */
static void sim_event(void *arg, struct damon_ctx *ctx,
		      const struct damon_event *ev)
{
	struct damos_filter *f;
	struct damos *s;
	unsigned int i = 0;

	if (ev->type != DAMON_EVENT_DAMOS_BEFORE_APPLY)
		return;
	damon_for_each_scheme(s, ctx) {
		if (i++ != ev->scheme_idx)
			continue;
		damos_for_each_core_filter(f, s) {
			const struct damon_addr_range *a = &f->addr_range;

			if (f->allow &&
			    (ev->start < a->start || ev->end > a->end))
				bad_apply = "applied outside an allow range";
			if (!f->allow && ev->start < a->end &&
			    a->start < ev->end)
				bad_apply = "applied inside a reject range";
			break;
		}
	}
}

/* A repeating call that runs one pending commit on the kdamond. */
struct sim_commit {
	struct damon_ctx *ctx;
	struct damon_ctx *src;
	int result;
};

static int sim_commit_fn(void *data)
{
	struct sim_commit *c = data;

	if (!c->src)
		return 0;
	c->result = damon_commit_ctx(c->ctx, c->src);
	c->src = NULL;
	return 0;
}

/* How the runs with a failure ended, for the summary. */
static struct {
	unsigned long build, start, commit_build, commit_clean, commit_exit;
} outcome;

/* The expected fingerprints, from the run without failures. */
static char fp_a[1024], fp_b[1024], fp_b_paused[1024];

/*
 * Step @ctx @nr times; each step must carry on (with the fingerprint
 * @fp) and leave valid regions.  Returns 0, or -1 on a failed check.
 */
static int sim_steps(struct damon_ctx *ctx, unsigned int nr, const char *fp)
{
	char now[1024];
	unsigned int i;

	for (i = 0; i < nr; i++) {
		OOM_CHECK(damon_manual_step(ctx) == 0);
		OOM_CHECK(!bad_apply);
		OOM_CHECK(sim_regions_valid(ctx));
		sim_fingerprint(ctx, now, sizeof(now));
		OOM_CHECK(!strcmp(now, fp));
	}
	return 0;
out:
	return -1;
}

/*
 * Build version @p and commit it on the kdamond.  Returns 0 when the
 * context runs on (with the new or, after a clean failure, the old
 * parameters: *fpp tells which), 1 when the commit failed half-way and
 * the kdamond exits as the spec says, -1 on a failed check.
 */
static int sim_commit_version(struct damon_ctx *ctx, struct sim_commit *c,
			      const struct sim_params *p, const char *new_fp,
			      const char **fpp)
{
	char now[1024];
	struct damon_ctx *src;
	int err, rc;

	src = sim_build(p, &err);
	if (!src) {
		/* Nothing was committed; the old parameters run on. */
		OOM_CHECK(err == -ENOMEM);
		outcome.commit_build++;
		return 0;
	}
	c->src = src;
	c->result = 1;
	rc = damon_manual_step(ctx);
	damon_destroy_ctx(src);
	OOM_CHECK(!bad_apply);
	OOM_CHECK(c->result <= 0);
	OOM_CHECK(sim_regions_valid(ctx));
	if (c->result == 0) {
		OOM_CHECK(rc == 0);
		*fpp = new_fp;
	} else {
		OOM_CHECK(c->result == -ENOMEM);
		if (ctx->maybe_corrupted) {
			/* Failed in the final pass: the kdamond exits. */
			OOM_CHECK(rc == 1);
			outcome.commit_exit++;
			return 1;
		}
		/* Failed before touching the context: all old. */
		OOM_CHECK(rc == 0);
		outcome.commit_clean++;
	}
	sim_fingerprint(ctx, now, sizeof(now));
	OOM_CHECK(!strcmp(now, *fpp));
	return 0;
out:
	return -1;
}

/*
 * The whole cycle: build, start, step, commit a changed context, commit a
 * pause, step while paused, resume, step, stop, destroy.  Returns -1 if a
 * check failed.
 */
static int sim_cycle(void)
{
	struct damon_call_control control = { .fn = sim_commit_fn,
					      .repeat = true };
	struct sim_params paused = params_b, resumed = params_b;
	struct sim_commit commit = { 0 };
	struct damon_ctx *ctx;
	const char *fp = fp_a;
	int err, rc = -1;

	paused.pause = true;
	ctx = sim_build(&params_a, &err);
	if (!ctx) {
		outcome.build++;
		return OOM_EXPECT(err == -ENOMEM) ? -1 : 0;
	}
	err = damon_manual_start(ctx);
	if (err) {
		outcome.start++;
		rc = OOM_EXPECT(err == -ENOMEM) ? -1 : 0;
		OOM_EXPECT(!damon_is_running(ctx));
		damon_destroy_ctx(ctx);
		return rc;
	}
	bad_apply = NULL;
	damon_set_event_fn(ctx, sim_event, NULL);
	commit.ctx = ctx;
	control.data = &commit;
	OOM_CHECK(damon_call(ctx, &control) == 0);
	if (sim_steps(ctx, 12, fp))
		goto out;

	err = sim_commit_version(ctx, &commit, &params_b, fp_b, &fp);
	if (err)
		goto stop;
	if (sim_steps(ctx, 12, fp))
		goto out;

	err = sim_commit_version(ctx, &commit, &paused, fp_b_paused, &fp);
	if (err)
		goto stop;
	if (sim_steps(ctx, 5, fp))
		goto out;
	OOM_CHECK(ctx->in_pause_loop == (fp == fp_b_paused));

	err = sim_commit_version(ctx, &commit, &resumed, fp_b, &fp);
	if (err)
		goto stop;
	if (sim_steps(ctx, 12, fp))
		goto out;
	OOM_CHECK(ctx->in_pause_loop == (fp == fp_b_paused));
stop:
	if (err >= 0)
		rc = 0;
out:
	damon_manual_stop(ctx);
	OOM_EXPECT(!damon_is_running(ctx));
	damon_destroy_ctx(ctx);
	return rc;
}

static void test_sim_cycle(void)
{
	struct sim_params paused = params_b;
	unsigned long total, n, stride, only = 0;
	struct damon_ctx *ctx;
	int err;

	if (getenv("UDAMON_OOM_ONLY"))
		only = strtoul(getenv("UDAMON_OOM_ONLY"), NULL, 10);
	paused.pause = true;
	ctx = sim_build(&params_a, &err);
	REQUIRE(ctx);
	sim_fingerprint(ctx, fp_a, sizeof(fp_a));
	damon_destroy_ctx(ctx);
	ctx = sim_build(&params_b, &err);
	REQUIRE(ctx);
	sim_fingerprint(ctx, fp_b, sizeof(fp_b));
	damon_destroy_ctx(ctx);
	ctx = sim_build(&paused, &err);
	REQUIRE(ctx);
	sim_fingerprint(ctx, fp_b_paused, sizeof(fp_b_paused));
	damon_destroy_ctx(ctx);
	/* Every version differs from the others. */
	CHECK(strcmp(fp_a, fp_b) && strcmp(fp_b, fp_b_paused));

	/* Without failures: count, and everything commits. */
	cur_n = 0;
	udamon__alloc_fail_at(0);
	CHECK_EQ(sim_cycle(), 0);
	total = udamon__alloc_count();
	REQUIRE(total > 0);
	stride = stride_for(total);
	tap_diag("sim cycle: %lu allocations, trying every %lu", total, stride);

	for (n = only ? only : 1; n <= total; n += stride) {
		cur_n = n;
		udamon__alloc_fail_at(n);
		sim_cycle();
		/* The path up to N is that of the run without failures. */
		OOM_EXPECT(udamon__alloc_failed());
		if (only || nr_reported >= MAX_REPORTED)
			break;
	}
	udamon__alloc_fail_at(0);
	tap_diag("failed: building %lu, starting %lu, building a commit %lu, "
		 "committing (context untouched) %lu, committing (kdamond "
		 "exits) %lu; absorbed while running: the rest",
		 outcome.build, outcome.start, outcome.commit_build,
		 outcome.commit_clean, outcome.commit_exit);
	/* One more past the end: nothing fails, all as before. */
	cur_n = total + 1;
	udamon__alloc_fail_at(total + 1);
	CHECK_EQ(sim_cycle(), 0);
	CHECK(!udamon__alloc_failed());
	udamon__alloc_fail_at(0);
}

/* ------------------------------------------------------------------ */
/* The tree cycle                                                      */
/* ------------------------------------------------------------------ */

#define K "/admin/kdamonds/0/"
#define C K "contexts/0/"
#define S C "schemes/0/"

static char cfg_path[64];
static char last_log[256];
static pthread_mutex_t last_log_lock = PTHREAD_MUTEX_INITIALIZER;

/* One write of the sequence; value NULL means the workload path. */
struct tree_write {
	const char *path;
	const char *value;
};

static const struct tree_write tree_writes[] = {
	{ "/admin/kdamonds/nr_kdamonds", "1" },
	{ K "contexts/nr_contexts", "1" },
	{ C "operations", "sim" },
	{ C "udamon/sim_workload", NULL },
	{ C "monitoring_attrs/intervals/sample_us", "1000" },
	{ C "monitoring_attrs/intervals/aggr_us", "1000000" },
	{ C "monitoring_attrs/intervals/update_us", "1000000" },
	{ C "monitoring_attrs/nr_regions/min", "10" },
	{ C "monitoring_attrs/nr_regions/max", "100" },
	{ C "targets/nr_targets", "1" },
	{ C "schemes/nr_schemes", "1" },
	{ S "action", "pageout" },
	{ S "access_pattern/sz/max", "18446744073709551615" },
	{ S "access_pattern/nr_accesses/max", "1000" },
	{ S "access_pattern/age/max", "1000" },
	{ S "quotas/bytes", "1048576" },
	{ S "quotas/reset_interval_ms", "10" },
	{ S "quotas/goals/nr_goals", "1" },
	{ S "quotas/goals/0/target_metric", "user_input" },
	{ S "quotas/goals/0/target_value", "1000" },
	{ S "quotas/goals/0/current_value", "500" },
	{ S "core_filters/nr_filters", "1" },
	{ S "core_filters/0/type", "addr" },
	{ S "core_filters/0/addr_start", "4294967296" },
	{ S "core_filters/0/addr_end", "4295229440" },
	{ S "ops_filters/nr_filters", "1" },
	{ S "ops_filters/0/type", "young" },
	{ S "ops_filters/0/matching", "N" },
	{ K "state", "on" },
	/* As the kernel's, nr_* writes make all entries anew. */
	{ C "schemes/nr_schemes", "2" },
	{ S "action", "pageout" },
	{ S "quotas/bytes", "524288" },
	{ S "quotas/reset_interval_ms", "10" },
	{ S "quotas/goals/nr_goals", "1" },
	{ S "quotas/goals/0/target_value", "2000" },
	{ S "ops_filters/nr_filters", "1" },
	{ S "ops_filters/0/type", "anon" },
	{ C "schemes/1/core_filters/nr_filters", "1" },
	{ C "schemes/1/core_filters/0/type", "addr" },
	{ C "schemes/1/core_filters/0/addr_start", "4294967296" },
	{ C "schemes/1/core_filters/0/addr_end", "4295491584" },
	{ C "targets/nr_targets", "2" },
	{ K "state", "commit" },
	{ C "pause", "Y" },
	{ K "state", "commit" },
	{ K "state", "update_schemes_stats" },
	{ K "udamon/dump", "" },
	{ C "pause", "N" },
	{ K "state", "commit" },
	{ S "quotas/goals/0/current_value", "700" },
	{ K "state", "commit_schemes_quota_goals" },
	{ K "state", "update_schemes_effective_quotas" },
	{ K "state", "update_tuned_intervals" },
	{ K "state", "clear_schemes_tried_regions" },
	{ K "udamon/dump", "" },
	{ K "state", "off" },
	{ "/admin/kdamonds/nr_kdamonds", "0" },
};

#define NR_TREE_WRITES TAP_NR(tree_writes)

/* Results of the run without failures. */
static ssize_t tree_expect[NR_TREE_WRITES];

/* The nr_* files of the sequence and the directory of their children. */
static const char *const tree_nr_files[][2] = {
	{ "/admin/kdamonds/nr_kdamonds", "/admin/kdamonds/" },
	{ K "contexts/nr_contexts", K "contexts/" },
	{ C "targets/nr_targets", C "targets/" },
	{ C "schemes/nr_schemes", C "schemes/" },
	{ S "quotas/goals/nr_goals", S "quotas/goals/" },
	{ S "core_filters/nr_filters", S "core_filters/" },
	{ S "ops_filters/nr_filters", S "ops_filters/" },
};

static const char *tree_get(const char *path, int *errp)
{
	static char out[256];
	char *data;
	size_t len;

	*errp = fs_read(path, &data, &len);
	snprintf(out, sizeof(out), "%.*s", (int)len, data ? data : "");
	free(data);
	if (strchr(out, '\n'))
		*strchr(out, '\n') = '\0';
	return out;
}

/*
 * The tree is consistent: every nr_* file that exists says how many
 * numbered directories there are, and the state file reads.  Returns -1
 * on a failed check.
 */
static int tree_consistent(void)
{
	struct fs_node node;
	unsigned int i;
	char path[256];
	const char *v;
	int err;

	for (i = 0; i < TAP_NR(tree_nr_files); i++) {
		unsigned long nr;

		v = tree_get(tree_nr_files[i][0], &err);
		if (err == -ENOENT)
			continue;
		OOM_CHECK(err == 0);
		nr = strtoul(v, NULL, 10);
		if (nr) {
			snprintf(path, sizeof(path), "%s%lu",
				 tree_nr_files[i][1], nr - 1);
			OOM_CHECK(fs_lookup(path, &node) == 0);
		}
		snprintf(path, sizeof(path), "%s%lu", tree_nr_files[i][1], nr);
		OOM_CHECK(fs_lookup(path, &node) == -ENOENT);
	}
	v = tree_get(K "state", &err);
	OOM_CHECK(err == -ENOENT || !strcmp(v, "on") || !strcmp(v, "off"));
	return 0;
out:
	return -1;
}

static ssize_t tree_do(const struct tree_write *w)
{
	const char *v = w->value ? w->value : cfg_path;
	char *data;
	size_t len;
	int err;

	if (w->value && !w->value[0]) {
		/* An empty value: read the file instead. */
		err = fs_read(w->path, &data, &len);
		free(data);
		return err;
	}
	return fs_write(w->path, v, strlen(v));
}

/*
 * Whether the kdamond runs.  One that a failure made exit may still be on
 * its way out (calls already canceled), so give it a moment.
 */
static bool tree_kdamond_on(bool wait)
{
	int err, i;

	for (i = 0; i < (wait ? 100 : 1); i++) {
		if (strcmp(tree_get(K "state", &err), "on"))
			return false;
		usleep(1000);
	}
	return true;
}

/*
 * The whole sequence.  @record: store the results as the expected ones.
 * A write that fails with -ENOMEM must leave the tree consistent and
 * succeed when repeated, unless the failure ended the kdamond (a
 * commit failing half-way, or the kdamond's own setup), after which the
 * state commands report that it no longer runs.
 */
/* How the runs with a failure ended, for the summary. */
static struct {
	unsigned long enomem, ended;
} tree_outcome;

static int tree_cycle(bool record)
{
	bool was_on = false, ended = false;
	unsigned int i;
	ssize_t rc;

	fs_init();
	for (i = 0; i < NR_TREE_WRITES; i++) {
		const struct tree_write *w = &tree_writes[i];
		bool state = !strcmp(w->path, K "state");
		bool failed_before = udamon__alloc_failed();

		rc = tree_do(w);
		if (record) {
			tree_expect[i] = rc;
			continue;
		}
		if (rc != tree_expect[i] && state && was_on &&
		    udamon__alloc_failed() && !tree_kdamond_on(true)) {
			/*
			 * The failure ended the kdamond (a commit failing
			 * half-way, or its own setup, possibly noticed only
			 * now as it runs on its own thread): commands say
			 * that it does not run.
			 */
			OOM_CHECK(rc == -ENOMEM || rc == -EINVAL ||
				  rc == -ECANCELED || rc == -EPERM);
			if (!ended)
				tree_outcome.ended++;
			ended = true;
			continue;
		}
		if (rc != tree_expect[i]) {
			if (rc != -ENOMEM) {
				pthread_mutex_lock(&last_log_lock);
				tap_diag("N=%lu: %s: %zd, not %zd (%s)", cur_n,
					 w->path, rc, tree_expect[i], last_log);
				pthread_mutex_unlock(&last_log_lock);
			}
			OOM_CHECK(rc == -ENOMEM);
			OOM_CHECK(udamon__alloc_failed() && !failed_before);
			if (tree_consistent())
				goto out;
			if (state && was_on && !tree_kdamond_on(true)) {
				tree_outcome.ended++;
				ended = true;
				continue;
			}
			/* Nothing half-done: the same write now works. */
			rc = tree_do(w);
			if (rc != tree_expect[i] && state &&
			    !tree_kdamond_on(true)) {
				tree_outcome.ended++;
				ended = true;
				continue;
			}
			OOM_CHECK(rc == tree_expect[i]);
			tree_outcome.enomem++;
		}
		if (state && !strcmp(w->value, "on"))
			was_on = true;
		if (state && !strcmp(w->value, "off"))
			was_on = false;
		if (was_on && !ended && !tree_kdamond_on(false)) {
			/* Only an injected failure may end the kdamond. */
			OOM_CHECK(udamon__alloc_failed());
			tree_outcome.ended++;
			ended = true;
		}
		if (udamon__alloc_failed() && !failed_before &&
		    tree_consistent())
			goto out;
	}
	fs_fini();
	return 0;
out:
	fs_fini();
	return -1;
}

/* Keep the last line for the reports; kdamonds log too, hence the lock. */
static void quiet_log(enum damon_log_level level, const char *msg)
{
	pthread_mutex_lock(&last_log_lock);
	snprintf(last_log, sizeof(last_log), "%s", msg);
	pthread_mutex_unlock(&last_log_lock);
}

static void test_tree_cycle(void)
{
	const char cfg[] =
		"a, 1048576\nb, 1048576\n\np\n100000\na, 0, 4096, 1\n";
	unsigned long total, n, stride, only = 0;
	unsigned int i;
	int fd;

	if (getenv("UDAMON_OOM_ONLY"))
		only = strtoul(getenv("UDAMON_OOM_ONLY"), NULL, 10);
	snprintf(cfg_path, sizeof(cfg_path), "/tmp/udamon-oom-test-XXXXXX");
	fd = mkstemp(cfg_path);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, cfg, sizeof(cfg) - 1) == sizeof(cfg) - 1);
	close(fd);
	fs_set_log_fn(quiet_log);

	udamon__alloc_fail_at(0);
	tree_cycle(true);
	total = udamon__alloc_count();
	for (i = 0; i < NR_TREE_WRITES; i++)
		if (tree_expect[i] < 0)
			tap_diag("write %u (%s) failed: %zd", i,
				 tree_writes[i].path, tree_expect[i]);
	for (i = 0; i < NR_TREE_WRITES; i++)
		CHECK(tree_expect[i] >= 0);
	REQUIRE(total > 0);
	stride = stride_for(total);
	tap_diag("tree cycle: %lu allocations, trying every %lu", total,
		 stride);

	for (n = only ? only : 1; n <= total; n += stride) {
		cur_n = n;
		if (getenv("UDAMON_OOM_VERBOSE"))
			tap_diag("tree N=%lu", n);
		udamon__alloc_fail_at(n);
		tree_cycle(false);
		if (only || nr_reported >= MAX_REPORTED)
			break;
	}
	udamon__alloc_fail_at(0);
	tap_diag("a write failed with -ENOMEM and worked again: %lu, the "
		 "kdamond ended: %lu, absorbed: the rest",
		 tree_outcome.enomem, tree_outcome.ended);
	unlink(cfg_path);
}

static const struct tap_case cases[] = {
	TAP_CASE_TIMEOUT(test_sim_cycle, 600),
	TAP_CASE_TIMEOUT(test_tree_cycle, 600),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
