/* Unit tests of the pricing engine against CONTRACT §4, with the seeded
 * markets' numbers (US 8% exclusive, free standard at $50; IN 18% GST
 * inclusive, free standard at ₹999). */
#include "commerce/pricing.h"
#include "t.h"

static struct price_input us(const struct price_line *l, int n, int64_t ship, bool standard)
{
	return (struct price_input){.lines = l, .nlines = n, .tax_rate_bps = 800,
				    .prices_include_tax = false, .free_shipping_threshold = 5000,
				    .shipping_cost = ship, .shipping_is_standard = standard};
}

static struct price_input in(const struct price_line *l, int n, int64_t ship, bool standard)
{
	return (struct price_input){.lines = l, .nlines = n, .tax_rate_bps = 1800,
				    .prices_include_tax = true, .free_shipping_threshold = 99900,
				    .shipping_cost = ship, .shipping_is_standard = standard};
}

static void us_below_threshold_pays_standard_and_tax_on_top(void)
{
	struct price_line l[] = {{2499, 1}};
	struct price_input p = us(l, 1, 599, true);
	struct price_totals t;
	pricing_compute(&p, &t);
	CHECK_INT(t.subtotal, 2499);
	CHECK_INT(t.discount, 0);
	CHECK_INT(t.shipping, 599);
	CHECK_INT(t.tax, 200); /* 199.92 → 200 */
	CHECK_INT(t.total, 2499 + 599 + 200);
}

static void us_threshold_is_inclusive_and_only_for_standard(void)
{
	struct price_line l[] = {{2500, 2}};
	struct price_totals t;
	struct price_input p = us(l, 1, 599, true);
	pricing_compute(&p, &t);
	CHECK_INT(t.subtotal, 5000);
	CHECK_INT(t.shipping, 0);
	CHECK_INT(t.tax, 400);
	CHECK_INT(t.total, 5400);
	p = us(l, 1, 1499, false); /* express is never free */
	pricing_compute(&p, &t);
	CHECK_INT(t.shipping, 1499);
	CHECK_INT(t.total, 5000 + 1499 + 400);
}

static void us_percent_coupon_can_drop_below_free_shipping(void)
{
	struct price_line l[] = {{4999, 1}, {100, 1}};
	struct price_input p = us(l, 2, 599, true);
	p.coupon_kind = PRICE_COUPON_PERCENT;
	p.coupon_value = 1000;
	struct price_totals t;
	pricing_compute(&p, &t);
	CHECK_INT(t.subtotal, 5099);
	CHECK_INT(t.discount, 510);       /* 509.9 → 510 */
	CHECK_INT(t.shipping, 599);       /* 4589 < 5000 after the discount */
	CHECK_INT(t.tax, 367);            /* 4589 * 0.08 = 367.12 */
	CHECK_INT(t.total, 4589 + 599 + 367);
}

static void in_gst_is_inside_the_price(void)
{
	struct price_line l[] = {{249900, 1}};
	struct price_input p = in(l, 1, 4900, true);
	struct price_totals t;
	pricing_compute(&p, &t);
	CHECK_INT(t.shipping, 0); /* ₹2,499 ≥ ₹999 */
	CHECK_INT(t.tax, 38120);  /* 249900 * 18/118 = 38120.34 */
	CHECK_INT(t.total, 249900);
	struct price_line small[] = {{59900, 1}};
	p = in(small, 1, 4900, true);
	pricing_compute(&p, &t);
	CHECK_INT(t.shipping, 4900);
	CHECK_INT(t.tax, 9137); /* 59900 * 18/118 = 9137.29 */
	CHECK_INT(t.total, 59900 + 4900);
}

static void in_fixed_coupon_festive500(void)
{
	struct price_line l[] = {{149950, 2}};
	struct price_input p = in(l, 1, 4900, true);
	p.coupon_kind = PRICE_COUPON_FIXED;
	p.coupon_value = 50000;
	struct price_totals t;
	pricing_compute(&p, &t);
	CHECK_INT(t.subtotal, 299900);
	CHECK_INT(t.discount, 50000);
	CHECK_INT(t.shipping, 0);
	CHECK_INT(t.tax, 38120); /* GST inside 249900 */
	CHECK_INT(t.total, 249900);
}

static void discount_never_exceeds_subtotal(void)
{
	CHECK_INT(pricing_discount(PRICE_COUPON_FIXED, 50000, 1200), 1200);
	CHECK_INT(pricing_discount(PRICE_COUPON_PERCENT, 10000, 1200), 1200);
	CHECK_INT(pricing_discount(PRICE_COUPON_PERCENT, 1000, 5), 1); /* 0.5 → 1, half up */
	CHECK_INT(pricing_discount(PRICE_COUPON_PERCENT, 1000, 4), 0);
	CHECK_INT(pricing_discount(PRICE_COUPON_NONE, 1000, 4000), 0);
}

static void half_up_at_exact_half(void)
{
	/* 8% of 3132 = 250.56 → 251 */
	struct price_line l[] = {{3132, 1}};
	struct price_input p = us(l, 1, 599, true);
	struct price_totals t;
	pricing_compute(&p, &t);
	CHECK_INT(t.tax, 251);
	struct price_line h[] = {{1, 1}, {6, 1}, {3, 1}, {3, 1}, {37, 1}, {450, 1}, {6, 1}, {94, 1}}; /* 600 */
	p = us(h, 8, 599, true);
	p.tax_rate_bps = 75; /* 0.75% of 600 = 4.5 → 5, not banker's 4 */
	pricing_compute(&p, &t);
	CHECK_INT(t.subtotal, 600);
	CHECK_INT(t.tax, 5);
}

static void empty_cart_costs_nothing(void)
{
	struct price_input p = us(NULL, 0, 599, true);
	struct price_totals t;
	pricing_compute(&p, &t);
	CHECK_INT(t.total, 0);
	CHECK_INT(t.shipping, 0);
}

int main(void)
{
	RUN(us_below_threshold_pays_standard_and_tax_on_top);
	RUN(us_threshold_is_inclusive_and_only_for_standard);
	RUN(us_percent_coupon_can_drop_below_free_shipping);
	RUN(in_gst_is_inside_the_price);
	RUN(in_fixed_coupon_festive500);
	RUN(discount_never_exceeds_subtotal);
	RUN(half_up_at_exact_half);
	RUN(empty_cart_costs_nothing);
	return t_done();
}
