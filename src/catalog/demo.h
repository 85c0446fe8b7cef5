/*
 * A deterministic, realistic fashion catalog for demos and benchmarks:
 * brands with ratings and demographics, the six categories plus
 * sub-categories, products with sizes, colours, prices in both markets (a
 * few in one only) and varied stock. Product i is always the same product,
 * so `--products N` after `--demo` only adds what is missing.
 */
#ifndef MANDI_CATALOG_DEMO_H
#define MANDI_CATALOG_DEMO_H
#include <stdbool.h>
#include <stdint.h>

struct db;

/** Make sure demo products 0..n-1 exist (one transaction, bulk inserts,
 * listing and search indexes rebuilt once at the end). */
bool demo_catalog_seed(struct db *db, int64_t n) __attribute__((warn_unused_result));

#endif
