// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The page idle tracking access source (CONFIG_IDLE_PAGE_TRACKING):
 * sampled pages are marked idle, and later read back, through
 * /sys/kernel/mm/page_idle/bitmap, with /proc/kpageflags telling which
 * pages the bitmap can track at all (LRU pages) and where a huge page's
 * head is.  Used by paddr (PFN = physical address / page size) and by
 * vaddr/fvaddr (PFN from /proc/PID/pagemap) when the bitmap is usable.
 *
 * The bitmap's rules (PLATFORM.md §1a), which shape everything here:
 *  - one bit per PFN in 64-bit words; offsets and lengths are multiples
 *    of 8 bytes, and one call moves at most 4096 bytes (512 words);
 *  - writing a 0 bit does nothing, so a span of words holding several
 *    sampled PFNs is written in one call with only their bits set;
 *  - reading a word walks the reverse map of every idle page in it, so
 *    sampled PFNs are read in as few spans as possible and never one
 *    word per page;
 *  - when max_pfn is not a multiple of 64, the last partial word cannot
 *    be read or written (the call returns 0 bytes): its PFNs read as
 *    "unknown", which the callers count as not accessed.
 * Every access goes through the sys seam.
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

#define PIDLE_WORDS_PER_CALL 512
/* Read or write the words in between when sampled words are this close. */
#define PIDLE_MAX_GAP_WORDS 4
#define PIDLE_THP_PAGES 512

bool udamon__page_idle_usable(void)
{
	int fd = udamon__sys.open(UDAMON_PAGE_IDLE_BITMAP, O_RDWR | O_CLOEXEC,
				  0);

	if (fd < 0)
		return false;
	udamon__sys.close(fd);
	return true;
}

/*
 * The span of words starting at the word of @pfns[*i]: it ends before a
 * gap of more than PIDLE_MAX_GAP_WORDS or at PIDLE_WORDS_PER_CALL words.
 * Advances *i past the PFNs inside; returns the first word and count.
 */
static void pidle_next_span(const uint64_t *pfns, size_t nr, size_t *i,
			    uint64_t *first, size_t *nr_words)
{
	uint64_t w0 = pfns[*i] / 64, last = w0;

	for ((*i)++; *i < nr; (*i)++) {
		uint64_t w = pfns[*i] / 64;

		if (w - last > PIDLE_MAX_GAP_WORDS ||
		    w - w0 >= PIDLE_WORDS_PER_CALL)
			break;
		last = w;
	}
	*first = w0;
	*nr_words = (size_t)(last - w0 + 1);
}

int udamon__page_idle_set(int fd, const uint64_t *pfns, size_t nr)
{
	uint64_t words[PIDLE_WORDS_PER_CALL];
	size_t i = 0, j, nr_words, done;
	uint64_t w0;
	ssize_t n;

	while (i < nr) {
		size_t from = i;

		pidle_next_span(pfns, nr, &i, &w0, &nr_words);
		memset(words, 0, nr_words * sizeof(words[0]));
		for (j = from; j < i; j++)
			words[pfns[j] / 64 - w0] |= 1ULL << (pfns[j] % 64);
		for (done = 0; done < nr_words * 8; done += (size_t)n) {
			n = udamon__sys.pwrite(fd, (char *)words + done,
					       nr_words * 8 - done,
					       (off_t)(w0 * 8 + done));
			if (n < 0) {
				if (errno == EINTR) {
					n = 0;
					continue;
				}
				return -errno;
			}
			if (n == 0)
				break; /* the unreachable last word */
		}
	}
	return 0;
}

int udamon__page_idle_get(int fd, const uint64_t *pfns, size_t nr, int8_t *idle)
{
	uint64_t words[PIDLE_WORDS_PER_CALL];
	size_t i = 0, j, nr_words, done;
	uint64_t w0;
	ssize_t n;

	while (i < nr) {
		size_t from = i;

		pidle_next_span(pfns, nr, &i, &w0, &nr_words);
		for (done = 0; done < nr_words * 8; done += (size_t)n) {
			n = udamon__sys.pread(fd, (char *)words + done,
					      nr_words * 8 - done,
					      (off_t)(w0 * 8 + done));
			if (n < 0) {
				if (errno == EINTR) {
					n = 0;
					continue;
				}
				return -errno;
			}
			if (n == 0)
				break;
		}
		for (j = from; j < i; j++) {
			size_t w = (size_t)(pfns[j] / 64 - w0);

			if ((w + 1) * 8 > done)
				idle[j] = -1; /* could not be read */
			else
				idle[j] = (words[w] >> (pfns[j] % 64)) & 1;
		}
	}
	return 0;
}

