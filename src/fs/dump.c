// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * JSON dump of a core context with the fields the kernel's selftests read
 * through drgn (tools/testing/selftests/damon/drgn_dump_damon_status.py),
 * so tests written against that dump can check udamon the same way.  The
 * caller makes sure the context is not changing (see fs_dump_show()).
 * The JSON is built with json-c.
 */
#include "fs/tree.h"

#include <errno.h>
#include <json-c/json.h>

_Static_assert(DAMON_MAX_PROBES == 4, "dump_region() shows four hits");

/* A JSON tree being built; any failed allocation sets @oom. */
struct jw {
	bool oom;
};

static json_object *jobj(struct jw *w)
{
	json_object *o = json_object_new_object();

	if (!o)
		w->oom = true;
	return o;
}

static json_object *jarr(struct jw *w)
{
	json_object *a = json_object_new_array();

	if (!a)
		w->oom = true;
	return a;
}

/* @o[@key] = @v, which @o owns from then on (freed on failure). */
static void jset(struct jw *w, json_object *o, const char *key, json_object *v)
{
	if (!o || !v || json_object_object_add(o, key, v)) {
		json_object_put(v);
		w->oom = true;
	}
}

static void jpush(struct jw *w, json_object *a, json_object *v)
{
	if (!a || !v || json_object_array_add(a, v)) {
		json_object_put(v);
		w->oom = true;
	}
}

static void ju(struct jw *w, json_object *o, const char *key, uint64_t v)
{
	jset(w, o, key, json_object_new_uint64(v));
}

static void ji(struct jw *w, json_object *o, const char *key, int64_t v)
{
	jset(w, o, key, json_object_new_int64(v));
}

static void jb(struct jw *w, json_object *o, const char *key, bool v)
{
	jset(w, o, key, json_object_new_boolean(v));
}

static void js(struct jw *w, json_object *o, const char *key, const char *v)
{
	jset(w, o, key, json_object_new_string(v ? v : "unknown"));
}

/* [@a, @b] */
static json_object *jpair(struct jw *w, uint64_t a, uint64_t b)
{
	json_object *arr = jarr(w);

	jpush(w, arr, json_object_new_uint64(a));
	jpush(w, arr, json_object_new_uint64(b));
	return arr;
}

static json_object *dump_region(struct jw *w, struct damon_region *r)
{
	json_object *o = jobj(w), *ar = jobj(w), *hits = jarr(w),
		    *last = jarr(w);
	int i;

	ju(w, ar, "start", r->ar.start);
	ju(w, ar, "end", r->ar.end);
	jset(w, o, "ar", ar);
	ju(w, o, "sampling_addr", r->sampling_addr);
	ju(w, o, "nr_accesses", r->nr_accesses);
	ju(w, o, "nr_accesses_bp", r->nr_accesses_bp);
	ju(w, o, "last_nr_accesses", r->last_nr_accesses);
	ju(w, o, "age", r->age);
	for (i = 0; i < DAMON_MAX_PROBES; i++) {
		jpush(w, hits, json_object_new_uint64(r->probe_hits[i]));
		jpush(w, last, json_object_new_uint64(r->last_probe_hits[i]));
	}
	jset(w, o, "probe_hits", hits);
	jset(w, o, "last_probe_hits", last);
	return o;
}

/* probes[{weight}] as the kernel's dump, plus preps and filters */
static json_object *dump_probes(struct jw *w, struct damon_ctx *ctx)
{
	json_object *probes = jarr(w);
	struct damon_probe *p;
	struct damon_filter *f;
	struct damon_prep *prep;

	damon_for_each_probe(p, ctx) {
		json_object *o = jobj(w), *preps = jarr(w), *filters = jarr(w);

		ju(w, o, "weight", p->weight);
		damon_for_each_prep(prep, p)
			jpush(w, preps,
			      json_object_new_string(
				      damon_prep_action_name(prep->action) ?
					      damon_prep_action_name(
						      prep->action) :
					      "unknown"));
		jset(w, o, "preps", preps);
		damon_for_each_filter(f, p) {
			json_object *fo = jobj(w);

			js(w, fo, "type", damon_filter_type_name(f->type));
			jb(w, fo, "matching", f->matching);
			jb(w, fo, "allow", f->allow);
			ju(w, fo, "memcg_id", f->memcg_id);
			jpush(w, filters, fo);
		}
		jset(w, o, "filters", filters);
		jpush(w, probes, o);
	}
	return probes;
}

