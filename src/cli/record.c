// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamon record: run DAMON in this process (embedded mode) on a sim
 * workload, a process or a command it launches, and write every
 * aggregation as a snapshot to a record file (src/record/), with pause and
 * resume events.
 *
 * Threads and who touches what: with the real clock the context runs on
 * its kdamond thread and this thread only watches (signals, progress,
 * child process) and talks to it through damon_call(); with --virtual this
 * thread drives the context itself (damon_manual_step()) as fast as it can.
 * Either way a repeating damon_call() "tick" runs on the kdamond side every
 * round, pausing, resuming and ending the recording at their times on the
 * context clock; a pause or resume is an online damon_commit_ctx() of the
 * parameters with the new pause value, as udamond's "commit" does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/record-metrics.h"
#include "cli/util.h"
#include "metrics/metrics.h"
#include "record/record.h"

#define CMD "record"

struct rec_run {
	struct damon_ctx *ctx;
	struct cli_params params;
	enum damon_ops_id ops;
	int pid;
	bool virtual_clock;
	long overhead_budget; /* uffd-wp checks/s; -1: the library default */
	bool auto_pause; /* --auto-pause */
	struct udamon_record_writer *w;
	struct udamon_recorder *rec;
	uint64_t t0;

	/* the schedule, in ns of the record's time */
	bool have_pause;
	uint64_t pause_at_ns;
	uint64_t pause_end_ns;
	int pause_phase; /* 0 before, 1 paused, 2 resumed */
	uint64_t duration_ns;

	/* shared with the watching thread */
	int paused;
	int done;
	unsigned int nr_pauses;
	int commit_err;
	struct damon_call_control tick;

	/* --checkpoint / --restore */
	const char *ckpt_path; /* save here when the recording ends */
	bool ckpt_saved;
	int ckpt_err;
	char ckpt_why[512];
	bool restoring; /* --restore: fix up at the first tick */
	bool ticked;
};

static volatile sig_atomic_t sig_stop;
static volatile sig_atomic_t sig_toggle;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_toggle = 1;
	else
		sig_stop = sig;
}

static bool quiet_logs;
static bool mute_logs; /* while polling a target that is still starting */

static void lib_log(void *arg, enum damon_log_level level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info" };

	if (mute_logs || level == DAMON_LOG_INFO ||
	    (quiet_logs && level != DAMON_LOG_ERR))
		return;
	fprintf(stderr, "udamon: %s: %s\n",
		names[(unsigned int)level < 3 ? level : 2], msg);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: udamon record [options] --ops sim --workload CFG\n"
		"       udamon record [options] --pid PID\n"
		"       udamon record [options] -- CMD [ARGS...]\n"
		"\n"
		"Monitor data accesses with DAMON running inside this process and\n"
		"write every aggregation interval's regions to a record file, until\n"
		"the duration ends, the target exits, or SIGINT/SIGTERM.  SIGUSR1\n"
		"pauses or resumes the monitoring.  Read records with 'udamon report'.\n"
		"\n"
		"target:\n"
		"  --ops NAME              operations set: sim, vaddr (default: sim with\n"
		"                          --workload, vaddr with --pid or a command)\n"
		"  --workload FILE         sim workload: masim config, udamon record or\n"
		"                          udamon-trace (docs/usage.md, Replay)\n"
		"  --pid PID               a running process (vaddr); udamon attaches\n"
		"                          to it with ptrace (x86_64) to see its writes\n"
		"  --no-attach             refuse a process that was not launched under\n"
		"                          udamon instead of attaching to it\n"
		"  --overhead-budget N     vaddr with the uffd-wp source: check at most\n"
		"                          N sampled pages per second (default 2000;\n"
		"                          0: every region every sample).  Beyond it\n"
		"                          regions take turns: cheaper for the target,\n"
		"                          coarser in time\n"
		"  -- CMD [ARGS]           launch CMD and monitor it (vaddr); it is run\n"
		"                          with the preload library that lets udamon\n"
		"                          see its writes (UDAMON_PRELOAD overrides\n"
		"                          where it is looked for)\n"
		"  --access-source NAME    vaddr's access source: auto (default),\n"
		"                          page-idle, uffd-wp (PAGEMAP_SCAN, Linux\n"
		"                          6.7+) or uffd-wp-sync (synchronous\n"
		"                          write-protect, Linux 5.10+)\n"
		"\n"
		"recording:\n"
		"  -o, --output FILE       record file (default udamon.rec); an existing\n"
		"                          one is kept as FILE.old, as damo does\n"
		"  --output-type TYPE      udamon (default: written as it goes, read\n"
		"                          back after a crash), or damo's json or\n"
		"                          json_compressed (converted at the end)\n"
		"  --duration SECS         stop after SECS of the context clock (sim\n"
		"                          default: one pass of the workload; 0: until\n"
		"                          the target exits or a signal)\n"
		"  --virtual               virtual clock, as fast as possible (sim only);\n"
		"                          deterministic for a given --seed\n"
		"  --seed N                seed of the context's PRNG (default 42)\n"
		"  --pause-at SECS         pause the monitoring at SECS ...\n"
		"  --pause-for SECS        ... for SECS, then resume (online commits)\n"
		"  --metrics [ADDR:]PORT   serve Prometheus/OpenMetrics metrics of the\n"
		"                          context at http://ADDR:PORT/metrics while it\n"
		"                          records (ADDR defaults to 127.0.0.1)\n"
		"  --auto-pause            pause while the process is stopped\n"
		"                          (SIGSTOP, ptrace) or cgroup-frozen; the\n"
		"                          record marks those periods \"auto\"\n"
		"  --checkpoint FILE       when the recording ends, save what DAMON\n"
		"                          learned (regions, ages, tuned intervals,\n"
		"                          quotas) to FILE\n"
		"  --restore FILE          start from the checkpoint FILE instead of\n"
		"                          learning from scratch (same operations set\n"
		"                          and schemes; docs/usage.md); record times\n"
		"                          still start at 0\n"
		"  -q, --quiet             no progress line, no summary\n"
		"  -h, --help              this text\n"
		"\n"
		"%s"
		"\n"
		"Times take an optional unit: 2.5, 2500ms, 1m.  Exit status: 0 done,\n"
		"1 runtime failure, 2 bad command line, 3 the machine or build lacks\n"
		"what is needed (e.g. no access source for a process).\n",
		cli_params_help);
}

