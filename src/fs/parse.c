// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Input parsing with the kernel's rules for sysfs files.  Every rule here
 * is observable by a user of the tree (which writes fail, with which
 * errno), so it follows lib/kstrtox.c and lib/string.c behaviour exactly:
 * base auto-detection, one optional trailing newline, overflow reported as
 * -ERANGE even when garbage follows.
 */
#include "fs/parse.h"
#include "sys/alloc.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KSTRTOX_OVERFLOW (1U << 31)

static unsigned int fs_tolower(unsigned int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool fs_isxdigit(unsigned int c)
{
	unsigned int lc = fs_tolower(c);

	return (c >= '0' && c <= '9') || (lc >= 'a' && lc <= 'f');
}

/* Base 0: "0x" followed by a hex digit is hex, a leading 0 octal. */
static const char *fs_fixup_radix(const char *s, unsigned int *base)
{
	if (s[0] == '0') {
		if (fs_tolower((unsigned char)s[1]) == 'x' &&
		    fs_isxdigit((unsigned char)s[2]))
			*base = 16;
		else
			*base = 8;
	} else {
		*base = 10;
	}
	if (*base == 16 && s[0] == '0' &&
	    fs_tolower((unsigned char)s[1]) == 'x')
		s += 2;
	return s;
}

/*
 * Consume digits; the return value counts them and carries the overflow
 * flag.  Parsing continues after an overflow so the caller can tell
 * "too big" from "not a number", as the kernel does.
 */
static unsigned int fs_parse_integer(const char *s, unsigned int base,
				     unsigned long long *p)
{
	unsigned long long res = 0;
	unsigned int rv = 0;

	for (;; s++) {
		unsigned int c = (unsigned char)*s;
		unsigned int lc = fs_tolower(c);
		unsigned int val;

		if (c >= '0' && c <= '9')
			val = c - '0';
		else if (lc >= 'a' && lc <= 'f')
			val = lc - 'a' + 10;
		else
			break;
		if (val >= base)
			break;
		if (res > (ULLONG_MAX - val) / base)
			rv |= KSTRTOX_OVERFLOW;
		res = res * base + val;
		rv++;
	}
	*p = res;
	return rv;
}

static int fs_kstrtoull_nosign(const char *s, unsigned long long *res)
{
	unsigned long long v;
	unsigned int base, rv;

	s = fs_fixup_radix(s, &base);
	rv = fs_parse_integer(s, base, &v);
	if (rv & KSTRTOX_OVERFLOW)
		return -ERANGE;
	if (rv == 0)
		return -EINVAL;
	s += rv;
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	*res = v;
	return 0;
}

int fs_kstrtoull(const char *s, unsigned long long *res)
{
	if (s[0] == '+')
		s++;
	return fs_kstrtoull_nosign(s, res);
}

int fs_kstrtoul(const char *s, unsigned long *res)
{
	unsigned long long v;
	int err = fs_kstrtoull(s, &v);

	if (err)
		return err;
	if (v != (unsigned long)v)
		return -ERANGE;
	*res = v;
	return 0;
}

int fs_kstrtouint(const char *s, unsigned int *res)
{
	unsigned long long v;
	int err = fs_kstrtoull(s, &v);

	if (err)
		return err;
	if (v != (unsigned int)v)
		return -ERANGE;
	*res = v;
	return 0;
}

int fs_kstrtoll(const char *s, long long *res)
{
	unsigned long long v;
	int err;

	if (s[0] == '-') {
		err = fs_kstrtoull_nosign(s + 1, &v);
		if (err)
			return err;
		if ((long long)(0ULL - v) > 0)
			return -ERANGE;
		*res = (long long)(0ULL - v);
	} else {
		err = fs_kstrtoull(s, &v);
		if (err)
			return err;
		if ((long long)v < 0)
			return -ERANGE;
		*res = (long long)v;
	}
	return 0;
}

int fs_kstrtoint(const char *s, int *res)
{
	long long v;
	int err = fs_kstrtoll(s, &v);

	if (err)
		return err;
	if (v != (int)v)
		return -ERANGE;
	*res = (int)v;
	return 0;
}

int fs_kstrtobool(const char *s, bool *res)
{
	if (!s)
		return -EINVAL;
	switch (s[0]) {
	case 'y':
	case 'Y':
	case 't':
	case 'T':
	case '1':
		*res = true;
		return 0;
	case 'n':
	case 'N':
	case 'f':
	case 'F':
	case '0':
		*res = false;
		return 0;
	case 'o':
	case 'O':
		switch (s[1]) {
		case 'n':
		case 'N':
			*res = true;
			return 0;
		case 'f':
		case 'F':
			*res = false;
			return 0;
		default:
			break;
		}
		break;
	default:
		break;
	}
	return -EINVAL;
}

bool fs_sysfs_streq(const char *s1, const char *s2)
{
	while (*s1 && *s1 == *s2) {
		s1++;
		s2++;
	}
	if (*s1 == *s2)
		return true;
	if (!*s1 && *s2 == '\n' && !s2[1])
		return true;
	if (*s1 == '\n' && !s1[1] && !*s2)
		return true;
	return false;
}
