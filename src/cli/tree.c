// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamon start, tune, pause, resume, stop and status: drive a running
 * udamond by writing the files of its DAMON sysfs tree, as damo drives
 * /sys/kernel/mm/damon.  Before anything is written the tree's mount point
 * is checked to be a FUSE file system (statfs magic 0x65735546): the kernel's
 * own DAMON tree, on a machine that has one, is never written by mistake.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/util.h"

#define TREE_DEFAULT "/run/udamon"
#define FUSE_SUPER_MAGIC_ 0x65735546

struct tree {
	const char *cmd;
	char **argv; /* the command line, to name a bad option */
	const char *dir;
	unsigned int kd;
};

/* ---- files ---- */

static int tree_path(const struct tree *t, char *buf, size_t len,
		     const char *fmt, va_list ap)
{
	char rel[PATH_MAX];

	vsnprintf(rel, sizeof(rel), fmt, ap);
	if ((size_t)snprintf(buf, len, "%s/admin/kdamonds/%s", t->dir, rel) >=
	    len)
		return -ENAMETOOLONG;
	return 0;
}

static int tree_read(const struct tree *t, char *buf, size_t len,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * After a refused write to a kdamond's state, say why: udamond keeps the
 * reason in udamon/state_error next to it.
 */
static void tree_say_state_error(const struct tree *t, const char *path)
{
	size_t n = strlen(path);
	char why[600];

	if ((n < 6 || strcmp(path + n - 6, "/state")) &&
	    (n < 11 || strcmp(path + n - 11, "/checkpoint")))
		return;
	if (!tree_read(t, why, sizeof(why), "%u/udamon/state_error", t->kd) &&
	    why[0])
		cli_err(t->cmd, "udamond says: %s", why);
}

/* Write @value to the file named by @fmt under admin/kdamonds/. */
static int tree_write(const struct tree *t, const char *value, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));
static int tree_write(const struct tree *t, const char *value, const char *fmt,
		      ...)
{
	char path[PATH_MAX];
	size_t len = strlen(value);
	va_list ap;
	ssize_t n;
	int fd, err;

	va_start(ap, fmt);
	err = tree_path(t, path, sizeof(path), fmt, ap);
	va_end(ap);
	if (err)
		goto fail;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	n = write(fd, value, len);
	err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	if (close(fd) && !err)
		err = -errno;
	if (!err)
		return 0;
fail:
	cli_err(t->cmd, "writing '%s' to %s failed: %s", value, path,
		strerror(-err));
	tree_say_state_error(t, path);
	return err;
}

