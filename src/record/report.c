// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reports computed from a record: the heatmap grid (time x address x access
 * frequency, with paused periods marked), working set sizes and their
 * percentiles, the hottest/coldest region table, and the export to damo's
 * JSON record format.  Rendering (ANSI text, PNG) is the CLI's business.
 */
#include "record/record.h"
#include "sys/alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double udamon_record_freq_pct(const struct udamon_record_snapshot *snap,
			      const struct udamon_record_region *r)
{
	double samples = (double)snap->aggr_us / (double)snap->sample_us;

	if (samples < 1)
		samples = 1;
	return (double)r->nr_accesses * 100.0 / samples;
}

long udamon_record_snapshot_at(const struct udamon_record *rec,
			       uint64_t time_ns)
{
	size_t lo = 0, hi;

	if (!rec->nr_snapshots)
		return -EINVAL;
	/* First snapshot whose window ends at or after @time_ns. */
	hi = rec->nr_snapshots - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rec->snapshots[mid].end_ns < time_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo;
}

/* ------------------------------------------------------------------ */
/* Heatmap                                                             */
/* ------------------------------------------------------------------ */

static double overlap(double a0, double a1, double b0, double b1)
{
	double lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;

	return hi > lo ? hi - lo : 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct damon_addr_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* Clip [start, end) to the options' address range; false if empty. */
static bool clip_addr(const struct udamon_heatmap_opts *o, unsigned long *start,
		      unsigned long *end)
{
	if (*start < o->addr_start)
		*start = o->addr_start;
	if (o->addr_end && *end > o->addr_end)
		*end = o->addr_end;
	return *start < *end;
}

static bool snap_in_time(const struct udamon_record_snapshot *s, uint64_t t0,
			 uint64_t t1)
{
	/* Zero-length windows still count at their instant. */
	return s->end_ns >= t0 && s->start_ns <= t1;
}

/*
 * The address axis: with gap compression, the union of every region shown
 * (of every accessed one, with only_accessed); otherwise one span from the
 * lowest to the highest address.  Regions reaching outside the spans are
 * clipped to them when mapped (axis_offset()).
 */
static int build_spans(const struct udamon_record *rec,
		       const struct udamon_heatmap_opts *o, uint64_t t0,
		       uint64_t t1, struct udamon_heatmap *hm)
{
	struct damon_addr_range *all = NULL, *m;
	size_t nr = 0, cap = 0, i, n;

	for (i = 0; i < rec->nr_snapshots; i++) {
		const struct udamon_record_snapshot *s = &rec->snapshots[i];
		const struct udamon_record_tsnap *ts = &s->targets[o->target];
		unsigned int j;

		if (!snap_in_time(s, t0, t1))
			continue;
		for (j = 0; j < ts->nr_regions; j++) {
			unsigned long a = ts->regions[j].start;
			unsigned long b = ts->regions[j].end;

			if (o->only_accessed && !ts->regions[j].nr_accesses)
				continue;
			if (!clip_addr(o, &a, &b))
				continue;
			if (nr == cap) {
				cap = cap ? cap * 2 : 1024;
				m = udamon__realloc(all, cap * sizeof(*m));
				if (!m) {
					free(all);
					return -ENOMEM;
				}
				all = m;
			}
			all[nr].start = a;
			all[nr].end = b;
			nr++;
		}
	}
	if (!nr) {
		free(all);
		return -EINVAL;
	}
	qsort(all, nr, sizeof(*all), cmp_range);
	n = 0;
	for (i = 0; i < nr; i++) {
		if (n && (o->keep_gaps || all[i].start <= all[n - 1].end)) {
			if (all[i].end > all[n - 1].end)
				all[n - 1].end = all[i].end;
			continue;
		}
		all[n++] = all[i];
	}
	m = udamon__realloc(all, n * sizeof(*m));
	hm->spans = m ? m : all;
	hm->nr_spans = (unsigned int)n;
	hm->total_bytes = 0;
	for (i = 0; i < n; i++)
		hm->total_bytes += hm->spans[i].end - hm->spans[i].start;
	return 0;
}

/* Offset of @addr (inside a span) on the concatenated address axis. */
static double axis_offset(const struct udamon_heatmap *hm,
			  const unsigned long *prefix, unsigned long addr)
{
	unsigned int lo = 0, hi = hm->nr_spans - 1;

	/* Last span starting at or below @addr. */
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo + 1) / 2;

		if (hm->spans[mid].start <= addr)
			lo = mid;
		else
			hi = mid - 1;
	}
	if (addr < hm->spans[lo].start)
		return (double)prefix[lo];
	if (addr > hm->spans[lo].end)
		addr = hm->spans[lo].end;
	return (double)prefix[lo] + (double)(addr - hm->spans[lo].start);
}

