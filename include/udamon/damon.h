/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udamon - DAMON (Data Access MONitor) and DAMOS in user space.
 *
 * This is the one public header of libudamon.  It keeps the Linux kernel's
 * nouns and verbs (include/linux/damon.h) so that DAMON's documentation maps
 * onto it: a &struct damon_ctx holds monitoring attributes, an operations
 * set, targets with their regions, and schemes; damon_start() runs one
 * kdamond thread per context; everyone else talks to a running context
 * through damon_call(), damos_walk() and damon_commit_ctx().
 *
 * Map of this file:
 *   1. lists (intrusive, kernel style)
 *   2. regions, targets
 *   3. DAMOS: access patterns, actions, quotas and goals, watermarks,
 *      filters, migration destinations, stats, schemes
 *   4. operations sets
 *   5. attributes, call and walk controls, events, the context
 *   6. functions: lifecycle, regions, attrs, start/stop, commit/call/walk,
 *      manual (thread-less) driving, clock and randomness, logging
 *
 * Every function that can fail returns 0 or a negative errno.  The library
 * never prints, exits or aborts; it logs through damon_set_log_fn().
 */
#ifndef UDAMON_DAMON_H
#define UDAMON_DAMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DAMON_API __attribute__((visibility("default")))

/* ------------------------------------------------------------------ */
/* 1. Lists                                                            */
/* ------------------------------------------------------------------ */

/**
 * struct damon_list_head - node of an intrusive doubly linked circular list.
 * @next: next node (the head itself when this is the last node).
 * @prev: previous node.
 */
struct damon_list_head {
	struct damon_list_head *next, *prev;
};

#define DAMON__CONTAINER_OF(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

#define damon_list_entry(ptr, type, member) \
	DAMON__CONTAINER_OF(ptr, type, member)

#define damon_list_for_each_entry(pos, head, member)                         \
	for (pos = damon_list_entry((head)->next, __typeof__(*pos), member); \
	     &pos->member != (head);                                         \
	     pos = damon_list_entry(pos->member.next, __typeof__(*pos),      \
				    member))

#define damon_list_for_each_entry_safe(pos, n, head, member)                  \
	for (pos = damon_list_entry((head)->next, __typeof__(*pos), member),  \
	    n = damon_list_entry(pos->member.next, __typeof__(*pos), member); \
	     &pos->member != (head); pos = n,                                 \
	    n = damon_list_entry(n->member.next, __typeof__(*n), member))

/* ------------------------------------------------------------------ */
/* 2. Regions and targets                                              */
/* ------------------------------------------------------------------ */

/** Page size DAMON assumes for region alignment (DAMON_MIN_REGION_SZ). */
#define DAMON_MIN_REGION_SZ 4096UL

/*
 * DAMON_MAX_PROBES - the most data attribute probes a context may have
 * (the kernel's value; see docs/probes.md).
 */
#define DAMON_MAX_PROBES 4

/**
 * struct damon_addr_range - a half-open address range [@start, @end).
 * @start: first address of the range.
 * @end: one past the last address of the range.
 */
struct damon_addr_range {
	unsigned long start;
	unsigned long end;
};

/**
 * struct damon_size_range - a closed size range [@min, @max].
 * @min: minimum size.
 * @max: maximum size.
 */
struct damon_size_range {
	unsigned long min;
	unsigned long max;
};

/**
 * struct damon_region - one monitoring region.
 * @ar: the address range of the region.
 * @sampling_addr: address of the page sampled in the current sample.
 * @nr_accesses: samples of the current aggregation window that saw access.
 * @nr_accesses_bp: per-sample pseudo moving sum of @nr_accesses, in basis
 *                  points (spec §3.6).
 * @last_nr_accesses: @nr_accesses at the end of the previous window.
 * @age: aggregation intervals the access pattern has stayed similar.
 * @probe_hits: per probe of the context (in list order), samples of the
 *              current window whose page passed the probe's filters.
 * @last_probe_hits: @probe_hits at the end of the previous window.
 * @list: link in the target's region list.
 */
struct damon_region {
	struct damon_addr_range ar;
	unsigned long sampling_addr;
	unsigned int nr_accesses;
	unsigned int nr_accesses_bp;
	unsigned int last_nr_accesses;
	unsigned int age;
	unsigned char probe_hits[DAMON_MAX_PROBES];
	unsigned char last_probe_hits[DAMON_MAX_PROBES];
	struct damon_list_head list;
};

/**
 * struct damon_target - a monitoring target.
 * @pid: process id, for the vaddr and fvaddr operations sets (0 otherwise).
 * @nr_regions: number of regions in @regions_list.
 * @regions_list: regions sorted by address, non-overlapping.
 * @obsolete: only meaningful in a commit source: remove the destination
 *            target at the same index.
 * @ops_priv: private data of the operations set for this target (e.g. a
 *            pidfd, or the sim model state); freed by ops.cleanup_target.
 * @list: link in the context's target list.
 */
struct damon_target {
	int pid;
	unsigned int nr_regions;
	struct damon_list_head regions_list;
	bool obsolete;
	void *ops_priv;
	struct damon_list_head list;
};

/* ------------------------------------------------------------------ */
/* 3. DAMOS                                                            */
/* ------------------------------------------------------------------ */

/*
 * DAMOS actions.  The enum and its sysfs keywords come from one X-macro
 * list, so they cannot drift apart.  Order: the kernel's, with collapse
 * right after nohugepage as in the newest kernels.
 */
#define DAMOS_ACTIONS(X)                      \
	X(DAMOS_WILLNEED, "willneed")         \
	X(DAMOS_COLD, "cold")                 \
	X(DAMOS_PAGEOUT, "pageout")           \
	X(DAMOS_HUGEPAGE, "hugepage")         \
	X(DAMOS_NOHUGEPAGE, "nohugepage")     \
	X(DAMOS_COLLAPSE, "collapse")         \
	X(DAMOS_LRU_PRIO, "lru_prio")         \
	X(DAMOS_LRU_DEPRIO, "lru_deprio")     \
	X(DAMOS_MIGRATE_HOT, "migrate_hot")   \
	X(DAMOS_MIGRATE_COLD, "migrate_cold") \
	X(DAMOS_STAT, "stat")

#define DAMON__ENUM_ENTRY(name, keyword) name,

/** enum damos_action - what a scheme does to the regions it matches. */
enum damos_action { DAMOS_ACTIONS(DAMON__ENUM_ENTRY) NR_DAMOS_ACTIONS };

/**
 * struct damos_access_pattern - which regions a scheme applies to.  All
 * ranges are closed.
 * @min_sz_region: minimum region size in bytes.
 * @max_sz_region: maximum region size in bytes.
 * @min_nr_accesses: minimum access frequency (samples per aggregation).
 * @max_nr_accesses: maximum access frequency.
 * @min_age_region: minimum age in aggregation intervals.
 * @max_age_region: maximum age.
 */
struct damos_access_pattern {
	unsigned long min_sz_region;
	unsigned long max_sz_region;
	unsigned int min_nr_accesses;
	unsigned int max_nr_accesses;
	unsigned int min_age_region;
	unsigned int max_age_region;
};

#define DAMOS_QUOTA_GOAL_METRICS(X)                                 \
	X(DAMOS_QUOTA_USER_INPUT, "user_input")                     \
	X(DAMOS_QUOTA_SOME_MEM_PSI_US, "some_mem_psi_us")           \
	X(DAMOS_QUOTA_NODE_MEM_USED_BP, "node_mem_used_bp")         \
	X(DAMOS_QUOTA_NODE_MEM_FREE_BP, "node_mem_free_bp")         \
	X(DAMOS_QUOTA_NODE_MEMCG_USED_BP, "node_memcg_used_bp")     \
	X(DAMOS_QUOTA_NODE_MEMCG_FREE_BP, "node_memcg_free_bp")     \
	X(DAMOS_QUOTA_ACTIVE_MEM_BP, "active_mem_bp")               \
	X(DAMOS_QUOTA_INACTIVE_MEM_BP, "inactive_mem_bp")           \
	X(DAMOS_QUOTA_NODE_ELIGIBLE_MEM_BP, "node_eligible_mem_bp") \
	X(DAMOS_QUOTA_HUGEPAGE_MEM_BP, "hugepage_mem_bp")

/** enum damos_quota_goal_metric - what a quota goal measures. */
enum damos_quota_goal_metric {
	DAMOS_QUOTA_GOAL_METRICS(DAMON__ENUM_ENTRY) NR_DAMOS_QUOTA_GOAL_METRICS
};

/**
 * struct damos_quota_goal - a goal the quota auto-tuning aims for.
 * @metric: what is measured.
 * @target_value: the value to reach.
 * @current_value: the last measured (or, for user_input, given) value.
 * @last_psi_total: PSI total at the last evaluation (UINT64_MAX: none yet).
 * @nid: NUMA node for the node_* metrics.
 * @memcg_id: memory cgroup id for the node_memcg_* metrics.
 * @memcg_path: memory cgroup path (udamon resolves it, may be NULL).
 * @list: link in the quota's goal list.
 */
struct damos_quota_goal {
	enum damos_quota_goal_metric metric;
	unsigned long target_value;
	unsigned long current_value;
	uint64_t last_psi_total;
	int nid;
	uint64_t memcg_id;
	char *memcg_path;
	struct damon_list_head list;
};

/** enum damos_quota_goal_tuner - how goals drive the effective quota. */
enum damos_quota_goal_tuner {
	DAMOS_QUOTA_GOAL_TUNER_CONSIST,
	DAMOS_QUOTA_GOAL_TUNER_TEMPORAL,
	NR_DAMOS_QUOTA_GOAL_TUNERS
};

/**
 * struct damos_quota - how much a scheme may do per charge window.
 * @reset_interval: charge window length in milliseconds.
 * @ms: time quota per window, milliseconds (0: none).
 * @sz: size quota per window, bytes (0: none).
 * @goals: list of &struct damos_quota_goal.
 * @goal_tuner: how goals tune @esz.
 * @fail_charge_num: numerator of the charge ratio for bytes that failed.
 * @fail_charge_denom: denominator of it (0: failed bytes charge fully).
 * @weight_sz: priority weight of region size (permil).
 * @weight_nr_accesses: priority weight of access frequency (permil).
 * @weight_age: priority weight of age (permil).
 * @esz: effective size quota of the current window (read-only).
 *
 * The remaining fields are private to the core and survive commits, so a
 * tuned quota keeps its state across online updates and pause/resume.
 */
struct damos_quota {
	unsigned long reset_interval;
	unsigned long ms;
	unsigned long sz;
	struct damon_list_head goals;
	enum damos_quota_goal_tuner goal_tuner;
	unsigned int fail_charge_num;
	unsigned int fail_charge_denom;
	unsigned int weight_sz;
	unsigned int weight_nr_accesses;
	unsigned int weight_age;
	unsigned long esz;

	/* private */
	unsigned long total_charged_sz;
	uint64_t total_charged_ns;
	unsigned long charged_sz;
	uint64_t charged_from; /* ms of the context clock */
	bool charged_from_set;
	struct damon_target *charge_target_from;
	unsigned long charge_addr_from;
	unsigned long esz_bp;
	unsigned int min_score;
};

