// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Tests of data attribute probes: the kunit cases of the newest kernels
 * (damon_test_commit_probes, damon_test_valid_probe_params, probe hits
 * carried by split and merge), the filter rule, hit sums, reset and
 * rescale, attributes-only merging, the probe_hits_wsum DAMOS filter, and
 * the sim operations set splitting anonymous from file-backed memory by
 * an anon probe.
 */
#include "../lib/tap.h"

#include "core/core.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096UL
#define MiB (1UL << 20)

static struct damon_probe *add_probe(struct damon_ctx *ctx, unsigned int weight)
{
	struct damon_probe *p = damon_new_probe();

	if (!p)
		return NULL;
	p->weight = weight;
	damon_add_probe(ctx, p);
	return p;
}

static struct damon_filter *add_filter(struct damon_probe *p,
				       enum damon_filter_type type,
				       bool matching, bool allow)
{
	struct damon_filter *f = damon_new_filter(type, matching, allow);

	if (f)
		damon_add_filter(p, f);
	return f;
}

static void damon_test_probe_keywords(void)
{
	enum damon_filter_type type;
	enum damon_prep_action action;

	CHECK_STREQ(damon_filter_type_name(DAMON_FILTER_TYPE_ANON), "anon");
	CHECK_STREQ(damon_filter_type_name(DAMON_FILTER_TYPE_MEMCG), "memcg");
	CHECK_STREQ(damon_filter_type_name(DAMON_FILTER_TYPE_PGIDLE_UNSET),
		    "pgidle_unset");
	CHECK(damon_filter_type_name(NR_DAMON_FILTER_TYPES) == NULL);
	CHECK_EQ(damon_filter_type_from_name("pgidle_unset", &type), 0);
	CHECK_EQ(type, DAMON_FILTER_TYPE_PGIDLE_UNSET);
	CHECK_EQ(damon_filter_type_from_name("young", &type), -EINVAL);
	CHECK_STREQ(damon_prep_action_name(DAMON_PREP_SET_PGIDLE),
		    "set_pgidle");
	CHECK_EQ(damon_prep_action_from_name("set_pgidle", &action), 0);
	CHECK_EQ(action, DAMON_PREP_SET_PGIDLE);
	CHECK_EQ(damon_prep_action_from_name("foo", &action), -EINVAL);
	CHECK_STREQ(damos_filter_type_name(DAMOS_FILTER_TYPE_PROBE_HITS_WSUM),
		    "probe_hits_wsum");
	CHECK(!damos_filter_for_ops(DAMOS_FILTER_TYPE_PROBE_HITS_WSUM));
}

static void damon_test_split_at_probe_hits(void)
{
	struct damon_target *t = damon_new_target();
	struct damon_region *r = damon_new_region(0, 100), *r_new;
	int i;

	REQUIRE(t && r);
	for (i = 0; i < DAMON_MAX_PROBES; i++) {
		r->probe_hits[i] = (unsigned char)(3 + i);
		r->last_probe_hits[i] = (unsigned char)(30 + i);
	}
	damon_add_region(r, t);
	damon_split_region_at(t, r, 25);
	r_new = damon_next_region(r);
	CHECK_EQ(r->ar.end, 25);
	CHECK_EQ(r_new->ar.start, 25);
	for (i = 0; i < DAMON_MAX_PROBES; i++) {
		CHECK_EQ(r_new->probe_hits[i], 3 + i);
		CHECK_EQ(r_new->last_probe_hits[i], 30 + i);
		CHECK_EQ(r->probe_hits[i], 3 + i);
	}
	damon_destroy_target(t, NULL);
}

static void damon_test_merge_two_probe_hits(void)
{
	struct damon_target *t = damon_new_target();
	struct damon_region *r = damon_new_region(0, 100), *r2;

	REQUIRE(t && r);
	r->probe_hits[0] = 6;
	r->probe_hits[1] = 0;
	r->last_probe_hits[0] = 7;
	damon_add_region(r, t);
	r2 = damon_new_region(100, 300);
	REQUIRE(r2);
	r2->probe_hits[0] = 14;
	r2->probe_hits[1] = 30;
	r2->last_probe_hits[0] = 99;
	damon_add_region(r2, t);
	damon_merge_two_regions(t, r, r2);
	CHECK_EQ(r->ar.end, 300);
	CHECK_EQ(r->probe_hits[0], 11);
	CHECK_EQ(r->probe_hits[1], 20);
	/* the last window stays the left region's, as last_nr_accesses */
	CHECK_EQ(r->last_probe_hits[0], 7);
	CHECK_EQ(damon_nr_regions(t), 1);
	damon_destroy_target(t, NULL);
}

