// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DAMOS ops filters on real memory (spec §5.7): anon, active, unmapped
 * and hugepage_size from /proc/kpageflags, memcg from /proc/kpagecgroup,
 * young from the context's access source.  Folios are visited as the
 * kernel does: one visit per folio at its head page (tail pages are
 * skipped), pages not on an LRU list are not visited at all, and a folio
 * that passes counts with its whole size.
 *
 * The memcg filter compares the page's memory cgroup inode number (what
 * kpagecgroup reports) with the inode of the filter's memcg_path under
 * /sys/fs/cgroup (v2, then v1's memory hierarchy); a filter without a
 * path takes memcg_id as that inode number.
 */
#include "ops/vaddr.h"
#include "sys/alloc.h"
#include "core/ops-api.h"
#include "sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KPF_CHUNK 512
#define KPF_PAGE_SZ 4096UL
#define KPF_BIT(b) (1ULL << (b))

bool udamon__ops_filter_match(const struct damos_filter *f,
			      const struct udamon_folio *fo, uint64_t memcg_ino)
{
	bool has;

	switch (f->type) {
	case DAMOS_FILTER_TYPE_ANON:
		has = fo->flags & KPF_BIT(UDAMON_KPF_ANON);
		break;
	case DAMOS_FILTER_TYPE_ACTIVE:
		has = fo->flags & KPF_BIT(UDAMON_KPF_ACTIVE);
		break;
	case DAMOS_FILTER_TYPE_UNMAPPED:
		has = !(fo->flags & KPF_BIT(UDAMON_KPF_MMAP));
		break;
	case DAMOS_FILTER_TYPE_HUGEPAGE_SIZE:
		has = f->sz_range.min <= fo->size &&
		      fo->size <= f->sz_range.max;
		break;
	case DAMOS_FILTER_TYPE_MEMCG:
		has = fo->memcg_known && fo->memcg == memcg_ino;
		break;
	case DAMOS_FILTER_TYPE_YOUNG:
		has = fo->young;
		break;
	default:
		return false; /* core filters are not ours */
	}
	return has == f->matching;
}

/* The inode of @f's memcg (see the top comment), 0 if unknown. */
static uint64_t kpf_memcg_ino(const struct damos_filter *f)
{
	static const char *const roots[] = { "/sys/fs/cgroup",
					     "/sys/fs/cgroup/memory" };
	char path[4096];
	struct stat st;
	const char *rel;
	size_t i;

	if (!f->memcg_path)
		return f->memcg_id;
	rel = f->memcg_path;
	while (*rel == '/')
		rel++;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", roots[i], rel);
		if (!udamon__sys.stat(path, &st))
			return (uint64_t)st.st_ino;
	}
	return 0;
}

/* The filter walk's state for one scheme application. */
struct kpf_walk {
	struct damos *s;
	struct udamon_pidle *pi; /* for young with page idle, or NULL */
	bool need_young, need_memcg;
	uint64_t *memcg_inos; /* per ops filter, in list order */
	unsigned long passed;
};

static bool kpf_pass(struct kpf_walk *w, const struct udamon_folio *fo)
{
	struct damos_filter *f;
	size_t i = 0;

	if (w->s->core_filters_allowed)
		return true;
	damos_for_each_ops_filter(f, w->s) {
		if (udamon__ops_filter_match(f, fo, w->memcg_inos[i++]))
			return f->allow;
	}
	return !w->s->ops_filters_default_reject;
}

static int kpf_walk_init(struct kpf_walk *w, struct damos *s,
			 struct udamon_pidle *pi)
{
	struct damos_filter *f;
	size_t n = 0;

	memset(w, 0, sizeof(*w));
	w->s = s;
	w->pi = pi;
	damos_for_each_ops_filter(f, s)
		n++;
	w->memcg_inos = udamon__calloc(n ? n : 1, sizeof(*w->memcg_inos));
	if (!w->memcg_inos)
		return -ENOMEM;
	n = 0;
	damos_for_each_ops_filter(f, s) {
		if (f->type == DAMOS_FILTER_TYPE_YOUNG)
			w->need_young = true;
		if (f->type == DAMOS_FILTER_TYPE_MEMCG) {
			w->need_memcg = true;
			w->memcg_inos[n] = kpf_memcg_ino(f);
		}
		n++;
	}
	return 0;
}

/*
 * Fill @fo (flags, size, memcg) for the folio headed by @pfn with head
 * flags @flags.  The size is one page, or the head plus the tail pages
 * that follow it.
 */
static void kpf_folio(struct udamon_pidle *pi, uint64_t pfn, uint64_t flags,
		      bool need_memcg, struct udamon_folio *fo)
{
	uint64_t tails[KPF_CHUNK];
	ssize_t n, i;

	memset(fo, 0, sizeof(*fo));
	fo->pfn = pfn;
	fo->flags = flags;
	fo->size = KPF_PAGE_SZ;
	if (flags & KPF_BIT(UDAMON_KPF_COMPOUND_HEAD)) {
		n = udamon__kpage_read(pi->kpf_fd, pfn + 1, KPF_CHUNK - 1,
				       tails);
		for (i = 0; i < n; i++) {
			if (!(tails[i] & KPF_BIT(UDAMON_KPF_COMPOUND_TAIL)))
				break;
			fo->size += KPF_PAGE_SZ;
		}
	}
	if (need_memcg && pi->kpcg_fd >= 0 &&
	    udamon__kpage_read(pi->kpcg_fd, pfn, 1, &fo->memcg) == 1)
		fo->memcg_known = true;
}

