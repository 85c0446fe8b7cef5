/*
 * Merchant product feeds: CSV (RFC 4180, header row) or NDJSON, one variant
 * per row. Rows with the same `product_id` (the merchant's product code;
 * default: the row's SKU) make one product. Columns / keys:
 *
 *   sku*, name*, category*, price_<market> (minor units, e.g. price_us),
 *   product_id, brand, description, tags (a|b|c), size, color, stock,
 *   low_stock_threshold, status, images (url|url)
 *
 * NDJSON also takes "prices": {"US": 4999}, and arrays for tags and images.
 *
 * feed_parse is a pure function (no database, no globals): it turns bytes
 * into rows and per-line errors, so it can be fuzzed on its own.
 * feed_import applies parsed rows: upsert by SKU, in batches of products
 * (one savepoint and a few multi-row statements each; a batch the database
 * refuses is redone product by product), so a bad row rejects its whole
 * product and nothing else.
 */
#ifndef MANDI_CATALOG_FEED_H
#define MANDI_CATALOG_FEED_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

struct db;

enum feed_format { FEED_CSV, FEED_NDJSON };

#define FEED_MAX_ROWS 1000000
#define FEED_MAX_FIELD 10000
#define FEED_MAX_PRICES 8
#define FEED_MAX_ERRORS 1000

struct feed_price {
	char market[4]; /**< upper-case code as written (checked on import) */
	int64_t amount;
};

/** One variant row. Strings live in the parse arena; NULL when absent. */
struct feed_row {
	int line; /**< 1-based line where the row starts */
	int group; /**< index of its product among the feed's (-1: none) */
	bool bad; /**< the row had an error (reported) */
	const char *sku, *product_code, *name, *brand, *category, *description, *status, *size, *color;
	const char *tags, *images; /**< JSON array text, NULL when absent */
	int64_t stock, low_stock_threshold; /**< -1 when absent */
	struct feed_price prices[FEED_MAX_PRICES];
	int nprices;
};

struct feed_error {
	int line;
	char sku[72];
	char field[48];
	char message[160];
};

/** Rows and errors of a parsed feed (arrays grow in the arena). */
struct feed {
	struct arena *a;
	struct feed_row *rows;
	int nrows, caprows;
	struct feed_error *errors;
	int nerrors, caperrors;
	int error_rows;  /**< rows with at least one error (errors may be capped) */
	int ngroups;     /**< products: distinct product codes, in order of first row */
	bool fatal;      /**< the whole file was refused (errors[0] says why) */
};

/**
 * Parse len bytes of format into f (rows + errors, all in arena a). A file
 * that cannot be read at all (no header, a required column missing, not
 * UTF-8 text) sets f->fatal. Never fails otherwise: bad rows are reported.
 */
void feed_parse(struct feed *f, struct arena *a, const char *data, size_t len, enum feed_format fmt);

/** Mark row r refused with this error (counted once per row). */
void feed_row_fail(struct feed *f, struct feed_row *r, const char *field, const char *msg);

/** Add an error for a line (capped at FEED_MAX_ERRORS; counted anyway). */
void feed_error_add(struct feed *f, int line, const char *sku, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

struct feed_result {
	int received, created, updated, failed;
};

/**
 * Apply f's rows for merchant_id in one transaction, a savepoint per batch
 * of products: created / updated count products, failed counts rows not
 * applied; errors (unknown market or category, a SKU of another merchant's
 * product…) are added to f. False only when the database failed as a whole.
 */
bool feed_import(struct db *db, int64_t merchant_id, struct feed *f, struct feed_result *res)
	__attribute__((warn_unused_result));

#endif