static void damon_test_probe_filters_rule(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_page_attrs anon = { .anon = true, .memcg_id = 7 };
	struct damon_page_attrs file = { .anon = false, .memcg_id = 9 };
	struct damon_probe *p;

	REQUIRE(ctx);
	p = add_probe(ctx, 0);
	REQUIRE(p);
	/* no filter: every page hits */
	CHECK(damon_probe_hit(p, &anon));
	CHECK(damon_probe_hit(p, &file));
	/* anon allow: anon hits; the rest is the opposite of allow */
	add_filter(p, DAMON_FILTER_TYPE_ANON, true, true);
	CHECK(damon_probe_hit(p, &anon));
	CHECK(!damon_probe_hit(p, &file));
	damon_destroy_probe(p);

	/* anon reject: everything else hits */
	p = add_probe(ctx, 0);
	REQUIRE(p);
	add_filter(p, DAMON_FILTER_TYPE_ANON, true, false);
	CHECK(!damon_probe_hit(p, &anon));
	CHECK(damon_probe_hit(p, &file));
	/* first match decides: memcg 9 allow after anon reject */
	add_filter(p, DAMON_FILTER_TYPE_MEMCG, true, true)->memcg_id = 9;
	CHECK(!damon_probe_hit(p, &anon));
	CHECK(damon_probe_hit(p, &file));
	file.memcg_id = 10;
	/* no match, last filter allows: no hit */
	CHECK(!damon_probe_hit(p, &file));
	damon_destroy_probe(p);

	/* non-matching filters: pgidle_unset with matching N */
	p = add_probe(ctx, 0);
	REQUIRE(p);
	add_filter(p, DAMON_FILTER_TYPE_PGIDLE_UNSET, false, true);
	anon.pgidle_unset = true;
	CHECK(!damon_probe_hit(p, &anon));
	anon.pgidle_unset = false;
	CHECK(damon_probe_hit(p, &anon));
	CHECK(damon_probe_uses_filter(ctx, DAMON_FILTER_TYPE_PGIDLE_UNSET));
	CHECK(!damon_probe_uses_filter(ctx, DAMON_FILTER_TYPE_MEMCG));
	damon_destroy_ctx(ctx);
}

static void damon_test_probe_account_wsum(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_region *r = damon_new_region(0, PAGE);
	struct damon_page_attrs anon = { .anon = true };
	struct damon_probe *p0, *p1;
	int i;

	REQUIRE(ctx && r);
	p0 = add_probe(ctx, 3);
	p1 = add_probe(ctx, 5);
	REQUIRE(p0 && p1);
	add_filter(p1, DAMON_FILTER_TYPE_ANON, true, false);
	CHECK_EQ(damon_nr_probes(ctx), 2);
	CHECK(damon_has_probe_weights(ctx));
	CHECK_EQ(damon_probe_account(ctx, r, &anon), 3);
	CHECK_EQ(damon_probe_account(ctx, r, &anon), 6);
	CHECK_EQ(r->probe_hits[0], 2);
	CHECK_EQ(r->probe_hits[1], 0);
	r->last_probe_hits[0] = 4;
	r->last_probe_hits[1] = 1;
	CHECK_EQ(damon_probe_hits_wsum(ctx, r, false, false), 6);
	CHECK_EQ(damon_probe_hits_wsum(ctx, r, true, false), 4 * 3 + 5);
	/* hits saturate at 255 */
	r->probe_hits[0] = 254;
	for (i = 0; i < 3; i++)
		damon_probe_account(ctx, r, &anon);
	CHECK_EQ(r->probe_hits[0], 255);
	p0->weight = 0;
	p1->weight = 0;
	CHECK(!damon_has_probe_weights(ctx));
	free(r);
	damon_destroy_ctx(ctx);
}

