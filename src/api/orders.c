/* HTTP handlers: checkout sessions (with express and buy-now) and orders
 * (list, tracking, merchant/admin status moves). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "analytics/events.h"
#include "api/commerce_json.h"
#include "commerce/checkout.h"
#include "commerce/order.h"
#include "core/mem.h"

/* Load session id for the caller: someone else's session is answered
 * exactly like a missing one. Replies and returns false on failure. */
static bool session_or_404(struct req *r, struct checkout *s)
{
	int64_t id;
	memset(s, 0, sizeof(*s));
	if (!req_param_id(r, "id", &id))
		return false;
	enum merr rc = checkout_load(req_db(r), id, s);
	if (rc == MERR_OK && !is_admin(r) && strcmp(s->user_id, r->auth.sub) != 0)
		rc = MERR_NOT_FOUND;
	if (rc != MERR_OK) {
		reply_error(r, rc, NULL, rc == MERR_NOT_FOUND ? "no such checkout session" : NULL);
		checkout_free(s);
		return false;
	}
	return true;
}

static void reply_session(struct req *r, const struct checkout *s, int status)
{
	struct jw w;
	reply_begin(r, &w);
	write_session(&w, s);
	reply_end(r, status);
}

static void reply_order(struct req *r, const struct order *o, int status)
{
	struct jw w;
	reply_begin(r, &w);
	write_order(&w, o);
	reply_end(r, status);
}

static void checkout_start_h(struct req *r)
{
	static const char *const fields[] = {"market", "express", NULL};
	json_t *j = req_json_or_400(r, fields);
	const char *code;
	bool express;
	struct verr e;
	if (!j)
		return;
	if (!jsonin_str(j, "market", false, 0, 8, NULL, &code, &e) ||
	    !jsonin_bool(j, "express", false, false, &express, &e)) {
		reply_verr(r, &e);
		return;
	}
	const struct market *m = market_or_400(r, code, false);
	if (!m)
		return;
	struct checkout s;
	if (checkout_start(req_db(r), r->auth.sub, m, express, &s, &e) != MERR_OK) {
		reply_verr(r, &e);
	} else {
		analytics_record(req_db(r), "checkout_start", r->auth.sub, m->id, 0, NULL);
		reply_session(r, &s, 201);
	}
	checkout_free(&s);
}

static void checkout_get_h(struct req *r)
{
	struct checkout s;
	if (!session_or_404(r, &s))
		return;
	reply_session(r, &s, 200);
	checkout_free(&s);
}

static void checkout_update_h(struct req *r)
{
	static const char *const fields[] = {"shipping_address", "shipping_address_id",
					     "shipping_method", "coupon_code", NULL};
	json_t *j = req_json_or_400(r, fields), *addr = NULL;
	struct checkout_change ch = {0};
	struct address a = {0};
	struct verr e;
	if (!j)
		return;
	if (!jsonin_obj(j, "shipping_address", false, &addr, &e) ||
	    !jsonin_int(j, "shipping_address_id", false, 1, INT64_MAX, 0, &ch.address_id, &e) ||
	    !jsonin_str(j, "shipping_method", false, 1, 23, NULL, &ch.method, &e) ||
	    !jsonin_str(j, "coupon_code", false, 0, 63, NULL, &ch.coupon_code, &e) ||
	    (addr && !address_from_json(addr, "shipping_address.", &a, &e))) {
		reply_verr(r, &e);
		return;
	}
	if (addr && ch.address_id) {
		reply_error(r, MERR_VALIDATION, "shipping_address",
			    "send shipping_address or shipping_address_id, not both");
		return;
	}
	ch.set_address = addr || ch.address_id;
	ch.address = &a;
	struct checkout s;
	if (!session_or_404(r, &s))
		return;
	if (checkout_update(req_db(r), &s, &ch, &e) != MERR_OK)
		reply_verr(r, &e);
	else
		reply_session(r, &s, 200);
	checkout_free(&s);
}