unsigned long udamon_heatmap_slot_addr(const struct udamon_heatmap *hm,
				       unsigned int ai)
{
	double off = (double)ai * (double)hm->total_bytes / hm->nr_addr;
	unsigned long acc = 0;
	unsigned int i;

	for (i = 0; i < hm->nr_spans; i++) {
		unsigned long sz = hm->spans[i].end - hm->spans[i].start;

		if (off < (double)(acc + sz) || i == hm->nr_spans - 1)
			return hm->spans[i].start + (unsigned long)(off - acc);
		acc += sz;
	}
	return 0;
}

int udamon_heatmap_build(const struct udamon_record *rec,
			 const struct udamon_heatmap_opts *o,
			 struct udamon_heatmap **hmp)
{
	struct udamon_record_pause *pauses = NULL;
	struct udamon_heatmap *hm;
	unsigned long *prefix = NULL;
	double *wsum = NULL, slot_t, slot_a;
	size_t nr_pauses = 0, i, cells;
	uint64_t t0, t1;
	int err;

	if (!rec || !o || !hmp || !o->nr_time || !o->nr_addr ||
	    o->nr_time > 100000 || o->nr_addr > 100000 ||
	    (uint64_t)o->nr_time * o->nr_addr > (1U << 26) ||
	    !rec->has_header || o->target >= rec->hdr.nr_targets ||
	    !rec->nr_snapshots || (o->addr_end && o->addr_end <= o->addr_start))
		return -EINVAL;
	t0 = o->t_start;
	t1 = o->t_end ? o->t_end : udamon_record_duration_ns(rec);
	if (t1 <= t0)
		return -EINVAL;

	hm = udamon__calloc(1, sizeof(*hm));
	if (!hm)
		return -ENOMEM;
	hm->nr_time = o->nr_time;
	hm->nr_addr = o->nr_addr;
	hm->t_start = t0;
	hm->t_end = t1;
	err = build_spans(rec, o, t0, t1, hm);
	if (err)
		goto fail;
	cells = (size_t)o->nr_time * o->nr_addr;
	hm->freq = udamon__calloc(cells, sizeof(*hm->freq));
	hm->paused = udamon__calloc(o->nr_time, sizeof(*hm->paused));
	hm->auto_paused = udamon__calloc(o->nr_time, sizeof(*hm->auto_paused));
	wsum = udamon__calloc(cells, sizeof(*wsum));
	prefix = udamon__calloc(hm->nr_spans, sizeof(*prefix));
	err = -ENOMEM;
	if (!hm->freq || !hm->paused || !hm->auto_paused || !wsum || !prefix)
		goto fail;
	for (i = 1; i < hm->nr_spans; i++)
		prefix[i] = prefix[i - 1] +
			    (hm->spans[i - 1].end - hm->spans[i - 1].start);
	err = udamon_record_pauses(rec, &pauses, &nr_pauses);
	if (err)
		goto fail;

	slot_t = (double)(t1 - t0) / o->nr_time;
	slot_a = (double)hm->total_bytes / o->nr_addr;

	for (i = 0; i < rec->nr_snapshots; i++) {
		const struct udamon_record_snapshot *s = &rec->snapshots[i];
		const struct udamon_record_tsnap *ts = &s->targets[o->target];
		double ws = (double)s->start_ns - t0,
		       we = (double)s->end_ns - t0;
		unsigned int k, k0, k1;

		if (we <= 0 || ws >= (double)(t1 - t0) || we <= ws)
			continue;
		k0 = ws <= 0 ? 0 : (unsigned int)(ws / slot_t);
		k1 = (unsigned int)ceil(we / slot_t);
		if (k1 > o->nr_time)
			k1 = o->nr_time;
		for (k = k0; k < k1; k++) {
			double ks = k * slot_t, ke = (k + 1) * slot_t;
			double os = ks > ws ? ks : ws, oe = ke < we ? ke : we;
			double wt = oe - os;
			size_t p;
			unsigned int j;

			/* Paused time saw no sampling: it weighs nothing. */
			for (p = 0; p < nr_pauses; p++)
				wt -= overlap(os, oe,
					      (double)pauses[p].start_ns - t0,
					      (double)pauses[p].end_ns - t0);
			if (wt <= 0)
				continue;
			for (j = 0; j < ts->nr_regions; j++) {
				const struct udamon_record_region *r =
					&ts->regions[j];
				unsigned long a = r->start, b = r->end;
				double ca, cb, f = udamon_record_freq_pct(s, r);
				unsigned int ai, a0, a1;

				if (!clip_addr(o, &a, &b))
					continue;
				ca = axis_offset(hm, prefix, a);
				cb = axis_offset(hm, prefix, b);
				if (cb <= ca)
					continue;
				a0 = (unsigned int)(ca / slot_a);
				a1 = (unsigned int)ceil(cb / slot_a);
				if (a1 > o->nr_addr)
					a1 = o->nr_addr;
				for (ai = a0; ai < a1; ai++) {
					double wb = overlap(ai * slot_a,
							    (ai + 1) * slot_a,
							    ca, cb);
					size_t c = (size_t)k * o->nr_addr + ai;

					if (wb <= 0)
						continue;
					hm->freq[c] += f * wt * wb;
					wsum[c] += wt * wb;
				}
			}
		}
	}