static json_object *dump_target(struct jw *w, struct damon_ctx *ctx,
				struct damon_target *t)
{
	json_object *o = jobj(w), *regions = jarr(w);
	struct damon_region *r;

	ji(w, o, "pid", t->pid);
	ju(w, o, "nr_regions", t->nr_regions);
	damon_for_each_region(r, t)
		jpush(w, regions, dump_region(w, r));
	jset(w, o, "regions_list", regions);
	jb(w, o, "obsolete", t->obsolete);
	if (ctx->ops.id == DAMON_OPS_SIM && ctx->ops_priv) {
		unsigned long wss = 0;

		/* udamon only: the sim's ground truth, next to DAMON's view */
		if (!damon_sim_true_wss(ctx, t, 0, &wss))
			ju(w, o, "sim_true_wss", wss);
		ji(w, o, "sim_phase", damon_sim_phase_idx(ctx, t));
	}
	return o;
}

static json_object *dump_filter(struct jw *w, struct damos_filter *f)
{
	json_object *o = jobj(w);

	js(w, o, "type", damos_filter_type_name(f->type));
	jb(w, o, "matching", f->matching);
	jb(w, o, "allow", f->allow);
	switch (f->type) {
	case DAMOS_FILTER_TYPE_MEMCG:
		ju(w, o, "memcg_id", f->memcg_id);
		break;
	case DAMOS_FILTER_TYPE_ADDR:
		jset(w, o, "addr_range",
		     jpair(w, f->addr_range.start, f->addr_range.end));
		break;
	case DAMOS_FILTER_TYPE_TARGET:
		ji(w, o, "target_idx", f->target_idx);
		break;
	case DAMOS_FILTER_TYPE_HUGEPAGE_SIZE:
		jset(w, o, "sz_range",
		     jpair(w, f->sz_range.min, f->sz_range.max));
		break;
	case DAMOS_FILTER_TYPE_PROBE_HITS_WSUM:
		jset(w, o, "range", jpair(w, f->range_min, f->range_max));
		break;
	default:
		break;
	}
	return o;
}

static json_object *dump_filters(struct jw *w, struct damon_list_head *head)
{
	json_object *a = jarr(w);
	struct damos_filter *f;

	damon_list_for_each_entry(f, head, list)
		jpush(w, a, dump_filter(w, f));
	return a;
}

static json_object *dump_quota(struct jw *w, struct damos_quota *q)
{
	json_object *o = jobj(w), *goals = jarr(w);
	struct damos_quota_goal *g;

	ju(w, o, "reset_interval", q->reset_interval);
	ju(w, o, "ms", q->ms);
	ju(w, o, "sz", q->sz);
	damos_for_each_quota_goal(g, q) {
		json_object *go = jobj(w);

		ji(w, go, "metric", (int)g->metric);
		ju(w, go, "target_value", g->target_value);
		ju(w, go, "current_value", g->current_value);
		ju(w, go, "last_psi_total", g->last_psi_total);
		ji(w, go, "nid", g->nid);
		ju(w, go, "memcg_id", g->memcg_id);
		jpush(w, goals, go);
	}
	jset(w, o, "goals", goals);
	ji(w, o, "goal_tuner", (int)q->goal_tuner);
	ju(w, o, "esz", q->esz);
	ju(w, o, "fail_charge_num", q->fail_charge_num);
	ju(w, o, "fail_charge_denom", q->fail_charge_denom);
	ju(w, o, "weight_sz", q->weight_sz);
	ju(w, o, "weight_nr_accesses", q->weight_nr_accesses);
	ju(w, o, "weight_age", q->weight_age);
	return o;
}