/*
 * Ask the page idle bitmap whether the folios of @fos are young, then
 * mark the young ones idle again (the young filter clears what it saw).
 */
static void kpf_young_by_idle(struct udamon_pidle *pi, struct udamon_folio *fos,
			      size_t nr)
{
	uint64_t pfns[KPF_CHUNK] = { 0 };
	int8_t idle[KPF_CHUNK];
	size_t i, nr_young = 0;

	for (i = 0; i < nr; i++)
		pfns[i] = fos[i].pfn; /* ascending already */
	if (udamon__page_idle_get(pi->bitmap_fd, pfns, nr, idle))
		return;
	for (i = 0; i < nr; i++) {
		fos[i].young = idle[i] == 0;
		if (fos[i].young)
			pfns[nr_young++] = fos[i].pfn;
	}
	udamon__page_idle_set(pi->bitmap_fd, pfns, nr_young);
}

static void kpf_judge(struct kpf_walk *w, struct udamon_folio *fos, size_t nr)
{
	size_t i;

	if (w->need_young && w->pi && w->pi->bitmap_fd >= 0)
		kpf_young_by_idle(w->pi, fos, nr);
	for (i = 0; i < nr; i++)
		if (kpf_pass(w, &fos[i]))
			w->passed += fos[i].size;
}

unsigned long udamon__ops_filters_walk_pfns(struct udamon_pidle *pi,
					    struct damos *s, uint64_t start,
					    uint64_t end)
{
	static __thread struct udamon_folio fos[KPF_CHUNK];
	uint64_t flags[KPF_CHUNK], pfn;
	struct kpf_walk w;
	size_t nr_fos;
	ssize_t n, i;

	if (!pi || pi->kpf_fd < 0 || kpf_walk_init(&w, s, pi))
		return 0;
	for (pfn = start; pfn < end; pfn += (uint64_t)n) {
		size_t want = end - pfn < KPF_CHUNK ? (size_t)(end - pfn) :
						      KPF_CHUNK;

		n = udamon__kpage_read(pi->kpf_fd, pfn, want, flags);
		if (n <= 0)
			break; /* beyond the end of memory */
		nr_fos = 0;
		for (i = 0; i < n; i++) {
			uint64_t f = flags[i];

			if (!(f & KPF_BIT(UDAMON_KPF_LRU)) ||
			    (f & KPF_BIT(UDAMON_KPF_NOPAGE)) ||
			    (f & KPF_BIT(UDAMON_KPF_COMPOUND_TAIL)))
				continue;
			kpf_folio(pi, pfn + (uint64_t)i, f, w.need_memcg,
				  &fos[nr_fos++]);
		}
		kpf_judge(&w, fos, nr_fos);
	}
	free(w.memcg_inos);
	return w.passed;
}

unsigned long udamon__ops_filters_walk_pagemap(struct udamon_pidle *pi,
					       int pagemap_fd, struct damos *s,
					       unsigned long start,
					       unsigned long end,
					       udamon_young_fn young_fn,
					       void *young_arg)
{
	static __thread struct udamon_folio fos[KPF_CHUNK];
	uint64_t ents[KPF_CHUNK], flags;
	unsigned long page = start / KPF_PAGE_SZ;
	struct kpf_walk w;
	size_t nr_fos;
	ssize_t n, i;

	if (!pi || pi->kpf_fd < 0 || pagemap_fd < 0 || kpf_walk_init(&w, s, pi))
		return 0;
	if (pi->bitmap_fd < 0)
		w.pi = NULL;
	for (; page < end / KPF_PAGE_SZ; page += (unsigned long)n) {
		size_t want = end / KPF_PAGE_SZ - page < KPF_CHUNK ?
				      end / KPF_PAGE_SZ - page :
				      KPF_CHUNK;

		n = udamon__kpage_read(pagemap_fd, page, want, ents);
		if (n <= 0)
			break;
		nr_fos = 0;
		for (i = 0; i < n; i++) {
			uint64_t pfn = ents[i] & UDAMON_PM_PFN_MASK;

			if (!(ents[i] & UDAMON_PM_PRESENT) || !pfn)
				continue;
			if (udamon__kpage_read(pi->kpf_fd, pfn, 1, &flags) != 1)
				continue;
			if (!(flags & KPF_BIT(UDAMON_KPF_LRU)) ||
			    (flags & KPF_BIT(UDAMON_KPF_COMPOUND_TAIL)))
				continue;
			kpf_folio(pi, pfn, flags, w.need_memcg, &fos[nr_fos]);
			if (young_fn && w.need_young)
				fos[nr_fos].young = young_fn(
					young_arg, (page + (unsigned long)i) *
							   KPF_PAGE_SZ);
			nr_fos++;
		}
		if (w.need_young && w.pi) {
			/* The bitmap wants ascending PFNs. */
			size_t a, b;

			for (a = 1; a < nr_fos; a++)
				for (b = a; b && fos[b - 1].pfn > fos[b].pfn;
				     b--) {
					struct udamon_folio tmp = fos[b];

					fos[b] = fos[b - 1];
					fos[b - 1] = tmp;
				}
		}
		kpf_judge(&w, fos, nr_fos);
	}
	free(w.memcg_inos);
	return w.passed;
}