static int tree_writeul(const struct tree *t, unsigned long v, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));
static int tree_writeul(const struct tree *t, unsigned long v, const char *fmt,
			...)
{
	char rel[PATH_MAX], value[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(value, sizeof(value), "%lu", v);
	return tree_write(t, value, "%s", rel);
}

/* Read the file named by @fmt, without its trailing newline. */
static int tree_read(const struct tree *t, char *buf, size_t len,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int tree_read(const struct tree *t, char *buf, size_t len,
		     const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	ssize_t n;
	int fd, err;

	va_start(ap, fmt);
	err = tree_path(t, path, sizeof(path), fmt, ap);
	va_end(ap);
	buf[0] = '\0';
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

/*
 * The tree must be udamond's: a FUSE mount holding admin/kdamonds.  Return
 * CLI_EMISSING after a message otherwise.
 */
static int tree_check(const struct tree *t)
{
	char path[PATH_MAX];
	struct statfs sfs;
	struct stat st;

	if (statfs(t->dir, &sfs)) {
		cli_err(t->cmd,
			"--tree: %s: %s; is udamond running? (start it with 'udamond -m %s')",
			t->dir, strerror(errno), t->dir);
		return CLI_EMISSING;
	}
	if ((unsigned long)sfs.f_type != FUSE_SUPER_MAGIC_) {
		cli_err(t->cmd,
			"--tree: refusing to write: %s is not a FUSE mount (file system type 0x%lx), so it is not a udamond tree; is udamond running? (start it with 'udamond -m %s')",
			t->dir, (unsigned long)sfs.f_type, t->dir);
		return CLI_EMISSING;
	}
	snprintf(path, sizeof(path), "%s/admin/kdamonds/nr_kdamonds", t->dir);
	if (stat(path, &st)) {
		cli_err(t->cmd,
			"--tree: %s is a FUSE mount without admin/kdamonds/nr_kdamonds: not a udamond tree",
			t->dir);
		return CLI_EMISSING;
	}
	return 0;
}

static int nr_kdamonds(const struct tree *t, unsigned long *nr)
{
	char buf[32];
	char *end;

	if (tree_read(t, buf, sizeof(buf), "nr_kdamonds"))
		return -EIO;
	*nr = strtoul(buf, &end, 10);
	return *end ? -EIO : 0;
}

/* Whether kdamond @t->kd exists (message if not) and runs. */
static int kd_state(const struct tree *t, bool *running)
{
	unsigned long nr;
	char buf[16];

	if (nr_kdamonds(t, &nr)) {
		cli_err(t->cmd, "cannot read %s/admin/kdamonds/nr_kdamonds",
			t->dir);
		return CLI_EFAIL;
	}
	if (t->kd >= nr) {
		cli_err(t->cmd,
			"--kdamond: kdamond %u does not exist (the tree has %lu); start one with 'udamon start'",
			t->kd, nr);
		return CLI_EFAIL;
	}
	if (tree_read(t, buf, sizeof(buf), "%u/state", t->kd)) {
		cli_err(t->cmd, "cannot read the state of kdamond %u", t->kd);
		return CLI_EFAIL;
	}
	*running = !strcmp(buf, "on");
	return 0;
}

/* ---- parameters into the tree ---- */

static int write_attrs(const struct tree *t, const struct cli_params *p,
		       bool all)
{
	int err = 0;

#define ATTR(bit, v, file)                                                 \
	do {                                                               \
		if (!err && (all || (p->given & (bit))))                   \
			err = tree_writeul(                                \
				t, v, "%u/contexts/0/monitoring_attrs/%s", \
				t->kd, file);                              \
	} while (0)
	ATTR(CLI_P_SAMPLE, p->sample_us, "intervals/sample_us");
	ATTR(CLI_P_AGGR, p->aggr_us, "intervals/aggr_us");
	ATTR(CLI_P_UPDATE, p->update_us, "intervals/update_us");
	ATTR(CLI_P_GOAL, p->goal.access_bp,
	     "intervals/intervals_goal/access_bp");
	ATTR(CLI_P_GOAL, p->goal.aggrs, "intervals/intervals_goal/aggrs");
	ATTR(CLI_P_GOAL, p->goal.min_sample_us,
	     "intervals/intervals_goal/min_sample_us");
	ATTR(CLI_P_GOAL, p->goal.max_sample_us,
	     "intervals/intervals_goal/max_sample_us");
	/* max first: min may not pass the old max. */
	ATTR(CLI_P_MAX_NR, p->max_nr_regions, "nr_regions/max");
	ATTR(CLI_P_MIN_NR, p->min_nr_regions, "nr_regions/min");
#undef ATTR
	return err ? CLI_EFAIL : 0;
}

static int write_filters(const struct tree *t, unsigned int si,
			 const struct cli_scheme *s, bool core)
{
	const char *dir = core ? "core_filters" : "ops_filters";
	unsigned int i, n = 0;
	char pre[128];

	snprintf(pre, sizeof(pre), "%u/contexts/0/schemes/%u/%s", t->kd, si,
		 dir);
	for (i = 0; i < s->nr_filters; i++)
		if (damos_filter_for_ops(s->filters[i].type) != core)
			n++;
	if (tree_writeul(t, n, "%s/nr_filters", pre))
		return -EIO;
	n = 0;
	for (i = 0; i < s->nr_filters; i++) {
		const struct cli_filter *f = &s->filters[i];
		unsigned int fi;
		int err;

		if (damos_filter_for_ops(f->type) == core)
			continue;
		fi = n++;
		err = tree_write(t, damos_filter_type_name(f->type),
				 "%s/%u/type", pre, fi) ||
		      tree_write(t, f->matching ? "Y" : "N", "%s/%u/matching",
				 pre, fi) ||
		      tree_write(t, f->allow ? "Y" : "N", "%s/%u/allow", pre,
				 fi);
		if (!err && f->type == DAMOS_FILTER_TYPE_ADDR)
			err = tree_writeul(t, f->a, "%s/%u/addr_start", pre,
					   fi) ||
			      tree_writeul(t, f->b, "%s/%u/addr_end", pre, fi);
		else if (!err && f->type == DAMOS_FILTER_TYPE_HUGEPAGE_SIZE)
			err = tree_writeul(t, f->a, "%s/%u/min", pre, fi) ||
			      tree_writeul(t, f->b, "%s/%u/max", pre, fi);
		else if (!err && f->type == DAMOS_FILTER_TYPE_TARGET)
			err = tree_writeul(t, (unsigned long)f->target_idx,
					   "%s/%u/damon_target_idx", pre, fi);
		if (err)
			return -EIO;
	}
	return 0;
}

static int write_schemes(const struct tree *t, const struct cli_params *p)
{
	unsigned int i;

	if (tree_writeul(t, p->nr_schemes, "%u/contexts/0/schemes/nr_schemes",
			 t->kd))
		return CLI_EFAIL;
	for (i = 0; i < p->nr_schemes; i++) {
		const struct cli_scheme *s = &p->schemes[i];
		const struct damos_access_pattern *ap = &s->pattern;
		char pre[96];
		int err = 0;

		snprintf(pre, sizeof(pre), "%u/contexts/0/schemes/%u", t->kd,
			 i);
#define SW(value, file)                                                 \
	do {                                                            \
		if (!err)                                               \
			err = tree_write(t, value, "%s/%s", pre, file); \
	} while (0)
#define SWUL(v, file)                                                 \
	do {                                                          \
		if (!err)                                             \
			err = tree_writeul(t, v, "%s/%s", pre, file); \
	} while (0)
		SW(damos_action_name(s->action), "action");
		SWUL(s->apply_us, "apply_interval_us");
		SWUL(ap->max_sz_region, "access_pattern/sz/max");
		SWUL(ap->min_sz_region, "access_pattern/sz/min");
		SWUL(ap->max_nr_accesses, "access_pattern/nr_accesses/max");
		SWUL(ap->min_nr_accesses, "access_pattern/nr_accesses/min");
		SWUL(ap->max_age_region, "access_pattern/age/max");
		SWUL(ap->min_age_region, "access_pattern/age/min");
		SWUL(s->quota_ms, "quotas/ms");
		SWUL(s->quota_sz, "quotas/bytes");
		SWUL(s->quota_reset_ms, "quotas/reset_interval_ms");
		SWUL(s->has_goal ? 1 : 0, "quotas/goals/nr_goals");
		if (s->has_goal) {
			SW(damos_quota_goal_metric_name(s->goal_metric),
			   "quotas/goals/0/target_metric");
			SWUL(s->goal_value, "quotas/goals/0/target_value");
		}
		SW(s->wmarks.metric == DAMOS_WMARK_FREE_MEM_RATE ?
			   "free_mem_rate" :
			   "none",
		   "watermarks/metric");
		SWUL(s->wmarks.interval, "watermarks/interval_us");
		SWUL(s->wmarks.high, "watermarks/high");
		SWUL(s->wmarks.mid, "watermarks/mid");
		SWUL(s->wmarks.low, "watermarks/low");
#undef SW
#undef SWUL
		if (err || write_filters(t, i, s, true) ||
		    write_filters(t, i, s, false))
			return CLI_EFAIL;
	}
	return 0;
}

/* --allow-cold-on-writes-only, when given (else udamond's default holds). */
static int write_allow_cold(const struct tree *t, const struct cli_params *p)
{
	if (!(p->given & CLI_P_ALLOW_COLD))
		return 0;
	return tree_write(t, "Y",
			  "%u/contexts/0/udamon/allow_cold_on_writes_only",
			  t->kd) ?
		       CLI_EFAIL :
		       0;
}

/* ---- commands ---- */

enum {
	OPT_TREE = CLI_OPT_PARAMS_END,
	OPT_KDAMOND,
	OPT_OPS,
	OPT_WORKLOAD,
	OPT_PID,
	OPT_PAUSE,
	OPT_REFRESH,
	OPT_NO_ATTACH,
	OPT_JSON,
	OPT_AUTO_PAUSE,
	OPT_RESTORE,
};

static const char tree_help[] =
	"  --tree DIR              udamond's mount point (default " TREE_DEFAULT
	")\n"
	"  --kdamond K             kdamond directory index (default 0)\n"
	"  -h, --help              this text\n";

static const char exit_help[] =
	"Exit status: 0 done, 1 the tree refused a write (the message names\n"
	"the file and the error) or the kdamond is not running, 2 bad command\n"
	"line, 3 no udamond tree at --tree (missing, or not a FUSE mount:\n"
	"nothing is written then).\n";

static int common_option(struct tree *t, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_TREE:
		if (!*arg)
			return cli_bad_arg(t->cmd, "--tree", arg, "is empty");
		t->dir = arg;
		return 0;
	case OPT_KDAMOND:
		if (cli_parse_ulong(t->cmd, "--kdamond", arg, 0, 65535, &v))
			return CLI_EUSAGE;
		t->kd = (unsigned int)v;
		return 0;
	case ':':
	case '?':
		return cli_getopt_error(t->cmd, c, t->argv);
	default:
		return -1;
	}
}

static int no_positional(struct tree *t, int argc, char **argv)
{
	if (optind < argc) {
		cli_err(t->cmd, "unexpected argument '%s'", argv[optind]);
		return CLI_EUSAGE;
	}
	return 0;
}

int cli_start(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_PARAMS_LONGOPTS,
		{ "tree", required_argument, NULL, OPT_TREE },
		{ "kdamond", required_argument, NULL, OPT_KDAMOND },
		{ "ops", required_argument, NULL, OPT_OPS },
		{ "workload", required_argument, NULL, OPT_WORKLOAD },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "pause", no_argument, NULL, OPT_PAUSE },
		{ "refresh-ms", required_argument, NULL, OPT_REFRESH },
		{ "no-attach", no_argument, NULL, OPT_NO_ATTACH },
		{ "auto-pause", no_argument, NULL, OPT_AUTO_PAUSE },
		{ "restore", required_argument, NULL, OPT_RESTORE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tree t = { .cmd = "start", .dir = TREE_DEFAULT, .argv = argv };
	struct cli_params p;
	enum damon_ops_id ops = NR_DAMON_OPS;
	const char *workload = NULL;
	char *abs_workload = NULL;
	unsigned long refresh = 0;
	bool pause = false, running, attach = true, auto_pause = false;
	const char *restore = NULL;
	char *abs_restore = NULL;
	int c, err, pid = 0;
	unsigned long nr;

	cli_params_init(&p);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		err = cli_params_option(&p, t.cmd, c, optarg);
		if (err < 0)
			err = common_option(&t, c, optarg);
		if (err > 0)
			return err;
		if (!err)
			continue;
		switch (c) {
		case OPT_OPS:
			if (damon_ops_from_name(optarg, &ops) ||
			    ops == DAMON_OPS_APP)
				return cli_bad_arg(
					t.cmd, "--ops", optarg,
					"is not vaddr, fvaddr, paddr or sim");
			break;
		case OPT_WORKLOAD:
			workload = optarg;
			break;
		case OPT_PID:
			if (cli_parse_int(t.cmd, "--pid", optarg, 1, INT_MAX,
					  &pid))
				return CLI_EUSAGE;
			break;
		case OPT_PAUSE:
			pause = true;
			break;
		case OPT_REFRESH:
			if (cli_parse_ulong(t.cmd, "--refresh-ms", optarg, 0,
					    UINT_MAX, &refresh))
				return CLI_EUSAGE;
			break;
		case OPT_NO_ATTACH:
			attach = false;
			break;
		case OPT_AUTO_PAUSE:
			auto_pause = true;
			break;
		case OPT_RESTORE:
			restore = optarg;
			break;
		case 'h':
			printf("usage: udamon start [options] --ops sim --workload CFG\n"
			       "       udamon start [options] --pid PID\n"
			       "       udamon start [options] --ops paddr\n"
			       "\n"
			       "Start monitoring in a running udamond by writing its tree\n"
			       "(like damo start): the context's operations set, workload or\n"
			       "target, monitoring parameters and schemes, then 'on'.\n"
			       "\n"
			       "  --ops NAME              vaddr, fvaddr, paddr or sim (default:\n"
			       "                          sim with --workload, else vaddr)\n"
			       "  --workload FILE         sim workload: masim config, udamon record\n"
			       "                          or udamon-trace\n"
			       "  --pid PID               the process to monitor (vaddr); udamon\n"
			       "                          attaches to it with ptrace if it was not\n"
			       "                          launched under udamon\n"
			       "  --no-attach             refuse such a process instead\n"
			       "  --pause                 start paused (one sample runs first)\n"
			       "  --refresh-ms MS         refresh the tree's stats every MS\n"
			       "  --auto-pause            pause while every target is stopped\n"
			       "                          (SIGSTOP, ptrace) or cgroup-frozen\n"
			       "  --restore FILE          continue from the checkpoint FILE\n"
			       "                          ('udamon checkpoint'); the same\n"
			       "                          parameters must be given again\n"
			       "%s\n%s\n%s",
			       tree_help, cli_params_help, exit_help);
			return CLI_OK;
		default:
			return cli_usage_error(t.cmd, "bad option");
		}
	}
	if ((err = no_positional(&t, argc, argv)))
		return err;
	if (ops == NR_DAMON_OPS)
		ops = workload ? DAMON_OPS_SIM : DAMON_OPS_VADDR;
	if (ops == DAMON_OPS_SIM && !workload)
		return cli_usage_error(t.cmd, "--ops sim needs --workload CFG");
	if (workload && ops != DAMON_OPS_SIM)
		return cli_usage_error(t.cmd, "--workload goes with --ops sim");
	if ((ops == DAMON_OPS_VADDR || ops == DAMON_OPS_FVADDR) && !pid)
		return cli_usage_error(
			t.cmd,
			"--ops vaddr needs --pid PID (or use --ops sim --workload CFG)");
	if (pid && ops != DAMON_OPS_VADDR && ops != DAMON_OPS_FVADDR)
		return cli_usage_error(t.cmd, "--pid goes with --ops vaddr");
	if ((err = cli_params_check(&p, t.cmd, false)))
		return err;
	if (restore) {
		abs_restore = realpath(restore, NULL);
		if (!abs_restore) {
			cli_err(t.cmd, "--restore: %s: %s", restore,
				strerror(errno));
			return CLI_EFAIL;
		}
	}
	if (workload) {
		abs_workload = realpath(workload, NULL);
		if (!abs_workload) {
			cli_err(t.cmd, "--workload: %s: %s", workload,
				strerror(errno));
			return CLI_EFAIL;
		}
	}
	if ((err = tree_check(&t)))
		goto out;

	err = CLI_EFAIL;
	if (nr_kdamonds(&t, &nr)) {
		cli_err(t.cmd, "cannot read nr_kdamonds");
		goto out;
	}
	if (t.kd >= nr && tree_writeul(&t, t.kd + 1, "nr_kdamonds"))
		goto out;
	if (kd_state(&t, &running))
		goto out;
	if (running) {
		cli_err(t.cmd,
			"kdamond %u already runs; 'udamon tune' changes it, 'udamon stop' stops it",
			t.kd);
		goto out;
	}
	if (tree_writeul(&t, 1, "%u/contexts/nr_contexts", t.kd) ||
	    tree_write(&t, damon_ops_name(ops), "%u/contexts/0/operations",
		       t.kd) ||
	    (abs_workload &&
	     tree_write(&t, abs_workload, "%u/contexts/0/udamon/sim_workload",
			t.kd)) ||
	    ((ops == DAMON_OPS_VADDR || ops == DAMON_OPS_FVADDR) &&
	     tree_write(&t, attach ? "Y" : "N", "%u/contexts/0/udamon/attach",
			t.kd)) ||
	    write_attrs(&t, &p, true) ||
	    tree_writeul(&t, 1, "%u/contexts/0/targets/nr_targets", t.kd) ||
	    tree_writeul(&t, (unsigned long)pid,
			 "%u/contexts/0/targets/0/pid_target", t.kd) ||
	    write_schemes(&t, &p) || write_allow_cold(&t, &p) ||
	    tree_write(&t, pause ? "Y" : "N", "%u/contexts/0/pause", t.kd) ||
	    tree_write(&t, auto_pause ? "Y" : "N",
		       "%u/contexts/0/udamon/auto_pause", t.kd) ||
	    (abs_restore &&
	     (tree_write(&t, abs_restore, "%u/udamon/checkpoint_path", t.kd) ||
	      tree_write(&t, "restore", "%u/udamon/checkpoint", t.kd))) ||
	    tree_writeul(&t, refresh, "%u/refresh_ms", t.kd) ||
	    tree_write(&t, "on", "%u/state", t.kd))
		goto out;
	printf("kdamond %u: on (%s%s%s%s)\n", t.kd, damon_ops_name(ops),
	       pause ? ", paused" : "", auto_pause ? ", auto pause" : "",
	       abs_restore ? ", restored" : "");
	err = CLI_OK;
out:
	free(abs_restore);
	free(abs_workload);
	return err;
}

int cli_tune(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_PARAMS_LONGOPTS,
		{ "tree", required_argument, NULL, OPT_TREE },
		{ "kdamond", required_argument, NULL, OPT_KDAMOND },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tree t = { .cmd = "tune", .dir = TREE_DEFAULT, .argv = argv };
	struct cli_params p;
	bool running;
	int c, err;

	cli_params_init(&p);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		err = cli_params_option(&p, t.cmd, c, optarg);
		if (err < 0)
			err = common_option(&t, c, optarg);
		if (err > 0)
			return err;
		if (!err)
			continue;
		if (c == 'h') {
			printf("usage: udamon tune [options]\n"
			       "\n"
			       "Change the parameters of a running kdamond of udamond online:\n"
			       "write the given ones into its tree and commit them.  Only\n"
			       "the options given change; --damos replaces every scheme.\n"
			       "\n%s\n%s\n%s",
			       tree_help, cli_params_help, exit_help);
			return CLI_OK;
		}
		return cli_usage_error(t.cmd, "bad option");
	}
	if ((err = no_positional(&t, argc, argv)))
		return err;
	if (!p.given)
		return cli_usage_error(t.cmd,
				       "give at least one parameter to change");
	if ((err = cli_params_check(&p, t.cmd, true)))
		return err;
	if ((err = tree_check(&t)))
		return err;
	if ((err = kd_state(&t, &running)))
		return err;
	if (!running) {
		cli_err(t.cmd, "kdamond %u is not running", t.kd);
		return CLI_EFAIL;
	}
	if (write_attrs(&t, &p, false) ||
	    ((p.given & CLI_P_SCHEMES) && write_schemes(&t, &p)) ||
	    write_allow_cold(&t, &p) ||
	    tree_write(&t, "commit", "%u/state", t.kd))
		return CLI_EFAIL;
	printf("kdamond %u: committed\n", t.kd);
	return CLI_OK;
}

