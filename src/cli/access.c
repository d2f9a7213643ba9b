// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamon report access: the regions of one snapshot as damo's "report
 * access" lists them (address range, size, access rate, age and
 * temperature), the hottest or coldest of them, or the total size by
 * temperature or by recency as histograms.  Also the checks that a
 * report's --at, --time-range and --addr-range lie within the record,
 * shared with the other report kinds.
 *
 * Temperature orders regions from hot to cold in one number, as damo's
 * does: an accessed region is hotter the higher its access rate and, at
 * the same rate, the longer it has kept it; a region not accessed is
 * colder the longer it has been idle.  Here it is 100 x access rate (%)
 * + age for an accessed region and -age for an idle one, age counted in
 * aggregation intervals.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/util.h"
#include "record/record.h"

#define CMD "report"

/* ---- ranges within a record ---- */

int cli_check_record_ranges(const struct udamon_record *rec, const char *path,
			    unsigned int target, double at, double t_from,
			    double t_to, unsigned long a_from,
			    unsigned long a_to)
{
	double start = rec->nr_snapshots ?
			       (double)rec->snapshots[0].start_ns / 1e9 :
			       0;
	/* The end of the recording, its stop event included. */
	double end = (double)udamon_record_duration_ns(rec) / 1e9;
	unsigned long lo = ULONG_MAX, hi = 0;
	size_t i;

	/* A millisecond of slack: times are typed with a few decimals. */
	if (at >= 0 && at > end + 1e-3) {
		cli_err(CMD,
			"--at: %.3f s is past the end of %s (%.3f s to %.3f s)",
			at, path, start, end);
		return CLI_EUSAGE;
	}
	if (t_to > 0 && (t_from >= end || t_to > end + 1e-3)) {
		cli_err(CMD,
			"--time-range: %.3f-%.3f s is not within %s (%.3f s to %.3f s)",
			t_from, t_to, path, start, end);
		return CLI_EUSAGE;
	}
	if (!a_to)
		return 0;
	for (i = 0; i < rec->nr_snapshots; i++) {
		const struct udamon_record_snapshot *s = &rec->snapshots[i];
		const struct udamon_record_tsnap *ts;

		if (target >= s->nr_targets)
			continue;
		ts = &s->targets[target];
		if (!ts->nr_regions)
			continue;
		if (ts->regions[0].start < lo)
			lo = ts->regions[0].start;
		if (ts->regions[ts->nr_regions - 1].end > hi)
			hi = ts->regions[ts->nr_regions - 1].end;
	}
	if (lo >= hi || a_from >= hi || a_to <= lo) {
		if (lo >= hi)
			cli_err(CMD,
				"--addr-range: target %u of %s has no region",
				target, path);
		else
			cli_err(CMD,
				"--addr-range: 0x%lx-0x%lx holds no region of target %u of %s (its regions span 0x%lx-0x%lx)",
				a_from, a_to, target, path, lo, hi);
		return CLI_EUSAGE;
	}
	return 0;
}

/* ---- the listing ---- */

enum sort_key {
	SORT_ADDRESS,
	SORT_TEMPERATURE,
	SORT_ACCESS_RATE,
	SORT_AGE,
	SORT_SIZE,
};

static const char *const sort_names[] = { "address", "temperature",
					  "access_rate", "age", "size" };

enum style {
	STYLE_REGIONS,
	STYLE_TEMPERATURE_HIST,
	STYLE_RECENCY_HIST,
};

static const char *const style_names[] = { "regions", "temperature-sz-hist",
					   "recency-sz-hist" };

struct row {
	const struct udamon_record_region *r;
	double rate; /* access rate, % of the window's samples */
	long temp;
	double idle_s; /* how long since last seen accessed */
};

