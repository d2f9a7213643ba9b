/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the operations sets (vaddr, fvaddr, paddr, sim): the
 * DAMOS priority scores of spec §5.2 and the vaddr "three regions" of
 * spec §3.8, the latter as a pure function over an array of VMA ranges so
 * that it can be tested with the kernel's kunit vectors and reused by any
 * operations set that sees an address space as a list of mappings.
 */
#ifndef UDAMON_OPS_COMMON_H
#define UDAMON_OPS_COMMON_H

#include <udamon/damon.h>

/**
 * damon_hot_score() - how hot @r is for @s, 0 (cold) to DAMOS_MAX_SCORE.
 *
 * Weighs the access frequency (nr_accesses_bp / 10000 relative to the
 * samples per aggregation) and the log2 of the age in seconds (negated
 * for regions that are not accessed, so that old idle regions are the
 * coldest) by the scheme's weight_nr_accesses and weight_age.
 */
int damon_hot_score(struct damon_ctx *c, struct damon_region *r,
		    struct damos *s);

/** damon_cold_score() - DAMOS_MAX_SCORE minus damon_hot_score(). */
int damon_cold_score(struct damon_ctx *c, struct damon_region *r,
		     struct damos *s);

/**
 * damon_ops_scheme_score() - the score an operations set gives @r for @s,
 * by the action's column of the spec §5.2 table: cold score for pageout,
 * lru_deprio and migrate_cold, hot score for lru_prio and migrate_hot,
 * DAMOS_MAX_SCORE for the others.
 */
int damon_ops_scheme_score(struct damon_ctx *c, struct damon_region *r,
			   struct damos *s);

/**
 * damon_three_regions_of_vmas() - the vaddr "three regions" of a mapping.
 * @vmas: mapped ranges, in address order, not overlapping.
 * @nr_vmas: number of @vmas.
 * @align: every bound is rounded up to a multiple of this (a power of two;
 *         DAMON_MIN_REGION_SZ, or 1 as the kernel's kunit tests use).
 * @regions: gets the three regions.
 *
 * The two largest gaps between consecutive mappings are cut out of the
 * span from the first mapping's start to the last one's end:
 *
 *   [vma][vma]   gap 1   [vma]  [vma]    gap 2    [vma]
 *   |<--region 0-->|     |<-region 1->|           |<-region 2->|
 *
 * Return: 0, or -EINVAL (regions untouched) if there are not two non-empty
 * gaps, e.g. fewer than three separated mappings.
 */
int damon_three_regions_of_vmas(const struct damon_addr_range *vmas,
				size_t nr_vmas, unsigned long align,
				struct damon_addr_range regions[3]);

/**
 * damon_apply_three_regions() - fit @t's regions to the three regions of
 * @vmas with damon_set_regions(), keeping what the overlapping regions
 * learned (the vaddr update step).
 * @min_region_sz: alignment of the regions and of the three bounds.
 *
 * Return: 0, or a negative errno (then @t is unchanged).
 */
int damon_apply_three_regions(struct damon_target *t,
			      const struct damon_addr_range *vmas,
			      size_t nr_vmas, unsigned long min_region_sz);

#endif /* UDAMON_OPS_COMMON_H */
