// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Parser of the masim workload config format (see include/udamon/damon.h for the format).
 *
 * Map of this file:
 *   1. messages and numbers (strtoll with the checks atoi() lacks)
 *   2. lines: comment removal, newline-terminated lines only
 *   3. the regions paragraph
 *   4. phase paragraphs
 *   5. the entry points
 */
#include "sys/alloc.h"

#include <udamon/damon.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1. messages and numbers ---- */

struct masim_parser {
	const char *name;
	char *errbuf;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
masim_err(struct masim_parser *p, unsigned int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!p->errbuf || !p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(p->errbuf, p->errlen, "%s:%u: %s", p->name, line, msg);
	else
		snprintf(p->errbuf, p->errlen, "%s: %s", p->name, msg);
	return -EINVAL;
}

/* Blanks atoi() skips; '\n' cannot occur inside a line. */
static bool masim_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * Parse a number the way masim's atoi()/atoll() reads a well-formed one:
 * leading blanks and a sign are fine.  What atoi() would silently accept
 * is refused: no digits, trailing garbage (trailing blanks, e.g. the '\r'
 * of a CRLF file, are allowed) and overflow.  @field is a NUL-terminated
 * copy of the field.
 */
static int masim_number(const char *field, long long *val)
{
	const char *s = field;
	char *end;
	long long v;

	while (masim_is_blank(*s))
		s++;
	if (*s == '+' || *s == '-') {
		if (!isdigit((unsigned char)s[1]))
			return -EINVAL;
	} else if (!isdigit((unsigned char)*s)) {
		return -EINVAL;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	while (masim_is_blank(*end))
		end++;
	if (*end)
		return -EINVAL;
	*val = v;
	return 0;
}

/* ---- 2. lines ---- */

struct masim_line {
	const char *s;
	size_t len;
	unsigned int lineno;
};

/*
 * Collect the newline-terminated lines of @buf that do not start with '#'.
 * A last line without '\n' is dropped, as masim drops it.
 */
static int masim_lines(struct masim_parser *p, const char *buf, size_t len,
		       struct masim_line **linesp, size_t *nrp)
{
	struct masim_line *lines = NULL;
	size_t nr = 0, cap = 0, off = 0;
	unsigned int lineno = 0;

	while (off < len) {
		const char *s = buf + off;
		const char *nl = memchr(s, '\n', len - off);
		size_t l;

		if (!nl)
			break;
		l = (size_t)(nl - s);
		lineno++;
		off += l + 1;
		if (l && s[0] == '#')
			continue;
		if (memchr(s, '\0', l)) {
			free(lines);
			return masim_err(p, lineno, "line contains a NUL byte");
		}
		if (nr == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct masim_line *n;

			n = udamon__realloc(lines, ncap * sizeof(*n));
			if (!n) {
				free(lines);
				return -ENOMEM;
			}
			lines = n;
			cap = ncap;
		}
		lines[nr].s = s;
		lines[nr].len = l;
		lines[nr].lineno = lineno;
		nr++;
	}
	*linesp = lines;
	*nrp = nr;
	return 0;
}

/*
 * Split a line on ',' into at most @max NUL-terminated fields, copied into
 * @storage (at least line length + 1 bytes).  Returns the number of fields
 * the line has, which may be more than @max.
 */
static unsigned int masim_split(const struct masim_line *l, char *storage,
				char **fields, unsigned int max)
{
	unsigned int nr = 0;
	size_t i;

	memcpy(storage, l->s, l->len);
	storage[l->len] = '\0';
	if (max)
		fields[0] = storage;
	nr = 1;
	for (i = 0; i < l->len; i++) {
		if (storage[i] != ',')
			continue;
		storage[i] = '\0';
		if (nr < max)
			fields[nr] = storage + i + 1;
		nr++;
	}
	return nr;
}

static char *masim_strndup(const char *s, size_t n)
{
	char *d = udamon__malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* ---- 3. the regions paragraph ---- */

static int masim_parse_region(struct masim_parser *p,
			      const struct masim_line *l,
			      struct damon_masim_config *cfg, char *tmp)
{
	struct damon_masim_region *r = &cfg->regions[cfg->nr_regions];
	char *fields[3];
	unsigned int nr, i;
	long long size;
	const char *init;
	int err;

	nr = masim_split(l, tmp, fields, 3);
	if (nr < 2 || nr > 3)
		return masim_err(p, l->lineno,
				 "expected 'name, size_bytes[, init_file]' "
				 "but found %u field%s",
				 nr, nr == 1 ? "" : "s");
	if (!fields[0][0])
		return masim_err(p, l->lineno, "empty region name");
	for (i = 0; i < cfg->nr_regions; i++) {
		if (!strcmp(cfg->regions[i].name, fields[0]))
			return masim_err(p, l->lineno,
					 "region '%s' already defined at "
					 "line %u",
					 fields[0], cfg->regions[i].line);
	}
	err = masim_number(fields[1], &size);
	if (err)
		return masim_err(p, l->lineno,
				 "bad number '%s' for the size of region '%s'",
				 fields[1], fields[0]);
	if (size <= 0)
		return masim_err(p, l->lineno,
				 "size of region '%s' must be > 0, not %lld",
				 fields[0], size);
	init = NULL;
	if (nr == 3) {
		/* Written after ", " by habit, so skip the blanks. */
		init = fields[2];
		while (masim_is_blank(*init))
			init++;
		if (!*init)
			return masim_err(p, l->lineno,
					 "empty init_file of region '%s' (use "
					 "'none' or a path)",
					 fields[0]);
		if (!strcmp(init, "none"))
			init = NULL;
	}
	r->name = udamon__strdup(fields[0]);
	r->init_file = init ? udamon__strdup(init) : NULL;
	if (!r->name || (init && !r->init_file)) {
		free(r->name);
		free(r->init_file);
		return -ENOMEM;
	}
	r->size = (unsigned long long)size;
	r->line = l->lineno;
	cfg->nr_regions++;
	return 0;
}

/* ---- 4. phase paragraphs ---- */

static int masim_parse_mode(const char *field, enum damon_masim_rw_mode *mode)
{
	char word[3];
	size_t n;

	while (masim_is_blank(*field))
		field++;
	for (n = 0; field[n] && !masim_is_blank(field[n]); n++)
		;
	if (n != 2)
		return -EINVAL;
	word[0] = field[0];
	word[1] = field[1];
	word[2] = '\0';
	for (field += n; masim_is_blank(*field); field++)
		;
	if (*field)
		return -EINVAL;
	return damon_masim_rw_mode_from_name(word, mode);
}

static int masim_parse_pattern(struct masim_parser *p,
			       const struct masim_line *l,
			       struct damon_masim_config *cfg,
			       struct damon_masim_pattern *pat,
			       enum damon_masim_rw_mode default_mode, char *tmp)
{
	char *fields[5];
	unsigned int nr;
	long long v;
	int idx;

	nr = masim_split(l, tmp, fields, 5);
	if (nr < 4 || nr > 5)
		return masim_err(p, l->lineno,
				 "expected 'region, random, stride, weight"
				 "[, ro|wo|rw]' but found %u field%s",
				 nr, nr == 1 ? "" : "s");
	idx = damon_masim_region_idx(cfg, fields[0]);
	if (idx < 0)
		return masim_err(p, l->lineno, "unknown region '%s' in pattern",
				 fields[0]);
	pat->region = (unsigned int)idx;

	if (masim_number(fields[1], &v))
		return masim_err(p, l->lineno,
				 "bad number '%s' for random (0 or 1)",
				 fields[1]);
	if (v != 0 && v != 1)
		return masim_err(p, l->lineno,
				 "random must be 0 or 1, not %lld", v);
	pat->random = v == 1;

	if (masim_number(fields[2], &v))
		return masim_err(p, l->lineno, "bad number '%s' for stride",
				 fields[2]);
	if (v < 0)
		return masim_err(p, l->lineno, "stride must be >= 0, not %lld",
				 v);
	pat->stride = (unsigned long long)v;

	if (masim_number(fields[3], &v) || v > INT_MAX)
		return masim_err(p, l->lineno, "bad number '%s' for weight",
				 fields[3]);
	if (v < 0)
		return masim_err(p, l->lineno, "weight must be >= 0, not %lld",
				 v);
	pat->weight = (unsigned int)v;

	pat->mode = default_mode;
	if (nr == 5 && masim_parse_mode(fields[4], &pat->mode))
		return masim_err(p, l->lineno,
				 "bad access mode '%s' (ro, wo or rw)",
				 fields[4]);
	pat->line = l->lineno;
	return 0;
}

/* Parse the phase paragraph lines[0..nr). */
static int masim_parse_phase(struct masim_parser *p,
			     const struct masim_line *lines, size_t nr,
			     struct damon_masim_config *cfg,
			     enum damon_masim_rw_mode default_mode, char *tmp)
{
	struct damon_masim_phase *ph = &cfg->phases[cfg->nr_phases];
	long long v;
	size_t i;
	int err;

	ph->name = masim_strndup(lines[0].s, lines[0].len);
	if (!ph->name)
		return -ENOMEM;
	ph->line = lines[0].lineno;
	/* Count it now so that damon_masim_free() frees what we made. */
	cfg->nr_phases++;
	if (nr < 3)
		return masim_err(p, lines[0].lineno,
				 "phase '%s' needs a name, a duration and at "
				 "least one pattern",
				 ph->name);

	memcpy(tmp, lines[1].s, lines[1].len);
	tmp[lines[1].len] = '\0';
	if (masim_number(tmp, &v) || v > INT_MAX)
		return masim_err(p, lines[1].lineno,
				 "bad number '%s' for the duration (ms) of "
				 "phase '%s'",
				 tmp, ph->name);
	if (v <= 0)
		return masim_err(p, lines[1].lineno,
				 "duration of phase '%s' must be > 0 ms, not "
				 "%lld",
				 ph->name, v);
	ph->duration_ms = (unsigned long long)v;

	ph->patterns = udamon__calloc(nr - 2, sizeof(*ph->patterns));
	if (!ph->patterns)
		return -ENOMEM;
	ph->total_weight = 0;
	for (i = 2; i < nr; i++) {
		struct damon_masim_pattern *pat =
			&ph->patterns[ph->nr_patterns];

		err = masim_parse_pattern(p, &lines[i], cfg, pat, default_mode,
					  tmp);
		if (err)
			return err;
		ph->nr_patterns++;
		ph->total_weight += pat->weight;
	}
	if (!ph->total_weight)
		return masim_err(p, lines[0].lineno,
				 "phase '%s' has no pattern with a weight "
				 "above 0",
				 ph->name);
	return 0;
}

/* ---- 5. entry points ---- */

static int masim_parse_lines(struct masim_parser *p,
			     const struct masim_line *lines, size_t nr,
			     struct damon_masim_config *cfg,
			     enum damon_masim_rw_mode default_mode, char *tmp)
{
	size_t i, start, nr_paragraphs;
	int err;

	if (!nr)
		return masim_err(p, 0,
				 "no regions (the file has no complete "
				 "line)");
	if (!lines[0].len)
		return masim_err(p, lines[0].lineno,
				 "blank line where the regions paragraph "
				 "should start");

	/* Paragraph 1: regions, up to the first blank line. */
	for (i = 0; i < nr && lines[i].len; i++)
		;
	if (i == nr)
		return masim_err(p, lines[nr - 1].lineno,
				 "no blank line after the regions paragraph "
				 "(a config needs at least one phase)");
	cfg->regions = udamon__calloc(i, sizeof(*cfg->regions));
	if (!cfg->regions)
		return -ENOMEM;
	for (start = 0; start < i; start++) {
		err = masim_parse_region(p, &lines[start], cfg, tmp);
		if (err)
			return err;
	}
	i++; /* the blank line */
	if (i == nr)
		return masim_err(p, lines[i - 1].lineno,
				 "no phase after the regions paragraph");

	/*
	 * Phases.  Every blank line ends one paragraph and starts the next,
	 * so two blank lines in a row, or one at the very end, make an empty
	 * phase: masim aborts on those, and so do we.
	 */
	nr_paragraphs = 1;
	for (start = i; start < nr; start++)
		nr_paragraphs += !lines[start].len;
	cfg->phases = udamon__calloc(nr_paragraphs, sizeof(*cfg->phases));
	if (!cfg->phases)
		return -ENOMEM;
	while (i <= nr) {
		start = i;
		while (i < nr && lines[i].len)
			i++;
		if (i == start) {
			if (start == nr)
				return masim_err(p, lines[nr - 1].lineno,
						 "blank line at the end of the "
						 "file makes an empty phase");
			return masim_err(p, lines[start].lineno,
					 "extra blank line makes an empty "
					 "phase (paragraphs are separated by "
					 "exactly one blank line)");
		}
		err = masim_parse_phase(p, &lines[start], i - start, cfg,
					default_mode, tmp);
		if (err)
			return err;
		if (i == nr)
			break;
		i++; /* the blank line */
	}
	return 0;
}

int damon_masim_parse_buf(const char *buf, size_t len, const char *name,
			  enum damon_masim_rw_mode default_mode,
			  struct damon_masim_config **cfgp, char *errbuf,
			  size_t errlen)
{
	struct masim_parser p = {
		.name = name ? name : "(config)",
		.errbuf = errbuf,
		.errlen = errlen,
	};
	struct damon_masim_config *cfg;
	struct masim_line *lines = NULL;
	size_t nr = 0, maxlen = 0, i;
	char *tmp = NULL;
	int err;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!cfgp || (!buf && len) || default_mode >= NR_DAMON_MASIM_RW_MODES)
		return -EINVAL;
	*cfgp = NULL;
	err = masim_lines(&p, buf, len, &lines, &nr);
	if (err)
		return err;
	for (i = 0; i < nr; i++)
		if (lines[i].len > maxlen)
			maxlen = lines[i].len;
	cfg = udamon__calloc(1, sizeof(*cfg));
	tmp = udamon__malloc(maxlen + 1);
	if (cfg)
		cfg->name = udamon__strdup(p.name);
	if (!cfg || !tmp || !cfg->name) {
		err = -ENOMEM;
		goto out;
	}
	err = masim_parse_lines(&p, lines, nr, cfg, default_mode, tmp);
out:
	if (err == -ENOMEM && errbuf && errlen)
		snprintf(errbuf, errlen, "%s: out of memory", p.name);
	if (err)
		damon_masim_free(cfg);
	else
		*cfgp = cfg;
	free(tmp);
	free(lines);
	return err;
}

int damon_masim_parse_file(const char *path,
			   enum damon_masim_rw_mode default_mode,
			   struct damon_masim_config **cfgp, char *errbuf,
			   size_t errlen)
{
	char ebuf[128];
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int err;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!path || !cfgp)
		return -EINVAL;
	*cfgp = NULL;
	f = udamon__fopen(path, "re");
	if (!f) {
		err = -errno;
		goto err_msg;
	}
	for (;;) {
		if (len == cap) {
			char *nb;

			if (cap >= DAMON_MASIM_MAX_FILE_SIZE) {
				fclose(f);
				free(buf);
				if (errbuf && errlen)
					snprintf(errbuf, errlen,
						 "%s: larger than %lu bytes",
						 path,
						 DAMON_MASIM_MAX_FILE_SIZE);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : 4096;
			nb = udamon__realloc(buf, cap + 1);
			if (!nb) {
				fclose(f);
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n)
			continue;
		if (ferror(f)) {
			err = errno ? -errno : -EIO;
			fclose(f);
			free(buf);
			goto err_msg;
		}
		break;
	}
	fclose(f);
	err = damon_masim_parse_buf(buf, len, path, default_mode, cfgp, errbuf,
				    errlen);
	free(buf);
	return err;
err_msg:
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s: %s", path,
			 strerror_r(-err, ebuf, sizeof(ebuf)));
	return err;
}

void damon_masim_free(struct damon_masim_config *cfg)
{
	unsigned int i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->nr_regions; i++) {
		free(cfg->regions[i].name);
		free(cfg->regions[i].init_file);
	}
	free(cfg->regions);
	for (i = 0; i < cfg->nr_phases; i++) {
		free(cfg->phases[i].name);
		free(cfg->phases[i].patterns);
	}
	free(cfg->phases);
	free(cfg->name);
	free(cfg);
}

static const char *const masim_mode_names[NR_DAMON_MASIM_RW_MODES] = {
	[DAMON_MASIM_RW_RO] = "ro",
	[DAMON_MASIM_RW_WO] = "wo",
	[DAMON_MASIM_RW_RW] = "rw",
};

const char *damon_masim_rw_mode_name(enum damon_masim_rw_mode mode)
{
	if ((unsigned int)mode >= NR_DAMON_MASIM_RW_MODES)
		return NULL;
	return masim_mode_names[mode];
}

int damon_masim_rw_mode_from_name(const char *name,
				  enum damon_masim_rw_mode *mode)
{
	unsigned int i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < NR_DAMON_MASIM_RW_MODES; i++) {
		if (!strcmp(name, masim_mode_names[i])) {
			*mode = (enum damon_masim_rw_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

unsigned long long damon_masim_total_ms(const struct damon_masim_config *cfg)
{
	unsigned long long sum = 0;
	unsigned int i;

	for (i = 0; i < cfg->nr_phases; i++)
		sum += cfg->phases[i].duration_ms;
	return sum;
}

int damon_masim_region_idx(const struct damon_masim_config *cfg,
			   const char *name)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_regions; i++) {
		if (!strcmp(cfg->regions[i].name, name))
			return (int)i;
	}
	return -1;
}
