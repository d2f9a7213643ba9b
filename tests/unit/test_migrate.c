// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * migrate_hot / migrate_cold of vaddr (src/ops/migrate.c): the weighted
 * interleave arithmetic of spec §5.2, the page offset of a VMA from
 * /proc/PID/maps, and the move_pages calls against a fake two-node
 * kernel behind the sys seam (pages already in place are skipped,
 * invalid nodes move nothing, the bytes applied are what moved).  Plus,
 * on this machine, a real move to node 0 where everything already is.
 */
#include "../lib/tap.h"
#include "fake-files.h"

#include "ops/vaddr.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PID 4242
#define VBASE 0x7f0000000000UL
#define NPAGES 64

static struct {
	int node[NPAGES]; /* current node of each page; -ENOENT: absent */
	int nr_query, nr_move;
	unsigned long moved_pages;
	bool refuse_node1; /* the kernel fails moves to node 1 (-ENOMEM) */
} fk;

static long fake_move_pages(pid_t pid, unsigned long count, void **pages,
			    const int *nodes, int *status, int flags)
{
	unsigned long i, pg;

	if (pid != PID) {
		errno = ESRCH;
		return -1;
	}
	if (!nodes)
		fk.nr_query++;
	else
		fk.nr_move++;
	for (i = 0; i < count; i++) {
		pg = ((unsigned long)pages[i] - VBASE) / 4096;
		if (pg >= NPAGES || fk.node[pg] < 0) {
			status[i] = -ENOENT;
			continue;
		}
		if (nodes) {
			if (nodes[i] == 1 && fk.refuse_node1) {
				status[i] = -ENOMEM;
				continue;
			}
			if (fk.node[pg] != nodes[i])
				fk.moved_pages++;
			fk.node[pg] = nodes[i];
		}
		status[i] = fk.node[pg];
	}
	return 0;
}

static int fake_stat(const char *path, struct stat *st)
{
	if (!strcmp(path, "/sys/devices/system/node/node0") ||
	    !strcmp(path, "/sys/devices/system/node/node1")) {
		memset(st, 0, sizeof(*st));
		return 0;
	}
	errno = ENOENT;
	return -1;
}

/* Anonymous VMA at VBASE, a file VMA with offset 0x3000 after it. */
static const char maps[] =
	"7f0000000000-7f0000020000 rw-p 00000000 00:00 0\n"
	"7f0000020000-7f0000040000 rw-p 00003000 08:01 1234 /data\n";

static struct damos *new_scheme(enum damos_action a, int target_nid)
{
	struct damos_access_pattern pattern = {
		.max_sz_region = ULONG_MAX,
		.max_nr_accesses = UINT_MAX,
		.max_age_region = UINT_MAX,
	};
	struct damos_quota quota = { 0 };
	struct damos_watermarks wmarks = { .metric = DAMOS_WMARK_NONE };

	return damon_new_scheme(&pattern, a, 0, &quota, &wmarks, target_nid);
}

static void install(void)
{
	int i;

	memset(&fk, 0, sizeof(fk));
	for (i = 0; i < NPAGES; i++)
		fk.node[i] = 0;
	ff_reset();
	udamon__sys_reset();
	ff_install();
	ff_text("/proc/4242/maps", maps);
	udamon__sys.move_pages = fake_move_pages;
	udamon__sys.stat = fake_stat;
}

static void test_interleave(void)
{
	unsigned int ids[3] = { 0, 1, 2 }, w[3] = { 3, 1, 0 };
	struct damos_migrate_dests d = { ids, w, 3 };
	int count[3] = { 0 };
	unsigned long i;

	/* Index 0,1,2 -> node 0; 3 -> node 1; and again every 4. */
	CHECK_EQ(udamon__interleave_node(&d, 0), 0);
	CHECK_EQ(udamon__interleave_node(&d, 2), 0);
	CHECK_EQ(udamon__interleave_node(&d, 3), 1);
	CHECK_EQ(udamon__interleave_node(&d, 4), 0);
	CHECK_EQ(udamon__interleave_node(&d, 7), 1);
	for (i = 0; i < 4000; i++)
		count[udamon__interleave_node(&d, i)]++;
	CHECK_EQ(count[0], 3000);
	CHECK_EQ(count[1], 1000);
	CHECK_EQ(count[2], 0); /* weight 0: never */
	/* All weights 0: no destination. */
	w[0] = w[1] = 0;
	CHECK_EQ(udamon__interleave_node(&d, 5), -1);
	d.nr_dests = 0;
	CHECK_EQ(udamon__interleave_node(&d, 5), -1);
}

