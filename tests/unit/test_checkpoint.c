// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Checkpoint and restore (src/core/checkpoint.c).
 *
 * The main case runs a sim context with schemes, quotas, a quota goal and
 * intervals tuning three ways: uninterrupted, checkpointed at a given
 * sample, and restored from that file in a NEW process (this program
 * exec'd again) and resumed.  The restored run must end bit-identical to
 * the uninterrupted one: every region's range, counters and age, the
 * tuned intervals, the PRNG, every scheme's stats and quota state, the
 * sim's paged-out pages.  The other cases feed restore missing,
 * truncated, corrupted, foreign-version and mismatched files and check
 * that each is refused with a reason and changes nothing.
 */
#include <udamon/damon.h>

#include "../lib/tap.h"
#include "sys/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Hot and cold memory, phases that move the hot part around. */
static const char workload[] = "hot,8388608\n"
			       "cold,33554432\n"
			       "\n"
			       "hot_rnd\n800\n"
			       "hot,1,0,1\n"
			       "\n"
			       "both\n700\n"
			       "hot,1,0,1\n"
			       "cold,0,65536,1\n"
			       "\n"
			       "idle\n500\n"
			       "hot,0,1048576,1\n";

#define SAVE_AT 517 /* an odd sample, in the middle of a window */
#define RUN_TO 1300

static char errbuf[512];
static char tmpdir[256];
/* This program, for the restore in a new process (argv[0], resolved). */
static char self_path[4096];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/udamon-ckpt-test.XXXXXX");
	if (!mkdtemp(tmpdir))
		tmpdir[0] = '\0';
}

static void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static struct damon_ctx *make_ctx(unsigned int nr_schemes)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_attrs attrs;
	struct damon_target *t;
	unsigned int i;

	if (!ctx)
		return NULL;
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = 1234;
	if (damon_sim_set_workload_buf(ctx, workload, strlen(workload),
				       "ckpt.cfg", errbuf, sizeof(errbuf))) {
		tap_diag("workload: %s", errbuf);
		damon_destroy_ctx(ctx);
		return NULL;
	}
	attrs = ctx->attrs;
	attrs.sample_interval = 5000;
	attrs.aggr_interval = 50000;
	attrs.intervals_goal.access_bp = 400;
	attrs.intervals_goal.aggrs = 3;
	attrs.intervals_goal.min_sample_us = 2000;
	attrs.intervals_goal.max_sample_us = 10000;
	attrs.min_nr_regions = 10;
	attrs.max_nr_regions = 200;
	damon_set_attrs(ctx, &attrs);
	t = damon_new_target();
	if (!t) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	damon_add_target(ctx, t);
	for (i = 0; i < nr_schemes; i++) {
		struct damos_access_pattern pat = {
			.min_sz_region = 4096,
			.max_sz_region = ~0UL,
			.min_nr_accesses = 0,
			.max_nr_accesses = i ? ~0U : 0,
			.min_age_region = i ? 0 : 3,
			.max_age_region = ~0U,
		};
		struct damos_quota quota = {
			.reset_interval = 200,
			.sz = i ? 0 : 4 << 20,
			.weight_sz = 1,
			.weight_nr_accesses = 1,
			.weight_age = 1,
		};
		struct damos *s =
			damon_new_scheme(&pat, i ? DAMOS_STAT : DAMOS_PAGEOUT,
					 0, &quota, NULL, -1);

		if (!s) {
			damon_destroy_ctx(ctx);
			return NULL;
		}
		if (!i) {
			struct damos_quota_goal *g = damos_new_quota_goal(
				DAMOS_QUOTA_SOME_MEM_PSI_US, 2000);

			if (g)
				damos_add_quota_goal(&s->quota, g);
		}
		damon_add_scheme(ctx, s);
	}
	return ctx;
}

