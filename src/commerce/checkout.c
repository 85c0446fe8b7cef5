#include "commerce/checkout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/inventory.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"
#include "payment/payment.h"

const char *checkout_step(const struct checkout *s)
{
	if (strcmp(s->status, "open") != 0)
		return s->status;
	if (!s->address)
		return "address";
	if (!s->method[0])
		return "shipping";
	return "payment";
}

/* The method the session ships with: the chosen one, else standard. */
static const struct market_shipping *session_method(const struct checkout *s)
{
	const struct market_shipping *ms = s->method[0] ? market_shipping(s->market, s->method) : NULL;
	return ms ? ms : market_shipping(s->market, "standard");
}

/* Price the session's sellable lines with its method and (applicable) coupon. */
static void session_price(struct db *db, struct checkout *s)
{
	struct price_line lines[CART_MAX_LINES];
	int n = cart_price_lines(s->cart, lines);
	const struct market_shipping *ms = session_method(s);
	struct price_input in = {
		.lines = lines, .nlines = n, .tax_rate_bps = s->market->tax_rate_bps,
		.prices_include_tax = s->market->prices_include_tax,
		.free_shipping_threshold = s->market->free_shipping_threshold,
		.shipping_cost = ms ? ms->cost : 0,
		.shipping_is_standard = ms && strcmp(ms->code, "standard") == 0,
	};
	s->coupon_applies = false;
	if (s->coupon_id) {
		struct verr e;
		int64_t sub = pricing_subtotal(lines, n);
		s->coupon_applies = coupon_check(db, &s->coupon, s->market, s->user_id, sub, time_now(),
						 &e) == MERR_OK;
		if (s->coupon_applies) {
			in.coupon_kind = coupon_price_kind(&s->coupon);
			in.coupon_value = s->coupon.value;
		}
	}
	pricing_compute(&in, &s->totals);
}

/* The cheapest way to ship this session (standard may be free). */
static const struct market_shipping *cheapest_method(struct db *db, struct checkout *s)
{
	const struct market_shipping *best = NULL;
	int64_t best_cost = 0;
	char keep[24];
	snprintf(keep, sizeof(keep), "%s", s->method);
	for (int i = 0; i < s->market->nshipping; i++) {
		snprintf(s->method, sizeof(s->method), "%s", s->market->shipping[i].code);
		session_price(db, s);
		if (!best || s->totals.shipping < best_cost) {
			best = &s->market->shipping[i];
			best_cost = s->totals.shipping;
		}
	}
	snprintf(s->method, sizeof(s->method), "%s", keep);
	return best;
}

/* --- reservations ------------------------------------------------------- */

/* Give back every unit held for session_id (inside the caller's transaction).
 * Each row is released by a conditional UPDATE, so the expiry job and a
 * completion touching the same row never both count it. */
static int release_held(struct db *db, int64_t session_id, int64_t now, int64_t expired_before)
{
	struct db_res res = {0};
	int rc = db_query(db, &res,
			  "SELECT id, variant_id, quantity FROM stock_reservations WHERE session_id = $1 "
			  "AND status = 'held' AND ($2 = 0 OR expires_at <= $2) ORDER BY variant_id, id",
			  DBV(DI(session_id), DI(expired_before)));
	for (int i = 0; rc == DB_OK && i < res.nrows; i++) {
		int64_t n = 0;
		rc = db_exec(db, "UPDATE stock_reservations SET status = 'released' WHERE id = $1 AND status = 'held'",
			     DBV(DI(db_int(&res, i, 0))), &n);
		if (rc == DB_OK && n == 1)
			rc = db_exec(db,
				     "UPDATE inventory SET reserved = reserved - $2, updated_at = $3 "
				     "WHERE variant_id = $1 AND reserved >= $2",
				     DBV(DI(db_int(&res, i, 1)), DI(db_int(&res, i, 2)), DI(now)), NULL);
	}
	db_res_free(&res);
	return rc;
}

/* A line order by variant id: every transaction touches inventory rows in
 * the same order, so two checkouts never deadlock on PostgreSQL. */