/* The vectors of damon_test_nr_accesses_mvsum, for probe hits. */
static void damon_test_probe_hits_mvsum(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_region *r = damon_new_region(0, PAGE);
	const struct {
		unsigned long passed, next;
		unsigned char cur, last;
		unsigned int expect;
	} v[] = {
		{ 0, 10, 5, 3, 3 },	{ 0, 10, 0, 7, 7 },
		{ 5, 10, 3, 10, 8 },	{ 8, 10, 3, 10, 5 },
		{ 10, 10, 42, 49, 42 },
	};
	unsigned int i;

	REQUIRE(ctx && r);
	ctx->attrs.sample_interval = 1;
	ctx->attrs.aggr_interval = 10;
	add_probe(ctx, 2);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ctx->passed_sample_intervals = v[i].passed;
		ctx->next_aggregation_sis = v[i].next;
		r->probe_hits[0] = v[i].cur;
		r->last_probe_hits[0] = v[i].last;
		CHECK_EQ(damon_probe_hits_mvsum(ctx, r, 0), v[i].expect);
		CHECK_EQ(damon_probe_hits_wsum(ctx, r, false, true),
			 v[i].expect * 2);
	}
	CHECK_EQ(damon_probe_hits_mvsum(ctx, r, DAMON_MAX_PROBES), 0);
	free(r);
	damon_destroy_ctx(ctx);
}

static void damon_test_valid_probe_params(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_attrs attrs;
	struct damon_probe *p;
	int i;

	REQUIRE(ctx);
	attrs = ctx->attrs;
	/* no probes, or probes without weights: anything goes */
	attrs.sample_interval = 1;
	attrs.aggr_interval = 1000;
	CHECK(damon_valid_probe_params(ctx, &attrs));
	p = add_probe(ctx, 0);
	REQUIRE(p);
	CHECK(damon_valid_probe_params(ctx, &attrs));
	/* weights: at most 255 samples per aggregation */
	p->weight = 1;
	CHECK(!damon_valid_probe_params(ctx, &attrs));
	attrs.aggr_interval = 255;
	CHECK(damon_valid_probe_params(ctx, &attrs));
	attrs.aggr_interval = 256;
	CHECK(!damon_valid_probe_params(ctx, &attrs));
	/* weighted sums must fit in an unsigned int */
	attrs.aggr_interval = 255;
	p->weight = UINT_MAX / 255;
	CHECK(damon_valid_probe_params(ctx, &attrs));
	p->weight = UINT_MAX / 255 + 1;
	CHECK(!damon_valid_probe_params(ctx, &attrs));
	p->weight = UINT_MAX / 255 / 2 + 1;
	REQUIRE(add_probe(ctx, UINT_MAX / 255 / 2 + 1));
	CHECK(!damon_valid_probe_params(ctx, &attrs));
	p->weight = 1;
	damon_destroy_probe(
		damon_list_entry(ctx->probes.prev, struct damon_probe, list));
	CHECK(damon_valid_probe_params(ctx, &attrs));
	/* at most DAMON_MAX_PROBES probes */
	p->weight = 0;
	for (i = 1; i < DAMON_MAX_PROBES; i++)
		REQUIRE(add_probe(ctx, 0));
	CHECK(damon_valid_probe_params(ctx, &attrs));
	REQUIRE(add_probe(ctx, 0));
	CHECK(!damon_valid_probe_params(ctx, &attrs));
	damon_destroy_ctx(ctx);
}

