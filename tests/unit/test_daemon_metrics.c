// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamond's metrics collector against the tree without a mount: which
 * kdamonds it shows, that its copy is the running context's, that a
 * scrape running beside pause/commit writes is race-free (TSan runs this
 * program), that a busy tree gives the previous values marked stale, and
 * that a stopped or freed tree is handled.
 */
#include "fs/build.c"
#include "fs/cmd.c"
#include "fs/ckpt.c"
#include "fs/dump.c"
#include "fs/parse.c"
#include "fs/path.c"
#include "fs/tree.c"

#include "daemon/metrics.c"
#include "metrics/collect.c"
#include "metrics/format.c"
#include "metrics/server.c"

#include <unistd.h>

#include "../lib/tap.h"

#define K "/admin/kdamonds/0/"
#define C K "contexts/0/"
#define S C "schemes/0/"

static ssize_t put(const char *path, const char *value)
{
	return fs_write(path, value, strlen(value));
}

/* A state command, retried while a scrape holds the sysfs lock. */
static ssize_t cmd(const char *command)
{
	ssize_t ret;
	int i;

	for (i = 0; i < 2000; i++) {
		ret = put(K "state", command);
		if (ret != -EBUSY)
			return ret;
		usleep(1000);
	}
	return ret;
}

static void quiet_log(enum damon_log_level level, const char *msg)
{
}

static char cfg_path[64];

static bool setup_sim(void)
{
	const char cfg[] =
		"a, 8388608\nb, 8388608\n\np\n100000\na, 0, 4096, 1\n";
	int fd;

	snprintf(cfg_path, sizeof(cfg_path), "/tmp/udamon-metrics-XXXXXX");
	fd = mkstemp(cfg_path);
	if (fd < 0)
		return false;
	if (write(fd, cfg, sizeof(cfg) - 1) != sizeof(cfg) - 1) {
		close(fd);
		return false;
	}
	close(fd);
	fs_set_log_fn(quiet_log);
	fs_init();
	/* kdamond 1 is never turned on: its state only */
	put("/admin/kdamonds/nr_kdamonds", "2");
	put(K "contexts/nr_contexts", "1");
	put(C "schemes/nr_schemes", "1");
	put(S "access_pattern/sz/max", "18446744073709551615");
	put(S "access_pattern/nr_accesses/max", "1000");
	put(S "access_pattern/age/max", "1000");
	put(C "operations", "sim");
	put(C "udamon/sim_workload", cfg_path);
	put(C "targets/nr_targets", "1");
	return cmd("on") == 2;
}

static void teardown(void)
{
	fs_fini();
	udamond_metrics_stop();
	unlink(cfg_path);
}

static void test_collect_running(void)
{
	struct metrics_set set = { 0 };
	char pid[32];
	char *data;
	size_t len;
	int i;

	REQUIRE(setup_sim());
	REQUIRE(!fs_read(K "pid", &data, &len));
	snprintf(pid, sizeof(pid), "%.*s", (int)len, data);
	free(data);
	/* wait for a few samples, however loaded the machine */
	for (i = 0; i < 5000; i++) {
		REQUIRE(!udamond_collect(NULL, &set));
		if (set.nr == 2 && set.ctxs[0].passed_sample_intervals > 20)
			break;
		metrics_set_release(&set);
		usleep(2000);
	}
	REQUIRE(set.nr == 2);
	CHECK_STREQ(set.ctxs[0].kdamond, "0");
	CHECK(set.ctxs[0].running);
	CHECK(!set.ctxs[0].no_context);
	/* kdamond 1, never on: off, and no context series */
	CHECK_STREQ(set.ctxs[1].kdamond, "1");
	CHECK(set.ctxs[1].no_context);
	CHECK(!set.ctxs[1].running);
	CHECK_EQ(set.ctxs[1].nr_targets, 0);
	{
		char *text;
		size_t text_len;

		REQUIRE(!metrics_format(&set, false, &text, &text_len));
		CHECK(strstr(text, "udamon_kdamond_state{kdamond=\"1\","
				   "state=\"off\"} 1\n"));
		CHECK(strstr(text, "udamon_kdamond_state{kdamond=\"0\","
				   "state=\"on\"} 1\n"));
		CHECK(!strstr(text, "kdamond=\"1\",context="));
		CHECK(strstr(text, "kdamond=\"0\",context=\"0\""));
		free(text);
	}
	CHECK(!set.stale);
	CHECK_EQ(set.ctxs[0].kdamond_tid, atoi(pid));
	CHECK(set.ctxs[0].cpu_seconds >= 0);
	CHECK_STREQ(set.ctxs[0].ops, "sim");
	REQUIRE(set.ctxs[0].nr_targets == 1);
	CHECK(set.ctxs[0].targets[0].nr_regions >= 10);
	CHECK_EQ(set.ctxs[0].targets[0].monitored_bytes % 4096, 0);
	CHECK(set.ctxs[0].targets[0].monitored_bytes >= 2 * 8388608);
	REQUIRE(set.ctxs[0].nr_schemes == 1);
	CHECK_STREQ(set.ctxs[0].schemes[0].action, "stat");
	metrics_set_release(&set);
	teardown();
}

