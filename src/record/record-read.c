// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The record file format of udamon, reading side: the validating reader,
 * which parses a whole record file into a struct udamon_record, and the
 * helpers on that in-memory record (free, durations, pauses).  The format
 * is described in docs/record-format.md and at the top of record.c, which
 * writes it.
 *
 * The reader validates every field and every block's CRC-32.  A record cut
 * inside a block (a crash of the writer) reads as the complete blocks
 * before the cut, marked truncated; anything else malformed is an error
 * naming the file, offset and line.
 *
 * Map: 1. reader  2. record helpers.
 */
#include "record/record.h"
#include "record/record-internal.h"
#include "sys/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* 1. Reader                                                           */
/* ------------------------------------------------------------------ */

struct rd {
	const char *buf;
	size_t len;
	const char *name;
	char *err;
	size_t errlen;
	struct udamon_record *rec;

	/* the current line */
	size_t pos; /* offset of the next line */
	size_t off; /* offset of the current line */
	unsigned long lineno;
	const char *line;
	size_t llen;

	/* state across blocks */
	bool paused;
	bool stopped;
	uint64_t last_time_ns;
	size_t cap_snapshots;
	size_t cap_events;
};

#define RD_CUT 1 /* the input ended inside a block */

static int rd_error(struct rd *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int rd_error(struct rd *rd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rd->err && rd->errlen)
		snprintf(rd->err, rd->errlen, "%s:%zu: line %lu: %s", rd->name,
			 rd->off, rd->lineno, msg);
	return -EINVAL;
}

/*
 * Next line into rd->line/llen (without the newline).  RD_CUT if the input
 * ends before a newline; -EINVAL for a raw control byte.
 */
static int rd_line(struct rd *rd)
{
	const char *nl;
	size_t i;

	rd->off = rd->pos;
	rd->lineno++;
	if (rd->pos >= rd->len)
		return RD_CUT;
	nl = memchr(rd->buf + rd->pos, '\n', rd->len - rd->pos);
	if (!nl)
		return RD_CUT;
	rd->line = rd->buf + rd->pos;
	rd->llen = (size_t)(nl - rd->line);
	rd->pos += rd->llen + 1;
	for (i = 0; i < rd->llen; i++) {
		unsigned char c = (unsigned char)rd->line[i];

		if (c < 0x20 || c == 0x7f)
			return rd_error(rd, "control byte 0x%02x in the line",
					c);
	}
	return 0;
}

/* Tokens of the current line, split on single spaces. */
#define RD_MAX_TOKENS 8
struct toks {
	const char *s[RD_MAX_TOKENS];
	size_t len[RD_MAX_TOKENS];
	unsigned int nr;
};

static int rd_split(struct rd *rd, struct toks *t)
{
	size_t i = 0, start;

	t->nr = 0;
	while (i <= rd->llen) {
		start = i;
		while (i < rd->llen && rd->line[i] != ' ')
			i++;
		if (i == start)
			return rd_error(rd, "%s",
					rd->llen ? "empty field" :
						   "empty line");
		if (t->nr == RD_MAX_TOKENS)
			return rd_error(rd, "too many fields");
		t->s[t->nr] = rd->line + start;
		t->len[t->nr] = i - start;
		t->nr++;
		i++;
	}
	return 0;
}

static bool tok_is(const struct toks *t, unsigned int i, const char *word)
{
	return i < t->nr && t->len[i] == strlen(word) &&
	       !memcmp(t->s[i], word, t->len[i]);
}

/* Strict unsigned decimal: digits only, no leading zeros, <= @max. */
static int parse_dec(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 20 || (len > 1 && s[0] == '0'))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Strict hexadecimal address: "0x", lowercase digits, no leading zeros. */
static int parse_hex(const char *s, size_t len, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (len < 3 || len > 2 + sizeof(unsigned long) * 2 || s[0] != '0' ||
	    s[1] != 'x' || (len > 3 && s[2] == '0'))
		return -EINVAL;
	for (i = 2; i < len; i++) {
		unsigned int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = (unsigned int)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = (unsigned int)(s[i] - 'a' + 10);
		else
			return -EINVAL;
		v = (v << 4) | d;
	}
	*out = v;
	return 0;
}

