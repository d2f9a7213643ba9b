// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Attaching the uffd-wp access source to running processes udamon did not
 * launch (src/ops/attach.c), on this machine's real kernel, and the
 * preload library stepping aside for a program's own userfaultfd.
 *
 * The target is a forked multi-threaded writer: two threads rewrite and
 * verify a hot area, a checksummed data area is never written after its
 * fill, and the main thread (the one attaching borrows) sits blocked in
 * read() on a pipe, checking every byte the test sends.  Any register or
 * restart damaged by the injection shows as a wrong byte, a wrong read
 * result, a checksum error or a crash.  x86_64 only; each case skips with
 * the reason when the kernel lacks what it needs.
 */
#include "../lib/tap.h"

#include "ops/attach.h"
#include "ops/vaddr.h"
#include "sys/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MiB (1UL << 20)
#define HOT_SZ (24 * MiB)
#define IDLE_SZ (72 * MiB)
#define DATA_SZ (4 * MiB)
#define NR_WRITERS 2

/* State the writer shares with the test (a MAP_SHARED page). */
struct writer_shared {
	atomic_ulong passes[NR_WRITERS]; /* verified passes per thread */
	atomic_ulong bytes_ok; /* pipe bytes read and checked */
	atomic_int errors; /* any check that failed */
	atomic_int read_bad; /* a read() result that was wrong */
	unsigned long hot, idle; /* where the areas are */
	atomic_int ready;
};

struct writer_arg {
	struct writer_shared *sh;
	volatile uint64_t *area;
	unsigned long nr_pages;
	int idx;
};

static uint64_t data_sum(const uint64_t *d, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = s * 31 + d[i];
	return s;
}

/* Rewrite one word per page of its half, then check all of them. */
static void *writer_thread(void *p)
{
	struct writer_arg *a = p;
	unsigned long words = PAGE / sizeof(uint64_t);

	for (uint64_t pass = 1;; pass++) {
		for (unsigned long i = 0; i < a->nr_pages; i++)
			a->area[i * words] = pass * 1000003 + i;
		for (unsigned long i = 0; i < a->nr_pages; i++)
			if (a->area[i * words] != pass * 1000003 + i)
				atomic_fetch_add(&a->sh->errors, 1);
		atomic_fetch_add(&a->sh->passes[a->idx], 1);
	}
	return NULL;
}

/* The target process: never returns. */
static void __attribute__((noreturn))
writer_main(struct writer_shared *sh, int rfd)
{
	struct writer_arg args[NR_WRITERS];
	pthread_t th[NR_WRITERS];
	uint64_t *data, sum;
	char *hot, *idle;
	unsigned char expect = 0;

	/* Start clean: no descriptor of the test (its userfaultfd...). */
	for (int fd = 3; fd < 1024; fd++)
		if (fd != rfd)
			close(fd);

	hot = mmap(NULL, HOT_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	idle = mmap(NULL, IDLE_SZ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	data = mmap(NULL, DATA_SZ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hot == MAP_FAILED || idle == MAP_FAILED || data == MAP_FAILED)
		_exit(2);
	memset(idle, 1, IDLE_SZ);
	for (size_t i = 0; i < DATA_SZ / sizeof(uint64_t); i++)
		data[i] = i * 2654435761ULL;
	sum = data_sum(data, DATA_SZ / sizeof(uint64_t));
	sh->hot = (unsigned long)hot;
	sh->idle = (unsigned long)idle;
	for (int i = 0; i < NR_WRITERS; i++) {
		args[i] = (struct writer_arg){
			sh, (volatile uint64_t *)(hot + i * (HOT_SZ / 2)),
			HOT_SZ / 2 / PAGE, i
		};
		if (pthread_create(&th[i], NULL, writer_thread, &args[i]))
			_exit(3);
	}
	atomic_store(&sh->ready, 1);
	/* The main thread: blocked in read() nearly all the time. */
	for (;;) {
		unsigned char b;
		ssize_t n = read(rfd, &b, 1);

		if (n == 0)
			_exit(0); /* the test closed the pipe */
		if (n != 1) {
			atomic_fetch_add(&sh->read_bad, 1);
			continue;
		}
		if (b != expect++)
			atomic_fetch_add(&sh->errors, 1);
		if (data_sum(data, DATA_SZ / sizeof(uint64_t)) != sum)
			atomic_fetch_add(&sh->errors, 1);
		atomic_fetch_add(&sh->bytes_ok, 1);
	}
}

struct writer {
	pid_t pid;
	int wfd;
	unsigned char next;
	struct writer_shared *sh;
};

static int writer_start(struct writer *w)
{
	int p[2];
	struct timespec ms = { 0, 1000000 };

	w->sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w->sh == MAP_FAILED || pipe(p))
		return -1;
	memset(w->sh, 0, sizeof(*w->sh));
	w->next = 0;
	w->pid = fork();
	if (w->pid < 0)
		return -1;
	if (w->pid == 0) {
		close(p[1]);
		writer_main(w->sh, p[0]);
	}
	close(p[0]);
	w->wfd = p[1];
	for (int i = 0; i < 5000 && !atomic_load(&w->sh->ready); i++)
		nanosleep(&ms, NULL);
	return atomic_load(&w->sh->ready) ? 0 : -1;
}

static unsigned long writer_passes(struct writer *w)
{
	unsigned long s = 0;

	for (int i = 0; i < NR_WRITERS; i++)
		s += atomic_load(&w->sh->passes[i]);
	return s;
}

/*
 * Send @n bytes to the main thread and wait until it checked them all.
 * Return: whether it did, within two seconds.
 */
static bool writer_talk(struct writer *w, int n)
{
	struct timespec ms = { 0, 1000000 };
	unsigned long want = atomic_load(&w->sh->bytes_ok) + (unsigned long)n;

	for (int i = 0; i < n; i++) {
		unsigned char b = w->next++;

		if (write(w->wfd, &b, 1) != 1)
			return false;
	}
	for (int i = 0; i < 2000; i++) {
		if (atomic_load(&w->sh->bytes_ok) >= want)
			return true;
		nanosleep(&ms, NULL);
	}
	return false;
}

/* Whether the writer threads make progress past @p0 within 3 s. */
static bool writer_progresses(struct writer *w, unsigned long p0)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < 3000; i++) {
		if (writer_passes(w) > p0)
			return true;
		nanosleep(&ms, NULL);
	}
	return false;
}

