// SPDX-License-Identifier: LGPL-2.1-or-later
/* Tests of the masim config parser: good configs and every error path. */
#include "../lib/tap.h"

#include <udamon/damon.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char errbuf[512];

static int parse(const char *text, struct damon_masim_config **cfg)
{
	return damon_masim_parse_buf(text, strlen(text), "t.cfg",
				     DAMON_MASIM_RW_WO, cfg, errbuf,
				     sizeof(errbuf));
}

/* Parse @text, expect -EINVAL and exactly @msg. */
static void expect_error(const char *text, const char *msg)
{
	struct damon_masim_config *cfg = (void *)1;
	int err = parse(text, &cfg);

	CHECK_EQ(err, -EINVAL);
	CHECK(cfg == NULL);
	CHECK_STREQ(errbuf, msg);
}

#define REGIONS "a, 4096\nb,8192, none\nc,  12288, /dev/zero\n"

static void test_parse_good(void)
{
	struct damon_masim_config *cfg = NULL;
	const char *text =
		"# a comment\n" REGIONS "\n"
		"phase one\n"
		"1000\n"
		"a, 0, 4096, 1\n"
		"b, 1, 64, 3, ro\n"
		"\n"
		"# comments are deleted before paragraphs are split\n"
		"phase, two\n"
		"  250\n"
		"c,0,100,2,rw\n"
		"a,+1, 0, 0 , wo \n";

	REQUIRE(parse(text, &cfg) == 0);
	CHECK_STREQ(errbuf, "");
	CHECK_STREQ(cfg->name, "t.cfg");
	REQUIRE(cfg->nr_regions == 3);
	CHECK_STREQ(cfg->regions[0].name, "a");
	CHECK_EQ(cfg->regions[0].size, 4096);
	CHECK(cfg->regions[0].init_file == NULL);
	CHECK_EQ(cfg->regions[0].line, 2);
	CHECK_STREQ(cfg->regions[1].name, "b");
	CHECK_EQ(cfg->regions[1].size, 8192);
	CHECK(cfg->regions[1].init_file == NULL);
	CHECK_EQ(cfg->regions[2].size, 12288);
	CHECK_STREQ(cfg->regions[2].init_file, "/dev/zero");

	REQUIRE(cfg->nr_phases == 2);
	CHECK_STREQ(cfg->phases[0].name, "phase one");
	CHECK_EQ(cfg->phases[0].duration_ms, 1000);
	CHECK_EQ(cfg->phases[0].line, 6);
	REQUIRE(cfg->phases[0].nr_patterns == 2);
	CHECK_EQ(cfg->phases[0].total_weight, 4);
	CHECK_EQ(cfg->phases[0].patterns[0].region, 0);
	CHECK(!cfg->phases[0].patterns[0].random);
	CHECK_EQ(cfg->phases[0].patterns[0].stride, 4096);
	CHECK_EQ(cfg->phases[0].patterns[0].weight, 1);
	CHECK_EQ(cfg->phases[0].patterns[0].mode, DAMON_MASIM_RW_WO);
	CHECK_EQ(cfg->phases[0].patterns[1].region, 1);
	CHECK(cfg->phases[0].patterns[1].random);
	CHECK_EQ(cfg->phases[0].patterns[1].stride, 64);
	CHECK_EQ(cfg->phases[0].patterns[1].weight, 3);
	CHECK_EQ(cfg->phases[0].patterns[1].mode, DAMON_MASIM_RW_RO);
	CHECK_EQ(cfg->phases[0].patterns[1].line, 9);

	/* The name line is verbatim, commas and all. */
	CHECK_STREQ(cfg->phases[1].name, "phase, two");
	CHECK_EQ(cfg->phases[1].duration_ms, 250);
	REQUIRE(cfg->phases[1].nr_patterns == 2);
	CHECK_EQ(cfg->phases[1].patterns[0].region, 2);
	CHECK_EQ(cfg->phases[1].patterns[0].mode, DAMON_MASIM_RW_RW);
	CHECK(cfg->phases[1].patterns[1].random);
	CHECK_EQ(cfg->phases[1].patterns[1].stride, 0);
	CHECK_EQ(cfg->phases[1].patterns[1].weight, 0);
	CHECK_EQ(cfg->phases[1].patterns[1].mode, DAMON_MASIM_RW_WO);
	CHECK_EQ(cfg->phases[1].total_weight, 2);
	CHECK_EQ(damon_masim_total_ms(cfg), 1250);
	CHECK_EQ(damon_masim_region_idx(cfg, "c"), 2);
	CHECK_EQ(damon_masim_region_idx(cfg, " c"), -1);
	damon_masim_free(cfg);
}

