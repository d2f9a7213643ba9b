// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamon sweep: run a grid of DAMON/DAMOS parameter sets over one sim
 * workload (a masim config, a udamon record or a page-access trace) in
 * virtual time, one independent context per set, spread over forked
 * workers, and compare what each set saves against what it costs.
 *
 * A parameter set is a line of the options 'udamon record' takes for
 * monitoring (--sample-us, --aggr-us, --intervals-goal, --damos ...).
 * Brace groups expand into a grid: "--damos pageout,age={10,50}-max
 * --sample-us {5000,10000}" is four sets.  Sets come from --grid FILE (one
 * line each, '#' comments) and --set LINE.
 *
 * Per set, sampled every SWEEP_TICK_US of virtual time:
 *   saved       modelled bytes not resident (paged out), mean over the run
 *               and at the end
 *   stall       refaults x DAMON_SIM_REFAULT_STALL_US, and in percent of
 *               the run
 *   damos cpu   modelled: SWEEP_CPU_TRIED_NS per region a scheme tried
 *               plus SWEEP_CPU_PAGE_NS per page it applied to (the sim
 *               runs in virtual time, so real cost says nothing)
 *   regions     mean number of DAMON regions
 * A set is on the Pareto front when no other set saves at least as much
 * with no more stall and no more DAMOS CPU, and is better in one of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <udamon/damon.h>

#include "cli/cli.h"
#include "cli/plot.h"
#include "cli/util.h"

#define CMD "sweep"
#define SWEEP_MAX_SETS 4096
#define SWEEP_MAX_LINE 4096
#define SWEEP_TICK_US 10000UL
#define SWEEP_CPU_TRIED_NS 1000.0
#define SWEEP_CPU_PAGE_NS 2000.0

struct sweep_result {
	int idx;
	int err; /* 0, or a negative errno; msg says why */
	double saved_avg; /* bytes */
	double saved_end;
	double refaults;
	double stall_us;
	double stall_pct;
	double cpu_us;
	double regions_avg;
	char msg[200];
};

struct sweep_set {
	char *line;
	struct cli_params params;
};

struct sweep {
	const char *workload;
	char *buf;
	size_t len;
	uint64_t duration_ns;
	unsigned long seed;
	struct sweep_set *sets;
	unsigned int nr_sets;
};

/* ---- sets: brace expansion and option parsing ---- */

static int sweep_add_line(struct sweep *sw, const char *line);

/* Expand the first brace group of @line, recursively. */
static int sweep_expand(struct sweep *sw, const char *line)
{
	const char *open = strchr(line, '{'), *close, *p;
	int err;

	if (!open) {
		if (strchr(line, '}')) {
			cli_err(CMD, "set '%s': '}' without '{'", line);
			return CLI_EUSAGE;
		}
		return sweep_add_line(sw, line);
	}
	close = strchr(open, '}');
	if (!close || memchr(open + 1, '{', (size_t)(close - open - 1))) {
		cli_err(CMD, "set '%s': unbalanced or nested '{'", line);
		return CLI_EUSAGE;
	}
	for (p = open + 1;;) {
		const char *end = p;
		char *alt;

		while (end < close && *end != ',')
			end++;
		if (asprintf(&alt, "%.*s%.*s%s", (int)(open - line), line,
			     (int)(end - p), p, close + 1) < 0) {
			cli_err(CMD, "out of memory");
			return CLI_EFAIL;
		}
		err = sweep_expand(sw, alt);
		free(alt);
		if (err)
			return err;
		if (end == close)
			break;
		p = end + 1;
	}
	return 0;
}

static const struct option sweep_param_opts[] = {
	CLI_PARAMS_LONGOPTS,
	{ NULL, 0, NULL, 0 },
};

