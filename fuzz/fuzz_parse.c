// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target for the sysfs input parsers (src/fs/parse.c): every
 * parser must terminate, never read past the string, and agree with
 * itself (a parsed number printed back parses to the same number; the
 * narrower parsers accept a subset of what the wider ones accept).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FS_WRITE_MAX + 1], back[32];
	size_t n = size < FS_WRITE_MAX ? size : FS_WRITE_MAX;
	unsigned long long ull, ull2;
	unsigned long ul;
	unsigned int ui;
	long long ll;
	int i, err, err2;
	bool b;

	memcpy(s, data, n);
	s[n] = '\0';

	err = fs_kstrtoull(s, &ull);
	if (!err) {
		snprintf(back, sizeof(back), "%llu", ull);
		if (fs_kstrtoull(back, &ull2) || ull2 != ull)
			abort();
	} else if (err != -EINVAL && err != -ERANGE) {
		abort();
	}
	err2 = fs_kstrtoul(s, &ul);
	if (!err2 && (err || ul != ull))
		abort();
	err2 = fs_kstrtouint(s, &ui);
	if (!err2 && (err || ui != ull))
		abort();
	err2 = fs_kstrtoint(s, &i);
	if (!err2 && (fs_kstrtoll(s, &ll) || ll != i))
		abort();
	err = fs_kstrtobool(s, &b);
	if (err && err != -EINVAL)
		abort();
	/* sysfs_streq is symmetric */
	if (fs_sysfs_streq(s, "commit") != fs_sysfs_streq("commit", s))
		abort();
	return 0;
}