/* Everything that the checkpoint must carry over, as text. */
static char *dump_state(struct damon_ctx *ctx)
{
	struct damon_target *t;
	struct damon_region *r;
	struct damos *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "psi %lu now %llu rnd %llu pause %d\n",
		ctx->passed_sample_intervals,
		(unsigned long long)damon_now_ns(ctx),
		(unsigned long long)ctx->rnd_state, ctx->pause);
	fprintf(f, "attrs %lu %lu %lu next %lu %lu %lu\n",
		ctx->attrs.sample_interval, ctx->attrs.aggr_interval,
		ctx->attrs.aggr_samples, ctx->next_aggregation_sis,
		ctx->next_ops_update_sis, ctx->next_intervals_tune_sis);
	damon_for_each_target(t, ctx) {
		fprintf(f, "target nr_regions %u resident %lu refaults %lu\n",
			damon_nr_regions(t), damon_sim_resident_bytes(ctx, t),
			damon_sim_refaults(ctx, t));
		damon_for_each_region(r, t)
			fprintf(f, "  %lx-%lx s%lx n%u bp%u l%u a%u\n",
				r->ar.start, r->ar.end, r->sampling_addr,
				r->nr_accesses, r->nr_accesses_bp,
				r->last_nr_accesses, r->age);
	}
	damon_for_each_scheme(s, ctx) {
		struct damos_quota_goal *g;

		fprintf(f,
			"scheme %d stat %lu %lu %lu %lu %lu %lu %lu quota "
			"%lu %lu %llu %lu %llu %d %lu %lu %u next %lu\n",
			s->action, s->stat.nr_tried, s->stat.sz_tried,
			s->stat.nr_applied, s->stat.sz_applied,
			s->stat.sz_ops_filter_passed, s->stat.qt_exceeds,
			s->stat.nr_snapshots, s->quota.esz,
			s->quota.total_charged_sz,
			(unsigned long long)s->quota.total_charged_ns,
			s->quota.charged_sz,
			(unsigned long long)s->quota.charged_from,
			s->quota.charged_from_set, s->quota.charge_addr_from,
			s->quota.esz_bp, s->quota.min_score, s->next_apply_sis);
		damos_for_each_quota_goal(g, &s->quota)
			fprintf(f, "  goal %d %lu %llu\n", g->metric,
				g->current_value,
				(unsigned long long)g->last_psi_total);
	}
	fclose(f);
	return buf;
}

struct saver {
	struct damon_ctx *ctx;
	const char *path;
	unsigned long at;
	bool pause_first;
	int err;
	bool done;
	char *dump;
};

/* A repeat call: checkpoint at the call point of sample @at. */
static int saver_fn(void *data)
{
	struct saver *sv = data;

	if (sv->done || sv->ctx->passed_sample_intervals != sv->at)
		return 0;
	sv->done = true;
	if (sv->pause_first)
		sv->ctx->pause = true;
	sv->err = damon_checkpoint_save(sv->ctx, sv->path, errbuf,
					sizeof(errbuf));
	sv->dump = dump_state(sv->ctx);
	return 0;
}

static void run_until(struct damon_ctx *ctx, unsigned long psi)
{
	while (ctx->passed_sample_intervals < psi)
		if (damon_manual_step(ctx))
			break;
}

/* Run to SAVE_AT, checkpoint into @path, stop.  Returns the dump then. */
static char *save_run(const char *path, bool paused)
{
	struct damon_ctx *ctx = make_ctx(2);
	struct saver sv = { .path = path,
			    .at = SAVE_AT,
			    .pause_first = paused };
	struct damon_call_control *ctl;

	if (!ctx)
		return NULL;
	sv.ctx = ctx;
	ctl = calloc(1, sizeof(*ctl));
	ctl->fn = saver_fn;
	ctl->data = &sv;
	ctl->repeat = true;
	ctl->dealloc_on_cancel = true;
	if (damon_manual_start(ctx)) {
		damon_destroy_ctx(ctx);
		free(ctl);
		return NULL;
	}
	CHECK_EQ(damon_call(ctx, ctl), 0);
	while (!sv.done)
		if (damon_manual_step(ctx))
			break;
	CHECK(sv.done);
	CHECK_EQ(sv.err, 0);
	if (sv.err)
		tap_diag("save: %s", errbuf);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	return sv.dump;
}

