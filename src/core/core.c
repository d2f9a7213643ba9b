// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The DAMON core: context lifecycle, the operations registry, attributes
 * and their auto-tuning, online commit, the context clock and PRNG.
 *
 * Map of this file:
 *   1. logging, events, clock, PRNG
 *   2. operations registry and keywords
 *   3. contexts and attributes (§1.3, §6.1)
 *   4. feedback loop and intervals auto-tuning (§4)
 *   5. commit (§6.2)
 *
 * Regions and their adaptation are in regions.c; damon_call(), the
 * kdamond loop and start/stop in kdamond.c.
 *
 * Section numbers refer to the specification udamon follows (see
 * docs/design.md for a summary in our words).
 */
#include "core.h"
#include "sys/alloc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef UDAMON_HAVE_SDT
#include <sys/sdt.h>
#endif

/* ------------------------------------------------------------------ */
/* 1. Logging, events, clock, PRNG                                     */
/* ------------------------------------------------------------------ */

static damon_log_fn damon_log_cb;
static void *damon_log_arg;
static pthread_mutex_t damon_log_lock = PTHREAD_MUTEX_INITIALIZER;

void damon_set_log_fn(damon_log_fn fn, void *arg)
{
	pthread_mutex_lock(&damon_log_lock);
	damon_log_cb = fn;
	damon_log_arg = arg;
	pthread_mutex_unlock(&damon_log_lock);
}

void udamon__log(enum damon_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	pthread_mutex_lock(&damon_log_lock);
	if (damon_log_cb) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		damon_log_cb(damon_log_arg, level, msg);
	}
	pthread_mutex_unlock(&damon_log_lock);
}

void damon_set_event_fn(struct damon_ctx *ctx, damon_event_fn fn, void *arg)
{
	ctx->event_fn = fn;
	ctx->event_arg = arg;
}

/*
 * Every event goes to the USDT probe of the kernel tracepoint's name
 * (provider "damon") and to the context's event callback.
 */
void udamon__emit(struct damon_ctx *ctx, struct damon_event *ev)
{
	ev->passed_sample_intervals = ctx->passed_sample_intervals;
#ifdef UDAMON_HAVE_SDT
	switch (ev->type) {
	case DAMON_EVENT_AGGREGATED:
		DTRACE_PROBE6(damon, damon_aggregated, ev->target_idx,
			      ev->nr_regions, ev->start, ev->end,
			      ev->nr_accesses, ev->age);
		break;
	case DAMON_EVENT_DAMOS_BEFORE_APPLY:
		DTRACE_PROBE8(damon, damos_before_apply, ev->context_idx,
			      ev->scheme_idx, ev->target_idx, ev->nr_regions,
			      ev->start, ev->end, ev->nr_accesses, ev->age);
		break;
	case DAMON_EVENT_DAMOS_ESZ:
		DTRACE_PROBE3(damon, damos_esz, ev->context_idx, ev->scheme_idx,
			      ev->esz);
		break;
	case DAMON_EVENT_DAMOS_STAT_AFTER_APPLY_INTERVAL:
		DTRACE_PROBE9(damon, damos_stat_after_apply_interval,
			      ev->context_idx, ev->scheme_idx,
			      ev->stat.nr_tried, ev->stat.sz_tried,
			      ev->stat.nr_applied, ev->stat.sz_applied,
			      ev->stat.sz_ops_filter_passed,
			      ev->stat.qt_exceeds, ev->stat.nr_snapshots);
		break;
	case DAMON_EVENT_MONITOR_INTERVALS_TUNE:
		DTRACE_PROBE1(damon, damon_monitor_intervals_tune,
			      ev->sample_us);
		break;
	case DAMON_EVENT_REGION_AGGREGATED:
		DTRACE_PROBE11(damon, damon_region_aggregated, ev->target_idx,
			       ev->nr_regions, ev->start, ev->end,
			       ev->nr_accesses, ev->age, ev->nr_probes,
			       ev->probe_hits[0], ev->probe_hits[1],
			       ev->probe_hits[2], ev->probe_hits[3]);
		break;
	case DAMON_EVENT_TARGET_EXEC:
		DTRACE_PROBE2(damon, udamon_target_exec, ev->target_idx,
			      ev->pid);
		break;
	default:
		break;
	}
#endif
	if (ctx->event_fn)
		ctx->event_fn(ctx->event_arg, ctx, ev);
}

