/* HTTP handlers: cart, shipping methods, addresses, coupons (issue 4).
 * Checkout and orders are in api/orders.c; both render amounts with the
 * helpers in api/commerce_json.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "analytics/events.h"
#include "api/commerce_json.h"
#include "commerce/address.h"
#include "commerce/cart.h"
#include "commerce/coupon.h"
#include "core/mem.h"
#include "core/timeutil.h"

/* --- cart --------------------------------------------------------------- */

/* Reply with a loaded cart; the connection goes back first, as rendering
 * needs none (with a pool of one, every other cart request waits for it). */
static void reply_loaded_cart(struct req *r, const struct cart *c, const char *user_id)
{
	req_db_release(r);
	struct jw w;
	reply_begin(r, &w);
	write_cart(&w, c, user_id);
	reply_end(r, 200);
}

/* Reply with user_id's cart in m (priced now). */
static void reply_cart(struct req *r, const char *user_id, const struct market *m)
{
	if (!m) { /* a market switched off since the cart was filled */
		reply_error(r, MERR_NOT_FOUND, NULL, "this cart's market is not served");
		return;
	}
	/* not zeroed: loading sets the header and fills only nlines lines (40 KB) */
	struct cart *c = xmalloc(sizeof(*c));
	if (cart_load(req_db(r), user_id, m, c) != MERR_OK) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		goto out;
	}
	reply_loaded_cart(r, c, user_id);
out:
	free(c);
}

static void cart_add(struct req *r)
{
	/* price fields are accepted and ignored: the catalog decides prices */
	static const char *const fields[] = {"market", "product_id", "variant_id", "quantity",
					     "price", "unit_price", "currency", NULL};
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	struct verr e;
	const char *code;
	int64_t pid, vid, qty;
	if (!jsonin_str(j, "market", false, 0, 8, NULL, &code, &e) ||
	    !jsonin_int(j, "product_id", true, 1, INT64_MAX, 0, &pid, &e) ||
	    !jsonin_int(j, "variant_id", true, 1, INT64_MAX, 0, &vid, &e) ||
	    !jsonin_int(j, "quantity", false, 1, CART_MAX_QTY, 1, &qty, &e)) {
		reply_verr(r, &e);
		return;
	}
	const struct market *m = market_or_400(r, code, false);
	if (!m)
		return;
	/* not zeroed: the add fills the header and only nlines lines (40 KB) */
	struct cart *c = xmalloc(sizeof(*c));
	if (cart_add_item(req_db(r), r->auth.sub, m, pid, vid, qty, c, &e) != MERR_OK) {
		reply_verr(r, &e);
		goto out;
	}
	analytics_record(req_db(r), "add_to_cart", r->auth.sub, m->id, pid, NULL);
	reply_loaded_cart(r, c, r->auth.sub); /* the cart came back with the commit */
out:
	free(c);
}

static void cart_get(struct req *r)
{
	const char *user = req_param(r, "user_id");
	if (!owner_or_403(r, user))
		return;
	const struct market *m = market_or_400(r, req_query(r, "market"), false);
	if (m)
		reply_cart(r, user, m);
}

/* PUT update (quantity 0 removes) and DELETE remove share this. */
static void cart_change(struct req *r, int64_t qty)
{
	int64_t item, market_id;
	struct verr e;
	if (!req_param_id(r, "item_id", &item))
		return;
	if (cart_set_quantity(req_db(r), r->auth.sub, item, qty, &market_id, &e) != MERR_OK) {
		reply_verr(r, &e);
		return;
	}
	reply_cart(r, r->auth.sub, market_by_id(market_id));
}

static void cart_update(struct req *r)
{
	static const char *const fields[] = {"quantity", NULL};
	json_t *j = req_json_or_400(r, fields);
	struct verr e;
	int64_t qty;
	if (!j)
		return;
	if (!jsonin_int(j, "quantity", true, 0, CART_MAX_QTY, 0, &qty, &e)) {
		reply_verr(r, &e);
		return;
	}
	cart_change(r, qty);
}

static void cart_remove(struct req *r)
{
	cart_change(r, 0);
}

