// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Replay workloads (see replay.h for the abstract input and the trace
 * format).
 *
 * Map of this file:
 *   1. messages, freeing, validation
 *   2. format sniffing and the dispatcher (udamon and damo records, traces)
 *   3. udamon records
 *   4. page-access traces
 *   5. reading a file
 */
#include "ops/replay.h"
#include "record/record.h"
#include "sys/alloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_PAGE 4096UL

/* ---- 1. messages, freeing, validation ---- */

static int __attribute__((format(printf, 5, 6)))
replay_err(char *errbuf, size_t errlen, const char *name, unsigned long line,
	   const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!errbuf || !errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(errbuf, errlen, "%s:%lu: %s", name, line, msg);
	else
		snprintf(errbuf, errlen, "%s: %s", name, msg);
	return -EINVAL;
}

void udamon__replay_free(struct sim_replay *rp)
{
	size_t i;

	if (!rp)
		return;
	for (i = 0; i < rp->nr_snapshots; i++)
		free(rp->snapshots[i].regions);
	free(rp->snapshots);
	free(rp->name);
	free(rp);
}

static struct sim_replay *replay_new(const char *name, const char *kind)
{
	struct sim_replay *rp = udamon__calloc(1, sizeof(*rp));

	if (!rp)
		return NULL;
	rp->name = udamon__strdup(name);
	if (!rp->name) {
		free(rp);
		return NULL;
	}
	rp->kind = kind;
	return rp;
}

int udamon__replay_validate(const struct sim_replay *rp, char *errbuf,
			    size_t errlen)
{
	const char *name = rp && rp->name ? rp->name : "(replay)";
	uint64_t prev_end = 0;
	size_t i;

	if (!rp || !rp->nr_snapshots || !rp->snapshots)
		return replay_err(errbuf, errlen, name, 0,
				  "no snapshot to replay");
	if (rp->nr_snapshots > UDAMON_REPLAY_MAX_SNAPSHOTS)
		return replay_err(errbuf, errlen, name, 0,
				  "%zu snapshots, more than the %lu a replay "
				  "may have",
				  rp->nr_snapshots,
				  UDAMON_REPLAY_MAX_SNAPSHOTS);
	for (i = 0; i < rp->nr_snapshots; i++) {
		const struct sim_replay_snapshot *s = &rp->snapshots[i];
		unsigned long prev = 0;
		unsigned int j;

		if (s->start_ns != prev_end || s->end_ns <= s->start_ns)
			return replay_err(errbuf, errlen, name, 0,
					  "snapshot %zu: window [%llu, %llu) "
					  "ns does not follow the previous "
					  "one",
					  i, (unsigned long long)s->start_ns,
					  (unsigned long long)s->end_ns);
		if (!s->sample_us || s->aggr_us < s->sample_us)
			return replay_err(errbuf, errlen, name, 0,
					  "snapshot %zu: sampling interval "
					  "%lu us, aggregation interval %lu us",
					  i, s->sample_us, s->aggr_us);
		for (j = 0; j < s->nr_regions; j++) {
			const struct sim_replay_region *r = &s->regions[j];

			if (r->start >= r->end || r->start < prev ||
			    r->end > UDAMON_REPLAY_ADDR_LIMIT ||
			    r->start % REPLAY_PAGE || r->end % REPLAY_PAGE ||
			    !r->start)
				return replay_err(
					errbuf, errlen, name, 0,
					"snapshot %zu: region [0x%lx, 0x%lx) "
					"is empty, unaligned, overlaps the one "
					"before or lies outside (0, 2^47)",
					i, r->start, r->end);
			prev = r->end;
		}
		prev_end = s->end_ns;
	}
	return 0;
}

/* ---- 2. sniffing and dispatch ---- */

static bool replay_starts_with_line(const char *buf, size_t len,
				    const char *word)
{
	size_t n = strlen(word);

	return len > n && !memcmp(buf, word, n) &&
	       (buf[n] == ' ' || buf[n] == '\n');
}

