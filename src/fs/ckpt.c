// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamon-only tree files for checkpoints (the kernel has none; docs/abi.md):
 *
 *   kdamonds/<K>/udamon/checkpoint_path  the checkpoint file (absolute, or
 *                                        relative to the writer's cwd)
 *   kdamonds/<K>/udamon/checkpoint       write "save", "restore" or
 *                                        "cancel"; read the result of the
 *                                        last command
 *
 * "save" needs a running kdamond.  "restore" installs the checkpoint into
 * the running context at once (damon_call), or, while the kdamond is off,
 * at its next "on", which then fails (and starts nothing) if the file is
 * bad or does not match; the request stays until an "on" succeeds or
 * "cancel" drops it.  Failures say why in udamon/state_error.
 *
 * Checkpoint files are paths users write, so they get what path.c gives
 * the sim workload: read only as regular files, never inside udamond's
 * own mount, never under fs_tree_lock (the file for "on" is read before
 * the lock is taken); a save replaces PATH.tmp rather than opening it.
 *
 * udamond --checkpoint-dir DIR: at shutdown every running kdamond is
 * saved to DIR/kdamond<K>.ckpt before it stops, and a kdamond turned on
 * with no checkpoint_path of its own restores DIR/kdamond<K>.ckpt when it
 * exists and matches (else it starts fresh, with a log line).
 */
#include "fs/parse.h"
#include "fs/tree.h"
#include "sys/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *fs_checkpoint_dir;

/* Checkpoints are small (72 bytes a region); a bound on what is read. */
#define FS_CKPT_MAX_FILE (64UL << 20)

/* Read @path for a restore, as path.c reads the workload. */
static int fs_ckpt_read(const char *path, char **buf, size_t *len, char *why,
			size_t whylen)
{
	char reason[200];
	int err;

	err = fs_read_regular(path, FS_CKPT_MAX_FILE, buf, len, reason,
			      sizeof(reason));
	if (err)
		snprintf(why, whylen, "cannot read %s: %s", path, reason);
	return err;
}

static int fs_kd_index(struct st_kdamond *kd)
{
	struct fs_array *arr = &fs_root.kdamonds.arr;
	unsigned int i;

	for (i = 0; i < arr->nr; i++)
		if (arr->items[i] == kd)
			return (int)i;
	return -1;
}

/* The path to use, malloc'd; *@from_dir says it is the daemon's default. */
static char *fs_ckpt_path(struct st_kdamond *kd, bool *from_dir)
{
	char *path = NULL;
	int idx;

	*from_dir = false;
	pthread_mutex_lock(&fs_tree_lock);
	if (kd->checkpoint_path && *kd->checkpoint_path) {
		path = udamon__strdup(kd->checkpoint_path);
	} else if (fs_checkpoint_dir) {
		idx = fs_kd_index(kd);
		if (idx >= 0 && udamon__asprintf(&path, "%s/kdamond%d.ckpt",
						 fs_checkpoint_dir, idx) < 0)
			path = NULL;
		*from_dir = true;
	}
	pthread_mutex_unlock(&fs_tree_lock);
	return path;
}

int fs_checkpoint_show(void *obj, FILE *out)
{
	struct st_kdamond *kd = obj;

	fprintf(out, "%s\n",
		kd->checkpoint_status[0] ? kd->checkpoint_status : "none");
	return 0;
}

int fs_checkpoint_store(void *obj, const char *buf)
{
	struct st_kdamond *kd = obj;
	char why[400] = "";
	bool save, from_dir;
	char *path;
	int err;

	if (fs_sysfs_streq(buf, "cancel")) {
		/* Drop a restore asked for while off. */
		kd->restore_at_on = false;
		snprintf(kd->checkpoint_status, sizeof(kd->checkpoint_status),
			 "none");
		kd->state_error[0] = '\0';
		return 0;
	}
	if (fs_sysfs_streq(buf, "save"))
		save = true;
	else if (fs_sysfs_streq(buf, "restore"))
		save = false;
	else {
		snprintf(kd->state_error, sizeof(kd->state_error),
			 "checkpoint: unknown command, want save, restore or "
			 "cancel (%s)",
			 strerror(EINVAL));
		return -EINVAL;
	}
	path = fs_ckpt_path(kd, &from_dir);
	if (!path) {
		snprintf(kd->state_error, sizeof(kd->state_error),
			 "checkpoint: udamon/checkpoint_path is empty (%s)",
			 strerror(EINVAL));
		return -EINVAL;
	}
	if (save) {
		if (!kd->ctx || !damon_is_running(kd->ctx)) {
			snprintf(why, sizeof(why),
				 "the kdamond is off: nothing learned to save");
			err = -EINVAL;
		} else if (fs_path_in_own_mount(path)) {
			snprintf(why, sizeof(why),
				 "%s: inside udamond's own mount; refused",
				 path);
			err = -EINVAL;
		} else {
			err = damon_checkpoint_save(kd->ctx, path, why,
						    sizeof(why));
		}
		if (!err)
			snprintf(kd->checkpoint_status,
				 sizeof(kd->checkpoint_status), "saved %s",
				 path);
	} else {
		char *data = NULL;
		size_t len = 0;

		err = fs_ckpt_read(path, &data, &len, why, sizeof(why));
		if (!err && kd->ctx && damon_is_running(kd->ctx)) {
			err = damon_checkpoint_restore_buf(
				kd->ctx, data, len, path, why, sizeof(why));
			if (!err)
				snprintf(kd->checkpoint_status,
					 sizeof(kd->checkpoint_status),
					 "restored %s", path);
		} else if (!err) {
			/* Matched against the context at "on". */
			kd->restore_at_on = true;
			snprintf(kd->checkpoint_status,
				 sizeof(kd->checkpoint_status),
				 "restore pending: %s at the next on", path);
		}
		free(data);
	}
	if (err)
		snprintf(kd->state_error, sizeof(kd->state_error),
			 "checkpoint %s: %s (%s)", save ? "save" : "restore",
			 why[0] ? why : strerror(-err), strerror(-err));
	else
		kd->state_error[0] = '\0';
	free(path);
	return err;
}

void fs_checkpoint_unload(struct st_kdamond *kd)
{
	free(kd->ckpt_path_read);
	free(kd->ckpt_data);
	kd->ckpt_path_read = NULL;
	kd->ckpt_data = NULL;
	kd->ckpt_len = 0;
	kd->ckpt_err = 0;
	kd->ckpt_why[0] = '\0';
}

void fs_checkpoint_preload(struct st_kdamond *kd)
{
	bool from_dir;
	char *path;

	fs_checkpoint_unload(kd);
	if (!kd->restore_at_on && !fs_checkpoint_dir)
		return;
	path = fs_ckpt_path(kd, &from_dir);
	if (!path) {
		kd->ckpt_err = -ENOMEM;
		return;
	}
	/* The daemon's own file is optional; one asked for is not. */
	if (!kd->restore_at_on && (!from_dir || access(path, F_OK))) {
		free(path);
		return;
	}
	kd->ckpt_path_read = path;
	kd->ckpt_err = fs_ckpt_read(path, &kd->ckpt_data, &kd->ckpt_len,
				    kd->ckpt_why, sizeof(kd->ckpt_why));
}

int fs_checkpoint_at_on(struct st_kdamond *kd, struct damon_ctx *ctx)
{
	char why[400] = "";
	int err;

	if (!kd->ckpt_path_read) {
		err = kd->ckpt_err;
		fs_checkpoint_unload(kd);
		return err;
	}
	err = kd->ckpt_err;
	if (err)
		snprintf(why, sizeof(why), "%s", kd->ckpt_why);
	else
		err = damon_checkpoint_restore_buf(ctx, kd->ckpt_data,
						   kd->ckpt_len,
						   kd->ckpt_path_read, why,
						   sizeof(why));
	if (err && !kd->restore_at_on) {
		/* The daemon's own checkpoint of another configuration. */
		fs_log(DAMON_LOG_WARN,
		       "not restoring %s: %s; starting without it",
		       kd->ckpt_path_read, why);
		err = 0;
	} else if (err) {
		fs_log(DAMON_LOG_ERR, "checkpoint restore: %s", why);
	} else {
		fs_log(DAMON_LOG_INFO, "restoring %s", kd->ckpt_path_read);
		kd->restore_at_on = false;
		snprintf(kd->checkpoint_status, sizeof(kd->checkpoint_status),
			 "restored %s", kd->ckpt_path_read);
	}
	fs_checkpoint_unload(kd);
	return err;
}

void fs_checkpoint_shutdown(void)
{
	struct fs_array *arr = &fs_root.kdamonds.arr;
	unsigned int i, nr;

	if (!fs_checkpoint_dir)
		return;
	pthread_mutex_lock(&fs_tree_lock);
	nr = arr->nr;
	pthread_mutex_unlock(&fs_tree_lock);
	/* Writes are being refused: the kdamonds stay as they are. */
	for (i = 0; i < nr; i++) {
		struct st_kdamond *kd;
		char why[400] = "";
		struct damon_ctx *ctx;
		char *path = NULL;
		int err;

		pthread_mutex_lock(&fs_tree_lock);
		kd = i < arr->nr ? arr->items[i] : NULL;
		ctx = kd ? kd->ctx : NULL;
		pthread_mutex_unlock(&fs_tree_lock);
		if (!ctx || !damon_is_running(ctx))
			continue;
		if (udamon__asprintf(&path, "%s/kdamond%u.ckpt",
				     fs_checkpoint_dir, i) < 0)
			continue;
		if (fs_path_in_own_mount(path)) {
			snprintf(why, sizeof(why),
				 "%s is inside udamond's own mount", path);
			err = -EINVAL;
		} else {
			err = damon_checkpoint_save(ctx, path, why,
						    sizeof(why));
		}
		if (err)
			fs_log(DAMON_LOG_ERR, "checkpoint of kdamond %u: %s", i,
			       why);
		else
			fs_log(DAMON_LOG_INFO, "saved kdamond %u to %s", i,
			       path);
		free(path);
	}
}