struct hammer {
	int stop;
	int scrapes;
	int errors;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		struct metrics_set set = { 0 };
		char *text;
		size_t len;

		if (udamond_collect(NULL, &set) ||
		    metrics_format(&set, true, &text, &len))
			h->errors++;
		else
			free(text);
		metrics_set_release(&set);
		h->scrapes++;
	}
	return NULL;
}

/* Scrapes beside pause/resume commits: TSan watches the locking. */
static void test_scrapes_beside_commits(void)
{
	struct hammer h = { 0 };
	struct metrics_set set = { 0 };
	pthread_t th;
	int i;

	REQUIRE(setup_sim());
	REQUIRE(!pthread_create(&th, NULL, hammer_fn, &h));
	for (i = 0; i < 10; i++) {
		CHECK_EQ(put(C "pause", i & 1 ? "N" : "Y"), 1);
		CHECK_EQ(cmd("commit"), 6);
		CHECK_EQ(cmd("update_schemes_stats"), 20);
	}
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK(h.scrapes > 0);
	CHECK_EQ(h.errors, 0);

	/* the loop ended resumed (i = 9 wrote N): pause and look */
	CHECK_EQ(put(C "pause", "Y"), 1);
	CHECK_EQ(cmd("commit"), 6);
	REQUIRE(!udamond_collect(NULL, &set));
	REQUIRE(set.nr == 2);
	CHECK(set.ctxs[0].paused);
	CHECK(!set.ctxs[0].auto_paused);
	metrics_set_release(&set);
	teardown();
}

/* The lock is busy: the previous values, marked stale; then fresh. */
static void test_busy_tree_serves_stale(void)
{
	struct metrics_set fresh = { 0 }, stale = { 0 };
	char *a, *b;
	size_t la, lb;

	REQUIRE(setup_sim());
	CHECK_EQ(put(C "pause", "Y"), 1);
	CHECK_EQ(cmd("commit"), 6);
	REQUIRE(!udamond_collect(NULL, &fresh));
	CHECK(!fresh.stale);
	pthread_mutex_lock(&fs_sysfs_lock);
	REQUIRE(!udamond_collect(NULL, &stale));
	pthread_mutex_unlock(&fs_sysfs_lock);
	CHECK(stale.stale);
	REQUIRE(stale.nr == fresh.nr);
	/* the same values apart from the stale mark */
	stale.stale = false;
	REQUIRE(!metrics_format(&fresh, false, &a, &la));
	REQUIRE(!metrics_format(&stale, false, &b, &lb));
	CHECK_STREQ(a, b);
	free(a);
	free(b);
	metrics_set_release(&fresh);
	metrics_set_release(&stale);
	teardown();
}

/* off keeps the context readable; a freed tree shows nothing. */
static void test_stopped_and_freed(void)
{
	struct metrics_set set = { 0 };

	REQUIRE(setup_sim());
	CHECK_EQ(cmd("off"), 3);
	REQUIRE(!udamond_collect(NULL, &set));
	REQUIRE(set.nr == 2);
	CHECK(!set.ctxs[0].running);
	CHECK(!set.ctxs[0].no_context);
	CHECK_EQ(set.ctxs[0].kdamond_tid, -1);
	CHECK(set.ctxs[0].cpu_seconds < 0);
	metrics_set_release(&set);
	fs_fini();
	REQUIRE(!udamond_collect(NULL, &set));
	CHECK_EQ(set.nr, 0);
	metrics_set_release(&set);
	udamond_metrics_stop();
	unlink(cfg_path);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_collect_running),
	TAP_CASE(test_scrapes_beside_commits),
	TAP_CASE(test_busy_tree_serves_stale),
	TAP_CASE(test_stopped_and_freed),
};

int main(void)
{
	if (!damon_is_registered_ops(DAMON_OPS_SIM))
		damon_sim_register();
	return tap_main(cases, TAP_NR(cases));
}