/* ---- parameters and commits ---- */

/*
 * A context holding @run's parameters, to commit into the running one.
 * @attrs are the running context's current attrs, so a pause or resume
 * keeps intervals the auto-tuning has changed.  Its targets have no
 * regions, so the running targets keep theirs; its sim operations set has
 * no workload, so the running one keeps its own.
 */
static struct damon_ctx *param_ctx(struct rec_run *run,
				   const struct damon_attrs *attrs, bool pause)
{
	struct damon_ctx *p = damon_new_ctx();
	struct damon_attrs a = *attrs;
	struct damon_target *t;

	if (!p)
		return NULL;
	if (damon_select_ops(p, run->ops) || damon_set_attrs(p, &a))
		goto fail;
	if (run->overhead_budget >= 0 &&
	    damon_set_overhead_budget(p, (unsigned long)run->overhead_budget))
		goto fail;
	t = damon_new_target();
	if (!t)
		goto fail;
	t->pid = run->pid;
	damon_add_target(p, t);
	if (cli_params_add_schemes(&run->params, p))
		goto fail;
	p->pause = pause;
	/* Commits carry auto pause: keep it as the user asked. */
	damon_set_auto_pause(p, run->auto_pause);
	return p;
fail:
	damon_destroy_ctx(p);
	return NULL;
}

/* On the kdamond: commit @pause online and record the event. */
static int set_pause(struct rec_run *run, bool pause)
{
	struct damon_ctx *p;
	int err;

	if (__atomic_load_n(&run->paused, __ATOMIC_RELAXED) == (int)pause)
		return 0;
	p = param_ctx(run, &run->ctx->attrs, pause);
	if (!p)
		return -ENOMEM;
	err = damon_commit_ctx(run->ctx, p);
	damon_destroy_ctx(p);
	if (err) {
		run->commit_err = err;
		__atomic_store_n(&run->done, 1, __ATOMIC_RELEASE);
		return err;
	}
	udamon_recorder_event(
		run->rec,
		pause ? UDAMON_RECORD_EV_PAUSE : UDAMON_RECORD_EV_RESUME, NULL);
	if (pause)
		run->nr_pauses++;
	__atomic_store_n(&run->paused, pause, __ATOMIC_RELAXED);
	return 0;
}

static uint64_t run_now(struct rec_run *run)
{
	uint64_t now = damon_now_ns(run->ctx);

	return now > run->t0 ? now - run->t0 : 0;
}

/*
 * --checkpoint: save once, where the kdamond serves calls (from its
 * callback) or from the watching thread while the kdamond still runs
 * (damon_checkpoint_save() then goes through damon_call()).
 */
static void save_checkpoint(struct rec_run *run)
{
	if (!run->ckpt_path || run->ckpt_saved)
		return;
	run->ckpt_saved = true;
	run->ckpt_err = damon_checkpoint_save(
		run->ctx, run->ckpt_path, run->ckpt_why, sizeof(run->ckpt_why));
}

/*
 * The first tick after --restore: the checkpoint is installed by now (at
 * this same call point, before the calls).  A virtual clock jumped to the
 * saved time, so the record's time 0 moves to the start of the
 * aggregation window the checkpoint was taken in: record times count from
 * this recording's start, as without --restore, and the first snapshot
 * (that window, finished here) keeps its length.  A checkpoint saved
 * paused starts paused, at time 0 (its window ends after the resume, as
 * a window that spans a pause does in any record): the record says so.
 */
