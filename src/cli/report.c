// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamon report: read a record (udamon's, or damo's json or
 * json_compressed) and show it.  heatmap (ANSI text, or a PNG/SVG plot),
 * wss (working set size percentiles, or a plot over time), table (hottest
 * and coldest regions), info (what the record holds), json (damo's JSON
 * record format, plain or compressed).  The numbers come from
 * src/record/report.c; this file and plot.c only render them.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/plot.h"
#include "cli/util.h"
#include "record/record.h"

#define CMD "report"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: udamon report KIND [options] [RECORD]\n"
		"       udamon report --json [-o FILE] [RECORD]\n"
		"\n"
		"Show a record written by 'udamon record' (default RECORD: udamon.rec),\n"
		"or one damo wrote (its json and json_compressed record files, e.g.\n"
		"of the kernel's DAMON).  A record cut short by a crash is read up to\n"
		"its last complete snapshot, with a warning.\n"
		"\n"
		"kinds:\n"
		"  heatmap   access frequency over time (rows, top to bottom) and\n"
		"            address (columns, low to high) as ANSI text; paused\n"
		"            periods are rows of '=' marked PAUSED, auto-paused ones\n"
		"            (targets stopped or frozen) rows of '~' marked\n"
		"            AUTO-PAUSED.  With --output\n"
		"            FILE.png or FILE.svg, a plot instead: time left to right,\n"
		"            addresses bottom to top, axes with units, a colour scale,\n"
		"            paused and auto-paused periods hatched and labelled\n"
		"  wss       working set size percentiles over the snapshots; with\n"
		"            --output FILE.png or FILE.svg, a plot of it over time\n"
		"  table     hottest and coldest regions of one snapshot\n"
		"  access    damo's region listing of one snapshot, with\n"
		"            temperature and recency histograms (its own\n"
		"            options: 'udamon report access --help')\n"
		"  info      what the record holds: target, intervals, pauses, end\n"
		"  json      the record in damo's JSON record format\n"
		"\n"
		"options:\n"
		"  --target N            target index (default 0)\n"
		"  --raw                 plain numbers (bytes, ns) for scripts\n"
		"heatmap:\n"
		"  --rows N              time slots (default 40)\n"
		"  --cols N              address slots (default: terminal width, or 64)\n"
		"  --time-range A-B      seconds of the record to show (e.g. 5-20)\n"
		"  --addr-range A-B      addresses to show (e.g. 0x100000000-0x100a00000)\n"
		"  --keep-gaps           map addresses linearly; by default unmonitored\n"
		"                        gaps between regions are left out of the axis\n"
		"  --accessed-only       leave out address ranges never seen accessed\n"
		"  --color WHEN          auto, always or never (default auto; NO_COLOR)\n"
		"  -o, --output FILE     write a plot to FILE: PNG or SVG by its name's\n"
		"                        ending (.png, .svg); also for wss\n"
		"  --png FILE            a PNG plot to FILE, whatever its name\n"
		"  --size WxH            the plot's size in pixels (default 1000x480,\n"
		"                        at least 400x240); --png-size is the same\n"
		"wss:\n"
		"  --thres N             a region is in the working set if its\n"
		"                        nr_accesses is at least N (default 1)\n"
		"  --percentiles LIST    comma-separated (default 0,25,50,75,100)\n"
		"  --per-snapshot        print the size of every snapshot instead\n"
		"table:\n"
		"  --top N               rows of hottest and of coldest (default 10)\n"
		"  --at SECS             the snapshot at SECS (default: the last one)\n"
		"json:\n"
		"  -o, --output FILE     write to FILE instead of standard output\n"
		"  --output-type TYPE    json (default) or json_compressed (damo's\n"
		"                        names: the JSON, compressed with zlib)\n"
		"\n"
		"Exit status: 0 done, 1 unreadable or invalid record, 2 bad command\n"
		"line (also --at or a range outside the record), 3 plot support\n"
		"(cairo) not built in.\n");
}

struct report_opts {
	const char *kind;
	const char *path;
	unsigned int target;
	bool raw;
	/* heatmap */
	unsigned int rows, cols;
	double t_from, t_to;
	unsigned long a_from, a_to;
	bool keep_gaps;
	bool accessed_only;
	int color; /* -1 auto, 0 never, 1 always */
	const char *plot; /* --output or --png of heatmap and wss */
	int plot_format;
	unsigned int plot_w, plot_h;
	/* wss */
	unsigned int thres;
	unsigned int pcts[32];
	unsigned int nr_pcts;
	bool per_snapshot;
	/* table */
	unsigned int top;
	double at;
	/* json */
	const char *output;
	bool compressed;
};

/* ---- heatmap ---- */

/* 256-colour backgrounds of the ten levels: dark to red to yellow. */
static const int level_bg[10] = {
	236, 53, 89, 125, 161, 197, 202, 208, 214, 226
};

