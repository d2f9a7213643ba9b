/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the udamon subcommands other than ns: exit codes,
 * messages, strict number/time/size parsing that names the offending
 * option, human-readable formatting, and the monitoring parameters
 * (intervals, nr_regions, interval tuning goal, DAMOS schemes) that
 * record, start and tune take, with builders for a damon_ctx and for the
 * files of udamond's tree.
 */
#ifndef UDAMON_CLI_UTIL_H
#define UDAMON_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <udamon/damon.h>

/*
 * Exit codes of every subcommand but ns (docs/usage.md, "Exit status"),
 * those of udamond and udamon-workload too: 2 for a bad command line as
 * getopt-based tools have it, so that 1 means the work itself failed.
 */
#define CLI_OK 0 /* done */
#define CLI_EFAIL 1 /* runtime failure: I/O, bad record, engine error */
#define CLI_EUSAGE 2 /* bad command line: unknown option, bad value */
#define CLI_EMISSING 3 /* this machine or build lacks what is needed */

void cli_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "udamon CMD: OPT: 'ARG' PROBLEM"; returns CLI_EUSAGE. */
int cli_bad_arg(const char *cmd, const char *opt, const char *arg,
		const char *problem);
/* A usage problem with a hint to --help; CLI_EUSAGE. */
int cli_usage_error(const char *cmd, const char *hint);
/*
 * For getopt_long's '?' (unknown option) and ':' (missing value) results,
 * right after getopt_long returned @c for @argv: names the option as the
 * user wrote it; CLI_EUSAGE.
 */
int cli_getopt_error(const char *cmd, int c, char **argv);

int cli_parse_ulong(const char *cmd, const char *opt, const char *arg,
		    unsigned long min, unsigned long max, unsigned long *out);
int cli_parse_int(const char *cmd, const char *opt, const char *arg, int min,
		  int max, int *out);
/* Seconds with an optional unit: "1.5", "1500ms", "2s", "100us", "1m". */
int cli_parse_seconds(const char *cmd, const char *opt, const char *arg,
		      double *out);
/* Plain number, "min"/"max", or with K/M/G/T (binary) suffix, +"B"/"iB". */
int cli_parse_size_str(const char *s, unsigned long *out);

/* "10.000 MiB" or, with @raw, "10485760". */
const char *cli_fmt_size(char *buf, size_t len, unsigned long bytes, bool raw);
/* "12.345 s" */
const char *cli_fmt_secs(char *buf, size_t len, uint64_t ns);

/* Whether to use ANSI colours on @f for --color=auto (tty, TERM, NO_COLOR). */
bool cli_color_auto(FILE *f);

/* ---- monitoring parameters ---- */

#define CLI_MAX_SCHEMES 16
#define CLI_MAX_FILTERS 8

struct cli_filter {
	enum damos_filter_type type;
	bool matching;
	bool allow;
	unsigned long a, b; /* addr range or hugepage size range */
	int target_idx;
};

struct cli_scheme {
	enum damos_action action;
	struct damos_access_pattern pattern;
	unsigned long apply_us;
	unsigned long quota_ms, quota_sz, quota_reset_ms;
	bool has_goal;
	enum damos_quota_goal_metric goal_metric;
	unsigned long goal_value;
	struct damos_watermarks wmarks;
	unsigned int nr_filters;
	struct cli_filter filters[CLI_MAX_FILTERS];
};

/* Which of the parameters the command line gave (for tune). */
enum cli_param_bit {
	CLI_P_SAMPLE = 1 << 0,
	CLI_P_AGGR = 1 << 1,
	CLI_P_UPDATE = 1 << 2,
	CLI_P_MIN_NR = 1 << 3,
	CLI_P_MAX_NR = 1 << 4,
	CLI_P_GOAL = 1 << 5,
	CLI_P_SCHEMES = 1 << 6,
	CLI_P_ALLOW_COLD = 1 << 7,
};

struct cli_params {
	unsigned long sample_us;
	unsigned long aggr_us;
	unsigned long update_us;
	unsigned long min_nr_regions;
	unsigned long max_nr_regions;
	struct damon_intervals_goal goal;
	unsigned int nr_schemes;
	struct cli_scheme schemes[CLI_MAX_SCHEMES];
	bool allow_cold_on_writes_only;
	unsigned int given;
};

/* Defaults: damo's (5 ms, 100 ms, 1 s, 10..1000 regions, no tuning). */
void cli_params_init(struct cli_params *p);

/* getopt_long ids of the parameter options, and their table rows. */
enum {
	CLI_OPT_SAMPLE = 1000,
	CLI_OPT_AGGR,
	CLI_OPT_UPDATE,
	CLI_OPT_MIN_NR,
	CLI_OPT_MAX_NR,
	CLI_OPT_GOAL,
	CLI_OPT_DAMOS,
	CLI_OPT_ALLOW_COLD,
	CLI_OPT_PARAMS_END,
};
/* clang-format off */
#define CLI_PARAMS_LONGOPTS \
	{ "sample-us", required_argument, NULL, CLI_OPT_SAMPLE }, \
	{ "aggr-us", required_argument, NULL, CLI_OPT_AGGR }, \
	{ "update-us", required_argument, NULL, CLI_OPT_UPDATE }, \
	{ "min-nr-regions", required_argument, NULL, CLI_OPT_MIN_NR }, \
	{ "max-nr-regions", required_argument, NULL, CLI_OPT_MAX_NR }, \
	{ "intervals-goal", required_argument, NULL, CLI_OPT_GOAL }, \
	{ "damos", required_argument, NULL, CLI_OPT_DAMOS }, \
	{ "allow-cold-on-writes-only", no_argument, NULL, CLI_OPT_ALLOW_COLD }
/* clang-format on */

/* The --help lines of the parameter options. */
extern const char cli_params_help[];

/*
 * Handle one parameter option.  Return: 0 if handled, CLI_EUSAGE after a
 * message, -1 if @opt is not a parameter option.
 */
int cli_params_option(struct cli_params *p, const char *cmd, int opt,
		      const char *arg);
/*
 * Cross-option checks (aggr >= sample, min <= max ...); CLI_EUSAGE.  With
 * @only_given, only between options the command line gave (tune: the
 * others are whatever the running context has).
 */
int cli_params_check(const struct cli_params *p, const char *cmd,
		     bool only_given);
/* damon_attrs of @p. */
void cli_params_attrs(const struct cli_params *p, struct damon_attrs *attrs);
/* Add @p's schemes to @ctx.  Return: 0 or -ENOMEM. */
int cli_params_add_schemes(const struct cli_params *p, struct damon_ctx *ctx);

#endif /* UDAMON_CLI_UTIL_H */