static void test_default_mode(void)
{
	struct damon_masim_config *cfg = NULL;
	const char *text = "a,4096\n\np\n10\na,0,1,1\na,0,1,1,wo\n";

	REQUIRE(damon_masim_parse_buf(text, strlen(text), "m.cfg",
				      DAMON_MASIM_RW_RO, &cfg, errbuf,
				      sizeof(errbuf)) == 0);
	CHECK_EQ(cfg->phases[0].patterns[0].mode, DAMON_MASIM_RW_RO);
	CHECK_EQ(cfg->phases[0].patterns[1].mode, DAMON_MASIM_RW_WO);
	damon_masim_free(cfg);
	CHECK_EQ(damon_masim_parse_buf(text, strlen(text), "m.cfg",
				       NR_DAMON_MASIM_RW_MODES, &cfg, errbuf,
				       sizeof(errbuf)),
		 -EINVAL);
}

static void test_rw_mode_names(void)
{
	enum damon_masim_rw_mode m;

	CHECK_STREQ(damon_masim_rw_mode_name(DAMON_MASIM_RW_RO), "ro");
	CHECK_STREQ(damon_masim_rw_mode_name(DAMON_MASIM_RW_WO), "wo");
	CHECK_STREQ(damon_masim_rw_mode_name(DAMON_MASIM_RW_RW), "rw");
	CHECK(damon_masim_rw_mode_name(NR_DAMON_MASIM_RW_MODES) == NULL);
	CHECK_EQ(damon_masim_rw_mode_from_name("rw", &m), 0);
	CHECK_EQ(m, DAMON_MASIM_RW_RW);
	CHECK_EQ(damon_masim_rw_mode_from_name("r", &m), -EINVAL);
	CHECK_EQ(damon_masim_rw_mode_from_name("rwx", &m), -EINVAL);
}

/* A last line without '\n' is lost, as masim loses it. */
static void test_missing_final_newline(void)
{
	struct damon_masim_config *cfg = NULL;

	REQUIRE(parse("a,4096\nb,4096\n\np\n10\na,0,1,1\nb,0,1,1", &cfg) == 0);
	REQUIRE(cfg->nr_phases == 1);
	CHECK_EQ(cfg->phases[0].nr_patterns, 1);
	CHECK_EQ(cfg->phases[0].patterns[0].region, 0);
	damon_masim_free(cfg);

	/* ... so losing the only pattern leaves a phase too short. */
	expect_error("a,4096\n\np\n10\na,0,1,1",
		     "t.cfg:3: phase 'p' needs a name, a duration and at "
		     "least one pattern");
	/* A final comment without '\n' is lost as well: no harm. */
	REQUIRE(parse("a,4096\n\np\n10\na,0,1,1\n# end", &cfg) == 0);
	damon_masim_free(cfg);
}

static void test_comments(void)
{
	struct damon_masim_config *cfg = NULL;

	/* A comment is neither a separator nor a terminator. */
	REQUIRE(parse("#x\na,4096\n#y\nb,4096\n#z\n\n#w\np\n#v\n10\na,0,1,1\n"
		      "#u\n\nq\n20\n#t\nb,1,0,1\n",
		      &cfg) == 0);
	CHECK_EQ(cfg->nr_regions, 2);
	REQUIRE(cfg->nr_phases == 2);
	CHECK_EQ(cfg->phases[0].duration_ms, 10);
	CHECK_EQ(cfg->phases[1].duration_ms, 20);
	CHECK_EQ(cfg->phases[1].line, 14);
	damon_masim_free(cfg);

	/* Only a '#' in the first column starts a comment. */
	expect_error("a,4096\n\np\n10\n #c\n",
		     "t.cfg:5: expected 'region, random, stride, weight"
		     "[, ro|wo|rw]' but found 1 field");
	/* Blank lines around a comment still count: two blank lines. */
	expect_error("a,4096\n\np\n10\na,0,1,1\n\n#c\n\nq\n10\na,0,1,1\n",
		     "t.cfg:8: extra blank line makes an empty phase "
		     "(paragraphs are separated by exactly one blank line)");
}

