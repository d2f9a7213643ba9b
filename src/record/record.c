// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The record file format of udamon, writing side: writer and recorder
 * (damon_aggregated events to snapshots).  The format itself is
 * described in docs/record-format.md; in short:
 *
 *   udamon-record 1                      <- magic and version line
 *   header                               <- header block
 *   clock virtual
 *   ...
 *   end 0ce77c48                         <- CRC-32 of the block's lines
 *   snapshot 0 0 100000000 5000 100000   <- snapshot block
 *   target 0 2
 *   0x100000000 0x100a00000 20 0
 *   0x100a01000 0x101401000 0 7
 *   end 775a17db
 *   event pause 12000000000              <- event block
 *   end 88310dcb
 *
 * Every block ends with an "end" line holding the CRC-32 (zlib's) of the
 * block's bytes before that line.  A block is written with one write(), so
 * a crash leaves at most one partial block, at the end, where the reader
 * recognises it as a cut and returns what came before.
 *
 * This file writes records; record-read.c reads them back, and
 * record-internal.h holds what both sides share (the CRC-32 of a block,
 * what a word is).
 *
 * Map: 1. small helpers (escaping, write_all)  2. writer  3. recorder.
 */
#include "record/record.h"
#include "record/record-internal.h"
#include "sys/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* 1. Helpers                                                          */
/* ------------------------------------------------------------------ */

/* Append @s with control bytes, DEL and '%' as %XX (one line, printable). */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '%')
			fprintf(f, "%%%02X", c);
		else
			fputc(c, f);
	}
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* 2. Writer                                                           */
/* ------------------------------------------------------------------ */

struct udamon_record_writer {
	int fd;
	unsigned int nr_targets;
	unsigned long nr_snapshots;
	uint64_t last_time_ns;
	uint64_t last_end_ns;
	bool paused;
	bool stopped;
	uint64_t bytes;
	/*
	 * The block being formatted: a memory stream (open_memstream()), so
	 * that the block goes out with one write().
	 */
	FILE *blk;
	char *blk_buf;
	size_t blk_len;
	int err; /* sticky: the first failed write */
};

/* End the block formatted so far with its "end <crc>" line. */
static void end_block(struct udamon_record_writer *w)
{
	if (fflush(w->blk))
		return;
	fprintf(w->blk, "end %08" PRIx32 "\n",
		rec_crc32(w->blk_buf, w->blk_len));
}

/*
 * Write the pending block.  A failure sticks: after a partial block the
 * file must end there, so that readers see a cut record (readable up to
 * the last complete block) rather than a block after a torn one.
 */
static int writer_flush(struct udamon_record_writer *w)
{
	/* A block that could not be formatted (memory) is not written. */
	int fmt_err = fflush(w->blk) || ferror(w->blk) ? -ENOMEM : 0;
	int err = w->err ? w->err : fmt_err;

	if (!err)
		err = write_all(w->fd, w->blk_buf, w->blk_len);
	if (!err)
		__atomic_add_fetch(&w->bytes, w->blk_len, __ATOMIC_RELAXED);
	else if (!fmt_err)
		w->err = err;
	clearerr(w->blk);
	/* Back to the start: the next block overwrites this one. */
	if (fseeko(w->blk, 0, SEEK_SET) && !err)
		err = -EIO;
	return err;
}

static int header_valid(const struct udamon_record_header *hdr)
{
	if (!hdr || !hdr->nr_targets || !hdr->pids || !hdr->ops ||
	    !hdr->source || !hdr->source[0] ||
	    !is_word(hdr->ops, strlen(hdr->ops)))
		return -EINVAL;
	if (hdr->min_nr_regions > hdr->max_nr_regions)
		return -EINVAL;
	return 0;
}

int udamon_record_writer_fdopen(int fd, const struct udamon_record_header *hdr,
				struct udamon_record_writer **wp)
{
	struct udamon_record_writer *w;
	const struct damon_intervals_goal *g;
	unsigned int i;
	int err;