	for (i = 0; i < o->nr_time; i++) {
		double ks = i * slot_t, ke = (i + 1) * slot_t, pt = 0, at = 0;
		size_t p;

		for (p = 0; p < nr_pauses; p++) {
			double ov = overlap(ks, ke,
					    (double)pauses[p].start_ns - t0,
					    (double)pauses[p].end_ns - t0);

			pt += ov;
			if (pauses[p].automatic)
				at += ov;
		}
		hm->paused[i] = pt * 2 >= slot_t;
		hm->auto_paused[i] = hm->paused[i] && at * 2 > pt;
	}
	hm->max_freq = 0;
	for (i = 0; i < cells; i++) {
		if (wsum[i] > 0) {
			hm->freq[i] /= wsum[i];
			if (hm->freq[i] > hm->max_freq)
				hm->max_freq = hm->freq[i];
		} else {
			hm->freq[i] = -1;
		}
	}
	free(pauses);
	free(prefix);
	free(wsum);
	*hmp = hm;
	return 0;
fail:
	free(pauses);
	free(prefix);
	free(wsum);
	udamon_heatmap_free(hm);
	return err;
}

void udamon_heatmap_free(struct udamon_heatmap *hm)
{
	if (!hm)
		return;
	free(hm->freq);
	free(hm->paused);
	free(hm->auto_paused);
	free(hm->spans);
	free(hm);
}

int udamon_heatmap_level(const struct udamon_heatmap *hm, unsigned int ti,
			 unsigned int ai, int nr_levels)
{
	double f = hm->freq[(size_t)ti * hm->nr_addr + ai];
	int level;

	if (f < 0)
		return -1;
	if (f == 0 || hm->max_freq <= 0 || nr_levels < 2)
		return 0;
	level = (int)ceil(f / hm->max_freq * (nr_levels - 1) - 1e-9);
	if (level < 1)
		level = 1;
	if (level > nr_levels - 1)
		level = nr_levels - 1;
	return level;
}

/* ------------------------------------------------------------------ */
/* Working set size and tables                                         */
/* ------------------------------------------------------------------ */

int udamon_record_wss(const struct udamon_record *rec, unsigned int target,
		      unsigned int min_nr_accesses, unsigned long **wss)
{
	unsigned long *out;
	size_t i;

	if (!rec->has_header || target >= rec->hdr.nr_targets)
		return -EINVAL;
	out = udamon__calloc(rec->nr_snapshots ? rec->nr_snapshots : 1,
			     sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (i = 0; i < rec->nr_snapshots; i++) {
		const struct udamon_record_tsnap *ts =
			&rec->snapshots[i].targets[target];
		unsigned int j;

		for (j = 0; j < ts->nr_regions; j++)
			if (ts->regions[j].nr_accesses >= min_nr_accesses)
				out[i] += ts->regions[j].end -
					  ts->regions[j].start;
	}
	*wss = out;
	return 0;
}

unsigned long udamon_wss_percentile(const unsigned long *sorted, size_t nr,
				    unsigned int pct)
{
	size_t rank;

	if (!nr)
		return 0;
	if (pct > 100)
		pct = 100;
	/* Nearest rank: the smallest value with pct% of values at or below. */
	rank = ((size_t)pct * nr + 99) / 100;
	return sorted[rank ? rank - 1 : 0];
}

static int cmp_hot(const void *a, const void *b)
{
	const struct udamon_record_region *x = a, *y = b;

	if (x->nr_accesses != y->nr_accesses)
		return x->nr_accesses > y->nr_accesses ? -1 : 1;
	if (x->age != y->age)
		return x->age > y->age ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_cold(const void *a, const void *b)
{
	const struct udamon_record_region *x = a, *y = b;

	if (x->nr_accesses != y->nr_accesses)
		return x->nr_accesses < y->nr_accesses ? -1 : 1;
	if (x->age != y->age)
		return x->age > y->age ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

int udamon_record_table(const struct udamon_record *rec, size_t snapshot,
			unsigned int target, bool coldest,
			struct udamon_record_region **rows, size_t *nr)
{
	const struct udamon_record_tsnap *ts;
	struct udamon_record_region *out;

	if (snapshot >= rec->nr_snapshots || !rec->has_header ||
	    target >= rec->hdr.nr_targets)
		return -EINVAL;
	ts = &rec->snapshots[snapshot].targets[target];
	out = udamon__malloc((ts->nr_regions ? ts->nr_regions : 1) *
			     sizeof(*out));
	if (!out)
		return -ENOMEM;
	if (ts->nr_regions)
		memcpy(out, ts->regions, ts->nr_regions * sizeof(*out));
	qsort(out, ts->nr_regions, sizeof(*out), coldest ? cmp_cold : cmp_hot);
	*rows = out;
	*nr = ts->nr_regions;
	return 0;
}
