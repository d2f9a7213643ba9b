// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DAMOS (DAMON-based Operation Schemes) in the core: scheme objects, the
 * application pass of the kdamond, watermarks, core filters, statistics
 * and damos_walk() (spec §5, §6.4).  Quotas and their goal-based tuning
 * are in damos-quota.c, the commit of schemes and its validation (§6.2
 * step 4) in damos-commit.c.
 *
 * Map of this file:
 *   1. keywords (enum <-> sysfs name, generated from the header's X-macros)
 *   2. objects: filters, quota goals, schemes, migration destinations
 *   3. filters: matching, core filtering, default-reject flags
 *   4. the application pass (kdamond_apply_schemes)
 *   5. watermarks and the activation gate
 *   6. damos_walk()
 *   7. per-context helpers used by core.c
 *
 * Everything except damos_walk() runs on the kdamond (or, before start and
 * after stop, on the only thread that owns the context).  damos_walk() is
 * the one entry point other threads use; it meets the kdamond under
 * ctx->lock and sleeps on ctx->cond.
 */
#include "core.h"
#include "sys/alloc.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* 1. Keywords                                                         */
/* ------------------------------------------------------------------ */

/*
 * Designated initializers indexed by the enum values make each table line
 * up with its enum by construction; the static asserts catch a list that
 * grows without its table.
 */
#define DAMOS__KEYWORD_ENTRY(name, keyword) [name] = keyword,

/* clang-format off */
static const char *const damos_action_keywords[] = {
	DAMOS_ACTIONS(DAMOS__KEYWORD_ENTRY)
};
static const char *const damos_filter_type_keywords[] = {
	DAMOS_FILTER_TYPES(DAMOS__KEYWORD_ENTRY)
};
static const char *const damos_goal_metric_keywords[] = {
	DAMOS_QUOTA_GOAL_METRICS(DAMOS__KEYWORD_ENTRY)
};
/* clang-format on */

#define DAMOS__NR(arr) (sizeof(arr) / sizeof((arr)[0]))

_Static_assert(DAMOS__NR(damos_action_keywords) == NR_DAMOS_ACTIONS,
	       "every DAMOS action needs a keyword");
_Static_assert(DAMOS__NR(damos_filter_type_keywords) == NR_DAMOS_FILTER_TYPES,
	       "every DAMOS filter type needs a keyword");
_Static_assert(DAMOS__NR(damos_goal_metric_keywords) ==
		       NR_DAMOS_QUOTA_GOAL_METRICS,
	       "every DAMOS quota goal metric needs a keyword");

static const char *damos_keyword(const char *const *table, size_t nr,
				 unsigned int idx)
{
	return idx < nr ? table[idx] : NULL;
}

static int damos_keyword_idx(const char *const *table, size_t nr,
			     const char *name)
{
	size_t i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		if (table[i] && !strcmp(table[i], name))
			return (int)i;
	}
	return -EINVAL;
}

/**
 * damos_action_name() - the sysfs keyword of a DAMOS action.
 * @action: the action.
 *
 * Return: the keyword, or NULL for a value outside the enum.
 */
const char *damos_action_name(enum damos_action action)
{
	return damos_keyword(damos_action_keywords,
			     DAMOS__NR(damos_action_keywords),
			     (unsigned int)action);
}

/**
 * damos_action_from_name() - parse a DAMOS action keyword.
 * @name: the keyword (exact match).
 * @action: receives the action.
 *
 * Return: 0, or -EINVAL for an unknown keyword.
 */
int damos_action_from_name(const char *name, enum damos_action *action)
{
	int idx = damos_keyword_idx(damos_action_keywords,
				    DAMOS__NR(damos_action_keywords), name);

	if (idx < 0)
		return idx;
	*action = (enum damos_action)idx;
	return 0;
}

/**
 * damos_filter_type_name() - the sysfs keyword of a DAMOS filter type.
 * @type: the type.
 *
 * Return: the keyword, or NULL for a value outside the enum.
 */
const char *damos_filter_type_name(enum damos_filter_type type)
{
	return damos_keyword(damos_filter_type_keywords,
			     DAMOS__NR(damos_filter_type_keywords),
			     (unsigned int)type);
}

/**
 * damos_filter_type_from_name() - parse a DAMOS filter type keyword.
 * @name: the keyword (exact match).
 * @type: receives the type.
 *
 * Return: 0, or -EINVAL for an unknown keyword.
 */
int damos_filter_type_from_name(const char *name, enum damos_filter_type *type)
{
	int idx = damos_keyword_idx(damos_filter_type_keywords,
				    DAMOS__NR(damos_filter_type_keywords),
				    name);

	if (idx < 0)
		return idx;
	*type = (enum damos_filter_type)idx;
	return 0;
}

