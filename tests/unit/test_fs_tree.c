// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of udamond's tree without FUSE: path resolution, defaults,
 * generic stores with the kernel's errno, nr_* directories, building a
 * core context from staged files (src/fs/build.c), and the state commands
 * on a sim kdamond.  The tree sources are included so that no Makefile
 * rule is needed (the FUSE glue is not).
 */
#include "fs/parse.c"
#include "fs/tree.c"
#include "fs/build.c"
#include "fs/cmd.c"
#include "fs/ckpt.c"
#include "fs/dump.c"
#include "fs/path.c"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/tap.h"

#define K "/admin/kdamonds/0/"
#define C K "contexts/0/"
#define S C "schemes/0/"

static ssize_t put(const char *path, const char *value)
{
	return fs_write(path, value, strlen(value));
}

/* Read @path into a static buffer (without the trailing newline). */
static const char *get(const char *path)
{
	static char out[4096];
	char *data;
	size_t len;
	int err;

	err = fs_read(path, &data, &len);
	if (err)
		snprintf(out, sizeof(out), "error %d", err);
	else
		snprintf(out, sizeof(out), "%.*s",
			 (int)(len && data[len - 1] == '\n' ? len - 1 : len),
			 data);
	free(data);
	return out;
}

static char last_log[512];
/* every line since the last clear, for messages followed by others */
static char all_log[4096];

static void quiet_log(enum damon_log_level level, const char *msg)
{
	size_t n = strlen(all_log);

	snprintf(last_log, sizeof(last_log), "%s", msg);
	snprintf(all_log + n, sizeof(all_log) - n, "%s\n", msg);
}

/* Register a do-nothing paddr if the real one is not built in. */
static struct damon_operations fake_paddr = { .id = DAMON_OPS_PADDR };

static void setup(unsigned int nr_schemes)
{
	char v[16];

	fs_set_log_fn(quiet_log);
	if (!damon_is_registered_ops(DAMON_OPS_PADDR))
		damon_register_ops(&fake_paddr);
	fs_init();
	put("/admin/kdamonds/nr_kdamonds", "1");
	put(K "contexts/nr_contexts", "1");
	snprintf(v, sizeof(v), "%u", nr_schemes);
	put(C "schemes/nr_schemes", v);
}

static void test_resolve_and_defaults(void)
{
	struct fs_node n;

	fs_init();
	CHECK_STREQ(get("/admin/kdamonds/nr_kdamonds"), "0");
	CHECK_EQ(fs_lookup("/admin/kdamonds/0", &n), -ENOENT);
	CHECK_EQ(fs_lookup("/admin/kdamonds/nr_kdamonds/x", &n), -ENOTDIR);
	CHECK_EQ(fs_lookup("/admin", &n), 0);
	CHECK(n.file == NULL);
	CHECK_EQ(fs_lookup("//admin//kdamonds/", &n), 0);
	setup(1);
	CHECK_EQ(fs_lookup("/admin/kdamonds/00", &n), -ENOENT);
	CHECK_EQ(fs_lookup("/admin/kdamonds/1", &n), -ENOENT);
	CHECK_STREQ(get(K "state"), "off");
	CHECK_STREQ(get(K "pid"), "-1");
	CHECK_STREQ(get(C "operations"), "vaddr");
	CHECK_STREQ(get(C "pause"), "N");
	CHECK_STREQ(get(C "monitoring_attrs/intervals/update_us"), "60000000");
	CHECK_STREQ(get(C "monitoring_attrs/nr_regions/max"), "1000");
	CHECK_STREQ(get(S "action"), "stat");
	CHECK_STREQ(get(S "target_nid"), "-1");
	CHECK_STREQ(get(S "quotas/goal_tuner"), "consist");
	CHECK_STREQ(get(S "watermarks/metric"), "none");
	CHECK_STREQ(get(K "udamon/dump"), "{ \"contexts\": [ ] }");
	CHECK_STREQ(get(C "targets"), "error -21"); /* -EISDIR */
	fs_fini();
}

