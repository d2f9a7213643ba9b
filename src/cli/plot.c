// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Heatmap and working set size plots through cairo (Debian's
 * libcairo2-dev): its image surface written as PNG, or its SVG surface.
 * Text is set with cairo's text API in a sans-serif face from fontconfig.
 *
 * Layout of both plots: title and subtitle on top, the plot area with the
 * time axis below it and the value axis (addresses, sizes) on its left,
 * the key on the right (colour scale and swatches for the heatmap).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/plot.h"

#ifdef UDAMON_HAVE_CAIRO
#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#endif

#ifdef UDAMON_HAVE_CAIRO
/*
 * LeakSanitizer's suppressions, read when a sanitized udamon (or a test
 * built with this file) exits: fontconfig 2.14 keeps a few font patterns
 * that even FcFini() does not free.  Nothing of udamon's is suppressed.
 */
__attribute__((visibility("default"))) const char *
__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}
#endif

static void (*text_hook)(const char *text, void *arg);
static void *text_hook_arg;

void cli_plot_set_text_hook(void (*fn)(const char *text, void *arg), void *arg)
{
	text_hook = fn;
	text_hook_arg = arg;
}

bool cli_plot_supported(void)
{
#ifdef UDAMON_HAVE_CAIRO
	return true;
#else
	return false;
#endif
}

int cli_plot_format_of(const char *path)
{
	size_t n = strlen(path);

	if (n > 4 && !strcasecmp(path + n - 4, ".png"))
		return CLI_PLOT_PNG;
	if (n > 4 && !strcasecmp(path + n - 4, ".svg"))
		return CLI_PLOT_SVG;
	return -1;
}

/* Margins around the plot area, in pixels. */
#define M_LEFT 112
#define M_RIGHT 168
#define M_TOP 52
#define M_BOTTOM 52

void cli_plot_heatmap_cells(unsigned int width, unsigned int height,
			    unsigned int *nr_time, unsigned int *nr_addr)
{
	*nr_time = width - M_LEFT - M_RIGHT;
	*nr_addr = height - M_TOP - M_BOTTOM;
}

#ifdef UDAMON_HAVE_CAIRO

/* The plot area: where time and values map to. */
struct frame {
	double x0, y0, w, h;
	uint64_t t_start, t_end;
};

static double time_x(const struct frame *f, uint64_t t)
{
	if (t <= f->t_start)
		return f->x0;
	if (t >= f->t_end)
		return f->x0 + f->w;
	return f->x0 + f->w * (double)(t - f->t_start) /
			       (double)(f->t_end - f->t_start);
}

/* @s as XML character data (the SVG's <title> and <desc>). */
static void xml_put(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		default:
			/* XML 1.0 has no other control characters. */
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, f);
		}
	}
}

/*
 * While an SVG is drawn: every string drawn, a line each, for its <desc>
 * (an open_memstream(3)).  cairo sets text as glyph outlines, so without
 * it the file holds no searchable (or screen-readable) text.
 */
static FILE *svg_desc;

/*
 * Draw @s with its anchor at (@x, @y): @ax 0 left, 0.5 centre, 1 right;
 * @ay 0 top, 0.5 middle, 1 baseline.
 */
static void text_at(cairo_t *cr, double x, double y, const char *s, double ax,
		    double ay)
{
	cairo_text_extents_t te;
	cairo_font_extents_t fe;

	cairo_text_extents(cr, s, &te);
	cairo_font_extents(cr, &fe);
	cairo_move_to(cr, x - te.x_advance * ax, y + fe.ascent * (1 - ay));
	cairo_show_text(cr, s);
	if (text_hook)
		text_hook(s, text_hook_arg);
	if (svg_desc) {
		xml_put(svg_desc, s);
		fputc('\n', svg_desc);
	}
}