/*
 * pause, resume, stop: --tree and --kdamond only; status: those and,
 * given @json, --json.
 */
static int simple_cmd(const char *cmd, int argc, char **argv, const char *help,
		      struct tree *t, bool *json)
{
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, OPT_TREE },
		{ "kdamond", required_argument, NULL, OPT_KDAMOND },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option status_longopts[] = {
		{ "tree", required_argument, NULL, OPT_TREE },
		{ "kdamond", required_argument, NULL, OPT_KDAMOND },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, err;

	t->cmd = cmd;
	t->argv = argv;
	t->dir = TREE_DEFAULT;
	t->kd = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h",
				json ? status_longopts : longopts, NULL)) !=
	       -1) {
		err = common_option(t, c, optarg);
		if (err > 0)
			return err;
		if (!err)
			continue;
		if (c == OPT_JSON) {
			*json = true;
			continue;
		}
		printf("usage: udamon %s [options]\n\n%s\n%s%s\n%s", cmd, help,
		       json ? "  --json                  print it as one JSON object\n" :
			      "",
		       tree_help, exit_help);
		return -1;
	}
	return no_positional(t, argc, argv);
}

static int set_pause(int argc, char **argv, bool pause)
{
	const char *cmd = pause ? "pause" : "resume";
	struct tree t;
	bool running;
	int err;

	err = simple_cmd(
		cmd, argc, argv,
		pause ? "Pause the context of a running kdamond of udamond online: it\n"
			"keeps its regions, ages and tuned parameters and stops\n"
			"sampling, aggregating and applying schemes until resumed.\n" :
			"Resume a paused context of a running kdamond of udamond.\n",
		&t, NULL);
	if (err)
		return err < 0 ? CLI_OK : err;
	if ((err = tree_check(&t)) || (err = kd_state(&t, &running)))
		return err;
	if (!running) {
		cli_err(cmd, "kdamond %u is not running", t.kd);
		return CLI_EFAIL;
	}
	if (tree_write(&t, pause ? "Y" : "N", "%u/contexts/0/pause", t.kd) ||
	    tree_write(&t, "commit", "%u/state", t.kd))
		return CLI_EFAIL;
	printf("kdamond %u: %s\n", t.kd, pause ? "paused" : "resumed");
	return CLI_OK;
}

