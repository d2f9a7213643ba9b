// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DAMOS quotas in the core: goal metrics, the goal-based tuners, the
 * effective size quota and the charge windows (spec §5.3 to §5.5).  They
 * run on the kdamond, from the application pass in damos.c.
 *
 * Map of this file:
 *   1. quotas: goal metrics, tuners, effective size, charge windows
 */
#include "core.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* 1. Quotas                                                           */
/* ------------------------------------------------------------------ */

/* Bytes per millisecond assumed before any action was timed. */
#define DAMOS_DEFAULT_THROUGHPUT (DAMON_MIN_REGION_SZ * 1024)

static atomic_bool damos_warned_goal_metric;
static atomic_bool damos_warned_goal_target;

bool damos_quota_is_set(const struct damos_quota *q)
{
	return q->esz || q->sz || q->ms || !damon_list_empty(&q->goals);
}

bool damos_quota_is_full(const struct damos_quota *q,
			 unsigned long min_region_sz)
{
	if (!damos_quota_is_set(q))
		return false;
	if (q->charged_sz >= q->esz)
		return true;
	/* Actions work on whole pages: a sub-page remainder is no room. */
	return q->esz - q->charged_sz < min_region_sz;
}

unsigned int damos_scheme_idx(struct damon_ctx *c, struct damos *s)
{
	struct damos *siter;
	unsigned int idx = 0;

	damon_for_each_scheme(siter, c) {
		if (siter == s)
			break;
		idx++;
	}
	return idx;
}

static void damos_emit_esz(struct damon_ctx *c, struct damos *s)
{
	struct damon_event ev = {
		.type = DAMON_EVENT_DAMOS_ESZ,
		.context_idx = 0,
		.scheme_idx = damos_scheme_idx(c, s),
		.esz = s->quota.esz,
		.passed_sample_intervals = c->passed_sample_intervals,
	};

	udamon__emit(c, &ev);
}

static uint64_t damos_mult_frac_u64(uint64_t x, uint64_t n, uint64_t d)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 v = (unsigned __int128)x * n / d;

	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
#else
	return x / d * n + x % d * n / d;
#endif
}

static const char *damos_metric_str(enum damos_quota_goal_metric metric)
{
	const char *name = damos_quota_goal_metric_name(metric);

	return name ? name : "?";
}

/*
 * Refresh goal->current_value.  user_input is whatever was committed; the
 * rest comes from the operations set, which reads the model or the
 * system.  A metric that cannot be read keeps its last value, so one
 * failed read does not swing the tuned quota.
 */
static void damos_update_goal_current_value(struct damon_ctx *c,
					    struct damos_quota_goal *goal)
{
	unsigned long value;
	uint64_t now_total;
	int err;

	if (goal->metric == DAMOS_QUOTA_USER_INPUT)
		return;
	err = c->ops.get_goal_metric ? c->ops.get_goal_metric(c, goal, &value) :
				       -EOPNOTSUPP;
	if (err) {
		if (!atomic_exchange(&damos_warned_goal_metric, true))
			udamon__log(DAMON_LOG_WARN,
				    "quota goal metric %s unreadable (%d)",
				    damos_metric_str(goal->metric), err);
		return;
	}
	if (goal->metric != DAMOS_QUOTA_SOME_MEM_PSI_US) {
		goal->current_value = value;
		return;
	}
	/*
	 * The hook gives the cumulative stall total; the goal wants the
	 * stall time since the last evaluation.  The first evaluation has no
	 * reference and reports the target, which leaves the quota alone.
	 */
	now_total = value;
	if (goal->last_psi_total == UINT64_MAX)
		goal->current_value = goal->target_value;
	else if (now_total >= goal->last_psi_total)
		goal->current_value =
			(unsigned long)(now_total - goal->last_psi_total);
	else
		goal->current_value = 0;
	goal->last_psi_total = now_total;
}

/* The highest goal score (least aggressive): 10000 means "on target". */
static unsigned long damos_quota_score(struct damon_ctx *c, struct damos *s)
{
	struct damos_quota_goal *goal;
	unsigned long highest = 0, score;

	damos_for_each_quota_goal(goal, &s->quota) {
		damos_update_goal_current_value(c, goal);
		if (!goal->target_value) {
			if (!atomic_exchange(&damos_warned_goal_target, true))
				udamon__log(DAMON_LOG_WARN,
					    "ignoring a goal with target 0");
			continue;
		}
		score = damon_mult_frac(goal->current_value, 10000,
					goal->target_value);
		highest = DAMON_MAX(highest, score);
	}
	return highest;
}

static void damos_tune_esz_bp(struct damon_ctx *c, struct damos *s)
{
	struct damos_quota *q = &s->quota;
	unsigned long score = damos_quota_score(c, s);

	switch (q->goal_tuner) {
	case DAMOS_QUOTA_GOAL_TUNER_CONSIST:
		q->esz_bp = damon_feed_loop_next_input(
			DAMON_MAX(q->esz_bp, 10000UL), score);
		break;
	case DAMOS_QUOTA_GOAL_TUNER_TEMPORAL:
		/* All or nothing: full speed until the goal is met. */
		if (score >= 10000)
			q->esz_bp = 0;
		else if (q->sz && q->sz <= ULONG_MAX / 10000)
			q->esz_bp = q->sz * 10000;
		else
			q->esz_bp = ULONG_MAX;
		break;
	default:
		break;
	}
}

