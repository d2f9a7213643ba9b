/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal interface between the files of the core (src/core/).  Nothing
 * outside src/core/ and the unit tests includes this.  Internal non-static
 * names start with udamon__ (libuv's habit); kernel names that the kernel
 * keeps internal but tests need (damon_split_region_at ...) keep their
 * kernel names but are declared only here.
 *
 * Files:
 *   core.c    - context lifecycle, registry, attrs and their tuning, commit
 *               of ctx/targets, clock, PRNG, logging, events
 *   regions.c - regions and targets, set_regions, merge, split,
 *               min_nr_regions, access rate, aggregation reset
 *   kdamond.c - damon_call, the kdamond loop and pause loop, start/stop,
 *               manual driving
 *   damos.c  - schemes: application pass, quotas, goals, watermarks,
 *              filters, stats, damos_walk, commit of schemes
 *   probes.c - data attribute probes: objects, hits, validation, commit
 */
#ifndef UDAMON_CORE_H
#define UDAMON_CORE_H

#include <udamon/damon.h>

#include <stdarg.h>

#include "core/ops-api.h"

/* ---- core.c ---- */

/*
 * Sleep @us microseconds of the context clock.  A virtual clock just
 * advances.  A real sleep ends early on a stop request and, if
 * @wake_on_call, as soon as a damon_call() or damos_walk() caller waits
 * (also one that queued before the sleep began), so the pause and
 * watermark loops answer at once.
 */
void udamon__sleep_us(struct damon_ctx *ctx, unsigned long us,
		      bool wake_on_call);
uint64_t udamon__now_ms(struct damon_ctx *ctx);
void damon_update_monitoring_result(struct damon_region *r,
				    struct damon_attrs *old_attrs,
				    struct damon_attrs *new_attrs,
				    bool aggregating);
int damon_commit_target_regions(struct damon_target *dst,
				struct damon_target *src,
				unsigned long src_min_region_sz);
unsigned long damon_feed_loop_next_input(unsigned long last_input,
					 unsigned long score);
void kdamond_tune_intervals(struct damon_ctx *c);

bool damon_is_power_of_2(unsigned long x);
/*
 * Ask the operations set whether @ctx can run here, logging the reason
 * when it cannot (commit and start).
 */
int damon_check_ops_ctx(struct damon_ctx *ctx);

/* ---- kdamond.c ---- */

/* Whether the kdamond must leave its loop (§2.4). */
bool udamon__need_stop(struct damon_ctx *ctx);
/* Serve (or, with @cancel, cancel) queued damon_call() controls (§6.3). */
void udamon__kdamond_call(struct damon_ctx *ctx, bool cancel);
/*
 * Reap an ended kdamond thread (damon_destroy_ctx, stop).  Returns whether
 * this caller joined it.
 */
bool damon_join_kdamond(struct damon_ctx *ctx);

/* ---- regions.c ---- */

unsigned long damon_region_sz_limit(struct damon_ctx *ctx);
/*
 * Split @r at @sz_r bytes from its start.  Returns 0, or -ENOMEM with @r
 * and the list unchanged: callers must not assume a tail was made.
 */
int damon_split_region_at(struct damon_target *t, struct damon_region *r,
			  unsigned long sz_r);
void damon_merge_two_regions(struct damon_target *t, struct damon_region *l,
			     struct damon_region *r);
void damon_merge_regions_of(struct damon_target *t, unsigned int thres,
			    unsigned long sz_limit, bool count_age);
/*
 * damon_merge_regions_of() for a target of @ctx: when @ctx monitors
 * attributes only, similarity and age use the weighted probe-hit sums.
 */
void udamon__merge_regions_of(struct damon_ctx *ctx, struct damon_target *t,
			      unsigned int thres, unsigned long sz_limit,
			      bool count_age);
void kdamond_merge_regions(struct damon_ctx *c, unsigned int threshold,
			   unsigned long sz_limit);
void damon_split_regions_of(struct damon_ctx *ctx, struct damon_target *t,
			    int nr_subs, unsigned long min_region_sz);
void kdamond_split_regions(struct damon_ctx *ctx);
void kdamond_reset_aggregated(struct damon_ctx *c);
unsigned long damon_apply_min_nr_regions(struct damon_ctx *ctx);
struct damon_target *damon_nth_target(int n, struct damon_ctx *ctx);
int damon_target_idx(struct damon_ctx *ctx, struct damon_target *t);

/* ---- probes.c ---- */

/* Free every probe of @ctx (damon_destroy_ctx). */
void udamon__destroy_probes(struct damon_ctx *ctx);
/*
 * Whether the probes of @ctx are valid with monitoring attributes @attrs:
 * at most DAMON_MAX_PROBES probes and, when weights are set, at most 255
 * samples per aggregation and weighted sums that fit in an unsigned int.
 */
bool damon_valid_probe_params(const struct damon_ctx *ctx,
			      const struct damon_attrs *attrs);
/* Commit the probes of @src into @dst index-wise (weight, preps, filters). */
int damon_commit_probes(struct damon_ctx *dst, struct damon_ctx *src);

/* ---- damos.c ---- */

/*
 * Make @dst hold a copy of @nr node ids and weights; on failure @dst is
 * unchanged.
 */
int damos_copy_dests(struct damos_migrate_dests *dst,
		     const unsigned int *node_ids, const unsigned int *weights,
		     size_t nr);
/* Core filtering of @r for @s: whether the core filters reject it. */
bool damos_core_filter_out(struct damon_ctx *ctx, struct damon_target *t,
			   struct damon_region *r, struct damos *s);
/* Forget where the last charge window stopped (no resume point). */
void damos_clear_charge_point(struct damos_quota *q);

/* Per-scheme state at kdamond start: next_apply_sis, default-reject. */
void udamon__damos_init(struct damon_ctx *ctx);
void damos_set_next_apply_sis(struct damos *s, struct damon_ctx *ctx);
/*
 * One round of the watermark gate (§5.6, kdamond_wait_activation).
 * Return: 0 when at least one scheme is active (or there are none) and
 * the iteration may proceed; 1 when the kdamond must exit (stop requested
 * or maybe_corrupted); 2 when it slept one watermark interval, served
 * calls and canceled walks, and must be asked again.
 */
int udamon__wait_activation(struct damon_ctx *ctx);
/* The DAMOS application pass (§5.1). */
void kdamond_apply_schemes(struct damon_ctx *c);
/* Complete an installed damos_walk() request as canceled. */
void damos_walk_cancel(struct damon_ctx *ctx);
/* Commit schemes of @src into @dst index-wise (§6.2 step 4). */
int damos_commit_schemes(struct damon_ctx *dst, struct damon_ctx *src);
/* Forget quota resume points that reference @t (it is being removed). */
void udamon__damos_forget_target(struct damon_ctx *ctx, struct damon_target *t);
/*
 * -EINVAL if @src has a node_eligible_mem_bp goal but is not paddr, a goal
 * with target_value 0, or an addr/hugepage_size filter with end < start.
 */
int udamon__damos_validate(struct damon_ctx *src);
/* Free every scheme of @ctx (damon_destroy_ctx). */
void udamon__damos_destroy_all(struct damon_ctx *ctx);
/*
 * Whether core filter @f (addr, target or probe_hits_wsum) matches @r: 1
 * (match) or 0 (no match).  An addr filter boundary inside @r splits it
 * first (§5.7); if that split fails the answer would hold for only part
 * of @r, so it returns -ENOMEM and the caller must skip @r.  Exposed for
 * unit tests.
 */
int udamon__damos_filter_match(struct damon_ctx *ctx, struct damon_target *t,
			       struct damon_region *r, struct damos_filter *f,
			       unsigned long min_region_sz);

/* ---- checkpoint.c ---- */

/* CRC-32 (IEEE, as zlib's crc32()) of @len bytes, continuing @crc. */
uint32_t udamon__crc32(uint32_t crc, const void *buf, size_t len);
/* Install a checkpoint restored before start or from the driving thread. */
void udamon__checkpoint_serve(struct damon_ctx *ctx);
/* Free a checkpoint that was never installed (damon_destroy_ctx). */
void udamon__checkpoint_forget(struct damon_ctx *ctx);

/* ---- autopause.c ---- */

/*
 * Whether the kdamond must wait in the pause loop now: the user's pause,
 * or (re)checked every sample interval, the automatic pause (§2.7 hook).
 */
bool udamon__paused(struct damon_ctx *ctx);

/* ---- damos-quota.c ---- */

bool damos_quota_is_set(const struct damos_quota *q);
/* Whether the charge window has no room left for a @min_region_sz action. */
bool damos_quota_is_full(const struct damos_quota *q,
			 unsigned long min_region_sz);
/* Index of @s among the schemes of @c. */
unsigned int damos_scheme_idx(struct damon_ctx *c, struct damos *s);
/* Whether @s may act on @r: access pattern, then the quota's priority. */
bool damos_valid_target(struct damon_ctx *c, struct damon_target *t,
			struct damon_region *r, struct damos *s);
/* Charge windows, effective size and priority cut-off of a due scheme. */
void damos_adjust_quota(struct damon_ctx *c, struct damos *s);
/* Charge @sz tried bytes of which @sz_applied succeeded to @q. */
void damos_charge_quota(struct damos_quota *q, unsigned long sz,
			unsigned long sz_applied);

#endif /* UDAMON_CORE_H */
