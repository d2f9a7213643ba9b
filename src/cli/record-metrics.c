// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamon record --metrics: the recording context on a Prometheus endpoint,
 * with the same names and labels as udamond's (kdamond "0", context "0").
 * A scrape copies the context in a damon_call(), on the kdamond thread (or
 * on the thread driving a --virtual run, between two steps), so it never
 * races the recording; before the context runs or once it stopped the
 * scrape is answered 503.
 */
#include "cli/record-metrics.h"

#include <errno.h>

#include "metrics/metrics.h"

struct rec_snap {
	struct damon_ctx *ctx;
	struct metrics_context *mc;
	int err;
};

static int rec_snap_fn(void *data)
{
	struct rec_snap *a = data;

	a->err = metrics_collect_ctx(a->ctx, "0", 0, a->mc);
	return 0;
}

static int rec_collect(void *arg, struct metrics_set *set)
{
	struct rec_snap a = { .ctx = arg };
	struct damon_call_control control = { .fn = rec_snap_fn, .data = &a };
	int tid, err;

	tid = damon_kdamond_pid(a.ctx);
	if (tid <= 0)
		return -EAGAIN;
	a.mc = metrics_set_add(set);
	if (!a.mc)
		return -ENOMEM;
	err = damon_call(a.ctx, &control);
	if (!err)
		err = a.err;
	if (err)
		return err;
	a.mc->running = true;
	a.mc->kdamond_tid = tid;
	metrics_add_proc_info(a.mc);
	return 0;
}

int cli_record_metrics_start(struct damon_ctx *ctx, const char *spec,
			     struct metrics_server **out, char *why,
			     size_t whylen)
{
	return metrics_server_start(spec, rec_collect, ctx, out, why, whylen);
}
