// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The plots of src/cli/plot.c: what they say (every string drawn: title,
 * axis titles, ticks with units, the colour scale, band labels), the
 * files they write (PNG decoded back with cairo: size, colours, the bands;
 * SVG: its size, the embedded cells, glyphs, the text in <desc>) and
 * write errors; the sweep's scatter (labels, shared labels, units).  No pixel
 * is compared exactly: fonts and cairo versions differ.
 */
#include "../lib/tap.h"

#include "cli/plot.c"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef UDAMON_HAVE_CAIRO

/* 32 MiB in three regions over four 100 ms windows (tests/damo/README). */
static const char record_json[] =
	"[{\"target_id\": 0, \"intervals\": {\"sample_us\": 5000, "
	"\"aggr_us\": 100000}, \"snapshots\": ["
	"{\"start_time\": 0, \"end_time\": 100000000, \"regions\": ["
	"{\"start\": 139637976727552, \"end\": 139637980921856, "
	"\"nr_accesses\": 20},"
	"{\"start\": 139637980921856, \"end\": 139637993504768, "
	"\"nr_accesses\": 0},"
	"{\"start\": 139637993504768, \"end\": 139638010281984, "
	"\"nr_accesses\": 10}]},"
	"{\"start_time\": 100000000, \"end_time\": 400000000, \"regions\": ["
	"{\"start\": 139637976727552, \"end\": 139638010281984, "
	"\"nr_accesses\": 2}]}]}]";

static char texts[8192];

static void collect(const char *text, void *arg)
{
	size_t n = strlen(texts);

	(void)arg;
	snprintf(texts + n, sizeof(texts) - n, "%s\n", text);
}

/* @s was drawn as one string. */
static bool drawn(const char *s)
{
	char line[256];

	snprintf(line, sizeof(line), "\n%s\n", s);
	return strstr(texts, line) ||
	       (!strncmp(texts, line + 1, strlen(line + 1)));
}

static struct udamon_record *record(void)
{
	struct udamon_record *rec = NULL;
	char err[256];

	if (udamon_record_parse_damo(record_json, strlen(record_json), "r",
				     &rec, err, sizeof(err)))
		tap_diag("%s", err);
	return rec;
}

static const struct cli_plot_band bands[] = {
	{ CLI_BAND_PAUSED, 100000000, 200000000 },
	{ CLI_BAND_AUTO_PAUSED, 250000000, 300000000 },
};

static struct udamon_heatmap *heatmap(const struct udamon_record *rec,
				      bool linear)
{
	struct udamon_heatmap_opts o = { .keep_gaps = linear };
	struct udamon_heatmap *hm = NULL;

	cli_plot_heatmap_cells(600, 300, &o.nr_time, &o.nr_addr);
	if (udamon_heatmap_build(rec, &o, &hm))
		return NULL;
	return hm;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;

	*len = 0;
	if (!f)
		return NULL;
	buf = calloc(1, 1 << 22);
	if (buf)
		*len = fread(buf, 1, (1 << 22) - 1, f);
	fclose(f);
	return buf;
}

