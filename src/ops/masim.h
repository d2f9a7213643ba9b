/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The masim workload config format: parser and in-memory form, shared by
 * the sim operations set (src/ops/sim.c) and the real-memory workload
 * generator (tools/workload/).
 *
 * The format (see WORKLOADS.md of the project docs):
 *
 *   # comment lines start with '#' and are deleted before anything else
 *   name, size_bytes[, init_file]          <- paragraph 1: one region a line
 *   ...
 *                                           <- exactly one blank line
 *   phase name                              <- every later paragraph: a phase
 *   duration_ms
 *   region, random(0|1), stride_bytes, weight[, ro|wo|rw]
 *   ...
 *
 * Parsing follows masim's own rules: only newline-terminated lines count
 * (a last line without '\n' is dropped), paragraphs are split by exactly
 * one blank line (an extra one makes an empty phase, which is an error),
 * fields are split on ',' without trimming (names are compared verbatim),
 * and numbers may have leading blanks as with atoi().  Unlike masim, every
 * problem is reported (not silently turned into 0) as
 * "<file>:<line>: <problem>" in a caller-supplied buffer.
 */
#ifndef UDAMON_OPS_MASIM_H
#define UDAMON_OPS_MASIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** enum masim_rw_mode - how a pattern touches memory (ro, wo, rw). */
enum masim_rw_mode {
	MASIM_RW_RO,
	MASIM_RW_WO,
	MASIM_RW_RW,
	NR_MASIM_RW_MODES,
};

/**
 * struct masim_region - one region of a workload.
 * @name: its name, verbatim from the config.
 * @size: size in bytes (> 0).
 * @init_file: file to fill it from, or NULL for none.
 * @line: line of the config that defined it.
 */
struct masim_region {
	char *name;
	unsigned long long size;
	char *init_file;
	unsigned int line;
};

/**
 * struct masim_pattern - one access pattern of a phase.
 * @region: index of the region in &masim_config.regions.
 * @random: uniform random byte offsets (true) or sequential (false).
 * @stride: distance of consecutive sequential accesses, bytes.
 * @weight: relative share of the phase's accesses (>= 0).
 * @mode: read only, write only or read-then-write.
 * @line: line of the config that defined it.
 */
struct masim_pattern {
	unsigned int region;
	bool random;
	unsigned long long stride;
	unsigned int weight;
	enum masim_rw_mode mode;
	unsigned int line;
};

/**
 * struct masim_phase - one timed phase.
 * @name: its name (the first line of the paragraph, verbatim).
 * @duration_ms: how long it runs (> 0).
 * @patterns: its access patterns.
 * @nr_patterns: number of @patterns (>= 1).
 * @total_weight: sum of the pattern weights (> 0).
 * @line: line of the config holding the name.
 */
struct masim_phase {
	char *name;
	unsigned long long duration_ms;
	struct masim_pattern *patterns;
	unsigned int nr_patterns;
	unsigned long long total_weight;
	unsigned int line;
};

/**
 * struct masim_config - a parsed workload.
 * @name: the file name given to the parser (used in messages).
 * @regions: the regions, in config order.
 * @nr_regions: number of @regions (>= 1).
 * @phases: the phases, in config order.
 * @nr_phases: number of @phases (>= 1).
 */
struct masim_config {
	char *name;
	struct masim_region *regions;
	unsigned int nr_regions;
	struct masim_phase *phases;
	unsigned int nr_phases;
};

/* Largest config file the parser reads. */
#define MASIM_MAX_FILE_SIZE (16UL << 20)

/**
 * udamon__masim_parse_buf() - parse a masim config held in memory.
 * @buf: the text (need not be NUL-terminated).
 * @len: its length in bytes.
 * @name: file name for messages.
 * @default_mode: mode of patterns without the fifth field.
 * @cfgp: gets the new config on success; free with udamon__masim_free().
 * @errbuf: gets "<name>:<line>: <problem>" on failure (may be NULL).
 * @errlen: size of @errbuf.
 *
 * Return: 0, -EINVAL for a malformed config, -ENOMEM.
 */
int udamon__masim_parse_buf(const char *buf, size_t len, const char *name,
			    enum masim_rw_mode default_mode,
			    struct masim_config **cfgp, char *errbuf,
			    size_t errlen);

/**
 * udamon__masim_parse_file() - read and parse the masim config at @path.
 *
 * Like udamon__masim_parse_buf(), plus the errors of opening and reading
 * the file (-ENOENT, -EACCES, -EFBIG above MASIM_MAX_FILE_SIZE ...), whose
 * messages name the file too.
 */
int udamon__masim_parse_file(const char *path, enum masim_rw_mode default_mode,
			     struct masim_config **cfgp, char *errbuf,
			     size_t errlen);

/** udamon__masim_free() - free a parsed config (NULL is fine). */
void udamon__masim_free(struct masim_config *cfg);

/** udamon__masim_rw_mode_name() - "ro", "wo" or "rw". */
const char *udamon__masim_rw_mode_name(enum masim_rw_mode mode);

/**
 * udamon__masim_rw_mode_from_name() - parse "ro", "wo" or "rw" exactly.
 * Return: 0 or -EINVAL.
 */
int udamon__masim_rw_mode_from_name(const char *name, enum masim_rw_mode *mode);

/** udamon__masim_total_ms() - the summed duration of all phases. */
unsigned long long udamon__masim_total_ms(const struct masim_config *cfg);

/** udamon__masim_region_idx() - index of the region named @name, or -1. */
int udamon__masim_region_idx(const struct masim_config *cfg, const char *name);

#endif /* UDAMON_OPS_MASIM_H */