static void test_stores_and_errno(void)
{
	setup(1);
	CHECK_EQ(put(C "addr_unit", "0"), -EINVAL);
	CHECK_EQ(put(C "addr_unit", "0x1000\n"), 7);
	CHECK_STREQ(get(C "addr_unit"), "4096");
	CHECK_EQ(put(C "pause", "on"), 2);
	CHECK_STREQ(get(C "pause"), "Y");
	CHECK_EQ(put(C "pause", "o"), -EINVAL);
	CHECK_EQ(put(K "refresh_ms", "4294967296"), -ERANGE);
	CHECK_EQ(put(S "quotas/ms", "4294967296999999999999"), -EINVAL);
	CHECK_EQ(put(S "quotas/weights/age_permil", "4294967296"), -ERANGE);
	CHECK_EQ(put(S "stats/nr_tried", "1"), -EACCES);
	CHECK_EQ(put(K "pid", "1"), -EACCES);
	CHECK_EQ(put(S "action", "collapse\n"), 9);
	CHECK_STREQ(get(S "action"), "collapse");
	CHECK_EQ(put(S "core_filters/nr_filters", "1"), 1);
	CHECK_EQ(put(S "core_filters/0/type", "anon"), -EINVAL);
	CHECK_EQ(put(S "core_filters/0/type", "addr"), 4);
	CHECK_STREQ(get(S "core_filters/0/type"), "addr");
	CHECK_EQ(put(S "filters/nr_filters", "1"), 1);
	CHECK_EQ(put(S "filters/0/memcg_path", "/a\n"), 3);
	CHECK_STREQ(get(S "filters/0/memcg_path"), "/a\n");
	CHECK_EQ(put(C "udamon/sim_workload", "/x.cfg\n"), 7);
	CHECK_STREQ(get(C "udamon/sim_workload"), "/x.cfg");
	/* empty writes do nothing; a page at most is taken */
	CHECK_EQ(fs_write(C "operations", "", 0), 0);
	CHECK_STREQ(get(C "operations"), "vaddr");
	fs_fini();
}

static void test_nr_dirs(void)
{
	struct fs_node n;

	setup(0);
	CHECK_EQ(put("/admin/kdamonds/nr_kdamonds", "-1"), -EINVAL);
	CHECK_EQ(put("/admin/kdamonds/nr_kdamonds", "x"), -EINVAL);
	CHECK_EQ(put("/admin/kdamonds/nr_kdamonds", "2147483648"), -ERANGE);
	CHECK_EQ(put(K "contexts/nr_contexts", "2"), -EINVAL);
	CHECK_EQ(put(C "schemes/nr_schemes", "70000"), -ENOMEM);
	CHECK_EQ(put(C "schemes/nr_schemes", "3"), 1);
	CHECK_EQ(fs_lookup(C "schemes/2/tried_regions/total_bytes", &n), 0);
	CHECK_EQ(put(C "schemes/2/action", "pageout"), 7);
	CHECK_EQ(put(C "schemes/nr_schemes", "3"), 1);
	CHECK_STREQ(get(C "schemes/2/action"), "stat");
	CHECK_EQ(put(C "schemes/nr_schemes", "1"), 1);
	CHECK_EQ(fs_lookup(C "schemes/1", &n), -ENOENT);
	/* the sysfs lock held elsewhere: nr_* writes are refused */
	pthread_mutex_lock(&fs_sysfs_lock);
	CHECK_EQ(put(C "schemes/nr_schemes", "1"), -EBUSY);
	CHECK_STREQ(get(K "state"), "error -16");
	CHECK_EQ(put(C "operations", "sim"), 3);
	pthread_mutex_unlock(&fs_sysfs_lock);
	fs_fini();
}

