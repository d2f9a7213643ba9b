// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target for masim configs (src/ops/masim.c) and the sim
 * operations set built from them (src/ops/sim.c): any text is parsed or
 * refused with a message; any config the parser accepts becomes a model
 * that DAMON then runs for a little virtual time with pageout and willneed
 * schemes (the residency model), asking the ground truth as benchmarks
 * do.  Besides memory errors this catches work that grows with the
 * modelled size (a config may describe terabytes): libFuzzer's -timeout
 * turns that into a finding.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <udamon/damon.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct damos *fuzz_scheme(enum damos_action action)
{
	struct damos_access_pattern pat = {
		.max_sz_region = ~0UL,
		.max_nr_accesses = ~0U,
		.max_age_region = ~0U,
	};
	struct damos_quota quota = { 0 };
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_NONE };

	return damon_new_scheme(&pat, action, 0, &quota, &wmarks, -1);
}

static void fuzz_sim(const uint8_t *data, size_t size)
{
	struct damon_attrs attrs = {
		.sample_interval = 1000,
		.aggr_interval = 10000,
		.ops_update_interval = 50000,
		.min_nr_regions = 10,
		.max_nr_regions = 100,
	};
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t;
	struct damos *s;
	unsigned long wss;
	double rate;
	char err[256];

	if (!ctx)
		return;
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = size;
	if (damon_sim_set_workload_buf(ctx, (const char *)data, size, "fuzz",
				       err, sizeof(err)) ||
	    damon_set_attrs(ctx, &attrs))
		goto out;
	t = damon_new_target();
	if (!t)
		goto out;
	damon_add_target(ctx, t);
	s = fuzz_scheme(DAMOS_PAGEOUT);
	if (s)
		damon_add_scheme(ctx, s);
	s = fuzz_scheme(DAMOS_WILLNEED);
	if (s) {
		/* only now and then, so pages stay out for a while */
		s->apply_interval_us = 30000;
		damon_add_scheme(ctx, s);
	}
	if (damon_manual_start(ctx))
		goto out;
	/* 0.1 virtual seconds: 100 samples, 10 aggregations */
	damon_manual_run_for(ctx, 100000);
	damon_sim_phase_name(ctx, t);
	damon_sim_resident_bytes(ctx, t);
	damon_sim_refaults(ctx, t);
	damon_sim_true_wss(ctx, t, 0, &wss);
	damon_sim_true_access_rate(ctx, t, DAMON_SIM_BASE,
				   DAMON_SIM_BASE + (1UL << 30), &rate);
	damon_manual_stop(ctx);
out:
	damon_destroy_ctx(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct damon_masim_config *cfg;
	char err[256];
	int ret;

	ret = damon_masim_parse_buf((const char *)data, size, "fuzz",
				    DAMON_MASIM_RW_WO, &cfg, err, sizeof(err));
	if (ret) {
		/* a refusal always says why */
		if (ret == -EINVAL && !err[0])
			abort();
		return 0;
	}
	damon_masim_free(cfg);
	fuzz_sim(data, size);
	return 0;
}