static void checkout_complete_h(struct req *r)
{
	static const char *const fields[] = {"payment", NULL};
	json_t *j = req_json_or_400(r, fields), *payment = NULL;
	struct verr e;
	if (!j)
		return;
	if (!jsonin_obj(j, "payment", false, &payment, &e)) {
		reply_verr(r, &e);
		return;
	}
	struct checkout s;
	if (!session_or_404(r, &s))
		return;
	struct order o;
	if (checkout_complete(req_db(r), &s, payment, req_header(r, "Idempotency-Key"), r->client_ip,
			      &o, &e) != MERR_OK) {
		reply_verr(r, &e);
	} else {
		analytics_record_purchase(req_db(r), o.user_id, o.market->id, o.order_number,
					  o.totals.total, o.market->currency);
		reply_order(r, &o, o.payment_unconfirmed ? 202 : 201);
		order_free(&o);
	}
	checkout_free(&s);
}

static void checkout_express_h(struct req *r)
{
	static const char *const fields[] = {"market", "product_id", "variant_id", "quantity",
					     "payment", "shipping_address", "price", "unit_price", NULL};
	json_t *j = req_json_or_400(r, fields), *payment = NULL, *addr = NULL;
	const char *code;
	int64_t pid, vid, qty;
	struct address a = {0};
	struct verr e;
	if (!j)
		return;
	if (!jsonin_str(j, "market", false, 0, 8, NULL, &code, &e) ||
	    !jsonin_int(j, "product_id", true, 1, INT64_MAX, 0, &pid, &e) ||
	    !jsonin_int(j, "variant_id", true, 1, INT64_MAX, 0, &vid, &e) ||
	    !jsonin_int(j, "quantity", false, 1, CART_MAX_QTY, 1, &qty, &e) ||
	    !jsonin_obj(j, "payment", false, &payment, &e) ||
	    !jsonin_obj(j, "shipping_address", false, &addr, &e) ||
	    (addr && !address_from_json(addr, "shipping_address.", &a, &e))) {
		reply_verr(r, &e);
		return;
	}
	const struct market *m = market_or_400(r, code, false);
	if (!m)
		return;
	struct order o;
	if (checkout_buy_now(req_db(r), r->auth.sub, m, pid, vid, qty, addr ? &a : NULL, payment,
			     req_header(r, "Idempotency-Key"), r->client_ip, &o, &e) != MERR_OK) {
		reply_verr(r, &e);
		return;
	}
	analytics_record_purchase(req_db(r), o.user_id, o.market->id, o.order_number, o.totals.total,
				  o.market->currency);
	reply_order(r, &o, o.payment_unconfirmed ? 202 : 201);
	order_free(&o);
}

/* --- orders ----------------------------------------------------------------- */

static void orders_list_h(struct req *r)
{
	const char *user = req_param(r, "user_id");
	int64_t limit, before;
	if (!owner_or_403(r, user) || !id_page_or_400(r, &limit, &before))
		return;
	struct order *os;
	int n = order_list_user(req_db(r), user, before, limit + 1, &os);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	bool more;
	int shown = list_begin(r, &w, n, limit, &more);
	for (int i = 0; i < shown; i++)
		if (os[i].market)
			write_order(&w, &os[i]);
	list_end(r, &w, more, shown ? os[shown - 1].id : 0);
	for (int i = 0; i < n; i++)
		order_free(&os[i]);
	free(os);
}

/* The order in the path, if the caller may see it: its customer, an admin,
 * or a merchant with items in it. Others get 404 (nothing revealed). */
static bool order_or_404(struct req *r, struct order *o)
{
	const char *number = req_param(r, "order_number");
	enum merr rc = number && strlen(number) < sizeof(o->order_number)
			       ? order_get(req_db(r), number, o)
			       : MERR_NOT_FOUND;
	if (rc == MERR_OK && !o->market)
		rc = MERR_NOT_FOUND;
	if (rc == MERR_OK && !is_admin(r) && strcmp(o->user_id, r->auth.sub) != 0 &&
	    !(r->auth.role == ROLE_MERCHANT && order_has_merchant(o, r->auth.merchant_id)))
		rc = MERR_NOT_FOUND;
	if (rc != MERR_OK) {
		order_free(o);
		reply_error(r, rc, NULL, rc == MERR_NOT_FOUND ? "no such order" : NULL);
		return false;
	}
	return true;
}

