// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The DAMON sysfs tree as tables: every directory is a &struct fs_dir_type
 * listing its files (name, mode, kind, field offset, flags, keywords),
 * its fixed subdirectories and the type of its numbered children.  Generic
 * code shows and stores fields, creates and removes children, and resolves
 * paths; only files with real behaviour (state, pid, avail_operations, the
 * dump) have handlers of their own.
 *
 * Map: 1. keywords  2. special files  3. tables (leaves first)
 *      4. objects and children  5. path resolution  6. read/write
 */
#include "fs/tree.h"
#include "sys/alloc.h"
#include "ops/vaddr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct st_root fs_root;
bool fs_shutting_down;
pthread_mutex_t fs_sysfs_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t fs_tree_lock = PTHREAD_MUTEX_INITIALIZER;
__thread uid_t fs_caller_uid;
__thread pid_t fs_caller_pid;

static fs_log_fn fs_log_hook;
bool fs_default_allow_cold_on_writes_only;
/*
 * While a state command runs on this thread, its first error line is kept
 * here so the command's failure can say why (udamon/state_error).
 */
static __thread char *fs_cmd_why;
static __thread size_t fs_cmd_why_len;

void fs_capture_errors(char *buf, size_t len)
{
	fs_cmd_why = buf;
	fs_cmd_why_len = len;
	if (buf && len)
		buf[0] = '\0';
}

void fs_set_log_fn(fs_log_fn fn)
{
	fs_log_hook = fn;
}

void fs_note_error(const char *why)
{
	if (fs_cmd_why && why && why[0] && !fs_cmd_why[0])
		snprintf(fs_cmd_why, fs_cmd_why_len, "%s", why);
}

void fs_log(enum damon_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fs_cmd_why && level == DAMON_LOG_ERR && !fs_cmd_why[0])
		snprintf(fs_cmd_why, fs_cmd_why_len, "%s", msg);
	if (fs_log_hook)
		fs_log_hook(level, msg);
	else
		fprintf(stderr, "udamond: %s\n", msg);
}

/* ------------------------------------------------------------------ */
/* 1. Keywords                                                         */
/* ------------------------------------------------------------------ */

#define FS_KW_NAME(name, keyword) keyword,

static const char *const action_names[] = { DAMOS_ACTIONS(FS_KW_NAME) };
static const char *const metric_names[] = { DAMOS_QUOTA_GOAL_METRICS(
	FS_KW_NAME) };
static const char *const filter_type_names[] = { DAMOS_FILTER_TYPES(
	FS_KW_NAME) };
/* Index == enum damon_ops_id; "app" is for library users only. */
const char *const fs_ops_names[] = { "vaddr", "fvaddr", "paddr", "sim" };
static const char *const tuner_names[] = { "consist", "temporal" };
static const char *const probe_filter_type_names[] = { DAMON_FILTER_TYPES(
	FS_KW_NAME) };
static const char *const prep_action_names[] = { DAMON_PREP_ACTIONS(
	FS_KW_NAME) };
static const char *const wmark_names[] = { "none", "free_mem_rate" };

_Static_assert(sizeof(action_names) / sizeof(action_names[0]) ==
		       NR_DAMOS_ACTIONS,
	       "action keywords");
_Static_assert(sizeof(filter_type_names) / sizeof(filter_type_names[0]) ==
		       NR_DAMOS_FILTER_TYPES,
	       "filter keywords");
_Static_assert(DAMON_OPS_SIM == 3, "ops keywords follow enum damon_ops_id");
_Static_assert(NR_DAMOS_QUOTA_GOAL_TUNERS == 2, "tuner keywords");
_Static_assert(NR_DAMOS_WMARK_METRICS == 2, "watermark keywords");
_Static_assert(sizeof(probe_filter_type_names) /
			       sizeof(probe_filter_type_names[0]) ==
		       NR_DAMON_FILTER_TYPES,
	       "probe filter keywords");

#define FS_KW(arr)                                      \
	{                                               \
		arr, sizeof(arr) / sizeof(arr[0]), NULL \
	}

static const struct fs_keywords kw_action = FS_KW(action_names);
static const struct fs_keywords kw_metric = FS_KW(metric_names);
static const struct fs_keywords kw_ops = { fs_ops_names, FS_NR_OPS_NAMES,
					   NULL };
static const struct fs_keywords kw_tuner = FS_KW(tuner_names);
static const struct fs_keywords kw_wmark = FS_KW(wmark_names);
static const struct fs_keywords kw_probe_filter_type =
	FS_KW(probe_filter_type_names);
static const struct fs_keywords kw_prep_action = FS_KW(prep_action_names);

/* core_filters/ takes only core types, ops_filters/ only ops types. */
static bool filter_type_valid(const void *obj, unsigned int idx)
{
	const struct st_filter *f = obj;
	bool for_ops = damos_filter_for_ops((enum damos_filter_type)idx);

	switch (f->layer) {
	case ST_FILTER_CORE:
		return !for_ops;
	case ST_FILTER_OPS:
		return for_ops;
	default:
		return true;
	}
}

static const struct fs_keywords kw_filter_type = {
	filter_type_names,
	sizeof(filter_type_names) / sizeof(filter_type_names[0]),
	filter_type_valid,
};

/* ------------------------------------------------------------------ */
/* 2. Special files                                                    */
/* ------------------------------------------------------------------ */

static int avail_operations_show(void *obj, FILE *out)
{
	unsigned int i;

	for (i = 0; i < FS_NR_OPS_NAMES; i++)
		if (damon_is_registered_ops((enum damon_ops_id)i))
			fprintf(out, "%s\n", fs_ops_names[i]);
	return 0;
}

/*
 * Which access source monitors the context: ask the library what the
 * staged operations set uses ("uffd-wp (writes only)", "sim", ...), or
 * "none" when it is not available here.
 */
static int access_source_show(void *obj, FILE *out)
{
	struct st_context *c = obj;
	struct damon_ctx *probe = damon_new_ctx();
	const char *name = "none";

	if (probe && !damon_select_ops(probe, (enum damon_ops_id)c->ops))
		name = damon_access_source_name(probe);
	fprintf(out, "%s\n", name);
	damon_destroy_ctx(probe);
	return 0;
}