static void restored_fixup(struct rec_run *run)
{
	struct damon_ctx *ctx = run->ctx;

	if (run->virtual_clock && ctx->pause) {
		/* The window goes on after a resume, as in any record. */
		run->t0 = damon_now_ns(ctx);
		udamon_recorder_set_t0(run->rec, run->t0);
	} else if (run->virtual_clock) {
		unsigned long sample_us = ctx->attrs.sample_interval ?: 1;
		unsigned long per_aggr = ctx->attrs.aggr_interval / sample_us;
		unsigned long start_sis = 0, elapsed_sis = 0;
		uint64_t now = damon_now_ns(ctx), elapsed_ns;

		if (ctx->next_aggregation_sis > per_aggr)
			start_sis = ctx->next_aggregation_sis - per_aggr;
		if (ctx->passed_sample_intervals > start_sis)
			elapsed_sis = ctx->passed_sample_intervals - start_sis;
		elapsed_ns = (uint64_t)elapsed_sis * sample_us * 1000;
		run->t0 = now > elapsed_ns ? now - elapsed_ns : 0;
		udamon_recorder_set_t0(run->rec, run->t0);
	}
	if (ctx->pause && !__atomic_load_n(&run->paused, __ATOMIC_RELAXED)) {
		udamon_recorder_event(run->rec, UDAMON_RECORD_EV_PAUSE, NULL);
		run->nr_pauses++;
		__atomic_store_n(&run->paused, 1, __ATOMIC_RELAXED);
	}
}

/* The repeating damon_call(): the schedule, on the context clock. */
static int tick_fn(void *data)
{
	struct rec_run *run = data;
	uint64_t now;

	if (__atomic_load_n(&run->done, __ATOMIC_ACQUIRE))
		return 0;
	if (!run->ticked) {
		run->ticked = true;
		if (run->restoring)
			restored_fixup(run);
	}
	now = run_now(run);
	/* With --virtual the watching thread is the kdamond: toggle here. */
	if (run->virtual_clock && sig_toggle) {
		sig_toggle = 0;
		set_pause(run,
			  !__atomic_load_n(&run->paused, __ATOMIC_RELAXED));
	}
	if (run->have_pause && run->pause_phase == 0 &&
	    now >= run->pause_at_ns) {
		run->pause_phase = 1;
		set_pause(run, true);
	}
	if (run->have_pause && run->pause_phase == 1 &&
	    now >= run->pause_end_ns) {
		run->pause_phase = 2;
		set_pause(run, false);
	}
	if (run->duration_ns && now >= run->duration_ns) {
		/* Exactly at the duration: later snapshots are not written. */
		udamon_recorder_event(run->rec, UDAMON_RECORD_EV_STOP,
				      "duration");
		/* The state the record ends with, on the kdamond itself. */
		save_checkpoint(run);
		__atomic_store_n(&run->done, 1, __ATOMIC_RELEASE);
	}
	return 0;
}

static int save_fn(void *data)
{
	save_checkpoint(data);
	return 0;
}

static int toggle_fn(void *data)
{
	struct rec_run *run = data;

	return set_pause(run, !__atomic_load_n(&run->paused, __ATOMIC_RELAXED));
}

/* ---- launching a command ---- */

/*
 * The preload library: $UDAMON_PRELOAD; else next to this binary, as the
 * build tree has it (BIN/../lib/) or as installed (BIN/../lib/udamon/, so
 * a moved installation still finds its own); else where it was to be
 * installed (PKGLIBDIR, which covers a BINDIR and LIBDIR apart).
 */
static char *find_preload(void)
{
	static const char *const rel[] = { "../lib", "../lib/udamon" };
	const char *env = getenv("UDAMON_PRELOAD");
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;
	char *slash;
	size_t i;

	if (env && *env)
		return access(env, R_OK) ? NULL : strdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				snprintf(path, sizeof(path),
					 "%s/%s/libudamon-preload.so", exe,
					 rel[i]);
				if (!access(path, R_OK))
					return realpath(path, NULL);
			}
		}
	}
	snprintf(path, sizeof(path), "%s/libudamon-preload.so",
		 UDAMON_PKGLIBDIR);
	if (!access(path, R_OK))
		return realpath(path, NULL);
	return NULL;
}

/*
 * Fork and exec @argv under the preload library.  Returns once the exec
 * happened or failed: *@exec_failed says which (the child then exits 127
 * after saying why), so a command that never ran is not monitored.
 */
