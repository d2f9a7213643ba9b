// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * damo's record formats: the reader (json and json_compressed, the forms
 * damo's versions write, validation with messages naming the field), the
 * writer (round trips through both forms) and allocation failures.
 */
#include "../lib/tap.h"

#include "record/record.h"
#include "sys/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static char err[512];

static int parse(const char *json, struct udamon_record **rec)
{
	err[0] = '\0';
	return udamon_record_parse_damo(json, strlen(json), "t.json", rec, err,
					sizeof(err));
}

/* Two targets in two records, the second with one snapshot less. */
static const char two_targets[] =
	"[{\"kdamond_idx\": 0, \"context_idx\": 0, \"intervals\": "
	"{\"sample_us\": 10000, \"aggr_us\": 100000, \"ops_update_us\": 7,"
	" \"intervals_goal\": {\"access_bp\": 400, \"aggrs\": 3,"
	" \"min_sample_us\": 1000, \"max_sample_us\": 20000}},"
	" \"scheme_idx\": null, \"target_id\": 0, \"scheme_filters\": [],"
	" \"snapshots\": ["
	"{\"start_time\": 5000000000, \"end_time\": 5100000000, \"regions\": ["
	"{\"start\": 8192, \"end\": 12288, \"nr_accesses\": {\"samples\": 4,"
	" \"percent\": 40}, \"age\": {\"usec\": 300000, \"aggr_intervals\": 3}},"
	"{\"start\": 4096, \"end\": 8192, \"nr_accesses\": {\"samples\": null,"
	" \"percent\": 50}, \"age\": {\"usec\": 200000, \"aggr_intervals\": null}}"
	"], \"total_bytes\": 8192},"
	"{\"start_time\": 5100000000, \"end_time\": 5200000000, \"regions\": ["
	"{\"start\": 4096, \"end\": 12288, \"nr_accesses\": 10, \"age\": 1}]}"
	"]},"
	"{\"kdamond_idx\": 0, \"context_idx\": 0, \"intervals\": "
	"{\"sample_us\": 10000, \"aggr_us\": 100000, \"ops_update_us\": 7},"
	" \"target_id\": 1, \"snapshots\": ["
	"{\"start_time\": null, \"end_time\": 5200000000, \"regions\": ["
	"{\"start\": 1048576, \"end\": 2097152, \"nr_accesses\": 1, "
	"\"age\": 0}]}]}]\n";

static void test_read_two_targets(void)
{
	struct udamon_record *rec;
	const struct udamon_record_snapshot *s;

	REQUIRE(parse(two_targets, &rec) == 0);
	CHECK_EQ(rec->format, UDAMON_RECORD_FMT_DAMO_JSON);
	CHECK(rec->has_header);
	CHECK_EQ(rec->hdr.nr_targets, 2);
	CHECK_EQ(rec->hdr.update_us, 7);
	CHECK_EQ(rec->hdr.intervals_goal.access_bp, 400);
	CHECK_EQ(rec->hdr.intervals_goal.max_sample_us, 20000);
	REQUIRE(rec->nr_snapshots == 2);
	s = &rec->snapshots[0];
	/* Times from the first start; regions sorted by address. */
	CHECK_EQ(s->start_ns, 0);
	CHECK_EQ(s->end_ns, 100000000);
	CHECK_EQ(s->sample_us, 10000);
	CHECK_EQ(s->aggr_us, 100000);
	REQUIRE(s->targets[0].nr_regions == 2);
	CHECK_EQ(s->targets[0].regions[0].start, 4096);
	/* From the percentage: 50 % of 10 samples. */
	CHECK_EQ(s->targets[0].regions[0].nr_accesses, 5);
	/* From usec: 200 ms of 100 ms aggregations. */
	CHECK_EQ(s->targets[0].regions[0].age, 2);
	CHECK_EQ(s->targets[0].regions[1].nr_accesses, 4);
	CHECK_EQ(s->targets[0].regions[1].age, 3);
	/* Target 1 has nothing in the first window. */
	CHECK_EQ(s->targets[1].nr_regions, 0);
	s = &rec->snapshots[1];
	CHECK_EQ(s->start_ns, 100000000);
	CHECK_EQ(s->end_ns, 200000000);
	REQUIRE(s->targets[0].nr_regions == 1);
	/* Older damo: plain numbers. */
	CHECK_EQ(s->targets[0].regions[0].nr_accesses, 10);
	CHECK_EQ(s->targets[0].regions[0].age, 1);
	REQUIRE(s->targets[1].nr_regions == 1);
	CHECK_EQ(s->targets[1].regions[0].start, 1048576);
	CHECK_EQ(s->targets[1].regions[0].nr_accesses, 1);
	udamon_record_free(rec);
}