static void test_build_ctx(void)
{
	struct damon_ctx *ctx = NULL;
	struct damos_filter *f;
	struct damos *s;
	int nr_core = 0, nr_ops = 0;

	setup(1);
	put(C "operations", "paddr");
	put(C "addr_unit", "1024");
	put(C "pause", "Y");
	put(C "monitoring_attrs/intervals/sample_us", "1000");
	put(C "monitoring_attrs/intervals/aggr_us", "20000");
	put(C "targets/nr_targets", "1");
	put(C "targets/0/regions/nr_regions", "1");
	put(C "targets/0/regions/0/start", "4096");
	put(C "targets/0/regions/0/end", "1048576");
	put(S "access_pattern/sz/max", "1000000");
	put(S "quotas/bytes", "4096");
	put(S "quotas/goals/nr_goals", "2");
	put(S "quotas/goals/0/target_value", "100");
	put(S "quotas/goals/0/current_value", "7");
	put(S "core_filters/nr_filters", "1");
	put(S "core_filters/0/type", "target");
	put(S "ops_filters/nr_filters", "1");
	put(S "ops_filters/0/type", "young");
	put(S "filters/nr_filters", "1");
	put(S "filters/0/type", "addr");
	put(S "filters/0/addr_end", "8192");
	put(S "dests/nr_dests", "2");
	put(S "dests/1/id", "1");
	put(S "dests/1/weight", "9");
	put(S "stats/max_nr_snapshots", "3");

	pthread_mutex_lock(&fs_tree_lock);
	REQUIRE(fs_build_ctx(fs_root.kdamonds.arr.items[0] ?
				     ((struct st_kdamond *)
					      fs_root.kdamonds.arr.items[0])
					     ->contexts.arr.items[0] :
				     NULL,
			     0, NULL, NULL, &ctx) == 0);
	pthread_mutex_unlock(&fs_tree_lock);
	CHECK_EQ(ctx->ops.id, DAMON_OPS_PADDR);
	CHECK_EQ(ctx->addr_unit, 1024);
	CHECK_EQ(ctx->min_region_sz, 4);
	CHECK(ctx->pause);
	CHECK_EQ(ctx->attrs.sample_interval, 1000);
	CHECK_EQ(ctx->attrs.aggr_interval, 20000);
	CHECK_EQ(damon_nr_targets(ctx), 1);
	CHECK_EQ(damon_nr_schemes(ctx), 1);
	s = damon_list_entry(ctx->schemes.next, struct damos, list);
	CHECK_EQ(s->pattern.max_sz_region, 1000000);
	CHECK_EQ(s->quota.sz, 4096);
	CHECK_EQ(s->max_nr_snapshots, 3);
	CHECK_EQ(s->migrate_dests.nr_dests, 2);
	CHECK_EQ(s->migrate_dests.weight_arr[1], 9);
	damos_for_each_core_filter(f, s)
		nr_core++;
	damos_for_each_ops_filter(f, s)
		nr_ops++;
	CHECK_EQ(nr_core, 2); /* target, addr */
	CHECK_EQ(nr_ops, 1); /* young */
	{
		struct damos_quota_goal *g;
		int nr_goals = 0;

		/* the goal without a target value is skipped */
		damos_for_each_quota_goal(g, &s->quota) {
			CHECK_EQ(g->target_value, 100);
			CHECK_EQ(g->current_value, 7);
			nr_goals++;
		}
		CHECK_EQ(nr_goals, 1);
	}
	damon_destroy_ctx(ctx);
	fs_fini();
}