/** enum damos_wmark_metric - what watermarks compare against. */
enum damos_wmark_metric {
	DAMOS_WMARK_NONE,
	DAMOS_WMARK_FREE_MEM_RATE,
	NR_DAMOS_WMARK_METRICS
};

/**
 * struct damos_watermarks - when a scheme is active.
 * @metric: the metric (free_mem_rate is free/total in permil).
 * @interval: how often to re-check while inactive, microseconds.
 * @high: deactivate above this.
 * @mid: activate at or below this (while not above @high).
 * @low: deactivate below this.
 * @activated: private; whether the scheme is active now.
 */
struct damos_watermarks {
	enum damos_wmark_metric metric;
	unsigned long interval;
	unsigned long high;
	unsigned long mid;
	unsigned long low;
	bool activated;
};

#define DAMOS_FILTER_TYPES(X)                               \
	X(DAMOS_FILTER_TYPE_ANON, "anon")                   \
	X(DAMOS_FILTER_TYPE_ACTIVE, "active")               \
	X(DAMOS_FILTER_TYPE_MEMCG, "memcg")                 \
	X(DAMOS_FILTER_TYPE_YOUNG, "young")                 \
	X(DAMOS_FILTER_TYPE_HUGEPAGE_SIZE, "hugepage_size") \
	X(DAMOS_FILTER_TYPE_UNMAPPED, "unmapped")           \
	X(DAMOS_FILTER_TYPE_ADDR, "addr")                   \
	X(DAMOS_FILTER_TYPE_TARGET, "target")               \
	X(DAMOS_FILTER_TYPE_PROBE_HITS_WSUM, "probe_hits_wsum")

/** enum damos_filter_type - what a filter tests. */
enum damos_filter_type {
	DAMOS_FILTER_TYPES(DAMON__ENUM_ENTRY) NR_DAMOS_FILTER_TYPES
};

/**
 * struct damos_filter - includes or excludes memory from a scheme.
 * @type: what is tested.
 * @matching: whether the filter matches memory that has the property
 *            (true) or memory that lacks it (false).
 * @allow: matched memory is applied (true) or skipped (false).
 * @memcg_id: for memcg filters.
 * @addr_range: for addr filters.
 * @target_idx: for target filters.
 * @sz_range: for hugepage_size filters.
 * @range_min: for probe_hits_wsum filters: lowest matching weighted sum of
 *             the region's probe hits (moving sum), inclusive.
 * @range_max: highest matching weighted sum, inclusive.
 * @memcg_path: the memcg path the id was resolved from (may be NULL).
 * @list: link in the scheme's core or ops filter list.
 */
struct damos_filter {
	enum damos_filter_type type;
	bool matching;
	bool allow;
	union {
		uint64_t memcg_id;
		struct damon_addr_range addr_range;
		int target_idx;
		struct damon_size_range sz_range;
		struct {
			unsigned long range_min;
			unsigned long range_max;
		};
	};
	char *memcg_path;
	struct damon_list_head list;
};

/**
 * struct damos_migrate_dests - weighted destination nodes for migrations.
 * @node_id_arr: node ids.
 * @weight_arr: their weights.
 * @nr_dests: number of entries of both arrays.
 */
struct damos_migrate_dests {
	unsigned int *node_id_arr;
	unsigned int *weight_arr;
	size_t nr_dests;
};

/**
 * struct damos_stat - what a scheme did so far.
 * @nr_tried: regions the action was tried on.
 * @sz_tried: bytes of them.
 * @nr_applied: regions the action succeeded on (partly or fully).
 * @sz_applied: bytes it succeeded on.
 * @sz_ops_filter_passed: bytes that passed the ops filters.
 * @qt_exceeds: charge windows that ended with the quota full.
 * @nr_snapshots: completed per-target region walks.
 */
struct damos_stat {
	unsigned long nr_tried;
	unsigned long sz_tried;
	unsigned long nr_applied;
	unsigned long sz_applied;
	unsigned long sz_ops_filter_passed;
	unsigned long qt_exceeds;
	unsigned long nr_snapshots;
};

/**
 * struct damos - a DAMON-based operation scheme.
 * @pattern: regions to act on.
 * @action: what to do to them.
 * @apply_interval_us: how often to apply (0: every aggregation interval).
 * @quota: limits and their auto-tuning.
 * @wmarks: activation by a system metric.
 * @target_nid: destination node for migrations when @migrate_dests is empty.
 * @migrate_dests: weighted destinations for migrations.
 * @core_filters: filters the core evaluates (addr, target).
 * @ops_filters: filters the operations set evaluates.
 * @stat: statistics.
 * @max_nr_snapshots: deactivate after this many snapshots (0: never).
 * @list: link in the context's scheme list.
 *
 * The remaining fields are private to the core.
 */
struct damos {
	struct damos_access_pattern pattern;
	enum damos_action action;
	unsigned long apply_interval_us;
	struct damos_quota quota;
	struct damos_watermarks wmarks;
	int target_nid;
	struct damos_migrate_dests migrate_dests;
	struct damon_list_head core_filters;
	struct damon_list_head ops_filters;
	struct damos_stat stat;
	unsigned long max_nr_snapshots;
	struct damon_list_head list;

	/* private */
	unsigned long next_apply_sis;
	bool walk_completed;
	bool core_filters_default_reject;
	bool ops_filters_default_reject;
	bool core_filters_allowed;
	void *last_applied; /* kernel parity: reset after each pass (§5.1) */
};

/** DAMOS_MAX_SCORE - the highest priority score an operations set gives. */
#define DAMOS_MAX_SCORE 99

/* ------------------------------------------------------------------ */
/* 3b. Data attribute probes                                           */
/* ------------------------------------------------------------------ */

/*
 * Filters of a probe.  The enum and the sysfs keywords come from one
 * X-macro list.
 */
#define DAMON_FILTER_TYPES(X)               \
	X(DAMON_FILTER_TYPE_ANON, "anon")   \
	X(DAMON_FILTER_TYPE_MEMCG, "memcg") \
	X(DAMON_FILTER_TYPE_PGIDLE_UNSET, "pgidle_unset")

/** enum damon_filter_type - which page attribute a probe filter tests. */
enum damon_filter_type {
	DAMON_FILTER_TYPES(DAMON__ENUM_ENTRY) NR_DAMON_FILTER_TYPES
};

/**
 * struct damon_filter - one filter of a data attribute probe.
 * @type: the attribute: anonymous page, page of memory cgroup @memcg_id,
 *        or page whose idle flag is unset (accessed since a set_pgidle
 *        preparation marked it idle, or never marked).
 * @matching: the filter matches pages that have the attribute (true) or
 *            pages that lack it (false).
 * @allow: a matched page hits the probe (true) or does not (false).
 * @memcg_id: for memcg filters.
 * @memcg_path: the memcg path the id was resolved from (may be NULL).
 * @list: link in the probe's filter list.
 *
 * The first filter that matches decides; a page no filter matches hits
 * the probe only if the last filter rejects (and always without filters).
 */
struct damon_filter {
	enum damon_filter_type type;
	bool matching;
	bool allow;
	uint64_t memcg_id;
	char *memcg_path;
	struct damon_list_head list;
};

#define DAMON_PREP_ACTIONS(X) X(DAMON_PREP_SET_PGIDLE, "set_pgidle")

/** enum damon_prep_action - what a probe prepares before each sample. */
enum damon_prep_action {
	DAMON_PREP_ACTIONS(DAMON__ENUM_ENTRY) NR_DAMON_PREP_ACTIONS
};

/**
 * struct damon_prep - a preparation action of a probe.
 * @action: set_pgidle marks each region's sampled page idle when the
 *          sample starts, so a pgidle_unset filter sees whether it was
 *          accessed during the sample.
 * @list: link in the probe's prep list.
 */
struct damon_prep {
	enum damon_prep_action action;
	struct damon_list_head list;
};

/**
 * struct damon_probe - a data attribute probe.
 * @weight: priority of the attribute in the weighted sum of probe hits.
 *          When any probe of a context has a non-zero weight the context
 *          monitors attributes only: access checks stop (nr_accesses stays
 *          0) and regions are merged and aged by the weighted sum.
 * @preps: list of &struct damon_prep.
 * @filters: list of &struct damon_filter deciding which pages hit.
 * @list: link in the context's probe list.
 */
struct damon_probe {
	unsigned int weight;
	struct damon_list_head preps;
	struct damon_list_head filters;
	struct damon_list_head list;
};

/**
 * struct damon_page_attrs - what an operations set knows of a sampled page,
 * for damon_probe_hit().
 * @anon: the page is anonymous.
 * @memcg_id: id of the page's memory cgroup.
 * @pgidle_unset: the page's idle flag is unset.
 */
struct damon_page_attrs {
	bool anon;
	uint64_t memcg_id;
	bool pgidle_unset;
};

/* ------------------------------------------------------------------ */
/* 4. Operations sets                                                  */
/* ------------------------------------------------------------------ */

/**
 * enum damon_ops_id - identifier of an operations set.
 * @DAMON_OPS_VADDR: virtual address spaces of processes (three regions).
 * @DAMON_OPS_FVADDR: fixed virtual address ranges given by the user.
 * @DAMON_OPS_PADDR: the physical address space.
 * @DAMON_OPS_SIM: udamon's deterministic simulation of a masim workload.
 * @DAMON_OPS_APP: an application's own address space and actions.
 */
enum damon_ops_id {
	DAMON_OPS_VADDR,
	DAMON_OPS_FVADDR,
	DAMON_OPS_PADDR,
	DAMON_OPS_SIM,
	DAMON_OPS_APP,
	NR_DAMON_OPS,
};

struct damon_ctx;

/**
 * struct damon_operations - monitoring operations for one kind of address
 * space.  Every hook is optional; the core checks for NULL.
 * @id: identifier, for registration and selection.
 * @init: set up the context (e.g. initial regions of targets without any).
 * @update: refresh the context every ops_update_interval.
 * @prepare_access_checks: pick each region's sampling address and clear
 *                         its accessed state.
 * @check_accesses: count accesses of each region since preparation;
 *                  returns the maximum nr_accesses over all regions.
 * @get_scheme_score: priority score (0..DAMOS_MAX_SCORE) of a region for a
 *                    scheme.
 * @apply_scheme: apply a scheme's action to a region; returns the bytes
 *                applied and reports the bytes that passed the ops filters
 *                through @sz_filter_passed.
 * @target_valid: whether a target can still be monitored.
 * @cleanup_target: release what the operations set holds for a target.
 * @get_goal_metric: read the current value of a quota goal's system metric
 *                   (0 on success).  Without it only user_input works.
 * @get_wmark_metric: read a watermark metric (0 on success).
 * @commit_priv: carry the source context's @ops_priv to the destination
 *               on damon_commit_ctx() (e.g. a new sim workload).
 * @free_priv: free the context's @ops_priv (called by damon_destroy_ctx()).
 * @prep_probes: run the probes' preparation actions (set_pgidle) on each
 *               region's sampled page; choose the sampling addresses
 *               first when @set_sampling_addr (attributes-only mode, where
 *               prepare_access_checks does not run).
 * @apply_probes: test each region's sampled page against every probe and
 *                count hits (damon_probe_account()); choose the sampling
 *                addresses first when @set_sampling_addr.  Returns the
 *                largest weighted probe-hit sum over all regions when
 *                @return_max_wsum (else anything).
 * @save_state: udamon only; serialize what the operations set learned of
 *              target @t (its model state), for damon_checkpoint_save().
 *              Sets *@buf (allocated, freed by the caller) and *@len.
 * @restore_state: udamon only; the reverse, for damon_checkpoint_restore():
 *                 with @dry_run only check that @buf fits @t (same
 *                 workload...), else install it.  Times in @buf are moved
 *                 by @clock_shift_ns (the context clock's jump since the
 *                 save).  A negative errno and a reason in @why on failure.
 * @check_ctx: whether the context can run on this machine; on failure put a
 *             one-line reason naming what is missing in @why and return a
 *             negative errno.  damon_start() and damon_commit_ctx() refuse
 *             to start or commit what it refuses.
 */
