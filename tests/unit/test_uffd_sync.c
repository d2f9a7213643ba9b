// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The synchronous userfaultfd write-protect source (uffd-wp-sync): on a
 * real child process that registers its memory on a synchronous
 * userfaultfd of its own (as the preload library does before Linux 6.7),
 * taken with pidfd_getfd -- write faults recorded and let go, pages that
 * were absent when protected and faulted in meanwhile, the child never
 * left blocked when the source closes, and a fvaddr context that finds the
 * hot area.  The preload library's watchdog lets a launched workload go
 * on when its monitor vanished with a page protected.  Then the descriptor search and the start checks against a
 * fake kernel behind the sys seam (fdinfo parsing, async and blocking
 * descriptors, no ptrace rights, no pidfd_getfd).  The real cases skip
 * with the reason when the kernel lacks userfaultfd write-protect or
 * pidfd_getfd.
 */
#include "../lib/tap.h"

#include "ops/vaddr.h"
#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define NR_PAGES 256 /* the child's registered area */
#define NR_HOT 64 /* pages [0, NR_HOT) written all the time */
#define NR_PRESENT 192 /* pages [0, NR_PRESENT) touched at start */
#define ABSENT_PAGE 200 /* faulted in on request */

/* Shared with the child, never registered. */
struct child_shm {
	atomic_ulong loops; /* passes over the hot pages */
	atomic_int cmd; /* 1: touch ABSENT_PAGE */
	atomic_int ack;
	atomic_int ready; /* 1 registered, -errno failed */
	unsigned long area;
};

static void child_main(struct child_shm *shm)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	volatile char *area;
	int fd;

	area = mmap(NULL, NR_PAGES * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		goto fail;
	for (unsigned long i = 0; i < NR_PRESENT; i++)
		area[i * PAGE] = 1;
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) ||
	    !(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP))
		goto fail;
	reg.range.start = (unsigned long)area;
	reg.range.len = NR_PAGES * PAGE;
	if (ioctl(fd, UFFDIO_REGISTER, &reg))
		goto fail;
	shm->area = (unsigned long)area;
	atomic_store(&shm->ready, 1);
	for (;;) {
		for (unsigned long i = 0; i < NR_HOT; i++)
			area[i * PAGE]++;
		atomic_fetch_add(&shm->loops, 1);
		if (atomic_load(&shm->cmd) == 1 && !atomic_load(&shm->ack)) {
			area[ABSENT_PAGE * PAGE] = 1;
			atomic_store(&shm->ack, 1);
		}
	}
fail:
	atomic_store(&shm->ready, errno ? -errno : -EIO);
	_exit(1);
}

static struct child_shm *shm;
static pid_t child = -1;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Start the child; skip (false) if this kernel cannot do what it needs. */
static bool start_child(void)
{
	int fd, got = -1, i;

	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		shm = NULL;
		CHECK(!"mmap of the shared page");
		return false;
	}
	memset(shm, 0, sizeof(*shm));
	child = fork();
	if (child < 0) {
		CHECK(!"fork");
		return false;
	}
	if (child == 0)
		child_main(shm);
	for (i = 0; i < 500 && !atomic_load(&shm->ready); i++)
		sleep_ms(10);
	if (atomic_load(&shm->ready) != 1) {
		char why[128];

		snprintf(why, sizeof(why),
			 "userfaultfd write-protect unavailable here: %s",
			 strerror(-atomic_load(&shm->ready)));
		tap_skip(why);
		return false;
	}
	fd = udamon__sys.pidfd_open(child, 0);
	if (fd >= 0)
		got = udamon__sys.pidfd_getfd(fd, 0, 0);
	if (got >= 0)
		close(got);
	if (fd < 0 || got < 0) {
		char why[128];

		snprintf(why, sizeof(why), "pidfd_getfd unavailable here: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		tap_skip(why);
		return false;
	}
	close(fd);
	return true;
}

static void stop_child(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	child = -1;
	if (shm)
		munmap(shm, sizeof(*shm));
	shm = NULL;
}

/* Whether the child's hot loop advances within two seconds. */
static bool child_runs(void)
{
	unsigned long before = atomic_load(&shm->loops);

	for (int i = 0; i < 200; i++) {
		sleep_ms(10);
		if (atomic_load(&shm->loops) > before + 2)
			return true;
	}
	return false;
}

