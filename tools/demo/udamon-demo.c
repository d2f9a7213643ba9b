// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamon-demo: DAMON on the simulated stairs workload, paused and resumed
 * online.
 *
 * Runs a context with the sim operations set on a real kdamond thread
 * (damon_start()) whose clock is virtual, so simulated seconds pass as
 * fast as the CPU allows.  After a while it pauses the kdamond online with
 * damon_commit_ctx() from a damon_call() callback, shows that every region,
 * counter and age stays bit-for-bit the same while the workload moves on
 * and that no aggregation happens, resumes it the same way, and finally
 * prints the regions DAMON learned with its working set size estimate next
 * to the model's ground truth.
 *
 * Usage: udamon-demo [config]   (default: configs/stairs_30secs.cfg of the
 * source tree the binary was built in, or of the working directory)
 */
#include <udamon/damon.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MiB (1UL << 20)
#define NS_PER_S 1000000000ULL
#define MAX_ROWS 2048

struct row {
	unsigned long start, end;
	unsigned int nr_accesses, last_nr_accesses, age, nr_accesses_bp;
};

struct table {
	struct row rows[MAX_ROWS];
	unsigned int nr;
	uint64_t now_ns;
	unsigned long passed_sis;
	const char *phase;
	unsigned long est_wss, true_wss;
};

struct demo {
	struct damon_ctx *ctx;
	struct damon_target *t;
	struct damon_ctx *src; /* the commit source: pause on or off */
	unsigned long nr_aggregations; /* damon_aggregated batches seen */
	/* The script, run by the kdamond; @stage is read by main(). */
	int stage;
	int err;
	uint64_t origin_ns; /* context clock when the workload started */
	uint64_t due_ns;
	unsigned long aggr_at_pause, aggr_while_paused;
	struct table before, during, after, final;
};

/* Counts damon_aggregated events: one batch per aggregation. */
static void on_event(void *arg, struct damon_ctx *ctx,
		     const struct damon_event *ev)
{
	struct demo *d = arg;

	if (ev->type == DAMON_EVENT_AGGREGATED && ev->target_idx == 0 &&
	    ev->start == damon_first_region(d->t)->ar.start)
		d->nr_aggregations++;
}

/* On the kdamond: copy the regions and the ground truth. */
static void snapshot(struct demo *d, struct table *tb)
{
	struct damon_region *r;

	tb->nr = 0;
	tb->est_wss = 0;
	damon_for_each_region(r, d->t) {
		if (tb->nr < MAX_ROWS) {
			struct row *row = &tb->rows[tb->nr++];

			row->start = r->ar.start;
			row->end = r->ar.end;
			row->nr_accesses = r->nr_accesses;
			row->last_nr_accesses = r->last_nr_accesses;
			row->age = r->age;
			row->nr_accesses_bp = r->nr_accesses_bp;
		}
		/* DAMON's estimate: what the last full window saw accessed. */
		if (r->last_nr_accesses)
			tb->est_wss += r->ar.end - r->ar.start;
	}
	tb->now_ns = damon_now_ns(d->ctx) - d->origin_ns;
	tb->passed_sis = damon_passed_sample_intervals(d->ctx);
	tb->phase = damon_sim_phase_name(d->ctx, d->t);
	if (damon_sim_true_wss(d->ctx, d->t, 0, &tb->true_wss))
		tb->true_wss = 0;
}

/* Set pause through an online commit, as the sysfs interface does. */
static int commit_pause(struct demo *d, bool pause)
{
	d->src->pause = pause;
	return damon_commit_ctx(d->ctx, d->src);
}

/*
 * The demo's script, a repeated damon_call() callback: the kdamond calls
 * it once per sample, and once per pause-loop round while paused, so every
 * step happens at an exact point of the virtual clock however fast that
 * runs, and the output is the same on every run.
 */