struct damon_operations {
	enum damon_ops_id id;
	void (*init)(struct damon_ctx *context);
	void (*update)(struct damon_ctx *context);
	void (*prepare_access_checks)(struct damon_ctx *context);
	unsigned int (*check_accesses)(struct damon_ctx *context);
	int (*get_scheme_score)(struct damon_ctx *context,
				struct damon_target *t, struct damon_region *r,
				struct damos *scheme);
	unsigned long (*apply_scheme)(struct damon_ctx *context,
				      struct damon_target *t,
				      struct damon_region *r,
				      struct damos *scheme,
				      unsigned long *sz_filter_passed);
	bool (*target_valid)(struct damon_target *t);
	void (*cleanup_target)(struct damon_target *t);
	int (*get_goal_metric)(struct damon_ctx *context,
			       const struct damos_quota_goal *goal,
			       unsigned long *value);
	int (*get_wmark_metric)(struct damon_ctx *context,
				enum damos_wmark_metric metric,
				unsigned long *value);
	int (*commit_priv)(struct damon_ctx *dst, struct damon_ctx *src);
	void (*free_priv)(struct damon_ctx *context);
	int (*check_ctx)(struct damon_ctx *context, char *why, size_t len);
	void (*prep_probes)(struct damon_ctx *context, bool set_sampling_addr);
	unsigned int (*apply_probes)(struct damon_ctx *context,
				     bool set_sampling_addr,
				     bool return_max_wsum);
	int (*save_state)(struct damon_ctx *context, struct damon_target *t,
			  void **buf, size_t *len);
	int (*restore_state)(struct damon_ctx *context, struct damon_target *t,
			     const void *buf, size_t len,
			     int64_t clock_shift_ns, bool dry_run, char *why,
			     size_t why_len);
};

/* ------------------------------------------------------------------ */
/* 5. Attributes, controls, events, the context                        */
/* ------------------------------------------------------------------ */

/**
 * struct damon_intervals_goal - monitoring intervals auto-tuning goal.
 * @access_bp: wanted ratio of observed to possible access events (bp).
 * @aggrs: tune every this many aggregation intervals (0: no tuning).
 * @min_sample_us: lower bound of the tuned sampling interval.
 * @max_sample_us: upper bound of it.
 */
struct damon_intervals_goal {
	unsigned long access_bp;
	unsigned long aggrs;
	unsigned long min_sample_us;
	unsigned long max_sample_us;
};

/**
 * struct damon_attrs - monitoring attributes; times in microseconds.
 * @sample_interval: time between samples.
 * @aggr_interval: time of one aggregation window.
 * @ops_update_interval: how often ops.update runs.
 * @intervals_goal: intervals auto-tuning goal.
 * @min_nr_regions: lower bound of the number of regions.
 * @max_nr_regions: upper bound of it.
 * @aggr_samples: private; aggr_interval / sample_interval kept by tuning.
 */
struct damon_attrs {
	unsigned long sample_interval;
	unsigned long aggr_interval;
	unsigned long ops_update_interval;
	struct damon_intervals_goal intervals_goal;
	unsigned long min_nr_regions;
	unsigned long max_nr_regions;
	unsigned long aggr_samples;
};

/**
 * struct damon_call_control - a function for the kdamond to call.
 * @fn: the function; its return value is stored in @return_code.
 * @data: its argument.
 * @repeat: call it in every kdamond round until the kdamond stops; then
 *          damon_call() returns at once without waiting.
 * @dealloc_on_cancel: free() the control when a repeat call is canceled.
 * @return_code: what @fn returned (last call).
 */
struct damon_call_control {
	int (*fn)(void *data);
	void *data;
	bool repeat;
	bool dealloc_on_cancel;
	int return_code;

	/* private */
	bool done;
	bool canceled;
	struct damon_list_head list;
};

/**
 * struct damos_walk_control - a request to see the regions schemes act on.
 * @walk_fn: called for every region a scheme is about to be applied to,
 *           during one apply interval of every scheme.
 * @data: first argument of @walk_fn.
 */
struct damos_walk_control {
	void (*walk_fn)(void *data, struct damon_ctx *ctx,
			struct damon_target *t, struct damon_region *r,
			struct damos *s, unsigned long sz_filter_passed);
	void *data;

	/* private */
	bool done;
	bool canceled;
};

/**
 * enum damon_event_type - what happened (the kernel's tracepoints).
 * @DAMON_EVENT_AGGREGATED: damon_aggregated; one event per region at each
 *                          aggregation reset, before counters are cleared.
 * @DAMON_EVENT_DAMOS_BEFORE_APPLY: damos_before_apply.
 * @DAMON_EVENT_DAMOS_ESZ: damos_esz.
 * @DAMON_EVENT_DAMOS_STAT_AFTER_APPLY_INTERVAL:
 *                          damos_stat_after_apply_interval.
 * @DAMON_EVENT_MONITOR_INTERVALS_TUNE: damon_monitor_intervals_tune.
 * @DAMON_EVENT_REGION_AGGREGATED: damon_region_aggregated; like
 *                          @DAMON_EVENT_AGGREGATED (and right after it) with
 *                          the probe hits of the region.
 * @DAMON_EVENT_TARGET_EXEC: udamon only (no kernel tracepoint): the process
 *                          of target @target_idx, @pid, called execve() and
 *                          is followed into its new program (vaddr,
 *                          fvaddr).
 * @DAMON_EVENT_AUTO_PAUSE: udamon only: every target of the context is
 *                          stopped or frozen and auto pause is set; the
 *                          kdamond waits in the pause loop (USDT
 *                          udamon_auto_pause).
 * @DAMON_EVENT_AUTO_RESUME: udamon only: a target runs again; the automatic
 *                          pause ends (USDT udamon_auto_resume).
 */
enum damon_event_type {
	DAMON_EVENT_AGGREGATED,
	DAMON_EVENT_DAMOS_BEFORE_APPLY,
	DAMON_EVENT_DAMOS_ESZ,
	DAMON_EVENT_DAMOS_STAT_AFTER_APPLY_INTERVAL,
	DAMON_EVENT_MONITOR_INTERVALS_TUNE,
	DAMON_EVENT_REGION_AGGREGATED,
	DAMON_EVENT_TARGET_EXEC,
	DAMON_EVENT_AUTO_PAUSE,
	DAMON_EVENT_AUTO_RESUME,
	NR_DAMON_EVENTS,
};

/**
 * struct damon_event - the fields of an event; which are set depends on
 * @type, as for the kernel tracepoint of the same name.
 */
struct damon_event {
	enum damon_event_type type;
	unsigned int context_idx;
	unsigned int scheme_idx;
	unsigned long target_idx;
	unsigned int nr_regions;
	unsigned long start;
	unsigned long end;
	unsigned int nr_accesses;
	unsigned int age;
	unsigned long esz;
	struct damos_stat stat;
	unsigned long sample_us;
	/** damon_region_aggregated: number of probes and their hits. */
	unsigned int nr_probes;
	unsigned char probe_hits[DAMON_MAX_PROBES];
	/** DAMON_EVENT_TARGET_EXEC: the process id. */
	int pid;
	/** passed_sample_intervals when the event fired. */
	unsigned long passed_sample_intervals;
};

/** damon_event_fn - receives events on the kdamond thread. */
typedef void (*damon_event_fn)(void *arg, struct damon_ctx *ctx,
			       const struct damon_event *ev);

/**
 * struct damon_ctx - a monitoring context.
 * @attrs: monitoring attributes; change with damon_set_attrs() or commit.
 * @ops: the operations set (copied by damon_select_ops()).
 * @ops_priv: private data of the operations set for the whole context.
 * @addr_unit: core address times this is the real address (paddr only).
 * @min_region_sz: region boundaries are multiples of this (power of 2).
 * @pause: pause the monitoring (see damon_start() and §2.7 of the spec):
 *         a paused kdamond only serves damon_call(), cancels damos_walk()
 *         and checks its stop conditions, keeping everything it learned.
 * @adaptive_targets: list of &struct damon_target.
 * @schemes: list of &struct damos.
 * @probes: list of &struct damon_probe (at most DAMON_MAX_PROBES).
 * @rnd_seed: seed of the context's pseudo random generator; re-seeded from
 *            it by damon_start() and damon_manual_start().
 *
 * Everything below "private" belongs to the core.  While the context runs
 * only its kdamond touches it; others go through damon_call().
 */
struct damon_ctx {
	struct damon_attrs attrs;
	struct damon_operations ops;
	void *ops_priv;
	unsigned long addr_unit;
	unsigned long min_region_sz;
	bool pause;
	struct damon_list_head adaptive_targets;
	struct damon_list_head schemes;
	struct damon_list_head probes;
	uint64_t rnd_seed;

	/* private */
	unsigned long passed_sample_intervals;
	unsigned long next_aggregation_sis;
	unsigned long next_ops_update_sis;
	unsigned long next_intervals_tune_sis;
	unsigned long *regions_score_histogram;
	unsigned long last_nr_regions;
	uint64_t rnd_state;
	bool maybe_corrupted;
	/* why the operations set refused the last start/commit ("" if not) */
	char refusal[256];

	damon_event_fn event_fn;
	void *event_arg;

	/* clock: CLOCK_MONOTONIC unless virtual */
	bool virtual_clock;
	uint64_t virtual_now_ns;

	/* kdamond bookkeeping */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t kdamond;
	bool kdamond_joinable;
	bool kdamond_running;
	bool manual;
	bool stop_requested;
	int kdamond_tid;
	unsigned int kdamond_idx;

	bool kdamond_started;
	struct damon_list_head call_controls;
	unsigned long call_seq;
	bool call_controls_obsolete;
	struct damos_walk_control *walk_control;
	bool walk_control_obsolete;

	/* iteration state for the step function */
	bool in_pause_loop;
	unsigned long sz_limit;
	unsigned long iter_next_aggregation_sis;
	unsigned long iter_next_ops_update_sis;
	unsigned int last_max_nr_accesses;