static json_object *dump_scheme(struct jw *w, struct damos *s)
{
	struct damos_access_pattern *p = &s->pattern;
	struct damos_watermarks *wm = &s->wmarks;
	json_object *o = jobj(w), *pat = jobj(w), *wmo = jobj(w),
		    *dests = jobj(w), *ids = jarr(w), *weights = jarr(w),
		    *stat = jobj(w);
	size_t i;

	ju(w, pat, "min_sz_region", p->min_sz_region);
	ju(w, pat, "max_sz_region", p->max_sz_region);
	ju(w, pat, "min_nr_accesses", p->min_nr_accesses);
	ju(w, pat, "max_nr_accesses", p->max_nr_accesses);
	ju(w, pat, "min_age_region", p->min_age_region);
	ju(w, pat, "max_age_region", p->max_age_region);
	jset(w, o, "pattern", pat);
	ji(w, o, "action", (int)s->action);
	ju(w, o, "apply_interval_us", s->apply_interval_us);
	jset(w, o, "quota", dump_quota(w, &s->quota));
	ji(w, wmo, "metric", (int)wm->metric);
	ju(w, wmo, "interval", wm->interval);
	ju(w, wmo, "high", wm->high);
	ju(w, wmo, "mid", wm->mid);
	ju(w, wmo, "low", wm->low);
	jset(w, o, "wmarks", wmo);
	ji(w, o, "target_nid", s->target_nid);
	for (i = 0; i < s->migrate_dests.nr_dests; i++) {
		jpush(w, ids,
		      json_object_new_uint64(s->migrate_dests.node_id_arr[i]));
		jpush(w, weights,
		      json_object_new_uint64(s->migrate_dests.weight_arr[i]));
	}
	jset(w, dests, "node_id_arr", ids);
	jset(w, dests, "weight_arr", weights);
	ju(w, dests, "nr_dests", s->migrate_dests.nr_dests);
	jset(w, o, "migrate_dests", dests);
	jset(w, o, "core_filters", dump_filters(w, &s->core_filters));
	jset(w, o, "ops_filters", dump_filters(w, &s->ops_filters));
	ju(w, o, "max_nr_snapshots", s->max_nr_snapshots);
	ju(w, stat, "nr_tried", s->stat.nr_tried);
	ju(w, stat, "sz_tried", s->stat.sz_tried);
	ju(w, stat, "nr_applied", s->stat.nr_applied);
	ju(w, stat, "sz_applied", s->stat.sz_applied);
	ju(w, stat, "sz_ops_filter_passed", s->stat.sz_ops_filter_passed);
	ju(w, stat, "qt_exceeds", s->stat.qt_exceeds);
	ju(w, stat, "nr_snapshots", s->stat.nr_snapshots);
	jset(w, o, "stat", stat);
	return o;
}

int fs_dump_ctx(struct damon_ctx *ctx, struct json_object *contexts)
{
	struct damon_attrs *a = &ctx->attrs;
	struct jw jw = { false }, *w = &jw;
	json_object *o = jobj(w), *ops = jobj(w), *attrs = jobj(w),
		    *goal = jobj(w), *targets = jarr(w), *schemes = jarr(w);
	struct damon_target *t;
	struct damos *s;

	ji(w, ops, "id", (int)ctx->ops.id);
	jset(w, o, "ops", ops);
	ju(w, attrs, "sample_interval", a->sample_interval);
	ju(w, attrs, "aggr_interval", a->aggr_interval);
	ju(w, attrs, "ops_update_interval", a->ops_update_interval);
	ju(w, goal, "access_bp", a->intervals_goal.access_bp);
	ju(w, goal, "aggrs", a->intervals_goal.aggrs);
	ju(w, goal, "min_sample_us", a->intervals_goal.min_sample_us);
	ju(w, goal, "max_sample_us", a->intervals_goal.max_sample_us);
	jset(w, attrs, "intervals_goal", goal);
	ju(w, attrs, "min_nr_regions", a->min_nr_regions);
	ju(w, attrs, "max_nr_regions", a->max_nr_regions);
	jset(w, o, "attrs", attrs);
	ju(w, o, "addr_unit", ctx->addr_unit);
	ju(w, o, "min_region_sz", ctx->min_region_sz);
	jset(w, o, "probes", dump_probes(w, ctx));
	damon_for_each_target(t, ctx)
		jpush(w, targets, dump_target(w, ctx, t));
	jset(w, o, "adaptive_targets", targets);
	damon_for_each_scheme(s, ctx)
		jpush(w, schemes, dump_scheme(w, s));
	jset(w, o, "schemes", schemes);
	jb(w, o, "pause", ctx->pause);
	ju(w, o, "passed_sample_intervals", damon_passed_sample_intervals(ctx));
	jpush(w, contexts, o);
	return w->oom ? -ENOMEM : 0;
}
