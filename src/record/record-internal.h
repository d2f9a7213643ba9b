/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the two halves of the record file code share: record.c writes
 * records (writer, recorder), record-read.c reads them back (validating
 * reader, helpers on the in-memory record).  Both must agree on the block
 * checksum and on what a word is, so those live here.  Nothing outside
 * src/record/ includes this.
 */
#ifndef UDAMON_RECORD_INTERNAL_H
#define UDAMON_RECORD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* CRC-32 as zlib computes it (and python's zlib.crc32 checks it). */
static inline uint32_t rec_crc32(const char *buf, size_t len)
{
	return (uint32_t)crc32_z(0, (const Bytef *)buf, len);
}

/* A word: what ops, source names and event arguments may be. */
static inline bool is_word(const char *s, size_t len)
{
	size_t i;

	if (!len || len > 64)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.' || c == ':' || c == '+'))
			return false;
	}
	return true;
}

#endif /* UDAMON_RECORD_INTERNAL_H */
