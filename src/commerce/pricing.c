#include "commerce/pricing.h"

#include "core/money.h"

int64_t pricing_subtotal(const struct price_line *lines, int n)
{
	int64_t s = 0;
	for (int i = 0; i < n; i++)
		s += lines[i].unit_price * lines[i].quantity;
	return s;
}

int64_t pricing_discount(enum price_coupon_kind kind, int64_t value, int64_t subtotal)
{
	int64_t d = 0;
	switch (kind) {
	case PRICE_COUPON_PERCENT:
		d = money_percent(subtotal, value);
		break;
	case PRICE_COUPON_FIXED:
		d = value;
		break;
	case PRICE_COUPON_NONE:
		break;
	}
	if (d > subtotal)
		d = subtotal;
	return d < 0 ? 0 : d;
}

void pricing_compute(const struct price_input *in, struct price_totals *out)
{
	out->subtotal = pricing_subtotal(in->lines, in->nlines);
	out->discount = pricing_discount(in->coupon_kind, in->coupon_value, out->subtotal);
	int64_t net = out->subtotal - out->discount;
	out->shipping = in->shipping_cost;
	/* the threshold is judged after the discount: a coupon can cost free shipping */
	if (in->shipping_is_standard && net >= in->free_shipping_threshold)
		out->shipping = 0;
	/* an empty cart ships nothing */
	if (in->nlines == 0)
		out->shipping = 0;
	if (in->prices_include_tax) {
		out->tax = money_tax_inclusive(net, in->tax_rate_bps);
		out->total = net + out->shipping;
	} else {
		out->tax = money_tax_exclusive(net, in->tax_rate_bps);
		out->total = net + out->shipping + out->tax;
	}
}
