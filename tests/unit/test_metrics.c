// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The metrics exposition (src/metrics/): what a context copy holds, the
 * text of both formats line by line (names, labels, escaping, counters,
 * the cumulative histogram buckets, # EOF), the address parser, and the
 * HTTP endpoint over a real loopback socket (negotiation, 404/405/503).
 */
#include "metrics/collect.c"
#include "metrics/format.c"
#include "metrics/server.c"

#include <math.h>
#include <ctype.h>
#include <limits.h>
#include <unistd.h>

#include "../lib/tap.h"

#define MiB (1024UL * 1024)

static char *format(const struct metrics_set *set, bool om)
{
	char *text;
	size_t len;

	if (metrics_format(set, om, &text, &len))
		return NULL;
	if (strlen(text) != len) {
		free(text);
		return NULL;
	}
	return text;
}

/* Whether @text has @line as a whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

/* A hand-made set: two kdamonds, awkward label values, goals. */
static void sample_set(struct metrics_set *set)
{
	struct metrics_context *mc;
	struct metrics_target *mt;
	struct metrics_scheme *ms;

	memset(set, 0, sizeof(*set));
	mc = metrics_set_add(set);
	snprintf(mc->kdamond, sizeof(mc->kdamond), "0");
	mc->running = true;
	mc->paused = true;
	mc->paused_seconds[0] = 12.5;
	mc->paused_seconds[1] = 3;
	mc->kdamond_tid = 77;
	mc->cpu_seconds = 1.5;
	snprintf(mc->ops, sizeof(mc->ops), "vaddr");
	snprintf(mc->access_source, sizeof(mc->access_source),
		 "uffd-wp (writes only)");
	mc->sample_us = 5000;
	mc->aggr_us = 100000;
	mc->update_us = 1000000;
	mc->passed_sample_intervals = 1234;
	mc->nr_targets = 1;
	mc->targets = calloc(1, sizeof(*mc->targets));
	mt = &mc->targets[0];
	mt->pid = 42;
	snprintf(mt->comm, sizeof(mt->comm), "a\"b\\c\nd");
	mt->nr_regions = 7;
	mt->monitored_bytes = 10 * MiB;
	mt->working_set_bytes = 3 * MiB;
	mt->access_bytes[0] = 7 * MiB; /* idle */
	mt->access_bytes[3] = 2 * MiB; /* (0.1, 0.25] */
	mt->access_bytes[6] = 1 * MiB; /* (0.75, 1] */
	mt->access_sum = 0.5 * MiB;
	mt->age_bytes[0] = 4 * MiB;
	mt->age_bytes[METRICS_NR_AGE_BUCKETS] = 6 * MiB; /* > 3600 s */
	mt->age_sum = 6.0 * MiB * 4000;
	mc->nr_schemes = 1;
	mc->schemes = calloc(1, sizeof(*mc->schemes));
	ms = &mc->schemes[0];
	snprintf(ms->action, sizeof(ms->action), "pageout");
	ms->stat = (struct damos_stat){ 1, 2, 3, 4, 5, 6, 7 };
	ms->effective_quota_bytes = 4096;
	ms->nr_goals = 1;
	ms->goals = calloc(1, sizeof(*ms->goals));
	snprintf(ms->goals[0].metric, sizeof(ms->goals[0].metric),
		 "some_mem_psi_us");
	ms->goals[0].target_value = 1000;
	ms->goals[0].current_value = 250;

	mc = metrics_set_add(set);
	snprintf(mc->kdamond, sizeof(mc->kdamond), "1");
	snprintf(mc->ops, sizeof(mc->ops), "sim");
	snprintf(mc->access_source, sizeof(mc->access_source), "sim");
}

static void test_format_prometheus_text(void)
{
	struct metrics_set set;
	char *t;

	sample_set(&set);
	REQUIRE(set.nr == 2 && set.ctxs[0].targets && set.ctxs[0].schemes);
	t = format(&set, false);
	REQUIRE(t);
	CHECK(has_line(t, "# TYPE udamon_kdamond_state gauge"));
	CHECK(has_line(t,
		       "udamon_kdamond_state{kdamond=\"0\",state=\"on\"} 1"));
	CHECK(has_line(t,
		       "udamon_kdamond_state{kdamond=\"1\",state=\"on\"} 0"));
	CHECK(has_line(t,
		       "udamon_kdamond_state{kdamond=\"1\",state=\"off\"} 1"));
	/* 0.0.4 declares counters under the sample's own name */
	CHECK(has_line(t, "# TYPE udamon_kdamond_cpu_seconds_total counter"));
	CHECK(has_line(t,
		       "udamon_kdamond_cpu_seconds_total{kdamond=\"0\"} 1.5"));
	/* no CPU time is known for kdamond 1: no sample, not a made-up 0 */
	CHECK(!strstr(t, "udamon_kdamond_cpu_seconds_total{kdamond=\"1\"}"));
	CHECK(has_line(
		t,
		"udamon_context_info{kdamond=\"0\",context=\"0\",ops=\"vaddr\",access_source=\"uffd-wp (writes only)\"} 1"));
	CHECK(has_line(
		t,
		"udamon_context_paused{kdamond=\"0\",context=\"0\",cause=\"manual\"} 1"));
	CHECK(has_line(
		t,
		"udamon_context_paused{kdamond=\"0\",context=\"0\",cause=\"auto\"} 0"));
	CHECK(has_line(t,
		       "# TYPE udamon_context_paused_seconds_total counter"));
	CHECK(has_line(
		t,
		"udamon_context_paused_seconds_total{kdamond=\"0\",context=\"0\",cause=\"manual\"} 12.5"));
	CHECK(has_line(
		t,
		"udamon_context_paused_seconds_total{kdamond=\"0\",context=\"0\",cause=\"auto\"} 3"));
	CHECK(has_line(
		t,
		"udamon_context_sample_interval_seconds{kdamond=\"0\",context=\"0\"} 0.005"));
	CHECK(has_line(
		t,
		"udamon_context_aggregation_interval_seconds{kdamond=\"0\",context=\"0\"} 0.1"));
	CHECK(has_line(
		t,
		"udamon_context_samples_total{kdamond=\"0\",context=\"0\"} 1234"));
	/* the comm label escapes ", \ and newline */
	CHECK(has_line(
		t,
		"udamon_target_regions{kdamond=\"0\",context=\"0\",target=\"0\",pid=\"42\",comm=\"a\\\"b\\\\c\\nd\"} 7"));
	CHECK(has_line(
		t,
		"udamon_target_working_set_bytes{kdamond=\"0\",context=\"0\",target=\"0\",pid=\"42\",comm=\"a\\\"b\\\\c\\nd\"} 3145728"));
	/* cumulative buckets; +Inf and _count are the total */
	CHECK(has_line(t, "# TYPE udamon_target_access_ratio histogram"));
	CHECK(has_line(
		t,
		"udamon_target_access_ratio_bucket{kdamond=\"0\",context=\"0\",target=\"0\",pid=\"42\",comm=\"a\\\"b\\\\c\\nd\",le=\"0\"} 7340032"));
	CHECK(has_line(
		t,
		"udamon_target_access_ratio_bucket{kdamond=\"0\",context=\"0\",target=\"0\",pid=\"42\",comm=\"a\\\"b\\\\c\\nd\",le=\"0.1\"} 7340032"));
	CHECK(has_line(
		t,
		"udamon_target_access_ratio_bucket{kdamond=\"0\",context=\"0\",target=\"0\",pid=\"42\",comm=\"a\\\"b\\\\c\\nd\",le=\"0.25\"} 9437184"));
	CHECK(has_line(
		t,
		"udamon_target_access_ratio_bucket{kdamond=\"0\",context=\"0\",target=\"0\",pid=\"42\",comm=\"a\\\"b\\\\c\\nd\",le=\"+Inf\"} 10485760"));
	CHECK(has_line(
		t,
		"udamon_target_access_ratio_count{kdamond=\"0\",context=\"0\",target=\"0\",pid=\"42\",comm=\"a\\\"b\\\\c\\nd\"} 10485760"));
	CHECK(has_line(
		t,
		"udamon_target_access_ratio_sum{kdamond=\"0\",context=\"0\",target=\"0\",pid=\"42\",comm=\"a\\\"b\\\\c\\nd\"} 524288"));
	CHECK(has_line(
		t,
		"udamon_target_age_seconds_bucket{kdamond=\"0\",context=\"0\",target=\"0\",pid=\"42\",comm=\"a\\\"b\\\\c\\nd\",le=\"3600\"} 4194304"));
	CHECK(has_line(
		t,
		"udamon_target_age_seconds_bucket{kdamond=\"0\",context=\"0\",target=\"0\",pid=\"42\",comm=\"a\\\"b\\\\c\\nd\",le=\"+Inf\"} 10485760"));
	/* every DAMOS stat */
	CHECK(has_line(
		t,
		"udamon_scheme_tried_regions_total{kdamond=\"0\",context=\"0\",scheme=\"0\",action=\"pageout\"} 1"));
	CHECK(has_line(
		t,
		"udamon_scheme_tried_bytes_total{kdamond=\"0\",context=\"0\",scheme=\"0\",action=\"pageout\"} 2"));
	CHECK(has_line(
		t,
		"udamon_scheme_applied_regions_total{kdamond=\"0\",context=\"0\",scheme=\"0\",action=\"pageout\"} 3"));
	CHECK(has_line(
		t,
		"udamon_scheme_applied_bytes_total{kdamond=\"0\",context=\"0\",scheme=\"0\",action=\"pageout\"} 4"));
	CHECK(has_line(
		t,
		"udamon_scheme_ops_filter_passed_bytes_total{kdamond=\"0\",context=\"0\",scheme=\"0\",action=\"pageout\"} 5"));
	CHECK(has_line(
		t,
		"udamon_scheme_quota_exceeds_total{kdamond=\"0\",context=\"0\",scheme=\"0\",action=\"pageout\"} 6"));
	CHECK(has_line(
		t,
		"udamon_scheme_snapshots_total{kdamond=\"0\",context=\"0\",scheme=\"0\",action=\"pageout\"} 7"));
	CHECK(has_line(
		t,
		"udamon_scheme_effective_quota_bytes{kdamond=\"0\",context=\"0\",scheme=\"0\",action=\"pageout\"} 4096"));
	CHECK(has_line(
		t,
		"udamon_scheme_quota_goal_current_value{kdamond=\"0\",context=\"0\",scheme=\"0\",action=\"pageout\",goal=\"0\",metric=\"some_mem_psi_us\"} 250"));
	CHECK(has_line(
		t,
		"udamon_scheme_quota_goal_target_value{kdamond=\"0\",context=\"0\",scheme=\"0\",action=\"pageout\",goal=\"0\",metric=\"some_mem_psi_us\"} 1000"));
	CHECK(!strstr(t, "# EOF"));
	CHECK(!strstr(t, "gaugehistogram"));
	free(t);
	metrics_set_release(&set);
	CHECK_EQ(set.nr, 0);
}

static void test_format_openmetrics(void)
{
	struct metrics_set set;
	size_t n;
	char *t;

	sample_set(&set);
	t = format(&set, true);
	REQUIRE(t);
	n = strlen(t);
	/* "# EOF" ends it, once */
	CHECK(n > 6 && !strcmp(t + n - 6, "# EOF\n"));
	CHECK(strstr(t, "# EOF") == t + n - 6);
	/* families of counters are named without _total; samples keep it */
	CHECK(has_line(t, "# TYPE udamon_kdamond_cpu_seconds counter"));
	CHECK(!strstr(t, "_total counter"));
	CHECK(has_line(t, "# TYPE udamon_scheme_applied_bytes counter"));
	CHECK(has_line(
		t,
		"udamon_scheme_applied_bytes_total{kdamond=\"0\",context=\"0\",scheme=\"0\",action=\"pageout\"} 4"));
	/* distributions of memory now: gauge histograms */
	CHECK(has_line(t, "# TYPE udamon_target_access_ratio gaugehistogram"));
	CHECK(has_line(
		t,
		"udamon_target_access_ratio_gcount{kdamond=\"0\",context=\"0\",target=\"0\",pid=\"42\",comm=\"a\\\"b\\\\c\\nd\"} 10485760"));
	CHECK(strstr(t, "udamon_target_age_seconds_gsum{"));
	CHECK(!strstr(t, "_count{"));
	free(t);
	metrics_set_release(&set);
}

/*
 * Every line is a comment or "NAME{LABELS} VALUE" of the family declared
 * last, and every family is declared once: what a scraper's parser needs.
 */
static void check_grammar(const char *text, bool om)
{
	char family[128] = "", seen[4096] = " ";
	const char *line = text;

	while (*line) {
		const char *end = strchr(line, '\n'), *p = line;
		char name[128];
		size_t n = 0;

		REQUIRE(end);
		if (!strncmp(line, "# TYPE ", 7)) {
			char decl[160];

			CHECK(sscanf(line + 7, "%127s", family) == 1);
			snprintf(decl, sizeof(decl), " %s ", family);
			CHECK(!strstr(seen, decl));
			if (strlen(seen) + strlen(decl) < sizeof(seen))
				strcat(seen, decl + 1);
		} else if (line[0] != '#') {
			while (p < end && (isalnum((unsigned char)*p) ||
					   *p == '_' || *p == ':'))
				name[n++] = *p++;
			name[n] = '\0';
			CHECK(n > 0);
			CHECK(!strncmp(name, "udamon_", 7));
			/* the sample belongs to the family above it */
			CHECK(family[0] &&
			      !strncmp(name, family, strlen(family)));
			if (*p == '{') {
				p = memchr(p, '}', (size_t)(end - p));
				REQUIRE(p);
				p++;
			}
			CHECK(*p == ' ');
			CHECK(p + 1 < end &&
			      (isdigit((unsigned char)p[1]) || p[1] == '-'));
		} else {
			CHECK(!strncmp(line, "# HELP ", 7) ||
			      (om && !strcmp(line, "# EOF\n")) ||
			      (om && !strncmp(line, "# EOF", 5)));
		}
		line = end + 1;
	}
}

static void test_format_grammar(void)
{
	struct metrics_set set, empty = { 0 };
	char *t;

	sample_set(&set);
	t = format(&set, false);
	REQUIRE(t);
	check_grammar(t, false);
	free(t);
	t = format(&set, true);
	REQUIRE(t);
	check_grammar(t, true);
	free(t);
	/* nothing to show is still a valid exposition */
	t = format(&empty, true);
	REQUIRE(t);
	check_grammar(t, true);
	CHECK(has_line(t, "udamon_metrics_stale 0"));
	free(t);
	metrics_set_release(&set);
}

static void test_set_copy(void)
{
	struct metrics_set set, copy, moved = { 0 };
	char *a, *b;

	sample_set(&set);
	set.stale = true;
	REQUIRE(!metrics_set_copy(&copy, &set));
	CHECK(copy.stale);
	CHECK(copy.ctxs[0].schemes[0].goals != set.ctxs[0].schemes[0].goals);
	a = format(&set, false);
	b = format(&copy, false);
	REQUIRE(a && b);
	CHECK_STREQ(a, b);
	metrics_set_release(&set);
	metrics_set_move(&moved, &copy);
	CHECK_EQ(copy.nr, 0);
	CHECK_EQ(moved.nr, 2);
	free(b);
	b = format(&moved, false);
	CHECK_STREQ(a, b);
	free(a);
	free(b);
	metrics_set_release(&moved);
}

/* A sim context driven by hand: the copy matches the context itself. */
static void test_collect_sim(void)
{
	static const char cfg[] = "a, 8388608\nb, 8388608\nc, 8388608\n\n"
				  "p\n100000\na, 0, 4096, 1\n";
	struct damos_access_pattern pat = { .max_sz_region = ULONG_MAX,
					    .max_nr_accesses = UINT_MAX,
					    .max_age_region = UINT_MAX };
	struct damos_quota quota = { 0 };
	struct metrics_context mc;
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_region *r;
	struct damon_target *t;
	struct damos *s;
	char errbuf[256];
	unsigned long wss = 0, total = 0, sum = 0;
	unsigned int i;

	REQUIRE(ctx);
	damon_use_virtual_clock(ctx);
	REQUIRE(!damon_sim_set_workload_buf(ctx, cfg, strlen(cfg), "t.cfg",
					    errbuf, sizeof(errbuf)));
	t = damon_new_target();
	REQUIRE(t);
	damon_add_target(ctx, t);
	s = damon_new_scheme(&pat, DAMOS_STAT, 0, &quota, NULL, -1);
	REQUIRE(s);
	damon_add_scheme(ctx, s);
	REQUIRE(damon_manual_start(ctx) == 0);
	damon_manual_run_for(ctx, 2000000);
	REQUIRE(!metrics_collect_ctx(ctx, "3", 0, &mc));
	CHECK_STREQ(mc.kdamond, "3");
	CHECK_STREQ(mc.ops, "sim");
	CHECK_STREQ(mc.access_source, "sim");
	CHECK_EQ(mc.sample_us, ctx->attrs.sample_interval);
	CHECK_EQ(mc.aggr_us, ctx->attrs.aggr_interval);
	CHECK_EQ(mc.passed_sample_intervals, ctx->passed_sample_intervals);
	CHECK(!mc.paused);
	REQUIRE(mc.nr_targets == 1);
	CHECK_EQ(mc.targets[0].pid, 0);
	CHECK_EQ(mc.targets[0].nr_regions, damon_nr_regions(t));
	damon_for_each_region(r, t) {
		total += damon_sz_region(r);
		if (r->last_nr_accesses)
			wss += damon_sz_region(r);
	}
	CHECK_EQ(mc.targets[0].monitored_bytes, total);
	CHECK_EQ(mc.targets[0].working_set_bytes, wss);
	/* only region a is accessed: about a third of the memory */
	CHECK(wss >= 8388608 / 2 && wss < total);
	for (i = 0; i <= METRICS_NR_ACCESS_BUCKETS; i++)
		sum += mc.targets[0].access_bytes[i];
	CHECK_EQ(sum, total);
	/* idle bytes are in the le="0" bucket */
	CHECK_EQ(mc.targets[0].access_bytes[0], total - wss);
	sum = 0;
	for (i = 0; i <= METRICS_NR_AGE_BUCKETS; i++)
		sum += mc.targets[0].age_bytes[i];
	CHECK_EQ(sum, total);
	REQUIRE(mc.nr_schemes == 1);
	CHECK_STREQ(mc.schemes[0].action, "stat");
	CHECK(mc.schemes[0].stat.nr_tried > 0);
	CHECK(!memcmp(&mc.schemes[0].stat, &s->stat, sizeof(s->stat)));
	CHECK(mc.paused_seconds[0] == 0);
	metrics_context_release(&mc);
	ctx->pause = true;
	/* the step that sees the pause runs one round, then two more */
	for (i = 0; i < 3; i++)
		damon_manual_step(ctx);
	REQUIRE(!metrics_collect_ctx(ctx, "3", 0, &mc));
	CHECK(mc.paused);
	/* (doubles: CHECK_EQ compares integers) */
	CHECK(fabs(mc.paused_seconds[0] -
		   3 * (double)ctx->attrs.sample_interval / 1e6) < 1e-12);
	CHECK(mc.paused_seconds[1] == 0);
	metrics_context_release(&mc);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

static void test_parse_addr(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	static const char *const bad[] = {
		"",
		"abc",
		"70000",
		":9100",
		"127.0.0.1:",
		"[::1]9100",
		"-1",
		"+5",
		"127.0.0.1:x",
		"[::1",
		"1.2.3.4:99999",
	};
	unsigned int len, i;
	char why[256];

	REQUIRE(!metrics_parse_addr("9100", &ss, &len, why, sizeof(why)));
	CHECK_EQ(in->sin_family, AF_INET);
	CHECK_EQ(ntohs(in->sin_port), 9100);
	CHECK_EQ(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
	REQUIRE(!metrics_parse_addr("0.0.0.0:0", &ss, &len, why, sizeof(why)));
	CHECK_EQ(in->sin_addr.s_addr, 0);
	CHECK_EQ(in->sin_port, 0);
	REQUIRE(!metrics_parse_addr("[::1]:9101", &ss, &len, why, sizeof(why)));
	CHECK_EQ(in6->sin6_family, AF_INET6);
	CHECK_EQ(ntohs(in6->sin6_port), 9101);
	CHECK_EQ(len, sizeof(*in6));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_EQ(metrics_parse_addr(bad[i], &ss, &len, why,
					    sizeof(why)),
			 -EINVAL);
		CHECK(why[0]);
	}
}

/* ---- the endpoint over a loopback socket ---- */

static int collect_calls;
static int collect_err;

static int fake_collect(void *arg, struct metrics_set *set)
{
	int err = __atomic_load_n(&collect_err, __ATOMIC_SEQ_CST);

	/* the server's thread: atomics, as TSan cannot see the socket */
	__atomic_add_fetch(&collect_calls, 1, __ATOMIC_SEQ_CST);
	if (err)
		return err;
	sample_set(set);
	return 0;
}

/* One HTTP/1.0 exchange; returns the whole response (malloc()ed). */
static char *http(const char *address, const char *request)
{
	struct sockaddr_storage ss;
	unsigned int len;
	char why[128], *buf = NULL;
	size_t n = 0, cap = 0;
	ssize_t got;
	int fd;

	if (metrics_parse_addr(address, &ss, &len, why, sizeof(why)))
		return NULL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&ss, len) ||
	    write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
		close(fd);
		return NULL;
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = n + 65536);

			if (!nb)
				break;
			buf = nb;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static void test_server(void)
{
	struct metrics_server *srv = NULL;
	char why[256], *r;
	const char *body;

	REQUIRE(!metrics_server_start("127.0.0.1:0", fake_collect, NULL, &srv,
				      why, sizeof(why)));
	CHECK(!strncmp(metrics_server_address(srv), "127.0.0.1:", 10));
	CHECK(strcmp(metrics_server_address(srv), "127.0.0.1:0"));

	/* Prometheus asks for OpenMetrics first */
	r = http(
		metrics_server_address(srv),
		"GET /metrics HTTP/1.0\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n\r\n");
	REQUIRE(r);
	CHECK(!strncmp(r, "HTTP/1.0 200", 12) ||
	      !strncmp(r, "HTTP/1.1 200", 12));
	CHECK(strstr(
		r,
		"Content-Type: application/openmetrics-text; version=1.0.0"));
	body = strstr(r, "\r\n\r\n");
	CHECK(body && strstr(body, "udamon_kdamond_state{kdamond=\"0\""));
	CHECK(strlen(r) > 6 && !strcmp(r + strlen(r) - 6, "# EOF\n"));
	free(r);

	r = http(metrics_server_address(srv), "GET /metrics HTTP/1.0\r\n\r\n");
	REQUIRE(r);
	CHECK(strstr(r, " 200 "));
	CHECK(strstr(r, "Content-Type: text/plain; version=0.0.4"));
	CHECK(strstr(r, "# TYPE udamon_scheme_applied_bytes_total counter"));
	CHECK(!strstr(r, "# EOF"));
	free(r);

	r = http(metrics_server_address(srv), "GET /other HTTP/1.0\r\n\r\n");
	REQUIRE(r);
	CHECK(strstr(r, " 404 "));
	free(r);
	r = http(metrics_server_address(srv),
		 "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
	REQUIRE(r);
	CHECK(strstr(r, " 405 "));
	free(r);

	/* a collector that cannot look answers 503, naming why */
	__atomic_store_n(&collect_err, -EAGAIN, __ATOMIC_SEQ_CST);
	r = http(metrics_server_address(srv), "GET /metrics HTTP/1.0\r\n\r\n");
	REQUIRE(r);
	CHECK(strstr(r, " 503 "));
	CHECK(strstr(r, strerror(EAGAIN)));
	free(r);
	__atomic_store_n(&collect_err, 0, __ATOMIC_SEQ_CST);
	CHECK_EQ(__atomic_load_n(&collect_calls, __ATOMIC_SEQ_CST), 3);
	metrics_server_stop(srv);

	/* an address in use is refused with a reason */
	REQUIRE(!metrics_server_start("127.0.0.1:0", fake_collect, NULL, &srv,
				      why, sizeof(why)));
	{
		struct metrics_server *second = NULL;
		char spec[64];

		snprintf(spec, sizeof(spec), "%s", metrics_server_address(srv));
		CHECK(metrics_server_start(spec, fake_collect, NULL, &second,
					   why, sizeof(why)) < 0);
		CHECK(strstr(why, "cannot listen"));
	}
	metrics_server_stop(srv);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_format_prometheus_text),
	TAP_CASE(test_format_openmetrics),
	TAP_CASE(test_format_grammar),
	TAP_CASE(test_set_copy),
	TAP_CASE(test_collect_sim),
	TAP_CASE(test_parse_addr),
	TAP_CASE(test_server),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
