/*
 * Match sets: every product a full-text query matches in one market, with
 * the columns a search filters, sorts and counts on (its product_market row
 * of scope 0), best match first. One database pass builds a set; each
 * filter, sort, page and facet of the same text in the same market is then
 * worked out in memory (search.c), so a search's cost no longer grows with
 * the number of filter combinations asked of one text.
 *
 * Sets are kept as the search cache keeps its pages: under the cache
 * generation the caller read before asking (a catalog write moves it on, so
 * a set built before the write is never used after it), for
 * MATCH_SET_TTL seconds, least recently used out first beyond a byte
 * budget. Requests asking for a set being built wait for it rather than
 * build it again.
 */
#ifndef MANDI_CATALOG_MATCHES_H
#define MANDI_CATALOG_MATCHES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;

/** Seconds a set is used for (the search cache's page TTL). */
#define MATCH_SET_TTL 60

struct match_row {
	int64_t id, rank, price, popularity, created_at, brand_id, category_id;
	/** '|s|m|' lists (ASCII lower case) as product_market holds them */
	const char *sizes, *colors, *stock_sizes, *stock_colors;
	bool in_stock;
};

struct match_set {
	int n;
	const struct match_row *rows; /**< rank descending, then id descending */
};

/** Bytes the kept sets may hold in all (0 = keep none). */
void match_sets_budget(size_t bytes);

/**
 * The set of products sold in market_id that match (a query in the
 * engine's syntax, search_match_query), or NULL on a database error.
 * generation < 0 builds a set for this caller alone and keeps nothing (no
 * cache, or the cache cannot tell whether the catalog changed). Give it
 * back with match_set_release.
 */
const struct match_set *match_set_get(struct db *db, int64_t market_id, const char *match,
				      int64_t generation);
void match_set_release(const struct match_set *set);

/** Drop every kept set (shutdown, tests). */
void match_sets_clear(void);

#endif