static void print_time_range(FILE *out, const struct udamon_heatmap *hm)
{
	char a[32], b[32];

	fprintf(out, "# time: %u rows of %.3f s, %s to %s, top to bottom\n",
		hm->nr_time,
		(double)(hm->t_end - hm->t_start) / hm->nr_time / 1e9,
		cli_fmt_secs(a, sizeof(a), hm->t_start),
		cli_fmt_secs(b, sizeof(b), hm->t_end));
}

/*
 * A header line for records whose source sees writes only: memory that
 * is only read looks idle in them, so the reader must be told.
 */
static void say_writes_only(const struct udamon_record *rec)
{
	if (rec->hdr.source && strstr(rec->hdr.source, "writes only"))
		printf("# access source %s: memory that is only read shows as idle\n",
		       rec->hdr.source);
}

static int heatmap_text(const struct udamon_record *rec,
			const struct udamon_heatmap *hm,
			const struct report_opts *o, bool color)
{
	struct udamon_record_pause *pauses;
	size_t nr_pauses, p;
	unsigned int ti, ai;
	char a[32], b[32];

	printf("# heatmap of %s, target %u (pid %d), %s clock\n", o->path,
	       o->target, rec->hdr.pids[o->target],
	       rec->hdr.virtual_clock ? "virtual" : "real");
	say_writes_only(rec);
	for (ti = 0; ti < hm->nr_time; ti++) {
		int cur = -2;

		printf("%9.2f s |",
		       (double)(hm->t_start +
				(uint64_t)((double)ti *
					   (hm->t_end - hm->t_start) /
					   hm->nr_time)) /
			       1e9);
		for (ai = 0; ai < hm->nr_addr; ai++) {
			int lv = udamon_heatmap_level(hm, ti, ai, 10);
			int want = hm->auto_paused[ti] ? 11 :
				   hm->paused[ti]      ? 10 :
							 lv;
			char ch = hm->auto_paused[ti] ? '~' :
				  hm->paused[ti]      ? '=' :
				  lv < 0	      ? ' ' :
							(char)('0' + lv);

			if (color && want != cur) {
				if (want == 11)
					printf("\033[48;5;240;38;5;231m");
				else if (want == 10)
					printf("\033[48;5;19;38;5;231m");
				else if (want < 0)
					printf("\033[0m");
				else
					printf("\033[48;5;%d;38;5;%dm",
					       level_bg[want],
					       want >= 7 ? 16 : 250);
				cur = want;
			}
			putchar(ch);
		}
		if (color)
			printf("\033[0m");
		printf("|%s\n", hm->auto_paused[ti] ? " AUTO-PAUSED" :
				hm->paused[ti]	    ? " PAUSED" :
						      "");
	}
	print_time_range(stdout, hm);
	printf("# address: %u columns of %s, %s in %u span%s (%s), 0x%lx-0x%lx\n",
	       hm->nr_addr,
	       cli_fmt_size(a, sizeof(a), hm->total_bytes / hm->nr_addr, false),
	       cli_fmt_size(b, sizeof(b), hm->total_bytes, false), hm->nr_spans,
	       hm->nr_spans == 1 ? "" : "s",
	       o->keep_gaps	? "linear" :
	       o->accessed_only ? "ranges never accessed left out" :
				  "gaps between regions left out",
	       hm->spans[0].start, hm->spans[hm->nr_spans - 1].end);
	printf("# access frequency: 0 = none, 1-9 = up to %.1f%% of samples "
	       "(linear), ' ' = not monitored, '=' = paused\n",
	       hm->max_freq);
	if (udamon_record_pauses(rec, &pauses, &nr_pauses))
		return CLI_EFAIL;
	for (p = 0; p < nr_pauses; p++)
		if (pauses[p].automatic)
			break;
	if (p < nr_pauses)
		printf("# '~' = auto-paused (every target stopped or frozen)\n");
	for (p = 0; p < nr_pauses; p++)
		printf("# %s: %s to %s\n",
		       pauses[p].automatic ? "auto-paused" : "paused",
		       cli_fmt_secs(a, sizeof(a), pauses[p].start_ns),
		       cli_fmt_secs(b, sizeof(b), pauses[p].end_ns));
	free(pauses);
	return CLI_OK;
}

/* The file name without its directories, for titles. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

static const char *format_name(enum udamon_record_format f)
{
	switch (f) {
	case UDAMON_RECORD_FMT_DAMO_JSON:
		return "damo json";
	case UDAMON_RECORD_FMT_DAMO_JSON_COMPRESSED:
		return "damo json_compressed";
	default:
		return "udamon";
	}
}

/* The labelled bands of a plot: pauses, manual and automatic. */
static int plot_bands(const struct udamon_record *rec,
		      struct cli_plot_band **bands, size_t *nr)
{
	struct udamon_record_pause *pauses;
	size_t n, i;

