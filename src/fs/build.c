// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Build a core context (&struct damon_ctx) from a staged context directory,
 * in the kernel sysfs interface's order: operations set, addr_unit and
 * min_region_sz, pause, attributes, probes, targets, schemes.  The result is a
 * parameter context: "on" starts it, "commit" commits it into the running
 * one and throws it away, as the kernel keeps the two apart.
 *
 * Errors carry the kernel's errno (scheme building failures of any kind
 * are -ENOMEM, as the sysfs layer only learns that building failed) and a
 * log line saying why, since an errno alone rarely tells a user what to
 * fix.
 */
#include "fs/tree.h"
#include "sys/alloc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The sim operations set may be left out of a build. */
#pragma weak damon_sim_set_workload_buf

static void fs_list_init(struct damon_list_head *h)
{
	h->next = h;
	h->prev = h;
}

/*
 * A target pid must name a live process the writer may trace: root may
 * trace anything, others only processes running as themselves.
 */
static int fs_check_pid(int pid, uid_t uid)
{
	char path[64];
	struct stat st;

	if (pid <= 0 || (kill(pid, 0) && errno == ESRCH)) {
		fs_log(DAMON_LOG_ERR, "pid_target %d: no such process", pid);
		return -EINVAL;
	}
	if (uid == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (stat(path, &st) || st.st_uid != uid) {
		fs_log(DAMON_LOG_ERR, "pid_target %d: not traceable by uid %u",
		       pid, (unsigned int)uid);
		return -EINVAL;
	}
	return 0;
}

/* Where the unified cgroup hierarchy is mounted, or NULL. */
static char *fs_cgroup2_root(void)
{
	FILE *f = udamon__fopen("/proc/self/mountinfo", "r");
	char line[4096];
	char *found = NULL;

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		char *fields[5];
		char *save = NULL, *tok;
		int n = 0;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok && n < 5;
		     tok = strtok_r(NULL, " ", &save))
			fields[n++] = tok;
		if (n == 5)
			found = udamon__strdup(fields[4]);
	}
	fclose(f);
	return found;
}

static bool fs_memcg_path_has_dots(const char *p)
{
	while (*p) {
		size_t n = strcspn(p, "/");

		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return true;
		p += n;
		while (*p == '/')
			p++;
	}
	return false;
}

/*
 * Resolve a memcg path (as written, e.g. "/workload\n") to the id udamon
 * uses for memory cgroups: the inode number of the cgroup directory.
 */
static int fs_memcg_path_to_id(const char *memcg_path, uint64_t *id)
{
	char *root = NULL, *path, *rel;
	struct stat st;
	size_t n;
	int err = -EINVAL;

	if (!memcg_path || !*memcg_path) {
		fs_log(DAMON_LOG_ERR,
		       "a memcg filter or goal has an empty memcg path");
		return -EINVAL;
	}
	rel = udamon__strdup(memcg_path);
	if (!rel)
		return -ENOMEM;
	n = strlen(rel);
	if (n && rel[n - 1] == '\n')
		rel[n - 1] = '\0';
	/*
	 * The kernel matches memcg paths as names of memory cgroups, where
	 * "." and ".." name nothing; here they would lead the stat below out
	 * of the cgroup file system, maybe into this daemon's own mount,
	 * whose answer would wait for the lock this caller holds.
	 */
	if (fs_memcg_path_has_dots(rel)) {
		fs_log(DAMON_LOG_ERR,
		       "memcg path '%s' has a '.' or '..' component", rel);
		goto out;
	}
	root = fs_cgroup2_root();
	if (root && udamon__asprintf(&path, "%s/%s", root, rel) >= 0) {
		/* cgroupfs never waits; anything mounted over it might */
		if (!fs_path_in_own_mount(path) && !stat(path, &st) &&
		    S_ISDIR(st.st_mode)) {
			*id = (uint64_t)st.st_ino;
			err = 0;
		}
		free(path);
	}
	if (err)
		fs_log(DAMON_LOG_ERR, "memcg path '%s' not found", rel);
	free(root);
out:
	free(rel);
	return err;
}

