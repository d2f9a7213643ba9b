// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Shared helpers of the udamon subcommands: messages that name the option
 * at fault, strict parsing of numbers, times and sizes, formatting, and the
 * monitoring parameter options (intervals, nr_regions, tuning goal,
 * --damos scheme specs) with their damon_ctx builder.
 */
#include "cli/util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "udamon %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_bad_arg(const char *cmd, const char *opt, const char *arg,
		const char *problem)
{
	cli_err(cmd, "%s: '%s' %s", opt, arg, problem);
	return CLI_EUSAGE;
}

int cli_usage_error(const char *cmd, const char *hint)
{
	cli_err(cmd, "%s (see 'udamon %s --help')", hint, cmd);
	return CLI_EUSAGE;
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
	const char *word = optind > 0 ? argv[optind - 1] : "";
	int len = (int)strcspn(word, "=");

	/*
	 * A short option inside a group ("-qz") is named by itself; a long
	 * one ("--bogus=1") without its value.  getopt leaves optopt at 0
	 * for an unknown long option.
	 */
	if (optopt > 0 && optopt < 256 && strncmp(word, "--", 2))
		cli_err(cmd, "%s '-%c'%s (see 'udamon %s --help')",
			c == ':' ? "option" : "unknown option", optopt,
			c == ':' ? " needs a value" : "", cmd);
	else
		cli_err(cmd, "%s '%.*s'%s (see 'udamon %s --help')",
			c == ':' ? "option" : "unknown option", len, word,
			c == ':' ? " needs a value" : "", cmd);
	return CLI_EUSAGE;
}

/* Strict: optional 0x for hex, digits only, no sign, no blanks. */
static int parse_ull(const char *s, unsigned long long *out)
{
	char *end;
	int base = 10;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	*out = strtoull(s, &end, base);
	if (errno)
		return -errno;
	if (*end || end == s)
		return -EINVAL;
	return 0;
}

int cli_parse_ulong(const char *cmd, const char *opt, const char *arg,
		    unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long long v;
	char problem[96];
	int err = parse_ull(arg, &v);

	if (err == -ERANGE)
		return cli_bad_arg(cmd, opt, arg, "is too large");
	if (err)
		return cli_bad_arg(cmd, opt, arg,
				   "is not a non-negative number");
	if (v < min || v > max) {
		if (max == ULONG_MAX)
			snprintf(problem, sizeof(problem),
				 "is out of range (at least %lu)", min);
		else
			snprintf(problem, sizeof(problem),
				 "is out of range (%lu to %lu)", min, max);
		return cli_bad_arg(cmd, opt, arg, problem);
	}
	*out = (unsigned long)v;
	return 0;
}

int cli_parse_int(const char *cmd, const char *opt, const char *arg, int min,
		  int max, int *out)
{
	unsigned long v;
	int err = cli_parse_ulong(cmd, opt, arg,
				  (unsigned long)(min < 0 ? 0 : min),
				  (unsigned long)max, &v);

	if (!err)
		*out = (int)v;
	return err;
}

int cli_parse_seconds(const char *cmd, const char *opt, const char *arg,
		      double *out)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = { { "us", 1e-6 },
		      { "ms", 1e-3 },
		      { "s", 1 },
		      { "m", 60 },
		      { "h", 3600 } };
	char *end;
	double v;
	size_t i;

	if (!arg || !*arg || *arg == '-' || *arg == '+' || *arg == ' ')
		return cli_bad_arg(cmd, opt, arg ? arg : "",
				   "is not a time (e.g. 2.5, 2500ms, 1m)");
	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || !isfinite(v) || v < 0)
		return cli_bad_arg(cmd, opt, arg,
				   "is not a time (e.g. 2.5, 2500ms, 1m)");
	if (*end) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].suffix))
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return cli_bad_arg(
				cmd, opt, arg,
				"has an unknown unit (use us, ms, s, m or h)");
		v *= units[i].mult;
	}
	if (v > 1e9)
		return cli_bad_arg(cmd, opt, arg, "is too long");
	*out = v;
	return 0;
}

