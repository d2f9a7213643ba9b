// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Automatic pause (udamon only): a context whose targets are all stopped
 * (SIGSTOP, job control, a ptrace stop) or frozen by the cgroup v2
 * freezer learns nothing while they sleep but would keep sampling, aging
 * regions and running DAMOS on memory nobody touches.  With auto_pause
 * set it waits in the pause loop instead, exactly as a user's pause, and
 * goes on when one of them runs again.
 *
 * The user's pause (ctx->pause) and the automatic one (ctx->auto_paused)
 * are separate flags and the kdamond waits while either is set, so the
 * automatic resume can never undo what the user paused.
 *
 * The check reads /proc/PID/stat (state T or t) and, through
 * /proc/PID/cgroup and the cgroup2 mount in /proc/self/mounts, the
 * cgroup's cgroup.events ("frozen 1").  It runs at
 * most once per sample interval of the context clock: after each sample
 * and in each round of the pause loop, which both take one interval.
 */
#include "core.h"
#include "sys/alloc.h"
#include "sys/sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef UDAMON_HAVE_SDT
#include <sys/sdt.h>
#endif

#define AUTOPAUSE_MAX_FILE (64 * 1024)

/*
 * Where cgroup v2 is mounted here (/sys/fs/cgroup, or /sys/fs/cgroup/
 * unified on hybrid systems): the paths in /proc/PID/cgroup are below
 * it.  Looked up again at most once a second (cgroup2 may be mounted
 * later), not at every check; a mount that cannot be found means no
 * freezer to look at.  Returns a copy, or NULL.
 */
static pthread_mutex_t autopause_root_lock = PTHREAD_MUTEX_INITIALIZER;
static char *autopause_root_cache;
static uint64_t autopause_root_read_ns;

static char *autopause_cgroup2_root_read(void)
{
	char *buf = NULL, *line, *root = NULL;

	if (udamon__sys_read_file("/proc/self/mounts", &buf, NULL,
				  4 * 1024 * 1024))
		return NULL;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char dev[256], dir[1024], type[64];

		if (sscanf(line, "%255s %1023s %63s", dev, dir, type) == 3 &&
		    !strcmp(type, "cgroup2")) {
			root = udamon__strdup(dir);
			break;
		}
	}
	free(buf);
	return root;
}

static char *autopause_cgroup2_root(void)
{
	struct timespec ts;
	uint64_t now;
	char *copy;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	pthread_mutex_lock(&autopause_root_lock);
	if (!autopause_root_read_ns ||
	    now - autopause_root_read_ns >= 1000000000ULL) {
		char *root = autopause_cgroup2_root_read();

		/* Keep the last known root when the read fails (ENOMEM). */
		if (root || !autopause_root_cache) {
			free(autopause_root_cache);
			autopause_root_cache = root;
		}
		autopause_root_read_ns = now;
	}
	copy = autopause_root_cache ? udamon__strdup(autopause_root_cache) :
				      NULL;
	pthread_mutex_unlock(&autopause_root_lock);
	return copy;
}

int damon_set_auto_pause(struct damon_ctx *ctx, bool on)
{
	if (!ctx)
		return -EINVAL;
	__atomic_store_n(&ctx->auto_pause, on, __ATOMIC_RELAXED);
	return 0;
}

bool damon_auto_pause(struct damon_ctx *ctx)
{
	return ctx && __atomic_load_n(&ctx->auto_pause, __ATOMIC_RELAXED);
}

bool damon_auto_paused(struct damon_ctx *ctx)
{
	return ctx && __atomic_load_n(&ctx->auto_paused, __ATOMIC_RELAXED);
}

/* Whether process @pid is in a stopped or traced-stop state. */
static bool autopause_pid_stopped(int pid)
{
	char path[64], *buf = NULL, *paren;
	bool stopped = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (udamon__sys_read_file(path, &buf, NULL, AUTOPAUSE_MAX_FILE))
		return false;
	/* The command name may hold anything: the state follows the last ')'. */
	paren = strrchr(buf, ')');
	if (paren && paren[1] == ' ' && (paren[2] == 'T' || paren[2] == 't'))
		stopped = true;
	free(buf);
	return stopped;
}

