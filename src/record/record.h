/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Records of DAMON monitoring results: a versioned, line-based file of
 * aggregated snapshots and pause/resume events (docs/record-format.md),
 * its writer, a validating reader, a recorder that turns a context's
 * damon_aggregated events into snapshots, damo JSON export, and the report
 * computations (heatmap grid, working set sizes, region tables).
 *
 * Map of this header:
 *   1. the in-memory record (header, snapshots, events)
 *   2. writing: writer and recorder
 *   3. reading and validation
 *   4. export to damo's JSON record format
 *   5. reports: heatmap grid, working set size, hottest/coldest table
 *
 * Like the rest of libudamon, nothing here prints or exits; functions return
 * 0 or a negative errno and put a human-readable message in a caller's
 * buffer where a message helps.
 */
#ifndef UDAMON_RECORD_H
#define UDAMON_RECORD_H

#include <udamon/damon.h>

#include <stdio.h>

/** UDAMON_RECORD_VERSION - the record format version this code writes. */
#define UDAMON_RECORD_VERSION 1
/** UDAMON_RECORD_MAGIC - the first line of every record, before the version. */
#define UDAMON_RECORD_MAGIC "udamon-record"

/* ------------------------------------------------------------------ */
/* 1. The in-memory record                                             */
/* ------------------------------------------------------------------ */

/**
 * struct udamon_record_header - what was monitored, and how.
 * @created: wall-clock time (Unix seconds) when the record was started.
 * @virtual_clock: the context ran on a virtual clock.
 * @ops: operations set name ("sim", "vaddr" ...).
 * @source: access source, as damon_access_source_name() says it ("sim",
 *          "uffd-wp (writes only)" ...).
 * @workload: sim workload config path, or NULL.
 * @command: the monitored command line, or NULL.
 * @seed: the context's PRNG seed.
 * @update_us: ops update interval.
 * @min_nr_regions: lower bound of the number of regions.
 * @max_nr_regions: upper bound of it.
 * @intervals_goal: intervals auto-tuning goal.
 * @nr_targets: number of targets.
 * @pids: pid of every target (0 where there is none); @nr_targets entries.
 */
struct udamon_record_header {
	int64_t created;
	bool virtual_clock;
	char *ops;
	char *source;
	char *workload;
	char *command;
	uint64_t seed;
	unsigned long update_us;
	unsigned long min_nr_regions;
	unsigned long max_nr_regions;
	struct damon_intervals_goal intervals_goal;
	unsigned int nr_targets;
	int *pids;
};

/**
 * struct udamon_record_region - one region of a snapshot.
 * @start: first address.
 * @end: one past the last address.
 * @nr_accesses: samples of the aggregation window that saw an access.
 * @age: aggregation intervals the access pattern stayed similar.
 */
struct udamon_record_region {
	unsigned long start;
	unsigned long end;
	unsigned int nr_accesses;
	unsigned int age;
};

/**
 * struct udamon_record_tsnap - the regions of one target in a snapshot.
 * @nr_regions: number of @regions.
 * @regions: sorted, non-overlapping.
 */
struct udamon_record_tsnap {
	unsigned int nr_regions;
	struct udamon_record_region *regions;
};

/**
 * struct udamon_record_snapshot - one aggregation window.
 * @seq: index of the snapshot in the record (0, 1, 2 ...).
 * @start_ns: window start, ns since the record started (the previous
 *            snapshot's @end_ns, 0 for the first).
 * @end_ns: window end (the aggregation reset), ns since the record started.
 * @sample_us: sampling interval in effect at the end of the window.
 * @aggr_us: aggregation interval in effect at the end of the window.
 * @nr_targets: number of @targets (the header's).
 * @targets: per-target regions, in target order.
 */
struct udamon_record_snapshot {
	unsigned long seq;
	uint64_t start_ns;
	uint64_t end_ns;
	unsigned long sample_us;
	unsigned long aggr_us;
	unsigned int nr_targets;
	struct udamon_record_tsnap *targets;
};