/*
 * Whether the context is auto-paused right now (damon_auto_paused()): the
 * live state of the context the kdamond runs, not a staged setting, so a
 * user can tell an automatic pause from a stall.  The tree lock held by
 * the caller keeps kd->ctx from being replaced or freed meanwhile.  A
 * kdamond that is off pauses nothing.
 */
static int auto_paused_show(void *obj, FILE *out)
{
	struct fs_array *kds = &fs_root.kdamonds.arr;
	bool paused = false;
	unsigned int i;

	for (i = 0; i < kds->nr; i++) {
		struct st_kdamond *kd = kds->items[i];

		/* one context per kdamond, as in the kernel */
		if (kd->contexts.arr.nr != 1 ||
		    kd->contexts.arr.items[0] != obj)
			continue;
		paused = kd->ctx && damon_is_running(kd->ctx) &&
			 damon_auto_paused(kd->ctx);
		break;
	}
	fputs(paused ? "Y\n" : "N\n", out);
	return 0;
}

/* ------------------------------------------------------------------ */
/* 3. Tables                                                           */
/* ------------------------------------------------------------------ */

#define ARR_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define F_RW(n, k, T, f, fl)                                     \
	{                                                        \
		.name = n, .mode = 0600, .kind = k, .flags = fl, \
		.off = offsetof(T, f)                            \
	}
#define F_RO(n, k, T, f)                                                  \
	{                                                                 \
		.name = n, .mode = 0400, .kind = k, .off = offsetof(T, f) \
	}
#define F_KW(n, T, f, kwp)                                   \
	{                                                    \
		.name = n, .mode = 0600, .kind = FS_KEYWORD, \
		.off = offsetof(T, f), .kw = kwp             \
	}
#define F_NR(n, T, f, ct, fl)                                          \
	{                                                              \
		.name = n, .mode = 0600, .kind = FS_NR, .flags = fl,   \
		.off = offsetof(T, f) + offsetof(struct fs_array, nr), \
		.child = ct                                            \
	}
#define F_NR_MAX(n, T, f, ct, max)                                     \
	{                                                              \
		.name = n, .mode = 0600, .kind = FS_NR,                \
		.off = offsetof(T, f) + offsetof(struct fs_array, nr), \
		.child = ct, .nr_max = max                             \
	}
#define F_SPECIAL(n, m, fl, sh, st)                                    \
	{                                                              \
		.name = n, .mode = m, .kind = FS_SPECIAL, .flags = fl, \
		.show = sh, .store = st                                \
	}
#define D(n, t, T, f)                                       \
	{                                                   \
		.name = n, .type = t, .off = offsetof(T, f) \
	}
#define D_SAME(n, t)                                     \
	{                                                \
		.name = n, .type = t, .off = FS_SAME_OBJ \
	}

/* The FS_NR "off" points at fs_array.nr; the array itself is at off - nr. */
static struct fs_array *fs_nr_array(void *obj, const struct fs_file *f)
{
	return (struct fs_array *)((char *)obj + f->off -
				   offsetof(struct fs_array, nr));
}

/* ranges: access_pattern/{sz,nr_accesses,age}, nr_regions */
static const struct fs_file range_files_[] = {
	F_RW("min", FS_ULONG, struct st_range, min, 0),
	F_RW("max", FS_ULONG, struct st_range, max, 0),
};
static void nr_regions_init(void *obj, void *parent)
{
	struct st_range *r = obj;

	r->min = 10;
	r->max = 1000;
}
static const struct fs_dir_type t_range = {
	.name = "range",
	.files = range_files_,
	.nr_files = ARR_SIZE(range_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_range),
};
static const struct fs_dir_type t_nr_regions = {
	.name = "nr_regions",
	.files = range_files_,
	.nr_files = ARR_SIZE(range_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_range),
	.init = nr_regions_init,
};

/* monitoring_attrs/intervals/intervals_goal */
static const struct fs_file igoal_files_[] = {
	F_RW("access_bp", FS_ULONG, struct st_intervals_goal, access_bp, 0),
	F_RW("aggrs", FS_ULONG, struct st_intervals_goal, aggrs, 0),
	F_RW("min_sample_us", FS_ULONG, struct st_intervals_goal, min_sample_us,
	     0),
	F_RW("max_sample_us", FS_ULONG, struct st_intervals_goal, max_sample_us,
	     0),
};
static const struct fs_dir_type t_igoal = {
	.name = "intervals_goal",
	.files = igoal_files_,
	.nr_files = ARR_SIZE(igoal_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_intervals_goal),
};

static const struct fs_file intervals_files_[] = {
	F_RW("sample_us", FS_ULONG, struct st_intervals, sample_us, 0),
	F_RW("aggr_us", FS_ULONG, struct st_intervals, aggr_us, 0),
	F_RW("update_us", FS_ULONG, struct st_intervals, update_us, 0),
};
static const struct fs_subdir intervals_dirs_[] = {
	D("intervals_goal", &t_igoal, struct st_intervals, goal),
};
static void intervals_init(void *obj, void *parent)
{
	struct st_intervals *iv = obj;

	iv->sample_us = 5000;
	iv->aggr_us = 100000;
	iv->update_us = 60000000;
}
static const struct fs_dir_type t_intervals = {
	.name = "intervals",
	.files = intervals_files_,
	.nr_files = ARR_SIZE(intervals_files_),
	.dirs = intervals_dirs_,
	.nr_dirs = ARR_SIZE(intervals_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_intervals),
	.init = intervals_init,
};

/* monitoring_attrs/probes/<P>/filters/<F> */
static const struct fs_file probe_filter_files_[] = {
	F_KW("type", struct st_probe_filter, type, &kw_probe_filter_type),
	F_RW("matching", FS_BOOL, struct st_probe_filter, matching, 0),
	F_RW("allow", FS_BOOL, struct st_probe_filter, allow, 0),
	F_RW("path", FS_STRING, struct st_probe_filter, path, 0),
};
static const struct fs_dir_type t_probe_filter = {
	.name = "probe_filter",
	.files = probe_filter_files_,
	.nr_files = ARR_SIZE(probe_filter_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_probe_filter),
};
static const struct fs_file probe_filters_files_[] = {
	F_NR("nr_filters", struct st_probe_filters, arr, &t_probe_filter, 0),
};
static const struct fs_dir_type t_probe_filters = {
	.name = "probe_filters",
	.files = probe_filters_files_,
	.nr_files = ARR_SIZE(probe_filters_files_),
	.arr_off = offsetof(struct st_probe_filters, arr),
	.child = &t_probe_filter,
	.size = sizeof(struct st_probe_filters),
};