static void test_heatmap_labels(void)
{
	struct udamon_record *rec = record();
	struct udamon_heatmap *hm;
	char path[] = "/tmp/udamon-test-plot-XXXXXX.svg";
	struct cli_plot p = { CLI_PLOT_SVG,	     path,  600,   300,
			      "Access heatmap of r", "sub", bands, 2 };
	int fd;

	REQUIRE(rec);
	hm = heatmap(rec, false);
	REQUIRE(hm);
	CHECK_EQ(hm->nr_time, 600 - M_LEFT - M_RIGHT);
	CHECK_EQ(hm->nr_addr, 300 - M_TOP - M_BOTTOM);
	fd = mkstemps(path, 4);
	REQUIRE(fd >= 0);
	close(fd);
	texts[0] = '\0';
	cli_plot_set_text_hook(collect, NULL);
	CHECK_EQ(cli_plot_heatmap(&p, hm, false), 0);
	cli_plot_set_text_hook(NULL, NULL);
	CHECK(drawn("Access heatmap of r"));
	CHECK(drawn("sub"));
	CHECK(drawn("time (s)"));
	/* 0.4 s across 320 pixels: a tick every 0.1 s. */
	CHECK(drawn("0.0 s"));
	CHECK(drawn("0.1 s"));
	CHECK(drawn("0.4 s"));
	/* 32 MiB across 196 pixels: offsets every 10 MiB. */
	CHECK(drawn("0 MiB"));
	CHECK(drawn("+10 MiB"));
	CHECK(drawn("+30 MiB"));
	CHECK(!strstr(texts, "+40 MiB"));
	CHECK(drawn("offset in 1 monitored span"));
	CHECK(drawn("access frequency"));
	CHECK(drawn("(% of samples)"));
	CHECK(drawn("0.0 %"));
	CHECK(drawn("100.0 %"));
	CHECK(drawn("not monitored"));
	/* Each band labelled over the plot, and in the key. */
	CHECK(strstr(texts, "\npaused\n") &&
	      strstr(strstr(texts, "\npaused\n") + 1, "\npaused\n"));
	CHECK(strstr(texts, "\nauto-paused\n") &&
	      strstr(strstr(texts, "\nauto-paused\n") + 1, "\nauto-paused\n"));
	CHECK(!strstr(texts, "-0"));
	if (tap_failures)
		tap_diag("drawn:\n%s", texts);
	{
		size_t len;
		char *svg = slurp(path, &len);

		REQUIRE(svg);
		CHECK(strstr(svg, "<svg"));
		CHECK(strstr(svg, "width=\"600pt\""));
		CHECK(strstr(svg, "height=\"300pt\""));
		CHECK(strstr(svg, "<image"));
		CHECK(strstr(svg, "glyph"));
		free(svg);
	}
	unlink(path);
	udamon_heatmap_free(hm);
	udamon_record_free(rec);
}

static void test_heatmap_linear_addresses(void)
{
	struct udamon_record *rec = record();
	struct udamon_heatmap *hm;
	struct cli_plot p = { CLI_PLOT_PNG, "/tmp/udamon-test-plot-lin.png",
			      600,	    300,
			      "t",	    NULL,
			      NULL,	    0 };

	REQUIRE(rec);
	hm = heatmap(rec, true);
	REQUIRE(hm);
	texts[0] = '\0';
	cli_plot_set_text_hook(collect, NULL);
	CHECK_EQ(cli_plot_heatmap(&p, hm, true), 0);
	cli_plot_set_text_hook(NULL, NULL);
	CHECK(drawn("address"));
	/* 32 MiB across 196 pixels: addresses at multiples of 8 MiB. */
	CHECK(drawn("0x7f0000000000"));
	CHECK(drawn("0x7f0000800000"));
	CHECK(drawn("0x7f0002000000"));
	CHECK(!strstr(texts, "paused"));
	unlink(p.path);
	udamon_heatmap_free(hm);
	udamon_record_free(rec);
}

static unsigned int pixel(cairo_surface_t *s, int x, int y)
{
	unsigned char *d = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);

	return *(uint32_t *)(d + (size_t)y * stride + (size_t)x * 4) & 0xffffff;
}