static int fs_set_regions(struct damon_target *t, struct st_regions *sr,
			  unsigned long min_region_sz)
{
	struct damon_addr_range *ranges;
	unsigned int i;
	int err = -EINVAL;

	if (!sr->arr.nr)
		return damon_set_regions(t, NULL, 0, min_region_sz);
	ranges = udamon__calloc(sr->arr.nr, sizeof(*ranges));
	if (!ranges)
		return -ENOMEM;
	for (i = 0; i < sr->arr.nr; i++) {
		struct st_region *r = sr->arr.items[i];

		if (r->start > r->end)
			goto out;
		ranges[i].start = r->start;
		ranges[i].end = r->end;
		if (i && ranges[i - 1].end > ranges[i].start)
			goto out;
	}
	err = damon_set_regions(t, ranges, sr->arr.nr, min_region_sz);
out:
	if (err)
		fs_log(DAMON_LOG_ERR,
		       "target regions must be non-empty, sorted and not overlapping");
	free(ranges);
	return err;
}

static int fs_add_targets(struct damon_ctx *ctx, struct st_targets *sts,
			  uid_t uid)
{
	unsigned int i;
	int err;

	if (ctx->ops.id == DAMON_OPS_PADDR && sts->arr.nr > 1) {
		fs_log(DAMON_LOG_ERR, "paddr takes at most one target");
		return -EINVAL;
	}
	for (i = 0; i < sts->arr.nr; i++) {
		struct st_target *st = sts->arr.items[i];
		struct damon_target *t = damon_new_target();

		if (!t)
			return -ENOMEM;
		damon_add_target(ctx, t);
		if (damon_target_has_pid(ctx)) {
			err = fs_check_pid(st->pid, uid);
			if (err)
				return err;
			t->pid = st->pid;
		}
		t->obsolete = st->obsolete;
		err = fs_set_regions(t, &st->regions, ctx->min_region_sz);
		if (err)
			return err;
	}
	return 0;
}

int fs_build_goals(struct st_scheme *ss, struct damos_quota *quota)
{
	struct st_goals *sg = &ss->quotas.goals;
	unsigned int i;
	int err;

	for (i = 0; i < sg->arr.nr; i++) {
		struct st_goal *g = sg->arr.items[i];
		struct damos_quota_goal *goal;

		/* A goal without a target is not a goal yet. */
		if (!g->target_value)
			continue;
		goal = damos_new_quota_goal(
			(enum damos_quota_goal_metric)g->metric,
			g->target_value);
		if (!goal)
			return -ENOMEM;
		switch (g->metric) {
		case DAMOS_QUOTA_USER_INPUT:
			goal->current_value = g->current_value;
			break;
		case DAMOS_QUOTA_NODE_MEM_USED_BP:
		case DAMOS_QUOTA_NODE_MEM_FREE_BP:
		case DAMOS_QUOTA_NODE_ELIGIBLE_MEM_BP:
			goal->nid = g->nid;
			break;
		case DAMOS_QUOTA_NODE_MEMCG_USED_BP:
		case DAMOS_QUOTA_NODE_MEMCG_FREE_BP:
			err = fs_memcg_path_to_id(g->path, &goal->memcg_id);
			if (!err &&
			    !(goal->memcg_path = udamon__strdup(g->path)))
				err = -ENOMEM;
			if (err) {
				damos_destroy_quota_goal(goal);
				return err;
			}
			goal->nid = g->nid;
			break;
		default:
			break;
		}
		damos_add_quota_goal(quota, goal);
	}
	return 0;
}

