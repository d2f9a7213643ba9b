// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Cost of the userfaultfd write-protect access source on this machine:
 *  1. monitor CPU per region per sample (prepare + check of one sampled
 *     page per region), on the bench's own registered memory, with the
 *     sampled pages left alone and with each one written in between;
 *  2. the slowdown of a launched udamon-workload (random 64-byte writes
 *     over 64 MiB, under the preload library) while fvaddr samples it
 *     with 10, 100 and 1000 regions, against the same run without the
 *     preload library and with it but nobody sampling;
 *  3. the same by target size (16 MiB to 1 GiB) at 100 regions: DAMON's
 *     cost follows the number of regions, not the size, while the
 *     target's write faults follow what it writes.
 * Prints three tables.  It measures; it asserts nothing.
 *
 * Usage: bench_uffd [SECONDS_PER_RUN]   (default 3)
 *
 * bench_uffd ab [SECONDS [RUNS [BUDGET]]]: the A/B table at default
 * attributes (5 ms / 100 ms, 10..1000 regions, one initial region over
 * the target): a forked random writer over 64 MiB, 256 MiB, 1 GiB and
 * 4 GiB, runs alternating unmonitored / monitored, RUNS pairs per size
 * (default 5, 4 s each).  Per size it prints the median writer speed
 * monitored/unmonitored, the median monitor CPU, the target's faults
 * per second while monitored and the region count range.  BUDGET, when
 * given, is passed to damon_set_overhead_budget() (0: unbounded).
 */
#include <udamon/damon.h>

#include "sys/sys.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define AREA (64UL << 20)
#define NR_SAMPLES 2000

static double thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static struct damon_ctx *fvaddr_ctx(int pid, unsigned long start,
				    unsigned long len, unsigned int nr,
				    bool virtual_clock)
{
	struct damon_addr_range *rr = calloc(nr, sizeof(*rr));
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_attrs attrs;
	struct damon_target *t = damon_new_target();
	unsigned int i;

	if (!rr || !ctx || !t || damon_select_ops(ctx, DAMON_OPS_FVADDR))
		goto fail;
	if (damon_set_access_source(ctx, "uffd-wp"))
		goto fail;
	if (virtual_clock)
		damon_use_virtual_clock(ctx);
	attrs = ctx->attrs;
	attrs.sample_interval = 5000;
	attrs.aggr_interval = 100000;
	/* Keep exactly @nr regions: no merging below, no splitting above. */
	attrs.min_nr_regions = nr;
	attrs.max_nr_regions = nr;
	if (damon_set_attrs(ctx, &attrs))
		goto fail;
	t->pid = pid;
	damon_add_target(ctx, t);
	t = NULL;
	for (i = 0; i < nr; i++) {
		rr[i].start = start + len / nr * i / PAGE * PAGE;
		rr[i].end = start + len / nr * (i + 1) / PAGE * PAGE;
	}
	damon_for_each_target(t, ctx) {
		if (damon_set_regions(t, rr, nr, PAGE))
			goto fail;
	}
	free(rr);
	return ctx;
fail:
	free(rr);
	if (ctx)
		damon_destroy_ctx(ctx);
	return NULL;
}