static void test_heatmap_png(void)
{
	struct udamon_record *rec = record();
	struct udamon_heatmap *hm;
	char path[] = "/tmp/udamon-test-plot-XXXXXX.png";
	struct cli_plot p = { CLI_PLOT_PNG, path, 600,	 300,
			      "title",	    NULL, bands, 1 };
	cairo_surface_t *s;
	unsigned int colours[64], nr = 0, c, i;
	int fd, x, y;

	REQUIRE(rec);
	hm = heatmap(rec, false);
	REQUIRE(hm);
	fd = mkstemps(path, 4);
	REQUIRE(fd >= 0);
	close(fd);
	CHECK_EQ(cli_plot_heatmap(&p, hm, false), 0);
	s = cairo_image_surface_create_from_png(path);
	REQUIRE(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS);
	CHECK_EQ(cairo_image_surface_get_width(s), 600);
	CHECK_EQ(cairo_image_surface_get_height(s), 300);
	cairo_surface_flush(s);
	/* The pause, 0.1 s to 0.2 s: blue down the whole plot area. */
	x = M_LEFT + (600 - M_LEFT - M_RIGHT) * 3 / 8;
	for (y = M_TOP + 2; y < 300 - M_BOTTOM - 2; y += 5) {
		c = pixel(s, x, y);
		CHECK((c & 0xff) > (c >> 16) + 20);
	}
	/* Some of the colour scale's many colours. */
	for (y = M_TOP; y < 300 - M_BOTTOM && nr < 64; y++) {
		c = pixel(s, 600 - M_RIGHT + 18 + 8, y);
		for (i = 0; i < nr && colours[i] != c; i++)
			;
		if (i == nr)
			colours[nr++] = c;
	}
	CHECK(nr > 20);
	/* The title: dark pixels in the white margin on top. */
	for (c = 0xffffff, y = 8; y < 26; y++)
		for (x = M_LEFT; x < M_LEFT + 40; x++)
			if (pixel(s, x, y) < c)
				c = pixel(s, x, y);
	CHECK(c < 0x404040);
	cairo_surface_destroy(s);
	unlink(path);
	udamon_heatmap_free(hm);
	udamon_record_free(rec);
}

static void test_wss(void)
{
	static const uint64_t start[] = { 0, 100000000, 200000000 };
	static const uint64_t end[] = { 100000000, 200000000, 400000000 };
	static const unsigned long wss[] = { 20UL << 20, 0, 32UL << 20 };
	char path[] = "/tmp/udamon-test-plot-XXXXXX.svg";
	struct cli_plot p = {
		CLI_PLOT_SVG, path,  600, 300, "Working set size of r",
		NULL,	      bands, 1
	};
	int fd = mkstemps(path, 4);

	REQUIRE(fd >= 0);
	close(fd);
	texts[0] = '\0';
	cli_plot_set_text_hook(collect, NULL);
	CHECK_EQ(cli_plot_wss(&p, start, end, wss, 3, "(nr_accesses >= 1)"), 0);
	cli_plot_set_text_hook(NULL, NULL);
	CHECK(drawn("Working set size of r"));
	CHECK(drawn("working set size"));
	CHECK(drawn("working set"));
	CHECK(drawn("(nr_accesses >= 1)"));
	CHECK(drawn("time (s)"));
	/* Up to 32 MiB and a tenth above it on 196 pixels: every 10 MiB. */
	CHECK(drawn("0 MiB"));
	CHECK(drawn("30 MiB"));
	CHECK(!strstr(texts, "40 MiB"));
	if (tap_failures)
		tap_diag("drawn:\n%s", texts);
	CHECK(drawn("paused"));
	CHECK_EQ(cli_plot_wss(&p, start, end, wss, 0, "x"), -EINVAL);
	unlink(path);
}