/* Whether the cgroup v2 freezer holds process @pid frozen. */
static bool autopause_pid_frozen(const char *cgroot, int pid)
{
	char path[64], *buf = NULL, *line, *cg = NULL, *events = NULL;
	bool frozen = false;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (udamon__sys_read_file(path, &buf, NULL, AUTOPAUSE_MAX_FILE))
		return false;
	/* The unified hierarchy's line is "0::/path". */
	for (line = buf; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, "0::", 3)) {
			char *end = strchr(line, '\n');

			if (end)
				*end = '\0';
			cg = line + 3;
			break;
		}
	}
	if (!cgroot || !cg || !*cg || strstr(cg, "..") ||
	    udamon__asprintf(&events, "%s%s/cgroup.events", cgroot,
			     !strcmp(cg, "/") ? "" : cg) < 0) {
		free(buf);
		return false;
	}
	free(buf);
	buf = NULL;
	if (!udamon__sys_read_file(events, &buf, NULL, AUTOPAUSE_MAX_FILE)) {
		for (line = buf; line && *line; line = strchr(line, '\n')) {
			if (*line == '\n')
				line++;
			if (!strncmp(line, "frozen 1", 8)) {
				frozen = true;
				break;
			}
		}
	}
	free(buf);
	free(events);
	return frozen;
}

/* Whether every target of @ctx is stopped or frozen (and there is one). */
static bool autopause_all_asleep(struct damon_ctx *ctx)
{
	struct damon_target *t;
	char *cgroot = NULL;
	bool any = false, asleep = true, cgroot_read = false;

	damon_for_each_target(t, ctx) {
		if (t->pid <= 0) {
			asleep = false;
			break;
		}
		if (autopause_pid_stopped(t->pid)) {
			any = true;
			continue;
		}
		if (!cgroot_read) {
			cgroot = autopause_cgroup2_root();
			cgroot_read = true;
		}
		if (!autopause_pid_frozen(cgroot, t->pid)) {
			asleep = false;
			break;
		}
		any = true;
	}
	free(cgroot);
	return any && asleep;
}

static void autopause_set(struct damon_ctx *ctx, bool paused)
{
	struct damon_event ev = {
		.type = paused ? DAMON_EVENT_AUTO_PAUSE :
				 DAMON_EVENT_AUTO_RESUME,
		.context_idx = ctx->kdamond_idx,
	};

	__atomic_store_n(&ctx->auto_paused, paused, __ATOMIC_RELAXED);
#ifdef UDAMON_HAVE_SDT
	if (paused)
		DTRACE_PROBE2(damon, udamon_auto_pause, ev.context_idx,
			      ctx->passed_sample_intervals);
	else
		DTRACE_PROBE2(damon, udamon_auto_resume, ev.context_idx,
			      ctx->passed_sample_intervals);
#endif
	udamon__log(DAMON_LOG_INFO, "kdamond.%u %s", ctx->kdamond_idx,
		    paused ? "auto-paused: every target is stopped or frozen" :
			     "auto-resumed: a target runs again");
	udamon__emit(ctx, &ev);
}

bool udamon__paused(struct damon_ctx *ctx)
{
	bool want = __atomic_load_n(&ctx->auto_pause, __ATOMIC_RELAXED);
	uint64_t now;

	if (!want || !damon_target_has_pid(ctx)) {
		if (ctx->auto_paused)
			autopause_set(ctx, false);
		return ctx->pause;
	}
	now = damon_now_ns(ctx);
	if (!ctx->auto_pause_checked_ns ||
	    now - ctx->auto_pause_checked_ns >=
		    (uint64_t)ctx->attrs.sample_interval * 1000) {
		bool asleep = autopause_all_asleep(ctx);

		ctx->auto_pause_checked_ns = now ? now : 1;
		if (asleep != ctx->auto_paused)
			autopause_set(ctx, asleep);
	}
	return ctx->pause || ctx->auto_paused;
}
