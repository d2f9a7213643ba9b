// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * System metrics for DAMOS quota goals and watermarks (spec §5.4, §5.6)
 * on real memory, read from /proc and sysfs through the sys seam:
 * /proc/meminfo, /proc/pressure/memory, per-node meminfo and the memory
 * cgroup's memory.numa_stat (v2 in bytes, v1 in pages).  A file that
 * cannot be read gives the value the kernel falls back to (an invalid
 * node or memcg, no PSI) and one log line per kind of file, never an
 * error the core would have to handle, except for the watermark, whose
 * unreadability the core already handles by keeping schemes active.
 */
#include "ops/vaddr.h"
#include "core/ops-api.h"
#include "sys/sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYSM_MAX_FILE (1UL << 20)
#define SYSM_PAGE_KB 4UL

enum sysm_file {
	SYSM_MEMINFO,
	SYSM_PSI,
	SYSM_NODE,
	SYSM_MEMCG,
	NR_SYSM_FILES,
};

static const char *const sysm_file_names[NR_SYSM_FILES] = {
	[SYSM_MEMINFO] = "/proc/meminfo",
	[SYSM_PSI] = "/proc/pressure/memory",
	[SYSM_NODE] = "per-node meminfo",
	[SYSM_MEMCG] = "memcg memory.numa_stat",
};

static atomic_uint sysm_logged;

void udamon__sysmetrics_reset_logged(void)
{
	atomic_store(&sysm_logged, 0);
}

/* One line per kind of file for the life of the process. */
static void sysm_log_once(enum sysm_file f, const char *path, int err,
			  const char *fallback)
{
	unsigned int bit = 1U << f;

	if (atomic_fetch_or(&sysm_logged, bit) & bit)
		return;
	udamon__log(DAMON_LOG_WARN, "metrics: cannot read %s (%s: %s); %s",
		    sysm_file_names[f], path, strerror(-err), fallback);
}

/*
 * The value of @key (e.g. "MemFree:") in a meminfo-style text, whose
 * lines may start with "Node N ".  Return: true if found.
 */