/**
 * damos_quota_goal_metric_name() - the sysfs keyword of a goal metric.
 * @metric: the metric.
 *
 * Return: the keyword, or NULL for a value outside the enum.
 */
const char *damos_quota_goal_metric_name(enum damos_quota_goal_metric metric)
{
	return damos_keyword(damos_goal_metric_keywords,
			     DAMOS__NR(damos_goal_metric_keywords),
			     (unsigned int)metric);
}

/**
 * damos_quota_goal_metric_from_name() - parse a goal metric keyword.
 * @name: the keyword (exact match).
 * @metric: receives the metric.
 *
 * Return: 0, or -EINVAL for an unknown keyword.
 */
int damos_quota_goal_metric_from_name(const char *name,
				      enum damos_quota_goal_metric *metric)
{
	int idx = damos_keyword_idx(damos_goal_metric_keywords,
				    DAMOS__NR(damos_goal_metric_keywords),
				    name);

	if (idx < 0)
		return idx;
	*metric = (enum damos_quota_goal_metric)idx;
	return 0;
}

/* ------------------------------------------------------------------ */
/* 2. Objects                                                          */
/* ------------------------------------------------------------------ */

/**
 * damos_new_filter() - allocate a DAMOS filter.
 * @type: what the filter tests.
 * @matching: whether it matches memory having (true) or lacking the
 *            property.
 * @allow: whether matched memory is applied (true) or skipped.
 *
 * The type-specific argument is zero; set it before adding the filter.
 *
 * Return: the filter, not linked anywhere, or NULL without memory.
 */
struct damos_filter *damos_new_filter(enum damos_filter_type type,
				      bool matching, bool allow)
{
	struct damos_filter *f = udamon__calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->type = type;
	f->matching = matching;
	f->allow = allow;
	damon_list_init(&f->list);
	return f;
}

/**
 * damos_filter_for_ops() - whether the operations set evaluates a filter
 * type (true) or the core does (false: addr, target).
 * @type: the filter type.
 *
 * Return: true for ops-handled types.
 */
bool damos_filter_for_ops(enum damos_filter_type type)
{
	switch (type) {
	case DAMOS_FILTER_TYPE_ADDR:
	case DAMOS_FILTER_TYPE_TARGET:
	case DAMOS_FILTER_TYPE_PROBE_HITS_WSUM:
		return false;
	default:
		return true;
	}
}

/**
 * damos_add_filter() - append @f to the core or ops filter list of @s,
 * depending on its type.
 * @s: the scheme, which takes ownership.
 * @f: the filter.
 */
void damos_add_filter(struct damos *s, struct damos_filter *f)
{
	if (damos_filter_for_ops(f->type))
		damon_list_add_tail(&f->list, &s->ops_filters);
	else
		damon_list_add_tail(&f->list, &s->core_filters);
}

/**
 * damos_destroy_filter() - unlink @f from its list (if any) and free it.
 * @f: the filter.
 */
void damos_destroy_filter(struct damos_filter *f)
{
	damon_list_del(&f->list);
	free(f->memcg_path);
	free(f);
}

/**
 * damos_new_quota_goal() - allocate a quota goal.
 * @metric: what the goal measures.
 * @target_value: the value to reach.
 *
 * Return: the goal, not linked anywhere, or NULL without memory.
 */
struct damos_quota_goal *
damos_new_quota_goal(enum damos_quota_goal_metric metric,
		     unsigned long target_value)
{
	struct damos_quota_goal *g = udamon__calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->metric = metric;
	g->target_value = target_value;
	/* No PSI total seen yet: the first evaluation is neutral. */
	g->last_psi_total = UINT64_MAX;
	damon_list_init(&g->list);
	return g;
}

/**
 * damos_add_quota_goal() - append @g to the goals of @q.
 * @q: the quota, which takes ownership.
 * @g: the goal.
 */
void damos_add_quota_goal(struct damos_quota *q, struct damos_quota_goal *g)
{
	damon_list_add_tail(&g->list, &q->goals);
}

/**
 * damos_destroy_quota_goal() - unlink @g from its list (if any), free it.
 * @g: the goal.
 */
void damos_destroy_quota_goal(struct damos_quota_goal *g)
{
	damon_list_del(&g->list);
	free(g->memcg_path);
	free(g);
}

