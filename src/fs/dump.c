// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * JSON dump of a core context with the fields the kernel's selftests read
 * through drgn (tools/testing/selftests/damon/drgn_dump_damon_status.py),
 * so tests written against that dump can check udamon the same way.  The
 * caller makes sure the context is not changing (see fs_dump_show()).
 */
#include "fs/tree.h"

_Static_assert(DAMON_MAX_PROBES == 4, "dump_region() prints four hits");

static void dump_region(struct fs_buf *b, struct damon_region *r)
{
	fs_buf_printf(b,
		      "{\"ar\": {\"start\": %lu, \"end\": %lu}, "
		      "\"sampling_addr\": %lu, \"nr_accesses\": %u, "
		      "\"nr_accesses_bp\": %u, \"last_nr_accesses\": %u, "
		      "\"age\": %u, \"probe_hits\": [%u, %u, %u, %u], "
		      "\"last_probe_hits\": [%u, %u, %u, %u]}",
		      r->ar.start, r->ar.end, r->sampling_addr, r->nr_accesses,
		      r->nr_accesses_bp, r->last_nr_accesses, r->age,
		      r->probe_hits[0], r->probe_hits[1], r->probe_hits[2],
		      r->probe_hits[3], r->last_probe_hits[0],
		      r->last_probe_hits[1], r->last_probe_hits[2],
		      r->last_probe_hits[3]);
}

/* probes[{weight}] as the kernel's dump, plus preps and filters */
static void dump_probes(struct fs_buf *b, struct damon_ctx *ctx)
{
	struct damon_probe *p;
	struct damon_filter *f;
	struct damon_prep *prep;
	bool first = true, ffirst;

	damon_for_each_probe(p, ctx) {
		fs_buf_printf(b, "%s{\"weight\": %u, \"preps\": [",
			      first ? "" : ", ", p->weight);
		first = false;
		ffirst = true;
		damon_for_each_prep(prep, p) {
			fs_buf_puts(b, ffirst ? "" : ", ");
			ffirst = false;
			fs_buf_json_str(
				b,
				damon_prep_action_name(prep->action) ?
					damon_prep_action_name(prep->action) :
					"unknown");
		}
		fs_buf_puts(b, "], \"filters\": [");
		ffirst = true;
		damon_for_each_filter(f, p) {
			const char *name = damon_filter_type_name(f->type);

			fs_buf_puts(b,
				    ffirst ? "{\"type\": " : ", {\"type\": ");
			ffirst = false;
			fs_buf_json_str(b, name ? name : "unknown");
			fs_buf_printf(b,
				      ", \"matching\": %s, \"allow\": %s, "
				      "\"memcg_id\": %llu}",
				      f->matching ? "true" : "false",
				      f->allow ? "true" : "false",
				      (unsigned long long)f->memcg_id);
		}
		fs_buf_puts(b, "]}");
	}
}

static void dump_target(struct fs_buf *b, struct damon_ctx *ctx,
			struct damon_target *t)
{
	struct damon_region *r;
	bool first = true;

	fs_buf_printf(b,
		      "{\"pid\": %d, \"nr_regions\": %u, \"regions_list\": [",
		      t->pid, t->nr_regions);
	damon_for_each_region(r, t) {
		if (!first)
			fs_buf_puts(b, ", ");
		first = false;
		dump_region(b, r);
	}
	fs_buf_printf(b, "], \"obsolete\": %s", t->obsolete ? "true" : "false");
	if (ctx->ops.id == DAMON_OPS_SIM && ctx->ops_priv) {
		unsigned long wss = 0;

		/* udamon only: the sim's ground truth, next to DAMON's view */
		if (!damon_sim_true_wss(ctx, t, 0, &wss))
			fs_buf_printf(b, ", \"sim_true_wss\": %lu", wss);
		fs_buf_printf(b, ", \"sim_phase\": %d",
			      damon_sim_phase_idx(ctx, t));
	}
	fs_buf_puts(b, "}");
}