static void font(cairo_t *cr, double size, bool bold)
{
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD :
				      CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

/* Text turned a quarter to the left, centred on (@x, @y). */
static void text_up(cairo_t *cr, double x, double y, const char *s)
{
	cairo_save(cr);
	cairo_translate(cr, x, y);
	cairo_rotate(cr, -M_PI / 2);
	text_at(cr, 0, 0, s, 0.5, 0.5);
	cairo_restore(cr);
}

/* A step of 1, 2 or 5 times a power of ten, so that @range has <= @n. */
static double nice_step(double range, double n)
{
	double raw = range / (n < 1 ? 1 : n), mag, r;

	if (raw <= 0)
		return 1;
	mag = pow(10, floor(log10(raw)));
	r = raw / mag;
	return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

/* Digits after the point that show multiples of @step exactly. */
static int step_digits(double step)
{
	int d = (int)-floor(log10(step) + 1e-9);

	return d < 0 ? 0 : d > 6 ? 6 : d;
}

static void set_rgb(cairo_t *cr, unsigned int rgb)
{
	cairo_set_source_rgb(cr, (rgb >> 16) / 255.0,
			     ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0);
}

#define C_TEXT 0x202020
#define C_AXIS 0x404040
#define C_GRID 0xd8d8d8
#define C_UNMONITORED 0x9a9a9a
#define C_PAUSED 0x3050d0
#define C_AUTO_PAUSED 0x8040b0
#define C_WSS 0xc03020

static const char *band_label(enum cli_band_kind k)
{
	return k == CLI_BAND_AUTO_PAUSED ? "auto-paused" : "paused";
}

static unsigned int band_color(enum cli_band_kind k)
{
	return k == CLI_BAND_AUTO_PAUSED ? C_AUTO_PAUSED : C_PAUSED;
}

/* A hatched, half-transparent rectangle in @rgb. */
static void hatch(cairo_t *cr, double x, double y, double w, double h,
		  unsigned int rgb)
{
	double d;

	cairo_save(cr);
	cairo_rectangle(cr, x, y, w, h);
	cairo_clip(cr);
	set_rgb(cr, rgb);
	cairo_paint_with_alpha(cr, 0.55);
	cairo_set_source_rgba(cr, 1, 1, 1, 0.6);
	cairo_set_line_width(cr, 1.5);
	for (d = -h; d < w; d += 8) {
		cairo_move_to(cr, x + d, y + h);
		cairo_line_to(cr, x + d + h, y);
	}
	cairo_stroke(cr);
	cairo_restore(cr);
}

/* The bands over the plot area, each with its label on top. */
static void draw_bands(cairo_t *cr, const struct cli_plot *p,
		       const struct frame *f)
{
	size_t i;

	font(cr, 10, true);
	for (i = 0; i < p->nr_bands; i++) {
		const struct cli_plot_band *b = &p->bands[i];
		double x1 = time_x(f, b->start_ns), x2 = time_x(f, b->end_ns);
		const char *label = band_label(b->kind);

		if (b->end_ns <= f->t_start || b->start_ns >= f->t_end)
			continue;
		if (x2 - x1 < 1)
			x2 = x1 + 1;
		hatch(cr, x1, f->y0, x2 - x1, f->h, band_color(b->kind));
		set_rgb(cr, band_color(b->kind));
		/* Above the plot area, so that it never hides data. */
		text_at(cr, (x1 + x2) / 2, f->y0 - 3, label, 0.5, 1);
	}
}

/*
 * A linear axis of values @v0 .. @v1 (in the unit @unit) along the bottom
 * (@horizontal) or the left side of the plot area: ticks at a nice step,
 * each labelled "@prefix VALUE @unit" (no prefix at zero), and @title
 * centred beside them (none if NULL).
 */
static void linear_axis(cairo_t *cr, const struct frame *f, bool horizontal,
			double v0, double v1, const char *prefix,
			const char *unit, const char *title)
{
	double len = horizontal ? f->w : f->h, step, v;
	char buf[64];
	int digits;

	if (v1 <= v0)
		v1 = v0 + 1;
	step = nice_step(v1 - v0, len / (horizontal ? 80 : 40));
	digits = step_digits(step);
	font(cr, 10, false);
	cairo_set_line_width(cr, 1);
	for (v = ceil(v0 / step - 1e-9) * step; v <= v1 + step * 1e-6;
	     v += step) {
		double pos = len * (v - v0) / (v1 - v0);
		/* No "-0 s" from a sum that lands just below zero. */
		bool zero = fabs(v) < step * 1e-6;

		snprintf(buf, sizeof(buf), "%s%.*f %s", zero ? "" : prefix,
			 digits, zero ? 0.0 : v, unit);
		set_rgb(cr, C_AXIS);
		if (horizontal) {
			cairo_move_to(cr, f->x0 + pos, f->y0 + f->h);
			cairo_line_to(cr, f->x0 + pos, f->y0 + f->h + 5);
		} else {
			cairo_move_to(cr, f->x0 - 5, f->y0 + f->h - pos);
			cairo_line_to(cr, f->x0, f->y0 + f->h - pos);
		}
		cairo_stroke(cr);
		set_rgb(cr, C_TEXT);
		if (horizontal)
			text_at(cr, f->x0 + pos, f->y0 + f->h + 8, buf, 0.5, 0);
		else
			text_at(cr, f->x0 - 8, f->y0 + f->h - pos, buf, 1, 0.5);
	}
	if (!title)
		return;
	font(cr, 11, false);
	set_rgb(cr, C_TEXT);
	if (horizontal)
		text_at(cr, f->x0 + f->w / 2, f->y0 + f->h + 28, title, 0.5, 0);
	else
		text_up(cr, 14, f->y0 + f->h / 2, title);
}

/* The time axis: ticks and labels in seconds, and the axis title. */
static void time_axis(cairo_t *cr, const struct frame *f)
{
	linear_axis(cr, f, true, (double)f->t_start / 1e9,
		    (double)f->t_end / 1e9, "", "s", "time (s)");
}

/* Unit for sizes up to @max bytes: 1, KiB, MiB ... and its name. */
static double size_unit(double max, const char **name)
{
	static const char *const names[] = { "B",   "KiB", "MiB",
					     "GiB", "TiB", "PiB" };
	double u = 1;
	int i = 0;

	while (i < 5 && max / u >= 2048) {
		u *= 1024;
		i++;
	}
	*name = names[i];
	return u;
}

/*
 * The value axis on the left for bytes 0 .. @range (offsets or sizes, with
 * @prefix before each label: "+" for offsets), or, with @base_addr set,
 * the addresses @base .. @base + @range in hex.
 */
static void bytes_axis(cairo_t *cr, const struct frame *f, double range,
		       const char *prefix, bool addrs, unsigned long base)
{
	/* Addresses: ticks at multiples of a power of two. */
	double n = f->h / 40 < 1 ? 1 : f->h / 40;
	unsigned long st = 1, a, end = base + (unsigned long)range;
	char buf[64];

	if (!addrs) {
		const char *uname;
		double u = size_unit(range, &uname);

		linear_axis(cr, f, false, 0, range / u, prefix, uname, NULL);
		return;
	}
	font(cr, 10, false);
	cairo_set_line_width(cr, 1);
	while ((double)st * n < range && st < (1UL << 62))
		st <<= 1;
	for (a = (base + st - 1) / st * st; a <= end && a >= base; a += st) {
		double y = f->y0 + f->h - f->h * (double)(a - base) / range;

		set_rgb(cr, C_AXIS);
		cairo_move_to(cr, f->x0 - 5, y);
		cairo_line_to(cr, f->x0, y);
		cairo_stroke(cr);
		set_rgb(cr, C_TEXT);
		snprintf(buf, sizeof(buf), "0x%lx", a);
		text_at(cr, f->x0 - 8, y, buf, 1, 0.5);
		if (a + st < a)
			break;
	}
}

static void titles(cairo_t *cr, const struct cli_plot *p)
{
	set_rgb(cr, C_TEXT);
	font(cr, 15, true);
	text_at(cr, M_LEFT, 8, p->title, 0, 0);
	if (p->subtitle) {
		font(cr, 10, false);
		text_at(cr, M_LEFT, 28, p->subtitle, 0, 0);
	}
}

/* Black - red - yellow - white, by the fraction @x of the maximum. */
static unsigned int heat_rgb(double x)
{
	double r, g, b;

	x = x < 0 ? 0 : x > 1 ? 1 : x;
	r = x < 0.4 ? x / 0.4 : 1;
	g = x < 0.4 ? 0 : x < 0.8 ? (x - 0.4) / 0.4 : 1;
	b = x < 0.8 ? 0 : (x - 0.8) / 0.2;
	/* A dim floor so that "monitored, never accessed" is not black. */
	return (unsigned int)lround(24 + r * 231) << 16 |
	       (unsigned int)lround(16 + g * 239) << 8 |
	       (unsigned int)lround(32 + b * 223);
}

/* A key entry: a swatch (hatched for a band kind) and its text. */
static void swatch(cairo_t *cr, double x, double y, unsigned int rgb,
		   bool hatched, const char *label)
{
	if (hatched) {
		hatch(cr, x, y, 16, 12, rgb);
	} else {
		set_rgb(cr, rgb);
		cairo_rectangle(cr, x, y, 16, 12);
		cairo_fill(cr);
	}
	set_rgb(cr, C_TEXT);
	text_at(cr, x + 22, y + 6, label, 0, 0.5);
}

/* One swatch for every kind of band the plot shows, from (@x, @y) down. */
static void band_swatches(cairo_t *cr, const struct cli_plot *p, double x,
			  double y)
{
	static const enum cli_band_kind kinds[] = { CLI_BAND_PAUSED,
						    CLI_BAND_AUTO_PAUSED };
	size_t i, k;

	font(cr, 10, false);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (i = 0; i < p->nr_bands; i++)
			if (p->bands[i].kind == kinds[k])
				break;
		if (i == p->nr_bands)
			continue;
		swatch(cr, x, y, band_color(kinds[k]), true,
		       band_label(kinds[k]));
		y += 18;
	}
}

/* The colour scale of access frequency, and the key of other colours. */
static void heat_key(cairo_t *cr, const struct cli_plot *p,
		     const struct frame *f, double max_freq)
{
	double x = f->x0 + f->w + 18, y0 = f->y0, h = f->h * 0.55, y;
	char buf[48];
	int k;

	for (y = 0; y < h; y++) {
		set_rgb(cr, heat_rgb(1 - y / h));
		cairo_rectangle(cr, x, y0 + y, 16, 1.5);
		cairo_fill(cr);
	}
	set_rgb(cr, C_AXIS);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, x + 0.5, y0 + 0.5, 15, h - 1);
	cairo_stroke(cr);
	font(cr, 10, false);
	for (k = 0; k <= 4; k++) {
		double yy = y0 + h - h * k / 4;

		set_rgb(cr, C_AXIS);
		cairo_move_to(cr, x + 16, yy);
		cairo_line_to(cr, x + 20, yy);
		cairo_stroke(cr);
		set_rgb(cr, C_TEXT);
		snprintf(buf, sizeof(buf), "%.1f %%", max_freq * k / 4);
		text_at(cr, x + 23, yy, buf, 0, 0.5);
	}
	font(cr, 10, false);
	text_up(cr, x + 84, y0 + h / 2, "access frequency");
	text_up(cr, x + 97, y0 + h / 2, "(% of samples)");
	y = y0 + h + 14;
	swatch(cr, x, y, C_UNMONITORED, false, "not monitored");
	band_swatches(cr, p, x, y + 18);
}

