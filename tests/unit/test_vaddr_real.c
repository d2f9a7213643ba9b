// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vaddr/fvaddr operations sets on this machine's real kernel: the
 * uffd-wp + PAGEMAP_SCAN access source on the test process's own memory
 * and on a workload launched with the preload library, and
 * process_madvise(MADV_PAGEOUT) on a file-backed mapping.  Each case skips
 * with the reason when the kernel (or valgrind) lacks what it needs.  The
 * clock is real; each monitoring run lasts about two seconds.
 */
#include "../lib/tap.h"

#include "ops/vaddr.h"
#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL
#define MiB (1UL << 20)
#define AREA_SZ (4 * MiB)

static atomic_bool writer_stop;

/* Write every page of the hot area, over and over. */
static void *writer_fn(void *arg)
{
	volatile char *hot = arg;
	unsigned long i = 0;

	while (!atomic_load(&writer_stop)) {
		hot[i] = (char)i;
		i = (i + PAGE) % AREA_SZ;
	}
	return NULL;
}

struct acc_sums {
	struct damon_addr_range hot, cold;
	unsigned long hot_acc, cold_acc; /* sum of nr_accesses * bytes */
	unsigned long hot_sz, cold_sz;
	unsigned int nr_aggr;
};

static unsigned long overlap(unsigned long a, unsigned long b,
			     const struct damon_addr_range *r)
{
	unsigned long lo = a > r->start ? a : r->start;
	unsigned long hi = b < r->end ? b : r->end;

	return hi > lo ? hi - lo : 0;
}

/*
 * Access-weighted bytes of the hot and cold areas, by overlap: in a short
 * run on a loaded machine regions need not split exactly at their edges.
 */
static void sum_event(void *arg, struct damon_ctx *ctx,
		      const struct damon_event *ev)
{
	struct acc_sums *s = arg;
	unsigned long sz;

	if (ev->type != DAMON_EVENT_AGGREGATED)
		return;
	if (ev->start == s->hot.start)
		s->nr_aggr++;
	sz = overlap(ev->start, ev->end, &s->hot);
	s->hot_acc += (unsigned long)ev->nr_accesses * sz;
	s->hot_sz += sz;
	sz = overlap(ev->start, ev->end, &s->cold);
	s->cold_acc += (unsigned long)ev->nr_accesses * sz;
	s->cold_sz += sz;
}

/* Skip (returning false) unless pidfds work (valgrind lacks them). */
static bool need_pidfd(void)
{
	int fd = udamon__sys.pidfd_open(getpid(), 0);

	if (fd < 0) {
		char why[160];

		snprintf(why, sizeof(why), "pidfd_open unavailable here: %s",
			 strerror(errno));
		tap_skip(why);
		return false;
	}
	close(fd);
	return true;
}

/* Skip (returning false) unless this kernel has uffd WP_ASYNC. */
static bool need_uffd_wp(void)
{
	int fd;

	if (!need_pidfd())
		return false;
	fd = udamon__uffd_self_fd();

	if (fd < 0) {
		char why[160];

		snprintf(why, sizeof(why),
			 "userfaultfd WP_ASYNC unavailable here: %s",
			 strerror(-fd));
		tap_skip(why);
		return false;
	}
	return true;
}

static struct damon_ctx *real_ctx(enum damon_ops_id id, int pid,
				  struct damon_target **tp)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_attrs attrs;
	struct damon_target *t;

	if (!ctx)
		return NULL;
	if (damon_select_ops(ctx, id)) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	attrs = ctx->attrs;
	attrs.sample_interval = 5000;
	attrs.aggr_interval = 100000;
	attrs.ops_update_interval = 1000000;
	attrs.min_nr_regions = 10;
	attrs.max_nr_regions = 1000;
	if (damon_set_attrs(ctx, &attrs)) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	t = damon_new_target();
	if (!t) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	t->pid = pid;
	damon_add_target(ctx, t);
	*tp = t;
	return ctx;
}

/* Map hot and cold areas with an unmapped guard page between them. */
static char *map_areas(char **hot, char **cold)
{
	char *base = mmap(NULL, 2 * AREA_SZ + PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED)
		return NULL;
	munmap(base + AREA_SZ, PAGE);
	*hot = base;
	*cold = base + AREA_SZ + PAGE;
	memset(*hot, 1, AREA_SZ);
	memset(*cold, 1, AREA_SZ);
	return base;
}

