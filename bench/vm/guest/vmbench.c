// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Guest side of bench/vm: udamon against the guest kernel's own DAMON on
 * the same workload, in the same guest.  Prints "@@..." result lines that
 * bench/vm/run.sh turns into tables, "# ..." comments, and one TAP line per
 * part so that tests/vm/run.sh's parser counts it.
 *
 *   vmbench accuracy CFG KROOT UROOT [POLL_MS]
 *       run udamon-workload on CFG (masim format) with both DAMONs (vaddr,
 *       default attrs, one stat scheme) on it at once; every POLL_MS
 *       snapshot both through update_schemes_tried_regions and compare the
 *       working set (bytes of regions with nr_accesses > 0) with the
 *       regions the workload's current phase accesses
 *   vmbench overhead KROOT UROOT SECS MIN_NR MAX_NR TOTAL_MIB HOT_MIB
 *       CPU time of each kdamond per monitored second, one after the other
 *       on the same workload process
 *   vmbench scaling KROOT UROOT SECS TOTAL_MIB HOT_MIB NAIVE_MS
 *       the same for one target size, plus a naive monitor that marks and
 *       checks every page of the target through the page idle bitmap every
 *       NAIVE_MS
 *
 * Writing a DAMON tree under /sys is refused unless the kernel command line
 * carries udamon.vm=1 (set only by the VM harness).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define K0 "kdamonds/0/"