/* monitoring_attrs/probes/<P>/preps/<R> */
static const struct fs_file prep_files_[] = {
	F_KW("action", struct st_prep, action, &kw_prep_action),
};
static const struct fs_dir_type t_prep = {
	.name = "prep",
	.files = prep_files_,
	.nr_files = ARR_SIZE(prep_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_prep),
};
static const struct fs_file preps_files_[] = {
	F_NR("nr_preps", struct st_preps, arr, &t_prep, 0),
};
static const struct fs_dir_type t_preps = {
	.name = "preps",
	.files = preps_files_,
	.nr_files = ARR_SIZE(preps_files_),
	.arr_off = offsetof(struct st_preps, arr),
	.child = &t_prep,
	.size = sizeof(struct st_preps),
};

/* monitoring_attrs/probes/<P> */
static const struct fs_file probe_files_[] = {
	F_RW("weight", FS_UINT, struct st_probe, weight, 0),
};
static const struct fs_subdir probe_dirs_[] = {
	D("filters", &t_probe_filters, struct st_probe, filters),
	D("preps", &t_preps, struct st_probe, preps),
};
static const struct fs_dir_type t_probe = {
	.name = "probe",
	.files = probe_files_,
	.nr_files = ARR_SIZE(probe_files_),
	.dirs = probe_dirs_,
	.nr_dirs = ARR_SIZE(probe_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_probe),
};
static const struct fs_file probes_files_[] = {
	F_NR_MAX("nr_probes", struct st_probes, arr, &t_probe,
		 DAMON_MAX_PROBES),
};
static const struct fs_dir_type t_probes = {
	.name = "probes",
	.files = probes_files_,
	.nr_files = ARR_SIZE(probes_files_),
	.arr_off = offsetof(struct st_probes, arr),
	.child = &t_probe,
	.size = sizeof(struct st_probes),
};

static const struct fs_subdir attrs_dirs_[] = {
	D("intervals", &t_intervals, struct st_attrs, intervals),
	D("nr_regions", &t_nr_regions, struct st_attrs, nr_regions),
	D("probes", &t_probes, struct st_attrs, probes),
};
static const struct fs_dir_type t_attrs = {
	.name = "monitoring_attrs",
	.dirs = attrs_dirs_,
	.nr_dirs = ARR_SIZE(attrs_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_attrs),
};

/* targets/<T>/regions/<R> */
static const struct fs_file region_files_[] = {
	F_RW("start", FS_ULONG, struct st_region, start, 0),
	F_RW("end", FS_ULONG, struct st_region, end, 0),
};
static const struct fs_dir_type t_region = {
	.name = "region",
	.files = region_files_,
	.nr_files = ARR_SIZE(region_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_region),
};
static const struct fs_file regions_files_[] = {
	F_NR("nr_regions", struct st_regions, arr, &t_region, 0),
};
static const struct fs_dir_type t_regions = {
	.name = "regions",
	.files = regions_files_,
	.nr_files = ARR_SIZE(regions_files_),
	.arr_off = offsetof(struct st_regions, arr),
	.child = &t_region,
	.size = sizeof(struct st_regions),
};

static const struct fs_file target_files_[] = {
	F_RW("pid_target", FS_INT, struct st_target, pid, FS_EINVAL_ONLY),
	F_RW("obsolete_target", FS_BOOL, struct st_target, obsolete, 0),
};
static const struct fs_subdir target_dirs_[] = {
	D("regions", &t_regions, struct st_target, regions),
};
static const struct fs_dir_type t_target = {
	.name = "target",
	.files = target_files_,
	.nr_files = ARR_SIZE(target_files_),
	.dirs = target_dirs_,
	.nr_dirs = ARR_SIZE(target_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_target),
};
static const struct fs_file targets_files_[] = {
	F_NR("nr_targets", struct st_targets, arr, &t_target, 0),
};
static const struct fs_dir_type t_targets = {
	.name = "targets",
	.files = targets_files_,
	.nr_files = ARR_SIZE(targets_files_),
	.arr_off = offsetof(struct st_targets, arr),
	.child = &t_target,
	.size = sizeof(struct st_targets),
};

/* schemes/<S>/quotas/goals/<G> */
static const struct fs_file goal_files_[] = {
	F_KW("target_metric", struct st_goal, metric, &kw_metric),
	F_RW("target_value", FS_ULONG, struct st_goal, target_value, 0),
	F_RW("current_value", FS_ULONG, struct st_goal, current_value, 0),
	F_RW("nid", FS_INT, struct st_goal, nid, 0),
	F_RW("path", FS_STRING, struct st_goal, path, 0),
};
static const struct fs_dir_type t_goal = {
	.name = "goal",
	.files = goal_files_,
	.nr_files = ARR_SIZE(goal_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_goal),
};
static const struct fs_file goals_files_[] = {
	F_NR("nr_goals", struct st_goals, arr, &t_goal, 0),
};
static const struct fs_dir_type t_goals = {
	.name = "goals",
	.files = goals_files_,
	.nr_files = ARR_SIZE(goals_files_),
	.arr_off = offsetof(struct st_goals, arr),
	.child = &t_goal,
	.size = sizeof(struct st_goals),
};

static const struct fs_file weights_files_[] = {
	F_RW("sz_permil", FS_UINT, struct st_weights, sz, 0),
	F_RW("nr_accesses_permil", FS_UINT, struct st_weights, nr_accesses, 0),
	F_RW("age_permil", FS_UINT, struct st_weights, age, 0),
};
static const struct fs_dir_type t_weights = {
	.name = "weights",
	.files = weights_files_,
	.nr_files = ARR_SIZE(weights_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_weights),
};

