/*
 * The pricing engine of CONTRACT §4: one pure function that prices carts,
 * checkout sessions, orders and refunds, so every place that shows or
 * charges an amount agrees to the minor unit. No I/O, no clock.
 */
#ifndef MANDI_PRICING_H
#define MANDI_PRICING_H
#include <stdbool.h>
#include <stdint.h>

/** A coupon's effect, already judged applicable (coupon.c decides that). */
enum price_coupon_kind { PRICE_COUPON_NONE = 0, PRICE_COUPON_PERCENT, PRICE_COUPON_FIXED };

/** One priced line: unit price from the catalog times quantity. */
struct price_line {
	int64_t unit_price;
	int64_t quantity;
};

/** Everything the totals depend on. */
struct price_input {
	const struct price_line *lines;
	int nlines;
	int64_t tax_rate_bps;
	bool prices_include_tax;        /**< IN: GST inside the prices */
	int64_t free_shipping_threshold; /**< standard ships free at or above this (after discount) */
	int64_t shipping_cost;           /**< the chosen method's cost */
	bool shipping_is_standard;       /**< only standard becomes free */
	enum price_coupon_kind coupon_kind;
	int64_t coupon_value;            /**< basis points (percent) or minor units (fixed) */
};

/** The five amounts every cart, session and order exposes. */
struct price_totals {
	int64_t subtotal, discount, shipping, tax, total;
};

/** Σ unit_price × quantity of the lines. */
int64_t pricing_subtotal(const struct price_line *lines, int n);

/** The discount a coupon gives on subtotal, never more than subtotal. */
int64_t pricing_discount(enum price_coupon_kind kind, int64_t value, int64_t subtotal);

/** Price in into out exactly as CONTRACT §4 says (integer half-up rounding). */
void pricing_compute(const struct price_input *in, struct price_totals *out);

#endif