static int by_variant(const void *a, const void *b)
{
	const struct cart_line *x = a, *y = b;
	return (x->variant_id > y->variant_id) - (x->variant_id < y->variant_id);
}

/* Whether the session's held reservations are exactly its lines and live. */
static bool reservation_matches(struct db *db, const struct checkout *s, int64_t now)
{
	struct db_res res = {0};
	bool ok = db_query(db, &res,
			   "SELECT variant_id, SUM(quantity), MIN(expires_at) FROM stock_reservations "
			   "WHERE session_id = $1 AND status = 'held' GROUP BY variant_id ORDER BY variant_id",
			   DBV(DI(s->id))) == DB_OK &&
		  res.nrows == s->cart->nlines;
	for (int i = 0; ok && i < res.nrows; i++) {
		bool found = false;
		for (int k = 0; k < s->cart->nlines; k++)
			if (s->cart->lines[k].variant_id == db_int(&res, i, 0))
				found = s->cart->lines[k].quantity == db_int(&res, i, 1);
		ok = found && db_int(&res, i, 2) > now + 30; /* not about to lapse mid-charge */
	}
	db_res_free(&res);
	return ok;
}

/* Hold the session's lines for RESERVATION_TTL: release what it held, then
 * take each line with one conditional UPDATE (stock - reserved >= qty).
 * out_of_stock (nothing held) when any line is short. */
static enum merr reserve(struct db *db, struct checkout *s, int64_t now, struct verr *e)
{
	enum merr rc = MERR_INTERNAL;
	int64_t exp = now + cfg.reservation_ttl;
	struct cart_line *lines = xcalloc((size_t)s->cart->nlines + 1, sizeof(*lines));
	memcpy(lines, s->cart->lines, (size_t)s->cart->nlines * sizeof(*lines));
	qsort(lines, (size_t)s->cart->nlines, sizeof(*lines), by_variant);
	verr_set(e, MERR_INTERNAL, NULL, "internal error");
	if (db_begin(db) != DB_OK || release_held(db, s->id, now, 0) != DB_OK)
		goto out;
	for (int i = 0; i < s->cart->nlines; i++) {
		int64_t n = 0;
		if (db_exec(db,
			    "UPDATE inventory SET reserved = reserved + $2, updated_at = $3 "
			    "WHERE variant_id = $1 AND stock - reserved >= $2",
			    DBV(DI(lines[i].variant_id), DI(lines[i].quantity), DI(now)), &n) != DB_OK)
			goto out;
		if (n != 1) {
			verr_set(e, MERR_OUT_OF_STOCK, "items", "not enough stock of %s", lines[i].sku);
			rc = MERR_OUT_OF_STOCK;
			goto out;
		}
		if (db_exec(db,
			    "INSERT INTO stock_reservations (session_id, variant_id, quantity, expires_at, "
			    "created_at) VALUES ($1, $2, $3, $4, $5)",
			    DBV(DI(s->id), DI(lines[i].variant_id), DI(lines[i].quantity), DI(exp), DI(now)),
			    NULL) != DB_OK)
			goto out;
	}
	if (db_exec(db, "UPDATE checkout_sessions SET expires_at = $2, updated_at = $3 WHERE id = $1",
		    DBV(DI(s->id), DI(exp), DI(now)), NULL) != DB_OK ||
	    db_commit(db) != DB_OK)
		goto out;
	s->expires_at = exp;
	s->reserved_units = 0;
	for (int i = 0; i < s->cart->nlines; i++)
		s->reserved_units += s->cart->lines[i].quantity;
	rc = MERR_OK;
out:
	db_rollback(db);
	free(lines);
	return rc;
}

/* Release everything the session holds (after a decline or a failed commit). */
static void release(struct db *db, struct checkout *s)
{
	if (db_begin(db) != DB_OK || release_held(db, s->id, time_now(), 0) != DB_OK ||
	    db_commit(db) != DB_OK)
		log_error("checkout %lld: could not release its reservation; the expiry job will",
			  (long long)s->id);
	db_rollback(db);
	s->reserved_units = 0;
}