/* Parse one expanded set into cli_params. */
static int sweep_add_line(struct sweep *sw, const char *line)
{
	struct sweep_set *set;
	char *copy, *tok, *save = NULL;
	int err;

	if (sw->nr_sets >= SWEEP_MAX_SETS) {
		cli_err(CMD, "more than %d parameter sets", SWEEP_MAX_SETS);
		return CLI_EUSAGE;
	}
	set = &sw->sets[sw->nr_sets];
	cli_params_init(&set->params);
	copy = strdup(line);
	set->line = strdup(line);
	if (!copy || !set->line) {
		free(copy);
		free(set->line);
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	for (tok = strtok_r(copy, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		const struct option *o;
		char *val = NULL, *eq;

		if (strncmp(tok, "--", 2)) {
			cli_err(CMD, "set '%s': '%s' is not an option", line,
				tok);
			err = CLI_EUSAGE;
			goto fail;
		}
		eq = strchr(tok, '=');
		if (eq) {
			*eq = '\0';
			val = eq + 1;
		}
		for (o = sweep_param_opts; o->name; o++)
			if (!strcmp(o->name, tok + 2))
				break;
		if (!o->name) {
			cli_err(CMD,
				"set '%s': unknown option '%s' (monitoring "
				"options of 'udamon record' only)",
				line, tok);
			err = CLI_EUSAGE;
			goto fail;
		}
		if (o->has_arg == required_argument && !val) {
			val = strtok_r(NULL, " \t", &save);
			if (!val) {
				cli_err(CMD, "set '%s': %s needs a value", line,
					tok);
				err = CLI_EUSAGE;
				goto fail;
			}
		}
		if (o->has_arg == no_argument && val) {
			cli_err(CMD, "set '%s': %s takes no value", line, tok);
			err = CLI_EUSAGE;
			goto fail;
		}
		err = cli_params_option(&set->params, CMD, o->val, val);
		if (err)
			goto fail;
	}
	err = cli_params_check(&set->params, CMD, false);
	if (err)
		goto fail;
	free(copy);
	sw->nr_sets++;
	return 0;
fail:
	free(copy);
	free(set->line);
	set->line = NULL;
	return err;
}

/* Add the sets of --set LINE or of one grid file line. */
static int sweep_add_spec(struct sweep *sw, const char *spec)
{
	while (*spec == ' ' || *spec == '\t')
		spec++;
	if (!*spec || *spec == '#')
		return 0;
	if (strlen(spec) >= SWEEP_MAX_LINE) {
		cli_err(CMD, "a parameter set longer than %d bytes",
			SWEEP_MAX_LINE);
		return CLI_EUSAGE;
	}
	return sweep_expand(sw, spec);
}

static int sweep_read_grid(struct sweep *sw, const char *path)
{
	char line[SWEEP_MAX_LINE + 2];
	unsigned int lineno = 0;
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f) {
		cli_err(CMD, "--grid %s: %s", path, strerror(errno));
		return CLI_EFAIL;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		lineno++;
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		else if (!feof(f)) {
			cli_err(CMD, "--grid %s:%u: line too long", path,
				lineno);
			err = CLI_EUSAGE;
			break;
		}
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		err = sweep_add_spec(sw, line);
		if (err) {
			cli_err(CMD, "--grid %s:%u: refused (see above)", path,
				lineno);
			break;
		}
	}
	fclose(f);
	return err;
}

/* ---- one run ---- */

static void sweep_run_set(const struct sweep *sw, unsigned int idx,
			  struct sweep_result *res)
{
	const struct sweep_set *set = &sw->sets[idx];
	struct damon_sim_workload_info info;
	struct damon_attrs attrs;
	struct damon_ctx *ctx;
	struct damon_target *t;
	struct damos *s;
	double resident_sum = 0, regions_sum = 0, tried = 0, pages = 0;
	unsigned long ticks = 0;
	uint64_t end;
	int err;

	memset(res, 0, sizeof(*res));
	res->idx = (int)idx;
	ctx = damon_new_ctx();
	if (!ctx) {
		res->err = -ENOMEM;
		snprintf(res->msg, sizeof(res->msg), "out of memory");
		return;
	}
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = sw->seed;
	err = damon_sim_set_workload_buf(ctx, sw->buf, sw->len, sw->workload,
					 res->msg, sizeof(res->msg));
	if (err)
		goto out;
	damon_sim_workload_info(ctx, &info);
	cli_params_attrs(&set->params, &attrs);
	err = damon_set_attrs(ctx, &attrs);
	if (err) {
		snprintf(res->msg, sizeof(res->msg), "attributes refused");
		goto out;
	}
	t = damon_new_target();
	err = -ENOMEM;
	if (!t)
		goto out;
	damon_add_target(ctx, t);
	err = cli_params_add_schemes(&set->params, ctx);
	if (!err)
		err = damon_manual_start(ctx);
	if (err) {
		const char *why = damon_refusal(ctx);

		snprintf(res->msg, sizeof(res->msg), "start refused: %s",
			 why && *why ? why : strerror(-err));
		goto out;
	}
	end = sw->duration_ns;
	while (damon_now_ns(ctx) < end) {
		if (damon_manual_run_for(ctx, SWEEP_TICK_US))
			break;
		resident_sum += (double)damon_sim_resident_bytes(ctx, t);
		regions_sum += damon_nr_regions(t);
		ticks++;
	}
	damon_for_each_scheme(s, ctx) {
		tried += (double)s->stat.nr_tried;
		pages += (double)s->stat.sz_applied / 4096.0;
	}
	if (ticks) {
		res->saved_avg =
			(double)info.total_bytes - resident_sum / (double)ticks;
		res->regions_avg = regions_sum / (double)ticks;
	}
	res->saved_end = (double)info.total_bytes -
			 (double)damon_sim_resident_bytes(ctx, t);
	res->refaults = (double)damon_sim_refaults(ctx, t);
	res->stall_us = res->refaults * DAMON_SIM_REFAULT_STALL_US;
	res->stall_pct = res->stall_us * 1000.0 * 100.0 / (double)end;
	res->cpu_us =
		(tried * SWEEP_CPU_TRIED_NS + pages * SWEEP_CPU_PAGE_NS) / 1e3;
	damon_manual_stop(ctx);
	err = 0;
out:
	res->err = err;
	if (err && !res->msg[0])
		snprintf(res->msg, sizeof(res->msg), "%s", strerror(-err));
	damon_destroy_ctx(ctx);
}

/* ---- workers ---- */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void sweep_worker(const struct sweep *sw, unsigned int w,
			 unsigned int jobs, int fd)
{
	struct sweep_result res;
	unsigned int i;

	for (i = w; i < sw->nr_sets; i += jobs) {
		sweep_run_set(sw, i, &res);
		if (write_all(fd, &res, sizeof(res)))
			_exit(1);
	}
	_exit(0);
}

/* Run every set on @jobs workers; results land in @res by index. */
static int sweep_run(const struct sweep *sw, unsigned int jobs,
		     struct sweep_result *res, bool quiet)
{
	struct pollfd pfd[256];
	size_t got[256] = { 0 };
	struct sweep_result part[256];
	pid_t pids[256];
	unsigned int w, done = 0, open_fds;
	int status, err = 0;

	for (w = 0; w < jobs; w++) {
		int p[2];

		if (pipe2(p, O_CLOEXEC)) {
			cli_err(CMD, "pipe: %s", strerror(errno));
			jobs = w;
			err = CLI_EFAIL;
			break;
		}
		fflush(NULL);
		pids[w] = fork();
		if (pids[w] < 0) {
			cli_err(CMD, "fork: %s", strerror(errno));
			close(p[0]);
			close(p[1]);
			jobs = w;
			err = CLI_EFAIL;
			break;
		}
		if (!pids[w]) {
			close(p[0]);
			sweep_worker(sw, w, jobs, p[1]);
		}
		close(p[1]);
		pfd[w].fd = p[0];
		pfd[w].events = POLLIN;
	}
	open_fds = jobs;
	while (open_fds) {
		if (poll(pfd, jobs, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = CLI_EFAIL;
			break;
		}
		for (w = 0; w < jobs; w++) {
			ssize_t n;

			if (pfd[w].fd < 0 || !pfd[w].revents)
				continue;
			n = read(pfd[w].fd, (char *)&part[w] + got[w],
				 sizeof(part[w]) - got[w]);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[w].fd);
				pfd[w].fd = -1;
				open_fds--;
				continue;
			}
			got[w] += (size_t)n;
			if (got[w] < sizeof(part[w]))
				continue;
			got[w] = 0;
			if (part[w].idx < 0 ||
			    (unsigned int)part[w].idx >= sw->nr_sets)
				continue;
			res[part[w].idx] = part[w];
			done++;
			if (!quiet)
				fprintf(stderr,
					"udamon sweep: %u/%u sets done\n", done,
					sw->nr_sets);
		}
	}
	for (w = 0; w < jobs; w++)
		while (waitpid(pids[w], &status, 0) < 0 && errno == EINTR)
			;
	if (!err && done != sw->nr_sets) {
		cli_err(CMD, "%u of %u sets got no result (a worker died)",
			sw->nr_sets - done, sw->nr_sets);
		err = CLI_EFAIL;
	}
	return err;
}