bool udamon__meminfo_field(const char *text, const char *key,
			   unsigned long *value)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *q = p;
		char *end;

		if (!strncmp(q, "Node ", 5)) {
			q += 5;
			while (*q >= '0' && *q <= '9')
				q++;
			while (*q == ' ')
				q++;
		}
		if (!strncmp(q, key, klen)) {
			unsigned long v;

			errno = 0;
			v = strtoul(q + klen, &end, 10);
			if (end != q + klen && !errno) {
				*value = v;
				return true;
			}
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/* Fields of /proc/meminfo we use, in kB; 0 where absent. */
struct sysm_meminfo {
	unsigned long total, free, active, inactive, anon_huge;
};

static int sysm_read_meminfo(const char *path, enum sysm_file kind,
			     struct sysm_meminfo *mi)
{
	char *text;
	int err;

	memset(mi, 0, sizeof(*mi));
	err = udamon__sys_read_file(path, &text, NULL, SYSM_MAX_FILE);
	if (err)
		return err;
	if (!udamon__meminfo_field(text, "MemTotal:", &mi->total) ||
	    !udamon__meminfo_field(text, "MemFree:", &mi->free))
		err = -EINVAL;
	udamon__meminfo_field(text, "Active:", &mi->active);
	udamon__meminfo_field(text, "Inactive:", &mi->inactive);
	udamon__meminfo_field(text, "AnonHugePages:", &mi->anon_huge);
	free(text);
	return err;
}

static int sysm_meminfo(struct sysm_meminfo *mi, const char *fallback)
{
	int err = sysm_read_meminfo("/proc/meminfo", SYSM_MEMINFO, mi);

	if (err) {
		memset(mi, 0, sizeof(*mi));
		sysm_log_once(SYSM_MEMINFO, "/proc/meminfo", err, fallback);
	}
	return err;
}

/*
 * Total and free kB of node @nid.  Return: 0, or -errno for a node that
 * does not exist or cannot be read (the caller uses the invalid-node
 * values; only read failures of an existing node are logged).
 */
static int sysm_node_mem(int nid, unsigned long *total, unsigned long *free_kb)
{
	struct sysm_meminfo mi;
	char path[96];
	int err;

	if (nid < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 nid);
	err = sysm_read_meminfo(path, SYSM_NODE, &mi);
	if (err) {
		if (err != -ENOENT)
			sysm_log_once(SYSM_NODE, path, err,
				      "treating the node as invalid");
		return err;
	}
	*total = mi.total;
	*free_kb = mi.free;
	return 0;
}

/* x * 10000 / total, with the kernel's care for overflow. */
static unsigned long sysm_bp(unsigned long x, unsigned long total)
{
	return damon_mult_frac(x, 10000, total);
}

static unsigned long sysm_node_mem_bp(const struct damos_quota_goal *goal)
{
	bool used = goal->metric == DAMOS_QUOTA_NODE_MEM_USED_BP;
	unsigned long total, free_kb;

	if (sysm_node_mem(goal->nid, &total, &free_kb))
		return used ? 0 : 10000;
	if (!total || total < free_kb)
		return used ? 10000 : 0;
	return sysm_bp(used ? total - free_kb : free_kb, total);
}

/*
 * Bytes of anon + file memory of node @nid in a memory.numa_stat text:
 * cgroup v2 lines "anon N0=<bytes> ..." or v1 lines "anon=<pages>
 * N0=<pages> ..." (the hierarchical_ ones preferred, as v2 and the
 * kernel's lruvec counts include descendants).
 * Return: true if both counts were found.
 */
/* The "N<nid>=" count on the line of @text starting with @key. */
static bool sysm_numa_stat_value(const char *text, const char *key,
				 const char *node, unsigned long *v)
{
	size_t klen = strlen(key);
	const char *line = text, *eol, *n;

	for (; line && *line; line = eol ? eol + 1 : NULL) {
		eol = strchr(line, '\n');
		if (strncmp(line, key, klen))
			continue;
		n = strstr(line, node);
		if (!n || (eol && n > eol))
			return false;
		*v = strtoul(n + strlen(node), NULL, 10);
		return true;
	}
	return false;
}

bool udamon__memcg_numa_used(const char *text, int nid, unsigned long *bytes)
{
	unsigned long anon, file;
	char node[24];

	snprintf(node, sizeof(node), " N%d=", nid);
	/* v2: bytes. */
	if (sysm_numa_stat_value(text, "anon ", node, &anon) &&
	    sysm_numa_stat_value(text, "file ", node, &file)) {
		*bytes = anon + file;
		return true;
	}
	/* v1: pages. */
	if ((sysm_numa_stat_value(text, "hierarchical_anon=", node, &anon) &&
	     sysm_numa_stat_value(text, "hierarchical_file=", node, &file)) ||
	    (sysm_numa_stat_value(text, "anon=", node, &anon) &&
	     sysm_numa_stat_value(text, "file=", node, &file))) {
		*bytes = (anon + file) * SYSM_PAGE_KB * 1024;
		return true;
	}
	return false;
}

/* The memcg's anon+file kB on node @nid; -errno for an invalid memcg. */
static int sysm_memcg_used_kb(const char *memcg_path, int nid,
			      unsigned long *kb)
{
	static const char *const roots[] = {
		"/sys/fs/cgroup",
		"/sys/fs/cgroup/memory",
		"/sys/fs/cgroup/unified",
	};
	int err = -ENOENT, e;
	unsigned long bytes;
	char path[4096];
	const char *rel;
	size_t i;

	if (!memcg_path || !*memcg_path)
		return -EINVAL;
	rel = memcg_path;
	while (*rel == '/')
		rel++;
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		char *text;

		if ((size_t)snprintf(path, sizeof(path),
				     "%s/%s%smemory.numa_stat", roots[i], rel,
				     *rel ? "/" : "") >= sizeof(path))
			return -ENAMETOOLONG;
		e = udamon__sys_read_file(path, &text, NULL, SYSM_MAX_FILE);
		if (e) {
			if (e != -ENOENT)
				err = e;
			continue;
		}
		if (!udamon__memcg_numa_used(text, nid, &bytes)) {
			free(text);
			err = -EINVAL;
			continue;
		}
		free(text);
		*kb = bytes / 1024;
		return 0;
	}
	sysm_log_once(SYSM_MEMCG, memcg_path, err,
		      "treating the memcg as invalid");
	return err;
}