/* Turn the held units into a sale (inside the order transaction): each held
 * row becomes 'converted' and leaves stock and reserved together. Units no
 * longer held (the expiry job got there first) are sold directly if still
 * available, else out_of_stock. */
static enum merr convert(struct db *db, struct checkout *s, int64_t now, struct verr *e)
{
	struct db_res res = {0};
	enum merr rc = MERR_INTERNAL;
	int nl = s->cart->nlines;
	int64_t *covered = xcalloc((size_t)nl + 1, sizeof(*covered));
	bool *low_stock = xcalloc((size_t)nl + 1, sizeof(*low_stock));
	if (db_query(db, &res,
		     "SELECT id, variant_id, quantity FROM stock_reservations WHERE session_id = $1 "
		     "AND status = 'held' ORDER BY variant_id, id",
		     DBV(DI(s->id))) != DB_OK)
		goto out;
	for (int i = 0; i < res.nrows; i++) {
		int64_t n = 0, vid = db_int(&res, i, 1), q = db_int(&res, i, 2);
		if (db_exec(db, "UPDATE stock_reservations SET status = 'converted' WHERE id = $1 AND status = 'held'",
			    DBV(DI(db_int(&res, i, 0))), &n) != DB_OK)
			goto out;
		if (n != 1)
			continue;
		struct db_res inv;
		if (db_query(db, &inv,
			     "UPDATE inventory SET stock = stock - $2, reserved = reserved - $2, updated_at = $3 "
			     "WHERE variant_id = $1 AND reserved >= $2 AND stock >= $2 "
			     "RETURNING CASE WHEN stock - reserved <= low_stock_threshold THEN 1 ELSE 0 END",
			     DBV(DI(vid), DI(q), DI(now))) != DB_OK)
			goto out;
		bool sold = inv.nrows == 1, low = sold && db_int(&inv, 0, 0);
		db_res_free(&inv);
		if (!sold)
			goto out;
		for (int k = 0; k < nl; k++) {
			if (s->cart->lines[k].variant_id == vid) {
				covered[k] += q;
				low_stock[k] |= low;
			}
		}
	}
	for (int k = 0; k < nl; k++) {
		int64_t n = 0, rest = s->cart->lines[k].quantity - covered[k];
		if (rest <= 0)
			continue;
		struct db_res inv;
		if (db_query(db, &inv,
			     "UPDATE inventory SET stock = stock - $2, updated_at = $3 "
			     "WHERE variant_id = $1 AND stock - reserved >= $2 "
			     "RETURNING CASE WHEN stock - reserved <= low_stock_threshold THEN 1 ELSE 0 END",
			     DBV(DI(s->cart->lines[k].variant_id), DI(rest), DI(now))) != DB_OK)
			goto out;
		n = inv.nrows;
		low_stock[k] |= n == 1 && db_int(&inv, 0, 0);
		db_res_free(&inv);
		if (n != 1) {
			verr_set(e, MERR_OUT_OF_STOCK, "items", "not enough stock of %s", s->cart->lines[k].sku);
			rc = MERR_OUT_OF_STOCK;
			goto out;
		}
	}
	/* a sale that leaves a variant at or below its low-stock threshold
	 * raises the alert in the same transaction as the stock it describes;
	 * the UPDATEs above said which, so other sales cost no extra query */
	for (int k = 0; k < nl; k++)
		if (low_stock[k] && !inventory_check_alert(db, s->cart->lines[k].variant_id, now))
			goto out;
	rc = MERR_OK;
out:
	db_res_free(&res);
	free(covered);
	free(low_stock);
	return rc;
}