/**
 * enum udamon_record_event_type - things that happen between snapshots.
 * @UDAMON_RECORD_EV_PAUSE: the context was paused (monitoring stops).
 * @UDAMON_RECORD_EV_RESUME: the context was resumed.
 * @UDAMON_RECORD_EV_STOP: recording ended normally; @arg says why.
 * @UDAMON_RECORD_EV_EXEC: a monitored process called execve() and is
 *                         followed into the new program; @arg is
 *                         "PID:PROGRAM" (the program's file name, with
 *                         characters outside a word replaced by '_').
 */
enum udamon_record_event_type {
	UDAMON_RECORD_EV_PAUSE,
	UDAMON_RECORD_EV_RESUME,
	UDAMON_RECORD_EV_STOP,
	UDAMON_RECORD_EV_EXEC,
	NR_UDAMON_RECORD_EVS,
};

/**
 * struct udamon_record_event - one event.
 * @type: what happened.
 * @time_ns: when, ns since the record started.
 * @after_seq: number of snapshots written before the event.
 * @arg: a word describing it (stop reason), or NULL.
 */
struct udamon_record_event {
	enum udamon_record_event_type type;
	uint64_t time_ns;
	unsigned long after_seq;
	char *arg;
};

/**
 * enum udamon_record_format - what kind of file a record was read from.
 * @UDAMON_RECORD_FMT_UDAMON: udamon's own record format.
 * @UDAMON_RECORD_FMT_DAMO_JSON: damo's "json" record.
 * @UDAMON_RECORD_FMT_DAMO_JSON_COMPRESSED: damo's "json_compressed" record
 *                                          (the JSON, zlib-compressed).
 */
enum udamon_record_format {
	UDAMON_RECORD_FMT_UDAMON,
	UDAMON_RECORD_FMT_DAMO_JSON,
	UDAMON_RECORD_FMT_DAMO_JSON_COMPRESSED,
};

/**
 * struct udamon_record - a whole record, as read back.
 * @format: the kind of file it was read from.
 * @version: format version of the file (0 for damo's records).
 * @has_header: the header block was complete (false only for a record cut
 *              before its header was written).
 * @hdr: the header.
 * @nr_snapshots: number of @snapshots.
 * @snapshots: complete snapshots, in order.
 * @nr_events: number of @events.
 * @events: complete events, in order.
 * @truncated: the file ended inside a block or before the header was
 *             complete (a crash or a cut); everything before @valid_bytes
 *             was read.
 * @valid_bytes: bytes of complete blocks.
 * @file_bytes: size of the input.
 */
struct udamon_record {
	enum udamon_record_format format;
	unsigned int version;
	bool has_header;
	struct udamon_record_header hdr;
	size_t nr_snapshots;
	struct udamon_record_snapshot *snapshots;
	size_t nr_events;
	struct udamon_record_event *events;
	bool truncated;
	size_t valid_bytes;
	size_t file_bytes;
};

/** udamon_record_free() - free a record read back (NULL is fine). */
DAMON_API void udamon_record_free(struct udamon_record *rec);

/** udamon_record_event_name() - "pause", "resume" or "stop". */
DAMON_API const char *
udamon_record_event_name(enum udamon_record_event_type type);

/**
 * udamon_record_duration_ns() - end of the last snapshot or event, the
 * time span the record covers.
 */
DAMON_API uint64_t udamon_record_duration_ns(const struct udamon_record *rec);

/**
 * struct udamon_record_pause - one paused period of a record.
 * @start_ns: when the pause took effect.
 * @end_ns: when monitoring resumed (or the record ended).
 * @automatic: an automatic pause (every target stopped or frozen; the
 *             events carry the argument "auto"), not the user's.
 */
