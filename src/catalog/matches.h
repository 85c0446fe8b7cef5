/*
 * Match sets and a market's columns. The columns are every scope-0
 * product_market row of a market, kept in id order and in each listing
 * sort's order (orders.h): listings walk them (search.c, listing_run).
 *
 * Match sets: every product a full-text query matches in one market, with
 * the columns a search filters, sorts and counts on (its product_market row
 * of scope 0), best match first. Each filter, sort, page and facet of the
 * same text in the same market is worked out in memory from the set
 * (search.c), so a search's cost no longer grows with the number of filter
 * combinations asked of one text.
 *
 * A set is built from the full-text matches and a market's columns: every
 * scope-0 product_market row of the market, read in one pass and kept, so
 * a new text costs its full-text pass and no row lookup per match (a
 * lookup, with its page reads, was nine tenths of a build). Columns and
 * sets are kept as the search cache keeps its pages: under the cache
 * generation the caller read before asking (a catalog write moves it on, so
 * nothing built before the write is used after it), for MATCH_SET_TTL
 * seconds counted from the columns' read, within one byte budget (sets
 * least recently used out first). Requests asking for what is being built
 * wait for it rather than build it again. A text's full-text pass does not
 * depend on the market: it is kept a few seconds for the other markets'
 * sets of the same text.
 */
#ifndef MANDI_CATALOG_MATCHES_H
#define MANDI_CATALOG_MATCHES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct market_columns;

/** Seconds a set is used for (the search cache's page TTL). */
#define MATCH_SET_TTL 60

/** A product's scope-0 product_market columns in one market. */
struct listing_row {
	int64_t id, price, popularity, created_at, brand_id, category_id;
	/** '|s|m|' lists (ASCII lower case) as product_market holds them */
	const char *sizes, *colors, *stock_sizes, *stock_colors;
	bool in_stock;
};

struct match_row {
	const struct listing_row *r;
	int64_t rank;
};

struct match_set {
	int n;
	const struct match_row *rows; /**< rank descending, then id descending */
};

/** Rows by rank descending, then id descending (a set's order). */
void match_rows_sort(struct match_row *rows, int n);

/** Bytes the kept sets and columns may hold in all (0 = keep none). */
void match_sets_budget(size_t bytes);

/**
 * The set of products sold in market_id that match (a query in the
 * engine's syntax, search_match_query), or NULL on a database error.
 * generation < 0 builds a set for this caller alone and keeps nothing (no
 * cache, or the cache cannot tell whether the catalog changed): its rows
 * are then looked up per match, as they are when a market's columns do not
 * fit the budget. Give it back with match_set_release.
 */
const struct match_set *match_set_get(struct db *db, int64_t market_id, const char *match,
				      int64_t generation);
void match_set_release(const struct match_set *set);

/** Start reading market_id's columns under generation in the background
 * unless they are kept and fresh, so that searches find them: done as a
 * server starts and again every few seconds (catalog.search-columns). */
void match_columns_warm(int64_t market_id, int64_t generation);
/** match_columns_warm for every market. */
void match_columns_warm_all(int64_t generation);

/** market_id's columns under generation when the store has them, with
 * their listing orders (orders.h), else NULL (their read is started in the
 * background, the caller reads the database meanwhile; NULL too for
 * generation < 0 and columns over the budget). Give them back with
 * match_columns_release. */
const struct market_columns *match_columns_get(int64_t market_id, int64_t generation);
void match_columns_release(const struct market_columns *c);

/** Wait for the column reads in flight (tests). */
void match_sets_settle(void);

/** Drop every kept set and column, after the reads in flight (shutdown, tests). */
void match_sets_clear(void);

#endif
