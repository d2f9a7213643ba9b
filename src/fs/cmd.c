// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kdamond files with behaviour: the commands written to "state", the
 * "state" and "pid" reads, the refresh_ms repeat call and the state dump.
 *
 * Everything here runs with fs_sysfs_lock held (or, for the repeat call,
 * try-locked), never with fs_tree_lock held across a wait: the callbacks
 * that run on the kdamond take fs_tree_lock themselves to read and write
 * the staging files, as the kernel's callbacks write the sysfs objects.
 */
#include "fs/tree.h"
#include "sys/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

enum fs_cmd {
	FS_CMD_ON,
	FS_CMD_OFF,
	FS_CMD_COMMIT,
	FS_CMD_COMMIT_SCHEMES_QUOTA_GOALS,
	FS_CMD_UPDATE_SCHEMES_STATS,
	FS_CMD_UPDATE_SCHEMES_TRIED_BYTES,
	FS_CMD_UPDATE_SCHEMES_TRIED_REGIONS,
	FS_CMD_CLEAR_SCHEMES_TRIED_REGIONS,
	FS_CMD_UPDATE_SCHEMES_EFFECTIVE_QUOTAS,
	FS_CMD_UPDATE_TUNED_INTERVALS,
	NR_FS_CMDS,
};

static const char *const fs_cmd_names[NR_FS_CMDS] = {
	"on",
	"off",
	"commit",
	"commit_schemes_quota_goals",
	"update_schemes_stats",
	"update_schemes_tried_bytes",
	"update_schemes_tried_regions",
	"clear_schemes_tried_regions",
	"update_schemes_effective_quotas",
	"update_tuned_intervals",
};

/* The one staged context; commands other than "off" require it. */
static struct st_context *fs_kd_context(struct st_kdamond *kd)
{
	return kd->contexts.arr.nr == 1 ? kd->contexts.arr.items[0] : NULL;
}

static bool fs_kd_running(struct st_kdamond *kd)
{
	return kd->ctx && damon_is_running(kd->ctx);
}

int fs_state_show(void *obj, FILE *out)
{
	fprintf(out, "%s\n", fs_kd_running(obj) ? "on" : "off");
	return 0;
}

int fs_pid_show(void *obj, FILE *out)
{
	struct st_kdamond *kd = obj;
	int pid = kd->ctx ? damon_kdamond_pid(kd->ctx) : -1;

	fprintf(out, "%d\n", pid < 0 ? -1 : pid);
	return 0;
}

/* ---- callbacks run on the kdamond, reading the running context ---- */

static int fs_upd_schemes_stats(void *data)
{
	struct st_kdamond *kd = data;
	struct st_context *sc;
	struct damos *s;
	unsigned int i = 0;

	pthread_mutex_lock(&fs_tree_lock);
	sc = fs_kd_context(kd);
	damon_for_each_scheme(s, kd->ctx) {
		struct st_stats *st;

		/* the user may have removed scheme directories */
		if (!sc || i >= sc->schemes.arr.nr)
			break;
		st = &((struct st_scheme *)sc->schemes.arr.items[i++])->stats;
		st->nr_tried = s->stat.nr_tried;
		st->sz_tried = s->stat.sz_tried;
		st->nr_applied = s->stat.nr_applied;
		st->sz_applied = s->stat.sz_applied;
		st->sz_ops_filter_passed = s->stat.sz_ops_filter_passed;
		st->qt_exceeds = s->stat.qt_exceeds;
		st->nr_snapshots = s->stat.nr_snapshots;
	}
	pthread_mutex_unlock(&fs_tree_lock);
	return 0;
}

static int fs_upd_effective_quotas(void *data)
{
	struct st_kdamond *kd = data;
	struct st_context *sc;
	struct damos *s;
	unsigned int i = 0;

	pthread_mutex_lock(&fs_tree_lock);
	sc = fs_kd_context(kd);
	damon_for_each_scheme(s, kd->ctx) {
		struct st_scheme *ss;

		if (!sc || i >= sc->schemes.arr.nr)
			break;
		ss = sc->schemes.arr.items[i++];
		ss->quotas.effective_bytes = s->quota.esz;
	}
	pthread_mutex_unlock(&fs_tree_lock);
	return 0;
}

