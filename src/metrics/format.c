// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The text a scrape returns: the Prometheus text format 0.0.4, or
 * OpenMetrics 1.0.0 when the scraper asks for it.  The two differ where
 * counters are declared (OpenMetrics names the family without _total),
 * in the type of the two distributions (histogram there, gaugehistogram
 * here: they describe memory now, they do not accumulate) and in the
 * closing "# EOF".
 *
 * Names follow Prometheus conventions: udamon_ prefix, the unit last
 * (_bytes, _seconds, _ratio), _total on counters.  Labels: kdamond,
 * context, then target (index), pid and comm, or scheme (index) and
 * action, then goal (index) and metric.
 */
#include "metrics/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fmt {
	FILE *f;
	bool om;
};

enum fam_type { FAM_GAUGE, FAM_COUNTER, FAM_HISTOGRAM };

/* "# HELP" and "# TYPE" of a family; counters are named without _total. */
static void family(struct fmt *o, const char *name, enum fam_type type,
		   const char *help)
{
	const char *suffix = "", *tname = "gauge";

	if (type == FAM_COUNTER) {
		tname = "counter";
		/* the 0.0.4 format declares the sample's own name */
		if (!o->om)
			suffix = "_total";
	} else if (type == FAM_HISTOGRAM) {
		tname = o->om ? "gaugehistogram" : "histogram";
	}
	fprintf(o->f, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, suffix, help,
		name, suffix, tname);
}

/* A label value: backslash, double quote and newline are escaped. */
static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void labels_ctx(FILE *f, const struct metrics_context *mc)
{
	fputs("{kdamond=\"", f);
	label_value(f, mc->kdamond);
	fprintf(f, "\",context=\"%u\"", mc->context);
}

static void labels_target(FILE *f, const struct metrics_context *mc,
			  unsigned int i)
{
	const struct metrics_target *mt = &mc->targets[i];

	labels_ctx(f, mc);
	fprintf(f, ",target=\"%u\",pid=\"", i);
	if (mt->pid > 0)
		fprintf(f, "%d", mt->pid);
	fputs("\",comm=\"", f);
	label_value(f, mt->comm);
	fputc('"', f);
}

static void labels_scheme(FILE *f, const struct metrics_context *mc,
			  unsigned int i)
{
	labels_ctx(f, mc);
	fprintf(f, ",scheme=\"%u\",action=\"", i);
	label_value(f, mc->schemes[i].action);
	fputc('"', f);
}

/* Values: integers as such, others with up to 15 significant digits (no binary noise). */
static void value_ul(FILE *f, unsigned long v)
{
	fprintf(f, "} %lu\n", v);
}

static void value_d(FILE *f, double v)
{
	fprintf(f, "} %.15g\n", v);
}

/* The samples @name of @mc by the cause of a pause: manual, then auto. */
static void ctx_by_cause(FILE *f, const char *name,
			 const struct metrics_context *mc, const double v[2])
{
	static const char *const cause[2] = { "manual", "auto" };
	unsigned int k;

	for (k = 0; k < 2; k++) {
		fputs(name, f);
		labels_ctx(f, mc);
		fprintf(f, ",cause=\"%s\"", cause[k]);
		value_d(f, v[k]);
	}
}

static void ctx_gauge_us(struct fmt *o, const struct metrics_set *set,
			 const char *name, const char *help, size_t off)
{
	unsigned int i;

	family(o, name, FAM_GAUGE, help);
	for (i = 0; i < set->nr; i++) {
		const struct metrics_context *mc = &set->ctxs[i];

		if (mc->no_context)
			continue;
		fputs(name, o->f);
		labels_ctx(o->f, mc);
		value_d(o->f,
			(double)*(const unsigned long *)((const char *)mc +
							 off) /
				1e6);
	}
}