int cli_pause(int argc, char **argv)
{
	return set_pause(argc, argv, true);
}

int cli_resume(int argc, char **argv)
{
	return set_pause(argc, argv, false);
}

int cli_stop(int argc, char **argv)
{
	struct tree t;
	bool running;
	int err;

	err = simple_cmd(
		"stop", argc, argv,
		"Stop a running kdamond of udamond (its tree keeps the\n"
		"parameters; 'udamon start' or writing 'on' starts it again).\n",
		&t, NULL);
	if (err)
		return err < 0 ? CLI_OK : err;
	if ((err = tree_check(&t)) || (err = kd_state(&t, &running)))
		return err;
	if (!running) {
		cli_err("stop", "kdamond %u is not running", t.kd);
		return CLI_EFAIL;
	}
	if (tree_write(&t, "off", "%u/state", t.kd))
		return CLI_EFAIL;
	printf("kdamond %u: off\n", t.kd);
	return CLI_OK;
}

/*
 * status: what every kdamond of the tree runs, read into one json-c
 * object (the --json output) that the text output is printed from too.
 * Files that cannot be read are left out (a kdamond may stop meanwhile).
 */

/* Add file @rel (a number, or a string if it is not one) as @key. */
static void status_add(const struct tree *t, struct json_object *obj,
		       const char *key, bool number, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void status_add(const struct tree *t, struct json_object *obj,
		       const char *key, bool number, const char *fmt, ...)
{
	char rel[PATH_MAX], buf[600], *end;
	unsigned long long v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (tree_read(t, buf, sizeof(buf), "%s", rel))
		return;
	if (number) {
		errno = 0;
		v = strtoull(buf, &end, 10);
		if (!errno && *buf && !*end) {
			json_object_object_add(obj, key,
					       json_object_new_uint64(v));
			return;
		}
	}
	json_object_object_add(obj, key, json_object_new_string(buf));
}

static const char *status_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) ?
		       json_object_get_string(v) :
		       "?";
}

