// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Proactive reclaim on the sim workloads: a DAMOS pageout scheme for
 * regions idle for some seconds, without quota, with a size quota, and with
 * a size quota tuned by a memory-pressure (PSI) goal, side by side in one
 * run.  Prints memory saved, bytes applied per second, refaults and the
 * kdamond's CPU time per simulated second.  It measures; it asserts
 * nothing.
 *
 * Usage: bench_reclaim [CONFIG...]   (default: stairs_30secs and
 * zigzag_30secs from the tree's configs/)
 */
#include <udamon/damon.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)
/* Two passes of the 30-second configs. */
#define RUN_SECONDS 60

enum variant { V_NONE, V_NOQUOTA, V_SZQUOTA, V_PSIGOAL, NR_VARIANTS };

static const char *const variant_names[NR_VARIANTS] = { "no scheme",
							"pageout, no quota",
							"pageout, 20 MiB/s",
							"pageout, PSI goal" };

struct result {
	double avg_resident;
	double workload_bytes;
	double applied_per_s;
	unsigned long refaults;
	double cpu_ms_per_sim_s;
	unsigned long final_esz;
};

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* pageout of regions not accessed for 2 s or more (20 aggregations). */
static struct damos *new_reclaim_scheme(enum variant v)
{
	struct damos_access_pattern pattern = {
		.min_sz_region = 4096,
		.max_sz_region = ULONG_MAX,
		.min_nr_accesses = 0,
		.max_nr_accesses = 0,
		.min_age_region = 20,
		.max_age_region = UINT_MAX,
	};
	struct damos_quota quota = { .reset_interval = 1000 };
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_NONE };
	struct damos *s;

	if (v == V_SZQUOTA || v == V_PSIGOAL)
		quota.sz = 20 << 20;
	s = damon_new_scheme(&pattern, DAMOS_PAGEOUT, 0, &quota, &wmarks, -1);
	if (!s)
		return NULL;
	if (v == V_PSIGOAL) {
		/* Accept up to 5 ms of refault stall per second. */
		struct damos_quota_goal *g =
			damos_new_quota_goal(DAMOS_QUOTA_SOME_MEM_PSI_US, 5000);

		if (!g) {
			damon_destroy_scheme(s);
			return NULL;
		}
		damos_add_quota_goal(&s->quota, g);
	}
	return s;
}

static int run(const char *path, enum variant v, struct result *res)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	struct damon_addr_range range;
	uint64_t end_ns = RUN_SECONDS * 1000000000ULL, next_probe_ns = 0;
	double cpu = 0, resident_sum = 0, cpu0;
	unsigned long nr_probes = 0;
	char errbuf[512] = "";
	unsigned int i;
	struct damos *s = NULL;
	int err;

	if (!ctx || !t) {
		damon_destroy_ctx(ctx);
		free(t);
		return -ENOMEM;
	}
	damon_use_virtual_clock(ctx);
	damon_add_target(ctx, t);
	err = damon_sim_set_workload(ctx, path, errbuf, sizeof(errbuf));
	if (!err && v != V_NONE) {
		s = new_reclaim_scheme(v);
		if (s)
			damon_add_scheme(ctx, s);
		else
			err = -ENOMEM;
	}
	if (!err)
		err = damon_manual_start(ctx);
	if (err) {
		fprintf(stderr, "bench_reclaim: %s: %s\n", path,
			errbuf[0] ? errbuf : strerror(-err));
		damon_destroy_ctx(ctx);
		return err;
	}
	memset(res, 0, sizeof(*res));
	for (i = 0; !damon_sim_workload_region(ctx, i, &range, NULL); i++)
		res->workload_bytes += (double)(range.end - range.start);

	while (damon_now_ns(ctx) < end_ns) {
		int stop;

		cpu0 = thread_cpu_s();
		stop = damon_manual_step(ctx);
		cpu += thread_cpu_s() - cpu0;
		if (stop)
			break;
		/* Sample the resident size every 100 ms of virtual time. */
		if (damon_now_ns(ctx) >= next_probe_ns) {
			resident_sum +=
				(double)damon_sim_resident_bytes(ctx, t);
			nr_probes++;
			next_probe_ns += 100000000ULL;
		}
	}
	res->avg_resident = nr_probes ? resident_sum / nr_probes : 0;
	res->refaults = damon_sim_refaults(ctx, t);
	res->cpu_ms_per_sim_s = cpu * 1000 / ((double)damon_now_ns(ctx) / 1e9);
	if (s) {
		res->applied_per_s = (double)s->stat.sz_applied / RUN_SECONDS;
		res->final_esz = s->quota.esz;
	}
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	return 0;
}

/* configs/ of the tree this binary was built in, else of the cwd. */
static void config_path(const char *name, char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	int up;

	snprintf(buf, len, "configs/%s", name);
	if (n <= 0)
		return;
	exe[n] = '\0';
	/* build/bench/bench_reclaim -> the tree is three levels up. */
	for (up = 0; up < 3; up++) {
		slash = strrchr(exe, '/');
		if (!slash)
			return;
		*slash = '\0';
	}
	if (snprintf(buf, len, "%s/configs/%s", exe, name) >= (int)len ||
	    access(buf, R_OK))
		snprintf(buf, len, "configs/%s", name);
}

int main(int argc, char **argv)
{
	static const char *const defaults[] = { "stairs_30secs.cfg",
						"zigzag_30secs.cfg" };
	int nr = argc > 1 ? argc - 1 : 2, i, v, rc = 0;
	char path[PATH_MAX + 64];

	printf("# bench_reclaim: pageout of regions idle >= 2 s on the sim "
	       "workloads, %d s of virtual time each, seed 42\n",
	       RUN_SECONDS);
	printf("# saved = workload size - average resident size; applied = "
	       "bytes paged out per second; refaults = paged-out pages "
	       "touched again\n");
	printf("| workload          | variant             | saved MiB | "
	       "saved %% | applied MiB/s | refaults | final esz MiB | "
	       "CPU ms/sim s |\n");
	printf("|-------------------|---------------------|-----------|"
	       "---------|---------------|----------|---------------|"
	       "--------------|\n");
	for (i = 0; i < nr; i++) {
		const char *name = argc > 1 ? argv[i + 1] : defaults[i];

		if (argc > 1)
			snprintf(path, sizeof(path), "%s", name);
		else
			config_path(name, path, sizeof(path));
		for (v = 0; v < NR_VARIANTS; v++) {
			struct result res;
			double saved;
			const char *base = strrchr(name, '/');

			if (run(path, (enum variant)v, &res)) {
				rc = 1;
				continue;
			}
			saved = res.workload_bytes - res.avg_resident;
			printf("| %-17s | %-19s | %9.1f | %6.1f%% | %13.2f | "
			       "%8lu | %13.1f | %12.3f |\n",
			       base ? base + 1 : name, variant_names[v],
			       saved / MIB, 100.0 * saved / res.workload_bytes,
			       res.applied_per_s / MIB, res.refaults,
			       v == V_SZQUOTA || v == V_PSIGOAL ?
				       res.final_esz / MIB :
				       0.0,
			       res.cpu_ms_per_sim_s);
		}
	}
	return rc;
}