static int rd_dec(struct rd *rd, const struct toks *t, unsigned int i,
		  const char *what, uint64_t max, uint64_t *out)
{
	int err = parse_dec(t->s[i], t->len[i], max, out);

	if (err == -ERANGE)
		return rd_error(rd,
				"%s '%.*s' is out of range (max %" PRIu64 ")",
				what, (int)t->len[i], t->s[i], max);
	if (err)
		return rd_error(rd, "%s '%.*s' is not a decimal number", what,
				(int)t->len[i], t->s[i]);
	return 0;
}

static int rd_ulong(struct rd *rd, const struct toks *t, unsigned int i,
		    const char *what, unsigned long *out)
{
	uint64_t v;
	int err = rd_dec(rd, t, i, what, ULONG_MAX, &v);

	if (!err)
		*out = (unsigned long)v;
	return err;
}

static int rd_uint(struct rd *rd, const struct toks *t, unsigned int i,
		   const char *what, unsigned int *out)
{
	uint64_t v;
	int err = rd_dec(rd, t, i, what, UINT_MAX, &v);

	if (!err)
		*out = (unsigned int)v;
	return err;
}

static int rd_nfields(struct rd *rd, const struct toks *t, unsigned int nr,
		      const char *what)
{
	if (t->nr != nr)
		return rd_error(rd, "%s needs %u fields, not %u", what, nr,
				t->nr);
	return 0;
}

/*
 * Check the "end <crc>" line that closes the block starting at
 * @block_start; the current line must be it.
 */
