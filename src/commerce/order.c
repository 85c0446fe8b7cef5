#include "commerce/order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/money.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"
#include "notify/notify.h"
#include "payment/payment.h"

void order_number_new(const char *market_code, int64_t now, char *out, size_t n)
{
	/* Crockford base32 without I, L, O, U: easy to read out on the phone */
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned char rnd[6];
	char day[16], suffix[8];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)(now >> (i * 3));
	for (size_t i = 0; i < sizeof(rnd); i++)
		suffix[i] = alphabet[rnd[i] & 31];
	suffix[6] = '\0';
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	snprintf(out, n, "%s-%s-%s", market_code, day, suffix);
}

/* Queue the customer message for an order event (same transaction). */
static int order_notify(struct db *db, const struct order *o, const char *kind, const char *what)
{
	char subject[160], total[48], body[512];
	money_format_to(total, sizeof(total), o->totals.total, o->market->currency);
	snprintf(subject, sizeof(subject), "Order %s %s", o->order_number, what);
	if (strcmp(kind, "order_shipped") == 0)
		snprintf(body, sizeof(body), "Your order %s has shipped with %s, tracking number %s.",
			 o->order_number, o->carrier, o->tracking_number);
	else
		snprintf(body, sizeof(body), "Your order %s (%s) %s.", o->order_number, total, what);
	return notify_enqueue(db, kind, cfg.order_notify_channel, o->user_id, subject, body);
}

static int order_event_add(struct db *db, int64_t order_id, const char *status, const char *note,
			   const char *actor, int64_t now)
{
	return db_exec(db,
		       "INSERT INTO order_events (order_id, status, note, actor, created_at) "
		       "VALUES ($1, $2, $3, $4, $5)",
		       DBV(DI(order_id), DT(status), DT(note), DT(actor), DI(now)), NULL);
}

enum merr order_insert(struct db *db, struct order *o)
{
	struct db_res res = {0};
	enum merr e = MERR_INTERNAL;
	const struct price_totals *t = &o->totals;
	if (db_query(db, &res,
		     "INSERT INTO orders (order_number, user_id, market_id, session_id, status, "
		     "payment_status, currency, subtotal, discount, shipping, tax, total, coupon_code, "
		     "shipping_method, shipping_address, gateway, transaction_id, created_at, updated_at) "
		     "VALUES ($1, $2, $3, $4, 'confirmed', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
		     "$15, $16, $17, $17) RETURNING id",
		     DBV(DT(o->order_number), DT(o->user_id), DI(o->market->id),
			 o->session_id ? DI(o->session_id) : DN, DT(o->payment_status),
			 DT(o->market->currency), DI(t->subtotal), DI(t->discount), DI(t->shipping),
			 DI(t->tax), DI(t->total), DT(o->coupon_code[0] ? o->coupon_code : NULL),
			 DT(o->shipping_method), DT(o->shipping_address ? o->shipping_address : "{}"),
			 DT(o->gateway), o->transaction_id ? DI(o->transaction_id) : DN,
			 DI(o->created_at))) != DB_OK ||
	    res.nrows != 1)
		goto out;
	o->id = db_int(&res, 0, 0);
	snprintf(o->status, sizeof(o->status), "confirmed");
	for (int i = 0; i < o->nitems; i++) {
		const struct order_item *it = &o->items[i];
		if (db_exec(db,
			    "INSERT INTO order_items (order_id, product_id, variant_id, merchant_id, sku, "
			    "name, quantity, unit_price, line_total) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
			    DBV(DI(o->id), DI(it->product_id), DI(it->variant_id), DI(it->merchant_id),
				DT(it->sku), DT(it->name), DI(it->quantity), DI(it->unit_price),
				DI(it->line_total)),
			    NULL) != DB_OK)
			goto out;
	}
	if (order_event_add(db, o->id, "confirmed", "order placed", o->user_id, o->created_at) != DB_OK ||
	    order_notify(db, o, "order_confirmation", "is confirmed") != DB_OK)
		goto out;
	e = MERR_OK;
out:
	db_res_free(&res);
	return e;
}

#define ORDER_COLS                                                                              \
	"id, order_number, user_id, market_id, COALESCE(session_id, 0), status, payment_status, "     \
	"subtotal, discount, shipping, tax, total, COALESCE(coupon_code, ''), shipping_method, "      \
	"shipping_address, gateway, COALESCE(transaction_id, 0), COALESCE(carrier, ''), "              \
	"COALESCE(tracking_number, ''), created_at, updated_at"

