// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * System metrics of quota goals and watermarks (src/ops/sysmetrics.c)
 * against fake /proc and sysfs files behind the sys seam: every metric,
 * every fallback of a missing or malformed file, and the one log line per
 * kind of file.  Also a sanity check on this machine's real files.
 */
#include "../lib/tap.h"
#include "fake-files.h"

#include "ops/vaddr.h"

#include <stdlib.h>

static const char meminfo[] = "MemTotal:       1000000 kB\n"
			      "MemFree:         250000 kB\n"
			      "MemAvailable:    500000 kB\n"
			      "Active:          300000 kB\n"
			      "Inactive:        100000 kB\n"
			      "AnonHugePages:   150000 kB\n";

static const char node0[] = "Node 0 MemTotal:        800000 kB\n"
			    "Node 0 MemFree:         200000 kB\n"
			    "Node 0 MemUsed:         600000 kB\n";

static const char node1[] = "Node 1 MemTotal:        200000 kB\n"
			    "Node 1 MemFree:          50000 kB\n";

/* v2, bytes: node 0 has 100000 kB anon + 60000 kB file. */
static const char numa_v2[] = "anon N0=102400000 N1=4096\n"
			      "file N0=61440000 N1=0\n"
			      "kernel_stack N0=16384 N1=0\n"
			      "shmem N0=0 N1=0\n";

/* v1, pages: local 10+10, hierarchical 20000+20000 pages on node 0. */
static const char numa_v1[] = "total=40 N0=40\n"
			      "file=10 N0=10\n"
			      "anon=10 N0=10\n"
			      "unevictable=0 N0=0\n"
			      "hierarchical_total=40000 N0=40000\n"
			      "hierarchical_file=20000 N0=20000\n"
			      "hierarchical_anon=20000 N0=20000\n";

static int nr_logs;

static void count_log(void *arg, enum damon_log_level level, const char *msg)
{
	nr_logs++;
	tap_diag("log: %s", msg);
}

static void setup(void)
{
	ff_reset();
	udamon__sys_reset();
	ff_install();
	nr_logs = 0;
	damon_set_log_fn(count_log, NULL);
	udamon__sysmetrics_reset_logged();
	ff_text("/proc/meminfo", meminfo);
	ff_text("/sys/devices/system/node/node0/meminfo", node0);
	ff_text("/sys/devices/system/node/node1/meminfo", node1);
	ff_text("/proc/pressure/memory",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=123456\n"
		"full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n");
}

static void teardown(void)
{
	damon_set_log_fn(NULL, NULL);
	udamon__sys_reset();
	CHECK_EQ(ff_open_fds(), 0);
}

static unsigned long goal_value(enum damos_quota_goal_metric metric, int nid,
				const char *memcg)
{
	struct damos_quota_goal g = {
		.metric = metric,
		.target_value = 1,
		.nid = nid,
		.memcg_path = (char *)memcg,
	};
	unsigned long v = 0xdeadbeef;

	CHECK_EQ(udamon__sysmetrics_goal(NULL, &g, &v), 0);
	return v;
}

static void test_parsers(void)
{
	unsigned long v = 0;

	CHECK(udamon__meminfo_field(meminfo, "MemFree:", &v));
	CHECK_EQ(v, 250000);
	CHECK(udamon__meminfo_field(node0, "MemTotal:", &v));
	CHECK_EQ(v, 800000);
	CHECK(!udamon__meminfo_field(meminfo, "Nope:", &v));
	/* "Active:" must not match "Active(anon):". */
	CHECK(udamon__meminfo_field("Active(anon): 5 kB\nActive: 7 kB\n",
				    "Active:", &v));
	CHECK_EQ(v, 7);
	CHECK(udamon__memcg_numa_used(numa_v2, 0, &v));
	CHECK_EQ(v, 102400000UL + 61440000UL);
	CHECK(udamon__memcg_numa_used(numa_v2, 1, &v));
	CHECK_EQ(v, 4096);
	CHECK(udamon__memcg_numa_used(numa_v1, 0, &v));
	CHECK_EQ(v, 40000UL * 4096);
	CHECK(!udamon__memcg_numa_used(numa_v1, 3, &v));
	CHECK(!udamon__memcg_numa_used("garbage\n", 0, &v));
	/* v1 without hierarchical_ lines: the local counts. */
	CHECK(udamon__memcg_numa_used("file=3 N0=3\nanon=4 N0=4\n", 0, &v));
	CHECK_EQ(v, 7UL * 4096);
}