static uint64_t damon_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void damon_use_virtual_clock(struct damon_ctx *ctx)
{
	ctx->virtual_clock = true;
	__atomic_store_n(&ctx->virtual_now_ns, 0, __ATOMIC_RELAXED);
}

uint64_t damon_now_ns(struct damon_ctx *ctx)
{
	if (ctx->virtual_clock)
		return __atomic_load_n(&ctx->virtual_now_ns, __ATOMIC_RELAXED);
	return damon_monotonic_ns();
}

void damon_clock_advance(struct damon_ctx *ctx, uint64_t ns)
{
	if (ctx->virtual_clock)
		__atomic_fetch_add(&ctx->virtual_now_ns, ns, __ATOMIC_RELAXED);
}

uint64_t udamon__now_ms(struct damon_ctx *ctx)
{
	return damon_now_ns(ctx) / 1000000;
}

/*
 * Whether someone waits on the kdamond: a queued call that is not a
 * repeat one (its caller blocks until it is served) or an installed walk
 * (a paused or inactive kdamond cancels it).  Repeat controls stay queued
 * forever, so they must not count, or the pause loop would never sleep.
 * Called with ctx->lock held.
 */
static bool damon_has_waiter(struct damon_ctx *ctx)
{
	struct damon_call_control *control;

	if (ctx->walk_control)
		return true;
	damon_list_for_each_entry(control, &ctx->call_controls, list) {
		if (!control->repeat)
			return true;
	}
	return false;
}