static int fs_add_filters(struct damos *s, struct st_filters *sfs)
{
	unsigned int i;
	int err;

	for (i = 0; i < sfs->arr.nr; i++) {
		struct st_filter *sf = sfs->arr.items[i];
		struct damos_filter *f =
			damos_new_filter((enum damos_filter_type)sf->type,
					 sf->matching, sf->allow);

		if (!f)
			return -ENOMEM;
		switch (f->type) {
		case DAMOS_FILTER_TYPE_MEMCG:
			err = fs_memcg_path_to_id(sf->memcg_path, &f->memcg_id);
			if (!err &&
			    !(f->memcg_path = udamon__strdup(sf->memcg_path)))
				err = -ENOMEM;
			if (err) {
				damos_destroy_filter(f);
				return err;
			}
			break;
		case DAMOS_FILTER_TYPE_ADDR:
			if (sf->addr_end < sf->addr_start) {
				fs_log(DAMON_LOG_ERR,
				       "addr filter: addr_end < addr_start");
				damos_destroy_filter(f);
				return -EINVAL;
			}
			f->addr_range.start = sf->addr_start;
			f->addr_range.end = sf->addr_end;
			break;
		case DAMOS_FILTER_TYPE_TARGET:
			f->target_idx = sf->target_idx;
			break;
		case DAMOS_FILTER_TYPE_HUGEPAGE_SIZE:
			if (sf->min > sf->max) {
				fs_log(DAMON_LOG_ERR,
				       "hugepage_size filter: min > max");
				damos_destroy_filter(f);
				return -EINVAL;
			}
			f->sz_range.min = sf->min;
			f->sz_range.max = sf->max;
			break;
		case DAMOS_FILTER_TYPE_PROBE_HITS_WSUM:
			/* the min and max files hold the wsum range */
			if (sf->min > sf->max) {
				fs_log(DAMON_LOG_ERR,
				       "probe_hits_wsum filter: min > max");
				damos_destroy_filter(f);
				return -EINVAL;
			}
			f->range_min = sf->min;
			f->range_max = sf->max;
			break;
		default:
			break;
		}
		damos_add_filter(s, f);
	}
	return 0;
}

/* monitoring_attrs/probes: weight, preps and filters of every probe. */
static int fs_add_probes(struct damon_ctx *ctx, struct st_probes *sps)
{
	unsigned int i, j;
	int err;

	for (i = 0; i < sps->arr.nr; i++) {
		struct st_probe *sp = sps->arr.items[i];
		struct damon_probe *p = damon_new_probe();

		if (!p)
			return -ENOMEM;
		damon_add_probe(ctx, p);
		p->weight = sp->weight;
		for (j = 0; j < sp->preps.arr.nr; j++) {
			struct st_prep *spr = sp->preps.arr.items[j];
			struct damon_prep *prep = damon_new_prep(
				(enum damon_prep_action)spr->action);

			if (!prep)
				return -ENOMEM;
			damon_add_prep(p, prep);
		}
		for (j = 0; j < sp->filters.arr.nr; j++) {
			struct st_probe_filter *sf = sp->filters.arr.items[j];
			struct damon_filter *f = damon_new_filter(
				(enum damon_filter_type)sf->type, sf->matching,
				sf->allow);

			if (!f)
				return -ENOMEM;
			damon_add_filter(p, f);
			if (f->type != DAMON_FILTER_TYPE_MEMCG)
				continue;
			err = fs_memcg_path_to_id(sf->path, &f->memcg_id);
			if (!err && !(f->memcg_path = udamon__strdup(sf->path)))
				err = -ENOMEM;
			if (err) {
				fs_log(DAMON_LOG_ERR,
				       "probe %u filter %u: bad memcg path", i,
				       j);
				return err;
			}
		}
	}
	return 0;
}

static int fs_add_dests(struct damos *s, struct st_dests *sd)
{
	unsigned int *ids, *weights, i;
	int err;

	if (!sd->arr.nr)
		return 0;
	ids = udamon__calloc(sd->arr.nr, sizeof(*ids));
	weights = udamon__calloc(sd->arr.nr, sizeof(*weights));
	err = (ids && weights) ? 0 : -ENOMEM;
	for (i = 0; !err && i < sd->arr.nr; i++) {
		struct st_dest *d = sd->arr.items[i];

		ids[i] = d->id;
		weights[i] = d->weight;
	}
	if (!err)
		err = damos_set_migrate_dests(s, ids, weights, sd->arr.nr);
	free(ids);
	free(weights);
	return err;
}

