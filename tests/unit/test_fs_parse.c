// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the sysfs input parsers (src/fs/parse.c): kstrtoul and
 * friends with base auto-detection, their -EINVAL/-ERANGE split,
 * kstrtobool and sysfs_streq, each against what the kernel answers.  The
 * parser source is included so the test needs no FUSE and no Makefile rule.
 */
#include "fs/parse.c"

#include <errno.h>
#include <limits.h>

#include "../lib/tap.h"

static void test_kstrtoul_bases(void)
{
	unsigned long v = 0;

	CHECK_EQ(fs_kstrtoul("10", &v), 0);
	CHECK_EQ(v, 10);
	CHECK_EQ(fs_kstrtoul("10\n", &v), 0);
	CHECK_EQ(v, 10);
	CHECK_EQ(fs_kstrtoul("0x10", &v), 0);
	CHECK_EQ(v, 16);
	CHECK_EQ(fs_kstrtoul("0X1f\n", &v), 0);
	CHECK_EQ(v, 31);
	CHECK_EQ(fs_kstrtoul("010", &v), 0);
	CHECK_EQ(v, 8);
	CHECK_EQ(fs_kstrtoul("0", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(fs_kstrtoul("+7", &v), 0);
	CHECK_EQ(v, 7);
	CHECK_EQ(fs_kstrtoul("18446744073709551615", &v), 0);
	CHECK(v == ULONG_MAX);
}

static void test_kstrtoul_errors(void)
{
	unsigned long v = 123;

	CHECK_EQ(fs_kstrtoul("", &v), -EINVAL);
	CHECK_EQ(fs_kstrtoul("\n", &v), -EINVAL);
	CHECK_EQ(fs_kstrtoul("abc", &v), -EINVAL);
	CHECK_EQ(fs_kstrtoul("-1", &v), -EINVAL);
	CHECK_EQ(fs_kstrtoul(" 1", &v), -EINVAL);
	CHECK_EQ(fs_kstrtoul("1 ", &v), -EINVAL);
	CHECK_EQ(fs_kstrtoul("1\n\n", &v), -EINVAL);
	CHECK_EQ(fs_kstrtoul("08", &v), -EINVAL); /* octal, 8 is no digit */
	CHECK_EQ(fs_kstrtoul("0x", &v), -EINVAL); /* "0" then junk */
	CHECK_EQ(fs_kstrtoul("0xg", &v), -EINVAL);
	CHECK_EQ(fs_kstrtoul("++1", &v), -EINVAL);
	CHECK_EQ(fs_kstrtoul("18446744073709551616", &v), -ERANGE);
	/* overflow wins over trailing junk, as in the kernel */
	CHECK_EQ(fs_kstrtoul("99999999999999999999x", &v), -ERANGE);
	CHECK_EQ(v, 123); /* untouched on failure */
}

static void test_kstrtouint_int(void)
{
	unsigned int u = 0;
	int i = 0;

	CHECK_EQ(fs_kstrtouint("4294967295", &u), 0);
	CHECK(u == UINT_MAX);
	CHECK_EQ(fs_kstrtouint("4294967296", &u), -ERANGE);
	CHECK_EQ(fs_kstrtoint("-1", &i), 0);
	CHECK_EQ(i, -1);
	CHECK_EQ(fs_kstrtoint("-0", &i), 0);
	CHECK_EQ(i, 0);
	CHECK_EQ(fs_kstrtoint("2147483647", &i), 0);
	CHECK_EQ(i, INT_MAX);
	CHECK_EQ(fs_kstrtoint("-2147483648", &i), 0);
	CHECK_EQ(i, INT_MIN);
	CHECK_EQ(fs_kstrtoint("2147483648", &i), -ERANGE);
	CHECK_EQ(fs_kstrtoint("-2147483649", &i), -ERANGE);
	CHECK_EQ(fs_kstrtoint("-", &i), -EINVAL);
	CHECK_EQ(fs_kstrtoint("-+1", &i), -EINVAL);
	CHECK_EQ(fs_kstrtoint("+-1", &i), -EINVAL);
	CHECK_EQ(fs_kstrtoint("-0x10", &i), 0);
	CHECK_EQ(i, -16);
}

static void test_kstrtoll_limits(void)
{
	long long v = 0;

	CHECK_EQ(fs_kstrtoll("-9223372036854775808", &v), 0);
	CHECK(v == LLONG_MIN);
	CHECK_EQ(fs_kstrtoll("-9223372036854775809", &v), -ERANGE);
	CHECK_EQ(fs_kstrtoll("9223372036854775808", &v), -ERANGE);
}

static void test_kstrtobool(void)
{
	static const char *const yes[] = { "y",	  "Y",	  "t",	"T",
					   "1",	  "on",	  "On", "oN\n",
					   "yes", "true", "1x" };
	static const char *const no[] = {
		"n", "N", "f", "F", "0", "off", "OFF", "no", "false\n", "0abc"
	};
	static const char *const bad[] = { "", "o", "ox", "2", " y", "\n", "x" };
	size_t i;
	bool b;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		CHECK_EQ(fs_kstrtobool(yes[i], &b), 0);
		CHECK(b);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		CHECK_EQ(fs_kstrtobool(no[i], &b), 0);
		CHECK(!b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(fs_kstrtobool(bad[i], &b), -EINVAL);
	CHECK_EQ(fs_kstrtobool(NULL, &b), -EINVAL);
}

static void test_sysfs_streq(void)
{
	CHECK(fs_sysfs_streq("on", "on"));
	CHECK(fs_sysfs_streq("on\n", "on"));
	CHECK(fs_sysfs_streq("on", "on\n"));
	CHECK(!fs_sysfs_streq("on\n\n", "on"));
	CHECK(!fs_sysfs_streq("o", "on"));
	CHECK(!fs_sysfs_streq("onn", "on"));
	CHECK(!fs_sysfs_streq(" on", "on"));
	CHECK(!fs_sysfs_streq("", "on"));
	CHECK(fs_sysfs_streq("", ""));
}

static const struct tap_case cases[] = {
	TAP_CASE(test_kstrtoul_bases), TAP_CASE(test_kstrtoul_errors),
	TAP_CASE(test_kstrtouint_int), TAP_CASE(test_kstrtoll_limits),
	TAP_CASE(test_kstrtobool),     TAP_CASE(test_sysfs_streq),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