bool checkout_release_expired(struct db *db, int64_t now)
{
	struct db_res res = {0};
	if (db_query(db, &res,
		     "SELECT DISTINCT session_id FROM stock_reservations WHERE status = 'held' "
		     "AND expires_at <= $1 LIMIT 1000",
		     DBV(DI(now))) != DB_OK)
		return false;
	bool ok = true;
	for (int i = 0; i < res.nrows; i++) {
		/* one short transaction per session: never hold every row's lock at once */
		if (db_begin(db) != DB_OK || release_held(db, db_int(&res, i, 0), now, now) != DB_OK ||
		    db_commit(db) != DB_OK)
			ok = false;
		db_rollback(db);
	}
	if (res.nrows)
		log_info("released the stock of %d expired checkout sessions", res.nrows);
	db_res_free(&res);
	return ok;
}

/* --- sessions ----------------------------------------------------------- */

#define SESSION_COLS                                                                          \
	"id, user_id, market_id, COALESCE(cart_id, 0), status, express, "                           \
	"COALESCE(shipping_address_id, 0), shipping_address, COALESCE(shipping_method, ''), "        \
	"COALESCE(coupon_id, 0), COALESCE(payment_method_id, 0), COALESCE(order_id, 0), expires_at, " \
	"created_at, updated_at"

enum merr checkout_load(struct db *db, int64_t id, struct checkout *s)
{
	struct db_res res = {0};
	enum merr rc = MERR_INTERNAL;
	memset(s, 0, sizeof(*s));
	s->cart = xcalloc(1, sizeof(*s->cart));
	if (db_query(db, &res, "SELECT " SESSION_COLS " FROM checkout_sessions WHERE id = $1",
		     DBV(DI(id))) != DB_OK)
		goto out;
	if (res.nrows == 0 || !market_by_id(db_int(&res, 0, 2))) {
		rc = MERR_NOT_FOUND;
		goto out;
	}
	s->id = db_int(&res, 0, 0);
	snprintf(s->user_id, sizeof(s->user_id), "%s", db_text(&res, 0, 1));
	s->market = market_by_id(db_int(&res, 0, 2));
	s->cart_id = db_int(&res, 0, 3);
	snprintf(s->status, sizeof(s->status), "%s", db_text(&res, 0, 4));
	s->express = db_int(&res, 0, 5) != 0;
	s->address_id = db_int(&res, 0, 6);
	s->address = db_isnull(&res, 0, 7) ? NULL : xstrdup(db_text(&res, 0, 7));
	snprintf(s->method, sizeof(s->method), "%s", db_text(&res, 0, 8));
	s->coupon_id = db_int(&res, 0, 9);
	s->payment_method_id = db_int(&res, 0, 10);
	s->order_id = db_int(&res, 0, 11);
	s->expires_at = db_int(&res, 0, 12);
	s->created_at = db_int(&res, 0, 13);
	s->updated_at = db_int(&res, 0, 14);
	if (s->coupon_id && coupon_get(db, s->coupon_id, &s->coupon) != MERR_OK)
		s->coupon_id = 0;
	/* a buy-now session has no cart: its one line lives on in its order */
	if (s->cart_id && cart_load_id(db, s->cart_id, s->market, s->cart) != MERR_OK)
		goto out;
	if (db_scalar(db, &s->reserved_units, 0,
		      "SELECT COALESCE(SUM(quantity), 0) FROM stock_reservations WHERE session_id = $1 "
		      "AND status = 'held' AND expires_at > $2",
		      DBV(DI(s->id), DI(time_now()))) != DB_OK)
		goto out;
	session_price(db, s);
	rc = MERR_OK;
out:
	db_res_free(&res);
	return rc;
}

/* Insert the session row for s (fields filled by the caller). */
static enum merr session_insert(struct db *db, struct checkout *s)
{
	struct db_res res = {0};
	int64_t now = time_now();
	s->created_at = s->updated_at = now;
	s->expires_at = now + cfg.reservation_ttl;
	snprintf(s->status, sizeof(s->status), "open");
	int rc = db_query(db, &res,
			  "INSERT INTO checkout_sessions (user_id, market_id, cart_id, express, "
			  "shipping_address_id, shipping_address, shipping_method, payment_method_id, "
			  "expires_at, created_at, updated_at) "
			  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
			  DBV(DT(s->user_id), DI(s->market->id), s->cart_id ? DI(s->cart_id) : DN,
			      DI(s->express), s->address_id ? DI(s->address_id) : DN, DT(s->address),
			      DT(s->method[0] ? s->method : NULL),
			      s->payment_method_id ? DI(s->payment_method_id) : DN, DI(s->expires_at),
			      DI(now)));
	enum merr e = rc == DB_OK && res.nrows == 1 ? MERR_OK : MERR_INTERNAL;
	if (e == MERR_OK)
		s->id = db_int(&res, 0, 0);
	db_res_free(&res);
	return e;
}