static pid_t launch(char **argv, const char *preload, bool *exec_failed)
{
	int fds[2], err = 0;
	pid_t pid;
	ssize_t n;

	*exec_failed = false;
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid) {
		close(fds[1]);
		/* The write end closes at exec; an errno arrives on failure. */
		do {
			n = read(fds[0], &err, sizeof(err));
		} while (n < 0 && errno == EINTR);
		close(fds[0]);
		*exec_failed = pid > 0 && n == (ssize_t)sizeof(err);
		return pid;
	}
	close(fds[0]);
	if (preload) {
		const char *old = getenv("LD_PRELOAD");
		char buf[PATH_MAX * 2];

		snprintf(buf, sizeof(buf), "%s%s%s", preload,
			 old && *old ? ":" : "", old && *old ? old : "");
		setenv("LD_PRELOAD", buf, 1);
	}
	signal(SIGUSR1, SIG_DFL);
	execvp(argv[0], argv);
	err = errno;
	fprintf(stderr, "udamon record: %s: %s\n", argv[0], strerror(err));
	if (write(fds[1], &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

static char *join_argv(char **argv)
{
	size_t len = 1, pos = 0, n;
	char *s;
	int i;

	for (i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	for (i = 0; argv[i]; i++) {
		if (i)
			s[pos++] = ' ';
		n = strlen(argv[i]);
		memcpy(s + pos, argv[i], n);
		pos += n;
	}
	s[pos] = '\0';
	return s;
}

/* ---- the output file ---- */

/*
 * As damo does, an existing record is not overwritten: it is renamed to
 * @path.old (replacing an older .old).  Only regular files: a device or
 * a FIFO (/dev/null, a pipe to another program) is written as it is.
 */
static int keep_old_output(const char *path)
{
	struct stat st;
	char *old;
	int err = 0;

	if (stat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		cli_err(CMD, "--output: %s: %s", path, strerror(errno));
		return CLI_EFAIL;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	if (asprintf(&old, "%s.old", path) < 0) {
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	if (rename(path, old)) {
		cli_err(CMD, "--output: cannot keep the existing %s as %s: %s",
			path, old, strerror(errno));
		err = CLI_EFAIL;
	}
	free(old);
	return err;
}

/* ---- progress ---- */

static void progress(struct rec_run *run, bool final)
{
	char sz[32];

	fprintf(stderr,
		"\r\033[Krecording: %.1f s, %lu snapshots, %lu regions, %s%s%s",
		(double)run_now(run) / 1e9,
		udamon_recorder_nr_snapshots(run->rec),
		udamon_recorder_last_nr_regions(run->rec),
		cli_fmt_size(sz, sizeof(sz), udamon_record_writer_bytes(run->w),
			     false),
		__atomic_load_n(&run->paused, __ATOMIC_RELAXED) ? ", PAUSED" :
								  "",
		final ? "\n" : "");
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the two drivers ---- */

/* --virtual: drive the context on this thread.  Returns the stop reason. */
static const char *drive_virtual(struct rec_run *run, bool show)
{
	uint64_t last = mono_ms();
	unsigned long steps = 0;
	int err;

	err = damon_manual_start(run->ctx);
	if (err)
		return NULL;
	run->tick.fn = tick_fn;
	run->tick.data = run;
	run->tick.repeat = true;
	if (damon_call(run->ctx, &run->tick)) {
		damon_manual_stop(run->ctx);
		return NULL;
	}
	for (;;) {
		if (__atomic_load_n(&run->done, __ATOMIC_ACQUIRE))
			break;
		if (sig_stop) {
			/* One more step serves the tick: the checkpoint's point. */
			if (run->ckpt_path && !run->ckpt_saved) {
				run->tick.fn = save_fn;
				damon_manual_step(run->ctx);
			}
			damon_manual_stop(run->ctx);
			return "interrupted";
		}
		if (damon_manual_step(run->ctx)) {
			damon_manual_stop(run->ctx);
			return "target-exited";
		}
		/* A record that cannot be written ends the recording. */
		if (udamon_recorder_error(run->rec)) {
			damon_manual_stop(run->ctx);
			return "write-error";
		}
		if (show && !(++steps & 1023) && mono_ms() - last >= 250) {
			last = mono_ms();
			progress(run, false);
		}
	}
	damon_manual_stop(run->ctx);
	return "duration";
}

/* Real clock: the kdamond runs; this thread watches. */
static const char *drive_real(struct rec_run *run, pid_t child,
			      int *child_status, bool show)
{
	struct damon_call_control toggle = { .fn = toggle_fn, .data = run };
	struct damon_call_control save = { .fn = save_fn, .data = run };
	uint64_t last = 0;
	const char *reason = "duration";

	run->tick.fn = tick_fn;
	run->tick.data = run;
	run->tick.repeat = true;
	if (damon_call(run->ctx, &run->tick))
		return "target-exited";
	for (;;) {
		struct timespec nap = { 0, 20 * 1000 * 1000 };

		if (__atomic_load_n(&run->done, __ATOMIC_ACQUIRE))
			break;
		if (sig_stop) {
			reason = "interrupted";
			break;
		}
		if (!damon_is_running(run->ctx)) {
			reason = "target-exited";
			break;
		}
		if (udamon_recorder_error(run->rec)) {
			reason = "write-error";
			break;
		}
		if (child > 0 &&
		    waitpid(child, child_status, WNOHANG) == child) {
			reason = "target-exited";
			child = 0;
			break;
		}
		if (sig_toggle) {
			sig_toggle = 0;
			/* An online commit from this thread, as a user would. */
			damon_call(run->ctx, &toggle);
		}
		if (show && mono_ms() - last >= 250) {
			last = mono_ms();
			progress(run, false);
		}
		nanosleep(&nap, NULL);
	}
	/*
	 * Not at the duration (interrupted, say): save while it runs, on
	 * the kdamond, one call after the ticks (never two saves at once).
	 */
	if (run->ckpt_path && damon_is_running(run->ctx))
		damon_call(run->ctx, &save);
	damon_stop(&run->ctx, 1);
	return reason;
}

/* ---- the command ---- */

/*
 * Rewrite the finished record at @path in damo's json (or, @compressed,
 * json_compressed) record format.  The record is written in udamon's
 * format while it runs, so that a crash leaves a readable record; only a
 * complete conversion replaces it (rename()).
 */
static int convert_to_damo(const char *path, bool compressed)
{
	struct udamon_record *rec;
	char err[512], *tmp = NULL;
	FILE *f;
	int ret;

	ret = udamon_record_read(path, &rec, err, sizeof(err));
	if (ret) {
		cli_err(CMD, "converting to damo's format: %s", err);
		return CLI_EFAIL;
	}
	if (asprintf(&tmp, "%s.damo-tmp", path) < 0) {
		udamon_record_free(rec);
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	f = fopen(tmp, "wb");
	ret = f ? udamon_record_export_damo(rec, f, compressed) : -errno;
	if (f && fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		cli_err(CMD,
			"writing %s in damo's format failed: %s (%s keeps the record in udamon's format)",
			tmp, strerror(-ret), path);
		remove(tmp);
	}
	free(tmp);
	udamon_record_free(rec);
	return ret ? CLI_EFAIL : CLI_OK;
}

/*
 * --checkpoint FILE is written at the end, as FILE.tmp renamed over FILE:
 * find out now, not after the recording, that its directory refuses it
 * or that FILE is something a checkpoint must not replace.
 */
static int check_checkpoint_path(const char *path)
{
	char *copy = strdup(path);
	struct stat st;
	const char *dir;
	int ret = CLI_OK;

	if (!copy) {
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	dir = dirname(copy);
	if (access(dir, W_OK | X_OK)) {
		cli_err(CMD, "--checkpoint: cannot write in %s: %s", dir,
			strerror(errno));
		ret = CLI_EUSAGE;
	} else if (!lstat(path, &st) && !S_ISREG(st.st_mode)) {
		/* the save would refuse it (it replaces only a file) */
		cli_err(CMD,
			"--checkpoint: %s exists and is not a regular file",
			path);
		ret = CLI_EUSAGE;
	}
	free(copy);
	return ret;
}

int cli_record(int argc, char **argv)
{
	enum {
		OPT_OPS = CLI_OPT_PARAMS_END,
		OPT_WORKLOAD,
		OPT_PID,
		OPT_DURATION,
		OPT_VIRTUAL,
		OPT_SEED,
		OPT_PAUSE_AT,
		OPT_PAUSE_FOR,
		OPT_NO_ATTACH,
		OPT_ACCESS_SOURCE,
		OPT_OVERHEAD_BUDGET,
		OPT_METRICS,
		OPT_OUTPUT_TYPE,
		OPT_AUTO_PAUSE,
		OPT_CHECKPOINT,
		OPT_RESTORE,
	};
	static const struct option longopts[] = {
		CLI_PARAMS_LONGOPTS,
		{ "ops", required_argument, NULL, OPT_OPS },
		{ "workload", required_argument, NULL, OPT_WORKLOAD },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "output", required_argument, NULL, 'o' },
		{ "output-type", required_argument, NULL, OPT_OUTPUT_TYPE },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "virtual", no_argument, NULL, OPT_VIRTUAL },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "pause-at", required_argument, NULL, OPT_PAUSE_AT },
		{ "pause-for", required_argument, NULL, OPT_PAUSE_FOR },
		{ "no-attach", no_argument, NULL, OPT_NO_ATTACH },
		{ "auto-pause", no_argument, NULL, OPT_AUTO_PAUSE },
		{ "access-source", required_argument, NULL, OPT_ACCESS_SOURCE },
		{ "overhead-budget", required_argument, NULL,
		  OPT_OVERHEAD_BUDGET },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
		{ "restore", required_argument, NULL, OPT_RESTORE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_run run = { .ops = NR_DAMON_OPS,
			       .pid = 0,
			       .overhead_budget = -1 };
	struct udamon_record_header hdr = { 0 };
	const char *output = "udamon.rec", *workload = NULL, *reason;
	const char *access_source = NULL, *metrics_spec = NULL;
	const char *restore = NULL;
	struct metrics_server *metrics_srv = NULL;
	int damo_type = 0; /* 1: json, 2: json_compressed */
	double duration = -1, pause_at = -1, pause_for = -1;
	bool quiet = false, has_ops = false, attach = true;
	unsigned long seed = 42;
	char errbuf[512], sz[32], *preload = NULL, *command = NULL;
	struct damon_attrs attrs;
	struct damon_target *t;
	struct sigaction sa;
	int c, err, ret = CLI_EFAIL, child_status = 0, pids[1];
	bool exec_failed = false;
	pid_t child = 0;
	char **cmd_argv = NULL;

	cli_params_init(&run.params);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:o:qh", longopts, NULL)) != -1) {
		err = cli_params_option(&run.params, CMD, c, optarg);
		if (err >= 0) {
			if (err)
				return err;
			continue;
		}
		switch (c) {
		case OPT_OPS:
			if (damon_ops_from_name(optarg, &run.ops) ||
			    (run.ops != DAMON_OPS_SIM &&
			     run.ops != DAMON_OPS_VADDR))
				return cli_bad_arg(
					CMD, "--ops", optarg,
					"is not an operations set record can use (sim, vaddr)");
			has_ops = true;
			break;
		case OPT_WORKLOAD:
			workload = optarg;
			break;
		case OPT_PID:
			err = cli_parse_int(CMD, "--pid", optarg, 1, INT_MAX,
					    &run.pid);
			if (err)
				return err;
			break;
		case OPT_NO_ATTACH:
			attach = false;
			break;
		case OPT_CHECKPOINT:
			if (!*optarg)
				return cli_bad_arg(CMD, "--checkpoint", optarg,
						   "is not a file name");
			run.ckpt_path = optarg;
			break;
		case OPT_RESTORE:
			if (!*optarg)
				return cli_bad_arg(CMD, "--restore", optarg,
						   "is not a file name");
			restore = optarg;
			break;
		case OPT_AUTO_PAUSE:
			run.auto_pause = true;
			break;
		case 'o':
			if (!*optarg)
				return cli_bad_arg(CMD, "--output", optarg,
						   "is empty");
			output = optarg;
			break;
		case OPT_DURATION:
			err = cli_parse_seconds(CMD, "--duration", optarg,
						&duration);
			if (err)
				return err;
			break;
		case OPT_VIRTUAL:
			run.virtual_clock = true;
			break;
		case OPT_SEED:
			err = cli_parse_ulong(CMD, "--seed", optarg, 0,
					      ULONG_MAX, &seed);
			if (err)
				return err;
			break;
		case OPT_PAUSE_AT:
			err = cli_parse_seconds(CMD, "--pause-at", optarg,
						&pause_at);
			if (err)
				return err;
			break;
		case OPT_PAUSE_FOR:
			err = cli_parse_seconds(CMD, "--pause-for", optarg,
						&pause_for);
			if (err)
				return err;
			if (pause_for <= 0)
				return cli_bad_arg(CMD, "--pause-for", optarg,
						   "must be above 0");
			break;
		case OPT_ACCESS_SOURCE:
			if (strcmp(optarg, "auto") &&
			    strcmp(optarg, "page-idle") &&
			    strcmp(optarg, "uffd-wp") &&
			    strcmp(optarg, "uffd-wp-sync"))
				return cli_bad_arg(
					CMD, "--access-source", optarg,
					"expected auto, page-idle, uffd-wp or uffd-wp-sync");
			access_source = optarg;
			break;
		case OPT_OVERHEAD_BUDGET: {
			unsigned long v;

			err = cli_parse_ulong(CMD, "--overhead-budget", optarg,
					      0, 1000000000UL, &v);
			if (err)
				return err;
			run.overhead_budget = (long)v;
			break;
		}
		case OPT_METRICS: {
			struct sockaddr_storage ss;
			unsigned int sslen;

			if (metrics_parse_addr(optarg, &ss, &sslen, errbuf,
					       sizeof(errbuf))) {
				cli_err(CMD, "--metrics: %s", errbuf);
				return CLI_EUSAGE;
			}
			metrics_spec = optarg;
			break;
		}
		case OPT_OUTPUT_TYPE:
			if (!strcmp(optarg, "udamon"))
				damo_type = 0;
			else if (!strcmp(optarg, "json"))
				damo_type = 1;
			else if (!strcmp(optarg, "json_compressed"))
				damo_type = 2;
			else
				return cli_bad_arg(
					CMD, "--output-type", optarg,
					"is not udamon, json or json_compressed");
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv);
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--")) {
			cli_err(CMD,
				"unexpected argument '%s' (a command to launch goes after '--')",
				argv[optind]);
			return CLI_EUSAGE;
		}
		cmd_argv = argv + optind;
	}

	/* Which target, which operations set. */
	if (!!workload + !!run.pid + !!cmd_argv != 1)
		return cli_usage_error(
			CMD,
			"give exactly one target: --workload CFG, --pid PID or -- CMD");
	if (!has_ops)
		run.ops = workload ? DAMON_OPS_SIM : DAMON_OPS_VADDR;
	if (workload && run.ops != DAMON_OPS_SIM)
		return cli_usage_error(CMD, "--workload needs --ops sim");
	if (!workload && run.ops == DAMON_OPS_SIM)
		return cli_usage_error(
			CMD,
			"--ops sim needs --workload CFG (a process is monitored with vaddr)");
	if (run.virtual_clock && run.ops != DAMON_OPS_SIM)
		return cli_usage_error(
			CMD,
			"--virtual works with --ops sim only (a real process runs in real time)");
	if (run.overhead_budget >= 0 && run.ops != DAMON_OPS_VADDR)
		return cli_usage_error(
			CMD,
			"--overhead-budget bounds the uffd-wp source of vaddr; sim has no overhead on a process");
	if ((pause_at >= 0) != (pause_for >= 0))
		return cli_usage_error(
			CMD, "--pause-at and --pause-for go together");
	if (access_source && run.ops != DAMON_OPS_VADDR)
		return cli_usage_error(
			CMD, "--access-source works with --ops vaddr only");
	if (run.auto_pause && run.ops != DAMON_OPS_VADDR)
		return cli_usage_error(
			CMD,
			"--auto-pause watches a process: it works with vaddr only");
	err = cli_params_check(&run.params, CMD, false);
	if (err)
		return err;
	if (run.ckpt_path) {
		err = check_checkpoint_path(run.ckpt_path);
		if (err)
			return err;
	}
	if (damo_type) {
		struct stat st;

		/* converted at the end: read back, then renamed over it */
		if (!stat(output, &st) && !S_ISREG(st.st_mode)) {
			cli_err(CMD,
				"--output-type %s rewrites the record at the end: %s must be a regular file",
				damo_type == 2 ? "json_compressed" : "json",
				output);
			return CLI_EUSAGE;
		}
	}

	if (workload && duration < 0) {
		struct damon_sim_workload_info info;
		struct damon_ctx *probe = damon_new_ctx();

		/* One pass of the workload, as masim runs it (or a replay). */
		if (!probe ||
		    damon_sim_set_workload(probe, workload, errbuf,
					   sizeof(errbuf)) ||
		    damon_sim_workload_info(probe, &info)) {
			if (probe)
				cli_err(CMD, "--workload: %s", errbuf);
			else
				cli_err(CMD, "out of memory");
			damon_destroy_ctx(probe);
			return CLI_EFAIL;
		}
		duration = (double)info.cycle_ns / 1e9;
		damon_destroy_ctx(probe);
	}
	if (duration < 0)
		duration = 0;
	if (run.virtual_clock && duration == 0)
		return cli_usage_error(
			CMD,
			"--virtual needs a --duration above 0 (it would never end)");
	if (pause_at >= 0 && duration > 0 && pause_at >= duration) {
		cli_err(CMD,
			"--pause-at (%.3f s) must come before the end of the recording (%.3f s)",
			pause_at, duration);
		return CLI_EUSAGE;
	}
	run.duration_ns = (uint64_t)llround(duration * 1e9);
	if (pause_at >= 0) {
		run.have_pause = true;
		run.pause_at_ns = (uint64_t)llround(pause_at * 1e9);
		run.pause_end_ns =
			run.pause_at_ns + (uint64_t)llround(pause_for * 1e9);
	}

	quiet_logs = quiet;
	damon_set_log_fn(lib_log, NULL);

	/* The context. */
	if (!damon_is_registered_ops(run.ops)) {
		cli_err(CMD,
			"the '%s' operations set is not available in this build",
			damon_ops_name(run.ops));
		return CLI_EMISSING;
	}
	run.ctx = damon_new_ctx();
	if (!run.ctx) {
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	run.ctx->rnd_seed = seed;
	if (run.virtual_clock)
		damon_use_virtual_clock(run.ctx);
	if (workload) {
		err = damon_sim_set_workload(run.ctx, workload, errbuf,
					     sizeof(errbuf));
		if (err) {
			cli_err(CMD, "--workload: %s", errbuf);
			goto out;
		}
	} else if (damon_select_ops(run.ctx, run.ops)) {
		cli_err(CMD, "cannot select the '%s' operations set",
			damon_ops_name(run.ops));
		goto out;
	}
	if (access_source && damon_set_access_source(run.ctx, access_source)) {
		cli_err(CMD, "cannot select the access source '%s'",
			access_source);
		goto out;
	}
	if (run.overhead_budget >= 0 &&
	    damon_set_overhead_budget(run.ctx,
				      (unsigned long)run.overhead_budget)) {
		cli_err(CMD, "cannot set the overhead budget");
		goto out;
	}
	cli_params_attrs(&run.params, &attrs);
	if (damon_set_attrs(run.ctx, &attrs)) {
		cli_err(CMD,
			"the monitoring parameters are not valid together");
		ret = CLI_EUSAGE;
		goto out;
	}
	if (cli_params_add_schemes(&run.params, run.ctx)) {
		cli_err(CMD, "out of memory");
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	if (cmd_argv) {
		preload = find_preload();
		if (!preload) {
			cli_err(CMD,
				"cannot find libudamon-preload.so next to udamon (../lib/, ../lib/udamon/), in " UDAMON_PKGLIBDIR
				" nor in UDAMON_PRELOAD: without it udamon cannot see the writes of a command it launches");
			ret = CLI_EMISSING;
			goto out;
		}
		command = join_argv(cmd_argv);
		child = launch(cmd_argv, preload, &exec_failed);
		if (child < 0) {
			cli_err(CMD, "cannot launch %s: %s", cmd_argv[0],
				strerror(errno));
			goto out;
		}
		if (exec_failed) {
			waitpid(child, &child_status, 0);
			cli_err(CMD,
				"%s exited (status %d) before monitoring could start",
				cmd_argv[0],
				WIFEXITED(child_status) ?
					WEXITSTATUS(child_status) :
					127);
			child = 0;
			ret = CLI_EMISSING;
			goto out;
		}
		run.pid = child;
	}
	t = damon_new_target();
	if (!t) {
		cli_err(CMD, "out of memory");
		goto out;
	}
	t->pid = run.pid;
	damon_add_target(run.ctx, t);
	damon_set_auto_pause(run.ctx, run.auto_pause);

	if (restore) {
		/* Checked whole now; installed at the kdamond's first call. */
		err = damon_checkpoint_restore(run.ctx, restore, errbuf,
					       sizeof(errbuf));
		if (err) {
			cli_err(CMD, "--restore: %s", errbuf);
			ret = err == -EINVAL || err == -ENOENT ? CLI_EUSAGE :
								 CLI_EFAIL;
			goto out;
		}
		run.restoring = true;
	}

	if (run.ops == DAMON_OPS_VADDR) {
		/*
		 * Any live process is accepted (a launched one registers its
		 * memory as it starts); what is refused is what can never
		 * run, e.g. pageout on the writes-only source without
		 * --allow-cold-on-writes-only.  A launched command has the
		 * preload library: the source attaches to it only if it
		 * registers nothing in 5 s (a static binary).
		 */
		damon_vaddr_set_attach(run.ctx, attach);
		mute_logs = true;
		err = damon_vaddr_check_ctx(run.ctx, errbuf, sizeof(errbuf));
		mute_logs = false;
		if (err) {
			cli_err(CMD, "%s", errbuf);
			ret = CLI_EMISSING;
			goto out;
		}
	}

	/* The record. */
	pids[0] = run.pid;
	hdr.created = (int64_t)time(NULL);
	if (getenv("SOURCE_DATE_EPOCH")) {
		unsigned long v;

		/* Reproducible records: the convention of reproducible builds. */
		if (!cli_parse_ulong(CMD, "SOURCE_DATE_EPOCH",
				     getenv("SOURCE_DATE_EPOCH"), 0, LONG_MAX,
				     &v))
			hdr.created = (int64_t)v;
	}
	hdr.virtual_clock = run.virtual_clock;
	hdr.ops = (char *)damon_ops_name(run.ops);
	hdr.source = (char *)damon_access_source_name(run.ctx);
	hdr.workload = (char *)workload;
	hdr.command = command;
	hdr.seed = seed;
	hdr.update_us = run.params.update_us;
	hdr.min_nr_regions = run.params.min_nr_regions;
	hdr.max_nr_regions = run.params.max_nr_regions;
	hdr.intervals_goal = run.params.goal;
	hdr.nr_targets = 1;
	hdr.pids = pids;
	if (keep_old_output(output))
		goto out;
	err = udamon_record_writer_open(output, &hdr, &run.w);
	if (err) {
		cli_err(CMD, "--output: cannot write %s: %s", output,
			strerror(-err));
		goto out;
	}
	run.t0 = damon_now_ns(run.ctx);
	err = udamon_recorder_new(run.ctx, run.w, run.t0, &run.rec);
	if (err) {
		cli_err(CMD, "out of memory");
		goto out;
	}

	if (metrics_spec) {
		err = cli_record_metrics_start(run.ctx, metrics_spec,
					       &metrics_srv, errbuf,
					       sizeof(errbuf));
		if (err) {
			cli_err(CMD, "--metrics: %s", errbuf);
			goto out;
		}
		/* even with -q: with port 0 this is how to find it */
		fprintf(stderr,
			"udamon record: serving metrics at http://%s/metrics\n",
			metrics_server_address(metrics_srv));
	}
	if (run.virtual_clock) {
		reason = drive_virtual(&run, !quiet && isatty(2));
		if (!reason) {
			cli_err(CMD, "cannot start the context");
			goto out;
		}
	} else {
		err = damon_start(&run.ctx, 1, false);
		if (err) {
			cli_err(CMD, "cannot start monitoring: %s",
				strerror(-err));
			goto out;
		}
		reason = drive_real(&run, child, &child_status,
				    !quiet && isatty(2));
	}
	/* The context is stopped: scrapes would only be refused now. */
	metrics_server_stop(metrics_srv);
	metrics_srv = NULL;
	/* The context is stopped: this thread owns the recorder now. */
	if (!__atomic_load_n(&run.done, __ATOMIC_ACQUIRE))
		udamon_recorder_event(run.rec, UDAMON_RECORD_EV_STOP, reason);
	udamon_recorder_flush(run.rec);
	if (run.commit_err) {
		cli_err(CMD, "online commit of pause/resume failed: %s",
			strerror(-run.commit_err));
		goto out;
	}
	err = udamon_recorder_error(run.rec);
	if (err) {
		cli_err(CMD, "writing %s failed: %s", output, strerror(-err));
		goto out;
	}
	if (run.ckpt_path && (!run.ckpt_saved || run.ckpt_err)) {
		cli_err(CMD, "--checkpoint: %s not saved: %s", run.ckpt_path,
			run.ckpt_saved ?
				run.ckpt_why :
				"the context stopped first (the target exited)");
		goto out;
	}
	if (!quiet) {
		if (isatty(2))
			progress(&run, true);
		fprintf(stderr,
			"udamon record: %lu snapshots, %u pause%s, %.3f s (%s) -> %s (%s)\n",
			udamon_recorder_nr_snapshots(run.rec), run.nr_pauses,
			run.nr_pauses == 1 ? "" : "s",
			(double)run_now(&run) / 1e9, reason, output,
			cli_fmt_size(sz, sizeof(sz),
				     udamon_record_writer_bytes(run.w), false));
		if (restore)
			fprintf(stderr,
				"udamon record: started from the checkpoint %s\n",
				restore);
		if (run.ckpt_path)
			fprintf(stderr,
				"udamon record: checkpoint saved to %s\n",
				run.ckpt_path);
	}
	ret = CLI_OK;
out:
	metrics_server_stop(metrics_srv);
	if (child > 0) {
		/* Recording ended before the command: end it too. */
		if (waitpid(child, &child_status, WNOHANG) == 0) {
			kill(child, SIGTERM);
			waitpid(child, &child_status, 0);
		}
	}
	udamon_recorder_destroy(run.rec);
	if (run.w && udamon_record_writer_close(run.w) && ret == CLI_OK) {
		cli_err(CMD, "closing %s failed", output);
		ret = CLI_EFAIL;
	}
	if (ret == CLI_OK && damo_type)
		ret = convert_to_damo(output, damo_type == 2);
	if (run.ctx)
		damon_destroy_ctx(run.ctx);
	free(preload);
	free(command);
	return ret;
}