/* fvaddr on the test's own memory: written area hot, idle area cold. */
static void test_self_hot_cold(void)
{
	struct acc_sums sums = { { 0, 0 } };
	struct damon_addr_range ranges[2];
	struct damon_target *t;
	struct damon_ctx *ctx;
	pthread_t writer;
	char *hot, *cold, why[512];
	int rc;

	if (!need_uffd_wp())
		return;
	REQUIRE(map_areas(&hot, &cold));
	REQUIRE(damon_uffd_self_register(hot, AREA_SZ) == 0);
	REQUIRE(damon_uffd_self_register(cold, AREA_SZ) == 0);
	ctx = real_ctx(DAMON_OPS_FVADDR, getpid(), &t);
	REQUIRE(ctx);
	ranges[0].start = (unsigned long)hot;
	ranges[0].end = ranges[0].start + AREA_SZ;
	ranges[1].start = (unsigned long)cold;
	ranges[1].end = ranges[1].start + AREA_SZ;
	REQUIRE(damon_set_regions(t, ranges, 2, DAMON_MIN_REGION_SZ) == 0);
	rc = damon_vaddr_check_ctx(ctx, why, sizeof(why));
	if (rc) {
		tap_diag("check: %s", why);
		CHECK_EQ(rc, 0);
	}
	CHECK_STREQ(damon_access_source_name(ctx), "uffd-wp (writes only)");
	sums.hot = ranges[0];
	sums.cold = ranges[1];
	damon_set_event_fn(ctx, sum_event, &sums);

	atomic_store(&writer_stop, false);
	REQUIRE(pthread_create(&writer, NULL, writer_fn, hot) == 0);
	REQUIRE(damon_manual_start(ctx) == 0);
	rc = damon_manual_run_for(ctx, 2000000);
	damon_manual_stop(ctx);
	atomic_store(&writer_stop, true);
	pthread_join(writer, NULL);

	CHECK_EQ(rc, 0);
	CHECK(sums.nr_aggr >= 5);
	CHECK(sums.hot_sz > 0);
	CHECK(sums.cold_sz > 0);
	tap_diag("aggregations %u, hot %.2f, cold %.2f accesses/aggr",
		 sums.nr_aggr,
		 sums.hot_sz ? (double)sums.hot_acc / sums.hot_sz : 0.0,
		 sums.cold_sz ? (double)sums.cold_acc / sums.cold_sz : 0.0);
	/* Compare the mean access frequency per byte of both areas. */
	CHECK(sums.hot_sz && sums.cold_sz &&
	      (double)sums.hot_acc / sums.hot_sz >
		      (double)sums.cold_acc / sums.cold_sz);
	/* The idle area was protected and not written: never accessed. */
	CHECK_EQ(sums.cold_acc, 0);
	damon_destroy_ctx(ctx);
	munmap(hot, AREA_SZ);
	munmap(cold, AREA_SZ);
}

/* Reads are not writes: the write-only source must not count them. */
static void test_self_reads_unseen(void)
{
	struct damon_addr_range range;
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;
	volatile char *area, sink = 0;
	char *hot, *cold;
	int fd, i;

	if (!need_uffd_wp())
		return;
	REQUIRE(map_areas(&hot, &cold));
	area = hot;
	REQUIRE(damon_uffd_self_register(hot, AREA_SZ) == 0);
	ctx = real_ctx(DAMON_OPS_FVADDR, getpid(), &t);
	REQUIRE(ctx);
	range.start = (unsigned long)hot;
	range.end = range.start + AREA_SZ;
	REQUIRE(damon_set_regions(t, &range, 1, DAMON_MIN_REGION_SZ) == 0);
	fd = open("/proc/self/pagemap", O_RDONLY);
	REQUIRE(fd >= 0);
	/* Protect, read everything, check: not written. */
	REQUIRE(udamon__vaddr_protect_page(fd, range.start) >= 0);
	for (i = 0; i < (int)(AREA_SZ / PAGE); i++)
		sink += area[i * PAGE];
	CHECK_EQ(udamon__vaddr_page_written(fd, range.start), 0);
	/* Then write it: written. */
	area[0] = sink + 1;
	CHECK_EQ(udamon__vaddr_page_written(fd, range.start), 1);
	/* The cold area is not registered: never "written". */
	cold[0] = 1;
	CHECK_EQ(udamon__vaddr_page_written(fd, (unsigned long)cold), 0);
	close(fd);
	r = damon_first_region(t);
	CHECK(r != NULL);
	damon_destroy_ctx(ctx);
	munmap(hot, AREA_SZ);
	munmap(cold, AREA_SZ);
}

/*
 * A live target without registered memory is accepted when attaching is
 * disabled (as the kernel accepts any live pid: the preload library may
 * not have run yet; tests/unit/test_attach.c attaches); once reaped, it
 * is invalid and refused with the reason.
 */