static unsigned long page_addr(unsigned long i)
{
	return shm->area + i * PAGE;
}

static void test_sync_protocol(void)
{
	struct udamon_uffd_sync *s = NULL;
	char path[64];
	int fdnum = -1, pidfd, pagemap;

	if (!start_child())
		goto out;
	CHECK_EQ(udamon__uffd_sync_find(child, &fdnum), 1);
	CHECK(fdnum >= 0);
	pidfd = udamon__sys.pidfd_open(child, 0);
	REQUIRE(pidfd >= 0);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", child);
	pagemap = open(path, O_RDONLY | O_CLOEXEC);
	REQUIRE(pagemap >= 0);
	REQUIRE(udamon__uffd_sync_open(child, pidfd, &s) == 0);

	/* A hot page is written, a cold one not, an absent one not yet. */
	CHECK_EQ(udamon__uffd_sync_protect(s, pagemap, page_addr(3)), 0);
	CHECK_EQ(udamon__uffd_sync_protect(s, pagemap, page_addr(100) + 17), 0);
	CHECK_EQ(udamon__uffd_sync_protect(s, pagemap, page_addr(ABSENT_PAGE)),
		 0);
	sleep_ms(50);
	CHECK_EQ(udamon__uffd_sync_accessed(s, pagemap, page_addr(3) + 5), 1);
	CHECK_EQ(udamon__uffd_sync_accessed(s, pagemap, page_addr(100)), 0);
	CHECK_EQ(udamon__uffd_sync_accessed(s, pagemap, page_addr(ABSENT_PAGE)),
		 0);
	/* A page never protected reads as not accessed. */
	CHECK_EQ(udamon__uffd_sync_accessed(s, pagemap, page_addr(5)), 0);
	CHECK(udamon__uffd_sync_nr_faults(s) >= 1);
	CHECK_EQ(udamon__uffd_sync_dead(s), 0);

	/* The child touches the absent page: a fault-in counts. */
	atomic_store(&shm->cmd, 1);
	for (int i = 0; i < 300 && !atomic_load(&shm->ack); i++)
		sleep_ms(10);
	CHECK_EQ(atomic_load(&shm->ack), 1);
	CHECK_EQ(udamon__uffd_sync_accessed(s, pagemap, page_addr(ABSENT_PAGE)),
		 1);
	CHECK_EQ(udamon__uffd_sync_end_sample(s), 0);
	/* After the sample: forgotten, and the child runs freely. */
	CHECK_EQ(udamon__uffd_sync_accessed(s, pagemap, page_addr(3)), 0);
	CHECK(child_runs());

	/* Many samples in a row, each page found written each time: two
	 * passes of the child's loop after the protection wrote them all. */
	for (int round = 0; round < 20; round++) {
		for (unsigned long i = 0; i < NR_HOT; i += 8)
			udamon__uffd_sync_protect(s, pagemap, page_addr(i));
		CHECK(child_runs());
		for (unsigned long i = 0; i < NR_HOT; i += 8)
			if (udamon__uffd_sync_accessed(s, pagemap,
						       page_addr(i)) != 1)
				CHECK_EQ(round * 1000 + (int)i, -1);
		udamon__uffd_sync_end_sample(s);
	}

	/* Closed with protections in place: nothing stays blocked. */
	for (unsigned long i = 0; i < NR_HOT; i++)
		udamon__uffd_sync_protect(s, pagemap, page_addr(i));
	udamon__uffd_sync_close(s);
	s = NULL;
	CHECK(child_runs());
	close(pagemap);
	close(pidfd);
out:
	udamon__uffd_sync_close(s);
	stop_child();
}

struct sums {
	unsigned long hot_start, hot_end;
	unsigned long hot_acc, cold_acc, hot_sz, cold_sz;
};

static void sum_event(void *arg, struct damon_ctx *ctx,
		      const struct damon_event *ev)
{
	struct sums *s = arg;
	unsigned long sz = ev->end - ev->start;

	if (ev->type != DAMON_EVENT_AGGREGATED)
		return;
	if (ev->start >= s->hot_start && ev->end <= s->hot_end) {
		s->hot_acc += (unsigned long)ev->nr_accesses * sz;
		s->hot_sz += sz;
	} else if (ev->start >= s->hot_end) {
		s->cold_acc += (unsigned long)ev->nr_accesses * sz;
		s->cold_sz += sz;
	}
}