ssize_t udamon__kpage_read(int fd, uint64_t pfn, size_t nr, uint64_t *out)
{
	size_t done = 0;
	ssize_t n;

	while (done < nr * 8) {
		n = udamon__sys.pread(fd, (char *)out + done, nr * 8 - done,
				      (off_t)(pfn * 8 + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)(done / 8);
}

/* ---- the per-context sample set ---- */

int udamon__pidle_open(struct udamon_pidle *pi, char *why, size_t len)
{
	memset(pi, 0, sizeof(*pi));
	pi->kpf_fd = -1;
	pi->kpcg_fd = -1;
	pi->bitmap_fd = udamon__sys.open(UDAMON_PAGE_IDLE_BITMAP,
					 O_RDWR | O_CLOEXEC, 0);
	if (pi->bitmap_fd < 0) {
		int err = -errno;

		if (why && len)
			snprintf(
				why, len,
				"page idle tracking is not usable (%s: %s; it needs CONFIG_IDLE_PAGE_TRACKING and root)",
				UDAMON_PAGE_IDLE_BITMAP, strerror(-err));
		return err;
	}
	pi->kpf_fd =
		udamon__sys.open("/proc/kpageflags", O_RDONLY | O_CLOEXEC, 0);
	if (pi->kpf_fd < 0)
		udamon__log(
			DAMON_LOG_WARN,
			"page-idle: /proc/kpageflags: %s; pages the bitmap cannot track (not on an LRU list) will read as accessed",
			strerror(errno));
	pi->kpcg_fd =
		udamon__sys.open("/proc/kpagecgroup", O_RDONLY | O_CLOEXEC, 0);
	return 0;
}

void udamon__pidle_close(struct udamon_pidle *pi)
{
	if (pi->bitmap_fd >= 0)
		udamon__sys.close(pi->bitmap_fd);
	if (pi->kpf_fd >= 0)
		udamon__sys.close(pi->kpf_fd);
	if (pi->kpcg_fd >= 0)
		udamon__sys.close(pi->kpcg_fd);
	free(pi->pfn);
	free(pi->sorted);
	free(pi->idle);
	memset(pi, 0, sizeof(*pi));
	pi->bitmap_fd = pi->kpf_fd = pi->kpcg_fd = -1;
}

uint64_t udamon__pidle_sample_pfn(struct udamon_pidle *pi, uint64_t pfn)
{
	uint64_t flags, head;

	if (pfn == UDAMON_PFN_NONE || pi->kpf_fd < 0)
		return pfn;
	if (udamon__kpage_read(pi->kpf_fd, pfn, 1, &flags) != 1)
		return UDAMON_PFN_NONE;
	/* Only LRU pages have an idle bit; others are never accessed. */
	if (!(flags & (1ULL << UDAMON_KPF_LRU)) ||
	    (flags & (1ULL << UDAMON_KPF_NOPAGE)))
		return UDAMON_PFN_NONE;
	if ((flags & (1ULL << UDAMON_KPF_THP)) &&
	    (flags & (1ULL << UDAMON_KPF_COMPOUND_TAIL))) {
		/*
		 * The folio's flag lives in its head; asking by the head
		 * lets samples in one huge page share one answer.
		 */
		head = pfn & ~(uint64_t)(PIDLE_THP_PAGES - 1);
		if (udamon__kpage_read(pi->kpf_fd, head, 1, &flags) == 1 &&
		    (flags & (1ULL << UDAMON_KPF_COMPOUND_HEAD)) &&
		    (flags & (1ULL << UDAMON_KPF_THP)))
			return head;
	}
	return pfn;
}

void udamon__pidle_begin(struct udamon_pidle *pi)
{
	pi->nr = 0;
	pi->nr_sorted = 0;
}

int udamon__pidle_add(struct udamon_pidle *pi, uint64_t pfn)
{
	if (pi->nr == pi->cap) {
		size_t cap = pi->cap ? pi->cap * 2 : 256;
		uint64_t *np = udamon__realloc(pi->pfn, cap * sizeof(*np));
		uint64_t *ns;
		int8_t *ni;

		if (!np)
			return -ENOMEM;
		pi->pfn = np;
		ns = udamon__realloc(pi->sorted, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		pi->sorted = ns;
		ni = udamon__realloc(pi->idle, cap * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		pi->idle = ni;
		pi->cap = cap;
	}
	pi->pfn[pi->nr++] = pfn;
	return 0;
}

static int pidle_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The sampled PFNs, sorted and unique, into pi->sorted. */
static void pidle_sort(struct udamon_pidle *pi)
{
	size_t i, n = 0;

	for (i = 0; i < pi->nr; i++)
		if (pi->pfn[i] != UDAMON_PFN_NONE)
			pi->sorted[n++] = pi->pfn[i];
	qsort(pi->sorted, n, sizeof(pi->sorted[0]), pidle_cmp);
	pi->nr_sorted = 0;
	for (i = 0; i < n; i++)
		if (!pi->nr_sorted ||
		    pi->sorted[pi->nr_sorted - 1] != pi->sorted[i])
			pi->sorted[pi->nr_sorted++] = pi->sorted[i];
}

int udamon__pidle_mark(struct udamon_pidle *pi)
{
	int err;

	pidle_sort(pi);
	err = udamon__page_idle_set(pi->bitmap_fd, pi->sorted, pi->nr_sorted);
	/*
	 * Pages never marked idle would read back as accessed: sample
	 * nothing rather than report accesses that did not happen.
	 */
	if (err)
		pi->nr_sorted = 0;
	return err;
}

int udamon__pidle_collect(struct udamon_pidle *pi)
{
	int err;

	/* pi->sorted still holds what udamon__pidle_mark() marked. */
	err = udamon__page_idle_get(pi->bitmap_fd, pi->sorted, pi->nr_sorted,
				    pi->idle);
	if (err)
		memset(pi->idle, -1, pi->nr_sorted);
	return err;
}

bool udamon__pidle_accessed(struct udamon_pidle *pi, size_t i)
{
	size_t lo = 0, hi = pi->nr_sorted;
	uint64_t pfn;

	if (i >= pi->nr || pi->pfn[i] == UDAMON_PFN_NONE)
		return false;
	pfn = pi->pfn[i];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pi->sorted[mid] < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Cleared idle bit: accessed.  Unknown (-1): not. */
	return lo < pi->nr_sorted && pi->sorted[lo] == pfn && pi->idle[lo] == 0;
}

/* ---- the context state shared by vaddr, fvaddr and paddr ---- */

struct udamon_real_ctx *udamon__real_ctx(struct damon_ctx *ctx)
{
	struct udamon_real_ctx *rc = ctx->ops_priv;

	if (rc)
		return rc;
	rc = udamon__calloc(1, sizeof(*rc));
	if (!rc)
		return NULL;
	rc->pi.bitmap_fd = rc->pi.kpf_fd = rc->pi.kpcg_fd = -1;
	rc->budget.per_sec = UDAMON_DEFAULT_OVERHEAD_BUDGET;
	ctx->ops_priv = rc;
	return rc;
}

/* The bitmap state of @rc, opened on first use; NULL if unusable. */
struct udamon_pidle *udamon__real_pidle(struct udamon_real_ctx *rc)
{
	char why[256];

	if (rc->pi_open)
		return &rc->pi;
	if (rc->pi_failed)
		return NULL;
	if (udamon__pidle_open(&rc->pi, why, sizeof(why))) {
		udamon__log(DAMON_LOG_ERR, "page-idle: %s", why);
		rc->pi_failed = true;
		return NULL;
	}
	rc->pi_open = true;
	return &rc->pi;
}

struct udamon_pidle *udamon__real_kpages(struct udamon_real_ctx *rc)
{
	if (rc->pi_open)
		return &rc->pi;
	if (!rc->kp_open) {
		memset(&rc->kp, 0, sizeof(rc->kp));
		rc->kp.bitmap_fd = -1;
		rc->kp.kpf_fd = udamon__sys.open("/proc/kpageflags",
						 O_RDONLY | O_CLOEXEC, 0);
		rc->kp.kpcg_fd = udamon__sys.open("/proc/kpagecgroup",
						  O_RDONLY | O_CLOEXEC, 0);
		rc->kp_open = true;
		if (rc->kp.kpf_fd < 0)
			udamon__log(
				DAMON_LOG_WARN,
				"ops filters: /proc/kpageflags: %s; no memory passes them",
				strerror(errno));
	}
	return &rc->kp;
}

void udamon__real_free_priv(struct damon_ctx *ctx)
{
	struct udamon_real_ctx *rc = ctx->ops_priv;

	if (!rc)
		return;
	if (rc->pi_open)
		udamon__pidle_close(&rc->pi);
	if (rc->kp_open)
		udamon__pidle_close(&rc->kp);
	free(rc);
	ctx->ops_priv = NULL;
}

int udamon__real_commit_priv(struct damon_ctx *dst, struct damon_ctx *src)
{
	struct udamon_real_ctx *s = src->ops_priv, *d;

	/* Only the requested source travels; the open state stays. */
	if (!s || s == dst->ops_priv)
		return 0;
	d = udamon__real_ctx(dst);
	if (!d)
		return -ENOMEM;
	if (d->want != s->want) {
		d->want = s->want;
		d->src = UDAMON_SRC_AUTO; /* decide again */
	}
	d->cold_on_writes_only = s->cold_on_writes_only;
	d->no_attach = s->no_attach;
	d->budget.per_sec = s->budget.per_sec;
	return 0;
}
