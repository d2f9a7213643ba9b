// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The allocation seam: libc wrappers with a counter and one armed
 * failure.  See alloc.h.
 */
#include "sys/alloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static unsigned long alloc_count;
static unsigned long alloc_fail_nth;
static int alloc_fail_delivered;

/* Count one allocation; true if this one is to fail (errno set). */
static int alloc_should_fail(void)
{
	unsigned long n = __atomic_add_fetch(&alloc_count, 1, __ATOMIC_RELAXED);

	if (n != __atomic_load_n(&alloc_fail_nth, __ATOMIC_RELAXED))
		return 0;
	__atomic_store_n(&alloc_fail_delivered, 1, __ATOMIC_RELAXED);
	errno = ENOMEM;
	return 1;
}

void *udamon__malloc(size_t size)
{
	return alloc_should_fail() ? NULL : malloc(size);
}

void *udamon__calloc(size_t nmemb, size_t size)
{
	return alloc_should_fail() ? NULL : calloc(nmemb, size);
}

void *udamon__realloc(void *ptr, size_t size)
{
	return alloc_should_fail() ? NULL : realloc(ptr, size);
}

char *udamon__strdup(const char *s)
{
	return alloc_should_fail() ? NULL : strdup(s);
}

char *udamon__strndup(const char *s, size_t n)
{
	return alloc_should_fail() ? NULL : strndup(s, n);
}

int udamon__asprintf(char **strp, const char *fmt, ...)
{
	va_list ap;
	int ret;

	if (alloc_should_fail())
		return -1;
	va_start(ap, fmt);
	ret = vasprintf(strp, fmt, ap);
	va_end(ap);
	return ret;
}

FILE *udamon__fopen(const char *path, const char *mode)
{
	return alloc_should_fail() ? NULL : fopen(path, mode);
}

FILE *udamon__open_memstream(char **ptr, size_t *sizeloc)
{
	return alloc_should_fail() ? NULL : open_memstream(ptr, sizeloc);
}

unsigned long udamon__alloc_count(void)
{
	return __atomic_load_n(&alloc_count, __ATOMIC_RELAXED);
}

void udamon__alloc_fail_at(unsigned long nth)
{
	__atomic_store_n(&alloc_fail_nth, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&alloc_count, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&alloc_fail_delivered, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&alloc_fail_nth, nth, __ATOMIC_RELAXED);
}

int udamon__alloc_failed(void)
{
	return __atomic_load_n(&alloc_fail_delivered, __ATOMIC_RELAXED);
}
