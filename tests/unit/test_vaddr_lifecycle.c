// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vaddr target lifecycle on this machine's kernel, with real child
 * processes: a zombie (exited, not yet waited for) stays a valid target
 * until it is reaped, and only then does the context stop; a process
 * monitored within a millisecond of its fork (before its exec, before the
 * preload library registered anything) is accepted every time and its
 * written memory found; a program reached through exec (sh -c 'exec ...')
 * is followed, with an exec event.  Cases skip with the reason when the
 * kernel (or valgrind) lacks what they need.
 */
#include "../lib/tap.h"

#include "ops/vaddr.h"
#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1UL << 20)

/*
 * Under ASan the launched workload's shadow mappings (terabytes) make its
 * three regions so large that a few seconds cannot split them down to its
 * areas: the hot/cold comparisons are left to the plain build there.
 */
#ifdef __SANITIZE_ADDRESS__
#define CHECK_WORKING_SET 0
#else
#define CHECK_WORKING_SET 1
#endif

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

static struct damon_ctx *real_ctx(int pid, unsigned long update_us,
				  struct damon_target **tp)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_attrs attrs;
	struct damon_target *t;

	if (!ctx)
		return NULL;
	if (damon_select_ops(ctx, DAMON_OPS_VADDR)) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	attrs = ctx->attrs;
	attrs.sample_interval = 5000;
	attrs.aggr_interval = 100000;
	attrs.ops_update_interval = update_us;
	attrs.min_nr_regions = 10;
	attrs.max_nr_regions = 1000;
	t = damon_new_target();
	if (damon_set_attrs(ctx, &attrs) || !t) {
		if (t)
			damon_destroy_target(t, NULL);
		damon_destroy_ctx(ctx);
		return NULL;
	}
	t->pid = pid;
	damon_add_target(ctx, t);
	*tp = t;
	return ctx;
}

/* Where the built programs are: B/tests/test_x -> B/REL. */
static int build_path(char *buf, size_t len, const char *rel)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int i;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	for (i = 0; i < 2; i++) {
		slash = strrchr(self, '/');
		if (!slash)
			return -1;
		*slash = '\0';
	}
	if ((size_t)snprintf(buf, len, "%s/%s", self, rel) >= len)
		return -1;
	return access(buf, R_OK) ? -1 : 0;
}

/*
 * A child its parent has not waited for yet is a valid target: "on"
 * accepts it, the context keeps running, and it stops only after the
 * child is reaped -- then the pid is refused.
 */
static void test_zombie_valid_until_reaped(void)
{
	struct pollfd pfd = { .events = POLLIN };
	struct damon_target *t;
	struct damon_ctx *ctx;
	char why[512] = "";
	int i, rc = 0, status;
	pid_t pid;

	if (!need_pidfd())
		return;
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(0);
	/* Wait until it has exited (its pidfd polls readable). */
	pfd.fd = udamon__sys.pidfd_open(pid, 0);
	REQUIRE(pfd.fd >= 0);
	REQUIRE(poll(&pfd, 1, 5000) == 1);
	close(pfd.fd);

	ctx = real_ctx(pid, 100000, &t);
	REQUIRE(ctx);
	rc = damon_vaddr_check_ctx(ctx, why, sizeof(why));
	if (rc)
		tap_diag("refused: %s", why);
	CHECK_EQ(rc, 0);
	REQUIRE(damon_manual_start(ctx) == 0);
	for (i = 0; i < 30 && rc == 0; i++)
		rc = damon_manual_step(ctx);
	CHECK_EQ(rc, 0); /* still monitoring the zombie */
	CHECK(ctx->ops.target_valid(t));

	REQUIRE(waitpid(pid, &status, 0) == pid);
	for (i = 0; i < 5 && rc == 0; i++)
		rc = damon_manual_step(ctx);
	CHECK_EQ(rc, 1); /* the stop condition fired after the reap */
	CHECK(!ctx->ops.target_valid(t));
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	/* Reaped, the pid is refused. */
	ctx = real_ctx(pid, 100000, &t);
	REQUIRE(ctx);
	CHECK_EQ(damon_vaddr_check_ctx(ctx, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "no such process") != NULL);
	damon_destroy_ctx(ctx);
}