static struct json_object *status_context(const struct tree *t, unsigned int k)
{
	static const char *const stats[] = {
		"nr_tried",
		"sz_tried",
		"nr_applied",
		"sz_applied",
		"qt_exceeds",
		"nr_snapshots",
		"sz_ops_filter_passed",
	};
	struct json_object *ctx = json_object_new_object(), *o, *arr;
	const char *c = "contexts/0";
	unsigned long nr, i, j;
	char buf[32];

	if (!ctx)
		return NULL;
	status_add(t, ctx, "operations", false, "%u/%s/operations", k, c);
	status_add(t, ctx, "access_source", false, "%u/%s/udamon/access_source",
		   k, c);
	if (!tree_read(t, buf, sizeof(buf), "%u/%s/pause", k, c))
		json_object_object_add(ctx, "pause",
				       json_object_new_boolean(buf[0] == 'Y'));
	/* udamond only: the setting, and whether it pauses the context now */
	if (!tree_read(t, buf, sizeof(buf), "%u/%s/udamon/auto_pause", k, c))
		json_object_object_add(ctx, "auto_pause",
				       json_object_new_boolean(buf[0] == 'Y'));
	if (!tree_read(t, buf, sizeof(buf), "%u/%s/udamon/auto_paused", k, c))
		json_object_object_add(ctx, "auto_paused",
				       json_object_new_boolean(buf[0] == 'Y'));
	if (!tree_read(t, buf, sizeof(buf), "%u/%s/udamon/sim_workload", k,
		       c) &&
	    buf[0])
		status_add(t, ctx, "sim_workload", false,
			   "%u/%s/udamon/sim_workload", k, c);
	o = json_object_new_object();
	status_add(t, o, "sample_us", true,
		   "%u/%s/monitoring_attrs/intervals/sample_us", k, c);
	status_add(t, o, "aggr_us", true,
		   "%u/%s/monitoring_attrs/intervals/aggr_us", k, c);
	status_add(t, o, "update_us", true,
		   "%u/%s/monitoring_attrs/intervals/update_us", k, c);
	json_object_object_add(ctx, "intervals", o);
	o = json_object_new_object();
	status_add(t, o, "min", true, "%u/%s/monitoring_attrs/nr_regions/min",
		   k, c);
	status_add(t, o, "max", true, "%u/%s/monitoring_attrs/nr_regions/max",
		   k, c);
	json_object_object_add(ctx, "nr_regions", o);

