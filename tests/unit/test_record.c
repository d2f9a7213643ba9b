// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Tests of the record format and the reports: write/read round trips, a
 * record cut at every byte offset reading back its complete prefix, the
 * reader's rejection of corrupt input (with file:offset), the writer's own
 * checks, golden heatmap/wss/table values on a hand-made record, damo JSON
 * export, and a deterministic sim recording of stairs_30secs with a pause
 * (virtual clock, fixed seed) checked against the workload's known shape.
 */
#include "../lib/tap.h"

#include "record/record.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB (1UL << 20)

static char err[512];

/* ---- helpers ---- */

static uint32_t crc32_bits(const char *s, size_t len)
{
	uint32_t c = 0xffffffffU;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		c ^= (unsigned char)s[i];
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffffU;
}

/* Append @block (lines ending in '\n') and its "end <crc>" line to @buf. */
static void add_block(char *buf, size_t cap, const char *block)
{
	size_t len = strlen(buf);

	snprintf(buf + len, cap - len, "%send %08x\n", block,
		 crc32_bits(block, strlen(block)));
}

static char *read_all(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf && read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	close(fd);
	return buf;
}

static int tmp_fd(char *path, size_t len)
{
	snprintf(path, len, "/tmp/udamon-test-record.XXXXXX");
	return mkstemp(path);
}

/* A header of @nr_targets targets with pids 100, 101 ... */
static void make_header(struct udamon_record_header *h, int *pids,
			unsigned int nr_targets)
{
	unsigned int i;

	memset(h, 0, sizeof(*h));
	h->created = 1700000000;
	h->virtual_clock = true;
	h->ops = "sim";
	h->source = "sim (modelled)";
	h->workload = "configs/a b%c.cfg";
	h->command = "prog --x\t'y'";
	h->seed = 7;
	h->update_us = 1000000;
	h->min_nr_regions = 10;
	h->max_nr_regions = 1000;
	h->intervals_goal.access_bp = 400;
	h->intervals_goal.aggrs = 3;
	h->intervals_goal.min_sample_us = 1000;
	h->intervals_goal.max_sample_us = 10000;
	h->nr_targets = nr_targets;
	for (i = 0; i < nr_targets; i++)
		pids[i] = 100 + (int)i;
	h->pids = pids;
}

/*
 * The small record of the round-trip and truncation tests: two targets,
 * three snapshots, a pause and resume between the second and third, and
 * a stop.  Returns the file path (static) or NULL.
 */
static const char *write_small(void)
{
	static char path[64];
	struct udamon_record_header h;
	struct udamon_record_writer *w;
	struct udamon_record_region r0[2] = { { 0x1000, 0x3000, 5, 1 },
					      { 0x3000, 0x8000, 0, 9 } };
	struct udamon_record_region r1[1] = { { 0x7f0000000000, 0x7f0000100000,
						20, 4 } };
	struct udamon_record_tsnap ts[2] = { { 2, r0 }, { 1, r1 } };
	struct udamon_record_snapshot s = { .sample_us = 5000,
					    .aggr_us = 100000,
					    .nr_targets = 2,
					    .targets = ts };
	int pids[2], fd, i;

	make_header(&h, pids, 2);
	fd = tmp_fd(path, sizeof(path));
	if (fd < 0 || udamon_record_writer_fdopen(fd, &h, &w))
		return NULL;
	for (i = 0; i < 3; i++) {
		s.seq = (unsigned long)i;
		s.start_ns = (uint64_t)i * 100000000;
		s.end_ns = s.start_ns + 100000000;
		if (i == 2) {
			/* The pause falls in the third window. */
			s.end_ns += 50000000;
			if (udamon_record_write_event(w, UDAMON_RECORD_EV_PAUSE,
						      210000000, NULL) ||
			    udamon_record_write_event(w,
						      UDAMON_RECORD_EV_RESUME,
						      240000000, NULL))
				return NULL;
		}
		r0[0].nr_accesses = (unsigned int)(5 + i);
		if (udamon_record_write_snapshot(w, &s))
			return NULL;
	}
	if (udamon_record_write_event(w, UDAMON_RECORD_EV_STOP, 400000000,
				      "duration") ||
	    udamon_record_writer_close(w))
		return NULL;
	return path;
}

/* ---- round trip and truncation ---- */