/* The user's default saved payment method in the session's market (0 when none). */
static enum merr default_payment_method(struct db *db, struct checkout *s)
{
	int rc = db_scalar(db, &s->payment_method_id, 0,
			   "SELECT id FROM payment_methods WHERE user_id = $1 AND market_id = $2 "
			   "ORDER BY is_default DESC, id DESC LIMIT 1",
			   DBV(DT(s->user_id), DI(s->market->id)));
	return rc == DB_OK ? MERR_OK : MERR_INTERNAL;
}

/* Express defaults: the default address, the cheapest method, the default
 * saved payment method of this market. Missing ones stay unset (the
 * session then simply shows the step that needs them). */
static enum merr express_fill(struct db *db, struct checkout *s)
{
	struct address a;
	enum merr e = address_default(db, s->user_id, &a);
	if (e == MERR_OK) {
		s->address_id = a.id;
		s->address = address_json(&a);
	} else if (e != MERR_NOT_FOUND) {
		return e;
	}
	const struct market_shipping *ms = cheapest_method(db, s);
	if (ms)
		snprintf(s->method, sizeof(s->method), "%s", ms->code);
	return default_payment_method(db, s);
}

enum merr checkout_start(struct db *db, const char *user_id, const struct market *m, bool express,
			 struct checkout *s, struct verr *e)
{
	memset(s, 0, sizeof(*s));
	s->cart = xcalloc(1, sizeof(*s->cart));
	s->market = m;
	s->express = express;
	snprintf(s->user_id, sizeof(s->user_id), "%s", user_id);
	verr_set(e, MERR_INTERNAL, NULL, "internal error");
	enum merr rc = cart_load(db, user_id, m, s->cart);
	if (rc != MERR_OK)
		return rc;
	s->cart_id = s->cart->id;
	if (s->cart->nlines == 0) {
		verr_set(e, MERR_VALIDATION, "cart", "your %s cart is empty", m->code);
		return MERR_VALIDATION;
	}
	for (int i = 0; i < s->cart->nlines; i++)
		if (!s->cart->lines[i].sellable) {
			verr_set(e, MERR_VALIDATION, "items", "%s is no longer sold in %s; remove it",
				 s->cart->lines[i].sku, m->code);
			return MERR_VALIDATION;
		}
	if (express && (rc = express_fill(db, s)) != MERR_OK)
		return rc;
	if ((rc = session_insert(db, s)) != MERR_OK)
		return rc;
	/* best effort: a session whose stock is short still opens (the client
	 * sees reserved_units 0); completion tries again and answers out_of_stock */
	struct verr ignored;
	rc = reserve(db, s, time_now(), &ignored);
	if (rc != MERR_OK && rc != MERR_OUT_OF_STOCK)
		return rc;
	session_price(db, s);
	return MERR_OK;
}