static void order_row(const struct db_res *r, int i, struct order *o)
{
	memset(o, 0, sizeof(*o));
	o->id = db_int(r, i, 0);
	snprintf(o->order_number, sizeof(o->order_number), "%s", db_text(r, i, 1));
	snprintf(o->user_id, sizeof(o->user_id), "%s", db_text(r, i, 2));
	o->market = market_by_id(db_int(r, i, 3));
	o->session_id = db_int(r, i, 4);
	snprintf(o->status, sizeof(o->status), "%s", db_text(r, i, 5));
	snprintf(o->payment_status, sizeof(o->payment_status), "%s", db_text(r, i, 6));
	o->totals = (struct price_totals){db_int(r, i, 7), db_int(r, i, 8), db_int(r, i, 9),
					  db_int(r, i, 10), db_int(r, i, 11)};
	snprintf(o->coupon_code, sizeof(o->coupon_code), "%s", db_text(r, i, 12));
	snprintf(o->shipping_method, sizeof(o->shipping_method), "%s", db_text(r, i, 13));
	o->shipping_address = xstrdup(db_text(r, i, 14));
	snprintf(o->gateway, sizeof(o->gateway), "%s", db_text(r, i, 15));
	o->transaction_id = db_int(r, i, 16);
	snprintf(o->carrier, sizeof(o->carrier), "%s", db_text(r, i, 17));
	snprintf(o->tracking_number, sizeof(o->tracking_number), "%s", db_text(r, i, 18));
	o->created_at = db_int(r, i, 19);
	o->updated_at = db_int(r, i, 20);
}

/* Items of orders[0..n) in one query (orders are matched by id). */
static bool order_load_items(struct db *db, struct order *os, int n)
{
	if (n == 0)
		return true;
	struct db_res res = {0};
	int64_t lo = os[0].id, hi = os[0].id;
	for (int i = 1; i < n; i++) {
		lo = os[i].id < lo ? os[i].id : lo;
		hi = os[i].id > hi ? os[i].id : hi;
	}
	/* a range scan then a filter: pages are contiguous-ish id ranges of one user */
	if (db_query(db, &res,
		     "SELECT order_id, product_id, variant_id, merchant_id, sku, name, quantity, "
		     "unit_price, line_total FROM order_items WHERE order_id BETWEEN $1 AND $2 "
		     "AND order_id IN (SELECT id FROM orders WHERE user_id = $3) ORDER BY order_id, id",
		     DBV(DI(lo), DI(hi), DT(os[0].user_id))) != DB_OK)
		return false;
	for (int k = 0; k < n; k++)
		os[k].items = xcalloc((size_t)res.nrows + 1, sizeof(struct order_item));
	for (int i = 0; i < res.nrows; i++) {
		int64_t oid = db_int(&res, i, 0);
		for (int k = 0; k < n; k++) {
			if (os[k].id != oid)
				continue;
			struct order_item *it = &os[k].items[os[k].nitems++];
			it->product_id = db_int(&res, i, 1);
			it->variant_id = db_int(&res, i, 2);
			it->merchant_id = db_int(&res, i, 3);
			snprintf(it->sku, sizeof(it->sku), "%s", db_text(&res, i, 4));
			snprintf(it->name, sizeof(it->name), "%s", db_text(&res, i, 5));
			it->quantity = db_int(&res, i, 6);
			it->unit_price = db_int(&res, i, 7);
			it->line_total = db_int(&res, i, 8);
			break;
		}
	}
	db_res_free(&res);
	return true;
}

enum merr order_get(struct db *db, const char *order_number, struct order *o)
{
	struct db_res res = {0};
	memset(o, 0, sizeof(*o));
	if (db_query(db, &res, "SELECT " ORDER_COLS " FROM orders WHERE order_number = $1",
		     DBV(DT(order_number))) != DB_OK)
		return MERR_INTERNAL;
	if (res.nrows == 0) {
		db_res_free(&res);
		return MERR_NOT_FOUND;
	}
	order_row(&res, 0, o);
	db_res_free(&res);
	return order_load_items(db, o, 1) ? MERR_OK : MERR_INTERNAL;
}