/* ---- output ---- */

static bool sweep_dominates(const struct sweep_result *a,
			    const struct sweep_result *b)
{
	return a->saved_avg >= b->saved_avg && a->stall_us <= b->stall_us &&
	       a->cpu_us <= b->cpu_us &&
	       (a->saved_avg > b->saved_avg || a->stall_us < b->stall_us ||
		a->cpu_us < b->cpu_us);
}

static void sweep_pareto(const struct sweep_result *res, unsigned int n,
			 bool *front)
{
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		front[i] = !res[i].err;
		for (j = 0; j < n && front[i]; j++)
			if (j != i && !res[j].err &&
			    sweep_dominates(&res[j], &res[i]))
				front[i] = false;
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int sweep_write_csv(const char *path, const struct sweep *sw,
			   const struct sweep_result *res, const bool *front)
{
	FILE *f = fopen(path, "we");
	unsigned int i;

	if (!f) {
		cli_err(CMD, "--csv %s: %s", path, strerror(errno));
		return CLI_EFAIL;
	}
	fprintf(f, "set,params,error,saved_avg_bytes,saved_end_bytes,"
		   "refaults,stall_us,stall_pct,damos_cpu_us,regions_avg,"
		   "pareto\n");
	for (i = 0; i < sw->nr_sets; i++) {
		fprintf(f, "%u,", i);
		csv_str(f, sw->sets[i].line);
		fputc(',', f);
		csv_str(f, res[i].err ? res[i].msg : "");
		fprintf(f, ",%.0f,%.0f,%.0f,%.0f,%.4f,%.1f,%.1f,%d\n",
			res[i].saved_avg, res[i].saved_end, res[i].refaults,
			res[i].stall_us, res[i].stall_pct, res[i].cpu_us,
			res[i].regions_avg, front[i]);
	}
	if (fclose(f)) {
		cli_err(CMD, "--csv %s: %s", path, strerror(errno));
		return CLI_EFAIL;
	}
	return 0;
}

static int sweep_write_json(const char *path, const struct sweep *sw,
			    const struct sweep_result *res, const bool *front)
{
	FILE *f = fopen(path, "we");
	unsigned int i;

	if (!f) {
		cli_err(CMD, "--json %s: %s", path, strerror(errno));
		return CLI_EFAIL;
	}
	fprintf(f, "{\"workload\": ");
	json_str(f, sw->workload);
	fprintf(f, ", \"duration_ns\": %llu, \"seed\": %lu, \"sets\": [",
		(unsigned long long)sw->duration_ns, sw->seed);
	for (i = 0; i < sw->nr_sets; i++) {
		fprintf(f, "%s\n  {\"set\": %u, \"params\": ", i ? "," : "", i);
		json_str(f, sw->sets[i].line);
		if (res[i].err) {
			fprintf(f, ", \"error\": ");
			json_str(f, res[i].msg);
			fprintf(f, "}");
			continue;
		}
		fprintf(f,
			", \"saved_avg_bytes\": %.0f, \"saved_end_bytes\": "
			"%.0f, \"refaults\": %.0f, \"stall_us\": %.0f, "
			"\"stall_pct\": %.4f, \"damos_cpu_us\": %.1f, "
			"\"regions_avg\": %.1f, \"pareto\": %s}",
			res[i].saved_avg, res[i].saved_end, res[i].refaults,
			res[i].stall_us, res[i].stall_pct, res[i].cpu_us,
			res[i].regions_avg, front[i] ? "true" : "false");
	}
	fprintf(f, "\n]}\n");
	if (fclose(f)) {
		cli_err(CMD, "--json %s: %s", path, strerror(errno));
		return CLI_EFAIL;
	}
	return 0;
}

static void sweep_print(const struct sweep *sw, const struct sweep_result *res,
			const bool *front)
{
	char a[32], b[32];
	unsigned int i;

	printf("# workload %s, %.3f s virtual, seed %lu; * = Pareto front "
	       "(saved vs stall vs damos cpu)\n",
	       sw->workload, (double)sw->duration_ns / 1e9, sw->seed);
	printf("%4s %12s %12s %9s %8s %11s %8s %1s  %s\n", "set", "saved_avg",
	       "saved_end", "refaults", "stall%", "damos_cpu", "regions", "P",
	       "params");
	for (i = 0; i < sw->nr_sets; i++) {
		if (res[i].err) {
			printf("%4u %s: %s\n", i, "error", res[i].msg);
			continue;
		}
		printf("%4u %12s %12s %9.0f %8.3f %8.1f ms %8.1f %1s  %s\n", i,
		       cli_fmt_size(a, sizeof(a),
				    (unsigned long)res[i].saved_avg, false),
		       cli_fmt_size(b, sizeof(b),
				    (unsigned long)res[i].saved_end, false),
		       res[i].refaults, res[i].stall_pct, res[i].cpu_us / 1e3,
		       res[i].regions_avg, front[i] ? "*" : "",
		       sw->sets[i].line);
	}
}

#define SWEEP_PLOT_W 1000
#define SWEEP_PLOT_H 600

/* The plot: memory saved against refault stall, failed sets left out. */
static int sweep_write_plot(const char *path, int format,
			    const struct sweep *sw,
			    const struct sweep_result *res, const bool *front)
{
	char title[160], subtitle[256];
	struct cli_plot p = {
		.format = (enum cli_plot_format)format,
		.path = path,
		.width = SWEEP_PLOT_W,
		.height = SWEEP_PLOT_H,
		.title = title,
		.subtitle = subtitle,
	};
	struct cli_plot_point *pts;
	const char *base = strrchr(sw->workload, '/');
	unsigned int i, n = 0;
	int err;

	pts = calloc(sw->nr_sets, sizeof(*pts));
	if (!pts) {
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	for (i = 0; i < sw->nr_sets; i++) {
		if (res[i].err)
			continue;
		pts[n].set = i;
		pts[n].saved = res[i].saved_avg;
		pts[n].stall_us = res[i].stall_us;
		pts[n].front = front[i];
		n++;
	}
	snprintf(title, sizeof(title), "udamon sweep: %s",
		 base ? base + 1 : sw->workload);
	snprintf(subtitle, sizeof(subtitle),
		 "%u of %u parameter sets, %.3f s virtual each, seed %lu; "
		 "stall: %u us per refault",
		 n, sw->nr_sets, (double)sw->duration_ns / 1e9, sw->seed,
		 (unsigned int)DAMON_SIM_REFAULT_STALL_US);
	err = cli_plot_sweep(&p, pts, n);
	free(pts);
	if (err) {
		cli_err(CMD, "--plot: cannot write %s: %s", path,
			strerror(-err));
		return CLI_EFAIL;
	}
	return 0;
}

/* ---- the command ---- */

static void sweep_usage(FILE *f)
{
	fprintf(f,
		"usage: udamon sweep --workload FILE (--grid FILE | --set LINE)...\n"
		"                    [options]\n"
		"\n"
		"Run DAMON with every parameter set over one sim workload in\n"
		"virtual time, in parallel, and compare the sets: memory saved,\n"
		"modelled refault stall, modelled DAMOS CPU, regions.\n"
		"\n"
		"  --workload FILE   masim config, udamon record or udamon-trace\n"
		"  --grid FILE       parameter sets, one a line ('#' comments)\n"
		"  --set LINE        one more parameter set (repeatable)\n"
		"                    A set is monitoring options of 'udamon record'\n"
		"                    (--sample-us, --aggr-us, --damos SPEC ...);\n"
		"                    {a,b} groups expand into a grid, e.g.\n"
		"                    \"--damos pageout,age={10,50}-max\"\n"
		"  --duration SECS   virtual time per set (default: one pass of the\n"
		"                    workload)\n"
		"  --jobs N          worker processes (default: online CPUs)\n"
		"  --seed N          PRNG seed of every context (default 1)\n"
		"  --csv FILE        also write the results as CSV\n"
		"  --json FILE       also write them as JSON\n"
		"  --plot FILE       also plot memory saved against refault stall,\n"
		"                    one labelled point a set, the Pareto front\n"
		"                    joined: PNG or SVG by FILE's name (.png, .svg)\n"
		"  --quiet           no progress on stderr\n");
}

/* Read the whole file at @path (at most @max bytes) into *@bufp. */
static int sweep_read_file(const char *path, size_t max, char **bufp,
			   size_t *lenp, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	size_t limit = max;
	char *buf;
	size_t len;

	*bufp = NULL;
	*lenp = 0;
	if (!f) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	/* A regular file's size bounds the buffer (max is 512 MiB). */
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size < max)
		max = (size_t)st.st_size + 1; /* one more: growth shows */
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		snprintf(errbuf, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	len = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		snprintf(errbuf, errlen, "%s: read error", path);
		fclose(f);
		free(buf);
		return -EIO;
	}
	fclose(f);
	if (len > max) {
		if (max < limit)
			snprintf(errbuf, errlen, "%s: grew while being read",
				 path);
		else
			snprintf(errbuf, errlen, "%s: larger than %zu bytes",
				 path, limit);
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

int cli_sweep(int argc, char **argv)
{
	enum {
		O_WORKLOAD = 1,
		O_GRID,
		O_SET,
		O_DURATION,
		O_JOBS,
		O_SEED,
		O_CSV,
		O_JSON,
		O_PLOT,
		O_QUIET
	};
	static const struct option opts[] = {
		{ "workload", required_argument, NULL, O_WORKLOAD },
		{ "grid", required_argument, NULL, O_GRID },
		{ "set", required_argument, NULL, O_SET },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "jobs", required_argument, NULL, O_JOBS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "csv", required_argument, NULL, O_CSV },
		{ "json", required_argument, NULL, O_JSON },
		{ "plot", required_argument, NULL, O_PLOT },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sweep sw = { .seed = 1 };
	struct sweep_result *res = NULL;
	struct damon_sim_workload_info info;
	const char *csv = NULL, *json = NULL, *plot = NULL;
	int plot_format = -1;
	unsigned long jobs = 0;
	double duration = -1;
	char errbuf[512];
	bool quiet = false, *front = NULL;
	struct damon_ctx *probe;
	unsigned int i;
	int opt, err = 0;

	sw.sets = calloc(SWEEP_MAX_SETS, sizeof(*sw.sets));
	if (!sw.sets) {
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case O_WORKLOAD:
			sw.workload = optarg;
			break;
		case O_GRID:
			err = sweep_read_grid(&sw, optarg);
			break;
		case O_SET:
			err = sweep_add_spec(&sw, optarg);
			break;
		case O_DURATION:
			err = cli_parse_seconds(CMD, "--duration", optarg,
						&duration);
			if (!err && duration <= 0)
				err = cli_bad_arg(CMD, "--duration", optarg,
						  "must be above 0");
			break;
		case O_JOBS:
			err = cli_parse_ulong(CMD, "--jobs", optarg, 1, 256,
					      &jobs);
			break;
		case O_SEED:
			err = cli_parse_ulong(CMD, "--seed", optarg, 0, ~0UL,
					      &sw.seed);
			break;
		case O_CSV:
			csv = optarg;
			break;
		case O_JSON:
			json = optarg;
			break;
		case O_PLOT:
			plot = optarg;
			plot_format = cli_plot_format_of(optarg);
			if (plot_format < 0)
				err = cli_bad_arg(
					CMD, "--plot", optarg,
					"does not end in .png or .svg (the plot's format)");
			else if (!cli_plot_supported()) {
				cli_err(CMD, "--plot %s: " CLI_PLOT_NO_CAIRO,
					optarg);
				err = CLI_EMISSING;
			}
			break;
		case O_QUIET:
			quiet = true;
			break;
		case 'h':
			sweep_usage(stdout);
			goto out;
		default:
			err = cli_usage_error(CMD, NULL);
		}
		if (err)
			goto out;
	}
	if (optind < argc) {
		err = cli_bad_arg(CMD, "argument", argv[optind], "unexpected");
		goto out;
	}
	if (!sw.workload) {
		err = cli_usage_error(CMD, "--workload FILE is needed");
		goto out;
	}
	if (!sw.nr_sets) {
		err = cli_usage_error(
			CMD, "give parameter sets with --grid or --set");
		goto out;
	}
	/* Read and check the workload once; workers share the bytes. */
	if (sweep_read_file(sw.workload, DAMON_SIM_MAX_WORKLOAD_SIZE, &sw.buf,
			    &sw.len, errbuf, sizeof(errbuf))) {
		cli_err(CMD, "--workload: %s", errbuf);
		err = CLI_EFAIL;
		goto out;
	}
	probe = damon_new_ctx();
	if (!probe ||
	    damon_sim_set_workload_buf(probe, sw.buf, sw.len, sw.workload,
				       errbuf, sizeof(errbuf)) ||
	    damon_sim_workload_info(probe, &info)) {
		cli_err(CMD, "--workload: %s",
			probe ? errbuf : "out of memory");
		damon_destroy_ctx(probe);
		err = CLI_EFAIL;
		goto out;
	}
	damon_destroy_ctx(probe);
	sw.duration_ns = duration > 0 ? (uint64_t)llround(duration * 1e9) :
					info.cycle_ns;
	if (!jobs) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		jobs = n > 0 ? (unsigned long)n : 1;
		if (jobs > 256)
			jobs = 256;
	}
	if (jobs > sw.nr_sets)
		jobs = sw.nr_sets;
	res = calloc(sw.nr_sets, sizeof(*res));
	front = calloc(sw.nr_sets, sizeof(*front));
	if (!res || !front) {
		cli_err(CMD, "out of memory");
		err = CLI_EFAIL;
		goto out;
	}
	if (!quiet)
		fprintf(stderr,
			"udamon sweep: %u sets x %.3f s virtual on %lu "
			"workers\n",
			sw.nr_sets, (double)sw.duration_ns / 1e9, jobs);
	err = sweep_run(&sw, (unsigned int)jobs, res, quiet);
	if (err)
		goto out;
	sweep_pareto(res, sw.nr_sets, front);
	sweep_print(&sw, res, front);
	if (csv)
		err = sweep_write_csv(csv, &sw, res, front);
	if (!err && json)
		err = sweep_write_json(json, &sw, res, front);
	if (!err && plot)
		err = sweep_write_plot(plot, plot_format, &sw, res, front);
	for (i = 0; !err && i < sw.nr_sets; i++)
		if (res[i].err)
			err = CLI_EFAIL;
out:
	for (i = 0; i < sw.nr_sets; i++)
		free(sw.sets[i].line);
	free(sw.sets);
	free(sw.buf);
	free(res);
	free(front);
	return err;
}
