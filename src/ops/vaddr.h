/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals of the real-memory operations sets (vaddr.c, uffd-self.c)
 * that the unit tests reach directly.
 */
#ifndef UDAMON_OPS_VADDR_H
#define UDAMON_OPS_VADDR_H

#include <udamon/damon.h>

#include <stdint.h>
#include <sys/types.h>

/*
 * udamon__vaddr_parse_maps() - the mapped ranges of a /proc/PID/maps text,
 * in address order, without the kernel's [vsyscall] page.  A last line
 * without '\n' (a torn read) is ignored.
 * Return: 0 with a malloc'd array in @vmasp, -EINVAL for text that is not
 * maps, -ENOMEM.
 */
int udamon__vaddr_parse_maps(const char *text, struct damon_addr_range **vmasp,
			     size_t *nrp);

/* Write-protect the page at @addr through the pagemap @fd (-errno). */
int udamon__vaddr_protect_page(int fd, unsigned long addr);

/* 1 if the page at @addr was written since protected, 0, or -errno. */
int udamon__vaddr_page_written(int fd, unsigned long addr);

/* The calling process's userfaultfd, creating it on first use (-errno). */
int udamon__uffd_self_fd(void);

/* ---- uffd-sync.c: the synchronous write-protect source (uffd-wp-sync) ---- */

struct udamon_uffd_sync;

/* Whether the kernel has PAGEMAP_SCAN (Linux 6.7): 1 or 0. */
int udamon__pagemap_scan_usable(void);
/* The "flags:" (octal) and the features of "API:" of a userfaultfd's
 * /proc/PID/fdinfo text.  Return: 0 or -EINVAL. */
int udamon__uffd_parse_fdinfo(const char *text, unsigned long *flags,
			      unsigned long long *features);
/*
 * The number of @pid's non-blocking userfaultfd without WP_ASYNC in
 * @fdnum.  Return: 1 found, 0 none, -EWOULDBLOCK only a blocking one
 * (poll cannot serve it), other -errno (-EACCES: no ptrace rights).
 */
int udamon__uffd_sync_find(int pid, int *fdnum);
/* Take that descriptor of @pid (through @pidfd) and start its handler. */
int udamon__uffd_sync_open(int pid, int pidfd, struct udamon_uffd_sync **sp);
/* Stop the handler, lift every protection, serve queued faults, free. */
void udamon__uffd_sync_close(struct udamon_uffd_sync *s);
/* Protect the page at @addr for one sample (@pagemap_fd: -1 or the
 * target's pagemap, for pages not present yet).  Return: 0 or -errno. */
int udamon__uffd_sync_protect(struct udamon_uffd_sync *s, int pagemap_fd,
			      unsigned long addr);
/* Whether the page at @addr was written, or faulted in, since protected. */
int udamon__uffd_sync_accessed(struct udamon_uffd_sync *s, int pagemap_fd,
			       unsigned long addr);
/* After the checks of a sample: lift what nobody wrote, forget all. */
int udamon__uffd_sync_end_sample(struct udamon_uffd_sync *s);
/* 0, or the errno that ended the handler (the descriptor failed). */
int udamon__uffd_sync_dead(struct udamon_uffd_sync *s);
/* Write faults served so far. */
unsigned long udamon__uffd_sync_nr_faults(struct udamon_uffd_sync *s);

/* ---- sysmetrics.c: goal and watermark metrics of the real system ---- */

/* The get_goal_metric hook of the real-memory operations sets. */
int udamon__sysmetrics_goal(struct damon_ctx *ctx,
			    const struct damos_quota_goal *goal,
			    unsigned long *value);
/* The get_wmark_metric hook (free_mem_rate from /proc/meminfo). */
int udamon__sysmetrics_wmark(struct damon_ctx *ctx,
			     enum damos_wmark_metric metric,
			     unsigned long *value);
/* Forget which unreadable files were logged (tests count log lines). */
void udamon__sysmetrics_reset_logged(void);
/* @key's number in a meminfo text (lines may start "Node N "). */
bool udamon__meminfo_field(const char *text, const char *key,
			   unsigned long *value);
/* anon + file bytes of node @nid in a v1 or v2 memory.numa_stat text. */
bool udamon__memcg_numa_used(const char *text, int nid, unsigned long *bytes);

/* ---- page-idle.c: the page idle tracking access source ---- */