static const struct fs_file quotas_files_[] = {
	F_RW("ms", FS_ULONG, struct st_quotas, ms, FS_EINVAL_ONLY),
	F_RW("bytes", FS_ULONG, struct st_quotas, bytes, FS_EINVAL_ONLY),
	F_RW("reset_interval_ms", FS_ULONG, struct st_quotas, reset_interval_ms,
	     FS_EINVAL_ONLY),
	F_RO("effective_bytes", FS_ULONG, struct st_quotas, effective_bytes),
	F_KW("goal_tuner", struct st_quotas, goal_tuner, &kw_tuner),
	F_RW("fail_charge_num", FS_UINT, struct st_quotas, fail_charge_num,
	     FS_EINVAL_ONLY),
	F_RW("fail_charge_denom", FS_UINT, struct st_quotas, fail_charge_denom,
	     FS_EINVAL_ONLY),
};
static const struct fs_subdir quotas_dirs_[] = {
	D("weights", &t_weights, struct st_quotas, weights),
	D("goals", &t_goals, struct st_quotas, goals),
};
static const struct fs_dir_type t_quotas = {
	.name = "quotas",
	.files = quotas_files_,
	.nr_files = ARR_SIZE(quotas_files_),
	.dirs = quotas_dirs_,
	.nr_dirs = ARR_SIZE(quotas_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_quotas),
};

static const struct fs_file wmarks_files_[] = {
	F_KW("metric", struct st_wmarks, metric, &kw_wmark),
	F_RW("interval_us", FS_ULONG, struct st_wmarks, interval_us, 0),
	F_RW("high", FS_ULONG, struct st_wmarks, high, 0),
	F_RW("mid", FS_ULONG, struct st_wmarks, mid, 0),
	F_RW("low", FS_ULONG, struct st_wmarks, low, 0),
};
static const struct fs_dir_type t_wmarks = {
	.name = "watermarks",
	.files = wmarks_files_,
	.nr_files = ARR_SIZE(wmarks_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_wmarks),
};

/* schemes/<S>/{core_filters,ops_filters,filters}/<F> */
static const struct fs_file filter_files_[] = {
	F_KW("type", struct st_filter, type, &kw_filter_type),
	F_RW("matching", FS_BOOL, struct st_filter, matching, 0),
	F_RW("allow", FS_BOOL, struct st_filter, allow, 0),
	F_RW("memcg_path", FS_STRING, struct st_filter, memcg_path, 0),
	F_RW("addr_start", FS_ULONG, struct st_filter, addr_start, 0),
	F_RW("addr_end", FS_ULONG, struct st_filter, addr_end, 0),
	F_RW("min", FS_ULONG, struct st_filter, min, 0),
	F_RW("max", FS_ULONG, struct st_filter, max, 0),
	F_RW("damon_target_idx", FS_INT, struct st_filter, target_idx, 0),
};
static void filter_init(void *obj, void *parent)
{
	struct st_filter *f = obj;
	const struct st_filters *fs = parent;

	f->layer = fs->layer;
}
static const struct fs_dir_type t_filter = {
	.name = "filter",
	.files = filter_files_,
	.nr_files = ARR_SIZE(filter_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_filter),
	.init = filter_init,
};
static const struct fs_file filters_files_[] = {
	F_NR("nr_filters", struct st_filters, arr, &t_filter, 0),
};
#define FILTERS_TYPE(id, layer_value)                            \
	static void id##_init(void *obj, void *parent)           \
	{                                                        \
		((struct st_filters *)obj)->layer = layer_value; \
	}                                                        \
	static const struct fs_dir_type id = {                   \
		.name = #id,                                     \
		.files = filters_files_,                         \
		.nr_files = ARR_SIZE(filters_files_),            \
		.arr_off = offsetof(struct st_filters, arr),     \
		.child = &t_filter,                              \
		.size = sizeof(struct st_filters),               \
		.init = id##_init,                               \
	}
FILTERS_TYPE(t_core_filters, ST_FILTER_CORE);
FILTERS_TYPE(t_ops_filters, ST_FILTER_OPS);
FILTERS_TYPE(t_filters, ST_FILTER_BOTH);

/* schemes/<S>/dests/<D> */
static const struct fs_file dest_files_[] = {
	F_RW("id", FS_UINT, struct st_dest, id, 0),
	F_RW("weight", FS_UINT, struct st_dest, weight, 0),
};
static const struct fs_dir_type t_dest = {
	.name = "dest",
	.files = dest_files_,
	.nr_files = ARR_SIZE(dest_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_dest),
};
static const struct fs_file dests_files_[] = {
	F_NR("nr_dests", struct st_dests, arr, &t_dest, 0),
};
static const struct fs_dir_type t_dests = {
	.name = "dests",
	.files = dests_files_,
	.nr_files = ARR_SIZE(dests_files_),
	.arr_off = offsetof(struct st_dests, arr),
	.child = &t_dest,
	.size = sizeof(struct st_dests),
};

static const struct fs_file stats_files_[] = {
	F_RO("nr_tried", FS_ULONG, struct st_stats, nr_tried),
	F_RO("sz_tried", FS_ULONG, struct st_stats, sz_tried),
	F_RO("nr_applied", FS_ULONG, struct st_stats, nr_applied),
	F_RO("sz_applied", FS_ULONG, struct st_stats, sz_applied),
	F_RO("sz_ops_filter_passed", FS_ULONG, struct st_stats,
	     sz_ops_filter_passed),
	F_RO("qt_exceeds", FS_ULONG, struct st_stats, qt_exceeds),
	F_RO("nr_snapshots", FS_ULONG, struct st_stats, nr_snapshots),
	F_RW("max_nr_snapshots", FS_ULONG, struct st_stats, max_nr_snapshots,
	     0),
};
static const struct fs_dir_type t_stats = {
	.name = "stats",
	.files = stats_files_,
	.nr_files = ARR_SIZE(stats_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_stats),
};