static void test_blank_lines(void)
{
	expect_error("a,4096\n\np\n10\na,0,1,1\n\n",
		     "t.cfg:6: blank line at the end of the file makes an "
		     "empty phase");
	expect_error("a,4096\n\np\n10\na,0,1,1\n\n\nq\n10\na,0,1,1\n",
		     "t.cfg:7: extra blank line makes an empty phase "
		     "(paragraphs are separated by exactly one blank line)");
	expect_error("a,4096\n\n\np\n10\na,0,1,1\n",
		     "t.cfg:3: extra blank line makes an empty phase "
		     "(paragraphs are separated by exactly one blank line)");
	expect_error("\na,4096\n\np\n10\na,0,1,1\n",
		     "t.cfg:1: blank line where the regions paragraph should "
		     "start");
	expect_error("a,4096\nb,4096\n",
		     "t.cfg:2: no blank line after the regions paragraph (a "
		     "config needs at least one phase)");
	expect_error("a,4096\n\n", "t.cfg:2: no phase after the regions "
				   "paragraph");
	expect_error("", "t.cfg: no regions (the file has no complete line)");
	expect_error("a,4096", "t.cfg: no regions (the file has no complete "
			       "line)");
	expect_error("#only a comment\n",
		     "t.cfg: no regions (the file has no complete line)");
}

static void test_region_errors(void)
{
	expect_error("a\n\np\n10\na,0,1,1\n",
		     "t.cfg:1: expected 'name, size_bytes[, init_file]' but "
		     "found 1 field");
	expect_error("a,1,none,x\n\np\n10\na,0,1,1\n",
		     "t.cfg:1: expected 'name, size_bytes[, init_file]' but "
		     "found 4 fields");
	expect_error(",4096\n\np\n10\na,0,1,1\n", "t.cfg:1: empty region name");
	expect_error("a,4096\na,8192\n\np\n10\na,0,1,1\n",
		     "t.cfg:2: region 'a' already defined at line 1");
	expect_error("a,10MB\n\np\n10\na,0,1,1\n",
		     "t.cfg:1: bad number '10MB' for the size of region 'a'");
	expect_error("a,\n\np\n10\na,0,1,1\n",
		     "t.cfg:1: bad number '' for the size of region 'a'");
	expect_error("a, x1\n\np\n10\na,0,1,1\n",
		     "t.cfg:1: bad number ' x1' for the size of region 'a'");
	expect_error("a,99999999999999999999\n\np\n10\na,0,1,1\n",
		     "t.cfg:1: bad number '99999999999999999999' for the "
		     "size of region 'a'");
	expect_error("a,0\n\np\n10\na,0,1,1\n",
		     "t.cfg:1: size of region 'a' must be > 0, not 0");
	expect_error("a,-4096\n\np\n10\na,0,1,1\n",
		     "t.cfg:1: size of region 'a' must be > 0, not -4096");
	expect_error("a,4096,  \n\np\n10\na,0,1,1\n",
		     "t.cfg:1: empty init_file of region 'a' (use 'none' or a "
		     "path)");
}

static void test_phase_errors(void)
{
	expect_error("a,4096\n\np\n10\n",
		     "t.cfg:3: phase 'p' needs a name, a duration and at "
		     "least one pattern");
	expect_error("a,4096\n\np\nten\na,0,1,1\n",
		     "t.cfg:4: bad number 'ten' for the duration (ms) of "
		     "phase 'p'");
	expect_error("a,4096\n\np\n10 ms\na,0,1,1\n",
		     "t.cfg:4: bad number '10 ms' for the duration (ms) of "
		     "phase 'p'");
	expect_error("a,4096\n\np\n2147483648\na,0,1,1\n",
		     "t.cfg:4: bad number '2147483648' for the duration (ms) "
		     "of phase 'p'");
	expect_error("a,4096\n\np\n0\na,0,1,1\n",
		     "t.cfg:4: duration of phase 'p' must be > 0 ms, not 0");
	expect_error("a,4096\n\np\n-5\na,0,1,1\n",
		     "t.cfg:4: duration of phase 'p' must be > 0 ms, not -5");
	expect_error("a,4096\n\np\n10\na,0,1,0\na,1,1,0\n",
		     "t.cfg:3: phase 'p' has no pattern with a weight above 0");
}