	err = header_valid(hdr);
	if (err) {
		close(fd);
		return err;
	}
	w = udamon__calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		return -ENOMEM;
	}
	w->fd = fd;
	w->nr_targets = hdr->nr_targets;
	w->blk = open_memstream(&w->blk_buf, &w->blk_len);
	if (!w->blk) {
		close(fd);
		free(w);
		return -ENOMEM;
	}
	g = &hdr->intervals_goal;

	fprintf(w->blk, "%s %d\n", UDAMON_RECORD_MAGIC, UDAMON_RECORD_VERSION);
	/* The version line is not part of any block. */
	err = writer_flush(w);
	if (err)
		goto fail;
	fprintf(w->blk, "header\n");
	fprintf(w->blk, "created %" PRId64 "\n", hdr->created);
	fprintf(w->blk, "clock %s\n", hdr->virtual_clock ? "virtual" : "real");
	fprintf(w->blk, "ops %s\n", hdr->ops);
	fprintf(w->blk, "source ");
	put_escaped(w->blk, hdr->source);
	fprintf(w->blk, "\n");
	if (hdr->workload) {
		fprintf(w->blk, "workload ");
		put_escaped(w->blk, hdr->workload);
		fprintf(w->blk, "\n");
	}
	if (hdr->command) {
		fprintf(w->blk, "command ");
		put_escaped(w->blk, hdr->command);
		fprintf(w->blk, "\n");
	}
	fprintf(w->blk, "seed %" PRIu64 "\n", hdr->seed);
	fprintf(w->blk, "update_us %lu\n", hdr->update_us);
	fprintf(w->blk, "nr_regions %lu %lu\n", hdr->min_nr_regions,
		hdr->max_nr_regions);
	fprintf(w->blk, "intervals_goal %lu %lu %lu %lu\n", g->access_bp,
		g->aggrs, g->min_sample_us, g->max_sample_us);
	for (i = 0; i < hdr->nr_targets; i++)
		fprintf(w->blk, "target %u %d\n", i, hdr->pids[i]);
	end_block(w);
	err = writer_flush(w);
	if (err)
		goto fail;
	*wp = w;
	return 0;
fail:
	close(fd);
	fclose(w->blk);
	free(w->blk_buf);
	free(w);
	return err;
}

int udamon_record_writer_open(const char *path,
			      const struct udamon_record_header *hdr,
			      struct udamon_record_writer **wp)
{
	int fd, err;

	err = header_valid(hdr);
	if (err)
		return err;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	return udamon_record_writer_fdopen(fd, hdr, wp);
}

int udamon_record_write_snapshot(struct udamon_record_writer *w,
				 const struct udamon_record_snapshot *snap)
{
	unsigned int ti, i;
	int err;

	if (w && w->err)
		return w->err;
	if (!w || !snap || w->stopped || snap->seq != w->nr_snapshots ||
	    snap->nr_targets != w->nr_targets ||
	    snap->end_ns < snap->start_ns || snap->end_ns < w->last_time_ns ||
	    !snap->sample_us || snap->aggr_us < snap->sample_us)
		return -EINVAL;
	if (w->nr_snapshots && snap->start_ns != w->last_end_ns)
		return -EINVAL;
	for (ti = 0; ti < snap->nr_targets; ti++) {
		const struct udamon_record_tsnap *t = &snap->targets[ti];

		for (i = 0; i < t->nr_regions; i++) {
			const struct udamon_record_region *r = &t->regions[i];

			if (r->start >= r->end ||
			    (i && r->start < t->regions[i - 1].end))
				return -EINVAL;
		}
	}

	fprintf(w->blk, "snapshot %lu %" PRIu64 " %" PRIu64 " %lu %lu\n",
		snap->seq, snap->start_ns, snap->end_ns, snap->sample_us,
		snap->aggr_us);
	for (ti = 0; ti < snap->nr_targets; ti++) {
		const struct udamon_record_tsnap *t = &snap->targets[ti];

		fprintf(w->blk, "target %u %u\n", ti, t->nr_regions);
		for (i = 0; i < t->nr_regions; i++) {
			const struct udamon_record_region *r = &t->regions[i];

			fprintf(w->blk, "0x%lx 0x%lx %u %u\n", r->start, r->end,
				r->nr_accesses, r->age);
		}
	}
	end_block(w);
	err = writer_flush(w);
	if (err)
		return err;
	/* Only a written snapshot counts: the next one follows it. */
	w->last_time_ns = snap->end_ns;
	w->last_end_ns = snap->end_ns;
	__atomic_add_fetch(&w->nr_snapshots, 1, __ATOMIC_RELAXED);
	return 0;
}