const char *udamon__replay_sniff(const char *buf, size_t len)
{
	size_t i = 0;

	if (!buf)
		return NULL;
	if (len >= 2 && (unsigned char)buf[0] == 0x1f &&
	    (unsigned char)buf[1] == 0x8b)
		return "damo";
	/* damo's json_compressed: a zlib stream (CMF 0x78, FCHECK). */
	if (len >= 2 && (unsigned char)buf[0] == 0x78 &&
	    ((unsigned char)buf[0] * 256 + (unsigned char)buf[1]) % 31 == 0)
		return "damo";
	if (replay_starts_with_line(buf, len, UDAMON_RECORD_MAGIC))
		return "record";
	/* A trace may start with comments and blank lines. */
	while (i < len) {
		while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		if (i < len && buf[i] == '#') {
			while (i < len && buf[i] != '\n')
				i++;
		}
		if (i < len && buf[i] == '\n') {
			i++;
			continue;
		}
		break;
	}
	if (replay_starts_with_line(buf + i, len - i, UDAMON_TRACE_MAGIC))
		return "trace";
	if (i < len && (buf[i] == '{' || buf[i] == '['))
		return "damo";
	return NULL;
}

int udamon__replay_parse_buf(const char *buf, size_t len, const char *name,
			     struct sim_replay **rpp, char *errbuf,
			     size_t errlen)
{
	const char *kind = udamon__replay_sniff(buf, len);

	if (!name)
		name = "(replay)";
	if (!kind)
		return replay_err(errbuf, errlen, name, 0,
				  "not a udamon record, trace or damo record");
	if (!strcmp(kind, "record"))
		return udamon__replay_from_record(buf, len, name, rpp, errbuf,
						  errlen);
	if (!strcmp(kind, "trace"))
		return udamon__replay_parse_trace(buf, len, name, rpp, errbuf,
						  errlen);
	/* damo's json / json_compressed records */
	{
		struct udamon_record *rec = NULL;
		int err = udamon_record_parse_damo(buf, len, name, &rec, errbuf,
						   errlen);

		if (err)
			return err;
		err = udamon__replay_from_rec(rec, name, "damo", rpp, errbuf,
					      errlen);
		udamon_record_free(rec);
		return err;
	}
}

/* ---- 3. udamon records ---- */

int udamon__replay_from_rec(const struct udamon_record *rec, const char *name,
			    const char *kind, struct sim_replay **rpp,
			    char *errbuf, size_t errlen)
{
	struct sim_replay *rp;
	uint64_t prev_end = 0;
	size_t i, n = 0;
	int err;

	*rpp = NULL;
	if (!rec->nr_snapshots || !rec->hdr.nr_targets)
		return replay_err(errbuf, errlen, name, 0,
				  "the record has no snapshot to replay");
	rp = replay_new(name, kind);
	if (rp)
		rp->snapshots = udamon__calloc(rec->nr_snapshots,
					       sizeof(*rp->snapshots));
	if (!rp || !rp->snapshots) {
		udamon__replay_free(rp);
		return -ENOMEM;
	}
	for (i = 0; i < rec->nr_snapshots; i++) {
		const struct udamon_record_snapshot *rs = &rec->snapshots[i];
		const struct udamon_record_tsnap *ts = &rs->targets[0];
		struct sim_replay_snapshot *s = &rp->snapshots[n];
		unsigned int j;

		/* A window the record says took no time replays as none. */
		if (rs->end_ns <= prev_end)
			continue;
		s->start_ns = prev_end;
		s->end_ns = rs->end_ns;
		s->sample_us = rs->sample_us ? rs->sample_us : 1;
		s->aggr_us = rs->aggr_us > s->sample_us ? rs->aggr_us :
							  s->sample_us;
		prev_end = rs->end_ns;
		n++;
		rp->nr_snapshots = n;
		if (!ts->nr_regions)
			continue;
		s->regions =
			udamon__calloc(ts->nr_regions, sizeof(*s->regions));
		if (!s->regions) {
			udamon__replay_free(rp);
			return -ENOMEM;
		}
		for (j = 0; j < ts->nr_regions; j++) {
			const struct udamon_record_region *r = &ts->regions[j];
			struct sim_replay_region *d =
				&s->regions[s->nr_regions];

			/* Whole pages: a region's pages share its rate. */
			d->start = r->start & ~(REPLAY_PAGE - 1);
			d->end = (r->end + REPLAY_PAGE - 1) &
				 ~(REPLAY_PAGE - 1);
			if (s->nr_regions && d->start < d[-1].end)
				d->start = d[-1].end;
			if (d->start >= d->end)
				continue;
			d->nr_accesses = r->nr_accesses;
			s->nr_regions++;
		}
	}
	if (!n) {
		udamon__replay_free(rp);
		return replay_err(errbuf, errlen, name, 0,
				  "the record's snapshots cover no time");
	}
	err = udamon__replay_validate(rp, errbuf, errlen);
	if (err) {
		udamon__replay_free(rp);
		return err;
	}
	*rpp = rp;
	return 0;
}