/* The entry points refuse invalid probe parameters with -EINVAL. */
static void damon_test_probe_params_refused(void)
{
	struct damon_ctx *ctx = damon_new_ctx(), *src = damon_new_ctx();
	struct damon_attrs attrs;

	REQUIRE(ctx && src);
	damon_use_virtual_clock(ctx);
	REQUIRE(add_probe(ctx, 1));
	/* default attrs: 20 samples per aggregation, fine */
	attrs = ctx->attrs;
	attrs.aggr_interval = 5000 * 256;
	CHECK_EQ(damon_set_attrs(ctx, &attrs), -EINVAL);
	CHECK_EQ(ctx->attrs.aggr_interval, 100000);
	attrs.aggr_interval = 5000 * 255;
	CHECK_EQ(damon_set_attrs(ctx, &attrs), 0);

	/* a commit source with too many samples for its weights */
	REQUIRE(add_probe(src, 2));
	src->attrs.aggr_interval = 5000 * 300;
	src->attrs.aggr_samples = 0;
	CHECK_EQ(damon_commit_ctx(ctx, src), -EINVAL);
	CHECK_EQ(ctx->attrs.aggr_interval, 5000 * 255);
	/* dropping the weight makes the same attrs fine */
	damon_list_entry(src->probes.next, struct damon_probe, list)->weight =
		0;
	CHECK_EQ(damon_commit_ctx(ctx, src), 0);
	CHECK_EQ(ctx->attrs.aggr_interval, 5000 * 300);
	CHECK(!damon_has_probe_weights(ctx));

	/* start refuses, too */
	damon_list_entry(ctx->probes.next, struct damon_probe, list)->weight =
		1;
	CHECK_EQ(damon_manual_start(ctx), -EINVAL);
	CHECK_EQ(damon_start(&ctx, 1, false), -EINVAL);
	CHECK(!damon_is_running(ctx));
	damon_destroy_ctx(ctx);
	damon_destroy_ctx(src);
}

static void damon_test_commit_probes(void)
{
	struct damon_ctx *dst = damon_new_ctx(), *src = damon_new_ctx();
	struct damon_probe *p, *sp;
	struct damon_filter *f;
	struct damon_prep *prep;
	unsigned int i;

	REQUIRE(dst && src);
	/* 0 -> 2 probes */
	sp = add_probe(src, 3);
	REQUIRE(sp);
	add_filter(sp, DAMON_FILTER_TYPE_ANON, true, false);
	f = add_filter(sp, DAMON_FILTER_TYPE_MEMCG, false, true);
	REQUIRE(f);
	f->memcg_id = 42;
	f->memcg_path = strdup("/a");
	damon_add_prep(sp, damon_new_prep(DAMON_PREP_SET_PGIDLE));
	REQUIRE(add_probe(src, 0));
	CHECK_EQ(damon_commit_probes(dst, src), 0);
	CHECK_EQ(damon_nr_probes(dst), 2);
	p = damon_list_entry(dst->probes.next, struct damon_probe, list);
	CHECK_EQ(p->weight, 3);
	i = 0;
	damon_for_each_filter(f, p) {
		if (i == 0) {
			CHECK_EQ(f->type, DAMON_FILTER_TYPE_ANON);
			CHECK(f->matching);
			CHECK(!f->allow);
		} else {
			CHECK_EQ(f->type, DAMON_FILTER_TYPE_MEMCG);
			CHECK(!f->matching);
			CHECK(f->allow);
			CHECK_EQ(f->memcg_id, 42);
			CHECK_STREQ(f->memcg_path, "/a");
		}
		i++;
	}
	CHECK_EQ(i, 2);
	i = 0;
	damon_for_each_prep(prep, p) {
		CHECK_EQ(prep->action, DAMON_PREP_SET_PGIDLE);
		i++;
	}
	CHECK_EQ(i, 1);
	CHECK(damon_has_probe_preps(dst));

	/* 2 -> 1 probe; its filters 2 -> 1 and preps 1 -> 0 */
	damon_destroy_probe(
		damon_list_entry(src->probes.prev, struct damon_probe, list));
	damon_destroy_filter(
		damon_list_entry(sp->filters.next, struct damon_filter, list));
	damon_destroy_prep(
		damon_list_entry(sp->preps.next, struct damon_prep, list));
	sp->weight = 7;
	CHECK_EQ(damon_commit_probes(dst, src), 0);
	CHECK_EQ(damon_nr_probes(dst), 1);
	p = damon_list_entry(dst->probes.next, struct damon_probe, list);
	CHECK_EQ(p->weight, 7);
	CHECK(damon_list_empty(&p->preps));
	CHECK(!damon_has_probe_preps(dst));
	f = damon_list_entry(p->filters.next, struct damon_filter, list);
	CHECK(f->list.next == &p->filters);
	CHECK_EQ(f->type, DAMON_FILTER_TYPE_MEMCG);
	CHECK_EQ(f->memcg_id, 42);

	/* through damon_commit_ctx: 1 -> 0 */
	udamon__destroy_probes(src);
	CHECK_EQ(damon_commit_ctx(dst, src), 0);
	CHECK_EQ(damon_nr_probes(dst), 0);
	damon_destroy_ctx(dst);
	damon_destroy_ctx(src);
}