typedef void (*draw_fn)(cairo_t *cr, const struct cli_plot *p, const void *arg);

/* cairo's SVG output goes to an open_memstream(3), @closure. */
static cairo_status_t svg_write(void *closure, const unsigned char *data,
				unsigned int len)
{
	return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS :
						      CAIRO_STATUS_WRITE_ERROR;
}

/*
 * Write the SVG cairo made (@svg, @len bytes) to @path with a <title> (the
 * plot's title) and a <desc> (@desc: every string drawn, escaped) right
 * after the <svg> start tag.
 */
static int svg_save(const char *path, const char *svg, size_t len,
		    const char *title, const char *desc)
{
	const char *tag = svg ? memmem(svg, len, "<svg", 4) : NULL;
	const char *end = tag ? memchr(tag, '>', len - (size_t)(tag - svg)) :
				NULL;
	size_t cut;
	FILE *f;
	int err = 0;

	if (!end)
		return -EIO; /* not what cairo writes */
	cut = (size_t)(end + 1 - svg);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fwrite(svg, 1, cut, f);
	fputs("\n<title>", f);
	xml_put(f, title ? title : "");
	fprintf(f, "</title>\n<desc>%s</desc>", desc ? desc : "");
	fwrite(svg + cut, 1, len - cut, f);
	if (ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		remove(path);
	return err;
}

/* Close a memstream; -ENOMEM if it could not hold all that was written. */
static int memstream_close(FILE *f)
{
	bool failed;

	if (!f)
		return 0;
	failed = ferror(f);
	if (fclose(f))
		failed = true;
	return failed ? -ENOMEM : 0;
}

/* Make the surface @p asks for, draw on it with @fn, write it out. */
static int render(const struct cli_plot *p, draw_fn fn, const void *arg)
{
	char *svg = NULL, *desc = NULL;
	size_t svg_len = 0, desc_len = 0;
	FILE *svg_f = NULL, *desc_f = NULL;
	cairo_surface_t *s;
	cairo_status_t st;
	cairo_t *cr;
	int err = 0;

	if (p->format == CLI_PLOT_SVG) {
		svg_f = open_memstream(&svg, &svg_len);
		desc_f = open_memstream(&desc, &desc_len);
		if (!svg_f || !desc_f) {
			memstream_close(svg_f);
			memstream_close(desc_f);
			free(svg);
			free(desc);
			return -ENOMEM;
		}
		s = cairo_svg_surface_create_for_stream(svg_write, svg_f,
							p->width, p->height);
	} else {
		s = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
					       (int)p->width, (int)p->height);
	}
	st = cairo_surface_status(s);
	if (!st) {
		svg_desc = desc_f;
		cr = cairo_create(s);
		cairo_set_source_rgb(cr, 1, 1, 1);
		cairo_paint(cr);
		fn(cr, p, arg);
		svg_desc = NULL;
		st = cairo_status(cr);
		cairo_destroy(cr);
		if (!st && p->format == CLI_PLOT_PNG)
			st = cairo_surface_write_to_png(s, p->path);
		cairo_surface_finish(s);
		if (!st)
			st = cairo_surface_status(s);
	}
	cairo_surface_destroy(s);
	/*
	 * cairo and fontconfig keep fonts and caches for the life of the
	 * process; one plot is all udamon draws, so give them back (leak
	 * checkers then see nothing left).
	 */
	cairo_debug_reset_static_data();
	FcFini();
	if (st)
		err = st == CAIRO_STATUS_NO_MEMORY ? -ENOMEM : -EIO;
	if (memstream_close(svg_f) && !err)
		err = -ENOMEM;
	if (memstream_close(desc_f) && !err)
		err = -ENOMEM;
	if (!err && p->format == CLI_PLOT_SVG)
		err = svg_save(p->path, svg, svg_len, p->title, desc);
	free(svg);
	free(desc);
	if (err && p->format == CLI_PLOT_PNG)
		remove(p->path);
	return err;
}