/* Reset what only the core writes, so a copied quota starts fresh. */
static void damos_quota_init_private(struct damos_quota *q)
{
	q->esz = 0;
	q->total_charged_sz = 0;
	q->total_charged_ns = 0;
	q->charged_sz = 0;
	q->charged_from = 0;
	q->charged_from_set = false;
	q->charge_target_from = NULL;
	q->charge_addr_from = 0;
	q->esz_bp = 0;
	q->min_score = 0;
}

/**
 * damon_new_scheme() - allocate a scheme.
 * @pattern: regions to act on (NULL: all zero).
 * @action: what to do.
 * @apply_interval_us: how often (0: every aggregation interval).
 * @quota: limits; the public fields are copied, goals are not (add them
 *         with damos_add_quota_goal()).  NULL: no quota.
 * @wmarks: watermarks (NULL: metric none).  The scheme starts activated.
 * @target_nid: destination node for migrations.
 *
 * Return: the scheme, or NULL without memory.
 */
struct damos *damon_new_scheme(struct damos_access_pattern *pattern,
			       enum damos_action action,
			       unsigned long apply_interval_us,
			       struct damos_quota *quota,
			       struct damos_watermarks *wmarks, int target_nid)
{
	struct damos *s = udamon__calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (pattern)
		s->pattern = *pattern;
	s->action = action;
	s->apply_interval_us = apply_interval_us;
	if (quota)
		s->quota = *quota;
	damos_quota_init_private(&s->quota);
	/* The caller's goals stay the caller's. */
	damon_list_init(&s->quota.goals);
	if (wmarks)
		s->wmarks = *wmarks;
	s->wmarks.activated = true;
	s->target_nid = target_nid;
	damon_list_init(&s->core_filters);
	damon_list_init(&s->ops_filters);
	damon_list_init(&s->list);
	/* next_apply_sis is set by damon_add_scheme() and kdamond start. */
	return s;
}

/**
 * damos_set_next_apply_sis() - schedule the next application of @s one
 * apply interval (or aggregation interval) after now.
 * @s: the scheme.
 * @ctx: its context.
 */
void damos_set_next_apply_sis(struct damos *s, struct damon_ctx *ctx)
{
	unsigned long sample_interval =
		ctx->attrs.sample_interval ? ctx->attrs.sample_interval : 1;
	unsigned long apply_interval = s->apply_interval_us ?
					       s->apply_interval_us :
					       ctx->attrs.aggr_interval;

	s->next_apply_sis =
		ctx->passed_sample_intervals + apply_interval / sample_interval;
}

/**
 * damon_add_scheme() - append @s to the schemes of @ctx.
 * @ctx: the context, which takes ownership.
 * @s: the scheme.
 */
void damon_add_scheme(struct damon_ctx *ctx, struct damos *s)
{
	damon_list_add_tail(&s->list, &ctx->schemes);
	damos_set_next_apply_sis(s, ctx);
}

/**
 * damon_destroy_scheme() - unlink @s from its context (if any) and free it
 * with its goals, filters and migration destinations.
 * @s: the scheme.
 */
void damon_destroy_scheme(struct damos *s)
{
	struct damos_quota_goal *g, *g_next;
	struct damos_filter *f, *f_next;

	damos_for_each_quota_goal_safe(g, g_next, &s->quota)
		damos_destroy_quota_goal(g);
	damos_for_each_core_filter_safe(f, f_next, s)
		damos_destroy_filter(f);
	damos_for_each_ops_filter_safe(f, f_next, s)
		damos_destroy_filter(f);
	free(s->migrate_dests.node_id_arr);
	free(s->migrate_dests.weight_arr);
	damon_list_del(&s->list);
	free(s);
}

/**
 * damon_nr_schemes() - number of schemes of @ctx.
 * @ctx: the context.
 *
 * Return: the count.
 */
unsigned int damon_nr_schemes(struct damon_ctx *ctx)
{
	struct damos *s;
	unsigned int nr = 0;

	damon_for_each_scheme(s, ctx)
		nr++;
	return nr;
}

/*
 * Make @dst hold a copy of @nr node ids and weights.  New arrays are
 * allocated before the old ones are released, so on failure @dst is
 * unchanged.
 */
int damos_copy_dests(struct damos_migrate_dests *dst,
		     const unsigned int *node_ids, const unsigned int *weights,
		     size_t nr)
{
	unsigned int *ids = NULL, *ws = NULL;

	if (nr && (!node_ids || !weights))
		return -EINVAL;
	if (nr != dst->nr_dests || !dst->node_id_arr || !dst->weight_arr) {
		if (nr) {
			ids = udamon__calloc(nr, sizeof(*ids));
			ws = udamon__calloc(nr, sizeof(*ws));
			if (!ids || !ws) {
				free(ids);
				free(ws);
				return -ENOMEM;
			}
		}
		free(dst->node_id_arr);
		free(dst->weight_arr);
		dst->node_id_arr = ids;
		dst->weight_arr = ws;
	}
	if (nr) {
		memmove(dst->node_id_arr, node_ids, nr * sizeof(*node_ids));
		memmove(dst->weight_arr, weights, nr * sizeof(*weights));
	}
	dst->nr_dests = nr;
	return 0;
}