	arr = json_object_new_array();
	nr = 0;
	if (!tree_read(t, buf, sizeof(buf), "%u/%s/targets/nr_targets", k, c))
		nr = strtoul(buf, NULL, 10);
	for (i = 0; i < nr && i < 65536; i++) {
		o = json_object_new_object();
		status_add(t, o, "pid", true, "%u/%s/targets/%lu/pid_target", k,
			   c, i);
		json_object_array_add(arr, o);
	}
	json_object_object_add(ctx, "targets", arr);

	arr = json_object_new_array();
	nr = 0;
	if (!tree_read(t, buf, sizeof(buf), "%u/%s/schemes/nr_schemes", k, c))
		nr = strtoul(buf, NULL, 10);
	for (i = 0; i < nr && i < 65536; i++) {
		struct json_object *st = json_object_new_object();

		o = json_object_new_object();
		status_add(t, o, "action", false, "%u/%s/schemes/%lu/action", k,
			   c, i);
		for (j = 0; j < sizeof(stats) / sizeof(stats[0]); j++)
			status_add(t, st, stats[j], true,
				   "%u/%s/schemes/%lu/stats/%s", k, c, i,
				   stats[j]);
		json_object_object_add(o, "stats", st);
		json_object_array_add(arr, o);
	}
	json_object_object_add(ctx, "schemes", arr);
	return ctx;
}

