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

struct catalog_names;
struct db;
struct product;

/**
 * Index ps[0..n), products inserted in the caller's transaction (ids,
 * variant ids, prices, stock with nothing reserved, created_at and status
 * as written; a NULL status is active): their product_market and
 * listing_attrs rows, and their full-text rows (product_fts_add). Products
 * that are not active get none, as in product_reindex.
 */
bool listing_insert_new(struct db *db, const struct catalog_names *tree, struct product *const *ps, int n)
	__attribute__((warn_unused_result));

#endif
