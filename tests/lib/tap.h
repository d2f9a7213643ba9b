/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Minimal TAP test harness for udamon's test programs.
 *
 * Each case runs in its own forked process with a timeout (as libuv's
 * runner does), so a crash or hang fails one case, not the program.  Set
 * UDAMON_TEST_NOFORK=1 to run cases in-process (for debuggers).  Output is
 * TAP plus a final "# N passed, N failed" line.
 *
 * Usage:
 *	static void test_foo(void) { CHECK_EQ(1 + 1, 2); }
 *	static const struct tap_case cases[] = { TAP_CASE(test_foo) };
 *	int main(void) { return tap_main(cases, TAP_NR(cases)); }
 */
#ifndef UDAMON_TAP_H
#define UDAMON_TAP_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct tap_case {
	const char *name;
	void (*fn)(void);
	unsigned int timeout_s; /* 0: default (60 s) */
};

#define TAP_CASE(fn)       \
	{                  \
#fn, fn, 0 \
	}
#define TAP_CASE_TIMEOUT(fn, s) \
	{                       \
#fn, fn, s      \
	}
#define TAP_NR(arr) (sizeof(arr) / sizeof((arr)[0]))

extern int tap_failures;
int tap_main(const struct tap_case *cases, size_t nr);
void tap_skip(const char *why);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond)                                                   \
	do {                                                          \
		if (!(cond)) {                                        \
			tap_failures++;                               \
			tap_diag("%s:%d: CHECK(%s) failed", __FILE__, \
				 __LINE__, #cond);                    \
		}                                                     \
	} while (0)

/* Compare as signed or unsigned 64-bit integers, printing both values. */
#define CHECK_EQ(a, b)                                                        \
	do {                                                                  \
		long long tap_a_ = (long long)(a), tap_b_ = (long long)(b);   \
		if (tap_a_ != tap_b_) {                                       \
			tap_failures++;                                       \
			tap_diag("%s:%d: %s == %s failed: %lld != %lld",      \
				 __FILE__, __LINE__, #a, #b, tap_a_, tap_b_); \
		}                                                             \
	} while (0)

#define CHECK_STREQ(a, b)                                                    \
	do {                                                                 \
		const char *tap_a_ = (a), *tap_b_ = (b);                     \
		if (!tap_a_ || !tap_b_ || strcmp(tap_a_, tap_b_)) {          \
			tap_failures++;                                      \
			tap_diag("%s:%d: %s == %s failed: \"%s\" != \"%s\"", \
				 __FILE__, __LINE__, #a, #b,                 \
				 tap_a_ ? tap_a_ : "(null)",                 \
				 tap_b_ ? tap_b_ : "(null)");                \
		}                                                            \
	} while (0)

/* Stop the current case when a precondition for the rest fails. */
#define REQUIRE(cond)                                                   \
	do {                                                            \
		if (!(cond)) {                                          \
			tap_failures++;                                 \
			tap_diag("%s:%d: REQUIRE(%s) failed", __FILE__, \
				 __LINE__, #cond);                      \
			return;                                         \
		}                                                       \
	} while (0)

#endif /* UDAMON_TAP_H */
