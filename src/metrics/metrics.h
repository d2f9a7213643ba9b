/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prometheus / OpenMetrics exposition of DAMON contexts, shared by udamond
 * and `udamon record`.
 *
 *   collect.c - copies what a scrape shows out of a damon_ctx into plain
 *               structures (struct metrics_context), on the kdamond (in a
 *               damon_call()) or from a stopped context; then adds what
 *               needs /proc (target comm, kdamond CPU time) with no lock
 *               held.
 *   format.c  - writes a metrics_set as the Prometheus text format 0.0.4
 *               or OpenMetrics 1.0.0.
 *   server.c  - the HTTP endpoint (libmicrohttpd): GET /metrics asks the
 *               program's collector for a fresh set on every scrape.
 *
 * Nothing here holds a lock of the program while it does I/O: the
 * collector returns a copy and the copy is formatted and sent afterwards.
 */
#ifndef UDAMON_METRICS_H
#define UDAMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <udamon/damon.h>

/*
 * Upper bounds (le) of the buckets of the two distributions; +Inf follows.
 * Access ratio: the share of an aggregation interval's samples that saw
 * the region accessed (0: idle).  Age: seconds the region's access pattern
 * stayed the same.
 */
#define METRICS_NR_ACCESS_BUCKETS 7
#define METRICS_NR_AGE_BUCKETS 8
extern const double metrics_access_bounds[METRICS_NR_ACCESS_BUCKETS];
extern const double metrics_age_bounds[METRICS_NR_AGE_BUCKETS];

struct metrics_target {
	int pid; /* 0: no process (sim, paddr) */
	char comm[32]; /* /proc/PID/comm, "" if none */
	unsigned int nr_regions;
	unsigned long monitored_bytes;
	unsigned long working_set_bytes; /* accessed in the last aggregation */
	/* bytes per bucket, not cumulative; the last one is +Inf */
	unsigned long access_bytes[METRICS_NR_ACCESS_BUCKETS + 1];
	double access_sum; /* sum of bytes * access ratio */
	unsigned long age_bytes[METRICS_NR_AGE_BUCKETS + 1];
	double age_sum; /* sum of bytes * age seconds */
};

struct metrics_goal {
	char metric[32]; /* damos_quota_goal_metric_name() */
	unsigned long target_value;
	unsigned long current_value;
};

struct metrics_scheme {
	char action[16];
	struct damos_stat stat;
	unsigned long effective_quota_bytes; /* esz; 0: no size limit */
	unsigned int nr_goals;
	struct metrics_goal *goals;
};

struct metrics_context {
	char kdamond[16]; /* label: kdamond directory name, or "record" */
	unsigned int context;
	bool running;
	bool no_context; /* a kdamond never turned on: its state only */
	bool paused; /* the user's pause (ctx->pause) */
	bool auto_paused; /* paused by udamon itself (damon_auto_paused()) */
	double paused_seconds[2]; /* damon_paused_ns(): [0] manual, [1] auto */
	int kdamond_tid; /* -1: no kdamond thread */
	double cpu_seconds; /* of the kdamond thread; < 0 unknown */
	char ops[16];
	char access_source[48];
	unsigned long sample_us;
	unsigned long aggr_us;
	unsigned long update_us;
	unsigned long passed_sample_intervals;
	unsigned int nr_targets;
	struct metrics_target *targets;
	unsigned int nr_schemes;
	struct metrics_scheme *schemes;
};

struct metrics_set {
	unsigned int nr;
	struct metrics_context *ctxs;
	/* the collector could not take a fresh look (lock contended) */
	bool stale;
};

/*
 * Copy @ctx into @out (zeroed first).  @ctx must not change meanwhile: call
 * it on the kdamond (from a damon_call() callback) or on a stopped
 * context.  No I/O, no locks.  Return: 0 or -ENOMEM (@out is then empty).
 */
int metrics_collect_ctx(struct damon_ctx *ctx, const char *kdamond,
			unsigned int context, struct metrics_context *out);
/* Fill comm and cpu_seconds from /proc; call with no lock held. */
void metrics_add_proc_info(struct metrics_context *mc);
void metrics_context_release(struct metrics_context *mc);
/* Release every context of @set and empty it. */
void metrics_set_release(struct metrics_set *set);
/* Move @src into @dst (which is released first); @src becomes empty. */
void metrics_set_move(struct metrics_set *dst, struct metrics_set *src);
/* Deep copy of @src into empty @dst.  Return 0 or -ENOMEM (@dst empty). */
int metrics_set_copy(struct metrics_set *dst, const struct metrics_set *src);
/* Append a zeroed context; NULL when out of memory. */
struct metrics_context *metrics_set_add(struct metrics_set *set);

/*
 * Format @set as the Prometheus text format 0.0.4, or OpenMetrics 1.0.0
 * when @openmetrics (counters' families without _total, "# EOF").
 * Return: 0 with a malloc()ed text in *@text (*@len bytes), or -ENOMEM.
 */
int metrics_format(const struct metrics_set *set, bool openmetrics, char **text,
		   size_t *len);

/*
 * The collector a server calls for every scrape: fill @set (empty on
 * entry).  Return 0, or a negative errno to answer 503.
 */
typedef int (*metrics_collect_fn)(void *arg, struct metrics_set *set);

struct metrics_server;
/*
 * Parse ADDR:PORT, [ADDR6]:PORT or PORT (loopback) into a socket address.
 * Return 0 or -EINVAL with a reason in @why.
 */
int metrics_parse_addr(const char *spec, void *sockaddr_storage,
		       unsigned int *socklen, char *why, size_t whylen);
/*
 * Serve GET /metrics at @spec from a thread of its own, calling @fn for
 * every scrape (one at a time).  Return 0 or a negative errno with a
 * reason in @why.
 */
int metrics_server_start(const char *spec, metrics_collect_fn fn, void *arg,
			 struct metrics_server **out, char *why, size_t whylen);
/* Where it listens ("127.0.0.1:9100"), for log lines. */
const char *metrics_server_address(const struct metrics_server *srv);
/* Stop serving (waits for a running scrape) and free. */
void metrics_server_stop(struct metrics_server *srv);

#endif /* UDAMON_METRICS_H */
