// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Workload of the VM suite's pageout test (tests/vm/guest/40-pageout.sh):
 * an idle region that is touched once and then left alone, next to a small
 * hot region written forever, so that a DAMOS pageout scheme on
 * "nr_accesses 0, old enough" has something to reclaim and something to
 * leave.
 *
 *   pageout_wl anon IDLE_MIB HOT_MIB   idle region: private anonymous
 *                                      memory, written once (needs swap
 *                                      to be paged out)
 *   pageout_wl file PATH HOT_MIB       idle region: PATH mapped MAP_SHARED
 *                                      read-only, every page read once
 *                                      (clean page cache, no swap needed)
 *
 * Prints "idle START END" once the idle region is resident, then runs until
 * killed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	volatile unsigned char sink = 0;
	size_t idle, hot, off;
	unsigned char *m, *h;

	if (argc != 4 || (strcmp(argv[1], "anon") && strcmp(argv[1], "file"))) {
		fprintf(stderr, "usage: pageout_wl anon IDLE_MIB HOT_MIB\n"
				"       pageout_wl file PATH HOT_MIB\n");
		return 2;
	}
	hot = strtoul(argv[3], NULL, 10) << 20;
	if (!strcmp(argv[1], "anon")) {
		idle = strtoul(argv[2], NULL, 10) << 20;
		/*
		 * Guard pages on both sides keep the region its own VMA (the
		 * hot one would merge with it), so that its Rss can be read
		 * from smaps.
		 */
		m = mmap(NULL, idle + 8192, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return 1;
		m += 4096;
		if (mprotect(m, idle, PROT_READ | PROT_WRITE))
			return 1;
		/* Small pages: swap-out of a THP would split it first. */
		madvise(m, idle, MADV_NOHUGEPAGE);
		/* Not zero: a zero page may be deduplicated, not swapped. */
		for (off = 0; off < idle; off += 4096)
			memset(m + off, (int)(off >> 12) | 1, 64);
	} else {
		struct stat st;
		int fd = open(argv[2], O_RDONLY);

		if (fd < 0 || fstat(fd, &st))
			return 1;
		idle = (size_t)st.st_size & ~(size_t)4095;
		m = mmap(NULL, idle, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (m == MAP_FAILED)
			return 1;
		for (off = 0; off < idle; off += 4096)
			sink += m[off];
	}
	h = mmap(NULL, hot, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (h == MAP_FAILED)
		return 1;
	madvise(h, hot, MADV_NOHUGEPAGE);
	printf("idle %lx %lx\n", (unsigned long)m, (unsigned long)(m + idle));
	fflush(stdout);
	for (unsigned char v = 0;; v++)
		for (off = 0; off < hot; off += 4096)
			h[off] = v;
}
