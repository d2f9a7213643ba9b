// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * damo's record formats, both ways: "json" (a JSON list of per-target
 * records, each with its intervals and a list of snapshots of regions) and
 * "json_compressed" (the same JSON compressed with zlib), as damo writes
 * them for kernel DAMON recordings.  JSON goes through json-c, compression
 * through zlib (docs/record-format.md, "damo records").
 *
 * Map: 1. decompression  2. reading JSON values  3. the reader
 * 4. the writer.
 */
#include "record/record.h"
#include "sys/alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <zlib.h>

/* ------------------------------------------------------------------ */
/* 1. Decompression                                                    */
/* ------------------------------------------------------------------ */

static bool is_zlib(const char *buf, size_t len)
{
	const unsigned char *u = (const unsigned char *)buf;

	/* RFC 1950: deflate, window <= 32 KiB, header check bits. */
	return len >= 2 && (u[0] & 0x0f) == 8 && (u[0] >> 4) <= 7 &&
	       ((unsigned int)u[0] << 8 | u[1]) % 31 == 0;
}

/*
 * Inflate @buf into a new NUL-terminated buffer of at most
 * UDAMON_RECORD_MAX_BYTES.  Return 0, -EINVAL (not a complete zlib
 * stream), -EFBIG or -ENOMEM.
 */
static int inflate_all(const char *buf, size_t len, char **outp,
		       size_t *out_len)
{
	z_stream zs = { 0 };
	size_t cap = len * 4 + 4096, used = 0;
	char *out = NULL;
	int zret = Z_OK, ret = 0;

	if (inflateInit(&zs) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)buf;
	while (zret != Z_STREAM_END) {
		size_t in_left = len - (size_t)((const char *)zs.next_in - buf);

		if (cap > UDAMON_RECORD_MAX_BYTES + 1)
			cap = UDAMON_RECORD_MAX_BYTES + 1;
		if (!out || used == cap - 1) {
			char *p;

			if (out && cap == UDAMON_RECORD_MAX_BYTES + 1) {
				ret = -EFBIG;
				break;
			}
			if (out)
				cap *= 2;
			if (cap > UDAMON_RECORD_MAX_BYTES + 1)
				cap = UDAMON_RECORD_MAX_BYTES + 1;
			p = udamon__realloc(out, cap);
			if (!p) {
				ret = -ENOMEM;
				break;
			}
			out = p;
		}
		zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
		zs.next_out = (Bytef *)out + used;
		zs.avail_out = (uInt)(cap - 1 - used);
		zret = inflate(&zs, Z_NO_FLUSH);
		used = (size_t)((char *)zs.next_out - out);
		if (zret == Z_MEM_ERROR) {
			ret = -ENOMEM;
			break;
		}
		if (zret == Z_BUF_ERROR && zs.avail_out)
			zret = Z_DATA_ERROR; /* input ended before the stream */
		if (zret != Z_OK && zret != Z_STREAM_END &&
		    zret != Z_BUF_ERROR) {
			ret = -EINVAL;
			break;
		}
	}
	inflateEnd(&zs);
	if (ret) {
		free(out);
		return ret;
	}
	out[used] = '\0';
	*outp = out;
	*out_len = used;
	return 0;
}

/* ------------------------------------------------------------------ */
/* 2. Reading JSON values                                              */
/* ------------------------------------------------------------------ */

struct dm_reader {
	const char *name;
	char *err;
	size_t errlen;
	char where[96]; /* "record 2, snapshot 5" */
};

static int dm_error(struct dm_reader *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int dm_error(struct dm_reader *rd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->errlen, "%s: %s%s%s", rd->name, rd->where,
		 rd->where[0] ? ": " : "", msg);
	return -EINVAL;
}

/*
 * An unsigned integer member @key of @obj.  @null_ok: a JSON null (or no
 * member) is fine and sets *@is_null.  Strings are refused: damo writes
 * records with raw numbers.
 */
static int dm_uint(struct dm_reader *rd, json_object *obj, const char *key,
		   uint64_t max, bool null_ok, uint64_t *v, bool *is_null)
{
	json_object *m = NULL;

	if (is_null)
		*is_null = false;
	if (!json_object_object_get_ex(obj, key, &m) || !m) {
		if (null_ok) {
			*is_null = true;
			*v = 0;
			return 0;
		}
		return dm_error(rd, "'%s' is missing", key);
	}
	if (!json_object_is_type(m, json_type_int))
		return dm_error(rd, "'%s' is not an integer (%s)", key,
				json_object_to_json_string(m));
	if (json_object_get_int64(m) < 0)
		return dm_error(rd, "'%s' is negative", key);
	*v = json_object_get_uint64(m);
	if (*v > max)
		return dm_error(rd, "'%s' is out of range (%" PRIu64 ")", key,
				*v);
	return 0;
}