static void test_pattern_errors(void)
{
	/* The error of the example, with its file and line. */
	expect_error("s9,4096\n\np\n10\ns9,0,4096,1\ns10,0,4096,1\n",
		     "t.cfg:6: unknown region 's10' in pattern");
	/* Names are not trimmed: " a" is not "a". */
	expect_error("a,4096\n\np\n10\n a,0,1,1\n",
		     "t.cfg:5: unknown region ' a' in pattern");
	expect_error("a,4096\n\np\n10\na,0,1\n",
		     "t.cfg:5: expected 'region, random, stride, weight"
		     "[, ro|wo|rw]' but found 3 fields");
	expect_error("a,4096\n\np\n10\na,0,1,1,rw,x\n",
		     "t.cfg:5: expected 'region, random, stride, weight"
		     "[, ro|wo|rw]' but found 6 fields");
	expect_error("a,4096\n\np\n10\na,2,1,1\n",
		     "t.cfg:5: random must be 0 or 1, not 2");
	expect_error("a,4096\n\np\n10\na,yes,1,1\n",
		     "t.cfg:5: bad number 'yes' for random (0 or 1)");
	expect_error("a,4096\n\np\n10\na,0,4k,1\n",
		     "t.cfg:5: bad number '4k' for stride");
	expect_error("a,4096\n\np\n10\na,0,-1,1\n",
		     "t.cfg:5: stride must be >= 0, not -1");
	expect_error("a,4096\n\np\n10\na,0,1,\n",
		     "t.cfg:5: bad number '' for weight");
	expect_error("a,4096\n\np\n10\na,0,1,-2\n",
		     "t.cfg:5: weight must be >= 0, not -2");
	expect_error("a,4096\n\np\n10\na,0,1,3000000000\n",
		     "t.cfg:5: bad number '3000000000' for weight");
	expect_error("a,4096\n\np\n10\na,0,1,1,rx\n",
		     "t.cfg:5: bad access mode 'rx' (ro, wo or rw)");
	expect_error("a,4096\n\np\n10\na,0,1,1,r w\n",
		     "t.cfg:5: bad access mode 'r w' (ro, wo or rw)");
	expect_error("a,4096\n\np\n10\na,0,1,1,\n",
		     "t.cfg:5: bad access mode '' (ro, wo or rw)");
	/* A later phase's error names the later line. */
	expect_error("a,4096\n\np\n10\na,0,1,1\n\nq\n10\nb,0,1,1\n",
		     "t.cfg:9: unknown region 'b' in pattern");
}

static void test_numbers_like_atoi(void)
{
	struct damon_masim_config *cfg = NULL;

	/* Leading blanks, a '+' and trailing blanks/CR are all fine. */
	REQUIRE(parse("a,\t+4096 \r\n\np\n 7\r\na, 1 , 0\t, 5 ,ro\r\n", &cfg) ==
		0);
	CHECK_EQ(cfg->regions[0].size, 4096);
	CHECK_EQ(cfg->phases[0].duration_ms, 7);
	CHECK(cfg->phases[0].patterns[0].random);
	CHECK_EQ(cfg->phases[0].patterns[0].weight, 5);
	CHECK_EQ(cfg->phases[0].patterns[0].mode, DAMON_MASIM_RW_RO);
	damon_masim_free(cfg);

	/* Big sizes are parsed as atoll() would. */
	REQUIRE(parse("big,1099511627776\n\np\n10\nbig,1,64,1\n", &cfg) == 0);
	CHECK_EQ(cfg->regions[0].size, 1099511627776ULL);
	damon_masim_free(cfg);
}

static void test_nul_byte(void)
{
	static const char text[] = "a,4096\n\np\n10\na,0,1,1\0x\n";
	struct damon_masim_config *cfg = NULL;

	CHECK_EQ(damon_masim_parse_buf(text, sizeof(text) - 1, "n.cfg",
				       DAMON_MASIM_RW_WO, &cfg, errbuf,
				       sizeof(errbuf)),
		 -EINVAL);
	CHECK_STREQ(errbuf, "n.cfg:5: line contains a NUL byte");
}

static void test_small_errbuf(void)
{
	struct damon_masim_config *cfg = NULL;
	char small[8];
	const char *text = "a,0\n\np\n10\na,0,1,1\n";

	CHECK_EQ(damon_masim_parse_buf(text, strlen(text), "t.cfg",
				       DAMON_MASIM_RW_WO, &cfg, small,
				       sizeof(small)),
		 -EINVAL);
	CHECK_STREQ(small, "t.cfg:1");
	CHECK_EQ(damon_masim_parse_buf(text, strlen(text), "t.cfg",
				       DAMON_MASIM_RW_WO, &cfg, NULL, 0),
		 -EINVAL);
	CHECK(cfg == NULL);
}