static void writer_stop(struct writer *w)
{
	int st;

	kill(w->pid, SIGKILL);
	waitpid(w->pid, &st, 0);
	close(w->wfd);
	munmap(w->sh, PAGE);
}

/* How many userfaultfds the process @pid holds in its fd table. */
static int count_uffds(pid_t pid)
{
	char path[64], link[PATH_MAX], target[128];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strstr(target, "userfaultfd"))
			n++;
	}
	closedir(d);
	return n;
}

/* How many VMAs of @pid are registered for uffd-wp ("uw" in smaps). */
static int count_uw_vmas(pid_t pid)
{
	char path[64], *text, *line;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	if (udamon__sys_read_file(path, &text, NULL, 64UL << 20))
		return -1;
	for (line = text; (line = strstr(line, "VmFlags:")); line++) {
		char *eol = strchr(line, '\n');
		char *uw = strstr(line, " uw");

		if (uw && (!eol || uw < eol))
			n++;
	}
	free(text);
	return n;
}

/* The state letter of @pid in /proc/PID/stat, or '?'. */
static char proc_state(pid_t pid)
{
	char path[64], *text, *rp, c = '?';

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (udamon__sys_read_file(path, &text, NULL, 4096))
		return c;
	rp = strrchr(text, ')');
	if (rp && rp[1] == ' ')
		c = rp[2];
	free(text);
	return c;
}