static void dump_filter(struct fs_buf *b, struct damos_filter *f)
{
	fs_buf_puts(b, "{\"type\": ");
	fs_buf_json_str(b, damos_filter_type_name(f->type) ?
				   damos_filter_type_name(f->type) :
				   "unknown");
	fs_buf_printf(b, ", \"matching\": %s, \"allow\": %s",
		      f->matching ? "true" : "false",
		      f->allow ? "true" : "false");
	switch (f->type) {
	case DAMOS_FILTER_TYPE_MEMCG:
		fs_buf_printf(b, ", \"memcg_id\": %llu",
			      (unsigned long long)f->memcg_id);
		break;
	case DAMOS_FILTER_TYPE_ADDR:
		fs_buf_printf(b, ", \"addr_range\": [%lu, %lu]",
			      f->addr_range.start, f->addr_range.end);
		break;
	case DAMOS_FILTER_TYPE_TARGET:
		fs_buf_printf(b, ", \"target_idx\": %d", f->target_idx);
		break;
	case DAMOS_FILTER_TYPE_HUGEPAGE_SIZE:
		fs_buf_printf(b, ", \"sz_range\": [%lu, %lu]", f->sz_range.min,
			      f->sz_range.max);
		break;
	case DAMOS_FILTER_TYPE_PROBE_HITS_WSUM:
		fs_buf_printf(b, ", \"range\": [%lu, %lu]", f->range_min,
			      f->range_max);
		break;
	default:
		break;
	}
	fs_buf_puts(b, "}");
}

static void dump_filters(struct fs_buf *b, struct damon_list_head *head)
{
	struct damos_filter *f;
	bool first = true;

	fs_buf_puts(b, "[");
	damon_list_for_each_entry(f, head, list) {
		if (!first)
			fs_buf_puts(b, ", ");
		first = false;
		dump_filter(b, f);
	}
	fs_buf_puts(b, "]");
}

static void dump_quota(struct fs_buf *b, struct damos_quota *q)
{
	struct damos_quota_goal *g;
	bool first = true;

	fs_buf_printf(b,
		      "{\"reset_interval\": %lu, \"ms\": %lu, \"sz\": %lu, "
		      "\"goals\": [",
		      q->reset_interval, q->ms, q->sz);
	damos_for_each_quota_goal(g, q) {
		if (!first)
			fs_buf_puts(b, ", ");
		first = false;
		fs_buf_printf(
			b,
			"{\"metric\": %d, \"target_value\": %lu, "
			"\"current_value\": %lu, \"last_psi_total\": %llu, "
			"\"nid\": %d, \"memcg_id\": %llu}",
			(int)g->metric, g->target_value, g->current_value,
			(unsigned long long)g->last_psi_total, g->nid,
			(unsigned long long)g->memcg_id);
	}
	fs_buf_printf(b,
		      "], \"goal_tuner\": %d, \"esz\": %lu, "
		      "\"fail_charge_num\": %u, \"fail_charge_denom\": %u, "
		      "\"weight_sz\": %u, \"weight_nr_accesses\": %u, "
		      "\"weight_age\": %u}",
		      (int)q->goal_tuner, q->esz, q->fail_charge_num,
		      q->fail_charge_denom, q->weight_sz, q->weight_nr_accesses,
		      q->weight_age);
}