/* --- shipping methods ----------------------------------------------------- */

static void shipping_methods(struct req *r)
{
	const struct market *m = market_or_400(r, req_query(r, "market"), false);
	if (!m)
		return;
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kstr(&w, "market", m->code);
	jw_kstr(&w, "currency", m->currency);
	jw_money(&w, "free_shipping_threshold", m->free_shipping_threshold, m->currency);
	jw_key(&w, "data");
	write_shipping_methods(&w, m, -1);
	jw_knull(&w, "next_cursor");
	jw_obj_end(&w);
	reply_end(r, 200);
}

/* --- addresses -------------------------------------------------------------- */

static void write_address(struct jw *w, const struct address *a)
{
	char *json = address_json(a);
	jw_raw(w, json, strlen(json));
	free(json);
}

static void address_list_h(struct req *r)
{
	struct address *as;
	int n = address_list(req_db(r), r->auth.sub, &as);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	list_open(r, &w);
	for (int i = 0; i < n; i++) {
		jw_obj(&w);
		jw_kint(&w, "id", as[i].id);
		jw_kbool(&w, "is_default", as[i].is_default);
		jw_key(&w, "address");
		write_address(&w, &as[i]);
		jw_obj_end(&w);
	}
	list_end(r, &w, false, 0);
	free(as);
}

static void address_create_h(struct req *r)
{
	json_t *j = req_json_or_400(r, NULL);
	struct address a = {0};
	struct verr e;
	if (!j)
		return;
	if (!address_from_json(j, "", &a, &e)) {
		reply_verr(r, &e);
		return;
	}
	enum merr rc = address_create(req_db(r), r->auth.sub, &a);
	if (rc != MERR_OK) {
		reply_error(r, rc, NULL, rc == MERR_VALIDATION ? "at most 50 saved addresses" : NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kint(&w, "id", a.id);
	jw_kbool(&w, "is_default", a.is_default);
	jw_key(&w, "address");
	write_address(&w, &a);
	jw_obj_end(&w);
	reply_end(r, 201);
}

static void address_default_h(struct req *r)
{
	int64_t id;
	if (!req_param_id(r, "id", &id))
		return;
	enum merr rc = address_set_default(req_db(r), r->auth.sub, id);
	if (rc != MERR_OK) {
		reply_error(r, rc, NULL, NULL);
		return;
	}
	address_list_h(r);
}

static void address_delete_h(struct req *r)
{
	int64_t id;
	if (!req_param_id(r, "id", &id))
		return;
	enum merr rc = address_delete(req_db(r), r->auth.sub, id);
	if (rc != MERR_OK) {
		reply_error(r, rc, NULL, NULL);
		return;
	}
	reply_bytes(r, 200, NULL, "{\"deleted\": true}", 16);
}

/* --- coupons (admin) ------------------------------------------------------ */

static void write_coupon(struct jw *w, const struct coupon *c)
{
	const struct market *m = c->market_id ? market_by_id(c->market_id) : NULL;
	jw_obj(w);
	jw_kint(w, "id", c->id);
	jw_kstr(w, "code", c->code);
	jw_kstr_or_null(w, "market", m ? m->code : NULL);
	jw_kstr(w, "kind", c->kind);
	jw_kint(w, "value", c->value);
	if (m) {
		jw_kstr(w, "currency", m->currency);
		jw_money(w, "min_subtotal", c->min_subtotal, m->currency);
	} else {
		jw_kint(w, "min_subtotal", c->min_subtotal);
	}
	jw_time(w, "starts_at", c->starts_at);
	jw_time(w, "ends_at", c->ends_at);
	if (c->max_uses)
		jw_kint(w, "max_uses", c->max_uses);
	else
		jw_knull(w, "max_uses");
	if (c->per_user_limit)
		jw_kint(w, "per_user_limit", c->per_user_limit);
	else
		jw_knull(w, "per_user_limit");
	jw_kint(w, "uses", c->uses);
	jw_kbool(w, "active", c->active);
	jw_kstr(w, "description", c->description);
	jw_time(w, "created_at", c->created_at);
	jw_obj_end(w);
}

/* An RFC 3339 time field (absent or null: 0). */
static bool time_field(json_t *j, const char *key, int64_t *out, struct verr *e)
{
	json_t *v = json_object_get(j, key);
	*out = 0;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v) || (*out = time_parse_rfc3339(json_string_value(v))) < 0)
		return verr_set(e, MERR_VALIDATION, key, "'%s' must be an RFC 3339 time", key);
	return true;
}

