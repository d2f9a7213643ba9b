// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Checkpoint and restore of a context's learned state (udamon only; the
 * kernel has nothing like it).  Pause keeps what DAMON learned while the
 * kdamond lives; a checkpoint keeps it across daemon restarts.
 *
 * The state is taken and installed at one point of the kdamond loop: where
 * it serves damon_call(), after an iteration's sample (and merge) and
 * before its DAMOS.  A paused kdamond waits at that same point, so a saved
 * and a restored context continue with the same remaining steps, and on
 * the sim with a virtual clock the continuation is bit-identical to a run
 * that was never interrupted.
 *
 * File format (all integers little endian):
 *
 *   0   8  magic "UDMNCKPT"
 *   8   4  format version (DAMON_CHECKPOINT_VERSION)
 *   12  4  CRC-32 (IEEE, as zlib's crc32()) of the payload
 *   16  8  payload length in bytes
 *   24  .. payload: a sequence of 64-bit words and, for the operations
 *          set's per-target blobs, a length word and the bytes padded to
 *          8.  Sections start with a tag word so a misparse stops early.
 *
 * Restore reads the whole file, checks it, parses it into a
 * &struct ckpt and matches it against the context before anything
 * changes; only then is it installed (ckpt_apply()).
 */
#include "core.h"
#include "sys/alloc.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#define CKPT_MAGIC "UDMNCKPT"
#define CKPT_HDR_LEN 24
/* A sanity bound on the payload (and so on what restore allocates). */
#define CKPT_MAX_PAYLOAD (1UL << 30)

/* Section tags: ASCII in a word, to be recognizable in a hex dump. */
#define CKPT_TAG_CTX 0x5854432d54504b43ULL /* "CKPT-CTX" */
#define CKPT_TAG_TGT 0x5447542d54504b43ULL /* "CKPT-TGT" */
#define CKPT_TAG_SCH 0x4843532d54504b43ULL /* "CKPT-SCH" */
#define CKPT_TAG_END 0x444e452d54504b43ULL /* "CKPT-END" */

/* ---- CRC-32 (IEEE 802.3, reflected, as zlib) ---- */

/* CRC-32 (IEEE) of @len bytes, continuing @crc: zlib's. */
uint32_t udamon__crc32(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* zlib takes the length as uInt: feed it in pieces. */
	while (len) {
		uInt n = len > (1U << 30) ? (1U << 30) : (uInt)len;

		crc = (uint32_t)crc32((uLong)crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

/* ---- writer ---- */

struct ckpt_buf {
	unsigned char *data;
	size_t len, cap;
	int err;
};

static void ckpt_put_bytes(struct ckpt_buf *b, const void *p, size_t n)
{
	size_t pad = (8 - n % 8) % 8;

	if (b->err)
		return;
	if (b->len + n + pad > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *d;

		while (cap < b->len + n + pad)
			cap *= 2;
		d = udamon__realloc(b->data, cap);
		if (!d) {
			b->err = -ENOMEM;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	memset(b->data + b->len + n, 0, pad);
	b->len += n + pad;
}

static void ckpt_put(struct ckpt_buf *b, uint64_t v)
{
	uint64_t le = htole64(v);

	ckpt_put_bytes(b, &le, sizeof(le));
}

/* ---- the parsed form ---- */

struct ckpt_region {
	unsigned long start, end, sampling_addr;
	unsigned int nr_accesses, nr_accesses_bp, last_nr_accesses, age;
	unsigned char probe_hits[DAMON_MAX_PROBES];
	unsigned char last_probe_hits[DAMON_MAX_PROBES];
};

struct ckpt_target {
	int pid;
	unsigned int nr_regions;
	struct ckpt_region *regions;
	void *ops_blob;
	size_t ops_blob_len;
};

struct ckpt_goal {
	unsigned int metric;
	unsigned long current_value;
	uint64_t last_psi_total;
};

struct ckpt_scheme {
	unsigned int action;
	struct damos_stat stat;
	unsigned long esz, total_charged_sz, charged_sz, charge_addr_from;
	uint64_t total_charged_ns, charged_from;
	bool charged_from_set;
	long charge_target_from; /* index, -1: none */
	unsigned long esz_bp;
	unsigned int min_score;
	bool wmarks_activated;
	unsigned long next_apply_sis;
	unsigned int nr_goals;
	struct ckpt_goal *goals;
};

struct ckpt {
	unsigned int ops_id;
	unsigned int nr_probes;
	bool virtual_clock;
	uint64_t now_ns;
	unsigned long sample_interval, aggr_interval, aggr_samples;
	unsigned long passed_sample_intervals, next_aggregation_sis,
		next_ops_update_sis, next_intervals_tune_sis, last_nr_regions;
	unsigned long iter_next_aggregation_sis, iter_next_ops_update_sis;
	unsigned int last_max_nr_accesses;
	unsigned long sz_limit;
	uint64_t rnd_state;
	bool pause, at_gate;
	unsigned int nr_targets, nr_schemes;
	struct ckpt_target *targets;
	struct ckpt_scheme *schemes;
};

static void ckpt_free(struct ckpt *c)
{
	unsigned int i;

	if (!c)
		return;
	for (i = 0; c->targets && i < c->nr_targets; i++) {
		free(c->targets[i].regions);
		free(c->targets[i].ops_blob);
	}
	for (i = 0; c->schemes && i < c->nr_schemes; i++)
		free(c->schemes[i].goals);
	free(c->targets);
	free(c->schemes);
	free(c);
}

/* ---- save: on the kdamond, at a call point ---- */

static void ckpt_serialize(struct damon_ctx *ctx, struct ckpt_buf *b)
{
	struct damon_target *t;
	struct damon_region *r;
	struct damos *s;
	unsigned int i;

	ckpt_put(b, CKPT_TAG_CTX);
	ckpt_put(b, ctx->ops.id);
	ckpt_put(b, damon_nr_probes(ctx));
	ckpt_put(b, ctx->virtual_clock);
	ckpt_put(b, damon_now_ns(ctx));
	ckpt_put(b, ctx->attrs.sample_interval);
	ckpt_put(b, ctx->attrs.aggr_interval);
	ckpt_put(b, ctx->attrs.aggr_samples);
	ckpt_put(b, ctx->passed_sample_intervals);
	ckpt_put(b, ctx->next_aggregation_sis);
	ckpt_put(b, ctx->next_ops_update_sis);
	ckpt_put(b, ctx->next_intervals_tune_sis);
	ckpt_put(b, ctx->last_nr_regions);
	ckpt_put(b, ctx->iter_next_aggregation_sis);
	ckpt_put(b, ctx->iter_next_ops_update_sis);
	ckpt_put(b, ctx->last_max_nr_accesses);
	ckpt_put(b, ctx->sz_limit);
	ckpt_put(b, ctx->rnd_state);
	ckpt_put(b, ctx->pause);
	ckpt_put(b, ctx->calls_at_gate);
	ckpt_put(b, damon_nr_targets(ctx));
	ckpt_put(b, damon_nr_schemes(ctx));

	damon_for_each_target(t, ctx) {
		void *blob = NULL;
		size_t blob_len = 0;

		ckpt_put(b, CKPT_TAG_TGT);
		ckpt_put(b, (uint64_t)(int64_t)t->pid);
		ckpt_put(b, damon_nr_regions(t));
		damon_for_each_region(r, t) {
			uint64_t hits = 0, last_hits = 0;

			for (i = 0; i < DAMON_MAX_PROBES; i++) {
				hits |= (uint64_t)r->probe_hits[i] << (8 * i);
				last_hits |= (uint64_t)r->last_probe_hits[i]
					     << (8 * i);
			}
			ckpt_put(b, r->ar.start);
			ckpt_put(b, r->ar.end);
			ckpt_put(b, r->sampling_addr);
			ckpt_put(b, r->nr_accesses);
			ckpt_put(b, r->nr_accesses_bp);
			ckpt_put(b, r->last_nr_accesses);
			ckpt_put(b, r->age);
			ckpt_put(b, hits);
			ckpt_put(b, last_hits);
		}
		if (ctx->ops.save_state) {
			int err = ctx->ops.save_state(ctx, t, &blob, &blob_len);

			if (err && !b->err)
				b->err = err;
		}
		ckpt_put(b, blob_len);
		if (blob_len)
			ckpt_put_bytes(b, blob, blob_len);
		free(blob);
	}

	damon_for_each_scheme(s, ctx) {
		struct damos_quota *q = &s->quota;
		struct damos_quota_goal *g;
		unsigned int nr_goals = 0;
		int tidx =
			q->charge_target_from ?
				damon_target_idx(ctx, q->charge_target_from) :
				-1;

		damos_for_each_quota_goal(g, q)
			nr_goals++;
		ckpt_put(b, CKPT_TAG_SCH);
		ckpt_put(b, s->action);
		ckpt_put(b, s->stat.nr_tried);
		ckpt_put(b, s->stat.sz_tried);
		ckpt_put(b, s->stat.nr_applied);
		ckpt_put(b, s->stat.sz_applied);
		ckpt_put(b, s->stat.sz_ops_filter_passed);
		ckpt_put(b, s->stat.qt_exceeds);
		ckpt_put(b, s->stat.nr_snapshots);
		ckpt_put(b, q->esz);
		ckpt_put(b, q->total_charged_sz);
		ckpt_put(b, q->total_charged_ns);
		ckpt_put(b, q->charged_sz);
		ckpt_put(b, q->charged_from);
		ckpt_put(b, q->charged_from_set);
		ckpt_put(b, (uint64_t)(int64_t)tidx);
		ckpt_put(b, q->charge_addr_from);
		ckpt_put(b, q->esz_bp);
		ckpt_put(b, q->min_score);
		ckpt_put(b, s->wmarks.activated);
		ckpt_put(b, s->next_apply_sis);
		ckpt_put(b, nr_goals);
		damos_for_each_quota_goal(g, q) {
			ckpt_put(b, g->metric);
			ckpt_put(b, g->current_value);
			ckpt_put(b, g->last_psi_total);
		}
	}
	ckpt_put(b, CKPT_TAG_END);
}

struct ckpt_save_call {
	struct damon_ctx *ctx;
	struct ckpt_buf buf;
};

static int ckpt_save_call_fn(void *data)
{
	struct ckpt_save_call *c = data;

	ckpt_serialize(c->ctx, &c->buf);
	return c->buf.err;
}

static bool ckpt_on_own_thread(struct damon_ctx *ctx)
{
	bool own;

	pthread_mutex_lock(&ctx->lock);
	own = ctx->kdamond_running &&
	      ctx->kdamond_tid == (int)syscall(SYS_gettid);
	pthread_mutex_unlock(&ctx->lock);
	return own;
}

static void ckpt_why(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ckpt_why(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static int ckpt_write_all(int fd, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int ckpt_write_file(const char *path, const struct ckpt_buf *b,
			   char *errbuf, size_t errlen)
{
	unsigned char hdr[CKPT_HDR_LEN];
	struct stat st;
	uint32_t v32;
	uint64_t v64;
	char *tmp;
	int fd, err;

	memcpy(hdr, CKPT_MAGIC, 8);
	v32 = htole32(DAMON_CHECKPOINT_VERSION);
	memcpy(hdr + 8, &v32, 4);
	v32 = htole32(udamon__crc32(0, b->data, b->len));
	memcpy(hdr + 12, &v32, 4);
	v64 = htole64(b->len);
	memcpy(hdr + 16, &v64, 8);

	/*
	 * The rename replaces PATH whatever it is: only a file may be
	 * replaced, never a device node, FIFO, socket or symlink someone
	 * named by mistake (as root, /dev/null would become a file).
	 */
	if (!lstat(path, &st) && !S_ISREG(st.st_mode)) {
		ckpt_why(errbuf, errlen,
			 "%s exists and is not a regular file: a checkpoint "
			 "replaces only a file",
			 path);
		return -EINVAL;
	}
	if (udamon__asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	/*
	 * A fresh file: whatever PATH.tmp was (a FIFO would block the open,
	 * a symlink would redirect the write) is replaced, not opened.
	 */
	if (unlink(tmp) && errno != ENOENT) {
		err = -errno;
		ckpt_why(errbuf, errlen, "cannot replace %s: %s", tmp,
			 strerror(-err));
		free(tmp);
		return err;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		err = -errno;
		ckpt_why(errbuf, errlen, "cannot create %s: %s", tmp,
			 strerror(-err));
		free(tmp);
		return err;
	}
	err = ckpt_write_all(fd, hdr, sizeof(hdr));
	if (!err)
		err = ckpt_write_all(fd, b->data, b->len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		ckpt_why(errbuf, errlen, "cannot write %s: %s", path,
			 strerror(-err));
		unlink(tmp);
	}
	free(tmp);
	return err;
}

int damon_checkpoint_save(struct damon_ctx *ctx, const char *path, char *errbuf,
			  size_t errlen)
{
	struct ckpt_save_call call = { 0 };
	int err;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!ctx || !path || !*path) {
		ckpt_why(errbuf, errlen, "no context or no path");
		return -EINVAL;
	}
	if (!damon_is_running(ctx)) {
		ckpt_why(errbuf, errlen,
			 "the context is not running: it holds no learned "
			 "state");
		return -ESRCH;
	}
	call.ctx = ctx;
	if (ckpt_on_own_thread(ctx)) {
		if (!ctx->serving_calls) {
			ckpt_why(errbuf, errlen,
				 "on the kdamond's own thread a checkpoint "
				 "can be taken only inside a damon_call() "
				 "callback");
			return -EDEADLK;
		}
		err = ckpt_save_call_fn(&call);
	} else {
		struct damon_call_control control = {
			.fn = ckpt_save_call_fn,
			.data = &call,
		};

		err = damon_call(ctx, &control);
		if (!err)
			err = control.return_code;
		if (err == -ECANCELED)
			ckpt_why(errbuf, errlen,
				 "the context stopped before the checkpoint");
	}
	if (!err)
		err = call.buf.err;
	if (!err)
		err = ckpt_write_file(path, &call.buf, errbuf, errlen);
	else if (errbuf && !errbuf[0])
		ckpt_why(errbuf, errlen, "cannot take the checkpoint: %s",
			 strerror(-err));
	free(call.buf.data);
	return err;
}

/* ---- restore: read, check, parse, match ---- */

struct ckpt_reader {
	const unsigned char *p;
	size_t len, off;
	bool short_read;
};

static uint64_t ckpt_get(struct ckpt_reader *r)
{
	uint64_t v;

	if (r->short_read || r->len - r->off < 8) {
		r->short_read = true;
		return 0;
	}
	memcpy(&v, r->p + r->off, 8);
	r->off += 8;
	return le64toh(v);
}

static bool ckpt_tag(struct ckpt_reader *r, uint64_t tag)
{
	return ckpt_get(r) == tag && !r->short_read;
}

static int ckpt_parse(const unsigned char *p, size_t len, struct ckpt **out,
		      char *errbuf, size_t errlen)
{
	struct ckpt_reader r = { .p = p, .len = len };
	struct ckpt *c;
	unsigned int i, j, k;

	c = udamon__calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (!ckpt_tag(&r, CKPT_TAG_CTX))
		goto bad;
	c->ops_id = (unsigned int)ckpt_get(&r);
	c->nr_probes = (unsigned int)ckpt_get(&r);
	c->virtual_clock = ckpt_get(&r);
	c->now_ns = ckpt_get(&r);
	c->sample_interval = ckpt_get(&r);
	c->aggr_interval = ckpt_get(&r);
	c->aggr_samples = ckpt_get(&r);
	c->passed_sample_intervals = ckpt_get(&r);
	c->next_aggregation_sis = ckpt_get(&r);
	c->next_ops_update_sis = ckpt_get(&r);
	c->next_intervals_tune_sis = ckpt_get(&r);
	c->last_nr_regions = ckpt_get(&r);
	c->iter_next_aggregation_sis = ckpt_get(&r);
	c->iter_next_ops_update_sis = ckpt_get(&r);
	c->last_max_nr_accesses = (unsigned int)ckpt_get(&r);
	c->sz_limit = ckpt_get(&r);
	c->rnd_state = ckpt_get(&r);
	c->pause = ckpt_get(&r);
	c->at_gate = ckpt_get(&r);
	c->nr_targets = (unsigned int)ckpt_get(&r);
	c->nr_schemes = (unsigned int)ckpt_get(&r);
	if (r.short_read || c->ops_id >= NR_DAMON_OPS ||
	    c->nr_probes > DAMON_MAX_PROBES || !c->sample_interval ||
	    c->nr_targets > len / 8 || c->nr_schemes > len / 8)
		goto bad;

	c->targets = udamon__calloc(c->nr_targets ? c->nr_targets : 1,
				    sizeof(*c->targets));
	c->schemes = udamon__calloc(c->nr_schemes ? c->nr_schemes : 1,
				    sizeof(*c->schemes));
	if (!c->targets || !c->schemes)
		goto nomem;
	for (i = 0; i < c->nr_targets; i++) {
		struct ckpt_target *t = &c->targets[i];
		uint64_t blob_len;

		if (!ckpt_tag(&r, CKPT_TAG_TGT))
			goto bad;
		t->pid = (int)(int64_t)ckpt_get(&r);
		t->nr_regions = (unsigned int)ckpt_get(&r);
		if (r.short_read || t->nr_regions > (len - r.off) / (9 * 8))
			goto bad;
		t->regions = udamon__calloc(t->nr_regions ? t->nr_regions : 1,
					    sizeof(*t->regions));
		if (!t->regions)
			goto nomem;
		for (j = 0; j < t->nr_regions; j++) {
			struct ckpt_region *cr = &t->regions[j];
			uint64_t hits, last_hits;

			cr->start = ckpt_get(&r);
			cr->end = ckpt_get(&r);
			cr->sampling_addr = ckpt_get(&r);
			cr->nr_accesses = (unsigned int)ckpt_get(&r);
			cr->nr_accesses_bp = (unsigned int)ckpt_get(&r);
			cr->last_nr_accesses = (unsigned int)ckpt_get(&r);
			cr->age = (unsigned int)ckpt_get(&r);
			hits = ckpt_get(&r);
			last_hits = ckpt_get(&r);
			for (k = 0; k < DAMON_MAX_PROBES; k++) {
				cr->probe_hits[k] =
					(unsigned char)(hits >> (8 * k));
				cr->last_probe_hits[k] =
					(unsigned char)(last_hits >> (8 * k));
			}
			/* Regions are sorted, disjoint and not empty. */
			if (cr->start >= cr->end ||
			    (j && cr->start < t->regions[j - 1].end))
				goto bad;
		}
		blob_len = ckpt_get(&r);
		if (r.short_read || blob_len > r.len - r.off)
			goto bad;
		if (blob_len) {
			t->ops_blob = udamon__malloc(blob_len);
			if (!t->ops_blob)
				goto nomem;
			memcpy(t->ops_blob, r.p + r.off, blob_len);
			t->ops_blob_len = blob_len;
			r.off += blob_len;
			r.off += (8 - blob_len % 8) % 8;
			if (r.off > r.len)
				goto bad;
		}
	}
	for (i = 0; i < c->nr_schemes; i++) {
		struct ckpt_scheme *s = &c->schemes[i];

		if (!ckpt_tag(&r, CKPT_TAG_SCH))
			goto bad;
		s->action = (unsigned int)ckpt_get(&r);
		s->stat.nr_tried = ckpt_get(&r);
		s->stat.sz_tried = ckpt_get(&r);
		s->stat.nr_applied = ckpt_get(&r);
		s->stat.sz_applied = ckpt_get(&r);
		s->stat.sz_ops_filter_passed = ckpt_get(&r);
		s->stat.qt_exceeds = ckpt_get(&r);
		s->stat.nr_snapshots = ckpt_get(&r);
		s->esz = ckpt_get(&r);
		s->total_charged_sz = ckpt_get(&r);
		s->total_charged_ns = ckpt_get(&r);
		s->charged_sz = ckpt_get(&r);
		s->charged_from = ckpt_get(&r);
		s->charged_from_set = ckpt_get(&r);
		s->charge_target_from = (long)(int64_t)ckpt_get(&r);
		s->charge_addr_from = ckpt_get(&r);
		s->esz_bp = ckpt_get(&r);
		s->min_score = (unsigned int)ckpt_get(&r);
		s->wmarks_activated = ckpt_get(&r);
		s->next_apply_sis = ckpt_get(&r);
		s->nr_goals = (unsigned int)ckpt_get(&r);
		if (r.short_read || s->action >= NR_DAMOS_ACTIONS ||
		    s->charge_target_from < -1 ||
		    s->charge_target_from >= (long)c->nr_targets ||
		    s->nr_goals > (len - r.off) / (3 * 8))
			goto bad;
		s->goals = udamon__calloc(s->nr_goals ? s->nr_goals : 1,
					  sizeof(*s->goals));
		if (!s->goals)
			goto nomem;
		for (j = 0; j < s->nr_goals; j++) {
			s->goals[j].metric = (unsigned int)ckpt_get(&r);
			s->goals[j].current_value = ckpt_get(&r);
			s->goals[j].last_psi_total = ckpt_get(&r);
		}
	}
	if (!ckpt_tag(&r, CKPT_TAG_END) || r.off != r.len)
		goto bad;
	*out = c;
	return 0;
bad:
	ckpt_why(errbuf, errlen,
		 "malformed checkpoint content near byte %zu of the payload",
		 r.off);
	ckpt_free(c);
	return -EINVAL;
nomem:
	ckpt_free(c);
	return -ENOMEM;
}

/*
 * Read the regular file @path whole into *@data.  Never waits on another
 * process: the open does not block (a FIFO has no writer to wait for)
 * and anything but a regular file is refused.
 */
static int ckpt_read_file(const char *path, unsigned char **datap, size_t *lenp,
			  char *errbuf, size_t errlen)
{
	unsigned char *data = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		ckpt_why(errbuf, errlen, "cannot open %s: %s", path,
			 strerror(-err));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		ckpt_why(errbuf, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			unsigned char *d;

			if (cap >= CKPT_HDR_LEN + CKPT_MAX_PAYLOAD) {
				ckpt_why(errbuf, errlen,
					 "%s: larger than any checkpoint",
					 path);
				err = -EINVAL;
				break;
			}
			cap = cap ? cap * 2 : 65536;
			d = udamon__realloc(data, cap);
			if (!d) {
				err = -ENOMEM;
				break;
			}
			data = d;
		}
		n = read(fd, data + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			ckpt_why(errbuf, errlen, "cannot read %s: %s", path,
				 strerror(-err));
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (err) {
		free(data);
		return err;
	}
	*datap = data;
	*lenp = len;
	return 0;
}

/* Check the header of @len bytes at @data; @name names it in messages. */
static int ckpt_check_header(const unsigned char *data, size_t len,
			     const char *name, const unsigned char **payload,
			     size_t *payload_len, char *errbuf, size_t errlen)
{
	uint32_t version, crc;
	uint64_t plen;

	if (len < CKPT_HDR_LEN || memcmp(data, CKPT_MAGIC, 8)) {
		if (len && !memcmp(data, CKPT_MAGIC, len < 8 ? len : 8))
			ckpt_why(errbuf, errlen,
				 "%s: truncated (%zu bytes, not even a "
				 "header)",
				 name, len);
		else
			ckpt_why(errbuf, errlen,
				 "%s: not a udamon checkpoint (bad magic)",
				 name);
		return -EINVAL;
	}
	memcpy(&version, data + 8, 4);
	version = le32toh(version);
	if (version != DAMON_CHECKPOINT_VERSION) {
		ckpt_why(errbuf, errlen,
			 "%s: checkpoint format version %u; this udamon reads "
			 "version %u",
			 name, version, DAMON_CHECKPOINT_VERSION);
		return -EINVAL;
	}
	memcpy(&crc, data + 12, 4);
	crc = le32toh(crc);
	memcpy(&plen, data + 16, 8);
	plen = le64toh(plen);
	if (plen > len - CKPT_HDR_LEN) {
		ckpt_why(errbuf, errlen,
			 "%s: truncated (%zu of %llu payload bytes)", name,
			 len - CKPT_HDR_LEN, (unsigned long long)plen);
		return -EINVAL;
	}
	if (plen < len - CKPT_HDR_LEN) {
		ckpt_why(errbuf, errlen,
			 "%s: %zu bytes of garbage after the checkpoint", name,
			 len - CKPT_HDR_LEN - (size_t)plen);
		return -EINVAL;
	}
	if (udamon__crc32(0, data + CKPT_HDR_LEN, plen) != crc) {
		ckpt_why(errbuf, errlen, "%s: checksum mismatch (corrupted)",
			 name);
		return -EINVAL;
	}
	*payload = data + CKPT_HDR_LEN;
	*payload_len = plen;
	return 0;
}

/*
 * Whether @c fits @ctx: the same operations set, targets, schemes with
 * the same actions and goal metrics, probes, and operations set blobs
 * that its restore_state accepts.  0 or -EINVAL with a reason.
 */
static int ckpt_match(struct damon_ctx *ctx, const struct ckpt *c, char *errbuf,
		      size_t errlen)
{
	struct damon_target *t;
	struct damos *s;
	unsigned int i = 0;
	char why[200];
	int err;

	if (c->ops_id != ctx->ops.id) {
		ckpt_why(errbuf, errlen,
			 "checkpoint is of operations set %s, the context "
			 "uses %s",
			 damon_ops_name(c->ops_id),
			 damon_ops_name(ctx->ops.id));
		return -EINVAL;
	}
	if (c->nr_targets != damon_nr_targets(ctx)) {
		ckpt_why(errbuf, errlen,
			 "checkpoint has %u targets, the context %u",
			 c->nr_targets, damon_nr_targets(ctx));
		return -EINVAL;
	}
	if (c->nr_schemes != damon_nr_schemes(ctx)) {
		ckpt_why(errbuf, errlen,
			 "checkpoint has %u schemes, the context %u",
			 c->nr_schemes, damon_nr_schemes(ctx));
		return -EINVAL;
	}
	if (c->nr_probes != damon_nr_probes(ctx)) {
		ckpt_why(errbuf, errlen,
			 "checkpoint has %u probes, the context %u",
			 c->nr_probes, damon_nr_probes(ctx));
		return -EINVAL;
	}
	damon_for_each_scheme(s, ctx) {
		const struct ckpt_scheme *cs = &c->schemes[i];
		struct damos_quota_goal *g;
		unsigned int j = 0;

		if (cs->action != s->action) {
			ckpt_why(errbuf, errlen,
				 "scheme %u: checkpoint action %s, the "
				 "context's %s",
				 i, damos_action_name(cs->action),
				 damos_action_name(s->action));
			return -EINVAL;
		}
		damos_for_each_quota_goal(g, &s->quota) {
			if (j >= cs->nr_goals ||
			    cs->goals[j].metric != g->metric)
				break;
			j++;
		}
		if (j != cs->nr_goals || &g->list != &s->quota.goals) {
			ckpt_why(errbuf, errlen,
				 "scheme %u: quota goals differ from the "
				 "checkpoint's",
				 i);
			return -EINVAL;
		}
		i++;
	}
	i = 0;
	damon_for_each_target(t, ctx) {
		const struct ckpt_target *ct = &c->targets[i];

		if (ctx->ops.restore_state) {
			why[0] = '\0';
			err = ctx->ops.restore_state(ctx, t, ct->ops_blob,
						     ct->ops_blob_len, 0, true,
						     why, sizeof(why));
			if (err) {
				ckpt_why(errbuf, errlen, "target %u: %s", i,
					 why[0] ? why : strerror(-err));
				return err;
			}
		} else if (ct->ops_blob_len) {
			ckpt_why(errbuf, errlen,
				 "target %u: the checkpoint holds operations "
				 "set state the context cannot take",
				 i);
			return -EINVAL;
		}
		i++;
	}
	return 0;
}

/* ---- install: on the kdamond, at a call point ---- */

/*
 * Install @c into @ctx, on its kdamond at a call point.  A mismatch (the
 * configuration may have changed since the caller looked) changes
 * nothing and puts the reason in @why_out.
 */
static int ckpt_apply(struct damon_ctx *ctx, struct ckpt *c, char *why_out,
		      size_t why_out_len)
{
	struct damon_list_head *new_lists;
	struct damon_target *t;
	struct damon_region *r, *next;
	struct damos *s;
	unsigned int i, j;
	int64_t shift = 0;
	char why[200];
	int err;

	err = ckpt_match(ctx, c, why, sizeof(why));
	if (err) {
		udamon__log(DAMON_LOG_WARN, "checkpoint not restored: %s", why);
		ckpt_why(why_out, why_out_len, "%s", why);
		return err;
	}
	/* Every allocation first, so a failure changes nothing. */
	new_lists = udamon__calloc(c->nr_targets ? c->nr_targets : 1,
				   sizeof(*new_lists));
	if (!new_lists)
		return -ENOMEM;
	for (i = 0; i < c->nr_targets; i++) {
		damon_list_init(&new_lists[i]);
		for (j = 0; j < c->targets[i].nr_regions; j++) {
			const struct ckpt_region *cr =
				&c->targets[i].regions[j];

			r = damon_new_region(cr->start, cr->end);
			if (!r) {
				err = -ENOMEM;
				goto free_lists;
			}
			r->sampling_addr = cr->sampling_addr;
			r->nr_accesses = cr->nr_accesses;
			r->nr_accesses_bp = cr->nr_accesses_bp;
			r->last_nr_accesses = cr->last_nr_accesses;
			r->age = cr->age;
			memcpy(r->probe_hits, cr->probe_hits,
			       sizeof(r->probe_hits));
			memcpy(r->last_probe_hits, cr->last_probe_hits,
			       sizeof(r->last_probe_hits));
			damon_list_add_tail(&r->list, &new_lists[i]);
		}
	}

	/* The clock: a virtual one jumps back, a real one shifts times. */
	if (ctx->virtual_clock && c->virtual_clock)
		ctx->virtual_now_ns = c->now_ns;
	else
		shift = (int64_t)(damon_now_ns(ctx) - c->now_ns);

	i = 0;
	damon_for_each_target(t, ctx) {
		struct ckpt_target *ct = &c->targets[i];

		if (ctx->ops.restore_state) {
			err = ctx->ops.restore_state(ctx, t, ct->ops_blob,
						     ct->ops_blob_len, shift,
						     false, why, sizeof(why));
			if (err) {
				/* Half restored: stop as a failed commit. */
				udamon__log(DAMON_LOG_ERR,
					    "checkpoint restore of target %u "
					    "failed: %s",
					    i, why);
				ctx->maybe_corrupted = true;
				goto free_lists;
			}
		}
		damon_for_each_region_safe(r, next, t)
			damon_destroy_region(r, t);
		while (!damon_list_empty(&new_lists[i])) {
			r = damon_list_entry(new_lists[i].next,
					     struct damon_region, list);
			damon_list_del(&r->list);
			damon_add_region(r, t);
		}
		i++;
	}
	free(new_lists);

	ctx->attrs.sample_interval = c->sample_interval;
	ctx->attrs.aggr_interval = c->aggr_interval;
	ctx->attrs.aggr_samples = c->aggr_samples;
	ctx->passed_sample_intervals = c->passed_sample_intervals;
	ctx->next_aggregation_sis = c->next_aggregation_sis;
	ctx->next_ops_update_sis = c->next_ops_update_sis;
	ctx->next_intervals_tune_sis = c->next_intervals_tune_sis;
	ctx->last_nr_regions = c->last_nr_regions;
	ctx->last_max_nr_accesses = c->last_max_nr_accesses;
	ctx->sz_limit = c->sz_limit;
	ctx->rnd_state = c->rnd_state;
	if (c->at_gate || ctx->calls_at_gate) {
		/*
		 * Saved or restored in the watermark gate, where no iteration
		 * is under way: let the rest of this one (if any) only do
		 * what is due, as the gate's next pass would.
		 */
		ctx->iter_next_aggregation_sis = c->next_aggregation_sis;
		ctx->iter_next_ops_update_sis = c->next_ops_update_sis;
	} else {
		ctx->iter_next_aggregation_sis = c->iter_next_aggregation_sis;
		ctx->iter_next_ops_update_sis = c->iter_next_ops_update_sis;
	}
	/* A pid that changed: fit the regions at this iteration's end. */
	i = 0;
	damon_for_each_target(t, ctx) {
		if (t->pid != c->targets[i].pid && damon_target_has_pid(ctx)) {
			ctx->iter_next_ops_update_sis =
				ctx->passed_sample_intervals;
			ctx->next_ops_update_sis = ctx->passed_sample_intervals;
		}
		i++;
	}
	if (c->pause)
		ctx->pause = true;

	i = 0;
	damon_for_each_scheme(s, ctx) {
		struct ckpt_scheme *cs = &c->schemes[i++];
		struct damos_quota *q = &s->quota;
		struct damos_quota_goal *g;
		int64_t from_ms;

		j = 0;
		s->stat = cs->stat;
		q->esz = cs->esz;
		q->total_charged_sz = cs->total_charged_sz;
		q->total_charged_ns = cs->total_charged_ns;
		q->charged_sz = cs->charged_sz;
		from_ms = (int64_t)cs->charged_from + shift / 1000000;
		q->charged_from = from_ms > 0 ? (uint64_t)from_ms : 0;
		q->charged_from_set = cs->charged_from_set;
		q->charge_target_from =
			cs->charge_target_from < 0 ?
				NULL :
				damon_nth_target((int)cs->charge_target_from,
						 ctx);
		q->charge_addr_from = cs->charge_addr_from;
		q->esz_bp = cs->esz_bp;
		q->min_score = cs->min_score;
		s->wmarks.activated = cs->wmarks_activated;
		s->next_apply_sis = cs->next_apply_sis;
		s->walk_completed = false;
		damos_for_each_quota_goal(g, q) {
			g->current_value = cs->goals[j].current_value;
			g->last_psi_total = cs->goals[j].last_psi_total;
			j++;
		}
	}
	udamon__log(DAMON_LOG_INFO,
		    "checkpoint restored at passed_sample_intervals %lu%s",
		    ctx->passed_sample_intervals, c->pause ? " (paused)" : "");
	return 0;

free_lists:
	for (i = 0; i < c->nr_targets; i++) {
		while (!damon_list_empty(&new_lists[i])) {
			r = damon_list_entry(new_lists[i].next,
					     struct damon_region, list);
			damon_list_del(&r->list);
			free(r);
		}
	}
	free(new_lists);
	return err;
}

struct ckpt_restore_call {
	struct damon_ctx *ctx;
	struct ckpt *ckpt;
	char why[300];
};

static int ckpt_restore_call_fn(void *data)
{
	struct ckpt_restore_call *c = data;

	return ckpt_apply(c->ctx, c->ckpt, c->why, sizeof(c->why));
}

int damon_checkpoint_restore(struct damon_ctx *ctx, const char *path,
			     char *errbuf, size_t errlen)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int err;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!ctx || !path || !*path) {
		ckpt_why(errbuf, errlen, "no context or no path");
		return -EINVAL;
	}
	err = ckpt_read_file(path, &data, &len, errbuf, errlen);
	if (err)
		return err;
	err = damon_checkpoint_restore_buf(ctx, data, len, path, errbuf,
					   errlen);
	free(data);
	return err;
}

int damon_checkpoint_restore_buf(struct damon_ctx *ctx, const void *buf,
				 size_t len, const char *name, char *errbuf,
				 size_t errlen)
{
	const unsigned char *payload = NULL;
	size_t payload_len = 0;
	struct ckpt *c = NULL;
	int err;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!ctx || (!buf && len)) {
		ckpt_why(errbuf, errlen, "no context or no buffer");
		return -EINVAL;
	}
	err = ckpt_check_header(buf, len, name ? name : "checkpoint", &payload,
				&payload_len, errbuf, errlen);
	if (err)
		return err;
	err = ckpt_parse(payload, payload_len, &c, errbuf, errlen);
	if (err)
		return err;

	if (damon_is_running(ctx) && !ckpt_on_own_thread(ctx)) {
		struct ckpt_restore_call call = { .ctx = ctx, .ckpt = c };
		struct damon_call_control control = {
			.fn = ckpt_restore_call_fn,
			.data = &call,
		};

		/* Matched on the kdamond: only it may walk the context. */
		err = damon_call(ctx, &control);
		if (!err)
			err = control.return_code;
		if (err == -ECANCELED)
			ckpt_why(errbuf, errlen,
				 "the context stopped before the restore");
		else if (err && call.why[0])
			ckpt_why(errbuf, errlen, "%s", call.why);
		else if (err)
			ckpt_why(errbuf, errlen,
				 "the kdamond could not install the "
				 "checkpoint: %s",
				 strerror(-err));
		ckpt_free(c);
		return err;
	}
	/* Not running, or on the driving thread: install at the next call. */
	err = ckpt_match(ctx, c, errbuf, errlen);
	if (err) {
		ckpt_free(c);
		return err;
	}
	ckpt_free(ctx->ckpt_pending);
	ctx->ckpt_pending = c;
	return 0;
}

bool damon_checkpoint_pending(struct damon_ctx *ctx)
{
	return ctx && ctx->ckpt_pending;
}

/* Hook of udamon__kdamond_call(): install a pending checkpoint. */
void udamon__checkpoint_serve(struct damon_ctx *ctx)
{
	struct ckpt *c = ctx->ckpt_pending;

	if (!c)
		return;
	ctx->ckpt_pending = NULL;
	if (ckpt_apply(ctx, c, NULL, 0))
		udamon__log(DAMON_LOG_ERR,
			    "kdamond.%u: the restored checkpoint could not "
			    "be installed; the context goes on without it",
			    ctx->kdamond_idx);
	ckpt_free(c);
}

/* Hook of damon_destroy_ctx(). */
void udamon__checkpoint_forget(struct damon_ctx *ctx)
{
	ckpt_free(ctx->ckpt_pending);
	ctx->ckpt_pending = NULL;
}