/* The restored run, in a new process: restore, resume, dump to a file. */
static int restore_child(const char *ckpt, const char *out)
{
	struct damon_ctx *ctx = make_ctx(2);
	char *dump;
	FILE *f;
	int err;

	if (!ctx)
		return 2;
	if (damon_manual_start(ctx))
		return 3;
	err = damon_checkpoint_restore(ctx, ckpt, errbuf, sizeof(errbuf));
	if (err) {
		fprintf(stderr, "restore: %s (%d)\n", errbuf, err);
		return 4;
	}
	run_until(ctx, RUN_TO);
	dump = dump_state(ctx);
	f = fopen(out, "w");
	if (!f || !dump)
		return 5;
	fputs(dump, f);
	fclose(f);
	free(dump);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	return 0;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int run_restore_child(const char *ckpt, const char *out)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (!pid) {
		execl(self_path, "test_checkpoint", "--restore-child", ckpt,
		      out, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Print the first differing line of two dumps. */
static void diag_diff(const char *a, const char *b)
{
	int line = 1;

	while (*a && *a == *b) {
		if (*a == '\n')
			line++;
		a++;
		b++;
	}
	tap_diag("dumps differ at line %d: '%.60s' vs '%.60s'", line, a, b);
}

static void test_restore_in_new_process_is_bit_identical(void)
{
	struct damon_ctx *ctx = make_ctx(2);
	char ckpt[300], out[300];
	char *whole, *saved, *restored;

	REQUIRE(ctx);
	make_tmpdir();
	REQUIRE(tmpdir[0]);
	tmp_path(ckpt, sizeof(ckpt), "a.ckpt");
	tmp_path(out, sizeof(out), "restored.txt");

	/* Uninterrupted. */
	REQUIRE(damon_manual_start(ctx) == 0);
	run_until(ctx, RUN_TO);
	whole = dump_state(ctx);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);

	/* Checkpointed and stopped; restored by another process. */
	saved = save_run(ckpt, false);
	REQUIRE(saved && whole);
	CHECK_EQ(run_restore_child(ckpt, out), 0);
	restored = read_text(out);
	REQUIRE(restored);
	CHECK(strstr(whole, "psi 1300 ") == whole);
	/* The run did things worth carrying over. */
	CHECK(strstr(whole, "refaults 0") == NULL);
	if (getenv("CKPT_DUMP"))
		fputs(whole, stderr);
	CHECK(!strcmp(whole, restored));
	if (strcmp(whole, restored))
		diag_diff(whole, restored);
	free(whole);
	free(saved);
	free(restored);
	unlink(ckpt);
	unlink(out);
	rmdir(tmpdir);
}

/*
 * Without the checkpoint (a fresh run restored from nothing) the same
 * comparison fails: the test can tell a restore from a restart.
 */
static void test_fresh_run_differs(void)
{
	struct damon_ctx *a = make_ctx(2), *b = make_ctx(2);
	char *da, *db;

	REQUIRE(a && b);
	REQUIRE(damon_manual_start(a) == 0);
	run_until(a, RUN_TO);
	da = dump_state(a);
	damon_manual_stop(a);
	REQUIRE(damon_manual_start(b) == 0);
	run_until(b, RUN_TO - SAVE_AT);
	db = dump_state(b);
	damon_manual_stop(b);
	CHECK(da && db && strcmp(da, db));
	free(da);
	free(db);
	damon_destroy_ctx(a);
	damon_destroy_ctx(b);
}

/* A checkpoint saved paused restores paused, with the state saved. */
static void test_saved_paused_restores_paused(void)
{
	struct damon_ctx *ctx;
	char ckpt[300];
	char *saved, *now;

	make_tmpdir();
	REQUIRE(tmpdir[0]);
	tmp_path(ckpt, sizeof(ckpt), "p.ckpt");
	saved = save_run(ckpt, true);
	REQUIRE(saved);
	ctx = make_ctx(2);
	REQUIRE(ctx);
	REQUIRE(damon_manual_start(ctx) == 0);
	CHECK_EQ(damon_checkpoint_restore(ctx, ckpt, errbuf, sizeof(errbuf)),
		 0);
	CHECK(damon_checkpoint_pending(ctx));
	/* Installed at the first call point, then it waits paused. */
	CHECK_EQ(damon_manual_step(ctx), 0);
	CHECK(!damon_checkpoint_pending(ctx));
	CHECK(ctx->pause);
	/* The pause round after the restore took one sample interval. */
	now = dump_state(ctx);
	REQUIRE(now);
	CHECK(!strcmp(strstr(saved, " rnd"), strstr(now, " rnd")));
	if (strcmp(strstr(saved, " rnd"), strstr(now, " rnd")))
		diag_diff(strstr(saved, " rnd"), strstr(now, " rnd"));
	free(now);
	/* Many rounds later nothing moved but the clock. */
	for (int i = 0; i < 50; i++)
		CHECK_EQ(damon_manual_step(ctx), 0);
	CHECK_EQ(ctx->passed_sample_intervals, SAVE_AT);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	free(saved);
	unlink(ckpt);
	rmdir(tmpdir);
}

static int write_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, p, n);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

/*
 * Refuse @path with @want_err and a reason containing @want_why, and
 * leave the running context exactly as it was.
 */
static void expect_refused(const char *path, int want_err, const char *want_why,
			   unsigned int nr_schemes)
{
	struct damon_ctx *ctx = make_ctx(nr_schemes);
	char *before, *after;
	int err;

	REQUIRE(ctx);
	REQUIRE(damon_manual_start(ctx) == 0);
	run_until(ctx, 100);
	before = dump_state(ctx);
	errbuf[0] = '\0';
	err = damon_checkpoint_restore(ctx, path, errbuf, sizeof(errbuf));
	CHECK_EQ(err, want_err);
	CHECK(strstr(errbuf, want_why) != NULL);
	if (!strstr(errbuf, want_why))
		tap_diag("reason '%s' lacks '%s'", errbuf, want_why);
	CHECK(!damon_checkpoint_pending(ctx));
	CHECK_EQ(damon_manual_step(ctx), 0);
	after = dump_state(ctx);
	/* One more step of its own, not a jump to the checkpoint. */
	CHECK_EQ(ctx->passed_sample_intervals, 101);
	CHECK(before && after && strcmp(before, after));
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	free(before);
	free(after);
}

static void test_bad_files_refused(void)
{
	char ckpt[300], bad[300];
	unsigned char *data;
	size_t len;
	char *saved;
	FILE *f;

	make_tmpdir();
	REQUIRE(tmpdir[0]);
	tmp_path(ckpt, sizeof(ckpt), "good.ckpt");
	tmp_path(bad, sizeof(bad), "bad.ckpt");
	saved = save_run(ckpt, false);
	REQUIRE(saved);
	free(saved);
	f = fopen(ckpt, "r");
	REQUIRE(f);
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	data = malloc(len);
	REQUIRE(data && fread(data, 1, len, f) == len);
	fclose(f);

	expect_refused(bad, -ENOENT, "cannot open", 2);

	REQUIRE(write_bytes(bad, data, len - 100) == 0);
	expect_refused(bad, -EINVAL, "truncated", 2);
	REQUIRE(write_bytes(bad, data, 12) == 0);
	expect_refused(bad, -EINVAL, "truncated", 2);

	data[len / 2] ^= 0x10;
	REQUIRE(write_bytes(bad, data, len) == 0);
	expect_refused(bad, -EINVAL, "checksum", 2);
	data[len / 2] ^= 0x10;

	data[8] = 7; /* version */
	REQUIRE(write_bytes(bad, data, len) == 0);
	expect_refused(bad, -EINVAL, "version 7", 2);
	data[8] = 1;

	data[0] = 'X';
	REQUIRE(write_bytes(bad, data, len) == 0);
	expect_refused(bad, -EINVAL, "not a udamon checkpoint", 2);
	data[0] = 'U';

	/* The good file, against a context with one scheme less. */
	expect_refused(ckpt, -EINVAL, "2 schemes, the context 1", 1);

	/* Appended garbage. */
	f = fopen(bad, "w");
	REQUIRE(f);
	fwrite(data, 1, len, f);
	fputs("junk", f);
	fclose(f);
	expect_refused(bad, -EINVAL, "garbage", 2);

	free(data);
	unlink(ckpt);
	unlink(bad);
	rmdir(tmpdir);
}

/* Another workload: the sim refuses the model. */
static void test_other_workload_refused(void)
{
	static const char other[] = "x,4096000\n\np\n100\nx,1,0,1\n";
	struct damon_ctx *ctx;
	char ckpt[300];
	char *saved;

	make_tmpdir();
	REQUIRE(tmpdir[0]);
	tmp_path(ckpt, sizeof(ckpt), "w.ckpt");
	saved = save_run(ckpt, false);
	REQUIRE(saved);
	free(saved);
	ctx = make_ctx(2);
	REQUIRE(ctx);
	REQUIRE(damon_sim_set_workload_buf(ctx, other, strlen(other), "o.cfg",
					   errbuf, sizeof(errbuf)) == 0);
	CHECK_EQ(damon_checkpoint_restore(ctx, ckpt, errbuf, sizeof(errbuf)),
		 -EINVAL);
	CHECK(strstr(errbuf, "workload differs") != NULL);
	CHECK(!damon_checkpoint_pending(ctx));
	damon_destroy_ctx(ctx);
	unlink(ckpt);
	rmdir(tmpdir);
}

/* Saving needs a running context; on the driver, only in a callback. */
static void test_save_rules(void)
{
	struct damon_ctx *ctx = make_ctx(1);
	char ckpt[300];

	REQUIRE(ctx);
	make_tmpdir();
	tmp_path(ckpt, sizeof(ckpt), "r.ckpt");
	CHECK_EQ(damon_checkpoint_save(ctx, ckpt, errbuf, sizeof(errbuf)),
		 -ESRCH);
	REQUIRE(damon_manual_start(ctx) == 0);
	CHECK_EQ(damon_checkpoint_save(ctx, ckpt, errbuf, sizeof(errbuf)),
		 -EDEADLK);
	CHECK(access(ckpt, F_OK) != 0);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
	rmdir(tmpdir);
}

struct psi_arg {
	struct damon_ctx *ctx;
	bool pause;
	unsigned long psi;
};

static int psi_fn(void *data)
{
	struct psi_arg *a = data;

	a->psi = a->ctx->passed_sample_intervals;
	if (a->pause)
		a->ctx->pause = true;
	a->pause = a->ctx->pause;
	return 0;
}

/* Read passed_sample_intervals (and maybe pause) on the kdamond. */
static unsigned long psi_of(struct damon_ctx *ctx, bool *pause)
{
	struct psi_arg a = { .ctx = ctx, .pause = pause && *pause };
	struct damon_call_control c = { .fn = psi_fn, .data = &a };

	damon_call(ctx, &c);
	if (pause)
		*pause = a.pause;
	return a.psi;
}

/* A real kdamond thread: save and restore go through damon_call(). */
static void test_threaded_save_restore(void)
{
	struct damon_ctx *a = make_ctx(2), *b = make_ctx(2);
	char ckpt[300], other[300];
	struct stat st;
	bool pause;

	REQUIRE(a && b);
	make_tmpdir();
	tmp_path(ckpt, sizeof(ckpt), "t.ckpt");
	REQUIRE(damon_start(&a, 1, false) == 0);
	REQUIRE(damon_start(&b, 1, false) == 0);
	/* Let a learn for a while (its virtual clock runs fast). */
	while (psi_of(a, NULL) < 400)
		usleep(1000);
	pause = true;
	psi_of(a, &pause);
	/* Only a file is replaced: a FIFO or a symlink named is refused. */
	tmp_path(other, sizeof(other), "fifo");
	REQUIRE(mkfifo(other, 0600) == 0);
	CHECK_EQ(damon_checkpoint_save(a, other, errbuf, sizeof(errbuf)),
		 -EINVAL);
	CHECK(strstr(errbuf, "not a regular file"));
	REQUIRE(lstat(other, &st) == 0);
	CHECK(S_ISFIFO(st.st_mode));
	unlink(other);
	REQUIRE(symlink(ckpt, other) == 0);
	CHECK_EQ(damon_checkpoint_save(a, other, errbuf, sizeof(errbuf)),
		 -EINVAL);
	REQUIRE(lstat(other, &st) == 0);
	CHECK(S_ISLNK(st.st_mode));
	unlink(other);
	CHECK_EQ(damon_checkpoint_save(a, ckpt, errbuf, sizeof(errbuf)), 0);
	/* ... and a file is: saved again over the first one. */
	CHECK_EQ(damon_checkpoint_save(a, ckpt, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ(damon_checkpoint_restore(b, ckpt, errbuf, sizeof(errbuf)), 0);
	/* b was restored paused: both wait with the same learned state. */
	pause = false;
	CHECK_EQ(psi_of(b, &pause), psi_of(a, NULL));
	CHECK(pause);
	damon_stop(&a, 1);
	damon_stop(&b, 1);
	damon_destroy_ctx(a);
	damon_destroy_ctx(b);
	unlink(ckpt);
	rmdir(tmpdir);
}

/*
 * Every allocation of a restore failing in turn: a clean -ENOMEM, nothing
 * pending, nothing leaked (ASan); then every allocation of the install
 * (on the kdamond) failing in turn: the context goes on, restored or not.
 */
static void test_restore_out_of_memory(void)
{
	char ckpt[300];
	char *saved;
	unsigned long n;

	make_tmpdir();
	REQUIRE(tmpdir[0]);
	tmp_path(ckpt, sizeof(ckpt), "m.ckpt");
	saved = save_run(ckpt, false);
	REQUIRE(saved);
	free(saved);
	for (n = 1; n < 1000; n++) {
		struct damon_ctx *ctx = make_ctx(2);
		bool failed;
		int err;

		REQUIRE(ctx);
		udamon__alloc_fail_at(n);
		err = damon_checkpoint_restore(ctx, ckpt, errbuf,
					       sizeof(errbuf));
		failed = udamon__alloc_failed();
		udamon__alloc_fail_at(0);
		if (!failed) {
			CHECK_EQ(err, 0);
			CHECK(damon_checkpoint_pending(ctx));
			damon_destroy_ctx(ctx);
			break;
		}
		CHECK(err == -ENOMEM);
		CHECK(!damon_checkpoint_pending(ctx));
		damon_destroy_ctx(ctx);
	}
	CHECK(n > 3 && n < 1000);
	for (n = 1; n < 1000; n++) {
		struct damon_ctx *ctx = make_ctx(2);
		bool failed;

		REQUIRE(ctx);
		REQUIRE(damon_manual_start(ctx) == 0);
		REQUIRE(damon_checkpoint_restore(ctx, ckpt, errbuf,
						 sizeof(errbuf)) == 0);
		udamon__alloc_fail_at(n);
		damon_manual_step(ctx);
		failed = udamon__alloc_failed();
		udamon__alloc_fail_at(0);
		CHECK(!damon_checkpoint_pending(ctx));
		CHECK(ctx->passed_sample_intervals == 1 ||
		      ctx->passed_sample_intervals == SAVE_AT);
		damon_manual_stop(ctx);
		damon_destroy_ctx(ctx);
		if (!failed)
			break;
	}
	CHECK(n < 1000);
	unlink(ckpt);
	rmdir(tmpdir);
}

/* ---- vaddr: restore onto another process ---- */

#define CHILD_AREA (8UL << 20)

/* The writer process: register an area for uffd-wp, write it forever. */
static int writer_main(int ready_fd)
{
	char *a = mmap(NULL, CHILD_AREA, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long i;
	char ok;

	/* A test that fails early must not leave the writer holding its
	 * output pipe open (the runner would wait for it forever). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1 || a == MAP_FAILED)
		return 1;
	memset(a, 1, CHILD_AREA);
	ok = damon_uffd_self_register(a, CHILD_AREA) ? 'n' : 'y';
	if (write(ready_fd, &ok, 1) != 1)
		return 1;
	for (i = 0;; i++)
		a[(i * 4096) % CHILD_AREA] = (char)i;
}

/*
 * A writer process of its own program image (exec'd, so the address
 * space layout is randomized anew: another layout than its sibling's).
 */
static pid_t spawn_writer(void)
{
	int fds[2];
	pid_t pid;
	char ok = 0, fd[16];

	if (pipe(fds))
		return -1;
	pid = fork();
	if (!pid) {
		close(fds[0]);
		snprintf(fd, sizeof(fd), "%d", fds[1]);
		execl(self_path, "test_checkpoint", "--writer", fd,
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], &ok, 1) != 1 || ok != 'y') {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		pid = -1;
	}
	close(fds[0]);
	return pid;
}

static struct damon_ctx *vaddr_ctx(pid_t pid)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_attrs attrs;
	struct damon_target *t;

	if (!ctx || damon_select_ops(ctx, DAMON_OPS_VADDR))
		return NULL;
	attrs = ctx->attrs;
	attrs.sample_interval = 2000;
	attrs.aggr_interval = 20000;
	attrs.ops_update_interval = 60000000; /* never, in this test */
	damon_set_attrs(ctx, &attrs);
	t = damon_new_target();
	if (!t)
		return NULL;
	t->pid = pid;
	damon_add_target(ctx, t);
	damon_set_access_source(ctx, "uffd-wp");
	damon_vaddr_set_attach(ctx, false);
	return ctx;
}

struct span_arg {
	struct damon_ctx *ctx;
	unsigned long start, end, psi;
};

static int span_fn(void *data)
{
	struct span_arg *a = data;
	struct damon_target *t;

	a->psi = a->ctx->passed_sample_intervals;
	damon_for_each_target(t, a->ctx) {
		a->start = damon_first_region(t)->ar.start;
		a->end = damon_last_region(t)->ar.end;
	}
	return 0;
}

static void span_of(struct damon_ctx *ctx, struct span_arg *a)
{
	struct damon_call_control c = { .fn = span_fn, .data = a };

	a->ctx = ctx;
	damon_call(ctx, &c);
}

/* Lowest start and highest end of the mappings of @pid. */
static void maps_span(pid_t pid, unsigned long *lo, unsigned long *hi)
{
	char path[64], line[512];
	unsigned long s, e;
	FILE *f;

	*lo = ~0UL;
	*hi = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &s, &e) != 2 ||
		    strstr(line, "[vsyscall]"))
			continue;
		if (s < *lo)
			*lo = s;
		if (e > *hi)
			*hi = e;
	}
	fclose(f);
}