/**
 * damos_set_migrate_dests() - set the weighted migration destinations.
 * @s: the scheme.
 * @node_ids: @nr_dests node ids (copied).
 * @weights: @nr_dests weights (copied).
 * @nr_dests: number of destinations; 0 clears them (target_nid is used).
 *
 * Return: 0, -EINVAL for NULL arrays with a non-zero count, or -ENOMEM.
 */
int damos_set_migrate_dests(struct damos *s, const unsigned int *node_ids,
			    const unsigned int *weights, size_t nr_dests)
{
	return damos_copy_dests(&s->migrate_dests, node_ids, weights, nr_dests);
}

/* ------------------------------------------------------------------ */
/* 3. Filters                                                          */
/* ------------------------------------------------------------------ */

/**
 * udamon__damos_filter_match() - whether core filter @filter matches @r.
 * @ctx: the context (needed for target filters; may be NULL otherwise).
 * @t: the target of @r.
 * @r: the region; an addr filter whose boundary falls inside it splits it
 *     so that @r lies entirely inside or outside the range.
 * @filter: the filter.
 * @min_region_sz: alignment of the filter's address bounds.
 *
 * Return: 1 when the filter matches (honouring @filter->matching), 0 when
 * it does not, -ENOMEM when @r straddles a boundary of an addr filter and
 * could not be cut there: then no answer holds for all of @r.
 */
int udamon__damos_filter_match(struct damon_ctx *ctx, struct damon_target *t,
			       struct damon_region *r,
			       struct damos_filter *filter,
			       unsigned long min_region_sz)
{
	unsigned long start, end;
	bool matched;

	if (!min_region_sz)
		min_region_sz = 1;
	switch (filter->type) {
	case DAMOS_FILTER_TYPE_TARGET:
		matched = ctx && damon_target_idx(ctx, t) == filter->target_idx;
		break;
	case DAMOS_FILTER_TYPE_ADDR:
		start = DAMON_ALIGN_DOWN(filter->addr_range.start,
					 min_region_sz);
		end = DAMON_ALIGN_DOWN(filter->addr_range.end, min_region_sz);
		if (start <= r->ar.start && r->ar.end <= end) {
			matched = true;
			break;
		}
		if (r->ar.end <= start || end <= r->ar.start) {
			matched = false;
			break;
		}
		/*
		 * The region straddles a boundary.  Cut it there and answer
		 * for the head; the tail is the next region the caller
		 * visits, and gets its own answer then.
		 *
		 *   r:       [start ............ end)
		 *   range:          [s ....... e)
		 *   head:    [start, s) no match     (r starts before s)
		 *   head:    [start, e) match        (r starts inside)
		 */
		if (r->ar.start < start) {
			if (damon_split_region_at(t, r, start - r->ar.start))
				return -ENOMEM;
			matched = false;
			break;
		}
		if (damon_split_region_at(t, r, end - r->ar.start))
			return -ENOMEM;
		matched = true;
		break;
	case DAMOS_FILTER_TYPE_PROBE_HITS_WSUM: {
		/* The moving sum, as the pattern's nr_accesses is read. */
		unsigned long wsum =
			ctx ? damon_probe_hits_wsum(ctx, r, false, true) : 0;

		matched = filter->range_min <= wsum &&
			  wsum <= filter->range_max;
		break;
	}
	default:
		/* ops-handled types never reach the core's filtering */
		return false;
	}
	return matched == filter->matching;
}

/*
 * Core filtering of @r for @s: the first matching filter decides; when
 * none matches, the default-reject flag does.  Records in
 * core_filters_allowed whether an allow filter let the region in, which
 * tells the operations set to skip its own filters.
 */
bool damos_core_filter_out(struct damon_ctx *ctx, struct damon_target *t,
			   struct damon_region *r, struct damos *s)
{
	struct damos_filter *f;

	s->core_filters_allowed = false;
	damos_for_each_core_filter(f, s) {
		int match = udamon__damos_filter_match(ctx, t, r, f,
						       ctx->min_region_sz);

		/*
		 * Part of @r is inside the filter's range and part outside,
		 * and it could not be cut: applying (or rejecting) all of it
		 * would act on memory the user excluded.  Skip it this pass.
		 */
		if (match < 0)
			return true;
		if (match) {
			if (f->allow)
				s->core_filters_allowed = true;
			return !f->allow;
		}
	}
	return s->core_filters_default_reject;
}