	/* udamon: checkpoint and automatic pause (checkpoint.c, autopause.c) */
	bool serving_calls; /* inside udamon__kdamond_call() */
	bool calls_at_gate; /* ... from the watermark gate, before sampling */
	void *ckpt_pending; /* parsed checkpoint to apply at the next call */
	bool auto_pause; /* pause while every target is stopped or frozen */
	bool auto_paused; /* paused by auto_pause now (not by the user) */
	uint64_t auto_pause_checked_ns; /* clock of the last check */
	/* time spent in the pause loop: [0] the user's pause, [1] auto */
	uint64_t paused_ns[2];
	uint64_t pause_mark_ns; /* clock up to which paused_ns counts */
};

/* ------------------------------------------------------------------ */
/* 6. Functions                                                        */
/* ------------------------------------------------------------------ */

#define damon_for_each_region(r, t) \
	damon_list_for_each_entry(r, &(t)->regions_list, list)
#define damon_for_each_region_safe(r, next, t) \
	damon_list_for_each_entry_safe(r, next, &(t)->regions_list, list)
#define damon_for_each_region_from(r, t)         \
	for (; &(r)->list != &(t)->regions_list; \
	     r = damon_list_entry((r)->list.next, struct damon_region, list))
#define damon_for_each_target(t, ctx) \
	damon_list_for_each_entry(t, &(ctx)->adaptive_targets, list)
#define damon_for_each_target_safe(t, next, ctx) \
	damon_list_for_each_entry_safe(t, next, &(ctx)->adaptive_targets, list)
#define damon_for_each_scheme(s, ctx) \
	damon_list_for_each_entry(s, &(ctx)->schemes, list)
#define damon_for_each_scheme_safe(s, next, ctx) \
	damon_list_for_each_entry_safe(s, next, &(ctx)->schemes, list)
#define damos_for_each_quota_goal(goal, quota) \
	damon_list_for_each_entry(goal, &(quota)->goals, list)
#define damos_for_each_quota_goal_safe(goal, next, quota) \
	damon_list_for_each_entry_safe(goal, next, &(quota)->goals, list)
#define damos_for_each_core_filter(f, scheme) \
	damon_list_for_each_entry(f, &(scheme)->core_filters, list)
#define damos_for_each_core_filter_safe(f, next, scheme) \
	damon_list_for_each_entry_safe(f, next, &(scheme)->core_filters, list)
#define damos_for_each_ops_filter(f, scheme) \
	damon_list_for_each_entry(f, &(scheme)->ops_filters, list)
#define damos_for_each_ops_filter_safe(f, next, scheme) \
	damon_list_for_each_entry_safe(f, next, &(scheme)->ops_filters, list)
#define damon_for_each_probe(p, ctx) \
	damon_list_for_each_entry(p, &(ctx)->probes, list)
#define damon_for_each_probe_safe(p, next, ctx) \
	damon_list_for_each_entry_safe(p, next, &(ctx)->probes, list)
#define damon_for_each_filter(f, probe) \
	damon_list_for_each_entry(f, &(probe)->filters, list)
#define damon_for_each_filter_safe(f, next, probe) \
	damon_list_for_each_entry_safe(f, next, &(probe)->filters, list)
#define damon_for_each_prep(prep, probe) \
	damon_list_for_each_entry(prep, &(probe)->preps, list)
#define damon_for_each_prep_safe(prep, next, probe) \
	damon_list_for_each_entry_safe(prep, next, &(probe)->preps, list)

/* Regions */

/**
 * damon_new_region() - allocate a region.
 * @start: its start address.
 * @end: its end address (exclusive).
 *
 * The counters and the age start at zero; the region is in no target.
 *
 * Return: the region, or NULL without memory.
 */
DAMON_API struct damon_region *damon_new_region(unsigned long start,
						unsigned long end);

/**
 * damon_add_region() - append @r to the regions of @t.
 * @r: the region, which @t then owns.
 * @t: the target.
 */
DAMON_API void damon_add_region(struct damon_region *r, struct damon_target *t);

/**
 * damon_insert_region() - insert @r between two adjacent regions of @t.
 * @r: the region, which @t then owns.
 * @prev: the region it goes after.
 * @next: the region it goes before (the one after @prev).
 * @t: the target.
 */
DAMON_API void damon_insert_region(struct damon_region *r,
				   struct damon_region *prev,
				   struct damon_region *next,
				   struct damon_target *t);

/**
 * damon_destroy_region() - unlink @r from @t and free it.
 * @r: the region.
 * @t: the target holding it.
 */
DAMON_API void damon_destroy_region(struct damon_region *r,
				    struct damon_target *t);

/**
 * damon_first_region() - the lowest region of @t.
 * @t: the target.
 *
 * Return: the region, or NULL when @t has none.
 */
DAMON_API struct damon_region *damon_first_region(struct damon_target *t);

/**
 * damon_last_region() - the highest region of @t.
 * @t: the target.
 *
 * Return: the region, or NULL when @t has none.
 */
DAMON_API struct damon_region *damon_last_region(struct damon_target *t);

/**
 * damon_is_last_region() - whether @r is the last region of @t.
 * @r: a region of @t.
 * @t: the target.
 *
 * Return: true if no region follows @r.
 */
DAMON_API bool damon_is_last_region(struct damon_region *r,
				    struct damon_target *t);

/**
 * damon_sz_region() - the size of @r.
 * @r: the region.
 *
 * Return: its size in bytes (end - start).
 */
DAMON_API unsigned long damon_sz_region(const struct damon_region *r);

/**
 * damon_set_regions() - fit the regions of @t to @ranges (§3.7).
 * @t: the target.
 * @ranges: address ranges in increasing order, not overlapping once
 *          aligned.
 * @nr_ranges: number of @ranges.
 * @min_region_sz: the bounds are aligned outwards to multiples of this.
 *
 * Regions that intersect no range are removed; the first and last
 * regions intersecting a range are stretched to its aligned bounds and
 * the holes between them filled with new regions, so what the kept
 * regions learned stays; a range no region intersects gets one new
 * region.
 *
 * Return: 0; -EINVAL for a zero @min_region_sz or ranges that are empty,
 * overflow when aligned or overlap (then @t is unchanged); -ENOMEM.
 */
DAMON_API int damon_set_regions(struct damon_target *t,
				struct damon_addr_range *ranges,
				unsigned int nr_ranges,
				unsigned long min_region_sz);
/**
 * damon_update_region_access_rate() - account one sample of @r.
 * @r: the region.
 * @accessed: whether the sampled page was accessed since preparation.
 * @attrs: the context's monitoring attributes.
 *
 * Operations sets call this from check_accesses for every region and every
 * sample: it updates the moving sum @r->nr_accesses_bp and, if @accessed,
 * increments @r->nr_accesses.
 */
DAMON_API void damon_update_region_access_rate(struct damon_region *r,
					       bool accessed,
					       struct damon_attrs *attrs);

/* Targets */

/**
 * damon_new_target() - allocate a target without regions.
 *
 * Return: the target, or NULL without memory.
 */
DAMON_API struct damon_target *damon_new_target(void);

/**
 * damon_add_target() - append @t to the targets of @ctx.
 * @ctx: the context, which then owns @t.
 * @t: the target.
 */
DAMON_API void damon_add_target(struct damon_ctx *ctx, struct damon_target *t);

/**
 * damon_targets_empty() - whether @ctx has no target.
 * @ctx: the context.
 *
 * Return: true without targets.
 */
DAMON_API bool damon_targets_empty(struct damon_ctx *ctx);

/**
 * damon_destroy_target() - unlink @t from its context, if any, and free it
 * with its regions.
 * @t: the target.
 * @ctx: the context whose operations set releases what it holds for @t
 *       (its cleanup_target hook), or NULL.
 */
DAMON_API void damon_destroy_target(struct damon_target *t,
				    struct damon_ctx *ctx);

/**
 * damon_nr_regions() - number of regions of @t.
 * @t: the target.
 *
 * Return: the count.
 */
DAMON_API unsigned int damon_nr_regions(struct damon_target *t);

/**
 * damon_nr_targets() - number of targets of @ctx.
 * @ctx: the context.
 *
 * Return: the count.
 */
DAMON_API unsigned int damon_nr_targets(struct damon_ctx *ctx);

/**
 * damon_target_has_pid() - whether the targets of @ctx are processes.
 * @ctx: the context, after damon_select_ops().
 *
 * Return: true for the vaddr and fvaddr operations sets.
 */
DAMON_API bool damon_target_has_pid(const struct damon_ctx *ctx);

/* Context */

/**
 * damon_new_ctx() - allocate a context with the kernel's default
 * attributes (5 ms sampling, 100 ms aggregation, 60 s ops update, 10 to
 * 1000 regions), no operations set, no targets and seed 42.
 *
 * Return: the context, or NULL without memory.
 */
DAMON_API struct damon_ctx *damon_new_ctx(void);

/**
 * damon_destroy_ctx() - free a context that is not running, with its
 * targets, schemes, probes and its operations set's private data.
 * @ctx: the context, or NULL.
 *
 * Reaps the kdamond thread of a context that stopped by itself.
 */
DAMON_API void damon_destroy_ctx(struct damon_ctx *ctx);

/**
 * damon_set_attrs() - set the monitoring attributes of @ctx.
 * @ctx: the context (call it on the kdamond while it runs).
 * @attrs: the attributes; a zero @attrs->aggr_samples is filled in.
 *
 * Rescales what the regions learned to the new intervals (§6.1) and
 * reschedules aggregation, ops update and every scheme.
 *
 * Return: 0, or -EINVAL for fewer than 3 minimum regions, a minimum above
 * the maximum, a sampling interval above the aggregation interval, an
 * intervals goal whose bounds exclude the sampling interval, or probe
 * parameters that do not fit the new intervals.
 */
DAMON_API int damon_set_attrs(struct damon_ctx *ctx, struct damon_attrs *attrs);

/**
 * damon_nr_samples_per_aggr() - samples per aggregation interval.
 * @attrs: the attributes.
 *
 * Return: aggr_interval / sample_interval, at least 1 and at most
 * UINT_MAX.
 */
DAMON_API unsigned int
damon_nr_samples_per_aggr(const struct damon_attrs *attrs);

/**
 * damon_set_event_fn() - where the events of @ctx go.
 * @ctx: the context.
 * @fn: called on the kdamond for every event, or NULL for none.
 * @arg: passed to @fn.
 */
DAMON_API void damon_set_event_fn(struct damon_ctx *ctx, damon_event_fn fn,
				  void *arg);
/**
 * damon_passed_sample_intervals() - the sampling intervals the kdamond of
 * @ctx has passed since it started (the kernel's passed_sample_intervals).
 * @ctx: the context.
 *
 * The count stands still while the context is paused.  Read it on the
 * kdamond (a damon_call() callback or an event callback) or while the
 * context does not run.
 *
 * Return: the number of sampling intervals passed.
 */
DAMON_API unsigned long
damon_passed_sample_intervals(const struct damon_ctx *ctx);

/* Operations sets */

/**
 * damon_register_ops() - register an operations set under @ops->id.
 * @ops: the operations set (copied).
 *
 * Return: 0, or -EINVAL for an unknown id or one already registered.
 */
DAMON_API int damon_register_ops(struct damon_operations *ops);

/**
 * damon_unregister_ops() - unregister the operations set @id.  Contexts
 * that selected it keep their copy.
 * @id: the operations set.
 *
 * Return: 0, or -EINVAL for an unknown or unregistered id.
 */
