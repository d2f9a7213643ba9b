/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The DAMON sysfs tree of udamond: staging structures (what the files hold),
 * the table-driven node model that maps paths to them, and the entry points
 * the FUSE glue calls.  No libfuse types appear here, so the tree can be
 * driven by unit tests without a mount.
 *
 * Map of src/fs/:
 *   parse.c  - kstrtox/kstrtobool/sysfs_streq with kernel errno
 *   tree.c   - dir/file tables, path resolution, generic show/store, nr_*
 *   build.c  - builds a damon_ctx from a staged context (sysfs apply_inputs)
 *   cmd.c    - the state commands, refresh_ms, pid, the state dump
 *   dump.c   - JSON dump of a damon_ctx (drgn_dump_damon_status.py fields)
 *   fuse.c   - libfuse3 operations
 *   path.c   - reading user-named files without hanging the daemon
 *
 * Locking.  Two locks, taken in this order:
 *   fs_sysfs_lock - the kernel's damon_sysfs_lock, always try-locked by file
 *                   handlers (-EBUSY when contended).  Held by nr_* writes,
 *                   state writes, and state/pid/dump reads, including while
 *                   they wait for a kdamond.  Numbered directories are only
 *                   created or removed under it, so it keeps objects alive.
 *   fs_tree_lock  - a short-term mutex guarding the staging memory against
 *                   concurrent FUSE threads and kdamond callbacks.  Never
 *                   held while waiting for a kdamond (damon_call/walk/stop),
 *                   so callbacks running on a kdamond may take it.
 */
#ifndef UDAMON_FS_TREE_H
#define UDAMON_FS_TREE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <udamon/damon.h>

#include "fs/parse.h"

/* ---- staging structures ---- */

/* The numbered children of a directory ("0", "1", ...). */
struct fs_array {
	unsigned int nr;
	void **items;
};

struct st_range {
	unsigned long min;
	unsigned long max;
};

struct st_intervals_goal {
	unsigned long access_bp;
	unsigned long aggrs;
	unsigned long min_sample_us;
	unsigned long max_sample_us;
};

struct st_intervals {
	unsigned long sample_us;
	unsigned long aggr_us;
	unsigned long update_us;
	struct st_intervals_goal goal;
};

/* monitoring_attrs/probes/<P>/filters/<F> */
struct st_probe_filter {
	unsigned int type; /* enum damon_filter_type */
	bool matching;
	bool allow;
	char *path; /* memcg path */
};

struct st_probe_filters {
	struct fs_array arr;
};

/* monitoring_attrs/probes/<P>/preps/<R> */
struct st_prep {
	unsigned int action; /* enum damon_prep_action */
};

struct st_preps {
	struct fs_array arr;
};

struct st_probe {
	unsigned int weight;
	struct st_probe_filters filters;
	struct st_preps preps;
};

struct st_probes {
	struct fs_array arr;
};

struct st_attrs {
	struct st_intervals intervals;
	struct st_range nr_regions;
	struct st_probes probes;
};

struct st_region {
	unsigned long start;
	unsigned long end;
};

struct st_regions {
	struct fs_array arr;
};

struct st_target {
	int pid;
	bool obsolete;
	struct st_regions regions;
};

struct st_targets {
	struct fs_array arr;
};

struct st_goal {
	unsigned int metric;
	unsigned long target_value;
	unsigned long current_value;
	int nid;
	char *path;
};

struct st_goals {
	struct fs_array arr;
};

struct st_weights {
	unsigned int sz;
	unsigned int nr_accesses;
	unsigned int age;
};

struct st_quotas {
	unsigned long ms;
	unsigned long bytes;
	unsigned long reset_interval_ms;
	unsigned long effective_bytes;
	unsigned int goal_tuner;
	unsigned int fail_charge_num;
	unsigned int fail_charge_denom;
	struct st_weights weights;
	struct st_goals goals;
};

struct st_wmarks {
	unsigned int metric;
	unsigned long interval_us;
	unsigned long high;
	unsigned long mid;
	unsigned long low;
};

/* Which filter types a filters directory accepts. */
enum st_filter_layer { ST_FILTER_CORE, ST_FILTER_OPS, ST_FILTER_BOTH };

struct st_filter {
	unsigned int layer;
	unsigned int type;
	bool matching;
	bool allow;
	char *memcg_path;
	unsigned long addr_start;
	unsigned long addr_end;
	unsigned long min;
	unsigned long max;
	int target_idx;
};