static void test_check_unregistered_child(void)
{
	struct damon_target *t;
	struct damon_ctx *ctx;
	char why[512] = "";
	pid_t pid;
	int status;

	if (!need_pidfd())
		return;
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	ctx = real_ctx(DAMON_OPS_VADDR, pid, &t);
	REQUIRE(ctx);
	REQUIRE(damon_vaddr_set_attach(ctx, false) == 0);
	CHECK_EQ(damon_vaddr_check_target(ctx, t, why, sizeof(why)), 0);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK(!ctx->ops.target_valid(t));
	CHECK_EQ(damon_vaddr_check_target(ctx, t, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "no such process") != NULL);
	damon_destroy_ctx(ctx);
}

/* Where the built programs are: next to this test's build directory. */
static int build_path(char *buf, size_t len, const char *rel)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/'); /* B/tests/test_x -> B/tests */
	if (!slash)
		return -1;
	*slash = '\0';
	slash = strrchr(self, '/'); /* -> B */
	if (!slash)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/%s", self, rel) >= len)
		return -1;
	return access(buf, X_OK | R_OK) ? -1 : 0;
}

/*
 * vaddr on a launched udamon-workload under the preload library: one
 * written region, one idle one.  The three regions come from its maps.
 */
static void test_launched_workload(void)
{
	static const char cfg[] = "hot, 8388608\n"
				  "cold, 8388608\n"
				  "\n"
				  "run\n"
				  "4000\n"
				  "hot, 0, 4096, 1, wo\n";
	char wl[PATH_MAX], pre[PATH_MAX], cfgpath[] = "/tmp/udamon-vrt-XXXXXX";
	char env[PATH_MAX + 32], why[512], line[256];
	unsigned long hs = 0, he = 0, cs = 0, ce = 0;
	struct acc_sums sums = { { 0, 0 } };
	struct damon_target *t;
	struct damon_ctx *ctx;
	int fd, pipefd[2], status, rc, tries;
	FILE *out;
	pid_t pid;

	if (!need_uffd_wp())
		return;
	if (build_path(wl, sizeof(wl), "bin/udamon-workload") ||
	    build_path(pre, sizeof(pre), "lib/libudamon-preload.so")) {
		tap_skip("udamon-workload or libudamon-preload.so not built");
		return;
	}
	fd = mkstemp(cfgpath);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, cfg, sizeof(cfg) - 1) == (ssize_t)(sizeof(cfg) - 1));
	close(fd);
	REQUIRE(pipe(pipefd) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		snprintf(env, sizeof(env), "LD_PRELOAD=%s", pre);
		putenv(env);
		/* An ASan build's workload would refuse a preload first. */
		setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(wl, wl, "--print-regions", cfgpath, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	out = fdopen(pipefd[0], "r");
	REQUIRE(out);
	/* The workload prints where its regions are before it runs. */
	for (tries = 0; tries < 2 && fgets(line, sizeof(line), out); tries++) {
		char name[32];
		unsigned long s, e;

		if (sscanf(line, "region %31[^:]: %lx-%lx", name, &s, &e) != 3)
			break;
		if (!strcmp(name, "hot")) {
			hs = s;
			he = e;
		} else if (!strcmp(name, "cold")) {
			cs = s;
			ce = e;
		}
	}
	CHECK(hs && cs);
	if (!hs || !cs) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fclose(out);
		unlink(cfgpath);
		return;
	}
#ifdef __SANITIZE_ADDRESS__
	/*
	 * ASan's shadow mappings (terabytes) make the three regions of the
	 * workload so large that two seconds cannot split them down to its
	 * regions: watch its regions directly.
	 */
	ctx = real_ctx(DAMON_OPS_FVADDR, pid, &t);
	REQUIRE(ctx);
	{
		struct damon_addr_range rr[2] = { { hs, he }, { cs, ce } };

		if (cs < hs) {
			rr[0] = (struct damon_addr_range){ cs, ce };
			rr[1] = (struct damon_addr_range){ hs, he };
		}
		REQUIRE(damon_set_regions(t, rr, 2, DAMON_MIN_REGION_SZ) == 0);
	}
#else
	ctx = real_ctx(DAMON_OPS_VADDR, pid, &t);
	REQUIRE(ctx);
#endif
	rc = damon_vaddr_check_ctx(ctx, why, sizeof(why));
	if (rc)
		tap_diag("check: %s", why);
	CHECK_EQ(rc, 0);
	sums.hot.start = hs;
	sums.hot.end = he;
	sums.cold.start = cs;
	sums.cold.end = ce;
	damon_set_event_fn(ctx, sum_event, &sums);
	REQUIRE(damon_manual_start(ctx) == 0);
	rc = damon_manual_run_for(ctx, 2500000);
	damon_manual_stop(ctx);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fclose(out);
	unlink(cfgpath);

	CHECK(sums.hot_sz > 0);
	CHECK(sums.cold_sz > 0);
	tap_diag("aggregations %u, hot %.2f, cold %.2f accesses/aggr",
		 sums.nr_aggr,
		 sums.hot_sz ? (double)sums.hot_acc / sums.hot_sz : 0.0,
		 sums.cold_sz ? (double)sums.cold_acc / sums.cold_sz : 0.0);
	CHECK(sums.hot_sz && sums.cold_sz &&
	      (double)sums.hot_acc / sums.hot_sz >
		      (double)sums.cold_acc / sums.cold_sz);
	damon_destroy_ctx(ctx);
}

