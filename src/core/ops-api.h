/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the core offers the operations sets (src/ops/) beyond the public
 * header: list helpers, alignment and arithmetic helpers, logging and
 * events.  The operations sets include this and never core/core.h, which
 * holds the core's own internals; core/core.h includes this too, so the
 * helpers have one definition.
 */
#ifndef UDAMON_CORE_OPS_API_H
#define UDAMON_CORE_OPS_API_H

#include <udamon/damon.h>

#define DAMON_UNUSED __attribute__((unused))

static inline void damon_list_init(struct damon_list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool damon_list_empty(const struct damon_list_head *h)
{
	return h->next == h;
}

static inline void damon__list_insert(struct damon_list_head *n,
				      struct damon_list_head *prev,
				      struct damon_list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

/* Add @n right after @h. */
static inline void damon_list_add(struct damon_list_head *n,
				  struct damon_list_head *h)
{
	damon__list_insert(n, h, h->next);
}

/* Add @n right before @h (at the tail when @h is the list head). */
static inline void damon_list_add_tail(struct damon_list_head *n,
				       struct damon_list_head *h)
{
	damon__list_insert(n, h->prev, h);
}

static inline void damon_list_del(struct damon_list_head *n)
{
	n->next->prev = n->prev;
	n->prev->next = n->next;
	n->next = n;
	n->prev = n;
}

#define damon_next_region(r) \
	damon_list_entry((r)->list.next, struct damon_region, list)
#define damon_prev_region(r) \
	damon_list_entry((r)->list.prev, struct damon_region, list)

#define DAMON_ALIGN_DOWN(x, a) ((x) / (a) * (a))
#define DAMON_ALIGN(x, a) DAMON_ALIGN_DOWN((x) + (a)-1, (a))
#define DAMON_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DAMON_MAX(a, b) ((a) > (b) ? (a) : (b))

/* x * n / d without overflowing when x * n would. */
static inline unsigned long damon_mult_frac(unsigned long x, unsigned long n,
					    unsigned long d)
{
	return (x / d) * n + ((x % d) * n) / d;
}

/*
 * The context PRNG (splitmix64: tiny, fast, and every seed, even 0, gives a
 * good stream), inline so that an operations set drawing once per region
 * and sample pays no call: damon_rand() is this.
 */
static inline uint64_t damon_prng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* damon_rand(), inline: a number in [@l, @r) from @ctx's PRNG. */
static inline unsigned long damon_rand_inline(struct damon_ctx *ctx,
					      unsigned long l, unsigned long r)
{
	if (r <= l)
		return l;
	return l + (unsigned long)(damon_prng_next(&ctx->rnd_state) % (r - l));
}

/*
 * damon_update_region_access_rate() with what it forgets per sample,
 * @drop = @r->last_nr_accesses * 10000 / the window in samples, given: a
 * check can compute the window once for all its regions, or keep the drops
 * in a table, instead of dividing per region.  Pseudo moving sum: forget
 * one window's average of the last aggregation, add this sample.  Clamped
 * at zero, where the kernel would wrap (and repair the value at the next
 * reset).  Without branches on @accessed, a coin toss in the sim.
 */
static inline void damon_account_sample_drop(struct damon_region *r,
					     bool accessed, unsigned int drop)
{
	unsigned int bp = r->nr_accesses_bp;

	r->nr_accesses_bp = (bp > drop ? bp - drop : 0) + 10000u * accessed;
	r->nr_accesses += accessed;
}

/* The same for a window of @len_window samples. */
static inline void damon_account_sample(struct damon_region *r, bool accessed,
					unsigned int len_window)
{
	damon_account_sample_drop(r, accessed,
				  r->last_nr_accesses * 10000 / len_window);
}

/* The @len_window of damon_account_sample() for @attrs. */
static inline unsigned int damon_access_window(const struct damon_attrs *attrs)
{
	return attrs->sample_interval ? damon_nr_samples_per_aggr(attrs) : 1;
}

/* ---- core.c ---- */

void udamon__log(enum damon_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void udamon__emit(struct damon_ctx *ctx, struct damon_event *ev);

#endif /* UDAMON_CORE_OPS_API_H */