int order_list_user(struct db *db, const char *user_id, int64_t before, int64_t limit,
		    struct order **out)
{
	struct db_res res = {0};
	*out = NULL;
	if (db_query(db, &res,
		     "SELECT " ORDER_COLS " FROM orders WHERE user_id = $1 AND ($2 = 0 OR id < $2) "
		     "ORDER BY id DESC LIMIT $3",
		     DBV(DT(user_id), DI(before), DI(limit))) != DB_OK)
		return -1;
	int n = res.nrows;
	*out = xcalloc((size_t)n + 1, sizeof(**out));
	for (int i = 0; i < n; i++)
		order_row(&res, i, &(*out)[i]);
	db_res_free(&res);
	if (!order_load_items(db, *out, n)) {
		for (int i = 0; i < n; i++)
			order_free(&(*out)[i]);
		free(*out);
		*out = NULL;
		return -1;
	}
	return n;
}

int order_history(struct db *db, int64_t order_id, struct order_event **out)
{
	struct db_res res = {0};
	*out = NULL;
	if (db_query(db, &res,
		     "SELECT status, note, actor, created_at FROM order_events WHERE order_id = $1 ORDER BY id",
		     DBV(DI(order_id))) != DB_OK)
		return -1;
	*out = xcalloc((size_t)res.nrows + 1, sizeof(**out));
	for (int i = 0; i < res.nrows; i++) {
		struct order_event *ev = &(*out)[i];
		snprintf(ev->status, sizeof(ev->status), "%s", db_text(&res, i, 0));
		snprintf(ev->note, sizeof(ev->note), "%s", db_text(&res, i, 1));
		snprintf(ev->actor, sizeof(ev->actor), "%s", db_text(&res, i, 2));
		ev->at = db_int(&res, i, 3);
	}
	int n = res.nrows;
	db_res_free(&res);
	return n;
}

bool order_has_merchant(const struct order *o, int64_t merchant_id)
{
	for (int i = 0; i < o->nitems; i++)
		if (o->items[i].merchant_id == merchant_id)
			return true;
	return false;
}

/* The status machine: which move is allowed from where, and what it says. */
static const struct transition {
	const char *from, *to, *kind, *what;
} transitions[] = {
	{"confirmed", "shipped", "order_shipped", "has shipped"},
	{"shipped", "delivered", "order_delivered", "was delivered"},
	{"confirmed", "cancelled", "order_cancelled", "was cancelled"},
};

/* Give a cancelled order's captured payment back (after the cancel committed:
 * the refund calls the gateway and runs its own transaction). A failure is
 * logged and leaves the order cancelled with its payment for an admin to
 * refund through /api/payments/refund. */
static void refund_cancelled(struct db *db, struct order *o, const char *actor)
{
	if (!o->transaction_id || strcmp(o->payment_status, "paid") != 0)
		return;
	struct pay_refund rf;
	struct verr e;
	if (payment_refund(db, o->transaction_id, 0, "order cancelled", actor, NULL, &rf, &e) != MERR_OK) {
		log_error("order %s cancelled but not refunded: %s", o->order_number, e.message);
		return;
	}
	struct db_res res = {0};
	if (db_query(db, &res, "SELECT payment_status FROM orders WHERE id = $1", DBV(DI(o->id))) == DB_OK &&
	    res.nrows == 1)
		snprintf(o->payment_status, sizeof(o->payment_status), "%s", db_text(&res, 0, 0));
	db_res_free(&res);
}