#define C0 K0 "contexts/0/"
#define S0 C0 "schemes/0/"
#define PAGE 4096UL

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Refuse to touch a /sys tree outside the VM (see the header comment). */
static bool allowed_root(const char *root)
{
	char cmdline[4096];
	ssize_t n;
	int fd;

	if (strncmp(root, "/sys/", 5))
		return true;
	fd = open("/proc/cmdline", O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	if (n <= 0)
		return false;
	cmdline[n] = '\0';
	return strstr(cmdline, "udamon.vm=1") != NULL;
}

static int wr(const char *root, const char *rel, const char *val)
{
	char p[512];
	size_t len = strlen(val);
	int fd, err = 0;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_WRONLY);
	if (fd < 0)
		err = errno;
	else if (write(fd, val, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	if (fd >= 0)
		close(fd);
	if (err)
		diag("write '%.*s' to %s: %s", (int)strcspn(val, "\n"), val, p,
		     strerror(err));
	return err;
}

static int rd_ul(const char *root, const char *rel, unsigned long *v)
{
	char p[512], buf[64], *end;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return EIO;
	buf[n] = '\0';
	errno = 0;
	*v = strtoul(buf, &end, 10);
	return errno || end == buf ? EINVAL : 0;
}

/* utime + stime of the task @tid (a thread of udamond, or a kthread). */
static long ticks_of(long tid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/stat", tid, tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/*
 * One kdamond with one vaddr context on @pid: default intervals, regions
 * bounded by @min_nr..@max_nr, one stat scheme that matches every region
 * (its maxima default to 0, which would match nothing).
 */
static int damon_on(const char *root, pid_t pid, unsigned long min_nr,
		    unsigned long max_nr)
{
	char pid_s[32], min_s[32], max_s[32];

	if (!allowed_root(root)) {
		diag("refusing to write %s outside the VM", root);
		return EPERM;
	}
	snprintf(pid_s, sizeof(pid_s), "%d\n", (int)pid);
	snprintf(min_s, sizeof(min_s), "%lu\n", min_nr);
	snprintf(max_s, sizeof(max_s), "%lu\n", max_nr);
	/* max first: min may not exceed the staged max at commit time. */
	return wr(root, "kdamonds/nr_kdamonds", "1\n") ||
	       wr(root, K0 "contexts/nr_contexts", "1\n") ||
	       wr(root, C0 "operations", "vaddr\n") ||
	       wr(root, C0 "monitoring_attrs/nr_regions/max", max_s) ||
	       wr(root, C0 "monitoring_attrs/nr_regions/min", min_s) ||
	       wr(root, C0 "targets/nr_targets", "1\n") ||
	       wr(root, C0 "targets/0/pid_target", pid_s) ||
	       wr(root, C0 "schemes/nr_schemes", "1\n") ||
	       wr(root, S0 "action", "stat\n") ||
	       wr(root, S0 "access_pattern/sz/max", "18446744073709551615\n") ||
	       wr(root, S0 "access_pattern/nr_accesses/max", "4294967295\n") ||
	       wr(root, S0 "access_pattern/age/max", "4294967295\n") ||
	       wr(root, K0 "state", "on\n");
}

static void damon_off(const char *root)
{
	char p[512];
	int fd;

	/* Quietly: a kdamond whose target exited has stopped (EPERM). */
	snprintf(p, sizeof(p), "%s/" K0 "state", root);
	fd = open(p, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "off\n", 4) < 0)
			errno = 0;
		close(fd);
	}
	wr(root, "kdamonds/nr_kdamonds", "0\n");
}

struct region {
	unsigned long start, end, nr_accesses;
};

/*
 * Snapshot the tried regions; returns how many (0 on failure).  *@t gets
 * the time the update command returned: the regions are those of the
 * aggregation that ended just before.
 */
static size_t snapshot(const char *root, struct region **rs, double *t)
{
	char rel[160];
	size_t n = 0, cap = 0;

	if (wr(root, K0 "state", "update_schemes_tried_regions\n"))
		return 0;
	*t = now_s();
	for (;; n++) {
		struct region r;

		snprintf(rel, sizeof(rel), S0 "tried_regions/%zu/start", n);
		if (rd_ul(root, rel, &r.start))
			break;
		snprintf(rel, sizeof(rel), S0 "tried_regions/%zu/end", n);
		rd_ul(root, rel, &r.end);
		snprintf(rel, sizeof(rel), S0 "tried_regions/%zu/nr_accesses",
			 n);
		rd_ul(root, rel, &r.nr_accesses);
		if (n == cap) {
			struct region *nr;

			cap = cap ? 2 * cap : 64;
			nr = realloc(*rs, cap * sizeof(*nr));
			if (!nr)
				break;
			*rs = nr;
		}
		(*rs)[n] = r;
	}
	if (!n)
		diag("%s: no tried regions after the update", root);
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------ the workload (masim) */

#define MAX_REG 32
#define MAX_PH 64

struct cfg {
	int nr_reg, nr_ph;
	char reg[MAX_REG][32];
	unsigned long start[MAX_REG], end[MAX_REG];
	char ph[MAX_PH][32];
	unsigned int ph_regs[MAX_PH]; /* bit i: region i accessed */
};

static int reg_index(const struct cfg *c, const char *name, size_t len)
{
	for (int i = 0; i < c->nr_reg; i++)
		if (strlen(c->reg[i]) == len && !strncmp(c->reg[i], name, len))
			return i;
	return -1;
}

/*
 * Just enough of the masim format for the ground truth: region names, and
 * per phase its name and the regions its patterns touch.
 */
static int cfg_load(const char *path, struct cfg *c)
{
	char line[512];
	int para = 0, lno = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return errno;
	memset(c, 0, sizeof(*c));
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, ",\n");

		if (line[0] == '#')
			continue;
		if (line[0] == '\n') {
			para++;
			lno = 0;
			continue;
		}
		if (para == 0 && c->nr_reg < MAX_REG) {
			snprintf(c->reg[c->nr_reg++], 32, "%.*s", (int)len,
				 line);
		} else if (para > 0 && para <= MAX_PH) {
			c->nr_ph = para;
			if (lno == 0) {
				snprintf(c->ph[para - 1], 32, "%.*s", (int)len,
					 line);
			} else if (lno >= 2) {
				int i = reg_index(c, line, len);

				if (i >= 0)
					c->ph_regs[para - 1] |= 1U << i;
			}
			lno++;
		}
	}
	fclose(f);
	return c->nr_reg && c->nr_ph ? 0 : EINVAL;
}

/* One snapshot: when it was taken and what it saw of each config region. */
struct snap {
	double t, took;
	unsigned long wss, nr_regions;
	unsigned long cov[MAX_REG]; /* accessed bytes inside region k */
};

#define MAX_SNAPS 1024