/*
 * Memory no filter of a list matched is rejected when the last filter of
 * the list is an allow filter: a user who lists what to allow means
 * "only that".  An empty list rejects nothing.
 */
static bool damos_filters_default_reject(struct damon_list_head *filters)
{
	if (damon_list_empty(filters))
		return false;
	return damon_list_entry(filters->prev, struct damos_filter, list)->allow;
}

/**
 * damos_set_filters_default_reject() - recompute what happens to memory
 * no filter matched, for the core and the ops stage.
 * @s: the scheme.
 *
 * Memory that passes the core stage undecided still meets the ops
 * filters, so the core stage rejects by default only when there are no
 * ops filters.
 */
void damos_set_filters_default_reject(struct damos *s)
{
	if (!damon_list_empty(&s->ops_filters))
		s->core_filters_default_reject = false;
	else
		s->core_filters_default_reject =
			damos_filters_default_reject(&s->core_filters);
	s->ops_filters_default_reject =
		damos_filters_default_reject(&s->ops_filters);
}

/* ------------------------------------------------------------------ */
/* 4. The application pass                                             */
/* ------------------------------------------------------------------ */

static bool damos_is_due(struct damon_ctx *c, struct damos *s)
{
	/* wrap-safe "passed >= next", like the kernel's time_after_eq */
	return (long)(c->passed_sample_intervals - s->next_apply_sis) >= 0;
}

void damos_clear_charge_point(struct damos_quota *q)
{
	q->charge_target_from = NULL;
	q->charge_addr_from = 0;
}

/*
 * Resume point (§5.3.4, V-pause rules): after a window filled up in the
 * middle of the address space, the next window starts where the last one
 * stopped.  Regions of other targets and regions before the point are
 * skipped; the last region of the charge target clears the point and is
 * skipped; a region straddling the point is cut so its charged head is
 * skipped and the tail is visited next; the first region past the point
 * clears it and is processed.
 */
static bool damos_skip_charged_region(struct damon_target *t,
				      struct damon_region *r, struct damos *s,
				      unsigned long min_region_sz)
{
	struct damos_quota *q = &s->quota;
	unsigned long sz_to_skip;

	if (!q->charge_target_from)
		return false;
	if (t != q->charge_target_from)
		return true;
	if (r == damon_last_region(t)) {
		damos_clear_charge_point(q);
		return true;
	}
	if (q->charge_addr_from && r->ar.end <= q->charge_addr_from)
		return true;
	if (q->charge_addr_from && r->ar.start < q->charge_addr_from) {
		sz_to_skip = DAMON_ALIGN_DOWN(q->charge_addr_from - r->ar.start,
					      min_region_sz);
		if (!sz_to_skip) {
			if (damon_sz_region(r) <= min_region_sz)
				return true;
			sz_to_skip = min_region_sz;
		}
		damon_split_region_at(t, r, sz_to_skip);
		return true;
	}
	damos_clear_charge_point(q);
	return false;
}

static void damos_update_stat(struct damos *s, unsigned long sz_tried,
			      unsigned long sz_applied,
			      unsigned long sz_ops_filter_passed)
{
	s->stat.nr_tried++;
	s->stat.sz_tried += sz_tried;
	if (sz_applied)
		s->stat.nr_applied++;
	s->stat.sz_applied += sz_applied;
	s->stat.sz_ops_filter_passed += sz_ops_filter_passed;
}

static void damos_emit_before_apply(struct damon_ctx *c, struct damon_target *t,
				    struct damon_region *r, struct damos *s)
{
	int tidx = damon_target_idx(c, t);
	struct damon_event ev = {
		.type = DAMON_EVENT_DAMOS_BEFORE_APPLY,
		.context_idx = 0,
		.scheme_idx = damos_scheme_idx(c, s),
		.target_idx = tidx < 0 ? 0 : (unsigned long)tidx,
		.nr_regions = damon_nr_regions(t),
		.start = r->ar.start,
		.end = r->ar.end,
		.nr_accesses = r->nr_accesses_bp / 10000,
		.age = r->age,
		.passed_sample_intervals = c->passed_sample_intervals,
	};

	udamon__emit(c, &ev);
}

/*
 * Apply @s to @r (§5.1 damos_apply_scheme).  @walk is the damos_walk()
 * request installed when this pass began, or NULL.
 */
