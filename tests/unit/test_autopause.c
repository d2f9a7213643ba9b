// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Automatic pause (src/core/autopause.c) on real processes: a forked
 * child writes its memory (registered for uffd-wp by itself) and a vaddr
 * kdamond with auto pause monitors it.  SIGSTOP, a ptrace stop and a
 * real cgroup v2 freeze of a cgroup this test creates (and removes) must
 * each auto-pause the context within a few sample intervals: no
 * damon_aggregated events and no change of the learned state while
 * paused, and the same state when the child runs again.  A user's pause
 * must outlive the automatic resume.
 */
#include <udamon/damon.h>

#include "../lib/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AREA_SZ (8UL << 20)

static atomic_ulong nr_aggregated, nr_auto_pause, nr_auto_resume;

static void on_event(void *arg, struct damon_ctx *ctx,
		     const struct damon_event *ev)
{
	if (ev->type == DAMON_EVENT_AGGREGATED)
		atomic_fetch_add(&nr_aggregated, 1);
	else if (ev->type == DAMON_EVENT_AUTO_PAUSE)
		atomic_fetch_add(&nr_auto_pause, 1);
	else if (ev->type == DAMON_EVENT_AUTO_RESUME)
		atomic_fetch_add(&nr_auto_resume, 1);
}