static int fs_upd_tuned_intervals(void *data)
{
	struct st_kdamond *kd = data;
	struct st_context *sc;

	pthread_mutex_lock(&fs_tree_lock);
	sc = fs_kd_context(kd);
	if (sc) {
		sc->attrs.intervals.sample_us = kd->ctx->attrs.sample_interval;
		sc->attrs.intervals.aggr_us = kd->ctx->attrs.aggr_interval;
	}
	pthread_mutex_unlock(&fs_tree_lock);
	return 0;
}

static int fs_commit_goals(void *data)
{
	struct st_kdamond *kd = data;
	struct st_context *sc;
	struct damos *s;
	unsigned int i = 0;
	int err = 0;

	pthread_mutex_lock(&fs_tree_lock);
	sc = fs_kd_context(kd);
	if (!sc)
		err = -EINVAL;
	damon_for_each_scheme(s, kd->ctx) {
		struct damos_quota quota;
		struct damos_quota_goal *g, *next;

		if (err || i >= sc->schemes.arr.nr)
			break;
		fs_quota_init(&quota);
		err = fs_build_goals(sc->schemes.arr.items[i++], &quota);
		if (!err)
			err = damos_commit_quota_goals(&s->quota, &quota);
		damos_for_each_quota_goal_safe(g, next, &quota)
			damos_destroy_quota_goal(g);
	}
	pthread_mutex_unlock(&fs_tree_lock);
	return err;
}

struct fs_commit_arg {
	struct damon_ctx *dst;
	struct damon_ctx *src;
};

static int fs_commit_fn(void *data)
{
	struct fs_commit_arg *arg = data;

	return damon_commit_ctx(arg->dst, arg->src);
}

/*
 * refresh_ms: one deadline shared by all kdamonds, as in the kernel; the
 * updates are skipped rather than waited for when the sysfs lock is busy.
 */
static pthread_mutex_t fs_refresh_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t fs_next_refresh_ms;

static uint64_t fs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int fs_refresh_fn(void *data)
{
	struct st_kdamond *kd = data;
	unsigned int refresh_ms;
	uint64_t now = fs_now_ms();
	bool due;

	pthread_mutex_lock(&fs_tree_lock);
	refresh_ms = kd->refresh_ms;
	pthread_mutex_unlock(&fs_tree_lock);
	if (!refresh_ms)
		return 0;
	pthread_mutex_lock(&fs_refresh_lock);
	due = now >= fs_next_refresh_ms;
	if (due)
		fs_next_refresh_ms = now + refresh_ms;
	pthread_mutex_unlock(&fs_refresh_lock);
	if (!due || pthread_mutex_trylock(&fs_sysfs_lock))
		return 0;
	if (kd->contexts.arr.nr == 1) {
		fs_upd_tuned_intervals(kd);
		fs_upd_schemes_stats(kd);
		fs_upd_effective_quotas(kd);
	}
	pthread_mutex_unlock(&fs_sysfs_lock);
	return 0;
}

/* ---- commands ---- */

static int fs_kd_call(struct st_kdamond *kd, int (*fn)(void *data))
{
	struct damon_call_control control = { .fn = fn, .data = kd };
	int err;

	if (!kd->ctx)
		return -EINVAL;
	err = damon_call(kd->ctx, &control);
	return err ? err : control.return_code;
}

/* Remember which workload file the kdamond's context models. */
static int fs_kd_note_sim_path(struct st_kdamond *kd)
{
	struct st_context *sc = fs_kd_context(kd);
	char *path = NULL;

	if (sc && sc->ops == DAMON_OPS_SIM && sc->sim_workload) {
		path = udamon__strdup(sc->sim_workload);
		if (!path)
			return -ENOMEM;
	}
	free(kd->sim_path);
	kd->sim_path = path;
	return 0;
}