static int rd_block_end(struct rd *rd, size_t block_start, const char *what)
{
	uint32_t want, have = 0;
	size_t i;

	if (rd->llen != 12 || memcmp(rd->line, "end ", 4))
		return rd_error(rd, "%s: expected the 'end <crc32>' line",
				what);
	for (i = 4; i < 12; i++) {
		char c = rd->line[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else
			return rd_error(rd, "%s: bad checksum '%.8s'", what,
					rd->line + 4);
		have = (have << 4) | d;
	}
	want = rec_crc32(rd->buf + block_start, rd->off - block_start);
	if (want != have)
		return rd_error(rd,
				"%s: checksum mismatch (stored %08" PRIx32
				", computed %08" PRIx32
				"): the block is corrupt",
				what, have, want);
	return 0;
}

static char *unescape(const char *s, size_t len)
{
	char *out = udamon__malloc(len + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			unsigned int v = 0, k;

			if (i + 2 >= len) {
				free(out);
				return NULL;
			}
			for (k = 1; k <= 2; k++) {
				char c = s[i + k];

				v <<= 4;
				if (c >= '0' && c <= '9')
					v |= (unsigned int)(c - '0');
				else if (c >= 'A' && c <= 'F')
					v |= (unsigned int)(c - 'A' + 10);
				else {
					free(out);
					return NULL;
				}
			}
			if (!v) {
				free(out);
				return NULL;
			}
			*o++ = (char)v;
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static int rd_string(struct rd *rd, const char *key, char **dst, bool word)
{
	size_t klen = strlen(key) + 1;
	const char *v = rd->line + klen;
	size_t vlen = rd->llen - klen;

	if (*dst)
		return rd_error(rd, "header: duplicate '%s'", key);
	if (!vlen)
		return rd_error(rd, "header: empty '%s'", key);
	if (word && !is_word(v, vlen))
		return rd_error(rd, "header: '%s' must be one word, not '%.*s'",
				key, (int)vlen, v);
	/* NULL is a bad escape, or no memory (the seam sets ENOMEM). */
	errno = 0;
	*dst = unescape(v, vlen);
	if (!*dst && errno == ENOMEM)
		return -ENOMEM;
	if (!*dst)
		return rd_error(rd, "header: '%s' has a bad %%XX escape", key);
	return 0;
}

enum hdr_key {
	HK_CREATED,
	HK_CLOCK,
	HK_SEED,
	HK_UPDATE,
	HK_NR_REGIONS,
	HK_GOAL,
	NR_HKS,
};

/* The header block (after its "header" line). */
static int rd_header(struct rd *rd, size_t block_start)
{
	struct udamon_record_header *h = &rd->rec->hdr;
	bool seen[NR_HKS] = { false };
	unsigned int cap_pids = 0;
	struct toks t;
	uint64_t v;
	int err;

	for (;;) {
		enum hdr_key k;

		err = rd_line(rd);
		if (err)
			return err;
		if (rd->llen >= 4 && !memcmp(rd->line, "end ", 4))
			break;
		/* Free-form values first: they may hold spaces. */
		if (rd->llen > 9 && !memcmp(rd->line, "workload ", 9)) {
			err = rd_string(rd, "workload", &h->workload, false);
			if (err)
				return err;
			continue;
		}
		if (rd->llen > 8 && !memcmp(rd->line, "command ", 8)) {
			err = rd_string(rd, "command", &h->command, false);
			if (err)
				return err;
			continue;
		}
		if (rd->llen > 4 && !memcmp(rd->line, "ops ", 4)) {
			err = rd_string(rd, "ops", &h->ops, true);
			if (err)
				return err;
			continue;
		}
		if (rd->llen > 7 && !memcmp(rd->line, "source ", 7)) {
			err = rd_string(rd, "source", &h->source, false);
			if (err)
				return err;
			continue;
		}
		err = rd_split(rd, &t);
		if (err)
			return err;
		if (tok_is(&t, 0, "target")) {
			unsigned int idx;
			uint64_t pid;

			err = rd_nfields(rd, &t, 3, "header: target");
			if (!err)
				err = rd_uint(rd, &t, 1, "target index", &idx);
			if (err)
				return err;
			if (idx != h->nr_targets)
				return rd_error(
					rd,
					"header: target %u where %u was expected",
					idx, h->nr_targets);
			/* pids are non-negative ints. */
			err = rd_dec(rd, &t, 2, "target pid", INT_MAX, &pid);
			if (err)
				return err;
			if (h->nr_targets == cap_pids) {
				unsigned int cap = cap_pids ? cap_pids * 2 : 4;
				int *p;

				if (cap > 65536)
					return rd_error(
						rd, "header: too many targets");
				p = udamon__realloc(h->pids, cap * sizeof(*p));
				if (!p)
					return -ENOMEM;
				h->pids = p;
				cap_pids = cap;
			}
			h->pids[h->nr_targets++] = (int)pid;
			continue;
		}
		if (tok_is(&t, 0, "created"))
			k = HK_CREATED;
		else if (tok_is(&t, 0, "clock"))
			k = HK_CLOCK;
		else if (tok_is(&t, 0, "seed"))
			k = HK_SEED;
		else if (tok_is(&t, 0, "update_us"))
			k = HK_UPDATE;
		else if (tok_is(&t, 0, "nr_regions"))
			k = HK_NR_REGIONS;
		else if (tok_is(&t, 0, "intervals_goal"))
			k = HK_GOAL;
		else if (is_word(t.s[0], t.len[0]))
			continue; /* a key of a later minor revision */
		else
			return rd_error(rd, "header: bad key '%.*s'",
					(int)t.len[0], t.s[0]);
		if (seen[k])
			return rd_error(rd, "header: duplicate '%.*s'",
					(int)t.len[0], t.s[0]);
		seen[k] = true;
		switch (k) {
		case HK_CREATED:
			err = rd_nfields(rd, &t, 2, "header: created");
			if (!err)
				err = rd_dec(rd, &t, 1, "created", INT64_MAX,
					     &v);
			h->created = (int64_t)v;
			break;
		case HK_CLOCK:
			err = rd_nfields(rd, &t, 2, "header: clock");
			if (err)
				break;
			if (tok_is(&t, 1, "virtual"))
				h->virtual_clock = true;
			else if (!tok_is(&t, 1, "real"))
				err = rd_error(
					rd,
					"header: clock must be 'real' or 'virtual', not '%.*s'",
					(int)t.len[1], t.s[1]);
			break;
		case HK_SEED:
			err = rd_nfields(rd, &t, 2, "header: seed");
			if (!err)
				err = rd_dec(rd, &t, 1, "seed", UINT64_MAX,
					     &h->seed);
			break;
		case HK_UPDATE:
			err = rd_nfields(rd, &t, 2, "header: update_us");
			if (!err)
				err = rd_ulong(rd, &t, 1, "update_us",
					       &h->update_us);
			break;
		case HK_NR_REGIONS:
			err = rd_nfields(rd, &t, 3, "header: nr_regions");
			if (!err)
				err = rd_ulong(rd, &t, 1, "min_nr_regions",
					       &h->min_nr_regions);
			if (!err)
				err = rd_ulong(rd, &t, 2, "max_nr_regions",
					       &h->max_nr_regions);
			if (!err && h->min_nr_regions > h->max_nr_regions)
				err = rd_error(
					rd,
					"header: min_nr_regions %lu > max_nr_regions %lu",
					h->min_nr_regions, h->max_nr_regions);
			break;
		case HK_GOAL:
			err = rd_nfields(rd, &t, 5, "header: intervals_goal");
			if (!err)
				err = rd_ulong(rd, &t, 1, "access_bp",
					       &h->intervals_goal.access_bp);
			if (!err)
				err = rd_ulong(rd, &t, 2, "aggrs",
					       &h->intervals_goal.aggrs);
			if (!err)
				err = rd_ulong(
					rd, &t, 3, "min_sample_us",
					&h->intervals_goal.min_sample_us);
			if (!err)
				err = rd_ulong(
					rd, &t, 4, "max_sample_us",
					&h->intervals_goal.max_sample_us);
			break;
		default:
			break;
		}
		if (err)
			return err;
	}
	err = rd_block_end(rd, block_start, "header");
	if (err)
		return err;
	if (!seen[HK_CLOCK])
		return rd_error(rd, "header: no 'clock'");
	if (!h->ops)
		return rd_error(rd, "header: no 'ops'");
	if (!h->source)
		return rd_error(rd, "header: no 'source'");
	if (!seen[HK_UPDATE])
		return rd_error(rd, "header: no 'update_us'");
	if (!seen[HK_NR_REGIONS])
		return rd_error(rd, "header: no 'nr_regions'");
	if (!seen[HK_GOAL])
		return rd_error(rd, "header: no 'intervals_goal'");
	if (!h->nr_targets)
		return rd_error(rd, "header: no 'target'");
	rd->rec->has_header = true;
	return 0;
}

static void snapshot_free(struct udamon_record_snapshot *s)
{
	unsigned int i;

	if (!s->targets)
		return;
	for (i = 0; i < s->nr_targets; i++)
		free(s->targets[i].regions);
	free(s->targets);
	s->targets = NULL;
}

/* Regions of one target of a snapshot, after its "target" line. */
static int rd_regions(struct rd *rd, struct udamon_record_tsnap *ts,
		      unsigned long seq, unsigned int ti)
{
	unsigned int i, cap = 0;
	struct toks t;
	int err;

	ts->regions = NULL;
	for (i = 0; i < ts->nr_regions; i++) {
		struct udamon_record_region *r;

		/*
		 * Grow as lines come rather than trusting the count: a cut
		 * record must read as cut, not as a failed allocation.
		 */
		if (i == cap) {
			unsigned int ncap = cap ? cap * 2 : 64;

			r = udamon__realloc(ts->regions,
					    (size_t)ncap * sizeof(*r));
			if (!r)
				return -ENOMEM;
			ts->regions = r;
			cap = ncap;
		}
		r = &ts->regions[i];
		err = rd_line(rd);
		if (err)
			return err;
		err = rd_split(rd, &t);
		if (err)
			return err;
		if (t.nr != 4)
			return rd_error(
				rd,
				"snapshot %lu: target %u: region %u needs 4 fields (start end nr_accesses age), not %u",
				seq, ti, i, t.nr);
		if (parse_hex(t.s[0], t.len[0], &r->start))
			return rd_error(
				rd,
				"snapshot %lu: target %u: region %u: start '%.*s' is not a 0x-prefixed lowercase hex address",
				seq, ti, i, (int)t.len[0], t.s[0]);
		if (parse_hex(t.s[1], t.len[1], &r->end))
			return rd_error(
				rd,
				"snapshot %lu: target %u: region %u: end '%.*s' is not a 0x-prefixed lowercase hex address",
				seq, ti, i, (int)t.len[1], t.s[1]);
		err = rd_uint(rd, &t, 2, "nr_accesses", &r->nr_accesses);
		if (!err)
			err = rd_uint(rd, &t, 3, "age", &r->age);
		if (err)
			return err;
		if (r->start >= r->end)
			return rd_error(
				rd,
				"snapshot %lu: target %u: region %u: start 0x%lx is not below end 0x%lx",
				seq, ti, i, r->start, r->end);
		if (i && r->start < ts->regions[i - 1].end)
			return rd_error(
				rd,
				"snapshot %lu: target %u: region %u: start 0x%lx overlaps the previous region (end 0x%lx)",
				seq, ti, i, r->start, ts->regions[i - 1].end);
	}
	return 0;
}

/* A snapshot block; its first line is split in @t. */
static int rd_snapshot(struct rd *rd, size_t block_start, struct toks *t)
{
	struct udamon_record_snapshot s = { 0 };
	const struct udamon_record_header *h = &rd->rec->hdr;
	unsigned int ti;
	int err;

	err = rd_nfields(rd, t, 6, "snapshot line");
	if (!err)
		err = rd_ulong(rd, t, 1, "snapshot number", &s.seq);
	if (!err)
		err = rd_dec(rd, t, 2, "start time", UINT64_MAX, &s.start_ns);
	if (!err)
		err = rd_dec(rd, t, 3, "end time", UINT64_MAX, &s.end_ns);
	if (!err)
		err = rd_ulong(rd, t, 4, "sample_us", &s.sample_us);
	if (!err)
		err = rd_ulong(rd, t, 5, "aggr_us", &s.aggr_us);
	if (err)
		return err;
	if (s.seq != rd->rec->nr_snapshots)
		return rd_error(rd, "snapshot %lu where %zu was expected",
				s.seq, rd->rec->nr_snapshots);
	if (s.end_ns < s.start_ns)
		return rd_error(rd,
				"snapshot %lu: ends (%" PRIu64
				") before it starts (%" PRIu64 ")",
				s.seq, s.end_ns, s.start_ns);
	if (rd->rec->nr_snapshots &&
	    s.start_ns != rd->rec->snapshots[rd->rec->nr_snapshots - 1].end_ns)
		return rd_error(
			rd,
			"snapshot %lu: starts at %" PRIu64
			", not where the previous one ended (%" PRIu64 ")",
			s.seq, s.start_ns,
			rd->rec->snapshots[rd->rec->nr_snapshots - 1].end_ns);
	if (s.end_ns < rd->last_time_ns)
		return rd_error(rd,
				"snapshot %lu: time goes backwards (%" PRIu64
				" < %" PRIu64 ")",
				s.seq, s.end_ns, rd->last_time_ns);
	if (!s.sample_us)
		return rd_error(rd, "snapshot %lu: sample_us is 0", s.seq);
	if (s.aggr_us < s.sample_us)
		return rd_error(
			rd, "snapshot %lu: aggr_us %lu is below sample_us %lu",
			s.seq, s.aggr_us, s.sample_us);

	s.nr_targets = h->nr_targets;
	s.targets = udamon__calloc(s.nr_targets, sizeof(*s.targets));
	if (!s.targets)
		return -ENOMEM;
	for (ti = 0; ti < s.nr_targets; ti++) {
		unsigned int idx;

		err = rd_line(rd);
		if (!err)
			err = rd_split(rd, t);
		if (!err && !tok_is(t, 0, "target"))
			err = rd_error(
				rd,
				"snapshot %lu: expected 'target %u <nr_regions>'",
				s.seq, ti);
		if (!err)
			err = rd_nfields(rd, t, 3, "snapshot target line");
		if (!err)
			err = rd_uint(rd, t, 1, "target index", &idx);
		if (!err && idx != ti)
			err = rd_error(
				rd,
				"snapshot %lu: target %u where %u was expected",
				s.seq, idx, ti);
		if (!err)
			err = rd_uint(rd, t, 2, "nr_regions",
				      &s.targets[ti].nr_regions);
		if (!err)
			err = rd_regions(rd, &s.targets[ti], s.seq, ti);
		if (err) {
			/* Regions allocated so far are freed below. */
			s.nr_targets = ti + 1;
			goto fail;
		}
	}
	err = rd_line(rd);
	if (!err)
		err = rd_block_end(rd, block_start, "snapshot");
	if (err)
		goto fail;

	if (rd->rec->nr_snapshots == rd->cap_snapshots) {
		size_t cap = rd->cap_snapshots ? rd->cap_snapshots * 2 : 64;
		struct udamon_record_snapshot *p;

		p = udamon__realloc(rd->rec->snapshots, cap * sizeof(*p));
		if (!p) {
			err = -ENOMEM;
			goto fail;
		}
		rd->rec->snapshots = p;
		rd->cap_snapshots = cap;
	}
	rd->rec->snapshots[rd->rec->nr_snapshots++] = s;
	rd->last_time_ns = s.end_ns;
	return 0;
fail:
	snapshot_free(&s);
	return err;
}

static int rd_event(struct rd *rd, size_t block_start, struct toks *t)
{
	struct udamon_record_event ev = { 0 };
	int err;

	if (t->nr != 3 && t->nr != 4)
		return rd_error(rd, "event line needs 3 or 4 fields, not %u",
				t->nr);
	if (tok_is(t, 1, "pause"))
		ev.type = UDAMON_RECORD_EV_PAUSE;
	else if (tok_is(t, 1, "resume"))
		ev.type = UDAMON_RECORD_EV_RESUME;
	else if (tok_is(t, 1, "stop"))
		ev.type = UDAMON_RECORD_EV_STOP;
	else if (tok_is(t, 1, "exec"))
		ev.type = UDAMON_RECORD_EV_EXEC;
	else
		return rd_error(rd, "unknown event '%.*s'", (int)t->len[1],
				t->s[1]);
	err = rd_dec(rd, t, 2, "event time", UINT64_MAX, &ev.time_ns);
	if (err)
		return err;
	if (ev.time_ns < rd->last_time_ns)
		return rd_error(rd,
				"event %s: time goes backwards (%" PRIu64
				" < %" PRIu64 ")",
				udamon_record_event_name(ev.type), ev.time_ns,
				rd->last_time_ns);
	if (ev.type == UDAMON_RECORD_EV_PAUSE && rd->paused)
		return rd_error(rd, "event pause: already paused");
	if (ev.type == UDAMON_RECORD_EV_RESUME && !rd->paused)
		return rd_error(rd, "event resume: not paused");
	if (t->nr == 4 && !is_word(t->s[3], t->len[3]))
		return rd_error(rd, "event %s: bad argument '%.*s'",
				udamon_record_event_name(ev.type),
				(int)t->len[3], t->s[3]);
	err = rd_line(rd);
	if (!err)
		err = rd_block_end(rd, block_start, "event");
	if (err)
		return err;
	if (t->nr == 4) {
		ev.arg = udamon__strndup(t->s[3], t->len[3]);
		if (!ev.arg)
			return -ENOMEM;
	}
	ev.after_seq = rd->rec->nr_snapshots;
	if (rd->rec->nr_events == rd->cap_events) {
		size_t cap = rd->cap_events ? rd->cap_events * 2 : 8;
		struct udamon_record_event *p;

		p = udamon__realloc(rd->rec->events, cap * sizeof(*p));
		if (!p) {
			free(ev.arg);
			return -ENOMEM;
		}
		rd->rec->events = p;
		rd->cap_events = cap;
	}
	rd->rec->events[rd->rec->nr_events++] = ev;
	rd->last_time_ns = ev.time_ns;
	if (ev.type == UDAMON_RECORD_EV_PAUSE)
		rd->paused = true;
	else if (ev.type == UDAMON_RECORD_EV_RESUME)
		rd->paused = false;
	else if (ev.type == UDAMON_RECORD_EV_STOP)
		rd->stopped = true;
	return 0;
}

/* The version line: "udamon-record <version>". */
static int rd_magic(struct rd *rd)
{
	static const char magic[] = UDAMON_RECORD_MAGIC " ";
	size_t mlen = sizeof(magic) - 1;
	uint64_t v;
	int err;

	/* A prefix of the magic is a cut record, anything else is not ours. */
	if (memcmp(rd->buf, magic, rd->len < mlen ? rd->len : mlen)) {
		rd->lineno = 1;
		return rd_error(rd, "not a udamon record (no '%s' line)",
				UDAMON_RECORD_MAGIC " <version>");
	}
	err = rd_line(rd);
	if (err)
		return err;
	if (rd->llen <= mlen)
		return rd_error(rd, "no version after '%s'",
				UDAMON_RECORD_MAGIC);
	err = parse_dec(rd->line + mlen, rd->llen - mlen, UINT_MAX, &v);
	if (err || !v)
		return rd_error(rd, "bad version '%.*s'",
				(int)(rd->llen - mlen), rd->line + mlen);
	if (v > UDAMON_RECORD_VERSION)
		return rd_error(rd,
				"record format version %" PRIu64
				" is newer than this udamon reads (%d)",
				v, UDAMON_RECORD_VERSION);
	rd->rec->version = (unsigned int)v;
	return 0;
}

int udamon_record_parse(const char *buf, size_t len, const char *name,
			struct udamon_record **recp, char *err, size_t errlen)
{
	struct rd rd = {
		.buf = buf,
		.len = len,
		.name = name ? name : "record",
		.err = err,
		.errlen = errlen,
	};
	int ret;

	if (err && errlen)
		err[0] = '\0';
	rd.rec = udamon__calloc(1, sizeof(*rd.rec));
	if (!rd.rec) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", rd.name,
				 strerror(ENOMEM));
		return -ENOMEM;
	}
	rd.rec->file_bytes = len;

	ret = rd_magic(&rd);
	if (ret)
		goto out;
	rd.rec->valid_bytes = rd.pos;

	for (;;) {
		size_t block_start = rd.pos;
		struct toks t;

		if (rd.pos == rd.len)
			break; /* ends between blocks: complete */
		ret = rd_line(&rd);
		if (ret)
			goto out;
		if (!rd.rec->has_header) {
			if (rd.llen != 6 || memcmp(rd.line, "header", 6)) {
				ret = rd_error(&rd,
					       "expected the 'header' block");
				goto out;
			}
			ret = rd_header(&rd, block_start);
		} else {
			if (rd.stopped) {
				ret = rd_error(&rd,
					       "data after the 'stop' event");
				goto out;
			}
			ret = rd_split(&rd, &t);
			if (ret)
				goto out;
			if (tok_is(&t, 0, "snapshot"))
				ret = rd_snapshot(&rd, block_start, &t);
			else if (tok_is(&t, 0, "event"))
				ret = rd_event(&rd, block_start, &t);
			else if (tok_is(&t, 0, "header"))
				ret = rd_error(&rd, "a second 'header' block");
			else
				ret = rd_error(&rd, "unknown block '%.*s'",
					       (int)t.len[0], t.s[0]);
		}
		if (ret)
			goto out;
		rd.rec->valid_bytes = rd.pos;
	}
out:
	if (ret == RD_CUT) {
		/* Everything up to the last complete block stands. */
		rd.rec->truncated = true;
		ret = 0;
	}
	/* A writer always writes a header: without one the record is cut. */
	if (!ret && !rd.rec->has_header)
		rd.rec->truncated = true;
	if (ret) {
		/* Errors without a message of their own (out of memory). */
		if (err && errlen && !err[0])
			snprintf(err, errlen, "%s: %s", rd.name,
				 strerror(-ret));
		udamon_record_free(rd.rec);
		return ret;
	}
	*recp = rd.rec;
	return 0;
}

/* Whether @buf holds a byte rd_line() refuses (newlines aside). */
static bool rd_has_control(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f)
			return true;
	}
	return false;
}