static void damon_test_probe_hits_reset_rescale(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	struct damon_region *r = damon_new_region(0, PAGE);
	struct damon_attrs old = { .sample_interval = 10,
				   .aggr_interval = 1000 };
	struct damon_attrs new = { .sample_interval = 10,
				   .aggr_interval = 2000 };

	REQUIRE(ctx && t && r);
	damon_add_target(ctx, t);
	damon_add_region(r, t);
	add_probe(ctx, 1);
	r->probe_hits[0] = 9;
	r->last_probe_hits[0] = 5;
	kdamond_reset_aggregated(ctx);
	CHECK_EQ(r->last_probe_hits[0], 9);
	CHECK_EQ(r->probe_hits[0], 0);

	/* 100 -> 200 samples per window: hits double */
	r->probe_hits[0] = 10;
	damon_update_monitoring_result(r, &old, &new, false);
	CHECK_EQ(r->probe_hits[0], 20);
	CHECK_EQ(r->last_probe_hits[0], 18);
	/* in the middle of a window the current count restarts */
	damon_update_monitoring_result(r, &new, &old, true);
	CHECK_EQ(r->probe_hits[0], 0);
	CHECK_EQ(r->last_probe_hits[0], 9);
	/* and saturates at 255 */
	r->probe_hits[0] = 200;
	damon_update_monitoring_result(r, &old, &new, false);
	CHECK_EQ(r->probe_hits[0], 255);
	damon_destroy_ctx(ctx);
}

static unsigned int nr_region_events, last_event_hits, last_event_nr;

static void record_region_event(void *arg, struct damon_ctx *ctx,
				const struct damon_event *ev)
{
	if (ev->type != DAMON_EVENT_REGION_AGGREGATED)
		return;
	nr_region_events++;
	last_event_nr = ev->nr_probes;
	last_event_hits = ev->probe_hits[1];
}

static void damon_test_region_aggregated_event(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	struct damon_region *r = damon_new_region(0, PAGE);

	REQUIRE(ctx && t && r);
	damon_add_target(ctx, t);
	damon_add_region(r, t);
	damon_add_region(damon_new_region(PAGE, 2 * PAGE), t);
	add_probe(ctx, 0);
	add_probe(ctx, 0);
	r->probe_hits[1] = 17;
	damon_set_event_fn(ctx, record_region_event, NULL);
	nr_region_events = 0;
	kdamond_reset_aggregated(ctx);
	CHECK_EQ(nr_region_events, 2);
	CHECK_EQ(last_event_nr, 2);
	CHECK_EQ(last_event_hits, 0); /* the second region's */
	CHECK_EQ(r->last_probe_hits[1], 17);
	damon_destroy_ctx(ctx);
}

/* Attributes-only mode: merging and aging follow the weighted sums. */
static void damon_test_merge_by_probe_hits(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	struct damon_region *r[4];
	/* equal nr_accesses, different probe hits */
	const unsigned char hits[4] = { 20, 19, 0, 1 };
	unsigned int i;

	REQUIRE(ctx && t);
	damon_add_target(ctx, t);
	for (i = 0; i < 4; i++) {
		r[i] = damon_new_region(i * PAGE, (i + 1) * PAGE);
		REQUIRE(r[i]);
		r[i]->nr_accesses = 5;
		r[i]->last_nr_accesses = 5;
		r[i]->probe_hits[0] = hits[i];
		r[i]->last_probe_hits[0] = hits[i];
		damon_add_region(r[i], t);
	}
	/* no weights: by nr_accesses, everything merges */
	add_probe(ctx, 0);
	udamon__merge_regions_of(ctx, t, 2, 1UL << 30, true);
	CHECK_EQ(damon_nr_regions(t), 1);
	damon_destroy_target(t, ctx);

	t = damon_new_target();
	REQUIRE(t);
	damon_add_target(ctx, t);
	for (i = 0; i < 4; i++) {
		r[i] = damon_new_region(i * PAGE, (i + 1) * PAGE);
		REQUIRE(r[i]);
		r[i]->nr_accesses = 5;
		r[i]->last_nr_accesses = 5;
		r[i]->probe_hits[0] = hits[i];
		r[i]->last_probe_hits[0] = hits[i];
		r[i]->age = 3;
		damon_add_region(r[i], t);
	}
	r[3]->last_probe_hits[0] = 10; /* wsum moved by 9 > threshold */
	damon_list_entry(ctx->probes.next, struct damon_probe, list)->weight =
		1;
	udamon__merge_regions_of(ctx, t, 2, 1UL << 30, true);
	CHECK_EQ(damon_nr_regions(t), 2);
	r[0] = damon_first_region(t);
	CHECK_EQ(r[0]->ar.end, 2 * PAGE);
	CHECK_EQ(r[0]->probe_hits[0], 19); /* (20 + 19) / 2 */
	CHECK_EQ(r[0]->age, 4);
	/* [2,3) aged to 4, [3,4) reset to 0: merged age (4 + 0) / 2 */
	CHECK_EQ(damon_last_region(t)->age, 2);
	damon_destroy_ctx(ctx);
}