static void test_roundtrip(void)
{
	const char *path = write_small();
	struct udamon_record *rec = NULL;
	const struct udamon_record_snapshot *s;

	REQUIRE(path);
	REQUIRE(udamon_record_read(path, &rec, err, sizeof(err)) == 0);
	unlink(path);
	CHECK_EQ(rec->version, 1);
	CHECK(rec->has_header);
	CHECK(!rec->truncated);
	CHECK_EQ(rec->valid_bytes, rec->file_bytes);
	CHECK_EQ(rec->hdr.created, 1700000000);
	CHECK(rec->hdr.virtual_clock);
	CHECK_STREQ(rec->hdr.ops, "sim");
	CHECK_STREQ(rec->hdr.source, "sim (modelled)");
	CHECK_STREQ(rec->hdr.workload, "configs/a b%c.cfg");
	CHECK_STREQ(rec->hdr.command, "prog --x\t'y'");
	CHECK_EQ(rec->hdr.seed, 7);
	CHECK_EQ(rec->hdr.update_us, 1000000);
	CHECK_EQ(rec->hdr.min_nr_regions, 10);
	CHECK_EQ(rec->hdr.max_nr_regions, 1000);
	CHECK_EQ(rec->hdr.intervals_goal.access_bp, 400);
	CHECK_EQ(rec->hdr.intervals_goal.aggrs, 3);
	CHECK_EQ(rec->hdr.intervals_goal.min_sample_us, 1000);
	CHECK_EQ(rec->hdr.intervals_goal.max_sample_us, 10000);
	REQUIRE(rec->hdr.nr_targets == 2);
	CHECK_EQ(rec->hdr.pids[0], 100);
	CHECK_EQ(rec->hdr.pids[1], 101);

	REQUIRE(rec->nr_snapshots == 3);
	s = &rec->snapshots[2];
	CHECK_EQ(s->seq, 2);
	CHECK_EQ(s->start_ns, 200000000);
	CHECK_EQ(s->end_ns, 350000000);
	CHECK_EQ(s->sample_us, 5000);
	CHECK_EQ(s->aggr_us, 100000);
	REQUIRE(s->nr_targets == 2);
	REQUIRE(s->targets[0].nr_regions == 2);
	CHECK_EQ(s->targets[0].regions[0].start, 0x1000);
	CHECK_EQ(s->targets[0].regions[0].end, 0x3000);
	CHECK_EQ(s->targets[0].regions[0].nr_accesses, 7);
	CHECK_EQ(s->targets[0].regions[0].age, 1);
	CHECK_EQ(s->targets[0].regions[1].age, 9);
	REQUIRE(s->targets[1].nr_regions == 1);
	CHECK_EQ(s->targets[1].regions[0].start, 0x7f0000000000);
	CHECK_EQ(s->targets[1].regions[0].nr_accesses, 20);
	CHECK_EQ(rec->snapshots[0].targets[0].regions[0].nr_accesses, 5);

	REQUIRE(rec->nr_events == 3);
	CHECK_EQ(rec->events[0].type, UDAMON_RECORD_EV_PAUSE);
	CHECK_EQ(rec->events[0].time_ns, 210000000);
	CHECK_EQ(rec->events[0].after_seq, 2);
	CHECK(rec->events[0].arg == NULL);
	CHECK_EQ(rec->events[1].type, UDAMON_RECORD_EV_RESUME);
	CHECK_EQ(rec->events[2].type, UDAMON_RECORD_EV_STOP);
	CHECK_STREQ(rec->events[2].arg, "duration");
	CHECK_EQ(rec->events[2].after_seq, 3);
	CHECK_EQ(udamon_record_duration_ns(rec), 400000000);
	udamon_record_free(rec);
}

/*
 * Cut the small record at every byte offset: each prefix reads back,
 * without error, exactly the blocks that are complete in it.
 */
static void test_truncate_every_offset(void)
{
	const char *path = write_small();
	size_t len, cut, ends[32], nr_ends = 0, i;
	char *buf;
	unsigned int kinds[32]; /* 0 magic, 1 header, 2 snapshot, 3 event */

	REQUIRE(path);
	buf = read_all(path, &len);
	unlink(path);
	REQUIRE(buf);

	/* Where the version line and each block end, and what they are. */
	ends[nr_ends] = (size_t)(strchr(buf, '\n') - buf) + 1;
	kinds[nr_ends++] = 0;
	for (i = ends[0]; i < len;) {
		const char *start = buf + i, *end = strstr(start, "\nend ");

		REQUIRE(end && nr_ends < 32);
		kinds[nr_ends] = !strncmp(start, "header", 6)	? 1 :
				 !strncmp(start, "snapshot", 8) ? 2 :
								  3;
		i = (size_t)(end - buf) + 14;
		ends[nr_ends++] = i;
	}
	CHECK_EQ(ends[nr_ends - 1], len);
	CHECK_EQ(nr_ends, 1 + 1 + 3 + 3);

	for (cut = 0; cut <= len; cut++) {
		struct udamon_record *rec = NULL;
		size_t complete = 0, snaps = 0, events = 0, valid = 0;
		int ret;

		for (i = 0; i < nr_ends && ends[i] <= cut; i++) {
			complete++;
			valid = ends[i];
			snaps += kinds[i] == 2;
			events += kinds[i] == 3;
		}
		ret = udamon_record_parse(buf, cut, "cut.rec", &rec, err,
					  sizeof(err));
		if (ret) {
			tap_diag("cut at %zu: %s", cut, err);
			CHECK_EQ(ret, 0);
			break;
		}
		CHECK_EQ(rec->truncated, cut != valid || complete < 2);
		CHECK_EQ(rec->valid_bytes, valid);
		CHECK_EQ(rec->has_header, complete >= 2);
		CHECK_EQ(rec->nr_snapshots, snaps);
		CHECK_EQ(rec->nr_events, events);
		if (rec->nr_snapshots)
			CHECK_EQ(rec->snapshots[rec->nr_snapshots - 1]
					 .targets[1]
					 .regions[0]
					 .nr_accesses,
				 20);
		udamon_record_free(rec);
		if (tap_failures) {
			tap_diag("first failure at cut %zu of %zu", cut, len);
			break;
		}
	}
	free(buf);
}