static struct damos *fs_mk_scheme(struct st_scheme *ss)
{
	struct st_access_pattern *ap = &ss->pattern;
	struct st_quotas *sq = &ss->quotas;
	struct damos_access_pattern pattern = {
		.min_sz_region = ap->sz.min,
		.max_sz_region = ap->sz.max,
		.min_nr_accesses = (unsigned int)ap->nr_accesses.min,
		.max_nr_accesses = (unsigned int)ap->nr_accesses.max,
		.min_age_region = (unsigned int)ap->age.min,
		.max_age_region = (unsigned int)ap->age.max,
	};
	struct damos_quota quota = {
		.reset_interval = sq->reset_interval_ms,
		.ms = sq->ms,
		.sz = sq->bytes,
		.goal_tuner = (enum damos_quota_goal_tuner)sq->goal_tuner,
		.fail_charge_num = sq->fail_charge_num,
		.fail_charge_denom = sq->fail_charge_denom,
		.weight_sz = sq->weights.sz,
		.weight_nr_accesses = sq->weights.nr_accesses,
		.weight_age = sq->weights.age,
	};
	struct damos_watermarks wmarks = {
		.metric = (enum damos_wmark_metric)ss->wmarks.metric,
		.interval = ss->wmarks.interval_us,
		.high = ss->wmarks.high,
		.mid = ss->wmarks.mid,
		.low = ss->wmarks.low,
	};
	struct damos *s;

	s = damon_new_scheme(&pattern, (enum damos_action)ss->action,
			     ss->apply_interval_us, &quota, &wmarks,
			     ss->target_nid);
	if (!s)
		return NULL;
	if (fs_build_goals(ss, &s->quota) ||
	    fs_add_filters(s, &ss->core_filters) ||
	    fs_add_filters(s, &ss->ops_filters) ||
	    fs_add_filters(s, &ss->filters) || fs_add_dests(s, &ss->dests)) {
		damon_destroy_scheme(s);
		return NULL;
	}
	s->max_nr_snapshots = ss->stats.max_nr_snapshots;
	return s;
}

static int fs_add_schemes(struct damon_ctx *ctx, struct st_schemes *sss)
{
	unsigned int i;

	for (i = 0; i < sss->arr.nr; i++) {
		struct damos *s = fs_mk_scheme(sss->arr.items[i]);

		if (!s) {
			fs_log(DAMON_LOG_ERR, "scheme %u could not be built",
			       i);
			return -ENOMEM;
		}
		damon_add_scheme(ctx, s);
	}
	return 0;
}

int fs_sim_file_load(struct st_kdamond *kd, const char *keep_sim_path,
		     struct fs_sim_file *sim)
{
	struct st_context *sc;
	char *path = NULL;
	bool wanted = false;

	memset(sim, 0, sizeof(*sim));
	pthread_mutex_lock(&fs_tree_lock);
	sc = kd->contexts.arr.nr == 1 ? kd->contexts.arr.items[0] : NULL;
	if (sc && sc->ops == DAMON_OPS_SIM && sc->sim_workload &&
	    *sc->sim_workload &&
	    !(keep_sim_path && !strcmp(keep_sim_path, sc->sim_workload))) {
		wanted = true;
		path = udamon__strdup(sc->sim_workload);
	}
	pthread_mutex_unlock(&fs_tree_lock);
	if (!path)
		return wanted ? -ENOMEM : 0;
	sim->path = path;
	sim->err = fs_read_regular(path, DAMON_SIM_MAX_WORKLOAD_SIZE, &sim->buf,
				   &sim->len, sim->why, sizeof(sim->why));
	return 0;
}

void fs_sim_file_free(struct fs_sim_file *sim)
{
	free(sim->path);
	free(sim->buf);
	memset(sim, 0, sizeof(*sim));
}