/* Coupon fields from admin JSON; `partial` keeps c's values for absent keys. */
static bool coupon_from_json(json_t *j, struct coupon *c, bool partial, struct verr *e)
{
	const char *code = NULL, *kind = NULL, *market = NULL, *desc = NULL;
	if (!jsonin_str(j, "code", !partial, 1, 63, NULL, &code, e) ||
	    !jsonin_str(j, "kind", !partial, 1, 15, NULL, &kind, e) ||
	    !jsonin_str(j, "market", false, 0, 8, NULL, &market, e) ||
	    !jsonin_str(j, "description", false, 0, 255, NULL, &desc, e) ||
	    !jsonin_int(j, "value", !partial, 1, INT64_MAX / 10000, c->value, &c->value, e) ||
	    !jsonin_int(j, "min_subtotal", false, 0, INT64_MAX / 10000, c->min_subtotal, &c->min_subtotal, e) ||
	    !jsonin_int(j, "max_uses", false, 0, INT64_MAX, c->max_uses, &c->max_uses, e) ||
	    !jsonin_int(j, "per_user_limit", false, 0, INT64_MAX, c->per_user_limit, &c->per_user_limit, e) ||
	    !jsonin_bool(j, "active", false, c->active, &c->active, e))
		return false;
	if (json_object_get(j, "starts_at") && !time_field(j, "starts_at", &c->starts_at, e))
		return false;
	if (json_object_get(j, "ends_at") && !time_field(j, "ends_at", &c->ends_at, e))
		return false;
	if (code) {
		for (const char *p = code; *p; p++)
			if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
				return verr_set(e, MERR_VALIDATION, "code",
						"a coupon code is upper-case letters, digits, - and _");
		snprintf(c->code, sizeof(c->code), "%s", code);
	}
	if (kind) {
		if (strcmp(kind, "percent") != 0 && strcmp(kind, "fixed") != 0)
			return verr_set(e, MERR_VALIDATION, "kind", "kind must be percent or fixed");
		snprintf(c->kind, sizeof(c->kind), "%s", kind);
	}
	if (strcmp(c->kind, "percent") == 0 && c->value > 10000)
		return verr_set(e, MERR_VALIDATION, "value", "a percent coupon's value is basis points, at most 10000");
	if (market) {
		const struct market *m = *market ? market_get(market) : NULL;
		if (*market && !m)
			return verr_set(e, MERR_UNKNOWN_MARKET, "market", "unknown market '%.8s'", market);
		c->market_id = m ? m->id : 0;
	}
	if (desc)
		snprintf(c->description, sizeof(c->description), "%s", desc);
	if (c->starts_at && c->ends_at && c->ends_at <= c->starts_at)
		return verr_set(e, MERR_VALIDATION, "ends_at", "ends_at must be after starts_at");
	return true;
}

static const char *const coupon_fields[] = {"code", "kind", "value", "market", "min_subtotal",
					    "starts_at", "ends_at", "max_uses", "per_user_limit",
					    "active", "description", NULL};