struct heat_arg {
	const struct udamon_heatmap *hm;
	bool linear;
};

static void draw_heatmap(cairo_t *cr, const struct cli_plot *p, const void *arg)
{
	const struct heat_arg *ha = arg;
	const struct udamon_heatmap *hm = ha->hm;
	struct frame f = { M_LEFT,	M_TOP,	     hm->nr_time,
			   hm->nr_addr, hm->t_start, hm->t_end };
	cairo_surface_t *img;
	unsigned char *px;
	unsigned int x, y;
	int stride;
	char buf[160];

	titles(cr, p);
	/* One pixel a cell: time left to right, addresses bottom to top. */
	img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)hm->nr_time,
					 (int)hm->nr_addr);
	if (cairo_surface_status(img) == CAIRO_STATUS_SUCCESS) {
		cairo_surface_flush(img);
		px = cairo_image_surface_get_data(img);
		stride = cairo_image_surface_get_stride(img);
		for (y = 0; y < hm->nr_addr; y++) {
			unsigned int ai = hm->nr_addr - 1 - y;
			uint32_t *row = (uint32_t *)(px + (size_t)y * stride);

			for (x = 0; x < hm->nr_time; x++) {
				double v =
					hm->freq[(size_t)x * hm->nr_addr + ai];

				row[x] =
					v < 0 ? C_UNMONITORED :
						heat_rgb(
							hm->max_freq > 0 ?
								v / hm->max_freq :
								0);
			}
		}
		cairo_surface_mark_dirty(img);
		cairo_set_source_surface(cr, img, f.x0, f.y0);
		cairo_pattern_set_filter(cairo_get_source(cr),
					 CAIRO_FILTER_NEAREST);
		cairo_paint(cr);
	}
	cairo_surface_destroy(img);
	draw_bands(cr, p, &f);
	set_rgb(cr, C_AXIS);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, f.x0 - 0.5, f.y0 - 0.5, f.w + 1, f.h + 1);
	cairo_stroke(cr);
	time_axis(cr, &f);
	bytes_axis(cr, &f, (double)hm->total_bytes, "+", ha->linear,
		   hm->spans[0].start);
	font(cr, 11, false);
	set_rgb(cr, C_TEXT);
	if (ha->linear)
		snprintf(buf, sizeof(buf), "address");
	else
		snprintf(buf, sizeof(buf), "offset in %u monitored span%s",
			 hm->nr_spans, hm->nr_spans == 1 ? "" : "s");
	text_up(cr, 14, f.y0 + f.h / 2, buf);
	heat_key(cr, p, &f, hm->max_freq);
}