int udamon__replay_from_record(const char *buf, size_t len, const char *name,
			       struct sim_replay **rpp, char *errbuf,
			       size_t errlen)
{
	struct udamon_record *rec = NULL;
	int err;

	*rpp = NULL;
	err = udamon_record_parse(buf, len, name, &rec, errbuf, errlen);
	if (err)
		return err;
	err = udamon__replay_from_rec(rec, name, "record", rpp, errbuf, errlen);
	udamon_record_free(rec);
	return err;
}

/* ---- 4. page-access traces ---- */

struct trace_parser {
	const char *name;
	char *errbuf;
	size_t errlen;
	struct sim_replay *rp;
	size_t cap_snapshots;
	/* pages of the window being collected, unsorted */
	unsigned long *pages;
	size_t nr_pages, cap_pages;
	uint64_t quantum_ns;
	uint64_t window; /* index of the window collected */
};

/* Parse a decimal (or, with @hex_ok, 0x-prefixed hex) number, exactly. */
static int trace_number(const char *s, size_t n, bool hex_ok,
			unsigned long long *val)
{
	unsigned long long v = 0;
	unsigned int base = 10, d;
	size_t i = 0;

	if (hex_ok && n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i >= n)
		return -EINVAL;
	for (; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		if (v > (~0ULL - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*val = v;
	return 0;
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Append the window [@start, @end) holding the collected pages. */
static int trace_emit(struct trace_parser *p, uint64_t start, uint64_t end)
{
	struct sim_replay *rp = p->rp;
	struct sim_replay_snapshot *s;
	size_t i, nr_runs = 0;

	if (rp->nr_snapshots >= UDAMON_REPLAY_MAX_SNAPSHOTS)
		return replay_err(p->errbuf, p->errlen, p->name, 0,
				  "more than %lu windows: use a larger "
				  "quantum_ns",
				  UDAMON_REPLAY_MAX_SNAPSHOTS);
	if (rp->nr_snapshots == p->cap_snapshots) {
		size_t cap = p->cap_snapshots ? p->cap_snapshots * 2 : 64;
		struct sim_replay_snapshot *n;

		n = udamon__realloc(rp->snapshots, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		rp->snapshots = n;
		p->cap_snapshots = cap;
	}
	s = &rp->snapshots[rp->nr_snapshots];
	memset(s, 0, sizeof(*s));
	s->start_ns = start;
	s->end_ns = end;
	/* One "sample" per window: every listed page was accessed in it. */
	s->sample_us = 1;
	s->aggr_us = 1;
	rp->nr_snapshots++;
	if (!p->nr_pages)
		return 0;
	qsort(p->pages, p->nr_pages, sizeof(*p->pages), cmp_ulong);
	for (i = 0; i < p->nr_pages; i++)
		if (!i || p->pages[i] > p->pages[i - 1] + 1)
			nr_runs++;
	s->regions = udamon__calloc(nr_runs, sizeof(*s->regions));
	if (!s->regions)
		return -ENOMEM;
	for (i = 0; i < p->nr_pages; i++) {
		unsigned long pg = p->pages[i];

		if (i && pg == p->pages[i - 1])
			continue;
		if (i && pg == p->pages[i - 1] + 1) {
			s->regions[s->nr_regions - 1].end =
				(pg + 1) * REPLAY_PAGE;
			continue;
		}
		s->regions[s->nr_regions].start = pg * REPLAY_PAGE;
		s->regions[s->nr_regions].end = (pg + 1) * REPLAY_PAGE;
		s->regions[s->nr_regions].nr_accesses = 1;
		s->nr_regions++;
	}
	p->nr_pages = 0;
	return 0;
}

static int trace_add_page(struct trace_parser *p, unsigned long pg)
{
	/* Repeats of the last page are common (loops): drop them early. */
	if (p->nr_pages && p->pages[p->nr_pages - 1] == pg)
		return 0;
	if (p->nr_pages == p->cap_pages) {
		size_t cap = p->cap_pages ? p->cap_pages * 2 : 256;
		unsigned long *n = udamon__realloc(p->pages, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->pages = n;
		p->cap_pages = cap;
	}
	p->pages[p->nr_pages++] = pg;
	return 0;
}

/* Split @s[0..n) at blanks into at most @max words; return their count. */
static unsigned int trace_words(const char *s, size_t n, const char **w,
				size_t *wl, unsigned int max)
{
	unsigned int nr = 0;
	size_t i = 0;

	while (i < n) {
		size_t b;

		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i == n)
			break;
		b = i;
		while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			i++;
		if (nr < max) {
			w[nr] = s + b;
			wl[nr] = i - b;
		}
		nr++;
	}
	return nr;
}

static bool word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && !memcmp(w, s, n);
}

int udamon__replay_parse_trace(const char *buf, size_t len, const char *name,
			       struct sim_replay **rpp, char *errbuf,
			       size_t errlen)
{
	struct trace_parser p = {
		.name = name ? name : "(trace)",
		.errbuf = errbuf,
		.errlen = errlen,
		.quantum_ns = UDAMON_TRACE_DEFAULT_QUANTUM_NS,
	};
	unsigned long long duration = 0, last_t = 0;
	bool have_magic = false, in_body = false, have_duration = false;
	bool any = false;
	unsigned long lineno = 0;
	size_t off = 0;
	int err = 0;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!rpp || (!buf && len))
		return -EINVAL;
	*rpp = NULL;
	p.rp = replay_new(p.name, "trace");
	if (!p.rp)
		return -ENOMEM;
	p.rp->exact = true;
	/* Accesses of a program cluster: nearby ranges make one region. */
	p.rp->merge_gap = 1UL << 20;

	while (off < len) {
		const char *s = buf + off, *nl = memchr(s, '\n', len - off);
		size_t n = nl ? (size_t)(nl - s) : len - off;
		const char *w[4];
		size_t wl[4];
		unsigned int nw;
		unsigned long long t, addr, v;

		off += n + (nl ? 1 : 0);
		lineno++;
		if (memchr(s, '\0', n)) {
			err = replay_err(errbuf, errlen, p.name, lineno,
					 "line contains a NUL byte");
			goto out;
		}
		nw = trace_words(s, n, w, wl, 4);
		if (!nw || w[0][0] == '#')
			continue;
		if (!have_magic) {
			if (nw != 2 ||
			    !word_is(w[0], wl[0], UDAMON_TRACE_MAGIC)) {
				err = replay_err(errbuf, errlen, p.name, lineno,
						 "expected '" UDAMON_TRACE_MAGIC
						 " 1' as the first line");
				goto out;
			}
			if (!word_is(w[1], wl[1], "1")) {
				err = replay_err(errbuf, errlen, p.name, lineno,
						 "unsupported trace version "
						 "'%.*s' (this reads 1)",
						 (int)wl[1], w[1]);
				goto out;
			}
			have_magic = true;
			continue;
		}
		if (!in_body && nw == 2 &&
		    (word_is(w[0], wl[0], "quantum_ns") ||
		     word_is(w[0], wl[0], "duration_ns"))) {
			bool q = word_is(w[0], wl[0], "quantum_ns");

			if (trace_number(w[1], wl[1], false, &v) ||
			    (q && (v < UDAMON_TRACE_MIN_QUANTUM_NS ||
				   v > UDAMON_TRACE_MAX_QUANTUM_NS)) ||
			    (!q && !v)) {
				err = replay_err(
					errbuf, errlen, p.name, lineno,
					"bad %s '%.*s' (quantum_ns: %llu to "
					"%llu; duration_ns: above 0)",
					q ? "quantum_ns" : "duration_ns",
					(int)wl[1], w[1],
					UDAMON_TRACE_MIN_QUANTUM_NS,
					UDAMON_TRACE_MAX_QUANTUM_NS);
				goto out;
			}
			if (q) {
				p.quantum_ns = v;
			} else {
				duration = v;
				have_duration = true;
			}
			continue;
		}
		if (word_is(w[0], wl[0], "quantum_ns") ||
		    word_is(w[0], wl[0], "duration_ns")) {
			err = replay_err(errbuf, errlen, p.name, lineno,
					 "header '%.*s' after the first access",
					 (int)wl[0], w[0]);
			goto out;
		}
		in_body = true;
		if (nw < 2 || nw > 3 ||
		    (nw == 3 && !word_is(w[2], wl[2], "r") &&
		     !word_is(w[2], wl[2], "w"))) {
			err = replay_err(errbuf, errlen, p.name, lineno,
					 "expected 'TIME_NS ADDR [r|w]'");
			goto out;
		}
		if (trace_number(w[0], wl[0], false, &t)) {
			err = replay_err(errbuf, errlen, p.name, lineno,
					 "bad time '%.*s' (decimal ns)",
					 (int)wl[0], w[0]);
			goto out;
		}
		if (trace_number(w[1], wl[1], true, &addr) ||
		    addr >= UDAMON_REPLAY_ADDR_LIMIT || addr < REPLAY_PAGE) {
			err = replay_err(errbuf, errlen, p.name, lineno,
					 "bad address '%.*s' (0x%lx to "
					 "0x%lx)",
					 (int)wl[1], w[1], REPLAY_PAGE,
					 UDAMON_REPLAY_ADDR_LIMIT - 1);
			goto out;
		}
		if (t < last_t) {
			err = replay_err(errbuf, errlen, p.name, lineno,
					 "time %llu ns goes back (the line "
					 "before says %llu)",
					 t, last_t);
			goto out;
		}
		if (have_duration && t >= duration) {
			err = replay_err(errbuf, errlen, p.name, lineno,
					 "time %llu ns is not below "
					 "duration_ns %llu",
					 t, duration);
			goto out;
		}
		if (any && t / p.quantum_ns != p.window) {
			/* Close the window; empty ones between make one. */
			uint64_t w_start = p.window * p.quantum_ns;
			uint64_t w_end = w_start + p.quantum_ns;
			uint64_t next = t / p.quantum_ns * p.quantum_ns;

			err = trace_emit(&p, w_start, w_end);
			if (!err && next > w_end)
				err = trace_emit(&p, w_end, next);
			if (err)
				goto out;
		} else if (!any && t / p.quantum_ns) {
			err = trace_emit(&p, 0,
					 t / p.quantum_ns * p.quantum_ns);
			if (err)
				goto out;
		}
		any = true;
		p.window = t / p.quantum_ns;
		last_t = t;
		err = trace_add_page(&p, (unsigned long)(addr / REPLAY_PAGE));
		if (err)
			goto out;
		p.rp->nr_accesses++;
	}
	if (!have_magic) {
		err = replay_err(errbuf, errlen, p.name, 0,
				 "empty: no '" UDAMON_TRACE_MAGIC " 1' line");
		goto out;
	}
	if (!any) {
		err = replay_err(errbuf, errlen, p.name, lineno,
				 "the trace has no access");
		goto out;
	}
	{
		uint64_t w_start = p.window * p.quantum_ns;
		uint64_t w_end = w_start + p.quantum_ns;

		if (have_duration && duration < w_end)
			w_end = duration;
		err = trace_emit(&p, w_start, w_end);
		if (!err && have_duration && duration > w_end)
			err = trace_emit(&p, w_end, duration);
		if (err)
			goto out;
	}
	err = udamon__replay_validate(p.rp, errbuf, errlen);
out:
	if (err == -ENOMEM && errbuf && errlen)
		snprintf(errbuf, errlen, "%s: out of memory", p.name);
	free(p.pages);
	if (err) {
		udamon__replay_free(p.rp);
		return err;
	}
	*rpp = p.rp;
	return 0;
}

/* ---- 5. reading a file ---- */

int udamon__read_file(const char *path, size_t max, char **bufp, size_t *lenp,
		      char *errbuf, size_t errlen)
{
	char ebuf[128];
	size_t len = 0, cap = 0, n;
	char *buf = NULL;
	struct stat st;
	FILE *f;
	int err;

	*bufp = NULL;
	*lenp = 0;
	f = udamon__fopen(path, "re");
	if (!f) {
		err = -errno;
		goto err_msg;
	}
	/* Devices and pipes could feed us forever: regular files only. */
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		fclose(f);
		goto err_msg;
	}
	for (;;) {
		if (len == cap) {
			char *nb;

			if (cap >= max) {
				fclose(f);
				free(buf);
				if (errbuf && errlen)
					snprintf(errbuf, errlen,
						 "%s: larger than %zu bytes",
						 path, max);
				return -EFBIG;
			}
			cap = cap ? cap * 2 : 65536;
			if (cap > max)
				cap = max;
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
	if (!buf) {
		buf = udamon__malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
err_msg:
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s: %s", path,
			 strerror_r(-err, ebuf, sizeof(ebuf)));
	return err;
}
