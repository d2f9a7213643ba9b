// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target for damo's record files, json and json_compressed
 * (udamon_record_parse_damo()): any bytes are refused or accepted without
 * a memory error; whatever is accepted goes through what `udamon report`
 * does with it (heatmap, wss, pauses) and is written back in damo's JSON,
 * which must read back as a record again (abort() otherwise).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "record/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_consume(const struct udamon_record *rec)
{
	struct udamon_heatmap_opts o = { .nr_time = 7, .nr_addr = 9 };
	struct udamon_heatmap *hm;
	unsigned long *wss;
	unsigned int i;

	udamon_record_duration_ns(rec);
	for (o.target = 0; o.target < rec->hdr.nr_targets && o.target < 4;
	     o.target++) {
		for (i = 0; i < 4; i++) {
			o.keep_gaps = i & 1;
			o.only_accessed = i & 2;
			if (!udamon_heatmap_build(rec, &o, &hm)) {
				udamon_heatmap_level(hm, 0, 0, 10);
				udamon_heatmap_slot_addr(hm, o.nr_addr - 1);
				udamon_heatmap_free(hm);
			}
		}
		if (!udamon_record_wss(rec, o.target, 1, &wss))
			free(wss);
	}
}

/* What udamon writes as damo's record, udamon reads back. */
static void round_trip(const struct udamon_record *rec, bool compressed)
{
	struct udamon_record *back;
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret;

	if (!f)
		return;
	ret = udamon_record_export_damo(rec, f, compressed);
	fclose(f);
	if (!ret && rec->nr_snapshots) {
		if (udamon_record_parse_damo(buf, len, "back", &back, err,
					     sizeof(err))) {
			fprintf(stderr,
				"exported record does not read back: %s\n",
				err);
			abort();
		}
		if (back->nr_snapshots != rec->nr_snapshots)
			abort();
		udamon_record_free(back);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct udamon_record *rec;
	char err[256];

	if (udamon_record_parse_damo((const char *)data, size, "fuzz", &rec,
				     err, sizeof(err)))
		return 0;
	fuzz_consume(rec);
	round_trip(rec, false);
	round_trip(rec, true);
	udamon_record_free(rec);
	return 0;
}