int cli_plot_heatmap(const struct cli_plot *p, const struct udamon_heatmap *hm,
		     bool linear_addrs)
{
	struct heat_arg ha = { hm, linear_addrs };

	return render(p, draw_heatmap, &ha);
}

struct wss_arg {
	const uint64_t *start_ns, *end_ns;
	const unsigned long *wss;
	size_t n;
	const char *what;
};

static void draw_wss(cairo_t *cr, const struct cli_plot *p, const void *arg)
{
	const struct wss_arg *wa = arg;
	struct frame f = { M_LEFT,
			   M_TOP,
			   p->width - M_LEFT - M_RIGHT,
			   p->height - M_TOP - M_BOTTOM,
			   wa->start_ns[0],
			   wa->end_ns[wa->n - 1] };
	unsigned long max = 0;
	double range;
	size_t i;

	if (f.t_end <= f.t_start)
		f.t_end = f.t_start + 1;
	titles(cr, p);
	for (i = 0; i < wa->n; i++)
		if (wa->wss[i] > max)
			max = wa->wss[i];
	range = max ? (double)max * 1.1 : 4096;
	draw_bands(cr, p, &f);
	/* A step line: each snapshot's size over its window, filled under. */
	cairo_move_to(cr, f.x0, f.y0 + f.h);
	for (i = 0; i < wa->n; i++) {
		double y = f.y0 + f.h - f.h * (double)wa->wss[i] / range;

		cairo_line_to(cr, time_x(&f, wa->start_ns[i]), y);
		cairo_line_to(cr, time_x(&f, wa->end_ns[i]), y);
	}
	cairo_line_to(cr, time_x(&f, wa->end_ns[wa->n - 1]), f.y0 + f.h);
	cairo_close_path(cr);
	cairo_set_source_rgba(cr, 0.75, 0.19, 0.13, 0.18);
	cairo_fill_preserve(cr);
	set_rgb(cr, C_WSS);
	cairo_set_line_width(cr, 1.5);
	cairo_stroke(cr);
	set_rgb(cr, C_AXIS);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, f.x0 - 0.5, f.y0 - 0.5, f.w + 1, f.h + 1);
	cairo_stroke(cr);
	time_axis(cr, &f);
	bytes_axis(cr, &f, range, "", false, 0);
	font(cr, 11, false);
	set_rgb(cr, C_TEXT);
	text_up(cr, 14, f.y0 + f.h / 2, "working set size");
	font(cr, 10, false);
	set_rgb(cr, C_WSS);
	cairo_rectangle(cr, f.x0 + f.w + 18, f.y0 + 4, 16, 3);
	cairo_fill(cr);
	set_rgb(cr, C_TEXT);
	text_at(cr, f.x0 + f.w + 40, f.y0 + 5, "working set", 0, 0.5);
	text_at(cr, f.x0 + f.w + 40, f.y0 + 19, wa->what, 0, 0.5);
	band_swatches(cr, p, f.x0 + f.w + 18, f.y0 + 34);
}

