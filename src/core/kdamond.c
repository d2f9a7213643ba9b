// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The DAMON core's kdamond: damon_call(), the kdamond loop with its pause
 * loop, and starting, stopping and manually driving contexts.
 *
 * Map of this file:
 *   1. damon_call (§6.3)
 *   2. the kdamond: init, one iteration or pause round, exit (§2)
 *   3. start/stop, threads, manual driving
 *
 * Section numbers in parentheses refer to the specification udamon
 * follows (see docs/design.md for a summary in our words).
 */
#include "core.h"
#include "sys/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* 1. damon_call                                                       */
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
/* 2. The kdamond                                                      */
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
	ctx->paused_ns[0] = ctx->paused_ns[1] = 0;
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

/*
 * Time in the pause loop, charged to who holds the pause now (the user's
 * pause wins over auto pause, as it does for resuming).  Called where
 * the pause takes effect (@ctx->pause_mark_ns starts there), after each
 * round and at the resume.
 */
static void kdamond_account_paused(struct damon_ctx *ctx)
{
	uint64_t now = damon_now_ns(ctx);
	bool automatic = !ctx->pause && ctx->auto_paused;

	if (now > ctx->pause_mark_ns)
		ctx->paused_ns[automatic] += now - ctx->pause_mark_ns;
	ctx->pause_mark_ns = now;
}

uint64_t damon_paused_ns(struct damon_ctx *ctx, bool automatic)
{
	uint64_t ns;

	if (!ctx)
		return 0;
	ns = ctx->paused_ns[automatic];
	/* The pause in progress, up to now. */
	if (ctx->in_pause_loop &&
	    automatic == (!ctx->pause && ctx->auto_paused)) {
		uint64_t now = damon_now_ns(ctx);

		if (now > ctx->pause_mark_ns)
			ns += now - ctx->pause_mark_ns;
	}
	return ns;
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
		if (udamon__paused(ctx)) { /* udamon auto-pause hook */
			ctx->in_pause_loop = true;
			ctx->pause_mark_ns = damon_now_ns(ctx);
		}
	}
	if (ctx->in_pause_loop) {
		if (udamon__paused(ctx)) {
			int stop = kdamond_pause_round(ctx);

			kdamond_account_paused(ctx);
			if (stop)
				return 1;
			if (udamon__paused(ctx))
				return 0;
		}
		/* Resumed: the same iteration continues with DAMOS. */
		kdamond_account_paused(ctx);
		ctx->in_pause_loop = false;
	}
	kdamond_finish_iteration(ctx);
	return 0;
}

/* The exit path (§2.5). */
static void kdamond_exit(struct damon_ctx *ctx)
{
	struct damon_target *t, *next;

	/* A pause ends with the kdamond: its time stops counting here. */
	if (ctx->in_pause_loop) {
		kdamond_account_paused(ctx);
		ctx->in_pause_loop = false;
	}

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
/* 3. Start, stop, threads, manual driving                             */
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
bool damon_join_kdamond(struct damon_ctx *ctx)
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