/*
 * A checkpoint of one process restored onto another (a restarted
 * program): the counters go on from the saved ones, and the saved
 * regions are fitted to the new process's mappings at the end of the
 * first iteration, not at the next ops update (a minute away here).
 */
static void test_vaddr_restore_onto_new_pid(void)
{
	pid_t p1 = -1, p2 = -1;
	struct damon_ctx *a = NULL, *b = NULL;
	struct span_arg sa = { 0 }, sb = { 0 };
	unsigned long lo, hi;
	char ckpt[300];
	int pidfd;

	/* vaddr holds each target by pidfd; valgrind knows no pidfd_open. */
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0) {
		tap_skip("pidfd_open unavailable here");
		return;
	}
	close(pidfd);
	p1 = spawn_writer();
	p2 = spawn_writer();
	make_tmpdir();
	tmp_path(ckpt, sizeof(ckpt), "v.ckpt");
	if (p1 < 0 || p2 < 0) {
		tap_skip("userfaultfd write-protect unavailable here");
		goto out;
	}
	a = vaddr_ctx(p1);
	b = vaddr_ctx(p2);
	CHECK(a && b);
	if (!a || !b)
		goto out;
	CHECK_EQ(damon_start(&a, 1, false), 0);
	CHECK_EQ(damon_start(&b, 1, false), 0);
	if (!damon_is_running(a) || !damon_is_running(b))
		goto out;
	/* Bounded: a kdamond that stopped must fail the test, not hang it. */
	for (int i = 0; i < 30000 && psi_of(a, NULL) < 100; i++) {
		if (!damon_is_running(a))
			break;
		usleep(2000);
	}
	CHECK(psi_of(a, NULL) >= 100);
	span_of(a, &sa); /* sa.psi: at most the saved one */
	CHECK_EQ(damon_checkpoint_save(a, ckpt, errbuf, sizeof(errbuf)), 0);
	CHECK_EQ(damon_checkpoint_restore(b, ckpt, errbuf, sizeof(errbuf)), 0);
	/* One more iteration: the fit ran at its end. */
	usleep(20000);
	span_of(b, &sb);
	maps_span(p2, &lo, &hi);
	CHECK(sb.psi >= sa.psi);
	/* The three-regions rule spans the new process's mappings. */
	CHECK(sb.start == lo && sb.end == hi);
	if (sb.psi < sa.psi || sb.start != lo || sb.end != hi)
		tap_diag("saved psi %lu %lx-%lx, restored psi %lu %lx-%lx, "
			 "maps %lx-%lx: %s",
			 sa.psi, sa.start, sa.end, sb.psi, sb.start, sb.end, lo,
			 hi, errbuf);
	/* Without ASLR the test cannot tell a fit from none. */
	if (sa.start == lo && sa.end == hi)
		tap_diag("both processes have the same layout (no ASLR?)");