enum merr checkout_update(struct db *db, struct checkout *s, const struct checkout_change *ch,
			  struct verr *e)
{
	verr_set(e, MERR_INTERNAL, NULL, "internal error");
	if (strcmp(s->status, "open") != 0) {
		verr_set(e, MERR_INVALID_STATE, NULL, "this checkout session is %s", s->status);
		return MERR_INVALID_STATE;
	}
	if (ch->set_address) {
		struct address a;
		if (ch->address_id) {
			enum merr rc = address_get(db, s->user_id, ch->address_id, &a);
			if (rc != MERR_OK) {
				verr_set(e, rc, "shipping_address_id", "no such saved address");
				return rc;
			}
		} else {
			a = *ch->address;
			a.id = 0;
		}
		free(s->address);
		s->address = address_json(&a);
		s->address_id = ch->address_id;
	}
	if (ch->method) {
		if (!market_shipping(s->market, ch->method)) {
			verr_set(e, MERR_VALIDATION, "shipping_method", "%s does not ship by '%s'",
				 s->market->code, ch->method);
			return MERR_VALIDATION;
		}
		snprintf(s->method, sizeof(s->method), "%s", ch->method);
	}
	if (ch->coupon_code && !*ch->coupon_code) {
		s->coupon_id = 0;
	} else if (ch->coupon_code) {
		struct coupon c;
		enum merr rc = coupon_find(db, ch->coupon_code, &c);
		if (rc == MERR_NOT_FOUND) {
			verr_set(e, MERR_COUPON_INVALID, "coupon_code", "no coupon %s", ch->coupon_code);
			return MERR_COUPON_INVALID;
		}
		if (rc != MERR_OK)
			return rc;
		struct price_line lines[CART_MAX_LINES];
		int n = cart_price_lines(s->cart, lines);
		rc = coupon_check(db, &c, s->market, s->user_id, pricing_subtotal(lines, n), time_now(), e);
		if (rc != MERR_OK)
			return rc;
		s->coupon = c;
		s->coupon_id = c.id;
	}
	s->updated_at = time_now();
	if (db_exec(db,
		    "UPDATE checkout_sessions SET shipping_address_id = $2, shipping_address = $3, "
		    "shipping_method = $4, coupon_id = $5, updated_at = $6 WHERE id = $1 AND status = 'open'",
		    DBV(DI(s->id), s->address_id ? DI(s->address_id) : DN, DT(s->address),
			DT(s->method[0] ? s->method : NULL), s->coupon_id ? DI(s->coupon_id) : DN,
			DI(s->updated_at)),
		    NULL) != DB_OK)
		return MERR_INTERNAL;
	session_price(db, s);
	return MERR_OK;
}

/* Copy the session's lines and totals and the charge's outcome into a new
 * order numbered `number` (the number the charge was described with). */
static void order_from_session(const struct checkout *s, const struct pay_charge *c,
			       const char *number, int64_t now, struct order *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->order_number, sizeof(o->order_number), "%s", number);
	snprintf(o->user_id, sizeof(o->user_id), "%s", s->user_id);
	o->market = s->market;
	o->session_id = s->id;
	o->totals = s->totals;
	if (s->coupon_id && s->coupon_applies)
		snprintf(o->coupon_code, sizeof(o->coupon_code), "%s", s->coupon.code);
	snprintf(o->shipping_method, sizeof(o->shipping_method), "%s", session_method(s)->code);
	o->shipping_address = xstrdup(s->address);
	o->created_at = o->updated_at = now;
	o->items = xcalloc((size_t)s->cart->nlines + 1, sizeof(*o->items));
	for (int i = 0; i < s->cart->nlines; i++) {
		const struct cart_line *l = &s->cart->lines[i];
		struct order_item *it = &o->items[o->nitems++];
		it->product_id = l->product_id;
		it->variant_id = l->variant_id;
		it->merchant_id = l->merchant_id;
		snprintf(it->sku, sizeof(it->sku), "%s", l->sku);
		snprintf(it->name, sizeof(it->name), "%s", l->name);
		it->quantity = l->quantity;
		it->unit_price = l->unit_price;
		it->line_total = l->line_total;
	}
	snprintf(o->payment_status, sizeof(o->payment_status), "%s", c->payment_status);
	snprintf(o->gateway, sizeof(o->gateway), "%s", c->gateway);
	o->transaction_id = c->transaction_id;
}