static struct json_object *status_read(struct tree *t, unsigned long nr)
{
	struct json_object *root = json_object_new_object(), *kds;
	unsigned long k;

	if (!root)
		return NULL;
	json_object_object_add(root, "tree", json_object_new_string(t->dir));
	kds = json_object_new_array();
	json_object_object_add(root, "kdamonds", kds);
	for (k = 0; k < nr; k++) {
		struct json_object *kd = json_object_new_object(), *ctxs;
		char state[16], buf[16];

		json_object_object_add(kd, "index", json_object_new_uint64(k));
		tree_read(t, state, sizeof(state), "%lu/state", k);
		json_object_object_add(kd, "state",
				       json_object_new_string(state));
		if (!strcmp(state, "on")) {
			char path[PATH_MAX];
			int fd;

			/* Fresh numbers; failures only mean older numbers. */
			snprintf(path, sizeof(path),
				 "%s/admin/kdamonds/%lu/state", t->dir, k);
			fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				if (write(fd, "update_schemes_stats", 20) < 0)
					(void)0;
				close(fd);
			}
			status_add(t, kd, "pid", true, "%lu/pid", k);
		}
		ctxs = json_object_new_array();
		if (!tree_read(t, buf, sizeof(buf), "%lu/contexts/nr_contexts",
			       k) &&
		    !strcmp(buf, "1")) {
			struct json_object *ctx =
				status_context(t, (unsigned int)k);

			if (ctx)
				json_object_array_add(ctxs, ctx);
		}
		json_object_object_add(kd, "contexts", ctxs);
		json_object_array_add(kds, kd);
	}
	return root;
}

static uint64_t status_num(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) ?
		       json_object_get_uint64(v) :
		       0;
}

static bool status_bool(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) &&
	       json_object_get_boolean(v);
}

/*
 * The context's state word: the user's pause first (it outlasts an
 * automatic resume), then the automatic pause, which says why nothing
 * is sampled while the targets are stopped.
 */
static const char *status_state(struct json_object *ctx, bool running)
{
	bool pause = status_bool(ctx, "pause");
	bool auto_paused = running && status_bool(ctx, "auto_paused");

	if (!running)
		return pause ? "pause=Y" : "idle";
	if (pause)
		return auto_paused ?
			       "PAUSED, and AUTO-PAUSED (targets stopped)" :
			       "PAUSED";
	if (auto_paused)
		return "AUTO-PAUSED (targets stopped)";
	return "monitoring";
}

static void status_print_context(struct json_object *ctx, bool running)
{
	struct json_object *v, *arr;
	char a[32], b[32];
	size_t i, n;

	printf("  context 0: %s, access source: %s, %s%s\n",
	       status_str(ctx, "operations"), status_str(ctx, "access_source"),
	       status_state(ctx, running),
	       status_bool(ctx, "auto_pause") ? "; auto pause on" : "");
	if (json_object_object_get_ex(ctx, "sim_workload", &v))
		printf("    workload: %s\n", json_object_get_string(v));
	json_object_object_get_ex(ctx, "intervals", &v);
	printf("    intervals: sample %s us, aggr %s us, update %s us; ",
	       status_str(v, "sample_us"), status_str(v, "aggr_us"),
	       status_str(v, "update_us"));
	json_object_object_get_ex(ctx, "nr_regions", &v);
	printf("nr_regions %s..%s\n", status_str(v, "min"),
	       status_str(v, "max"));
	json_object_object_get_ex(ctx, "targets", &arr);
	n = json_object_array_length(arr);
	printf("    targets: %zu", n);
	for (i = 0; i < n; i++)
		printf("%s pid %s", i ? "," : " (",
		       status_str(json_object_array_get_idx(arr, i), "pid"));
	printf("%s\n", n ? ")" : "");
	json_object_object_get_ex(ctx, "schemes", &arr);
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(arr, i), *st;

		json_object_object_get_ex(s, "stats", &st);
		printf("    scheme %zu: %s; tried %s regions (%s), applied %s regions (%s), quota exceeded %s times, %s snapshots\n",
		       i, status_str(s, "action"), status_str(st, "nr_tried"),
		       cli_fmt_size(a, sizeof(a),
				    (unsigned long)status_num(st, "sz_tried"),
				    false),
		       status_str(st, "nr_applied"),
		       cli_fmt_size(b, sizeof(b),
				    (unsigned long)status_num(st, "sz_applied"),
				    false),
		       status_str(st, "qt_exceeds"),
		       status_str(st, "nr_snapshots"));
	}
}