/* The child: register its area, then write it forever. */
static void child_main(int ready_fd)
{
	char *area = mmap(NULL, AREA_SZ, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long i = 0;
	char ok;

	if (area == MAP_FAILED)
		_exit(1);
	memset(area, 1, AREA_SZ);
	ok = damon_uffd_self_register(area, AREA_SZ) ? 'n' : 'y';
	if (write(ready_fd, &ok, 1) != 1)
		_exit(1);
	for (;;) {
		area[(i * 4096) % (AREA_SZ / 4)] = (char)i;
		i++;
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Poll @cond for up to 10 s (a generous deadline: the machine is busy). */
#define WAIT_FOR(cond)                                     \
	({                                                 \
		uint64_t end_ = now_ms() + 10000;          \
		bool ok_;                                  \
		while (!(ok_ = (cond)) && now_ms() < end_) \
			usleep(2000);                      \
		ok_;                                       \
	})

struct dump_arg {
	struct damon_ctx *ctx;
	char *text;
};

static int dump_fn(void *data)
{
	struct dump_arg *a = data;
	struct damon_target *t;
	struct damon_region *r;
	size_t len = 0;
	FILE *f = open_memstream(&a->text, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "psi %lu\n", a->ctx->passed_sample_intervals);
	damon_for_each_target(t, a->ctx)
		damon_for_each_region(r, t)
			fprintf(f, "%lx-%lx %u %u %u %u\n", r->ar.start,
				r->ar.end, r->nr_accesses, r->nr_accesses_bp,
				r->last_nr_accesses, r->age);
	fclose(f);
	return 0;
}

/* The learned state, read on the kdamond (which serves calls paused). */
static char *dump(struct damon_ctx *ctx)
{
	struct dump_arg a = { .ctx = ctx };
	struct damon_call_control c = { .fn = dump_fn, .data = &a };

	if (damon_call(ctx, &c) || c.return_code) {
		free(a.text);
		return NULL;
	}
	return a.text;
}

struct pause_arg {
	struct damon_ctx *ctx;
	bool set, value;
};

static int pause_fn(void *data)
{
	struct pause_arg *a = data;

	if (a->set)
		a->ctx->pause = a->value;
	a->value = a->ctx->pause;
	return 0;
}

/* The user's pause flag, set or read on the kdamond (no data race). */
static bool user_pause(struct damon_ctx *ctx, int set)
{
	struct pause_arg a = { .ctx = ctx, .set = set >= 0, .value = set > 0 };
	struct damon_call_control c = { .fn = pause_fn, .data = &a };

	damon_call(ctx, &c);
	return a.value;
}

struct fixture {
	pid_t child;
	struct damon_ctx *ctx;
};

static bool setup(struct fixture *fx)
{
	struct damon_attrs attrs;
	struct damon_target *t;
	int pipefd[2];
	char ok = 0;

	atomic_store(&nr_aggregated, 0);
	atomic_store(&nr_auto_pause, 0);
	atomic_store(&nr_auto_resume, 0);
	if (pipe(pipefd))
		return false;
	fx->child = fork();
	if (fx->child < 0)
		return false;
	if (!fx->child) {
		close(pipefd[0]);
		child_main(pipefd[1]);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &ok, 1) != 1 || ok != 'y') {
		close(pipefd[0]);
		tap_skip("the child cannot register userfaultfd write-protect "
			 "here");
		return false;
	}
	close(pipefd[0]);
	fx->ctx = damon_new_ctx();
	if (!fx->ctx || damon_select_ops(fx->ctx, DAMON_OPS_VADDR))
		return false;
	attrs = fx->ctx->attrs;
	attrs.sample_interval = 2000;
	attrs.aggr_interval = 20000;
	attrs.ops_update_interval = 60000000;
	damon_set_attrs(fx->ctx, &attrs);
	t = damon_new_target();
	if (!t)
		return false;
	t->pid = fx->child;
	damon_add_target(fx->ctx, t);
	damon_set_access_source(fx->ctx, "uffd-wp");
	damon_vaddr_set_attach(fx->ctx, false);
	damon_set_event_fn(fx->ctx, on_event, NULL);
	damon_set_auto_pause(fx->ctx, true);
	if (damon_start(&fx->ctx, 1, false)) {
		tap_diag("start refused: %s", damon_refusal(fx->ctx));
		return false;
	}
	return true;
}

static void teardown(struct fixture *fx)
{
	if (fx->child > 0) {
		kill(fx->child, SIGKILL);
		waitpid(fx->child, NULL, 0);
	}
	if (fx->ctx) {
		if (damon_is_running(fx->ctx))
			damon_stop(&fx->ctx, 1);
		damon_destroy_ctx(fx->ctx);
	}
}

/*
 * Once auto-paused: a while later no aggregation happened and the state
 * is the same; then @wake lets the child run again and monitoring goes on
 * from that state.
 */
static void check_paused_then_resumed(struct fixture *fx, void (*wake)(void *),
				      void *arg)
{
	unsigned long aggr0, resumes0 = atomic_load(&nr_auto_resume);
	char *before, *after;

	CHECK(WAIT_FOR(damon_auto_paused(fx->ctx)));
	/* A pause round or two after the event, nothing moves. */
	usleep(20000);
	before = dump(fx->ctx);
	aggr0 = atomic_load(&nr_aggregated);
	usleep(300000); /* 150 sample intervals */
	after = dump(fx->ctx);
	CHECK_EQ(atomic_load(&nr_aggregated), aggr0);
	CHECK(before && after && !strcmp(before, after));
	CHECK(damon_auto_paused(fx->ctx));
	CHECK(!user_pause(fx->ctx, -1)); /* the user's flag is untouched */
	wake(arg);
	CHECK(WAIT_FOR(atomic_load(&nr_auto_resume) > resumes0));
	CHECK(WAIT_FOR(atomic_load(&nr_aggregated) > aggr0));
	CHECK(!damon_auto_paused(fx->ctx));
	free(before);
	free(after);
}

static void sigcont(void *arg)
{
	kill(*(pid_t *)arg, SIGCONT);
}

static void test_sigstop_auto_pauses(void)
{
	struct fixture fx = { 0 };

	if (!setup(&fx))
		goto out;
	REQUIRE(WAIT_FOR(atomic_load(&nr_aggregated) > 20));
	CHECK_EQ(atomic_load(&nr_auto_pause), 0);
	kill(fx.child, SIGSTOP);
	check_paused_then_resumed(&fx, sigcont, &fx.child);
	CHECK_EQ(atomic_load(&nr_auto_pause), 1);
	CHECK_EQ(atomic_load(&nr_auto_resume), 1);
out:
	teardown(&fx);
}

/* Without auto pause a stopped child is sampled on (the test can fail). */
static void test_without_auto_pause_keeps_sampling(void)
{
	struct fixture fx = { 0 };
	unsigned long aggr0;

	if (!setup(&fx))
		goto out;
	damon_set_auto_pause(fx.ctx, false);
	REQUIRE(WAIT_FOR(atomic_load(&nr_aggregated) > 20));
	kill(fx.child, SIGSTOP);
	aggr0 = atomic_load(&nr_aggregated);
	CHECK(WAIT_FOR(atomic_load(&nr_aggregated) > aggr0 + 20));
	CHECK(!damon_auto_paused(fx.ctx));
	kill(fx.child, SIGCONT);
out:
	teardown(&fx);
}

static void ptrace_detach(void *arg)
{
	pid_t pid = *(pid_t *)arg;

	ptrace(PTRACE_DETACH, pid, NULL, NULL);
}

static void test_ptrace_stop_auto_pauses(void)
{
	struct fixture fx = { 0 };
	int status;

	if (!setup(&fx))
		goto out;
	REQUIRE(WAIT_FOR(atomic_load(&nr_aggregated) > 20));
	if (ptrace(PTRACE_SEIZE, fx.child, NULL, NULL)) {
		tap_skip("ptrace unavailable here");
		goto out;
	}
	REQUIRE(ptrace(PTRACE_INTERRUPT, fx.child, NULL, NULL) == 0);
	REQUIRE(waitpid(fx.child, &status, __WALL) == fx.child);
	check_paused_then_resumed(&fx, ptrace_detach, &fx.child);
out:
	teardown(&fx);
}

/* A user's pause outlives the automatic resume. */
static void test_user_pause_wins(void)
{
	struct fixture fx = { 0 };
	unsigned long aggr0;

	if (!setup(&fx))
		goto out;
	REQUIRE(WAIT_FOR(atomic_load(&nr_aggregated) > 20));
	kill(fx.child, SIGSTOP);
	REQUIRE(WAIT_FOR(damon_auto_paused(fx.ctx)));
	user_pause(fx.ctx, 1); /* the user pauses too */
	kill(fx.child, SIGCONT);
	REQUIRE(WAIT_FOR(atomic_load(&nr_auto_resume) == 1));
	aggr0 = atomic_load(&nr_aggregated);
	usleep(200000);
	CHECK_EQ(atomic_load(&nr_aggregated), aggr0);
	CHECK(user_pause(fx.ctx, -1));
	user_pause(fx.ctx, 0); /* the user resumes */
	CHECK(WAIT_FOR(atomic_load(&nr_aggregated) > aggr0));
out:
	teardown(&fx);
}

/* ---- cgroup v2 freezer ---- */

static char cg_dir[600];

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -errno;
}

/* The cgroup2 mount, from /proc/self/mounts; "" if there is none. */
static void cgroup2_root(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char dev[256], dir[512], type[64];

	buf[0] = '\0';
	if (!f)
		return;
	while (fscanf(f, "%255s %511s %63s %*[^\n]", dev, dir, type) == 3)
		if (!strcmp(type, "cgroup2")) {
			snprintf(buf, len, "%s", dir);
			break;
		}
	fclose(f);
}

static bool cg_frozen(void)
{
	char path[700], line[128];
	bool frozen = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.events", cg_dir);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "frozen 1\n"))
			frozen = true;
	fclose(f);
	return frozen;
}

static void thaw(void *arg)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/cgroup.freeze", cg_dir);
	write_str(path, "0");
}