/* udamon/overhead_budget: default, bad writes, and into the built ctx. */
static void test_build_overhead_budget(void)
{
	struct st_kdamond *kd;
	struct damon_ctx *ctx = NULL;

	setup(1);
	CHECK_STREQ(get(C "udamon/overhead_budget"), "2000");
	CHECK_EQ(put(C "udamon/overhead_budget", "abc"), -EINVAL);
	CHECK_EQ(put(C "udamon/overhead_budget", "-3"), -EINVAL);
	CHECK_EQ(put(C "udamon/overhead_budget", "700\n"), 4);
	CHECK_STREQ(get(C "udamon/overhead_budget"), "700");
	put(C "operations", "fvaddr");
	put(C "targets/nr_targets", "1");
	put(C "targets/0/pid_target", "1");
	kd = fs_root.kdamonds.arr.items[0];
	pthread_mutex_lock(&fs_tree_lock);
	REQUIRE(fs_build_ctx(kd->contexts.arr.items[0], 0, NULL, NULL, &ctx) ==
		0);
	pthread_mutex_unlock(&fs_tree_lock);
	CHECK_EQ(damon_overhead_budget(ctx), 700);
	damon_destroy_ctx(ctx);
	fs_fini();
}

static int build_err(void)
{
	struct damon_ctx *ctx = NULL;
	struct st_kdamond *kd = fs_root.kdamonds.arr.items[0];
	struct fs_sim_file sim;
	int err;

	fs_sim_file_load(kd, NULL, &sim);
	pthread_mutex_lock(&fs_tree_lock);
	err = fs_build_ctx(kd->contexts.arr.items[0], 0, NULL, &sim, &ctx);
	pthread_mutex_unlock(&fs_tree_lock);
	fs_sim_file_free(&sim);
	if (!err)
		damon_destroy_ctx(ctx);
	return err;
}

static void test_build_errors(void)
{
	setup(1);
	put(C "operations", "paddr");
	put(C "targets/nr_targets", "2");
	CHECK_EQ(build_err(), -EINVAL); /* paddr takes one target */
	put(C "targets/nr_targets", "1");
	put(C "targets/0/regions/nr_regions", "2");
	put(C "targets/0/regions/0/start", "8192");
	put(C "targets/0/regions/0/end", "4096");
	CHECK_EQ(build_err(), -EINVAL); /* start > end */
	put(C "targets/0/regions/0/start", "0");
	put(C "targets/0/regions/0/end", "8192");
	put(C "targets/0/regions/1/start", "4096");
	put(C "targets/0/regions/1/end", "16384");
	CHECK_EQ(build_err(), -EINVAL); /* overlapping */
	put(C "targets/0/regions/nr_regions", "0");
	CHECK_EQ(build_err(), 0);
	put(S "filters/nr_filters", "1");
	put(S "filters/0/type", "addr");
	put(S "filters/0/addr_start", "2");
	put(S "filters/0/addr_end", "1");
	CHECK_EQ(build_err(), -ENOMEM); /* scheme failures are ENOMEM */
	put(S "filters/0/type", "memcg");
	put(S "filters/0/memcg_path", "/udamon-no-such-cgroup");
	CHECK_EQ(build_err(), -ENOMEM);
	put(S "filters/nr_filters", "0");
	put(C "monitoring_attrs/nr_regions/min", "2");
	CHECK_EQ(build_err(), -EINVAL); /* damon_set_attrs */
	put(C "monitoring_attrs/nr_regions/min", "10");
	put(C "operations", "sim");
	CHECK_EQ(build_err(), -EINVAL); /* sim without a workload */
	CHECK(strstr(last_log, "sim_workload") != NULL);
	put(C "udamon/sim_workload", "/udamon/no/such/file.cfg");
	CHECK_EQ(build_err(), -EINVAL);
	CHECK(strstr(last_log, "/udamon/no/such/file.cfg") != NULL);
	fs_fini();
}