int udamon_record_write_event(struct udamon_record_writer *w,
			      enum udamon_record_event_type type,
			      uint64_t time_ns, const char *arg)
{
	int err;

	if (w && w->err)
		return w->err;
	if (!w || w->stopped || (unsigned int)type >= NR_UDAMON_RECORD_EVS ||
	    time_ns < w->last_time_ns)
		return -EINVAL;
	if (arg && !is_word(arg, strlen(arg)))
		return -EINVAL;
	if ((type == UDAMON_RECORD_EV_PAUSE && w->paused) ||
	    (type == UDAMON_RECORD_EV_RESUME && !w->paused))
		return -EINVAL;

	fprintf(w->blk, "event %s %" PRIu64 "%s%s\n",
		udamon_record_event_name(type), time_ns, arg ? " " : "",
		arg ? arg : "");
	end_block(w);
	err = writer_flush(w);
	if (err)
		return err;
	w->last_time_ns = time_ns;
	if (type == UDAMON_RECORD_EV_PAUSE)
		w->paused = true;
	else if (type == UDAMON_RECORD_EV_RESUME)
		w->paused = false;
	else if (type == UDAMON_RECORD_EV_STOP)
		w->stopped = true;
	return 0;
}

unsigned long
udamon_record_writer_nr_snapshots(const struct udamon_record_writer *w)
{
	return __atomic_load_n(&w->nr_snapshots, __ATOMIC_RELAXED);
}

uint64_t udamon_record_writer_bytes(const struct udamon_record_writer *w)
{
	return __atomic_load_n(&w->bytes, __ATOMIC_RELAXED);
}

int udamon_record_writer_close(struct udamon_record_writer *w)
{
	int err = 0;

	if (!w)
		return 0;
	if (close(w->fd))
		err = -errno;
	fclose(w->blk);
	free(w->blk_buf);
	free(w);
	return err;
}

/* ------------------------------------------------------------------ */
/* 3. Recorder                                                         */
/* ------------------------------------------------------------------ */

/* Regions of one target collected from the events of one reset. */
struct rec_tcollect {
	struct udamon_record_region *regions;
	unsigned int nr;
	unsigned int cap;
};

struct udamon_recorder {
	struct damon_ctx *ctx;
	struct udamon_record_writer *w;
	uint64_t t0_ns;
	unsigned int nr_targets;
	struct rec_tcollect *tc;
	struct udamon_record_tsnap *ts;
	bool collecting;
	bool stopped;
	unsigned long cur_psi;
	uint64_t last_end_ns; /* of the last snapshot: the next one starts here */
	uint64_t last_time_ns; /* of the last snapshot or event */
	int err;
	unsigned long nr_snapshots;
	unsigned long last_nr_regions;
	/* who holds the context paused: the user, auto pause, or both */
	bool user_paused;
	bool auto_paused;
};

static uint64_t recorder_now(struct udamon_recorder *rec)
{
	uint64_t now = damon_now_ns(rec->ctx);

	now = now > rec->t0_ns ? now - rec->t0_ns : 0;
	/* Times never go backwards in a record, whatever the clock did. */
	return now < rec->last_time_ns ? rec->last_time_ns : now;
}

void udamon_recorder_set_t0(struct udamon_recorder *rec, uint64_t t0_ns)
{
	if (rec)
		rec->t0_ns = t0_ns;
}