/* The one transaction that makes the order real. */
static enum merr commit_order(struct db *db, struct checkout *s, struct order *o, struct verr *e)
{
	enum merr rc = MERR_INTERNAL;
	int64_t now = o->created_at;
	verr_set(e, MERR_INTERNAL, NULL, "internal error");
	if (db_begin(db) != DB_OK)
		goto out;
	if ((rc = convert(db, s, now, e)) != MERR_OK)
		goto out;
	rc = MERR_INTERNAL;
	if (order_insert(db, o) != MERR_OK)
		goto out;
	if (o->coupon_code[0]) {
		rc = coupon_redeem(db, &s->coupon, s->user_id, o->id, o->totals.discount, now);
		if (rc != MERR_OK) {
			verr_set(e, rc, "coupon_code", "coupon %s was used up meanwhile", s->coupon.code);
			goto out;
		}
		rc = MERR_INTERNAL;
	}
	int64_t n = 0;
	if ((o->transaction_id && payment_link_order(db, o->transaction_id, o->id) != DB_OK) ||
	    db_exec(db,
		    "UPDATE checkout_sessions SET status = 'completed', order_id = $2, updated_at = $3 "
		    "WHERE id = $1 AND status = 'open'",
		    DBV(DI(s->id), DI(o->id), DI(now)), &n) != DB_OK)
		goto out;
	if (n != 1) { /* completed by a concurrent request without the same key */
		verr_set(e, MERR_INVALID_STATE, NULL, "this checkout session was completed meanwhile");
		rc = MERR_INVALID_STATE;
		goto out;
	}
	if ((s->cart_id && cart_clear(db, s->cart_id) != DB_OK) || db_commit(db) != DB_OK)
		goto out;
	rc = MERR_OK;
out:
	db_rollback(db);
	return rc;
}

/* Everything after the session's lines are fixed: validate, reserve, charge,
 * commit (see the header). Shared by complete and buy-now. */
static enum merr complete(struct db *db, struct checkout *s, json_t *payment, const char *key,
			  const char *ip, struct order *o, struct verr *e)
{
	enum merr rc;
	json_t *saved = NULL;
	memset(o, 0, sizeof(*o));
	if (!payment && s->payment_method_id)
		payment = saved = json_pack("{sI}", "method_id", (json_int_t)s->payment_method_id);
	if (!payment) {
		verr_set(e, MERR_VALIDATION, "payment", "'payment' is required");
		return MERR_VALIDATION;
	}
	int64_t now = time_now();
	char number[32];
	order_number_new(s->market->code, now, number, sizeof(number));
	/* the fraud rules compare the destination with the market */
	json_t *addr = s->address ? json_loads(s->address, 0, NULL) : NULL;
	struct pay_charge c = {
		.user_id = s->user_id, .market = s->market, .payment = payment,
		.amount = s->totals.total, .idempotency_key = key, .client_ip = ip,
		.description = number,
		.shipping_country = json_string_value(json_object_get(addr, "country")),
		.places_order = true,
	};
	if ((rc = payment_validate(db, &c, e)) != MERR_OK)
		goto out;
	if (!reservation_matches(db, s, now) && (rc = reserve(db, s, now, e)) != MERR_OK)
		goto out;
	/* outside any transaction: a slow gateway holds no locks */
	if ((rc = payment_charge(db, &c, e)) != MERR_OK) {
		release(db, s);
		goto out;
	}
	if (c.status == PAY_DECLINED) {
		release(db, s);
		verr_set(e, MERR_PAYMENT_DECLINED, "payment", "%s",
			 c.message[0] ? c.message : "the payment was declined");
		rc = MERR_PAYMENT_DECLINED;
		goto out;
	}
	/* succeeded, pending, or unknown (the gateway timed out): the order is
	 * placed and holds its stock; an unknown payment is settled by the
	 * payment_reconcile job, which cancels the order and returns the stock
	 * if the money turns out not taken */
	order_from_session(s, &c, number, now, o);
	o->payment_unconfirmed = c.status == PAY_UNKNOWN;
	rc = commit_order(db, s, o, e);
	if (rc != MERR_OK) {
		/* never keep money for an order that does not exist */
		if (c.transaction_id && payment_void(db, c.transaction_id, e->message) != MERR_OK)
			log_error("order %s: could not void transaction %lld", number,
				  (long long)c.transaction_id);
		release(db, s);
		order_free(o);
		goto out;
	}
	snprintf(s->status, sizeof(s->status), "completed");
	s->order_id = o->id;
out:
	json_decref(saved);
	json_decref(addr);
	return rc;
}