static const char *sim_config(void)
{
	static char path[64];
	const char cfg[] =
		"a, 8388608\nb, 8388608\n\np\n100000\na, 0, 4096, 1\n";
	int fd;

	snprintf(path, sizeof(path), "/tmp/udamon-tree-test-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, cfg, sizeof(cfg) - 1) != sizeof(cfg) - 1)
		return NULL;
	close(fd);
	return path;
}

static void test_state_commands_sim(void)
{
	const char *cfg = sim_config();
	char *dump;
	size_t len;
	int i;

	REQUIRE(cfg);
	setup(1);
	put(S "access_pattern/sz/max", "18446744073709551615");
	put(S "access_pattern/nr_accesses/max", "1000");
	put(S "access_pattern/age/max", "1000");
	put(C "operations", "sim");
	put(C "udamon/sim_workload", cfg);
	put(C "targets/nr_targets", "1");
	CHECK_EQ(put(K "state", "commit"), -EINVAL);
	CHECK_EQ(put(K "state", "off"), -EINVAL);
	CHECK_EQ(put(K "state", "on\n"), 3);
	CHECK_STREQ(get(K "state"), "on");
	CHECK(atoi(get(K "pid")) > 0);
	CHECK_EQ(put(K "state", "on"), -EBUSY);
	CHECK_EQ(put("/admin/kdamonds/nr_kdamonds", "0"), -EBUSY);
	/*
	 * Wait for the scheme to be tried, however loaded the machine: poll
	 * the stats rather than sleeping a fixed time (the deadline only
	 * keeps a broken kdamond from hanging the test).
	 */
	for (i = 0; i < 6000; i++) {
		CHECK_EQ(put(K "state", "update_schemes_stats"), 20);
		if (atoi(get(S "stats/nr_tried")) > 0)
			break;
		usleep(10000);
	}
	CHECK(atoi(get(S "stats/nr_tried")) > 0);
	CHECK_EQ(put(K "state", "update_schemes_tried_regions"), 28);
	CHECK(strtoul(get(S "tried_regions/total_bytes"), NULL, 10) > 0);
	CHECK(strcmp(get(S "tried_regions/0/end"), "0"));
	CHECK_EQ(put(C "pause", "Y"), 1);
	CHECK_EQ(put(K "state", "commit"), 6);
	CHECK_EQ(put(K "state", "update_schemes_tried_bytes"), -ECANCELED);
	CHECK_EQ(fs_read(K "udamon/dump", &dump, &len), 0);
	CHECK(dump && strlen(dump) == len);
	CHECK(dump && strstr(dump, "\"pause\": true") != NULL);
	CHECK(dump && strstr(dump, "\"sim_true_wss\"") != NULL);
	free(dump);
	CHECK_EQ(put(K "state", "clear_schemes_tried_regions"), 27);
	CHECK_STREQ(get(S "tried_regions/total_bytes"), "0");
	CHECK_EQ(put(K "state", "off"), 3);
	CHECK_STREQ(get(K "state"), "off");
	CHECK_EQ(put(K "state", "off"), -EPERM);
	CHECK_EQ(put(K "state", "update_schemes_stats"), -ECANCELED);
	fs_fini();
	unlink(cfg);
}

#define P C "monitoring_attrs/probes/"

static void test_probes_files(void)
{
	struct fs_node n;

	setup(1);
	CHECK_STREQ(get(P "nr_probes"), "0");
	CHECK_EQ(put(P "nr_probes", "5"), -EINVAL); /* > DAMON_MAX_PROBES */
	CHECK_EQ(put(P "nr_probes", "-1"), -EINVAL);
	CHECK_EQ(put(P "nr_probes", "x"), -EINVAL);
	CHECK_EQ(put(P "nr_probes", "4"), 1);
	CHECK_EQ(fs_lookup(P "3/weight", &n), 0);
	CHECK_EQ(n.file->mode, 0600);
	CHECK_EQ(put(P "nr_probes", "1"), 1);
	CHECK_EQ(fs_lookup(P "1", &n), -ENOENT);
	CHECK_STREQ(get(P "0/weight"), "0");
	CHECK_EQ(put(P "0/weight", "-1"), -EINVAL);
	CHECK_EQ(put(P "0/weight", "4294967296"), -ERANGE);
	CHECK_EQ(put(P "0/weight", "3"), 1);
	CHECK_STREQ(get(P "0/weight"), "3");
	CHECK_STREQ(get(P "0/filters/nr_filters"), "0");
	CHECK_EQ(put(P "0/filters/nr_filters", "2"), 1);
	CHECK_STREQ(get(P "0/filters/1/type"), "anon");
	CHECK_STREQ(get(P "0/filters/1/matching"), "N");
	CHECK_STREQ(get(P "0/filters/1/allow"), "N");
	CHECK_STREQ(get(P "0/filters/1/path"), "");
	CHECK_EQ(put(P "0/filters/1/type", "young"), -EINVAL);
	CHECK_EQ(put(P "0/filters/1/type", "pgidle_unset\n"), 13);
	CHECK_STREQ(get(P "0/filters/1/type"), "pgidle_unset");
	CHECK_EQ(put(P "0/filters/1/matching", "maybe"), -EINVAL);
	CHECK_STREQ(get(P "0/preps/nr_preps"), "0");
	CHECK_EQ(put(P "0/preps/nr_preps", "1"), 1);
	CHECK_STREQ(get(P "0/preps/0/action"), "set_pgidle");
	CHECK_EQ(put(P "0/preps/0/action", "set_young"), -EINVAL);
	CHECK_EQ(put(S "core_filters/nr_filters", "1"), 1);
	CHECK_EQ(put(S "core_filters/0/type", "probe_hits_wsum"), 15);
	CHECK_EQ(put(S "ops_filters/nr_filters", "1"), 1);
	CHECK_EQ(put(S "ops_filters/0/type", "probe_hits_wsum"), -EINVAL);
	fs_fini();
}

static void test_build_probes(void)
{
	struct damon_ctx *ctx = NULL;
	struct damon_probe *p;
	struct damon_filter *f;
	struct damos_filter *df;
	struct damos *s;
	struct st_kdamond *kd;

	setup(1);
	put(C "operations", "paddr");
	put(P "nr_probes", "2");
	put(P "0/weight", "2");
	put(P "0/filters/nr_filters", "2");
	put(P "0/filters/0/type", "anon");
	put(P "0/filters/0/matching", "Y");
	put(P "0/filters/0/allow", "Y");
	put(P "0/filters/1/type", "pgidle_unset");
	put(P "0/preps/nr_preps", "1");
	put(S "core_filters/nr_filters", "1");
	put(S "core_filters/0/type", "probe_hits_wsum");
	put(S "core_filters/0/min", "3");
	put(S "core_filters/0/max", "30");
	kd = fs_root.kdamonds.arr.items[0];
	pthread_mutex_lock(&fs_tree_lock);
	REQUIRE(fs_build_ctx(kd->contexts.arr.items[0], 0, NULL, NULL, &ctx) ==
		0);
	pthread_mutex_unlock(&fs_tree_lock);
	CHECK_EQ(damon_nr_probes(ctx), 2);
	p = damon_list_entry(ctx->probes.next, struct damon_probe, list);
	CHECK_EQ(p->weight, 2);
	CHECK(damon_has_probe_preps(ctx));
	f = damon_list_entry(p->filters.next, struct damon_filter, list);
	CHECK_EQ(f->type, DAMON_FILTER_TYPE_ANON);
	CHECK(f->matching && f->allow);
	f = damon_list_entry(f->list.next, struct damon_filter, list);
	CHECK_EQ(f->type, DAMON_FILTER_TYPE_PGIDLE_UNSET);
	CHECK(!f->matching && !f->allow);
	p = damon_list_entry(p->list.next, struct damon_probe, list);
	CHECK_EQ(p->weight, 0);
	CHECK(p->filters.next == &p->filters);
	s = damon_list_entry(ctx->schemes.next, struct damos, list);
	df = damon_list_entry(s->core_filters.next, struct damos_filter, list);
	CHECK_EQ(df->type, DAMOS_FILTER_TYPE_PROBE_HITS_WSUM);
	CHECK_EQ(df->range_min, 3);
	CHECK_EQ(df->range_max, 30);
	damon_destroy_ctx(ctx);

	/* a bad wsum range and an unknown memcg path are refused */
	put(S "core_filters/0/min", "31");
	CHECK_EQ(build_err(), -ENOMEM); /* scheme failures are ENOMEM */
	put(S "core_filters/nr_filters", "0");
	put(P "0/filters/1/type", "memcg");
	put(P "0/filters/1/path", "/udamon-no-such-cgroup");
	CHECK(build_err() < 0);
	fs_fini();
}

/*
 * Files users name are read without ever waiting on another process or
 * looking into the daemon's own mount (here a plain directory standing in
 * for it: the check is made on paths, before anything is looked up).
 */
static void test_read_regular_refusals(void)
{
	char dir[] = "/tmp/udamon-path-test-XXXXXX";
	char own[128], fifo[128], link[128], file[128], up[256], inside[160];
	char why[128], *buf;
	size_t len;
	int fd;

	REQUIRE(mkdtemp(dir));
	snprintf(own, sizeof(own), "%s/mnt", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(inside, sizeof(inside), "%s/cfg", own);
	REQUIRE(!mkdir(own, 0755));
	REQUIRE(!mkfifo(fifo, 0600));
	REQUIRE(!symlink(inside, link));
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	REQUIRE(fd >= 0 && write(fd, "abc", 3) == 3);
	close(fd);
	fd = open(inside, O_CREAT | O_WRONLY, 0600);
	REQUIRE(fd >= 0);
	close(fd);
	REQUIRE(!fs_set_own_mount(own));

	/* a regular file outside is read, up to the limit */
	CHECK_EQ(fs_read_regular(file, 16, &buf, &len, why, sizeof(why)), 0);
	CHECK_EQ(len, 3);
	CHECK_STREQ(buf, "abc");
	free(buf);
	CHECK_EQ(fs_read_regular(file, 2, &buf, &len, why, sizeof(why)),
		 -EFBIG);
	CHECK(buf == NULL);
	/* a FIFO nobody writes: refused at once, not waited on */
	CHECK_EQ(fs_read_regular(fifo, 16, &buf, &len, why, sizeof(why)),
		 -EINVAL);
	CHECK(strstr(why, "regular") != NULL);
	/* into the own mount: directly, by a symlink, through ".." */
	CHECK_EQ(fs_read_regular(inside, 16, &buf, &len, why, sizeof(why)),
		 -EINVAL);
	CHECK(strstr(why, "own mount") != NULL);
	CHECK_EQ(fs_read_regular(link, 16, &buf, &len, why, sizeof(why)),
		 -EINVAL);
	CHECK(strstr(why, "own mount") != NULL);
	snprintf(up, sizeof(up), "%s/../%s/./mnt//cfg", dir, strrchr(dir, '/'));
	CHECK_EQ(fs_read_regular(up, 16, &buf, &len, why, sizeof(why)),
		 -EINVAL);
	CHECK(strstr(why, "own mount") != NULL);
	CHECK_EQ(fs_read_regular(own, 16, &buf, &len, why, sizeof(why)),
		 -EINVAL);
	CHECK(fs_path_in_own_mount(own));
	CHECK(!fs_path_in_own_mount(file));
	/* relative and missing paths */
	CHECK_EQ(fs_read_regular("x.cfg", 16, &buf, &len, why, sizeof(why)),
		 -EINVAL);
	CHECK_EQ(fs_read_regular("/udamon/no/such", 16, &buf, &len, why,
				 sizeof(why)),
		 -ENOENT);
	/* without an own mount, the same file reads */
	REQUIRE(!fs_set_own_mount(NULL));
	CHECK_EQ(fs_read_regular(link, 16, &buf, &len, why, sizeof(why)), 0);
	free(buf);

	unlink(inside);
	rmdir(own);
	unlink(fifo);
	unlink(link);
	unlink(file);
	rmdir(dir);
}

/* memcg paths with "." or ".." name no memory cgroup */
static void test_memcg_path_dots(void)
{
	setup(1);
	put(S "filters/nr_filters", "1");
	put(S "filters/0/type", "memcg");
	put(S "filters/0/memcg_path", "../../../../../../../../tmp\n");
	all_log[0] = '\0';
	CHECK_EQ(build_err(), -ENOMEM); /* scheme failures are ENOMEM */
	CHECK(strstr(all_log, "'..'") != NULL);
	put(S "filters/0/memcg_path", "/a/./b");
	all_log[0] = '\0';
	CHECK_EQ(build_err(), -ENOMEM);
	CHECK(strstr(all_log, "'..'") != NULL);
	fs_fini();
}

/* Poll until @path reads @want, for up to 20 s (the machine may be busy). */
static bool wait_for_value(const char *path, const char *want)
{
	struct timespec ts;
	time_t end;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + 20;
	for (;;) {
		if (!strcmp(get(path), want))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec > end)
			return false;
		usleep(5000);
	}
}

/*
 * udamon/auto_paused shows the live automatic pause of the running
 * context: N while off and while the target runs, Y while it is stopped
 * (SIGSTOP), N again after SIGCONT; read-only; the user's pause file is
 * never written by it.
 */
static void test_auto_paused_file(void)
{
	char pid[16];
	pid_t child;

	setup(0);
	CHECK_STREQ(get(C "udamon/auto_paused"), "N");
	CHECK_EQ(put(C "udamon/auto_paused", "Y"), -EACCES);
	CHECK_EQ(put(C "udamon/auto_paused", "N"), -EACCES);
	child = fork();
	REQUIRE(child >= 0);
	if (!child) {
		/* never outlive the test, even one killed by its timeout */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	snprintf(pid, sizeof(pid), "%d", (int)child);
	put(C "targets/nr_targets", "1");
	put(C "targets/0/pid_target", pid);
	/* no ptrace attach: the automatic pause needs no access source */
	put(C "udamon/attach", "N");
	put(C "monitoring_attrs/intervals/sample_us", "1000");
	put(C "monitoring_attrs/intervals/aggr_us", "10000");
	CHECK_EQ(put(C "udamon/auto_pause", "Y"), 1);
	CHECK_STREQ(get(C "udamon/auto_paused"), "N"); /* staged, off */
	if (put(K "state", "on") != 2) {
		tap_skip("vaddr cannot monitor a child here");
		goto out;
	}
	/* pause() sleeps: 'S', not stopped */
	usleep(50000);
	CHECK_STREQ(get(C "udamon/auto_paused"), "N");
	CHECK_EQ(kill(child, SIGSTOP), 0);
	CHECK(wait_for_value(C "udamon/auto_paused", "Y"));
	CHECK_STREQ(get(C "pause"), "N");
	CHECK_EQ(kill(child, SIGCONT), 0);
	CHECK(wait_for_value(C "udamon/auto_paused", "N"));
	/* auto-paused at "off": the file follows the kdamond, not the flag */
	CHECK_EQ(kill(child, SIGSTOP), 0);
	CHECK(wait_for_value(C "udamon/auto_paused", "Y"));
	CHECK_EQ(put(K "state", "off"), 3);
	CHECK_STREQ(get(C "udamon/auto_paused"), "N");
out:
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	fs_fini();
}

static const struct tap_case cases[] = {
	TAP_CASE(test_resolve_and_defaults),
	TAP_CASE(test_probes_files),
	TAP_CASE(test_build_probes),
	TAP_CASE(test_stores_and_errno),
	TAP_CASE(test_nr_dirs),
	TAP_CASE(test_build_ctx),
	TAP_CASE(test_build_overhead_budget),
	TAP_CASE(test_build_errors),
	TAP_CASE(test_state_commands_sim),
	TAP_CASE(test_read_regular_refusals),
	TAP_CASE(test_memcg_path_dots),
	TAP_CASE(test_auto_paused_file),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