struct acc {
	const char *label;
	struct snap s[MAX_SNAPS];
	size_t n;
};

static void record(struct acc *a, const struct cfg *c, double t, double took,
		   const struct region *r, size_t n)
{
	struct snap *s;

	if (a->n >= MAX_SNAPS)
		return;
	s = &a->s[a->n++];
	memset(s, 0, sizeof(*s));
	s->t = t;
	s->took = took;
	s->nr_regions = n;
	for (size_t i = 0; i < n; i++) {
		if (!r[i].nr_accesses)
			continue;
		/* damo's wss: every region with an access, threshold 1. */
		s->wss += r[i].end - r[i].start;
		for (int k = 0; k < c->nr_reg; k++) {
			unsigned long b = r[i].start > c->start[k] ?
						  r[i].start :
						  c->start[k];
			unsigned long e = r[i].end < c->end[k] ? r[i].end :
								 c->end[k];

			if (e > b)
				s->cov[k] += e - b;
		}
	}
}

/* The phases' start times, filled in by the thread reading the workload. */
struct phases {
	const struct cfg *c;
	FILE *out;
	double start[MAX_PH + 2];
	int nr_started;
};

/* The workload prints "PHASE: ..." when PHASE ends, and the next begins. */
static void *phase_reader(void *arg)
{
	struct phases *p = arg;
	char line[256];

	while (fgets(line, sizeof(line), p->out)) {
		int ph = p->nr_started - 1;
		size_t len;

		if (ph >= p->c->nr_ph)
			continue;
		len = strlen(p->c->ph[ph]);
		if (!strncmp(line, p->c->ph[ph], len) && line[len] == ':') {
			p->start[ph + 1] = now_s();
			__atomic_store_n(&p->nr_started, ph + 2,
					 __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

/*
 * Summarize one monitor's snapshots against the phase timeline.  The truth
 * of a snapshot is the size of the regions its phase accesses; the active
 * regions count as found when accessed regions cover 80 % of them and
 * spill over by at most their size (as tests/vm's hot-region check).  A
 * snapshot covers the last aggregation interval, and the regions need a
 * moment to follow a phase change, so only snapshots 0.6 s or more into a
 * phase (and before its end) are judged for "found".
 */
static void summarize(const char *cfgpath, const struct acc *a,
		      const struct cfg *c, const struct phases *p)
{
	static double wss[MAX_SNAPS], truth[MAX_SNAPS];
	size_t n = 0, judged = 0, found = 0;
	unsigned long rmin = ~0UL, rmax = 0;

	for (size_t i = 0; i < a->n; i++) {
		const struct snap *s = &a->s[i];
		unsigned long act = 0, in = 0;
		int ph = -1;

		for (int k = 0; k < p->nr_started && k < c->nr_ph; k++)
			if (s->t >= p->start[k] && s->t < p->start[k + 1])
				ph = k;
		if (ph < 0)
			continue; /* after the last phase */
		for (int k = 0; k < c->nr_reg; k++) {
			if (!(c->ph_regs[ph] & (1U << k)))
				continue;
			act += c->end[k] - c->start[k];
			in += s->cov[k];
		}
		wss[n] = s->wss;
		truth[n] = act;
		n++;
		rmin = s->nr_regions < rmin ? s->nr_regions : rmin;
		rmax = s->nr_regions > rmax ? s->nr_regions : rmax;
		if (s->t - p->start[ph] < 0.6)
			continue;
		judged++;
		if (in * 10 >= act * 8 && s->wss - in <= act)
			found++;
		diag("%s %s: %.2f s into %s: wss %lu KiB, %lu of %lu KiB of the phase's regions, %lu regions, update took %.2f s",
		     a->label, cfgpath, s->t - p->start[ph], c->ph[ph],
		     s->wss >> 10, in >> 10, act >> 10, s->nr_regions, s->took);
	}
	printf("@@ACC %s %s wss %.0f true %.0f found %zu judged %zu snapshots %zu regions %lu-%lu\n",
	       cfgpath, a->label, median(wss, n), median(truth, n), found,
	       judged, n, n ? rmin : 0, rmax);
	printf("%s - accuracy %s %s: %zu snapshots\n", n ? "ok" : "not ok",
	       cfgpath, a->label, n);
}

static int cmd_accuracy(const char *cfgpath, const char *kroot,
			const char *uroot, double poll_s)
{
	static struct acc acc[2];
	static struct phases p;
	const char *roots[2] = { kroot, uroot };
	struct region *r = NULL;
	struct cfg c;
	char line[256], name[64];
	pthread_t reader;
	int fds[2], err;
	pid_t pid;

	err = cfg_load(cfgpath, &c);
	if (err) {
		printf("not ok - accuracy %s: config: %s\n", cfgpath,
		       strerror(err));
		return 1;
	}
	if (pipe(fds))
		return 1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execlp("udamon-workload", "udamon-workload", "--print-regions",
		       cfgpath, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	p.c = &c;
	p.out = fdopen(fds[0], "r");
	for (int i = 0; i < c.nr_reg; i++) {
		if (!fgets(line, sizeof(line), p.out) ||
		    sscanf(line, "region %63[^:]: %lx-%lx", name, &c.start[i],
			   &c.end[i]) != 3) {
			printf("not ok - accuracy %s: workload regions\n",
			       cfgpath);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 1;
		}
	}
	p.start[0] = now_s();
	p.nr_started = 1;
	if (pthread_create(&reader, NULL, phase_reader, &p)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}
	acc[0].label = "kernel";
	acc[1].label = "udamon";
	for (int m = 0; m < 2; m++) {
		if (damon_on(roots[m], pid, 10, 1000)) {
			printf("not ok - accuracy %s: %s DAMON on\n", cfgpath,
			       acc[m].label);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			pthread_join(reader, NULL);
			damon_off(kroot);
			damon_off(uroot);
			return 1;
		}
	}
	while (waitpid(pid, NULL, WNOHANG) != pid) {
		double t0 = now_s();

		for (int m = 0; m < 2; m++) {
			double t1 = now_s(), t2;
			size_t n = snapshot(roots[m], &r, &t2);

			if (n)
				record(&acc[m], &c, t2, t2 - t1, r, n);
		}
		if (now_s() - t0 < poll_s)
			sleep_s(poll_s - (now_s() - t0));
	}
	pthread_join(reader, NULL);
	fclose(p.out);
	p.start[p.nr_started] = now_s();
	diag("%s: workload ran %.1f s, %d of %d phases ended", cfgpath,
	     now_s() - p.start[0], p.nr_started - 1, c.nr_ph);
	for (int m = 0; m < 2; m++) {
		damon_off(roots[m]);
		summarize(cfgpath, &acc[m], &c, &p);
	}
	free(r);
	return 0;
}

/* ----------------------------------------------- overhead and scaling */

/* TOTAL_MIB mapped and touched, then HOT_MIB in the middle written on. */
static pid_t spawn_hot(size_t total_mib, size_t hot_mib, unsigned long *start,
		       unsigned long *end)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		size_t total = total_mib << 20, hot = hot_mib << 20;
		size_t off = ((total - hot) / 2) & ~(size_t)0xfffff;
		unsigned long v[2];
		char *m;

		close(fds[0]);
		m = mmap(NULL, total, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			_exit(3);
		madvise(m, total, MADV_NOHUGEPAGE);
		memset(m, 1, total);
		v[0] = (unsigned long)m;
		v[1] = (unsigned long)m + total;
		if (write(fds[1], v, sizeof(v)) != sizeof(v))
			_exit(3);
		close(fds[1]);
		for (unsigned char x = 0;; x++)
			for (size_t o = 0; o < hot; o += PAGE)
				m[off + o] = x;
	}
	close(fds[1]);
	{
		unsigned long v[2];

		if (read(fds[0], v, sizeof(v)) != sizeof(v)) {
			close(fds[0]);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		*start = v[0];
		*end = v[1];
	}
	close(fds[0]);
	return pid;
}

/*
 * CPU of @root's kdamond per monitored second over @secs on @pid, after
 * 1 s of warm-up; *nr gets the number of regions at the end.
 */
static double kdamond_cpu(const char *root, pid_t pid, double secs,
			  unsigned long min_nr, unsigned long max_nr,
			  size_t *nr)
{
	struct region *r = NULL;
	unsigned long kd;
	long t0, t1;
	double w0, w1, tu;

	*nr = 0;
	if (damon_on(root, pid, min_nr, max_nr) || rd_ul(root, K0 "pid", &kd)) {
		damon_off(root);
		return -1;
	}
	sleep_s(1);
	t0 = ticks_of((long)kd);
	w0 = now_s();
	sleep_s(secs);
	t1 = ticks_of((long)kd);
	w1 = now_s();
	*nr = snapshot(root, &r, &tu);
	free(r);
	damon_off(root);
	if (t0 < 0 || t1 < 0)
		return -1;
	return (double)(t1 - t0) / sysconf(_SC_CLK_TCK) / (w1 - w0);
}

static int cmd_overhead(const char *kroot, const char *uroot, double secs,
			unsigned long min_nr, unsigned long max_nr,
			size_t total_mib, size_t hot_mib)
{
	unsigned long s, e;
	double ck, cu;
	size_t nk, nu;
	pid_t pid = spawn_hot(total_mib, hot_mib, &s, &e);

	if (pid < 0) {
		printf("not ok - overhead: workload\n");
		return 1;
	}
	ck = kdamond_cpu(kroot, pid, secs, min_nr, max_nr, &nk);
	cu = kdamond_cpu(uroot, pid, secs, min_nr, max_nr, &nu);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("@@OVH %lu-%lu kernel %.4f %zu udamon %.4f %zu secs %.1f mib %zu\n",
	       min_nr, max_nr, ck, nk, cu, nu, secs, total_mib);
	printf("%s - overhead %lu..%lu regions measured\n",
	       ck >= 0 && cu >= 0 ? "ok" : "not ok", min_nr, max_nr);
	return 0;
}

/*
 * The naive monitor: every @interval_s, for every page of [start, end) of
 * @pid: read its PFN from pagemap, mark it idle, and after the interval
 * read the bitmap back.  Batched as the platform notes advise (4 KiB
 * calls), so this is the cheapest form of "check every page".  Returns its
 * CPU per second and the mean pass time.
 */
static double naive(pid_t pid, unsigned long start, unsigned long end,
		    double secs, double interval_s, double *pass_s,
		    unsigned long *hot_pages)
{
	size_t npages = (end - start) / PAGE, words;
	uint64_t *pfns = calloc(npages, sizeof(*pfns)), *bm = NULL;
	uint64_t lo = UINT64_MAX, hi = 0;
	char path[64];
	struct rusage ru0, ru1;
	double w0, w1, passes = 0, busy = 0;
	int pm, bf;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	pm = open(path, O_RDONLY);
	bf = open("/sys/kernel/mm/page_idle/bitmap", O_RDWR);
	if (!pfns || pm < 0 || bf < 0)
		goto fail;
	getrusage(RUSAGE_SELF, &ru0);
	w0 = now_s();
	while (now_s() - w0 < secs) {
		double p0 = now_s();
		size_t n = 0;

		/* PFNs of the present pages (they may move between passes). */
		for (size_t i = 0; i < npages; i += 512) {
			size_t cnt = npages - i < 512 ? npages - i : 512;
			ssize_t got = pread(pm, pfns + i, cnt * 8,
					    (off_t)((start / PAGE + i) * 8));

			if (got != (ssize_t)(cnt * 8))
				goto fail;
		}
		lo = UINT64_MAX;
		hi = 0;
		for (size_t i = 0; i < npages; i++) {
			uint64_t e = pfns[i];

			if (!(e >> 63) || !(e & ((1ULL << 55) - 1))) {
				pfns[i] = 0;
				continue;
			}
			pfns[i] = e & ((1ULL << 55) - 1);
			lo = pfns[i] < lo ? pfns[i] : lo;
			hi = pfns[i] > hi ? pfns[i] : hi;
			n++;
		}
		if (!n)
			goto fail;
		lo &= ~63ULL;
		words = (hi - lo) / 64 + 1;
		free(bm);
		bm = calloc(words, 8);
		if (!bm)
			goto fail;
		for (size_t i = 0; i < npages; i++)
			if (pfns[i])
				bm[(pfns[i] - lo) / 64] |= 1ULL
							   << (pfns[i] % 64);
		/* Mark idle: zero bits are no-ops, so write whole spans. */
		for (size_t w = 0; w < words; w += 512) {
			size_t cnt = words - w < 512 ? words - w : 512;

			if (pwrite(bf, bm + w, cnt * 8,
				   (off_t)((lo / 64 + w) * 8)) < 0)
				goto fail;
		}
		busy += now_s() - p0;
		sleep_s(interval_s);
		p0 = now_s();
		*hot_pages = 0;
		for (size_t w = 0; w < words; w += 512) {
			uint64_t buf[512];
			size_t cnt = words - w < 512 ? words - w : 512;
			ssize_t got = pread(bf, buf, cnt * 8,
					    (off_t)((lo / 64 + w) * 8));

			/* Accessed: ours, and no longer idle. */
			for (size_t k = 0; got > 0 && k < (size_t)got / 8; k++)
				*hot_pages += __builtin_popcountll(bm[w + k] &
								   ~buf[k]);
		}
		busy += now_s() - p0;
		passes++;
	}
	w1 = now_s();
	getrusage(RUSAGE_SELF, &ru1);
	close(pm);
	close(bf);
	free(pfns);
	free(bm);
	*pass_s = passes ? busy / passes : -1;
	return (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec +
		(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
		ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec +
		(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6) /
	       (w1 - w0);
fail:
	diag("naive monitor failed: %s", strerror(errno));
	if (pm >= 0)
		close(pm);
	if (bf >= 0)
		close(bf);
	free(pfns);
	free(bm);
	return -1;
}

static int cmd_scaling(const char *kroot, const char *uroot, double secs,
		       size_t total_mib, size_t hot_mib, double naive_s)
{
	unsigned long s, e, hot = 0;
	double ck, cu, cn, pass = -1, t0 = now_s();
	size_t nk, nu;
	pid_t pid = spawn_hot(total_mib, hot_mib, &s, &e);

	if (pid < 0) {
		printf("not ok - scaling %zu MiB: workload\n", total_mib);
		return 1;
	}
	diag("scaling: %zu MiB touched in %.1f s", total_mib, now_s() - t0);
	ck = kdamond_cpu(kroot, pid, secs, 10, 1000, &nk);
	cu = kdamond_cpu(uroot, pid, secs, 10, 1000, &nu);
	cn = naive(pid, s, e, secs, naive_s, &pass, &hot);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("@@SCALE %zu kernel %.4f %zu udamon %.4f %zu naive %.4f pass %.4f hot %lu secs %.1f\n",
	       total_mib, ck, nk, cu, nu, cn, pass, hot, secs);
	printf("%s - scaling %zu MiB measured\n",
	       ck >= 0 && cu >= 0 && cn >= 0 ? "ok" : "not ok", total_mib);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "accuracy"))
		return cmd_accuracy(argv[2], argv[3], argv[4],
				    argc == 6 ? strtod(argv[5], NULL) / 1000 :
						0.5);
	if (argc == 9 && !strcmp(argv[1], "overhead"))
		return cmd_overhead(argv[2], argv[3], strtod(argv[4], NULL),
				    strtoul(argv[5], NULL, 10),
				    strtoul(argv[6], NULL, 10),
				    strtoul(argv[7], NULL, 10),
				    strtoul(argv[8], NULL, 10));
	if (argc == 8 && !strcmp(argv[1], "scaling"))
		return cmd_scaling(argv[2], argv[3], strtod(argv[4], NULL),
				   strtoul(argv[5], NULL, 10),
				   strtoul(argv[6], NULL, 10),
				   strtod(argv[7], NULL) / 1000);
	fprintf(stderr,
		"usage: vmbench accuracy CFG KROOT UROOT [POLL_MS]\n"
		"       vmbench overhead KROOT UROOT SECS MIN_NR MAX_NR TOTAL_MIB HOT_MIB\n"
		"       vmbench scaling KROOT UROOT SECS TOTAL_MIB HOT_MIB NAIVE_MS\n");
	return 2;
}