static void test_cgroup_freeze_auto_pauses(void)
{
	struct fixture fx = { 0 };
	char root[512], path[700], pid[32];
	int err;

	cgroup2_root(root, sizeof(root));
	if (!root[0]) {
		tap_skip("no cgroup2 mount here");
		return;
	}
	snprintf(cg_dir, sizeof(cg_dir), "%s/udamon-autopause-%d", root,
		 (int)getpid());
	if (mkdir(cg_dir, 0755)) {
		char why[700];

		snprintf(why, sizeof(why), "cannot create a cgroup in %s: %s",
			 root, strerror(errno));
		tap_skip(why);
		return;
	}
	snprintf(path, sizeof(path), "%s/cgroup.freeze", cg_dir);
	if (access(path, W_OK)) {
		tap_skip("the cgroup v2 freezer (cgroup.freeze) is missing");
		goto rm;
	}
	if (!setup(&fx))
		goto out;
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg_dir);
	snprintf(pid, sizeof(pid), "%d", (int)fx.child);
	err = write_str(path, pid);
	if (err) {
		char why[128];

		snprintf(why, sizeof(why), "cannot move the child: %s",
			 strerror(-err));
		tap_skip(why);
		goto out;
	}
	REQUIRE(WAIT_FOR(atomic_load(&nr_aggregated) > 20));
	CHECK(!damon_auto_paused(fx.ctx));
	snprintf(path, sizeof(path), "%s/cgroup.freeze", cg_dir);
	REQUIRE(write_str(path, "1") == 0);
	REQUIRE(WAIT_FOR(cg_frozen()));
	check_paused_then_resumed(&fx, thaw, NULL);
	CHECK(!cg_frozen());
out:
	teardown(&fx);
rm:
	/* The child is dead (reaped by teardown): the cgroup is empty. */
	if (rmdir(cg_dir))
		tap_diag("rmdir %s: %s", cg_dir, strerror(errno));
}

static const struct tap_case cases[] = {
	TAP_CASE(test_sigstop_auto_pauses),
	TAP_CASE(test_without_auto_pause_keeps_sampling),
	TAP_CASE(test_ptrace_stop_auto_pauses),
	TAP_CASE(test_user_pause_wins),
	TAP_CASE(test_cgroup_freeze_auto_pauses),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
