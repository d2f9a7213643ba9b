// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamon-workload: run a masim-format workload config on real memory, so
 * that one config gives both a simulated run (the sim operations set) and
 * a real one that udamon can monitor.
 *
 * Regions are mmap'd (anonymous, private) in config order before the first
 * phase and unmapped after the last.  A phase runs for its duration on the
 * wall clock; each round picks one of its patterns with probability
 * proportional to the weight and makes nr_accesses_per_region single-byte
 * accesses: sequential ones continue from the pattern's last offset by its
 * stride and wrap at the region end, random ones pick uniform offsets.
 * "ro" reads, "wo" writes 1, "rw" reads and writes the value plus one.
 * Per phase it prints "name: N accesses/msec, M msecs run", as masim does.
 */
#include <udamon/damon.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define WL_PAGE 4096ULL

struct wl_opts {
	unsigned long repeat;
	unsigned long long nr_accesses;
	enum damon_masim_rw_mode default_mode;
	int quiet;
	int print_config;
	int dry_run;
	int print_regions;
	uint64_t seed;
};

/* Sink for reads, so the compiler keeps them. */
static volatile unsigned char wl_sink;

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options] <config>\n"
		"Run a masim-format workload config on real memory.\n\n"
		"  -c, --repeat N              run all phases N times (default 1)\n"
		"  -q, --silent                print nothing per phase\n"
		"  -p, --pr_config             print the parsed config first\n"
		"  -d, --dry_run               parse (and print) only, do not run\n"
		"  -r, --default_rw_mode MODE  ro, wo or rw for patterns without\n"
		"                              a mode (default wo)\n"
		"      --nr_accesses_per_region N  accesses per pattern pick\n"
		"                              (default 131072)\n"
		"      --print-regions         print 'region NAME: START-END' of\n"
		"                              every region before running\n"
		"      --seed N                seed of the pattern choice\n"
		"  -V, --version               print the version\n"
		"  -h, --help                  this text\n"
		"Exit status: 0 success, 1 bad config or runtime error, 2 usage.\n",
		prog);
}

static int parse_ulong(const char *s, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		return -EINVAL;
	return 0;
}

static uint64_t wl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: cheap and good enough to pick patterns and offsets. */
static uint64_t wl_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static void print_config(const struct damon_masim_config *cfg)
{
	unsigned int i, j;

	printf("regions:\n");
	for (i = 0; i < cfg->nr_regions; i++)
		printf("  %s: %llu bytes%s%s\n", cfg->regions[i].name,
		       cfg->regions[i].size,
		       cfg->regions[i].init_file ? ", init from " : "",
		       cfg->regions[i].init_file ? cfg->regions[i].init_file :
						   "");
	printf("phases:\n");
	for (i = 0; i < cfg->nr_phases; i++) {
		const struct damon_masim_phase *ph = &cfg->phases[i];

		printf("  %s: %llu ms\n", ph->name, ph->duration_ms);
		for (j = 0; j < ph->nr_patterns; j++) {
			const struct damon_masim_pattern *pt = &ph->patterns[j];

			printf("    %s %s stride %llu weight %u %s\n",
			       cfg->regions[pt->region].name,
			       pt->random ? "random" : "sequential", pt->stride,
			       pt->weight, damon_masim_rw_mode_name(pt->mode));
		}
	}
	fflush(stdout);
}

static int fill_region(unsigned char *p, unsigned long long size,
		       const char *path)
{
	unsigned long long done = 0;
	ssize_t n;
	int fd;

	if (!path || !strcmp(path, "none"))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "udamon-workload: open %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	while (done < size) {
		n = read(fd, p + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (unsigned long long)n;
	}
	close(fd);
	return 0;
}

/* Make @n accesses of pattern @pt; returns how many were made. */
static unsigned long long run_pattern(const struct damon_masim_pattern *pt,
				      unsigned char *base,
				      unsigned long long size,
				      unsigned long long *offset,
				      unsigned long long n, uint64_t *rnd)
{
	unsigned long long i, off = *offset;
	unsigned char v = 0;

	for (i = 0; i < n; i++) {
		unsigned long long at;

		if (pt->random) {
			at = wl_rand(rnd) % size;
		} else {
			at = off % size;
			off = (at + pt->stride) % size;
		}
		switch (pt->mode) {
		case DAMON_MASIM_RW_RO:
			v += base[at];
			break;
		case DAMON_MASIM_RW_WO:
			base[at] = 1;
			break;
		default:
			base[at] = base[at] + 1;
			break;
		}
	}
	wl_sink = v;
	*offset = off;
	return n;
}

