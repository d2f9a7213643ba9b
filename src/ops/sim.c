// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sim operations set: DAMON over a modelled masim-format workload, with
 * the ground truth known, deterministic for a context seed.
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
#include "sys/alloc.h"
#include "ops/ops-common.h"

#include <errno.h>
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

struct sim_phase {
	uint64_t start_ns; /* offset in the cycle */
	uint64_t end_ns;
	double dur_s;
	/* patterns sorted by region; those of region i: [first[i], first[i+1]) */
	struct sim_pat *pats;
	unsigned int *first;
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

/* Sum of the page rates of pages [@lo, @hi) of region @ri in phase @ph. */
static double sim_range_rate(const struct sim_workload *wl, unsigned int ph,
			     unsigned int ri, unsigned long long lo,
			     unsigned long long hi)
{
	const struct sim_phase *p = &wl->phases[ph];
	unsigned long long size = wl->cfg->regions[ri].size;
	double rate = 0;
	unsigned int i;

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
	return (double)damon_rand(ctx, 0, 1UL << 32) / 4294967296.0;
}

/* Whether a Poisson process with @lambda expected events has one. */
static bool sim_draw(struct damon_ctx *ctx, double lambda)
{
	if (lambda <= 0)
		return false;
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
};

static void sim_target_free(struct sim_target *st)
{
	if (!st)
		return;
	free(st->outs);
	sim_workload_put(st->wl);
	free(st->accessed);
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

/* Whether the page at @addr was accessed during workload time [a, b). */
static bool sim_sample(struct damon_ctx *ctx, struct sim_target *st,
		       unsigned long addr, uint64_t a, uint64_t b)
{
	const struct sim_workload *wl = st->wl;
	unsigned long long pg, npages;
	struct sim_out *o;
	size_t idx;
	int ri = sim_region_of(wl, addr);

	if (ri < 0)
		return false;
	pg = (addr - wl->vmas[ri].start) / SIM_PAGE;
	idx = sim_outs_find(st, (unsigned int)ri, pg);
	o = idx < st->nr_outs ? &st->outs[idx] : NULL;
	if (!o || o->ri != (unsigned int)ri || o->lo > pg)
		return sim_draw(ctx, sim_exposure(wl, ri, pg, a, b));
	sim_out_sync(ctx, st, o, a);
	npages = o->hi - o->lo;
	/* Is this page one of those still out?  They are exchangeable. */
	if (sim_uniform(ctx) * (double)npages >= (double)o->nr_out)
		return sim_draw(ctx, sim_exposure(wl, ri, pg, a, b));
	/* Out at @a: accessed iff it faults in, which the check then sees. */
	if (!sim_draw(ctx, sim_exposure(wl, ri, pg, a, b)))
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
		damon_for_each_region(r, t)
			r->sampling_addr =
				damon_rand(ctx, r->ar.start, r->ar.end);
		st->prep_ns = now;
		st->prepared = true;
	}
}

static int sim_grow_accessed(struct sim_target *st, struct damon_target *t);

static unsigned int sim_check_accesses(struct damon_ctx *ctx)
{
	uint64_t now = damon_now_ns(ctx);
	unsigned int max_nr_accesses = 0;
	struct damon_target *t;
	struct damon_region *r;

	bool keep =
		damon_probe_uses_filter(ctx, DAMON_FILTER_TYPE_PGIDLE_UNSET);

	damon_for_each_target(t, ctx) {
		struct sim_target *st = t->ops_priv;
		uint64_t a = 0, b = 0;
		unsigned int i = 0;

		if (st && st->prepared) {
			a = sim_wtime(st, st->prep_ns);
			b = sim_wtime(st, now);
		}
		if (st && keep)
			st->accessed_valid = !sim_grow_accessed(st, t);
		damon_for_each_region(r, t) {
			bool accessed =
				st && st->prepared &&
				sim_sample(ctx, st, r->sampling_addr, a, b);

			if (st && keep && st->accessed_valid)
				st->accessed[i++] = accessed;
			damon_update_region_access_rate(r, accessed,
							&ctx->attrs);
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
		r->sampling_addr = damon_rand(ctx, r->ar.start, r->ar.end);
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
		unsigned int i = 0;

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
						sim_wtime(st, now));
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
	struct damon_masim_config *cfg;
	int err;

	if (!ctx || !path)
		return -EINVAL;
	err = damon_masim_parse_file(path, DAMON_MASIM_RW_WO, &cfg, errbuf,
				     errlen);
	if (err)
		return err;
	return sim_attach(ctx, cfg, errbuf, errlen);
}

int damon_sim_set_workload_buf(struct damon_ctx *ctx, const char *buf,
			       size_t len, const char *name, char *errbuf,
			       size_t errlen)
{
	struct damon_masim_config *cfg;
	int err;

	if (!ctx || (!buf && len))
		return -EINVAL;
	err = damon_masim_parse_buf(buf, len, name, DAMON_MASIM_RW_WO, &cfg,
				    errbuf, errlen);
	if (err)
		return err;
	return sim_attach(ctx, cfg, errbuf, errlen);
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

int damon_sim_true_wss(struct damon_ctx *ctx, struct damon_target *t,
		       uint64_t window_ns, unsigned long *bytes)
{
	const struct sim_workload *wl;
	struct sim_target *st;
	unsigned long sum = 0;
	unsigned int ph, ri;
	double window_s;
	uint64_t now;

	st = sim_query(ctx, t, &now);
	if (!st || !bytes)
		return -EINVAL;
	wl = st->wl;
	if (!window_ns)
		window_ns = (uint64_t)ctx->attrs.aggr_interval * 1000;
	window_s = (double)window_ns / 1e9;
	ph = sim_phase_at(wl, now);
	/* Called every aggregation by benchmarks: remember the answer. */
	if (st->wss_phase == (int)ph && st->wss_window_ns == window_ns) {
		*bytes = st->wss_bytes;
		return 0;
	}
	for (ri = 0; ri < wl->nr_regions; ri++) {
		unsigned long long pg;

		if (wl->phases[ph].first[ri] == wl->phases[ph].first[ri + 1])
			continue;
		for (pg = 0; pg < wl->npages[ri]; pg++) {
			if (sim_page_rate(wl, ph, ri, pg) * window_s >= SIM_LN2)
				sum += SIM_PAGE;
		}
	}
	st->wss_phase = (int)ph;
	st->wss_window_ns = window_ns;
	st->wss_bytes = sum;
	*bytes = sum;
	return 0;
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

		if (lo >= hi ||
		    wl->phases[ph].first[ri] == wl->phases[ph].first[ri + 1])
			continue;
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
