// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The DAMON core: object lifecycle, the operations registry, adaptive
 * regions, attributes and their auto-tuning, the kdamond loop with its pause
 * loop, online commit, damon_call(), the context clock and PRNG.
 *
 * Map of this file:
 *   1. logging, events, clock, PRNG
 *   2. operations registry and keywords
 *   3. regions and targets
 *   4. contexts and attributes (§1.3, §6.1)
 *   5. region adaptation: set_regions (§3.7), merge (§3.1), split (§3.2),
 *      min_nr_regions (§3.4), access rate (§3.6)
 *   6. feedback loop and intervals auto-tuning (§4)
 *   7. commit (§6.2)
 *   8. damon_call (§6.3)
 *   9. the kdamond: init, one iteration or pause round, exit (§2)
 *  10. start/stop, threads, manual driving
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

/* splitmix64: tiny, fast, and every seed (even 0) gives a good stream. */
static uint64_t damon_prng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

unsigned long damon_rand(struct damon_ctx *ctx, unsigned long l,
			 unsigned long r)
{
	if (r <= l)
		return l;
	return l + (unsigned long)(damon_prng_next(&ctx->rnd_state) % (r - l));
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
/* 3. Regions and targets                                              */
/* ------------------------------------------------------------------ */

struct damon_region *damon_new_region(unsigned long start, unsigned long end)
{
	struct damon_region *r = udamon__calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ar.start = start;
	r->ar.end = end;
	damon_list_init(&r->list);
	return r;
}

void damon_add_region(struct damon_region *r, struct damon_target *t)
{
	damon_list_add_tail(&r->list, &t->regions_list);
	t->nr_regions++;
}

/* Insert @r between the adjacent @prev and @next of @t. */
void damon_insert_region(struct damon_region *r, struct damon_region *prev,
			 struct damon_region *next, struct damon_target *t)
{
	damon__list_insert(&r->list, &prev->list, &next->list);
	t->nr_regions++;
}

void damon_destroy_region(struct damon_region *r, struct damon_target *t)
{
	damon_list_del(&r->list);
	t->nr_regions--;
	free(r);
}

struct damon_region *damon_first_region(struct damon_target *t)
{
	if (damon_list_empty(&t->regions_list))
		return NULL;
	return damon_list_entry(t->regions_list.next, struct damon_region,
				list);
}

struct damon_region *damon_last_region(struct damon_target *t)
{
	if (damon_list_empty(&t->regions_list))
		return NULL;
	return damon_list_entry(t->regions_list.prev, struct damon_region,
				list);
}

bool damon_is_last_region(struct damon_region *r, struct damon_target *t)
{
	return r->list.next == &t->regions_list;
}

unsigned long damon_sz_region(const struct damon_region *r)
{
	return r->ar.end - r->ar.start;
}

unsigned int damon_nr_regions(struct damon_target *t)
{
	return t->nr_regions;
}

struct damon_target *damon_new_target(void)
{
	struct damon_target *t = udamon__calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	damon_list_init(&t->regions_list);
	damon_list_init(&t->list);
	return t;
}

void damon_add_target(struct damon_ctx *ctx, struct damon_target *t)
{
	damon_list_add_tail(&t->list, &ctx->adaptive_targets);
}

bool damon_targets_empty(struct damon_ctx *ctx)
{
	return damon_list_empty(&ctx->adaptive_targets);
}

/*
 * Unlink @t from its context (if any), let the operations set of @ctx (if
 * given) release what it holds for it, and free it with its regions.
 */
void damon_destroy_target(struct damon_target *t, struct damon_ctx *ctx)
{
	struct damon_region *r, *next;

	if (ctx && ctx->ops.cleanup_target)
		ctx->ops.cleanup_target(t);
	damon_list_del(&t->list);
	damon_for_each_region_safe(r, next, t)
		damon_destroy_region(r, t);
	free(t);
}

unsigned int damon_nr_targets(struct damon_ctx *ctx)
{
	struct damon_target *t;
	unsigned int nr = 0;

	damon_for_each_target(t, ctx)
		nr++;
	return nr;
}

struct damon_target *damon_nth_target(int n, struct damon_ctx *ctx)
{
	struct damon_target *t;
	int i = 0;

	damon_for_each_target(t, ctx) {
		if (i++ == n)
			return t;
	}
	return NULL;
}

int damon_target_idx(struct damon_ctx *ctx, struct damon_target *t)
{
	struct damon_target *iter;
	int i = 0;

	damon_for_each_target(iter, ctx) {
		if (iter == t)
			return i;
		i++;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* 4. Contexts and attributes                                          */
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

static bool damon_join_kdamond(struct damon_ctx *ctx);

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
/* 5. Region adaptation                                                */
/* ------------------------------------------------------------------ */

static bool damon_intersect(struct damon_region *r, struct damon_addr_range *re)
{
	return !(r->ar.end <= re->start || re->end <= r->ar.start);
}

/*
 * Fill the holes between @first and @last (inclusive, in @t's list) with
 * new regions, so that the covered range has no gap:
 *
 *   [first]   [r]  [last]    ->   [first][new][r][new][last]
 */
static int damon_fill_regions_holes(struct damon_region *first,
				    struct damon_region *last,
				    struct damon_target *t)
{
	struct damon_region *r = first;

	while (r != last) {
		struct damon_region *next = damon_next_region(r);

		if (r->ar.end != next->ar.start) {
			struct damon_region *newr =
				damon_new_region(r->ar.end, next->ar.start);

			if (!newr)
				return -ENOMEM;
			damon_insert_region(newr, r, next, t);
		}
		r = next;
	}
	return 0;
}

int damon_set_regions(struct damon_target *t, struct damon_addr_range *ranges,
		      unsigned int nr_ranges, unsigned long min_region_sz)
{
	struct damon_region *r, *next;
	unsigned long prev_end = 0;
	unsigned int i;
	int err;

	if (!min_region_sz)
		return -EINVAL;
	/* Validate everything first, so a bad input changes nothing. */
	for (i = 0; i < nr_ranges; i++) {
		unsigned long start =
			DAMON_ALIGN_DOWN(ranges[i].start, min_region_sz);
		unsigned long end = DAMON_ALIGN(ranges[i].end, min_region_sz);

		if (start >= end || end < ranges[i].end)
			return -EINVAL;
		if (i && prev_end > start)
			return -EINVAL;
		prev_end = end;
	}

	/* Remove regions that intersect none of the new ranges. */
	damon_for_each_region_safe(r, next, t) {
		bool hit = false;

		for (i = 0; i < nr_ranges; i++) {
			if (damon_intersect(r, &ranges[i])) {
				hit = true;
				break;
			}
		}
		if (!hit)
			damon_destroy_region(r, t);
	}

	r = damon_list_entry(t->regions_list.next, struct damon_region, list);
	/* Extend or shrink the remaining regions to fit in the ranges. */
	for (i = 0; i < nr_ranges; i++) {
		struct damon_region *first = NULL, *last = NULL, *newr;
		struct damon_addr_range *range = &ranges[i];

		/* Get the first and last regions which intersect the range */
		damon_for_each_region_from(r, t) {
			if (r->ar.start >= range->end)
				break;
			if (damon_intersect(r, range)) {
				if (!first)
					first = r;
				last = r;
			}
		}
		if (!first) {
			/* No region intersects the range; add one before r. */
			newr = damon_new_region(
				DAMON_ALIGN_DOWN(range->start, min_region_sz),
				DAMON_ALIGN(range->end, min_region_sz));
			if (!newr)
				return -ENOMEM;
			damon_insert_region(newr, damon_prev_region(r), r, t);
		} else {
			first->ar.start =
				DAMON_ALIGN_DOWN(range->start, min_region_sz);
			last->ar.end = DAMON_ALIGN(range->end, min_region_sz);
			err = damon_fill_regions_holes(first, last, t);
			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * Split @r of @t at @sz_r bytes from its start: @r keeps the head and a new
 * region for the tail, with the same counters and age, follows it.
 */
int damon_split_region_at(struct damon_target *t, struct damon_region *r,
			  unsigned long sz_r)
{
	struct damon_region *new;

	new = damon_new_region(r->ar.start + sz_r, r->ar.end);
	if (!new)
		return -ENOMEM;
	r->ar.end = new->ar.start;
	new->age = r->age;
	new->last_nr_accesses = r->last_nr_accesses;
	new->nr_accesses_bp = r->nr_accesses_bp;
	new->nr_accesses = r->nr_accesses;
	memcpy(new->probe_hits, r->probe_hits, sizeof(r->probe_hits));
	memcpy(new->last_probe_hits, r->last_probe_hits,
	       sizeof(r->last_probe_hits));
	damon_insert_region(new, r, damon_next_region(r), t);
	return 0;
}

/* Merge @r into its left neighbour @l, weighting by size. */
void damon_merge_two_regions(struct damon_target *t, struct damon_region *l,
			     struct damon_region *r)
{
	unsigned long sz_l = damon_sz_region(l), sz_r = damon_sz_region(r);
	unsigned long sz = sz_l + sz_r;
	int i;

	/* As nr_accesses; the last window's hits stay the left one's. */
	for (i = 0; i < DAMON_MAX_PROBES; i++)
		l->probe_hits[i] =
			(unsigned char)(((unsigned long)l->probe_hits[i] *
						 sz_l +
					 (unsigned long)r->probe_hits[i] *
						 sz_r) /
					sz);
	l->nr_accesses = (unsigned int)(((unsigned long)l->nr_accesses * sz_l +
					 (unsigned long)r->nr_accesses * sz_r) /
					sz);
	l->nr_accesses_bp = l->nr_accesses * 10000;
	l->age = (unsigned int)(((unsigned long)l->age * sz_l +
				 (unsigned long)r->age * sz_r) /
				sz);
	l->ar.end = r->ar.end;
	damon_destroy_region(r, t);
}

static unsigned int damon_diff(unsigned int a, unsigned int b)
{
	return a > b ? a - b : b - a;
}

/*
 * What merging and aging compare: nr_accesses, or in attributes-only mode
 * (@ctx given) the weighted sum of probe hits.
 */
static unsigned int damon_merge_score(const struct damon_ctx *ctx,
				      const struct damon_region *r, bool last)
{
	if (ctx)
		return damon_probe_hits_wsum(ctx, r, last, false);
	return last ? r->last_nr_accesses : r->nr_accesses;
}

static void __damon_merge_regions_of(const struct damon_ctx *ctx,
				     struct damon_target *t, unsigned int thres,
				     unsigned long sz_limit, bool count_age)
{
	struct damon_region *r, *prev = NULL, *next;

	damon_for_each_region_safe(r, next, t) {
		unsigned int cur = damon_merge_score(ctx, r, false);
		unsigned int last = damon_merge_score(ctx, r, true);

		if (count_age) {
			if (damon_diff(cur, last) > thres)
				r->age = 0;
			else if ((cur == 0) != (last == 0))
				r->age = 0;
			else
				r->age++;
		}

		if (prev && prev->ar.end == r->ar.start &&
		    damon_diff(damon_merge_score(ctx, prev, false), cur) <=
			    thres &&
		    damon_sz_region(prev) + damon_sz_region(r) <= sz_limit)
			damon_merge_two_regions(t, prev, r);
		else
			prev = r;
	}
}

void damon_merge_regions_of(struct damon_target *t, unsigned int thres,
			    unsigned long sz_limit, bool count_age)
{
	__damon_merge_regions_of(NULL, t, thres, sz_limit, count_age);
}

void udamon__merge_regions_of(struct damon_ctx *ctx, struct damon_target *t,
			      unsigned int thres, unsigned long sz_limit,
			      bool count_age)
{
	__damon_merge_regions_of(damon_has_probe_weights(ctx) ? ctx : NULL, t,
				 thres, sz_limit, count_age);
}

/*
 * Merge adjacent regions of similar access frequency.  While there are
 * more than max_nr_regions, retry with a doubled threshold.
 *
 * Deviation from V-pause (where every pass ages regions): only the first
 * pass counts age, as the newest kernels do, so one aggregation interval
 * never ages a region twice.
 */
void kdamond_merge_regions(struct damon_ctx *c, unsigned int threshold,
			   unsigned long sz_limit)
{
	unsigned int max_thres = damon_nr_samples_per_aggr(&c->attrs);
	unsigned long nr_regions;
	struct damon_target *t;
	bool count_age = true;

	do {
		nr_regions = 0;
		damon_for_each_target(t, c) {
			udamon__merge_regions_of(c, t, threshold, sz_limit,
						 count_age);
			nr_regions += damon_nr_regions(t);
		}
		count_age = false;
		threshold = DAMON_MAX(1, threshold * 2);
	} while (nr_regions > c->attrs.max_nr_regions &&
		 threshold / 2 < max_thres);
}

void damon_split_regions_of(struct damon_ctx *ctx, struct damon_target *t,
			    int nr_subs, unsigned long min_region_sz)
{
	struct damon_region *r, *next;
	unsigned long sz_region, sz_sub = 0;
	int i;

	damon_for_each_region_safe(r, next, t) {
		sz_region = damon_sz_region(r);

		for (i = 0; i < nr_subs - 1 && sz_region > 2 * min_region_sz;
		     i++) {
			/* Randomly pick 10%-90% of the region for the left. */
			sz_sub = DAMON_ALIGN_DOWN(damon_rand(ctx, 1, 10) *
							  sz_region / 10,
						  min_region_sz);
			if (sz_sub == 0 || sz_sub >= sz_region)
				continue;
			/* Out of memory: keep the region whole this time. */
			if (damon_split_region_at(t, r, sz_sub))
				break;
			sz_region = sz_sub;
		}
	}
}

/*
 * Split every region in two (or three, when the number of regions did not
 * change since the last split and is small), unless there are already more
 * than half of max_nr_regions.  The kernel keeps last_nr_regions in a
 * function-static shared by all contexts; udamon keeps it per context so
 * contexts stay independent and deterministic.
 */
void kdamond_split_regions(struct damon_ctx *ctx)
{
	unsigned long nr_regions = 0;
	struct damon_target *t;
	int nr_subs = 2;

	damon_for_each_target(t, ctx)
		nr_regions += damon_nr_regions(t);
	if (nr_regions > ctx->attrs.max_nr_regions / 2)
		return;
	if (ctx->last_nr_regions == nr_regions &&
	    nr_regions < ctx->attrs.max_nr_regions / 3)
		nr_subs = 3;
	damon_for_each_target(t, ctx)
		damon_split_regions_of(ctx, t, nr_subs, ctx->min_region_sz);
	ctx->last_nr_regions = nr_regions;
}

unsigned long damon_region_sz_limit(struct damon_ctx *ctx)
{
	struct damon_target *t;
	struct damon_region *r;
	unsigned long sz = 0;

	damon_for_each_target(t, ctx)
		damon_for_each_region(r, t)
			sz += damon_sz_region(r);
	if (ctx->attrs.min_nr_regions)
		sz /= ctx->attrs.min_nr_regions;
	if (sz < ctx->min_region_sz)
		sz = ctx->min_region_sz;
	return sz;
}

/*
 * Cut every region larger than the size limit into limit-sized pieces from
 * the left, so that there are at least min_nr_regions regions.  Returns the
 * limit, which is also the largest size a merge may produce.
 */
unsigned long damon_apply_min_nr_regions(struct damon_ctx *ctx)
{
	unsigned long max_region_sz =
		DAMON_ALIGN(damon_region_sz_limit(ctx), ctx->min_region_sz);
	struct damon_target *t;
	struct damon_region *r, *next;

	damon_for_each_target(t, ctx) {
		damon_for_each_region_safe(r, next, t) {
			while (damon_sz_region(r) > max_region_sz) {
				/*
				 * Out of memory: leave the rest of @r whole
				 * (the next aggregation retries) rather than
				 * step onto the next region or the list head.
				 */
				if (damon_split_region_at(t, r, max_region_sz))
					break;
				r = damon_next_region(r);
			}
		}
	}
	return max_region_sz;
}

void damon_update_region_access_rate(struct damon_region *r, bool accessed,
				     struct damon_attrs *attrs)
{
	unsigned int len_window = 1;
	unsigned int drop;

	if (attrs->sample_interval)
		len_window = damon_nr_samples_per_aggr(attrs);
	/*
	 * Pseudo moving sum: forget one window's average of the last
	 * aggregation, add this sample.  Clamped at zero, where the kernel
	 * would wrap (and repair the value at the next reset).
	 */
	drop = r->last_nr_accesses * 10000 / len_window;
	r->nr_accesses_bp =
		r->nr_accesses_bp > drop ? r->nr_accesses_bp - drop : 0;
	if (accessed) {
		r->nr_accesses_bp += 10000;
		r->nr_accesses++;
	}
}

/* End of an aggregation window: report every region, then reset. */
void kdamond_reset_aggregated(struct damon_ctx *c)
{
	unsigned int nr_probes = damon_nr_probes(c);
	struct damon_target *t;
	struct damon_region *r;
	unsigned long ti = 0;
	int i;

	if (nr_probes > DAMON_MAX_PROBES)
		nr_probes = DAMON_MAX_PROBES;
	damon_for_each_target(t, c) {
		damon_for_each_region(r, t) {
			struct damon_event ev = {
				.type = DAMON_EVENT_AGGREGATED,
				.target_idx = ti,
				.nr_regions = t->nr_regions,
				.start = r->ar.start,
				.end = r->ar.end,
				.nr_accesses = r->nr_accesses,
				.age = r->age,
			};

			udamon__emit(c, &ev);
			/* damon_region_aggregated: the same plus probe hits */
			ev.type = DAMON_EVENT_REGION_AGGREGATED;
			ev.nr_probes = nr_probes;
			memcpy(ev.probe_hits, r->probe_hits,
			       sizeof(ev.probe_hits));
			udamon__emit(c, &ev);
			r->nr_accesses_bp = r->nr_accesses * 10000;
			r->last_nr_accesses = r->nr_accesses;
			r->nr_accesses = 0;
			for (i = 0; i < DAMON_MAX_PROBES; i++) {
				r->last_probe_hits[i] = r->probe_hits[i];
				r->probe_hits[i] = 0;
			}
		}
		ti++;
	}
}

/* ------------------------------------------------------------------ */
/* 6. Feedback loop and intervals auto-tuning                          */
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
/* 7. Commit                                                           */
/* ------------------------------------------------------------------ */

static bool damon_is_power_of_2(unsigned long x)
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
static int damon_check_ops_ctx(struct damon_ctx *ctx)
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

/* ------------------------------------------------------------------ */
/* 8. damon_call                                                       */
/* ------------------------------------------------------------------ */

/*
 * Whether the caller is the kdamond of @ctx (a manual driver, or a callback
 * running on the kdamond thread).  Called with ctx->lock held.
 */
static bool damon_on_own_kdamond(struct damon_ctx *ctx)
{
	return ctx->kdamond_running &&
	       ctx->kdamond_tid == (int)syscall(SYS_gettid);
}

int damon_call(struct damon_ctx *ctx, struct damon_call_control *control)
{
	if (!ctx || !control || !control->fn)
		return -EINVAL;
	pthread_mutex_lock(&ctx->lock);
	if (ctx->call_controls_obsolete) {
		pthread_mutex_unlock(&ctx->lock);
		return -ECANCELED;
	}
	/* The kdamond waiting for itself would never return. */
	if (!control->repeat && damon_on_own_kdamond(ctx)) {
		pthread_mutex_unlock(&ctx->lock);
		return -EDEADLK;
	}
	control->done = false;
	control->canceled = false;
	damon_list_add_tail(&control->list, &ctx->call_controls);
	ctx->call_seq++;
	pthread_cond_broadcast(&ctx->cond);
	if (control->repeat) {
		pthread_mutex_unlock(&ctx->lock);
		return 0;
	}
	while (!control->done)
		pthread_cond_wait(&ctx->cond, &ctx->lock);
	pthread_mutex_unlock(&ctx->lock);
	return control->canceled ? -ECANCELED : 0;
}

void udamon__kdamond_call(struct damon_ctx *ctx, bool cancel)
{
	struct damon_call_control *control, *next;
	struct damon_list_head controls;

	/* udamon checkpoint hook: a restore waiting for this call point. */
	if (!cancel)
		udamon__checkpoint_serve(ctx);
	/* Detach the queue: callbacks run without the lock held. */
	damon_list_init(&controls);
	pthread_mutex_lock(&ctx->lock);
	if (!damon_list_empty(&ctx->call_controls)) {
		controls.next = ctx->call_controls.next;
		controls.prev = ctx->call_controls.prev;
		controls.next->prev = &controls;
		controls.prev->next = &controls;
		damon_list_init(&ctx->call_controls);
	}
	pthread_mutex_unlock(&ctx->lock);

	damon_list_for_each_entry_safe(control, next, &controls, list) {
		if (!control->repeat || cancel)
			damon_list_del(&control->list);
		if (cancel) {
			control->canceled = true;
		} else {
			ctx->serving_calls = true; /* udamon checkpoint hook */
			control->return_code = control->fn(control->data);
			ctx->serving_calls = false;
		}

		if (!control->repeat) {
			pthread_mutex_lock(&ctx->lock);
			control->done = true;
			pthread_cond_broadcast(&ctx->cond);
			pthread_mutex_unlock(&ctx->lock);
			/* The waiter may free it from now on. */
		} else if (control->canceled && control->dealloc_on_cancel) {
			free(control);
		}
		/* A failed commit: the rest waits for the exit path. */
		if (!cancel && ctx->maybe_corrupted)
			break;
	}

	/* Put back what stays queued, ahead of calls queued meanwhile. */
	pthread_mutex_lock(&ctx->lock);
	while (!damon_list_empty(&controls)) {
		struct damon_list_head *last = controls.prev;

		damon_list_del(last);
		damon_list_add(last, &ctx->call_controls);
	}
	pthread_mutex_unlock(&ctx->lock);
}

/* ------------------------------------------------------------------ */
/* 9. The kdamond                                                      */
/* ------------------------------------------------------------------ */

bool udamon__need_stop(struct damon_ctx *ctx)
{
	struct damon_target *t;
	bool stop;

	pthread_mutex_lock(&ctx->lock);
	stop = ctx->stop_requested;
	pthread_mutex_unlock(&ctx->lock);
	if (stop)
		return true;
	if (!ctx->ops.target_valid)
		return false;
	damon_for_each_target(t, ctx) {
		if (ctx->ops.target_valid(t))
			return false;
	}
	return true;
}

static void kdamond_init_ctx(struct damon_ctx *ctx)
{
	unsigned long sample_interval =
		ctx->attrs.sample_interval ? ctx->attrs.sample_interval : 1;

	ctx->passed_sample_intervals = 0;
	ctx->next_aggregation_sis = ctx->attrs.aggr_interval / sample_interval;
	ctx->next_ops_update_sis =
		ctx->attrs.ops_update_interval / sample_interval;
	ctx->next_intervals_tune_sis =
		ctx->next_aggregation_sis * ctx->attrs.intervals_goal.aggrs;
	ctx->last_nr_regions = 0;
	ctx->in_pause_loop = false;
	ctx->rnd_state = ctx->rnd_seed;
	udamon__damos_init(ctx);
}

/* The kdamond prologue (§2.2).  Returns -ENOMEM if the exit path must run. */
static int kdamond_init(struct damon_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->call_controls_obsolete = false;
	ctx->walk_control_obsolete = false;
	ctx->kdamond_started = true;
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);

	kdamond_init_ctx(ctx);
	if (ctx->ops.init)
		ctx->ops.init(ctx);
	free(ctx->regions_score_histogram);
	ctx->regions_score_histogram =
		udamon__calloc(DAMOS_MAX_SCORE + 1, sizeof(unsigned long));
	if (!ctx->regions_score_histogram)
		return -ENOMEM;
	ctx->sz_limit = damon_apply_min_nr_regions(ctx);
	return 0;
}

/* Steps 1-7 of an iteration (§2.3).  Returns 0, or 1 to exit. */
static int kdamond_sample(struct damon_ctx *ctx, bool *waited)
{
	unsigned long sample_interval;
	unsigned int max_nr_accesses = 0;
	bool attrs_only, do_prep, at_aggr;
	int rc;

	*waited = false;
	if (udamon__need_stop(ctx))
		return 1;
	rc = udamon__wait_activation(ctx);
	if (rc == 1)
		return 1;
	if (rc == 2) {
		*waited = true;
		return 0;
	}

	ctx->iter_next_aggregation_sis = ctx->next_aggregation_sis;
	ctx->iter_next_ops_update_sis = ctx->next_ops_update_sis;
	sample_interval = ctx->attrs.sample_interval;

	/* Probe weights turn access checks off (attributes-only mode). */
	attrs_only = damon_has_probe_weights(ctx);
	do_prep = ctx->ops.prep_probes && damon_has_probe_preps(ctx);

	if (!attrs_only && ctx->ops.prepare_access_checks)
		ctx->ops.prepare_access_checks(ctx);
	if (do_prep)
		ctx->ops.prep_probes(ctx, attrs_only);
	udamon__sleep_us(ctx, sample_interval, false);
	ctx->passed_sample_intervals++;
	at_aggr = ctx->passed_sample_intervals >=
		  ctx->iter_next_aggregation_sis;
	if (!attrs_only && ctx->ops.check_accesses)
		max_nr_accesses = ctx->ops.check_accesses(ctx);
	/*
	 * Unlike the kernel, skip the hook without probes: it has nothing
	 * to count, and the sim would spend random numbers on it.
	 */
	if (ctx->ops.apply_probes && !damon_list_empty(&ctx->probes)) {
		bool want_max = at_aggr && attrs_only;
		unsigned int max_wsum = ctx->ops.apply_probes(
			ctx, attrs_only && !do_prep, want_max);

		if (want_max)
			max_nr_accesses = max_wsum;
	}
	ctx->last_max_nr_accesses = max_nr_accesses;

	if (at_aggr) {
		kdamond_merge_regions(ctx, max_nr_accesses / 10, ctx->sz_limit);
		/* Online updates may have changed min_nr_regions. */
		ctx->sz_limit = damon_apply_min_nr_regions(ctx);
	}

	udamon__kdamond_call(ctx, false);
	if (ctx->maybe_corrupted)
		return 1;
	return 0;
}

/*
 * One round of the pause loop (§2.7): cancel walks, sleep one current
 * sample interval (waking early for a new call), serve calls, check stop
 * conditions.  Returns 0, or 1 to exit.
 */
static int kdamond_pause_round(struct damon_ctx *ctx)
{
	damos_walk_cancel(ctx);
	udamon__sleep_us(ctx, ctx->attrs.sample_interval, true);
	udamon__kdamond_call(ctx, false);
	if (udamon__need_stop(ctx) || ctx->maybe_corrupted)
		return 1;
	return 0;
}

/* Steps 9-11 of an iteration (§2.3). */
static void kdamond_finish_iteration(struct damon_ctx *ctx)
{
	unsigned long next_aggregation_sis = ctx->iter_next_aggregation_sis;
	unsigned long next_ops_update_sis = ctx->iter_next_ops_update_sis;
	unsigned long sample_interval;

	if (!damon_list_empty(&ctx->schemes))
		kdamond_apply_schemes(ctx);
	else
		damos_walk_cancel(ctx);

	sample_interval =
		ctx->attrs.sample_interval ? ctx->attrs.sample_interval : 1;
	if (ctx->passed_sample_intervals >= next_aggregation_sis) {
		if (ctx->attrs.intervals_goal.aggrs &&
		    ctx->passed_sample_intervals >=
			    ctx->next_intervals_tune_sis) {
			/*
			 * Let damon_set_attrs() see that this is the end of
			 * a window, not the middle of one.
			 */
			ctx->next_aggregation_sis = next_aggregation_sis;
			ctx->next_intervals_tune_sis +=
				ctx->attrs.aggr_samples *
				ctx->attrs.intervals_goal.aggrs;
			kdamond_tune_intervals(ctx);
			sample_interval = ctx->attrs.sample_interval ?
						  ctx->attrs.sample_interval :
						  1;
		}
		ctx->next_aggregation_sis =
			next_aggregation_sis +
			ctx->attrs.aggr_interval / sample_interval;
		kdamond_reset_aggregated(ctx);
		kdamond_split_regions(ctx);
	}

	if (ctx->passed_sample_intervals >= next_ops_update_sis) {
		ctx->next_ops_update_sis =
			next_ops_update_sis +
			ctx->attrs.ops_update_interval / sample_interval;
		if (ctx->ops.update)
			ctx->ops.update(ctx);
	}
}

int damon_manual_step(struct damon_ctx *ctx)
{
	bool waited;

	if (!ctx->in_pause_loop) {
		if (kdamond_sample(ctx, &waited))
			return 1;
		if (waited)
			return 0;
		/*
		 * The pause takes effect here: after this iteration's sample
		 * (and merge) and its calls, before DAMOS.
		 */
		if (udamon__paused(ctx)) /* udamon auto-pause hook */
			ctx->in_pause_loop = true;
	}
	if (ctx->in_pause_loop) {
		if (udamon__paused(ctx)) {
			if (kdamond_pause_round(ctx))
				return 1;
			if (udamon__paused(ctx))
				return 0;
		}
		/* Resumed: the same iteration continues with DAMOS. */
		ctx->in_pause_loop = false;
	}
	kdamond_finish_iteration(ctx);
	return 0;
}

/* The exit path (§2.5). */
static void kdamond_exit(struct damon_ctx *ctx)
{
	struct damon_target *t, *next;

	damon_for_each_target_safe(t, next, ctx) {
		udamon__damos_forget_target(ctx, t);
		damon_destroy_target(t, ctx);
	}
	free(ctx->regions_score_histogram);
	ctx->regions_score_histogram = NULL;

	pthread_mutex_lock(&ctx->lock);
	ctx->call_controls_obsolete = true;
	pthread_mutex_unlock(&ctx->lock);
	udamon__kdamond_call(ctx, true);

	pthread_mutex_lock(&ctx->lock);
	ctx->walk_control_obsolete = true;
	pthread_mutex_unlock(&ctx->lock);
	damos_walk_cancel(ctx);
}

/* ------------------------------------------------------------------ */
/* 10. Start, stop, threads, manual driving                            */
/* ------------------------------------------------------------------ */

static pthread_mutex_t damon_lock = PTHREAD_MUTEX_INITIALIZER;
static int nr_running_ctxs;
static bool running_exclusive_ctxs;

static void damon_mark_stopped(struct damon_ctx *ctx)
{
	pthread_mutex_lock(&damon_lock);
	if (--nr_running_ctxs == 0)
		running_exclusive_ctxs = false;
	pthread_mutex_unlock(&damon_lock);

	pthread_mutex_lock(&ctx->lock);
	ctx->kdamond_running = false;
	ctx->kdamond_tid = -1;
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
	/* From here on the context may be destroyed by others. */
}

static void *kdamond_fn(void *arg)
{
	struct damon_ctx *ctx = arg;
	char name[16];

	snprintf(name, sizeof(name), "kdamond.%u", ctx->kdamond_idx);
	pthread_setname_np(pthread_self(), name);
	pthread_mutex_lock(&ctx->lock);
	ctx->kdamond_tid = (int)syscall(SYS_gettid);
	pthread_mutex_unlock(&ctx->lock);

	if (!kdamond_init(ctx)) {
		while (!damon_manual_step(ctx))
			;
	}
	kdamond_exit(ctx);
	damon_mark_stopped(ctx);
	return NULL;
}

/* Claim @ctx for a kdamond; the caller holds damon_lock. */
static int damon_claim(struct damon_ctx *ctx, bool manual)
{
	pthread_mutex_lock(&ctx->lock);
	if (ctx->kdamond_running) {
		pthread_mutex_unlock(&ctx->lock);
		return -EBUSY;
	}
	ctx->kdamond_running = true;
	ctx->stop_requested = false;
	ctx->kdamond_started = false;
	ctx->manual = manual;
	ctx->kdamond_idx = (unsigned int)nr_running_ctxs;
	pthread_mutex_unlock(&ctx->lock);
	nr_running_ctxs++;
	return 0;
}

static void damon_unclaim(struct damon_ctx *ctx)
{
	nr_running_ctxs--;
	pthread_mutex_lock(&ctx->lock);
	ctx->kdamond_running = false;
	pthread_mutex_unlock(&ctx->lock);
}

/*
 * Reap an ended kdamond thread.  Only the thread that starts, stops or
 * destroys the context calls this, never the kdamond itself.  Two
 * stoppers may race (a signal handler's and a user's "off"): only the one
 * that claims the thread under the lock joins it.  Returns whether this
 * caller joined it.
 */
static bool damon_join_kdamond(struct damon_ctx *ctx)
{
	bool join;

	pthread_mutex_lock(&ctx->lock);
	join = ctx->kdamond_joinable;
	ctx->kdamond_joinable = false;
	pthread_mutex_unlock(&ctx->lock);
	if (join)
		pthread_join(ctx->kdamond, NULL);
	return join;
}

static int __damon_start(struct damon_ctx *ctx)
{
	int err;

	err = damon_claim(ctx, false);
	if (err)
		return err;
	/* A kdamond that ended by itself (no valid target) is reaped here. */
	damon_join_kdamond(ctx);
	pthread_mutex_lock(&ctx->lock);
	err = pthread_create(&ctx->kdamond, NULL, kdamond_fn, ctx);
	ctx->kdamond_joinable = !err;
	pthread_mutex_unlock(&ctx->lock);
	if (err) {
		damon_unclaim(ctx);
		return -err;
	}
	pthread_mutex_lock(&ctx->lock);
	while (!ctx->kdamond_started && ctx->kdamond_running)
		pthread_cond_wait(&ctx->cond, &ctx->lock);
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}

/* Refuse parameters that cannot run, before anything starts. */
static int damon_validate_for_start(struct damon_ctx *ctx)
{
	int err;

	if (!damon_is_power_of_2(ctx->min_region_sz))
		return -EINVAL;
	if (!damon_valid_probe_params(ctx, &ctx->attrs))
		return -EINVAL;
	err = udamon__damos_validate(ctx);
	if (err)
		return err;
	return damon_check_ops_ctx(ctx);
}

int damon_start(struct damon_ctx **ctxs, int nr_ctxs, bool exclusive)
{
	int i, err = 0;

	/* Refuse invalid parameters before anything starts. */
	for (i = 0; i < nr_ctxs; i++) {
		err = damon_validate_for_start(ctxs[i]);
		if (err)
			return err;
	}
	pthread_mutex_lock(&damon_lock);
	if ((exclusive && nr_running_ctxs) ||
	    (!exclusive && running_exclusive_ctxs)) {
		pthread_mutex_unlock(&damon_lock);
		return -EBUSY;
	}
	for (i = 0; i < nr_ctxs; i++) {
		err = __damon_start(ctxs[i]);
		if (err)
			break;
	}
	if (exclusive && nr_running_ctxs)
		running_exclusive_ctxs = true;
	pthread_mutex_unlock(&damon_lock);
	return err;
}

static int __damon_stop(struct damon_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	if (!ctx->kdamond_running) {
		pthread_mutex_unlock(&ctx->lock);
		return -EPERM;
	}
	ctx->stop_requested = true;
	pthread_cond_broadcast(&ctx->cond);
	/* A manual driver stops at its next step; nobody to wait for. */
	if (ctx->manual) {
		pthread_mutex_unlock(&ctx->lock);
		return 0;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (!damon_join_kdamond(ctx)) {
		/* Another stopper joins it; wait for the exit all the same. */
		pthread_mutex_lock(&ctx->lock);
		while (ctx->kdamond_running)
			pthread_cond_wait(&ctx->cond, &ctx->lock);
		pthread_mutex_unlock(&ctx->lock);
	}
	return 0;
}

int damon_stop(struct damon_ctx **ctxs, int nr_ctxs)
{
	int i, err = 0;

	for (i = 0; i < nr_ctxs; i++) {
		err = __damon_stop(ctxs[i]);
		if (err)
			break;
	}
	return err;
}

bool damon_is_running(struct damon_ctx *ctx)
{
	bool running;

	pthread_mutex_lock(&ctx->lock);
	running = ctx->kdamond_running;
	pthread_mutex_unlock(&ctx->lock);
	return running;
}

int damon_kdamond_pid(struct damon_ctx *ctx)
{
	int tid;

	pthread_mutex_lock(&ctx->lock);
	tid = ctx->kdamond_running ? ctx->kdamond_tid : -1;
	pthread_mutex_unlock(&ctx->lock);
	return tid;
}

int damon_manual_start(struct damon_ctx *ctx)
{
	int err;

	err = damon_validate_for_start(ctx);
	if (err)
		return err;
	pthread_mutex_lock(&damon_lock);
	if (running_exclusive_ctxs) {
		pthread_mutex_unlock(&damon_lock);
		return -EBUSY;
	}
	err = damon_claim(ctx, true);
	pthread_mutex_unlock(&damon_lock);
	if (err)
		return err;
	ctx->kdamond = pthread_self();
	pthread_mutex_lock(&ctx->lock);
	ctx->kdamond_tid = (int)syscall(SYS_gettid);
	pthread_mutex_unlock(&ctx->lock);
	err = kdamond_init(ctx);
	if (err) {
		kdamond_exit(ctx);
		damon_mark_stopped(ctx);
	}
	return err;
}

void damon_manual_stop(struct damon_ctx *ctx)
{
	if (!damon_is_running(ctx) || !ctx->manual)
		return;
	kdamond_exit(ctx);
	damon_mark_stopped(ctx);
}

int damon_manual_run_for(struct damon_ctx *ctx, uint64_t us)
{
	uint64_t end = damon_now_ns(ctx) + us * 1000;

	while (damon_now_ns(ctx) < end) {
		if (damon_manual_step(ctx))
			return 1;
	}
	return 0;
}