static int fs_turn_on(struct st_kdamond *kd)
{
	struct fs_sim_file sim;
	struct damon_call_control *refresh;
	struct damon_ctx *ctx;
	int err;

	if (fs_kd_running(kd))
		return -EBUSY;
	refresh = udamon__calloc(1, sizeof(*refresh));
	if (!refresh)
		return -ENOMEM;
	/* The workload file is read before, never under, the tree lock. */
	err = fs_sim_file_load(kd, NULL, &sim);
	fs_checkpoint_preload(kd); /* so is a checkpoint to restore */
	if (err) {
		free(refresh);
		return err;
	}
	/* under the tree lock: fs_stop_running() must not see it freed */
	pthread_mutex_lock(&fs_tree_lock);
	if (fs_shutting_down) {
		pthread_mutex_unlock(&fs_tree_lock);
		fs_sim_file_free(&sim);
		free(refresh);
		return -ENODEV;
	}
	if (kd->ctx)
		damon_destroy_ctx(kd->ctx);
	kd->ctx = NULL;
	err = fs_build_ctx(fs_kd_context(kd), fs_caller_uid, NULL, &sim, &ctx);
	if (!err) {
		err = fs_kd_note_sim_path(kd);
		/* udamon checkpoint hook: a restore asked for while off */
		if (!err)
			err = fs_checkpoint_at_on(kd, ctx);
		if (err)
			damon_destroy_ctx(ctx);
	}
	/*
	 * Start with the tree lock held, so fs_stop_running() sees either no
	 * context or a running one.  damon_start() only waits for the new
	 * thread to begin, before it could run any callback taking the lock.
	 */
	if (!err) {
		err = damon_start(&ctx, 1, false);
		if (err) {
			fs_note_error(damon_refusal(ctx));
			fs_log(DAMON_LOG_ERR,
			       "starting the kdamond failed (%d)", err);
			damon_destroy_ctx(ctx);
		} else {
			kd->ctx = ctx;
			pthread_mutex_lock(&fs_refresh_lock);
			fs_next_refresh_ms = fs_now_ms() + kd->refresh_ms;
			pthread_mutex_unlock(&fs_refresh_lock);
		}
	}
	pthread_mutex_unlock(&fs_tree_lock);
	fs_sim_file_free(&sim);
	if (err) {
		free(refresh);
		return err;
	}
	refresh->fn = fs_refresh_fn;
	refresh->data = kd;
	refresh->repeat = true;
	refresh->dealloc_on_cancel = true;
	if (damon_call(ctx, refresh))
		free(refresh);
	return 0;
}

static int fs_turn_off(struct st_kdamond *kd)
{
	if (!kd->ctx)
		return -EINVAL;
	/* The context stays, so its final results can still be read. */
	return damon_stop(&kd->ctx, 1);
}

static int fs_commit(struct st_kdamond *kd)
{
	struct fs_commit_arg arg;
	struct damon_call_control control = { .fn = fs_commit_fn,
					      .data = &arg };
	struct fs_sim_file sim;
	struct damon_ctx *param;
	int err;

	if (!kd->ctx)
		return -EINVAL;
	if (!damon_is_running(kd->ctx))
		return -ECANCELED;
	/*
	 * Build the parameter context here rather than on the kdamond: it
	 * only reads the files, and the writer's identity is known here.
	 */
	err = fs_sim_file_load(kd, kd->sim_path, &sim);
	if (err)
		return err;
	pthread_mutex_lock(&fs_tree_lock);
	err = fs_build_ctx(fs_kd_context(kd), fs_caller_uid, kd->sim_path, &sim,
			   &param);
	pthread_mutex_unlock(&fs_tree_lock);
	fs_sim_file_free(&sim);
	if (err)
		return err;
	arg.dst = kd->ctx;
	arg.src = param;
	err = damon_call(kd->ctx, &control);
	if (!err)
		err = control.return_code;
	if (err)
		fs_note_error(damon_refusal(param));
	if (err == -ECANCELED)
		fs_note_error(
			"the kdamond stopped (its targets are gone, or it was turned off) before the commit ran");
	else if (err)
		fs_log(DAMON_LOG_ERR, "commit failed (%d)", err);
	if (!err) {
		pthread_mutex_lock(&fs_tree_lock);
		err = fs_kd_note_sim_path(kd);
		pthread_mutex_unlock(&fs_tree_lock);
	}
	damon_destroy_ctx(param);
	return err;
}

static void fs_clear_tried_regions(struct st_context *sc)
{
	unsigned int i;

	pthread_mutex_lock(&fs_tree_lock);
	for (i = 0; i < sc->schemes.arr.nr; i++) {
		struct st_scheme *ss = sc->schemes.arr.items[i];

		fs_array_clear(&ss->tried.arr, &fs_tried_region_type);
		ss->tried.total_bytes = 0;
	}
	pthread_mutex_unlock(&fs_tree_lock);
}

