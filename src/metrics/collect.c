// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Copy what a scrape shows out of a damon_ctx.  The copy is taken where the
 * context cannot change (on its kdamond, or stopped) and costs one pass
 * over the regions; everything that reads /proc is done later, on the copy,
 * with no lock held.
 */
#include "metrics/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const double metrics_access_bounds[METRICS_NR_ACCESS_BUCKETS] = {
	0, 0.05, 0.1, 0.25, 0.5, 0.75, 1,
};

const double metrics_age_bounds[METRICS_NR_AGE_BUCKETS] = {
	1, 5, 10, 30, 60, 300, 1800, 3600,
};

static unsigned int bucket_of(const double *bounds, unsigned int nr, double v)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (v <= bounds[i])
			return i;
	return nr;
}

static void collect_target(struct damon_ctx *ctx, struct damon_target *t,
			   struct metrics_target *mt)
{
	unsigned int samples = damon_nr_samples_per_aggr(&ctx->attrs);
	double aggr_s = (double)ctx->attrs.aggr_interval / 1e6;
	struct damon_region *r;

	mt->pid = damon_target_has_pid(ctx) ? t->pid : 0;
	mt->nr_regions = damon_nr_regions(t);
	damon_for_each_region(r, t) {
		unsigned long sz = damon_sz_region(r);
		/* the last complete aggregation, not the one in progress */
		double ratio = samples ? (double)r->last_nr_accesses / samples :
					 0;
		double age = (double)r->age * aggr_s;

		if (ratio > 1)
			ratio = 1;
		mt->monitored_bytes += sz;
		if (r->last_nr_accesses)
			mt->working_set_bytes += sz;
		mt->access_bytes[bucket_of(metrics_access_bounds,
					   METRICS_NR_ACCESS_BUCKETS, ratio)] +=
			sz;
		mt->access_sum += (double)sz * ratio;
		mt->age_bytes[bucket_of(metrics_age_bounds,
					METRICS_NR_AGE_BUCKETS, age)] += sz;
		mt->age_sum += (double)sz * age;
	}
}

static int collect_scheme(struct damos *s, struct metrics_scheme *ms)
{
	struct damos_quota_goal *g;
	unsigned int nr = 0;

	snprintf(ms->action, sizeof(ms->action), "%s",
		 damos_action_name(s->action));
	ms->stat = s->stat;
	ms->effective_quota_bytes = s->quota.esz;
	damos_for_each_quota_goal(g, &s->quota)
		nr++;
	if (!nr)
		return 0;
	ms->goals = calloc(nr, sizeof(*ms->goals));
	if (!ms->goals)
		return -ENOMEM;
	damos_for_each_quota_goal(g, &s->quota) {
		struct metrics_goal *mg = &ms->goals[ms->nr_goals++];

		snprintf(mg->metric, sizeof(mg->metric), "%s",
			 damos_quota_goal_metric_name(g->metric));
		mg->target_value = g->target_value;
		mg->current_value = g->current_value;
	}
	return 0;
}

int metrics_collect_ctx(struct damon_ctx *ctx, const char *kdamond,
			unsigned int context, struct metrics_context *out)
{
	struct damon_target *t;
	struct damos *s;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	snprintf(out->kdamond, sizeof(out->kdamond), "%s", kdamond);
	out->context = context;
	out->kdamond_tid = -1;
	out->cpu_seconds = -1;
	out->paused = ctx->pause;
	out->auto_paused = damon_auto_paused(ctx);
	out->paused_seconds[0] = (double)damon_paused_ns(ctx, false) / 1e9;
	out->paused_seconds[1] = (double)damon_paused_ns(ctx, true) / 1e9;
	snprintf(out->ops, sizeof(out->ops), "%s", damon_ops_name(ctx->ops.id));
	snprintf(out->access_source, sizeof(out->access_source), "%s",
		 damon_access_source_name(ctx));
	out->sample_us = ctx->attrs.sample_interval;
	out->aggr_us = ctx->attrs.aggr_interval;
	out->update_us = ctx->attrs.ops_update_interval;
	out->passed_sample_intervals = ctx->passed_sample_intervals;

	out->nr_targets = damon_nr_targets(ctx);
	out->nr_schemes = damon_nr_schemes(ctx);
	if (out->nr_targets) {
		out->targets = calloc(out->nr_targets, sizeof(*out->targets));
		if (!out->targets)
			goto nomem;
	}
	if (out->nr_schemes) {
		out->schemes = calloc(out->nr_schemes, sizeof(*out->schemes));
		if (!out->schemes)
			goto nomem;
	}
	i = 0;
	damon_for_each_target(t, ctx)
		collect_target(ctx, t, &out->targets[i++]);
	i = 0;
	damon_for_each_scheme(s, ctx)
		if (collect_scheme(s, &out->schemes[i++]))
			goto nomem;
	return 0;
nomem:
	metrics_context_release(out);
	return -ENOMEM;
}

