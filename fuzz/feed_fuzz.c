/*
 * libFuzzer driver for the product feed parser (catalog/feed.c). The first
 * byte picks the format (even: CSV, odd: NDJSON); the rest is the feed.
 * Checks beyond "no crash, no leak, no UB": every row and error refers to a
 * line inside the input, and error counts stay consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum feed_format fmt = data[0] & 1 ? FEED_NDJSON : FEED_CSV;
	struct arena a;
	arena_init(&a);
	struct feed f;
	feed_parse(&f, &a, (const char *)data + 1, size - 1, fmt);
	int lines = 1;
	for (size_t i = 1; i < size; i++)
		lines += data[i] == '\n';
	if (f.fatal && f.nerrors != 1)
		abort();
	if (f.error_rows > f.nrows)
		abort();
	for (int i = 0; i < f.nrows; i++) {
		const struct feed_row *r = &f.rows[i];
		if (r->line < 1 || r->line > lines || (i && r->line <= f.rows[i - 1].line))
			abort();
		if (!r->bad && (!r->sku || !r->name || !r->category || !r->nprices))
			abort();
		if (r->group >= f.ngroups)
			abort();
	}
	for (int i = 0; i < f.nerrors; i++)
		if (f.errors[i].line < 0 || f.errors[i].line > lines + 1 || !f.errors[i].message[0])
			abort();
	arena_free(&a);
	return 0;
}