/* schemes/<S>/tried_regions/<R>, created by state commands only */
static const struct fs_file tried_region_files_[] = {
	F_RO("start", FS_ULONG, struct st_tried_region, start),
	F_RO("end", FS_ULONG, struct st_tried_region, end),
	F_RO("nr_accesses", FS_UINT, struct st_tried_region, nr_accesses),
	F_RO("age", FS_UINT, struct st_tried_region, age),
	F_RO("sz_filter_passed", FS_ULONG, struct st_tried_region,
	     sz_filter_passed),
};
/* tried_regions/<R>/probes/<P>/hits, made with the region */
static const struct fs_file tried_probe_files_[] = {
	F_RO("hits", FS_UINT, struct st_tried_probe, hits),
};
const struct fs_dir_type fs_tried_probe_type = {
	.name = "tried_probe",
	.files = tried_probe_files_,
	.nr_files = ARR_SIZE(tried_probe_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_tried_probe),
};
static const struct fs_dir_type t_tried_probes = {
	.name = "tried_probes",
	.arr_off = offsetof(struct st_tried_probes, arr),
	.child = &fs_tried_probe_type,
	.size = sizeof(struct st_tried_probes),
};
static const struct fs_subdir tried_region_dirs_[] = {
	D("probes", &t_tried_probes, struct st_tried_region, probes),
};
const struct fs_dir_type fs_tried_region_type = {
	.name = "tried_region",
	.files = tried_region_files_,
	.nr_files = ARR_SIZE(tried_region_files_),
	.dirs = tried_region_dirs_,
	.nr_dirs = ARR_SIZE(tried_region_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_tried_region),
};
static const struct fs_file tried_regions_files_[] = {
	F_RO("total_bytes", FS_ULONG, struct st_tried_regions, total_bytes),
};
static const struct fs_dir_type t_tried_regions = {
	.name = "tried_regions",
	.files = tried_regions_files_,
	.nr_files = ARR_SIZE(tried_regions_files_),
	.arr_off = offsetof(struct st_tried_regions, arr),
	.child = &fs_tried_region_type,
	.size = sizeof(struct st_tried_regions),
};

static const struct fs_subdir access_pattern_dirs_[] = {
	D("sz", &t_range, struct st_access_pattern, sz),
	D("nr_accesses", &t_range, struct st_access_pattern, nr_accesses),
	D("age", &t_range, struct st_access_pattern, age),
};
static const struct fs_dir_type t_access_pattern = {
	.name = "access_pattern",
	.dirs = access_pattern_dirs_,
	.nr_dirs = ARR_SIZE(access_pattern_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_access_pattern),
};

static const struct fs_file scheme_files_[] = {
	F_KW("action", struct st_scheme, action, &kw_action),
	F_RW("apply_interval_us", FS_ULONG, struct st_scheme, apply_interval_us,
	     0),
	F_RW("target_nid", FS_INT, struct st_scheme, target_nid, 0),
};
static const struct fs_subdir scheme_dirs_[] = {
	D("access_pattern", &t_access_pattern, struct st_scheme, pattern),
	D("quotas", &t_quotas, struct st_scheme, quotas),
	D("watermarks", &t_wmarks, struct st_scheme, wmarks),
	D("core_filters", &t_core_filters, struct st_scheme, core_filters),
	D("ops_filters", &t_ops_filters, struct st_scheme, ops_filters),
	D("filters", &t_filters, struct st_scheme, filters),
	D("dests", &t_dests, struct st_scheme, dests),
	D("stats", &t_stats, struct st_scheme, stats),
	D("tried_regions", &t_tried_regions, struct st_scheme, tried),
};
static void scheme_init(void *obj, void *parent)
{
	struct st_scheme *s = obj;

	s->action = DAMOS_STAT;
	s->target_nid = -1; /* NUMA_NO_NODE */
}
static const struct fs_dir_type t_scheme = {
	.name = "scheme",
	.files = scheme_files_,
	.nr_files = ARR_SIZE(scheme_files_),
	.dirs = scheme_dirs_,
	.nr_dirs = ARR_SIZE(scheme_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_scheme),
	.init = scheme_init,
};
static const struct fs_file schemes_files_[] = {
	F_NR("nr_schemes", struct st_schemes, arr, &t_scheme, 0),
};
static const struct fs_dir_type t_schemes = {
	.name = "schemes",
	.files = schemes_files_,
	.nr_files = ARR_SIZE(schemes_files_),
	.arr_off = offsetof(struct st_schemes, arr),
	.child = &t_scheme,
	.size = sizeof(struct st_schemes),
};

/* contexts/<C>/udamon: udamon-only files of a context */
static const struct fs_file ctx_udamon_files_[] = {
	F_RW("sim_workload", FS_STRING, struct st_context, sim_workload,
	     FS_STRIP_NL | FS_REL_PATH),
	F_SPECIAL("access_source", 0400, 0, access_source_show, NULL),
	F_RW("allow_cold_on_writes_only", FS_BOOL, struct st_context,
	     allow_cold_on_writes_only, 0),
	F_RW("attach", FS_BOOL, struct st_context, attach, 0),
	F_RW("overhead_budget", FS_ULONG, struct st_context, overhead_budget,
	     0),
	F_RW("auto_pause", FS_BOOL, struct st_context, auto_pause, 0),
	F_SPECIAL("auto_paused", 0400, 0, auto_paused_show, NULL),
};
static const struct fs_dir_type t_ctx_udamon = {
	.name = "ctx_udamon",
	.files = ctx_udamon_files_,
	.nr_files = ARR_SIZE(ctx_udamon_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_context),
};

static const struct fs_file context_files_[] = {
	F_SPECIAL("avail_operations", 0400, 0, avail_operations_show, NULL),
	F_KW("operations", struct st_context, ops, &kw_ops),
	F_RW("addr_unit", FS_ULONG, struct st_context, addr_unit, FS_NONZERO),
	F_RW("pause", FS_BOOL, struct st_context, pause, 0),
};
static const struct fs_subdir context_dirs_[] = {
	D("monitoring_attrs", &t_attrs, struct st_context, attrs),
	D("targets", &t_targets, struct st_context, targets),
	D("schemes", &t_schemes, struct st_context, schemes),
	D_SAME("udamon", &t_ctx_udamon),
};
static void context_init(void *obj, void *parent)
{
	struct st_context *c = obj;

	c->ops = DAMON_OPS_VADDR;
	c->addr_unit = 1;
	c->pause = false;
	c->allow_cold_on_writes_only = fs_default_allow_cold_on_writes_only;
	c->attach = true;
	c->overhead_budget = UDAMON_DEFAULT_OVERHEAD_BUDGET;
}
static const struct fs_dir_type t_context = {
	.name = "context",
	.files = context_files_,
	.nr_files = ARR_SIZE(context_files_),
	.dirs = context_dirs_,
	.nr_dirs = ARR_SIZE(context_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_context),
	.init = context_init,
};
static const struct fs_file contexts_files_[] = {
	F_NR("nr_contexts", struct st_contexts, arr, &t_context, FS_NR_MAX1),
};
static const struct fs_dir_type t_contexts = {
	.name = "contexts",
	.files = contexts_files_,
	.nr_files = ARR_SIZE(contexts_files_),
	.arr_off = offsetof(struct st_contexts, arr),
	.child = &t_context,
	.size = sizeof(struct st_contexts),
};

