// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench_sim: how fast and how accurate DAMON is on the simulated stairs
 * and zigzag workloads.  Measures, never asserts.
 *
 * Each workload runs once through all its phases in virtual time, driven
 * thread-less with damon_manual_step() (the calling thread is the kdamond,
 * so its CPU clock is the kdamond's CPU time).  At every aggregation the
 * working set size DAMON estimates (bytes of regions with nr_accesses > 0
 * in the window just closed) is compared with the sim's ground truth
 * (damon_sim_true_wss() over one aggregation interval).  "steady" leaves
 * out the first second of every phase, where any monitor lags.
 *
 * With -x N[,N...] every workload also runs with its regions N times
 * larger (same patterns, strides and phases: each page is touched N times
 * less often), to see that the sim's cost follows DAMON's regions rather
 * than the modelled size.
 *
 * Usage: bench_sim [-s seed] [-d configs_dir] [-x scales] [config ...]
 */
#include <udamon/damon.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024.0 * 1024.0)
#define MAX_WINDOWS 100000

struct probe {
	unsigned long sum; /* est. WSS of the window being reported */
	unsigned int nr_regions;
	unsigned long last_sis;
	bool aggregated;
};

struct result {
	double sim_s, wall_s, cpu_s;
	unsigned int nr;
	double regions[MAX_WINDOWS]; /* at aggregation: after merge */
	double split[MAX_WINDOWS]; /* right after: after split */
	double err_all[MAX_WINDOWS];
	double err_steady[MAX_WINDOWS];
	double est[MAX_WINDOWS];
	double truth[MAX_WINDOWS];
	unsigned int nr_steady;
};

static void on_event(void *arg, struct damon_ctx *ctx,
		     const struct damon_event *ev)
{
	struct probe *p = arg;

	if (ev->type != DAMON_EVENT_AGGREGATED)
		return;
	if (!p->aggregated || ev->passed_sample_intervals != p->last_sis) {
		p->sum = 0;
		p->nr_regions = 0;
		p->last_sis = ev->passed_sample_intervals;
	}
	p->aggregated = true;
	p->nr_regions++;
	if (ev->nr_accesses)
		p->sum += ev->end - ev->start;
}

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The @pct-th percentile of @v (sorted in place). */
static double pct(double *v, unsigned int nr, unsigned int p)
{
	if (!nr)
		return NAN;
	qsort(v, nr, sizeof(*v), cmp_double);
	return v[(size_t)(nr - 1) * p / 100];
}

/* Start of the phase running at @ms into the workload. */
static unsigned long long phase_start_ms(const struct damon_masim_config *cfg,
					 unsigned long long ms)
{
	unsigned long long start = 0;
	unsigned int i;

	for (i = 0; i < cfg->nr_phases; i++) {
		if (ms < start + cfg->phases[i].duration_ms)
			break;
		start += cfg->phases[i].duration_ms;
	}
	return start;
}

/* Run one pass of the workload at @path; fill @res. */
/* @cfg as masim text with every region @scale times larger. */
static char *scaled_text(const struct damon_masim_config *cfg,
			 unsigned int scale, size_t *len)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	unsigned int i, j;

	if (!f)
		return NULL;
	for (i = 0; i < cfg->nr_regions; i++)
		fprintf(f, "%s, %llu\n", cfg->regions[i].name,
			cfg->regions[i].size * scale);
	for (i = 0; i < cfg->nr_phases; i++) {
		const struct damon_masim_phase *ph = &cfg->phases[i];

		fprintf(f, "\n%s\n%llu\n", ph->name, ph->duration_ms);
		for (j = 0; j < ph->nr_patterns; j++) {
			const struct damon_masim_pattern *p = &ph->patterns[j];

			fprintf(f, "%s, %d, %llu, %u, %s\n",
				cfg->regions[p->region].name, p->random,
				p->stride, p->weight,
				damon_masim_rw_mode_name(p->mode));
		}
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	*len = sz;
	return buf;
}

static int run(const char *path, unsigned int scale, uint64_t seed,
	       struct result *res)
{
	char *text;
	size_t text_len = 0;
	struct probe probe = { 0 };
	struct damon_masim_config *cfg = NULL;
	struct damon_ctx *ctx;
	struct damon_target *t;
	char errbuf[512];
	uint64_t end_ns;
	double wall0, cpu0, truth_cpu = 0;
	int err;

	/* The parser tells the length of one pass and the phase starts. */
	err = damon_masim_parse_file(path, DAMON_MASIM_RW_WO, &cfg, errbuf,
				     sizeof(errbuf));
	if (err) {
		fprintf(stderr, "bench_sim: %s\n", errbuf);
		return err;
	}
	end_ns = damon_masim_total_ms(cfg) * 1000000ULL;

	ctx = damon_new_ctx();
	t = damon_new_target();
	if (!ctx || !t) {
		damon_masim_free(cfg);
		return -ENOMEM;
	}
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = seed;
	damon_add_target(ctx, t);
	text = scaled_text(cfg, scale, &text_len);
	err = text ? damon_sim_set_workload_buf(ctx, text, text_len, path,
						errbuf, sizeof(errbuf)) :
		     -ENOMEM;
	free(text);
	if (!err)
		err = damon_manual_start(ctx);
	if (err) {
		fprintf(stderr, "bench_sim: %s: %s\n", path,
			errbuf[0] ? errbuf : strerror(-err));
		damon_destroy_ctx(ctx);
		damon_masim_free(cfg);
		return err;
	}
	damon_set_event_fn(ctx, on_event, &probe);

	memset(res, 0, sizeof(*res));
	wall0 = now_s(CLOCK_MONOTONIC);
	cpu0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	while (damon_now_ns(ctx) < end_ns) {
		unsigned long long ms;
		unsigned long truth;
		double truth0;
		int stop, err_truth;

		probe.aggregated = false;
		stop = damon_manual_step(ctx);
		if (stop)
			break;
		if (!probe.aggregated || res->nr >= MAX_WINDOWS)
			continue;
		/*
		 * Only the kdamond's work counts, not the ground truth: its
		 * CPU time is taken out.  Reading the thread's CPU clock is
		 * a system call, so it is read around the truth (once an
		 * aggregation), not around every step, which cost about
		 * as much as the kdamond's own work at 1x.
		 */
		truth0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		err_truth = damon_sim_true_wss(ctx, t, 0, &truth);
		truth_cpu += now_s(CLOCK_THREAD_CPUTIME_ID) - truth0;
		if (err_truth || !truth)
			continue;
		res->regions[res->nr] = probe.nr_regions;
		res->split[res->nr] = damon_nr_regions(t);
		res->est[res->nr] = (double)probe.sum;
		res->truth[res->nr] = (double)truth;
		res->err_all[res->nr] =
			fabs((double)probe.sum - (double)truth) / (double)truth;
		ms = damon_now_ns(ctx) / 1000000;
		if (ms - phase_start_ms(cfg, ms) >= 1000)
			res->err_steady[res->nr_steady++] =
				res->err_all[res->nr];
		res->nr++;
	}
	res->cpu_s = now_s(CLOCK_THREAD_CPUTIME_ID) - cpu0 - truth_cpu;
	res->wall_s = now_s(CLOCK_MONOTONIC) - wall0;
	res->sim_s = (double)damon_now_ns(ctx) / 1e9;
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	damon_masim_free(cfg);
	return 0;
}

/* configs/ of the tree this binary was built in, else of the cwd. */
static void default_dir(char *buf, size_t len)
{
	char exe[PATH_MAX - 16];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		char *slash;
		int up;

		exe[n] = '\0';
		/* <repo>/<build dir>/bench/bench_sim */
		for (up = 0; up < 3; up++) {
			slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = '\0';
		}
		if (up == 3) {
			snprintf(buf, len, "%s/configs", exe);
			if (!access(buf, R_OK))
				return;
		}
	}
	snprintf(buf, len, "configs");
}