static int run(const struct damon_masim_config *cfg, const struct wl_opts *o)
{
	unsigned char **mem;
	unsigned long long *offsets;
	unsigned int i, j, max_patterns = 0;
	uint64_t rnd = o->seed ? o->seed : 0x9E3779B97F4A7C15ULL;
	unsigned long rep;
	int err = 0;

	mem = calloc(cfg->nr_regions, sizeof(*mem));
	for (i = 0; i < cfg->nr_phases; i++)
		if (cfg->phases[i].nr_patterns > max_patterns)
			max_patterns = cfg->phases[i].nr_patterns;
	offsets = calloc(max_patterns ? max_patterns : 1, sizeof(*offsets));
	if (!mem || !offsets) {
		fprintf(stderr, "udamon-workload: out of memory\n");
		free(mem);
		free(offsets);
		return 1;
	}
	for (i = 0; i < cfg->nr_regions; i++) {
		void *p = mmap(NULL, cfg->regions[i].size,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			fprintf(stderr, "udamon-workload: mmap %s (%llu): %s\n",
				cfg->regions[i].name, cfg->regions[i].size,
				strerror(errno));
			err = 1;
			goto out;
		}
		mem[i] = p;
		if (fill_region(mem[i], cfg->regions[i].size,
				cfg->regions[i].init_file)) {
			err = 1;
			goto out;
		}
	}
	if (o->print_regions) {
		for (i = 0; i < cfg->nr_regions; i++) {
			unsigned long s = (unsigned long)mem[i];
			unsigned long long sz =
				(cfg->regions[i].size + WL_PAGE - 1) &
				~(WL_PAGE - 1);

			printf("region %s: %lx-%llx\n", cfg->regions[i].name, s,
			       (unsigned long long)s + sz);
		}
		fflush(stdout);
	}

	for (rep = 0; rep < o->repeat; rep++) {
		for (i = 0; i < cfg->nr_phases; i++) {
			const struct damon_masim_phase *ph = &cfg->phases[i];
			uint64_t start = wl_now_ns(), now = start;
			uint64_t deadline =
				start + ph->duration_ms * 1000000ULL;
			unsigned long long nr = 0, elapsed_ms;

			memset(offsets, 0, max_patterns * sizeof(*offsets));
			while (now < deadline) {
				unsigned long long pick =
					wl_rand(&rnd) % ph->total_weight;
				const struct damon_masim_pattern *pt = NULL;

				for (j = 0; j < ph->nr_patterns; j++) {
					if (pick < ph->patterns[j].weight) {
						pt = &ph->patterns[j];
						break;
					}
					pick -= ph->patterns[j].weight;
				}
				if (!pt)
					pt = &ph->patterns[ph->nr_patterns - 1];
				nr += run_pattern(pt, mem[pt->region],
						  cfg->regions[pt->region].size,
						  &offsets[pt - ph->patterns],
						  o->nr_accesses, &rnd);
				now = wl_now_ns();
			}
			elapsed_ms = (now - start) / 1000000ULL;
			if (!o->quiet) {
				printf("%s: %llu accesses/msec, %llu msecs run\n",
				       ph->name,
				       elapsed_ms ? nr / elapsed_ms : nr,
				       elapsed_ms);
				fflush(stdout);
			}
		}
	}
out:
	for (i = 0; i < cfg->nr_regions; i++)
		if (mem[i])
			munmap(mem[i], cfg->regions[i].size);
	free(mem);
	free(offsets);
	return err;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repeat", required_argument, NULL, 'c' },
		{ "silent", no_argument, NULL, 'q' },
		{ "pr_config", no_argument, NULL, 'p' },
		{ "dry_run", no_argument, NULL, 'd' },
		{ "default_rw_mode", required_argument, NULL, 'r' },
		{ "nr_accesses_per_region", required_argument, NULL, 'n' },
		{ "print-regions", no_argument, NULL, 'R' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct wl_opts o = {
		.repeat = 1,
		.nr_accesses = 131072,
		.default_mode = DAMON_MASIM_RW_WO,
	};
	struct damon_masim_config *cfg;
	unsigned long long v;
	char err[512];
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:qpdr:hV", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c':
			if (parse_ulong(optarg, &v) || !v) {
				fprintf(stderr,
					"udamon-workload: --repeat: '%s' is not a positive number\n",
					optarg);
				return 2;
			}
			o.repeat = (unsigned long)v;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'p':
			o.print_config = 1;
			break;
		case 'd':
			o.dry_run = 1;
			break;
		case 'r':
			if (damon_masim_rw_mode_from_name(optarg,
							  &o.default_mode)) {
				fprintf(stderr,
					"udamon-workload: --default_rw_mode: '%s' is not ro, wo or rw\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			if (parse_ulong(optarg, &v) || !v) {
				fprintf(stderr,
					"udamon-workload: --nr_accesses_per_region: '%s' is not a positive number\n",
					optarg);
				return 2;
			}
			o.nr_accesses = v;
			break;
		case 'R':
			o.print_regions = 1;
			break;
		case 's':
			if (parse_ulong(optarg, &v)) {
				fprintf(stderr,
					"udamon-workload: --seed: '%s' is not a number\n",
					optarg);
				return 2;
			}
			o.seed = v;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		case 'V':
			printf("udamon-workload %s\n", UDAMON_VERSION);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr, argv[0]);
		return 2;
	}
	rc = damon_masim_parse_file(argv[optind], o.default_mode, &cfg, err,
				    sizeof(err));
	if (rc) {
		fprintf(stderr, "udamon-workload: %s\n", err);
		return 1;
	}
	if (o.print_config || o.dry_run)
		print_config(cfg);
	rc = o.dry_run ? 0 : run(cfg, &o);
	damon_masim_free(cfg);
	return rc;
}