static void test_vma_pgoff(void)
{
	struct udamon_vma v;

	CHECK_EQ(udamon__maps_vma_of(maps, VBASE + 0x5000, &v), 0);
	CHECK_EQ(v.start, VBASE);
	CHECK_EQ(v.pgoff, VBASE / 4096); /* anonymous */
	CHECK_EQ(udamon__maps_vma_of(maps, VBASE + 0x20000, &v), 0);
	CHECK_EQ(v.pgoff, 3); /* file offset 0x3000 */
	CHECK_EQ(udamon__maps_vma_of(maps, VBASE + 0x40000, &v), -ENOENT);
}

static void test_target_nid(void)
{
	struct damos *s = new_scheme(DAMOS_MIGRATE_COLD, 1);

	REQUIRE(s);
	install();
	fk.node[3] = 1; /* already there: skipped */
	fk.node[5] = -ENOENT; /* not present */
	CHECK_EQ(udamon__vaddr_migrate(PID, s, VBASE, VBASE + 16 * 4096),
		 14 * 4096);
	CHECK_EQ(fk.moved_pages, 14);
	CHECK_EQ(fk.nr_query, 1);
	CHECK_EQ(fk.nr_move, 1);
	/* Again: everything is in place, no move call at all. */
	CHECK_EQ(udamon__vaddr_migrate(PID, s, VBASE, VBASE + 16 * 4096), 0);
	CHECK_EQ(fk.nr_move, 1);
	/* Invalid nodes: nothing is even asked. */
	s->target_nid = 7;
	CHECK_EQ(udamon__vaddr_migrate(PID, s, VBASE, VBASE + 16 * 4096), 0);
	s->target_nid = -1;
	CHECK_EQ(udamon__vaddr_migrate(PID, s, VBASE, VBASE + 16 * 4096), 0);
	CHECK_EQ(fk.nr_query, 2);
	/* Bytes applied are what the kernel moved. */
	s->target_nid = 1;
	fk.refuse_node1 = true;
	fk.node[0] = 0;
	CHECK_EQ(udamon__vaddr_migrate(PID, s, VBASE, VBASE + 4096), 0);
	damon_destroy_scheme(s);
	udamon__sys_reset();
}

static void test_weighted_dests(void)
{
	unsigned int ids[2] = { 0, 1 }, w[2] = { 1, 1 };
	struct damos *s = new_scheme(DAMOS_MIGRATE_HOT, 0);
	int i;

	REQUIRE(s);
	REQUIRE(damos_set_migrate_dests(s, ids, w, 2) == 0);
	install();
	/* Anonymous VMA: ilx = page number; even -> 0, odd -> 1. */
	CHECK_EQ(udamon__vaddr_migrate(PID, s, VBASE, VBASE + 32 * 4096),
		 16 * 4096);
	for (i = 0; i < 32; i++)
		CHECK_EQ(fk.node[i], i % 2);
	/* File VMA at page 32, pgoff 3: ilx = 3 + i; page 32 -> node 1. */
	CHECK_EQ(udamon__vaddr_migrate(PID, s, VBASE + 32 * 4096,
				       VBASE + 36 * 4096),
		 2 * 4096);
	CHECK_EQ(fk.node[32], 1);
	CHECK_EQ(fk.node[33], 0);
	CHECK_EQ(fk.node[34], 1);
	/* A destination that does not exist: nothing. */
	ids[1] = 9;
	REQUIRE(damos_set_migrate_dests(s, ids, w, 2) == 0);
	fk.moved_pages = 0;
	CHECK_EQ(udamon__vaddr_migrate(PID, s, VBASE, VBASE + 32 * 4096), 0);
	CHECK_EQ(fk.moved_pages, 0);
	damon_destroy_scheme(s);
	udamon__sys_reset();
}

/* This machine has one node: to node 0 everything is already there. */
static void test_real_node0(void)
{
	size_t len = 16 * 4096;
	struct damos *s = new_scheme(DAMOS_MIGRATE_HOT, 0);
	char *p;

	REQUIRE(s);
	udamon__sys_reset();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	REQUIRE(p != MAP_FAILED);
	memset(p, 1, len);
	CHECK_EQ(udamon__vaddr_migrate(getpid(), s, (unsigned long)p,
				       (unsigned long)p + len),
		 0);
	/* Node 1 does not exist here: nothing either. */
	s->target_nid = 1;
	if (access("/sys/devices/system/node/node1", F_OK))
		CHECK_EQ(udamon__vaddr_migrate(getpid(), s, (unsigned long)p,
					       (unsigned long)p + len),
			 0);
	munmap(p, len);
	damon_destroy_scheme(s);
}

int main(void)
{
	static const struct tap_case cases[] = {
		TAP_CASE(test_interleave), TAP_CASE(test_vma_pgoff),
		TAP_CASE(test_target_nid), TAP_CASE(test_weighted_dests),
		TAP_CASE(test_real_node0),
	};

	return tap_main(cases, TAP_NR(cases));
}
