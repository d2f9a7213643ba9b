// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target for record files (src/record): the parser must refuse
 * or accept any bytes without a memory error, and whatever it accepts must
 * go through every consumer `udamon report` has (heatmap, wss, table
 * helpers, damo JSON export) without one either.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "record/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_consume(const struct udamon_record *rec)
{
	static FILE *devnull;
	struct udamon_heatmap_opts o = { .nr_time = 7, .nr_addr = 9 };
	struct udamon_record_pause *pauses;
	struct udamon_heatmap *hm;
	unsigned long *wss;
	size_t nr, i;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (devnull)
		udamon_record_export_damo_json(rec, devnull);
	udamon_record_duration_ns(rec);
	if (!udamon_record_pauses(rec, &pauses, &nr))
		free(pauses);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct udamon_record *rec;
	char err[256];

	if (udamon_record_parse((const char *)data, size, "fuzz", &rec, err,
				sizeof(err)))
		return 0;
	fuzz_consume(rec);
	udamon_record_free(rec);
	return 0;
}