/* The first bytes of a damo record: JSON text, or zlib's stream header. */
static bool looks_like_damo(const char *buf, size_t len)
{
	const unsigned char *u = (const unsigned char *)buf;
	size_t i = 0;

	if (len >= 2 && (u[0] & 0x0f) == 8 && (u[0] >> 4) <= 7 &&
	    ((unsigned int)u[0] << 8 | u[1]) % 31 == 0)
		return true;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' ||
			   buf[i] == '\r'))
		i++;
	return i < len && buf[i] == '[';
}

int udamon_record_read(const char *path, struct udamon_record **recp, char *err,
		       size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, scanned = 0;
	bool damo = false;
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(EISDIR));
		return -EISDIR;
	}
	/* A device never ends (/dev/zero): only files and pipes are read. */
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISFIFO(st.st_mode)) {
		close(fd);
		snprintf(
			err, errlen,
			"%s: not a record file (neither a regular file nor a pipe)",
			path);
		return -EINVAL;
	}
	for (;;) {
		static const char magic[] = UDAMON_RECORD_MAGIC;
		size_t mlen = sizeof(magic) - 1;
		ssize_t n;

		/* damo's records (JSON, zlib) are told by their first bytes. */
		if (len && scanned < 16)
			damo = looks_like_damo(buf, len);
		/*
		 * Bounded: an input that does not start like a record, or
		 * holds a byte no record line may hold, is not read further
		 * (the parser names the problem), and none is read past
		 * UDAMON_RECORD_MAX_BYTES.
		 */
		if (!damo && len && memcmp(buf, magic, len < mlen ? len : mlen))
			break;
		if (!damo && rd_has_control(buf + scanned, len - scanned))
			break;
		scanned = len;
		if (len > UDAMON_RECORD_MAX_BYTES) {
			ret = -EFBIG;
			snprintf(
				err, errlen,
				"%s: larger than %lu MiB; not a record udamon reads",
				path, UDAMON_RECORD_MAX_BYTES >> 20);
			goto out;
		}
		if (cap - len < 65536) {
			char *p =
				udamon__realloc(buf, cap + (cap ? cap : 65536));

			if (!p) {
				ret = -ENOMEM;
				snprintf(err, errlen, "%s: %s", path,
					 strerror(ENOMEM));
				goto out;
			}
			buf = p;
			cap += cap ? cap : 65536;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	if (damo)
		ret = udamon_record_parse_damo(buf, len, path, recp, err,
					       errlen);
	else
		ret = udamon_record_parse(buf ? buf : "", len, path, recp, err,
					  errlen);
out:
	close(fd);
	free(buf);
	return ret;
}

/* ------------------------------------------------------------------ */
/* 2. Record helpers                                                   */
/* ------------------------------------------------------------------ */

void udamon_record_free(struct udamon_record *rec)
{
	size_t i;

	if (!rec)
		return;
	free(rec->hdr.ops);
	free(rec->hdr.source);
	free(rec->hdr.workload);
	free(rec->hdr.command);
	free(rec->hdr.pids);
	for (i = 0; i < rec->nr_snapshots; i++)
		snapshot_free(&rec->snapshots[i]);
	free(rec->snapshots);
	for (i = 0; i < rec->nr_events; i++)
		free(rec->events[i].arg);
	free(rec->events);
	free(rec);
}

const char *udamon_record_event_name(enum udamon_record_event_type type)
{
	switch (type) {
	case UDAMON_RECORD_EV_PAUSE:
		return "pause";
	case UDAMON_RECORD_EV_RESUME:
		return "resume";
	case UDAMON_RECORD_EV_STOP:
		return "stop";
	case UDAMON_RECORD_EV_EXEC:
		return "exec";
	default:
		return "unknown";
	}
}

uint64_t udamon_record_duration_ns(const struct udamon_record *rec)
{
	uint64_t t = 0;

	if (rec->nr_snapshots)
		t = rec->snapshots[rec->nr_snapshots - 1].end_ns;
	if (rec->nr_events && rec->events[rec->nr_events - 1].time_ns > t)
		t = rec->events[rec->nr_events - 1].time_ns;
	return t;
}

int udamon_record_pauses(const struct udamon_record *rec,
			 struct udamon_record_pause **out, size_t *nr)
{
	struct udamon_record_pause *p = NULL;
	size_t i, n = 0;

	*out = NULL;
	*nr = 0;
	for (i = 0; i < rec->nr_events; i++)
		if (rec->events[i].type == UDAMON_RECORD_EV_PAUSE)
			n++;
	if (!n)
		return 0;
	p = udamon__calloc(n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	n = 0;
	for (i = 0; i < rec->nr_events; i++) {
		const struct udamon_record_event *ev = &rec->events[i];

		if (ev->type == UDAMON_RECORD_EV_PAUSE) {
			p[n].start_ns = ev->time_ns;
			p[n].automatic = ev->arg && !strcmp(ev->arg, "auto");
			/* Until resumed, or until the record ends. */
			p[n].end_ns = udamon_record_duration_ns(rec);
			n++;
		} else if (ev->type == UDAMON_RECORD_EV_RESUME && n) {
			p[n - 1].end_ns = ev->time_ns;
		}
	}
	*out = p;
	*nr = n;
	return 0;
}
