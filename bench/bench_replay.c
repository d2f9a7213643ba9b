// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_replay: how accurate DAMON is on real programs, replayed in the
 * sim from exact page-access traces (bench/accuracy.sh makes them with
 * valgrind's lackey and tools/lackey2trace.py).  Measures, never asserts.
 *
 * Each trace runs once per variant in virtual time: the defaults (5 ms
 * sampling, 100 ms aggregation, 10..1000 regions), interval auto-tuning
 * (goal: 4 % of the access events every 3 aggregations, sampling within
 * [1 ms, 100 ms]), and parameter sets a user could pick (more regions,
 * other sampling to aggregation ratios, a hot threshold above 0; see
 * variants[]).  At every aggregation:
 *   estimate   bytes of regions with nr_accesses >= the variant's hot
 *              threshold (1: nr_accesses > 0) in the window closed
 *   truth      pages the trace touched in that window (since the previous
 *              aggregation)
 *   overlap    bytes of the estimate the trace touched
 * WSS error = |estimate - truth| / truth (median over windows);
 * precision = overlap / estimate and recall = overlap / truth, summed over
 * all windows (byte-weighted).
 *
 * The truth comes from the sim (damon_sim_true_wss()); bench_replay also
 * reads the trace itself and counts the pages of every window on its own,
 * from the context's clock: "truth check" says in how many windows the two
 * differ (0 unless the sim's ground truth is not aligned with DAMON's
 * aggregation windows).  Per trace it also prints how the touched pages
 * spread over time: the share of (window, page) pairs touched in only k of
 * the window's twenty 5 ms sampling slots (what one sample per slot can
 * miss).
 *
 * Usage: bench_replay [-s seed] [-v NAME[,NAME...]] TRACE...
 *        (-v: only these variants, by the names of the table's "attrs")
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
#define PAGE 4096UL

/* A parameter set to run; the defaults are DAMON's. */
struct variant {
	const char *name;
	unsigned long sample_us, aggr_us;
	unsigned long min_nr_regions, max_nr_regions;
	bool tuned; /* intervals goal 4 % / 3 aggrs, sampling 1-100 ms */
	unsigned int hot_min; /* hot: nr_accesses >= this */
};

static const struct variant variants[] = {
	{ "default", 5000, 100000, 10, 1000, false, 1 },
	{ "tuned", 5000, 100000, 10, 1000, true, 1 },
	{ "max10k", 5000, 100000, 10, 10000, false, 1 },
	{ "min100", 5000, 100000, 100, 1000, false, 1 },
	{ "min1000", 5000, 100000, 1000, 10000, false, 1 },
	{ "hot>=2", 5000, 100000, 10, 1000, false, 2 },
	{ "min1000+hot>=2", 5000, 100000, 1000, 10000, false, 2 },
	{ "s20ms", 20000, 100000, 10, 1000, false, 1 },
	{ "s100ms", 100000, 100000, 10, 1000, false, 1 },
	{ "s100ms+min1000", 100000, 100000, 1000, 10000, false, 1 },
	{ "s20ms+min1000", 20000, 100000, 1000, 10000, false, 1 },
	{ "s20ms+min3000", 20000, 100000, 3000, 10000, false, 1 },
	/* page-sized regions on these traces: a reference, not advice */
	{ "s100ms+min20k", 100000, 100000, 20000, 40000, false, 1 },
};
#define NR_VARIANTS (sizeof(variants) / sizeof(variants[0]))

/* ---- the trace, read by the bench itself ---- */

struct trace {
	uint64_t quantum_ns;
	size_t nr; /* accesses, in time order */
	uint64_t *t_ns;
	unsigned int *pg; /* dense page index: pages[pg] */
	unsigned long *pages; /* sorted distinct page numbers */
	size_t nr_pages;
	unsigned int *stamp; /* per page: last window (+1) that counted it */
	unsigned int stamp_now;
	unsigned char *slots; /* per page: slot bits seen (distribution) */
};

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a,
		      y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static void trace_free(struct trace *tr)
{
	free(tr->t_ns);
	free(tr->pg);
	free(tr->pages);
	free(tr->stamp);
	free(tr->slots);
	memset(tr, 0, sizeof(*tr));
}

/*
 * Read the accesses of @path ("udamon-trace 1": headers, then "TIME ADDR
 * [r|w]" lines; docs/usage.md).  Only what the ground truth needs.
 */
static int trace_read(const char *path, struct trace *tr)
{
	FILE *f = fopen(path, "re");
	unsigned long *raw = NULL;
	size_t cap = 0, i, j;
	char line[256];

	memset(tr, 0, sizeof(*tr));
	tr->quantum_ns = 1000000;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long t, a;
		char *end;

		if (!strchr(line, '\n') && !feof(f)) {
			/* a long (comment) line: skip the rest of it */
			int c;

			while ((c = getc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (!strncmp(line, "quantum_ns ", 11)) {
			tr->quantum_ns = strtoull(line + 11, NULL, 10);
			continue;
		}
		if (line[0] < '0' || line[0] > '9')
			continue; /* magic, comments, other headers */
		t = strtoull(line, &end, 10);
		a = strtoull(end, NULL, 0);
		if (tr->nr == cap) {
			uint64_t *t_ns;
			unsigned long *r;

			cap = cap ? cap * 2 : 1 << 16;
			t_ns = realloc(tr->t_ns, cap * sizeof(*t_ns));
			if (t_ns)
				tr->t_ns = t_ns;
			r = realloc(raw, cap * sizeof(*r));
			if (r)
				raw = r;
			if (!t_ns || !r)
				goto nomem;
		}
		tr->t_ns[tr->nr] = t;
		raw[tr->nr++] = (unsigned long)(a / PAGE);
	}
	fclose(f);
	f = NULL;
	if (!tr->nr || !tr->quantum_ns) {
		/* nothing to measure against */
		free(raw);
		trace_free(tr);
		return -EINVAL;
	}
	tr->pages = malloc(tr->nr * sizeof(*tr->pages));
	tr->pg = malloc(tr->nr * sizeof(*tr->pg));
	if (!tr->pages || !tr->pg)
		goto nomem;
	memcpy(tr->pages, raw, tr->nr * sizeof(*raw));
	qsort(tr->pages, tr->nr, sizeof(*tr->pages), cmp_ulong);
	for (i = 0, j = 0; i < tr->nr; i++)
		if (!j || tr->pages[j - 1] != tr->pages[i])
			tr->pages[j++] = tr->pages[i];
	tr->nr_pages = j;
	for (i = 0; i < tr->nr; i++) {
		unsigned long *hit = bsearch(&raw[i], tr->pages, tr->nr_pages,
					     sizeof(*tr->pages), cmp_ulong);

		tr->pg[i] = (unsigned int)(hit - tr->pages);
	}
	tr->stamp = calloc(tr->nr_pages, sizeof(*tr->stamp));
	tr->slots = calloc(tr->nr_pages, 4);
	if (!tr->stamp || !tr->slots)
		goto nomem;
	free(raw);
	return 0;
nomem:
	if (f)
		fclose(f);
	free(raw);
	trace_free(tr);
	return -ENOMEM;
}

/*
 * Bytes of the distinct pages touched in [@a, @b): as the sim bins them,
 * a page is touched there if it has an access in a quantum overlapping it
 * (windows not on quantum boundaries, as auto-tuned ones, share the
 * quanta they cut with their neighbours; DAMON's checks see the same).
 * @pos: index of the first access not before the previous window (the
 * windows come in time order).
 */
static unsigned long trace_truth(struct trace *tr, size_t *pos, uint64_t a,
				 uint64_t b)
{
	uint64_t qa = a / tr->quantum_ns * tr->quantum_ns;
	uint64_t qb =
		(b + tr->quantum_ns - 1) / tr->quantum_ns * tr->quantum_ns;
	unsigned long n = 0;
	size_t i = *pos;

	while (i > 0 && tr->t_ns[i - 1] >= qa)
		i--;
	while (i < tr->nr && tr->t_ns[i] < qa)
		i++;
	*pos = i;
	tr->stamp_now++;
	for (; i < tr->nr && tr->t_ns[i] < qb; i++) {
		if (tr->stamp[tr->pg[i]] == tr->stamp_now)
			continue;
		tr->stamp[tr->pg[i]] = tr->stamp_now;
		n++;
	}
	return n * PAGE;
}

/*
 * hist[k - 1]: (window, page) pairs touched in exactly k of the twenty
 * 5 ms slots of the 100 ms windows.
 */
static void trace_slot_hist(struct trace *tr, double hist[20])
{
	const uint64_t win = 100000000, slot = 5000000;
	uint64_t cur = 0;
	size_t i, start = 0, k;

	memset(hist, 0, 20 * sizeof(*hist));
	for (i = 0; i <= tr->nr; i++) {
		if (i < tr->nr && tr->t_ns[i] / win == cur) {
			uint32_t *bits = (uint32_t *)tr->slots + tr->pg[i];

			*bits |= 1U << ((tr->t_ns[i] % win) / slot);
			continue;
		}
		/* window @cur ends: count, then clear its pages' bits */
		for (k = start; k < i; k++) {
			uint32_t *bits = (uint32_t *)tr->slots + tr->pg[k];

			if (*bits) {
				hist[__builtin_popcount(*bits) - 1]++;
				*bits = 0;
			}
		}
		if (i == tr->nr)
			break;
		start = i;
		cur = tr->t_ns[i] / win;
		i--;
	}
}

/* ---- DAMON's estimate ---- */

struct probe {
	unsigned long last_sis;
	bool aggregated;
	unsigned int hot_min;
	unsigned int nr_hot;
	unsigned long hot_start[MAX_HOT], hot_end[MAX_HOT];
	unsigned int nr_regions;
	unsigned long monitored;
};

struct result {
	unsigned int nr;
	double err[MAX_WINDOWS];
	double est_sum, truth_sum, overlap_sum, regions_sum, monitored_sum;
	double sample_us_end, aggr_us_end;
	unsigned int truth_mismatch;
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
		p->monitored = 0;
		p->last_sis = ev->passed_sample_intervals;
	}
	p->aggregated = true;
	p->nr_regions++;
	p->monitored += ev->end - ev->start;
	if (ev->nr_accesses >= p->hot_min && p->nr_hot < MAX_HOT) {
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

static int run(const char *path, struct trace *tr, uint64_t seed,
	       const struct variant *v, struct result *res)
{
	static struct probe probe;
	struct damon_sim_workload_info info;
	struct damon_attrs attrs;
	struct damon_ctx *ctx;
	struct damon_target *t;
	char errbuf[512];
	uint64_t last_aggr, start_ns;
	size_t pos = 0;
	int err;

	memset(res, 0, sizeof(*res));
	memset(&probe, 0, sizeof(probe));
	probe.hot_min = v->hot_min;
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
	attrs = ctx->attrs;
	attrs.sample_interval = v->sample_us;
	attrs.aggr_interval = v->aggr_us;
	attrs.min_nr_regions = v->min_nr_regions;
	attrs.max_nr_regions = v->max_nr_regions;
	if (v->tuned) {
		attrs.intervals_goal.access_bp = 400;
		attrs.intervals_goal.aggrs = 3;
		attrs.intervals_goal.min_sample_us = 1000;
		attrs.intervals_goal.max_sample_us = 100000;
	}
	err = damon_set_attrs(ctx, &attrs);
	if (!err)
		err = damon_manual_start(ctx);
	if (err) {
		fprintf(stderr, "bench_replay: %s: %s: %s\n", path, v->name,
			strerror(-err));
		damon_destroy_ctx(ctx);
		return err;
	}
	damon_set_event_fn(ctx, on_event, &probe);
	/* The workload's time 0: the context's clock when it started. */
	start_ns = damon_now_ns(ctx);
	last_aggr = start_ns;
	while (damon_now_ns(ctx) - start_ns < info.cycle_ns) {
		unsigned long truth, est = 0, overlap = 0, b, own;
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
		/*
		 * A window past the trace's end sees it start over (the sim
		 * loops a workload): not part of the trace, left out.
		 */
		if (now - start_ns > info.cycle_ns)
			break;
		if (!window || damon_sim_true_wss(ctx, t, window, &truth))
			continue;
		own = trace_truth(tr, &pos, now - window - start_ns,
				  now - start_ns);
		if (own != truth)
			res->truth_mismatch++;
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
		res->monitored_sum += (double)probe.monitored;
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

/* Whether variant @name is in the comma-separated list @only. */
static bool picked(const char *only, const char *name)
{
	size_t n = strlen(name);
	const char *p = only;

	if (!only)
		return true;
	while ((p = strstr(p, name))) {
		if ((p == only || p[-1] == ',') && (!p[n] || p[n] == ','))
			return true;
		p += n;
	}
	return false;
}

static void usage(const char *argv0)
{
	unsigned int i;

	fprintf(stderr,
		"usage: %s [-s seed] [-v NAME[,NAME...]] TRACE...\nvariants:",
		argv0);
	for (i = 0; i < NR_VARIANTS; i++)
		fprintf(stderr, " %s", variants[i].name);
	fprintf(stderr, "\n");
}

static void print_trace_info(const char *name, struct trace *tr,
			     const struct damon_sim_workload_info *info)
{
	double hist[20], sum = 0;
	int k;

	trace_slot_hist(tr, hist);
	for (k = 0; k < 20; k++)
		sum += hist[k];
	printf("# %s: %zu accesses, %.1f s, %zu pages touched (%.1f MiB) "
	       "in mappings of %.1f MiB\n",
	       name, tr->nr, (double)info->cycle_ns / 1e9, tr->nr_pages,
	       (double)tr->nr_pages * PAGE / 1048576,
	       (double)info->total_bytes / 1048576);
	printf("#   (window, page) pairs touched in k of 20 5-ms slots of "
	       "100 ms: 1: %.1f %%, 2: %.1f %%, 3-10: %.1f %%, 11-19: "
	       "%.1f %%, all 20: %.1f %%\n",
	       100 * hist[0] / sum, 100 * hist[1] / sum,
	       100 *
		       (hist[2] + hist[3] + hist[4] + hist[5] + hist[6] +
			hist[7] + hist[8] + hist[9]) /
		       sum,
	       100 *
		       (hist[10] + hist[11] + hist[12] + hist[13] + hist[14] +
			hist[15] + hist[16] + hist[17] + hist[18]) /
		       sum,
	       100 * hist[19] / sum);
}

int main(int argc, char **argv)
{
	static struct result res;
	unsigned long long seed = 42;
	const char *only = NULL;
	int opt, i, err, failed = 0;
	unsigned int v;

	while ((opt = getopt(argc, argv, "s:v:h")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'v':
			only = optarg;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(argv[0]);
		return 2;
	}
	/* Every name of -v must be a variant's. */
	for (const char *p = only; p && *p;) {
		size_t n = strcspn(p, ",");

		for (v = 0; v < NR_VARIANTS; v++)
			if (strlen(variants[v].name) == n &&
			    !strncmp(variants[v].name, p, n))
				break;
		if (v == NR_VARIANTS) {
			fprintf(stderr, "bench_replay: -v: no variant '%.*s'\n",
				(int)n, p);
			usage(argv[0]);
			return 2;
		}
		p += n + (p[n] == ',');
	}
	printf("# bench_replay: DAMON on exact page-access traces in the sim, "
	       "seed %llu\n",
	       seed);
	printf("# attrs: sN = sampling N ms (default 5), aggregation 100 ms; "
	       "minN/maxN = min/max_nr_regions (default 10/1000; min1000 "
	       "and min3000 with max 10000, min20k with max 40000); a+b: "
	       "both; hot>=N: estimate = regions with nr_accesses "
	       ">= N (default 1); tuned: intervals goal 4 %% / 3 aggrs, "
	       "sampling 1-100 ms\n");
	printf("# err = median |est - true| / true WSS per aggregation; "
	       "precision, recall: byte-weighted over all aggregations; "
	       "MiB mon: bytes DAMON's regions span; truth: windows where "
	       "the bench's own count of the trace differs from the sim's\n");
	for (i = optind; i < argc; i++) {
		const char *name = strrchr(argv[i], '/');
		struct damon_sim_workload_info info;
		struct damon_ctx *ctx;
		struct trace tr;
		char errbuf[512];

		name = name ? name + 1 : argv[i];
		err = trace_read(argv[i], &tr);
		if (err) {
			fprintf(stderr, "bench_replay: %s: cannot read: %s\n",
				argv[i],
				err == -EINVAL ?
					"no accesses, or quantum_ns 0" :
					strerror(-err));
			failed++;
			continue;
		}
		ctx = damon_new_ctx();
		if (!ctx ||
		    damon_sim_set_workload(ctx, argv[i], errbuf,
					   sizeof(errbuf)) ||
		    damon_sim_workload_info(ctx, &info)) {
			fprintf(stderr, "bench_replay: %s\n", errbuf);
			damon_destroy_ctx(ctx);
			trace_free(&tr);
			failed++;
			continue;
		}
		damon_destroy_ctx(ctx);
		print_trace_info(name, &tr, &info);
		printf("| %-14s | %-14s | %5s | %7s | %9s | %6s | %7s | %7s | "
		       "%-15s | %5s |\n",
		       "trace", "attrs", "aggrs", "WSS err", "precision",
		       "recall", "regions", "MiB mon", "sample/aggr end",
		       "truth");
		printf("|----------------|----------------|-------|---------|"
		       "-----------|--------|---------|---------|"
		       "-----------------|-------|\n");
		for (v = 0; v < NR_VARIANTS; v++) {
			if (!picked(only, variants[v].name))
				continue;
			if (run(argv[i], &tr, seed, &variants[v], &res)) {
				failed++;
				continue;
			}
			printf("| %-14s | %-14s | %5u | %7.3f | %9.3f | %6.3f | "
			       "%7.1f | %7.1f | %5.0f/%-9.0f | %5u |\n",
			       name, variants[v].name, res.nr,
			       median(res.err, res.nr),
			       res.est_sum ? res.overlap_sum / res.est_sum :
					     NAN,
			       res.truth_sum ? res.overlap_sum / res.truth_sum :
					       NAN,
			       res.nr ? res.regions_sum / res.nr : 0,
			       res.nr ? res.monitored_sum / res.nr / 1048576 :
					0,
			       res.sample_us_end / 1000, res.aggr_us_end / 1000,
			       res.truth_mismatch);
			fflush(stdout);
		}
		trace_free(&tr);
	}
	return failed ? 1 : 0;
}