static void dump_scheme(struct fs_buf *b, struct damos *s)
{
	struct damos_access_pattern *p = &s->pattern;
	struct damos_watermarks *w = &s->wmarks;
	size_t i;

	fs_buf_printf(b,
		      "{\"pattern\": {\"min_sz_region\": %lu, "
		      "\"max_sz_region\": %lu, \"min_nr_accesses\": %u, "
		      "\"max_nr_accesses\": %u, \"min_age_region\": %u, "
		      "\"max_age_region\": %u}, \"action\": %d, "
		      "\"apply_interval_us\": %lu, \"quota\": ",
		      p->min_sz_region, p->max_sz_region, p->min_nr_accesses,
		      p->max_nr_accesses, p->min_age_region, p->max_age_region,
		      (int)s->action, s->apply_interval_us);
	dump_quota(b, &s->quota);
	fs_buf_printf(
		b,
		", \"wmarks\": {\"metric\": %d, \"interval\": %lu, "
		"\"high\": %lu, \"mid\": %lu, \"low\": %lu}, "
		"\"target_nid\": %d, \"migrate_dests\": {\"node_id_arr\": [",
		(int)w->metric, w->interval, w->high, w->mid, w->low,
		s->target_nid);
	for (i = 0; i < s->migrate_dests.nr_dests; i++)
		fs_buf_printf(b, "%s%u", i ? ", " : "",
			      s->migrate_dests.node_id_arr[i]);
	fs_buf_puts(b, "], \"weight_arr\": [");
	for (i = 0; i < s->migrate_dests.nr_dests; i++)
		fs_buf_printf(b, "%s%u", i ? ", " : "",
			      s->migrate_dests.weight_arr[i]);
	fs_buf_printf(b, "], \"nr_dests\": %zu}, \"core_filters\": ",
		      s->migrate_dests.nr_dests);
	dump_filters(b, &s->core_filters);
	fs_buf_puts(b, ", \"ops_filters\": ");
	dump_filters(b, &s->ops_filters);
	fs_buf_printf(
		b,
		", \"max_nr_snapshots\": %lu, \"stat\": {\"nr_tried\": %lu, "
		"\"sz_tried\": %lu, \"nr_applied\": %lu, "
		"\"sz_applied\": %lu, \"sz_ops_filter_passed\": %lu, "
		"\"qt_exceeds\": %lu, \"nr_snapshots\": %lu}}",
		s->max_nr_snapshots, s->stat.nr_tried, s->stat.sz_tried,
		s->stat.nr_applied, s->stat.sz_applied,
		s->stat.sz_ops_filter_passed, s->stat.qt_exceeds,
		s->stat.nr_snapshots);
}

void fs_dump_ctx(struct damon_ctx *ctx, struct fs_buf *b)
{
	struct damon_attrs *a = &ctx->attrs;
	struct damon_target *t;
	struct damos *s;
	bool first = true;

	fs_buf_printf(
		b,
		"{\"ops\": {\"id\": %d}, \"attrs\": {\"sample_interval\": %lu, "
		"\"aggr_interval\": %lu, \"ops_update_interval\": %lu, "
		"\"intervals_goal\": {\"access_bp\": %lu, \"aggrs\": %lu, "
		"\"min_sample_us\": %lu, \"max_sample_us\": %lu}, "
		"\"min_nr_regions\": %lu, \"max_nr_regions\": %lu}, "
		"\"addr_unit\": %lu, \"min_region_sz\": %lu, "
		"\"probes\": [",
		(int)ctx->ops.id, a->sample_interval, a->aggr_interval,
		a->ops_update_interval, a->intervals_goal.access_bp,
		a->intervals_goal.aggrs, a->intervals_goal.min_sample_us,
		a->intervals_goal.max_sample_us, a->min_nr_regions,
		a->max_nr_regions, ctx->addr_unit, ctx->min_region_sz);
	dump_probes(b, ctx);
	fs_buf_puts(b, "], \"adaptive_targets\": [");
	damon_for_each_target(t, ctx) {
		if (!first)
			fs_buf_puts(b, ", ");
		first = false;
		dump_target(b, ctx, t);
	}
	fs_buf_puts(b, "], \"schemes\": [");
	first = true;
	damon_for_each_scheme(s, ctx) {
		if (!first)
			fs_buf_puts(b, ", ");
		first = false;
		dump_scheme(b, s);
	}
	fs_buf_printf(b, "], \"pause\": %s, \"passed_sample_intervals\": %lu}",
		      ctx->pause ? "true" : "false",
		      damon_passed_sample_intervals(ctx));
}