/* Minor faults of @pid so far (/proc/PID/stat field 10). */
static unsigned long proc_minflt(pid_t pid)
{
	char path[64], *text, *p;
	unsigned long v = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (udamon__sys_read_file(path, &text, NULL, 4096))
		return 0;
	p = strrchr(text, ')');
	/* After ")": state ppid pgrp session tty tpgid flags minflt. */
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %lu", &v) != 1)
		v = 0;
	free(text);
	return v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Skip unless this is x86_64 with userfaultfd WP_ASYNC. */
static bool need_attach(void)
{
#if !defined(__x86_64__)
	tap_skip("attaching is x86_64 only");
	return false;
#else
	int fd = udamon__uffd_self_fd();

	if (fd < 0) {
		char why[160];

		snprintf(why, sizeof(why),
			 "userfaultfd WP_ASYNC unavailable here: %s",
			 strerror(-fd));
		tap_skip(why);
		return false;
	}
	return true;
#endif
}

static void test_find_syscall(void)
{
	static const unsigned char none[] = { 0x90, 0x0f, 0x90, 0x05, 0x0f };
	static const unsigned char mid[] = { 0xb8, 0x0f, 0x05, 0x00, 0xc3 };
	static const unsigned char two[] = { 0x0f, 0x0f, 0x05, 0x0f, 0x05 };

	CHECK_EQ(udamon__attach_find_syscall(none, sizeof(none)), -1);
	CHECK_EQ(udamon__attach_find_syscall(mid, sizeof(mid)), 1);
	CHECK_EQ(udamon__attach_find_syscall(two, sizeof(two)), 1);
	/* A pair cut by the end of the buffer is not an instruction. */
	CHECK_EQ(udamon__attach_find_syscall(two, 2), -1);
	CHECK_EQ(udamon__attach_find_syscall(none, 0), -1);
}

/*
 * Attach, look, detach: while attached the target holds no userfaultfd of
 * its own but has uffd-wp VMAs; after the detach neither; the target ran
 * on all along and its blocked read() still returns the right bytes.
 */
static void test_attach_detach_leaves_nothing(void)
{
	struct udamon_attach *a = NULL;
	unsigned long p0, p1, f0, f1;
	struct timespec t0, t1;
	struct writer w;
	char why[384], path[64];
	int rc, pm, i;

	if (!need_attach())
		return;
	REQUIRE(writer_start(&w) == 0);
	CHECK(writer_talk(&w, 3));
	CHECK_EQ(count_uffds(w.pid), 0);
	CHECK_EQ(count_uw_vmas(w.pid), 0);
	p0 = writer_passes(&w);
	f0 = proc_minflt(w.pid);
	sleep_ms(300);
	p1 = writer_passes(&w);
	f1 = proc_minflt(w.pid);
	tap_diag("before attach: %lu passes over %lu MiB, %lu minor faults",
		 p1 - p0, HOT_SZ / MiB, f1 - f0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = udamon__attach_open(w.pid, &a, why, sizeof(why));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc)
		tap_diag("attach: %s", why);
	REQUIRE(rc == 0);
	tap_diag("attach took %.2f ms",
		 (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			 (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	CHECK_EQ(count_uffds(w.pid), 0);
	CHECK(count_uw_vmas(w.pid) >= 3); /* hot, idle, data at least */
	CHECK(count_uffds(getpid()) >= 1);
	p0 = writer_passes(&w);
	f0 = proc_minflt(w.pid);
	sleep_ms(300);
	p1 = writer_passes(&w);
	f1 = proc_minflt(w.pid);
	tap_diag("attached: %lu passes over %lu MiB, %lu minor faults", p1 - p0,
		 HOT_SZ / MiB, f1 - f0);
	CHECK(writer_progresses(&w, p0));
	CHECK(writer_talk(&w, 5));

	/* Protect every hot page as sampling would: writes are seen. */
	snprintf(path, sizeof(path), "/proc/%d/pagemap", w.pid);
	pm = open(path, O_RDONLY | O_CLOEXEC);
	REQUIRE(pm >= 0);
	for (unsigned long off = 0; off < HOT_SZ; off += PAGE)
		CHECK(udamon__vaddr_protect_page(pm, w.sh->hot + off) >= 0);
	for (i = 0;
	     i < 3000 &&
	     udamon__vaddr_page_written(pm, w.sh->hot + HOT_SZ - PAGE) != 1;
	     i++)
		sleep_ms(1);
	CHECK_EQ(udamon__vaddr_page_written(pm, w.sh->hot + HOT_SZ - PAGE), 1);
	for (unsigned long off = 0; off < HOT_SZ; off += PAGE)
		udamon__vaddr_protect_page(pm, w.sh->hot + off);
	close(pm);

	/* Nothing protected, nothing registered after the detach. */
	udamon__attach_close(a);
	CHECK_EQ(count_uffds(w.pid), 0);
	CHECK_EQ(count_uw_vmas(w.pid), 0);
	CHECK(writer_talk(&w, 5));
	/*
	 * The pages protected just before the detach fault no more: the
	 * detach dropped the protection with the registration.
	 */
	p0 = writer_passes(&w);
	f0 = proc_minflt(w.pid);
	sleep_ms(300);
	p1 = writer_passes(&w);
	f1 = proc_minflt(w.pid);
	tap_diag("after detach: %lu passes over %lu MiB, %lu minor faults",
		 p1 - p0, HOT_SZ / MiB, f1 - f0);
	CHECK(writer_progresses(&w, p0));
	CHECK(f1 - f0 < 16);
	CHECK_EQ(atomic_load(&w.sh->errors), 0);
	CHECK_EQ(atomic_load(&w.sh->read_bad), 0);
	CHECK(kill(w.pid, 0) == 0);
	writer_stop(&w);
}

/* A stopped target is attached to and stays stopped. */
static void test_attach_stopped_target(void)
{
	struct udamon_attach *a = NULL;
	struct writer w;
	unsigned long p0;
	char why[384];
	int rc, i;

	if (!need_attach())
		return;
	REQUIRE(writer_start(&w) == 0);
	kill(w.pid, SIGSTOP);
	for (i = 0; i < 1000 && proc_state(w.pid) != 'T'; i++)
		sleep_ms(1);
	REQUIRE(proc_state(w.pid) == 'T');
	rc = udamon__attach_open(w.pid, &a, why, sizeof(why));
	if (rc)
		tap_diag("attach: %s", why);
	REQUIRE(rc == 0);
	CHECK(count_uw_vmas(w.pid) >= 3);
	sleep_ms(50);
	CHECK_EQ(proc_state(w.pid), 'T');
	p0 = writer_passes(&w);
	sleep_ms(100);
	CHECK_EQ(writer_passes(&w), p0); /* still stopped: no progress */
	udamon__attach_close(a);
	sleep_ms(50);
	CHECK_EQ(proc_state(w.pid), 'T');
	CHECK_EQ(count_uw_vmas(w.pid), 0);
	CHECK_EQ(count_uffds(w.pid), 0);
	kill(w.pid, SIGCONT);
	CHECK(writer_talk(&w, 4));
	CHECK(writer_progresses(&w, p0));
	CHECK_EQ(atomic_load(&w.sh->errors), 0);
	CHECK_EQ(atomic_load(&w.sh->read_bad), 0);
	writer_stop(&w);
}

/* Refusals: no such process, no ptrace rights, already traced. */
static void test_attach_refusals(void)
{
	char why[384] = "";
	struct writer w;
	pid_t child;
	int st, rc;

	if (!need_attach())
		return;
	CHECK_EQ(udamon__attach_probe(INT_MAX - 1, why, sizeof(why)), -ESRCH);
	CHECK(udamon__attach_uffd(INT_MAX - 1, why, sizeof(why)) < 0);

	REQUIRE(writer_start(&w) == 0);
	/* Another user may not attach to it. */
	if (getuid() == 0) {
		child = fork();
		REQUIRE(child >= 0);
		if (child == 0) {
			char buf[384];

			if (setgid(65534) || setuid(65534))
				_exit(10);
			rc = udamon__attach_uffd(w.pid, buf, sizeof(buf));
			_exit(rc == -EPERM && strstr(buf, "ptrace") ? 0 : 1);
		}
		REQUIRE(waitpid(child, &st, 0) == child);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* Already traced by us: refused, named. */
	REQUIRE(ptrace(PTRACE_SEIZE, w.pid, NULL, NULL) == 0);
	rc = udamon__attach_probe(w.pid, why, sizeof(why));
	CHECK_EQ(rc, -EPERM);
	CHECK(strstr(why, "already traced") != NULL);
	tap_diag("refusal: %s", why);
	rc = udamon__attach_uffd(w.pid, why, sizeof(why));
	CHECK_EQ(rc, -EPERM);
	ptrace(PTRACE_DETACH, w.pid, NULL, NULL);
	CHECK_EQ(count_uffds(w.pid), 0);
	CHECK(writer_talk(&w, 2));
	writer_stop(&w);
}

/*
 * The monitor is SIGKILLed at random points while it attaches and
 * detaches in a loop: the target runs on, intact, with nothing left.
 */
static void test_monitor_killed_midway(void)
{
	atomic_ulong *nr_attached;
	unsigned long total = 0;
	struct writer w;
	int round, i, st;

	if (!need_attach())
		return;
	REQUIRE(writer_start(&w) == 0);
	nr_attached = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(nr_attached != MAP_FAILED);
	srand((unsigned int)getpid());
	for (round = 0; round < 30; round++) {
		pid_t mon;

		atomic_store(nr_attached, 0);
		mon = fork();
		REQUIRE(mon >= 0);
		if (mon == 0) {
			for (;;) {
				struct udamon_attach *a;
				char why[384];

				if (udamon__attach_open(w.pid, &a, why,
							sizeof(why)) == 0) {
					atomic_fetch_add(nr_attached, 1);
					udamon__attach_close(a);
				}
			}
		}
		sleep_ms(1 + rand() % 25);
		kill(mon, SIGKILL);
		REQUIRE(waitpid(mon, &st, 0) == mon);
		total += atomic_load(nr_attached);
		if (round % 10 == 0)
			CHECK(writer_talk(&w, 1));
	}
	tap_diag("30 monitors killed after %lu completed attaches", total);
	CHECK(total > 0);
	/* A helper may still be finishing; then nothing may be left. */
	for (i = 0; i < 2000 && (count_uffds(w.pid) || count_uw_vmas(w.pid));
	     i++)
		sleep_ms(1);
	CHECK_EQ(count_uffds(w.pid), 0);
	CHECK_EQ(count_uw_vmas(w.pid), 0);
	CHECK(writer_talk(&w, 10));
	CHECK(writer_progresses(&w, writer_passes(&w)));
	CHECK_EQ(atomic_load(&w.sh->errors), 0);
	CHECK_EQ(atomic_load(&w.sh->read_bad), 0);
	CHECK_EQ(proc_state(w.pid) == 'Z', 0);
	munmap(nr_attached, PAGE);
	writer_stop(&w);
}

static struct damon_ctx *wp_ctx(enum damon_ops_id ops, int pid,
				struct damon_target **tp)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_attrs attrs;
	struct damon_target *t;

	if (!ctx)
		return NULL;
	if (damon_select_ops(ctx, ops) ||
	    damon_set_access_source(ctx, "uffd-wp")) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	attrs = ctx->attrs;
	attrs.sample_interval = 5000;
	attrs.aggr_interval = 100000;
	attrs.ops_update_interval = 1000000;
	attrs.min_nr_regions = 10;
	attrs.max_nr_regions = 1000;
	t = damon_new_target();
	if (damon_set_attrs(ctx, &attrs) || !t) {
		free(t);
		damon_destroy_ctx(ctx);
		return NULL;
	}
	t->pid = pid;
	damon_add_target(ctx, t);
	*tp = t;
	return ctx;
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
 * The test: vaddr with the uffd-wp source on a running
 * multi-threaded writer that was not launched under udamon finds its
 * working set (the median, over the second half of a 4 s run, of the bytes
 * of regions seen written) within 20 % of the 24 MiB it writes, next to
 * 72 MiB it never touches again; after the stop nothing is left.
 */
static void test_attached_wss(void)
{
	struct wss_log *log = calloc(1, sizeof(*log));
	const unsigned long written = HOT_SZ;
	struct damon_target *t;
	struct damon_ctx *ctx;
	unsigned long est;
	struct writer w;
	char why[512];
	int rc;

	REQUIRE(log);
	if (!need_attach()) {
		free(log);
		return;
	}
	REQUIRE(writer_start(&w) == 0);
#ifdef __SANITIZE_ADDRESS__
	/*
	 * ASan's shadow mappings (terabytes) make the three regions of the
	 * writer so large that 4 s cannot split them down to its areas:
	 * watch its areas directly.
	 */
	ctx = wp_ctx(DAMON_OPS_FVADDR, w.pid, &t);
	REQUIRE(ctx);
	{
		struct damon_addr_range rr[2] = {
			{ w.sh->hot, w.sh->hot + HOT_SZ },
			{ w.sh->idle, w.sh->idle + IDLE_SZ },
		};

		if (rr[1].start < rr[0].start) {
			rr[0] = (struct damon_addr_range){
				w.sh->idle, w.sh->idle + IDLE_SZ
			};
			rr[1] = (struct damon_addr_range){ w.sh->hot,
							   w.sh->hot + HOT_SZ };
		}
		REQUIRE(damon_set_regions(t, rr, 2, DAMON_MIN_REGION_SZ) == 0);
	}
#else
	ctx = wp_ctx(DAMON_OPS_VADDR, w.pid, &t);
	REQUIRE(ctx);
#endif
	/*
	 * With attaching disabled, accepted as the kernel accepts any live
	 * pid (its memory would read idle), and nothing is attached.
	 */
	REQUIRE(damon_vaddr_set_attach(ctx, false) == 0);
	rc = damon_vaddr_check_ctx(ctx, why, sizeof(why));
	CHECK_EQ(rc, 0);
	CHECK_EQ(count_uw_vmas(w.pid), 0);
	REQUIRE(damon_vaddr_set_attach(ctx, true) == 0);
	rc = damon_vaddr_check_ctx(ctx, why, sizeof(why));
	if (rc)
		tap_diag("check: %s", why);
	CHECK_EQ(rc, 0);
	damon_set_event_fn(ctx, wss_event, log);
	REQUIRE(damon_manual_start(ctx) == 0);
	damon_manual_run_for(ctx, 4000000);
	CHECK_EQ(count_uffds(w.pid), 0);
	CHECK(count_uw_vmas(w.pid) >= 3);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	CHECK_EQ(count_uffds(w.pid), 0);
	CHECK_EQ(count_uw_vmas(w.pid), 0);
	CHECK(writer_talk(&w, 3));
	CHECK_EQ(atomic_load(&w.sh->errors), 0);
	CHECK_EQ(atomic_load(&w.sh->read_bad), 0);
	writer_stop(&w);

	REQUIRE(log->nr >= 6);
	qsort(log->vals + log->nr / 2, log->nr - log->nr / 2,
	      sizeof(log->vals[0]), cmp_ul);
	est = log->vals[log->nr / 2 + (log->nr - log->nr / 2) / 2];
	tap_diag(
		"%u aggregations; working set estimate %lu KiB, written %lu KiB",
		log->nr, est >> 10, written >> 10);
	CHECK(est >= written - written / 5 && est <= written + written / 5);
	free(log);
}

/* Library log lines as TAP diagnostics. */
static void diag_log(void *arg, enum damon_log_level level, const char *msg)
{
	tap_diag("log: %s", msg);
}

/* The program a target executes in test_attach_follows_exec. */
static int late_writer(void)
{
	volatile char *p = mmap(NULL, 8 * MiB, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 2;
	for (unsigned long i = 0;; i = (i + PAGE) % (8 * MiB))
		p[i]++;
}

/*
 * A target that executes a new program while attached: the userfaultfd
 * belongs to the old address space, so an ops update closes it and the
 * next sampling attaches to the new program.
 */
static void test_attach_follows_exec(void)
{
	char self[PATH_MAX], cmd[PATH_MAX + 64];
	struct damon_target *t;
	struct damon_ctx *ctx;
	struct damon_attrs attrs;
	int st, uw_before, uw_after;
	ssize_t n;
	pid_t pid;

	if (!need_attach())
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	REQUIRE(n > 0);
	self[n] = '\0';
	snprintf(cmd, sizeof(cmd), "sleep 0.7; exec '%s' --late-writer", self);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	damon_set_log_fn(diag_log, NULL);
	ctx = wp_ctx(DAMON_OPS_VADDR, pid, &t);
	REQUIRE(ctx);
	attrs = ctx->attrs;
	attrs.ops_update_interval = 100000;
	REQUIRE(damon_set_attrs(ctx, &attrs) == 0);
	REQUIRE(damon_manual_start(ctx) == 0);
	damon_manual_run_for(ctx, 300000);
	uw_before = count_uw_vmas(pid);
	damon_manual_run_for(ctx, 1700000);
	uw_after = count_uw_vmas(pid);
	tap_diag("uw VMAs: %d in the shell, %d after its exec", uw_before,
		 uw_after);
	/* (The shell may have no anonymous memory to register yet.) */
	CHECK(uw_after >= 1); /* the new program's memory, attached again */
	CHECK_EQ(count_uffds(pid), 0);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	CHECK_EQ(count_uw_vmas(pid), 0);
	CHECK_EQ(count_uffds(pid), 0);
	CHECK(kill(pid, 0) == 0);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* ---- item 8: a program with its own userfaultfd under the preload ---- */

#define UPROG_PAGES 64

struct uprog {
	int uffd;
	char *area;
	int nr_copied;
};

/* Serve missing faults: each page arrives filled with its index + 1. */
static void *uprog_handler(void *p)
{
	struct uprog *u = p;
	static char page[PAGE] __attribute__((aligned(4096)));

	while (u->nr_copied < UPROG_PAGES) {
		struct pollfd pfd = { .fd = u->uffd, .events = POLLIN };
		struct uffd_msg msg;
		struct uffdio_copy copy;
		unsigned long idx;

		if (poll(&pfd, 1, 5000) <= 0)
			break;
		if (read(u->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		idx = (msg.arg.pagefault.address - (unsigned long)u->area) /
		      PAGE;
		memset(page, (int)(idx + 1), sizeof(page));
		copy = (struct uffdio_copy){
			.dst = (unsigned long)u->area + idx * PAGE,
			.src = (unsigned long)page,
			.len = PAGE,
		};
		if (ioctl(u->uffd, UFFDIO_COPY, &copy) == 0)
			u->nr_copied++;
	}
	return NULL;
}

/*
 * The program: maps memory (which the preload library registers for
 * udamon), then registers it for missing faults with a userfaultfd of its
 * own and serves them.  Exit 0 when every page arrived right.
 */
static int uffd_program(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct uprog u = { 0 };
	pthread_t th;
	int bad = 0;

	u.area = mmap(NULL, UPROG_PAGES * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u.area == MAP_FAILED)
		return 2;
	u.uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | 1);
	if (u.uffd < 0 && errno == EINVAL)
		u.uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u.uffd < 0 || ioctl(u.uffd, UFFDIO_API, &api)) {
		fprintf(stderr, "uffd-program: userfaultfd: %s\n",
			strerror(errno));
		return 3;
	}
	reg = (struct uffdio_register){
		.range = { (unsigned long)u.area, UPROG_PAGES * PAGE },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(u.uffd, UFFDIO_REGISTER, &reg)) {
		fprintf(stderr, "uffd-program: UFFDIO_REGISTER: %s\n",
			strerror(errno));
		return 4;
	}
	if (pthread_create(&th, NULL, uprog_handler, &u))
		return 5;
	for (unsigned long i = 0; i < UPROG_PAGES; i++)
		if (u.area[i * PAGE + 17] != (char)(i + 1))
			bad++;
	pthread_join(th, NULL);
	printf("uffd-program: %d pages served, %d wrong\n", u.nr_copied, bad);
	return bad || u.nr_copied != UPROG_PAGES ? 1 : 0;
}

/* Where the built programs are: next to this test's build directory. */
static int build_path(char *buf, size_t len, const char *rel)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -1;
	self[n] = '\0';
	for (int i = 0; i < 2; i++) { /* B/tests/test_x -> B */
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
 * Run this test program as the userfaultfd program under the preload
 * library; return its exit status and its stderr in @err.
 */
static int run_uffd_program(const char *preload, char *err, size_t len)
{
	char self[PATH_MAX], env[PATH_MAX + 16];
	ssize_t n, got = 0;
	int p[2], st;
	pid_t pid;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || pipe(p))
		return -1;
	self[n] = '\0';
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		snprintf(env, sizeof(env), "LD_PRELOAD=%s", preload);
		putenv(env);
		setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
		/* Rescan often, to race the program's registration. */
		setenv("UDAMON_PRELOAD_RESCAN_MS", "1", 1);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		execl(self, self, "--uffd-program", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((size_t)got < len - 1 &&
	       (n = read(p[0], err + got, len - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_preload_steps_aside(void)
{
	char pre[PATH_MAX], err[4096];
	const char *line;
	int rc;

	if (!need_attach())
		return;
	if (build_path(pre, sizeof(pre), "lib/libudamon-preload.so")) {
		tap_skip("libudamon-preload.so not built");
		return;
	}
	rc = run_uffd_program(pre, err, sizeof(err));
	if (rc)
		tap_diag("program stderr: %s", err);
	CHECK_EQ(rc, 0);
	CHECK(strstr(err, "64 pages served, 0 wrong") != NULL);
	line = strstr(err, "udamon-preload: the program registers memory");
	CHECK(line != NULL);
	/* Said once. */
	CHECK(line && !strstr(line + 1, "udamon-preload: the program"));
}

static const struct tap_case cases[] = {
	TAP_CASE(test_find_syscall),
	TAP_CASE(test_attach_detach_leaves_nothing),
	TAP_CASE(test_attach_stopped_target),
	TAP_CASE(test_attach_refusals),
	TAP_CASE_TIMEOUT(test_monitor_killed_midway, 120),
	TAP_CASE(test_attached_wss),
	TAP_CASE(test_attach_follows_exec),
	TAP_CASE(test_preload_steps_aside),
};

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--uffd-program"))
		return uffd_program();
	if (argc == 2 && !strcmp(argv[1], "--late-writer"))
		return late_writer();
	return tap_main(cases, TAP_NR(cases));
}