#define UDAMON_PAGE_IDLE_BITMAP "/sys/kernel/mm/page_idle/bitmap"
#define UDAMON_PFN_NONE UINT64_MAX

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h). */
#define UDAMON_KPF_LRU 5
#define UDAMON_KPF_ACTIVE 6
#define UDAMON_KPF_ANON 12
#define UDAMON_KPF_MMAP 11
#define UDAMON_KPF_COMPOUND_HEAD 15
#define UDAMON_KPF_COMPOUND_TAIL 16
#define UDAMON_KPF_HUGE 17
#define UDAMON_KPF_NOPAGE 20
#define UDAMON_KPF_THP 22

/*
 * struct udamon_pidle - a context's page idle state: the descriptors and
 * the PFNs sampled in one sampling interval, in region order
 * (UDAMON_PFN_NONE: nothing the bitmap can track), plus their sorted
 * unique copy and its idle bits (1 idle, 0 accessed, -1 unknown).
 */
struct udamon_pidle {
	int bitmap_fd, kpf_fd, kpcg_fd;
	uint64_t *pfn;
	size_t nr, cap;
	uint64_t *sorted;
	size_t nr_sorted;
	int8_t *idle;
};

/* Whether the bitmap opens for reading and writing. */
bool udamon__page_idle_usable(void);
/* Set the idle bits of sorted unique @pfns, in batched span writes. */
int udamon__page_idle_set(int fd, const uint64_t *pfns, size_t nr);
/* Read them back batched: @idle[i] 1 idle, 0 accessed, -1 unreachable. */
int udamon__page_idle_get(int fd, const uint64_t *pfns, size_t nr,
			  int8_t *idle);
/* Read @nr 8-byte entries of /proc/kpageflags or kpagecgroup from @pfn;
 * return how many were read (short at the end of memory) or -errno. */
ssize_t udamon__kpage_read(int fd, uint64_t pfn, size_t nr, uint64_t *out);
/* Open the bitmap (O_RDWR), kpageflags and kpagecgroup; -errno + @why. */
int udamon__pidle_open(struct udamon_pidle *pi, char *why, size_t len);
void udamon__pidle_close(struct udamon_pidle *pi);
/* The PFN to sample for @pfn: its THP head, or NONE if not trackable. */
uint64_t udamon__pidle_sample_pfn(struct udamon_pidle *pi, uint64_t pfn);
/* Start a sample set, add one PFN per region, mark them idle. */
void udamon__pidle_begin(struct udamon_pidle *pi);
int udamon__pidle_add(struct udamon_pidle *pi, uint64_t pfn);
int udamon__pidle_mark(struct udamon_pidle *pi);
/* Read the marked PFNs back; then ask per sample index. */
int udamon__pidle_collect(struct udamon_pidle *pi);
bool udamon__pidle_accessed(struct udamon_pidle *pi, size_t i);

/* ---- the context state of vaddr, fvaddr and paddr (ctx->ops_priv) ---- */

enum udamon_access_src {
	UDAMON_SRC_AUTO, /* as wanted: the best usable; as used: undecided */
	UDAMON_SRC_PAGE_IDLE,
	UDAMON_SRC_UFFD_WP,
	UDAMON_SRC_UFFD_WP_SYNC, /* uffd-sync.c: kernels without PAGEMAP_SCAN */
};

/*
 * Default of damon_set_overhead_budget(): uffd-wp page checks per second.
 * Each check of a page the target writes costs the target one write
 * fault plus a TLB flush of its page; docs/benchmarks.md measured 1.3-12
 * us of target CPU per such check on a paravirtualised guest, and at 2000
 * checks/s a target writing everywhere kept 0.98 of its speed.  At the
 * default 5 ms sampling interval it is exactly min_nr_regions (10) pages
 * per sample.
 */
#define UDAMON_DEFAULT_OVERHEAD_BUDGET 2000UL

/*
 * struct udamon_budget - the uffd-wp source's cost bound of a context.
 * @per_sec: page checks allowed per second (0: unbounded).
 * @credit: checks saved up from earlier samples (at most one sample's).
 * @cursor: ordinal of the first region checked in the next sample.
 * @nr: regions of the context in the last prepare.
 * @first, @count: the window [@first, @first + @count) mod @nr of region
 *                 ordinals checked in this sample (@count == @nr: all).
 */
struct udamon_budget {
	unsigned long per_sec;
	double credit;
	unsigned long cursor;
	unsigned long nr;
	unsigned long first, count;
};