static int script_fn(void *data)
{
	struct demo *d = data;
	uint64_t now = damon_now_ns(d->ctx);
	int stage = __atomic_load_n(&d->stage, __ATOMIC_ACQUIRE);

	if (stage >= 5 || now < d->due_ns)
		return 0;
	switch (stage) {
	case 0:
		/*
		 * The context was started paused and without a workload, so
		 * that this script is installed before anything happens.  Now
		 * commit the source: the workload and pause off.  The
		 * workload starts at the next sample.
		 */
		d->err = commit_pause(d, false);
		d->origin_ns = now;
		/* Learn for 7.2 s: the 5 s initial phase and part of stair_0. */
		d->due_ns = now + 7200 * 1000000ULL;
		break;
	case 1: /* pause */
		d->err = commit_pause(d, true);
		snapshot(d, &d->before);
		d->aggr_at_pause = d->nr_aggregations;
		d->due_ns = now + 5 * NS_PER_S;
		break;
	case 2: /* paused for 5 s: look again, then resume */
		snapshot(d, &d->during);
		d->aggr_while_paused = d->nr_aggregations - d->aggr_at_pause;
		d->err = commit_pause(d, false);
		d->due_ns = now + 2 * NS_PER_S;
		break;
	case 3:
		snapshot(d, &d->after);
		d->due_ns = now + 4 * NS_PER_S;
		break;
	case 4:
		snapshot(d, &d->final);
		break;
	}
	if (d->err)
		stage = 4;
	__atomic_store_n(&d->stage, stage + 1, __ATOMIC_RELEASE);
	return 0;
}

static void print_table(const struct table *tb)
{
	unsigned int i;

	printf("  at %.3f s (workload phase %s), %u regions:\n",
	       (double)tb->now_ns / NS_PER_S, tb->phase ? tb->phase : "?",
	       tb->nr);
	printf("  %10s %10s %9s %6s %6s %5s\n", "start MiB", "end MiB",
	       "size KiB", "nr_acc", "last", "age");
	for (i = 0; i < tb->nr; i++) {
		const struct row *r = &tb->rows[i];

		printf("  %10.3f %10.3f %9lu %6u %6u %5u\n",
		       (double)(r->start - DAMON_SIM_BASE) / MiB,
		       (double)(r->end - DAMON_SIM_BASE) / MiB,
		       (r->end - r->start) >> 10, r->nr_accesses,
		       r->last_nr_accesses, r->age);
	}
}

static bool same_regions(const struct table *a, const struct table *b)
{
	return a->nr == b->nr &&
	       !memcmp(a->rows, b->rows, a->nr * sizeof(a->rows[0]));
}