static void test_sweep(void)
{
	/* Sets 1 and 3 at one spot, 0 and 4 on the front. */
	static const struct cli_plot_point pts[] = {
		{ 0, 48.0 * (1 << 20), 2500000, true },	 { 1, 0, 0, false },
		{ 2, 20.0 * (1 << 20), 3000000, false }, { 3, 0, 0, false },
		{ 4, 10.0 * (1 << 20), 200000, true },
	};
	char path[] = "/tmp/udamon-test-plot-XXXXXX.svg";
	struct cli_plot p = { CLI_PLOT_SVG,  path, 800,	 400,
			      "Sweep <a&b>", NULL, NULL, 0 };
	char *svg = NULL;
	size_t len = 0;
	FILE *f;
	int fd = mkstemps(path, 4);

	REQUIRE(fd >= 0);
	close(fd);
	texts[0] = '\0';
	cli_plot_set_text_hook(collect, NULL);
	CHECK_EQ(cli_plot_sweep(&p, pts, 5), 0);
	cli_plot_set_text_hook(NULL, NULL);
	CHECK(drawn("Sweep <a&b>"));
	/* Up to 48 MiB and a tenth: MiB across, 3 s and a tenth: s up. */
	CHECK(drawn("memory saved, mean over the run (MiB)"));
	CHECK(drawn("modelled refault stall (s)"));
	CHECK(drawn("0 MiB"));
	CHECK(drawn("3.0 s") || drawn("3 s"));
	CHECK(drawn("0"));
	CHECK(drawn("1,3"));
	CHECK(drawn("2"));
	CHECK(drawn("4"));
	CHECK(!drawn("3"));
	CHECK(drawn("Pareto front"));
	CHECK(drawn("other set"));
	if (tap_failures)
		tap_diag("drawn:\n%s", texts);
	/* The SVG holds the text, escaped, after its <svg> tag. */
	f = fopen(path, "re");
	REQUIRE(f);
	CHECK_EQ(getdelim(&svg, &len, '\0', f) > 0, true);
	fclose(f);
	REQUIRE(svg);
	CHECK(strstr(svg, "<title>Sweep &lt;a&amp;b&gt;</title>") != NULL);
	CHECK(strstr(svg, "\n1,3\n") != NULL);
	CHECK(strstr(svg, "<desc>") > strstr(svg, "<svg"));
	CHECK(strstr(svg, "</desc>") < strstr(svg, "<symbol"));
	free(svg);
	/* No sets at all (every one failed): axes and key only. */
	texts[0] = '\0';
	cli_plot_set_text_hook(collect, NULL);
	CHECK_EQ(cli_plot_sweep(&p, pts, 0), 0);
	cli_plot_set_text_hook(NULL, NULL);
	CHECK(drawn("Pareto front"));
	CHECK(!drawn("0"));
	unlink(path);
	p.path = "/nonexistent/dir/x.svg";
	CHECK(cli_plot_sweep(&p, pts, 5) < 0);
	p.format = CLI_PLOT_PNG;
	p.path = "/nonexistent/dir/x.png";
	CHECK(cli_plot_sweep(&p, pts, 5) < 0);
	CHECK(access(p.path, F_OK) < 0);
}

static void test_write_errors(void)
{
	static const uint64_t t[] = { 0 }, e[] = { 1000 };
	static const unsigned long w[] = { 4096 };
	struct cli_plot p = { CLI_PLOT_PNG, "/nonexistent/dir/x.png",
			      600,	    300,
			      "t",	    NULL,
			      NULL,	    0 };

	CHECK(cli_plot_wss(&p, t, e, w, 1, "x") < 0);
	CHECK(access(p.path, F_OK) < 0);
	p.format = CLI_PLOT_SVG;
	p.path = "/nonexistent/dir/x.svg";
	CHECK(cli_plot_wss(&p, t, e, w, 1, "x") < 0);
	CHECK_EQ(cli_plot_format_of("a.png"), CLI_PLOT_PNG);
	CHECK_EQ(cli_plot_format_of("dir/A.SVG"), CLI_PLOT_SVG);
	CHECK_EQ(cli_plot_format_of(".png"), -1);
	CHECK_EQ(cli_plot_format_of("a.gif"), -1);
	CHECK(cli_plot_supported());
}

int main(void)
{
	static const struct tap_case cases[] = {
		TAP_CASE(test_heatmap_labels),
		TAP_CASE(test_heatmap_linear_addresses),
		TAP_CASE(test_heatmap_png),
		TAP_CASE(test_wss),
		TAP_CASE(test_sweep),
		TAP_CASE(test_write_errors),
	};

	return tap_main(cases, TAP_NR(cases));
}

#else

static void test_no_cairo(void)
{
	tap_skip("built without cairo");
}

int main(void)
{
	static const struct tap_case cases[] = { TAP_CASE(test_no_cairo) };

	return tap_main(cases, TAP_NR(cases));
}

#endif