/* DAMOS core filter on the weighted moving sum of probe hits. */
static void damon_test_probe_hits_wsum_filter(void)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_target *t = damon_new_target();
	struct damon_region *r = damon_new_region(0, PAGE);
	struct damos_filter *f =
		damos_new_filter(DAMOS_FILTER_TYPE_PROBE_HITS_WSUM, true, true);
	struct damos_access_pattern pattern = { 0 };
	struct damos_quota quota = { 0 };
	struct damos_watermarks wmarks = { 0 };
	struct damos *s;

	REQUIRE(ctx && t && r && f);
	damon_add_target(ctx, t);
	damon_add_region(r, t);
	add_probe(ctx, 2);
	add_probe(ctx, 3);
	ctx->passed_sample_intervals = 10;
	ctx->next_aggregation_sis = 10; /* window complete: current counts */
	r->probe_hits[0] = 4;
	r->probe_hits[1] = 1; /* wsum 4 * 2 + 1 * 3 = 11 */
	f->range_min = 10;
	f->range_max = 11;
	CHECK(udamon__damos_filter_match(ctx, t, r, f, PAGE));
	f->range_min = 12;
	f->range_max = 100;
	CHECK(!udamon__damos_filter_match(ctx, t, r, f, PAGE));
	f->matching = false;
	CHECK(udamon__damos_filter_match(ctx, t, r, f, PAGE));

	/* a fresh window reads the last one */
	ctx->next_aggregation_sis = 20;
	r->last_probe_hits[0] = 10; /* wsum 20 */
	f->matching = true;
	CHECK(udamon__damos_filter_match(ctx, t, r, f, PAGE));

	/* core-handled, committed with its range, bad ranges refused */
	s = damon_new_scheme(&pattern, DAMOS_STAT, 0, &quota, &wmarks, -1);
	REQUIRE(s);
	damos_add_filter(s, f);
	CHECK(s->core_filters.next == &f->list);
	damon_add_scheme(ctx, s);
	CHECK_EQ(udamon__damos_validate(ctx), 0);
	f->range_min = 101;
	CHECK_EQ(udamon__damos_validate(ctx), -EINVAL);
	f->range_min = 5;
	{
		struct damon_ctx *dst = damon_new_ctx();
		struct damos *ds;
		struct damos_filter *df;

		REQUIRE(dst);
		CHECK_EQ(damon_commit_ctx(dst, ctx), 0);
		ds = damon_list_entry(dst->schemes.next, struct damos, list);
		df = damon_list_entry(ds->core_filters.next,
				      struct damos_filter, list);
		CHECK_EQ(df->type, DAMOS_FILTER_TYPE_PROBE_HITS_WSUM);
		CHECK_EQ(df->range_min, 5);
		CHECK_EQ(df->range_max, 100);
		CHECK_EQ(damon_nr_probes(dst), 2);
		damon_destroy_ctx(dst);
	}
	damon_destroy_ctx(ctx);
}

/* ---- the sim operations set ---- */

/*
 * Two 8 MiB regions with the same access pattern; b is file-backed.  Each
 * is swept with a 4 KiB stride at the same weight.
 */