int cli_status(int argc, char **argv)
{
	struct json_object *root, *kds;
	struct tree t;
	unsigned long nr;
	bool json = false;
	size_t k;
	int err;

	err = simple_cmd(
		"status", argc, argv,
		"Show what a udamond runs: every kdamond, whether it runs,\n"
		"its context's operations set, access source, pause state,\n"
		"parameters and scheme statistics (refreshed first).\n"
		"--kdamond is ignored: every kdamond is shown.\n",
		&t, &json);
	if (err)
		return err < 0 ? CLI_OK : err;
	if ((err = tree_check(&t)))
		return err;
	if (nr_kdamonds(&t, &nr)) {
		cli_err(t.cmd, "cannot read nr_kdamonds");
		return CLI_EFAIL;
	}
	root = status_read(&t, nr);
	if (!root) {
		cli_err(t.cmd, "out of memory");
		return CLI_EFAIL;
	}
	if (json) {
		printf("%s\n",
		       json_object_to_json_string_ext(
			       root, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
		return CLI_OK;
	}
	printf("udamond at %s: %lu kdamond%s\n", t.dir, nr, nr == 1 ? "" : "s");
	json_object_object_get_ex(root, "kdamonds", &kds);
	for (k = 0; k < json_object_array_length(kds); k++) {
		struct json_object *kd = json_object_array_get_idx(kds, k);
		struct json_object *ctxs, *pid;
		const char *state = status_str(kd, "state");
		bool running = !strcmp(state, "on");

		printf("kdamond %zu: %s", k, state);
		if (json_object_object_get_ex(kd, "pid", &pid))
			printf(" (kdamond thread %s)",
			       json_object_get_string(pid));
		printf("\n");
		json_object_object_get_ex(kd, "contexts", &ctxs);
		if (!json_object_array_length(ctxs))
			printf("  no context\n");
		else
			status_print_context(json_object_array_get_idx(ctxs, 0),
					     running);
	}
	json_object_put(root);
	return CLI_OK;
}

/* ---- checkpoint and restore (kdamonds/K/udamon/checkpoint) ---- */

/* @file made absolute without requiring it to exist (for a save). */
static char *abs_path_of(const char *file)
{
	char *dir_abs, *copy, *slash, *out = NULL;
	const char *base;

	if (file[0] == '/')
		return strdup(file);
	copy = strdup(file);
	if (!copy)
		return NULL;
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		base = slash + 1;
		dir_abs = realpath(copy[0] ? copy : "/", NULL);
	} else {
		base = copy;
		dir_abs = realpath(".", NULL);
	}
	if (dir_abs && asprintf(&out, "%s/%s", dir_abs, base) < 0)
		out = NULL;
	free(dir_abs);
	free(copy);
	return out;
}

/* Whether the last argument is a FILE (not an option or its value). */
static bool last_is_file(int argc, char **argv)
{
	if (argc < 2 || argv[argc - 1][0] == '-')
		return false;
	return argc < 3 || (strcmp(argv[argc - 2], "--tree") &&
			    strcmp(argv[argc - 2], "--kdamond"));
}

static int checkpoint_cmd(int argc, char **argv, bool save)
{
	const char *cmd = save ? "checkpoint" : "restore";
	bool has_file = last_is_file(argc, argv);
	struct tree t;
	bool running;
	char *path;
	int err;

	err = simple_cmd(
		cmd, argc - has_file, argv,
		save ? "The checkpoint FILE comes last.\n"
		       "Save what a running kdamond of udamond learned (regions,\n"
		       "ages, tuned intervals, quota state, stats) to FILE.\n" :
		       "The checkpoint FILE comes last.\n"
		       "Make a kdamond of udamond continue from the checkpoint FILE:\n"
		       "at once if it runs, else at its next start.  Its context must\n"
		       "be configured as the saved one (operations set, targets,\n"
		       "scheme actions).\n",
		&t, NULL);
	if (err)
		return err < 0 ? CLI_OK : err;
	if (!has_file)
		return cli_usage_error(cmd, "give the checkpoint FILE");
	path = save ? abs_path_of(argv[argc - 1]) :
		      realpath(argv[argc - 1], NULL);
	if (!path) {
		cli_err(cmd, "%s: %s", argv[argc - 1], strerror(errno));
		return CLI_EFAIL;
	}
	if ((err = tree_check(&t)) || (err = kd_state(&t, &running)))
		goto out;
	err = CLI_EFAIL;
	if (save && !running) {
		cli_err(cmd, "kdamond %u is not running", t.kd);
		goto out;
	}
	if (tree_write(&t, path, "%u/udamon/checkpoint_path", t.kd) ||
	    tree_write(&t, save ? "save" : "restore", "%u/udamon/checkpoint",
		       t.kd))
		goto out;
	if (save)
		printf("kdamond %u: saved to %s\n", t.kd, path);
	else if (running)
		printf("kdamond %u: restored from %s\n", t.kd, path);
	else
		printf("kdamond %u: %s will be restored at its next start\n",
		       t.kd, path);
	err = CLI_OK;
out:
	free(path);
	return err;
}

int cli_checkpoint(int argc, char **argv)
{
	return checkpoint_cmd(argc, argv, true);
}

int cli_restore(int argc, char **argv)
{
	return checkpoint_cmd(argc, argv, false);
}