/* Table 1: µs of monitor CPU per region per sample. */
static void bench_per_sample(void)
{
	static const unsigned int nrs[] = { 10, 100, 1000 };
	char *area = mmap(NULL, AREA, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t k;
	int err;

	if (area == MAP_FAILED) {
		perror("mmap");
		return;
	}
	memset(area, 1, AREA);
	err = damon_uffd_self_register(area, AREA);
	if (err) {
		printf("uffd-wp unavailable: %s\n", strerror(-err));
		return;
	}
	printf("## Monitor CPU per region per sample (uffd-wp, own memory, %d samples)\n\n",
	       NR_SAMPLES);
	printf("| regions | sampled pages idle | sampled pages written in between (incl. the write fault) |\n");
	printf("| --- | --- | --- |\n");
	for (k = 0; k < sizeof(nrs) / sizeof(nrs[0]); k++) {
		struct damon_ctx *ctx = fvaddr_ctx(
			getpid(), (unsigned long)area, AREA, nrs[k], true);
		struct damon_target *t;
		struct damon_region *r;
		double t0, idle_us, written_us;
		int i;

		if (!ctx || damon_manual_start(ctx)) {
			printf("| %u | setup failed | |\n", nrs[k]);
			continue;
		}
		t0 = thread_cpu_us();
		for (i = 0; i < NR_SAMPLES; i++) {
			ctx->ops.prepare_access_checks(ctx);
			ctx->ops.check_accesses(ctx);
		}
		idle_us = (thread_cpu_us() - t0) / NR_SAMPLES / nrs[k];
		t0 = thread_cpu_us();
		for (i = 0; i < NR_SAMPLES; i++) {
			ctx->ops.prepare_access_checks(ctx);
			damon_for_each_target(t, ctx) {
				damon_for_each_region(r, t)
					*(volatile char *)r->sampling_addr = 2;
			}
			ctx->ops.check_accesses(ctx);
		}
		written_us = (thread_cpu_us() - t0) / NR_SAMPLES / nrs[k];
		printf("| %u | %.2f µs | %.2f µs |\n", nrs[k], idle_us,
		       written_us);
		damon_manual_stop(ctx);
		damon_destroy_ctx(ctx);
	}
	printf("\n");
	munmap(area, AREA);
}

/* B/bench/bench_uffd -> B/@rel */
static int build_path(char *buf, size_t len, const char *rel)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/%s", self, rel) >= len)
		return -1;
	return access(buf, X_OK | R_OK) ? -1 : 0;
}

/*
 * One workload run; nr_regions < 0: no preload, 0: preload only.
 * Returns accesses/msec and the monitor's CPU seconds.
 */
