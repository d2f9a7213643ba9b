/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Plots a person reads, drawn with cairo into PNG or SVG files: the
 * heatmap (time and address axes with units, a title, a colour scale of
 * access frequency, labelled pause bands), the working set size over
 * time and a sweep's memory saved against refault stall.  Kept in the
 * udamon program so that only it links cairo.
 */
#ifndef UDAMON_CLI_PLOT_H
#define UDAMON_CLI_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record/record.h"

enum cli_plot_format {
	CLI_PLOT_PNG,
	CLI_PLOT_SVG,
};

/* Whether plots were built in (cairo found at build time). */
bool cli_plot_supported(void);
/* What to tell a user who asks for a plot when they were not. */
#define CLI_PLOT_NO_CAIRO \
	"this udamon was built without cairo (install libcairo2-dev and rebuild)"
/* The format a file name asks for (.png or .svg, any case), or -1. */
int cli_plot_format_of(const char *path);

/* The smallest and largest images the plots lay out. */
#define CLI_PLOT_MIN_W 400
#define CLI_PLOT_MIN_H 240
#define CLI_PLOT_MAX_W 8000
#define CLI_PLOT_MAX_H 8000

/*
 * A labelled band over a period of time: "paused" for a pause.  Other
 * kinds of bands (auto-paused periods) come with their own label and
 * colour.
 */
enum cli_band_kind {
	CLI_BAND_PAUSED,
	CLI_BAND_AUTO_PAUSED,
};

struct cli_plot_band {
	enum cli_band_kind kind;
	uint64_t start_ns;
	uint64_t end_ns;
};

/* The common frame of a plot. */
struct cli_plot {
	enum cli_plot_format format;
	const char *path;
	unsigned int width, height; /* pixels (PNG) or points (SVG) */
	const char *title;
	const char *subtitle;
	const struct cli_plot_band *bands;
	size_t nr_bands;
};

/*
 * The cells of the heatmap area of a @width x @height image: build the
 * heatmap grid with this many time and address slots, one a pixel.
 */
void cli_plot_heatmap_cells(unsigned int width, unsigned int height,
			    unsigned int *nr_time, unsigned int *nr_addr);

/*
 * Draw @hm.  @linear_addrs: the address axis maps addresses linearly
 * (label real addresses) rather than offsets into the monitored spans.
 * Return 0 or a negative errno (the file could not be written).
 */
int cli_plot_heatmap(const struct cli_plot *p, const struct udamon_heatmap *hm,
		     bool linear_addrs);

/*
 * Draw the working set size of every snapshot: @wss[i] bytes from
 * @start_ns[i] to @end_ns[i].  @what says what the working set is.
 */
int cli_plot_wss(const struct cli_plot *p, const uint64_t *start_ns,
		 const uint64_t *end_ns, const unsigned long *wss, size_t n,
		 const char *what);

/* One parameter set of a sweep, a point of its plot. */
struct cli_plot_point {
	unsigned int set; /* its index, the label */
	double saved; /* bytes saved, mean over the run */
	double stall_us; /* modelled refault stall */
	bool front; /* on the Pareto front */
};

/*
 * Draw the sweep's trade-off: memory saved (x) against modelled refault
 * stall (y), one labelled point per set in @pts, the Pareto front marked
 * and joined in order of memory saved.
 */
int cli_plot_sweep(const struct cli_plot *p, const struct cli_plot_point *pts,
		   size_t n);

/*
 * Every string the plots draw goes to @fn too (tests check the labels of
 * an SVG, whose text cairo writes as glyph outlines).  NULL: none.
 */
void cli_plot_set_text_hook(void (*fn)(const char *text, void *arg), void *arg);

#endif /* UDAMON_CLI_PLOT_H */