int main(int argc, char **argv)
{
	static const char *const defaults[] = {
		"stairs.cfg",
		"stairs_30secs.cfg",
		"zigzag.cfg",
		"zigzag_30secs.cfg",
	};
	static struct result res;
	const char *const *names = defaults;
	char dir[PATH_MAX + 16], path[PATH_MAX + 300];
	unsigned long long seed = 42;
	int nr = (int)(sizeof(defaults) / sizeof(defaults[0]));
	unsigned int scales[8] = { 1 }, nr_scales = 1, k;
	int opt, i, failed = 0;

	dir[0] = '\0';
	while ((opt = getopt(argc, argv, "s:d:x:h")) != -1) {
		switch (opt) {
		case 'x': {
			char *p = optarg, *end;

			for (nr_scales = 0; *p && nr_scales < 8; nr_scales++) {
				unsigned long v = strtoul(p, &end, 10);

				if (end == p || !v || v > 100000 ||
				    (*end && *end != ',')) {
					fprintf(stderr,
						"bench_sim: bad -x '%s'\n",
						optarg);
					return 2;
				}
				scales[nr_scales] = (unsigned int)v;
				p = *end ? end + 1 : end;
			}
			break;
		}
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			snprintf(dir, sizeof(dir), "%s", optarg);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-s seed] [-d configs_dir] "
				"[-x scale,...] [config ...]\n",
				argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		names = (const char *const *)&argv[optind];
		nr = argc - optind;
	}
	if (!dir[0])
		default_dir(dir, sizeof(dir));

	printf("# bench_sim: sim operations set, default attributes (5 ms "
	       "sampling, 100 ms aggregation, 10..1000 regions), seed %llu\n",
	       seed);
	printf("# one pass of each workload in virtual time, driven "
	       "thread-less (the caller is the kdamond)\n");
	printf("# WSS error = |estimate - truth| / truth per aggregation; "
	       "steady = 1 s or more into a phase\n");
	printf("# regions: at aggregations (after merging; what records "
	       "show), and the range right after the split that follows\n");
	printf("| %-17s | %5s | %8s | %8s | %-17s | %-9s | %8s | %8s | "
	       "%8s | %-15s |\n",
	       "workload", "sim s", "sim s/s", "CPU ms/s",
	       "regions min/med/max", "split", "err med", "err p90", "stdy med",
	       "WSS med est/true");
	printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "-------------------",
	       "-------", "----------", "----------", "---------------------",
	       "-----------", "----------", "----------", "----------",
	       "------------------");
	for (i = 0; i < nr * (int)nr_scales; i++) {
		char label[64];
		double rmin, rmed, rmax, smin, smax, emed, e90, smed, west,
			wtrue;
		int err;

		k = (unsigned int)i % nr_scales;
		if (strchr(names[i / nr_scales], '/'))
			snprintf(path, sizeof(path), "%s",
				 names[i / nr_scales]);
		else
			snprintf(path, sizeof(path), "%s/%s", dir,
				 names[i / nr_scales]);
		snprintf(label, sizeof(label), "%s%s%.0u%s",
			 names[i / nr_scales], scales[k] > 1 ? " x" : "",
			 scales[k] > 1 ? scales[k] : 0, "");
		err = run(path, scales[k], seed, &res);
		if (err) {
			failed++;
			continue;
		}
		rmin = pct(res.regions, res.nr, 0);
		rmed = pct(res.regions, res.nr, 50);
		rmax = pct(res.regions, res.nr, 100);
		smin = pct(res.split, res.nr, 0);
		smax = pct(res.split, res.nr, 100);
		emed = pct(res.err_all, res.nr, 50);
		e90 = pct(res.err_all, res.nr, 90);
		smed = pct(res.err_steady, res.nr_steady, 50);
		west = pct(res.est, res.nr, 50) / MiB;
		wtrue = pct(res.truth, res.nr, 50) / MiB;
		printf("| %-17s | %5.1f | %8.0f | %8.3f | %5.0f/%5.0f/%5.0f   "
		       "| %4.0f-%-4.0f | %8.4f | %8.4f | %8.4f | %6.2f/%6.2f MiB "
		       "|\n",
		       label, res.sim_s,
		       res.wall_s > 0 ? res.sim_s / res.wall_s : INFINITY,
		       res.sim_s > 0 ? res.cpu_s * 1000 / res.sim_s : 0, rmin,
		       rmed, rmax, smin, smax, emed, e90, smed, west, wtrue);
	}
	return failed ? 1 : 0;
}
