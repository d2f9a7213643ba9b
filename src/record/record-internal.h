/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal interface between the files of src/record/: the helpers that
 * the writer (record.c) and the reader (record-read.c) share.  Nothing
 * outside src/record/ and its unit tests includes this.
 */
#ifndef UDAMON_RECORD_INTERNAL_H
#define UDAMON_RECORD_INTERNAL_H

#include "record/record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- record.c ---- */

/* CRC-32 as zlib's crc32(0, buf, len), so python's zlib can check it. */
uint32_t rec_crc32(const char *buf, size_t len);

/* A growable text buffer; @err keeps the first error (-ENOMEM ...). */
struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	int err;
};

/* Make room for @more bytes and a NUL, or set @sb->err. */
void sb_reserve(struct strbuf *sb, size_t more);

/* A word: what ops, source names and event arguments may be. */
bool is_word(const char *s, size_t len);

/* ---- record-read.c ---- */

/* Free what snapshot @s holds (not @s itself). */
void snapshot_free(struct udamon_record_snapshot *s);

#endif /* UDAMON_RECORD_INTERNAL_H */