static int fs_set_sim_workload(struct damon_ctx *ctx, const char *path,
			       const struct fs_sim_file *sim)
{
	char errbuf[512] = "";
	int err;

	if (!path || !*path) {
		fs_log(DAMON_LOG_ERR,
		       "operations set sim needs udamon/sim_workload");
		return -EINVAL;
	}
	if (!damon_sim_set_workload_buf) {
		fs_log(DAMON_LOG_ERR, "operations set sim is not built in");
		return -EINVAL;
	}
	/* Written again since it was read: the caller read another file. */
	if (!sim || !sim->path || strcmp(sim->path, path)) {
		fs_log(DAMON_LOG_ERR,
		       "sim_workload %s: changed while the command ran", path);
		return -EBUSY;
	}
	if (sim->err) {
		fs_log(DAMON_LOG_ERR, "sim_workload %s: %s", path, sim->why);
		/* a shortage is the machine's, not a bad file */
		return sim->err == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	err = damon_sim_set_workload_buf(ctx, sim->buf, sim->len, path, errbuf,
					 sizeof(errbuf));
	if (err) {
		fs_log(DAMON_LOG_ERR, "sim_workload %s: %s", path,
		       errbuf[0] ? errbuf : strerror(-err));
		/* A bad file is bad input; a shortage is not the file's. */
		return err == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	return 0;
}

int fs_build_ctx(struct st_context *sc, uid_t uid, const char *keep_sim_path,
		 const struct fs_sim_file *sim, struct damon_ctx **out)
{
	struct st_intervals *iv = &sc->attrs.intervals;
	struct damon_attrs attrs = {
		.sample_interval = iv->sample_us,
		.aggr_interval = iv->aggr_us,
		.ops_update_interval = iv->update_us,
		.intervals_goal = {
			.access_bp = iv->goal.access_bp,
			.aggrs = iv->goal.aggrs,
			.min_sample_us = iv->goal.min_sample_us,
			.max_sample_us = iv->goal.max_sample_us,
		},
		.min_nr_regions = sc->attrs.nr_regions.min,
		.max_nr_regions = sc->attrs.nr_regions.max,
	};
	struct damon_ctx *ctx = damon_new_ctx();
	int err;

	if (!ctx)
		return -ENOMEM;
	err = damon_select_ops(ctx, (enum damon_ops_id)sc->ops);
	if (err) {
		fs_log(DAMON_LOG_ERR, "operations set %s is not available",
		       fs_ops_names[sc->ops]);
		goto fail;
	}
	ctx->addr_unit = sc->addr_unit;
	/* addr_unit is honoured only by paddr */
	if (sc->ops == DAMON_OPS_PADDR) {
		ctx->min_region_sz = DAMON_MIN_REGION_SZ / sc->addr_unit;
		if (!ctx->min_region_sz)
			ctx->min_region_sz = 1;
	}
	ctx->pause = sc->pause;
	damon_set_auto_pause(ctx, sc->auto_pause);
	if (sc->ops == DAMON_OPS_VADDR || sc->ops == DAMON_OPS_FVADDR) {
		err = damon_allow_cold_on_writes_only(
			ctx, sc->allow_cold_on_writes_only);
		err = damon_set_overhead_budget(ctx, sc->overhead_budget);
		if (err)
			goto fail;
	}
	err = damon_set_attrs(ctx, &attrs);
	if (err) {
		fs_log(DAMON_LOG_ERR,
		       "invalid monitoring attributes (intervals, nr_regions or intervals_goal)");
		goto fail;
	}
	err = fs_add_probes(ctx, &sc->attrs.probes);
	if (err)
		goto fail;
	err = fs_add_targets(ctx, &sc->targets, uid);
	if (err)
		goto fail;
	if (sc->ops == DAMON_OPS_VADDR || sc->ops == DAMON_OPS_FVADDR) {
		err = damon_vaddr_set_attach(ctx, sc->attach);
		if (err)
			goto fail;
	}
	err = fs_add_schemes(ctx, &sc->schemes);
	if (err)
		goto fail;
	if (sc->ops == DAMON_OPS_SIM &&
	    !(keep_sim_path && sc->sim_workload &&
	      !strcmp(keep_sim_path, sc->sim_workload))) {
		err = fs_set_sim_workload(ctx, sc->sim_workload, sim);
		if (err)
			goto fail;
	}
	*out = ctx;
	return 0;
fail:
	damon_destroy_ctx(ctx);
	return err;
}

void fs_quota_init(struct damos_quota *q)
{
	memset(q, 0, sizeof(*q));
	fs_list_init(&q->goals);
}