static void damos_apply_scheme(struct damon_ctx *c, struct damon_target *t,
			       struct damon_region *r, struct damos *s,
			       struct damos_walk_control *walk)
{
	struct damos_quota *q = &s->quota;
	unsigned long sz = damon_sz_region(r);
	unsigned long sz_applied = 0, sz_ops_filter_passed = 0;
	uint64_t begin, end;

	if (c->ops.apply_scheme) {
		if (damos_quota_is_set(q) && q->charged_sz + sz > q->esz) {
			/* Take only what the quota has room for. */
			sz = DAMON_ALIGN_DOWN(q->esz - q->charged_sz,
					      c->min_region_sz);
			if (!sz)
				goto update_stat;
			damon_split_region_at(t, r, sz);
			if (damon_sz_region(r) != sz)
				goto update_stat; /* out of memory */
		}
		if (damos_core_filter_out(c, t, r, s))
			return;
		/*
		 * An addr filter may have cut the region: charge and count
		 * what is applied, not what the region was before.
		 */
		sz = damon_sz_region(r);
		damos_emit_before_apply(c, t, r, s);
		begin = damon_now_ns(c);
		sz_applied =
			c->ops.apply_scheme(c, t, r, s, &sz_ops_filter_passed);
		end = damon_now_ns(c);
		if (walk && !s->walk_completed && walk->walk_fn)
			walk->walk_fn(walk->data, c, t, r, s,
				      sz_ops_filter_passed);
		if (end > begin)
			q->total_charged_ns += end - begin;
		damos_charge_quota(q, sz, sz_applied);
		if (damos_quota_is_full(q, c->min_region_sz)) {
			q->charge_target_from = t;
			q->charge_addr_from = r->ar.end;
		}
	}
	/* An acted-on region's pattern starts over; stat changes nothing. */
	if (s->action != DAMOS_STAT)
		r->age = 0;

update_stat:
	damos_update_stat(s, sz, sz_applied, sz_ops_filter_passed);
}

static void damon_do_apply_schemes(struct damon_ctx *c, struct damon_target *t,
				   struct damon_region *r,
				   struct damos_walk_control *walk)
{
	struct damos *s;

	damon_for_each_scheme(s, c) {
		if (!damos_is_due(c, s))
			continue;
		if (!s->wmarks.activated)
			continue;
		if (damos_quota_is_full(&s->quota, c->min_region_sz))
			continue;
		if (damos_skip_charged_region(t, r, s, c->min_region_sz))
			continue;
		if (s->max_nr_snapshots &&
		    s->stat.nr_snapshots >= s->max_nr_snapshots)
			continue;
		if (damos_valid_target(c, t, r, s))
			damos_apply_scheme(c, t, r, s, walk);
		if (damon_is_last_region(r, t))
			s->stat.nr_snapshots++;
	}
}

/*
 * Apply every due scheme to the regions of @t.  Splits made for quotas,
 * filters and resume points leave the tail as the next region of the
 * walk.  A slice that ends up identical to its left neighbour is merged
 * back at once (as newer kernels do), so quota-sized slices do not pile up
 * until the next aggregation; the merge never loses information and
 * respects @max_region_sz.
 */
static void damos_apply_target(struct damon_ctx *c, struct damon_target *t,
			       unsigned long max_region_sz,
			       struct damos_walk_control *walk)
{
	struct damon_region *r, *prev;

	damon_for_each_region(r, t) {
		damon_do_apply_schemes(c, t, r, walk);
		if (r == damon_first_region(t))
			continue;
		prev = damon_prev_region(r);
		if (prev->ar.end != r->ar.start || prev->age != r->age ||
		    prev->last_nr_accesses != r->last_nr_accesses ||
		    prev->nr_accesses != r->nr_accesses ||
		    prev->nr_accesses_bp != r->nr_accesses_bp ||
		    memcmp(prev->probe_hits, r->probe_hits,
			   sizeof(r->probe_hits)) ||
		    memcmp(prev->last_probe_hits, r->last_probe_hits,
			   sizeof(r->last_probe_hits)))
			continue;
		if (r->ar.end - prev->ar.start > max_region_sz)
			continue;
		prev->ar.end = r->ar.end;
		damon_destroy_region(r, t);
		r = prev;
	}
}

static void damos_emit_stat(struct damon_ctx *c, struct damos *s,
			    unsigned int sidx)
{
	struct damon_event ev = {
		.type = DAMON_EVENT_DAMOS_STAT_AFTER_APPLY_INTERVAL,
		.context_idx = 0,
		.scheme_idx = sidx,
		.stat = s->stat,
		.passed_sample_intervals = c->passed_sample_intervals,
	};

	udamon__emit(c, &ev);
}

