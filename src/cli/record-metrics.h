/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* udamon record --metrics: serve the recording context's metrics. */
#ifndef UDAMON_CLI_RECORD_METRICS_H
#define UDAMON_CLI_RECORD_METRICS_H

#include <stddef.h>

#include <udamon/damon.h>

struct metrics_server;
/*
 * Serve @ctx's metrics at @spec until metrics_server_stop(*@out), which
 * must come before @ctx is destroyed.  Return 0 or a negative errno with
 * a reason in @why.
 */
int cli_record_metrics_start(struct damon_ctx *ctx, const char *spec,
			     struct metrics_server **out, char *why,
			     size_t whylen);

#endif /* UDAMON_CLI_RECORD_METRICS_H */
