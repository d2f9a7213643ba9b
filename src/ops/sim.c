// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sim operations set: DAMON over a modelled masim-format workload, with
 * the ground truth known, deterministic for a context seed.  Replays (udamon
 * records, exact page-access traces; src/ops/replay.h) become the same
 * phases with per-page rates given by spans instead of patterns (see
 * "Replays" below and docs/design.md).
 *
 * Map of this file:
 *   1. constants and the workload (immutable, refcounted, shared by
 *      contexts through ctx->ops_priv)
 *   2. the access model: per-page access rates and their integrals
 *   3. per-target state: workload clock origin, residency, refaults
 *   4. operations hooks
 *   5. the public API: workload setup, ground truth, registration
 *
 * The access model.  A workload performs DAMON_SIM_ACCESS_RATE single-byte
 * accesses per second (masim does one iteration of nr_accesses_per_region
 * = 131072 accesses of one pattern at a time, choosing patterns by weight;
 * averaged, pattern p gets weight_p / total_weight of the rate).  Each
 * pattern spreads its accesses over its region:
 *
 *   random      uniform byte offsets: page rate = rate_p * bytes_of_page /
 *               region_size
 *   sequential  offsets 0, stride, 2*stride, ... below the size, then
 *               around again: page rate = rate_p * (offsets in the page) /
 *               (offsets in the region); stride 0 touches byte 0 only
 *
 * and a page's rate in a phase is the sum over the phase's patterns.  The
 * accesses of a page over [a, b) are a Poisson process with that rate, so
 * "was it accessed since the last check?" is true with probability
 * 1 - exp(-integral of the rate over [a, b)), drawn with the context PRNG
 * (damon_rand()).  Pages that no pattern of a phase touches are never
 * accessed in it; ro/wo/rw are labels only (the sim sees all accesses).
 *
 * Time.  Workload time of a target is the context clock (damon_now_ns())
 * minus the moment the target's state was made.  Phases follow each other
 * by their durations, and the phase list repeats from the first phase when
 * it ends (masim's -c with an unbounded count), so a run of any length has
 * a defined workload.
 *
 * Residency.  DAMOS pageout makes the pages it hits non-resident; a page
 * becomes resident again (a refault, charged DAMON_SIM_REFAULT_STALL_US to
 * the modelled PSI) at its first access after the pageout, which is also
 * an access the checks see.  Accesses being Poisson, the model keeps no
 * per-page state: paged-out memory is a sorted list of page ranges, each
 * with the number of its pages still out, and every page of a range is
 * equally likely to be one of them.  Over time each page out stays out
 * with probability exp(-exposure) (the range's mean page exposure), the
 * survivors drawn from the binomial law with the context PRNG; a check
 * sampling a page of a range asks whether it is one of those out and
 * whether it is touched, and a refault splits it off.  Filters see a span
 * in at most SIM_CHUNKS chunks at their mean rate.  So the cost of an
 * apply, a sync or a metric follows the number of DAMON regions and
 * ranges, never the modelled size (a 64 GiB region costs what 4 KiB do).
 *
 * Layout (see damon.h): region i lives at DAMON_SIM_BASE plus the
 * page-aligned sizes of the regions before it plus one unmapped guard page
 * after each of them.  Targets without regions get the vaddr three regions
 * of the workload's regions as if they were VMAs (with fewer than three
 * regions, one DAMON region per workload region).
 *
 * DAMOS actions: pageout as above (returns the bytes that were resident);
 * willneed makes paged-out pages resident again without a stall; stat
 * applies nothing; the other actions succeed on the whole range, like a
 * successful madvise().  Ops filters: every page is anon; a page is young
 * when resident and, at the current phase's rate, accessed within one
 * sampling interval with probability >= 1/2, and active likewise within one
 * aggregation interval; memcg, hugepage_size and unmapped never match a
 * "has the property" filter.  sz_filter_passed is reported only when the
 * scheme has ops filters, as vaddr does.
 *
 * Probes (data attribute monitoring): a page is anonymous unless its
 * workload region has an init_file (then it is file-backed); every page is
 * in memcg 0; set_pgidle marks each region's sampled page idle when the
 * sample starts, and its idle flag is unset at the end of the sample iff
 * the page was accessed meanwhile (the same draw as the access check when
 * both run); a page never marked idle has it unset.  Guard pages have no
 * page and hit no probe.
 *
 * Metrics: one node (0) holding the targets' workloads plus SIM_NODE_EXTRA
 * of other memory; used = resident bytes; active/inactive as for the
 * filters; some_mem_psi_us = refaults x DAMON_SIM_REFAULT_STALL_US;
 * free_mem_rate = free / total in permil.
 */
#include "ops/replay.h"
#include "sys/alloc.h"
#include "ops/ops-common.h"
#include "core/ops-api.h"

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1. constants and the workload ---- */

#define SIM_PAGE 4096UL
/* One unmapped guard page after every region. */
#define SIM_GAP SIM_PAGE
/* Highest simulated address: the 47-bit user address space of x86-64. */
#define SIM_ADDR_LIMIT (1UL << 47)
/* The modelled node holds the workload(s) plus this much other memory. */
#define SIM_NODE_EXTRA (1UL << 30)
/* A page is "accessed" / in the working set when P(access) >= 1/2. */
#define SIM_LN2 0.69314718055994530942

struct sim_pat {
	bool random;
	unsigned long long stride;
	double rate; /* accesses per second */
};

/*
 * Pages [@lo, @hi) of workload region @ri, each accessed at @rate per
 * second: what a replayed snapshot's region becomes.
 */
struct sim_span {
	unsigned int ri;
	unsigned long long lo, hi;
	double rate;
};

struct sim_phase {
	uint64_t start_ns; /* offset in the cycle */
	uint64_t end_ns;
	double dur_s;
	/*
	 * masim: patterns sorted by region; those of region i:
	 * [first[i], first[i+1]).  NULL for replays.
	 */
	struct sim_pat *pats;
	unsigned int *first;
	/* replays: spans sorted by (ri, lo), disjoint */
	struct sim_span *spans;
	unsigned int nr_spans;
};

struct sim_workload {
	int refcount;
	struct damon_masim_config *cfg;
	unsigned int nr_regions;
	struct damon_addr_range *vmas; /* page-aligned, ascending */
	unsigned long long *npages;
	unsigned long total_bytes; /* sum of the page-aligned sizes */
	unsigned int nr_phases;
	struct sim_phase *phases;
	uint64_t cycle_ns;
	/* a replay, and whether its pages' accesses are exact (a trace) */
	bool replay;
	bool exact;
};

static void sim_workload_get(struct sim_workload *wl)
{
	__atomic_fetch_add(&wl->refcount, 1, __ATOMIC_RELAXED);
}

static void sim_workload_put(struct sim_workload *wl)
{
	unsigned int i;

	if (!wl || __atomic_sub_fetch(&wl->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	for (i = 0; i < wl->nr_phases; i++) {
		free(wl->phases[i].pats);
		free(wl->phases[i].first);
		free(wl->phases[i].spans);
	}
	free(wl->phases);
	free(wl->vmas);
	free(wl->npages);
	damon_masim_free(wl->cfg);
	free(wl);
}

static int __attribute__((format(printf, 3, 4)))
sim_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errlen) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Lay out the regions and precompute the phases' per-region patterns. */
static int sim_workload_new(struct damon_masim_config *cfg,
			    struct sim_workload **wlp, char *errbuf,
			    size_t errlen)
{
	struct sim_workload *wl;
	unsigned long addr = DAMON_SIM_BASE;
	unsigned int i, j;

	wl = udamon__calloc(1, sizeof(*wl));
	if (!wl)
		return -ENOMEM;
	wl->refcount = 1;
	wl->cfg = cfg;
	wl->nr_regions = cfg->nr_regions;
	wl->vmas = udamon__calloc(cfg->nr_regions, sizeof(*wl->vmas));
	wl->npages = udamon__calloc(cfg->nr_regions, sizeof(*wl->npages));
	wl->phases = udamon__calloc(cfg->nr_phases, sizeof(*wl->phases));
	if (!wl->vmas || !wl->npages || !wl->phases)
		goto nomem;

	for (i = 0; i < cfg->nr_regions; i++) {
		unsigned long long sz = cfg->regions[i].size;
		unsigned long long np = (sz + SIM_PAGE - 1) / SIM_PAGE;

		if (np > (SIM_ADDR_LIMIT - addr) / SIM_PAGE ||
		    SIM_ADDR_LIMIT - addr - np * SIM_PAGE < SIM_GAP) {
			/* Keep @cfg: the caller frees it on failure. */
			wl->cfg = NULL;
			sim_workload_put(wl);
			return sim_err(errbuf, errlen,
				       "%s:%u: region '%s' does not fit in the "
				       "simulated address space",
				       cfg->name, cfg->regions[i].line,
				       cfg->regions[i].name);
		}
		wl->npages[i] = np;
		wl->vmas[i].start = addr;
		wl->vmas[i].end = addr + np * SIM_PAGE;
		wl->total_bytes += np * SIM_PAGE;
		addr = wl->vmas[i].end + SIM_GAP;
	}

	wl->nr_phases = cfg->nr_phases;
	for (i = 0; i < cfg->nr_phases; i++) {
		const struct damon_masim_phase *mp = &cfg->phases[i];
		struct sim_phase *ph = &wl->phases[i];
		unsigned int n = 0, ri;

		ph->start_ns = wl->cycle_ns;
		wl->cycle_ns += mp->duration_ms * 1000000ULL;
		ph->end_ns = wl->cycle_ns;
		ph->dur_s = (double)mp->duration_ms / 1000.0;
		ph->pats = udamon__calloc(mp->nr_patterns, sizeof(*ph->pats));
		ph->first =
			udamon__calloc(cfg->nr_regions + 1, sizeof(*ph->first));
		if (!ph->pats || !ph->first)
			goto nomem;
		/* Bucket the patterns by region, keeping config order. */
		for (ri = 0; ri < cfg->nr_regions; ri++) {
			ph->first[ri] = n;
			for (j = 0; j < mp->nr_patterns; j++) {
				const struct damon_masim_pattern *p =
					&mp->patterns[j];

				if (p->region != ri || !p->weight)
					continue;
				ph->pats[n].random = p->random;
				ph->pats[n].stride = p->stride;
				ph->pats[n].rate = DAMON_SIM_ACCESS_RATE *
						   (double)p->weight /
						   (double)mp->total_weight;
				n++;
			}
		}
		ph->first[cfg->nr_regions] = n;
	}
	*wlp = wl;
	return 0;
nomem:
	wl->cfg = NULL;
	sim_workload_put(wl);
	return -ENOMEM;
}

/*
 * Replays.  A recorded region with nr_accesses n of N = aggr / sample
 * samples gives each of its pages the Poisson rate at which one sample
 * per sampling interval sees an access with chance n / N:
 * rate = -ln(1 - n / N) / sampling interval (n >= N taken as N - 1/2, a
 * finite rate).  An exact window (a trace) gives its pages the rate
 * SIM_EXACT_LAMBDA / window: the checks do not draw (sim_draw()), the rate
 * only ranks pages for filters and the ground truth.
 */
#define SIM_EXACT_LAMBDA 40.0

static double sim_replay_rate(const struct sim_replay *rp,
			      const struct sim_replay_snapshot *s,
			      unsigned int nr_accesses)
{
	double n_samples = (double)s->aggr_us / (double)s->sample_us;
	double p;

	if (rp->exact)
		return SIM_EXACT_LAMBDA * 1e9 /
		       (double)(s->end_ns - s->start_ns);
	if (n_samples < 1)
		n_samples = 1;
	p = (double)nr_accesses / n_samples;
	if (p >= 1)
		p = 1 - 0.5 / n_samples;
	return -log1p(-p) / ((double)s->sample_us / 1e6);
}

static int sim_range_cmp(const void *a, const void *b)
{
	const struct damon_addr_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Workload regions of a replay: its ranges merged across snapshots. */
static int sim_replay_layout(const struct sim_replay *rp,
			     struct damon_addr_range **vmasp, unsigned int *nrp)
{
	struct damon_addr_range *all, *v;
	size_t total = 0, i, n = 0;
	unsigned int j;

	for (i = 0; i < rp->nr_snapshots; i++)
		total += rp->snapshots[i].nr_regions;
	all = udamon__calloc(total ? total : 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0; i < rp->nr_snapshots; i++) {
		const struct sim_replay_snapshot *s = &rp->snapshots[i];

		for (j = 0; j < s->nr_regions; j++) {
			/* consecutive windows repeat ranges: skip those */
			if (n && all[n - 1].start == s->regions[j].start &&
			    all[n - 1].end == s->regions[j].end)
				continue;
			all[n].start = s->regions[j].start;
			all[n].end = s->regions[j].end;
			n++;
		}
	}
	qsort(all, n, sizeof(*all), sim_range_cmp);
	v = all;
	total = 0;
	for (i = 0; i < n; i++) {
		if (total && all[i].start <= v[total - 1].end + rp->merge_gap) {
			if (all[i].end > v[total - 1].end)
				v[total - 1].end = all[i].end;
			continue;
		}
		v[total++] = all[i];
	}
	if (total > UINT_MAX / 2) {
		free(all);
		return -E2BIG;
	}
	*vmasp = all;
	*nrp = (unsigned int)total;
	return 0;
}

/* Synthesized names: regions by address range, phases by window. */
static int sim_replay_names(const struct sim_replay *rp,
			    struct sim_workload *wl)
{
	struct damon_masim_config *cfg = udamon__calloc(1, sizeof(*cfg));
	size_t i;

	if (!cfg)
		return -ENOMEM;
	wl->cfg = cfg;
	cfg->name = udamon__strdup(rp->name);
	cfg->regions = udamon__calloc(wl->nr_regions, sizeof(*cfg->regions));
	cfg->phases = udamon__calloc(rp->nr_snapshots, sizeof(*cfg->phases));
	if (!cfg->name || !cfg->regions || !cfg->phases)
		return -ENOMEM;
	for (i = 0; i < wl->nr_regions; i++) {
		struct damon_masim_region *r = &cfg->regions[i];

		if (udamon__asprintf(&r->name, "0x%lx-0x%lx", wl->vmas[i].start,
				     wl->vmas[i].end) < 0)
			return -ENOMEM;
		r->size = wl->vmas[i].end - wl->vmas[i].start;
		cfg->nr_regions++;
	}
	for (i = 0; i < rp->nr_snapshots; i++) {
		struct damon_masim_phase *ph = &cfg->phases[i];
		const struct sim_replay_snapshot *s = &rp->snapshots[i];

		if (udamon__asprintf(&ph->name, "%s %zu",
				     rp->exact ? "window" : "snapshot", i) < 0)
			return -ENOMEM;
		ph->duration_ms = (s->end_ns - s->start_ns) / 1000000;
		cfg->nr_phases++;
	}
	return 0;
}

/* Make the model of a replay: regions, and a phase per snapshot. */
static int sim_workload_from_replay(const struct sim_replay *rp,
				    struct sim_workload **wlp)
{
	struct sim_workload *wl;
	size_t i;
	int err;

	wl = udamon__calloc(1, sizeof(*wl));
	if (!wl)
		return -ENOMEM;
	wl->refcount = 1;
	wl->replay = true;
	wl->exact = rp->exact;
	err = sim_replay_layout(rp, &wl->vmas, &wl->nr_regions);
	if (!err && !wl->nr_regions)
		err = -ENODATA;
	if (err)
		goto fail;
	err = -ENOMEM;
	wl->npages = udamon__calloc(wl->nr_regions ? wl->nr_regions : 1,
				    sizeof(*wl->npages));
	wl->phases = udamon__calloc(rp->nr_snapshots, sizeof(*wl->phases));
	if (!wl->npages || !wl->phases)
		goto fail;
	for (i = 0; i < wl->nr_regions; i++) {
		wl->npages[i] =
			(wl->vmas[i].end - wl->vmas[i].start) / SIM_PAGE;
		wl->total_bytes += wl->vmas[i].end - wl->vmas[i].start;
	}
	err = sim_replay_names(rp, wl);
	if (err)
		goto fail;
	wl->nr_phases = (unsigned int)rp->nr_snapshots;
	for (i = 0; i < rp->nr_snapshots; i++) {
		const struct sim_replay_snapshot *s = &rp->snapshots[i];
		struct sim_phase *ph = &wl->phases[i];
		unsigned int j, ri = 0;

		ph->start_ns = s->start_ns;
		ph->end_ns = s->end_ns;
		ph->dur_s = (double)(s->end_ns - s->start_ns) / 1e9;
		wl->cycle_ns = s->end_ns;
		if (!s->nr_regions)
			continue;
		ph->spans = udamon__calloc(s->nr_regions, sizeof(*ph->spans));
		if (!ph->spans) {
			err = -ENOMEM;
			goto fail;
		}
		for (j = 0; j < s->nr_regions; j++) {
			const struct sim_replay_region *r = &s->regions[j];
			struct sim_span *sp = &ph->spans[ph->nr_spans];

			if (!r->nr_accesses)
				continue;
			/* The layout holds every range: find its region. */
			while (wl->vmas[ri].end <= r->start)
				ri++;
			sp->ri = ri;
			sp->lo = (r->start - wl->vmas[ri].start) / SIM_PAGE;
			sp->hi = (r->end - wl->vmas[ri].start) / SIM_PAGE;
			sp->rate = sim_replay_rate(rp, s, r->nr_accesses);
			ph->nr_spans++;
		}
	}
	*wlp = wl;
	return 0;
fail:
	sim_workload_put(wl);
	return err;
}

/* Index of the workload region holding @addr, or -1 (a gap). */
static int sim_region_of(const struct sim_workload *wl, unsigned long addr)
{
	unsigned int lo = 0, hi = wl->nr_regions;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (addr < wl->vmas[mid].start)
			hi = mid;
		else if (addr >= wl->vmas[mid].end)
			lo = mid + 1;
		else
			return (int)mid;
	}
	return -1;
}

/* ---- 2. the access model ---- */

/* Accesses per second of pattern @p to page @pg of a @size byte region. */
static double sim_pat_page_rate(const struct sim_pat *p,
				unsigned long long size, unsigned long long pg)
{
	unsigned long long lo = pg * SIM_PAGE, hi, first, last, nr;

	if (lo >= size)
		return 0;
	hi = lo + SIM_PAGE < size ? lo + SIM_PAGE : size;
	if (p->random)
		return p->rate * (double)(hi - lo) / (double)size;
	if (!p->stride)
		return lo ? 0 : p->rate;
	/* Offsets k * stride with lo <= k * stride < hi. */
	first = lo / p->stride + (lo % p->stride ? 1 : 0);
	last = (hi - 1) / p->stride;
	if (last < first)
		return 0;
	nr = (size - 1) / p->stride + 1;
	return p->rate * (double)(last - first + 1) / (double)nr;
}

/*
 * Sum over pages [@lo, @hi) of pattern @p's page rates, in O(1): the same
 * sums sim_pat_page_rate() gives page by page.
 */
static double sim_pat_range_rate(const struct sim_pat *p,
				 unsigned long long size, unsigned long long lo,
				 unsigned long long hi)
{
	unsigned long long lo_b = lo * SIM_PAGE, hi_b = hi * SIM_PAGE;
	unsigned long long first, last, nr;

	if (hi_b > size)
		hi_b = size;
	if (lo_b >= hi_b)
		return 0;
	if (p->random)
		return p->rate * (double)(hi_b - lo_b) / (double)size;
	if (!p->stride)
		return lo_b ? 0 : p->rate;
	first = lo_b / p->stride + (lo_b % p->stride ? 1 : 0);
	last = (hi_b - 1) / p->stride;
	if (last < first)
		return 0;
	nr = (size - 1) / p->stride + 1;
	return p->rate * (double)(last - first + 1) / (double)nr;
}

/* Index of the first span of @p in region @ri ending after page @pg. */
static unsigned int sim_span_find(const struct sim_phase *p, unsigned int ri,
				  unsigned long long pg)
{
	unsigned int lo = 0, hi = p->nr_spans;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct sim_span *sp = &p->spans[mid];

		if (sp->ri < ri || (sp->ri == ri && sp->hi <= pg))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Sum of the span rates of pages [@lo, @hi) of region @ri in @p. */
static double sim_spans_rate(const struct sim_phase *p, unsigned int ri,
			     unsigned long long lo, unsigned long long hi)
{
	double rate = 0;
	unsigned int i;

	for (i = sim_span_find(p, ri, lo);
	     i < p->nr_spans && p->spans[i].ri == ri && p->spans[i].lo < hi;
	     i++) {
		const struct sim_span *sp = &p->spans[i];
		unsigned long long a = sp->lo > lo ? sp->lo : lo;
		unsigned long long b = sp->hi < hi ? sp->hi : hi;

		rate += sp->rate * (double)(b - a);
	}
	return rate;
}

/* Whether phase @p accesses region @ri at all. */
static bool sim_phase_touches(const struct sim_phase *p, unsigned int ri)
{
	unsigned int i;

	if (p->first && p->first[ri] != p->first[ri + 1])
		return true;
	i = sim_span_find(p, ri, 0);
	return i < p->nr_spans && p->spans[i].ri == ri;
}

/* Sum of the page rates of pages [@lo, @hi) of region @ri in phase @ph. */
static double sim_range_rate(const struct sim_workload *wl, unsigned int ph,
			     unsigned int ri, unsigned long long lo,
			     unsigned long long hi)
{
	const struct sim_phase *p = &wl->phases[ph];
	unsigned long long size = wl->cfg->regions[ri].size;
	double rate = 0;
	unsigned int i;

	if (p->nr_spans)
		rate = sim_spans_rate(p, ri, lo, hi);
	if (!p->first)
		return rate;
	for (i = p->first[ri]; i < p->first[ri + 1]; i++)
		rate += sim_pat_range_rate(&p->pats[i], size, lo, hi);
	return rate;
}

static double sim_page_rate(const struct sim_workload *wl, unsigned int ph,
			    unsigned int ri, unsigned long long pg)
{
	const struct sim_phase *p = &wl->phases[ph];
	unsigned long long size = wl->cfg->regions[ri].size;
	double rate = 0;
	unsigned int i;

	if (p->nr_spans)
		rate = sim_spans_rate(p, ri, pg, pg + 1);
	if (!p->first)
		return rate;
	for (i = p->first[ri]; i < p->first[ri + 1]; i++)
		rate += sim_pat_page_rate(&p->pats[i], size, pg);
	return rate;
}

/* The phase running at @pos ns into the cycle. */
static unsigned int sim_phase_at_pos(const struct sim_workload *wl,
				     uint64_t pos)
{
	unsigned int lo = 0, hi = wl->nr_phases - 1;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (pos >= wl->phases[mid].end_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static unsigned int sim_phase_at(const struct sim_workload *wl, uint64_t t)
{
	return sim_phase_at_pos(wl, t % wl->cycle_ns);
}

/*
 * Expected number of accesses to pages [@lo, @hi) of region @ri (summed
 * over the pages) during workload time [@a, @b) ns: the integral of their
 * rate over the phases in between.
 */
static double sim_exposure_range(const struct sim_workload *wl, unsigned int ri,
				 unsigned long long lo, unsigned long long hi,
				 uint64_t a, uint64_t b)
{
	uint64_t ncycles, pos;
	double sum = 0;
	unsigned int ph;

	if (b <= a)
		return 0;
	ncycles = (b - a) / wl->cycle_ns;
	if (ncycles) {
		double cycle = 0;

		for (ph = 0; ph < wl->nr_phases; ph++)
			cycle += sim_range_rate(wl, ph, ri, lo, hi) *
				 wl->phases[ph].dur_s;
		sum = cycle * (double)ncycles;
		a += ncycles * wl->cycle_ns;
	}
	pos = a % wl->cycle_ns;
	ph = sim_phase_at_pos(wl, pos);
	while (a < b) {
		uint64_t len = wl->phases[ph].end_ns - pos;

		if (len > b - a)
			len = b - a;
		sum += sim_range_rate(wl, ph, ri, lo, hi) * (double)len / 1e9;
		a += len;
		ph = (ph + 1) % wl->nr_phases;
		pos = wl->phases[ph].start_ns;
	}
	return sum;
}

/* The same for the one page @pg. */
static double sim_exposure(const struct sim_workload *wl, unsigned int ri,
			   unsigned long long pg, uint64_t a, uint64_t b)
{
	return sim_exposure_range(wl, ri, pg, pg + 1, a, b);
}

/* A uniform number in [0, 1) from the context PRNG. */
static double sim_uniform(struct damon_ctx *ctx)
{
	return (double)damon_rand_inline(ctx, 0, 1UL << 32) / 4294967296.0;
}

/*
 * Whether a Poisson process with @lambda expected events has one.  In an
 * exact replay (a trace) a page with any access in the window has one.
 */
static bool sim_draw(struct damon_ctx *ctx, const struct sim_workload *wl,
		     double lambda)
{
	if (lambda <= 0)
		return false;
	if (wl->exact)
		return true;
	/* exp(-40) is below the PRNG's resolution: skip the draw. */
	if (lambda > 40)
		return true;
	return sim_uniform(ctx) < -expm1(-lambda);
}

/* ---- 3. per-target state ---- */

/*
 * Paged-out memory, as ranges rather than pages, so that the model's cost
 * follows the number of ranges DAMOS acted on, not the modelled size.
 * Pages [@lo, @hi) of workload region @ri were all paged out at some point
 * and @nr_out of them are still out at @since_ns.  The model refaults a
 * page at its first access after the pageout, and accesses are Poisson,
 * hence memoryless: which pages of a range are still out carries no
 * information beyond their number, and as time passes each one stays out
 * independently with probability exp(-its exposure).  A range takes its
 * pages' mean exposure for that (exact where their rates are equal, as for
 * random patterns); the survivors are drawn from the binomial law.
 */
struct sim_out {
	unsigned int ri;
	unsigned long long lo, hi;
	unsigned long long nr_out;
	uint64_t since_ns;
};

/* Drops kept per target: windows up to this many samples (default 20). */
#define SIM_DROPS 64

struct sim_target {
	struct sim_workload *wl;
	uint64_t t0_ns; /* context clock at workload time 0 */
	uint64_t prep_ns; /* context clock of the last preparation */
	bool prepared;
	bool refit; /* replaced a model of another workload: fit regions */
	/* paged-out ranges, sorted by (ri, lo), disjoint */
	struct sim_out *outs;
	size_t nr_outs;
	size_t cap_outs;
	unsigned long nr_out; /* pages out, the sum over @outs */
	unsigned long refaults;
	/* probes: when set_pgidle marked the sampled pages idle */
	uint64_t pgidle_ns;
	bool pgidle_marked;
	/* check_accesses' results by region order, for pgidle_unset */
	bool *accessed;
	unsigned int nr_accessed;
	bool accessed_valid;
	/* damon_sim_true_wss() of the last (phase, window) asked for */
	int wss_phase;
	uint64_t wss_window_ns;
	unsigned long wss_bytes;
	uint64_t wss_at_ns; /* exact replays: of the window ending here */
	/* exact replays: page ranges gathered by sim_touched() */
	struct sim_pg_range *scratch;
	size_t cap_scratch;
	/* the checks' fast path (sim_sample_access()) */
	struct sim_fast *fast; /* per workload region; NULL until needed */
	uint64_t iv_a, iv_b; /* the last interval asked for ... */
	unsigned int iv_phase; /* ... the phase it starts in ... */
	bool iv_single; /* ... whether it ends there, and not a cycle on */
	bool iv_valid;
	/* damon_account_sample()'s drops by last_nr_accesses, for a window */
	unsigned int drop_window; /* 0: none yet */
	unsigned int drop[SIM_DROPS];
	/* the regions of the last prepare, in list order (sim_walk) */
	struct sim_walk *walk;
	unsigned int nr_walk, cap_walk;
};

static void sim_target_free(struct sim_target *st)
{
	if (!st)
		return;
	free(st->outs);
	sim_workload_put(st->wl);
	free(st->accessed);
	free(st->scratch);
	free(st->fast);
	free(st->walk);
	free(st);
}

static uint64_t sim_wtime(const struct sim_target *st, uint64_t now_ns)
{
	return now_ns > st->t0_ns ? now_ns - st->t0_ns : 0;
}

/*
 * The model of @t, made (or remade, when the context's workload changed)
 * now.  NULL if the context has no workload or memory ran out.
 */
static struct sim_target *sim_target_of(struct damon_ctx *ctx,
					struct damon_target *t)
{
	struct sim_workload *wl = ctx->ops_priv;
	struct sim_target *st = t->ops_priv;
	bool refit = st != NULL;

	if (!wl)
		return NULL;
	if (st && st->wl == wl)
		return st;
	sim_target_free(st);
	t->ops_priv = NULL;
	st = udamon__calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	sim_workload_get(wl);
	st->wl = wl;
	st->t0_ns = damon_now_ns(ctx);
	st->refit = refit;
	st->wss_phase = -1;
	t->ops_priv = st;
	return st;
}

struct sim_pg_range {
	unsigned long long lo, hi;
};

static int sim_pg_range_cmp(const void *a, const void *b)
{
	const struct sim_pg_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/*
 * Exact replays: the number of pages among [@lo, @hi) of region @ri with
 * an access in workload time [@a, @b), i.e. in a window overlapping it.
 * The phases' spans are gathered, sorted and merged.
 */
static int sim_touched(struct sim_target *st, unsigned int ri,
		       unsigned long long lo, unsigned long long hi, uint64_t a,
		       uint64_t b, unsigned long long *count)
{
	const struct sim_workload *wl = st->wl;
	unsigned long long sum = 0, cur_lo = 0, cur_hi = 0;
	unsigned int ph, nr_ph, k;
	size_t n = 0, i;

	*count = 0;
	if (b <= a || lo >= hi)
		return 0;
	ph = sim_phase_at(wl, a);
	if (b - a >= wl->cycle_ns) {
		nr_ph = wl->nr_phases;
	} else {
		uint64_t pos = a % wl->cycle_ns, left = b - a;

		/* phases from @ph on, around the cycle, until @b */
		for (nr_ph = 0; left && nr_ph < wl->nr_phases; nr_ph++) {
			const struct sim_phase *p =
				&wl->phases[(ph + nr_ph) % wl->nr_phases];
			uint64_t len = p->end_ns - pos;

			left -= len < left ? len : left;
			pos = p->end_ns % wl->cycle_ns;
		}
	}
	for (k = 0; k < nr_ph; k++) {
		const struct sim_phase *p =
			&wl->phases[(ph + k) % wl->nr_phases];

		for (i = sim_span_find(p, ri, lo);
		     i < p->nr_spans && p->spans[i].ri == ri &&
		     p->spans[i].lo < hi;
		     i++) {
			const struct sim_span *sp = &p->spans[i];

			if (n == st->cap_scratch) {
				size_t cap = n ? n * 2 : 256;
				struct sim_pg_range *nr;

				nr = udamon__realloc(st->scratch,
						     cap * sizeof(*nr));
				if (!nr)
					return -ENOMEM;
				st->scratch = nr;
				st->cap_scratch = cap;
			}
			st->scratch[n].lo = sp->lo > lo ? sp->lo : lo;
			st->scratch[n].hi = sp->hi < hi ? sp->hi : hi;
			n++;
		}
	}
	if (!n)
		return 0;
	qsort(st->scratch, n, sizeof(*st->scratch), sim_pg_range_cmp);
	for (i = 0; i < n; i++) {
		const struct sim_pg_range *r = &st->scratch[i];

		if (i && r->lo <= cur_hi) {
			if (r->hi > cur_hi)
				cur_hi = r->hi;
			continue;
		}
		sum += cur_hi - cur_lo;
		cur_lo = r->lo;
		cur_hi = r->hi;
	}
	sum += cur_hi - cur_lo;
	*count = sum;
	return 0;
}

/* A draw from Binomial(@n, @p), by the normal law for large @n. */
static unsigned long long sim_binomial(struct damon_ctx *ctx,
				       unsigned long long n, double p)
{
	unsigned long long i, k = 0;
	double mean, sd, u1, u2, x;

	if (p <= 0 || !n)
		return 0;
	if (p >= 1)
		return n;
	if (n <= 64) {
		for (i = 0; i < n; i++)
			k += sim_uniform(ctx) < p;
		return k;
	}
	mean = (double)n * p;
	sd = sqrt(mean * (1 - p));
	u1 = 1.0 - sim_uniform(ctx); /* (0, 1]: log() stays finite */
	u2 = sim_uniform(ctx);
	x = mean + sd * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
	if (x < 0)
		return 0;
	if (x > (double)n)
		return n;
	return (unsigned long long)llround(x);
}

/* Bring range @o up to workload time @now: draw its survivors. */
static void sim_out_sync(struct damon_ctx *ctx, struct sim_target *st,
			 struct sim_out *o, uint64_t now)
{
	unsigned long long left;
	double e;

	if (o->since_ns >= now || !o->nr_out)
		return;
	e = sim_exposure_range(st->wl, o->ri, o->lo, o->hi, o->since_ns, now) /
	    (double)(o->hi - o->lo);
	if (st->wl->exact && e > 0) {
		unsigned long long touched;

		/*
		 * The pages touched since refault for sure; which of the
		 * range's pages are out is not kept, so each is out with
		 * the same chance (no memory: fall back to the mean rate).
		 */
		if (!sim_touched(st, o->ri, o->lo, o->hi, o->since_ns, now,
				 &touched))
			e = touched >= o->hi - o->lo ?
				    INFINITY :
				    -log1p(-(double)touched /
					   (double)(o->hi - o->lo));
	}
	left = sim_binomial(ctx, o->nr_out, exp(-e));
	st->refaults += o->nr_out - left;
	st->nr_out -= o->nr_out - left;
	o->nr_out = left;
	o->since_ns = now;
}

static int sim_outs_reserve(struct sim_target *st, size_t more)
{
	struct sim_out *n;
	size_t cap;

	if (st->nr_outs + more <= st->cap_outs)
		return 0;
	cap = st->cap_outs ? st->cap_outs * 2 : 16;
	while (cap < st->nr_outs + more)
		cap *= 2;
	n = udamon__realloc(st->outs, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	st->outs = n;
	st->cap_outs = cap;
	return 0;
}

static void sim_outs_insert(struct sim_target *st, size_t idx,
			    const struct sim_out *o)
{
	memmove(&st->outs[idx + 1], &st->outs[idx],
		(st->nr_outs - idx) * sizeof(*o));
	st->outs[idx] = *o;
	st->nr_outs++;
}

static void sim_outs_remove(struct sim_target *st, size_t idx, size_t nr)
{
	if (!nr)
		return;
	memmove(&st->outs[idx], &st->outs[idx + nr],
		(st->nr_outs - idx - nr) * sizeof(*st->outs));
	st->nr_outs -= nr;
}

/* Index of the first range of region @ri ending after page @pg. */
static size_t sim_outs_find(const struct sim_target *st, unsigned int ri,
			    unsigned long long pg)
{
	size_t lo = 0, hi = st->nr_outs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sim_out *o = &st->outs[mid];

		if (o->ri < ri || (o->ri == ri && o->hi <= pg))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Make page @pg of region @ri a range boundary: split a range spanning it
 * in two, its pages out shared in proportion (any share is as likely as
 * another: the pages out are exchangeable).
 */
static int sim_outs_cut(struct sim_target *st, unsigned int ri,
			unsigned long long pg)
{
	size_t idx = sim_outs_find(st, ri, pg);
	struct sim_out *o, right;
	unsigned long long left_out;

	if (idx == st->nr_outs)
		return 0;
	o = &st->outs[idx];
	if (o->ri != ri || o->lo >= pg)
		return 0;
	if (sim_outs_reserve(st, 1))
		return -ENOMEM;
	o = &st->outs[idx];
	left_out = (unsigned long long)llround((double)o->nr_out *
					       (double)(pg - o->lo) /
					       (double)(o->hi - o->lo));
	if (left_out > pg - o->lo)
		left_out = pg - o->lo;
	if (o->nr_out - left_out > o->hi - pg)
		left_out = o->nr_out - (o->hi - pg);
	right = *o;
	right.lo = pg;
	right.nr_out = o->nr_out - left_out;
	o->hi = pg;
	o->nr_out = left_out;
	sim_outs_insert(st, idx + 1, &right);
	return 0;
}

/* Drop empty ranges and join neighbours synced to the same moment. */
static void sim_outs_tidy(struct sim_target *st)
{
	size_t i, n = 0;

	for (i = 0; i < st->nr_outs; i++) {
		struct sim_out *o = &st->outs[i];
		struct sim_out *prev = n ? &st->outs[n - 1] : NULL;

		if (!o->nr_out)
			continue;
		if (prev && prev->ri == o->ri && prev->hi == o->lo &&
		    prev->since_ns == o->since_ns) {
			prev->hi = o->hi;
			prev->nr_out += o->nr_out;
			continue;
		}
		st->outs[n++] = *o;
	}
	st->nr_outs = n;
}

/* Bring every paged-out range of @st up to workload time @now. */
static void sim_sync(struct damon_ctx *ctx, struct sim_target *st, uint64_t now)
{
	size_t i;

	for (i = 0; i < st->nr_outs; i++)
		sim_out_sync(ctx, st, &st->outs[i], now);
	sim_outs_tidy(st);
}

/*
 * The checks' fast path.  A check asks whether one page was accessed over
 * one sampling interval, which nearly always lies inside one phase.  In a
 * masim phase whose patterns of a region are random, or sequential with a
 * stride of 0 or dividing the page size, every page of the region but the
 * first and the last has the same rate.  Per workload region the target
 * keeps that rate and, for the last interval length asked, the chance of
 * an access it gives, so that a check of such a page is one comparison of
 * a uniform draw: the very numbers sim_exposure() and sim_draw() compute,
 * operation for operation, hence the same PRNG stream and the same
 * outputs, without the walk over the phases and patterns and the expm1()
 * per region and sample that made the sim's cost (docs/benchmarks.md).
 */
struct sim_fast {
	unsigned int phase; /* of @uniform and @rate; UINT_MAX: none yet */
	bool uniform; /* the interior pages share @rate */
	double rate;
	uint64_t len_ns; /* of @verdict and @below; 0: none yet */
	signed char verdict; /* -1 never, 1 always, 0 draw against @below */
	uint64_t below; /* accessed iff the PRNG's low 32 bits are below */
};

/* Whether phase @p gives every interior page of region @ri one rate. */
static bool sim_phase_uniform(const struct sim_phase *p, unsigned int ri)
{
	unsigned int i;

	if (!p->first || p->nr_spans)
		return false;
	for (i = p->first[ri]; i < p->first[ri + 1]; i++) {
		const struct sim_pat *pat = &p->pats[i];

		if (!pat->random && pat->stride && SIM_PAGE % pat->stride)
			return false;
	}
	return true;
}

/*
 * Whether workload time [@a, @b) lies in one phase (and less than a cycle),
 * which then goes to @ph.  Remembered: a check asks this for every region.
 */
static bool sim_fast_interval(struct sim_target *st, uint64_t a, uint64_t b,
			      unsigned int *ph)
{
	const struct sim_workload *wl = st->wl;

	if (!st->iv_valid || st->iv_a != a || st->iv_b != b) {
		st->iv_a = a;
		st->iv_b = b;
		st->iv_valid = true;
		st->iv_single = false;
		/* what sim_exposure_range() does in one step, no cycle */
		if (b > a && wl->cycle_ns && b - a < wl->cycle_ns) {
			uint64_t pos = a % wl->cycle_ns;

			st->iv_phase = sim_phase_at_pos(wl, pos);
			st->iv_single = b - a <=
					wl->phases[st->iv_phase].end_ns - pos;
		}
	}
	*ph = st->iv_phase;
	return st->iv_single;
}

/*
 * The fast-path entry of region @ri for phase @ph and an interval of
 * @len_ns, or NULL when its pages do not share a rate (or no memory).
 */
static const struct sim_fast *sim_fast_entry(struct sim_target *st,
					     unsigned int ri, unsigned int ph,
					     uint64_t len_ns)
{
	const struct sim_workload *wl = st->wl;
	struct sim_fast *f;

	if (!st->fast) {
		unsigned int i;

		st->fast = udamon__calloc(wl->nr_regions, sizeof(*st->fast));
		if (!st->fast)
			return NULL;
		for (i = 0; i < wl->nr_regions; i++)
			st->fast[i].phase = UINT_MAX;
	}
	f = &st->fast[ri];
	if (f->phase != ph) {
		f->phase = ph;
		f->uniform = sim_phase_uniform(&wl->phases[ph], ri);
		/* page 1 stands for every interior page */
		f->rate = f->uniform ? sim_range_rate(wl, ph, ri, 1, 2) : 0;
		f->len_ns = 0;
	}
	if (!f->uniform)
		return NULL;
	if (f->len_ns != len_ns) {
		/* sim_exposure_range()'s one step, then sim_draw()'s cases */
		double lambda = f->rate * (double)len_ns / 1e9;

		f->len_ns = len_ns;
		f->below = 0;
		if (lambda <= 0) {
			f->verdict = -1;
		} else if (wl->exact || lambda > 40) {
			f->verdict = 1;
		} else {
			f->verdict = 0;
			/*
			 * sim_draw(): u < chance with u = k / 2^32, k the
			 * PRNG's low 32 bits; k / 2^32 and chance * 2^32
			 * are exact, so that is k < ceil(chance * 2^32).
			 */
			f->below =
				(uint64_t)ceil(-expm1(-lambda) * 4294967296.0);
		}
	}
	return f;
}

/* sim_sample_access() off the fast path. */
static __attribute__((noinline)) bool
sim_sample_access_slow(struct damon_ctx *ctx, struct sim_target *st,
		       unsigned int ri, unsigned long long pg, uint64_t a,
		       uint64_t b)
{
	const struct sim_workload *wl = st->wl;
	const struct sim_fast *f = NULL;
	unsigned int ph;

	if (pg && pg + 1 < wl->npages[ri] && sim_fast_interval(st, a, b, &ph))
		f = sim_fast_entry(st, ri, ph, b - a);
	if (!f)
		return sim_draw(ctx, wl, sim_exposure(wl, ri, pg, a, b));
	if (f->verdict)
		return f->verdict > 0;
	return (damon_prng_next(&ctx->rnd_state) & 0xffffffffULL) < f->below;
}

/*
 * sim_draw(ctx, wl, sim_exposure(wl, @ri, @pg, @a, @b)), through the fast
 * path where it applies.  Inline: a check calls it for every region, and
 * when the entry is ready it costs a few compares and one PRNG step.
 */
static inline bool sim_sample_access(struct damon_ctx *ctx,
				     struct sim_target *st, unsigned int ri,
				     unsigned long long pg, uint64_t a,
				     uint64_t b)
{
	const struct sim_fast *f;

	if (!st->fast || !st->iv_valid || !st->iv_single || st->iv_a != a ||
	    st->iv_b != b || !pg || pg + 1 >= st->wl->npages[ri])
		return sim_sample_access_slow(ctx, st, ri, pg, a, b);
	f = &st->fast[ri];
	if (f->phase != st->iv_phase || !f->uniform || f->len_ns != b - a)
		return sim_sample_access_slow(ctx, st, ri, pg, a, b);
	if (f->verdict)
		return f->verdict > 0;
	return (damon_prng_next(&ctx->rnd_state) & 0xffffffffULL) < f->below;
}

/* sim_sample() of page @pg of region @ri when some pages are out. */
static __attribute__((noinline)) bool
sim_sample_outs(struct damon_ctx *ctx, struct sim_target *st, int ri,
		unsigned long long pg, uint64_t a, uint64_t b)
{
	unsigned long long npages;
	struct sim_out *o;
	size_t idx;

	idx = sim_outs_find(st, (unsigned int)ri, pg);
	o = idx < st->nr_outs ? &st->outs[idx] : NULL;
	if (!o || o->ri != (unsigned int)ri || o->lo > pg)
		return sim_sample_access(ctx, st, (unsigned int)ri, pg, a, b);
	sim_out_sync(ctx, st, o, a);
	npages = o->hi - o->lo;
	/* Is this page one of those still out?  They are exchangeable. */
	if (sim_uniform(ctx) * (double)npages >= (double)o->nr_out)
		return sim_sample_access(ctx, st, (unsigned int)ri, pg, a, b);
	/* Out at @a: accessed iff it faults in, which the check then sees. */
	if (!sim_sample_access(ctx, st, (unsigned int)ri, pg, a, b))
		return false;
	/*
	 * It is resident now: isolate it as a range of its own, and take
	 * the one page out away from the pieces of [L, H).  The pieces
	 * hold this range's nr_out >= 1 between them, so one has a page.
	 */
	{
		unsigned long long L = o->lo, H = o->hi;
		size_t i, first;

		if (sim_outs_cut(st, ri, pg) || sim_outs_cut(st, ri, pg + 1)) {
			/* no memory to split: the range loses one page out */
			o = &st->outs[sim_outs_find(st, (unsigned int)ri, L)];
			o->nr_out--;
			goto refault;
		}
		first = sim_outs_find(st, (unsigned int)ri, L);
		idx = sim_outs_find(st, (unsigned int)ri, pg);
		if (st->outs[idx].nr_out) {
			st->outs[idx].nr_out--;
			goto refault;
		}
		for (i = first;
		     i < st->nr_outs && st->outs[i].ri == (unsigned int)ri &&
		     st->outs[i].hi <= H;
		     i++) {
			if (st->outs[i].nr_out) {
				st->outs[i].nr_out--;
				break;
			}
		}
	}
refault:
	st->refaults++;
	st->nr_out--;
	sim_outs_tidy(st);
	return true;
}

/*
 * Whether the page at @addr was accessed during workload time [a, b).
 * @hint: the workload region of the previous address asked for (a check
 * walks the regions in address order), updated.
 */
static inline bool sim_sample(struct damon_ctx *ctx, struct sim_target *st,
			      unsigned long addr, uint64_t a, uint64_t b,
			      unsigned int *hint)
{
	const struct sim_workload *wl = st->wl;
	unsigned long long pg;
	int ri;

	if (*hint < wl->nr_regions && addr >= wl->vmas[*hint].start &&
	    addr < wl->vmas[*hint].end) {
		ri = (int)*hint;
	} else {
		ri = sim_region_of(wl, addr);
		if (ri < 0)
			return false;
		*hint = (unsigned int)ri;
	}
	pg = (addr - wl->vmas[ri].start) / SIM_PAGE;
	if (st->nr_outs)
		return sim_sample_outs(ctx, st, ri, pg, a, b);
	return sim_sample_access(ctx, st, (unsigned int)ri, pg, a, b);
}

/* Page properties for ops filters, at the current phase. */
struct sim_page_props {
	bool resident;
	bool young; /* P(access within a sampling interval) >= 1/2 */
	bool active; /* resident and P(access within an aggregation) >= 1/2 */
};

static bool sim_filter_match(const struct damos_filter *f,
			     const struct sim_page_props *pp)
{
	bool has;

	switch (f->type) {
	case DAMOS_FILTER_TYPE_ANON:
		has = true; /* all simulated memory is anonymous */
		break;
	case DAMOS_FILTER_TYPE_YOUNG:
		has = pp->young;
		break;
	case DAMOS_FILTER_TYPE_ACTIVE:
		has = pp->active;
		break;
	default:
		/* No memcgs, huge pages or unmapped pages in the model. */
		has = false;
		break;
	}
	return has == f->matching;
}

/* Whether the ops filters of @s let the page through (spec §5.7). */
static bool sim_filters_pass(struct damos *s, const struct sim_page_props *pp)
{
	struct damos_filter *f;

	if (s->core_filters_allowed)
		return true;
	damos_for_each_ops_filter(f, s) {
		if (sim_filter_match(f, pp))
			return f->allow;
	}
	return !s->ops_filters_default_reject;
}

/* ---- 4. operations hooks ---- */

/* Give @t the workload's regions: three regions, as vaddr would. */
static void sim_fit_regions(struct damon_ctx *ctx, struct damon_target *t,
			    const struct sim_workload *wl)
{
	unsigned long align = ctx->min_region_sz ? ctx->min_region_sz :
						   DAMON_MIN_REGION_SZ;
	int err;

	err = damon_apply_three_regions(t, wl->vmas, wl->nr_regions, align);
	/* Fewer than three regions have fewer than two gaps. */
	if (err)
		damon_set_regions(t, wl->vmas, wl->nr_regions, align);
}

static void sim_init(struct damon_ctx *ctx)
{
	struct damon_target *t;

	damon_for_each_target(t, ctx) {
		struct sim_target *st = sim_target_of(ctx, t);

		if (st && (st->refit || !damon_nr_regions(t)))
			sim_fit_regions(ctx, t, st->wl);
		if (st)
			st->refit = false;
	}
}

/*
 * The walks.  The checks walk every region twice per sample (prepare,
 * check), and with hundreds of regions the pointer chase, each node's
 * address waiting for the load of the link in the node before, bounds
 * them.  So each prepare records, per region in list order, its node (and
 * its size with the reciprocal sim_rand_region() needs), and the walks go
 * from node to node by the record wherever the list's link confirms it
 * (sim_walk_next()): the compare waits for the link, but the processor
 * bets on it and goes on with the next node, so the nodes' loads overlap.
 * Regions change only at aggregations, so the record of the last prepare
 * is nearly always right; where the list differs the walk follows the
 * list, and a reciprocal is used only for the size it was computed for.
 */

struct sim_walk {
	struct damon_region *r;
	unsigned long size;
	uint64_t magic; /* UINT64_MAX / size */
};

/* Make room to record a walk over @t; false without memory. */
static bool sim_walk_begin(struct sim_target *st, struct damon_target *t)
{
	unsigned int n = damon_nr_regions(t);
	struct sim_walk *w;

	if (n <= st->cap_walk)
		return true;
	w = udamon__realloc(st->walk, n * sizeof(*w));
	if (!w)
		return false;
	/* new entries: no size matches 0 */
	memset(w + st->cap_walk, 0, (n - st->cap_walk) * sizeof(*w));
	st->walk = w;
	st->cap_walk = n;
	return true;
}

/* The first region of @t, or NULL. */
static inline struct damon_region *sim_walk_first(struct damon_target *t)
{
	if (damon_list_empty(&t->regions_list))
		return NULL;
	return damon_list_entry(t->regions_list.next, struct damon_region,
				list);
}

/*
 * The region after @r, the @i-th of this walk of @t, or NULL at the end.
 * Taken from the record (@walk, @nr_walk entries; locals, which the
 * stores into the regions cannot alias) when @r's link points at the
 * record's next node, which the prediction of that branch assumes before
 * the link is loaded.  A stale record entry is only compared, never
 * dereferenced.
 */
static inline struct damon_region *
sim_walk_next(const struct sim_walk *walk, unsigned int nr_walk,
	      struct damon_target *t, struct damon_region *r, unsigned int i)
{
	struct damon_list_head *next = r->list.next;

	if (__builtin_expect(i + 1 < nr_walk, 1)) {
		struct damon_region *p = walk[i + 1].r;

		if (__builtin_expect(&p->list == next, 1)) {
			/* hide the equality: the compiler would use @next */
			__asm__ volatile("" : "+r"(p));
			return p;
		}
	}
	if (next == &t->regions_list)
		return NULL;
	return damon_list_entry(next, struct damon_region, list);
}

/*
 * damon_rand(ctx, @r->ar.start, @r->ar.end) for the PRNG output @x, the
 * same number, without the division by the region's size per sample,
 * which bounded the prepare walk: @x % size as @x - q * size with q the
 * high half of @x * m, m = UINT64_MAX / size kept in @w.  m is 2^64 / size
 * less at most 1, so x * m / 2^64 is x / size less a fraction below 1
 * (x < 2^64): q is x / size or one less, and one subtraction corrects it.
 */
static inline unsigned long sim_rand_region(uint64_t x, struct sim_walk *w,
					    const struct damon_region *r)
{
	unsigned long size = r->ar.end - r->ar.start;
	uint64_t q, rem;

	if (r->ar.end <= r->ar.start)
		return r->ar.start;
#ifdef __SIZEOF_INT128__
	if (w->size != size) {
		w->size = size;
		w->magic = UINT64_MAX / size;
	}
	q = (uint64_t)(((unsigned __int128)x * w->magic) >> 64);
	rem = x - q * size;
	rem -= rem >= size ? size : 0;
#else
	(void)w;
	(void)q;
	rem = x % size;
#endif
	return r->ar.start + (unsigned long)rem;
}

static void sim_prepare_access_checks(struct damon_ctx *ctx)
{
	uint64_t now = damon_now_ns(ctx);
	struct damon_target *t;
	struct damon_region *r;

	damon_for_each_target(t, ctx) {
		struct sim_target *st = sim_target_of(ctx, t);

		if (!st)
			continue;
		/* A new workload or a new target: regions to match. */
		if (st->refit || !damon_nr_regions(t))
			sim_fit_regions(ctx, t, st->wl);
		st->refit = false;
		if (sim_walk_begin(st, t)) {
			/* a local copy: the stores below may alias ctx */
			uint64_t rnd = ctx->rnd_state;
			struct sim_walk *walk = st->walk;
			unsigned int i = 0, nr_walk = st->nr_walk;
			unsigned int cap_walk = st->cap_walk;

			for (r = sim_walk_first(t); r;
			     r = sim_walk_next(walk, nr_walk, t, r, i++)) {
				uint64_t x;

				if (i >= cap_walk)
					break; /* nr_regions was wrong */
				/* the record's next entry is read before */
				walk[i].r = r;
				x = r->ar.end > r->ar.start ?
					    damon_prng_next(&rnd) :
					    0;
				r->sampling_addr =
					sim_rand_region(x, &walk[i], r);
			}
			ctx->rnd_state = rnd;
			st->nr_walk = i;
			if (r) {
				/* finish the walk the plain way */
				st->nr_walk = 0;
				damon_for_each_region_from(r, t)
					r->sampling_addr = damon_rand_inline(
						ctx, r->ar.start, r->ar.end);
			}
		} else {
			st->nr_walk = 0;
			damon_for_each_region(r, t)
				r->sampling_addr = damon_rand_inline(
					ctx, r->ar.start, r->ar.end);
		}
		st->prep_ns = now;
		st->prepared = true;
	}
}

static int sim_grow_accessed(struct sim_target *st, struct damon_target *t);

/*
 * damon_account_sample()'s drop for each last_nr_accesses below
 * SIM_DROPS, for a window of @len_window samples: computed once per
 * window rather than divided out per region and sample.
 */
static const unsigned int *sim_drops(struct sim_target *st,
				     unsigned int len_window)
{
	unsigned int k;

	if (st->drop_window != len_window) {
		for (k = 0; k < SIM_DROPS; k++)
			st->drop[k] = k * 10000 / len_window;
		st->drop_window = len_window;
	}
	return st->drop;
}

/* The drop for @last from the table @drops (NULL: none) or computed. */
static inline unsigned int sim_drop(const unsigned int *drops,
				    unsigned int last, unsigned int len_window)
{
	return drops && last < SIM_DROPS ? drops[last] :
					   last * 10000 / len_window;
}

/*
 * sim_check_target_fast()'s state for the workload region it is in:
 * addresses [@ilo, @ihi) are the interior pages of region @ri when its
 * fast-path entry is ready (an empty range otherwise), whose checks are
 * @verdict, or a draw against @below.
 */
struct sim_fast_cursor {
	unsigned int ri;
	unsigned long lo, hi; /* the region */
	unsigned long ilo, ihi;
	int verdict;
	uint64_t below;
};

/*
 * The check of the page at @addr, outside @c's interior range: moves @c to
 * @addr's region and readies its entry, then does what sim_sample() does
 * with nothing paged out.  @rnd: the PRNG state, kept out of @ctx.
 */
static __attribute__((noinline)) bool
sim_check_fast_miss(struct damon_ctx *ctx, struct sim_target *st,
		    struct sim_fast_cursor *c, unsigned long addr,
		    unsigned int ph, uint64_t a, uint64_t b, uint64_t *rnd)
{
	const struct sim_workload *wl = st->wl;
	const struct sim_fast *f;
	unsigned long long pg;
	bool accessed;

	if (addr - c->lo >= c->hi - c->lo) {
		int k = sim_region_of(wl, addr);

		if (k < 0)
			return false; /* a guard page */
		c->ri = (unsigned int)k;
		c->lo = wl->vmas[k].start;
		c->hi = wl->vmas[k].end;
		/* no PRNG: the same stream whether it runs here or not */
		f = sim_fast_entry(st, c->ri, ph, b - a);
		c->ilo = c->ihi = 0;
		if (f && wl->npages[k] > 2) {
			c->ilo = c->lo + SIM_PAGE;
			c->ihi = c->lo + (wl->npages[k] - 1) * SIM_PAGE;
			c->verdict = f->verdict;
			c->below = f->below;
		}
		if (addr - c->ilo < c->ihi - c->ilo)
			goto fast;
	}
	/* the first or last page, or pages without one rate */
	pg = (addr - c->lo) / SIM_PAGE;
	ctx->rnd_state = *rnd;
	accessed = sim_sample_access_slow(ctx, st, c->ri, pg, a, b);
	*rnd = ctx->rnd_state;
	return accessed;
fast:
	if (c->verdict)
		return c->verdict > 0;
	return (damon_prng_next(rnd) & 0xffffffffULL) < c->below;
}

/*
 * sim_check_accesses() of target @t over workload time [@a, @b) when
 * nothing is paged out and [@a, @b) lies in one phase: the loop of
 * sim_sample() with the fast path of sim_sample_access() in registers.
 * Returns false, having done nothing, where it does not apply.
 */
static bool sim_check_target_fast(struct damon_ctx *ctx, struct damon_target *t,
				  struct sim_target *st, uint64_t a, uint64_t b,
				  unsigned int len_window, bool keep,
				  unsigned int *max_nr_accesses)
{
	struct sim_fast_cursor c = { 0 };
	const unsigned int *drops;
	unsigned int ph, i = 0, j = 0, max = *max_nr_accesses;
	const struct sim_walk *walk;
	unsigned int nr_walk;
	struct damon_region *r;
	bool *acc;
	uint64_t rnd;

	if (!st->prepared || st->nr_outs || !st->wl->nr_regions ||
	    !sim_fast_interval(st, a, b, &ph))
		return false;
	drops = sim_drops(st, len_window);
	walk = st->walk;
	nr_walk = st->nr_walk;
	acc = keep && st->accessed_valid ? st->accessed : NULL;
	rnd = ctx->rnd_state;
	for (r = sim_walk_first(t); r;
	     r = sim_walk_next(walk, nr_walk, t, r, j++)) {
		unsigned long addr = r->sampling_addr;
		bool accessed;

		if (__builtin_expect(addr - c.ilo < c.ihi - c.ilo, 1)) {
			if (c.verdict)
				accessed = c.verdict > 0;
			else
				accessed = (damon_prng_next(&rnd) &
					    0xffffffffULL) < c.below;
		} else {
			accessed = sim_check_fast_miss(ctx, st, &c, addr, ph, a,
						       b, &rnd);
		}
		if (acc)
			acc[i++] = accessed;
		damon_account_sample_drop(r, accessed,
					  sim_drop(drops, r->last_nr_accesses,
						   len_window));
		if (r->nr_accesses > max)
			max = r->nr_accesses;
	}
	ctx->rnd_state = rnd;
	st->prepared = false;
	*max_nr_accesses = max;
	return true;
}

static unsigned int sim_check_accesses(struct damon_ctx *ctx)
{
	uint64_t now = damon_now_ns(ctx);
	unsigned int max_nr_accesses = 0;
	unsigned int len_window = damon_access_window(&ctx->attrs);
	struct damon_target *t;
	struct damon_region *r;

	bool keep =
		damon_probe_uses_filter(ctx, DAMON_FILTER_TYPE_PGIDLE_UNSET);

	damon_for_each_target(t, ctx) {
		struct sim_target *st = t->ops_priv;
		uint64_t a = 0, b = 0;
		const struct sim_walk *walk = st ? st->walk : NULL;
		unsigned int nr_walk = st ? st->nr_walk : 0;
		unsigned int i = 0, j = 0, hint = 0;
		const unsigned int *drops;

		if (st && st->prepared) {
			a = sim_wtime(st, st->prep_ns);
			b = sim_wtime(st, now);
		}
		if (st && keep)
			st->accessed_valid = !sim_grow_accessed(st, t);
		if (st && sim_check_target_fast(ctx, t, st, a, b, len_window,
						keep, &max_nr_accesses))
			continue;
		drops = st ? sim_drops(st, len_window) : NULL;
		for (r = sim_walk_first(t); r;
		     r = sim_walk_next(walk, nr_walk, t, r, j++)) {
			bool accessed;

			accessed = st && st->prepared &&
				   sim_sample(ctx, st, r->sampling_addr, a, b,
					      &hint);

			if (st && keep && st->accessed_valid)
				st->accessed[i++] = accessed;
			damon_account_sample_drop(r, accessed,
						  sim_drop(drops,
							   r->last_nr_accesses,
							   len_window));
			if (r->nr_accesses > max_nr_accesses)
				max_nr_accesses = r->nr_accesses;
		}
		if (st)
			st->prepared = false;
	}
	return max_nr_accesses;
}

/* ---- probes ---- */

/* Make room for one check result per region of @t. */
static int sim_grow_accessed(struct sim_target *st, struct damon_target *t)
{
	unsigned int n = damon_nr_regions(t);
	bool *a;

	if (n <= st->nr_accessed)
		return 0;
	a = udamon__realloc(st->accessed, n * sizeof(*a));
	if (!a)
		return -ENOMEM;
	st->accessed = a;
	st->nr_accessed = n;
	return 0;
}

/* Pick every region's sampling address, as prepare_access_checks does. */
static void sim_set_sampling_addrs(struct damon_ctx *ctx,
				   struct damon_target *t,
				   struct sim_target *st)
{
	struct damon_region *r;

	if (st->refit || !damon_nr_regions(t))
		sim_fit_regions(ctx, t, st->wl);
	st->refit = false;
	damon_for_each_region(r, t)
		r->sampling_addr =
			damon_rand_inline(ctx, r->ar.start, r->ar.end);
}

static void sim_prep_probes(struct damon_ctx *ctx, bool set_sampling_addr)
{
	uint64_t now = damon_now_ns(ctx);
	struct damon_target *t;

	damon_for_each_target(t, ctx) {
		struct sim_target *st = sim_target_of(ctx, t);

		if (!st)
			continue;
		if (set_sampling_addr)
			sim_set_sampling_addrs(ctx, t, st);
		/* set_pgidle is the only prep action */
		st->pgidle_ns = now;
		st->pgidle_marked = true;
		st->accessed_valid = false;
	}
}

static unsigned int sim_apply_probes(struct damon_ctx *ctx,
				     bool set_sampling_addr,
				     bool return_max_wsum)
{
	bool need_idle =
		damon_probe_uses_filter(ctx, DAMON_FILTER_TYPE_PGIDLE_UNSET);
	uint64_t now = damon_now_ns(ctx);
	unsigned int max_wsum = 0;
	struct damon_target *t;
	struct damon_region *r;

	damon_for_each_target(t, ctx) {
		struct sim_target *st = sim_target_of(ctx, t);
		unsigned int i = 0, hint = 0;

		if (!st)
			continue;
		if (set_sampling_addr)
			sim_set_sampling_addrs(ctx, t, st);
		damon_for_each_region(r, t) {
			const struct sim_workload *wl = st->wl;
			int ri = sim_region_of(wl, r->sampling_addr);
			struct damon_page_attrs pa = { .pgidle_unset = true };
			unsigned int wsum;
			bool cached = st->accessed_valid && i < st->nr_accessed;

			i++;
			if (ri < 0) {
				/* a guard page: nothing to hit */
				wsum = damon_probe_hits_wsum(ctx, r, false,
							     false);
				goto next;
			}
			pa.anon = !wl->cfg->regions[ri].init_file;
			pa.memcg_id = 0;
			if (need_idle && st->pgidle_marked) {
				if (cached)
					pa.pgidle_unset = st->accessed[i - 1];
				else
					pa.pgidle_unset = sim_sample(
						ctx, st, r->sampling_addr,
						sim_wtime(st, st->pgidle_ns),
						sim_wtime(st, now), &hint);
			}
			wsum = damon_probe_account(ctx, r, &pa);
next:
			if (wsum > max_wsum)
				max_wsum = wsum;
		}
		st->pgidle_marked = false;
		st->accessed_valid = false;
	}
	return return_max_wsum ? max_wsum : 0;
}

static bool sim_target_valid(struct damon_target *t)
{
	/* A target without a model gets one at its next sample. */
	return true;
}

static void sim_cleanup_target(struct damon_target *t)
{
	sim_target_free(t->ops_priv);
	t->ops_priv = NULL;
}

static int sim_get_scheme_score(struct damon_ctx *ctx, struct damon_target *t,
				struct damon_region *r, struct damos *s)
{
	return damon_ops_scheme_score(ctx, r, s);
}

/*
 * Filters look at pages in at most this many chunks of a region's span,
 * each page of a chunk taken at the chunk's mean rate: the cost of an
 * apply follows regions, not their size.  Spans of fewer pages are seen
 * page by page.
 */
#define SIM_CHUNKS 64ULL

/* Pages out among [@lo, @hi) of region @ri, ranges cut at both ends. */
static unsigned long long sim_outs_in(const struct sim_target *st,
				      unsigned int ri, unsigned long long lo,
				      unsigned long long hi, size_t *first,
				      size_t *nr)
{
	size_t i = sim_outs_find(st, ri, lo);
	unsigned long long out = 0;

	*first = i;
	for (; i < st->nr_outs && st->outs[i].ri == ri && st->outs[i].lo < hi;
	     i++)
		out += st->outs[i].nr_out;
	*nr = i - *first;
	return out;
}

/* Properties of the resident pages of a chunk at mean page rate @rate. */
static void sim_chunk_props(struct damon_ctx *ctx, double rate,
			    struct sim_page_props *pp)
{
	pp->resident = true;
	pp->young = rate * (double)ctx->attrs.sample_interval / 1e6 >= SIM_LN2;
	pp->active = rate * (double)ctx->attrs.aggr_interval / 1e6 >= SIM_LN2;
}

/*
 * Apply @s to pages [@lo, @hi) of region @ri (bytes [@blo, @bhi) of them
 * in @r) at workload time @now, phase @ph.
 */
static int sim_apply_chunk(struct damon_ctx *ctx, struct sim_target *st,
			   struct damos *s, bool has_filters, unsigned int ri,
			   unsigned long long lo, unsigned long long hi,
			   unsigned long bytes, unsigned int ph, uint64_t now,
			   unsigned long *passed, unsigned long *applied)
{
	static const struct sim_page_props gone = { 0 };
	unsigned long long n = hi - lo, out;
	unsigned long res_bytes, out_bytes;
	struct sim_page_props pp;
	bool pass_res = true, pass_out = true;
	size_t first, nr;

	if (sim_outs_cut(st, ri, lo) || sim_outs_cut(st, ri, hi))
		return -ENOMEM;
	out = sim_outs_in(st, ri, lo, hi, &first, &nr);
	out_bytes = (unsigned long)((double)bytes * (double)out / (double)n);
	res_bytes = bytes - out_bytes;
	if (has_filters) {
		sim_chunk_props(
			ctx, sim_range_rate(st->wl, ph, ri, lo, hi) / (double)n,
			&pp);
		pass_res = sim_filters_pass(s, &pp);
		pass_out = sim_filters_pass(s, &gone);
	}
	*passed += (pass_res ? res_bytes : 0) + (pass_out ? out_bytes : 0);
	if (s->action == DAMOS_PAGEOUT && pass_res && out < n) {
		struct sim_out o = { .ri = ri,
				     .lo = lo,
				     .hi = hi,
				     .nr_out = n,
				     .since_ns = now };

		sim_outs_remove(st, first, nr);
		if (sim_outs_reserve(st, 1)) {
			/* the removed ranges' pages are back: no stall */
			st->nr_out -= out;
			return -ENOMEM;
		}
		sim_outs_insert(st, first, &o);
		st->nr_out += n - out;
		*applied += res_bytes;
	} else if (s->action == DAMOS_WILLNEED && pass_out && out) {
		/* Read back in ahead of use: no stall. */
		sim_outs_remove(st, first, nr);
		st->nr_out -= out;
	}
	return 0;
}

static unsigned long sim_apply_scheme(struct damon_ctx *ctx,
				      struct damon_target *t,
				      struct damon_region *r, struct damos *s,
				      unsigned long *sz_filter_passed)
{
	bool has_filters = s->ops_filters.next != &s->ops_filters;
	unsigned long applied = 0, passed = 0;
	struct sim_target *st = sim_target_of(ctx, t);
	const struct sim_workload *wl;
	uint64_t now;
	unsigned int ph, ri;

	*sz_filter_passed = 0;
	if (!st)
		return 0;
	/* Without filters, only pageout and willneed change the model. */
	if (!has_filters && s->action != DAMOS_PAGEOUT &&
	    s->action != DAMOS_WILLNEED)
		return s->action == DAMOS_STAT ? 0 : damon_sz_region(r);
	wl = st->wl;
	now = sim_wtime(st, damon_now_ns(ctx));
	ph = sim_phase_at(wl, now);
	sim_sync(ctx, st, now);

	for (ri = 0; ri < wl->nr_regions; ri++) {
		unsigned long start = wl->vmas[ri].start;
		unsigned long long pg_lo, pg_hi, n, c, nr_chunks;
		unsigned long lo, hi;

		lo = r->ar.start > start ? r->ar.start : start;
		hi = r->ar.end < wl->vmas[ri].end ? r->ar.end :
						    wl->vmas[ri].end;
		if (lo >= hi)
			continue;
		pg_lo = (lo - start) / SIM_PAGE;
		pg_hi = (hi - start + SIM_PAGE - 1) / SIM_PAGE;
		n = pg_hi - pg_lo;
		nr_chunks = has_filters ? (n < SIM_CHUNKS ? n : SIM_CHUNKS) : 1;
		for (c = 0; c < nr_chunks; c++) {
			unsigned long long clo = pg_lo + n * c / nr_chunks;
			unsigned long long chi =
				pg_lo + n * (c + 1) / nr_chunks;
			unsigned long blo = start + clo * SIM_PAGE;
			unsigned long bhi = start + chi * SIM_PAGE;

			if (blo < lo)
				blo = lo;
			if (bhi > hi)
				bhi = hi;
			if (sim_apply_chunk(ctx, st, s, has_filters, ri, clo,
					    chi, bhi - blo, ph, now, &passed,
					    &applied))
				goto out;
		}
	}
out:
	sim_outs_tidy(st);
	if (has_filters)
		*sz_filter_passed = passed;
	switch (s->action) {
	case DAMOS_STAT:
		return 0;
	case DAMOS_PAGEOUT:
		return applied;
	default:
		/* madvise-like actions succeed on the whole range. */
		return has_filters ? passed : damon_sz_region(r);
	}
}

/* Bytes resident and bytes active over all targets, synced to now. */
static void sim_mem_usage(struct damon_ctx *ctx, unsigned long *total,
			  unsigned long *used, unsigned long *active)
{
	struct damon_target *t;
	unsigned long nr_targets = 0;

	*used = 0;
	if (active)
		*active = 0;
	damon_for_each_target(t, ctx) {
		struct sim_target *st = sim_target_of(ctx, t);
		const struct sim_workload *wl;
		uint64_t now;
		unsigned int ph, ri;

		if (!st)
			continue;
		wl = st->wl;
		nr_targets++;
		now = sim_wtime(st, damon_now_ns(ctx));
		sim_sync(ctx, st, now);
		*used += wl->total_bytes - st->nr_out * SIM_PAGE;
		if (!active)
			continue;
		ph = sim_phase_at(wl, now);
		for (ri = 0; ri < wl->nr_regions; ri++) {
			unsigned long long n = wl->npages[ri], c, nr_chunks;

			nr_chunks = n < SIM_CHUNKS ? n : SIM_CHUNKS;
			for (c = 0; c < nr_chunks; c++) {
				unsigned long long lo = n * c / nr_chunks;
				unsigned long long hi = n * (c + 1) / nr_chunks;
				unsigned long long out = 0;
				size_t i = sim_outs_find(st, ri, lo);
				struct sim_page_props pp;

				/* ranges partly inside count in proportion */
				for (;
				     i < st->nr_outs && st->outs[i].ri == ri &&
				     st->outs[i].lo < hi;
				     i++) {
					const struct sim_out *o = &st->outs[i];
					unsigned long long a =
						o->lo > lo ? o->lo : lo;
					unsigned long long b =
						o->hi < hi ? o->hi : hi;

					out += o->nr_out * (b - a) /
					       (o->hi - o->lo);
				}
				sim_chunk_props(ctx,
						sim_range_rate(wl, ph, ri, lo,
							       hi) /
							(double)(hi - lo),
						&pp);
				if (pp.active && out < hi - lo)
					*active += (hi - lo - out) * SIM_PAGE;
			}
		}
	}
	*total = SIM_NODE_EXTRA;
	if (ctx->ops_priv)
		*total += ((struct sim_workload *)ctx->ops_priv)->total_bytes *
			  (nr_targets ? nr_targets : 1);
	if (*used > *total)
		*used = *total;
}

static int sim_get_goal_metric(struct damon_ctx *ctx,
			       const struct damos_quota_goal *goal,
			       unsigned long *value)
{
	unsigned long total, used, active;
	struct damon_target *t;
	unsigned long psi = 0;

	switch (goal->metric) {
	case DAMOS_QUOTA_NODE_MEM_USED_BP:
	case DAMOS_QUOTA_NODE_MEM_FREE_BP:
		/* One node, 0; others are invalid: 0 used, all free. */
		if (goal->nid != 0) {
			*value = goal->metric == DAMOS_QUOTA_NODE_MEM_USED_BP ?
					 0 :
					 10000;
			return 0;
		}
		sim_mem_usage(ctx, &total, &used, NULL);
		if (goal->metric == DAMOS_QUOTA_NODE_MEM_FREE_BP)
			used = total - used;
		*value = used * 10000 / total;
		return 0;
	case DAMOS_QUOTA_NODE_MEMCG_USED_BP:
		*value = 0; /* no memcgs in the model */
		return 0;
	case DAMOS_QUOTA_NODE_MEMCG_FREE_BP:
		*value = 10000;
		return 0;
	case DAMOS_QUOTA_ACTIVE_MEM_BP:
	case DAMOS_QUOTA_INACTIVE_MEM_BP:
		sim_mem_usage(ctx, &total, &used, &active);
		if (goal->metric == DAMOS_QUOTA_INACTIVE_MEM_BP)
			active = used - active;
		*value = active * 10000 / (used ? used : 1);
		return 0;
	case DAMOS_QUOTA_SOME_MEM_PSI_US:
		/* The cumulative total; the core takes differences. */
		sim_mem_usage(ctx, &total, &used, NULL);
		damon_for_each_target(t, ctx) {
			struct sim_target *st = t->ops_priv;

			if (st)
				psi += st->refaults *
				       DAMON_SIM_REFAULT_STALL_US;
		}
		*value = psi;
		return 0;
	case DAMOS_QUOTA_HUGEPAGE_MEM_BP:
		/* No huge pages modelled; nothing used counts as all. */
		sim_mem_usage(ctx, &total, &used, NULL);
		*value = used ? 0 : 10000;
		return 0;
	default:
		return -EINVAL;
	}
}

static int sim_get_wmark_metric(struct damon_ctx *ctx,
				enum damos_wmark_metric metric,
				unsigned long *value)
{
	unsigned long total, used;

	if (metric != DAMOS_WMARK_FREE_MEM_RATE)
		return -EINVAL;
	sim_mem_usage(ctx, &total, &used, NULL);
	*value = (total - used) * 1000 / total;
	return 0;
}

static int sim_commit_priv(struct damon_ctx *dst, struct damon_ctx *src)
{
	/* A source without a workload keeps the destination's. */
	if (!src->ops_priv || src->ops_priv == dst->ops_priv)
		return 0;
	sim_workload_get(src->ops_priv);
	sim_workload_put(dst->ops_priv);
	dst->ops_priv = src->ops_priv;
	return 0;
}

static void sim_free_priv(struct damon_ctx *ctx)
{
	sim_workload_put(ctx->ops_priv);
	ctx->ops_priv = NULL;
}

/* ---- checkpoint (damon_checkpoint_save/restore) ---- */

#define SIM_CKPT_MAGIC 0x31544b432d4d4953ULL /* "SIM-CKT1" */
#define SIM_CKPT_HDR_WORDS 14
#define SIM_CKPT_OUT_WORDS 5

/*
 * A target's model as 64-bit words: a magic, the workload's fingerprint
 * (so a restore onto another workload is refused), the times, the
 * paged-out ranges and the last check's results (for pgidle_unset probes).
 */
static int sim_save_state(struct damon_ctx *ctx, struct damon_target *t,
			  void **bufp, size_t *lenp)
{
	struct sim_target *st = sim_target_of(ctx, t);
	uint64_t *w;
	size_t n, i, k = 0;

	*bufp = NULL;
	*lenp = 0;
	if (!st)
		return ctx->ops_priv ? -ENOMEM : 0;
	n = SIM_CKPT_HDR_WORDS + st->nr_outs * SIM_CKPT_OUT_WORDS +
	    st->nr_accessed;
	w = udamon__calloc(n, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w[k++] = SIM_CKPT_MAGIC;
	w[k++] = st->wl->nr_regions;
	w[k++] = st->wl->nr_phases;
	w[k++] = st->wl->cycle_ns;
	w[k++] = st->wl->total_bytes;
	w[k++] = st->t0_ns;
	w[k++] = st->prep_ns;
	w[k++] = st->prepared;
	w[k++] = st->pgidle_ns;
	w[k++] = st->pgidle_marked;
	w[k++] = st->refaults;
	w[k++] = st->nr_outs;
	w[k++] = st->accessed_valid;
	w[k++] = st->nr_accessed;
	for (i = 0; i < st->nr_outs; i++) {
		w[k++] = st->outs[i].ri;
		w[k++] = st->outs[i].lo;
		w[k++] = st->outs[i].hi;
		w[k++] = st->outs[i].nr_out;
		w[k++] = st->outs[i].since_ns;
	}
	for (i = 0; i < st->nr_accessed; i++)
		w[k++] = st->accessed[i];
	for (i = 0; i < n; i++)
		w[i] = htole64(w[i]);
	*bufp = w;
	*lenp = n * sizeof(*w);
	return 0;
}

static uint64_t sim_ckpt_word(const void *buf, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)buf + i * 8, 8);
	return le64toh(v);
}

static uint64_t sim_ckpt_shift(uint64_t t, int64_t shift)
{
	int64_t v = (int64_t)t + shift;

	return v > 0 ? (uint64_t)v : 0;
}

static int sim_restore_state(struct damon_ctx *ctx, struct damon_target *t,
			     const void *buf, size_t len, int64_t shift,
			     bool dry_run, char *why, size_t why_len)
{
	struct sim_workload *wl = ctx->ops_priv;
	struct sim_target *st, *old;
	size_t nr_outs, nr_accessed, i, k, words = len / 8;
	unsigned long nr_out = 0;

	if (!len) {
		snprintf(why, why_len, "the checkpoint has no sim model");
		return -EINVAL;
	}
	if (!wl) {
		snprintf(why, why_len, "the context has no sim workload");
		return -EINVAL;
	}
	if (len % 8 || words < SIM_CKPT_HDR_WORDS ||
	    sim_ckpt_word(buf, 0) != SIM_CKPT_MAGIC) {
		snprintf(why, why_len, "malformed sim model");
		return -EINVAL;
	}
	if (sim_ckpt_word(buf, 1) != wl->nr_regions ||
	    sim_ckpt_word(buf, 2) != wl->nr_phases ||
	    sim_ckpt_word(buf, 3) != wl->cycle_ns ||
	    sim_ckpt_word(buf, 4) != wl->total_bytes) {
		snprintf(why, why_len,
			 "the checkpoint's sim workload differs from the "
			 "context's (%llu regions, %llu phases, %llu bytes "
			 "saved; %u, %u, %lu here)",
			 (unsigned long long)sim_ckpt_word(buf, 1),
			 (unsigned long long)sim_ckpt_word(buf, 2),
			 (unsigned long long)sim_ckpt_word(buf, 4),
			 wl->nr_regions, wl->nr_phases, wl->total_bytes);
		return -EINVAL;
	}
	nr_outs = sim_ckpt_word(buf, 11);
	nr_accessed = sim_ckpt_word(buf, 13);
	if (nr_outs > words || nr_accessed > words ||
	    words != SIM_CKPT_HDR_WORDS + nr_outs * SIM_CKPT_OUT_WORDS +
			     nr_accessed) {
		snprintf(why, why_len, "malformed sim model (sizes)");
		return -EINVAL;
	}
	for (i = 0; i < nr_outs; i++) {
		k = SIM_CKPT_HDR_WORDS + i * SIM_CKPT_OUT_WORDS;
		if (sim_ckpt_word(buf, k) >= wl->nr_regions ||
		    sim_ckpt_word(buf, k + 1) >= sim_ckpt_word(buf, k + 2) ||
		    sim_ckpt_word(buf, k + 2) >
			    wl->npages[sim_ckpt_word(buf, k)] ||
		    sim_ckpt_word(buf, k + 3) >
			    sim_ckpt_word(buf, k + 2) -
				    sim_ckpt_word(buf, k + 1)) {
			snprintf(why, why_len,
				 "malformed sim model (paged-out range %zu)",
				 i);
			return -EINVAL;
		}
		nr_out += sim_ckpt_word(buf, k + 3);
	}
	if (dry_run)
		return 0;

	st = udamon__calloc(1, sizeof(*st));
	if (!st)
		goto nomem;
	st->outs = udamon__calloc(nr_outs ? nr_outs : 1, sizeof(*st->outs));
	st->accessed = nr_accessed ? udamon__calloc(nr_accessed,
						    sizeof(*st->accessed)) :
				     NULL;
	if (!st->outs || (nr_accessed && !st->accessed)) {
		free(st->outs);
		free(st->accessed);
		free(st);
		goto nomem;
	}
	sim_workload_get(wl);
	st->wl = wl;
	st->t0_ns = sim_ckpt_shift(sim_ckpt_word(buf, 5), shift);
	st->prep_ns = sim_ckpt_shift(sim_ckpt_word(buf, 6), shift);
	st->prepared = sim_ckpt_word(buf, 7);
	st->pgidle_ns = sim_ckpt_shift(sim_ckpt_word(buf, 8), shift);
	st->pgidle_marked = sim_ckpt_word(buf, 9);
	st->refaults = sim_ckpt_word(buf, 10);
	st->nr_outs = st->cap_outs = nr_outs;
	st->accessed_valid = sim_ckpt_word(buf, 12);
	st->nr_accessed = (unsigned int)nr_accessed;
	st->nr_out = nr_out;
	st->wss_phase = -1;
	for (i = 0; i < nr_outs; i++) {
		k = SIM_CKPT_HDR_WORDS + i * SIM_CKPT_OUT_WORDS;
		st->outs[i].ri = (unsigned int)sim_ckpt_word(buf, k);
		st->outs[i].lo = sim_ckpt_word(buf, k + 1);
		st->outs[i].hi = sim_ckpt_word(buf, k + 2);
		st->outs[i].nr_out = sim_ckpt_word(buf, k + 3);
		/* Workload time, relative to t0: not moved by the shift. */
		st->outs[i].since_ns = sim_ckpt_word(buf, k + 4);
	}
	k = SIM_CKPT_HDR_WORDS + nr_outs * SIM_CKPT_OUT_WORDS;
	for (i = 0; i < nr_accessed; i++)
		st->accessed[i] = sim_ckpt_word(buf, k + i);
	old = t->ops_priv;
	t->ops_priv = st;
	sim_target_free(old);
	return 0;
nomem:
	snprintf(why, why_len, "out of memory");
	return -ENOMEM;
}

static struct damon_operations sim_ops = {
	.id = DAMON_OPS_SIM,
	.init = sim_init,
	.prepare_access_checks = sim_prepare_access_checks,
	.check_accesses = sim_check_accesses,
	.get_scheme_score = sim_get_scheme_score,
	.apply_scheme = sim_apply_scheme,
	.target_valid = sim_target_valid,
	.cleanup_target = sim_cleanup_target,
	.get_goal_metric = sim_get_goal_metric,
	.get_wmark_metric = sim_get_wmark_metric,
	.commit_priv = sim_commit_priv,
	.free_priv = sim_free_priv,
	.prep_probes = sim_prep_probes,
	.apply_probes = sim_apply_probes,
	.save_state = sim_save_state,
	.restore_state = sim_restore_state,
};

/* ---- 5. the public API ---- */

int damon_sim_register(void)
{
	int err;

	if (damon_is_registered_ops(DAMON_OPS_SIM))
		return 0;
	err = damon_register_ops(&sim_ops);
	/* Lost a race with another caller: registered all the same. */
	if (err == -EINVAL && damon_is_registered_ops(DAMON_OPS_SIM))
		return 0;
	return err;
}

__attribute__((constructor)) static void sim_register_at_load(void)
{
	damon_sim_register();
}

/* Make @ctx's operations set sim, to take a new workload. */
static int sim_select(struct damon_ctx *ctx, char *errbuf, size_t errlen)
{
	int err;

	if (ctx->ops.free_priv == sim_free_priv)
		return 0;
	if (ctx->ops_priv) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen,
				 "the context's operations set holds "
				 "private data; cannot switch to sim");
		return -EBUSY;
	}
	err = damon_sim_register();
	if (!err)
		err = damon_select_ops(ctx, DAMON_OPS_SIM);
	return err;
}

static struct sim_workload *sim_ctx_workload(struct damon_ctx *ctx);

static int sim_attach_replay(struct damon_ctx *ctx, struct sim_replay *rp,
			     char *errbuf, size_t errlen)
{
	struct sim_workload *wl = NULL;
	int err;

	err = sim_select(ctx, errbuf, errlen);
	if (!err)
		err = sim_workload_from_replay(rp, &wl);
	if (err == -ENODATA || err == -E2BIG) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: %s", rp->name,
				 err == -ENODATA ?
					 "no region in any snapshot" :
					 "too many separate address ranges");
		err = -EINVAL;
	} else if (err == -ENOMEM && errbuf && errlen) {
		snprintf(errbuf, errlen, "%s: out of memory", rp->name);
	}
	udamon__replay_free(rp);
	if (err)
		return err;
	sim_workload_put(ctx->ops_priv);
	ctx->ops_priv = wl;
	return 0;
}

static int sim_attach(struct damon_ctx *ctx, struct damon_masim_config *cfg,
		      char *errbuf, size_t errlen)
{
	struct sim_workload *wl = NULL;
	int err;

	if (ctx->ops.free_priv != sim_free_priv) {
		if (ctx->ops_priv) {
			damon_masim_free(cfg);
			if (errbuf && errlen)
				snprintf(errbuf, errlen,
					 "the context's operations set holds "
					 "private data; cannot switch to sim");
			return -EBUSY;
		}
		err = damon_sim_register();
		if (!err)
			err = damon_select_ops(ctx, DAMON_OPS_SIM);
		if (err) {
			damon_masim_free(cfg);
			return err;
		}
	}
	err = sim_workload_new(cfg, &wl, errbuf, errlen);
	if (err) {
		damon_masim_free(cfg);
		return err;
	}
	sim_workload_put(ctx->ops_priv);
	ctx->ops_priv = wl;
	return 0;
}

int damon_sim_set_workload(struct damon_ctx *ctx, const char *path,
			   char *errbuf, size_t errlen)
{
	char *buf;
	size_t len;
	int err;

	if (!ctx || !path)
		return -EINVAL;
	err = udamon__read_file(path, DAMON_SIM_MAX_WORKLOAD_SIZE, &buf, &len,
				errbuf, errlen);
	if (err)
		return err;
	err = damon_sim_set_workload_buf(ctx, buf, len, path, errbuf, errlen);
	free(buf);
	return err;
}

int damon_sim_set_workload_buf(struct damon_ctx *ctx, const char *buf,
			       size_t len, const char *name, char *errbuf,
			       size_t errlen)
{
	struct damon_masim_config *cfg;
	struct sim_replay *rp;
	int err;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!ctx || (!buf && len))
		return -EINVAL;
	/* Records, traces and damo records say what they are; else masim. */
	if (udamon__replay_sniff(buf, len)) {
		err = udamon__replay_parse_buf(buf, len, name, &rp, errbuf,
					       errlen);
		if (err)
			return err;
		return sim_attach_replay(ctx, rp, errbuf, errlen);
	}
	if (len > DAMON_MASIM_MAX_FILE_SIZE) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen,
				 "%s: a masim config larger than %lu bytes",
				 name ? name : "(config)",
				 DAMON_MASIM_MAX_FILE_SIZE);
		return -EFBIG;
	}
	err = damon_masim_parse_buf(buf, len, name, DAMON_MASIM_RW_WO, &cfg,
				    errbuf, errlen);
	if (err)
		return err;
	return sim_attach(ctx, cfg, errbuf, errlen);
}