static void format_contexts(struct fmt *o, const struct metrics_set *set)
{
	FILE *f = o->f;
	unsigned int i;

	family(o, "udamon_kdamond_state", FAM_GAUGE,
	       "Whether the kdamond runs (1 on the series of its state).");
	for (i = 0; i < set->nr; i++) {
		const struct metrics_context *mc = &set->ctxs[i];

		fputs("udamon_kdamond_state{kdamond=\"", f);
		label_value(f, mc->kdamond);
		fprintf(f, "\",state=\"on\"} %d\n", mc->running);
		fputs("udamon_kdamond_state{kdamond=\"", f);
		label_value(f, mc->kdamond);
		fprintf(f, "\",state=\"off\"} %d\n", !mc->running);
	}
	family(o, "udamon_kdamond_cpu_seconds", FAM_COUNTER,
	       "CPU time (user and system) the running kdamond thread used.");
	for (i = 0; i < set->nr; i++) {
		const struct metrics_context *mc = &set->ctxs[i];

		if (mc->cpu_seconds < 0)
			continue;
		fputs("udamon_kdamond_cpu_seconds_total{kdamond=\"", f);
		label_value(f, mc->kdamond);
		fputs("\"", f);
		value_d(f, mc->cpu_seconds);
	}
	family(o, "udamon_context_info", FAM_GAUGE,
	       "Operations set and access source of a context (always 1).");
	for (i = 0; i < set->nr; i++) {
		const struct metrics_context *mc = &set->ctxs[i];

		if (mc->no_context)
			continue;

		fputs("udamon_context_info", f);
		labels_ctx(f, mc);
		fputs(",ops=\"", f);
		label_value(f, mc->ops);
		fputs("\",access_source=\"", f);
		label_value(f, mc->access_source);
		fputs("\"} 1\n", f);
	}
	family(o, "udamon_context_paused", FAM_GAUGE,
	       "Whether monitoring is paused, by cause: manual (the context's pause file) or auto (udamon itself).");
	for (i = 0; i < set->nr; i++) {
		const struct metrics_context *mc = &set->ctxs[i];
		const double paused[2] = { mc->paused, mc->auto_paused };

		if (!mc->no_context)
			ctx_by_cause(f, "udamon_context_paused", mc, paused);
	}
	family(o, "udamon_context_paused_seconds", FAM_COUNTER,
	       "Time spent paused since the kdamond started, by cause (manual wins when both hold).");
	for (i = 0; i < set->nr; i++) {
		const struct metrics_context *mc = &set->ctxs[i];

		if (!mc->no_context)
			ctx_by_cause(f, "udamon_context_paused_seconds_total",
				     mc, mc->paused_seconds);
	}
	ctx_gauge_us(o, set, "udamon_context_sample_interval_seconds",
		     "Current (tuned) sampling interval.",
		     offsetof(struct metrics_context, sample_us));
	ctx_gauge_us(o, set, "udamon_context_aggregation_interval_seconds",
		     "Current (tuned) aggregation interval.",
		     offsetof(struct metrics_context, aggr_us));
	ctx_gauge_us(o, set, "udamon_context_update_interval_seconds",
		     "Operations update interval.",
		     offsetof(struct metrics_context, update_us));
	family(o, "udamon_context_samples", FAM_COUNTER,
	       "Sampling intervals the context has passed (none while paused).");
	for (i = 0; i < set->nr; i++) {
		if (set->ctxs[i].no_context)
			continue;
		fputs("udamon_context_samples_total", f);
		labels_ctx(f, &set->ctxs[i]);
		value_ul(f, set->ctxs[i].passed_sample_intervals);
	}
}

enum target_field { T_REGIONS, T_MONITORED, T_WSS };

static void target_gauge(struct fmt *o, const struct metrics_set *set,
			 const char *name, const char *help,
			 enum target_field field)
{
	unsigned int i, j;

	family(o, name, FAM_GAUGE, help);
	for (i = 0; i < set->nr; i++) {
		const struct metrics_context *mc = &set->ctxs[i];

		for (j = 0; j < mc->nr_targets; j++) {
			const struct metrics_target *mt = &mc->targets[j];

			fputs(name, o->f);
			labels_target(o->f, mc, j);
			value_ul(o->f,
				 field == T_REGIONS   ? mt->nr_regions :
				 field == T_MONITORED ? mt->monitored_bytes :
							mt->working_set_bytes);
		}
	}
}

/* One bound as a le label value. */
static void le_value(FILE *f, double bound)
{
	fprintf(f, ",le=\"%g\"", bound);
}

static void target_histogram(struct fmt *o, const struct metrics_set *set,
			     const char *name, const char *help, bool age)
{
	const double *bounds = age ? metrics_age_bounds : metrics_access_bounds;
	unsigned int nr = age ? METRICS_NR_AGE_BUCKETS :
				METRICS_NR_ACCESS_BUCKETS;
	unsigned int i, j, b;

	family(o, name, FAM_HISTOGRAM, help);
	for (i = 0; i < set->nr; i++) {
		const struct metrics_context *mc = &set->ctxs[i];

		for (j = 0; j < mc->nr_targets; j++) {
			const struct metrics_target *mt = &mc->targets[j];
			const unsigned long *bytes = age ? mt->age_bytes :
							   mt->access_bytes;
			unsigned long cum = 0;

			for (b = 0; b <= nr; b++) {
				cum += bytes[b];
				fprintf(o->f, "%s_bucket", name);
				labels_target(o->f, mc, j);
				if (b < nr)
					le_value(o->f, bounds[b]);
				else
					fputs(",le=\"+Inf\"", o->f);
				value_ul(o->f, cum);
			}
			fprintf(o->f, "%s_%s", name,
				o->om ? "gcount" : "count");
			labels_target(o->f, mc, j);
			value_ul(o->f, cum);
			fprintf(o->f, "%s_%s", name, o->om ? "gsum" : "sum");
			labels_target(o->f, mc, j);
			value_d(o->f, age ? mt->age_sum : mt->access_sum);
		}
	}
}