struct st_filters {
	unsigned int layer;
	struct fs_array arr;
};

struct st_dest {
	unsigned int id;
	unsigned int weight;
};

struct st_dests {
	struct fs_array arr;
};

struct st_stats {
	unsigned long nr_tried;
	unsigned long sz_tried;
	unsigned long nr_applied;
	unsigned long sz_applied;
	unsigned long sz_ops_filter_passed;
	unsigned long qt_exceeds;
	unsigned long nr_snapshots;
	unsigned long max_nr_snapshots;
};

/* tried_regions/<R>/probes/<P> */
struct st_tried_probe {
	unsigned int hits;
};

struct st_tried_probes {
	struct fs_array arr;
};

struct st_tried_region {
	unsigned long start;
	unsigned long end;
	unsigned int nr_accesses;
	unsigned int age;
	unsigned long sz_filter_passed;
	struct st_tried_probes probes;
};

struct st_tried_regions {
	unsigned long total_bytes;
	struct fs_array arr;
};

struct st_access_pattern {
	struct st_range sz;
	struct st_range nr_accesses;
	struct st_range age;
};

struct st_scheme {
	unsigned int action;
	unsigned long apply_interval_us;
	int target_nid;
	struct st_access_pattern pattern;
	struct st_quotas quotas;
	struct st_wmarks wmarks;
	struct st_filters core_filters;
	struct st_filters ops_filters;
	struct st_filters filters;
	struct st_dests dests;
	struct st_stats stats;
	struct st_tried_regions tried;
};

struct st_schemes {
	struct fs_array arr;
};

struct st_context {
	unsigned int ops;
	unsigned long addr_unit;
	bool pause;
	struct st_attrs attrs;
	struct st_targets targets;
	struct st_schemes schemes;
	char *sim_workload;
	/* udamon/allow_cold_on_writes_only (damon_allow_cold_on_writes_only) */
	bool allow_cold_on_writes_only;
	bool attach; /* udamon/attach: may vaddr attach to its targets */
	unsigned long overhead_budget; /* uffd-wp checks/s, 0: unbounded */
	bool auto_pause; /* udamon/auto_pause (damon_set_auto_pause) */
};

struct st_contexts {
	struct fs_array arr;
};

struct st_kdamond {
	unsigned int refresh_ms;
	struct st_contexts contexts;
	/* The core context built by the last "on"; kept after it stops. */
	struct damon_ctx *ctx;
	/* The sim workload file that ctx models (NULL: none). */
	char *sim_path;
	/* udamon/state_error: why the last write to state failed ("") */
	char state_error[512];
	/* udamon/checkpoint_path and checkpoint (ckpt.c) */
	char *checkpoint_path;
	bool restore_at_on; /* "restore" written while off */
	char checkpoint_status[600];
	/* the file to restore at "on", read before the tree lock is taken */
	char *ckpt_path_read;
	char *ckpt_data;
	size_t ckpt_len;
	int ckpt_err; /* reading it failed: why in ckpt_why */
	char ckpt_why[300];
};

struct st_kdamonds {
	struct fs_array arr;
};

struct st_root {
	struct st_kdamonds kdamonds; /* admin/kdamonds */
};

/* ---- node model ---- */

enum fs_kind {
	FS_ULONG, /* kstrtoul, "%lu" */
	FS_UINT, /* kstrtouint, "%u" */
	FS_INT, /* kstrtoint, "%d" */
	FS_BOOL, /* kstrtobool, "Y"/"N" */
	FS_KEYWORD, /* sysfs_streq against a keyword table */
	FS_STRING, /* stored as written, shown with a newline */
	FS_NR, /* nr_* file: (re)creates numbered children */
	FS_SPECIAL, /* own show/store */
};

#define FS_EINVAL_ONLY 0x1 /* every parse error is -EINVAL */
#define FS_NONZERO 0x2 /* 0 is refused with -EINVAL */
#define FS_NR_MAX1 0x4 /* only 0 or 1 (nr_contexts) */
#define FS_NR_IDLE 0x8 /* -EBUSY while a kdamond runs (nr_kdamonds) */
#define FS_LOCKED 0x10 /* show/store run with fs_sysfs_lock held and */
/* fs_tree_lock not held (they may wait) */
#define FS_STRIP_NL 0x20 /* strings: drop one trailing newline */
#define FS_SNAPSHOT 0x40 /* content is made once per open (dump) */
#define FS_REL_PATH 0x80 /* strings: a relative path is taken from the */
/* writer's working directory */