static json_object *dm_member(json_object *obj, const char *key, json_type type)
{
	json_object *m = NULL;

	if (!json_object_object_get_ex(obj, key, &m) || !m ||
	    !json_object_is_type(m, type))
		return NULL;
	return m;
}

/*
 * A count that damo writes either as a plain number (older damo) or as an
 * object of two units (newer): nr_accesses {samples, percent}, age
 * {aggr_intervals, usec}.  The first unit is taken; without it, the second
 * times @num / @den.
 */
static int dm_two_units(struct dm_reader *rd, json_object *region,
			const char *key, const char *unit, const char *other,
			uint64_t num, uint64_t den, bool required,
			unsigned int *out)
{
	json_object *m = NULL;
	uint64_t v, o;
	bool v_null, o_null;
	int err;

	*out = 0;
	if (!json_object_object_get_ex(region, key, &m) || !m) {
		if (required)
			return dm_error(rd, "'%s' is missing", key);
		return 0;
	}
	if (json_object_is_type(m, json_type_int)) {
		err = dm_uint(rd, region, key, UINT_MAX, false, &v, NULL);
		if (!err)
			*out = (unsigned int)v;
		return err;
	}
	if (!json_object_is_type(m, json_type_object))
		return dm_error(rd, "'%s' is neither a number nor an object",
				key);
	err = dm_uint(rd, m, unit, UINT_MAX, true, &v, &v_null);
	if (!err)
		err = dm_uint(rd, m, other, UINT64_MAX, true, &o, &o_null);
	if (err)
		return err;
	if (v_null && o_null) {
		if (required)
			return dm_error(rd, "'%s' has neither '%s' nor '%s'",
					key, unit, other);
		return 0;
	}
	if (v_null) {
		if (__builtin_mul_overflow(o, num, &v) || v / den > UINT_MAX)
			return dm_error(rd, "'%s' is out of range", key);
		v /= den;
	}
	*out = (unsigned int)v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* 3. The reader                                                       */
/* ------------------------------------------------------------------ */

/* A per-target record of damo's: which target it is. */
struct dm_target {
	int64_t kdamond_idx; /* -1: null */
	int64_t context_idx;
	uint64_t target_id;
};

/* One snapshot of one target, before snapshots are merged by time. */
struct dm_snap {
	unsigned int target;
	uint64_t start_ns;
	uint64_t end_ns;
	unsigned long sample_us;
	unsigned long aggr_us;
	struct udamon_record_tsnap ts;
};

struct dm_state {
	struct dm_reader rd;
	struct dm_target *targets;
	unsigned int nr_targets;
	struct dm_snap *snaps;
	size_t nr_snaps, cap_snaps;
	bool have_intervals;
	unsigned long update_us;
	struct damon_intervals_goal goal;
};

/* DAMON's default intervals, for a damo record that has none. */
#define DM_DEFAULT_SAMPLE_US 5000
#define DM_DEFAULT_AGGR_US 100000
#define DM_MAX_TARGETS 4096

static int cmp_region(const void *a, const void *b)
{
	const struct udamon_record_region *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_snap(const void *a, const void *b)
{
	const struct dm_snap *x = a, *y = b;

	if (x->end_ns != y->end_ns)
		return x->end_ns < y->end_ns ? -1 : 1;
	return x->target < y->target ? -1 : x->target > y->target;
}

static int dm_target_index(struct dm_state *st, json_object *rec,
			   unsigned int *idx)
{
	struct dm_reader *rd = &st->rd;
	struct dm_target key, *p;
	uint64_t v;
	bool null;
	unsigned int i;
	int err;

	err = dm_uint(rd, rec, "kdamond_idx", INT64_MAX, true, &v, &null);
	if (err)
		return err;
	key.kdamond_idx = null ? -1 : (int64_t)v;
	err = dm_uint(rd, rec, "context_idx", INT64_MAX, true, &v, &null);
	if (err)
		return err;
	key.context_idx = null ? -1 : (int64_t)v;
	err = dm_uint(rd, rec, "target_id", UINT64_MAX, false, &key.target_id,
		      NULL);
	if (err)
		return err;
	for (i = 0; i < st->nr_targets; i++) {
		p = &st->targets[i];
		if (p->kdamond_idx == key.kdamond_idx &&
		    p->context_idx == key.context_idx &&
		    p->target_id == key.target_id) {
			*idx = i;
			return 0;
		}
	}
	if (st->nr_targets == DM_MAX_TARGETS)
		return dm_error(rd, "more than %d targets", DM_MAX_TARGETS);
	p = udamon__realloc(st->targets, (st->nr_targets + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	st->targets = p;
	st->targets[st->nr_targets] = key;
	*idx = st->nr_targets++;
	return 0;
}

static int dm_intervals(struct dm_state *st, json_object *rec,
			unsigned long *sample_us, unsigned long *aggr_us)
{
	struct dm_reader *rd = &st->rd;
	json_object *iv = NULL, *goal;
	uint64_t s, a, u;
	bool null;
	int err;

	*sample_us = DM_DEFAULT_SAMPLE_US;
	*aggr_us = DM_DEFAULT_AGGR_US;
	if (!json_object_object_get_ex(rec, "intervals", &iv) || !iv)
		return 0;
	if (!json_object_is_type(iv, json_type_object))
		return dm_error(rd, "'intervals' is not an object");
	err = dm_uint(rd, iv, "sample_us", ULONG_MAX, false, &s, NULL);
	if (!err)
		err = dm_uint(rd, iv, "aggr_us", ULONG_MAX, false, &a, NULL);
	if (!err)
		err = dm_uint(rd, iv, "ops_update_us", ULONG_MAX, true, &u,
			      &null);
	if (err)
		return err;
	if (!s || a < s)
		return dm_error(
			rd, "intervals: sample_us must be > 0 and <= aggr_us");
	*sample_us = (unsigned long)s;
	*aggr_us = (unsigned long)a;
	if (st->have_intervals)
		return 0;
	/* The header keeps the first record's other intervals. */
	st->have_intervals = true;
	st->update_us = (unsigned long)u;
	goal = dm_member(iv, "intervals_goal", json_type_object);
	if (goal) {
		uint64_t g[4];
		static const char *const keys[4] = { "access_bp", "aggrs",
						     "min_sample_us",
						     "max_sample_us" };
		int i;

		for (i = 0; i < 4; i++) {
			err = dm_uint(rd, goal, keys[i], ULONG_MAX, true, &g[i],
				      &null);
			if (err)
				return err;
		}
		st->goal.access_bp = (unsigned long)g[0];
		st->goal.aggrs = (unsigned long)g[1];
		st->goal.min_sample_us = (unsigned long)g[2];
		st->goal.max_sample_us = (unsigned long)g[3];
	}
	return 0;
}

static int dm_regions(struct dm_state *st, json_object *snap,
		      unsigned long sample_us, unsigned long aggr_us,
		      struct udamon_record_tsnap *ts)
{
	struct dm_reader *rd = &st->rd;
	json_object *regions = dm_member(snap, "regions", json_type_array);
	size_t n, i, where_len = strlen(rd->where);
	struct udamon_record_region *r;
	int err = 0;

	if (!regions)
		return dm_error(rd, "'regions' is missing or not a list");
	n = json_object_array_length(regions);
	if (n > UINT_MAX)
		return dm_error(rd, "too many regions");
	r = n ? udamon__calloc(n, sizeof(*r)) : NULL;
	if (n && !r)
		return -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		json_object *reg = json_object_array_get_idx(regions, i);
		uint64_t start = 0, end = 0;
		/* samples per aggregation, for a percentage */
		uint64_t max_samples = aggr_us / sample_us;

		snprintf(rd->where + where_len, sizeof(rd->where) - where_len,
			 ", region %zu", i);
		if (!reg || !json_object_is_type(reg, json_type_object)) {
			err = dm_error(rd, "not an object");
			break;
		}
		err = dm_uint(rd, reg, "start", ULONG_MAX, false, &start, NULL);
		if (!err)
			err = dm_uint(rd, reg, "end", ULONG_MAX, false, &end,
				      NULL);
		if (!err && start >= end)
			err = dm_error(rd, "start must be below end");
		if (!err)
			err = dm_two_units(rd, reg, "nr_accesses", "samples",
					   "percent", max_samples, 100, true,
					   &r[i].nr_accesses);
		if (!err)
			err = dm_two_units(rd, reg, "age", "aggr_intervals",
					   "usec", 1, aggr_us, false,
					   &r[i].age);
		r[i].start = (unsigned long)start;
		r[i].end = (unsigned long)end;
	}
	rd->where[where_len] = '\0';
	if (!err && n) {
		qsort(r, n, sizeof(*r), cmp_region);
		for (i = 1; i < n; i++)
			if (r[i].start < r[i - 1].end) {
				err = dm_error(
					rd,
					"regions 0x%lx-0x%lx and 0x%lx-0x%lx overlap",
					r[i - 1].start, r[i - 1].end,
					r[i].start, r[i].end);
				break;
			}
	}
	if (err) {
		free(r);
		return err;
	}
	ts->nr_regions = (unsigned int)n;
	ts->regions = r;
	return 0;
}

static int dm_add_snap(struct dm_state *st, const struct dm_snap *s)
{
	if (st->nr_snaps == st->cap_snaps) {
		size_t cap = st->cap_snaps ? st->cap_snaps * 2 : 64;
		struct dm_snap *p =
			udamon__realloc(st->snaps, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		st->snaps = p;
		st->cap_snaps = cap;
	}
	st->snaps[st->nr_snaps++] = *s;
	return 0;
}

static int dm_record(struct dm_state *st, json_object *rec, size_t ri)
{
	struct dm_reader *rd = &st->rd;
	json_object *snaps;
	unsigned long sample_us, aggr_us;
	uint64_t prev_end = 0;
	unsigned int target = 0;
	size_t n, i;
	int err;

	snprintf(rd->where, sizeof(rd->where), "record %zu", ri);
	if (!json_object_is_type(rec, json_type_object))
		return dm_error(rd, "not an object");
	err = dm_target_index(st, rec, &target);
	if (!err)
		err = dm_intervals(st, rec, &sample_us, &aggr_us);
	if (err)
		return err;
	snaps = dm_member(rec, "snapshots", json_type_array);
	if (!snaps)
		return dm_error(rd, "'snapshots' is missing or not a list");
	n = json_object_array_length(snaps);
	for (i = 0; i < n; i++) {
		json_object *snap = json_object_array_get_idx(snaps, i);
		struct dm_snap s = { .target = target,
				     .sample_us = sample_us,
				     .aggr_us = aggr_us };
		bool null;

		snprintf(rd->where, sizeof(rd->where),
			 "record %zu, snapshot %zu", ri, i);
		if (!snap || !json_object_is_type(snap, json_type_object))
			return dm_error(rd, "not an object");
		err = dm_uint(rd, snap, "end_time", UINT64_MAX, false,
			      &s.end_ns, NULL);
		if (!err)
			err = dm_uint(rd, snap, "start_time", UINT64_MAX, true,
				      &s.start_ns, &null);
		if (err)
			return err;
		if (null) {
			/* damo leaves it out when it could not tell. */
			uint64_t w = (uint64_t)aggr_us * 1000;

			s.start_ns = i		  ? prev_end :
				     s.end_ns > w ? s.end_ns - w :
						    0;
		}
		if (s.end_ns < s.start_ns)
			return dm_error(rd, "end_time is before start_time");
		if (i && s.end_ns <= prev_end)
			return dm_error(
				rd,
				"end_time %" PRIu64
				" does not come after the previous snapshot's",
				s.end_ns);
		prev_end = s.end_ns;
		err = dm_regions(st, snap, sample_us, aggr_us, &s.ts);
		if (!err)
			err = dm_add_snap(st, &s);
		if (err) {
			free(s.ts.regions);
			return err;
		}
	}
	return 0;
}

/* Merge the per-target snapshots into snapshots of all targets, by time. */
static int dm_build(struct dm_state *st, struct udamon_record *rec)
{
	uint64_t t0 = UINT64_MAX, prev_end = 0;
	size_t i, j, nr = 0;
	unsigned int t;

	rec->hdr.nr_targets = st->nr_targets;
	rec->hdr.pids = udamon__calloc(st->nr_targets, sizeof(int));
	if (!rec->hdr.pids)
		return -ENOMEM;
	if (st->nr_snaps)
		qsort(st->snaps, st->nr_snaps, sizeof(*st->snaps), cmp_snap);
	for (i = 0; i < st->nr_snaps; i++) {
		if (st->snaps[i].start_ns < t0)
			t0 = st->snaps[i].start_ns;
		if (i && st->snaps[i].end_ns == st->snaps[i - 1].end_ns &&
		    st->snaps[i].target == st->snaps[i - 1].target) {
			st->rd.where[0] = '\0';
			return dm_error(
				&st->rd,
				"two snapshots of target %u end at %" PRIu64,
				st->snaps[i].target, st->snaps[i].end_ns);
		}
		if (!i || st->snaps[i].end_ns != st->snaps[i - 1].end_ns)
			nr++;
	}
	rec->snapshots = nr ? udamon__calloc(nr, sizeof(*rec->snapshots)) :
			      NULL;
	if (nr && !rec->snapshots)
		return -ENOMEM;
	for (i = 0; i < st->nr_snaps; i = j) {
		struct udamon_record_snapshot *s =
			&rec->snapshots[rec->nr_snapshots];
		uint64_t start = st->snaps[i].start_ns;

		s->targets =
			udamon__calloc(st->nr_targets, sizeof(*s->targets));
		if (!s->targets)
			return -ENOMEM;
		s->seq = rec->nr_snapshots++;
		s->nr_targets = st->nr_targets;
		s->sample_us = st->snaps[i].sample_us;
		s->aggr_us = st->snaps[i].aggr_us;
		s->end_ns = st->snaps[i].end_ns - t0;
		for (j = i; j < st->nr_snaps &&
			    st->snaps[j].end_ns == st->snaps[i].end_ns;
		     j++) {
			t = st->snaps[j].target;
			s->targets[t] = st->snaps[j].ts;
			st->snaps[j].ts.regions = NULL; /* moved */
			if (st->snaps[j].start_ns < start)
				start = st->snaps[j].start_ns;
		}
		/* Windows do not overlap: a window starts where the last ended. */
		s->start_ns = start - t0 < prev_end ? prev_end : start - t0;
		prev_end = s->end_ns;
	}
	return 0;
}

static void dm_state_free(struct dm_state *st)
{
	size_t i;

	for (i = 0; i < st->nr_snaps; i++)
		free(st->snaps[i].ts.regions);
	free(st->snaps);
	free(st->targets);
}

int udamon_record_parse_damo(const char *buf, size_t len, const char *name,
			     struct udamon_record **recp, char *err,
			     size_t errlen)
{
	struct dm_state st = {
		.rd = { .name = name, .err = err, .errlen = errlen }
	};
	struct udamon_record *rec = NULL;
	json_tokener *tok = NULL;
	json_object *root = NULL;
	char *text = NULL;
	size_t text_len = len, i, n;
	bool compressed = is_zlib(buf, len);
	int ret;

	*recp = NULL;
	if (compressed) {
		ret = inflate_all(buf, len, &text, &text_len);
		if (ret == -EINVAL)
			return dm_error(
				&st.rd,
				"not a complete zlib stream (json_compressed)");
		if (ret == -EFBIG)
			snprintf(err, errlen,
				 "%s: decompresses to more than %lu MiB", name,
				 UDAMON_RECORD_MAX_BYTES >> 20);
		if (ret == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", name);
		if (ret)
			return ret;
		buf = text;
	}
	if (text_len > INT_MAX || text_len > UDAMON_RECORD_MAX_BYTES) {
		free(text);
		snprintf(err, errlen, "%s: larger than %lu MiB", name,
			 UDAMON_RECORD_MAX_BYTES >> 20);
		return -EFBIG;
	}
	if (memchr(buf, '\0', text_len)) {
		ret = dm_error(&st.rd, "a NUL byte; not JSON text");
		goto out;
	}
	ret = -ENOMEM;
	tok = json_tokener_new_ex(32);
	if (!tok)
		goto out;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, buf, (int)text_len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error je = json_tokener_get_error(tok);

		ret = dm_error(&st.rd, "JSON %s at byte %zu",
			       je == json_tokener_continue ?
				       "ends early" :
				       json_tokener_error_desc(je),
			       json_tokener_get_parse_end(tok));
		goto out;
	}
	for (i = json_tokener_get_parse_end(tok); i < text_len; i++)
		if (!strchr(" \t\r\n", buf[i])) {
			ret = dm_error(&st.rd,
				       "text after the JSON at byte %zu", i);
			goto out;
		}
	if (!json_object_is_type(root, json_type_array)) {
		ret = dm_error(&st.rd,
			       "not a damo record (a JSON list of records)");
		goto out;
	}
	n = json_object_array_length(root);
	for (i = 0; i < n; i++) {
		ret = dm_record(&st, json_object_array_get_idx(root, i), i);
		if (ret)
			goto out;
	}
	st.rd.where[0] = '\0';
	if (!st.nr_targets) {
		ret = dm_error(&st.rd, "holds no record");
		goto out;
	}
	ret = -ENOMEM;
	rec = udamon__calloc(1, sizeof(*rec));
	if (!rec)
		goto out;
	rec->format = compressed ? UDAMON_RECORD_FMT_DAMO_JSON_COMPRESSED :
				   UDAMON_RECORD_FMT_DAMO_JSON;
	rec->has_header = true;
	rec->valid_bytes = len;
	rec->file_bytes = len;
	rec->hdr.ops = udamon__strdup("unknown");
	rec->hdr.source = udamon__strdup("kernel DAMON (damo record)");
	if (!rec->hdr.ops || !rec->hdr.source)
		goto out;
	rec->hdr.update_us = st.update_us;
	rec->hdr.intervals_goal = st.goal;
	ret = dm_build(&st, rec);
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", name);
	if (ret) {
		udamon_record_free(rec);
		rec = NULL;
	}
	dm_state_free(&st);
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	free(text);
	*recp = rec;
	return ret;
}

/* ------------------------------------------------------------------ */
/* 4. The writer                                                       */
/* ------------------------------------------------------------------ */

/* json-c's constructors return NULL only when out of memory. */
static void put(json_object *obj, const char *key, json_object *val, bool *oom)
{
	if (!val || json_object_object_add(obj, key, val)) {
		json_object_put(val);
		*oom = true;
	}
}

static void append(json_object *arr, json_object *val, bool *oom)
{
	if (!val || json_object_array_add(arr, val)) {
		json_object_put(val);
		*oom = true;
	}
}

static json_object *dm_record_head(const struct udamon_record *rec,
				   unsigned int target,
				   const struct udamon_record_snapshot *s,
				   bool *oom)
{
	const struct damon_intervals_goal *g = &rec->hdr.intervals_goal;
	json_object *r = json_object_new_object();
	json_object *iv = json_object_new_object();
	json_object *goal = json_object_new_object();

	if (!r || !iv || !goal) {
		json_object_put(r);
		json_object_put(iv);
		json_object_put(goal);
		*oom = true;
		return NULL;
	}
	put(goal, "access_bp", json_object_new_uint64(g->access_bp), oom);
	put(goal, "aggrs", json_object_new_uint64(g->aggrs), oom);
	put(goal, "min_sample_us", json_object_new_uint64(g->min_sample_us),
	    oom);
	put(goal, "max_sample_us", json_object_new_uint64(g->max_sample_us),
	    oom);
	put(iv, "sample_us", json_object_new_uint64(s->sample_us), oom);
	put(iv, "aggr_us", json_object_new_uint64(s->aggr_us), oom);
	put(iv, "ops_update_us", json_object_new_uint64(rec->hdr.update_us),
	    oom);
	put(iv, "intervals_goal", goal, oom);
	put(r, "kdamond_idx", json_object_new_int(0), oom);
	put(r, "context_idx", json_object_new_int(0), oom);
	put(r, "intervals", iv, oom);
	/* damo's null: a record of monitoring results, not of a scheme. */
	json_object_object_add(r, "scheme_idx", NULL);
	put(r, "target_id", json_object_new_uint64(target), oom);
	put(r, "scheme_filters", json_object_new_array(), oom);
	put(r, "snapshots", json_object_new_array(), oom);
	return r;
}

static json_object *dm_snapshot(const struct udamon_record_snapshot *s,
				unsigned int target, bool *oom)
{
	const struct udamon_record_tsnap *ts = &s->targets[target];
	json_object *snap = json_object_new_object();
	json_object *regions = json_object_new_array();
	unsigned long total = 0, max_samples;
	unsigned int j;

	if (!snap || !regions) {
		json_object_put(snap);
		json_object_put(regions);
		*oom = true;
		return NULL;
	}
	max_samples = s->aggr_us / s->sample_us;
	if (!max_samples)
		max_samples = 1;
	for (j = 0; j < ts->nr_regions && !*oom; j++) {
		const struct udamon_record_region *r = &ts->regions[j];
		json_object *reg = json_object_new_object();
		json_object *acc = json_object_new_object();
		json_object *age = json_object_new_object();
		uint64_t usec;

		total += r->end - r->start;
		put(acc, "samples", json_object_new_uint64(r->nr_accesses),
		    oom);
		put(acc, "percent",
		    json_object_new_uint64((uint64_t)r->nr_accesses * 100 /
					   max_samples),
		    oom);
		/* Saturated: the aggregation intervals are what counts. */
		if (__builtin_mul_overflow((uint64_t)r->age, s->aggr_us, &usec))
			usec = UINT64_MAX;
		put(age, "usec", json_object_new_uint64(usec), oom);
		put(age, "aggr_intervals", json_object_new_uint64(r->age), oom);
		put(reg, "start", json_object_new_uint64(r->start), oom);
		put(reg, "end", json_object_new_uint64(r->end), oom);
		put(reg, "nr_accesses", acc, oom);
		put(reg, "age", age, oom);
		put(reg, "sz_filter_passed", json_object_new_int(0), oom);
		append(regions, reg, oom);
	}
	put(snap, "start_time", json_object_new_uint64(s->start_ns), oom);
	put(snap, "end_time", json_object_new_uint64(s->end_ns), oom);
	put(snap, "regions", regions, oom);
	put(snap, "total_bytes", json_object_new_uint64(total), oom);
	return snap;
}

static json_object *dm_records(const struct udamon_record *rec, bool *oom)
{
	json_object *root = json_object_new_array();
	unsigned int t;
	size_t i;

	if (!root) {
		*oom = true;
		return NULL;
	}
	for (t = 0; rec->has_header && t < rec->hdr.nr_targets && !*oom; t++) {
		const struct udamon_record_snapshot *run = NULL;
		json_object *snaps = NULL;

		for (i = 0; i < rec->nr_snapshots && !*oom; i++) {
			const struct udamon_record_snapshot *s =
				&rec->snapshots[i];

			/* damo keeps one intervals object a record. */
			if (!run || run->sample_us != s->sample_us ||
			    run->aggr_us != s->aggr_us) {
				json_object *r = dm_record_head(rec, t, s, oom);

				if (!r)
					break;
				append(root, r, oom);
				snaps = dm_member(r, "snapshots",
						  json_type_array);
				if (!snaps)
					break;
				run = s;
			}
			append(snaps, dm_snapshot(s, t, oom), oom);
		}
	}
	return root;
}

/* Compress @len bytes of @text into @out as one zlib stream. */
static int deflate_to(FILE *out, const char *text, size_t len)
{
	unsigned char chunk[65536];
	z_stream zs = { 0 };
	int zret, ret = 0;

	if (deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)text;
	do {
		size_t left = len - (size_t)((const char *)zs.next_in - text);
		size_t have;

		zs.avail_in = left > UINT_MAX ? UINT_MAX : (uInt)left;
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zret = deflate(&zs, left > UINT_MAX ? Z_NO_FLUSH : Z_FINISH);
		if (zret == Z_STREAM_ERROR) {
			ret = -EIO;
			break;
		}
		have = sizeof(chunk) - zs.avail_out;
		if (have && fwrite(chunk, 1, have, out) != have) {
			ret = -EIO;
			break;
		}
	} while (zret != Z_STREAM_END);
	deflateEnd(&zs);
	return ret;
}

int udamon_record_export_damo(const struct udamon_record *rec, FILE *out,
			      bool compressed)
{
	bool oom = false;
	json_object *root = dm_records(rec, &oom);
	const char *text;
	size_t len;
	int ret = 0;

	if (oom || !root) {
		json_object_put(root);
		return -ENOMEM;
	}
	text = json_object_to_json_string_length(
		root,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);
	if (!text) {
		json_object_put(root);
		return -ENOMEM;
	}
	if (compressed)
		ret = deflate_to(out, text, len);
	else if (fwrite(text, 1, len, out) != len || fputc('\n', out) == EOF)
		ret = -EIO;
	json_object_put(root);
	if (fflush(out) || ferror(out))
		ret = ret ? ret : -EIO;
	return ret;
}

int udamon_record_export_damo_json(const struct udamon_record *rec, FILE *out)
{
	return udamon_record_export_damo(rec, out, false);
}