enum merr checkout_complete(struct db *db, struct checkout *s, json_t *payment,
			    const char *idempotency_key, const char *client_ip, struct order *o,
			    struct verr *e)
{
	if (strcmp(s->status, "open") != 0) {
		verr_set(e, MERR_INVALID_STATE, NULL, "this checkout session is %s", s->status);
		return MERR_INVALID_STATE;
	}
	if (s->cart->nlines == 0) {
		verr_set(e, MERR_VALIDATION, "cart", "the cart is empty");
		return MERR_VALIDATION;
	}
	for (int i = 0; i < s->cart->nlines; i++)
		if (!s->cart->lines[i].sellable) {
			verr_set(e, MERR_VALIDATION, "items", "%s is no longer sold in %s",
				 s->cart->lines[i].sku, s->market->code);
			return MERR_VALIDATION;
		}
	if (!s->address) {
		verr_set(e, MERR_VALIDATION, "shipping_address", "set a shipping address first");
		return MERR_VALIDATION;
	}
	if (s->coupon_id && !s->coupon_applies) {
		struct price_line lines[CART_MAX_LINES];
		int n = cart_price_lines(s->cart, lines);
		enum merr rc = coupon_check(db, &s->coupon, s->market, s->user_id,
					    pricing_subtotal(lines, n), time_now(), e);
		return rc == MERR_OK ? MERR_INTERNAL : rc;
	}
	return complete(db, s, payment, idempotency_key, client_ip, o, e);
}

enum merr checkout_buy_now(struct db *db, const char *user_id, const struct market *m,
			   int64_t product_id, int64_t variant_id, int64_t qty,
			   const struct address *address, json_t *payment,
			   const char *idempotency_key, const char *client_ip, struct order *o,
			   struct verr *e)
{
	struct checkout s = {0};
	enum merr rc = MERR_INTERNAL;
	s.cart = xcalloc(1, sizeof(*s.cart));
	s.market = m;
	s.express = true;
	s.cart->market = m;
	snprintf(s.user_id, sizeof(s.user_id), "%s", user_id);
	verr_set(e, MERR_INTERNAL, NULL, "internal error");
	if ((rc = cart_line_for(db, m, product_id, variant_id, qty, &s.cart->lines[0], e)) != MERR_OK)
		goto out;
	s.cart->nlines = 1;
	if (s.cart->lines[0].available < qty) {
		verr_set(e, MERR_OUT_OF_STOCK, "quantity", "only %lld available",
			 (long long)(s.cart->lines[0].available < 0 ? 0 : s.cart->lines[0].available));
		rc = MERR_OUT_OF_STOCK;
		goto out;
	}
	if ((rc = express_fill(db, &s)) != MERR_OK)
		goto out;
	if (address) {
		free(s.address);
		s.address = address_json(address);
		s.address_id = 0;
	}
	if (!s.address) {
		verr_set(e, MERR_VALIDATION, "shipping_address",
			 "save a default address or send shipping_address");
		rc = MERR_VALIDATION;
		goto out;
	}
	session_price(db, &s);
	if ((rc = session_insert(db, &s)) != MERR_OK)
		goto out;
	rc = complete(db, &s, payment, idempotency_key, client_ip, o, e);
	if (rc != MERR_OK &&
	    db_exec(db, "UPDATE checkout_sessions SET status = 'cancelled' WHERE id = $1 AND status = 'open'",
		    DBV(DI(s.id)), NULL) != DB_OK)
		log_error("buy-now session %lld: could not close it", (long long)s.id);
out:
	checkout_free(&s);
	return rc;
}

void checkout_free(struct checkout *s)
{
	free(s->address);
	free(s->cart);
	s->address = NULL;
	s->cart = NULL;
}