int damon_sim_workload_info(struct damon_ctx *ctx,
			    struct damon_sim_workload_info *info)
{
	struct sim_workload *wl = sim_ctx_workload(ctx);

	if (!wl || !info)
		return -EINVAL;
	info->kind = wl->exact ? "trace" : wl->replay ? "replay" : "masim";
	info->cycle_ns = wl->cycle_ns;
	info->nr_regions = wl->nr_regions;
	info->nr_phases = wl->nr_phases;
	info->total_bytes = wl->total_bytes;
	return 0;
}

static struct sim_workload *sim_ctx_workload(struct damon_ctx *ctx)
{
	if (!ctx || ctx->ops.free_priv != sim_free_priv)
		return NULL;
	return ctx->ops_priv;
}

int damon_sim_workload_region(struct damon_ctx *ctx, unsigned int idx,
			      struct damon_addr_range *range, const char **name)
{
	struct sim_workload *wl = sim_ctx_workload(ctx);

	if (!wl)
		return -EINVAL;
	if (idx >= wl->nr_regions)
		return -ENOENT;
	if (range)
		*range = wl->vmas[idx];
	if (name)
		*name = wl->cfg->regions[idx].name;
	return 0;
}

/* The model of @t for a ground-truth query, synced to now. */
static struct sim_target *sim_query(struct damon_ctx *ctx,
				    struct damon_target *t, uint64_t *now)
{
	struct sim_target *st;

