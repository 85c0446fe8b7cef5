#include "api/commerce_json.h"

#include <string.h>

#include "api/api.h"
#include "market/market.h"

void write_totals(struct jw *w, const char *currency, const struct price_totals *t)
{
	jw_kstr(w, "currency", currency);
	jw_money(w, "subtotal", t->subtotal, currency);
	jw_money(w, "discount", t->discount, currency);
	jw_money(w, "shipping", t->shipping, currency);
	jw_money(w, "tax", t->tax, currency);
	jw_money(w, "total", t->total, currency);
}

static void write_line(struct jw *w, const char *currency, int64_t item_id, int64_t product_id,
		       int64_t variant_id, const char *sku, const char *name, int64_t qty,
		       int64_t unit_price, int64_t line_total)
{
	if (item_id)
		jw_kint(w, "id", item_id);
	jw_kint(w, "product_id", product_id);
	jw_kint(w, "variant_id", variant_id);
	jw_kstr(w, "sku", sku);
	jw_kstr(w, "name", name);
	jw_kint(w, "quantity", qty);
	jw_money(w, "unit_price", unit_price, currency);
	jw_money(w, "line_total", line_total, currency);
}

static void write_cart_lines(struct jw *w, const struct cart *c)
{
	const char *cur = c->market->currency;
	jw_key(w, "items");
	jw_arr(w);
	for (int i = 0; i < c->nlines; i++) {
		const struct cart_line *l = &c->lines[i];
		jw_obj(w);
		write_line(w, cur, l->item_id, l->product_id, l->variant_id, l->sku, l->name,
			   l->quantity, l->unit_price, l->line_total);
		jw_kint(w, "available", l->available < 0 ? 0 : l->available);
		jw_kbool(w, "sellable", l->sellable);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

void write_cart(struct jw *w, const struct cart *c, const char *user_id)
{
	const struct market *m = c->market;
	struct price_line lines[CART_MAX_LINES];
	int n = cart_price_lines(c, lines);
	const struct market_shipping *std = market_shipping(m, "standard");
	struct price_input in = {
		.lines = lines, .nlines = n, .tax_rate_bps = m->tax_rate_bps,
		.prices_include_tax = m->prices_include_tax,
		.free_shipping_threshold = m->free_shipping_threshold,
		.shipping_cost = std ? std->cost : 0, .shipping_is_standard = true,
	};
	struct price_totals t;
	pricing_compute(&in, &t);
	int64_t count = 0;
	for (int i = 0; i < c->nlines; i++)
		count += c->lines[i].quantity;
	jw_obj(w);
	if (c->id)
		jw_kint(w, "id", c->id);
	else
		jw_knull(w, "id");
	jw_kstr(w, "user_id", user_id);
	jw_kstr(w, "market", m->code);
	write_cart_lines(w, c);
	jw_kint(w, "item_count", count);
	write_totals(w, m->currency, &t);
	jw_obj_end(w);
}

void write_shipping_methods(struct jw *w, const struct market *m, int64_t net)
{
	jw_arr(w);
	for (int i = 0; i < m->nshipping; i++) {
		const struct market_shipping *s = &m->shipping[i];
		int64_t cost = s->cost;
		bool is_std = strcmp(s->code, "standard") == 0;
		if (net >= 0 && is_std && net >= m->free_shipping_threshold)
			cost = 0;
		jw_obj(w);
		jw_kstr(w, "code", s->code);
		jw_kstr(w, "name", s->name);
		jw_kstr(w, "currency", m->currency);
		jw_money(w, "cost", cost, m->currency);
		jw_kbool(w, "free_over_threshold", is_std);
		jw_kint(w, "min_days", s->min_days);
		jw_kint(w, "max_days", s->max_days);
		char est[64];
		if (s->max_days == s->min_days)
			snprintf(est, sizeof(est), "%d business day%s", s->max_days, s->max_days == 1 ? "" : "s");
		else
			snprintf(est, sizeof(est), "%d-%d business days", s->min_days, s->max_days);
		jw_kstr(w, "delivery_estimate", est);
		jw_kstr(w, "carrier", s->carrier);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

void write_session(struct jw *w, const struct checkout *s)
{
	const struct market *m = s->market;
	jw_obj(w);
	jw_kint(w, "id", s->id);
	jw_kstr(w, "user_id", s->user_id);
	jw_kstr(w, "market", m->code);
	jw_kstr(w, "status", s->status);
	jw_kstr(w, "step", checkout_step(s));
	jw_kbool(w, "express", s->express);
	write_cart_lines(w, s->cart);
	write_totals(w, m->currency, &s->totals);
	jw_key(w, "shipping_address");
	if (s->address)
		jw_raw(w, s->address, strlen(s->address));
	else
		jw_null(w);
	jw_kstr_or_null(w, "shipping_method", s->method[0] ? s->method : NULL);
	jw_kstr_or_null(w, "coupon_code", s->coupon_id ? s->coupon.code : NULL);
	jw_kbool(w, "coupon_applied", s->coupon_id && s->coupon_applies);
	if (s->payment_method_id)
		jw_kint(w, "payment_method_id", s->payment_method_id);
	else
		jw_knull(w, "payment_method_id");
	jw_key(w, "shipping_methods");
	write_shipping_methods(w, m, s->totals.subtotal - s->totals.discount);
	jw_key(w, "payment_options");
	jw_arr(w);
	for (int i = 0; i < m->ngateways; i++) {
		jw_obj(w);
		jw_kstr(w, "gateway", m->gateways[i].code);
		jw_kstr(w, "name", m->gateways[i].name);
		jw_kstr(w, "kind", m->gateways[i].kind);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_kbool(w, "stock_reserved", s->reserved_units > 0);
	jw_time(w, "reserved_until", s->reserved_units > 0 ? s->expires_at : 0);
	if (s->order_id)
		jw_kint(w, "order_id", s->order_id);
	jw_time(w, "created_at", s->created_at);
	jw_time(w, "updated_at", s->updated_at);
	jw_obj_end(w);
}

void write_order(struct jw *w, const struct order *o)
{
	const char *cur = o->market->currency;
	jw_obj(w);
	jw_kint(w, "id", o->id);
	jw_kstr(w, "order_number", o->order_number);
	jw_kstr(w, "user_id", o->user_id);
	jw_kstr(w, "market", o->market->code);
	jw_kstr(w, "status", o->status);
	jw_kstr(w, "payment_status", o->payment_status);
	jw_kstr(w, "gateway", o->gateway);
	if (o->transaction_id)
		jw_kint(w, "transaction_id", o->transaction_id);
	else
		jw_knull(w, "transaction_id");
	jw_key(w, "items");
	jw_arr(w);
	for (int i = 0; i < o->nitems; i++) {
		const struct order_item *it = &o->items[i];
		jw_obj(w);
		write_line(w, cur, 0, it->product_id, it->variant_id, it->sku, it->name, it->quantity,
			   it->unit_price, it->line_total);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	write_totals(w, cur, &o->totals);
	jw_kstr_or_null(w, "coupon_code", o->coupon_code[0] ? o->coupon_code : NULL);
	jw_kstr(w, "shipping_method", o->shipping_method);
	jw_key(w, "shipping_address");
	const char *addr = o->shipping_address ? o->shipping_address : "{}";
	jw_raw(w, addr, strlen(addr));
	jw_kstr_or_null(w, "carrier", o->carrier[0] ? o->carrier : NULL);
	jw_kstr_or_null(w, "tracking_number", o->tracking_number[0] ? o->tracking_number : NULL);
	jw_time(w, "created_at", o->created_at);
	jw_time(w, "updated_at", o->updated_at);
	jw_obj_end(w);
}