int cli_plot_wss(const struct cli_plot *p, const uint64_t *start_ns,
		 const uint64_t *end_ns, const unsigned long *wss, size_t n,
		 const char *what)
{
	struct wss_arg wa = { start_ns, end_ns, wss, n, what };

	if (!n)
		return -EINVAL;
	return render(p, draw_wss, &wa);
}

/* Unit for durations up to @max microseconds: us, ms or s, and its name. */
static double time_unit_us(double max, const char **name)
{
	if (max >= 2e6) {
		*name = "s";
		return 1e6;
	}
	if (max >= 2e3) {
		*name = "ms";
		return 1e3;
	}
	*name = "us";
	return 1;
}

struct sweep_arg {
	const struct cli_plot_point *pts;
	size_t n;
};

static int point_cmp_x(const void *a, const void *b)
{
	const struct cli_plot_point *x =
		*(const struct cli_plot_point *const *)a;
	const struct cli_plot_point *y =
		*(const struct cli_plot_point *const *)b;

	if (x->saved != y->saved)
		return x->saved < y->saved ? -1 : 1;
	return x->stall_us < y->stall_us ? -1 : x->stall_us > y->stall_us;
}

#define C_FRONT 0xc03020
#define C_OTHER 0x5070a0
#define PT_R 4.0
/* Labels of more sets at one spot than this end in "..." */
#define LABEL_MAX 40