void udamon__sleep_us(struct damon_ctx *ctx, unsigned long us,
		      bool wake_on_call)
{
	uint64_t deadline_ns;
	unsigned long call_seq;
	struct timespec ts;

	if (ctx->virtual_clock) {
		damon_clock_advance(ctx, (uint64_t)us * 1000);
		return;
	}
	deadline_ns = damon_monotonic_ns() + (uint64_t)us * 1000;
	ts.tv_sec = deadline_ns / 1000000000ULL;
	ts.tv_nsec = deadline_ns % 1000000000ULL;
	pthread_mutex_lock(&ctx->lock);
	call_seq = ctx->call_seq;
	while (!ctx->stop_requested) {
		/*
		 * A caller that queued its call (or walk) before this sleep
		 * began must not wait for the whole interval: the wake-up
		 * it sent was lost while the kdamond was not yet waiting.
		 * A repeat call queued during the sleep ends it once too.
		 */
		if (wake_on_call &&
		    (damon_has_waiter(ctx) || ctx->call_seq != call_seq))
			break;
		if (pthread_cond_timedwait(&ctx->cond, &ctx->lock, &ts) ==
		    ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&ctx->lock);
}

unsigned long damon_rand(struct damon_ctx *ctx, unsigned long l,
			 unsigned long r)
{
	return damon_rand_inline(ctx, l, r);
}

/* ------------------------------------------------------------------ */
/* 2. Operations registry and keywords                                 */
/* ------------------------------------------------------------------ */

static struct damon_operations damon_registered_ops[NR_DAMON_OPS];
static bool damon_ops_registered[NR_DAMON_OPS];
static pthread_mutex_t damon_ops_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const damon_ops_names[NR_DAMON_OPS] = {
	[DAMON_OPS_VADDR] = "vaddr", [DAMON_OPS_FVADDR] = "fvaddr",
	[DAMON_OPS_PADDR] = "paddr", [DAMON_OPS_SIM] = "sim",
	[DAMON_OPS_APP] = "app",
};

const char *damon_ops_name(enum damon_ops_id id)
{
	if ((unsigned int)id >= NR_DAMON_OPS)
		return NULL;
	return damon_ops_names[id];
}

int damon_ops_from_name(const char *name, enum damon_ops_id *id)
{
	int i;

	for (i = 0; i < NR_DAMON_OPS; i++) {
		if (!strcmp(name, damon_ops_names[i])) {
			*id = (enum damon_ops_id)i;
			return 0;
		}
	}
	return -EINVAL;
}

int damon_register_ops(struct damon_operations *ops)
{
	int err = 0;

	if ((unsigned int)ops->id >= NR_DAMON_OPS)
		return -EINVAL;
	pthread_mutex_lock(&damon_ops_lock);
	if (damon_ops_registered[ops->id]) {
		err = -EINVAL;
	} else {
		damon_registered_ops[ops->id] = *ops;
		damon_ops_registered[ops->id] = true;
	}
	pthread_mutex_unlock(&damon_ops_lock);
	return err;
}

int damon_unregister_ops(enum damon_ops_id id)
{
	int err = 0;

	if ((unsigned int)id >= NR_DAMON_OPS)
		return -EINVAL;
	pthread_mutex_lock(&damon_ops_lock);
	if (!damon_ops_registered[id])
		err = -EINVAL;
	damon_ops_registered[id] = false;
	pthread_mutex_unlock(&damon_ops_lock);
	return err;
}

bool damon_is_registered_ops(enum damon_ops_id id)
{
	bool registered;

	if ((unsigned int)id >= NR_DAMON_OPS)
		return false;
	pthread_mutex_lock(&damon_ops_lock);
	registered = damon_ops_registered[id];
	pthread_mutex_unlock(&damon_ops_lock);
	return registered;
}

int damon_select_ops(struct damon_ctx *ctx, enum damon_ops_id id)
{
	int err = 0;

	if ((unsigned int)id >= NR_DAMON_OPS)
		return -EINVAL;
	pthread_mutex_lock(&damon_ops_lock);
	if (!damon_ops_registered[id])
		err = -EINVAL;
	else
		ctx->ops = damon_registered_ops[id];
	pthread_mutex_unlock(&damon_ops_lock);
	return err;
}

bool damon_target_has_pid(const struct damon_ctx *ctx)
{
	return ctx->ops.id == DAMON_OPS_VADDR ||
	       ctx->ops.id == DAMON_OPS_FVADDR;
}

/* ------------------------------------------------------------------ */
/* 3. Contexts and attributes                                          */
/* ------------------------------------------------------------------ */

struct damon_ctx *damon_new_ctx(void)
{
	struct damon_ctx *ctx = udamon__calloc(1, sizeof(*ctx));
	pthread_condattr_t cattr;

	if (!ctx)
		return NULL;
	ctx->attrs.sample_interval = 5 * 1000;
	ctx->attrs.aggr_interval = 100 * 1000;
	ctx->attrs.ops_update_interval = 60 * 1000 * 1000;
	ctx->attrs.min_nr_regions = 10;
	ctx->attrs.max_nr_regions = 1000;
	ctx->attrs.aggr_samples = 20;
	ctx->addr_unit = 1;
	ctx->min_region_sz = DAMON_MIN_REGION_SZ;
	ctx->rnd_seed = 42;
	ctx->rnd_state = ctx->rnd_seed;
	damon_list_init(&ctx->adaptive_targets);
	damon_list_init(&ctx->schemes);
	damon_list_init(&ctx->probes);
	damon_list_init(&ctx->call_controls);
	/*
	 * As in the newest kernels, a context that never ran refuses calls
	 * and walks instead of letting them wait forever.
	 */
	ctx->call_controls_obsolete = true;
	ctx->walk_control_obsolete = true;
	ctx->kdamond_tid = -1;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&ctx->cond, &cattr);
	pthread_condattr_destroy(&cattr);
	return ctx;
}