static const char two_kinds_cfg[] = "a, 8388608\n"
				    "b, 8388608, /dev/zero\n"
				    "\n"
				    "both\n"
				    "10000\n"
				    "a, 0, 4096, 1\n"
				    "b, 0, 4096, 1\n";

static struct damon_ctx *two_kinds_ctx(struct damon_addr_range *a,
				       struct damon_addr_range *b,
				       unsigned int anon_weight)
{
	struct damon_ctx *ctx = damon_new_ctx();
	struct damon_attrs attrs;
	struct damon_target *t;
	struct damon_addr_range whole;
	struct damon_probe *p;
	char errbuf[256];

	if (!ctx)
		return NULL;
	damon_use_virtual_clock(ctx);
	ctx->rnd_seed = 7;
	if (damon_sim_set_workload_buf(ctx, two_kinds_cfg,
				       sizeof(two_kinds_cfg) - 1, "two_kinds",
				       errbuf, sizeof(errbuf)))
		goto fail;
	if (damon_sim_workload_region(ctx, 0, a, NULL) ||
	    damon_sim_workload_region(ctx, 1, b, NULL))
		goto fail;
	attrs = ctx->attrs;
	attrs.sample_interval = 5000;
	attrs.aggr_interval = 100000;
	attrs.min_nr_regions = 3;
	attrs.max_nr_regions = 100;
	if (damon_set_attrs(ctx, &attrs))
		goto fail;
	t = damon_new_target();
	if (!t)
		goto fail;
	damon_add_target(ctx, t);
	/* one region over both kinds (and the guard page between them) */
	whole.start = a->start;
	whole.end = b->end;
	if (damon_set_regions(t, &whole, 1, PAGE))
		goto fail;
	p = add_probe(ctx, anon_weight);
	if (!p || !add_filter(p, DAMON_FILTER_TYPE_ANON, true, true))
		goto fail;
	return ctx;
fail:
	damon_destroy_ctx(ctx);
	return NULL;
}

/* Bytes of regions holding both anonymous and file-backed pages. */
static unsigned long mixed_bytes(struct damon_ctx *ctx,
				 const struct damon_addr_range *a,
				 const struct damon_addr_range *b)
{
	struct damon_target *t = damon_list_entry(ctx->adaptive_targets.next,
						  struct damon_target, list);
	struct damon_region *r;
	unsigned long sz = 0;

	damon_for_each_region(r, t) {
		if (r->ar.start < a->end && r->ar.end > b->start)
			sz += damon_sz_region(r);
	}
	return sz;
}

static void test_sim_attrs_only_splits_anon_from_file(void)
{
	struct damon_addr_range a, b;
	struct damon_ctx *ctx;
	struct damon_target *t;
	struct damon_region *r;
	unsigned long anon_sz = 0, file_sz = 0, mixed;

	REQUIRE(damon_sim_register() == 0);
	ctx = two_kinds_ctx(&a, &b, 1);
	REQUIRE(ctx);
	CHECK_EQ(damon_manual_start(ctx), 0);
	CHECK_EQ(damon_manual_run_for(ctx, 3 * 1000 * 1000), 0);
	t = damon_list_entry(ctx->adaptive_targets.next, struct damon_target,
			     list);
	CHECK(damon_nr_regions(t) >= 3);
	damon_for_each_region(r, t) {
		/* no access checks in attributes-only mode */
		CHECK_EQ(r->nr_accesses, 0);
		CHECK_EQ(r->last_nr_accesses, 0);
		if (r->ar.end <= a.end + PAGE && r->ar.start >= a.start) {
			/* all 20 samples of a window hit the anon probe */
			CHECK_EQ(r->last_probe_hits[0], 20);
			anon_sz += damon_sz_region(r);
		} else if (r->ar.start >= b.start) {
			CHECK_EQ(r->last_probe_hits[0], 0);
			file_sz += damon_sz_region(r);
		}
	}
	/* the kinds are apart: (nearly) nothing mixes them */
	mixed = mixed_bytes(ctx, &a, &b);
	tap_diag("mixed bytes with an anon probe of weight 1: %lu over %u "
		 "regions",
		 mixed, damon_nr_regions(t));
	CHECK(mixed <= 2 * MiB);
	CHECK(anon_sz >= 7 * MiB);
	CHECK(file_sz >= 7 * MiB);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);

	/*
	 * Control: the same with weight 0 monitors accesses, which are the
	 * same on both sides, so the probe does not keep them apart.
	 */
	ctx = two_kinds_ctx(&a, &b, 0);
	REQUIRE(ctx);
	CHECK_EQ(damon_manual_start(ctx), 0);
	CHECK_EQ(damon_manual_run_for(ctx, 3 * 1000 * 1000), 0);
	t = damon_list_entry(ctx->adaptive_targets.next, struct damon_target,
			     list);
	damon_for_each_region(r, t) {
		/* probe hits are still counted, next to access checks */
		if (r->ar.end <= a.end && r->ar.start >= a.start)
			CHECK_EQ(r->last_probe_hits[0], 20);
	}
	tap_diag("mixed bytes without weights: %lu over %u regions",
		 mixed_bytes(ctx, &a, &b), damon_nr_regions(t));
	CHECK(mixed_bytes(ctx, &a, &b) > mixed);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