int udamon_recorder_flush(struct udamon_recorder *rec)
{
	struct udamon_record_snapshot snap;
	unsigned long nr_regions = 0;
	unsigned int i;
	int err;

	if (!rec->collecting)
		return 0;
	rec->collecting = false;
	/* After the stop event the record is complete: drop the rest. */
	if (rec->stopped) {
		for (i = 0; i < rec->nr_targets; i++)
			rec->tc[i].nr = 0;
		return 0;
	}
	snap.seq = udamon_record_writer_nr_snapshots(rec->w);
	snap.start_ns = rec->last_end_ns;
	snap.end_ns = recorder_now(rec);
	snap.sample_us = rec->ctx->attrs.sample_interval ?
				 rec->ctx->attrs.sample_interval :
				 1;
	snap.aggr_us = rec->ctx->attrs.aggr_interval;
	if (snap.aggr_us < snap.sample_us)
		snap.aggr_us = snap.sample_us;
	snap.nr_targets = rec->nr_targets;
	snap.targets = rec->ts;
	for (i = 0; i < rec->nr_targets; i++) {
		rec->ts[i].nr_regions = rec->tc[i].nr;
		rec->ts[i].regions = rec->tc[i].regions;
		nr_regions += rec->tc[i].nr;
		rec->tc[i].nr = 0;
	}
	err = udamon_record_write_snapshot(rec->w, &snap);
	if (err) {
		if (!rec->err)
			__atomic_store_n(&rec->err, err, __ATOMIC_RELAXED);
		return err;
	}
	rec->last_end_ns = snap.end_ns;
	rec->last_time_ns = snap.end_ns;
	__atomic_store_n(&rec->last_nr_regions, nr_regions, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rec->nr_snapshots, 1, __ATOMIC_RELAXED);
	return 0;
}

/* An exec event: "PID:PROGRAM", the program's file name made a word. */
static void recorder_exec(struct udamon_recorder *rec, int pid)
{
	char path[64], prog[256], word[65];
	const char *base;
	ssize_t n;
	size_t i;
	int len;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, prog, sizeof(prog) - 1);
	prog[n > 0 ? n : 0] = '\0';
	base = strrchr(prog, '/');
	base = base ? base + 1 : prog;
	len = snprintf(word, sizeof(word), "%d:%s", pid,
		       *base ? base : "unknown");
	for (i = 0; i < (size_t)len && i < sizeof(word) - 1; i++)
		if (!is_word(&word[i], 1))
			word[i] = '_';
	udamon_recorder_event(rec, UDAMON_RECORD_EV_EXEC, word);
}

static int recorder_write_event(struct udamon_recorder *rec,
				enum udamon_record_event_type type,
				const char *arg);

/*
 * The record shows one paused period at a time, marked "auto" while only
 * the automatic pause holds the context: a change of who holds it ends
 * the period and starts the next one at the same time.
 */
static int recorder_set_paused(struct udamon_recorder *rec, bool user,
			       bool automatic)
{
	int old = rec->user_paused ? 1 : rec->auto_paused ? 2 : 0;
	int cur = user ? 1 : automatic ? 2 : 0;
	int err = 0;

	rec->user_paused = user;
	rec->auto_paused = automatic;
	if (old == cur || rec->stopped)
		return 0;
	if (old)
		err = recorder_write_event(rec, UDAMON_RECORD_EV_RESUME,
					   old == 2 ? "auto" : NULL);
	if (!err && cur)
		err = recorder_write_event(rec, UDAMON_RECORD_EV_PAUSE,
					   cur == 2 ? "auto" : NULL);
	return err;
}