static double run_workload(const char *wl, const char *pre, int seconds,
			   int nr_regions, unsigned long area,
			   double *mon_cpu_s)
{
	char cfgpath[] = "/tmp/udamon-bench-XXXXXX", cfg[256], line[256];
	char env[PATH_MAX + 32];
	double rate = 0, t0;
	int fd, pipefd[2], status, len;
	unsigned long s, e;
	FILE *out;
	pid_t pid;

	*mon_cpu_s = 0;
	len = snprintf(cfg, sizeof(cfg),
		       "area, %lu\n\nrun\n%d\narea, 1, 64, 1, wo\n", area,
		       seconds * 1000);
	fd = mkstemp(cfgpath);
	if (fd < 0 || write(fd, cfg, (size_t)len) != len || pipe(pipefd))
		return 0;
	close(fd);
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		if (nr_regions >= 0) {
			snprintf(env, sizeof(env), "LD_PRELOAD=%s", pre);
			putenv(env);
		}
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(wl, wl, "--print-regions", cfgpath, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	out = fdopen(pipefd[0], "r");
	if (out && fgets(line, sizeof(line), out) &&
	    sscanf(line, "region area: %lx-%lx", &s, &e) == 2 &&
	    nr_regions > 0) {
		struct damon_ctx *ctx = fvaddr_ctx(
			pid, s, e - s, (unsigned int)nr_regions, false);

		if (ctx && !damon_manual_start(ctx)) {
			t0 = thread_cpu_us();
			damon_manual_run_for(ctx, (uint64_t)seconds * 1000000);
			*mon_cpu_s = (thread_cpu_us() - t0) / 1e6;
			damon_manual_stop(ctx);
		}
		if (ctx)
			damon_destroy_ctx(ctx);
	}
	while (out && fgets(line, sizeof(line), out)) {
		char *p = strstr(line, "accesses/msec");

		if (p) {
			while (p > line && p[-1] == ' ')
				p--;
			while (p > line && p[-1] >= '0' && p[-1] <= '9')
				p--;
			rate = strtod(p, NULL);
		}
	}
	waitpid(pid, &status, 0);
	if (out)
		fclose(out);
	unlink(cfgpath);
	return rate;
}

static void bench_slowdown(int seconds)
{
	static const int runs[] = { -1, 0, 10, 100, 1000 };
	char wl[PATH_MAX], pre[PATH_MAX];
	double base = 0;
	size_t k;

	if (build_path(wl, sizeof(wl), "bin/udamon-workload") ||
	    build_path(pre, sizeof(pre), "lib/libudamon-preload.so")) {
		printf("udamon-workload or libudamon-preload.so not built\n");
		return;
	}
	printf("## Target slowdown (udamon-workload, random 64 B writes over 64 MiB, %d s per run, 5 ms sampling)\n\n",
	       seconds);
	printf("| run | workload accesses/msec | relative | monitor CPU |\n");
	printf("| --- | --- | --- | --- |\n");
	for (k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
		double cpu, rate = run_workload(wl, pre, seconds, runs[k], AREA,
						&cpu);
		char name[64];

		if (runs[k] < 0)
			snprintf(name, sizeof(name), "plain");
		else if (!runs[k])
			snprintf(name, sizeof(name),
				 "preload only (nobody sampling)");
		else
			snprintf(name, sizeof(name), "fvaddr, %d regions",
				 runs[k]);
		if (runs[k] < 0)
			base = rate;
		printf("| %s | %.0f | %.2f | %.1f %% of a CPU |\n", name, rate,
		       base > 0 ? rate / base : 0, cpu / seconds * 100);
	}
	printf("\n");
}

static void bench_by_size(int seconds)
{
	static const unsigned long mibs[] = { 16, 64, 256, 1024 };
	char wl[PATH_MAX], pre[PATH_MAX];
	size_t k;

	if (build_path(wl, sizeof(wl), "bin/udamon-workload") ||
	    build_path(pre, sizeof(pre), "lib/libudamon-preload.so"))
		return;
	printf("## By target size (random 64 B writes, %d s per run, fvaddr with 100 regions, 5 ms sampling)\n\n",
	       seconds);
	printf("| target | plain accesses/msec | sampled accesses/msec | relative | monitor CPU |\n");
	printf("| --- | --- | --- | --- | --- |\n");
	for (k = 0; k < sizeof(mibs) / sizeof(mibs[0]); k++) {
		unsigned long area = mibs[k] << 20;
		double cpu, plain, sampled;

		plain = run_workload(wl, pre, seconds, -1, area, &cpu);
		sampled = run_workload(wl, pre, seconds, 100, area, &cpu);
		printf("| %lu MiB | %.0f | %.0f | %.2f | %.1f %% of a CPU |\n",
		       mibs[k], plain, sampled, plain > 0 ? sampled / plain : 0,
		       cpu / seconds * 100);
	}
	printf("\n");
}

/* ---- the A/B table at default attributes ---- */

/* Minor faults of @pid so far (field 10 of /proc/PID/stat). */
static unsigned long long proc_minflt(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		/* after ")": state(3) ppid pgrp session tty tpgid flags minflt */
		for (i = 0; p && i < 8; i++)
			p = strchr(p + 1, ' ');
		if (p)
			v = strtoull(p + 1, NULL, 10);
	}
	fclose(f);
	return v;
}

/* CPU seconds of this process, user and system. */
static double process_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The writer: populate @len bytes, register them for uffd-wp when
 * @monitored, report the address, wait for the go byte, then write one
 * byte at a uniformly random offset as fast as it can for @seconds and
 * report writes per second.
 */
