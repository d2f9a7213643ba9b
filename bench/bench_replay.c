// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_replay: how accurate DAMON is on real programs, replayed in the
 * sim from exact page-access traces (bench/accuracy.sh makes them with
 * valgrind's lackey and tools/lackey2trace.py).  Measures, never asserts.
 *
 * Each trace runs once in virtual time, at default attributes (5 ms
 * sampling, 100 ms aggregation, 10..1000 regions) and with interval
 * auto-tuning (goal: 4 % of the access events every 3 aggregations,
 * sampling within [1 ms, 100 ms]).  At every aggregation:
 *   estimate   bytes of regions with nr_accesses > 0 in the window closed
 *   truth      pages the trace touched in that window (since the previous
 *              aggregation)
 *   overlap    bytes of the estimate the trace touched
 * WSS error = |estimate - truth| / truth (median over windows);
 * precision = overlap / estimate and recall = overlap / truth, summed over
 * all windows (byte-weighted).
 *
 * Usage: bench_replay [-s seed] TRACE...
 */
#include <udamon/damon.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_WINDOWS 100000
#define MAX_HOT 100000

struct probe {
	unsigned long last_sis;
	bool aggregated;
	unsigned int nr_hot;
	unsigned long hot_start[MAX_HOT], hot_end[MAX_HOT];
	unsigned int nr_regions;
};

struct result {
	unsigned int nr;
	double err[MAX_WINDOWS];
	double est_sum, truth_sum, overlap_sum, regions_sum;
	double sample_us_end, aggr_us_end;
	double truth_max;
};

static void on_event(void *arg, struct damon_ctx *ctx,
		     const struct damon_event *ev)
{
	struct probe *p = arg;

	if (ev->type != DAMON_EVENT_AGGREGATED)
		return;
	if (!p->aggregated || ev->passed_sample_intervals != p->last_sis) {
		p->nr_hot = 0;
		p->nr_regions = 0;
		p->last_sis = ev->passed_sample_intervals;
	}
	p->aggregated = true;
	p->nr_regions++;
	if (ev->nr_accesses && p->nr_hot < MAX_HOT) {
		p->hot_start[p->nr_hot] = ev->start;
		p->hot_end[p->nr_hot] = ev->end;
		p->nr_hot++;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int nr)
{
	if (!nr)
		return NAN;
	qsort(v, nr, sizeof(*v), cmp_double);
	return v[nr / 2];
}

static int run(const char *path, uint64_t seed, bool tuned, struct result *res)
{
	static struct probe probe;
	struct damon_sim_workload_info info;
	struct damon_ctx *ctx;
	struct damon_target *t;
	char errbuf[512];
	uint64_t last_aggr = 0;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&probe, 0, sizeof(probe));
	ctx = damon_new_ctx();
	t = damon_new_target();
	if (!ctx || !t)
		return -ENOMEM;
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = seed;
	damon_add_target(ctx, t);
	err = damon_sim_set_workload(ctx, path, errbuf, sizeof(errbuf));
	if (err) {
		fprintf(stderr, "bench_replay: %s\n", errbuf);
		damon_destroy_ctx(ctx);
		return err;
	}
	damon_sim_workload_info(ctx, &info);
	if (tuned) {
		struct damon_attrs attrs = ctx->attrs;

		attrs.intervals_goal.access_bp = 400;
		attrs.intervals_goal.aggrs = 3;
		attrs.intervals_goal.min_sample_us = 1000;
		attrs.intervals_goal.max_sample_us = 100000;
		err = damon_set_attrs(ctx, &attrs);
	}
	if (!err)
		err = damon_manual_start(ctx);
	if (err) {
		fprintf(stderr, "bench_replay: %s: %s\n", path, strerror(-err));
		damon_destroy_ctx(ctx);
		return err;
	}
	damon_set_event_fn(ctx, on_event, &probe);
	while (damon_now_ns(ctx) < info.cycle_ns) {
		unsigned long truth, est = 0, overlap = 0, b;
		uint64_t now, window;
		unsigned int i;

		probe.aggregated = false;
		if (damon_manual_step(ctx))
			break;
		if (!probe.aggregated || res->nr >= MAX_WINDOWS)
			continue;
		now = damon_now_ns(ctx);
		window = now - last_aggr;
		last_aggr = now;
		if (!window || damon_sim_true_wss(ctx, t, window, &truth))
			continue;
		for (i = 0; i < probe.nr_hot; i++) {
			est += probe.hot_end[i] - probe.hot_start[i];
			if (!damon_sim_true_wss_range(
				    ctx, t, probe.hot_start[i],
				    probe.hot_end[i], window, &b))
				overlap += b;
		}
		res->est_sum += (double)est;
		res->truth_sum += (double)truth;
		res->overlap_sum += (double)overlap;
		res->regions_sum += probe.nr_regions;
		if ((double)truth > res->truth_max)
			res->truth_max = (double)truth;
		if (truth)
			res->err[res->nr++] =
				fabs((double)est - (double)truth) /
				(double)truth;
	}
	res->sample_us_end = (double)ctx->attrs.sample_interval;
	res->aggr_us_end = (double)ctx->attrs.aggr_interval;
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	return 0;
}

int main(int argc, char **argv)
{
	static struct result res;
	unsigned long long seed = 42;
	int opt, i, failed = 0;

	while ((opt = getopt(argc, argv, "s:h")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-s seed] TRACE...\n",
				argv[0]);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: %s [-s seed] TRACE...\n", argv[0]);
		return 2;
	}
	printf("# bench_replay: DAMON on exact page-access traces in the sim, "
	       "seed %llu\n",
	       seed);
	printf("# default: 5 ms / 100 ms, 10..1000 regions; tuned: intervals "
	       "goal 4 %% / 3 aggrs, sampling 1-100 ms\n");
	printf("# err = median |est - true| / true WSS per aggregation; "
	       "precision, recall: byte-weighted over all aggregations\n");
	printf("| %-16s | %-7s | %6s | %8s | %9s | %6s | %7s | %-13s |\n",
	       "trace", "attrs", "aggrs", "WSS err", "precision", "recall",
	       "regions", "sample/aggr end");
	printf("|------------------|---------|--------|----------|-----------|"
	       "--------|---------|-----------------|\n");
	for (i = optind; i < argc; i++) {
		const char *name = strrchr(argv[i], '/');
		int tuned;

		name = name ? name + 1 : argv[i];
		for (tuned = 0; tuned < 2; tuned++) {
			if (run(argv[i], seed, tuned, &res)) {
				failed++;
				continue;
			}
			printf("| %-16s | %-7s | %6u | %8.3f | %9.3f | %6.3f | "
			       "%7.1f | %5.0f/%-7.0f |\n",
			       name, tuned ? "tuned" : "default", res.nr,
			       median(res.err, res.nr),
			       res.est_sum ? res.overlap_sum / res.est_sum :
					     NAN,
			       res.truth_sum ? res.overlap_sum / res.truth_sum :
					       NAN,
			       res.nr ? res.regions_sum / res.nr : 0,
			       res.sample_us_end / 1000,
			       res.aggr_us_end / 1000);
			fflush(stdout);
		}
	}
	return failed ? 1 : 0;
}