DAMON_API int damon_unregister_ops(enum damon_ops_id id);

/**
 * damon_is_registered_ops() - whether the operations set @id is
 * registered.
 * @id: the operations set.
 *
 * Return: true if registered (false for an unknown id).
 */
DAMON_API bool damon_is_registered_ops(enum damon_ops_id id);

/**
 * damon_select_ops() - make @ctx use the registered operations set @id.
 * @ctx: the context.
 * @id: the operations set.
 *
 * Return: 0, or -EINVAL for an unknown or unregistered id.
 */
DAMON_API int damon_select_ops(struct damon_ctx *ctx, enum damon_ops_id id);

/* DAMOS objects */

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
DAMON_API struct damos *
damon_new_scheme(struct damos_access_pattern *pattern, enum damos_action action,
		 unsigned long apply_interval_us, struct damos_quota *quota,
		 struct damos_watermarks *wmarks, int target_nid);

/**
 * damon_add_scheme() - append @s to the schemes of @ctx.
 * @ctx: the context, which takes ownership.
 * @s: the scheme.
 */
DAMON_API void damon_add_scheme(struct damon_ctx *ctx, struct damos *s);

/**
 * damon_destroy_scheme() - unlink @s from its context (if any) and free it
 * with its goals, filters and migration destinations.
 * @s: the scheme.
 */
DAMON_API void damon_destroy_scheme(struct damos *s);

/**
 * damon_nr_schemes() - number of schemes of @ctx.
 * @ctx: the context.
 *
 * Return: the count.
 */
DAMON_API unsigned int damon_nr_schemes(struct damon_ctx *ctx);

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
DAMON_API struct damos_filter *damos_new_filter(enum damos_filter_type type,
						bool matching, bool allow);

/**
 * damos_add_filter() - append @f to the core or ops filter list of @s,
 * depending on its type.
 * @s: the scheme, which takes ownership.
 * @f: the filter.
 */
DAMON_API void damos_add_filter(struct damos *s, struct damos_filter *f);

/**
 * damos_destroy_filter() - unlink @f from its list (if any) and free it.
 * @f: the filter.
 */
DAMON_API void damos_destroy_filter(struct damos_filter *f);

/**
 * damos_filter_for_ops() - whether the operations set evaluates a filter
 * type (true) or the core does (false: addr, target, probe_hits_wsum).
 * @type: the filter type.
 *
 * Return: true for ops-handled types.
 */
DAMON_API bool damos_filter_for_ops(enum damos_filter_type type);

/**
 * damos_new_quota_goal() - allocate a quota goal.
 * @metric: what the goal measures.
 * @target_value: the value to reach.
 *
 * Return: the goal, not linked anywhere, or NULL without memory.
 */
DAMON_API struct damos_quota_goal *
damos_new_quota_goal(enum damos_quota_goal_metric metric,
		     unsigned long target_value);

/**
 * damos_add_quota_goal() - append @g to the goals of @q.
 * @q: the quota, which takes ownership.
 * @g: the goal.
 */
DAMON_API void damos_add_quota_goal(struct damos_quota *q,
				    struct damos_quota_goal *g);

/**
 * damos_destroy_quota_goal() - unlink @g from its list (if any), free it.
 * @g: the goal.
 */
DAMON_API void damos_destroy_quota_goal(struct damos_quota_goal *g);

/**
 * damos_set_migrate_dests() - set the weighted migration destinations.
 * @s: the scheme.
 * @node_ids: @nr_dests node ids (copied).
 * @weights: @nr_dests weights (copied).
 * @nr_dests: number of destinations; 0 clears them (target_nid is used).
 *
 * Return: 0, -EINVAL for NULL arrays with a non-zero count, or -ENOMEM
 * (then @s is unchanged).
 */
DAMON_API int damos_set_migrate_dests(struct damos *s,
				      const unsigned int *node_ids,
				      const unsigned int *weights,
				      size_t nr_dests);

/**
 * damos_commit_quota_goals() - commit the goals of @src into @dst,
 * index by index: matched goals are updated in place, extra destination
 * goals removed, extra source goals copied in.
 * @dst: the destination quota.
 * @src: the source quota.
 *
 * Return: 0, -EINVAL for a goal with target_value 0, or -ENOMEM.
 */
DAMON_API int damos_commit_quota_goals(struct damos_quota *dst,
				       struct damos_quota *src);

/**
 * damos_set_filters_default_reject() - recompute what happens to memory
 * no filter matched, for the core and the ops stage.
 * @s: the scheme.
 *
 * Memory that passes the core stage undecided still meets the ops
 * filters, so the core stage rejects by default only when there are no
 * ops filters.
 */
DAMON_API void damos_set_filters_default_reject(struct damos *s);

/* Data attribute probes (docs/probes.md) */

/**
 * damon_new_probe() - allocate a data attribute probe without preps or
 * filters and with weight zero (docs/probes.md).
 *
 * Return: the probe, not linked anywhere, or NULL without memory.
 */
DAMON_API struct damon_probe *damon_new_probe(void);
/** damon_add_probe() - append @p to @ctx's probes (no limit is checked). */
DAMON_API void damon_add_probe(struct damon_ctx *ctx, struct damon_probe *p);
/** damon_destroy_probe() - unlink @p (if linked) and free it. */
DAMON_API void damon_destroy_probe(struct damon_probe *p);

/**
 * damon_nr_probes() - number of probes of @ctx.
 * @ctx: the context.
 *
 * Return: the count.
 */
DAMON_API unsigned int damon_nr_probes(const struct damon_ctx *ctx);

/**
 * damon_new_filter() - allocate a probe filter.
 * @type: the page attribute it tests.
 * @matching: whether it matches pages having (true) or lacking it.
 * @allow: whether a matched page is a hit (true) or not.
 *
 * The type-specific argument is zero; set it before adding the filter.
 *
 * Return: the filter, not linked anywhere, or NULL without memory.
 */
DAMON_API struct damon_filter *damon_new_filter(enum damon_filter_type type,
						bool matching, bool allow);

/**
 * damon_add_filter() - append @f to the filters of probe @p.
 * @p: the probe, which takes ownership.
 * @f: the filter.
 */
DAMON_API void damon_add_filter(struct damon_probe *p, struct damon_filter *f);

/**
 * damon_destroy_filter() - unlink @f from its probe (if any) and free it.
 * @f: the filter.
 */
DAMON_API void damon_destroy_filter(struct damon_filter *f);

/**
 * damon_new_prep() - allocate a probe prep (work done on sampled pages
 * before the probe checks them).
 * @action: what the prep does.
 *
 * Return: the prep, not linked anywhere, or NULL without memory.
 */
DAMON_API struct damon_prep *damon_new_prep(enum damon_prep_action action);

/**
 * damon_add_prep() - append @prep to the preps of probe @p.
 * @p: the probe, which takes ownership.
 * @prep: the prep.
 */
DAMON_API void damon_add_prep(struct damon_probe *p, struct damon_prep *prep);

/**
 * damon_destroy_prep() - unlink @prep from its probe (if any), free it.
 * @prep: the prep.
 */
DAMON_API void damon_destroy_prep(struct damon_prep *prep);
/** damon_has_probe_weights() - whether @ctx monitors attributes only. */
DAMON_API bool damon_has_probe_weights(const struct damon_ctx *ctx);
/** damon_has_probe_preps() - whether any probe of @ctx has a prep. */
DAMON_API bool damon_has_probe_preps(const struct damon_ctx *ctx);
/** damon_probe_uses_filter() - whether any probe has a @type filter. */
DAMON_API bool damon_probe_uses_filter(const struct damon_ctx *ctx,
				       enum damon_filter_type type);
/**
 * damon_probe_hit() - whether a page with attributes @pa hits probe @p
 * (first matching filter decides; see &struct damon_filter).
 */
DAMON_API bool damon_probe_hit(const struct damon_probe *p,
			       const struct damon_page_attrs *pa);
/**
 * damon_probe_account() - count one sample of @r whose page has @pa:
 * every probe it hits gets one more hit (saturating at 255).
 * Return: the weighted sum of @r's current-window probe hits.
 */
DAMON_API unsigned int damon_probe_account(struct damon_ctx *ctx,
					   struct damon_region *r,
					   const struct damon_page_attrs *pa);
/**
 * damon_probe_hits_mvsum() - pseudo moving sum of probe @idx's hits of
 * @r over the last aggregation interval (as damon_nr_accesses_mvsum()).
 */
DAMON_API unsigned int damon_probe_hits_mvsum(const struct damon_ctx *ctx,
					      const struct damon_region *r,
					      unsigned int idx);
/**
 * damon_probe_hits_wsum() - Σ hits × weight over @ctx's probes: of the
 * last window if @last, else the moving sum if @mv, else the current one.
 */
DAMON_API unsigned int damon_probe_hits_wsum(const struct damon_ctx *ctx,
					     const struct damon_region *r,
					     bool last, bool mv);

/* Keywords (sysfs names) */

/**
 * damos_action_name() - the sysfs keyword of a DAMOS action.
 * @action: the action.
 *
 * Return: the keyword, or NULL for a value outside the enum.
 */
DAMON_API const char *damos_action_name(enum damos_action action);

/**
 * damos_action_from_name() - parse a DAMOS action keyword.
 * @name: the keyword (exact match).
 * @action: receives the value.
 *
 * Return: 0, or -EINVAL for an unknown keyword.
 */
DAMON_API int damos_action_from_name(const char *name,
				     enum damos_action *action);

/**
 * damos_filter_type_name() - the sysfs keyword of a DAMOS filter type.
 * @type: the type.
 *
 * Return: the keyword, or NULL for a value outside the enum.
 */
DAMON_API const char *damos_filter_type_name(enum damos_filter_type type);

/**
 * damos_filter_type_from_name() - parse a DAMOS filter type keyword.
 * @name: the keyword (exact match).
 * @type: receives the value.
 *
 * Return: 0, or -EINVAL for an unknown keyword.
 */
DAMON_API int damos_filter_type_from_name(const char *name,
					  enum damos_filter_type *type);

/**
 * damos_quota_goal_metric_name() - the sysfs keyword of a quota goal metric.
 * @metric: the metric.
 *
 * Return: the keyword, or NULL for a value outside the enum.
 */
DAMON_API const char *
damos_quota_goal_metric_name(enum damos_quota_goal_metric metric);

/**
 * damos_quota_goal_metric_from_name() - parse a quota goal metric keyword.
 * @name: the keyword (exact match).
 * @metric: receives the value.
 *
 * Return: 0, or -EINVAL for an unknown keyword.
 */
DAMON_API int
damos_quota_goal_metric_from_name(const char *name,
				  enum damos_quota_goal_metric *metric);

/**
 * damon_filter_type_name() - the sysfs keyword of a probe filter type.
 * @type: the type.
 *
 * Return: the keyword, or NULL for a value outside the enum.
 */
DAMON_API const char *damon_filter_type_name(enum damon_filter_type type);

/**
 * damon_filter_type_from_name() - parse a probe filter type keyword.
 * @name: the keyword (exact match).
 * @type: receives the value.
 *
 * Return: 0, or -EINVAL for an unknown keyword.
 */