static void order_track_h(struct req *r)
{
	struct order o;
	if (!order_or_404(r, &o))
		return;
	struct order_event *ev;
	int n = order_history(req_db(r), o.id, &ev);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		order_free(&o);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kstr(&w, "order_number", o.order_number);
	jw_kstr(&w, "status", o.status);
	jw_kstr_or_null(&w, "carrier", o.carrier[0] ? o.carrier : NULL);
	jw_kstr_or_null(&w, "tracking_number", o.tracking_number[0] ? o.tracking_number : NULL);
	jw_key(&w, "history");
	jw_arr(&w);
	for (int i = 0; i < n; i++) {
		jw_obj(&w);
		jw_kstr(&w, "status", ev[i].status);
		jw_time(&w, "at", ev[i].at);
		jw_kstr(&w, "note", ev[i].note);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "order");
	write_order(&w, &o);
	jw_obj_end(&w);
	reply_end(r, 200);
	free(ev);
	order_free(&o);
}

/* ship / deliver / cancel: one handler shape, the target status from a table. */
static void order_move(struct req *r, const char *to)
{
	static const char *const fields[] = {"carrier", "tracking_number", "reason", NULL};
	json_t *j = r->body.len ? req_json_or_400(r, fields) : NULL;
	const char *carrier = NULL, *tracking = NULL, *reason = NULL;
	struct verr e;
	if (r->body.len && !j)
		return;
	bool ship = strcmp(to, "shipped") == 0;
	if (j && (!jsonin_str(j, "carrier", ship, 1, 63, NULL, &carrier, &e) ||
		  !jsonin_str(j, "tracking_number", ship, 1, 63, NULL, &tracking, &e) ||
		  !jsonin_str(j, "reason", false, 0, 190, NULL, &reason, &e))) {
		reply_verr(r, &e);
		return;
	}
	if (ship && !j) {
		reply_error(r, MERR_VALIDATION, "carrier", "'carrier' and 'tracking_number' are required");
		return;
	}
	struct order o;
	if (!order_or_404(r, &o))
		return;
	/* customers may cancel their own order; moving it along is the seller's */
	if (r->auth.role == ROLE_CUSTOMER && strcmp(to, "cancelled") != 0) {
		reply_error(r, MERR_FORBIDDEN, NULL, "only the merchant or an admin moves an order along");
		order_free(&o);
		return;
	}
	if (order_transition(req_db(r), &o, to, carrier, tracking, r->auth.sub, &e) != MERR_OK)
		reply_verr(r, &e);
	else
		reply_order(r, &o, 200);
	order_free(&o);
}

static void order_ship_h(struct req *r)
{
	order_move(r, "shipped");
}

static void order_deliver_h(struct req *r)
{
	order_move(r, "delivered");
}

static void order_cancel_h(struct req *r)
{
	order_move(r, "cancelled");
}

const struct route routes_orders[] = {
	{"POST", "/api/checkout/start", checkout_start_h, ROLE_CUSTOMER, RF_NONE, "Start checkout on the cart"},
	{"POST", "/api/checkout/express", checkout_express_h, ROLE_CUSTOMER, RF_IDEMPOTENT, "Buy one variant now"},
	{"GET", "/api/checkout/{id}", checkout_get_h, ROLE_CUSTOMER, RF_NONE, "A checkout session"},
	{"PUT", "/api/checkout/{id}/update", checkout_update_h, ROLE_CUSTOMER, RF_NONE, "Set address, shipping method or coupon"},
	{"POST", "/api/checkout/{id}/complete", checkout_complete_h, ROLE_CUSTOMER, RF_IDEMPOTENT, "Pay and place the order"},
	{"GET", "/api/orders/{user_id}", orders_list_h, ROLE_CUSTOMER, RF_NONE, "A user's orders"},
	{"GET", "/api/orders/{order_number}/track", order_track_h, ROLE_CUSTOMER, RF_NONE, "Order status history and tracking"},
	{"POST", "/api/orders/{order_number}/ship", order_ship_h, ROLE_MERCHANT, RF_NONE, "Mark shipped (merchant/admin)"},
	{"POST", "/api/orders/{order_number}/deliver", order_deliver_h, ROLE_MERCHANT, RF_NONE, "Mark delivered (merchant/admin)"},
	{"POST", "/api/orders/{order_number}/cancel", order_cancel_h, ROLE_CUSTOMER, RF_NONE, "Cancel an order (returns stock)"},
	{0},
};