static void test_meminfo_metrics(void)
{
	unsigned long v = 0;

	setup();
	CHECK_EQ(udamon__sysmetrics_wmark(NULL, DAMOS_WMARK_FREE_MEM_RATE, &v),
		 0);
	CHECK_EQ(v, 250);
	CHECK(udamon__sysmetrics_wmark(NULL, DAMOS_WMARK_NONE, &v) < 0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_ACTIVE_MEM_BP, 0, NULL), 7500);
	CHECK_EQ(goal_value(DAMOS_QUOTA_INACTIVE_MEM_BP, 0, NULL), 2500);
	/* 150000 huge of 750000 used. */
	CHECK_EQ(goal_value(DAMOS_QUOTA_HUGEPAGE_MEM_BP, 0, NULL), 2000);
	CHECK_EQ(goal_value(DAMOS_QUOTA_SOME_MEM_PSI_US, 0, NULL), 123456);
	CHECK_EQ(nr_logs, 0);
	/* Nothing used: all of it counts as huge, as the kernel says. */
	ff_text("/proc/meminfo", "MemTotal: 100 kB\nMemFree: 100 kB\n");
	CHECK_EQ(goal_value(DAMOS_QUOTA_HUGEPAGE_MEM_BP, 0, NULL), 10000);
	/* No LRU pages at all: 0, no division by zero. */
	CHECK_EQ(goal_value(DAMOS_QUOTA_ACTIVE_MEM_BP, 0, NULL), 0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_INACTIVE_MEM_BP, 0, NULL), 0);
	teardown();
}

static void test_meminfo_missing(void)
{
	unsigned long v = 0;

	setup();
	ff_fail("/proc/meminfo", EACCES);
	CHECK(udamon__sysmetrics_wmark(NULL, DAMOS_WMARK_FREE_MEM_RATE, &v) <
	      0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_ACTIVE_MEM_BP, 0, NULL), 0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_INACTIVE_MEM_BP, 0, NULL), 0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_HUGEPAGE_MEM_BP, 0, NULL), 10000);
	CHECK_EQ(nr_logs, 1);
	/* Malformed (no MemTotal) is the same, and still one line. */
	ff_text("/proc/meminfo", "Active: 5 kB\n");
	CHECK(udamon__sysmetrics_wmark(NULL, DAMOS_WMARK_FREE_MEM_RATE, &v) <
	      0);
	CHECK_EQ(nr_logs, 1);
	/* MemTotal 0 cannot be a rate. */
	ff_text("/proc/meminfo", "MemTotal: 0 kB\nMemFree: 0 kB\n");
	CHECK(udamon__sysmetrics_wmark(NULL, DAMOS_WMARK_FREE_MEM_RATE, &v) <
	      0);
	teardown();
}

static void test_psi(void)
{
	setup();
	ff.short_read = 7; /* /proc files come in pieces */
	CHECK_EQ(goal_value(DAMOS_QUOTA_SOME_MEM_PSI_US, 0, NULL), 123456);
	ff.short_read = 0;
	ff_remove("/proc/pressure/memory");
	CHECK_EQ(goal_value(DAMOS_QUOTA_SOME_MEM_PSI_US, 0, NULL), 0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_SOME_MEM_PSI_US, 0, NULL), 0);
	CHECK_EQ(nr_logs, 1);
	ff_text("/proc/pressure/memory", "full total=5\n");
	CHECK_EQ(goal_value(DAMOS_QUOTA_SOME_MEM_PSI_US, 0, NULL), 0);
	CHECK_EQ(nr_logs, 1);
	teardown();
}

static void test_node_mem(void)
{
	setup();
	/* node 0: 600000 of 800000 used. */
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_USED_BP, 0, NULL), 7500);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_FREE_BP, 0, NULL), 2500);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_USED_BP, 1, NULL), 7500);
	/* Invalid nodes: 0 used, all free; no log, as in the kernel. */
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_USED_BP, 5, NULL), 0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_FREE_BP, 5, NULL), 10000);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_USED_BP, -1, NULL), 0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_FREE_BP, -1, NULL), 10000);
	CHECK_EQ(nr_logs, 0);
	/* total 0, or free above total: all used. */
	ff_text("/sys/devices/system/node/node1/meminfo",
		"Node 1 MemTotal: 10 kB\nNode 1 MemFree: 20 kB\n");
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_USED_BP, 1, NULL), 10000);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_FREE_BP, 1, NULL), 0);
	ff_text("/sys/devices/system/node/node1/meminfo",
		"Node 1 MemTotal: 0 kB\nNode 1 MemFree: 0 kB\n");
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_USED_BP, 1, NULL), 10000);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_FREE_BP, 1, NULL), 0);
	/* An existing node that cannot be read: invalid, logged once. */
	ff_fail("/sys/devices/system/node/node1/meminfo", EACCES);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_USED_BP, 1, NULL), 0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEM_FREE_BP, 1, NULL), 10000);
	CHECK_EQ(nr_logs, 1);
	teardown();
}

