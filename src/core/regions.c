// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The DAMON core's adaptive regions: region and target objects, and the
 * region adaptation of the kdamond loop.
 *
 * Map of this file:
 *   1. regions and targets
 *   2. region adaptation: set_regions (§3.7), merge (§3.1), split (§3.2),
 *      min_nr_regions (§3.4), access rate (§3.6)
 *
 * Section numbers in parentheses refer to the specification udamon
 * follows (see docs/design.md for a summary in our words).
 */
#include "core.h"
#include "sys/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* 1. Regions and targets                                              */
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
/* 2. Region adaptation                                                */
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
	damon_account_sample(r, accessed, damon_access_window(attrs));
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