/* ---- corrupt input ---- */

#define HDR_BLOCK                                                           \
	"header\ncreated 1\nclock real\nops vaddr\nsource uffd-wp (writes " \
	"only)\nseed 0\nupdate_us 1000000\nnr_regions 10 1000\n"            \
	"intervals_goal 0 0 0 0\ntarget 0 42\n"
#define SNAP0                                                                  \
	"snapshot 0 0 100 5000 100000\ntarget 0 2\n0x1000 0x2000 3 0\n0x2000 " \
	"0x3000 0 0\n"

/*
 * Parse "udamon-record 1\n" + header + @blocks (each gets its CRC) and
 * expect -EINVAL with a message holding @msg, at the offset of the line
 * that holds @at (searched from the first block after the header).
 */
static void expect_bad(const char *const *blocks, const char *msg,
		       const char *at)
{
	char buf[4096] = "udamon-record 1\n", want[128];
	struct udamon_record *rec = NULL;
	size_t body;
	const char *p;
	int ret;

	add_block(buf, sizeof(buf), HDR_BLOCK);
	body = strlen(buf);
	for (; *blocks; blocks++)
		add_block(buf, sizeof(buf), *blocks);
	ret = udamon_record_parse(buf, strlen(buf), "bad.rec", &rec, err,
				  sizeof(err));
	CHECK_EQ(ret, -EINVAL);
	CHECK(rec == NULL);
	if (!strstr(err, msg)) {
		tap_diag("want '%s' in '%s'", msg, err);
		CHECK(strstr(err, msg));
	}
	p = strstr(buf + body, at);
	REQUIRE(p);
	snprintf(want, sizeof(want), "bad.rec:%zu: ", (size_t)(p - buf));
	if (strncmp(err, want, strlen(want))) {
		tap_diag("want prefix '%s' in '%s'", want, err);
		CHECK(!strncmp(err, want, strlen(want)));
	}
}

static void test_reader_rejects(void)
{
	struct udamon_record *rec = NULL;
	char buf[2048];

#define BAD(msg, at, ...)                                       \
	do {                                                    \
		const char *const b_[] = { __VA_ARGS__, NULL }; \
		expect_bad(b_, msg, at);                        \
	} while (0)
	BAD("snapshot 1 where 0 was expected", "snapshot 1",
	    "snapshot 1 0 100 5000 100000\ntarget 0 0\n");
	BAD("region 1: start 0x1800 overlaps the previous region", "0x1800",
	    "snapshot 0 0 100 5000 100000\ntarget 0 2\n0x1000 0x2000 3 0\n"
	    "0x1800 0x3000 0 0\n");
	BAD("start 0x3000 is not below end 0x2000", "0x3000 0x2000",
	    "snapshot 0 0 100 5000 100000\ntarget 0 1\n0x3000 0x2000 3 0\n");
	BAD("not a 0x-prefixed lowercase hex address", "0x1000 0X2000",
	    "snapshot 0 0 100 5000 100000\ntarget 0 1\n0x1000 0X2000 3 0\n");
	BAD("nr_accesses '-3' is not a decimal number", "0x1000 0x2000 -3",
	    "snapshot 0 0 100 5000 100000\ntarget 0 1\n0x1000 0x2000 -3 0\n");
	BAD("age '4294967296' is out of range", "0x1000 0x2000 1 4294967296",
	    "snapshot 0 0 100 5000 100000\ntarget 0 1\n0x1000 0x2000 1 "
	    "4294967296\n");
	BAD("aggr_us 4000 is below sample_us 5000", "snapshot 0",
	    "snapshot 0 0 100 5000 4000\ntarget 0 0\n");
	BAD("starts at 50, not where the previous one ended (100)",
	    "snapshot 1", SNAP0, "snapshot 1 50 200 5000 100000\ntarget 0 0\n");
	BAD("event resume: not paused", "event resume", SNAP0,
	    "event resume 150\n");
	BAD("event pause: already paused", "event pause 160", SNAP0,
	    "event pause 150\n", "event pause 160\n");
	BAD("time goes backwards", "event pause 50", SNAP0, "event pause 50\n");
	BAD("unknown event 'frobnicate'", "event frob", "event frobnicate 1\n");
	BAD("unknown block 'bogus'", "bogus", SNAP0, "bogus 1\n");
	BAD("a second 'header' block", "header", HDR_BLOCK);
	BAD("data after the 'stop' event", "snapshot 0", "event stop 1 done\n",
	    SNAP0);
	BAD("expected 'target 0 <nr_regions>'", "tgt",
	    "snapshot 0 0 100 5000 100000\ntgt 0 0\n");
	BAD("empty field", "snapshot 0  0",
	    "snapshot 0  0 100 5000 100000\ntarget 0 0\n");
	BAD("control byte 0x09", "snapshot\t0",
	    "snapshot\t0 0 100 5000 100000\ntarget 0 0\n");
	BAD("region 0 needs 4 fields", "end ",
	    "snapshot 0 0 100 5000 100000\ntarget 0 3\n");
#undef BAD

	/* A flipped byte in a complete block: the checksum catches it. */
	snprintf(buf, sizeof(buf), "udamon-record 1\n");
	add_block(buf, sizeof(buf), HDR_BLOCK);
	add_block(buf, sizeof(buf), SNAP0);
	memcpy(strstr(buf, " 3 0\n"), " 4 0\n", 5);
	CHECK_EQ(udamon_record_parse(buf, strlen(buf), "flip.rec", &rec, err,
				     sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "checksum mismatch"));
	CHECK(strstr(err, "the block is corrupt"));

	/* Magic, version, header. */
	CHECK_EQ(udamon_record_parse("hello\n", 6, "x", &rec, err, sizeof(err)),
		 -EINVAL);
	CHECK_STREQ(
		err,
		"x:0: line 1: not a udamon record (no 'udamon-record <version>' line)");
	CHECK_EQ(udamon_record_parse("udamon-record 2\n", 16, "x", &rec, err,
				     sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "version 2 is newer than this udamon reads (1)"));
	CHECK_EQ(udamon_record_parse("udamon-record 01\n", 17, "x", &rec, err,
				     sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "bad version '01'"));

	snprintf(buf, sizeof(buf), "udamon-record 1\n");
	add_block(buf, sizeof(buf),
		  "header\nops sim\nsource sim\nupdate_us 1\nnr_regions 3 3\n"
		  "intervals_goal 0 0 0 0\ntarget 0 0\n");
	CHECK_EQ(udamon_record_parse(buf, strlen(buf), "x", &rec, err,
				     sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "header: no 'clock'"));

	snprintf(buf, sizeof(buf), "udamon-record 1\n");
	add_block(buf, sizeof(buf), "header\nclock real\nclock real\n");
	CHECK_EQ(udamon_record_parse(buf, strlen(buf), "x", &rec, err,
				     sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "x:34: line 4: header: duplicate 'clock'"));

	/* Unknown header keys of later minor revisions are skipped. */
	snprintf(buf, sizeof(buf), "udamon-record 1\n");
	add_block(buf, sizeof(buf), HDR_BLOCK "future_key 1 2 3\n");
	REQUIRE(udamon_record_parse(buf, strlen(buf), "x", &rec, err,
				    sizeof(err)) == 0);
	CHECK_STREQ(rec->hdr.source, "uffd-wp (writes only)");
	CHECK_EQ(rec->hdr.pids[0], 42);
	udamon_record_free(rec);

	/* A file that is not there names itself. */
	CHECK_EQ(udamon_record_read("/nonexistent/x.rec", &rec, err,
				    sizeof(err)),
		 -ENOENT);
	CHECK_STREQ(err, "/nonexistent/x.rec: No such file or directory");
}

