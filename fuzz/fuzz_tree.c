// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target for the tree (src/fs/tree.c and friends) without FUSE:
 * random sequences of writes and reads of tree files, including nr_* files
 * that create and remove directories under the paths used next.  Catches
 * memory errors in staging, rebuilding and showing.  "state" is never
 * written, so no kdamond starts.
 *
 * Input: records of [op byte][path byte][len byte][len bytes of data].
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
	"/admin/kdamonds/nr_kdamonds",
	"/admin/kdamonds/0/refresh_ms",
	"/admin/kdamonds/0/state",
	"/admin/kdamonds/0/pid",
	"/admin/kdamonds/0/udamon/dump",
	"/admin/kdamonds/1/contexts/nr_contexts",
	"/admin/kdamonds/0/contexts/nr_contexts",
	"/admin/kdamonds/0/contexts/0/operations",
	"/admin/kdamonds/0/contexts/0/avail_operations",
	"/admin/kdamonds/0/contexts/0/addr_unit",
	"/admin/kdamonds/0/contexts/0/pause",
	"/admin/kdamonds/0/contexts/0/udamon/sim_workload",
	"/admin/kdamonds/0/contexts/0/udamon/access_source",
	"/admin/kdamonds/0/contexts/0/monitoring_attrs/intervals/sample_us",
	"/admin/kdamonds/0/contexts/0/monitoring_attrs/nr_regions/min",
	"/admin/kdamonds/0/contexts/0/targets/nr_targets",
	"/admin/kdamonds/0/contexts/0/targets/0/pid_target",
	"/admin/kdamonds/0/contexts/0/targets/1/regions/nr_regions",
	"/admin/kdamonds/0/contexts/0/targets/1/regions/0/end",
	"/admin/kdamonds/0/contexts/0/schemes/nr_schemes",
	"/admin/kdamonds/0/contexts/0/schemes/0/action",
	"/admin/kdamonds/0/contexts/0/schemes/1/target_nid",
	"/admin/kdamonds/0/contexts/0/schemes/0/quotas/goals/nr_goals",
	"/admin/kdamonds/0/contexts/0/schemes/0/quotas/goals/0/path",
	"/admin/kdamonds/0/contexts/0/schemes/0/quotas/goals/1/target_metric",
	"/admin/kdamonds/0/contexts/0/schemes/0/quotas/goal_tuner",
	"/admin/kdamonds/0/contexts/0/schemes/0/core_filters/nr_filters",
	"/admin/kdamonds/0/contexts/0/schemes/0/core_filters/0/type",
	"/admin/kdamonds/0/contexts/0/schemes/1/ops_filters/nr_filters",
	"/admin/kdamonds/0/contexts/0/schemes/1/ops_filters/0/memcg_path",
	"/admin/kdamonds/0/contexts/0/schemes/0/filters/nr_filters",
	"/admin/kdamonds/0/contexts/0/schemes/0/filters/1/type",
	"/admin/kdamonds/0/contexts/0/schemes/0/dests/nr_dests",
	"/admin/kdamonds/0/contexts/0/schemes/0/dests/2/weight",
	"/admin/kdamonds/0/contexts/0/schemes/0/stats/nr_tried",
	"/admin/kdamonds/0/contexts/0/schemes/0/stats/max_nr_snapshots",
	"/admin/kdamonds/0/contexts/0/schemes/0/tried_regions/total_bytes",
	"/admin/kdamonds/0/contexts/0/schemes/0/watermarks/metric",
	"/admin/kdamonds/0/contexts/0/schemes/0/access_pattern/age/max",
	"/admin/kdamonds/0/contexts/0/schemes/0/quotas/weights/sz_permil",
	"/admin/kdamonds/0//contexts/../x",
	"/admin/kdamonds/00",
	"/admin",
	"/admin/kdamonds/0/contexts/0/udamon/auto_pause",
	"/admin/kdamonds/0/udamon/checkpoint_path",
};

#define NR_PATHS (sizeof(paths) / sizeof(paths[0]))

static void fuzz_list_one(void *arg, const char *name, bool is_dir)
{
	(*(size_t *)arg) += strlen(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool inited;
	size_t pos = 0;

	if (!inited) {
		fs_init();
		inited = true;
	}
	while (pos + 3 <= size) {
		uint8_t op = data[pos], pidx = data[pos + 1];
		size_t len = data[pos + 2];
		const char *path = paths[pidx % NR_PATHS];
		char *out;
		size_t out_len;
		struct fs_node n;

		pos += 3;
		if (len > size - pos)
			len = size - pos;
		if (op & 1) {
			/* never start a kdamond */
			if (!strstr(path, "/state"))
				fs_write(path, (const char *)data + pos, len);
		} else if (op & 2) {
			size_t total = 0;

			pthread_mutex_lock(&fs_tree_lock);
			if (!fs_resolve(path, &n))
				fs_list(&n, fuzz_list_one, &total);
			pthread_mutex_unlock(&fs_tree_lock);
		} else {
			fs_read(path, &out, &out_len);
			free(out);
		}
		pos += len;
	}
	/* start every input from an empty tree */
	fs_fini();
	fs_init();
	return 0;
}
