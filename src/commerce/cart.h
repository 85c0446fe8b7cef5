/*
 * Carts: one per user and market, items merged on variant, quantities
 * 1..CART_MAX_QTY, never more than the variant's available stock
 * (stock - reserved). Prices are read from the catalog every time a cart is
 * loaded; nothing a client sends is trusted as a price.
 */
#ifndef MANDI_CART_H
#define MANDI_CART_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commerce/pricing.h"
#include "core/error.h"
#include "core/jsonin.h"

struct db;
struct market;

#define CART_MAX_QTY 100
#define CART_MAX_LINES 100

/** One cart line with its catalog data, priced in the cart's market. */
struct cart_line {
	int64_t item_id, product_id, variant_id, merchant_id;
	char sku[96];
	char name[256];
	int64_t quantity, unit_price, line_total;
	int64_t available; /**< stock - reserved right now */
	bool sellable;     /**< active and priced in this market */
};

/** A loaded cart (id 0 when the user has none yet). */
struct cart {
	int64_t id;
	const struct market *market;
	int nlines;
	bool overfull; /**< the cart has more than CART_MAX_LINES lines (only the first are loaded) */
	struct cart_line lines[CART_MAX_LINES];
};

/** Load user's cart in market m with current prices and stock. */
enum merr cart_load(struct db *db, const char *user_id, const struct market *m, struct cart *c);

/** Load the cart by id (for a checkout session). */
enum merr cart_load_id(struct db *db, int64_t cart_id, const struct market *m, struct cart *c);

/**
 * Add qty of variant_id (which must belong to product_id and be sold in m)
 * to the user's cart, merging with an existing line. out_of_stock when the
 * merged quantity exceeds what is available; validation_failed past 100.
 * On success c is the cart as committed, priced now (as cart_load).
 */
enum merr cart_add_item(struct db *db, const char *user_id, const struct market *m,
			int64_t product_id, int64_t variant_id, int64_t qty, struct cart *c,
			struct verr *e);

/** One line for qty of variant_id (of product_id) priced in m, with its
 * availability; not_found / validation_failed (not sold in m) otherwise. */
enum merr cart_line_for(struct db *db, const struct market *m, int64_t product_id,
			int64_t variant_id, int64_t qty, struct cart_line *l, struct verr *e);

/** Set a line's quantity (0 removes it). Fills *market_id with the cart's
 * market. not_found when the item is not in one of user_id's carts. */
enum merr cart_set_quantity(struct db *db, const char *user_id, int64_t item_id, int64_t qty,
			    int64_t *market_id, struct verr *e);

/** Remove every line (after an order). */
int cart_clear(struct db *db, int64_t cart_id) __attribute__((warn_unused_result));

/** Price lines into price_line form for pricing_compute; returns how many
 * sellable lines were written to out (at most CART_MAX_LINES). */
int cart_price_lines(const struct cart *c, struct price_line *out);

#endif
