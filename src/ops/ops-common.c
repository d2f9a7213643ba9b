// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Helpers shared by the operations sets: DAMOS priority scores (spec §5.2)
 * and the vaddr three regions (spec §3.8).  See ops-common.h.
 */
#include "ops/ops-common.h"

#include <errno.h>

/* Sub-scores are percentages; the age sub-score spans 2^-32..2^32 s. */
#define DAMON_MAX_SUBSCORE 100
#define DAMON_MAX_AGE_IN_LOG 32

int damon_hot_score(struct damon_ctx *c, struct damon_region *r,
		    struct damos *s)
{
	unsigned long long fw = s->quota.weight_nr_accesses;
	unsigned long long aw = s->quota.weight_age;
	unsigned int samples = damon_nr_samples_per_aggr(&c->attrs);
	unsigned long long freq, age_sec, hot;
	int age_log = 0, age_sub;

	if (!samples)
		samples = 1;
	freq = (unsigned long long)(r->nr_accesses_bp / 10000) *
	       DAMON_MAX_SUBSCORE / samples;

	/* Number of bits of the age in seconds: ilog2(age) + 1, capped. */
	age_sec = (unsigned long long)r->age * c->attrs.aggr_interval / 1000000;
	while (age_sec && age_log < DAMON_MAX_AGE_IN_LOG) {
		age_log++;
		age_sec >>= 1;
	}
	/* Not accessed: the longer it stayed so, the colder. */
	if (!freq)
		age_log = -age_log;
	age_sub = (age_log + DAMON_MAX_AGE_IN_LOG) * DAMON_MAX_SUBSCORE /
		  DAMON_MAX_AGE_IN_LOG / 2;

	hot = fw * freq + aw * (unsigned long long)age_sub;
	if (fw + aw)
		hot /= fw + aw;
	hot = hot * DAMOS_MAX_SCORE / DAMON_MAX_SUBSCORE;
	if (hot > DAMOS_MAX_SCORE)
		hot = DAMOS_MAX_SCORE;
	return (int)hot;
}

int damon_cold_score(struct damon_ctx *c, struct damon_region *r,
		     struct damos *s)
{
	return DAMOS_MAX_SCORE - damon_hot_score(c, r, s);
}

int damon_ops_scheme_score(struct damon_ctx *c, struct damon_region *r,
			   struct damos *s)
{
	switch (s->action) {
	case DAMOS_PAGEOUT:
	case DAMOS_LRU_DEPRIO:
	case DAMOS_MIGRATE_COLD:
		return damon_cold_score(c, r, s);
	case DAMOS_LRU_PRIO:
	case DAMOS_MIGRATE_HOT:
		return damon_hot_score(c, r, s);
	default:
		return DAMOS_MAX_SCORE;
	}
}

static unsigned long damon_align_up(unsigned long x, unsigned long align)
{
	if (align <= 1)
		return x;
	return (x + align - 1) & ~(align - 1);
}

int damon_three_regions_of_vmas(const struct damon_addr_range *vmas,
				size_t nr_vmas, unsigned long align,
				struct damon_addr_range regions[3])
{
	struct damon_addr_range first = { 0, 0 }, second = { 0, 0 }, tmp;
	unsigned long start, prev_end;
	size_t i;

	if (!nr_vmas)
		return -EINVAL;
	start = vmas[0].start;
	prev_end = vmas[0].end;
	for (i = 1; i < nr_vmas; i++) {
		unsigned long gap = vmas[i].start - prev_end;

		if (vmas[i].start < prev_end)
			return -EINVAL;
		/* A new biggest gap demotes the old one to second. */
		if (gap > first.end - first.start) {
			second = first;
			first.start = prev_end;
			first.end = vmas[i].start;
		} else if (gap > second.end - second.start) {
			second.start = prev_end;
			second.end = vmas[i].start;
		}
		prev_end = vmas[i].end;
	}
	if (first.start == first.end || second.start == second.end)
		return -EINVAL;

	/* The regions are between the gaps, so order the gaps by address. */
	if (first.start > second.start) {
		tmp = first;
		first = second;
		second = tmp;
	}
	regions[0].start = damon_align_up(start, align);
	regions[0].end = damon_align_up(first.start, align);
	regions[1].start = damon_align_up(first.end, align);
	regions[1].end = damon_align_up(second.start, align);
	regions[2].start = damon_align_up(second.end, align);
	regions[2].end = damon_align_up(prev_end, align);
	return 0;
}

int damon_apply_three_regions(struct damon_target *t,
			      const struct damon_addr_range *vmas,
			      size_t nr_vmas, unsigned long min_region_sz)
{
	struct damon_addr_range three[3];
	int err;

	err = damon_three_regions_of_vmas(vmas, nr_vmas, min_region_sz, three);
	if (err)
		return err;
	return damon_set_regions(t, three, 3, min_region_sz);
}