/* set_pgidle + pgidle_unset sees the accesses the access check sees. */
static void test_sim_pgidle_probe(void)
{
	struct damon_addr_range a, b;
	struct damon_ctx *ctx;
	struct damon_target *t;
	struct damon_region *r;
	struct damon_probe *p;

	REQUIRE(damon_sim_register() == 0);
	ctx = two_kinds_ctx(&a, &b, 0);
	REQUIRE(ctx);
	p = add_probe(ctx, 0);
	REQUIRE(p);
	add_filter(p, DAMON_FILTER_TYPE_PGIDLE_UNSET, true, true);
	damon_add_prep(p, damon_new_prep(DAMON_PREP_SET_PGIDLE));
	CHECK_EQ(damon_manual_start(ctx), 0);
	CHECK_EQ(damon_manual_run_for(ctx, 2 * 1000 * 1000), 0);
	t = damon_list_entry(ctx->adaptive_targets.next, struct damon_target,
			     list);
	damon_for_each_region(r, t)
		CHECK_EQ(r->last_probe_hits[1], r->last_nr_accesses);
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);

	/* attributes-only mode with the prep: hits follow the accesses */
	ctx = two_kinds_ctx(&a, &b, 0);
	REQUIRE(ctx);
	p = add_probe(ctx, 1);
	REQUIRE(p);
	add_filter(p, DAMON_FILTER_TYPE_PGIDLE_UNSET, true, true);
	damon_add_prep(p, damon_new_prep(DAMON_PREP_SET_PGIDLE));
	CHECK_EQ(damon_manual_start(ctx), 0);
	CHECK_EQ(damon_manual_run_for(ctx, 2 * 1000 * 1000), 0);
	t = damon_list_entry(ctx->adaptive_targets.next, struct damon_target,
			     list);
	{
		unsigned long hits = 0;

		damon_for_each_region(r, t) {
			CHECK_EQ(r->last_nr_accesses, 0);
			hits += r->last_probe_hits[1];
		}
		/* the sweeps access every page: some samples see them */
		CHECK(hits > 0);
	}
	damon_manual_stop(ctx);
	damon_destroy_ctx(ctx);
}

static const struct tap_case cases[] = {
	TAP_CASE(damon_test_probe_keywords),
	TAP_CASE(damon_test_split_at_probe_hits),
	TAP_CASE(damon_test_merge_two_probe_hits),
	TAP_CASE(damon_test_probe_filters_rule),
	TAP_CASE(damon_test_probe_account_wsum),
	TAP_CASE(damon_test_probe_hits_mvsum),
	TAP_CASE(damon_test_valid_probe_params),
	TAP_CASE(damon_test_probe_params_refused),
	TAP_CASE(damon_test_commit_probes),
	TAP_CASE(damon_test_probe_hits_reset_rescale),
	TAP_CASE(damon_test_region_aggregated_event),
	TAP_CASE(damon_test_merge_by_probe_hits),
	TAP_CASE(damon_test_probe_hits_wsum_filter),
	TAP_CASE(test_sim_attrs_only_splits_anon_from_file),
	TAP_CASE(test_sim_pgidle_probe),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