DAMON_API int damon_filter_type_from_name(const char *name,
					  enum damon_filter_type *type);

/**
 * damon_prep_action_name() - the sysfs keyword of a probe prep action.
 * @action: the action.
 *
 * Return: the keyword, or NULL for a value outside the enum.
 */
DAMON_API const char *damon_prep_action_name(enum damon_prep_action action);

/**
 * damon_prep_action_from_name() - parse a probe prep action keyword.
 * @name: the keyword (exact match).
 * @action: receives the value.
 *
 * Return: 0, or -EINVAL for an unknown keyword.
 */
DAMON_API int damon_prep_action_from_name(const char *name,
					  enum damon_prep_action *action);

/**
 * damon_ops_name() - the sysfs keyword of an operations set.
 * @id: the operations set.
 *
 * Return: the keyword, or NULL for a value outside the enum.
 */
DAMON_API const char *damon_ops_name(enum damon_ops_id id);

/**
 * damon_ops_from_name() - parse an operations set keyword.
 * @name: the keyword (exact match).
 * @id: receives the value.
 *
 * Return: 0, or -EINVAL for an unknown keyword.
 */
DAMON_API int damon_ops_from_name(const char *name, enum damon_ops_id *id);

/* Running */

/**
 * damon_start() - start monitoring with the given contexts.
 * @ctxs: the contexts.
 * @nr_ctxs: how many.
 * @exclusive: refuse to run together with any other group of contexts.
 *
 * Spawns one kdamond thread per context, named "kdamond.<N>".  A context
 * whose @pause is set still takes one full sample before it pauses.
 *
 * Return: 0 on success, -EBUSY if a context is running or exclusivity is
 * violated, -EINVAL for invalid parameters, or another negative errno.
 */
DAMON_API int damon_start(struct damon_ctx **ctxs, int nr_ctxs, bool exclusive);
/**
 * damon_stop() - stop the kdamonds of the given contexts and wait for them.
 * Return: 0, or -EPERM for a context that was not running.
 */
DAMON_API int damon_stop(struct damon_ctx **ctxs, int nr_ctxs);

/**
 * damon_is_running() - whether the kdamond of @ctx runs (a thread started
 * by damon_start(), or a damon_manual_start() not yet stopped).
 * @ctx: the context.
 *
 * Return: true while it runs.
 */
DAMON_API bool damon_is_running(struct damon_ctx *ctx);
/** damon_kdamond_pid() - thread id of the kdamond, or -1. */
DAMON_API int damon_kdamond_pid(struct damon_ctx *ctx);

/**
 * damon_commit_ctx() - commit the parameters of @src into @dst.
 *
 * Targets, schemes, goals and filters are matched by index; a source target
 * without regions keeps the destination's regions; attrs are set only when
 * they differ; @pause is copied.  Call it from the kdamond (i.e. inside a
 * damon_call() callback) when @dst runs.  On failure @dst->maybe_corrupted
 * stays set and a running kdamond exits.
 *
 * Return: 0 or a negative errno.
 */
DAMON_API int damon_commit_ctx(struct damon_ctx *dst, struct damon_ctx *src);

/**
 * damon_refusal() - why the operations set refused the last damon_start()
 * of @ctx, or the last damon_commit_ctx() with @ctx as source or
 * destination: a one-line reason naming what is missing, as its check_ctx
 * hook put it.  Empty after a start or commit that passed the check.
 * Read it from the thread that started or committed, once that returned.
 */
DAMON_API const char *damon_refusal(const struct damon_ctx *ctx);

/**
 * damon_call() - have the kdamond of @ctx call @control->fn.
 * Return: 0 once called (or queued, for repeat controls), -ECANCELED if the
 * context is not running or stopped before the call, -EINVAL on NULL.
 */
DAMON_API int damon_call(struct damon_ctx *ctx,
			 struct damon_call_control *control);

/**
 * damos_walk() - wait for one apply interval of every scheme, calling
 * @control->walk_fn for every region a scheme is about to be applied to.
 * Return: 0, -EBUSY if another walk is installed, -ECANCELED if the context
 * is not running, has no (active) schemes, is paused, or stops.
 */
DAMON_API int damos_walk(struct damon_ctx *ctx,
			 struct damos_walk_control *control);

/* Checkpoint and restore of learned state (udamon only; docs/design.md) */

/** DAMON_CHECKPOINT_VERSION - the checkpoint file format this library writes. */
#define DAMON_CHECKPOINT_VERSION 1

/**
 * damon_checkpoint_save() - save what the running context @ctx learned to
 * the file @path.
 * @ctx: a running context (a kdamond, or manually driven).
 * @path: the file; written to "@path.tmp" and renamed over @path, so a
 *        reader sees the old file or the whole new one.  Only a regular
 *        file is replaced: an existing @path that is anything else (a
 *        device node, FIFO, socket, symlink, directory) is refused.
 * @errbuf: gets a one-line reason on failure (may be NULL).
 * @errlen: size of @errbuf.
 *
 * The state is taken where the kdamond serves damon_call() (after an
 * iteration's sample, before its DAMOS): every target's regions with
 * nr_accesses, nr_accesses_bp, last_nr_accesses, age, probe hits and
 * sampling address; the (maybe tuned) sampling and aggregation intervals
 * and the positions of the next aggregation, ops update and tuning;
 * passed_sample_intervals; the PRNG state; the context clock; every
 * scheme's stats, quota state (esz, charged bytes and window, goal tuner
 * state, goals' last values), watermark activation and next apply; the
 * pause state; and what the operations set keeps per target (the sim's
 * workload model).  The file is versioned and carries a CRC-32.
 *
 * From a thread other than @ctx's kdamond it goes through damon_call().
 * On the kdamond's own thread it works only inside a damon_call()
 * callback (-EDEADLK elsewhere: a manual driver between steps is not at
 * that point).
 *
 * Return: 0; -ESRCH if @ctx is not running; -EDEADLK as above; -EINVAL
 * for a @path that is not a regular file; -ENOMEM; the negative errno of
 * a failed write, fsync or rename.
 */
DAMON_API int damon_checkpoint_save(struct damon_ctx *ctx, const char *path,
				    char *errbuf, size_t errlen);

/**
 * damon_checkpoint_restore() - make @ctx continue from the checkpoint in
 * the file @path.
 * @ctx: a context configured as the saved one: same operations set, same
 *       number of targets, schemes with the same actions and quota goal
 *       metrics, the same number of probes (parameters like access
 *       patterns and quotas may differ: they are the new configuration).
 * @path: a file written by damon_checkpoint_save().
 * @errbuf: gets a one-line reason naming the problem on failure.
 * @errlen: size of @errbuf.
 *
 * Only a regular file is read (the open never waits: a FIFO is refused).
 * The whole file is read, its version, length and CRC-32 checked and its
 * content matched against @ctx before anything changes: a missing,
 * truncated, corrupted, foreign-version or mismatched file is refused
 * with @ctx untouched.  The state is installed where the kdamond serves
 * damon_call(): at once through damon_call() when @ctx runs on a kdamond
 * thread; at the first such point after damon_start() or
 * damon_manual_start() when @ctx does not run yet, or when called from
 * the thread that drives it.  A context saved paused starts paused (a
 * pause set on @ctx is kept either way).  The saved sampling and
 * aggregation intervals replace @ctx's (the saved counters are on their
 * scale).  Times move with the clock: a virtual clock is set to the saved
 * time; with the real clock the quota charge windows and the sim's
 * workload time are shifted by the time that passed, so the checkpoint
 * continues as if no time had passed while it was stored.
 *
 * Targets with pids (vaddr, fvaddr): regions are restored as saved.  A
 * target whose pid differs from the saved one (the program was started
 * again) keeps the saved regions, and its operations set fits them to
 * the new process's mappings at the end of the restored iteration
 * (vaddr: the three-regions rule, keeping the state of what overlaps).
 *
 * Return: 0; -ENOENT etc. for an unreadable file; -EINVAL for a bad or
 * mismatched file (reason in @errbuf); -ECANCELED if @ctx stopped
 * meanwhile; -ENOMEM.
 */
DAMON_API int damon_checkpoint_restore(struct damon_ctx *ctx, const char *path,
				       char *errbuf, size_t errlen);

/**
 * damon_checkpoint_restore_buf() - damon_checkpoint_restore() from the
 * @len bytes of a checkpoint file held in memory at @buf; @name stands
 * for the file in messages.  For callers that must not open files where
 * they run (udamond reads the file first, away from its locks).
 */
DAMON_API int damon_checkpoint_restore_buf(struct damon_ctx *ctx,
					   const void *buf, size_t len,
					   const char *name, char *errbuf,
					   size_t errlen);

/**
 * damon_checkpoint_pending() - whether @ctx holds a restored checkpoint
 * that its kdamond has not installed yet.
 */
DAMON_API bool damon_checkpoint_pending(struct damon_ctx *ctx);

/**
 * damon_set_auto_pause() - make @ctx pause itself while every target is
 * stopped (SIGSTOP, job control, a ptrace stop: state T or t in
 * /proc/PID/stat) or frozen by the cgroup v2 freezer (its cgroup's
 * cgroup.events says "frozen 1"), and resume when one runs again.
 *
 * Checked at every sample interval at the point where a user's pause
 * takes effect, so it acts within one sample interval; while auto-paused
 * the kdamond behaves exactly as paused (no sampling, no DAMOS, walks
 * cancelled, calls served).  A user's pause wins: the user's pause
 * (@ctx->pause) and the automatic one are separate, auto-resume never
 * clears the user's, and a user's resume of an auto-paused context takes
 * effect when a target runs again.  Only for operations sets
 * whose targets are processes (vaddr, fvaddr); others never auto-pause.
 * Safe to call on a running context (the kdamond reads it at its next
 * check).
 * Return: 0, or -EINVAL for NULL.
 */
DAMON_API int damon_set_auto_pause(struct damon_ctx *ctx, bool on);
/** damon_auto_pause() - whether auto pause is set on @ctx. */
DAMON_API bool damon_auto_pause(struct damon_ctx *ctx);
/**
 * damon_auto_paused() - whether @ctx is auto-paused now (its targets are
 * all stopped or frozen and it is not running them).
 */
DAMON_API bool damon_auto_paused(struct damon_ctx *ctx);

/**
 * damon_paused_ns() - how long @ctx has been paused since it started, on
 * its clock: by the user's pause (@automatic false) or by auto pause
 * (@automatic true; time when both hold counts as the user's).  Counted
 * from where a pause takes effect to where the iteration resumes, the
 * pause in progress included.  Only on @ctx's kdamond thread (a
 * damon_call() callback) or while it does not run; restarts at 0 with
 * every start (a restored checkpoint included).
 */
DAMON_API uint64_t damon_paused_ns(struct damon_ctx *ctx, bool automatic);

/* Driving a context without a thread (tests, simulations) */

/**
 * damon_manual_start() - prepare @ctx to be driven by damon_manual_step()
 * on the calling thread, as a kdamond would run it.
 */