struct fs_keywords {
	const char *const *names;
	unsigned int nr;
	/* optional: whether keyword @idx may be stored into @obj */
	bool (*valid)(const void *obj, unsigned int idx);
};

struct fs_dir_type;

struct fs_file {
	const char *name;
	unsigned short mode; /* 0600 or 0400 */
	enum fs_kind kind;
	unsigned int flags;
	size_t off; /* field in the directory's object */
	const struct fs_keywords *kw;
	const struct fs_dir_type *child; /* FS_NR */
	unsigned int nr_max; /* FS_NR: most children (0: no limit) */
	int (*show)(void *obj, FILE *out);
	int (*store)(void *obj, const char *buf);
};

/* Most numbered children one nr_* write may create (more: -ENOMEM). */
#define FS_MAX_CHILDREN 65536u

#define FS_SAME_OBJ ((size_t)-1) /* a subdir viewing its parent's object */
#define FS_NO_ARR ((size_t)-1)

struct fs_subdir {
	const char *name;
	const struct fs_dir_type *type;
	size_t off; /* embedded object, or FS_SAME_OBJ */
};

struct fs_dir_type {
	const char *name;
	const struct fs_file *files;
	unsigned int nr_files;
	const struct fs_subdir *dirs;
	unsigned int nr_dirs;
	size_t arr_off; /* struct fs_array of numbered children */
	const struct fs_dir_type *child;
	size_t size; /* object size, for allocating children */
	void (*init)(void *obj, void *parent);
	void (*fini)(void *obj);
};

/* A resolved path. */
struct fs_node {
	const struct fs_dir_type *type; /* directory (of the file, if any) */
	void *obj;
	const struct fs_file *file; /* NULL for a directory */
};

extern struct st_root fs_root;
extern pthread_mutex_t fs_sysfs_lock;
extern pthread_mutex_t fs_tree_lock;
/* Identity of the process doing the current file operation. */
extern __thread uid_t fs_caller_uid;
extern __thread pid_t fs_caller_pid;

/* ---- tree.c ---- */
void fs_init(void);
/* Stop every kdamond and free the tree. */
void fs_fini(void);
/* Log through the daemon's logger (stderr by default). */
typedef void (*fs_log_fn)(enum damon_log_level level, const char *msg);
void fs_set_log_fn(fs_log_fn fn);
/*
 * Keep the first error fs_log() line of this thread in @buf (cleared now)
 * until called again with NULL.
 */