static void format_targets(struct fmt *o, const struct metrics_set *set)
{
	target_gauge(o, set, "udamon_target_regions",
		     "Monitoring regions of the target (nr_regions).",
		     T_REGIONS);
	target_gauge(o, set, "udamon_target_monitored_bytes",
		     "Bytes the target's regions cover.", T_MONITORED);
	target_gauge(
		o, set, "udamon_target_working_set_bytes",
		"Bytes of regions accessed in the last aggregation interval.",
		T_WSS);
	target_histogram(
		o, set, "udamon_target_access_ratio",
		"Bytes by access frequency: the share of the last aggregation interval's samples that saw them accessed.",
		false);
	target_histogram(
		o, set, "udamon_target_age_seconds",
		"Bytes by age: how long their access frequency has stayed the same.",
		true);
}

/* Every DAMOS stat, as a counter. */
static const struct {
	const char *name;
	const char *help;
	size_t off;
} scheme_stats[] = {
	{ "udamon_scheme_tried_regions", "Regions the scheme tried (nr_tried).",
	  offsetof(struct damos_stat, nr_tried) },
	{ "udamon_scheme_tried_bytes", "Bytes the scheme tried (sz_tried).",
	  offsetof(struct damos_stat, sz_tried) },
	{ "udamon_scheme_applied_regions",
	  "Regions the action was applied to (nr_applied).",
	  offsetof(struct damos_stat, nr_applied) },
	{ "udamon_scheme_applied_bytes",
	  "Bytes the action succeeded on (sz_applied).",
	  offsetof(struct damos_stat, sz_applied) },
	{ "udamon_scheme_ops_filter_passed_bytes",
	  "Bytes that passed the operations set's filters (sz_ops_filter_passed).",
	  offsetof(struct damos_stat, sz_ops_filter_passed) },
	{ "udamon_scheme_quota_exceeds",
	  "Quota charge windows that ended full (qt_exceeds).",
	  offsetof(struct damos_stat, qt_exceeds) },
	{ "udamon_scheme_snapshots",
	  "Completed walks over the regions (nr_snapshots).",
	  offsetof(struct damos_stat, nr_snapshots) },
};

static void format_schemes(struct fmt *o, const struct metrics_set *set)
{
	FILE *f = o->f;
	unsigned int k, i, j, g;

	for (k = 0; k < sizeof(scheme_stats) / sizeof(scheme_stats[0]); k++) {
		family(o, scheme_stats[k].name, FAM_COUNTER,
		       scheme_stats[k].help);
		for (i = 0; i < set->nr; i++) {
			const struct metrics_context *mc = &set->ctxs[i];

			for (j = 0; j < mc->nr_schemes; j++) {
				const char *st =
					(const char *)&mc->schemes[j].stat;

				fprintf(f, "%s_total", scheme_stats[k].name);
				labels_scheme(f, mc, j);
				value_ul(f, *(const unsigned long
						      *)(st +
							 scheme_stats[k].off));
			}
		}
	}
	family(o, "udamon_scheme_effective_quota_bytes", FAM_GAUGE,
	       "Effective size quota of the current charge window (0: no quota).");
	for (i = 0; i < set->nr; i++) {
		const struct metrics_context *mc = &set->ctxs[i];

		for (j = 0; j < mc->nr_schemes; j++) {
			fputs("udamon_scheme_effective_quota_bytes", f);
			labels_scheme(f, mc, j);
			value_ul(f, mc->schemes[j].effective_quota_bytes);
		}
	}
	for (k = 0; k < 2; k++) {
		const char *name = k ? "udamon_scheme_quota_goal_target_value" :
				       "udamon_scheme_quota_goal_current_value";

		family(o, name, FAM_GAUGE,
		       k ? "Target value of a quota goal, in the goal metric's unit." :
			   "Current value of a quota goal's metric, in its unit.");
		for (i = 0; i < set->nr; i++) {
			const struct metrics_context *mc = &set->ctxs[i];

			for (j = 0; j < mc->nr_schemes; j++) {
				const struct metrics_scheme *ms =
					&mc->schemes[j];

				for (g = 0; g < ms->nr_goals; g++) {
					fputs(name, f);
					labels_scheme(f, mc, j);
					fprintf(f, ",goal=\"%u\",metric=\"", g);
					label_value(f, ms->goals[g].metric);
					fputc('"', f);
					value_ul(
						f,
						k ? ms->goals[g].target_value :
						    ms->goals[g].current_value);
				}
			}
		}
	}
}

int metrics_format(const struct metrics_set *set, bool openmetrics, char **text,
		   size_t *len)
{
	struct fmt o = { .om = openmetrics };
	int err;

	*text = NULL;
	*len = 0;
	o.f = open_memstream(text, len);
	if (!o.f)
		return -ENOMEM;
	family(&o, "udamon_metrics_stale", FAM_GAUGE,
	       "1 when this scrape shows the previous one's values (the tree was busy).");
	fprintf(o.f, "udamon_metrics_stale %d\n", set->stale);
	format_contexts(&o, set);
	format_targets(&o, set);
	format_schemes(&o, set);
	if (o.om)
		fputs("# EOF\n", o.f);
	err = ferror(o.f) ? -ENOMEM : 0;
	if (fclose(o.f))
		err = -ENOMEM;
	if (err) {
		free(*text);
		*text = NULL;
		*len = 0;
	}
	return err;
}
