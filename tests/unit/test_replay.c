// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Tests of replayed sim workloads (src/ops/replay.c, src/ops/sim.c):
 * format sniffing, the page-access trace parser and its refusals, the
 * record reader, the exact trace model (checks, ground truth, pageout and
 * refaults) and the recorded-rate model.
 */
#include "../lib/tap.h"

#include "ops/replay.h"
#include "record/record.h"
#include "sys/alloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char errbuf[512];

#define PAGE 4096UL
#define A 0x10000000UL /* accessed in every 1 ms window */
#define B 0x20000000UL /* 16 pages, accessed in windows 50 to 59 */

/* The trace of the exact-model tests: 100 ms, 1 ms windows. */
static char *make_trace(size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	unsigned int w, p;

	if (!buf)
		return NULL;
	n += (size_t)snprintf(
		buf + n, cap - n,
		"# test trace\nudamon-trace 1\nquantum_ns 1000000\n"
		"duration_ns 100000000\n");
	for (w = 0; w < 100; w++) {
		n += (size_t)snprintf(buf + n, cap - n, "%u 0x%lx r\n",
				      w * 1000000 + 10, A + 8);
		if (w < 50 || w >= 60)
			continue;
		for (p = 0; p < 16; p++)
			n += (size_t)snprintf(buf + n, cap - n, "%u %lu w\n",
					      w * 1000000 + 500 + p,
					      B + p * PAGE + 100);
	}
	*len = n;
	return buf;
}

static void test_sniff(void)
{
	static const char gz[] = { 0x1f, (char)0x8b, 8, 0 };

	CHECK_STREQ(udamon__replay_sniff("udamon-record 1\n", 16), "record");
	CHECK_STREQ(udamon__replay_sniff("udamon-trace 1\n", 15), "trace");
	CHECK_STREQ(udamon__replay_sniff("# c\n\n udamon-trace 1\n", 21),
		    "trace");
	CHECK_STREQ(udamon__replay_sniff("  [{\"kdamond\"", 13), "damo");
	CHECK_STREQ(udamon__replay_sniff(gz, sizeof(gz)), "damo");
	CHECK(!udamon__replay_sniff("a, 4096\n\np\n10\na,0,1,1\n", 22));
	CHECK(!udamon__replay_sniff("udamon-tracer 1\n", 16));
	CHECK(!udamon__replay_sniff("", 0));
}

static void test_trace_parse(void)
{
	struct sim_replay *rp = NULL;
	size_t len;
	char *buf = make_trace(&len);

	REQUIRE(buf);
	REQUIRE(udamon__replay_parse_trace(buf, len, "t", &rp, errbuf,
					   sizeof(errbuf)) == 0);
	CHECK(rp->exact);
	CHECK_EQ(rp->nr_snapshots, 100);
	CHECK_EQ(rp->nr_accesses, 100 + 10 * 16);
	CHECK_EQ(rp->snapshots[0].nr_regions, 1);
	CHECK_EQ(rp->snapshots[0].regions[0].start, A);
	CHECK_EQ(rp->snapshots[0].regions[0].end, A + PAGE);
	/* B's 16 pages are one run, after A's page. */
	CHECK_EQ(rp->snapshots[55].nr_regions, 2);
	CHECK_EQ(rp->snapshots[55].regions[1].start, B);
	CHECK_EQ(rp->snapshots[55].regions[1].end, B + 16 * PAGE);
	CHECK_EQ(rp->snapshots[99].end_ns, 100000000);
	udamon__replay_free(rp);
	free(buf);

	/* Gaps without accesses become one window; duration extends it. */
	static const char gap[] = "udamon-trace 1\nquantum_ns 1000\n"
				  "duration_ns 50000\n1500 0x5000\n"
				  "20000 0x6000\n";
	REQUIRE(udamon__replay_parse_trace(gap, sizeof(gap) - 1, "g", &rp,
					   errbuf, sizeof(errbuf)) == 0);
	/* [0,1000) [1000,2000) [2000,20000) [20000,21000) [21000,50000) */
	CHECK_EQ(rp->nr_snapshots, 5);
	CHECK_EQ(rp->snapshots[2].start_ns, 2000);
	CHECK_EQ(rp->snapshots[2].nr_regions, 0);
	CHECK_EQ(rp->snapshots[4].end_ns, 50000);
	udamon__replay_free(rp);
}