/* kdamonds/<K>/udamon: udamon-only files of a kdamond */
static const struct fs_file kd_udamon_files_[] = {
	F_SPECIAL("dump", 0400, FS_LOCKED | FS_SNAPSHOT, fs_dump_show, NULL),
	F_SPECIAL("state_error", 0400, FS_LOCKED, fs_state_error_show, NULL),
	F_RW("checkpoint_path", FS_STRING, struct st_kdamond, checkpoint_path,
	     FS_STRIP_NL | FS_REL_PATH),
	F_SPECIAL("checkpoint", 0600, FS_LOCKED, fs_checkpoint_show,
		  fs_checkpoint_store),
};
static const struct fs_dir_type t_kd_udamon = {
	.name = "kdamond_udamon",
	.files = kd_udamon_files_,
	.nr_files = ARR_SIZE(kd_udamon_files_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_kdamond),
};

static const struct fs_file kdamond_files_[] = {
	F_SPECIAL("state", 0600, FS_LOCKED, fs_state_show, fs_state_store),
	F_SPECIAL("pid", 0400, FS_LOCKED, fs_pid_show, NULL),
	F_RW("refresh_ms", FS_UINT, struct st_kdamond, refresh_ms, 0),
};
static const struct fs_subdir kdamond_dirs_[] = {
	D("contexts", &t_contexts, struct st_kdamond, contexts),
	D_SAME("udamon", &t_kd_udamon),
};
static void kdamond_fini(void *obj)
{
	struct st_kdamond *kd = obj;

	/* Removal is refused while running, so the context is stopped. */
	if (kd->ctx)
		damon_destroy_ctx(kd->ctx);
	kd->ctx = NULL;
	free(kd->sim_path);
	kd->sim_path = NULL;
	free(kd->checkpoint_path);
	kd->checkpoint_path = NULL;
	fs_checkpoint_unload(kd);
}
static const struct fs_dir_type t_kdamond = {
	.name = "kdamond",
	.files = kdamond_files_,
	.nr_files = ARR_SIZE(kdamond_files_),
	.dirs = kdamond_dirs_,
	.nr_dirs = ARR_SIZE(kdamond_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_kdamond),
	.fini = kdamond_fini,
};
static const struct fs_file kdamonds_files_[] = {
	F_NR("nr_kdamonds", struct st_kdamonds, arr, &t_kdamond, FS_NR_IDLE),
};
static const struct fs_dir_type t_kdamonds = {
	.name = "kdamonds",
	.files = kdamonds_files_,
	.nr_files = ARR_SIZE(kdamonds_files_),
	.arr_off = offsetof(struct st_kdamonds, arr),
	.child = &t_kdamond,
	.size = sizeof(struct st_kdamonds),
};

static const struct fs_subdir admin_dirs_[] = {
	D("kdamonds", &t_kdamonds, struct st_root, kdamonds),
};
static const struct fs_dir_type t_admin = {
	.name = "admin",
	.dirs = admin_dirs_,
	.nr_dirs = ARR_SIZE(admin_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_root),
};
static const struct fs_subdir root_dirs_[] = {
	D_SAME("admin", &t_admin),
};
static const struct fs_dir_type t_root = {
	.name = "root",
	.dirs = root_dirs_,
	.nr_dirs = ARR_SIZE(root_dirs_),
	.arr_off = FS_NO_ARR,
	.size = sizeof(struct st_root),
};

/* ------------------------------------------------------------------ */
/* 4. Objects and children                                             */
/* ------------------------------------------------------------------ */

static void *fs_field(void *obj, size_t off)
{
	return (char *)obj + off;
}

static void fs_obj_init(const struct fs_dir_type *type, void *obj, void *parent)
{
	unsigned int i;

	if (type->init)
		type->init(obj, parent);
	for (i = 0; i < type->nr_dirs; i++) {
		const struct fs_subdir *d = &type->dirs[i];

		if (d->off != FS_SAME_OBJ)
			fs_obj_init(d->type, fs_field(obj, d->off), obj);
	}
}

static void fs_free_strings(const struct fs_dir_type *type, void *obj)
{
	unsigned int i;

	for (i = 0; i < type->nr_files; i++) {
		const struct fs_file *f = &type->files[i];

		if (f->kind == FS_STRING) {
			char **p = fs_field(obj, f->off);

			free(*p);
			*p = NULL;
		}
	}
}

static void fs_obj_fini(const struct fs_dir_type *type, void *obj)
{
	unsigned int i;

	fs_free_strings(type, obj);
	for (i = 0; i < type->nr_dirs; i++) {
		const struct fs_subdir *d = &type->dirs[i];

		if (d->off != FS_SAME_OBJ)
			fs_obj_fini(d->type, fs_field(obj, d->off));
		else
			/* a view of this object: its strings are ours */
			fs_free_strings(d->type, obj);
	}
	if (type->arr_off != FS_NO_ARR)
		fs_array_clear(fs_field(obj, type->arr_off), type->child);
	if (type->fini)
		type->fini(obj);
}

void fs_array_clear(struct fs_array *arr, const struct fs_dir_type *type)
{
	unsigned int i;

	for (i = 0; i < arr->nr; i++) {
		fs_obj_fini(type, arr->items[i]);
		free(arr->items[i]);
	}
	free(arr->items);
	arr->items = NULL;
	arr->nr = 0;
}

int fs_array_set(struct fs_array *arr, const struct fs_dir_type *type,
		 unsigned int nr, void *parent)
{
	unsigned int i;

	fs_array_clear(arr, type);
	if (!nr)
		return 0;
	/*
	 * The kernel fails such allocations with -ENOMEM; without a bound a
	 * daemon would instead be killed by the OOM killer.
	 */
	if (nr > FS_MAX_CHILDREN)
		return -ENOMEM;
	arr->items = udamon__calloc(nr, sizeof(*arr->items));
	if (!arr->items)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		void *obj = udamon__calloc(1, type->size);

		if (!obj) {
			fs_array_clear(arr, type);
			return -ENOMEM;
		}
		fs_obj_init(type, obj, parent);
		arr->items[i] = obj;
		arr->nr++;
	}
	return 0;
}