/*
 * Mark the due schemes' walks done; once every scheme has had one pass
 * since the request was installed, wake the damos_walk() caller.
 */
static void damos_walk_complete(struct damon_ctx *c,
				struct damos_walk_control *walk)
{
	struct damos *s;
	bool all = true;

	pthread_mutex_lock(&c->lock);
	if (c->walk_control != walk)
		goto out; /* canceled meanwhile; nothing to complete */
	damon_for_each_scheme(s, c) {
		if (damos_is_due(c, s))
			s->walk_completed = true;
		if (!s->walk_completed)
			all = false;
	}
	if (!all)
		goto out;
	damon_for_each_scheme(s, c)
		s->walk_completed = false;
	walk->canceled = false;
	walk->done = true;
	c->walk_control = NULL;
	pthread_cond_broadcast(&c->cond);
out:
	pthread_mutex_unlock(&c->lock);
}

/**
 * kdamond_apply_schemes() - the DAMOS application pass (§5.1).
 * @c: the context, on its kdamond.
 */
void kdamond_apply_schemes(struct damon_ctx *c)
{
	struct damos_walk_control *walk;
	struct damon_target *t;
	unsigned long max_region_sz;
	unsigned int sidx;
	bool has_schemes_to_apply = false;
	struct damos *s;

	damon_for_each_scheme(s, c) {
		if (!damos_is_due(c, s) || !s->wmarks.activated)
			continue;
		has_schemes_to_apply = true;
		damos_adjust_quota(c, s);
	}
	if (!has_schemes_to_apply)
		return;

	max_region_sz = damon_region_sz_limit(c);
	/*
	 * A walk installed while this pass runs would see only part of it;
	 * take the request present now and leave later ones to the next
	 * pass.  Only this thread uninstalls requests, so it stays valid.
	 */
	pthread_mutex_lock(&c->lock);
	walk = c->walk_control;
	pthread_mutex_unlock(&c->lock);

	damon_for_each_target(t, c) {
		if (c->ops.target_valid && !c->ops.target_valid(t)) {
			udamon__damos_forget_target(c, t);
			continue;
		}
		damos_apply_target(c, t, max_region_sz, walk);
	}

	if (walk)
		damos_walk_complete(c, walk);
	sidx = 0;
	damon_for_each_scheme(s, c) {
		if (damos_is_due(c, s)) {
			damos_set_next_apply_sis(s, c);
			s->last_applied = NULL;
			damos_emit_stat(c, s, sidx);
		}
		sidx++;
	}
}

/* ------------------------------------------------------------------ */
/* 5. Watermarks                                                       */
/* ------------------------------------------------------------------ */

static atomic_bool damos_warned_wmark_metric;

/* Return false when the metric cannot be read (the scheme then runs). */
static bool damos_get_wmark_metric(struct damon_ctx *c,
				   enum damos_wmark_metric metric,
				   unsigned long *value)
{
	int err;

	if (metric != DAMOS_WMARK_FREE_MEM_RATE)
		return false;
	err = c->ops.get_wmark_metric ?
		      c->ops.get_wmark_metric(c, metric, value) :
		      -EOPNOTSUPP;
	if (err) {
		if (!atomic_exchange(&damos_warned_wmark_metric, true))
			udamon__log(
				DAMON_LOG_WARN,
				"watermark metric unreadable (%d); schemes stay active",
				err);
		return false;
	}
	return true;
}

/*
 * 0 if @s is active, else how long to wait before checking again.
 * Activation happens at or below mid (and not below low); between mid and
 * high the previous state holds, which gives the hysteresis.
 */
static unsigned long damos_wmark_wait_us(struct damon_ctx *c, struct damos *s)
{
	struct damos_watermarks *w = &s->wmarks;
	unsigned long metric;

	if (w->metric == DAMOS_WMARK_NONE)
		return 0;
	if (!damos_get_wmark_metric(c, w->metric, &metric)) {
		/* Better to act than to stall on a metric we cannot read. */
		w->activated = true;
		return 0;
	}
	if (metric > w->high || metric < w->low) {
		w->activated = false;
		return w->interval;
	}
	if (metric >= w->mid && !w->activated)
		return w->interval;
	w->activated = true;
	return 0;
}

/**
 * udamon__wait_activation() - one round of the watermark gate.
 * @ctx: the context, on its kdamond.
 *
 * Return: 0 to proceed, 1 to exit, 2 after sleeping one round.
 */