struct fs_walk_arg {
	struct st_kdamond *kd;
	bool total_bytes_only;
};

static void fs_walk_fn(void *data, struct damon_ctx *ctx,
		       struct damon_target *t, struct damon_region *r,
		       struct damos *s, unsigned long sz_filter_passed)
{
	struct fs_walk_arg *arg = data;
	struct st_context *sc;
	struct st_scheme *ss;
	struct st_tried_region *tr;
	struct damos *iter;
	unsigned int idx = 0, nr_probes;

	damon_for_each_scheme(iter, ctx) {
		if (iter == s)
			break;
		idx++;
	}
	pthread_mutex_lock(&fs_tree_lock);
	sc = fs_kd_context(arg->kd);
	if (!sc || idx >= sc->schemes.arr.nr)
		goto out;
	ss = sc->schemes.arr.items[idx];
	ss->tried.total_bytes += r->ar.end - r->ar.start;
	if (arg->total_bytes_only)
		goto out;
	tr = fs_array_append(&ss->tried.arr, &fs_tried_region_type, &ss->tried);
	if (!tr)
		goto out;
	tr->start = r->ar.start;
	tr->end = r->ar.end;
	tr->nr_accesses = r->nr_accesses_bp / 10000;
	tr->age = r->age;
	tr->sz_filter_passed = sz_filter_passed;
	/* As nr_accesses would be in the newest kernels: moving sums. */
	nr_probes = damon_nr_probes(ctx);
	if (nr_probes > DAMON_MAX_PROBES)
		nr_probes = DAMON_MAX_PROBES;
	if (!fs_array_set(&tr->probes.arr, &fs_tried_probe_type, nr_probes,
			  &tr->probes)) {
		unsigned int i;

		for (i = 0; i < tr->probes.arr.nr; i++) {
			struct st_tried_probe *tp = tr->probes.arr.items[i];

			tp->hits = damon_probe_hits_mvsum(ctx, r, i);
		}
	}
out:
	pthread_mutex_unlock(&fs_tree_lock);
}

static int fs_update_tried_regions(struct st_kdamond *kd, bool bytes_only)
{
	struct fs_walk_arg arg = { .kd = kd, .total_bytes_only = bytes_only };
	struct damos_walk_control control = { .walk_fn = fs_walk_fn,
					      .data = &arg };

	if (!kd->ctx)
		return -EINVAL;
	fs_clear_tried_regions(fs_kd_context(kd));
	return damos_walk(kd->ctx, &control);
}

int fs_state_error_show(void *obj, FILE *out)
{
	struct st_kdamond *kd = obj;

	fprintf(out, "%s\n", kd->state_error);
	return 0;
}

static int fs_state_run(struct st_kdamond *kd, enum fs_cmd cmd);

/*
 * Run a command written to "state"; when it fails, keep why in
 * udamon/state_error (the first error logged while it ran, else the
 * errno's text), as an errno alone rarely tells what to fix.  A command
 * that succeeds clears it.
 */
int fs_state_store(void *obj, const char *buf)
{
	struct st_kdamond *kd = obj;
	char why[sizeof(kd->state_error) - 64];
	enum fs_cmd cmd;
	int err;

	for (cmd = 0; cmd < NR_FS_CMDS; cmd++)
		if (fs_sysfs_streq(buf, fs_cmd_names[cmd]))
			break;
	if (cmd == NR_FS_CMDS) {
		snprintf(kd->state_error, sizeof(kd->state_error),
			 "unknown command (%s)", strerror(EINVAL));
		return -EINVAL;
	}
	fs_capture_errors(why, sizeof(why));
	if (cmd != FS_CMD_OFF && kd->contexts.arr.nr != 1) {
		fs_note_error("contexts/nr_contexts must be 1");
		err = -EINVAL;
	} else {
		err = fs_state_run(kd, cmd);
	}
	fs_capture_errors(NULL, 0);
	if (!err)
		kd->state_error[0] = '\0';
	else
		snprintf(kd->state_error, sizeof(kd->state_error),
			 "%s: %s (%s)", fs_cmd_names[cmd],
			 why[0] ? why : strerror(-err), strerror(-err));
	return err;
}

