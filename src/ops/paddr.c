// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The paddr operations set (spec §1.2): the physical address space,
 * monitored through page idle tracking (src/ops/page-idle.c).  Regions
 * default to the biggest "System RAM" range of /proc/iomem; addresses are
 * core addresses times ctx->addr_unit.
 *
 * What user space can do to physical memory is limited: it cannot
 * reclaim, (de)activate or migrate a page it only knows by PFN, so paddr
 * applies `stat` only (with ops filters from /proc/kpageflags and
 * /proc/kpagecgroup) and refuses every other action at start and commit
 * with that reason.  The operations set is registered only where page
 * idle tracking is usable (root and CONFIG_IDLE_PAGE_TRACKING), so
 * avail_operations never offers what cannot run.
 */
#include "ops/ops-common.h"
#include "ops/vaddr.h"
#include "core/ops-api.h"
#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PADDR_PAGE_SZ 4096UL
#define PADDR_MAX_PROC_FILE (16UL << 20)

static unsigned long paddr_unit(struct damon_ctx *ctx)
{
	return ctx->addr_unit ? ctx->addr_unit : 1;
}

int udamon__iomem_biggest_ram(const char *text, struct damon_addr_range *r)
{
	unsigned long best_start = 0, best_end = 0;
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		unsigned long start, end;
		char *q;

		/* Only top-level resources: nested ones are indented. */
		if (*p != ' ') {
			start = strtoul(p, &q, 16);
			if (q != p && *q == '-') {
				end = strtoul(q + 1, &q, 16);
				if (!strncmp(q, " : System RAM", 13) &&
				    (!eol || q + 13 == eol) && end > start &&
				    end - start >= best_end - best_start) {
					best_start = start;
					best_end = end + 1;
				}
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	if (best_end <= best_start)
		return -ENOENT;
	r->start = best_start;
	r->end = best_end;
	return 0;
}

static void paddr_init(struct damon_ctx *ctx)
{
	struct damon_addr_range ram;
	struct damon_target *t;
	unsigned long unit = paddr_unit(ctx);
	char *text;
	int err;

	damon_for_each_target(t, ctx) {
		if (damon_nr_regions(t))
			continue;
		err = udamon__sys_read_file("/proc/iomem", &text, NULL,
					    PADDR_MAX_PROC_FILE);
		if (!err) {
			err = udamon__iomem_biggest_ram(text, &ram);
			free(text);
		}
		if (err) {
			udamon__log(DAMON_LOG_WARN,
				    "paddr: no System RAM in /proc/iomem: %s",
				    strerror(-err));
			return;
		}
		ram.start = DAMON_ALIGN(ram.start / unit, DAMON_MIN_REGION_SZ);
		ram.end = DAMON_ALIGN_DOWN(ram.end / unit, DAMON_MIN_REGION_SZ);
		if (ram.end > ram.start)
			damon_set_regions(t, &ram, 1,
					  ctx->min_region_sz ?
						  ctx->min_region_sz :
						  DAMON_MIN_REGION_SZ);
	}
}

static void paddr_prepare_access_checks(struct damon_ctx *ctx)
{
	struct udamon_real_ctx *rc = udamon__real_ctx(ctx);
	struct udamon_pidle *pi = rc ? udamon__real_pidle(rc) : NULL;
	unsigned long unit = paddr_unit(ctx);
	struct damon_target *t;
	struct damon_region *r;
	int err;

	if (pi)
		udamon__pidle_begin(pi);
	damon_for_each_target(t, ctx) {
		damon_for_each_region(r, t) {
			r->sampling_addr =
				damon_rand(ctx, r->ar.start, r->ar.end);
			if (!pi)
				continue;
			err = udamon__pidle_add(
				pi, udamon__pidle_sample_pfn(
					    pi, (uint64_t)r->sampling_addr *
							unit / PADDR_PAGE_SZ));
			if (err) {
				pi->nr = 0;
				return;
			}
		}
	}
	if (pi) {
		err = udamon__pidle_mark(pi);
		if (err && !(rc->logged & 1)) {
			rc->logged |= 1;
			udamon__log(DAMON_LOG_WARN,
				    "paddr: marking pages idle: %s",
				    strerror(-err));
		}
	}
}

static unsigned int paddr_check_accesses(struct damon_ctx *ctx)
{
	struct udamon_real_ctx *rc = ctx->ops_priv;
	struct udamon_pidle *pi = rc && rc->pi_open ? &rc->pi : NULL;
	unsigned int max_nr_accesses = 0;
	struct damon_target *t;
	struct damon_region *r;
	size_t i = 0;
	int err;

	if (pi) {
		err = udamon__pidle_collect(pi);
		if (err && !(rc->logged & 2)) {
			rc->logged |= 2;
			udamon__log(DAMON_LOG_WARN,
				    "paddr: reading idle bits: %s",
				    strerror(-err));
		}
	}
	damon_for_each_target(t, ctx) {
		damon_for_each_region(r, t) {
			bool accessed = pi && udamon__pidle_accessed(pi, i);

			i++;
			damon_update_region_access_rate(r, accessed,
							&ctx->attrs);
			if (r->nr_accesses > max_nr_accesses)
				max_nr_accesses = r->nr_accesses;
		}
	}
	return max_nr_accesses;
}

static int paddr_get_scheme_score(struct damon_ctx *ctx, struct damon_target *t,
				  struct damon_region *r, struct damos *s)
{
	return damon_ops_scheme_score(ctx, r, s);
}

static unsigned long paddr_apply_scheme(struct damon_ctx *ctx,
					struct damon_target *t,
					struct damon_region *r, struct damos *s,
					unsigned long *sz_filter_passed)
{
	struct udamon_real_ctx *rc = udamon__real_ctx(ctx);
	struct udamon_pidle *pi = rc ? udamon__real_pidle(rc) : NULL;
	unsigned long unit = paddr_unit(ctx);

	if (s->action != DAMOS_STAT)
		return 0; /* refused by check_ctx; nothing to do */
	if (!damon_list_empty(&s->ops_filters))
		*sz_filter_passed =
			udamon__ops_filters_walk_pfns(
				pi, s,
				(uint64_t)r->ar.start * unit / PADDR_PAGE_SZ,
				(uint64_t)r->ar.end * unit / PADDR_PAGE_SZ) /
			unit;
	return 0;
}

/* ---- node_eligible_mem_bp ---- */

/*
 * Whether @r matches @s's access pattern, as the core's damos_valid_target
 * judges it: by the moving sum, since a scheme's pass may fall in the
 * middle of an aggregation window.
 */
static bool paddr_pattern_match(struct damos *s, struct damon_region *r)
{
	unsigned long sz = r->ar.end - r->ar.start;
	unsigned int nr_accesses = r->nr_accesses_bp / 10000;
	struct damos_access_pattern *p = &s->pattern;

	return p->min_sz_region <= sz && sz <= p->max_sz_region &&
	       p->min_nr_accesses <= nr_accesses &&
	       nr_accesses <= p->max_nr_accesses &&
	       p->min_age_region <= r->age && r->age <= p->max_age_region;
}

int udamon__zoneinfo_node_spans(const char *text, int nid,
				struct damon_addr_range *spans, size_t max)
{
	const char *p = text;
	unsigned long spanned = 0, v;
	int cur = -1;
	size_t nr = 0;

	while (p && *p) {
		const char *q = p, *eol = strchr(p, '\n');

		while (*q == ' ')
			q++;
		if (!strncmp(q, "Node ", 5)) {
			cur = (int)strtol(q + 5, NULL, 10);
			spanned = 0;
		} else if (!strncmp(q, "spanned ", 8)) {
			spanned = strtoul(q + 8, NULL, 10);
		} else if (!strncmp(q, "start_pfn:", 10) && cur == nid &&
			   spanned && nr < max) {
			v = strtoul(q + 10, NULL, 10);
			spans[nr].start = v;
			spans[nr].end = v + spanned;
			nr++;
		}
		p = eol ? eol + 1 : NULL;
	}
	return (int)nr;
}

static int paddr_node_eligible_bp(struct damon_ctx *ctx,
				  const struct damos_quota_goal *goal,
				  unsigned long *value)
{
	struct damon_addr_range spans[16];
	unsigned long unit = paddr_unit(ctx);
	uint64_t total = 0, on_node = 0;
	struct damos_quota_goal *g;
	struct damos *s, *owner = NULL;
	struct damon_target *t;
	struct damon_region *r;
	char *text;
	int nr = 0, i, err;

	damon_for_each_scheme(s, ctx) {
		damos_for_each_quota_goal(g, &s->quota) {
			if (g == goal)
				owner = s;
		}
	}
	if (!owner)
		return -EINVAL;
	err = udamon__sys_read_file("/proc/zoneinfo", &text, NULL,
				    PADDR_MAX_PROC_FILE);
	if (!err) {
		nr = udamon__zoneinfo_node_spans(text, goal->nid, spans, 16);
		free(text);
	}
	damon_for_each_target(t, ctx) {
		damon_for_each_region(r, t) {
			uint64_t s0 = (uint64_t)r->ar.start * unit,
				 e0 = (uint64_t)r->ar.end * unit;

			if (!paddr_pattern_match(owner, r))
				continue;
			total += e0 - s0;
			for (i = 0; i < nr; i++) {
				uint64_t ns = spans[i].start * PADDR_PAGE_SZ,
					 ne = spans[i].end * PADDR_PAGE_SZ;
				uint64_t a = s0 > ns ? s0 : ns,
					 b = e0 < ne ? e0 : ne;

				if (b > a)
					on_node += b - a;
			}
		}
	}
	*value = total ? (unsigned long)(on_node * 10000 / total) : 0;
	return 0;
}

static int paddr_get_goal_metric(struct damon_ctx *ctx,
				 const struct damos_quota_goal *goal,
				 unsigned long *value)
{
	if (goal->metric == DAMOS_QUOTA_NODE_ELIGIBLE_MEM_BP)
		return paddr_node_eligible_bp(ctx, goal, value);
	return udamon__sysmetrics_goal(ctx, goal, value);
}

/* ---- checks and registration ---- */

static int paddr_why(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int paddr_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int damon_paddr_check_ctx(struct damon_ctx *ctx, char *why, size_t len)
{
	struct udamon_pidle pi;
	char buf[256];
	struct damos *s;
	int fd;

	if (!ctx)
		return -EINVAL;
	/* No probe filter is answered here: a probe would count nothing. */
	if (damon_nr_probes(ctx))
		return paddr_why(
			why, len,
			"paddr: probes (monitoring_attrs/probes) are not supported on real memory by udamon (sim only); set nr_probes to 0");
	if (udamon__pidle_open(&pi, buf, sizeof(buf)))
		return paddr_why(why, len, "paddr: %s", buf);
	fd = pi.kpf_fd;
	udamon__pidle_close(&pi);
	if (fd < 0)
		return paddr_why(
			why, len,
			"paddr: /proc/kpageflags is not readable, so pages the idle bitmap cannot track would read as accessed");
	damon_for_each_scheme(s, ctx) {
		if (s->action != DAMOS_STAT)
			return paddr_why(
				why, len,
				"paddr: action %s cannot be applied from user space (physical pages cannot be reclaimed, (de)activated or migrated by PFN); udamon's paddr applies stat only",
				damos_action_name(s->action));
	}
	return 0;
}

static struct damon_operations paddr_ops = {
	.id = DAMON_OPS_PADDR,
	.init = paddr_init,
	.prepare_access_checks = paddr_prepare_access_checks,
	.check_accesses = paddr_check_accesses,
	.get_scheme_score = paddr_get_scheme_score,
	.apply_scheme = paddr_apply_scheme,
	.get_goal_metric = paddr_get_goal_metric,
	.get_wmark_metric = udamon__sysmetrics_wmark,
	.commit_priv = udamon__real_commit_priv,
	.free_priv = udamon__real_free_priv,
	.check_ctx = damon_paddr_check_ctx,
};

int damon_paddr_register(void)
{
	int err;

	if (!udamon__page_idle_usable())
		return -ENODEV;
	if (damon_is_registered_ops(DAMON_OPS_PADDR))
		return 0;
	err = damon_register_ops(&paddr_ops);
	if (err == -EINVAL && damon_is_registered_ops(DAMON_OPS_PADDR))
		return 0;
	return err;
}

__attribute__((constructor)) static void paddr_register_at_load(void)
{
	damon_paddr_register();
}