enum merr order_transition(struct db *db, struct order *o, const char *to, const char *carrier,
			   const char *tracking, const char *actor, struct verr *e)
{
	const struct transition *t = NULL;
	for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++)
		if (strcmp(transitions[i].from, o->status) == 0 && strcmp(transitions[i].to, to) == 0)
			t = &transitions[i];
	if (!t) {
		verr_set(e, MERR_INVALID_STATE, "status", "an order that is %s cannot become %s",
			 o->status, to);
		return MERR_INVALID_STATE;
	}
	/* goods leave only for a payment we know the outcome of */
	if (strcmp(to, "shipped") == 0 && payment_reconciling(db, o->transaction_id)) {
		verr_set(e, MERR_INVALID_STATE, "status",
			 "the order's payment is still being confirmed with the gateway");
		return MERR_INVALID_STATE;
	}
	int64_t now = time_now(), n = 0;
	enum merr rc = MERR_INTERNAL;
	verr_set(e, MERR_INTERNAL, NULL, "internal error");
	if (carrier)
		snprintf(o->carrier, sizeof(o->carrier), "%s", carrier);
	if (tracking)
		snprintf(o->tracking_number, sizeof(o->tracking_number), "%s", tracking);
	if (db_begin(db) != DB_OK ||
	    db_exec(db,
		    "UPDATE orders SET status = $2, updated_at = $3, carrier = COALESCE($4, carrier), "
		    "tracking_number = COALESCE($5, tracking_number) WHERE id = $1 AND status = $6",
		    DBV(DI(o->id), DT(to), DI(now), DT(carrier), DT(tracking), DT(o->status)), &n) != DB_OK)
		goto out;
	if (n != 1) { /* someone moved it first */
		verr_set(e, MERR_INVALID_STATE, "status", "the order changed meanwhile; reload it");
		rc = MERR_INVALID_STATE;
		goto out;
	}
	if (strcmp(to, "cancelled") == 0)
		for (int i = 0; i < o->nitems; i++)
			if (db_exec(db,
				    "UPDATE inventory SET stock = stock + $2, updated_at = $3 WHERE variant_id = $1",
				    DBV(DI(o->items[i].variant_id), DI(o->items[i].quantity), DI(now)),
				    NULL) != DB_OK)
				goto out;
	/* cash is collected at the door: delivery captures a COD payment */
	if (strcmp(to, "delivered") == 0 && o->transaction_id &&
	    strcmp(o->payment_status, "cod_pending") == 0) {
		if (payment_cod_collected(db, o->transaction_id) != MERR_OK ||
		    db_exec(db, "UPDATE orders SET payment_status = 'paid', updated_at = $2 WHERE id = $1",
			    DBV(DI(o->id), DI(now)), NULL) != DB_OK)
			goto out;
		snprintf(o->payment_status, sizeof(o->payment_status), "paid");
	}
	char note[200] = "";
	if (carrier && tracking)
		snprintf(note, sizeof(note), "%s %s", carrier, tracking);
	snprintf(o->status, sizeof(o->status), "%s", to);
	o->updated_at = now;
	if (order_event_add(db, o->id, to, note, actor, now) != DB_OK ||
	    order_notify(db, o, t->kind, t->what) != DB_OK || db_commit(db) != DB_OK)
		goto out;
	rc = MERR_OK;
out:
	db_rollback(db);
	if (rc == MERR_OK && strcmp(to, "cancelled") == 0)
		refund_cancelled(db, o, actor);
	return rc;
}

enum merr order_cancel_unpaid(struct db *db, int64_t order_id, const char *note, int64_t now)
{
	struct db_res res = {0};
	struct order o = {0};
	enum merr rc = MERR_INTERNAL;
	int64_t n = 0;
	if (db_query(db, &res, "SELECT order_number FROM orders WHERE id = $1", DBV(DI(order_id))) != DB_OK)
		goto out;
	if (res.nrows != 1) {
		rc = MERR_NOT_FOUND;
		goto out;
	}
	if ((rc = order_get(db, db_text(&res, 0, 0), &o)) != MERR_OK)
		goto out;
	rc = MERR_INTERNAL;
	if (db_exec(db,
		    "UPDATE orders SET status = CASE WHEN status = 'confirmed' THEN 'cancelled' ELSE status END, "
		    "payment_status = 'failed', updated_at = $2 WHERE id = $1",
		    DBV(DI(order_id), DI(now)), NULL) != DB_OK)
		goto out;
	if (strcmp(o.status, "confirmed") == 0) {
		for (int i = 0; i < o.nitems; i++)
			if (db_exec(db, "UPDATE inventory SET stock = stock + $2, updated_at = $3 WHERE variant_id = $1",
				    DBV(DI(o.items[i].variant_id), DI(o.items[i].quantity), DI(now)), &n) != DB_OK)
				goto out;
		snprintf(o.status, sizeof(o.status), "cancelled");
		if (order_event_add(db, order_id, "cancelled", note, "system", now) != DB_OK ||
		    order_notify(db, &o, "order_cancelled", "was cancelled: the payment did not go through") != DB_OK)
			goto out;
	}
	rc = MERR_OK;
out:
	db_res_free(&res);
	order_free(&o);
	return rc;
}

void order_free(struct order *o)
{
	free(o->shipping_address);
	free(o->items);
	o->shipping_address = NULL;
	o->items = NULL;
	o->nitems = 0;
}