static int fs_state_run(struct st_kdamond *kd, enum fs_cmd cmd)
{
	switch (cmd) {
	case FS_CMD_ON:
		return fs_turn_on(kd);
	case FS_CMD_OFF:
		return fs_turn_off(kd);
	case FS_CMD_COMMIT:
		return fs_commit(kd);
	case FS_CMD_COMMIT_SCHEMES_QUOTA_GOALS:
		return fs_kd_call(kd, fs_commit_goals);
	case FS_CMD_UPDATE_SCHEMES_STATS:
		return fs_kd_call(kd, fs_upd_schemes_stats);
	case FS_CMD_UPDATE_SCHEMES_TRIED_BYTES:
		return fs_update_tried_regions(kd, true);
	case FS_CMD_UPDATE_SCHEMES_TRIED_REGIONS:
		return fs_update_tried_regions(kd, false);
	case FS_CMD_CLEAR_SCHEMES_TRIED_REGIONS:
		fs_clear_tried_regions(fs_kd_context(kd));
		return 0;
	case FS_CMD_UPDATE_SCHEMES_EFFECTIVE_QUOTAS:
		return fs_kd_call(kd, fs_upd_effective_quotas);
	case FS_CMD_UPDATE_TUNED_INTERVALS:
		return fs_kd_call(kd, fs_upd_tuned_intervals);
	case NR_FS_CMDS:
		break;
	}
	return -EINVAL;
}

/* ---- the state dump ---- */

struct fs_dump_arg {
	struct damon_ctx *ctx;
	json_object *contexts;
	int err;
};

static int fs_dump_fn(void *data)
{
	struct fs_dump_arg *arg = data;

	arg->err = fs_dump_ctx(arg->ctx, arg->contexts);
	return 0;
}

/*
 * The dump is taken on the kdamond between two loop steps (a damon_call),
 * where no part of the context is changing: the same consistency the
 * kernel selftests get by pausing DAMON before reading it with drgn, and
 * without touching the user's pause setting.
 */
int fs_dump_show(void *obj, FILE *out)
{
	struct st_kdamond *kd = obj;
	json_object *root = json_object_new_object();
	json_object *contexts = json_object_new_array();
	struct fs_dump_arg arg = { .ctx = kd->ctx, .contexts = contexts };
	struct damon_call_control control = { .fn = fs_dump_fn, .data = &arg };
	int err = 0;

	if (!root || !contexts ||
	    json_object_object_add(root, "contexts", contexts)) {
		json_object_put(root);
		json_object_put(contexts);
		return -ENOMEM;
	}
	if (kd->ctx) {
		err = damon_call(kd->ctx, &control);
		/* a stopped kdamond: nobody else touches the context */
		if (err == -ECANCELED && !damon_is_running(kd->ctx))
			err = fs_dump_fn(&arg);
		if (!err)
			err = arg.err;
	}
	if (!err) {
		const char *text = json_object_to_json_string_ext(
			root, JSON_C_TO_STRING_SPACED |
				      JSON_C_TO_STRING_NOSLASHESCAPE);

		if (!text)
			err = -ENOMEM;
		else
			fprintf(out, "%s\n", text);
	}
	json_object_put(root);
	return err;
}

void fs_stop_running(void)
{
	struct fs_array *arr = &fs_root.kdamonds.arr;
	struct damon_ctx **ctxs;
	unsigned int i, nr = 0;

	fs_checkpoint_shutdown(); /* udamond --checkpoint-dir */
	pthread_mutex_lock(&fs_tree_lock);
	fs_shutting_down = true;
	ctxs = udamon__calloc(arr->nr ? arr->nr : 1, sizeof(*ctxs));
	for (i = 0; ctxs && i < arr->nr; i++) {
		struct st_kdamond *kd = arr->items[i];

		if (fs_kd_running(kd))
			ctxs[nr++] = kd->ctx;
	}
	pthread_mutex_unlock(&fs_tree_lock);
	/*
	 * No write can free these now (writes are refused), and a kdamond
	 * that stopped meanwhile just makes damon_stop() say -EPERM.
	 */
	for (i = 0; i < nr; i++)
		damon_stop(&ctxs[i], 1);
	free(ctxs);
}

void fs_stop_all(void)
{
	struct fs_array *arr = &fs_root.kdamonds.arr;
	unsigned int i;

	for (i = 0; i < arr->nr; i++) {
		struct st_kdamond *kd = arr->items[i];

		if (fs_kd_running(kd))
			damon_stop(&kd->ctx, 1);
	}
}