out:
	if (a) {
		damon_stop(&a, 1);
		damon_destroy_ctx(a);
	}
	if (b) {
		damon_stop(&b, 1);
		damon_destroy_ctx(b);
	}
	for (int i = 0; i < 2; i++) {
		pid_t p = i ? p2 : p1;

		if (p > 0) {
			kill(p, SIGKILL);
			waitpid(p, NULL, 0);
		}
	}
	unlink(ckpt);
	rmdir(tmpdir);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_vaddr_restore_onto_new_pid),
	TAP_CASE(test_restore_out_of_memory),
	TAP_CASE(test_restore_in_new_process_is_bit_identical),
	TAP_CASE(test_fresh_run_differs),
	TAP_CASE(test_saved_paused_restores_paused),
	TAP_CASE(test_bad_files_refused),
	TAP_CASE(test_other_workload_refused),
	TAP_CASE(test_save_rules),
	TAP_CASE(test_threaded_save_restore),
};

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--restore-child"))
		return restore_child(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "--writer"))
		return writer_main(atoi(argv[2]));
	/* Not /proc/self/exe: under valgrind that is valgrind. */
	if (!realpath(argv[0], self_path))
		snprintf(self_path, sizeof(self_path), "/proc/self/exe");
	return tap_main(cases, TAP_NR(cases));
}