struct run_sums {
	unsigned long hot_start, hot_end, cold_start, cold_end;
	unsigned long hot_acc, hot_sz, cold_acc, cold_sz;
	unsigned int nr_exec;
	int exec_pid;
};

static unsigned long overlap(unsigned long a, unsigned long b, unsigned long c,
			     unsigned long d)
{
	unsigned long lo = a > c ? a : c, hi = b < d ? b : d;

	return hi > lo ? hi - lo : 0;
}

/*
 * Access-weighted bytes of the hot and cold areas, by overlap: regions
 * need not split exactly at the areas' edges in a short run.
 */
static void sums_event(void *arg, struct damon_ctx *ctx,
		       const struct damon_event *ev)
{
	struct run_sums *s = arg;
	unsigned long sz;

	if (ev->type == DAMON_EVENT_TARGET_EXEC) {
		s->nr_exec++;
		s->exec_pid = ev->pid;
		return;
	}
	if (ev->type != DAMON_EVENT_AGGREGATED || !s->hot_start)
		return;
	sz = overlap(ev->start, ev->end, s->hot_start, s->hot_end);
	s->hot_acc += (unsigned long)ev->nr_accesses * sz;
	s->hot_sz += sz;
	sz = overlap(ev->start, ev->end, s->cold_start, s->cold_end);
	s->cold_acc += (unsigned long)ev->nr_accesses * sz;
	s->cold_sz += sz;
}

/* Read the workload's "region NAME: START-END" lines (hot, cold). */
static bool read_regions(FILE *out, struct run_sums *s)
{
	char line[256];
	int i;

	for (i = 0; i < 2 && fgets(line, sizeof(line), out); i++) {
		char name[32];
		unsigned long a, b;

		if (sscanf(line, "region %31[^:]: %lx-%lx", name, &a, &b) != 3)
			return false;
		if (!strcmp(name, "hot")) {
			s->hot_start = a;
			s->hot_end = b;
		} else if (!strcmp(name, "cold")) {
			s->cold_start = a;
			s->cold_end = b;
		}
	}
	return s->hot_start && s->cold_start;
}

static const char hot_cold_cfg[] = "hot, 8388608\n"
				   "cold, 8388608\n"
				   "\n"
				   "run\n"
				   "6000\n"
				   "hot, 0, 4096, 1, wo\n";