/* Working set size per aggregation: bytes of regions seen accessed. */
struct wss_log {
	unsigned long cur_psi, cur;
	unsigned long vals[512];
	unsigned int nr;
};

static void wss_event(void *arg, struct damon_ctx *ctx,
		      const struct damon_event *ev)
{
	struct wss_log *w = arg;

	if (ev->type != DAMON_EVENT_AGGREGATED)
		return;
	if (ev->passed_sample_intervals != w->cur_psi) {
		if (w->cur_psi && w->nr < 512)
			w->vals[w->nr++] = w->cur;
		w->cur_psi = ev->passed_sample_intervals;
		w->cur = 0;
	}
	if (ev->nr_accesses)
		w->cur += ev->end - ev->start;
}

static int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a,
		      y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * The integration test: a launched udamon-workload under the
 * preload library writes all of a 24 MiB area and never touches a 72 MiB
 * one; vaddr on the uffd-wp source must estimate the working set (the
 * median, over the second half of the run, of the bytes of regions with
 * accesses) within 20 % of the 24 MiB written.
 */
static void test_launched_wss(void)
{
	static const char cfg[] = "ws, 25165824\n"
				  "idle, 75497472\n"
				  "\n"
				  "run\n"
				  "8000\n"
				  "ws, 0, 4096, 1, wo\n";
	char wl[PATH_MAX], pre[PATH_MAX], cfgpath[] = "/tmp/udamon-wss-XXXXXX";
	char env[PATH_MAX + 32], why[512], line[256];
	struct wss_log *w = calloc(1, sizeof(*w));
	const unsigned long written = 24 * MiB;
	struct damon_target *t;
	struct damon_ctx *ctx;
	int fd, pipefd[2], status, rc;
	unsigned long est;
	FILE *out;
	pid_t pid;

	REQUIRE(w);
	if (!need_uffd_wp()) {
		free(w);
		return;
	}
	if (build_path(wl, sizeof(wl), "bin/udamon-workload") ||
	    build_path(pre, sizeof(pre), "lib/libudamon-preload.so")) {
		tap_skip("udamon-workload or libudamon-preload.so not built");
		free(w);
		return;
	}
	fd = mkstemp(cfgpath);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, cfg, sizeof(cfg) - 1) == (ssize_t)(sizeof(cfg) - 1));
	close(fd);
	REQUIRE(pipe(pipefd) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		snprintf(env, sizeof(env), "LD_PRELOAD=%s", pre);
		putenv(env);
		setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(wl, wl, "--print-regions", cfgpath, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	out = fdopen(pipefd[0], "r");
	REQUIRE(out);
	/* Wait until its regions exist (it prints them, then runs). */
	rc = fgets(line, sizeof(line), out) != NULL;
	CHECK(rc);
	ctx = real_ctx(DAMON_OPS_VADDR, pid, &t);
	REQUIRE(ctx);
	rc = damon_vaddr_check_ctx(ctx, why, sizeof(why));
	if (rc)
		tap_diag("check: %s", why);
	CHECK_EQ(rc, 0);
	damon_set_event_fn(ctx, wss_event, w);
	REQUIRE(damon_manual_start(ctx) == 0);
	damon_manual_run_for(ctx, 4000000);
	damon_manual_stop(ctx);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fclose(out);
	unlink(cfgpath);
	damon_destroy_ctx(ctx);

	REQUIRE(w->nr >= 10);
	qsort(w->vals + w->nr / 2, w->nr - w->nr / 2, sizeof(w->vals[0]),
	      cmp_ul);
	est = w->vals[w->nr / 2 + (w->nr - w->nr / 2) / 2];
	tap_diag(
		"%u aggregations; working set estimate %lu KiB, written %lu KiB (source %s)",
		w->nr, est >> 10, written >> 10, "uffd-wp");
	CHECK(est >= written - written / 5 && est <= written + written / 5);
	free(w);
}

/* Resident pages of [p, p + len), by mincore(). */
static unsigned long resident_pages(void *p, size_t len)
{
	unsigned char vec[AREA_SZ / PAGE];
	unsigned long n = 0, i;

	if (len > AREA_SZ || mincore(p, len, vec))
		return (unsigned long)-1;
	for (i = 0; i < len / PAGE; i++)
		n += vec[i] & 1;
	return n;
}

/* pageout through process_madvise drops a file-backed mapping's pages. */
static void test_pageout_file_mapping(void)
{
	struct damos_access_pattern pattern = {
		.min_sz_region = 0,
		.max_sz_region = ULONG_MAX,
		.min_nr_accesses = 0,
		.max_nr_accesses = UINT_MAX,
		.min_age_region = 0,
		.max_age_region = UINT_MAX,
	};
	struct damos_quota quota = { 0 };
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_NONE };
	char path[] = "/var/tmp/udamon-pageout-XXXXXX", why[512];
	struct damon_addr_range range;
	unsigned long before, after;
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damos *s;
	char *map;
	int fd;

	if (!need_pidfd())
		return;
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	unlink(path);
	REQUIRE(ftruncate(fd, AREA_SZ) == 0);
	map = mmap(NULL, AREA_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(map != MAP_FAILED);
	memset(map, 7, AREA_SZ);
	REQUIRE(fsync(fd) == 0);
	before = resident_pages(map, AREA_SZ);
	CHECK_EQ(before, AREA_SZ / PAGE);

	ctx = real_ctx(DAMON_OPS_FVADDR, getpid(), &t);
	REQUIRE(ctx);
	/*
	 * A virtual clock: the same number of steps, and so of applies,
	 * however loaded the machine (a real 300 ms could end before the
	 * first aggregation).  The pageouts themselves stay real.
	 */
	damon_use_virtual_clock(ctx);
	range.start = (unsigned long)map;
	range.end = range.start + AREA_SZ;
	REQUIRE(damon_set_regions(t, &range, 1, DAMON_MIN_REGION_SZ) == 0);
	s = damon_new_scheme(&pattern, DAMOS_PAGEOUT, 0, &quota, &wmarks, -1);
	REQUIRE(s);
	damon_add_scheme(ctx, s);
	/*
	 * On the writes-only source pageout needs the explicit opt-in (the
	 * mapping is written once, then only read: it would look cold).
	 */
	if (!strcmp(damon_access_source_name(ctx), "uffd-wp (writes only)")) {
		CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
		CHECK(strstr(why, "writes only") != NULL);
		CHECK_EQ(damon_manual_start(ctx), -EINVAL);
		REQUIRE(damon_allow_cold_on_writes_only(ctx, true) == 0);
	}
	{
		int rc = damon_vaddr_check_ctx(ctx, why, sizeof(why));

		if (rc && !strstr(why, "PAGEMAP_SCAN"))
			tap_diag("check: %s", why);
	}
	/* Only actions matter here, not whether accesses can be seen. */
	ctx->ops.check_ctx = NULL;
	REQUIRE(damon_manual_start(ctx) == 0);
	damon_manual_run_for(ctx, 300000);
	damon_manual_stop(ctx);
	after = resident_pages(map, AREA_SZ);
	tap_diag("resident pages %lu -> %lu, sz_applied %lu", before, after,
		 s->stat.sz_applied);
	if (s->stat.sz_applied == 0 && s->stat.nr_tried) {
		/* e.g. valgrind knows no process_madvise */
		tap_skip("process_madvise(MADV_PAGEOUT) applied nothing here");
	} else {
		CHECK(s->stat.nr_tried > 0);
		CHECK(s->stat.sz_applied >= AREA_SZ);
		CHECK(after < before / 2);
	}
	damon_destroy_ctx(ctx);
	munmap(map, AREA_SZ);
	close(fd);
}

static const struct tap_case cases[] = {
	TAP_CASE_TIMEOUT(test_self_hot_cold, 30),
	TAP_CASE(test_self_reads_unseen),
	TAP_CASE(test_check_unregistered_child),
	TAP_CASE_TIMEOUT(test_launched_workload, 30),
	TAP_CASE_TIMEOUT(test_launched_wss, 30),
	TAP_CASE(test_pageout_file_mapping),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