static void test_trace_refusals(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "no 'udamon-trace 1'" },
		{ "# only\n", "no 'udamon-trace 1'" },
		{ "udamon-trace 2\n1 0x1000\n", "unsupported trace version" },
		{ "0 0x1000\n", "expected 'udamon-trace 1'" },
		{ "udamon-trace 1\n", "no access" },
		{ "udamon-trace 1\n5 0x1000\n4 0x2000\n", "goes back" },
		{ "udamon-trace 1\n5 0x800000000000\n", "bad address" },
		{ "udamon-trace 1\n5 0x10\n", "bad address" },
		{ "udamon-trace 1\n5 0xzz\n", "bad address" },
		{ "udamon-trace 1\n-5 0x1000\n", "bad time" },
		{ "udamon-trace 1\n5 0x1000 x\n", "TIME_NS ADDR" },
		{ "udamon-trace 1\n5 0x1000 r r\n", "TIME_NS ADDR" },
		{ "udamon-trace 1\n5\n", "TIME_NS ADDR" },
		{ "udamon-trace 1\n99999999999999999999999 0x1000\n",
		  "bad time" },
		{ "udamon-trace 1\nquantum_ns 10\n5 0x1000\n",
		  "bad quantum_ns" },
		{ "udamon-trace 1\nduration_ns 0\n5 0x1000\n",
		  "bad duration_ns" },
		{ "udamon-trace 1\nduration_ns 5\n5 0x1000\n", "not below" },
		{ "udamon-trace 1\n5 0x1000\nquantum_ns 1000\n",
		  "after the first access" },
	};
	struct sim_replay *rp;
	unsigned int i;

	for (i = 0; i < TAP_NR(bad); i++) {
		int err;

		rp = NULL;
		err = udamon__replay_parse_trace(bad[i].text,
						 strlen(bad[i].text), "bad",
						 &rp, errbuf, sizeof(errbuf));
		CHECK_EQ(err, -EINVAL);
		CHECK(!rp);
		if (!strstr(errbuf, bad[i].why))
			tap_diag("case %u: '%s' lacks '%s'", i, errbuf,
				 bad[i].why);
		CHECK(strstr(errbuf, bad[i].why) != NULL);
	}
	/* A NUL byte inside a line. */
	CHECK_EQ(udamon__replay_parse_trace("udamon-trace 1\n5 0x1\0000\n", 22,
					    "nul", &rp, errbuf, sizeof(errbuf)),
		 -EINVAL);
	CHECK(strstr(errbuf, "NUL") != NULL);
	/* damo formats go to the damo reader, which refuses a bad one. */
	CHECK_EQ(udamon__replay_parse_buf("[{}]", 4, "d", &rp, errbuf,
					  sizeof(errbuf)),
		 -EINVAL);
}

static struct damon_ctx *replay_ctx(const char *buf, size_t len,
				    struct damon_target **tp)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t;

	if (!ctx)
		return NULL;
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = 5;
	ctx->attrs.sample_interval = 1000;
	ctx->attrs.aggr_interval = 10000;
	if (damon_sim_set_workload_buf(ctx, buf, len, "replay", errbuf,
				       sizeof(errbuf))) {
		tap_diag("%s", errbuf);
		damon_destroy_ctx(ctx);
		return NULL;
	}
	t = damon_new_target();
	if (!t) {
		damon_destroy_ctx(ctx);
		return NULL;
	}
	damon_add_target(ctx, t);
	*tp = t;
	return ctx;
}

/* Regions exactly A's page and B's pages: the checks must be exact. */
static void test_trace_exact_checks(void)
{
	struct damon_addr_range ranges[2] = { { A, A + PAGE },
					      { B, B + 16 * PAGE } };
	struct damon_sim_workload_info info;
	struct damon_target *t;
	struct damon_region *r;
	unsigned long wss;
	size_t len;
	char *buf = make_trace(&len);
	struct damon_ctx *ctx = replay_ctx(buf, len, &t);
	unsigned int step;

	free(buf);
	REQUIRE(ctx);
	REQUIRE(damon_sim_workload_info(ctx, &info) == 0);
	CHECK_STREQ(info.kind, "trace");
	CHECK_EQ(info.cycle_ns, 100000000);
	CHECK_EQ(info.nr_phases, 100);
	/* A and B are 256 MiB apart: two workload regions. */
	CHECK_EQ(info.nr_regions, 2);
	CHECK_EQ(info.total_bytes, 17 * PAGE);
	ctx->attrs.min_nr_regions = 2;
	REQUIRE(damon_set_regions(t, ranges, 2, PAGE) == 0);
	REQUIRE(damon_manual_start(ctx) == 0);
	/* 10 ms aggregations: B is touched only in the sixth. */
	for (step = 1; step <= 9; step++) {
		unsigned long want_b = step == 6 ? 10 : 0;

		REQUIRE(damon_manual_run_for(ctx,
					     step * 10000 - damon_now_ns(ctx) /
								    1000) == 0);
		damon_for_each_region(r, t) {
			if (r->ar.start == A)
				CHECK_EQ(r->last_nr_accesses, 10);
			else if (r->ar.start >= B)
				CHECK_EQ(r->last_nr_accesses, want_b);
		}
		/* Truth: A, plus B's 16 pages within [50, 60) ms. */
		REQUIRE(damon_sim_true_wss(ctx, t, 10000000, &wss) == 0);
		CHECK_EQ(wss, (step == 6 ? 17 : 1) * PAGE);
	}
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

static struct damos *pageout_cold(void)
{
	struct damos_access_pattern pat = {
		.max_sz_region = ~0UL,
		.max_nr_accesses = 0,
		.min_age_region = 0,
		.max_age_region = ~0U,
	};
	struct damos_quota quota = { 0 };
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_NONE };

	return damon_new_scheme(&pat, DAMOS_PAGEOUT, 0, &quota, &wmarks, -1);
}