int udamon__wait_activation(struct damon_ctx *ctx)
{
	unsigned long wait, min_wait = 0;
	bool init = false;
	struct damos *s;

	if (udamon__need_stop(ctx))
		return 1;
	damon_for_each_scheme(s, ctx) {
		wait = damos_wmark_wait_us(ctx, s);
		if (!init || wait < min_wait) {
			init = true;
			min_wait = wait;
		}
	}
	if (!min_wait)
		return 0;

	udamon__sleep_us(ctx, min_wait, true);
	ctx->calls_at_gate = true; /* udamon checkpoint hook */
	udamon__kdamond_call(ctx, false);
	ctx->calls_at_gate = false;
	if (ctx->maybe_corrupted)
		return 1;
	/* Nothing will be applied while inactive: don't keep walkers. */
	damos_walk_cancel(ctx);
	return 2;
}

/* ------------------------------------------------------------------ */
/* 6. damos_walk()                                                     */
/* ------------------------------------------------------------------ */

/**
 * damos_walk() - wait for one apply interval of every scheme, calling
 * @control->walk_fn for every region a scheme is about to be applied to.
 * @ctx: the context.
 * @control: the request; @control->walk_fn may be NULL to only wait.
 *
 * Call it from any thread but the context's kdamond.
 *
 * Return: 0; -EINVAL for NULL arguments; -EBUSY if another walk is
 * installed; -EDEADLK when called on the thread that drives @ctx (it could
 * never complete); -ECANCELED if the context is not running, has no
 * (active) schemes, is paused, or stops.
 */
int damos_walk(struct damon_ctx *ctx, struct damos_walk_control *control)
{
	bool canceled;

	if (!ctx || !control)
		return -EINVAL;
	pthread_mutex_lock(&ctx->lock);
	if (ctx->walk_control_obsolete) {
		pthread_mutex_unlock(&ctx->lock);
		return -ECANCELED;
	}
	/*
	 * The kdamond (a thread, or the caller of damon_manual_step()) would
	 * wait for itself.  kdamond_tid is written under ctx->lock, unlike
	 * ctx->kdamond, so this check cannot race with a start.
	 */
	if (ctx->kdamond_running && ctx->kdamond_tid == (int)gettid()) {
		pthread_mutex_unlock(&ctx->lock);
		return -EDEADLK;
	}
	if (ctx->walk_control) {
		pthread_mutex_unlock(&ctx->lock);
		return -EBUSY;
	}
	control->done = false;
	control->canceled = false;
	ctx->walk_control = control;
	pthread_cond_broadcast(&ctx->cond);
	while (!control->done)
		pthread_cond_wait(&ctx->cond, &ctx->lock);
	canceled = control->canceled;
	pthread_mutex_unlock(&ctx->lock);
	return canceled ? -ECANCELED : 0;
}

/**
 * damos_walk_cancel() - complete the installed damos_walk() request, if
 * any, as canceled.
 * @ctx: the context, on its kdamond.
 */
void damos_walk_cancel(struct damon_ctx *ctx)
{
	struct damos_walk_control *control;
	struct damos *s;

	pthread_mutex_lock(&ctx->lock);
	control = ctx->walk_control;
	if (control) {
		control->canceled = true;
		control->done = true;
		ctx->walk_control = NULL;
		pthread_cond_broadcast(&ctx->cond);
	}
	pthread_mutex_unlock(&ctx->lock);
	if (!control)
		return;
	/*
	 * Schemes that finished their part of the canceled walk must not
	 * skip their part of the next one.
	 */
	damon_for_each_scheme(s, ctx)
		s->walk_completed = false;
}

/* ------------------------------------------------------------------ */
/* 7. Per-context helpers                                              */
/* ------------------------------------------------------------------ */

/**
 * udamon__damos_init() - per-scheme state at kdamond start.
 * @ctx: the context.
 */
void udamon__damos_init(struct damon_ctx *ctx)
{
	struct damos *s;

	damon_for_each_scheme(s, ctx) {
		damos_set_next_apply_sis(s, ctx);
		damos_set_filters_default_reject(s);
		s->walk_completed = false;
	}
}

/**
 * udamon__damos_forget_target() - drop quota resume points into @t.
 * @ctx: the context.
 * @t: a target that is being removed or found invalid.
 */
void udamon__damos_forget_target(struct damon_ctx *ctx, struct damon_target *t)
{
	struct damos *s;

	damon_for_each_scheme(s, ctx) {
		if (s->quota.charge_target_from == t)
			damos_clear_charge_point(&s->quota);
	}
}

/**
 * udamon__damos_destroy_all() - free every scheme of @ctx.
 * @ctx: the context.
 */
void udamon__damos_destroy_all(struct damon_ctx *ctx)
{
	struct damos *s, *next;

	damon_for_each_scheme_safe(s, next, ctx)
		damon_destroy_scheme(s);
}
