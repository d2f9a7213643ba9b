// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamond's metrics collector: what a scrape of udamond --metrics sees.
 *
 * A scrape takes the tree's sysfs lock, like the kernel's refresh_ms
 * worker, so kdamond directories and their contexts stay put; it waits for
 * it a bounded time only, and when a long command holds it the previous
 * scrape's values are served again, marked stale.  Each running kdamond
 * copies its context in a damon_call() (between two of its steps, where
 * nothing changes, as the state dump does); a stopped one is read as it
 * is.  The sysfs lock is let go before anything reads /proc or writes to
 * the network, and fs_tree_lock is held only to list the kdamonds.
 */
#include "daemon/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/tree.h"
#include "metrics/metrics.h"

/* How long a scrape waits for a command holding the sysfs lock. */
#define UDAMOND_METRICS_LOCK_WAIT_MS 500

static struct metrics_server *metrics_srv;
/* The last fresh set; only the server's one thread touches it. */
static struct metrics_set metrics_cache;

struct snap_arg {
	struct damon_ctx *ctx;
	char name[16];
	struct metrics_context *mc;
	int err;
};

/* On the kdamond. */
static int snap_fn(void *data)
{
	struct snap_arg *a = data;

	a->err = metrics_collect_ctx(a->ctx, a->name, 0, a->mc);
	return 0;
}

static int snap_ctx(struct damon_ctx *ctx, unsigned int kd_idx,
		    struct metrics_context *mc)
{
	struct snap_arg a = { .ctx = ctx, .mc = mc };
	struct damon_call_control control = { .fn = snap_fn, .data = &a };
	int err, tid;

	snprintf(a.name, sizeof(a.name), "%u", kd_idx);
	tid = damon_kdamond_pid(ctx);
	err = tid > 0 ? damon_call(ctx, &control) : -ECANCELED;
	/* stopped (now or before): nobody else touches the context */
	if (err == -ECANCELED && !damon_is_running(ctx)) {
		tid = -1;
		err = 0;
		snap_fn(&a);
	}
	if (err)
		return err;
	if (a.err)
		return a.err;
	mc->running = tid > 0;
	mc->kdamond_tid = tid;
	return 0;
}

static int udamond_collect(void *arg, struct metrics_set *set)
{
	struct damon_ctx **ctxs = NULL;
	struct timespec deadline;
	unsigned int i, nr;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += UDAMOND_METRICS_LOCK_WAIT_MS * 1000000L;
	deadline.tv_sec += deadline.tv_nsec / 1000000000L;
	deadline.tv_nsec %= 1000000000L;
	if (pthread_mutex_timedlock(&fs_sysfs_lock, &deadline)) {
		err = metrics_set_copy(set, &metrics_cache);
		set->stale = true;
		return err;
	}
	pthread_mutex_lock(&fs_tree_lock);
	nr = fs_root.kdamonds.arr.nr;
	if (nr)
		ctxs = calloc(nr, sizeof(*ctxs));
	for (i = 0; ctxs && i < nr; i++)
		ctxs[i] = ((struct st_kdamond *)fs_root.kdamonds.arr.items[i])
				  ->ctx;
	pthread_mutex_unlock(&fs_tree_lock);
	if (nr && !ctxs)
		err = -ENOMEM;
	for (i = 0; !err && i < nr; i++) {
		struct metrics_context *mc = metrics_set_add(set);

		if (!mc) {
			err = -ENOMEM;
		} else if (!ctxs[i]) {
			/* never turned on: no context yet, its state only */
			snprintf(mc->kdamond, sizeof(mc->kdamond), "%u", i);
			mc->no_context = true;
			mc->kdamond_tid = -1;
			mc->cpu_seconds = -1;
		} else {
			err = snap_ctx(ctxs[i], i, mc);
		}
	}
	pthread_mutex_unlock(&fs_sysfs_lock);
	free(ctxs);
	if (err) {
		metrics_set_release(set);
		return err;
	}
	for (i = 0; i < set->nr; i++)
		metrics_add_proc_info(&set->ctxs[i]);
	/* keep a copy for a scrape that finds the lock busy */
	metrics_set_release(&metrics_cache);
	if (metrics_set_copy(&metrics_cache, set))
		metrics_set_release(&metrics_cache);
	return 0;
}

int udamond_metrics_start(const char *spec, char *why, size_t whylen)
{
	return metrics_server_start(spec, udamond_collect, NULL, &metrics_srv,
				    why, whylen);
}

const char *udamond_metrics_address(void)
{
	return metrics_srv ? metrics_server_address(metrics_srv) : "";
}

void udamond_metrics_stop(void)
{
	metrics_server_stop(metrics_srv);
	metrics_srv = NULL;
	metrics_set_release(&metrics_cache);
}
