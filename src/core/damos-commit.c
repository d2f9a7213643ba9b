// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DAMOS commit and validation in the core: committing the schemes, quota
 * goals, filters and migration destinations of a source context into a
 * destination one index-wise, and the checks a source must pass first
 * (spec §6.2 step 4).
 *
 * Map of this file:
 *   1. commit and validation
 */
#include "core.h"
#include "sys/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* 1. Commit and validation                                            */
/* ------------------------------------------------------------------ */

/* Replace *@dst with a copy of @src (NULL allowed). */
static int damos_commit_str(char **dst, const char *src)
{
	char *copy = NULL;

	if (*dst == src)
		return 0;
	if (src) {
		if (*dst && !strcmp(*dst, src))
			return 0;
		copy = udamon__strdup(src);
		if (!copy)
			return -ENOMEM;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

static struct damos_quota_goal *damos_nth_quota_goal(int n,
						     struct damos_quota *q)
{
	struct damos_quota_goal *g;
	int i = 0;

	damos_for_each_quota_goal(g, q) {
		if (i++ == n)
			return g;
	}
	return NULL;
}

static int damos_commit_quota_goal(struct damos_quota_goal *dst,
				   const struct damos_quota_goal *src)
{
	bool was_psi = dst->metric == DAMOS_QUOTA_SOME_MEM_PSI_US;
	int err = 0;

	if (!src->target_value)
		return -EINVAL;
	dst->metric = src->metric;
	dst->target_value = src->target_value;
	if (dst->metric == DAMOS_QUOTA_USER_INPUT)
		dst->current_value = src->current_value;
	switch (dst->metric) {
	case DAMOS_QUOTA_SOME_MEM_PSI_US:
		/* A goal that just became a PSI goal has no total yet. */
		if (!was_psi)
			dst->last_psi_total = UINT64_MAX;
		break;
	case DAMOS_QUOTA_NODE_MEM_USED_BP:
	case DAMOS_QUOTA_NODE_MEM_FREE_BP:
	case DAMOS_QUOTA_NODE_ELIGIBLE_MEM_BP:
		dst->nid = src->nid;
		break;
	case DAMOS_QUOTA_NODE_MEMCG_USED_BP:
	case DAMOS_QUOTA_NODE_MEMCG_FREE_BP:
		dst->nid = src->nid;
		dst->memcg_id = src->memcg_id;
		err = damos_commit_str(&dst->memcg_path, src->memcg_path);
		break;
	default:
		break;
	}
	return err;
}

/**
 * damos_commit_quota_goals() - commit the goals of @src into @dst,
 * index by index: matched goals are updated in place, extra destination
 * goals removed, extra source goals copied in.
 * @dst: the destination quota.
 * @src: the source quota.
 *
 * Return: 0, -EINVAL for a goal with target_value 0, or -ENOMEM.
 */
int damos_commit_quota_goals(struct damos_quota *dst, struct damos_quota *src)
{
	struct damos_quota_goal *dst_goal, *next, *src_goal, *new_goal;
	int i = 0, j = 0, err;

	damos_for_each_quota_goal_safe(dst_goal, next, dst) {
		src_goal = damos_nth_quota_goal(i++, src);
		if (src_goal) {
			err = damos_commit_quota_goal(dst_goal, src_goal);
			if (err)
				return err;
		} else {
			damos_destroy_quota_goal(dst_goal);
		}
	}
	damos_for_each_quota_goal(src_goal, src) {
		if (j++ < i)
			continue;
		new_goal = damos_new_quota_goal(src_goal->metric,
						src_goal->target_value);
		if (!new_goal)
			return -ENOMEM;
		err = damos_commit_quota_goal(new_goal, src_goal);
		if (err) {
			damos_destroy_quota_goal(new_goal);
			return err;
		}
		damos_add_quota_goal(dst, new_goal);
	}
	return 0;
}

/* User parameters only: the tuned state (esz, charges, ...) stays. */
static int damos_commit_quota(struct damos_quota *dst, struct damos_quota *src)
{
	int err;

	dst->reset_interval = src->reset_interval;
	dst->ms = src->ms;
	dst->sz = src->sz;
	err = damos_commit_quota_goals(dst, src);
	if (err)
		return err;
	dst->goal_tuner = src->goal_tuner;
	dst->fail_charge_num = src->fail_charge_num;
	dst->fail_charge_denom = src->fail_charge_denom;
	dst->weight_sz = src->weight_sz;
	dst->weight_nr_accesses = src->weight_nr_accesses;
	dst->weight_age = src->weight_age;
	/*
	 * A quota committed away entirely would otherwise stay "set" by its
	 * last esz and, with no window resets any more, stay full forever.
	 */
	if (!dst->ms && !dst->sz && damon_list_empty(&dst->goals)) {
		dst->esz = 0;
		dst->charged_sz = 0;
		damos_clear_charge_point(dst);
	}
	return 0;
}

static int damos_commit_filter_arg(struct damos_filter *dst,
				   const struct damos_filter *src)
{
	switch (dst->type) {
	case DAMOS_FILTER_TYPE_MEMCG:
		dst->memcg_id = src->memcg_id;
		return damos_commit_str(&dst->memcg_path, src->memcg_path);
	case DAMOS_FILTER_TYPE_ADDR:
		if (src->addr_range.end < src->addr_range.start)
			return -EINVAL;
		dst->addr_range = src->addr_range;
		break;
	case DAMOS_FILTER_TYPE_TARGET:
		dst->target_idx = src->target_idx;
		break;
	case DAMOS_FILTER_TYPE_HUGEPAGE_SIZE:
		if (src->sz_range.max < src->sz_range.min)
			return -EINVAL;
		dst->sz_range = src->sz_range;
		break;
	case DAMOS_FILTER_TYPE_PROBE_HITS_WSUM:
		if (src->range_max < src->range_min)
			return -EINVAL;
		dst->range_min = src->range_min;
		dst->range_max = src->range_max;
		break;
	default:
		break;
	}
	return 0;
}

static int damos_commit_filter(struct damos_filter *dst,
			       const struct damos_filter *src)
{
	dst->type = src->type;
	dst->matching = src->matching;
	dst->allow = src->allow;
	/* The union member of the old type is meaningless now. */
	if (dst->type != DAMOS_FILTER_TYPE_MEMCG)
		damos_commit_str(&dst->memcg_path, NULL);
	return damos_commit_filter_arg(dst, src);
}

static struct damos_filter *damos_nth_filter(int n,
					     struct damon_list_head *filters)
{
	struct damos_filter *f;
	int i = 0;

	damon_list_for_each_entry(f, filters, list) {
		if (i++ == n)
			return f;
	}
	return NULL;
}

static int damos_commit_filter_list(struct damos *dst,
				    struct damon_list_head *dst_filters,
				    struct damon_list_head *src_filters)
{
	struct damos_filter *dst_f, *next, *src_f, *new_f;
	int i = 0, j = 0, err;

	damon_list_for_each_entry_safe(dst_f, next, dst_filters, list) {
		src_f = damos_nth_filter(i++, src_filters);
		if (src_f) {
			err = damos_commit_filter(dst_f, src_f);
			if (err)
				return err;
		} else {
			damos_destroy_filter(dst_f);
		}
	}
	damon_list_for_each_entry(src_f, src_filters, list) {
		if (j++ < i)
			continue;
		new_f = damos_new_filter(src_f->type, src_f->matching,
					 src_f->allow);
		if (!new_f)
			return -ENOMEM;
		err = damos_commit_filter_arg(new_f, src_f);
		if (err) {
			damos_destroy_filter(new_f);
			return err;
		}
		damos_add_filter(dst, new_f);
	}
	return 0;
}

static int damos_commit_filters(struct damos *dst, struct damos *src)
{
	int err;

	err = damos_commit_filter_list(dst, &dst->core_filters,
				       &src->core_filters);
	if (err)
		return err;
	err = damos_commit_filter_list(dst, &dst->ops_filters,
				       &src->ops_filters);
	if (err)
		return err;
	damos_set_filters_default_reject(dst);
	return 0;
}

/*
 * Commit the user parameters of @src into @dst.  Stats, schedule, walk
 * state and tuned quota state of @dst are kept, so online updates don't
 * reset what the scheme learned.
 */
static int damos_commit(struct damos *dst, struct damos *src)
{
	int err;

	dst->pattern = src->pattern;
	dst->action = src->action;
	dst->apply_interval_us = src->apply_interval_us;
	err = damos_commit_quota(&dst->quota, &src->quota);
	if (err)
		return err;
	/* Whole struct, including activated: as the kernel does. */
	dst->wmarks = src->wmarks;
	dst->target_nid = src->target_nid;
	err = damos_copy_dests(&dst->migrate_dests,
			       src->migrate_dests.node_id_arr,
			       src->migrate_dests.weight_arr,
			       src->migrate_dests.nr_dests);
	if (err)
		return err;
	err = damos_commit_filters(dst, src);
	if (err)
		return err;
	dst->max_nr_snapshots = src->max_nr_snapshots;
	return 0;
}

static struct damos *damon_nth_scheme(int n, struct damon_ctx *ctx)
{
	struct damos *s;
	int i = 0;

	damon_for_each_scheme(s, ctx) {
		if (i++ == n)
			return s;
	}
	return NULL;
}

/**
 * damos_commit_schemes() - commit the schemes of @src into @dst, index by
 * index (§6.2 step 4).
 * @dst: the destination context (on its kdamond if running).
 * @src: the source context.
 *
 * Return: 0, -EINVAL for invalid goals or filters, or -ENOMEM.
 */
int damos_commit_schemes(struct damon_ctx *dst, struct damon_ctx *src)
{
	struct damos *dst_s, *next, *src_s, *new_s;
	int i = 0, j = 0, err;

	damon_for_each_scheme_safe(dst_s, next, dst) {
		src_s = damon_nth_scheme(i++, src);
		if (src_s) {
			err = damos_commit(dst_s, src_s);
			if (err)
				return err;
		} else {
			damon_destroy_scheme(dst_s);
		}
	}
	damon_for_each_scheme(src_s, src) {
		if (j++ < i)
			continue;
		new_s = damon_new_scheme(&src_s->pattern, src_s->action,
					 src_s->apply_interval_us,
					 &src_s->quota, &src_s->wmarks, -1);
		if (!new_s)
			return -ENOMEM;
		err = damos_commit(new_s, src_s);
		if (err) {
			damon_destroy_scheme(new_s);
			return err;
		}
		damon_add_scheme(dst, new_s);
	}
	return 0;
}

/**
 * udamon__damos_validate() - check the schemes of a commit source.
 * @src: the context to check.
 *
 * Return: -EINVAL if a goal uses node_eligible_mem_bp while @src is not
 * paddr, a goal has target_value 0, an addr filter ends before it starts
 * or a hugepage_size filter has max < min; 0 otherwise.
 */
int udamon__damos_validate(struct damon_ctx *src)
{
	struct damos_quota_goal *g;
	struct damos_filter *f;
	struct damos *s;

	damon_for_each_scheme(s, src) {
		damos_for_each_quota_goal(g, &s->quota) {
			if (g->metric == DAMOS_QUOTA_NODE_ELIGIBLE_MEM_BP &&
			    src->ops.id != DAMON_OPS_PADDR)
				return -EINVAL;
			if (!g->target_value)
				return -EINVAL;
		}
		damos_for_each_core_filter(f, s) {
			if (f->type == DAMOS_FILTER_TYPE_ADDR &&
			    f->addr_range.end < f->addr_range.start)
				return -EINVAL;
			if (f->type == DAMOS_FILTER_TYPE_PROBE_HITS_WSUM &&
			    f->range_max < f->range_min)
				return -EINVAL;
		}
		damos_for_each_ops_filter(f, s) {
			if (f->type == DAMOS_FILTER_TYPE_HUGEPAGE_SIZE &&
			    f->sz_range.max < f->sz_range.min)
				return -EINVAL;
		}
	}
	return 0;
}