/* configs/<name> of the tree this binary was built in, else of the cwd. */
static void default_config(char *buf, size_t len, const char *name)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		char *slash;
		int up;

		exe[n] = '\0';
		/* <repo>/<build dir>/bin/udamon-demo */
		for (up = 0; up < 3; up++) {
			slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = '\0';
		}
		if (up == 3) {
			snprintf(buf, len, "%s/configs/%s", exe, name);
			if (!access(buf, R_OK))
				return;
		}
	}
	/* Installed: the configs are in $(DATADIR)/udamon/configs. */
	snprintf(buf, len, "%s/configs/%s", UDAMON_DATADIR, name);
	if (!access(buf, R_OK))
		return;
	snprintf(buf, len, "configs/%s", name);
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static struct demo d;
	struct damon_call_control script = {
		.fn = script_fn,
		.data = &d,
		.repeat = true,
	};
	struct timespec tick = { 0, 1000000 };
	char path[PATH_MAX + 64], errbuf[512];
	struct damon_ctx *ctxs[1];
	double wall0, wall;
	bool same;
	int err;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("udamon-demo %s\n", UDAMON_VERSION);
		return 0;
	}
	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: udamon-demo [--version] [MASIM_CONFIG]\n"
		       "Pause and resume a sim context on a virtual clock and "
		       "check that\nnothing it learned is lost (default "
		       "config: stairs_30secs.cfg).\n");
		return 0;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		if (argc == 2)
			fprintf(stderr, "udamon-demo: unknown option '%s'\n",
				argv[1]);
		fprintf(stderr, "usage: %s [--version] [masim config]\n",
			argv[0]);
		return 2;
	}
	if (argc == 2)
		snprintf(path, sizeof(path), "%s", argv[1]);
	else
		default_config(path, sizeof(path), "stairs_30secs.cfg");

	d.ctx = damon_new_ctx();
	d.src = damon_new_ctx();
	d.t = damon_new_target();
	if (!d.ctx || !d.src || !d.t) {
		fprintf(stderr, "udamon-demo: out of memory\n");
		return 1;
	}
	damon_use_virtual_clock(d.ctx);
	damon_add_target(d.ctx, d.t);
	if (damon_select_ops(d.ctx, DAMON_OPS_SIM)) {
		fprintf(stderr, "udamon-demo: no sim operations set\n");
		return 1;
	}
	/*
	 * A virtual clock runs as fast as the kdamond can go, so start
	 * paused: the script below then begins before any workload time
	 * passes, and the run is the same every time.
	 */
	d.ctx->pause = true;
	damon_set_event_fn(d.ctx, on_event, &d);
	/*
	 * The commit source: the workload, the same attributes, and one
	 * target without regions, so the running target keeps the regions
	 * it learns.
	 */
	err = damon_sim_set_workload(d.src, path, errbuf, sizeof(errbuf));
	if (err) {
		fprintf(stderr, "udamon-demo: %s\n", errbuf);
		return 1;
	}
	d.src->attrs = d.ctx->attrs;
	damon_add_target(d.src, damon_new_target());

	printf("udamon demo: DAMON on the sim workload %s\n", path);
	printf("sampling %lu us, aggregation %lu us, regions %lu..%lu; "
	       "virtual clock, real kdamond thread\n",
	       d.ctx->attrs.sample_interval, d.ctx->attrs.aggr_interval,
	       d.ctx->attrs.min_nr_regions, d.ctx->attrs.max_nr_regions);

	ctxs[0] = d.ctx;
	wall0 = wall_s();
	err = damon_start(ctxs, 1, true);
	if (err) {
		fprintf(stderr, "udamon-demo: damon_start: %s\n",
			strerror(-err));
		return 1;
	}
	printf("kdamond running (tid %d)\n\n", damon_kdamond_pid(d.ctx));
	err = damon_call(d.ctx, &script);
	if (err) {
		fprintf(stderr, "udamon-demo: damon_call: %s\n",
			strerror(-err));
		damon_stop(ctxs, 1);
		return 1;
	}
	while (__atomic_load_n(&d.stage, __ATOMIC_ACQUIRE) < 5 &&
	       damon_is_running(d.ctx))
		nanosleep(&tick, NULL);
	wall = wall_s() - wall0;
	if (__atomic_load_n(&d.stage, __ATOMIC_ACQUIRE) < 5 || d.err) {
		fprintf(stderr, "udamon-demo: the script failed: %s\n",
			d.err ? strerror(-d.err) : "kdamond exited");
		if (damon_is_running(d.ctx))
			damon_stop(ctxs, 1);
		return 1;
	}
	err = damon_stop(ctxs, 1);

	printf("== paused online (damon_call + damon_commit_ctx, pause=1) "
	       "after %lu samples\n",
	       d.before.passed_sis);
	print_table(&d.before);

	same = same_regions(&d.before, &d.during);
	printf("\n== still paused, %.1f s later; meanwhile the workload moved "
	       "from %s to %s\n",
	       (double)(d.during.now_ns - d.before.now_ns) / NS_PER_S,
	       d.before.phase, d.during.phase);
	print_table(&d.during);
	printf("regions, counters and ages identical: %s; samples taken "
	       "while paused: %lu; aggregations while paused: %lu\n",
	       same ? "yes" : "NO", d.during.passed_sis - d.before.passed_sis,
	       d.aggr_while_paused);

	printf("\n== resumed (pause=0) at sample %lu; 2 s later:\n",
	       d.during.passed_sis);
	print_table(&d.after);

	printf("\n== learned regions after %.1f s of workload time\n",
	       (double)d.final.now_ns / NS_PER_S);
	print_table(&d.final);
	printf("\nworking set size: DAMON estimate %.2f MiB (regions accessed "
	       "in the last aggregation), true %.2f MiB (phase %s)\n",
	       (double)d.final.est_wss / MiB, (double)d.final.true_wss / MiB,
	       d.final.phase ? d.final.phase : "?");
	printf("%.1f s of virtual time simulated in %.3f s of wall time\n",
	       (double)damon_now_ns(d.ctx) / NS_PER_S, wall);

	damon_destroy_ctx(d.ctx);
	damon_destroy_ctx(d.src);
	if (!same || d.during.passed_sis != d.before.passed_sis ||
	    d.aggr_while_paused) {
		fprintf(stderr, "udamon-demo: the paused context changed\n");
		return 1;
	}
	return err ? 1 : 0;
}
