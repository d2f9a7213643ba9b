/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replay workloads for the sim operations set: the abstract input every
 * replayed workload is turned into, and its readers.
 *
 * A replay is a series of snapshots.  Snapshot k covers the time window
 * [start_ns, end_ns) (windows follow each other without gaps, the first
 * starting at 0) and lists address ranges [start, end) with the number of
 * samples of one aggregation window that saw an access, out of
 * aggr_us / sample_us samples.  Ranges of a snapshot are sorted and do
 * not overlap; memory no snapshot lists is never accessed.
 *
 * Two kinds (see docs/design.md, "Replay"):
 *   - recorded (exact == false): the snapshots are DAMON's own estimate;
 *     the sim gives every page of a range a Poisson access rate that makes
 *     one sample per sampling interval see an access with the recorded
 *     frequency nr_accesses / (aggr_us / sample_us);
 *   - exact (exact == true): every page of a listed range was accessed in
 *     that window (a page-access trace binned into windows); the sim's
 *     access checks answer from it without chance.
 *
 * Readers: udamon__replay_from_record() (udamon records, src/record),
 * udamon__replay_parse_trace() (the page-access trace format below).  A
 * reader of damo's json / json_compressed records plugs in as one call in
 * udamon__replay_parse_buf(), where the format is sniffed ("damo"): read
 * into a struct udamon_record, then udamon__replay_from_rec().
 *
 * The trace format ("udamon-trace 1"), a text file:
 *
 *   # comments: lines whose first non-blank character is '#'; blank lines
 *   udamon-trace 1            <- the first other line, exactly
 *   quantum_ns Q              <- optional header: window length (default
 *                                1000000 = 1 ms, 1000 <= Q <= 10^10)
 *   duration_ns D             <- optional header: length of the trace
 *                                (default: the end of the last access's
 *                                window; D >= last time + 1)
 *   TIME_NS ADDR [r|w]        <- one access a line, after the headers:
 *                                TIME_NS decimal, non-decreasing; ADDR hex
 *                                with 0x or decimal, below 2^47; the r/w
 *                                label is optional and informational
 *
 * Accesses are binned into windows of Q ns, page-granular (4 KiB): a page
 * accessed at any time in [kQ, (k+1)Q) is accessed in window k.
 */
#ifndef UDAMON_OPS_REPLAY_H
#define UDAMON_OPS_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** UDAMON_TRACE_MAGIC - first line of a page-access trace, before " 1". */
#define UDAMON_TRACE_MAGIC "udamon-trace"
/* Largest replay input (record or trace) read. */
#define UDAMON_REPLAY_MAX_FILE_SIZE (512UL << 20)
/* Default and bounds of a trace's quantum_ns. */
#define UDAMON_TRACE_DEFAULT_QUANTUM_NS 1000000ULL
#define UDAMON_TRACE_MIN_QUANTUM_NS 1000ULL
#define UDAMON_TRACE_MAX_QUANTUM_NS 10000000000ULL
/* Highest address a replay may use: the 47-bit x86-64 user space. */
#define UDAMON_REPLAY_ADDR_LIMIT (1UL << 47)
/* Most snapshots (windows) a replay may have: bounds the model's memory. */
#define UDAMON_REPLAY_MAX_SNAPSHOTS (1UL << 20)

/** struct sim_replay_region - one accessed address range of a snapshot. */
struct sim_replay_region {
	unsigned long start;
	unsigned long end;
	unsigned int nr_accesses;
};

/**
 * struct sim_replay_snapshot - one window of a replay.
 * @start_ns: window start (the previous window's @end_ns; 0 for the first).
 * @end_ns: window end (> @start_ns).
 * @sample_us: sampling interval the counts refer to (> 0).
 * @aggr_us: aggregation interval (>= @sample_us).
 * @nr_regions: number of @regions.
 * @regions: sorted, disjoint, page-aligned, non-empty.
 */
struct sim_replay_snapshot {
	uint64_t start_ns;
	uint64_t end_ns;
	unsigned long sample_us;
	unsigned long aggr_us;
	unsigned int nr_regions;
	struct sim_replay_region *regions;
};

/**
 * struct sim_replay - a replayed workload.
 * @name: the input's name, for messages and phase names.
 * @kind: "record", "trace" (or "damo" once a damo reader plugs in).
 * @exact: the snapshots are exact page-access sets (a trace).
 * @merge_gap: address ranges closer than this become one workload region.
 * @nr_snapshots: number of @snapshots (>= 1).
 * @snapshots: the windows, in time order.
 * @nr_accesses: number of accesses read (traces; informational).
 */
struct sim_replay {
	char *name;
	const char *kind;
	bool exact;
	unsigned long merge_gap;
	size_t nr_snapshots;
	struct sim_replay_snapshot *snapshots;
	unsigned long long nr_accesses;
};

/** udamon__replay_free() - free a replay (NULL is fine). */
void udamon__replay_free(struct sim_replay *rp);

/**
 * udamon__replay_sniff() - which replay format @buf holds, if any.
 * Return: "record", "trace", "damo" (a JSON or gzip file: damo's
 * json / json_compressed record formats) or NULL (not a replay: a masim
 * config).
 */
const char *udamon__replay_sniff(const char *buf, size_t len);

/**
 * udamon__replay_parse_buf() - read a replay of any known format.
 * @errbuf: gets "<name>[:<line>]: <problem>" on failure.
 * Return: 0, -EINVAL (malformed), -EOPNOTSUPP (a format without a reader
 * here, e.g. damo's, until one is connected), -ENOMEM.
 */
int udamon__replay_parse_buf(const char *buf, size_t len, const char *name,
			     struct sim_replay **rpp, char *errbuf,
			     size_t errlen);

/** udamon__replay_parse_trace() - read a page-access trace. */
int udamon__replay_parse_trace(const char *buf, size_t len, const char *name,
			       struct sim_replay **rpp, char *errbuf,
			       size_t errlen);

/**
 * udamon__replay_from_record() - read a udamon record (text in @buf) as a
 * replay of its first target.
 */
int udamon__replay_from_record(const char *buf, size_t len, const char *name,
			       struct sim_replay **rpp, char *errbuf,
			       size_t errlen);

struct udamon_record;
/**
 * udamon__replay_from_rec() - a replay of the first target of a record
 * read into memory (by udamon_record_parse(), or by a reader of another
 * record format into the same struct): each snapshot a window ending at
 * its end_ns, regions rounded out to whole pages, the snapshot's own
 * sample_us and aggr_us.
 * @kind: "record", "damo" ... (static string, kept).
 */
int udamon__replay_from_rec(const struct udamon_record *rec, const char *name,
			    const char *kind, struct sim_replay **rpp,
			    char *errbuf, size_t errlen);

/**
 * udamon__replay_validate() - check the invariants above (every reader's
 * result goes through it, so a new reader cannot break the sim).
 */
int udamon__replay_validate(const struct sim_replay *rp, char *errbuf,
			    size_t errlen);

/**
 * udamon__read_file() - read the whole file at @path, up to @max bytes.
 * @bufp: gets a malloc'ed buffer (NUL-terminated one past *@lenp).
 * Return: 0, -errno of open/read, -EFBIG above @max (message in @errbuf).
 */
int udamon__read_file(const char *path, size_t max, char **bufp, size_t *lenp,
		      char *errbuf, size_t errlen);

#endif /* UDAMON_OPS_REPLAY_H */