/* A fvaddr context on the child: the written area is hot, the rest not. */
static void test_sync_ctx(void)
{
	struct damon_addr_range ranges[2];
	struct sums sums = { 0 };
	struct damon_attrs attrs;
	struct damon_target *t;
	struct damon_ctx *ctx = NULL;
	char why[512];
	int rc;

	if (!start_child())
		goto out;
	ctx = damon_new_ctx();
	REQUIRE(ctx);
	REQUIRE(damon_select_ops(ctx, DAMON_OPS_FVADDR) == 0);
	attrs = ctx->attrs;
	attrs.sample_interval = 5000;
	attrs.aggr_interval = 100000;
	attrs.min_nr_regions = 10;
	attrs.max_nr_regions = 100;
	REQUIRE(damon_set_attrs(ctx, &attrs) == 0);
	t = damon_new_target();
	REQUIRE(t);
	t->pid = child;
	damon_add_target(ctx, t);
	ranges[0].start = page_addr(0);
	ranges[0].end = page_addr(NR_HOT);
	ranges[1].start = page_addr(NR_HOT);
	ranges[1].end = page_addr(NR_PRESENT);
	REQUIRE(damon_set_regions(t, ranges, 2, DAMON_MIN_REGION_SZ) == 0);
	CHECK_EQ(damon_set_access_source(ctx, "uffd-wp-sync"), 0);
	CHECK_STREQ(damon_access_source_name(ctx),
		    "uffd-wp-sync (writes only)");
	rc = damon_vaddr_check_ctx(ctx, why, sizeof(why));
	if (rc)
		tap_diag("check: %s", why);
	CHECK_EQ(rc, 0);
	sums.hot_start = ranges[0].start;
	sums.hot_end = ranges[0].end;
	damon_set_event_fn(ctx, sum_event, &sums);
	REQUIRE(damon_manual_start(ctx) == 0);
	damon_manual_run_for(ctx, 2000000);
	damon_manual_stop(ctx);
	tap_diag("hot %lu B x acc, cold %lu B x acc (sizes %lu, %lu)",
		 sums.hot_acc, sums.cold_acc, sums.hot_sz, sums.cold_sz);
	CHECK(sums.hot_sz > 0);
	/* Per byte, the written area must read far hotter than the rest. */
	CHECK(sums.hot_acc / (sums.hot_sz / PAGE + 1) >
	      4 * (sums.cold_acc / (sums.cold_sz / PAGE + 1)) + 1);
	/* Stopped: the context holds no protection the child could hit. */
	CHECK(child_runs());
out:
	if (ctx)
		damon_destroy_ctx(ctx);
	stop_child();
}

/* Where the built programs are: B/tests/test_x -> B/@rel. */
static int build_path(char *buf, size_t len, const char *rel)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -1;
	self[n] = '\0';
	for (int i = 0; i < 2; i++) {
		slash = strrchr(self, '/');
		if (!slash)
			return -1;
		*slash = '\0';
	}
	if ((size_t)snprintf(buf, len, "%s/%s", self, rel) >= len)
		return -1;
	return access(buf, R_OK) ? -1 : 0;
}

/* utime + stime of @pid in clock ticks, or -1. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the name may hold blanks */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/*
 * A monitor that vanishes with a page protected (closing its copy does
 * not wake the writer: the target's own descriptor keeps the context)
 * must not stop a preloaded workload for good: the watchdog serves it.
 */