struct udamon_record_pause {
	uint64_t start_ns;
	uint64_t end_ns;
	bool automatic;
};

/**
 * udamon_record_pauses() - the paused periods of @rec, from its events.
 * @out: gets a malloc'ed array (NULL when there is none); free() it.
 * @nr: gets its length.
 * Return: 0 or -ENOMEM.
 */
DAMON_API int udamon_record_pauses(const struct udamon_record *rec,
				   struct udamon_record_pause **out,
				   size_t *nr);

/* ------------------------------------------------------------------ */
/* 2. Writing                                                          */
/* ------------------------------------------------------------------ */

struct udamon_record_writer;

/**
 * udamon_record_writer_open() - create (or truncate) the record at @path
 * and write its version line and header.
 * @hdr: the header; @hdr->nr_targets must be at least 1.
 * @wp: gets the writer.
 *
 * Every later block (snapshot, event) is formatted in memory and written
 * with one write(), so a crash leaves at most one partial block at the
 * end, which readers detect and drop.
 *
 * Return: 0, -EINVAL for a bad header, or the errno of creating/writing.
 */
DAMON_API int udamon_record_writer_open(const char *path,
					const struct udamon_record_header *hdr,
					struct udamon_record_writer **wp);
/**
 * udamon_record_writer_fdopen() - udamon_record_writer_open() on an open
 * file descriptor, which the writer owns (closes) from then on.
 */
DAMON_API int
udamon_record_writer_fdopen(int fd, const struct udamon_record_header *hdr,
			    struct udamon_record_writer **wp);
/**
 * udamon_record_write_snapshot() - append one snapshot.
 *
 * @snap->seq must be the number of snapshots written so far; its times must
 * not go backwards; its regions must be sorted and non-overlapping;
 * @snap->nr_targets must equal the header's.
 * Return: 0, -EINVAL for a snapshot that would not read back, or an errno
 * of writing.
 */
DAMON_API int
udamon_record_write_snapshot(struct udamon_record_writer *w,
			     const struct udamon_record_snapshot *snap);
/**
 * udamon_record_write_event() - append one event at @time_ns.
 * @arg: one word without blanks (stop reason), or NULL.
 * Return: 0, -EINVAL (pause while paused, resume while running, time going
 * backwards, a bad @arg), or an errno of writing.
 */
DAMON_API int udamon_record_write_event(struct udamon_record_writer *w,
					enum udamon_record_event_type type,
					uint64_t time_ns, const char *arg);
/** udamon_record_writer_nr_snapshots() - snapshots written so far. */
DAMON_API unsigned long
udamon_record_writer_nr_snapshots(const struct udamon_record_writer *w);
/** udamon_record_writer_bytes() - bytes written so far. */
DAMON_API uint64_t
udamon_record_writer_bytes(const struct udamon_record_writer *w);
/**
 * udamon_record_writer_close() - close the file and free the writer.
 * Return: 0, or the errno of closing (e.g. a delayed write error).
 */
DAMON_API int udamon_record_writer_close(struct udamon_record_writer *w);

struct udamon_recorder;

/**
 * udamon_recorder_new() - turn @ctx's aggregation events into snapshots.
 * @ctx: the context; the recorder installs itself as its event function
 *       (damon_set_event_fn()), so call this before the context starts.
 * @w: the writer (still owned by the caller).
 * @t0_ns: context clock time (damon_now_ns()) that is time 0 of the record.
 * @rp: gets the recorder.
 *
 * Every damon_aggregated event of one aggregation reset becomes one snapshot
 * of all targets.  The recorder runs on the kdamond thread; so must
 * udamon_recorder_event() calls while the context runs (e.g. from a
 * damon_call() callback).  Write errors are kept (first one wins) and
 * reported by udamon_recorder_error().
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
DAMON_API int udamon_recorder_new(struct damon_ctx *ctx,
				  struct udamon_record_writer *w,
				  uint64_t t0_ns, struct udamon_recorder **rp);
/**
 * udamon_recorder_event() - write a pause, resume or stop event at the
 * context clock's current time, after any snapshot still being collected.
 * After a stop event the recorder drops further snapshots, so a record
 * ends exactly where its stop event says.
 * Return: 0, -EINVAL (after stop; pause while paused ...), write errors.
 */
