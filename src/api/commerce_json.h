/* JSON shapes of the commerce area (CONTRACT §4): every object with amounts
 * carries currency, subtotal, discount, shipping, tax, total (+ _display)
 * and items with product_id, variant_id, sku, name, quantity, unit_price,
 * line_total. One writer per shape, shared by every handler. */
#ifndef MANDI_COMMERCE_JSON_H
#define MANDI_COMMERCE_JSON_H
#include "commerce/cart.h"
#include "commerce/checkout.h"
#include "commerce/order.h"
#include "core/jw.h"

struct market;

/** currency + the five totals (with display strings) into the open object. */
void write_totals(struct jw *w, const char *currency, const struct price_totals *t);
/** A cart (id null when the user has none yet). */
void write_cart(struct jw *w, const struct cart *c, const char *user_id);
/** The market's shipping methods as an array; with net >= 0, standard shows
 * the cost after the free-shipping rule for that discounted subtotal. */
void write_shipping_methods(struct jw *w, const struct market *m, int64_t net);
/** A checkout session with totals, methods and payment options. */
void write_session(struct jw *w, const struct checkout *s);
/** An order with frozen items and totals. */
void write_order(struct jw *w, const struct order *o);

#endif