static void recorder_event_fn(void *arg, struct damon_ctx *ctx,
			      const struct damon_event *ev)
{
	struct udamon_recorder *rec = arg;
	struct rec_tcollect *tc;
	struct udamon_record_region *r;

	if (ev->type == DAMON_EVENT_TARGET_EXEC) {
		recorder_exec(rec, ev->pid);
		return;
	}
	if (ev->type == DAMON_EVENT_AUTO_PAUSE ||
	    ev->type == DAMON_EVENT_AUTO_RESUME) {
		recorder_set_paused(rec, rec->user_paused,
				    ev->type == DAMON_EVENT_AUTO_PAUSE);
		return;
	}
	if (ev->type != DAMON_EVENT_AGGREGATED)
		return;
	/* A new reset while one is still open: the last target had none. */
	if (rec->collecting && ev->passed_sample_intervals != rec->cur_psi)
		udamon_recorder_flush(rec);
	if (!rec->collecting) {
		rec->collecting = true;
		rec->cur_psi = ev->passed_sample_intervals;
	}
	if (ev->target_idx >= rec->nr_targets)
		return;
	tc = &rec->tc[ev->target_idx];
	if (tc->nr == tc->cap) {
		unsigned int cap = tc->cap ? tc->cap * 2 : 64;

		r = udamon__realloc(tc->regions, cap * sizeof(*r));
		if (!r) {
			if (!rec->err)
				__atomic_store_n(&rec->err, -ENOMEM,
						 __ATOMIC_RELAXED);
			return;
		}
		tc->regions = r;
		tc->cap = cap;
	}
	r = &tc->regions[tc->nr++];
	r->start = ev->start;
	r->end = ev->end;
	r->nr_accesses = ev->nr_accesses;
	r->age = ev->age;
	/* The last region of the last target completes the snapshot. */
	if (ev->target_idx == rec->nr_targets - 1 && tc->nr >= ev->nr_regions)
		udamon_recorder_flush(rec);
}

int udamon_recorder_new(struct damon_ctx *ctx, struct udamon_record_writer *w,
			uint64_t t0_ns, struct udamon_recorder **rp)
{
	struct udamon_recorder *rec;

	if (!ctx || !w || !rp)
		return -EINVAL;
	rec = udamon__calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->ctx = ctx;
	rec->w = w;
	rec->t0_ns = t0_ns;
	rec->nr_targets = w->nr_targets;
	rec->tc = udamon__calloc(rec->nr_targets, sizeof(*rec->tc));
	rec->ts = udamon__calloc(rec->nr_targets, sizeof(*rec->ts));
	if (!rec->tc || !rec->ts) {
		free(rec->tc);
		free(rec->ts);
		free(rec);
		return -ENOMEM;
	}
	damon_set_event_fn(ctx, recorder_event_fn, rec);
	*rp = rec;
	return 0;
}

int udamon_recorder_event(struct udamon_recorder *rec,
			  enum udamon_record_event_type type, const char *arg)
{
	if (rec->stopped)
		return -EINVAL;
	/* The user's pause and resume; auto pause comes as events. */
	if (type == UDAMON_RECORD_EV_PAUSE || type == UDAMON_RECORD_EV_RESUME) {
		if (rec->user_paused == (type == UDAMON_RECORD_EV_PAUSE))
			return -EINVAL;
		return recorder_set_paused(rec, type == UDAMON_RECORD_EV_PAUSE,
					   rec->auto_paused);
	}
	return recorder_write_event(rec, type, arg);
}

static int recorder_write_event(struct udamon_recorder *rec,
				enum udamon_record_event_type type,
				const char *arg)
{
	uint64_t now;
	int err;

	udamon_recorder_flush(rec);
	now = recorder_now(rec);
	err = udamon_record_write_event(rec->w, type, now, arg);
	if (err && err != -EINVAL && !rec->err)
		__atomic_store_n(&rec->err, err, __ATOMIC_RELAXED);
	if (!err)
		rec->last_time_ns = now;
	if (!err && type == UDAMON_RECORD_EV_STOP)
		rec->stopped = true;
	return err;
}

/* Read by the recording's driver while the kdamond writes it. */
int udamon_recorder_error(const struct udamon_recorder *rec)
{
	return __atomic_load_n(&rec->err, __ATOMIC_RELAXED);
}

unsigned long udamon_recorder_nr_snapshots(const struct udamon_recorder *rec)
{
	return __atomic_load_n(&rec->nr_snapshots, __ATOMIC_RELAXED);
}

unsigned long udamon_recorder_last_nr_regions(const struct udamon_recorder *rec)
{
	return __atomic_load_n(&rec->last_nr_regions, __ATOMIC_RELAXED);
}

void udamon_recorder_destroy(struct udamon_recorder *rec)
{
	unsigned int i;

	if (!rec)
		return;
	udamon_recorder_flush(rec);
	damon_set_event_fn(rec->ctx, NULL, NULL);
	for (i = 0; i < rec->nr_targets; i++)
		free(rec->tc[i].regions);
	free(rec->tc);
	free(rec->ts);
	free(rec);
}