DAMON_API int udamon_recorder_event(struct udamon_recorder *rec,
				    enum udamon_record_event_type type,
				    const char *arg);
/**
 * udamon_recorder_set_t0() - move the record's time 0 to context clock
 * time @t0_ns, for a clock that jumped before the first snapshot (a
 * virtual clock set by a restored checkpoint).  Kdamond thread only.
 */
DAMON_API void udamon_recorder_set_t0(struct udamon_recorder *rec,
				      uint64_t t0_ns);
/** udamon_recorder_flush() - write a snapshot still being collected. */
DAMON_API int udamon_recorder_flush(struct udamon_recorder *rec);
/** udamon_recorder_error() - the first write error (0: none). */
DAMON_API int udamon_recorder_error(const struct udamon_recorder *rec);
/** udamon_recorder_nr_snapshots() - snapshots written (any thread). */
DAMON_API unsigned long
udamon_recorder_nr_snapshots(const struct udamon_recorder *rec);
/** udamon_recorder_last_nr_regions() - regions in the last snapshot. */
DAMON_API unsigned long
udamon_recorder_last_nr_regions(const struct udamon_recorder *rec);
/**
 * udamon_recorder_destroy() - flush, detach from the context (which must
 * not run any more) and free.  The writer stays open.
 */
DAMON_API void udamon_recorder_destroy(struct udamon_recorder *rec);

/* ------------------------------------------------------------------ */
/* 3. Reading                                                          */
/* ------------------------------------------------------------------ */

/**
 * udamon_record_parse() - read a record from memory.
 * @buf: the bytes of the record file.
 * @len: their number.
 * @name: file name used in messages.
 * @recp: gets the record on success.
 * @err: gets "NAME:OFFSET: problem" on failure.
 *
 * Every field is validated.  A record cut inside a block (by a crash, a
 * full disk, a copy of a file still being written) is not an error: the
 * complete blocks before the cut are returned with @truncated set.
 * Anything else that is not a valid record is -EINVAL (bad magic, newer
 * version, malformed or out-of-range field, checksum mismatch, snapshots
 * out of order, overlapping regions ...), with the offset of the line at
 * fault.
 *
 * Return: 0, -EINVAL or -ENOMEM.
 */
DAMON_API int udamon_record_parse(const char *buf, size_t len, const char *name,
				  struct udamon_record **recp, char *err,
				  size_t errlen);
/** UDAMON_RECORD_MAX_BYTES - the largest record udamon_record_read() reads. */
#define UDAMON_RECORD_MAX_BYTES (1UL << 30)
/**
 * udamon_record_read() - udamon_record_parse() of the file at @path, or
 * udamon_record_parse_damo() when the file starts like one of damo's
 * records (JSON text, or a zlib stream).
 *
 * Reading is bounded: devices are refused (-EINVAL), input that does not
 * begin like a record or holds a control byte is not read further than
 * that, and nothing is read past UDAMON_RECORD_MAX_BYTES (-EFBIG).
 * Return: as udamon_record_parse(), or the errno of reading the file
 * (with @err naming it).
 */