static enum sort_key sort_by;

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	unsigned long xs = x->r->end - x->r->start;
	unsigned long ys = y->r->end - y->r->start;

	/* Descending for everything but the address. */
	switch (sort_by) {
	case SORT_TEMPERATURE:
		if (x->temp != y->temp)
			return x->temp < y->temp ? 1 : -1;
		break;
	case SORT_ACCESS_RATE:
		if (x->rate != y->rate)
			return x->rate < y->rate ? 1 : -1;
		break;
	case SORT_AGE:
		if (x->r->age != y->r->age)
			return x->r->age < y->r->age ? 1 : -1;
		break;
	case SORT_SIZE:
		if (xs != ys)
			return xs < ys ? 1 : -1;
		break;
	case SORT_ADDRESS:
		break;
	}
	return x->r->start < y->r->start ? -1 : x->r->start > y->r->start;
}

static int cmp_temp_asc(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->temp != y->temp)
		return x->temp < y->temp ? -1 : 1;
	return x->r->start < y->r->start ? -1 : x->r->start > y->r->start;
}

static void print_hist(const struct row *rows, size_t nr, bool recency,
		       unsigned int nr_bins, bool raw)
{
	double lo = INFINITY, hi = -INFINITY, width;
	unsigned long *sz, max_sz = 0;
	char a[32];
	size_t i;
	unsigned int b;

	for (i = 0; i < nr; i++) {
		double v = recency ? rows[i].idle_s : (double)rows[i].temp;

		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	if (hi <= lo)
		nr_bins = 1;
	width = nr_bins > 1 ? (hi - lo) / nr_bins : 1;
	sz = calloc(nr_bins, sizeof(*sz));
	if (!sz)
		return;
	for (i = 0; i < nr; i++) {
		double v = recency ? rows[i].idle_s : (double)rows[i].temp;

		b = nr_bins > 1 ? (unsigned int)((v - lo) / width) : 0;
		if (b >= nr_bins)
			b = nr_bins - 1;
		sz[b] += rows[i].r->end - rows[i].r->start;
	}
	for (b = 0; b < nr_bins; b++)
		max_sz = sz[b] > max_sz ? sz[b] : max_sz;
	printf("# total size of the regions by %s (ranges include their start, the last one its end too)\n",
	       recency ? "how long ago they were last accessed" :
			 "temperature");
	for (b = 0; b < nr_bins; b++) {
		double from = lo + width * b;
		double to = b + 1 == nr_bins ? hi : lo + width * (b + 1);
		int bar = max_sz ? (int)lround(40.0 * (double)sz[b] /
					       (double)max_sz) :
				   0;

		if (recency)
			printf("%10.3f s .. %10.3f s %14s |%-40.*s|\n", from,
			       to, cli_fmt_size(a, sizeof(a), sz[b], raw), bar,
			       "****************************************");
		else
			printf("%10.0f .. %10.0f %14s |%-40.*s|\n", from, to,
			       cli_fmt_size(a, sizeof(a), sz[b], raw), bar,
			       "****************************************");
	}
	free(sz);
}

static void access_usage(FILE *out)
{
	fprintf(out,
		"usage: udamon report access [options] [RECORD]\n"
		"\n"
		"The regions of one snapshot (default: the last one) of a record, as\n"
		"damo's 'report access' lists them: address range, size, access rate\n"
		"(%% of the window's samples), age and temperature, and the total.\n"
		"Temperature is 100 x access rate + age for accessed regions and\n"
		"-age for idle ones (age in aggregation intervals): hotter is higher.\n"
		"\n"
		"  --at SECS             the snapshot whose window holds SECS\n"
		"  --target N            target index (default 0)\n"
		"  --sort-by KEY         address (default), temperature, access_rate,\n"
		"                        age or size (all but address: highest first)\n"
		"  --hot N               only the N hottest regions (by temperature)\n"
		"  --cold N              only the N coldest regions\n"
		"  --style STYLE         regions (default); temperature-sz-hist: total\n"
		"                        size by temperature; recency-sz-hist: total\n"
		"                        size by how long ago regions were accessed\n"
		"  --nr-bins N           ranges of a histogram (default 10)\n"
		"  --raw                 plain numbers (bytes, aggregation intervals)\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit status: 0 done, 1 unreadable or invalid record, 2 bad command\n"
		"line (also --at past the end of the record).\n");
}

static int list_access(const struct udamon_record *rec, const char *path,
		       unsigned int target, size_t idx, int hot, int cold,
		       enum style style, unsigned int nr_bins, bool raw)
{
	const struct udamon_record_snapshot *s = &rec->snapshots[idx];
	const struct udamon_record_tsnap *ts = &s->targets[target];
	unsigned long total = 0, accessed = 0;
	struct row *rows;
	size_t i, nr = ts->nr_regions, shown;
	char a[32], b[32];

	rows = calloc(nr ? nr : 1, sizeof(*rows));
	if (!rows) {
		cli_err(CMD, "out of memory");
		return CLI_EFAIL;
	}
	for (i = 0; i < nr; i++) {
		const struct udamon_record_region *r = &ts->regions[i];

		rows[i].r = r;
		rows[i].rate = udamon_record_freq_pct(s, r);
		rows[i].temp = r->nr_accesses ? lround(rows[i].rate * 100) +
							(long)r->age :
						-(long)r->age;
		rows[i].idle_s =
			r->nr_accesses ?
				0 :
				(double)r->age * (double)s->aggr_us / 1e6;
		total += r->end - r->start;
		if (r->nr_accesses)
			accessed += r->end - r->start;
	}
	printf("# snapshot %lu of %s, target %u: %.3f s to %.3f s, sample %lu us, aggr %lu us, %zu regions\n",
	       s->seq, path, target, (double)s->start_ns / 1e9,
	       (double)s->end_ns / 1e9, s->sample_us, s->aggr_us, nr);
	if (style != STYLE_REGIONS) {
		print_hist(rows, nr, style == STYLE_RECENCY_HIST, nr_bins, raw);
		printf("# total %s, accessed %s\n",
		       cli_fmt_size(a, sizeof(a), total, raw),
		       cli_fmt_size(b, sizeof(b), accessed, raw));
		free(rows);
		return CLI_OK;
	}
	shown = nr;
	if (hot || cold) {
		/* Hottest first: descending temperature; coldest: ascending. */
		enum sort_key keep = sort_by;

		sort_by = SORT_TEMPERATURE;
		qsort(rows, nr, sizeof(*rows), hot ? cmp_rows : cmp_temp_asc);
		sort_by = keep;
		shown = (size_t)(hot ? hot : cold) < nr ?
				(size_t)(hot ? hot : cold) :
				nr;
	}
	if (!(hot || cold) || sort_by != SORT_ADDRESS)
		qsort(rows, shown, sizeof(*rows), cmp_rows);
	for (i = 0; i < shown; i++) {
		const struct udamon_record_region *r = rows[i].r;

		printf("%3zu addr [0x%lx, 0x%lx) (%s) access %3.0f %% age ", i,
		       r->start, r->end,
		       cli_fmt_size(a, sizeof(a), r->end - r->start, raw),
		       rows[i].rate);
		if (raw)
			printf("%u", r->age);
		else
			printf("%.3f s",
			       (double)r->age * (double)s->aggr_us / 1e6);
		printf(" temperature %ld\n", rows[i].temp);
	}
	printf("total size: %s in %zu regions (%s accessed)%s\n",
	       cli_fmt_size(a, sizeof(a), total, raw), nr,
	       cli_fmt_size(b, sizeof(b), accessed, raw),
	       shown < nr ? "; listed the hottest or coldest only" : "");
	free(rows);
	return CLI_OK;
}

int cli_report_access(int argc, char **argv)
{
	enum {
		OPT_AT = 1000,
		OPT_TARGET,
		OPT_SORT_BY,
		OPT_HOT,
		OPT_COLD,
		OPT_STYLE,
		OPT_NR_BINS,
		OPT_RAW,
	};
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, OPT_AT },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "sort-by", required_argument, NULL, OPT_SORT_BY },
		{ "hot", required_argument, NULL, OPT_HOT },
		{ "cold", required_argument, NULL, OPT_COLD },
		{ "style", required_argument, NULL, OPT_STYLE },
		{ "nr-bins", required_argument, NULL, OPT_NR_BINS },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = "udamon.rec";
	struct udamon_record *rec;
	enum style style = STYLE_REGIONS;
	unsigned int target = 0, nr_bins = 10;
	unsigned long v;
	double at = -1;
	int c, err, hot = 0, cold = 0;
	bool raw = false;
	char errbuf[512];
	size_t i, idx;

	sort_by = SORT_ADDRESS;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_AT:
			if (cli_parse_seconds(CMD, "--at", optarg, &at))
				return CLI_EUSAGE;
			break;
		case OPT_TARGET:
			if (cli_parse_ulong(CMD, "--target", optarg, 0, 65535,
					    &v))
				return CLI_EUSAGE;
			target = (unsigned int)v;
			break;
		case OPT_SORT_BY:
			for (i = 0;
			     i < sizeof(sort_names) / sizeof(*sort_names); i++)
				if (!strcmp(optarg, sort_names[i]))
					break;
			if (i == sizeof(sort_names) / sizeof(*sort_names))
				return cli_bad_arg(
					CMD, "--sort-by", optarg,
					"is not address, temperature, access_rate, age or size");
			sort_by = (enum sort_key)i;
			break;
		case OPT_HOT:
		case OPT_COLD:
			if (cli_parse_ulong(CMD,
					    c == OPT_HOT ? "--hot" : "--cold",
					    optarg, 1, INT_MAX, &v))
				return CLI_EUSAGE;
			*(c == OPT_HOT ? &hot : &cold) = (int)v;
			break;
		case OPT_STYLE:
			for (i = 0;
			     i < sizeof(style_names) / sizeof(*style_names);
			     i++)
				if (!strcmp(optarg, style_names[i]))
					break;
			if (i == sizeof(style_names) / sizeof(*style_names))
				return cli_bad_arg(
					CMD, "--style", optarg,
					"is not regions, temperature-sz-hist or recency-sz-hist");
			style = (enum style)i;
			break;
		case OPT_NR_BINS:
			if (cli_parse_ulong(CMD, "--nr-bins", optarg, 1, 1000,
					    &v))
				return CLI_EUSAGE;
			nr_bins = (unsigned int)v;
			break;
		case OPT_RAW:
			raw = true;
			break;
		case 'h':
			access_usage(stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv);
		}
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc) {
		cli_err(CMD, "unexpected argument '%s'", argv[optind]);
		return CLI_EUSAGE;
	}
	if (hot && cold)
		return cli_usage_error(CMD,
				       "--hot and --cold exclude each other");
	if ((hot || cold) && style != STYLE_REGIONS)
		return cli_usage_error(
			CMD, "--hot and --cold go with --style regions only");

	err = udamon_record_read(path, &rec, errbuf, sizeof(errbuf));
	if (err) {
		cli_err(CMD, "%s", errbuf);
		return CLI_EFAIL;
	}
	if (rec->truncated)
		fprintf(stderr,
			"udamon report: warning: %s is cut at byte %zu of %zu; using its %zu complete snapshots\n",
			path, rec->valid_bytes, rec->file_bytes,
			rec->nr_snapshots);
	err = CLI_EFAIL;
	if (!rec->has_header || !rec->nr_snapshots) {
		cli_err(CMD, "%s holds no complete snapshot", path);
		goto out;
	}
	if (target >= rec->hdr.nr_targets) {
		cli_err(CMD, "--target: %s has %u target%s (0..%u)", path,
			rec->hdr.nr_targets,
			rec->hdr.nr_targets == 1 ? "" : "s",
			rec->hdr.nr_targets - 1);
		err = CLI_EUSAGE;
		goto out;
	}
	err = cli_check_record_ranges(rec, path, target, at, 0, 0, 0, 0);
	if (err)
		goto out;
	idx = at >= 0 ? (size_t)udamon_record_snapshot_at(
				rec, (uint64_t)llround(at * 1e9)) :
			rec->nr_snapshots - 1;
	if (target >= rec->snapshots[idx].nr_targets) {
		cli_err(CMD, "snapshot %zu has no target %u", idx, target);
		err = CLI_EFAIL;
		goto out;
	}
	err = list_access(rec, path, target, idx, hot, cold, style, nr_bins,
			  raw);
out:
	udamon_record_free(rec);
	return err;
}