struct udamon_real_ctx {
	enum udamon_access_src want; /* damon_set_access_source() */
	enum udamon_access_src src; /* in use */
	bool no_attach; /* damon_vaddr_set_attach(ctx, false) */
	struct udamon_budget budget; /* the uffd-wp source's */
	struct udamon_pidle pi;
	bool pi_open, pi_failed;
	struct udamon_pidle kp; /* kpageflags/kpagecgroup only (filters) */
	bool kp_open;
	unsigned int logged; /* bit per one-time log line */
	bool cold_on_writes_only; /* damon_allow_cold_on_writes_only() */
};

/*
 * Plan which region ordinals (0 .. @nr - 1, over all targets in order)
 * get a page checked in the next sample under @b; then ask per ordinal.
 */
void udamon__vaddr_budget_plan(struct udamon_budget *b,
			       unsigned long sample_interval_us,
			       unsigned long nr);
bool udamon__vaddr_budget_picks(const struct udamon_budget *b,
				unsigned long ord);

/* @ctx's state, allocated on first use (NULL: out of memory). */
struct udamon_real_ctx *udamon__real_ctx(struct damon_ctx *ctx);
/* The page idle state of @rc, opened on first use; NULL if unusable. */
struct udamon_pidle *udamon__real_pidle(struct udamon_real_ctx *rc);
/* For ops filters: the page idle state if open, else kpageflags only. */
struct udamon_pidle *udamon__real_kpages(struct udamon_real_ctx *rc);
void udamon__real_free_priv(struct damon_ctx *ctx);
int udamon__real_commit_priv(struct damon_ctx *dst, struct damon_ctx *src);

/* ---- kpageflags.c: ops filters ---- */

/* /proc/PID/pagemap entry bits. */
#define UDAMON_PM_PRESENT (1ULL << 63)
#define UDAMON_PM_PFN_MASK ((1ULL << 55) - 1)

/* One folio as the filters see it. */
struct udamon_folio {
	uint64_t pfn; /* head */
	uint64_t flags; /* kpageflags of the head */
	unsigned long size; /* bytes */
	uint64_t memcg; /* kpagecgroup inode */
	bool memcg_known;
	bool young;
};

/* Whether ops filter @f matches @fo (@memcg_ino: the filter's memcg). */
bool udamon__ops_filter_match(const struct damos_filter *f,
			      const struct udamon_folio *fo,
			      uint64_t memcg_ino);

/* Bytes of folios in PFNs [@start, @end) that pass @s's ops filters. */
unsigned long udamon__ops_filters_walk_pfns(struct udamon_pidle *pi,
					    struct damos *s, uint64_t start,
					    uint64_t end);

/* Whether the page at @addr was accessed, for the young filter. */
typedef bool (*udamon_young_fn)(void *arg, unsigned long addr);

/*
 * The same over virtual [@start, @end) of a process, PFNs from its
 * pagemap; young from the bitmap when @pi has it, else from @young_fn.
 */
unsigned long udamon__ops_filters_walk_pagemap(struct udamon_pidle *pi,
					       int pagemap_fd, struct damos *s,
					       unsigned long start,
					       unsigned long end,
					       udamon_young_fn young_fn,
					       void *young_arg);

/* ---- migrate.c: migrate_hot / migrate_cold through move_pages ---- */

struct udamon_vma {
	unsigned long start, end, pgoff;
};

/* The weighted-interleave destination of index @ilx (-1: none). */
int udamon__interleave_node(const struct damos_migrate_dests *d,
			    unsigned long ilx);
/* The VMA of /proc/PID/maps text @maps holding @addr (-ENOENT). */
int udamon__maps_vma_of(const char *maps, unsigned long addr,
			struct udamon_vma *vma);
/* Migrate [@start, @end) of @pid for @s; the bytes that moved. */
unsigned long udamon__vaddr_migrate(int pid, struct damos *s,
				    unsigned long start, unsigned long end);

/* ---- paddr.c ---- */

/*
 * The biggest "System RAM" range of a /proc/iomem text ([start, end),
 * end exclusive).  Return: 0, or -ENOENT if there is none.
 */
int udamon__iomem_biggest_ram(const char *text, struct damon_addr_range *r);

/* The PFN spans of node @nid in a /proc/zoneinfo text (one per zone). */
int udamon__zoneinfo_node_spans(const char *text, int nid,
				struct damon_addr_range *spans, size_t max);

#endif /* UDAMON_OPS_VADDR_H */
