/*
 * Listing rows of products a bulk writer has just inserted, computed from
 * what the writer holds instead of read back and aggregated by the database.
 * They are the rows product_reindex's SQL (product.c, LISTING_INSERT and
 * ATTRS_INSERT) would make for the same products: one product_market row
 * per market a variant is priced in, times scope 0 and every category on
 * the product's path; one listing_attrs row per distinct size and colour.
 * Lower-casing is left to the database (its LOWER), so both paths agree on
 * every engine.
 */
#ifndef MANDI_CATALOG_LISTING_H
#define MANDI_CATALOG_LISTING_H
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"

struct db;
struct product;

/** Each category's parent (0 for a root), for the scopes of a listing row. */
struct listing_scopes {
	int n;
	int64_t *id, *parent;
};

/** Read every category's parent into s (memory from a). */
bool listing_scopes_load(struct db *db, struct arena *a, struct listing_scopes *s)
	__attribute__((warn_unused_result));

/**
 * Index ps[0..n), products inserted in the caller's transaction (ids,
 * variant ids, prices, stock with nothing reserved, created_at and status
 * as written; a NULL status is active): their product_market and
 * listing_attrs rows, and their full-text rows (product_fts_add). Products
 * that are not active get none, as in product_reindex.
 */
bool listing_insert_new(struct db *db, const struct listing_scopes *s, struct product *const *ps, int n)
	__attribute__((warn_unused_result));

#endif
