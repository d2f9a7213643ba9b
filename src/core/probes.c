// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Data attribute probes ("data attributes monitoring" of the newest
 * kernels): the probe, filter and prep objects, their keywords, the
 * first-match filter rule, probe hit accounting and sums, parameter
 * validation and the index-wise commit of probes.  The kdamond loop, merge,
 * split, reset and rescale that carry probe hits live in core.c.
 *
 * Facts and deviations are written down in docs/probes.md.
 */
#include "core.h"
#include "sys/alloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- keywords ---- */

#define PROBES_KW(name, keyword) keyword,

static const char *const damon_filter_type_names[] = { DAMON_FILTER_TYPES(
	PROBES_KW) };
static const char *const damon_prep_action_names[] = { DAMON_PREP_ACTIONS(
	PROBES_KW) };

_Static_assert(sizeof(damon_filter_type_names) /
			       sizeof(damon_filter_type_names[0]) ==
		       NR_DAMON_FILTER_TYPES,
	       "probe filter keywords");
_Static_assert(sizeof(damon_prep_action_names) /
			       sizeof(damon_prep_action_names[0]) ==
		       NR_DAMON_PREP_ACTIONS,
	       "prep action keywords");

const char *damon_filter_type_name(enum damon_filter_type type)
{
	if ((unsigned int)type >= NR_DAMON_FILTER_TYPES)
		return NULL;
	return damon_filter_type_names[type];
}