static void test_writer_rejects(void)
{
	struct udamon_record_header h;
	struct udamon_record_writer *w;
	struct udamon_record_region r[2] = { { 0x1000, 0x3000, 1, 0 },
					     { 0x2000, 0x4000, 1, 0 } };
	struct udamon_record_tsnap ts = { 1, r };
	struct udamon_record_snapshot s = { .seq = 0,
					    .start_ns = 0,
					    .end_ns = 10,
					    .sample_us = 5,
					    .aggr_us = 100,
					    .nr_targets = 1,
					    .targets = &ts };
	char path[64];
	int pids[1], fd;

	make_header(&h, pids, 1);
	h.ops = "two words";
	fd = tmp_fd(path, sizeof(path));
	REQUIRE(fd >= 0);
	CHECK_EQ(udamon_record_writer_fdopen(fd, &h, &w), -EINVAL);
	make_header(&h, pids, 1);
	fd = open(path, O_WRONLY | O_TRUNC);
	REQUIRE(fd >= 0);
	REQUIRE(udamon_record_writer_fdopen(fd, &h, &w) == 0);

	s.seq = 1; /* not the next number */
	CHECK_EQ(udamon_record_write_snapshot(w, &s), -EINVAL);
	s.seq = 0;
	ts.nr_regions = 2; /* overlapping */
	CHECK_EQ(udamon_record_write_snapshot(w, &s), -EINVAL);
	ts.nr_regions = 1;
	s.aggr_us = 4; /* below sample_us */
	CHECK_EQ(udamon_record_write_snapshot(w, &s), -EINVAL);
	s.aggr_us = 100;
	CHECK_EQ(udamon_record_write_snapshot(w, &s), 0);
	CHECK_EQ(udamon_record_writer_nr_snapshots(w), 1);
	s.seq = 1;
	s.start_ns = 5; /* not where the last one ended */
	s.end_ns = 20;
	CHECK_EQ(udamon_record_write_snapshot(w, &s), -EINVAL);
	CHECK_EQ(udamon_record_write_event(w, UDAMON_RECORD_EV_RESUME, 30,
					   NULL),
		 -EINVAL);
	CHECK_EQ(udamon_record_write_event(w, UDAMON_RECORD_EV_PAUSE, 5, NULL),
		 -EINVAL);
	CHECK_EQ(udamon_record_write_event(w, UDAMON_RECORD_EV_STOP, 30,
					   "two words"),
		 -EINVAL);
	CHECK_EQ(udamon_record_write_event(w, UDAMON_RECORD_EV_PAUSE, 30, NULL),
		 0);
	CHECK_EQ(udamon_record_write_event(w, UDAMON_RECORD_EV_PAUSE, 31, NULL),
		 -EINVAL);
	CHECK_EQ(udamon_record_write_event(w, UDAMON_RECORD_EV_STOP, 40, "x"),
		 0);
	s.start_ns = 10;
	s.end_ns = 50;
	CHECK_EQ(udamon_record_write_snapshot(w, &s), -EINVAL);
	CHECK(udamon_record_writer_bytes(w) > 0);
	CHECK_EQ(udamon_record_writer_close(w), 0);
	unlink(path);
}