/* Compute the effective size quota of the new charge window (§5.3.2). */
static void damos_set_effective_quota(struct damon_ctx *c, struct damos *s)
{
	struct damos_quota *q = &s->quota;
	unsigned long esz = ULONG_MAX, throughput, esz_time;

	if (!q->ms && damon_list_empty(&q->goals)) {
		q->esz = q->sz;
		return;
	}
	if (!damon_list_empty(&q->goals)) {
		damos_tune_esz_bp(c, s);
		esz = q->esz_bp / 10000;
	}
	if (q->ms) {
		if (q->total_charged_ns)
			throughput = (unsigned long)damos_mult_frac_u64(
				q->total_charged_sz, 1000000,
				q->total_charged_ns);
		else
			throughput = DAMOS_DEFAULT_THROUGHPUT;
		if (throughput > ULONG_MAX / q->ms)
			esz_time = ULONG_MAX;
		else
			esz_time = throughput * q->ms;
		esz_time = DAMON_MAX(esz_time, c->min_region_sz);
		esz = DAMON_MIN(esz, esz_time);
	}
	if (q->sz && q->sz < esz)
		esz = q->sz;
	q->esz = esz;
}

/* Access pattern check only (no score): §5.1 damos_valid_target. */
static bool damos_pattern_matches(struct damon_region *r, struct damos *s)
{
	unsigned long sz = damon_sz_region(r);
	unsigned int nr_accesses = r->nr_accesses_bp / 10000;

	return s->pattern.min_sz_region <= sz &&
	       sz <= s->pattern.max_sz_region &&
	       s->pattern.min_nr_accesses <= nr_accesses &&
	       nr_accesses <= s->pattern.max_nr_accesses &&
	       s->pattern.min_age_region <= r->age &&
	       r->age <= s->pattern.max_age_region;
}

static unsigned int damos_region_score(struct damon_ctx *c,
				       struct damon_target *t,
				       struct damon_region *r, struct damos *s)
{
	int score = c->ops.get_scheme_score(c, t, r, s);

	/* The histogram is indexed by score; never trust it blindly. */
	if (score < 0)
		return 0;
	if (score > DAMOS_MAX_SCORE)
		return DAMOS_MAX_SCORE;
	return (unsigned int)score;
}

bool damos_valid_target(struct damon_ctx *c, struct damon_target *t,
			struct damon_region *r, struct damos *s)
{
	if (!damos_pattern_matches(r, s))
		return false;
	if (!damos_quota_is_set(&s->quota) || !c->ops.get_scheme_score)
		return true;
	return damos_region_score(c, t, r, s) >= s->quota.min_score;
}

/*
 * Charge windows, effective size and the priority cut-off for a scheme
 * that is due (§5.3.1).  The window clock is the context clock in
 * milliseconds, so a virtual clock gives reproducible windows.
 */
void damos_adjust_quota(struct damon_ctx *c, struct damos *s)
{
	struct damos_quota *q = &s->quota;
	unsigned long local_hist[DAMOS_MAX_SCORE + 1];
	unsigned long *hist;
	unsigned long cumulated_sz, old_esz;
	unsigned int score, max_score = 0;
	struct damon_target *t;
	struct damon_region *r;
	uint64_t now;

	if (!q->ms && !q->sz && damon_list_empty(&q->goals))
		return;

	now = udamon__now_ms(c);
	if (!q->charged_from_set) {
		q->charged_from = now;
		q->charged_from_set = true;
		damos_set_effective_quota(c, s);
		damos_emit_esz(c, s);
	}

	if (now < q->charged_from ||
	    now - q->charged_from >= q->reset_interval) {
		if (damos_quota_is_full(q, c->min_region_sz))
			s->stat.qt_exceeds++;
		q->total_charged_sz += q->charged_sz;
		q->charged_from = now;
		q->charged_sz = 0;
		old_esz = q->esz;
		damos_set_effective_quota(c, s);
		if (q->esz != old_esz)
			damos_emit_esz(c, s);
	}

	if (!c->ops.get_scheme_score)
		return;

	/*
	 * Spend the quota on the highest-priority memory first: sum region
	 * sizes per score and find the lowest score whose cumulative size
	 * from the top still fits in esz.
	 */
	hist = c->regions_score_histogram ? c->regions_score_histogram :
					    local_hist;
	memset(hist, 0, sizeof(local_hist));
	damon_for_each_target(t, c) {
		damon_for_each_region(r, t) {
			if (!damos_pattern_matches(r, s))
				continue;
			if (damos_core_filter_out(c, t, r, s))
				continue;
			score = damos_region_score(c, t, r, s);
			hist[score] += damon_sz_region(r);
			if (score > max_score)
				max_score = score;
		}
	}
	for (cumulated_sz = 0, score = max_score;; score--) {
		cumulated_sz += hist[score];
		if (cumulated_sz >= q->esz || !score)
			break;
	}
	q->min_score = score;
}

void damos_charge_quota(struct damos_quota *q, unsigned long sz,
			unsigned long sz_applied)
{
	/*
	 * Bytes the action failed on cost only fail_charge_num/denom of
	 * their size, so a scheme whose actions mostly fail still makes
	 * progress through the address space.  An ops set may report more
	 * applied bytes than tried (whole folios); charge the tried size.
	 */
	if (!q->fail_charge_denom || sz_applied > sz)
		q->charged_sz += sz;
	else
		q->charged_sz +=
			sz_applied + damon_mult_frac(sz - sz_applied,
						     q->fail_charge_num,
						     q->fail_charge_denom);
}