void fs_capture_errors(char *buf, size_t len);
/* Keep @why as that line if none is kept yet (a library refusal). */
void fs_note_error(const char *why);
/* New contexts' udamon/allow_cold_on_writes_only (udamond's option). */
extern bool fs_default_allow_cold_on_writes_only;
void fs_log(enum damon_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Resolve @path ("/admin/..."); fs_tree_lock must be held. */
int fs_resolve(const char *path, struct fs_node *node);
/* Visit the entries of a directory; fs_tree_lock must be held. */
int fs_list(const struct fs_node *dir,
	    void (*fn)(void *arg, const char *name, bool is_dir), void *arg);
/* Whole file operations; they take the locks they need. */
int fs_lookup(const char *path, struct fs_node *node);
/*
 * fs_read() - the whole content of the file at @path, as one read(2) of it
 * would see it.  On success *@data holds it NUL-terminated (release it with
 * free()) and *@len its length; on failure *@data is NULL.
 */
int fs_read(const char *path, char **data, size_t *len);
ssize_t fs_write(const char *path, const char *data, size_t len);

/* Children management, fs_tree_lock held. */
int fs_array_set(struct fs_array *arr, const struct fs_dir_type *type,
		 unsigned int nr, void *parent);
void fs_array_clear(struct fs_array *arr, const struct fs_dir_type *type);
void *fs_array_append(struct fs_array *arr, const struct fs_dir_type *type,
		      void *parent);

extern const struct fs_dir_type fs_tried_region_type;
extern const struct fs_dir_type fs_tried_probe_type;
extern const char *const fs_ops_names[];
#define FS_NR_OPS_NAMES 4u

/* ---- ckpt.c ---- */
/* udamond --checkpoint-dir (NULL: none). */
extern char *fs_checkpoint_dir;
int fs_checkpoint_show(void *obj, FILE *out);
int fs_checkpoint_store(void *obj, const char *buf);
/*
 * At "on", fs_tree_lock held, before damon_start(): queue the restore
 * asked for while off, or the daemon's own checkpoint.  A negative errno
 * (reason logged) fails the "on".
 */
int fs_checkpoint_at_on(struct st_kdamond *kd, struct damon_ctx *ctx);
/* Before "on" takes the tree lock: read the file fs_checkpoint_at_on needs. */
void fs_checkpoint_preload(struct st_kdamond *kd);
/* Drop what fs_checkpoint_preload() read. */
void fs_checkpoint_unload(struct st_kdamond *kd);
/* At shutdown, before the kdamonds stop: save them to the checkpoint dir. */
void fs_checkpoint_shutdown(void);

/* ---- build.c ---- */
/*
 * A sim workload file read before fs_tree_lock was taken (reading a file
 * under it could stall the whole tree): which path, and its content or
 * why it could not be read.
 */
struct fs_sim_file {
	char *path; /* NULL: nothing was read */
	char *buf;
	size_t len;
	int err;
	char why[128];
};
/*
 * Read the workload file of @kd's staged context unless it equals
 * @keep_sim_path; takes fs_tree_lock only to copy the path.
 */
int fs_sim_file_load(struct st_kdamond *kd, const char *keep_sim_path,
		     struct fs_sim_file *sim);
void fs_sim_file_free(struct fs_sim_file *sim);
/*
 * Build a new core context from @sc (fs_tree_lock held).  Errors are
 * logged with a reason.  @uid is the writer of the command, for the
 * pid_target permission check.  A sim workload file equal to
 * @keep_sim_path is not loaded again, so a commit that does not change it
 * keeps the running model (loading it anew would restart the workload);
 * any other comes from @sim, read by fs_sim_file_load().
 */
int fs_build_ctx(struct st_context *sc, uid_t uid, const char *keep_sim_path,
		 const struct fs_sim_file *sim, struct damon_ctx **out);
/* Build the quota goals of @ss into @quota (commit_schemes_quota_goals). */
int fs_build_goals(struct st_scheme *ss, struct damos_quota *quota);
/* Zero @q with an empty goal list. */
void fs_quota_init(struct damos_quota *q);

/* ---- cmd.c ---- */
int fs_state_show(void *obj, FILE *out);
int fs_state_error_show(void *obj, FILE *out);
int fs_state_store(void *obj, const char *buf);
int fs_pid_show(void *obj, FILE *out);
int fs_dump_show(void *obj, FILE *out);
/* Stop all kdamonds (daemon shutdown); fs_sysfs_lock held. */
void fs_stop_all(void);
/*
 * Shutdown has begun: refuse further writes (-ENODEV) and stop the running
 * kdamonds without the sysfs lock, so commands waiting for them (a walk
 * over a long apply interval) end and the FUSE loop can finish.
 */
void fs_stop_running(void);
extern bool fs_shutting_down;

/* ---- fuse.c ---- */
struct fs_fuse_opts {
	const char *mountpoint;
	bool foreground; /* else daemonize once mounted */
	bool allow_other;
	bool debug; /* libfuse request tracing */
	/* called once mounted (after daemonizing), before serving */
	void (*on_ready)(void *arg);
	void *arg;
};
/*
 * Mount the tree and serve it until unmounted or signalled (SIGTERM,
 * SIGINT, SIGHUP); then stop every kdamond and unmount.
 * Return: 0, or a negative errno if mounting failed.
 */
int fs_fuse_main(const struct fs_fuse_opts *o);

/* ---- path.c ---- */
/* The tree's mount point (canonical); paths into it are refused. */
int fs_set_own_mount(const char *mnt);
/* Whether absolute, normalized @path lies in a mount of the tree. */
bool fs_path_in_own_mount(const char *path);
/*
 * Read the regular file at absolute @path, at most @max bytes, into a new
 * NUL-terminated *@bufp.  Never waits for another process (FIFOs, devices
 * and sockets are refused) and never looks anything up in the tree's own
 * mount.  Return: 0, or a negative errno with a reason in @why.
 */
int fs_read_regular(const char *path, size_t max, char **bufp, size_t *lenp,
		    char *why, size_t whylen);

/* ---- dump.c ---- */
struct json_object;
/* Append @ctx's dump to the JSON array @contexts; 0 or -ENOMEM. */
int fs_dump_ctx(struct damon_ctx *ctx, struct json_object *contexts);

#endif /* UDAMON_FS_TREE_H */