/* ---- reports on a hand-made record ---- */

/*
 * Target 0 has two spans, A = [0x10000, 0x14000) and B = [0x100000,
 * 0x104000), 16 KiB each, far apart.  sample 10 ms, aggr 100 ms: 10
 * samples a window.
 *
 *   window  time (s)   A: 0x10000-0x14000            B
 *   0       0.0-0.1    10 (100%)                     0
 *   1       0.1-0.2    [0x10000,0x12000) 5, rest 0   0
 *   pause   0.2-0.4
 *   2       0.2-0.5    0                             [0x100000,0x102000) 10,
 *                                                    [0x102000,0x104000) 0
 */
static struct udamon_record *hand_record(void)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "udamon-record 1\n");
	add_block(buf, sizeof(buf),
		  "header\nclock virtual\nops sim\nsource sim\nupdate_us 1\n"
		  "nr_regions 3 10\nintervals_goal 0 0 0 0\ntarget 0 0\n");
	add_block(buf, sizeof(buf),
		  "snapshot 0 0 100000000 10000 100000\ntarget 0 2\n"
		  "0x10000 0x14000 10 3\n0x100000 0x104000 0 3\n");
	add_block(buf, sizeof(buf),
		  "snapshot 1 100000000 200000000 10000 100000\ntarget 0 3\n"
		  "0x10000 0x12000 5 0\n0x12000 0x14000 0 0\n"
		  "0x100000 0x104000 0 4\n");
	add_block(buf, sizeof(buf), "event pause 200000000\n");
	add_block(buf, sizeof(buf), "event resume 400000000\n");
	add_block(buf, sizeof(buf),
		  "snapshot 2 200000000 500000000 10000 100000\ntarget 0 3\n"
		  "0x10000 0x14000 0 1\n0x100000 0x102000 10 0\n"
		  "0x102000 0x104000 0 5\n");
	{
		struct udamon_record *rec = NULL;

		if (udamon_record_parse(buf, strlen(buf), "hand.rec", &rec, err,
					sizeof(err))) {
			tap_diag("%s", err);
			return NULL;
		}
		return rec;
	}
}