/*
 * The CPU time of thread @tid of this process, in seconds: schedstat's
 * nanoseconds when the kernel keeps them, else stat's user and system
 * clock ticks (a sim kdamond often uses less than one tick per second).
 */
static double thread_cpu_seconds(int tid)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	unsigned long long ns;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	f = fopen(path, "re");
	if (f) {
		int got = fscanf(f, "%llu", &ns);

		fclose(f);
		if (got == 1)
			return (double)ns / 1e9;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields follow the last ')' */
	p = strrchr(buf, ')');
	if (!p || hz <= 0)
		return -1;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt */
	/* cmajflt utime stime: fields 3..15 of stat(5) */
	if (sscanf(p + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)hz;
}

static void read_comm(int pid, char *comm, size_t len)
{
	char path[64];
	size_t n;
	FILE *f;

	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(comm, 1, len - 1, f);
	fclose(f);
	comm[n] = '\0';
	if (n && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
}

void metrics_add_proc_info(struct metrics_context *mc)
{
	unsigned int i;

	if (mc->kdamond_tid > 0)
		mc->cpu_seconds = thread_cpu_seconds(mc->kdamond_tid);
	for (i = 0; i < mc->nr_targets; i++)
		if (mc->targets[i].pid > 0)
			read_comm(mc->targets[i].pid, mc->targets[i].comm,
				  sizeof(mc->targets[i].comm));
}

void metrics_context_release(struct metrics_context *mc)
{
	unsigned int i;

	for (i = 0; mc->schemes && i < mc->nr_schemes; i++)
		free(mc->schemes[i].goals);
	free(mc->schemes);
	free(mc->targets);
	mc->schemes = NULL;
	mc->targets = NULL;
	mc->nr_schemes = 0;
	mc->nr_targets = 0;
}

void metrics_set_release(struct metrics_set *set)
{
	unsigned int i;

	for (i = 0; i < set->nr; i++)
		metrics_context_release(&set->ctxs[i]);
	free(set->ctxs);
	set->ctxs = NULL;
	set->nr = 0;
	set->stale = false;
}

void metrics_set_move(struct metrics_set *dst, struct metrics_set *src)
{
	metrics_set_release(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

static int context_copy(struct metrics_context *dst,
			const struct metrics_context *src)
{
	unsigned int i;

	*dst = *src;
	dst->targets = NULL;
	dst->schemes = NULL;
	dst->nr_targets = 0;
	dst->nr_schemes = 0;
	if (src->nr_targets) {
		dst->targets = malloc(src->nr_targets * sizeof(*dst->targets));
		if (!dst->targets)
			return -ENOMEM;
		memcpy(dst->targets, src->targets,
		       src->nr_targets * sizeof(*dst->targets));
		dst->nr_targets = src->nr_targets;
	}
	if (src->nr_schemes) {
		dst->schemes = calloc(src->nr_schemes, sizeof(*dst->schemes));
		if (!dst->schemes)
			return -ENOMEM;
		dst->nr_schemes = src->nr_schemes;
	}
	for (i = 0; i < src->nr_schemes; i++) {
		const struct metrics_scheme *s = &src->schemes[i];
		struct metrics_scheme *d = &dst->schemes[i];

		*d = *s;
		d->goals = NULL;
		d->nr_goals = 0;
		if (!s->nr_goals)
			continue;
		d->goals = malloc(s->nr_goals * sizeof(*d->goals));
		if (!d->goals)
			return -ENOMEM;
		memcpy(d->goals, s->goals, s->nr_goals * sizeof(*d->goals));
		d->nr_goals = s->nr_goals;
	}
	return 0;
}

int metrics_set_copy(struct metrics_set *dst, const struct metrics_set *src)
{
	unsigned int i;

	memset(dst, 0, sizeof(*dst));
	dst->stale = src->stale;
	for (i = 0; i < src->nr; i++) {
		struct metrics_context *mc = metrics_set_add(dst);

		if (!mc || context_copy(mc, &src->ctxs[i])) {
			metrics_set_release(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

struct metrics_context *metrics_set_add(struct metrics_set *set)
{
	struct metrics_context *ctxs;

	ctxs = realloc(set->ctxs, (set->nr + 1) * sizeof(*ctxs));
	if (!ctxs)
		return NULL;
	set->ctxs = ctxs;
	memset(&ctxs[set->nr], 0, sizeof(*ctxs));
	ctxs[set->nr].kdamond_tid = -1;
	ctxs[set->nr].cpu_seconds = -1;
	return &ctxs[set->nr++];
}
