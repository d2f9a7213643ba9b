/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The allocation seam: every heap allocation of the library (src/core,
 * src/ops, src/sys, src/record) and of udamond's tree (src/fs) goes
 * through these wrappers, so that a test can count allocations and make
 * the Nth one fail, and so prove that each failure gives a clean negative
 * errno with nothing leaked and nothing half-changed (tests/unit/
 * test_oom.c).  Memory from these wrappers is released with plain free().
 *
 * The wrappers behave exactly like the libc call of the same name; an
 * injected failure looks like a real one (NULL or -1 with errno ENOMEM).
 * The counter and the failure point are atomics, so that allocations on a
 * kdamond thread are counted too; when no failure is armed the cost is
 * one relaxed atomic increment.
 */
#ifndef UDAMON_ALLOC_H
#define UDAMON_ALLOC_H

#include <stddef.h>
#include <stdio.h>

void *udamon__malloc(size_t size);
void *udamon__calloc(size_t nmemb, size_t size);
void *udamon__realloc(void *ptr, size_t size);
char *udamon__strdup(const char *s);
char *udamon__strndup(const char *s, size_t n);
int udamon__asprintf(char **strp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* fopen() allocates the FILE; an injected failure sets errno ENOMEM. */
FILE *udamon__fopen(const char *path, const char *mode);
/*
 * open_memstream(3): a FILE writing into a buffer that grows as needed.
 * Opening it counts as one allocation.  Its buffer then grows by realloc
 * inside libc, outside the seam: a failed growth shows as ferror() or as
 * fclose() returning EOF, which the caller must check.
 */
FILE *udamon__open_memstream(char **ptr, size_t *sizeloc);

/* ---- for tests ---- */

/* Number of allocations through the seam since the last reset. */
unsigned long udamon__alloc_count(void);

/*
 * udamon__alloc_fail_at() - make allocation number @nth fail.
 * @nth: counted from 1 after this call; 0 disarms.
 *
 * Resets the count.  Only that one allocation fails: later ones succeed
 * again, as after a transient shortage, which exercises the recovery and
 * the retry paths too.
 */
void udamon__alloc_fail_at(unsigned long nth);

/* Whether the armed failure has been delivered. */
int udamon__alloc_failed(void);

#endif /* UDAMON_ALLOC_H */