static void test_heatmap_golden(void)
{
	struct udamon_record *rec = hand_record();
	struct udamon_heatmap_opts o = { .nr_time = 5, .nr_addr = 4 };
	struct udamon_heatmap *hm = NULL;
	/* time slots of 0.1 s; address slots of 8 KiB over A then B. */
	static const double want[5][4] = {
		{ 100, 100, 0, 0 }, { 50, 0, 0, 0 },
		{ -1, -1, -1, -1 }, /* paused */
		{ -1, -1, -1, -1 }, /* paused */
		{ 0, 0, 100, 0 },
	};
	static const int want_level[5][4] = {
		{ 9, 9, 0, 0 },	    { 5, 0, 0, 0 }, { -1, -1, -1, -1 },
		{ -1, -1, -1, -1 }, { 0, 0, 9, 0 },
	};
	unsigned int t, a;

	REQUIRE(rec);
	REQUIRE(udamon_heatmap_build(rec, &o, &hm) == 0);
	CHECK_EQ(hm->nr_spans, 2);
	CHECK_EQ(hm->spans[0].start, 0x10000);
	CHECK_EQ(hm->spans[0].end, 0x14000);
	CHECK_EQ(hm->spans[1].start, 0x100000);
	CHECK_EQ(hm->total_bytes, 0x8000);
	CHECK_EQ(hm->t_end, 500000000);
	CHECK(fabs(hm->max_freq - 100) < 1e-9);
	for (t = 0; t < 5; t++) {
		CHECK_EQ(hm->paused[t], t == 2 || t == 3);
		for (a = 0; a < 4; a++) {
			double f = hm->freq[t * 4 + a];

			if (fabs(f - want[t][a]) > 1e-9) {
				tap_diag("cell %u,%u: %f, want %f", t, a, f,
					 want[t][a]);
				CHECK(0);
			}
			CHECK_EQ(udamon_heatmap_level(hm, t, a, 10),
				 want_level[t][a]);
		}
	}
	CHECK_EQ(udamon_heatmap_slot_addr(hm, 0), 0x10000);
	CHECK_EQ(udamon_heatmap_slot_addr(hm, 1), 0x12000);
	CHECK_EQ(udamon_heatmap_slot_addr(hm, 2), 0x100000);
	CHECK_EQ(udamon_heatmap_slot_addr(hm, 3), 0x102000);
	udamon_heatmap_free(hm);

	/* Keeping gaps: one span from 0x10000 to 0x104000. */
	o.keep_gaps = true;
	o.nr_addr = 61; /* 16 KiB a slot */
	REQUIRE(udamon_heatmap_build(rec, &o, &hm) == 0);
	CHECK_EQ(hm->nr_spans, 1);
	CHECK_EQ(hm->total_bytes, 0x104000 - 0x10000);
	CHECK(fabs(hm->freq[0] - 100) < 1e-9);
	CHECK(hm->freq[30] < 0); /* the gap: no region */
	udamon_heatmap_free(hm);

	/* Only ranges seen accessed: A and the first half of B. */
	o.keep_gaps = false;
	o.only_accessed = true;
	o.nr_addr = 3;
	REQUIRE(udamon_heatmap_build(rec, &o, &hm) == 0);
	CHECK_EQ(hm->nr_spans, 2);
	CHECK_EQ(hm->spans[1].start, 0x100000);
	CHECK_EQ(hm->spans[1].end, 0x102000);
	CHECK_EQ(hm->total_bytes, 0x6000);
	CHECK(fabs(hm->freq[0 * 3 + 2]) < 1e-9); /* B's first half at 0 s */
	CHECK(fabs(hm->freq[4 * 3 + 2] - 100) < 1e-9);
	CHECK(fabs(hm->freq[4 * 3 + 0]) < 1e-9);
	udamon_heatmap_free(hm);
	o.only_accessed = false;

	/* A time and address window: [0.1, 0.2) s of B only. */
	o.keep_gaps = false;
	o.nr_time = 1;
	o.nr_addr = 2;
	o.t_start = 100000000;
	o.t_end = 200000000;
	o.addr_start = 0x100000;
	REQUIRE(udamon_heatmap_build(rec, &o, &hm) == 0);
	CHECK_EQ(hm->nr_spans, 1);
	CHECK_EQ(hm->spans[0].start, 0x100000);
	CHECK(fabs(hm->freq[0]) < 1e-9 && fabs(hm->freq[1]) < 1e-9);
	udamon_heatmap_free(hm);

	/* Bad options. */
	o.t_end = o.t_start;
	CHECK_EQ(udamon_heatmap_build(rec, &o, &hm), -EINVAL);
	o.t_end = 0;
	o.target = 1;
	CHECK_EQ(udamon_heatmap_build(rec, &o, &hm), -EINVAL);
	o.target = 0;
	o.addr_start = 0x200000;
	CHECK_EQ(udamon_heatmap_build(rec, &o, &hm), -EINVAL);
	udamon_record_free(rec);
}