static void test_preload_watchdog(void)
{
	static const char cfg[] = "hot, 8388608\n"
				  "\n"
				  "run\n"
				  "60000\n"
				  "hot, 0, 4096, 1, wo\n";
	char wl[PATH_MAX], pre[PATH_MAX], cfgpath[] = "/tmp/udamon-uws-XXXXXX";
	char env[PATH_MAX + 32], line[256];
	unsigned long hs = 0, he = 0;
	long t0, t1, t2;
	int fd, pipefd[2], pidfd, uffd, fdnum = -1;
	FILE *out;
	pid_t pid;

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
		setenv("UDAMON_PRELOAD_WP", "sync", 1);
		setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(wl, wl, "--print-regions", cfgpath, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	out = fdopen(pipefd[0], "r");
	REQUIRE(out);
	if (fgets(line, sizeof(line), out))
		sscanf(line, "region hot: %lx-%lx", &hs, &he);
	CHECK(hs && he > hs);
	for (int i = 0; i < 100 && hs; i++) {
		if (udamon__uffd_sync_find(pid, &fdnum) == 1)
			break;
		sleep_ms(20);
	}
	pidfd = udamon__sys.pidfd_open(pid, 0);
	uffd = pidfd >= 0 && fdnum >= 0 ?
		       udamon__sys.pidfd_getfd(pidfd, fdnum, 0) :
		       -1;
	if (!hs || uffd < 0) {
		tap_skip(fdnum < 0 ?
				 "no synchronous userfaultfd in the workload" :
				 "pidfd_getfd unavailable here");
		goto out;
	}
	/* Let its registration cover the block (its rescan or mmap hook). */
	sleep_ms(300);
	for (unsigned long a = hs; a < he; a += PAGE) {
		struct uffdio_writeprotect wp = {
			.range = { .start = a, .len = PAGE },
			.mode = UFFDIO_WRITEPROTECT_MODE_WP,
		};

		ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
	}
	close(uffd); /* the monitor is gone */
	sleep_ms(200);
	t0 = cpu_ticks(pid);
	sleep_ms(300);
	t1 = cpu_ticks(pid);
	/* Blocked on the protection (CPU time stands still)... */
	tap_diag("workload CPU ticks: %ld over 300 ms while blocked", t1 - t0);
	CHECK(t1 - t0 <= 5);
	/* ... until the watchdog's second is over: then it runs again. */
	sleep_ms(2500);
	t2 = cpu_ticks(pid);
	tap_diag("workload CPU ticks: %ld over the next 2.5 s", t2 - t1);
	CHECK(t2 - t1 >= 30);
out:
	if (pidfd >= 0)
		close(pidfd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fclose(out);
	unlink(cfgpath);
}

/* ---- against a fake kernel ---- */

#define FPID 4343

static struct {
	const char *status, *fdinfo3, *fdinfo5;
	int readlink_errno; /* of /proc/FPID/fd/N */
	int getfd_errno;
	int nr_getfd;
	const char *text;
	size_t pos;
} fk;

static int fk_open(const char *path, int flags, mode_t mode)
{
	char buf[64];

	fk.text = NULL;
	snprintf(buf, sizeof(buf), "/proc/%d/status", FPID);
	if (!strcmp(path, buf))
		fk.text = fk.status;
	snprintf(buf, sizeof(buf), "/proc/%d/fdinfo/3", FPID);
	if (!strcmp(path, buf))
		fk.text = fk.fdinfo3;
	snprintf(buf, sizeof(buf), "/proc/%d/fdinfo/5", FPID);
	if (!strcmp(path, buf))
		fk.text = fk.fdinfo5;
	if (!fk.text) {
		errno = ENOENT;
		return -1;
	}
	fk.pos = 0;
	return 900;
}

static ssize_t fk_read(int fd, void *buf, size_t len)
{
	size_t left = strlen(fk.text) - fk.pos;

	if (len > left)
		len = left;
	memcpy(buf, fk.text + fk.pos, len);
	fk.pos += len;
	return (ssize_t)len;
}

static int fk_close(int fd)
{
	return 0;
}

static ssize_t fk_readlink(const char *path, char *buf, size_t len)
{
	char p3[64], p5[64], p1[64];
	const char *link = NULL;

	snprintf(p1, sizeof(p1), "/proc/%d/fd/1", FPID);
	snprintf(p3, sizeof(p3), "/proc/%d/fd/3", FPID);
	snprintf(p5, sizeof(p5), "/proc/%d/fd/5", FPID);
	if (fk.readlink_errno) {
		errno = fk.readlink_errno;
		return -1;
	}
	if (!strcmp(path, p1))
		link = "/dev/null";
	else if ((!strcmp(path, p3) && fk.fdinfo3) ||
		 (!strcmp(path, p5) && fk.fdinfo5))
		link = "anon_inode:[userfaultfd]";
	if (!link) {
		errno = ENOENT;
		return -1;
	}
	strncpy(buf, link, len);
	return (ssize_t)(strlen(link) < len ? strlen(link) : len);
}

static const char status_text[] = "Name:\tx\nFDSize:\t64\nPid:\t4343\n";
/* 04002: O_RDWR | O_NONBLOCK; features 0x80000000 (initialized, sync). */
static const char fdinfo_sync[] = "pos:\t0\nflags:\t02004002\nmnt_id:\t15\n"
				  "ino:\t1057\npending:\t0\ntotal:\t0\n"
				  "API:\taa:80000000:8000000000000000\n";
static const char fdinfo_async[] = "pos:\t0\nflags:\t02004002\nmnt_id:\t15\n"
				   "ino:\t1057\npending:\t0\ntotal:\t0\n"
				   "API:\taa:8000a000:8000000000000000\n";
static const char fdinfo_blocking[] = "pos:\t0\nflags:\t02000002\n"
				      "mnt_id:\t15\nino:\t1057\npending:\t0\n"
				      "total:\t0\nAPI:\taa:80000000:0\n";

static void fk_install(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.status = status_text;
	udamon__sys.open = fk_open;
	udamon__sys.read = fk_read;
	udamon__sys.close = fk_close;
	udamon__sys.readlink = fk_readlink;
}

static void test_parse_fdinfo(void)
{
	unsigned long long features = 0;
	unsigned long flags = 0;

	CHECK_EQ(udamon__uffd_parse_fdinfo(fdinfo_sync, &flags, &features), 0);
	CHECK_EQ(flags, 02004002UL);
	CHECK_EQ(features, 0x80000000ULL);
	CHECK_EQ(udamon__uffd_parse_fdinfo(fdinfo_async, &flags, &features), 0);
	CHECK(features & UDAMON_UFFD_FEATURE_WP_ASYNC);
	CHECK_EQ(udamon__uffd_parse_fdinfo("pos:\t0\nflags:\t02\n", &flags,
					   &features),
		 -EINVAL);
	CHECK_EQ(udamon__uffd_parse_fdinfo("flags:\tzz\nAPI:\taa:1:2\n", &flags,
					   &features),
		 -EINVAL);
	CHECK_EQ(udamon__uffd_parse_fdinfo("flags:\t02\nAPI:\taa:q:2\n", &flags,
					   &features),
		 -EINVAL);
}

static void test_find_fake(void)
{
	int fdnum = -1;

	fk_install();
	/* No userfaultfd at all. */
	CHECK_EQ(udamon__uffd_sync_find(FPID, &fdnum), 0);
	/* An async one (the PAGEMAP_SCAN source's) is not ours. */
	fk.fdinfo3 = fdinfo_async;
	CHECK_EQ(udamon__uffd_sync_find(FPID, &fdnum), 0);
	/* A blocking one cannot be polled. */
	fk.fdinfo3 = fdinfo_blocking;
	CHECK_EQ(udamon__uffd_sync_find(FPID, &fdnum), -EWOULDBLOCK);
	/* Beside them, a synchronous non-blocking one is found. */
	fk.fdinfo5 = fdinfo_sync;
	CHECK_EQ(udamon__uffd_sync_find(FPID, &fdnum), 1);
	CHECK_EQ(fdnum, 5);
	fk.fdinfo3 = fdinfo_sync;
	CHECK_EQ(udamon__uffd_sync_find(FPID, &fdnum), 1);
	CHECK_EQ(fdnum, 3);
	/* No ptrace rights: the fd links do not resolve. */
	fk.readlink_errno = EACCES;
	CHECK_EQ(udamon__uffd_sync_find(FPID, &fdnum), -EACCES);
	udamon__sys_reset();
}

static void test_names(void)
{
	struct damon_ctx *ctx = damon_new_ctx();

	REQUIRE(ctx);
	REQUIRE(damon_select_ops(ctx, DAMON_OPS_VADDR) == 0);
	CHECK_EQ(damon_set_access_source(ctx, "uffd-wp-sync"), 0);
	CHECK_STREQ(damon_access_source_name(ctx),
		    "uffd-wp-sync (writes only)");
	CHECK_EQ(damon_set_access_source(ctx, "uffd-wp-synch"), -EINVAL);
	CHECK_EQ(damon_set_access_source(ctx, "uffd-wp"), 0);
	CHECK_STREQ(damon_access_source_name(ctx), "uffd-wp (writes only)");
	damon_destroy_ctx(ctx);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_parse_fdinfo),
	TAP_CASE(test_find_fake),
	TAP_CASE(test_names),
	TAP_CASE_TIMEOUT(test_sync_protocol, 60),
	TAP_CASE_TIMEOUT(test_sync_ctx, 60),
	TAP_CASE_TIMEOUT(test_preload_watchdog, 60),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