static void ab_writer(unsigned long len, bool monitored, int seconds,
		      int to_parent, int from_parent)
{
	unsigned char *area = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t x = 0x9E3779B97F4A7C15ULL, n = 0, end, now, t0;
	unsigned long addr;
	double rate[2], cpu0;
	char go;

	if (area == MAP_FAILED)
		_exit(1);
	memset(area, 1, len);
	if (monitored && damon_uffd_self_register(area, len))
		_exit(2);
	addr = (unsigned long)area;
	if (write(to_parent, &addr, sizeof(addr)) != sizeof(addr) ||
	    read(from_parent, &go, 1) != 1)
		_exit(3);
	t0 = mono_ns();
	cpu0 = process_cpu_s();
	end = t0 + (uint64_t)seconds * 1000000000ULL;
	do {
		int i;

		for (i = 0; i < 65536; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			area[x & (len - 1)] = (unsigned char)x;
		}
		n += 65536;
		now = mono_ns();
	} while (now < end);
	/* Per second of wall clock, and per second it was on a CPU. */
	rate[0] = n / ((now - t0) / 1e9);
	rate[1] = n / (process_cpu_s() - cpu0);
	if (write(to_parent, rate, sizeof(rate)) != sizeof(rate))
		_exit(4);
	_exit(0);
}

/* PAGEMAP_SCAN calls of the monitor that write-protect (WP_MATCHING). */
static unsigned long nr_protect_calls;

static int counting_ioctl(int fd, unsigned long req, void *arg)
{
	if (req == UDAMON_PAGEMAP_SCAN &&
	    ((struct udamon_pm_scan_arg *)arg)->flags &
		    UDAMON_PM_SCAN_WP_MATCHING)
		nr_protect_calls++;
	return ioctl(fd, req, arg);
}

struct ab_result {
	double protects; /* protect ioctls/s */
	double rate; /* writes/s */
	double cpu_rate; /* writes per second on a CPU */
	double cpu; /* monitor CPU, fraction of one CPU */
	double faults; /* target minor faults/s while measured */
	unsigned int min_regions, max_regions;
};

static int ab_run(unsigned long len, bool monitored, int seconds, long budget,
		  struct ab_result *res)
{
	int up[2], down[2], status;
	unsigned long addr;
	struct damon_ctx *ctx = NULL;
	unsigned long long f0 = 0;
	pid_t pid;
	int err = -1;