/* Destroy a context that is not running, with everything it owns. */
void damon_destroy_ctx(struct damon_ctx *ctx)
{
	struct damon_target *t, *next;

	if (!ctx)
		return;
	damon_join_kdamond(ctx);
	damon_for_each_target_safe(t, next, ctx)
		damon_destroy_target(t, ctx);
	udamon__damos_destroy_all(ctx);
	udamon__destroy_probes(ctx);
	udamon__checkpoint_forget(ctx); /* udamon checkpoint hook */
	if (ctx->ops.free_priv)
		ctx->ops.free_priv(ctx);
	free(ctx->regions_score_histogram);
	pthread_cond_destroy(&ctx->cond);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

unsigned int damon_nr_samples_per_aggr(const struct damon_attrs *attrs)
{
	unsigned long sample = attrs->sample_interval ? attrs->sample_interval :
							1;
	unsigned long nr = attrs->aggr_interval / sample;

	/* A zero window would divide by zero in the moving sums. */
	if (!nr)
		return 1;
	return nr > UINT_MAX ? UINT_MAX : (unsigned int)nr;
}

unsigned long damon_passed_sample_intervals(const struct damon_ctx *ctx)
{
	return ctx->passed_sample_intervals;
}

static unsigned int damon_accesses_to_bp(unsigned int nr_accesses,
					 const struct damon_attrs *attrs)
{
	return (unsigned int)damon_mult_frac(nr_accesses, 10000,
					     damon_nr_samples_per_aggr(attrs));
}

static unsigned int damon_bp_to_accesses(unsigned int bp,
					 const struct damon_attrs *attrs)
{
	return (unsigned int)damon_mult_frac(
		bp, damon_nr_samples_per_aggr(attrs), 10000);
}

static unsigned int damon_nr_accesses_for_new_attrs(unsigned int nr,
						    struct damon_attrs *old,
						    struct damon_attrs *new)
{
	return damon_bp_to_accesses(damon_accesses_to_bp(nr, old), new);
}

static unsigned char damon_probe_hits_for_new_attrs(unsigned char hits,
						    struct damon_attrs *old,
						    struct damon_attrs *new)
{
	unsigned int v = damon_nr_accesses_for_new_attrs(hits, old, new);

	return v > UCHAR_MAX ? UCHAR_MAX : (unsigned char)v;
}

void damon_update_monitoring_result(struct damon_region *r,
				    struct damon_attrs *old_attrs,
				    struct damon_attrs *new_attrs,
				    bool aggregating)
{
	int i;

	if (!aggregating) {
		r->nr_accesses = damon_nr_accesses_for_new_attrs(
			r->nr_accesses, old_attrs, new_attrs);
		r->nr_accesses_bp = r->nr_accesses * 10000;
	} else {
		/*
		 * In the middle of a window the current count mixes two
		 * intervals; keep the last complete one, rescaled.
		 */
		r->last_nr_accesses = damon_nr_accesses_for_new_attrs(
			r->last_nr_accesses, old_attrs, new_attrs);
		r->nr_accesses_bp = r->last_nr_accesses * 10000;
		r->nr_accesses = 0;
	}
	/*
	 * Probe hits as the newest kernels rescale them: the last window
	 * always, the current one unless it is half done (then it restarts).
	 */
	for (i = 0; i < DAMON_MAX_PROBES; i++) {
		r->last_probe_hits[i] = damon_probe_hits_for_new_attrs(
			r->last_probe_hits[i], old_attrs, new_attrs);
		r->probe_hits[i] = aggregating ? 0 :
						 damon_probe_hits_for_new_attrs(
							 r->probe_hits[i],
							 old_attrs, new_attrs);
	}
	r->age = (unsigned int)((unsigned long)r->age *
				old_attrs->aggr_interval /
				new_attrs->aggr_interval);
}

static void damon_update_monitoring_results(struct damon_ctx *ctx,
					    struct damon_attrs *new_attrs,
					    bool aggregating)
{
	struct damon_attrs *old_attrs = &ctx->attrs;
	struct damon_target *t;
	struct damon_region *r;

	/* Nothing to rescale from or to a zero interval. */
	if (!old_attrs->sample_interval || !old_attrs->aggr_interval ||
	    !new_attrs->sample_interval || !new_attrs->aggr_interval)
		return;
	damon_for_each_target(t, ctx)
		damon_for_each_region(r, t)
			damon_update_monitoring_result(r, old_attrs, new_attrs,
						       aggregating);
}

static bool damon_valid_intervals_goal(struct damon_attrs *attrs)
{
	struct damon_intervals_goal *goal = &attrs->intervals_goal;

	if (!goal->aggrs)
		return true;
	if (goal->min_sample_us > goal->max_sample_us)
		return false;
	if (attrs->sample_interval < goal->min_sample_us ||
	    goal->max_sample_us < attrs->sample_interval)
		return false;
	return true;
}

/*
 * damon_set_attrs() without the probe check: a commit validates the probes
 * of its source as a whole and sets attrs while the destination still has
 * its old probes.
 */
static int __damon_set_attrs(struct damon_ctx *ctx, struct damon_attrs *attrs,
			     bool check_probes)
{
	unsigned long sample_interval =
		attrs->sample_interval ? attrs->sample_interval : 1;
	struct damos *s;
	bool aggregating;

	if (!damon_valid_intervals_goal(attrs))
		return -EINVAL;
	if (check_probes && !damon_valid_probe_params(ctx, attrs))
		return -EINVAL;
	if (attrs->min_nr_regions < 3)
		return -EINVAL;
	if (attrs->min_nr_regions > attrs->max_nr_regions)
		return -EINVAL;
	if (attrs->sample_interval > attrs->aggr_interval)
		return -EINVAL;

	if (!attrs->aggr_samples)
		attrs->aggr_samples = attrs->aggr_interval / sample_interval;

	/* Evaluated before the schedule moves, with the old intervals. */
	aggregating = ctx->passed_sample_intervals < ctx->next_aggregation_sis;
	ctx->next_aggregation_sis = ctx->passed_sample_intervals +
				    attrs->aggr_interval / sample_interval;
	ctx->next_ops_update_sis = ctx->passed_sample_intervals +
				   attrs->ops_update_interval / sample_interval;

	damon_update_monitoring_results(ctx, attrs, aggregating);
	ctx->attrs = *attrs;

	damon_for_each_scheme(s, ctx)
		damos_set_next_apply_sis(s, ctx);
	return 0;
}

int damon_set_attrs(struct damon_ctx *ctx, struct damon_attrs *attrs)
{
	return __damon_set_attrs(ctx, attrs, true);
}

/* ------------------------------------------------------------------ */
/* 4. Feedback loop and intervals auto-tuning                          */
/* ------------------------------------------------------------------ */

/*
 * One step of the feedback loop shared by quota goals and intervals
 * tuning: the goal is a score of 10000; the input grows while the score is
 * below it and shrinks (to at least 10000) while it is above, by the
 * relative distance.
 */
unsigned long damon_feed_loop_next_input(unsigned long last_input,
					 unsigned long score)
{
	const unsigned long goal = 10000, min_input = 10000;
	unsigned long score_goal_diff, compensation;
	bool over_achieving = score > goal;

	if (score == goal)
		return last_input;
	if (score >= goal * 2)
		return min_input;

	score_goal_diff = over_achieving ? score - goal : goal - score;
	if (last_input < ULONG_MAX / score_goal_diff)
		compensation = last_input * score_goal_diff / 10000;
	else
		compensation = last_input / 10000 * score_goal_diff;

	if (over_achieving)
		return last_input > compensation + min_input ?
			       last_input - compensation :
			       min_input;
	if (last_input < ULONG_MAX - compensation)
		return last_input + compensation;
	return ULONG_MAX;
}

void kdamond_tune_intervals(struct damon_ctx *c)
{
	struct damon_intervals_goal *goal = &c->attrs.intervals_goal;
	unsigned long events = 0, max_events = 0, target, score_bp;
	unsigned long adaptation_bp, new_sample;
	struct damon_attrs new_attrs;
	struct damon_target *t;
	struct damon_region *r;
	struct damon_event ev = { .type = DAMON_EVENT_MONITOR_INTERVALS_TUNE };

	damon_for_each_target(t, c) {
		damon_for_each_region(r, t) {
			unsigned long sz = damon_sz_region(r);

			events += sz * r->nr_accesses;
			max_events += sz * c->attrs.aggr_samples;
		}
	}
	target = damon_mult_frac(max_events, goal->access_bp, 10000);
	if (!target)
		target = 1;
	score_bp = damon_mult_frac(events, 10000, target);
	adaptation_bp = damon_feed_loop_next_input(100000000, score_bp) / 10000;
	/* Never shrink by more than half at once. */
	if (adaptation_bp <= 10000)
		adaptation_bp = 5000 + adaptation_bp / 2;
	if (adaptation_bp == 10000)
		return;

	new_attrs = c->attrs;
	new_sample =
		damon_mult_frac(c->attrs.sample_interval, adaptation_bp, 10000);
	new_sample = DAMON_MIN(new_sample, goal->max_sample_us);
	new_sample = DAMON_MAX(new_sample, goal->min_sample_us);
	new_attrs.sample_interval = new_sample;
	new_attrs.aggr_interval = new_sample * c->attrs.aggr_samples;
	ev.sample_us = new_sample;
	udamon__emit(c, &ev);
	if (damon_set_attrs(c, &new_attrs))
		udamon__log(
			DAMON_LOG_WARN,
			"intervals tuning produced invalid attrs (sample %lu us)",
			new_sample);
}

/* ------------------------------------------------------------------ */
/* 5. Commit                                                           */
/* ------------------------------------------------------------------ */

bool damon_is_power_of_2(unsigned long x)
{
	return x && !(x & (x - 1));
}

int damon_commit_target_regions(struct damon_target *dst,
				struct damon_target *src,
				unsigned long src_min_region_sz)
{
	struct damon_addr_range *ranges;
	struct damon_region *r;
	unsigned int i = 0;
	int err;

	/* No regions in the source: keep what the destination learned. */
	if (!damon_nr_regions(src))
		return 0;
	ranges = udamon__calloc(damon_nr_regions(src), sizeof(*ranges));
	if (!ranges)
		return -ENOMEM;
	damon_for_each_region(r, src) {
		/* Contiguous source regions make one range. */
		if (i && ranges[i - 1].end == r->ar.start)
			ranges[i - 1].end = r->ar.end;
		else
			ranges[i++] = r->ar;
	}
	err = damon_set_regions(dst, ranges, i, src_min_region_sz);
	free(ranges);
	return err;
}

static int damon_commit_target(struct damon_ctx *dst_ctx,
			       struct damon_target *dst,
			       struct damon_target *src,
			       unsigned long src_min_region_sz)
{
	int err;

	err = damon_commit_target_regions(dst, src, src_min_region_sz);
	if (err)
		return err;
	/* A different process: what the ops held for the old one is stale. */
	if (dst->pid != src->pid && dst_ctx->ops.cleanup_target)
		dst_ctx->ops.cleanup_target(dst);
	dst->pid = src->pid;
	return 0;
}

static int damon_commit_targets(struct damon_ctx *dst, struct damon_ctx *src)
{
	struct damon_target *dst_target, *next, *src_target, *new_target;
	int i = 0, j = 0, err;

	damon_for_each_target_safe(dst_target, next, dst) {
		src_target = damon_nth_target(i++, src);
		if (src_target && !src_target->obsolete) {
			err = damon_commit_target(dst, dst_target, src_target,
						  src->min_region_sz);
			if (err)
				return err;
		} else {
			udamon__damos_forget_target(dst, dst_target);
			damon_destroy_target(dst_target, dst);
		}
	}

	damon_for_each_target(src_target, src) {
		if (j++ < i)
			continue;
		/* An obsolete target must have a destination to remove. */
		if (src_target->obsolete)
			return -EINVAL;
		new_target = damon_new_target();
		if (!new_target)
			return -ENOMEM;
		err = damon_commit_target(dst, new_target, src_target,
					  src->min_region_sz);
		if (err) {
			damon_destroy_target(new_target, NULL);
			return err;
		}
		damon_add_target(dst, new_target);
	}
	return 0;
}

static bool damon_attrs_equals(const struct damon_attrs *a,
			       const struct damon_attrs *b)
{
	const struct damon_intervals_goal *ig = &a->intervals_goal;
	const struct damon_intervals_goal *jg = &b->intervals_goal;

	/* aggr_samples is derived, so it does not count. */
	return a->sample_interval == b->sample_interval &&
	       a->aggr_interval == b->aggr_interval &&
	       a->ops_update_interval == b->ops_update_interval &&
	       a->min_nr_regions == b->min_nr_regions &&
	       a->max_nr_regions == b->max_nr_regions &&
	       ig->access_bp == jg->access_bp && ig->aggrs == jg->aggrs &&
	       ig->min_sample_us == jg->min_sample_us &&
	       ig->max_sample_us == jg->max_sample_us;
}

/*
 * Ask the operations set whether @ctx can run here (e.g. whether an access
 * source can serve its targets), logging the reason when it cannot.
 */
int damon_check_ops_ctx(struct damon_ctx *ctx)
{
	char why[sizeof(ctx->refusal)] = "";
	int err;

	ctx->refusal[0] = '\0';
	if (!ctx->ops.check_ctx)
		return 0;
	err = ctx->ops.check_ctx(ctx, why, sizeof(why));
	if (err) {
		snprintf(ctx->refusal, sizeof(ctx->refusal), "%s",
			 why[0] ? why : "cannot monitor this context");
		udamon__log(DAMON_LOG_ERR, "%s: %s",
			    damon_ops_name(ctx->ops.id) ?
				    damon_ops_name(ctx->ops.id) :
				    "operations set",
			    ctx->refusal);
	}
	return err;
}

const char *damon_refusal(const struct damon_ctx *ctx)
{
	return ctx ? ctx->refusal : "";
}

static int __damon_commit_ctx(struct damon_ctx *dst, struct damon_ctx *src)
{
	int err;

	dst->maybe_corrupted = true;
	if (!damon_is_power_of_2(src->min_region_sz))
		return -EINVAL;
	err = udamon__damos_validate(src);
	if (err)
		return err;
	if (!damon_valid_probe_params(src, &src->attrs))
		return -EINVAL;
	err = damos_commit_schemes(dst, src);
	if (err)
		return err;
	err = damon_commit_targets(dst, src);
	if (err)
		return err;
	if (!damon_attrs_equals(&dst->attrs, &src->attrs)) {
		struct damon_attrs attrs = src->attrs;

		err = __damon_set_attrs(dst, &attrs, false);
		if (err)
			return err;
	}
	dst->pause = src->pause;
	dst->auto_pause = src->auto_pause; /* udamon auto-pause */
	/* Private data of another operations set cannot be kept. */
	if (dst->ops_priv && dst->ops.id != src->ops.id) {
		if (dst->ops.free_priv)
			dst->ops.free_priv(dst);
		dst->ops_priv = NULL;
	}
	dst->ops = src->ops;
	if (dst->ops.commit_priv) {
		err = dst->ops.commit_priv(dst, src);
		if (err)
			return err;
	}
	err = damon_commit_probes(dst, src);
	if (err)
		return err;
	dst->addr_unit = src->addr_unit;
	dst->min_region_sz = src->min_region_sz;
	dst->maybe_corrupted = false;
	return 0;
}

/*
 * As the newest kernels do, first commit @dst and then @src into a scratch
 * context: only if both succeed is @src committed into @dst.  So invalid
 * parameters are refused with @dst untouched and still running, instead of
 * leaving it half-updated and making its kdamond exit.
 */
int damon_commit_ctx(struct damon_ctx *dst, struct damon_ctx *src)
{
	struct damon_ctx *test_ctx;
	int err;

	test_ctx = damon_new_ctx();
	if (!test_ctx)
		return -ENOMEM;
	err = __damon_commit_ctx(test_ctx, dst);
	if (!err)
		err = __damon_commit_ctx(test_ctx, src);
	if (!err)
		err = damon_check_ops_ctx(test_ctx);
	/* Both sides say why: the caller may hold either. */
	snprintf(dst->refusal, sizeof(dst->refusal), "%s", test_ctx->refusal);
	snprintf(src->refusal, sizeof(src->refusal), "%s", test_ctx->refusal);
	damon_destroy_ctx(test_ctx);
	if (err)
		return err;
	return __damon_commit_ctx(dst, src);
}