static unsigned char *zlib_of(const char *text, size_t *len)
{
	uLongf n = compressBound(strlen(text));
	unsigned char *out = malloc(n);

	if (out &&
	    compress(out, &n, (const Bytef *)text, strlen(text)) != Z_OK) {
		free(out);
		return NULL;
	}
	*len = n;
	return out;
}

static void test_read_compressed(void)
{
	struct udamon_record *rec;
	unsigned char *z;
	size_t len;

	z = zlib_of(two_targets, &len);
	REQUIRE(z);
	REQUIRE(udamon_record_parse_damo((const char *)z, len, "t.jz", &rec,
					 err, sizeof(err)) == 0);
	CHECK_EQ(rec->format, UDAMON_RECORD_FMT_DAMO_JSON_COMPRESSED);
	CHECK_EQ(rec->nr_snapshots, 2);
	CHECK_EQ(rec->hdr.nr_targets, 2);
	udamon_record_free(rec);
	/* A stream cut short, and one with a flipped byte. */
	CHECK_EQ(udamon_record_parse_damo((const char *)z, len / 2, "t.jz",
					  &rec, err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "t.jz: not a complete zlib stream"));
	CHECK(!rec);
	z[len / 2] ^= 0x55;
	CHECK_EQ(udamon_record_parse_damo((const char *)z, len, "t.jz", &rec,
					  err, sizeof(err)),
		 -EINVAL);
	free(z);
}

static const struct {
	const char *json;
	const char *msg;
} bad[] = {
	{ "{}", "not a damo record (a JSON list of records)" },
	{ "[]", "holds no record" },
	{ "[1]", "record 0: not an object" },
	{ "[{\"snapshots\": []}]", "record 0: 'target_id' is missing" },
	{ "[{\"target_id\": -1, \"snapshots\": []}]",
	  "record 0: 'target_id' is negative" },
	{ "[{\"target_id\": \"0\", \"snapshots\": []}]",
	  "record 0: 'target_id' is not an integer (\"0\")" },
	{ "[{\"target_id\": 0}]", "'snapshots' is missing or not a list" },
	{ "[{\"target_id\": 0, \"intervals\": {\"sample_us\": 0, "
	  "\"aggr_us\": 5}, \"snapshots\": []}]",
	  "sample_us must be > 0 and <= aggr_us" },
	{ "[{\"target_id\": 0, \"snapshots\": [{\"end_time\": 5}]}]",
	  "record 0, snapshot 0: 'regions' is missing or not a list" },
	{ "[{\"target_id\": 0, \"snapshots\": [{\"start_time\": 6, "
	  "\"end_time\": 5, \"regions\": []}]}]",
	  "record 0, snapshot 0: end_time is before start_time" },
	{ "[{\"target_id\": 0, \"snapshots\": [{\"start_time\": 0, "
	  "\"end_time\": 5, \"regions\": []}, {\"start_time\": 0, "
	  "\"end_time\": 5, \"regions\": []}]}]",
	  "record 0, snapshot 1: end_time 5 does not come after" },
	{ "[{\"target_id\": 0, \"snapshots\": [{\"start_time\": 0, "
	  "\"end_time\": 5, \"regions\": [{\"start\": 1, \"end\": 9, "
	  "\"nr_accesses\": 1}, {\"start\": 8, \"end\": 10, "
	  "\"nr_accesses\": 1}]}]}]",
	  "record 0, snapshot 0: regions 0x1-0x9 and 0x8-0xa overlap" },
	{ "[{\"target_id\": 0, \"snapshots\": [{\"start_time\": 0, "
	  "\"end_time\": 5, \"regions\": [{\"start\": 1, \"end\": 9}]}]}]",
	  "record 0, snapshot 0, region 0: 'nr_accesses' is missing" },
	{ "[{\"target_id\": 0, \"snapshots\": [{\"start_time\": 0, "
	  "\"end_time\": 5, \"regions\": [{\"start\": 1, \"end\": 9, "
	  "\"nr_accesses\": 4294967296}]}]}]",
	  "region 0: 'nr_accesses' is out of range" },
	{ "[{\"target_id\": 0, \"snapshots\": [{\"start_time\": 0, "
	  "\"end_time\": 5, \"regions\": [{\"start\": 1, \"end\": 9, "
	  "\"nr_accesses\": {\"samples\": null}}]}]}]",
	  "'nr_accesses' has neither 'samples' nor 'percent'" },
	{ "[{\"target_id\": 0, \"snapshots\": [{\"start_time\": 0, "
	  "\"end_time\": 5, \"regions\": [{\"start\": 1.5, \"end\": 9, "
	  "\"nr_accesses\": 1}]}]}]",
	  "'start' is not an integer (1.5)" },
	{ "[{\"target_id\": 0, \"snapshots\": [{\"start_time\": 0, "
	  "\"end_time\": 5, \"regions\": []}]}, {\"target_id\": 0, "
	  "\"snapshots\": [{\"start_time\": 0, \"end_time\": 5, "
	  "\"regions\": []}]}]",
	  "two snapshots of target 0 end at 5" },
	{ "[{\"target_id\": 0, \"snapshots\": []},]", "JSON " },
	{ "[{\"target_id\": 0, \"snapshots\": []}] x",
	  "JSON unexpected character at byte 36" },
	{ "[{\"target_id\": 0, \"snapshots\": [", "JSON ends early" },
};