static void test_wss_and_table_golden(void)
{
	struct udamon_record *rec = hand_record();
	struct udamon_record_region *rows;
	struct udamon_record_pause *p;
	unsigned long *wss;
	size_t nr;

	REQUIRE(rec);
	REQUIRE(udamon_record_wss(rec, 0, 1, &wss) == 0);
	CHECK_EQ(wss[0], 0x4000);
	CHECK_EQ(wss[1], 0x2000);
	CHECK_EQ(wss[2], 0x2000);
	free(wss);
	REQUIRE(udamon_record_wss(rec, 0, 6, &wss) == 0);
	CHECK_EQ(wss[0], 0x4000);
	CHECK_EQ(wss[1], 0);
	free(wss);
	CHECK_EQ(udamon_record_wss(rec, 1, 1, &wss), -EINVAL);

	{
		unsigned long v[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

		CHECK_EQ(udamon_wss_percentile(v, 10, 0), 1);
		CHECK_EQ(udamon_wss_percentile(v, 10, 25), 3);
		CHECK_EQ(udamon_wss_percentile(v, 10, 50), 5);
		CHECK_EQ(udamon_wss_percentile(v, 10, 75), 8);
		CHECK_EQ(udamon_wss_percentile(v, 10, 100), 10);
		CHECK_EQ(udamon_wss_percentile(v, 1, 50), 1);
		CHECK_EQ(udamon_wss_percentile(v, 0, 50), 0);
	}

	REQUIRE(udamon_record_table(rec, 2, 0, false, &rows, &nr) == 0);
	REQUIRE(nr == 3);
	CHECK_EQ(rows[0].start, 0x100000); /* 10 accesses */
	CHECK_EQ(rows[1].start, 0x102000); /* 0, age 5 */
	CHECK_EQ(rows[2].start, 0x10000); /* 0, age 1 */
	free(rows);
	REQUIRE(udamon_record_table(rec, 2, 0, true, &rows, &nr) == 0);
	CHECK_EQ(rows[0].start, 0x102000);
	CHECK_EQ(rows[1].start, 0x10000);
	CHECK_EQ(rows[2].start, 0x100000);
	free(rows);
	CHECK_EQ(udamon_record_table(rec, 3, 0, false, &rows, &nr), -EINVAL);

	CHECK_EQ(udamon_record_snapshot_at(rec, 0), 0);
	CHECK_EQ(udamon_record_snapshot_at(rec, 150000000), 1);
	CHECK_EQ(udamon_record_snapshot_at(rec, 300000000), 2);
	CHECK_EQ(udamon_record_snapshot_at(rec, 900000000), 2);
	CHECK(fabs(udamon_record_freq_pct(
			   &rec->snapshots[1],
			   &rec->snapshots[1].targets[0].regions[0]) -
		   50) < 1e-9);

	REQUIRE(udamon_record_pauses(rec, &p, &nr) == 0);
	REQUIRE(nr == 1);
	CHECK_EQ(p[0].start_ns, 200000000);
	CHECK_EQ(p[0].end_ns, 400000000);
	free(p);
	udamon_record_free(rec);
}

static void test_damo_json(void)
{
	struct udamon_record *rec = hand_record();
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	REQUIRE(rec);
	/* A second intervals run: damo needs a second record for it. */
	rec->snapshots[2].sample_us = 5000;
	f = open_memstream(&out, &len);
	REQUIRE(f);
	CHECK_EQ(udamon_record_export_damo_json(rec, f), 0);
	fclose(f);
	REQUIRE(out);
	CHECK(out[0] == '[');
	CHECK(strstr(out, "\"kdamond_idx\": 0"));
	CHECK(strstr(out, "\"sample_us\": 10000"));
	CHECK(strstr(out, "\"sample_us\": 5000"));
	CHECK(strstr(out, "\"ops_update_us\": 1"));
	CHECK(strstr(out, "\"start_time\": 100000000"));
	/* The region at 0x10000 of the second snapshot, field by field. */
	CHECK(strstr(out, "\"start\": 65536,\n"
			  "            \"end\": 73728,\n"
			  "            \"nr_accesses\": {\n"
			  "              \"samples\": 5,\n"
			  "              \"percent\": 50\n"));
	CHECK(strstr(out, "\"total_bytes\": 32768"));
	/* Two records (one per intervals run), so two "snapshots" lists. */
	CHECK(strstr(strstr(out, "\"snapshots\"") + 1, "\"snapshots\""));
	free(out);
	udamon_record_free(rec);
}

/* ---- a deterministic sim recording ---- */

struct sim_rec {
	struct damon_ctx *ctx;
	struct udamon_recorder *rec;
	int phase;
};

static int pause_tick(void *data)
{
	struct sim_rec *sr = data;
	uint64_t now = damon_now_ns(sr->ctx);
	struct damon_ctx *p;

	if ((sr->phase == 0 && now >= 12000000000ULL) ||
	    (sr->phase == 1 && now >= 16000000000ULL)) {
		/* An online commit of the same parameters, pause flipped. */
		p = damon_new_ctx();
		if (!p || damon_select_ops(p, DAMON_OPS_SIM))
			return -ENOMEM;
		damon_set_attrs(p, &sr->ctx->attrs);
		damon_add_target(p, damon_new_target());
		p->pause = sr->phase == 0;
		if (!damon_commit_ctx(sr->ctx, p))
			udamon_recorder_event(sr->rec,
					      p->pause ?
						      UDAMON_RECORD_EV_PAUSE :
						      UDAMON_RECORD_EV_RESUME,
					      NULL);
		damon_destroy_ctx(p);
		sr->phase++;
	}
	return 0;
}

/* Record 30 s of stairs_30secs, paused from 12 s to 16 s, into @path. */
static int sim_record(const char *path)
{
	struct udamon_record_header h;
	struct udamon_record_writer *w = NULL;
	struct damon_call_control tick = { .fn = pause_tick, .repeat = true };
	struct sim_rec sr = { 0 };
	char cfg[512];
	const char *slash = strrchr(__FILE__, '/');
	int pids[1], ret = -EINVAL;

	snprintf(cfg, sizeof(cfg), "configs/stairs_30secs.cfg");
	if (access(cfg, R_OK))
		snprintf(cfg, sizeof(cfg),
			 "%.*s../../configs/stairs_30secs.cfg",
			 slash ? (int)(slash - __FILE__ + 1) : 0, __FILE__);
	sr.ctx = damon_new_ctx();
	if (!sr.ctx)
		return -ENOMEM;
	damon_use_virtual_clock(sr.ctx);
	sr.ctx->rnd_seed = 42;
	if (damon_sim_set_workload(sr.ctx, cfg, err, sizeof(err))) {
		tap_diag("%s", err);
		goto out;
	}
	damon_add_target(sr.ctx, damon_new_target());
	make_header(&h, pids, 1);
	h.source = "sim";
	pids[0] = 0;
	if (udamon_record_writer_open(path, &h, &w) ||
	    udamon_recorder_new(sr.ctx, w, 0, &sr.rec) ||
	    damon_manual_start(sr.ctx))
		goto out;
	tick.data = &sr;
	if (damon_call(sr.ctx, &tick))
		goto out;
	while (damon_now_ns(sr.ctx) < 30000000000ULL)
		if (damon_manual_step(sr.ctx))
			break;
	udamon_recorder_event(sr.rec, UDAMON_RECORD_EV_STOP, "duration");
	damon_manual_stop(sr.ctx);
	ret = udamon_recorder_error(sr.rec);
	if (sr.phase != 2)
		ret = -EINVAL;
out:
	udamon_recorder_destroy(sr.rec);
	if (w && udamon_record_writer_close(w) && !ret)
		ret = -EIO;
	damon_destroy_ctx(sr.ctx);
	return ret;
}

static int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static void test_sim_stairs_record(void)
{
	char p1[] = "/tmp/udamon-test-sim1.XXXXXX",
	     p2[] = "/tmp/udamon-test-sim2.XXXXXX";
	struct udamon_heatmap_opts o = { .nr_time = 60, .nr_addr = 100 };
	struct udamon_heatmap *hm = NULL;
	struct udamon_record *rec = NULL;
	unsigned long *wss, median;
	char *b1, *b2;
	size_t l1, l2, i;
	unsigned int t;
	int fd;

	fd = mkstemp(p1);
	REQUIRE(fd >= 0);
	close(fd);
	fd = mkstemp(p2);
	REQUIRE(fd >= 0);
	close(fd);
	REQUIRE(sim_record(p1) == 0);
	REQUIRE(sim_record(p2) == 0);

	/* Virtual clock and a fixed seed: byte-identical records. */
	b1 = read_all(p1, &l1);
	b2 = read_all(p2, &l2);
	REQUIRE(b1 && b2);
	CHECK_EQ(l1, l2);
	CHECK(l1 == l2 && !memcmp(b1, b2, l1));
	free(b1);
	free(b2);

	REQUIRE(udamon_record_read(p1, &rec, err, sizeof(err)) == 0);
	unlink(p1);
	unlink(p2);
	CHECK(!rec->truncated);
	/* 26 s monitored (4 s paused): one snapshot per 100 ms. */
	CHECK(rec->nr_snapshots >= 255 && rec->nr_snapshots <= 261);
	REQUIRE(rec->nr_events == 3);
	CHECK_EQ(rec->events[0].time_ns, 12000000000ULL);
	CHECK_EQ(rec->events[1].time_ns, 16000000000ULL);
	/* No snapshot ends inside the pause. */
	for (i = 0; i < rec->nr_snapshots; i++)
		CHECK(rec->snapshots[i].end_ns <= 12000000000ULL ||
		      rec->snapshots[i].end_ns >= 16000000000ULL);

	/* damon-tests' anchor: median WSS of stairs_30secs in [9, 11] MB. */
	REQUIRE(udamon_record_wss(rec, 0, 1, &wss) == 0);
	qsort(wss, rec->nr_snapshots, sizeof(*wss), cmp_ul);
	median = udamon_wss_percentile(wss, rec->nr_snapshots, 50);
	tap_diag("stairs_30secs wss p0 %lu p50 %lu p100 %lu", wss[0], median,
		 wss[rec->nr_snapshots - 1]);
	CHECK(median >= 9000000 && median <= 11000000);
	/* The initial phase touches all ten 10 MiB regions. */
	CHECK(wss[rec->nr_snapshots - 1] >= 100 * MiB);
	free(wss);

	/*
	 * The heatmap is a staircase: in each stair (a 2.5 s phase after
	 * the 5 s initial one), the hot columns are those of that stair's
	 * region, i.e. the tenth of the address axis with its index.
	 * Slots are 0.5 s; skip the first slot of each stair (DAMON needs
	 * an aggregation or two to adapt) and the paused slots.
	 */
	REQUIRE(udamon_heatmap_build(rec, &o, &hm) == 0);
	for (t = 0; t < 60; t++) {
		double ts = t * 0.5, hot_sum = 0, cold_max = 0;
		int stair = (int)((ts - 5) / 2.5);
		unsigned int a;

		CHECK_EQ(hm->paused[t], ts >= 12 && ts < 16);
		if (ts < 5 || hm->paused[t] || ts - 5 - stair * 2.5 < 0.5)
			continue;
		for (a = 0; a < 100; a++) {
			double f = hm->freq[t * 100 + a];

			if ((int)a / 10 == stair)
				hot_sum += f;
			else if (f > cold_max && (a % 10) != 0 && (a % 10) != 9)
				cold_max = f;
		}
		/* Hot stair columns average high; others stay near 0. */
		if (hot_sum / 10 < 50 || cold_max > 10) {
			tap_diag(
				"slot %u (%.1f s, stair %d): hot avg %.1f, cold max %.1f",
				t, ts, stair, hot_sum / 10, cold_max);
			CHECK(0);
		}
	}
	udamon_heatmap_free(hm);
	udamon_record_free(rec);
}

static const struct tap_case cases[] = {
	TAP_CASE(test_roundtrip),      TAP_CASE(test_truncate_every_offset),
	TAP_CASE(test_reader_rejects), TAP_CASE(test_writer_rejects),
	TAP_CASE(test_heatmap_golden), TAP_CASE(test_wss_and_table_golden),
	TAP_CASE(test_damo_json),      TAP_CASE(test_sim_stairs_record),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