/* A marker: a filled disc on the front, a ring elsewhere. */
static void marker(cairo_t *cr, double x, double y, bool front)
{
	cairo_new_path(cr);
	cairo_arc(cr, x, y, PT_R, 0, 2 * M_PI);
	set_rgb(cr, front ? C_FRONT : C_OTHER);
	if (front) {
		cairo_fill(cr);
	} else {
		cairo_set_line_width(cr, 1.5);
		cairo_stroke(cr);
	}
}

static void draw_sweep(cairo_t *cr, const struct cli_plot *p, const void *arg)
{
	const struct sweep_arg *sa = arg;
	struct frame f = { M_LEFT,
			   M_TOP,
			   p->width - M_LEFT - M_RIGHT,
			   p->height - M_TOP - M_BOTTOM,
			   0,
			   1 };
	const struct cli_plot_point **front = NULL;
	double max_x = 0, max_y = 0, ux, uy, kx, ky;
	const char *xname, *yname;
	size_t i, j, nr_front = 0;
	char title[96];
	bool *labelled;

	titles(cr, p);
	for (i = 0; i < sa->n; i++) {
		if (sa->pts[i].saved > max_x)
			max_x = sa->pts[i].saved;
		if (sa->pts[i].stall_us > max_y)
			max_y = sa->pts[i].stall_us;
	}
	/* Room above the highest point and right of the rightmost. */
	max_x = max_x > 0 ? max_x * 1.1 : 4096;
	max_y = max_y > 0 ? max_y * 1.1 : 1000;
	ux = size_unit(max_x, &xname);
	uy = time_unit_us(max_y, &yname);
	set_rgb(cr, C_AXIS);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, f.x0 - 0.5, f.y0 - 0.5, f.w + 1, f.h + 1);
	cairo_stroke(cr);
	snprintf(title, sizeof(title), "memory saved, mean over the run (%s)",
		 xname);
	linear_axis(cr, &f, true, 0, max_x / ux, "", xname, title);
	snprintf(title, sizeof(title), "modelled refault stall (%s)", yname);
	linear_axis(cr, &f, false, 0, max_y / uy, "", yname, title);
	kx = f.w / max_x;
	ky = f.h / max_y;

	/* The front, joined left to right. */
	front = calloc(sa->n ? sa->n : 1, sizeof(*front));
	labelled = calloc(sa->n ? sa->n : 1, sizeof(*labelled));
	if (front) {
		for (i = 0; i < sa->n; i++)
			if (sa->pts[i].front)
				front[nr_front++] = &sa->pts[i];
		qsort(front, nr_front, sizeof(*front), point_cmp_x);
		set_rgb(cr, C_FRONT);
		cairo_set_line_width(cr, 1.5);
		for (i = 0; i < nr_front; i++) {
			double x = f.x0 + front[i]->saved * kx;
			double y = f.y0 + f.h - front[i]->stall_us * ky;

			if (i)
				cairo_line_to(cr, x, y);
			else
				cairo_move_to(cr, x, y);
		}
		cairo_stroke(cr);
	}
	/* Other sets first, so that the front's markers stay on top. */
	for (j = 0; j < 2; j++)
		for (i = 0; i < sa->n; i++)
			if (sa->pts[i].front == (j == 1))
				marker(cr, f.x0 + sa->pts[i].saved * kx,
				       f.y0 + f.h - sa->pts[i].stall_us * ky,
				       sa->pts[i].front);
	/*
	 * Set indices beside their markers; sets drawn at one spot (the
	 * same results, say) share one label, "2,5,7".
	 */
	font(cr, 9, false);
	set_rgb(cr, C_TEXT);
	for (i = 0; labelled && i < sa->n; i++) {
		double x = f.x0 + sa->pts[i].saved * kx;
		double y = f.y0 + f.h - sa->pts[i].stall_us * ky;
		char label[LABEL_MAX + 16];
		size_t len;

		if (labelled[i])
			continue;
		len = (size_t)snprintf(label, sizeof(label), "%u",
				       sa->pts[i].set);
		for (j = i + 1; j < sa->n; j++) {
			double dx = f.x0 + sa->pts[j].saved * kx - x;
			double dy = f.y0 + f.h - sa->pts[j].stall_us * ky - y;

			if (labelled[j] || fabs(dx) > 2 || fabs(dy) > 2)
				continue;
			labelled[j] = true;
			if (len >= LABEL_MAX) {
				if (!strstr(label, "..."))
					len += (size_t)snprintf(
						label + len,
						sizeof(label) - len, ",...");
				continue;
			}
			len += (size_t)snprintf(label + len,
						sizeof(label) - len, ",%u",
						sa->pts[j].set);
		}
		text_at(cr, x + PT_R + 2, y - PT_R - 1, label, 0, 1);
	}
	free(front);
	free(labelled);

	/* The key. */
	font(cr, 10, false);
	{
		double kx0 = f.x0 + f.w + 18, ky0 = f.y0 + 4;

		set_rgb(cr, C_FRONT);
		cairo_set_line_width(cr, 1.5);
		cairo_move_to(cr, kx0, ky0 + 6);
		cairo_line_to(cr, kx0 + 16, ky0 + 6);
		cairo_stroke(cr);
		marker(cr, kx0 + 8, ky0 + 6, true);
		set_rgb(cr, C_TEXT);
		text_at(cr, kx0 + 22, ky0 + 6, "Pareto front", 0, 0.5);
		text_at(cr, kx0 + 22, ky0 + 20, "(saved, stall,", 0, 0.5);
		text_at(cr, kx0 + 22, ky0 + 34, "DAMOS CPU)", 0, 0.5);
		marker(cr, kx0 + 8, ky0 + 54, false);
		set_rgb(cr, C_TEXT);
		text_at(cr, kx0 + 22, ky0 + 54, "other set", 0, 0.5);
		text_at(cr, kx0, ky0 + 76, "numbers: set index", 0, 0.5);
	}
}

int cli_plot_sweep(const struct cli_plot *p, const struct cli_plot_point *pts,
		   size_t n)
{
	struct sweep_arg sa = { pts, n };

	return render(p, draw_sweep, &sa);
}

#else /* !UDAMON_HAVE_CAIRO */

int cli_plot_sweep(const struct cli_plot *p, const struct cli_plot_point *pts,
		   size_t n)
{
	return -EOPNOTSUPP;
}

int cli_plot_heatmap(const struct cli_plot *p, const struct udamon_heatmap *hm,
		     bool linear_addrs)
{
	return -EOPNOTSUPP;
}

int cli_plot_wss(const struct cli_plot *p, const uint64_t *start_ns,
		 const uint64_t *end_ns, const unsigned long *wss, size_t n,
		 const char *what)
{
	return -EOPNOTSUPP;
}

#endif