int cli_parse_size_str(const char *s, unsigned long *out)
{
	static const char units[] = "KMGTPE";
	unsigned long long v, mult = 1;
	char num[32];
	const char *u;
	size_t len;

	if (!strcmp(s, "min")) {
		*out = 0;
		return 0;
	}
	if (!strcmp(s, "max")) {
		*out = ULONG_MAX;
		return 0;
	}
	len = strlen(s);
	if (!len || len >= sizeof(num))
		return -EINVAL;
	if (!(s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
		/* Strip B, iB; then one K/M/G/T/P/E. */
		if (len > 1 && s[len - 1] == 'B')
			len--;
		if (len > 1 && s[len - 1] == 'i')
			len--;
		if (len > 1 && (u = strchr(units, s[len - 1])) && *u) {
			mult = 1ULL << (10 * (u - units + 1));
			len--;
		}
	}
	memcpy(num, s, len);
	num[len] = '\0';
	if (parse_ull(num, &v))
		return -EINVAL;
	if (v > ULONG_MAX / mult)
		return -ERANGE;
	*out = (unsigned long)(v * mult);
	return 0;
}

const char *cli_fmt_size(char *buf, size_t len, unsigned long bytes, bool raw)
{
	static const char *const units[] = { "KiB", "MiB", "GiB",
					     "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	int i = -1;

	if (raw || bytes < 1024) {
		snprintf(buf, len, raw ? "%lu" : "%lu B", bytes);
		return buf;
	}
	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.3f %s", v, units[i]);
	return buf;
}

const char *cli_fmt_secs(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%.3f s", (double)ns / 1e9);
	return buf;
}

bool cli_color_auto(FILE *f)
{
	const char *term = getenv("TERM");

	if (getenv("NO_COLOR") && *getenv("NO_COLOR"))
		return false;
	return isatty(fileno(f)) && term && strcmp(term, "dumb");
}

/* ------------------------------------------------------------------ */
/* Monitoring parameters                                               */
/* ------------------------------------------------------------------ */

const char cli_params_help[] =
	"monitoring parameters:\n"
	"  --sample-us US          sampling interval (default 5000)\n"
	"  --aggr-us US            aggregation interval (default 100000)\n"
	"  --update-us US          operations update interval (default 1000000)\n"
	"  --min-nr-regions N      lower bound of the number of regions (default 10)\n"
	"  --max-nr-regions N      upper bound of it (default 1000)\n"
	"  --intervals-goal BP,AGGRS,MIN_US,MAX_US\n"
	"                          auto-tune the sampling interval so that BP basis\n"
	"                          points of the possible access events are seen,\n"
	"                          every AGGRS aggregations, within [MIN_US, MAX_US]\n"
	"  --damos SPEC            add a DAMOS scheme (repeatable); SPEC is\n"
	"                          ACTION[,KEY=VALUE...] with keys\n"
	"                            sz=MIN-MAX           region size (4K, 2M, max)\n"
	"                            nr_accesses=MIN-MAX  samples per aggregation\n"
	"                            age=MIN-MAX          aggregation intervals\n"
	"                            apply_us=US          apply interval\n"
	"                            quota_ms=MS quota_sz=SIZE quota_reset_ms=MS\n"
	"                            goal=METRIC:VALUE    quota auto-tuning goal\n"
	"                            wmarks=METRIC:INTERVAL_US:HIGH:MID:LOW\n"
	"                            filter=[!]TYPE[:ARG]:allow|reject\n"
	"                          e.g. --damos pageout,nr_accesses=0-0,age=50-max\n"
	"  --allow-cold-on-writes-only\n"
	"                          let schemes acting on cold memory (pageout, cold,\n"
	"                          migrate_cold) run on the writes-only uffd-wp\n"
	"                          source, which calls memory that is only read\n"
	"                          cold (refused without this)\n";

void cli_params_init(struct cli_params *p)
{
	memset(p, 0, sizeof(*p));
	p->sample_us = 5000;
	p->aggr_us = 100000;
	p->update_us = 1000000;
	p->min_nr_regions = 10;
	p->max_nr_regions = 1000;
}

/* "A-B" of sizes/numbers with min and max; @is_size allows K/M/G. */
static int parse_range(const char *s, bool is_size, unsigned long *a,
		       unsigned long *b)
{
	char buf[80];
	char *dash;
	unsigned long long v;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	dash = strchr(buf, '-');
	if (!dash)
		return -EINVAL;
	*dash = '\0';
	if (is_size) {
		if (cli_parse_size_str(buf, a) ||
		    cli_parse_size_str(dash + 1, b))
			return -EINVAL;
	} else {
		if (!strcmp(buf, "min"))
			*a = 0;
		else if (parse_ull(buf, &v) || v > UINT_MAX)
			return -EINVAL;
		else
			*a = (unsigned long)v;
		if (!strcmp(dash + 1, "max"))
			*b = UINT_MAX;
		else if (parse_ull(dash + 1, &v) || v > UINT_MAX)
			return -EINVAL;
		else
			*b = (unsigned long)v;
	}
	return *a <= *b ? 0 : -EINVAL;
}

static int parse_filter(const char *cmd, const char *val, struct cli_filter *f)
{
	char buf[128], *fields[3], *save = NULL, *tok;
	unsigned int n = 0;
	const char *last;

	memset(f, 0, sizeof(*f));
	f->matching = true;
	if (strlen(val) >= sizeof(buf))
		goto bad;
	memcpy(buf, val, strlen(val) + 1);
	for (tok = strtok_r(buf, ":", &save); tok && n < 3;
	     tok = strtok_r(NULL, ":", &save))
		fields[n++] = tok;
	if (tok || n < 2)
		goto bad;
	if (fields[0][0] == '!') {
		f->matching = false;
		fields[0]++;
	}
	if (damos_filter_type_from_name(fields[0], &f->type)) {
		cli_err(cmd, "--damos: filter type '%s' is unknown", fields[0]);
		return CLI_EUSAGE;
	}
	last = fields[n - 1];
	if (!strcmp(last, "allow"))
		f->allow = true;
	else if (strcmp(last, "reject"))
		goto bad;
	switch (f->type) {
	case DAMOS_FILTER_TYPE_ADDR:
	case DAMOS_FILTER_TYPE_HUGEPAGE_SIZE:
		if (n != 3 || parse_range(fields[1], true, &f->a, &f->b))
			goto bad;
		break;
	case DAMOS_FILTER_TYPE_TARGET:
		if (n != 3 || parse_range("0-0", false, &f->a, &f->b))
			goto bad;
		{
			unsigned long long v;

			if (parse_ull(fields[1], &v) || v > INT_MAX)
				goto bad;
			f->target_idx = (int)v;
		}
		break;
	case DAMOS_FILTER_TYPE_MEMCG:
		cli_err(cmd, "--damos: memcg filters are not supported here");
		return CLI_EUSAGE;
	default:
		if (n != 2)
			goto bad;
		break;
	}
	return 0;
bad:
	cli_err(cmd,
		"--damos: filter '%s' is not [!]TYPE[:ARG]:allow|reject (e.g. anon:reject, addr:0x1000-0x2000:allow)",
		val);
	return CLI_EUSAGE;
}

static int parse_damos(struct cli_params *p, const char *cmd, const char *arg)
{
	struct cli_scheme *s;
	char buf[512], *save = NULL, *tok;
	bool first = true;

	if (p->nr_schemes == CLI_MAX_SCHEMES) {
		cli_err(cmd, "--damos: at most %d schemes", CLI_MAX_SCHEMES);
		return CLI_EUSAGE;
	}
	if (strlen(arg) >= sizeof(buf))
		return cli_bad_arg(cmd, "--damos", arg, "is too long");
	memcpy(buf, arg, strlen(arg) + 1);
	s = &p->schemes[p->nr_schemes];
	memset(s, 0, sizeof(*s));
	s->pattern.max_sz_region = ULONG_MAX;
	s->pattern.max_nr_accesses = UINT_MAX;
	s->pattern.max_age_region = UINT_MAX;

	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		const char *key = tok, *val;
		unsigned long a, b;
		int err;

		if (first) {
			first = false;
			if (eq || damos_action_from_name(tok, &s->action)) {
				cli_err(cmd,
					"--damos: '%s' is not an action (willneed, cold, pageout, hugepage, nohugepage, collapse, lru_prio, lru_deprio, migrate_hot, migrate_cold, stat)",
					tok);
				return CLI_EUSAGE;
			}
			continue;
		}
		if (!eq) {
			cli_err(cmd, "--damos: '%s' is not KEY=VALUE", tok);
			return CLI_EUSAGE;
		}
		*eq = '\0';
		val = eq + 1;
		err = 0;
		if (!strcmp(key, "sz")) {
			err = parse_range(val, true, &a, &b);
			s->pattern.min_sz_region = a;
			s->pattern.max_sz_region = b;
		} else if (!strcmp(key, "nr_accesses")) {
			err = parse_range(val, false, &a, &b);
			s->pattern.min_nr_accesses = (unsigned int)a;
			s->pattern.max_nr_accesses = (unsigned int)b;
		} else if (!strcmp(key, "age")) {
			err = parse_range(val, false, &a, &b);
			s->pattern.min_age_region = (unsigned int)a;
			s->pattern.max_age_region = (unsigned int)b;
		} else if (!strcmp(key, "apply_us")) {
			unsigned long long v;

			err = parse_ull(val, &v);
			s->apply_us = (unsigned long)v;
		} else if (!strcmp(key, "quota_ms")) {
			unsigned long long v;

			err = parse_ull(val, &v);
			s->quota_ms = (unsigned long)v;
		} else if (!strcmp(key, "quota_sz")) {
			err = cli_parse_size_str(val, &s->quota_sz);
		} else if (!strcmp(key, "quota_reset_ms")) {
			unsigned long long v;

			err = parse_ull(val, &v);
			s->quota_reset_ms = (unsigned long)v;
		} else if (!strcmp(key, "goal")) {
			char m[64];
			const char *colon = strchr(val, ':');
			unsigned long long v;

			err = -EINVAL;
			if (colon && (size_t)(colon - val) < sizeof(m)) {
				memcpy(m, val, (size_t)(colon - val));
				m[colon - val] = '\0';
				if (!damos_quota_goal_metric_from_name(
					    m, &s->goal_metric) &&
				    !parse_ull(colon + 1, &v) && v) {
					s->goal_value = (unsigned long)v;
					s->has_goal = true;
					err = 0;
				}
			}
		} else if (!strcmp(key, "wmarks")) {
			unsigned long long v[4];
			char m[32];
			int n = sscanf(val, "%31[a-z_]:%llu:%llu:%llu:%llu", m,
				       &v[0], &v[1], &v[2], &v[3]);

			err = -EINVAL;
			if (n == 5 && !strcmp(m, "free_mem_rate") &&
			    v[1] >= v[2] && v[2] >= v[3]) {
				s->wmarks.metric = DAMOS_WMARK_FREE_MEM_RATE;
				s->wmarks.interval = (unsigned long)v[0];
				s->wmarks.high = (unsigned long)v[1];
				s->wmarks.mid = (unsigned long)v[2];
				s->wmarks.low = (unsigned long)v[3];
				err = 0;
			} else if (n >= 1 && !strcmp(m, "none")) {
				s->wmarks.metric = DAMOS_WMARK_NONE;
				err = 0;
			}
		} else if (!strcmp(key, "filter")) {
			if (s->nr_filters == CLI_MAX_FILTERS) {
				cli_err(cmd, "--damos: at most %d filters",
					CLI_MAX_FILTERS);
				return CLI_EUSAGE;
			}
			err = parse_filter(cmd, val,
					   &s->filters[s->nr_filters]);
			if (err)
				return err;
			s->nr_filters++;
		} else {
			cli_err(cmd,
				"--damos: unknown key '%s' (sz, nr_accesses, age, apply_us, quota_ms, quota_sz, quota_reset_ms, goal, wmarks, filter)",
				key);
			return CLI_EUSAGE;
		}
		if (err) {
			cli_err(cmd, "--damos: %s: bad value '%s'", key, val);
			return CLI_EUSAGE;
		}
	}
	if (first)
		return cli_bad_arg(cmd, "--damos", arg, "names no action");
	p->nr_schemes++;
	p->given |= CLI_P_SCHEMES;
	return 0;
}

int cli_params_option(struct cli_params *p, const char *cmd, int opt,
		      const char *arg)
{
	unsigned long long v[4];
	int n;

	switch (opt) {
	case CLI_OPT_ALLOW_COLD:
		p->given |= CLI_P_ALLOW_COLD;
		p->allow_cold_on_writes_only = true;
		return 0;
	case CLI_OPT_SAMPLE:
		p->given |= CLI_P_SAMPLE;
		return cli_parse_ulong(cmd, "--sample-us", arg, 1, ULONG_MAX,
				       &p->sample_us);
	case CLI_OPT_AGGR:
		p->given |= CLI_P_AGGR;
		return cli_parse_ulong(cmd, "--aggr-us", arg, 1, ULONG_MAX,
				       &p->aggr_us);
	case CLI_OPT_UPDATE:
		p->given |= CLI_P_UPDATE;
		return cli_parse_ulong(cmd, "--update-us", arg, 1, ULONG_MAX,
				       &p->update_us);
	case CLI_OPT_MIN_NR:
		p->given |= CLI_P_MIN_NR;
		return cli_parse_ulong(cmd, "--min-nr-regions", arg, 3,
				       ULONG_MAX, &p->min_nr_regions);
	case CLI_OPT_MAX_NR:
		p->given |= CLI_P_MAX_NR;
		return cli_parse_ulong(cmd, "--max-nr-regions", arg, 3,
				       ULONG_MAX, &p->max_nr_regions);
	case CLI_OPT_GOAL: {
		char tail;

		p->given |= CLI_P_GOAL;
		n = sscanf(arg, "%llu,%llu,%llu,%llu%c", &v[0], &v[1], &v[2],
			   &v[3], &tail);
		if (n != 4 || strchr(arg, '-') || strchr(arg, ' '))
			return cli_bad_arg(
				cmd, "--intervals-goal", arg,
				"is not ACCESS_BP,AGGRS,MIN_SAMPLE_US,MAX_SAMPLE_US");
		if (v[0] > 10000 || v[2] > v[3])
			return cli_bad_arg(
				cmd, "--intervals-goal", arg,
				"needs ACCESS_BP <= 10000 and MIN_SAMPLE_US <= MAX_SAMPLE_US");
		p->goal.access_bp = (unsigned long)v[0];
		p->goal.aggrs = (unsigned long)v[1];
		p->goal.min_sample_us = (unsigned long)v[2];
		p->goal.max_sample_us = (unsigned long)v[3];
		return 0;
	}
	case CLI_OPT_DAMOS:
		return parse_damos(p, cmd, arg);
	default:
		return -1;
	}
}

int cli_params_check(const struct cli_params *p, const char *cmd,
		     bool only_given)
{
	unsigned int g = only_given ? p->given : ~0U;

	if ((g & CLI_P_AGGR) && (g & CLI_P_SAMPLE) &&
	    p->aggr_us < p->sample_us) {
		cli_err(cmd,
			"--aggr-us (%lu) must not be below --sample-us (%lu)",
			p->aggr_us, p->sample_us);
		return CLI_EUSAGE;
	}
	if ((g & CLI_P_MIN_NR) && (g & CLI_P_MAX_NR) &&
	    p->min_nr_regions > p->max_nr_regions) {
		cli_err(cmd,
			"--min-nr-regions (%lu) must not be above --max-nr-regions (%lu)",
			p->min_nr_regions, p->max_nr_regions);
		return CLI_EUSAGE;
	}
	if ((g & CLI_P_GOAL) && (g & CLI_P_SAMPLE) && p->goal.aggrs &&
	    (p->sample_us < p->goal.min_sample_us ||
	     p->sample_us > p->goal.max_sample_us)) {
		cli_err(cmd,
			"--intervals-goal: the sampling interval (%lu us) must lie within [%lu, %lu] us",
			p->sample_us, p->goal.min_sample_us,
			p->goal.max_sample_us);
		return CLI_EUSAGE;
	}
	return 0;
}

void cli_params_attrs(const struct cli_params *p, struct damon_attrs *attrs)
{
	memset(attrs, 0, sizeof(*attrs));
	attrs->sample_interval = p->sample_us;
	attrs->aggr_interval = p->aggr_us;
	attrs->ops_update_interval = p->update_us;
	attrs->intervals_goal = p->goal;
	attrs->min_nr_regions = p->min_nr_regions;
	attrs->max_nr_regions = p->max_nr_regions;
}

int cli_params_add_schemes(const struct cli_params *p, struct damon_ctx *ctx)
{
	unsigned int i, j;

	if (ctx->ops.id == DAMON_OPS_VADDR || ctx->ops.id == DAMON_OPS_FVADDR) {
		int err = damon_allow_cold_on_writes_only(
			ctx, p->allow_cold_on_writes_only);

		if (err)
			return err;
	}
	for (i = 0; i < p->nr_schemes; i++) {
		const struct cli_scheme *cs = &p->schemes[i];
		struct damos_access_pattern pattern = cs->pattern;
		struct damos_watermarks wmarks = cs->wmarks;
		struct damos_quota quota;
		struct damos *s;

		memset(&quota, 0, sizeof(quota));
		quota.ms = cs->quota_ms;
		quota.sz = cs->quota_sz;
		quota.reset_interval = cs->quota_reset_ms;
		s = damon_new_scheme(&pattern, cs->action, cs->apply_us, &quota,
				     &wmarks, -1);
		if (!s)
			return -ENOMEM;
		if (cs->has_goal) {
			struct damos_quota_goal *g = damos_new_quota_goal(
				cs->goal_metric, cs->goal_value);

			if (!g) {
				damon_destroy_scheme(s);
				return -ENOMEM;
			}
			damos_add_quota_goal(&s->quota, g);
		}
		for (j = 0; j < cs->nr_filters; j++) {
			const struct cli_filter *cf = &cs->filters[j];
			struct damos_filter *f = damos_new_filter(
				cf->type, cf->matching, cf->allow);

			if (!f) {
				damon_destroy_scheme(s);
				return -ENOMEM;
			}
			if (cf->type == DAMOS_FILTER_TYPE_ADDR) {
				f->addr_range.start = cf->a;
				f->addr_range.end = cf->b;
			} else if (cf->type ==
				   DAMOS_FILTER_TYPE_HUGEPAGE_SIZE) {
				f->sz_range.min = cf->a;
				f->sz_range.max = cf->b;
			} else if (cf->type == DAMOS_FILTER_TYPE_TARGET) {
				f->target_idx = cf->target_idx;
			}
			damos_add_filter(s, f);
		}
		damon_add_scheme(ctx, s);
	}
	return 0;
}