static void test_parse_file_errors(void)
{
	struct damon_masim_config *cfg = NULL;
	char path[] = "/tmp/udamon-test-masim-XXXXXX";
	const char *text = "a,4096\n\np\n10\nz,0,1,1\n";
	char want[128];
	int fd;

	CHECK_EQ(damon_masim_parse_file("/nonexistent/x.cfg", DAMON_MASIM_RW_WO,
					&cfg, errbuf, sizeof(errbuf)),
		 -ENOENT);
	CHECK_STREQ(errbuf, "/nonexistent/x.cfg: No such file or directory");

	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	CHECK_EQ(damon_masim_parse_file(path, DAMON_MASIM_RW_WO, &cfg, errbuf,
					sizeof(errbuf)),
		 -EINVAL);
	snprintf(want, sizeof(want), "%s:5: unknown region 'z' in pattern",
		 path);
	CHECK_STREQ(errbuf, want);

	/* Larger than DAMON_MASIM_MAX_FILE_SIZE: refused, not read on and on. */
	REQUIRE(truncate(path, DAMON_MASIM_MAX_FILE_SIZE + 1) == 0);
	CHECK_EQ(damon_masim_parse_file(path, DAMON_MASIM_RW_WO, &cfg, errbuf,
					sizeof(errbuf)),
		 -EFBIG);
	snprintf(want, sizeof(want), "%s: larger than %lu bytes", path,
		 DAMON_MASIM_MAX_FILE_SIZE);
	CHECK_STREQ(errbuf, want);
	CHECK(cfg == NULL);
	unlink(path);
}

/* Find configs/ from the repository root or from next to this file. */
static int open_config(const char *name, struct damon_masim_config **cfg)
{
	char path[512];
	int err;

	snprintf(path, sizeof(path), "configs/%s", name);
	err = damon_masim_parse_file(path, DAMON_MASIM_RW_WO, cfg, errbuf,
				     sizeof(errbuf));
	if (err != -ENOENT)
		return err;
	snprintf(path, sizeof(path), "%.*s../../configs/%s",
		 (int)(strrchr(__FILE__, '/') ?
			       strrchr(__FILE__, '/') - __FILE__ + 1 :
			       0),
		 __FILE__, name);
	return damon_masim_parse_file(path, DAMON_MASIM_RW_WO, cfg, errbuf,
				      sizeof(errbuf));
}

static void test_shipped_configs(void)
{
	static const struct {
		const char *name;
		unsigned int nr_regions, nr_phases;
		unsigned long long total_ms;
		unsigned long long region_sz;
	} want[] = {
		{ "stairs.cfg", 10, 11, 60000, 10 << 20 },
		{ "stairs_30secs.cfg", 10, 11, 30000, 10 << 20 },
		{ "zigzag.cfg", 2, 13, 70000, 100 << 20 },
		{ "zigzag_30secs.cfg", 2, 13, 35000, 100 << 20 },
		{ "demo.cfg", 2, 7, 40000, 100 << 20 },
	};
	size_t i;

	for (i = 0; i < TAP_NR(want); i++) {
		struct damon_masim_config *cfg = NULL;
		int err = open_config(want[i].name, &cfg);

		if (err == -ENOENT) {
			tap_skip("configs/ not found from the working "
				 "directory");
			return;
		}
		CHECK_EQ(err, 0);
		if (err) {
			tap_diag("%s", errbuf);
			continue;
		}
		CHECK_EQ(cfg->nr_regions, want[i].nr_regions);
		CHECK_EQ(cfg->nr_phases, want[i].nr_phases);
		CHECK_EQ(damon_masim_total_ms(cfg), want[i].total_ms);
		CHECK_EQ(cfg->regions[0].size, want[i].region_sz);
		/* The first phase touches every region. */
		CHECK_EQ(cfg->phases[0].nr_patterns, want[i].nr_regions);
		CHECK_EQ(cfg->phases[1].nr_patterns, 1);
		damon_masim_free(cfg);
	}
}

static const struct tap_case cases[] = {
	TAP_CASE(test_parse_good),	  TAP_CASE(test_default_mode),
	TAP_CASE(test_rw_mode_names),	  TAP_CASE(test_missing_final_newline),
	TAP_CASE(test_comments),	  TAP_CASE(test_blank_lines),
	TAP_CASE(test_region_errors),	  TAP_CASE(test_phase_errors),
	TAP_CASE(test_pattern_errors),	  TAP_CASE(test_numbers_like_atoi),
	TAP_CASE(test_nul_byte),	  TAP_CASE(test_small_errbuf),
	TAP_CASE(test_parse_file_errors), TAP_CASE(test_shipped_configs),
};

int main(void)
{
	return tap_main(cases, TAP_NR(cases));
}
