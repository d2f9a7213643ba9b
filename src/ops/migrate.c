// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DAMOS migrate_hot / migrate_cold for vaddr and fvaddr (spec §5.2):
 * the pages of a region move with move_pages(2) to the scheme's
 * target_nid, or, with weighted destinations, to the node the kernel's
 * weighted interleave picks for each page.  Pages already on their node
 * are skipped, and the bytes applied are the pages the kernel reports on
 * their destination afterwards.
 *
 * Differences from the kernel, which walks folios: udamon sees pages, so
 * the interleave index uses order 0 for every page, and an anonymous
 * VMA's page offset is taken as its start address in pages (what the
 * kernel gives a new anonymous mapping; /proc/PID/maps prints 0 there).
 */
#include "ops/vaddr.h"
#include "core/ops-api.h"
#include "sys/sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIG_PAGE_SZ 4096UL
#define MIG_BATCH 512
#define MIG_MPOL_MF_MOVE (1 << 1)
#define MIG_MAX_NODES 1024 /* MAX_NUMNODES of the largest configs */
#define MIG_MAX_MAPS (64UL << 20)

int udamon__interleave_node(const struct damos_migrate_dests *d,
			    unsigned long ilx)
{
	unsigned long total = 0, t;
	size_t i;

	for (i = 0; i < d->nr_dests; i++)
		total += d->weight_arr[i];
	if (!total)
		return -1;
	t = ilx % total;
	for (i = 0; i < d->nr_dests; i++) {
		if (t < d->weight_arr[i])
			return (int)d->node_id_arr[i];
		t -= d->weight_arr[i];
	}
	return -1;
}

/* Whether node @nid exists (and so may take pages). */
static bool mig_node_valid(int nid)
{
	char path[64];
	struct stat st;

	if (nid < 0 || nid >= MIG_MAX_NODES)
		return false;
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", nid);
	return !udamon__sys.stat(path, &st);
}

int udamon__maps_vma_of(const char *maps, unsigned long addr,
			struct udamon_vma *vma)
{
	const char *p = maps;

	while (p && *p) {
		unsigned long start, end, off, ino;
		const char *eol = strchr(p, '\n');
		char perms[8];
		unsigned int maj, min;

		if (sscanf(p, "%lx-%lx %7s %lx %x:%x %lu", &start, &end, perms,
			   &off, &maj, &min, &ino) == 7 &&
		    start <= addr && addr < end) {
			vma->start = start;
			vma->end = end;
			/* Anonymous: the kernel's vm_pgoff is start's page. */
			vma->pgoff = ino ? off / MIG_PAGE_SZ :
					   start / MIG_PAGE_SZ;
			return 0;
		}
		p = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

/* The destination of the page at @addr, or -1 for none. */
static int mig_dest(struct damos *s, const char *maps, unsigned long addr)
{
	struct udamon_vma vma;

	if (!s->migrate_dests.nr_dests)
		return s->target_nid;
	if (!maps || udamon__maps_vma_of(maps, addr, &vma))
		return -1;
	return udamon__interleave_node(&s->migrate_dests,
				       vma.pgoff + (addr - vma.start) /
							   MIG_PAGE_SZ);
}

/* Move one batch; return the bytes that ended on their destination. */
static unsigned long mig_batch(int pid, void **pages, int *nodes, size_t nr)
{
	int status[MIG_BATCH], where[MIG_BATCH];
	void *todo[MIG_BATCH];
	int todo_nodes[MIG_BATCH];
	size_t i, n = 0;
	unsigned long moved = 0;

	/* Where each page is now (nodes NULL: query only). */
	if (udamon__sys.move_pages(pid, nr, pages, NULL, where, 0) < 0)
		return 0;
	for (i = 0; i < nr; i++) {
		if (where[i] < 0 || where[i] == nodes[i])
			continue; /* not present, or already there */
		todo[n] = pages[i];
		todo_nodes[n] = nodes[i];
		n++;
	}
	if (!n)
		return 0;
	if (udamon__sys.move_pages(pid, n, todo, todo_nodes, status,
				   MIG_MPOL_MF_MOVE) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (status[i] == todo_nodes[i])
			moved += MIG_PAGE_SZ;
	return moved;
}

unsigned long udamon__vaddr_migrate(int pid, struct damos *s,
				    unsigned long start, unsigned long end)
{
	void *pages[MIG_BATCH];
	int nodes[MIG_BATCH];
	unsigned long addr, moved = 0;
	char *maps = NULL, path[64];
	size_t nr = 0, i;
	int nid;

	if (s->migrate_dests.nr_dests) {
		for (i = 0; i < s->migrate_dests.nr_dests; i++)
			if (!mig_node_valid(
				    (int)s->migrate_dests.node_id_arr[i]))
				return 0;
		snprintf(path, sizeof(path), "/proc/%d/maps", pid);
		if (udamon__sys_read_file(path, &maps, NULL, MIG_MAX_MAPS))
			return 0;
	} else if (!mig_node_valid(s->target_nid)) {
		return 0; /* the kernel migrates nothing to an invalid node */
	}
	for (addr = start; addr < end; addr += MIG_PAGE_SZ) {
		nid = mig_dest(s, maps, addr);
		if (nid < 0)
			continue;
		pages[nr] = (void *)addr;
		nodes[nr] = nid;
		if (++nr == MIG_BATCH) {
			moved += mig_batch(pid, pages, nodes, nr);
			nr = 0;
		}
	}
	if (nr)
		moved += mig_batch(pid, pages, nodes, nr);
	free(maps);
	return moved;
}