static void coupon_create_h(struct req *r)
{
	json_t *j = req_json_or_400(r, coupon_fields);
	struct coupon c = {.active = true, .created_at = time_now()};
	struct verr e;
	if (!j)
		return;
	if (!coupon_from_json(j, &c, false, &e)) {
		reply_verr(r, &e);
		return;
	}
	enum merr rc = coupon_create(req_db(r), &c);
	if (rc != MERR_OK) {
		reply_error(r, rc, "code", rc == MERR_CONFLICT ? "a coupon with this code exists" : NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_coupon(&w, &c);
	reply_end(r, 201);
}

static void coupon_get_h(struct req *r)
{
	int64_t id;
	struct coupon c;
	if (!req_param_id(r, "id", &id))
		return;
	enum merr rc = coupon_get(req_db(r), id, &c);
	if (rc != MERR_OK) {
		reply_error(r, rc, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_coupon(&w, &c);
	reply_end(r, 200);
}

static void coupon_update_h(struct req *r)
{
	int64_t id;
	struct coupon c;
	struct verr e;
	json_t *j = req_json_or_400(r, coupon_fields);
	if (!j || !req_param_id(r, "id", &id))
		return;
	enum merr rc = coupon_get(req_db(r), id, &c);
	if (rc != MERR_OK) {
		reply_error(r, rc, NULL, NULL);
		return;
	}
	if (json_object_get(j, "code")) {
		reply_error(r, MERR_VALIDATION, "code", "a coupon's code cannot change");
		return;
	}
	if (!coupon_from_json(j, &c, true, &e)) {
		reply_verr(r, &e);
		return;
	}
	if ((rc = coupon_update(req_db(r), &c)) != MERR_OK) {
		reply_error(r, rc, NULL, NULL);
		return;
	}
	coupon_get_h(r);
}

static void coupon_delete_h(struct req *r)
{
	int64_t id;
	if (!req_param_id(r, "id", &id))
		return;
	enum merr rc = coupon_deactivate(req_db(r), id);
	if (rc != MERR_OK) {
		reply_error(r, rc, NULL, NULL);
		return;
	}
	coupon_get_h(r);
}

static void coupon_list_h(struct req *r)
{
	int64_t limit, after;
	if (!id_page_or_400(r, &limit, &after))
		return;
	struct coupon *cs;
	int n = coupon_list(req_db(r), after, limit + 1, &cs);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	bool more;
	n = list_begin(r, &w, n, limit, &more);
	for (int i = 0; i < n; i++)
		write_coupon(&w, &cs[i]);
	list_end(r, &w, more, n ? cs[n - 1].id : 0);
	free(cs);
}

const struct route routes_commerce[] = {
	{"POST", "/api/cart/add", cart_add, ROLE_CUSTOMER, RF_NONE, "Add a variant to the cart"},
	{"GET", "/api/cart/{user_id}", cart_get, ROLE_CUSTOMER, RF_NONE, "A user's cart in a market"},
	{"PUT", "/api/cart/update/{item_id}", cart_update, ROLE_CUSTOMER, RF_NONE, "Change a cart line's quantity"},
	{"DELETE", "/api/cart/remove/{item_id}", cart_remove, ROLE_CUSTOMER, RF_NONE, "Remove a cart line"},
	{"GET", "/api/shipping/methods", shipping_methods, ROLE_PUBLIC, RF_NONE, "A market's shipping methods"},
	{"GET", "/api/addresses", address_list_h, ROLE_CUSTOMER, RF_NONE, "Your saved shipping addresses"},
	{"POST", "/api/addresses", address_create_h, ROLE_CUSTOMER, RF_NONE, "Save a shipping address"},
	{"PUT", "/api/addresses/{id}/default", address_default_h, ROLE_CUSTOMER, RF_NONE, "Make an address the default"},
	{"DELETE", "/api/addresses/{id}", address_delete_h, ROLE_CUSTOMER, RF_NONE, "Delete a saved address"},
	{"GET", "/api/coupons", coupon_list_h, ROLE_ADMIN, RF_NONE, "Coupons (admin)"},
	{"POST", "/api/coupons", coupon_create_h, ROLE_ADMIN, RF_NONE, "Create a coupon (admin)"},
	{"GET", "/api/coupons/{id}", coupon_get_h, ROLE_ADMIN, RF_NONE, "One coupon (admin)"},
	{"PUT", "/api/coupons/{id}", coupon_update_h, ROLE_ADMIN, RF_NONE, "Change a coupon (admin)"},
	{"DELETE", "/api/coupons/{id}", coupon_delete_h, ROLE_ADMIN, RF_NONE, "Deactivate a coupon (admin)"},
	{0},
};