	if (!sim_ctx_workload(ctx) || !t)
		return NULL;
	st = sim_target_of(ctx, t);
	if (!st)
		return NULL;
	*now = sim_wtime(st, damon_now_ns(ctx));
	sim_sync(ctx, st, *now);
	return st;
}

int damon_sim_phase_idx(struct damon_ctx *ctx, struct damon_target *t)
{
	struct sim_target *st;
	uint64_t now;

	st = sim_query(ctx, t, &now);
	if (!st)
		return -EINVAL;
	return (int)sim_phase_at(st->wl, now);
}

const char *damon_sim_phase_name(struct damon_ctx *ctx, struct damon_target *t)
{
	int idx = damon_sim_phase_idx(ctx, t);
	struct sim_target *st;

	if (idx < 0)
		return NULL;
	st = t->ops_priv;
	return st->wl->cfg->phases[idx].name;
}

static unsigned long long sim_gcd(unsigned long long a, unsigned long long b)
{
	while (b) {
		unsigned long long t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * Pages after a region's first one see the same pattern rates every
 * @period pages: a sequential pattern of stride s repeats its offsets-per-
 * page every s / gcd(s, page) pages, random patterns and stride 0 (page 0
 * only) do not vary.  0 when the period is too long to be worth it.
 */
#define SIM_MAX_PERIOD 4096ULL

static unsigned long long sim_rate_period(const struct sim_workload *wl,
					  unsigned int ph, unsigned int ri)
{
	const struct sim_phase *p = &wl->phases[ph];
	unsigned long long period = 1;
	unsigned int i;

	for (i = p->first[ri]; i < p->first[ri + 1]; i++) {
		unsigned long long s = p->pats[i].stride, q;

		if (p->pats[i].random || !s)
			continue;
		q = s / sim_gcd(s, SIM_PAGE);
		period = period / sim_gcd(period, q) * q;
		if (period > SIM_MAX_PERIOD)
			return 0;
	}
	return period;
}

/*
 * Pages among [@lo, @hi) of region @ri that phase @ph accesses within
 * @window_s seconds with even odds or better: the ground truth's working
 * set.  Page by page over one
 * period, then by whole periods, so a 64 GiB region costs what 4 KiB do;
 * the first and the last (maybe partial) page are counted one by one.
 */
static unsigned long long sim_count_hot(const struct sim_workload *wl,
					unsigned int ph, unsigned int ri,
					unsigned long long lo,
					unsigned long long hi, double window_s)
{
	unsigned long long period = sim_rate_period(wl, ph, ri);
	unsigned long long n = wl->npages[ri], mid_lo, mid_hi, pg, cnt = 0;
	unsigned long long full, per = 0;

	if (hi > n)
		hi = n;
	mid_lo = lo > 1 ? lo : 1;
	mid_hi = hi < n - 1 ? hi : n - 1;
	if (!period || mid_hi <= mid_lo || mid_hi - mid_lo < 4 * period) {
		for (pg = lo; pg < hi; pg++)
			cnt += sim_page_rate(wl, ph, ri, pg) * window_s >=
			       SIM_LN2;
		return cnt;
	}
	for (pg = lo; pg < mid_lo; pg++)
		cnt += sim_page_rate(wl, ph, ri, pg) * window_s >= SIM_LN2;
	for (pg = mid_hi; pg < hi; pg++)
		cnt += sim_page_rate(wl, ph, ri, pg) * window_s >= SIM_LN2;
	for (pg = mid_lo; pg < mid_lo + period; pg++)
		per += sim_page_rate(wl, ph, ri, pg) * window_s >= SIM_LN2;
	full = (mid_hi - mid_lo) / period;
	cnt += per * full;
	for (pg = mid_lo + full * period; pg < mid_hi; pg++)
		cnt += sim_page_rate(wl, ph, ri, pg) * window_s >= SIM_LN2;
	return cnt;
}

/*
 * Bytes of [@start, @end) in the working set over the window of @window_ns
 * ending at workload time @now: pages touched in it for exact replays,
 * else pages whose current rate makes an access in it at least even odds.
 */
static int sim_wss_range(struct sim_target *st, uint64_t now,
			 uint64_t window_ns, unsigned long start,
			 unsigned long end, unsigned long *bytes)
{
	const struct sim_workload *wl = st->wl;
	double window_s = (double)window_ns / 1e9;
	unsigned int ph = sim_phase_at(wl, now), ri;
	unsigned long sum = 0;

	for (ri = 0; ri < wl->nr_regions; ri++) {
		const struct sim_phase *p = &wl->phases[ph];
		unsigned long long lo, hi, touched;
		unsigned long a =
			start > wl->vmas[ri].start ? start : wl->vmas[ri].start;
		unsigned long b = end < wl->vmas[ri].end ? end :
							   wl->vmas[ri].end;
		unsigned int i;

		if (a >= b)
			continue;
		lo = (a - wl->vmas[ri].start) / SIM_PAGE;
		hi = (b - wl->vmas[ri].start + SIM_PAGE - 1) / SIM_PAGE;
		if (wl->exact) {
			/* the pages the trace touched in the window */
			if (sim_touched(st, ri, lo, hi,
					now > window_ns ? now - window_ns : 0,
					now ? now : 1, &touched))
				return -ENOMEM;
			sum += touched * SIM_PAGE;
			continue;
		}
		if (!sim_phase_touches(p, ri))
			continue;
		if (!p->first) {
			/* spans: a rate for all their pages */
			for (i = sim_span_find(p, ri, lo);
			     i < p->nr_spans && p->spans[i].ri == ri &&
			     p->spans[i].lo < hi;
			     i++) {
				const struct sim_span *sp = &p->spans[i];

				if (sp->rate * window_s < SIM_LN2)
					continue;
				sum += ((sp->hi < hi ? sp->hi : hi) -
					(sp->lo > lo ? sp->lo : lo)) *
				       SIM_PAGE;
			}
			continue;
		}
		sum += sim_count_hot(wl, ph, ri, lo, hi, window_s) * SIM_PAGE;
	}
	*bytes = sum;
	return 0;
}

int damon_sim_true_wss(struct damon_ctx *ctx, struct damon_target *t,
		       uint64_t window_ns, unsigned long *bytes)
{
	struct sim_target *st;
	unsigned int ph;
	uint64_t now;
	int err;

	st = sim_query(ctx, t, &now);
	if (!st || !bytes)
		return -EINVAL;
	if (!window_ns)
		window_ns = (uint64_t)ctx->attrs.aggr_interval * 1000;
	ph = sim_phase_at(st->wl, now);
	/* Called every aggregation by benchmarks: remember the answer. */
	if (st->wss_phase == (int)ph && st->wss_window_ns == window_ns &&
	    (!st->wl->exact || st->wss_at_ns == now)) {
		*bytes = st->wss_bytes;
		return 0;
	}
	err = sim_wss_range(st, now, window_ns, 0, ~0UL, bytes);
	if (err)
		return err;
	st->wss_at_ns = now;
	st->wss_phase = (int)ph;
	st->wss_window_ns = window_ns;
	st->wss_bytes = *bytes;
	return 0;
}

int damon_sim_true_wss_range(struct damon_ctx *ctx, struct damon_target *t,
			     unsigned long start, unsigned long end,
			     uint64_t window_ns, unsigned long *bytes)
{
	struct sim_target *st;
	uint64_t now;

	st = sim_query(ctx, t, &now);
	if (!st || !bytes || start >= end)
		return -EINVAL;
	if (!window_ns)
		window_ns = (uint64_t)ctx->attrs.aggr_interval * 1000;
	return sim_wss_range(st, now, window_ns, start, end, bytes);
}

int damon_sim_true_access_rate(struct damon_ctx *ctx, struct damon_target *t,
			       unsigned long start, unsigned long end,
			       double *rate)
{
	const struct sim_workload *wl;
	struct sim_target *st;
	double sum = 0, dt;
	unsigned int ph, ri;
	uint64_t now;

	st = sim_query(ctx, t, &now);
	if (!st || !rate || start >= end)
		return -EINVAL;
	wl = st->wl;
	dt = (double)ctx->attrs.sample_interval / 1e6;
	ph = sim_phase_at(wl, now);
	for (ri = 0; ri < wl->nr_regions; ri++) {
		unsigned long lo =
			start > wl->vmas[ri].start ? start : wl->vmas[ri].start;
		unsigned long hi = end < wl->vmas[ri].end ? end :
							    wl->vmas[ri].end;

		if (lo >= hi || !sim_phase_touches(&wl->phases[ph], ri))
			continue;
		if (!wl->phases[ph].first) {
			/* spans: whole runs of pages share a rate */
			const struct sim_phase *p = &wl->phases[ph];
			unsigned long long plo =
				(lo - wl->vmas[ri].start) / SIM_PAGE;
			unsigned long long phi =
				(hi - wl->vmas[ri].start + SIM_PAGE - 1) /
				SIM_PAGE;
			unsigned int i;

			for (i = sim_span_find(p, ri, plo);
			     i < p->nr_spans && p->spans[i].ri == ri &&
			     p->spans[i].lo < phi;
			     i++) {
				const struct sim_span *sp = &p->spans[i];
				unsigned long a =
					wl->vmas[ri].start + sp->lo * SIM_PAGE;
				unsigned long b =
					wl->vmas[ri].start + sp->hi * SIM_PAGE;

				if (a < lo)
					a = lo;
				if (b > hi)
					b = hi;
				sum += (double)(b - a) * -expm1(-sp->rate * dt);
			}
			continue;
		}
		while (lo < hi) {
			unsigned long long pg =
				(lo - wl->vmas[ri].start) / SIM_PAGE;
			unsigned long pend =
				wl->vmas[ri].start + (pg + 1) * SIM_PAGE;
			unsigned long sz = (pend < hi ? pend : hi) - lo;
			double lambda = sim_page_rate(wl, ph, ri, pg) * dt;

			sum += (double)sz * -expm1(-lambda);
			lo += sz;
		}
	}
	*rate = sum / (double)(end - start);
	return 0;
}

unsigned long damon_sim_resident_bytes(struct damon_ctx *ctx,
				       struct damon_target *t)
{
	struct sim_target *st;
	uint64_t now;

	st = sim_query(ctx, t, &now);
	if (!st)
		return 0;
	return st->wl->total_bytes - st->nr_out * SIM_PAGE;
}

unsigned long damon_sim_refaults(struct damon_ctx *ctx, struct damon_target *t)
{
	struct sim_target *st;
	uint64_t now;

	st = sim_query(ctx, t, &now);
	return st ? st->refaults : 0;
}