DAMON_API int damon_manual_start(struct damon_ctx *ctx);
/**
 * damon_manual_step() - run one kdamond loop iteration, or one round of the
 * pause loop while paused.
 * Return: 0 to continue, 1 when the kdamond would exit (stop requested, no
 * valid target, or corrupted parameters); call damon_manual_stop() then.
 */
DAMON_API int damon_manual_step(struct damon_ctx *ctx);
/** damon_manual_stop() - run the kdamond exit path. */
DAMON_API void damon_manual_stop(struct damon_ctx *ctx);
/**
 * damon_manual_run_for() - step until the context clock advanced @us
 * microseconds or the kdamond would exit.
 * Return: 0, or 1 if it would exit.
 */
DAMON_API int damon_manual_run_for(struct damon_ctx *ctx, uint64_t us);

/* Clock and randomness */
/** damon_use_virtual_clock() - make @ctx's clock virtual, starting at 0. */
DAMON_API void damon_use_virtual_clock(struct damon_ctx *ctx);
/** damon_now_ns() - the context's clock, in nanoseconds. */
DAMON_API uint64_t damon_now_ns(struct damon_ctx *ctx);
/** damon_clock_advance() - advance a virtual clock (modelled work). */
DAMON_API void damon_clock_advance(struct damon_ctx *ctx, uint64_t ns);
/** damon_rand() - a pseudo random number in [@l, @r) from @ctx's PRNG. */
DAMON_API unsigned long damon_rand(struct damon_ctx *ctx, unsigned long l,
				   unsigned long r);

/* Logging */
enum damon_log_level { DAMON_LOG_ERR, DAMON_LOG_WARN, DAMON_LOG_INFO };
typedef void (*damon_log_fn)(void *arg, enum damon_log_level level,
			     const char *msg);
/** damon_set_log_fn() - where the library's log lines go (default: none). */
DAMON_API void damon_set_log_fn(damon_log_fn fn, void *arg);

/* Workload configs (masim format) */

/*
 * The masim workload config format (src/ops/masim.c): parser and in-memory
 * form, shared by the sim operations set, the real-memory workload
 * generator (tools/workload/) and the CLI.
 *
 * The format (see WORKLOADS.md of the project docs):
 *
 *   # comment lines start with '#' and are deleted before anything else
 *   name, size_bytes[, init_file]          <- paragraph 1: one region a line
 *   ...
 *                                           <- exactly one blank line
 *   phase name                              <- every later paragraph: a phase
 *   duration_ms
 *   region, random(0|1), stride_bytes, weight[, ro|wo|rw]
 *   ...
 *
 * Parsing follows masim's own rules: only newline-terminated lines count
 * (a last line without '\n' is dropped), paragraphs are split by exactly
 * one blank line (an extra one makes an empty phase, which is an error),
 * fields are split on ',' without trimming (names are compared verbatim),
 * and numbers may have leading blanks as with atoi().  Unlike masim, every
 * problem is reported (not silently turned into 0) as
 * "<file>:<line>: <problem>" in a caller-supplied buffer.
 */

/** enum damon_masim_rw_mode - how a pattern touches memory (ro, wo, rw). */
enum damon_masim_rw_mode {
	DAMON_MASIM_RW_RO,
	DAMON_MASIM_RW_WO,
	DAMON_MASIM_RW_RW,
	NR_DAMON_MASIM_RW_MODES,
};

/**
 * struct damon_masim_region - one region of a workload.
 * @name: its name, verbatim from the config.
 * @size: size in bytes (> 0).
 * @init_file: file to fill it from, or NULL for none.
 * @line: line of the config that defined it.
 */
struct damon_masim_region {
	char *name;
	unsigned long long size;
	char *init_file;
	unsigned int line;
};

/**
 * struct damon_masim_pattern - one access pattern of a phase.
 * @region: index of the region in &damon_masim_config.regions.
 * @random: uniform random byte offsets (true) or sequential (false).
 * @stride: distance of consecutive sequential accesses, bytes.
 * @weight: relative share of the phase's accesses (>= 0).
 * @mode: read only, write only or read-then-write.
 * @line: line of the config that defined it.
 */
struct damon_masim_pattern {
	unsigned int region;
	bool random;
	unsigned long long stride;
	unsigned int weight;
	enum damon_masim_rw_mode mode;
	unsigned int line;
};

/**
 * struct damon_masim_phase - one timed phase.
 * @name: its name (the first line of the paragraph, verbatim).
 * @duration_ms: how long it runs (> 0).
 * @patterns: its access patterns.
 * @nr_patterns: number of @patterns (>= 1).
 * @total_weight: sum of the pattern weights (> 0).
 * @line: line of the config holding the name.
 */
struct damon_masim_phase {
	char *name;
	unsigned long long duration_ms;
	struct damon_masim_pattern *patterns;
	unsigned int nr_patterns;
	unsigned long long total_weight;
	unsigned int line;
};

/**
 * struct damon_masim_config - a parsed workload.
 * @name: the file name given to the parser (used in messages).
 * @regions: the regions, in config order.
 * @nr_regions: number of @regions (>= 1).
 * @phases: the phases, in config order.
 * @nr_phases: number of @phases (>= 1).
 */
struct damon_masim_config {
	char *name;
	struct damon_masim_region *regions;
	unsigned int nr_regions;
	struct damon_masim_phase *phases;
	unsigned int nr_phases;
};

/* Largest config file the parser reads. */
#define DAMON_MASIM_MAX_FILE_SIZE (16UL << 20)

/**
 * damon_masim_parse_buf() - parse a masim config held in memory.
 * @buf: the text (need not be NUL-terminated).
 * @len: its length in bytes.
 * @name: file name for messages.
 * @default_mode: mode of patterns without the fifth field.
 * @cfgp: gets the new config on success; free with damon_masim_free().
 * @errbuf: gets "<name>:<line>: <problem>" on failure (may be NULL).
 * @errlen: size of @errbuf.
 *
 * Return: 0, -EINVAL for a malformed config, -ENOMEM.
 */
DAMON_API int damon_masim_parse_buf(const char *buf, size_t len,
				    const char *name,
				    enum damon_masim_rw_mode default_mode,
				    struct damon_masim_config **cfgp,
				    char *errbuf, size_t errlen);

/**
 * damon_masim_parse_file() - read and parse the masim config at @path.
 *
 * Like damon_masim_parse_buf(), plus the errors of opening and reading
 * the file (-ENOENT, -EACCES, -EFBIG above DAMON_MASIM_MAX_FILE_SIZE ...), whose
 * messages name the file too.
 */
DAMON_API int damon_masim_parse_file(const char *path,
				     enum damon_masim_rw_mode default_mode,
				     struct damon_masim_config **cfgp,
				     char *errbuf, size_t errlen);

/** damon_masim_free() - free a parsed config (NULL is fine). */
DAMON_API void damon_masim_free(struct damon_masim_config *cfg);

/** damon_masim_rw_mode_name() - "ro", "wo" or "rw". */
DAMON_API const char *damon_masim_rw_mode_name(enum damon_masim_rw_mode mode);

/**
 * damon_masim_rw_mode_from_name() - parse "ro", "wo" or "rw" exactly.
 * Return: 0 or -EINVAL.
 */
DAMON_API int damon_masim_rw_mode_from_name(const char *name,
					    enum damon_masim_rw_mode *mode);

/** damon_masim_total_ms() - the summed duration of all phases. */
DAMON_API unsigned long long
damon_masim_total_ms(const struct damon_masim_config *cfg);

/** damon_masim_region_idx() - index of the region named @name, or -1. */
DAMON_API int damon_masim_region_idx(const struct damon_masim_config *cfg,
				     const char *name);

/* The sim operations set (src/ops/sim.c) */

/*
 * The sim operations set models a workload in a simulated address space
 * and answers DAMON's access checks from that model, deterministically for
 * a given context seed.  A workload is a masim-format config, or a replay:
 * a udamon record (each region's pages accessed at the rate its recorded
 * nr_accesses implies) or an exact page-access trace ("udamon-trace 1",
 * docs/usage.md), told apart by their first line.  Replays keep their
 * recorded addresses instead of the layout below.  Every target of a sim
 * context is one process running the context's workload from the moment
 * the operations set first sees the target (normally ops.init at start).
 *
 * Layout: region i of the config starts at SIM base 0x100000000 (4 GiB)
 * plus the page-aligned sizes of the regions before it plus one unmapped
 * guard page after each of them, so regions never touch and the vaddr
 * three-regions rule has gaps to work with.  Phases follow each other by
 * their durations on the context clock and the list repeats when it ends.
 * The ground-truth queries below read a target's model; call them where
 * the target's context is not running, or from a damon_call() callback.
 */

/** DAMON_SIM_BASE - simulated address of the first workload region. */
#define DAMON_SIM_BASE 0x100000000UL
/** DAMON_SIM_ACCESS_RATE - modelled accesses per second of a workload. */
#define DAMON_SIM_ACCESS_RATE 100000000.0

/** damon_sim_register() - register the sim operations set (idempotent). */
DAMON_API int damon_sim_register(void);
/**
 * damon_sim_set_workload() - parse the masim-format config at @path and
 * make it the workload that @ctx's sim operations set models.
 * @errbuf: gets a message naming the file, line and problem on failure.
 *
 * Selects the sim operations set for @ctx if another one is selected (and
 * holds no private data).  Replaces a workload set before; targets switch
 * to the new one (starting it over, regions re-fitted) at their next
 * sample or ground-truth query.  Call it on a running context only from a
 * damon_call() callback.
 *
 * Return: 0, -EINVAL for a bad config, -ENOENT etc. for an unreadable file,
 * -EBUSY if @ctx holds another operations set's private data.
 */
DAMON_API int damon_sim_set_workload(struct damon_ctx *ctx, const char *path,
				     char *errbuf, size_t errlen);
/**
 * damon_sim_set_workload_buf() - damon_sim_set_workload() for a config
 * held in memory; @name stands for the file name in messages.
 */
DAMON_API int damon_sim_set_workload_buf(struct damon_ctx *ctx, const char *buf,
					 size_t len, const char *name,
					 char *errbuf, size_t errlen);
/**
 * DAMON_SIM_MAX_WORKLOAD_SIZE - the largest workload file the sim reads
 * (masim configs are limited to 16 MiB of it; replays may be larger).
 */
#define DAMON_SIM_MAX_WORKLOAD_SIZE (512UL << 20)
/**
 * struct damon_sim_workload_info - what a sim context models.
 * @kind: "masim" (a config), "replay" (recorded snapshots: a udamon or
 *        damo record) or "trace" (an exact page-access trace).
 * @cycle_ns: length of one pass of the workload (it repeats after).
 * @nr_regions: workload regions (address ranges).
 * @nr_phases: phases (a replay has one per snapshot / trace window).
 * @total_bytes: modelled memory, page-aligned.
 */
struct damon_sim_workload_info {
	const char *kind;
	uint64_t cycle_ns;
	unsigned int nr_regions;
	unsigned int nr_phases;
	unsigned long total_bytes;
};
/**
 * damon_sim_workload_info() - describe @ctx's sim workload.
 * Return: 0, or -EINVAL without a workload.
 */
DAMON_API int damon_sim_workload_info(struct damon_ctx *ctx,
				      struct damon_sim_workload_info *info);
