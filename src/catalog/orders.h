/*
 * A market's columns (matches.h) in listing order: the rows' indexes by
 * popularity, newest and price, for every product and for each category
 * scope (a category with its sub-categories, from the category tree of the
 * columns' generation), and each scope's distinct size and colour lists.
 * Built once per column read, on the reader thread; a listing walks its
 * scope's order from its cursor (search.c, listing_run).
 */
#ifndef MANDI_CATALOG_ORDERS_H
#define MANDI_CATALOG_ORDERS_H
#include <stddef.h>
#include <stdint.h>

struct catalog_names;
struct listing_row;

/** The orders a market's columns are kept in: each by its key descending,
 * ties by product id descending (a listing sorted by price ascending walks
 * ORDER_PRICE backwards). */
enum column_order { ORDER_POPULAR, ORDER_NEWEST, ORDER_PRICE, ORDER__COUNT };

/** The '|…|' lists of a listing row, by kind. */
enum column_list { LIST_SIZES, LIST_COLORS, LIST_STOCK_SIZES, LIST_STOCK_COLORS, LIST__COUNT };

/** A market's columns: its scope-0 product_market rows by product id, and
 * their indexes in each column_order, for every product and for each
 * category scope's (listing pages from memory: columns_order). */
struct market_columns {
	const struct listing_row *rows;
	int n;
	const int32_t *order[ORDER__COUNT];
	/* scope i (a category, its sub-categories included) of scope_ids
	 * (ascending) has scoped[k][scope_at[i] .. scope_at[i + 1]) */
	int nscopes;
	const int64_t *scope_ids;
	const int32_t *scope_at;
	const int32_t *scoped[ORDER__COUNT];
	/* the distinct lists of kind k among scope i's rows (slot nscopes: the
	 * whole market's) are lists[list_at[k][i] .. list_at[k][i + 1]) */
	const char *const *lists;
	const int32_t *list_at[LIST__COUNT];
};

/** The blocks orders_build allocates (freed by orders_free). */
struct orders {
	int32_t *orders, *scoped;
	int64_t *scope_ids;
	const char **lists;
};

/** A row's key in order k. */
int64_t order_key(const struct listing_row *w, enum column_order k);

/** Fill c's orders, scopes and lists for c->rows[0..c->n) and the category
 * tree nm, into blocks b then holds; returns their bytes. */
size_t orders_build(struct market_columns *c, const struct catalog_names *nm, struct orders *b);
void orders_free(struct orders *b);

/** The rows of category scope (0: every product) in order k, as indexes
 * into c->rows; *n of them (none for a category the tree does not have). */
const int32_t *columns_order(const struct market_columns *c, enum column_order k, int64_t scope,
			     int *n);

/** The distinct '|…|' lists of kind k among the rows of category scope (0:
 * every product), *n of them: a filter no list has passes no row. */
const char *const *columns_lists(const struct market_columns *c, enum column_list k, int64_t scope,
				 int *n);

#endif