/* Pageout of B while idle, then its accesses at 50 ms refault it all. */
static void test_trace_pageout_refaults(void)
{
	struct damon_addr_range ranges[2] = { { A, A + PAGE },
					      { B, B + 16 * PAGE } };
	struct damon_target *t;
	struct damos *s;
	size_t len;
	char *buf = make_trace(&len);
	struct damon_ctx *ctx = replay_ctx(buf, len, &t);

	free(buf);
	REQUIRE(ctx);
	s = pageout_cold();
	REQUIRE(s);
	damon_add_scheme(ctx, s);
	ctx->attrs.min_nr_regions = 2;
	REQUIRE(damon_set_regions(t, ranges, 2, PAGE) == 0);
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 45000) == 0);
	/* B is out, A (hot) stays. */
	CHECK_EQ(damon_sim_resident_bytes(ctx, t), PAGE);
	CHECK_EQ(damon_sim_refaults(ctx, t), 0);
	REQUIRE(damon_manual_run_for(ctx, 10000) == 0);
	/* Every one of B's pages was touched in [50, 55) ms: all back. */
	CHECK_EQ(damon_sim_refaults(ctx, t), 16);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

/* A record with one region at nr_accesses 10 of 20 samples. */
static char *make_record(size_t *len)
{
	char path[] = "/tmp/udamon-test-replay.XXXXXX";
	struct udamon_record_header h = { 0 };
	struct udamon_record_writer *w;
	struct udamon_record_region rg[2] = {
		{ 0x40000000, 0x40100000, 10, 1 },
		{ 0x40100000, 0x40200000, 0, 1 },
	};
	struct udamon_record_tsnap ts = { 2, rg };
	struct udamon_record_snapshot s = { .sample_us = 5000,
					    .aggr_us = 100000,
					    .nr_targets = 1,
					    .targets = &ts };
	int pid = 0, fd, i;
	char *buf = NULL;
	FILE *f;
	long n;

	h.ops = "vaddr";
	h.source = "test";
	h.update_us = 1000000;
	h.min_nr_regions = 10;
	h.max_nr_regions = 1000;
	h.nr_targets = 1;
	h.pids = &pid;
	fd = mkstemp(path);
	if (fd < 0 || udamon_record_writer_fdopen(fd, &h, &w))
		return NULL;
	for (i = 0; i < 5; i++) {
		s.seq = (unsigned long)i;
		s.start_ns = (uint64_t)i * 100000000;
		s.end_ns = s.start_ns + 100000000;
		if (udamon_record_write_snapshot(w, &s))
			return NULL;
	}
	if (udamon_record_writer_close(w))
		return NULL;
	f = fopen(path, "r");
	unlink(path);
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void test_record_model(void)
{
	struct damon_sim_workload_info info;
	struct damon_target *t;
	double rate;
	unsigned long wss;
	size_t len;
	char *buf = make_record(&len);
	struct damon_ctx *ctx;

	REQUIRE(buf);
	ctx = replay_ctx(buf, len, &t);
	free(buf);
	REQUIRE(ctx);
	REQUIRE(damon_sim_workload_info(ctx, &info) == 0);
	CHECK_STREQ(info.kind, "replay");
	CHECK_EQ(info.nr_phases, 5);
	CHECK_EQ(info.nr_regions, 1);
	CHECK_EQ(info.total_bytes, 2UL << 20);
	CHECK_EQ(info.cycle_ns, 500000000);
	/* At the recorded 5 ms sampling, half the samples see an access. */
	ctx->attrs.sample_interval = 5000;
	REQUIRE(damon_sim_true_access_rate(ctx, t, 0x40000000, 0x40100000,
					   &rate) == 0);
	CHECK(fabs(rate - 0.5) < 1e-9);
	REQUIRE(damon_sim_true_access_rate(ctx, t, 0x40100000, 0x40200000,
					   &rate) == 0);
	CHECK(rate == 0);
	/* The accessed MiB is the working set at a 100 ms window. */
	REQUIRE(damon_sim_true_wss(ctx, t, 100000000, &wss) == 0);
	CHECK_EQ(wss, 1UL << 20);
	/* And DAMON, at the recorded intervals, sees it about so. */
	ctx->attrs.aggr_interval = 100000;
	REQUIRE(damon_manual_start(ctx) == 0);
	REQUIRE(damon_manual_run_for(ctx, 400000) == 0);
	{
		struct damon_region *r;
		unsigned long hot = 0, cold = 0;

		damon_for_each_region(r, t) {
			if (r->ar.end <= 0x40100000)
				hot += r->last_nr_accesses * damon_sz_region(r);
			else if (r->ar.start >= 0x40100000)
				cold += r->last_nr_accesses;
		}
		CHECK_EQ(cold, 0);
		/* ~10 of 20 per byte; a wide margin for the draws. */
		CHECK(hot > 5 * (1UL << 20) && hot < 15 * (1UL << 20));
	}
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

static void test_record_refusals(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	static const char bad[] = "udamon-record 1\ngarbage\n";

	REQUIRE(ctx);
	CHECK_EQ(damon_sim_set_workload_buf(ctx, bad, sizeof(bad) - 1, "bad",
					    errbuf, sizeof(errbuf)),
		 -EINVAL);
	CHECK(errbuf[0] != '\0');
	CHECK_EQ(damon_sim_set_workload_buf(ctx, "[]", 2, "d.json", errbuf,
					    sizeof(errbuf)),
		 -EINVAL);
	CHECK(strstr(errbuf, "d.json") != NULL);
	damon_destroy_ctx(ctx);
}

/*
 * One load-and-run cycle of @buf with a pageout scheme; returns 0 or the
 * first error.  Run under every allocation failure by test_oom_cycle().
 */
static int oom_cycle(const char *buf, size_t len)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t;
	struct damos *s;
	unsigned long wss;
	int err;

	if (!ctx)
		return -ENOMEM;
	damon_use_virtual_clock(ctx);
	ctx->attrs.sample_interval = 1000;
	ctx->attrs.aggr_interval = 10000;
	err = damon_sim_set_workload_buf(ctx, buf, len, "oom", errbuf,
					 sizeof(errbuf));
	if (err)
		goto out;
	t = damon_new_target();
	s = pageout_cold();
	if (!t || !s) {
		if (t)
			damon_destroy_target(t, NULL);
		if (s)
			damon_destroy_scheme(s);
		err = -ENOMEM;
		goto out;
	}
	damon_add_target(ctx, t);
	damon_add_scheme(ctx, s);
	err = damon_manual_start(ctx);
	if (err)
		goto out;
	damon_manual_run_for(ctx, 80000);
	err = damon_sim_true_wss(ctx, t, 10000000, &wss);
	damon_manual_stop(ctx);
out:
	damon_destroy_ctx(ctx);
	return err;
}

static void test_oom_cycle(void)
{
	size_t lens[2];
	char *bufs[2] = { make_trace(&lens[0]), make_record(&lens[1]) };
	unsigned int k;

	REQUIRE(bufs[0] && bufs[1]);
	for (k = 0; k < 2; k++) {
		unsigned long total, n, bad = 0;

		udamon__alloc_fail_at(0);
		(void)udamon__alloc_count();
		udamon__alloc_fail_at(0);
		CHECK_EQ(oom_cycle(bufs[k], lens[k]), 0);
		total = udamon__alloc_count();
		for (n = 1; n <= total; n++) {
			int err;

			udamon__alloc_fail_at(n);
			err = oom_cycle(bufs[k], lens[k]);
			/* a clean -ENOMEM, or carried on (draws differ) */
			if (err && err != -ENOMEM && bad++ < 3)
				tap_diag("kind %u: allocation %lu: %d %s", k, n,
					 err, errbuf);
		}
		udamon__alloc_fail_at(0);
		CHECK_EQ(bad, 0);
		tap_diag("kind %u: %lu allocations, each failed once", k,
			 total);
	}
	free(bufs[0]);
	free(bufs[1]);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_sniff),
	TAP_CASE(test_trace_parse),
	TAP_CASE(test_trace_refusals),
	TAP_CASE(test_trace_exact_checks),
	TAP_CASE(test_trace_pageout_refaults),
	TAP_CASE(test_record_model),
	TAP_CASE(test_record_refusals),
	TAP_CASE(test_oom_cycle),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