static unsigned long sysm_node_memcg_bp(const struct damos_quota_goal *goal)
{
	bool used = goal->metric == DAMOS_QUOTA_NODE_MEMCG_USED_BP;
	unsigned long total, free_kb, used_kb;

	if (sysm_node_mem(goal->nid, &total, &free_kb) || !total ||
	    sysm_memcg_used_kb(goal->memcg_path, goal->nid, &used_kb))
		return used ? 0 : 10000;
	if (used_kb > total)
		used_kb = total;
	return sysm_bp(used ? used_kb : total - used_kb, total);
}

/* The "some" total of /proc/pressure/memory in µs; 0 without PSI. */
static unsigned long sysm_psi_some_total(void)
{
	unsigned long total = 0;
	const char *path = "/proc/pressure/memory";
	char *text, *p;
	int err;

	err = udamon__sys_read_file(path, &text, NULL, SYSM_MAX_FILE);
	if (!err) {
		p = strncmp(text, "some ", 5) ? NULL : strstr(text, "total=");
		if (p && (!strchr(text, '\n') || p < strchr(text, '\n')))
			total = strtoul(p + 6, NULL, 10);
		else
			err = -EINVAL;
		free(text);
	}
	if (err)
		sysm_log_once(SYSM_PSI, path, err,
			      "using 0 as the kernel does without PSI");
	return total;
}

int udamon__sysmetrics_goal(struct damon_ctx *ctx,
			    const struct damos_quota_goal *goal,
			    unsigned long *value)
{
	struct sysm_meminfo mi;
	unsigned long used;

	switch (goal->metric) {
	case DAMOS_QUOTA_SOME_MEM_PSI_US:
		*value = sysm_psi_some_total();
		return 0;
	case DAMOS_QUOTA_NODE_MEM_USED_BP:
	case DAMOS_QUOTA_NODE_MEM_FREE_BP:
		*value = sysm_node_mem_bp(goal);
		return 0;
	case DAMOS_QUOTA_NODE_MEMCG_USED_BP:
	case DAMOS_QUOTA_NODE_MEMCG_FREE_BP:
		*value = sysm_node_memcg_bp(goal);
		return 0;
	case DAMOS_QUOTA_ACTIVE_MEM_BP:
	case DAMOS_QUOTA_INACTIVE_MEM_BP:
		sysm_meminfo(&mi, "using 0 active and inactive pages");
		*value = sysm_bp(goal->metric == DAMOS_QUOTA_ACTIVE_MEM_BP ?
					 mi.active :
					 mi.inactive,
				 DAMON_MAX(mi.active + mi.inactive, 1UL));
		return 0;
	case DAMOS_QUOTA_HUGEPAGE_MEM_BP:
		sysm_meminfo(&mi, "counting nothing as used");
		used = mi.total > mi.free ? mi.total - mi.free : 0;
		if (!used) {
			*value = 10000;
			return 0;
		}
		*value = sysm_bp(DAMON_MIN(mi.anon_huge, used), used);
		return 0;
	default:
		return -EINVAL;
	}
}

int udamon__sysmetrics_wmark(struct damon_ctx *ctx,
			     enum damos_wmark_metric metric,
			     unsigned long *value)
{
	struct sysm_meminfo mi;
	int err;

	if (metric != DAMOS_WMARK_FREE_MEM_RATE)
		return -EINVAL;
	err = sysm_meminfo(&mi, "watermarks cannot be evaluated");
	if (err)
		return err;
	if (!mi.total)
		return -EINVAL;
	*value = damon_mult_frac(DAMON_MIN(mi.free, mi.total), 1000, mi.total);
	return 0;
}
