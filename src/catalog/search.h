/*
 * Shopper reads over `product_market`: filtered, sorted listings with keyset
 * pagination, and ranked full-text search (the driver's fts slots) with
 * facets. Results live in the caller's arena.
 */
#ifndef MANDI_CATALOG_SEARCH_H
#define MANDI_CATALOG_SEARCH_H
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"

struct db;
struct db_dialect;

enum listing_sort { SORT_POPULAR, SORT_NEWEST, SORT_PRICE_ASC, SORT_PRICE_DESC, SORT_RELEVANCE };

/** Sort names as clients send them, indexed by enum listing_sort. */
extern const char *const listing_sort_names[];

#define SEARCH_MAX_TERMS 8

struct listing_query {
	int64_t market_id;
	int64_t scope_id;             /**< a category (its sub-categories included), 0 = all */
	int64_t brand_id;             /**< 0 = any */
	int64_t min_price, max_price; /**< -1 = no bound */
	const char *size, *color;     /**< NULL = any */
	const char *size_like, *color_like; /**< the same as LIKE patterns (listing_like) */
	bool in_stock;
	enum listing_sort sort;
	const char *match;            /**< full-text query in the engine's syntax, or NULL */
	int64_t limit;
	bool after;                   /**< continue after (after_key, after_id) */
	int64_t after_key, after_id;
};

struct listing_item {
	int64_t id, brand_id, price, price_max, sort_key, created_at;
	const char *name, *brand, *category, *images;
	int stock; /**< enum stock_status over the variants sold in the market */
};

struct facet_value {
	const char *value, *label;
	int64_t count;
};

/** A facet: counts of matching products per value. */
struct facet {
	const char *name;
	struct facet_value *v;
	int n;
};

enum { FACET_BRAND, FACET_CATEGORY, FACET_SIZE, FACET_COLOR, FACET_PRICE, FACET__COUNT };

struct facets {
	int64_t total;
	struct facet f[FACET__COUNT];
};

/**
 * Up to q->limit + 1 items (one more than a page tells the caller there is
 * a next page). *items in arena a; returns the count or -1. The page is
 * found in the market's columns kept under generation (matches.h) when the
 * store has them, else in the database (generation < 0: always); both
 * ways give the same items.
 */
int listing_run(struct db *db, struct arena *a, const struct listing_query *q, int64_t generation,
		struct listing_item **items);

/** Listing rows for these product ids in their given order, skipping any
 * not active and sold in the market. Returns the count or -1. */
int listing_by_ids(struct db *db, struct arena *a, int64_t market_id, const int64_t *ids, int n,
		   struct listing_item **items);

/** "M" → "%|m|%" (LIKE pattern over product_market.sizes, wildcards escaped),
 * in arena a. */
const char *listing_like(struct arena *a, const char *value);

/** How many of the best matches a search's facets count (the total counts all). */
#define SEARCH_FACET_TOP 1000

/**
 * A search (q->match set): its page (as listing_run: up to q->limit + 1
 * items in *items, the count returned, -1 on error), the total of
 * everything it matches (ignoring paging) and facet counts over its
 * SEARCH_FACET_TOP best matches by relevance: with fewer matches than that,
 * over all of them. Facets ignore the page and the sort. The matches come
 * from a match set (matches.h) kept under generation (< 0: keep none).
 */
int search_run(struct db *db, struct arena *a, const struct listing_query *q, const char *currency,
	       int64_t generation, struct listing_item **items, struct facets *out);

/**
 * Turn user text into the engine's full-text syntax: lower-cased words of
 * letters and digits, each a prefix match, all required ("summ dress" →
 * `"summ"* "dress"*` on SQLite, `summ:* & dress:*` on PostgreSQL). NULL
 * when the text has no word.
 */
char *search_match_query(const struct db_dialect *d, struct arena *a, const char *text);


#endif