	memset(res, 0, sizeof(*res));
	if (pipe(up) || pipe(down))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		ab_writer(len, monitored, seconds, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	if (read(up[0], &addr, sizeof(addr)) != sizeof(addr))
		goto out;
	if (monitored) {
		struct damon_addr_range rr = { addr, addr + len };
		struct damon_target *t = damon_new_target();

		ctx = damon_new_ctx();
		if (!ctx || !t || damon_select_ops(ctx, DAMON_OPS_FVADDR) ||
		    damon_set_access_source(ctx, "uffd-wp")) {
			free(t);
			goto out;
		}
		if (budget >= 0 &&
		    damon_set_overhead_budget(ctx, (unsigned long)budget))
			goto out;
		t->pid = pid;
		damon_add_target(ctx, t);
		if (damon_set_regions(t, &rr, 1, PAGE) ||
		    damon_manual_start(ctx))
			goto out;
	}
	f0 = proc_minflt(pid);
	if (write(down[1], "g", 1) != 1)
		goto out;
	if (ctx) {
		uint64_t end = mono_ns() + (uint64_t)seconds * 1000000000ULL;
		uint64_t warm = mono_ns() + 500000000ULL;
		double c0 = thread_cpu_us();
		struct damon_target *t;

		res->min_regions = UINT_MAX;
		nr_protect_calls = 0;
		udamon__sys.ioctl = counting_ioctl;
		while (mono_ns() < end) {
			unsigned int nr = 0;

			if (damon_manual_step(ctx))
				break;
			damon_for_each_target(t, ctx)
				nr += damon_nr_regions(t);
			if (mono_ns() < warm)
				continue;
			if (nr < res->min_regions)
				res->min_regions = nr;
			if (nr > res->max_regions)
				res->max_regions = nr;
		}
		res->cpu = (thread_cpu_us() - c0) / 1e6 / seconds;
		res->protects = (double)nr_protect_calls / seconds;
		udamon__sys_reset();
	} else {
		usleep((useconds_t)seconds * 1000000);
	}
	res->faults = (double)(proc_minflt(pid) - f0) / seconds;
	{
		double rate[2];

		if (read(up[0], rate, sizeof(rate)) == sizeof(rate)) {
			res->rate = rate[0];
			res->cpu_rate = rate[1];
			err = 0;
		}
	}
out:
	if (ctx) {
		damon_manual_stop(ctx);
		damon_destroy_ctx(ctx);
	}
	close(up[0]);
	close(down[1]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void bench_ab(int seconds, int runs, long budget)
{
	static const unsigned long mibs[] = { 64, 256, 1024, 4096 };
	size_t k;

	printf("## A/B at default attributes (random 1-byte writes, %d s per run, %d pairs, budget %ld)\n\n",
	       seconds, runs, budget);
	printf("| target | unmonitored Mwrites/s | monitored Mwrites/s | ratio (median of pairs) | ratios min..max | ratio per target CPU s | monitor CPU | protects/s | target faults/s | regions min..max |\n");
	printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
	for (k = 0; k < sizeof(mibs) / sizeof(mibs[0]); k++) {
		double plain[32], mon[32], ratio[32], cpu[32], flt[32];
		double cratio[32], prot[32];
		unsigned int rmin = UINT_MAX, rmax = 0;
		double rlo = 1e9, rhi = 0;
		int i, n = 0;

		for (i = 0; i < runs && i < 32; i++) {
			struct ab_result a, b;

			/* Alternate which goes first, against drift. */
			if (i % 2) {
				if (ab_run(mibs[k] << 20, true, seconds, budget,
					   &b) ||
				    ab_run(mibs[k] << 20, false, seconds,
					   budget, &a))
					continue;
			} else {
				if (ab_run(mibs[k] << 20, false, seconds,
					   budget, &a) ||
				    ab_run(mibs[k] << 20, true, seconds, budget,
					   &b))
					continue;
			}
			plain[n] = a.rate / 1e6;
			mon[n] = b.rate / 1e6;
			ratio[n] = a.rate > 0 ? b.rate / a.rate : 0;
			cratio[n] = a.cpu_rate > 0 ? b.cpu_rate / a.cpu_rate :
						     0;
			cpu[n] = b.cpu * 100;
			flt[n] = b.faults;
			prot[n] = b.protects;
			if (ratio[n] < rlo)
				rlo = ratio[n];
			if (ratio[n] > rhi)
				rhi = ratio[n];
			if (b.min_regions < rmin)
				rmin = b.min_regions;
			if (b.max_regions > rmax)
				rmax = b.max_regions;
			n++;
		}
		if (!n) {
			printf("| %lu MiB | failed | | | | | | | | |\n",
			       mibs[k]);
			continue;
		}
		printf("| %lu MiB | %.1f | %.1f | %.2f | %.2f..%.2f | %.2f | %.1f %% | %.0f | %.0f | %u..%u |\n",
		       mibs[k], median(plain, n), median(mon, n),
		       median(ratio, n), rlo, rhi, median(cratio, n),
		       median(cpu, n), median(prot, n), median(flt, n), rmin,
		       rmax);
		fflush(stdout);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 3;

	if (argc > 1 && !strcmp(argv[1], "ab")) {
		seconds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 4;
		bench_ab(seconds > 0 ? seconds : 4,
			 argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5,
			 argc > 4 ? strtol(argv[4], NULL, 10) : -1);
		return 0;
	}
	if (seconds <= 0)
		seconds = 3;
	bench_per_sample();
	bench_slowdown(seconds);
	bench_by_size(seconds);
	return 0;
}
