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
 */
#include <udamon/damon.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 3;

	if (seconds <= 0)
		seconds = 3;
	bench_per_sample();
	bench_slowdown(seconds);
	bench_by_size(seconds);
	return 0;
}