/**
 * damon_sim_workload_region() - where the workload's region @idx lives.
 * @range: gets its page-aligned simulated address range.
 * @name: gets its name from the config (valid while the workload is set).
 * Return: 0, -ENOENT past the last region, -EINVAL without a workload.
 */
DAMON_API int damon_sim_workload_region(struct damon_ctx *ctx, unsigned int idx,
					struct damon_addr_range *range,
					const char **name);
/**
 * damon_sim_phase_name() - name of the phase @t's workload is in now,
 * or NULL without a workload.  Valid while the workload is set.
 */
DAMON_API const char *damon_sim_phase_name(struct damon_ctx *ctx,
					   struct damon_target *t);
/**
 * damon_sim_phase_idx() - index (in the config) of the phase @t's
 * workload is in now, or -EINVAL without a workload.
 */
DAMON_API int damon_sim_phase_idx(struct damon_ctx *ctx,
				  struct damon_target *t);
/**
 * damon_sim_true_wss() - the true working set size of @t now.
 * @window_ns: the window; 0 means the context's aggregation interval.
 * @bytes: gets the bytes of the pages whose probability to be accessed
 *         within @window_ns, at the current phase's access rates, is at
 *         least one half.
 * Return: 0, or -EINVAL without a workload.
 */
DAMON_API int damon_sim_true_wss(struct damon_ctx *ctx, struct damon_target *t,
				 uint64_t window_ns, unsigned long *bytes);
/**
 * damon_sim_true_wss_range() - damon_sim_true_wss() of the addresses
 * [@start, @end) only (whole pages): with DAMON's regions it gives the
 * overlap of DAMON's hot set with the true one.  For an exact replay (a
 * trace) the working set is the pages the trace touched in the window.
 * Return: 0, -EINVAL without a workload or for an empty range, -ENOMEM.
 */
DAMON_API int damon_sim_true_wss_range(struct damon_ctx *ctx,
				       struct damon_target *t,
				       unsigned long start, unsigned long end,
				       uint64_t window_ns,
				       unsigned long *bytes);
/**
 * damon_sim_true_access_rate() - the expected fraction of samples that see
 * an access, for a sampling address uniform in [@start, @end), at the
 * current phase's access rates and the context's sampling interval.
 * Multiplied by the samples per aggregation it is the expected
 * nr_accesses of a region covering exactly that range.
 * Return: 0, or -EINVAL without a workload or for an empty range.
 */
DAMON_API int damon_sim_true_access_rate(struct damon_ctx *ctx,
					 struct damon_target *t,
					 unsigned long start, unsigned long end,
					 double *rate);
/**
 * damon_sim_resident_bytes() - bytes of @t's workload that are resident,
 * i.e. not paged out by DAMOS, or paged out and touched again since.
 */
DAMON_API unsigned long damon_sim_resident_bytes(struct damon_ctx *ctx,
						 struct damon_target *t);
/**
 * damon_sim_refaults() - pages of @t that were paged out and then
 * accessed again (each costs DAMON_SIM_REFAULT_STALL_US of memory
 * pressure stall in the some_mem_psi_us goal metric).
 */
DAMON_API unsigned long damon_sim_refaults(struct damon_ctx *ctx,
					   struct damon_target *t);
/** DAMON_SIM_REFAULT_STALL_US - modelled stall of one refault. */
#define DAMON_SIM_REFAULT_STALL_US 100

/* Real memory (src/ops/vaddr.c, paddr.c, page-idle.c) */

/*
 * The vaddr and fvaddr operations sets monitor real processes, paddr the
 * physical memory.  Their access source is page idle tracking where it
 * is usable (root and CONFIG_IDLE_PAGE_TRACKING; it sees reads and
 * writes), else, for vaddr and fvaddr, userfaultfd asynchronous
 * write-protect read back with PAGEMAP_SCAN (Linux >= 6.7): it sees
 * WRITES ONLY, and only in memory registered for it: by the target
 * itself (processes launched with the preload library,
 * LD_PRELOAD=libudamon-preload.so, or the calling process after
 * damon_uffd_self_register()), or by udamon attaching to a running
 * process that registered nothing (x86_64; needs the rights of ptrace
 * attach; see damon_vaddr_set_attach()).  On kernels without
 * PAGEMAP_SCAN (5.10 to 6.6) the preload library registers a synchronous
 * userfaultfd instead, which udamon takes with pidfd_getfd() (ptrace
 * rights needed) and serves from a thread of its own ("uffd-wp-sync";
 * writes, and pages first touched while sampled).
 * damon_access_source_name() says which.
 */

/** damon_vaddr_register() - register vaddr and fvaddr (idempotent). */
DAMON_API int damon_vaddr_register(void);

/**
 * damon_vaddr_check_target() - whether @t of the vaddr/fvaddr context
 * @ctx can be monitored on this machine.
 * @why: gets a one-line reason naming what is missing on failure.
 * @len: size of @why.
 *
 * Call it before damon_start() or a commit: the core has no way to fail
 * a start from ops.init.
 *
 * Return: 0; -EINVAL with a reason when no access source can serve the
 * target (no such process, pagemap not readable, no PAGEMAP_SCAN, no
 * synchronous userfaultfd to take for uffd-wp-sync, no rights to take
 * it); -EPERM with a reason when attaching to the target would be
 * needed but is not allowed (no ptrace rights, already traced).
 */
DAMON_API int damon_vaddr_check_target(struct damon_ctx *ctx,
				       struct damon_target *t, char *why,
				       size_t len);

/**
 * damon_vaddr_check_ctx() - damon_vaddr_check_target() for every target
 * of @ctx, plus whether every scheme's action can be applied (hugepage
 * and nohugepage only to the calling process; lru_prio and lru_deprio
 * are refused; migrate_hot/migrate_cold go through move_pages).
 * Return: 0 or -EINVAL with a reason in @why.
 */
DAMON_API int damon_vaddr_check_ctx(struct damon_ctx *ctx, char *why,
				    size_t len);

/**
 * damon_access_source_name() - the access source @ctx's operations set
 * uses (or would choose at start), for people: "page-idle", "uffd-wp
 * (writes only)" or "uffd-wp-sync (writes only)" for vaddr and fvaddr,
 * "page-idle" for paddr, "sim" for sim, "none" where udamon has none.
 */
DAMON_API const char *damon_access_source_name(struct damon_ctx *ctx);

/**
 * damon_uffd_self_register() - register memory of the calling process for
 * asynchronous write-protect, so a vaddr/fvaddr context whose target is
 * getpid() sees writes to it.
 * @addr: page-aligned start, or NULL with @len 0 for every writable
 *        private anonymous mapping (and the heap) that exists now.
 * @len: length in bytes (rounded up to pages).
 *
 * The userfaultfd is created once per process and kept open.  Registered
 * memory gets no transparent huge pages.
 *
 * Return: 0; -EOPNOTSUPP if the kernel lacks userfaultfd WP_ASYNC, or the
 * negative errno of userfaultfd()/UFFDIO_REGISTER.
 */
DAMON_API int damon_uffd_self_register(void *addr, size_t len);

/**
 * damon_set_access_source() - choose the access source of the vaddr or
 * fvaddr context @ctx: "auto" (page idle tracking when usable, else
 * userfaultfd write-protect: through PAGEMAP_SCAN where the kernel has
 * it, else synchronous), "page-idle", "uffd-wp" or "uffd-wp-sync".  Call
 * it after damon_select_ops(); commits carry the choice.  damon_start() refuses a
 * choice this machine or target cannot serve.
 * Return: 0, -EINVAL for another operations set or an unknown name,
 * -ENOMEM.
 */
DAMON_API int damon_set_access_source(struct damon_ctx *ctx, const char *name);

/**
 * damon_allow_cold_on_writes_only() - let the vaddr or fvaddr context @ctx
 * run schemes that act on cold memory (pageout, cold, lru_deprio,
 * migrate_cold) on an access source that sees writes only (uffd-wp).
 * Such a source calls memory that is read but not written cold, so
 * damon_start() and commits refuse those schemes unless @allow is true.
 * Commits carry the choice.
 * Return: 0, -EINVAL for another operations set, -ENOMEM.
 */
DAMON_API int damon_allow_cold_on_writes_only(struct damon_ctx *ctx,
					      bool allow);

/**
 * damon_vaddr_set_attach() - whether the uffd-wp source of the vaddr or
 * fvaddr context @ctx may attach to targets that registered no memory
 * themselves (default: yes).  Attaching borrows one thread of the target
 * with ptrace for about a millisecond to create a userfaultfd in it,
 * keeps that userfaultfd in this process only, registers the target's
 * writable private anonymous memory (new mappings at each ops update),
 * and undoes all of it when the target leaves the context.  Commits
 * carry the choice.
 * Return: 0, -EINVAL for another operations set, -ENOMEM.
 */
DAMON_API int damon_vaddr_set_attach(struct damon_ctx *ctx, bool attach);

/**
 * damon_set_overhead_budget() - bound what the uffd-wp access source of
 * the vaddr or fvaddr context @ctx costs the monitored process.
 * @ctx: the context, after damon_select_ops().
 * @checks_per_sec: sampled-page checks allowed per second, over all the
 *                  context's regions; 0 lifts the bound.
 *
 * Every checked page is write-protected for one sampling interval, and a
 * write to it then costs the target a fault and a TLB flush.  While all
 * regions fit (regions x samples per second <= @checks_per_sec), every
 * region is checked in every sample, exactly as DAMON does.  Beyond
 * that, each sample checks as many regions as the budget pays for,
 * taking turns round-robin, and a region not checked in a sample counts
 * the result of its last check again (a region split since inherits its
 * parent's): nr_accesses keeps its scale of 0..samples per aggregation,
 * at a coarser time resolution.  The page-idle source is not bounded (it
 * costs the target nothing).  Default: 2000.  Commits carry the value.
 * Return: 0, -EINVAL for another operations set, -ENOMEM.
 */
DAMON_API int damon_set_overhead_budget(struct damon_ctx *ctx,
					unsigned long checks_per_sec);

/**
 * damon_overhead_budget() - the overhead budget of @ctx (checks per
 * second, 0: unbounded), or 0 for contexts of other operations sets.
 */
DAMON_API unsigned long damon_overhead_budget(struct damon_ctx *ctx);

/**
 * damon_paddr_register() - register the paddr operations set, if page
 * idle tracking is usable here (root and /sys/kernel/mm/page_idle/bitmap,
 * i.e. CONFIG_IDLE_PAGE_TRACKING).  The library calls it when loaded.
 * Return: 0, or -ENODEV where page idle tracking is not usable.
 */
DAMON_API int damon_paddr_register(void);

/**
 * damon_paddr_check_ctx() - whether the paddr context @ctx can run here:
 * page idle tracking usable, /proc/kpageflags readable, and every scheme's
 * action `stat` (user space cannot reclaim, (de)activate or migrate
 * physical pages by PFN).
 * Return: 0 or -EINVAL with a one-line reason in @why.
 */
DAMON_API int damon_paddr_check_ctx(struct damon_ctx *ctx, char *why,
				    size_t len);

#ifdef __cplusplus
}
#endif

#endif /* UDAMON_DAMON_H */