DAMON_API int udamon_record_read(const char *path, struct udamon_record **recp,
				 char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* 4. damo JSON                                                        */
/* ------------------------------------------------------------------ */

/**
 * udamon_record_parse_damo() - read one of damo's records from memory:
 * "json" (a JSON list of per-target records, each with intervals and
 * snapshots of regions) or "json_compressed" (that JSON compressed with
 * zlib), told apart by their first bytes.
 * @buf, @len, @name, @recp, @err, @errlen: as udamon_record_parse().
 *
 * The per-target records become the targets of one record, in the order
 * of their first appearance (by kdamond, context and target_id), with one
 * snapshot for every distinct snapshot end time.  Times become ns since
 * the earliest snapshot start.  nr_accesses is taken in samples (or from
 * the percentage when only that is there), age in aggregation intervals
 * (or from usec).  Every field is validated: a value of the wrong type,
 * a region with start >= end, overlapping regions, a snapshot that ends
 * before it starts, or a record whose snapshots go back in time is
 * -EINVAL with a message naming it.  damo's records hold no pause events.
 *
 * Return: 0, -EINVAL, -EFBIG (decompresses to more than
 * UDAMON_RECORD_MAX_BYTES) or -ENOMEM.
 */
DAMON_API int udamon_record_parse_damo(const char *buf, size_t len,
				       const char *name,
				       struct udamon_record **recp, char *err,
				       size_t errlen);

/**
 * udamon_record_export_damo() - write @rec as damo's JSON record format
 * (a list of per-target records with snapshots of regions) to @out;
 * with @compressed, damo's "json_compressed" (the same JSON, compressed
 * with zlib).
 *
 * One damo record per target and run of equal intervals (damo keeps one
 * intervals object per record).  Times are ns since the record started.
 * Pause periods have no place in damo's format; they show as a gap-free
 * snapshot that spans the pause.
 * Return: 0, -ENOMEM, or -EIO if writing @out failed.
 */
DAMON_API int udamon_record_export_damo(const struct udamon_record *rec,
					FILE *out, bool compressed);
/** udamon_record_export_damo_json() - udamon_record_export_damo(), plain. */
DAMON_API int udamon_record_export_damo_json(const struct udamon_record *rec,
					     FILE *out);

/* ------------------------------------------------------------------ */
/* 5. Reports                                                          */
/* ------------------------------------------------------------------ */

/**
 * udamon_record_freq_pct() - access frequency of @r in percent of the
 * samples of its window (nr_accesses * sample_us / aggr_us * 100).
 */
DAMON_API double
udamon_record_freq_pct(const struct udamon_record_snapshot *snap,
		       const struct udamon_record_region *r);

/**
 * struct udamon_heatmap - access frequency over time and address space.
 * @nr_time: number of time slots (rows of the grid).
 * @nr_addr: number of address slots (columns).
 * @t_start: start of the first time slot, ns since the record started.
 * @t_end: end of the last one.
 * @freq: @nr_time x @nr_addr cells, row-major by time: the access
 *        frequency in percent (see udamon_record_freq_pct()), averaged
 *        over the bytes and time of the regions covering the cell, or a
 *        negative value where no region covered it.
 * @paused: per time slot: at least half of it was paused.
 * @auto_paused: per time slot: paused, and more of it automatically (all
 *               targets stopped or frozen) than by the user.
 * @max_freq: largest cell value (0 when nothing was accessed).
 * @nr_spans: number of @spans.
 * @spans: the address intervals the address axis covers, in order; with
 *         gap compression these are the union of all regions and the gaps
 *         between them are left out of the axis.
 * @total_bytes: sum of the span sizes; address slot j covers offsets
 *               [j * total_bytes / nr_addr, (j + 1) * ...) of the
 *               concatenated spans.
 */
struct udamon_heatmap {
	unsigned int nr_time;
	unsigned int nr_addr;
	uint64_t t_start;
	uint64_t t_end;
	double *freq;
	bool *paused;
	bool *auto_paused;
	double max_freq;
	unsigned int nr_spans;
	struct damon_addr_range *spans;
	unsigned long total_bytes;
};

/**
 * struct udamon_heatmap_opts - what part of a record a heatmap shows.
 * @target: target index.
 * @nr_time: time slots (>= 1).
 * @nr_addr: address slots (>= 1).
 * @t_start: first ns to show.
 * @t_end: last ns to show; 0 means the end of the record.
 * @addr_start: lowest address to show.
 * @addr_end: highest address to show; 0 means no limit.
 * @keep_gaps: map the whole address range linearly instead of leaving
 *             out the gaps between regions.
 * @only_accessed: build the address axis from regions that saw at least
 *                 one access, leaving out ranges never seen accessed
 *                 (e.g. the unused parts of a process's address space).
 */
struct udamon_heatmap_opts {
	unsigned int target;
	unsigned int nr_time;
	unsigned int nr_addr;
	uint64_t t_start;
	uint64_t t_end;
	unsigned long addr_start;
	unsigned long addr_end;
	bool keep_gaps;
	bool only_accessed;
};

/**
 * udamon_heatmap_build() - compute the heatmap grid of @rec.
 * Return: 0, -EINVAL (bad options, no snapshot, target out of range, empty
 * time or address range), -ENOMEM.
 */
DAMON_API int udamon_heatmap_build(const struct udamon_record *rec,
				   const struct udamon_heatmap_opts *opts,
				   struct udamon_heatmap **hmp);
/** udamon_heatmap_free() - free a heatmap (NULL is fine). */
DAMON_API void udamon_heatmap_free(struct udamon_heatmap *hm);
/**
 * udamon_heatmap_level() - a cell as one of @nr_levels levels: -1 without
 * data, 0 for no access, 1 .. @nr_levels - 1 for frequencies scaled
 * linearly to the heatmap's maximum (any access is at least 1).
 */
DAMON_API int udamon_heatmap_level(const struct udamon_heatmap *hm,
				   unsigned int ti, unsigned int ai,
				   int nr_levels);
/**
 * udamon_heatmap_slot_addr() - the real address at the start of address
 * slot @ai (undoing gap compression).
 */
DAMON_API unsigned long
udamon_heatmap_slot_addr(const struct udamon_heatmap *hm, unsigned int ai);

/**
 * udamon_record_wss() - working set size of every snapshot of a target.
 * @min_nr_accesses: a region belongs to the working set if its
 *                   nr_accesses is at least this (usually 1).
 * @wss: gets a malloc'ed array of @rec->nr_snapshots sizes in bytes.
 * Return: 0, -EINVAL (target out of range), -ENOMEM.
 */
DAMON_API int udamon_record_wss(const struct udamon_record *rec,
				unsigned int target,
				unsigned int min_nr_accesses,
				unsigned long **wss);
/**
 * udamon_wss_percentile() - the @pct-th percentile (0..100, nearest rank)
 * of @nr sizes that are sorted ascending.  0 for @nr == 0.
 */
DAMON_API unsigned long udamon_wss_percentile(const unsigned long *sorted,
					      size_t nr, unsigned int pct);

/**
 * udamon_record_snapshot_at() - index of the snapshot whose window holds
 * @time_ns (the last one if @time_ns is past the end), or -EINVAL when
 * @rec has no snapshot.
 */
DAMON_API long udamon_record_snapshot_at(const struct udamon_record *rec,
					 uint64_t time_ns);

/**
 * udamon_record_table() - the regions of one snapshot's target, sorted
 * hottest first (nr_accesses descending, then age descending: hot for
 * longer is hotter) or, with @coldest, coldest first (nr_accesses
 * ascending, then age descending: cold for longer is colder); ties by
 * address.
 * @rows: gets a malloc'ed copy of the regions, sorted.
 * @nr: gets their number.
 * Return: 0, -EINVAL (snapshot or target out of range), -ENOMEM.
 */
DAMON_API int udamon_record_table(const struct udamon_record *rec,
				  size_t snapshot, unsigned int target,
				  bool coldest,
				  struct udamon_record_region **rows,
				  size_t *nr);

#endif /* UDAMON_RECORD_H */