	*bands = NULL;
	*nr = 0;
	if (udamon_record_pauses(rec, &pauses, &n))
		return -ENOMEM;
	if (!n)
		return 0;
	*bands = calloc(n, sizeof(**bands));
	if (!*bands) {
		free(pauses);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		(*bands)[i].kind = pauses[i].automatic ? CLI_BAND_AUTO_PAUSED :
							 CLI_BAND_PAUSED;
		(*bands)[i].start_ns = pauses[i].start_ns;
		(*bands)[i].end_ns = pauses[i].end_ns;
	}
	*nr = n;
	free(pauses);
	return 0;
}

/* Draw with @fn (heatmap or wss) into the file --output named. */
static int plot_out(const struct udamon_record *rec,
		    const struct report_opts *o, const char *title,
		    int (*fn)(const struct cli_plot *p, const void *arg),
		    const void *arg)
{
	char subtitle[256];
	struct cli_plot p = {
		.format = (enum cli_plot_format)o->plot_format,
		.path = o->plot,
		.width = o->plot_w,
		.height = o->plot_h,
		.title = title,
		.subtitle = subtitle,
	};
	struct cli_plot_band *bands;
	int err;

	snprintf(subtitle, sizeof(subtitle),
		 "%s record %s: %s, %s operations, %s clock",
		 format_name(rec->format), base_name(o->path), rec->hdr.source,
		 rec->hdr.ops, rec->hdr.virtual_clock ? "virtual" : "real");
	if (plot_bands(rec, &bands, &p.nr_bands)) {
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	p.bands = bands;
	err = fn(&p, arg);
	free(bands);
	if (err) {
		cli_err(CMD, "--output: cannot write %s: %s", o->plot,
			strerror(-err));
		return CLI_EFAIL;
	}
	printf("%s\n", o->plot);
	return CLI_OK;
}

struct heatmap_plot_arg {
	const struct udamon_heatmap *hm;
	bool linear;
};

static int heatmap_plot_fn(const struct cli_plot *p, const void *arg)
{
	const struct heatmap_plot_arg *a = arg;

	return cli_plot_heatmap(p, a->hm, a->linear);
}

static int need_plots(const struct report_opts *o)
{
	if (o->plot && !cli_plot_supported()) {
		cli_err(CMD, "--output %s: " CLI_PLOT_NO_CAIRO, o->plot);
		return CLI_EMISSING;
	}
	return CLI_OK;
}

static unsigned int term_cols(void)
{
	struct winsize ws;

	if (isatty(1) && !ioctl(1, TIOCGWINSZ, &ws) && ws.ws_col > 40)
		return ws.ws_col - 22 > 160 ? 160 : ws.ws_col - 22;
	return 64;
}

static int report_heatmap(const struct udamon_record *rec,
			  struct report_opts *o)
{
	struct udamon_heatmap_opts ho = { 0 };
	struct udamon_heatmap *hm;
	int err, ret;
	bool color;

	ret = need_plots(o);
	if (ret)
		return ret;
	ho.target = o->target;
	ho.nr_time = o->rows;
	ho.nr_addr = o->cols ? o->cols : term_cols();
	if (o->plot)
		cli_plot_heatmap_cells(o->plot_w, o->plot_h, &ho.nr_time,
				       &ho.nr_addr);
	ho.t_start = (uint64_t)llround(o->t_from * 1e9);
	ho.t_end = o->t_to > 0 ? (uint64_t)llround(o->t_to * 1e9) : 0;
	ho.addr_start = o->a_from;
	ho.addr_end = o->a_to;
	ho.keep_gaps = o->keep_gaps;
	ho.only_accessed = o->accessed_only;
	err = udamon_heatmap_build(rec, &ho, &hm);
	if (err == -ENOMEM) {
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	if (err) {
		cli_err(CMD,
			"heatmap: nothing to show (the time or address range holds no region of target %u)",
			o->target);
		return CLI_EFAIL;
	}
	color = o->color < 0 ? cli_color_auto(stdout) : o->color;
	if (o->plot) {
		struct heatmap_plot_arg a = { hm, o->keep_gaps };
		char title[256];

		snprintf(title, sizeof(title),
			 "Access heatmap of %s, target %u", base_name(o->path),
			 o->target);
		ret = plot_out(rec, o, title, heatmap_plot_fn, &a);
	} else {
		ret = heatmap_text(rec, hm, o, color);
	}
	udamon_heatmap_free(hm);
	return ret;
}

/* ---- wss ---- */

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a,
		      y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

struct wss_plot_arg {
	uint64_t *start_ns, *end_ns;
	const unsigned long *wss;
	size_t n;
	char what[64];
};

static int wss_plot_fn(const struct cli_plot *p, const void *arg)
{
	const struct wss_plot_arg *a = arg;

	return cli_plot_wss(p, a->start_ns, a->end_ns, a->wss, a->n, a->what);
}

static int wss_plot(const struct udamon_record *rec,
		    const struct report_opts *o, const unsigned long *wss)
{
	struct wss_plot_arg a = { .wss = wss, .n = rec->nr_snapshots };
	char title[256];
	size_t i;
	int ret;

	a.start_ns = calloc(a.n, sizeof(*a.start_ns));
	a.end_ns = calloc(a.n, sizeof(*a.end_ns));
	if (!a.start_ns || !a.end_ns) {
		free(a.start_ns);
		free(a.end_ns);
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	for (i = 0; i < a.n; i++) {
		a.start_ns[i] = rec->snapshots[i].start_ns;
		a.end_ns[i] = rec->snapshots[i].end_ns;
	}
	snprintf(a.what, sizeof(a.what), "(nr_accesses >= %u)", o->thres);
	snprintf(title, sizeof(title), "Working set size of %s, target %u",
		 base_name(o->path), o->target);
	ret = plot_out(rec, o, title, wss_plot_fn, &a);
	free(a.start_ns);
	free(a.end_ns);
	return ret;
}

static int report_wss(const struct udamon_record *rec, struct report_opts *o)
{
	unsigned long *wss, sum = 0;
	char buf[32];
	size_t i, n = rec->nr_snapshots;

	int ret = need_plots(o);

	if (ret)
		return ret;
	if (udamon_record_wss(rec, o->target, o->thres, &wss)) {
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	if (o->plot) {
		ret = wss_plot(rec, o, wss);
		free(wss);
		return ret;
	}
	say_writes_only(rec);
	if (o->per_snapshot) {
		printf("# target %u: working set size of every snapshot "
		       "(nr_accesses >= %u)\n# end_time_s  wss\n",
		       o->target, o->thres);
		for (i = 0; i < n; i++)
			printf("%.3f %s\n",
			       (double)rec->snapshots[i].end_ns / 1e9,
			       cli_fmt_size(buf, sizeof(buf), wss[i], o->raw));
		free(wss);
		return CLI_OK;
	}
	for (i = 0; i < n; i++)
		sum += wss[i];
	qsort(wss, n, sizeof(*wss), cmp_ulong);
	printf("# target %u: working set size over %zu snapshots "
	       "(nr_accesses >= %u)\n# percentile  wss\n",
	       o->target, n, o->thres);
	for (i = 0; i < o->nr_pcts; i++)
		printf("%12u  %s\n", o->pcts[i],
		       cli_fmt_size(buf, sizeof(buf),
				    udamon_wss_percentile(wss, n, o->pcts[i]),
				    o->raw));
	printf("%12s  %s\n", "average",
	       cli_fmt_size(buf, sizeof(buf), n ? sum / n : 0, o->raw));
	free(wss);
	return CLI_OK;
}

/* ---- table ---- */

static void table_rows(const struct udamon_record_snapshot *s,
		       const struct udamon_record_region *rows, size_t nr,
		       bool raw)
{
	char sz[32];
	size_t i;

	printf("%4s  %-18s  %-18s  %12s  %11s  %7s  %10s\n", "rank", "start",
	       "end", "size", "nr_accesses", "access%", "age");
	for (i = 0; i < nr; i++) {
		const struct udamon_record_region *r = &rows[i];

		printf("%4zu  0x%-16lx  0x%-16lx  %12s  %11u  %6.1f%%  ", i + 1,
		       r->start, r->end,
		       cli_fmt_size(sz, sizeof(sz), r->end - r->start, raw),
		       r->nr_accesses, udamon_record_freq_pct(s, r));
		if (raw)
			printf("%10u\n", r->age);
		else
			printf("%8.1f s\n",
			       (double)r->age * (double)s->aggr_us / 1e6);
	}
}

static int report_table(const struct udamon_record *rec, struct report_opts *o)
{
	const struct udamon_record_snapshot *s;
	struct udamon_record_region *hot, *cold;
	size_t idx, nr, top;
	long at;

	if (o->at >= 0) {
		at = udamon_record_snapshot_at(rec,
					       (uint64_t)llround(o->at * 1e9));
		if (at < 0)
			return CLI_EFAIL;
		idx = (size_t)at;
	} else {
		idx = rec->nr_snapshots - 1;
	}
	s = &rec->snapshots[idx];
	if (udamon_record_table(rec, idx, o->target, false, &hot, &nr))
		return CLI_EFAIL;
	if (udamon_record_table(rec, idx, o->target, true, &cold, &nr)) {
		free(hot);
		return CLI_EFAIL;
	}
	top = o->top < nr ? o->top : nr;
	printf("# snapshot %lu of %s, target %u: %.3f s to %.3f s, "
	       "sample %lu us, aggr %lu us, %zu regions\n",
	       s->seq, o->path, o->target, (double)s->start_ns / 1e9,
	       (double)s->end_ns / 1e9, s->sample_us, s->aggr_us, nr);
	printf("# hottest %zu (most accesses, then oldest)\n", top);
	table_rows(s, hot, top, o->raw);
	printf("# coldest %zu (fewest accesses, then oldest)\n", top);
	table_rows(s, cold, top, o->raw);
	free(hot);
	free(cold);
	return CLI_OK;
}

/* ---- info ---- */

static int report_info(const struct udamon_record *rec, struct report_opts *o)
{
	struct udamon_record_pause *pauses;
	size_t nr_pauses, i, changes = 0;
	unsigned long min_r = ULONG_MAX, max_r = 0, sum_r = 0;
	char a[32], b[32];
	const struct udamon_record_event *last = NULL;
	unsigned int t;

	if (rec->format == UDAMON_RECORD_FMT_UDAMON)
		printf("record:      %s (format version %u, %zu bytes)\n",
		       o->path, rec->version, rec->file_bytes);
	else
		printf("record:      %s (%s, %zu bytes)\n", o->path,
		       format_name(rec->format), rec->file_bytes);
	if (rec->format != UDAMON_RECORD_FMT_UDAMON)
		; /* damo's records do not say when they were made */
	else if (o->raw)
		printf("created:     %" PRId64 "\n", rec->hdr.created);
	else {
		time_t c = (time_t)rec->hdr.created;
		struct tm tm;
		char when[64];

		if (gmtime_r(&c, &tm)) {
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
				 &tm);
			printf("created:     %s\n", when);
		} else {
			printf("created:     %" PRId64 " (out of range)\n",
			       rec->hdr.created);
		}
	}
	printf("clock:       %s\n",
	       rec->hdr.virtual_clock ? "virtual" : "real");
	printf("operations:  %s\n", rec->hdr.ops);
	printf("source:      %s\n", rec->hdr.source);
	if (rec->hdr.workload)
		printf("workload:    %s\n", rec->hdr.workload);
	if (rec->hdr.command)
		printf("command:     %s\n", rec->hdr.command);
	printf("seed:        %" PRIu64 "\n", rec->hdr.seed);
	printf("targets:     %u (pid", rec->hdr.nr_targets);
	for (t = 0; t < rec->hdr.nr_targets; t++)
		printf(" %d", rec->hdr.pids[t]);
	printf(")\n");
	printf("nr_regions:  %lu..%lu\n", rec->hdr.min_nr_regions,
	       rec->hdr.max_nr_regions);
	printf("update_us:   %lu\n", rec->hdr.update_us);
	if (rec->hdr.intervals_goal.aggrs)
		printf("tuning goal: %lu bp per %lu aggregations, sample %lu..%lu us\n",
		       rec->hdr.intervals_goal.access_bp,
		       rec->hdr.intervals_goal.aggrs,
		       rec->hdr.intervals_goal.min_sample_us,
		       rec->hdr.intervals_goal.max_sample_us);
	printf("snapshots:   %zu", rec->nr_snapshots);
	if (rec->nr_snapshots) {
		const struct udamon_record_snapshot *f = &rec->snapshots[0];
		const struct udamon_record_snapshot *l =
			&rec->snapshots[rec->nr_snapshots - 1];

		for (i = 0; i < rec->nr_snapshots; i++) {
			const struct udamon_record_snapshot *s =
				&rec->snapshots[i];
			unsigned long n = 0;

			for (t = 0; t < s->nr_targets; t++)
				n += s->targets[t].nr_regions;
			if (n < min_r)
				min_r = n;
			if (n > max_r)
				max_r = n;
			sum_r += n;
			if (i &&
			    (s->sample_us != rec->snapshots[i - 1].sample_us ||
			     s->aggr_us != rec->snapshots[i - 1].aggr_us))
				changes++;
		}
		printf(", %s to %s\n", cli_fmt_secs(a, sizeof(a), f->start_ns),
		       cli_fmt_secs(b, sizeof(b), l->end_ns));
		printf("intervals:   sample %lu us, aggr %lu us at the start; "
		       "sample %lu us, aggr %lu us at the end (%zu changes)\n",
		       f->sample_us, f->aggr_us, l->sample_us, l->aggr_us,
		       changes);
		printf("regions:     %lu min, %.1f average, %lu max per snapshot\n",
		       min_r, (double)sum_r / rec->nr_snapshots, max_r);
	} else {
		printf("\n");
	}
	if (udamon_record_pauses(rec, &pauses, &nr_pauses))
		return CLI_EFAIL;
	printf("pauses:      %zu\n", nr_pauses);
	for (i = 0; i < nr_pauses; i++)
		printf("  %s %s to %s\n",
		       pauses[i].automatic ? "auto-paused" : "paused    ",
		       cli_fmt_secs(a, sizeof(a), pauses[i].start_ns),
		       cli_fmt_secs(b, sizeof(b), pauses[i].end_ns));
	free(pauses);
	/* A process followed through execve() is another program after. */
	for (i = 0; i < rec->nr_events; i++)
		if (rec->events[i].type == UDAMON_RECORD_EV_EXEC)
			printf("exec:        %s at %s\n",
			       rec->events[i].arg ? rec->events[i].arg : "?",
			       cli_fmt_secs(a, sizeof(a),
					    rec->events[i].time_ns));
	if (rec->nr_events &&
	    rec->events[rec->nr_events - 1].type == UDAMON_RECORD_EV_STOP)
		last = &rec->events[rec->nr_events - 1];
	if (rec->format != UDAMON_RECORD_FMT_UDAMON)
		printf("ended:       %s (damo's records hold no events)\n",
		       cli_fmt_secs(a, sizeof(a),
				    udamon_record_duration_ns(rec)));
	else if (last)
		printf("ended:       %s at %s\n",
		       last->arg ? last->arg : "stop",
		       cli_fmt_secs(a, sizeof(a), last->time_ns));
	else
		printf("ended:       no stop event (the recorder did not finish: "
		       "it crashed, was killed, or still runs)\n");
	if (rec->truncated)
		printf("truncated:   yes, %zu bytes after byte %zu dropped\n",
		       rec->file_bytes - rec->valid_bytes, rec->valid_bytes);
	return CLI_OK;
}

/* ---- json ---- */

static int report_json(const struct udamon_record *rec, struct report_opts *o)
{
	FILE *out = stdout;
	int err;

	if (o->output) {
		out = fopen(o->output, o->compressed ? "wb" : "w");
		if (!out) {
			cli_err(CMD, "--output: cannot write %s: %s", o->output,
				strerror(errno));
			return CLI_EFAIL;
		}
	}
	err = udamon_record_export_damo(rec, out, o->compressed);
	if (out != stdout && fclose(out))
		err = -EIO;
	if (err) {
		cli_err(CMD, "writing the JSON failed: %s", strerror(-err));
		return CLI_EFAIL;
	}
	return CLI_OK;
}

/* ---- options ---- */

static int parse_pcts(struct report_opts *o, const char *arg)
{
	char buf[256], *save = NULL, *tok;
	unsigned long v;

	if (strlen(arg) >= sizeof(buf))
		return cli_bad_arg(CMD, "--percentiles", arg, "is too long");
	memcpy(buf, arg, strlen(arg) + 1);
	o->nr_pcts = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (o->nr_pcts == 32)
			return cli_bad_arg(CMD, "--percentiles", arg,
					   "has more than 32 entries");
		if (cli_parse_ulong(CMD, "--percentiles", tok, 0, 100, &v))
			return CLI_EUSAGE;
		o->pcts[o->nr_pcts++] = (unsigned int)v;
	}
	if (!o->nr_pcts)
		return cli_bad_arg(CMD, "--percentiles", arg, "is empty");
	return 0;
}

static int parse_time_range(struct report_opts *o, const char *arg)
{
	char buf[64], *dash;

	if (strlen(arg) >= sizeof(buf) || !(dash = strchr(arg, '-')))
		return cli_bad_arg(CMD, "--time-range", arg,
				   "is not FROM-TO in seconds (e.g. 5-20)");
	memcpy(buf, arg, strlen(arg) + 1);
	buf[dash - arg] = '\0';
	if (cli_parse_seconds(CMD, "--time-range", buf, &o->t_from) ||
	    cli_parse_seconds(CMD, "--time-range", buf + (dash - arg) + 1,
			      &o->t_to))
		return CLI_EUSAGE;
	if (o->t_to <= o->t_from)
		return cli_bad_arg(CMD, "--time-range", arg,
				   "must end after it starts");
	return 0;
}

static int parse_addr_range(struct report_opts *o, const char *arg)
{
	char buf[80], *dash;

	if (strlen(arg) >= sizeof(buf) || !(dash = strchr(arg, '-')))
		goto bad;
	memcpy(buf, arg, strlen(arg) + 1);
	buf[dash - arg] = '\0';
	if (cli_parse_size_str(buf, &o->a_from) ||
	    cli_parse_size_str(buf + (dash - arg) + 1, &o->a_to) ||
	    o->a_to <= o->a_from)
		goto bad;
	return 0;
bad:
	return cli_bad_arg(
		CMD, "--addr-range", arg,
		"is not START-END with START < END (e.g. 0x1000-0x200000)");
}

int cli_report(int argc, char **argv)
{
	enum {
		OPT_TARGET = 1000,
		OPT_RAW,
		OPT_ROWS,
		OPT_COLS,
		OPT_TIME_RANGE,
		OPT_ADDR_RANGE,
		OPT_KEEP_GAPS,
		OPT_ACCESSED_ONLY,
		OPT_COLOR,
		OPT_NO_COLOR,
		OPT_PNG,
		OPT_PNG_SIZE,
		OPT_OUTPUT_TYPE,
		OPT_THRES,
		OPT_PCTS,
		OPT_PER_SNAPSHOT,
		OPT_TOP,
		OPT_AT,
		OPT_JSON,
	};
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "rows", required_argument, NULL, OPT_ROWS },
		{ "cols", required_argument, NULL, OPT_COLS },
		{ "time-range", required_argument, NULL, OPT_TIME_RANGE },
		{ "addr-range", required_argument, NULL, OPT_ADDR_RANGE },
		{ "keep-gaps", no_argument, NULL, OPT_KEEP_GAPS },
		{ "accessed-only", no_argument, NULL, OPT_ACCESSED_ONLY },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "png", required_argument, NULL, OPT_PNG },
		{ "png-size", required_argument, NULL, OPT_PNG_SIZE },
		{ "size", required_argument, NULL, OPT_PNG_SIZE },
		{ "output-type", required_argument, NULL, OPT_OUTPUT_TYPE },
		{ "thres", required_argument, NULL, OPT_THRES },
		{ "percentiles", required_argument, NULL, OPT_PCTS },
		{ "per-snapshot", no_argument, NULL, OPT_PER_SNAPSHOT },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "at", required_argument, NULL, OPT_AT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_opts o = {
		.path = "udamon.rec",
		.rows = 40,
		.color = -1,
		.plot_format = -1,
		.plot_w = 1000,
		.plot_h = 480,
		.thres = 1,
		.pcts = { 0, 25, 50, 75, 100 },
		.nr_pcts = 5,
		.top = 10,
		.at = -1,
	};
	struct udamon_record *rec;
	char errbuf[512];
	unsigned long v;
	int c, err;

	/* damo's region listing has options of its own (access.c). */
	if (argc > 1 && !strcmp(argv[1], "access"))
		return cli_report_access(argc - 1, argv + 1);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TARGET:
			if (cli_parse_ulong(CMD, "--target", optarg, 0, 65535,
					    &v))
				return CLI_EUSAGE;
			o.target = (unsigned int)v;
			break;
		case OPT_RAW:
			o.raw = true;
			break;
		case OPT_ROWS:
			if (cli_parse_ulong(CMD, "--rows", optarg, 1, 10000,
					    &v))
				return CLI_EUSAGE;
			o.rows = (unsigned int)v;
			break;
		case OPT_COLS:
			if (cli_parse_ulong(CMD, "--cols", optarg, 1, 10000,
					    &v))
				return CLI_EUSAGE;
			o.cols = (unsigned int)v;
			break;
		case OPT_TIME_RANGE:
			if (parse_time_range(&o, optarg))
				return CLI_EUSAGE;
			break;
		case OPT_ADDR_RANGE:
			if (parse_addr_range(&o, optarg))
				return CLI_EUSAGE;
			break;
		case OPT_KEEP_GAPS:
			o.keep_gaps = true;
			break;
		case OPT_ACCESSED_ONLY:
			o.accessed_only = true;
			break;
		case OPT_COLOR:
			if (!strcmp(optarg, "auto"))
				o.color = -1;
			else if (!strcmp(optarg, "always"))
				o.color = 1;
			else if (!strcmp(optarg, "never"))
				o.color = 0;
			else
				return cli_bad_arg(
					CMD, "--color", optarg,
					"is not auto, always or never");
			break;
		case OPT_NO_COLOR:
			o.color = 0;
			break;
		case OPT_PNG:
			if (!*optarg)
				return cli_bad_arg(CMD, "--png", optarg,
						   "is empty");
			o.plot = optarg;
			o.plot_format = CLI_PLOT_PNG;
			break;
		case OPT_PNG_SIZE: {
			unsigned int w, h;
			char tail;

			if (sscanf(optarg, "%ux%u%c", &w, &h, &tail) != 2 ||
			    w < CLI_PLOT_MIN_W || h < CLI_PLOT_MIN_H ||
			    w > CLI_PLOT_MAX_W || h > CLI_PLOT_MAX_H)
				return cli_bad_arg(
					CMD, "--size", optarg,
					"is not WIDTHxHEIGHT within 400x240..8000x8000");
			o.plot_w = w;
			o.plot_h = h;
			break;
		}
		case OPT_OUTPUT_TYPE:
			if (!strcmp(optarg, "json"))
				o.compressed = false;
			else if (!strcmp(optarg, "json_compressed"))
				o.compressed = true;
			else
				return cli_bad_arg(
					CMD, "--output-type", optarg,
					"is not json or json_compressed");
			break;
		case OPT_THRES:
			if (cli_parse_ulong(CMD, "--thres", optarg, 0, UINT_MAX,
					    &v))
				return CLI_EUSAGE;
			o.thres = (unsigned int)v;
			break;
		case OPT_PCTS:
			if (parse_pcts(&o, optarg))
				return CLI_EUSAGE;
			break;
		case OPT_PER_SNAPSHOT:
			o.per_snapshot = true;
			break;
		case OPT_TOP:
			if (cli_parse_ulong(CMD, "--top", optarg, 1, 1000000,
					    &v))
				return CLI_EUSAGE;
			o.top = (unsigned int)v;
			break;
		case OPT_AT:
			if (cli_parse_seconds(CMD, "--at", optarg, &o.at))
				return CLI_EUSAGE;
			break;
		case OPT_JSON:
			o.kind = "json";
			break;
		case 'o':
			if (!*optarg)
				return cli_bad_arg(CMD, "--output", optarg,
						   "is empty");
			o.output = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv);
		}
	}
	/* Positional: KIND (unless --json) and RECORD, in any order of options. */
	if (!o.kind) {
		if (optind >= argc)
			return cli_usage_error(
				CMD,
				"name what to report: heatmap, wss, table, info or json");
		o.kind = argv[optind++];
	} else if (optind < argc && !strcmp(argv[optind], "json")) {
		optind++;
	}
	if (strcmp(o.kind, "heatmap") && strcmp(o.kind, "wss") &&
	    strcmp(o.kind, "table") && strcmp(o.kind, "info") &&
	    strcmp(o.kind, "json")) {
		cli_err(CMD,
			"'%s' is not a report kind (heatmap, wss, table, info, json)",
			o.kind);
		return CLI_EUSAGE;
	}
	if (optind < argc)
		o.path = argv[optind++];
	if (optind < argc) {
		cli_err(CMD, "unexpected argument '%s'", argv[optind]);
		return CLI_EUSAGE;
	}
	if (o.plot && strcmp(o.kind, "heatmap"))
		return cli_usage_error(CMD, "--png goes with 'heatmap' only");
	/* --output: the JSON, or a plot of a heatmap or the wss. */
	if (o.output &&
	    (!strcmp(o.kind, "heatmap") || !strcmp(o.kind, "wss"))) {
		if (o.plot)
			return cli_usage_error(
				CMD,
				"--png and --output name the same plot; give one");
		o.plot_format = cli_plot_format_of(o.output);
		if (o.plot_format < 0)
			return cli_bad_arg(
				CMD, "--output", o.output,
				"does not end in .png or .svg (the plot's format)");
		o.plot = o.output;
		o.output = NULL;
	}
	if (o.output && strcmp(o.kind, "json"))
		return cli_usage_error(
			CMD,
			"--output goes with 'json', 'heatmap' or 'wss' only");

	err = udamon_record_read(o.path, &rec, errbuf, sizeof(errbuf));
	if (err) {
		cli_err(CMD, "%s", errbuf);
		return CLI_EFAIL;
	}
	if (rec->truncated)
		fprintf(stderr,
			"udamon report: warning: %s is cut at byte %zu of %zu (a crash, or a record still being written); using its %zu complete snapshots\n",
			o.path, rec->valid_bytes, rec->file_bytes,
			rec->nr_snapshots);
	err = CLI_EFAIL;
	if (!rec->has_header) {
		cli_err(CMD, "%s: the record ends before its header", o.path);
		goto out;
	}
	if (o.target >= rec->hdr.nr_targets) {
		cli_err(CMD, "--target: %s has %u target%s (0..%u)", o.path,
			rec->hdr.nr_targets,
			rec->hdr.nr_targets == 1 ? "" : "s",
			rec->hdr.nr_targets - 1);
		err = CLI_EUSAGE;
		goto out;
	}
	if (!strcmp(o.kind, "info")) {
		err = report_info(rec, &o);
		goto out;
	}
	if (!strcmp(o.kind, "json")) {
		err = report_json(rec, &o);
		goto out;
	}
	if (!rec->nr_snapshots) {
		cli_err(CMD, "%s holds no complete snapshot", o.path);
		goto out;
	}
	err = cli_check_record_ranges(rec, o.path, o.target, o.at, o.t_from,
				      o.t_to, o.a_from, o.a_to);
	if (err)
		goto out;
	err = CLI_EFAIL;
	if (!strcmp(o.kind, "heatmap"))
		err = report_heatmap(rec, &o);
	else if (!strcmp(o.kind, "wss"))
		err = report_wss(rec, &o);
	else
		err = report_table(rec, &o);
out:
	udamon_record_free(rec);
	return err;
}