static void test_memcg(void)
{
	setup();
	ff_text("/sys/fs/cgroup/work/a/memory.numa_stat", numa_v2);
	ff_text("/sys/fs/cgroup/memory/old/memory.numa_stat", numa_v1);
	/* v2: 160000 kB of node 0's 800000. */
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_USED_BP, 0, "/work/a"),
		 2000);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_FREE_BP, 0, "work/a"), 8000);
	/* v1: 40000 pages = 160000 kB. */
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_USED_BP, 0, "/old"), 2000);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_FREE_BP, 0, "/old"), 8000);
	/* node 1: 4096 bytes = 4 kB of 200000. */
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_USED_BP, 1, "/work/a"), 0);
	CHECK_EQ(nr_logs, 0);
	/* Invalid node or no memcg path: 0 used, all free. */
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_USED_BP, 7, "/work/a"), 0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_FREE_BP, 7, "/work/a"),
		 10000);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_USED_BP, 0, NULL), 0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_FREE_BP, 0, ""), 10000);
	CHECK_EQ(nr_logs, 0);
	/* A memcg that does not exist: invalid, logged once. */
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_USED_BP, 0, "/nope"), 0);
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_FREE_BP, 0, "/nope"), 10000);
	CHECK_EQ(nr_logs, 1);
	/* Malformed: the same. */
	ff_text("/sys/fs/cgroup/bad/memory.numa_stat", "what\n");
	CHECK_EQ(goal_value(DAMOS_QUOTA_NODE_MEMCG_FREE_BP, 0, "/bad"), 10000);
	CHECK_EQ(nr_logs, 1);
	teardown();
}

static void test_unknown_metric(void)
{
	struct damos_quota_goal g = { .metric = DAMOS_QUOTA_USER_INPUT };
	unsigned long v;

	setup();
	CHECK(udamon__sysmetrics_goal(NULL, &g, &v) < 0);
	g.metric = DAMOS_QUOTA_NODE_ELIGIBLE_MEM_BP;
	CHECK(udamon__sysmetrics_goal(NULL, &g, &v) < 0);
	teardown();
}

/* The hooks are wired into vaddr and fvaddr. */
static void test_hooked(void)
{
	struct damon_ctx *ctx = damon_new_ctx();

	REQUIRE(ctx);
	REQUIRE(damon_select_ops(ctx, DAMON_OPS_VADDR) == 0);
	CHECK(ctx->ops.get_goal_metric == udamon__sysmetrics_goal);
	CHECK(ctx->ops.get_wmark_metric == udamon__sysmetrics_wmark);
	REQUIRE(damon_select_ops(ctx, DAMON_OPS_FVADDR) == 0);
	CHECK(ctx->ops.get_goal_metric == udamon__sysmetrics_goal);
	CHECK(ctx->ops.get_wmark_metric == udamon__sysmetrics_wmark);
	damon_destroy_ctx(ctx);
}

/* This machine's real files give sane numbers. */
static void test_real_files(void)
{
	unsigned long v = 0;
	struct damos_quota_goal g = { .metric = DAMOS_QUOTA_NODE_MEM_USED_BP };

	udamon__sys_reset();
	CHECK_EQ(udamon__sysmetrics_wmark(NULL, DAMOS_WMARK_FREE_MEM_RATE, &v),
		 0);
	CHECK(v <= 1000);
	tap_diag("free_mem_rate %lu permil", v);
	CHECK_EQ(udamon__sysmetrics_goal(NULL, &g, &v), 0);
	CHECK(v <= 10000);
	tap_diag("node 0 used %lu bp", v);
	g.metric = DAMOS_QUOTA_ACTIVE_MEM_BP;
	CHECK_EQ(udamon__sysmetrics_goal(NULL, &g, &v), 0);
	CHECK(v <= 10000);
}

int main(void)
{
	static const struct tap_case cases[] = {
		TAP_CASE(test_parsers),		TAP_CASE(test_meminfo_metrics),
		TAP_CASE(test_meminfo_missing), TAP_CASE(test_psi),
		TAP_CASE(test_node_mem),	TAP_CASE(test_memcg),
		TAP_CASE(test_unknown_metric),	TAP_CASE(test_hooked),
		TAP_CASE(test_real_files),
	};

	return tap_main(cases, TAP_NR(cases));
}