void *fs_array_append(struct fs_array *arr, const struct fs_dir_type *type,
		      void *parent)
{
	void **items =
		udamon__realloc(arr->items, (arr->nr + 1) * sizeof(*items));
	void *obj;

	if (!items)
		return NULL;
	arr->items = items;
	obj = udamon__calloc(1, type->size);
	if (!obj)
		return NULL;
	fs_obj_init(type, obj, parent);
	arr->items[arr->nr++] = obj;
	return obj;
}

void fs_init(void)
{
	memset(&fs_root, 0, sizeof(fs_root));
	fs_obj_init(&t_root, &fs_root, NULL);
}

void fs_fini(void)
{
	pthread_mutex_lock(&fs_sysfs_lock);
	fs_stop_all();
	pthread_mutex_lock(&fs_tree_lock);
	fs_obj_fini(&t_kdamonds, &fs_root.kdamonds);
	pthread_mutex_unlock(&fs_tree_lock);
	pthread_mutex_unlock(&fs_sysfs_lock);
}

/* ------------------------------------------------------------------ */
/* 5. Path resolution                                                  */
/* ------------------------------------------------------------------ */

/* Children are named "%d": no sign, no leading zeros. */
static bool fs_parse_index(const char *s, size_t len, unsigned int *idx)
{
	unsigned long v = 0;
	size_t i;

	if (!len || len > 9 || (len > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*idx = (unsigned int)v;
	return true;
}

static bool fs_name_eq(const char *name, const char *s, size_t len)
{
	return strlen(name) == len && !memcmp(name, s, len);
}

int fs_resolve(const char *path, struct fs_node *node)
{
	const struct fs_dir_type *type = &t_root;
	void *obj = &fs_root;
	const char *p = path;

	node->file = NULL;
	for (;;) {
		const char *end;
		size_t len;
		unsigned int i, idx;
		bool found = false;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchr(p, '/');
		len = end ? (size_t)(end - p) : strlen(p);

		for (i = 0; i < type->nr_files; i++) {
			if (fs_name_eq(type->files[i].name, p, len)) {
				p += len;
				while (*p == '/')
					p++;
				if (*p)
					return -ENOTDIR;
				node->type = type;
				node->obj = obj;
				node->file = &type->files[i];
				return 0;
			}
		}
		for (i = 0; i < type->nr_dirs; i++) {
			const struct fs_subdir *d = &type->dirs[i];

			if (fs_name_eq(d->name, p, len)) {
				if (d->off != FS_SAME_OBJ)
					obj = fs_field(obj, d->off);
				type = d->type;
				found = true;
				break;
			}
		}
		if (!found && type->arr_off != FS_NO_ARR &&
		    fs_parse_index(p, len, &idx)) {
			struct fs_array *arr = fs_field(obj, type->arr_off);

			if (idx < arr->nr) {
				obj = arr->items[idx];
				type = type->child;
				found = true;
			}
		}
		if (!found)
			return -ENOENT;
		p += len;
	}
	node->type = type;
	node->obj = obj;
	return 0;
}

int fs_list(const struct fs_node *dir,
	    void (*fn)(void *arg, const char *name, bool is_dir), void *arg)
{
	const struct fs_dir_type *type = dir->type;
	unsigned int i;

	if (dir->file)
		return -ENOTDIR;
	for (i = 0; i < type->nr_files; i++)
		fn(arg, type->files[i].name, false);
	for (i = 0; i < type->nr_dirs; i++)
		fn(arg, type->dirs[i].name, true);
	if (type->arr_off != FS_NO_ARR) {
		struct fs_array *arr = fs_field(dir->obj, type->arr_off);
		char name[16];

		for (i = 0; i < arr->nr; i++) {
			snprintf(name, sizeof(name), "%u", i);
			fn(arg, name, true);
		}
	}
	return 0;
}

int fs_lookup(const char *path, struct fs_node *node)
{
	int err;

	pthread_mutex_lock(&fs_tree_lock);
	err = fs_resolve(path, node);
	pthread_mutex_unlock(&fs_tree_lock);
	return err;
}

/* ------------------------------------------------------------------ */
/* 6. Read and write                                                   */
/* ------------------------------------------------------------------ */

static int fs_show_generic(void *obj, const struct fs_file *f, FILE *out)
{
	void *p = fs_field(obj, f->off);

	switch (f->kind) {
	case FS_ULONG:
		fprintf(out, "%lu\n", *(unsigned long *)p);
		return 0;
	case FS_UINT:
	case FS_NR:
		fprintf(out, "%u\n", *(unsigned int *)p);
		return 0;
	case FS_INT:
		fprintf(out, "%d\n", *(int *)p);
		return 0;
	case FS_BOOL:
		fputs(*(bool *)p ? "Y\n" : "N\n", out);
		return 0;
	case FS_KEYWORD: {
		unsigned int idx = *(unsigned int *)p;

		if (idx >= f->kw->nr)
			return -EINVAL;
		fprintf(out, "%s\n", f->kw->names[idx]);
		return 0;
	}
	case FS_STRING: {
		const char *s = *(char **)p;

		fprintf(out, "%s\n", s ? s : "");
		return 0;
	}
	case FS_SPECIAL:
		return f->show ? f->show(obj, out) : -EACCES;
	}
	return -EINVAL;
}

/*
 * The daemon's working directory means nothing to the writer, so make a
 * relative path absolute against the writer's (when it can be known).
 */
static char *fs_abs_path(const char *rel)
{
	char link[64], cwd[4096];
	ssize_t n = -1;
	char *out;

	if (fs_caller_pid > 0) {
		snprintf(link, sizeof(link), "/proc/%d/cwd",
			 (int)fs_caller_pid);
		n = readlink(link, cwd, sizeof(cwd) - 1);
	}
	if (n <= 0)
		return udamon__strdup(rel);
	cwd[n] = '\0';
	if (udamon__asprintf(&out, "%s/%s", cwd, rel) < 0)
		return NULL;
	return out;
}

static int fs_parse_err(const struct fs_file *f, int err)
{
	return (f->flags & FS_EINVAL_ONLY) ? -EINVAL : err;
}

static int fs_store_generic(void *obj, const struct fs_file *f, const char *buf)
{
	void *p = fs_field(obj, f->off);
	int err = 0;

	switch (f->kind) {
	case FS_ULONG: {
		unsigned long v;

		err = fs_kstrtoul(buf, &v);
		if (err)
			return fs_parse_err(f, err);
		if ((f->flags & FS_NONZERO) && !v)
			return -EINVAL;
		*(unsigned long *)p = v;
		return 0;
	}
	case FS_UINT: {
		unsigned int v;

		err = fs_kstrtouint(buf, &v);
		if (err)
			return fs_parse_err(f, err);
		*(unsigned int *)p = v;
		return 0;
	}
	case FS_INT: {
		int v;

		err = fs_kstrtoint(buf, &v);
		if (err)
			return fs_parse_err(f, err);
		*(int *)p = v;
		return 0;
	}
	case FS_BOOL: {
		bool v;

		err = fs_kstrtobool(buf, &v);
		if (err)
			return err;
		*(bool *)p = v;
		return 0;
	}
	case FS_KEYWORD: {
		unsigned int i;

		for (i = 0; i < f->kw->nr; i++) {
			if (!fs_sysfs_streq(buf, f->kw->names[i]))
				continue;
			if (f->kw->valid && !f->kw->valid(obj, i))
				return -EINVAL;
			*(unsigned int *)p = i;
			return 0;
		}
		return -EINVAL;
	}
	case FS_STRING: {
		char *s = udamon__strdup(buf);
		size_t n;

		if (!s)
			return -ENOMEM;
		n = strlen(s);
		if ((f->flags & FS_STRIP_NL) && n && s[n - 1] == '\n')
			s[n - 1] = '\0';
		if ((f->flags & FS_REL_PATH) && s[0] && s[0] != '/') {
			char *abs = fs_abs_path(s);

			free(s);
			if (!abs)
				return -ENOMEM;
			s = abs;
		}
		free(*(char **)p);
		*(char **)p = s;
		return 0;
	}
	case FS_SPECIAL:
		return f->store ? f->store(obj, buf) : -EACCES;
	case FS_NR:
		break;
	}
	return -EINVAL;
}

static bool fs_any_kdamond_running(void)
{
	struct fs_array *arr = &fs_root.kdamonds.arr;
	unsigned int i;

	for (i = 0; i < arr->nr; i++) {
		struct st_kdamond *kd = arr->items[i];

		if (kd->ctx && damon_is_running(kd->ctx))
			return true;
	}
	return false;
}

static int fs_show(const char *path, FILE *out)
{
	struct fs_node n;
	int err;

	pthread_mutex_lock(&fs_tree_lock);
	err = fs_resolve(path, &n);
	if (!err && !n.file)
		err = -EISDIR;
	if (err || !(n.file->flags & FS_LOCKED)) {
		if (!err)
			err = fs_show_generic(n.obj, n.file, out);
		pthread_mutex_unlock(&fs_tree_lock);
		return err;
	}
	pthread_mutex_unlock(&fs_tree_lock);

	if (pthread_mutex_trylock(&fs_sysfs_lock))
		return -EBUSY;
	/* Re-resolve: the sysfs lock now keeps the object alive. */
	err = fs_lookup(path, &n);
	if (!err)
		err = n.file->show(n.obj, out);
	pthread_mutex_unlock(&fs_sysfs_lock);
	return err;
}

int fs_read(const char *path, char **data, size_t *len)
{
	bool stream_failed;
	FILE *out;
	int err;

	*data = NULL;
	*len = 0;
	out = udamon__open_memstream(data, len);
	if (!out)
		return -ENOMEM;
	err = fs_show(path, out);
	/*
	 * The stream's buffer grows inside libc, outside the allocation seam:
	 * a growth that failed shows only as a stream error, here or when the
	 * last of the content is flushed by fclose().
	 */
	stream_failed = ferror(out);
	if (fclose(out))
		stream_failed = true;
	if (!err && stream_failed)
		err = -ENOMEM;
	if (err) {
		free(*data);
		*data = NULL;
		*len = 0;
	}
	return err;
}

ssize_t fs_write(const char *path, const char *data, size_t len)
{
	char kbuf[FS_WRITE_MAX + 1];
	const struct fs_file *f;
	struct fs_node n;
	size_t count;
	int err;

	pthread_mutex_lock(&fs_tree_lock);
	err = fs_shutting_down ? -ENODEV : fs_resolve(path, &n);
	if (!err && !n.file)
		err = -EISDIR;
	if (!err && !(n.file->mode & 0200))
		err = -EACCES;
	if (err) {
		pthread_mutex_unlock(&fs_tree_lock);
		return err;
	}
	/* As kernfs: at most a page, NUL-terminated; empty writes do nothing. */
	if (!len) {
		pthread_mutex_unlock(&fs_tree_lock);
		return 0;
	}
	count = len < FS_WRITE_MAX ? len : FS_WRITE_MAX;
	memcpy(kbuf, data, count);
	kbuf[count] = '\0';

	f = n.file;
	if (f->kind != FS_NR && !(f->flags & FS_LOCKED)) {
		err = fs_store_generic(n.obj, f, kbuf);
		pthread_mutex_unlock(&fs_tree_lock);
		return err ? err : (ssize_t)count;
	}
	pthread_mutex_unlock(&fs_tree_lock);

	if (f->kind == FS_NR) {
		int nr;

		err = fs_kstrtoint(kbuf, &nr);
		if (err)
			return err;
		if (nr < 0 || ((f->flags & FS_NR_MAX1) && nr > 1) ||
		    (f->nr_max && (unsigned int)nr > f->nr_max))
			return -EINVAL;
		if (pthread_mutex_trylock(&fs_sysfs_lock))
			return -EBUSY;
		pthread_mutex_lock(&fs_tree_lock);
		err = fs_resolve(path, &n);
		/*
		 * Shutdown may have begun since the check above; it holds
		 * context pointers that removing a kdamond dir would free.
		 */
		if (!err && fs_shutting_down)
			err = -ENODEV;
		if (!err && (f->flags & FS_NR_IDLE) && fs_any_kdamond_running())
			err = -EBUSY;
		if (!err)
			err = fs_array_set(fs_nr_array(n.obj, f), f->child,
					   (unsigned int)nr, n.obj);
		pthread_mutex_unlock(&fs_tree_lock);
		pthread_mutex_unlock(&fs_sysfs_lock);
		return err ? err : (ssize_t)count;
	}

	if (pthread_mutex_trylock(&fs_sysfs_lock))
		return -EBUSY;
	err = fs_lookup(path, &n);
	if (!err)
		err = n.file->store(n.obj, kbuf);
	pthread_mutex_unlock(&fs_sysfs_lock);
	return err ? err : (ssize_t)count;
}