static void test_bad_records(void)
{
	size_t i;

	for (i = 0; i < TAP_NR(bad); i++) {
		struct udamon_record *rec = (void *)1;
		int ret = parse(bad[i].json, &rec);

		CHECK_EQ(ret, -EINVAL);
		CHECK(strstr(err, bad[i].msg));
		if (ret != -EINVAL || !strstr(err, bad[i].msg))
			tap_diag("case %zu: %s -> '%s'", i, bad[i].json, err);
		CHECK(!rec);
		CHECK(!strncmp(err, "t.json: ", 8));
	}
}

static int export(const struct udamon_record *rec, bool compressed, char **out,
		  size_t *len)
{
	FILE *f = open_memstream(out, len);
	int ret;

	if (!f)
		return -ENOMEM;
	ret = udamon_record_export_damo(rec, f, compressed);
	fclose(f);
	return ret;
}

static bool same_snapshots(const struct udamon_record *a,
			   const struct udamon_record *b)
{
	size_t i;
	unsigned int t;

	if (a->nr_snapshots != b->nr_snapshots ||
	    a->hdr.nr_targets != b->hdr.nr_targets)
		return false;
	for (i = 0; i < a->nr_snapshots; i++) {
		const struct udamon_record_snapshot *x = &a->snapshots[i],
						    *y = &b->snapshots[i];

		if (x->start_ns != y->start_ns || x->end_ns != y->end_ns ||
		    x->sample_us != y->sample_us || x->aggr_us != y->aggr_us)
			return false;
		for (t = 0; t < a->hdr.nr_targets; t++)
			if (x->targets[t].nr_regions !=
				    y->targets[t].nr_regions ||
			    (x->targets[t].nr_regions &&
			     memcmp(x->targets[t].regions,
				    y->targets[t].regions,
				    x->targets[t].nr_regions *
					    sizeof(*x->targets[t].regions))))
				return false;
	}
	return true;
}

/* damo's writer and reader agree, in both forms. */
static void test_round_trip(void)
{
	struct udamon_record *rec, *back;
	char *out = NULL;
	size_t len = 0;
	int compressed;

	REQUIRE(parse(two_targets, &rec) == 0);
	for (compressed = 0; compressed <= 1; compressed++) {
		REQUIRE(export(rec, compressed, &out, &len) == 0);
		CHECK(compressed ? (unsigned char)out[0] == 0x78 :
				   out[0] == '[');
		back = NULL;
		CHECK_EQ(udamon_record_parse_damo(out, len, "x", &back, err,
						  sizeof(err)),
			 0);
		if (back)
			CHECK(same_snapshots(rec, back));
		else
			tap_diag("%s", err);
		if (back)
			CHECK_EQ(
				back->format,
				compressed ?
					UDAMON_RECORD_FMT_DAMO_JSON_COMPRESSED :
					UDAMON_RECORD_FMT_DAMO_JSON);
		udamon_record_free(back);
		free(out);
		out = NULL;
	}
	udamon_record_free(rec);
}

/* Every allocation of the reader failing in turn: -ENOMEM, no leak. */
static void test_oom(void)
{
	struct udamon_record *rec;
	unsigned long n, total;
	unsigned char *z;
	size_t len;
	int ret;

	z = zlib_of(two_targets, &len);
	REQUIRE(z);
	udamon__alloc_fail_at(0);
	REQUIRE(udamon_record_parse_damo((const char *)z, len, "t", &rec, err,
					 sizeof(err)) == 0);
	udamon_record_free(rec);
	total = udamon__alloc_count();
	REQUIRE(total > 5);
	for (n = 1; n <= total; n++) {
		udamon__alloc_fail_at(n);
		ret = udamon_record_parse_damo((const char *)z, len, "t", &rec,
					       err, sizeof(err));
		CHECK(ret == -ENOMEM && !rec && strstr(err, "memory"));
		if (ret != -ENOMEM)
			tap_diag("allocation %lu: %d '%s'", n, ret, err);
		udamon_record_free(rec);
	}
	udamon__alloc_fail_at(0);
	free(z);
}

int main(void)
{
	static const struct tap_case cases[] = {
		TAP_CASE(test_read_two_targets),
		TAP_CASE(test_read_compressed),
		TAP_CASE(test_bad_records),
		TAP_CASE(test_round_trip),
		TAP_CASE(test_oom),
	};

	return tap_main(cases, TAP_NR(cases));
}
