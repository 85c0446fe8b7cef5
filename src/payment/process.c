/* Paying an order that is not paid yet (after a decline, or instead of a
 * pending or cash-on-delivery payment): POST /api/payments/process. */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"
#include "payment/gateway.h"
#include "payment/payment.h"

/* A text parameter from a char array (never NULL). */
#define DA(x) ((struct db_val){.t = DB_TEXT, .s = (x)})

static bool payable(const char *status)
{
	return strcmp(status, "failed") == 0 || strcmp(status, "pending") == 0 ||
	       strcmp(status, "cod_pending") == 0;
}

enum merr payment_process_order(struct db *db, int64_t order_id, const char *order_number,
				bool as_admin, struct pay_charge *c, struct pay_order_result *out,
				struct verr *e)
{
	memset(out, 0, sizeof(*out));
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT id, order_number, user_id, market_id, payment_status, total, COALESCE(transaction_id, 0), "
		     "shipping_address, status FROM orders WHERE id = $1 OR order_number = $2",
		     DBV(DI(order_id), DT(order_number))) != DB_OK)
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	if (!r.nrows || (!as_admin && strcmp(db_text(&r, 0, 2), c->user_id) != 0)) {
		db_res_free(&r);
		return verr_set(e, MERR_NOT_FOUND, "order_id", "no such order"), MERR_NOT_FOUND;
	}
	out->order_id = db_int(&r, 0, 0);
	gw_copy(out->order_number, sizeof(out->order_number), db_text(&r, 0, 1));
	const struct market *m = market_by_id(db_int(&r, 0, 3));
	char was[24], ship[8] = "";
	gw_copy(was, sizeof(was), db_text(&r, 0, 4));
	gw_copy(out->payment_status, sizeof(out->payment_status), was);
	int64_t total = db_int(&r, 0, 5), old_txn = db_int(&r, 0, 6);
	bool cancelled = strcmp(db_text(&r, 0, 8), "cancelled") == 0;
	json_t *addr = json_loads(db_text(&r, 0, 7) ? db_text(&r, 0, 7) : "{}", 0, NULL);
	gw_copy(ship, sizeof(ship), json_string_value(json_object_get(addr, "country")));
	json_decref(addr);
	/* the order's owner pays, also when an admin starts it */
	char owner[128];
	gw_copy(owner, sizeof(owner), db_text(&r, 0, 2));
	db_res_free(&r);
	if (!m)
		return verr_set(e, MERR_INTERNAL, NULL, "order in an unknown market"), MERR_INTERNAL;
	if (cancelled || !payable(was))
		return verr_set(e, MERR_INVALID_STATE, "order_id", "this order is %s%s", cancelled ? "cancelled" : "",
				cancelled ? "" : was),
		       MERR_INVALID_STATE;
	/* the last payment may have been taken: never charge twice while the
	 * gateway has not said */
	if (payment_reconciling(db, old_txn))
		return verr_set(e, MERR_INVALID_STATE, "order_id",
				"this order's payment is still being confirmed with the gateway"),
		       MERR_INVALID_STATE;
	c->market = m;
	c->amount = total;
	c->user_id = owner;
	c->description = out->order_number;
	if (ship[0])
		c->shipping_country = ship;
	enum merr rc = payment_charge(db, c, e);
	c->user_id = NULL; /* owner is local */
	c->description = NULL;
	c->shipping_country = NULL;
	if (rc != MERR_OK)
		return rc;
	int64_t now = time_now(), n = 0;
	if (c->status == PAY_DECLINED) {
		/* the attempt stays in the order's history */
		if (payment_link_order(db, c->transaction_id, out->order_id) != DB_OK)
			log_warn("payment: declined transaction %lld not linked", (long long)c->transaction_id);
		return MERR_OK;
	}
	bool ok = db_begin(db) == DB_OK &&
		  db_exec(db,
			  "UPDATE orders SET payment_status = $1, transaction_id = $2, gateway = $3, updated_at = $4 "
			  "WHERE id = $5 AND payment_status = $6 AND COALESCE(transaction_id, 0) = $7",
			  DBV(DA(c->payment_status), DI(c->transaction_id), DA(c->gateway), DI(now),
			      DI(out->order_id), DA(was), DI(old_txn)),
			  &n) == DB_OK;
	ok = ok && (n != 1 || payment_link_order(db, c->transaction_id, out->order_id) == DB_OK);
	/* a collect request or cash on delivery this replaces will not be paid */
	ok = ok && (n != 1 || !old_txn ||
		    db_exec(db,
			    "UPDATE payment_transactions SET status = 'voided', payment_status = 'failed', "
			    "message = 'replaced by another payment', updated_at = $1 WHERE id = $2 AND status = 'pending'",
			    DBV(DI(now), DI(old_txn)), NULL) == DB_OK);
	ok = ok && db_commit(db) == DB_OK;
	if (!ok || n != 1) {
		db_rollback(db);
		if (payment_void(db, c->transaction_id, ok ? "the order was paid concurrently" : "database error") != MERR_OK)
			log_error("payment: transaction %lld taken but not attached nor given back",
				  (long long)c->transaction_id);
		return ok ? (verr_set(e, MERR_INVALID_STATE, "order_id", "this order was paid meanwhile"),
			     MERR_INVALID_STATE)
			  : (verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL);
	}
	gw_copy(out->payment_status, sizeof(out->payment_status), c->payment_status);
	return MERR_OK;
}