int damon_filter_type_from_name(const char *name, enum damon_filter_type *type)
{
	unsigned int i;

	for (i = 0; i < NR_DAMON_FILTER_TYPES; i++) {
		if (!strcmp(name, damon_filter_type_names[i])) {
			*type = (enum damon_filter_type)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *damon_prep_action_name(enum damon_prep_action action)
{
	if ((unsigned int)action >= NR_DAMON_PREP_ACTIONS)
		return NULL;
	return damon_prep_action_names[action];
}

int damon_prep_action_from_name(const char *name,
				enum damon_prep_action *action)
{
	unsigned int i;

	for (i = 0; i < NR_DAMON_PREP_ACTIONS; i++) {
		if (!strcmp(name, damon_prep_action_names[i])) {
			*action = (enum damon_prep_action)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- objects ---- */

struct damon_filter *damon_new_filter(enum damon_filter_type type,
				      bool matching, bool allow)
{
	struct damon_filter *f = udamon__calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->type = type;
	f->matching = matching;
	f->allow = allow;
	damon_list_init(&f->list);
	return f;
}

void damon_add_filter(struct damon_probe *p, struct damon_filter *f)
{
	damon_list_add_tail(&f->list, &p->filters);
}

void damon_destroy_filter(struct damon_filter *f)
{
	damon_list_del(&f->list);
	free(f->memcg_path);
	free(f);
}

struct damon_prep *damon_new_prep(enum damon_prep_action action)
{
	struct damon_prep *prep = udamon__calloc(1, sizeof(*prep));

	if (!prep)
		return NULL;
	prep->action = action;
	damon_list_init(&prep->list);
	return prep;
}

void damon_add_prep(struct damon_probe *p, struct damon_prep *prep)
{
	damon_list_add_tail(&prep->list, &p->preps);
}

void damon_destroy_prep(struct damon_prep *prep)
{
	damon_list_del(&prep->list);
	free(prep);
}

struct damon_probe *damon_new_probe(void)
{
	struct damon_probe *p = udamon__calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	damon_list_init(&p->preps);
	damon_list_init(&p->filters);
	damon_list_init(&p->list);
	return p;
}

void damon_add_probe(struct damon_ctx *ctx, struct damon_probe *p)
{
	damon_list_add_tail(&p->list, &ctx->probes);
}

void damon_destroy_probe(struct damon_probe *p)
{
	struct damon_filter *f, *fnext;
	struct damon_prep *prep, *pnext;

	damon_for_each_filter_safe(f, fnext, p)
		damon_destroy_filter(f);
	damon_for_each_prep_safe(prep, pnext, p)
		damon_destroy_prep(prep);
	damon_list_del(&p->list);
	free(p);
}

void udamon__destroy_probes(struct damon_ctx *ctx)
{
	struct damon_probe *p, *next;

	damon_for_each_probe_safe(p, next, ctx)
		damon_destroy_probe(p);
}

unsigned int damon_nr_probes(const struct damon_ctx *ctx)
{
	const struct damon_list_head *pos;
	unsigned int nr = 0;

	for (pos = ctx->probes.next; pos != &ctx->probes; pos = pos->next)
		nr++;
	return nr;
}

bool damon_has_probe_weights(const struct damon_ctx *ctx)
{
	struct damon_probe *p;

	damon_for_each_probe(p, ctx) {
		if (p->weight)
			return true;
	}
	return false;
}

bool damon_has_probe_preps(const struct damon_ctx *ctx)
{
	struct damon_probe *p;

	damon_for_each_probe(p, ctx) {
		if (!damon_list_empty(&p->preps))
			return true;
	}
	return false;
}

bool damon_probe_uses_filter(const struct damon_ctx *ctx,
			     enum damon_filter_type type)
{
	struct damon_probe *p;
	struct damon_filter *f;

	damon_for_each_probe(p, ctx) {
		damon_for_each_filter(f, p) {
			if (f->type == type)
				return true;
		}
	}
	return false;
}

/* ---- hits ---- */

static bool damon_filter_match(const struct damon_filter *f,
			       const struct damon_page_attrs *pa)
{
	bool has;

	switch (f->type) {
	case DAMON_FILTER_TYPE_ANON:
		has = pa->anon;
		break;
	case DAMON_FILTER_TYPE_MEMCG:
		has = pa->memcg_id == f->memcg_id;
		break;
	case DAMON_FILTER_TYPE_PGIDLE_UNSET:
		has = pa->pgidle_unset;
		break;
	default:
		has = false;
		break;
	}
	return has == f->matching;
}

bool damon_probe_hit(const struct damon_probe *p,
		     const struct damon_page_attrs *pa)
{
	struct damon_filter *f, *last = NULL;

	damon_for_each_filter(f, p) {
		if (damon_filter_match(f, pa))
			return f->allow;
		last = f;
	}
	/* Nothing matched: the opposite of the last word, or a hit. */
	return last ? !last->allow : true;
}

unsigned int damon_probe_account(struct damon_ctx *ctx, struct damon_region *r,
				 const struct damon_page_attrs *pa)
{
	struct damon_probe *p;
	unsigned int i = 0, wsum = 0;

	damon_for_each_probe(p, ctx) {
		if (i >= DAMON_MAX_PROBES)
			break;
		/*
		 * Validation keeps a window within 255 samples in
		 * attributes-only mode; otherwise hits saturate.
		 */
		if (damon_probe_hit(p, pa) && r->probe_hits[i] < UCHAR_MAX)
			r->probe_hits[i]++;
		wsum += r->probe_hits[i] * p->weight;
		i++;
	}
	return wsum;
}

unsigned int damon_probe_hits_mvsum(const struct damon_ctx *ctx,
				    const struct damon_region *r,
				    unsigned int idx)
{
	unsigned long window = damon_nr_samples_per_aggr(&ctx->attrs);
	unsigned long left = 0, left_bp;

	if (idx >= DAMON_MAX_PROBES)
		return 0;
	if (ctx->passed_sample_intervals < ctx->next_aggregation_sis)
		left = ctx->next_aggregation_sis - ctx->passed_sample_intervals;
	left_bp = damon_mult_frac(left, 10000, window);
	/* A fresh window: the current count is not worth anything yet. */
	if (left_bp == 10000)
		return r->last_probe_hits[idx];
	return r->probe_hits[idx] +
	       (unsigned int)damon_mult_frac(r->last_probe_hits[idx], left_bp,
					     10000);
}

unsigned int damon_probe_hits_wsum(const struct damon_ctx *ctx,
				   const struct damon_region *r, bool last,
				   bool mv)
{
	struct damon_probe *p;
	unsigned int i = 0, sum = 0;

	damon_for_each_probe(p, ctx) {
		unsigned int hits;

		if (i >= DAMON_MAX_PROBES)
			break;
		if (last)
			hits = r->last_probe_hits[i];
		else if (mv)
			hits = damon_probe_hits_mvsum(ctx, r, i);
		else
			hits = r->probe_hits[i];
		sum += hits * p->weight;
		i++;
	}
	return sum;
}

/* ---- validation and commit ---- */

bool damon_valid_probe_params(const struct damon_ctx *ctx,
			      const struct damon_attrs *attrs)
{
	unsigned int max_hits, wsum = 0;
	struct damon_probe *p;

	if (damon_nr_probes(ctx) > DAMON_MAX_PROBES)
		return false;
	if (!damon_has_probe_weights(ctx))
		return true;
	/* Hits are u8: a window may not have more samples than that. */
	max_hits = damon_nr_samples_per_aggr(attrs);
	if (max_hits > UCHAR_MAX)
		return false;
	damon_for_each_probe(p, ctx) {
		unsigned int add;

		if (max_hits && p->weight > UINT_MAX / max_hits)
			return false;
		add = p->weight * max_hits;
		if (UINT_MAX - wsum < add)
			return false;
		wsum += add;
	}
	return true;
}

static struct damon_probe *damon_nth_probe(unsigned int n,
					   struct damon_ctx *ctx)
{
	struct damon_probe *p;
	unsigned int i = 0;

	damon_for_each_probe(p, ctx) {
		if (i++ == n)
			return p;
	}
	return NULL;
}

static int damon_commit_preps(struct damon_probe *dst, struct damon_probe *src)
{
	struct damon_list_head *spos = src->preps.next;
	struct damon_prep *d, *next, *s, *new;

	damon_for_each_prep_safe(d, next, dst) {
		if (spos == &src->preps) {
			damon_destroy_prep(d);
			continue;
		}
		s = damon_list_entry(spos, struct damon_prep, list);
		d->action = s->action;
		spos = spos->next;
	}
	for (; spos != &src->preps; spos = spos->next) {
		s = damon_list_entry(spos, struct damon_prep, list);
		new = damon_new_prep(s->action);
		if (!new)
			return -ENOMEM;
		damon_add_prep(dst, new);
	}
	return 0;
}

static int damon_commit_filter(struct damon_filter *dst,
			       const struct damon_filter *src)
{
	char *path = NULL;

	if (src->memcg_path) {
		path = udamon__strdup(src->memcg_path);
		if (!path)
			return -ENOMEM;
	}
	dst->type = src->type;
	dst->matching = src->matching;
	dst->allow = src->allow;
	dst->memcg_id = src->type == DAMON_FILTER_TYPE_MEMCG ? src->memcg_id :
							       0;
	free(dst->memcg_path);
	dst->memcg_path = path;
	return 0;
}

static int damon_commit_filters(struct damon_probe *dst,
				struct damon_probe *src)
{
	struct damon_list_head *spos = src->filters.next;
	struct damon_filter *d, *next, *s, *new;
	int err;

	damon_for_each_filter_safe(d, next, dst) {
		if (spos == &src->filters) {
			damon_destroy_filter(d);
			continue;
		}
		s = damon_list_entry(spos, struct damon_filter, list);
		err = damon_commit_filter(d, s);
		if (err)
			return err;
		spos = spos->next;
	}
	for (; spos != &src->filters; spos = spos->next) {
		s = damon_list_entry(spos, struct damon_filter, list);
		new = damon_new_filter(s->type, s->matching, s->allow);
		if (!new)
			return -ENOMEM;
		damon_add_filter(dst, new);
		err = damon_commit_filter(new, s);
		if (err)
			return err;
	}
	return 0;
}

static int damon_commit_probe(struct damon_probe *dst, struct damon_probe *src)
{
	int err;

	dst->weight = src->weight;
	err = damon_commit_preps(dst, src);
	if (err)
		return err;
	return damon_commit_filters(dst, src);
}

int damon_commit_probes(struct damon_ctx *dst, struct damon_ctx *src)
{
	struct damon_probe *d, *next, *s, *new;
	unsigned int i = 0, nr_dst = 0;
	int err;

	damon_for_each_probe_safe(d, next, dst) {
		s = damon_nth_probe(i++, src);
		if (!s) {
			damon_destroy_probe(d);
			continue;
		}
		err = damon_commit_probe(d, s);
		if (err)
			return err;
		nr_dst++;
	}
	damon_for_each_probe(s, src) {
		if (nr_dst) {
			nr_dst--;
			continue;
		}
		new = damon_new_probe();
		if (!new)
			return -ENOMEM;
		damon_add_probe(dst, new);
		err = damon_commit_probe(new, s);
		if (err)
			return err;
	}
	return 0;
}