static int write_cfg(char *path)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	if (write(fd, hot_cold_cfg, sizeof(hot_cold_cfg) - 1) !=
	    (ssize_t)(sizeof(hot_cold_cfg) - 1)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static double avg(unsigned long acc, unsigned long sz)
{
	return sz ? (double)acc / (double)sz : 0.0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * No launch race: 100 times, fork a udamon-workload under the preload
 * library and start monitoring it right after fork() returns -- before
 * its exec, long before the preload library registers its memory.  Every
 * start is accepted; on a few of them the written region is found.
 */
static void test_launch_race(void)
{
	char wl[PATH_MAX], pre[PATH_MAX], env[PATH_MAX + 32];
	char cfgpath[] = "/tmp/udamon-race-XXXXXX", why[512];
	unsigned int i, nr_accepted = 0, nr_found = 0, nr_checked = 0;
	uint64_t max_gap_ns = 0;

	if (!need_uffd_wp())
		return;
	if (build_path(wl, sizeof(wl), "bin/udamon-workload") ||
	    build_path(pre, sizeof(pre), "lib/libudamon-preload.so")) {
		tap_skip("udamon-workload or libudamon-preload.so not built");
		return;
	}
	REQUIRE(write_cfg(cfgpath) == 0);
	snprintf(env, sizeof(env), "LD_PRELOAD=%s", pre);
	for (i = 0; i < 100; i++) {
		bool watch = i % 40 == 0; /* 3 of the 100 */
		struct run_sums sums = { 0 };
		struct damon_target *t;
		struct damon_ctx *ctx;
		int pipefd[2], rc, status;
		uint64_t forked;
		FILE *out = NULL;
		pid_t pid;

		/* Everything but the pid is ready before the launch. */
		ctx = real_ctx(0, 100000, &t);
		REQUIRE(ctx);
		REQUIRE(pipe(pipefd) == 0);
		pid = fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			putenv(env);
			setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
			dup2(pipefd[1], 1);
			close(pipefd[0]);
			execl(wl, wl, "--print-regions", cfgpath, (char *)NULL);
			_exit(127);
		}
		forked = now_ns();
		t->pid = pid;
		rc = damon_manual_start(ctx);
		if (now_ns() - forked > max_gap_ns)
			max_gap_ns = now_ns() - forked;
		if (rc == 0)
			nr_accepted++;
		else if (damon_vaddr_check_ctx(ctx, why, sizeof(why)))
			tap_diag("launch %u refused: %s", i, why);
		close(pipefd[1]);
		if (rc == 0 && watch) {
			out = fdopen(pipefd[0], "r");
			REQUIRE(out);
			damon_set_event_fn(ctx, sums_event, &sums);
			if (read_regions(out, &sums)) {
				damon_manual_run_for(ctx, 2500000);
				nr_checked++;
				tap_diag(
					"launch %u: %u exec events, hot %.2f over %lu KiB, cold %.2f accesses/aggr",
					i, sums.nr_exec,
					avg(sums.hot_acc, sums.hot_sz),
					sums.hot_sz >> 10,
					avg(sums.cold_acc, sums.cold_sz));
				if (avg(sums.hot_acc, sums.hot_sz) >
				    avg(sums.cold_acc, sums.cold_sz) + 1.0)
					nr_found++;
			}
		}
		if (rc == 0)
			damon_manual_stop(ctx);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (out)
			fclose(out);
		else
			close(pipefd[0]);
		damon_destroy_ctx(ctx);
	}
	unlink(cfgpath);
	tap_diag("%u of 100 starts accepted; fork to start at most %.3f ms",
		 nr_accepted, (double)max_gap_ns / 1e6);
	CHECK_EQ(nr_accepted, 100);
	CHECK_EQ(nr_checked, 3);
	if (CHECK_WORKING_SET)
		CHECK_EQ(nr_found, nr_checked);
}

/*
 * exec followed: monitoring starts on a shell (under the preload library)
 * that then execs udamon-workload; the same target must see the new
 * program's writes, and an exec event must say so.
 */
static void test_exec_followed(void)
{
	char wl[PATH_MAX], pre[PATH_MAX], env[PATH_MAX + 32];
	char cfgpath[] = "/tmp/udamon-exec-XXXXXX", cmd[2 * PATH_MAX + 64];
	struct run_sums sums = { 0 };
	int inpipe[2], outpipe[2], status, i, rc = 0;
	unsigned int nr_exec_before;
	struct damon_target *t;
	struct damon_ctx *ctx;
	FILE *out;
	pid_t pid;

	if (!need_uffd_wp())
		return;
	if (build_path(wl, sizeof(wl), "bin/udamon-workload") ||
	    build_path(pre, sizeof(pre), "lib/libudamon-preload.so")) {
		tap_skip("udamon-workload or libudamon-preload.so not built");
		return;
	}
	if (access("/bin/sh", X_OK)) {
		tap_skip("no /bin/sh");
		return;
	}
	REQUIRE(write_cfg(cfgpath) == 0);
	snprintf(cmd, sizeof(cmd), "read go; exec '%s' --print-regions '%s'",
		 wl, cfgpath);
	REQUIRE(pipe(inpipe) == 0 && pipe(outpipe) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		snprintf(env, sizeof(env), "LD_PRELOAD=%s", pre);
		putenv(env);
		setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
		dup2(inpipe[0], 0);
		dup2(outpipe[1], 1);
		close(inpipe[1]);
		close(outpipe[0]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(inpipe[0]);
	close(outpipe[1]);
	out = fdopen(outpipe[0], "r");
	REQUIRE(out);

	ctx = real_ctx(pid, 100000, &t);
	REQUIRE(ctx);
	damon_set_event_fn(ctx, sums_event, &sums);
	REQUIRE(damon_manual_start(ctx) == 0);
	/* Monitor the shell for a while, so its pagemap is open. */
	for (i = 0; i < 40 && rc == 0; i++)
		rc = damon_manual_step(ctx);
	CHECK_EQ(rc, 0);
	/* One exec may have been seen already: the fork child into sh. */
	nr_exec_before = sums.nr_exec;
	CHECK(nr_exec_before <= 1);
	REQUIRE(write(inpipe[1], "go\n", 3) == 3);
	if (!read_regions(out, &sums)) {
		CHECK(!"the workload printed its regions");
	} else {
		damon_manual_run_for(ctx, 2500000);
		tap_diag(
			"exec events %u (pid %d), hot %.2f, cold %.2f accesses/aggr",
			sums.nr_exec, sums.exec_pid,
			avg(sums.hot_acc, sums.hot_sz),
			avg(sums.cold_acc, sums.cold_sz));
		CHECK_EQ(sums.nr_exec, nr_exec_before + 1);
		CHECK_EQ(sums.exec_pid, pid);
		CHECK(sums.hot_sz > 0);
		if (CHECK_WORKING_SET)
			CHECK(avg(sums.hot_acc, sums.hot_sz) >
			      avg(sums.cold_acc, sums.cold_sz) + 1.0);
	}
	damon_manual_stop(ctx);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fclose(out);
	close(inpipe[1]);
	unlink(cfgpath);
	damon_destroy_ctx(ctx);
}

/*
 * An anon probe on the real kernel: fvaddr over this process's anonymous
 * and file-backed pages; only the anonymous ones hit, read from pagemap.
 */
static void test_anon_probe_real(void)
{
	const size_t sz = 4 * MiB;
	char path[] = "/var/tmp/udamon-probe-XXXXXX", why[512] = "";
	struct damon_addr_range rr[2];
	unsigned int hits[2] = { 0, 0 };
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_region *r;
	struct damon_probe *p;
	struct damon_filter *f;
	char *anon, *file;
	int fd;

	if (!need_pidfd())
		return;
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	unlink(path);
	REQUIRE(ftruncate(fd, (off_t)sz) == 0);
	file = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	anon = mmap(NULL, sz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(file != MAP_FAILED && anon != MAP_FAILED);
	memset(file, 1, sz);
	memset(anon, 1, sz);
	rr[0] = (struct damon_addr_range){ (unsigned long)anon,
					   (unsigned long)anon + sz };
	rr[1] = (struct damon_addr_range){ (unsigned long)file,
					   (unsigned long)file + sz };
	if (rr[1].start < rr[0].start) {
		struct damon_addr_range tmp = rr[0];

		rr[0] = rr[1];
		rr[1] = tmp;
	}
	ctx = real_ctx(getpid(), 1000000, &t);
	REQUIRE(ctx);
	REQUIRE(damon_select_ops(ctx, DAMON_OPS_FVADDR) == 0);
	REQUIRE(damon_set_regions(t, rr, 2, DAMON_MIN_REGION_SZ) == 0);
	p = damon_new_probe();
	f = damon_new_filter(DAMON_FILTER_TYPE_ANON, true, true);
	REQUIRE(p && f);
	damon_add_filter(p, f);
	damon_add_probe(ctx, p);
	if (damon_vaddr_check_ctx(ctx, why, sizeof(why)))
		tap_diag("refused: %s", why);
	REQUIRE(damon_manual_start(ctx) == 0);
	damon_manual_run_for(ctx, 95000); /* within one aggregation */
	damon_for_each_region(r, t) {
		bool is_anon = r->ar.start >= (unsigned long)anon &&
			       r->ar.end <= (unsigned long)anon + sz;

		hits[is_anon] += r->probe_hits[0];
	}
	damon_manual_stop(ctx);
	tap_diag("anon probe hits: %u anonymous, %u file-backed", hits[1],
		 hits[0]);
	CHECK(hits[1] > 0);
	CHECK_EQ(hits[0], 0);
	damon_destroy_ctx(ctx);
	munmap(anon, sz);
	munmap(file, sz);
	close(fd);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_anon_probe_real),
	TAP_CASE(test_zombie_valid_until_reaped),
	TAP_CASE_TIMEOUT(test_launch_race, 120),
	TAP_CASE_TIMEOUT(test_exec_followed, 30),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
