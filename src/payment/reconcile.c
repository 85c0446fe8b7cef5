/*
 * Payments whose outcome is unknown. A live gateway call that timed out, or
 * whose connection dropped, after the request went out may or may not have
 * taken the money. payment_charge records such a payment as pending (the
 * order placed, its stock with it, payment_status "pending") and writes a
 * payment_reconciliations row; the payment_reconcile job (under its lease)
 * asks the gateway again until it can say, then settles the transaction
 * and its order. Nothing here runs a gateway call inside a transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commerce/order.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "db/db.h"
#include "market/market.h"
#include "payment/gateway.h"
#include "payment/payment.h"

/* A text parameter from a char array (never NULL). */
#define DA(x) ((struct db_val){.t = DB_TEXT, .s = (x)})

/* Payments looked at per run; the rest wait for the next run. */
#define RECONCILE_BATCH 50
/* A claimed row is left alone this long (a runner that died mid-call). */
#define RECONCILE_CLAIM_S 120
/* Backoff ceiling between attempts. */
#define RECONCILE_MAX_DELAY_S 3600

struct pending {
	int64_t id, transaction_id, attempts;
	bool cancel_order;
	char gateway[24], key[128], ref[96];
	json_t *request; /* owned */
};

static int64_t backoff(int64_t attempts)
{
	int64_t d = cfg.payment_reconcile_delay_s;
	for (int64_t i = 1; i < attempts && d < RECONCILE_MAX_DELAY_S; i++)
		d *= 2;
	return d < RECONCILE_MAX_DELAY_S ? d : RECONCILE_MAX_DELAY_S;
}

static void alert_unreconciled(struct db *db, const struct pay_txn *t, const char *why, int64_t now)
{
	char key[64], msg[512], ctx[200];
	snprintf(key, sizeof(key), "payment_unreconciled:%lld", (long long)t->id);
	snprintf(msg, sizeof(msg),
		 "%s never confirmed transaction %lld (%lld %s): settled as failed; check it at the gateway (%s)",
		 t->gateway, (long long)t->id, (long long)t->amount, t->currency, why);
	snprintf(ctx, sizeof(ctx), "{\"transaction_id\":%lld,\"order_id\":%lld,\"gateway\":\"%s\"}",
		 (long long)t->id, (long long)t->order_id, t->gateway);
	if (db_exec(db,
		    "INSERT INTO system_alerts (alert_type, severity, message, context, status, dedup_key, "
		    "created_at) SELECT 'payment_unreconciled', 'high', $1, $2, 'open', $3, $4 "
		    "WHERE NOT EXISTS (SELECT 1 FROM system_alerts WHERE dedup_key = $3 AND status = 'open')",
		    DBV(DA(msg), DA(ctx), DA(key), DI(now)), NULL) != DB_OK)
		log_warn("payment: could not raise the unreconciled alert for %lld", (long long)t->id);
}

/* The order this transaction pays: its id and status, 0 when none (or the
 * order has moved on to another transaction). */
static bool order_of_txn(struct db *db, const struct pay_txn *t, int64_t *order_id, char *status, size_t n)
{
	struct db_res r;
	*order_id = 0;
	status[0] = 0;
	if (!t->order_id)
		return true;
	if (db_query(db, &r, "SELECT id, status FROM orders WHERE id = $1 AND transaction_id = $2",
		     DBV(DI(t->order_id), DI(t->id))) != DB_OK)
		return false;
	if (r.nrows) {
		*order_id = db_int(&r, 0, 0);
		snprintf(status, n, "%s", db_text(&r, 0, 1));
	}
	db_res_free(&r);
	return true;
}

/* The reconciliation row is done, with its outcome (in the caller's transaction). */
static bool mark_settled(struct db *db, const struct pending *p, const char *outcome, int64_t now)
{
	return db_exec(db,
		       "UPDATE payment_reconciliations SET status = 'settled', outcome = $1, updated_at = $2 "
		       "WHERE id = $3",
		       DBV(DT(outcome), DI(now), DI(p->id)), NULL) == DB_OK;
}

/* The payment was taken (or authorised, or is waiting for the customer). */
static bool settle_taken(struct db *db, const struct pending *p, const struct pay_txn *t,
			 enum gw_outcome o, const struct gw_res *res, int64_t now)
{
	const struct gateway *gw = gateway_find(t->gateway);
	int64_t order_id;
	char ostatus[16];
	if (!order_of_txn(db, t, &order_id, ostatus, sizeof(ostatus)))
		return false;
	/* nobody wants this money any more: the checkout could not place its
	 * order (voided), the order was cancelled or paid otherwise, or it was
	 * a subscription charge that has been retried meanwhile */
	bool unwanted = strcmp(t->status, "pending") != 0 || !order_id || strcmp(ostatus, "cancelled") == 0;
	if (unwanted) {
		struct gw_res back = {0};
		if ((o == GW_CAPTURED || o == GW_AUTHORISED) &&
		    gw->refund(res->ref, t->amount, t->currency, NULL, &back) != GW_CAPTURED) {
			log_error("payment: transaction %lld was taken (%s) but nothing wants it; refund failed: %s",
				  (long long)t->id, res->ref, back.message);
			return false; /* try again next time */
		}
		bool ok = db_begin(db) == DB_OK &&
			  db_exec(db,
				  "UPDATE payment_transactions SET status = 'voided', payment_status = 'failed', "
				  "gateway_ref = $1, message = 'taken after a timeout and given back', updated_at = $2 "
				  "WHERE id = $3",
				  DBV(DA(res->ref), DI(now), DI(t->id)), NULL) == DB_OK &&
			  mark_settled(db, p, "refunded", now) && db_commit(db) == DB_OK;
		if (!ok)
			db_rollback(db);
		else
			log_warn("payment: transaction %lld was taken after its timeout with nothing to pay; given back",
				 (long long)t->id);
		return ok;
	}
	const char *status = o == GW_CAPTURED ? "succeeded" : o == GW_AUTHORISED ? "review" : "pending";
	const char *pstatus = o == GW_CAPTURED ? "paid" : o == GW_AUTHORISED ? "review" : "pending";
	int64_t n = 0;
	bool ok = db_begin(db) == DB_OK &&
		  db_exec(db,
			  "UPDATE payment_transactions SET status = $1, payment_status = $2, captured = $3, "
			  "gateway_ref = $4, decline_code = NULL, message = NULL, updated_at = $5 "
			  "WHERE id = $6 AND status = 'pending'",
			  DBV(DT(status), DT(pstatus), DI(o == GW_CAPTURED ? t->amount : 0), DA(res->ref), DI(now),
			      DI(t->id)),
			  &n) == DB_OK &&
		  n == 1 &&
		  db_exec(db, "UPDATE orders SET payment_status = $1, updated_at = $2 WHERE id = $3 AND transaction_id = $4",
			  DBV(DT(pstatus), DI(now), DI(order_id), DI(t->id)), NULL) == DB_OK &&
		  (o != GW_AUTHORISED ||
		   db_exec(db,
			   "INSERT INTO fraud_reviews (transaction_id, user_id, score, reasons, status, created_at) "
			   "VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT (transaction_id) DO NOTHING",
			   DBV(DI(t->id), DA(t->user_id), DI(t->fraud_score), DA(t->fraud_reasons), DI(now)),
			   NULL) == DB_OK) &&
		  mark_settled(db, p, pstatus, now) && db_commit(db) == DB_OK;
	if (!ok)
		db_rollback(db);
	else
		log_info("payment: transaction %lld reconciled: %s (%s)", (long long)t->id, pstatus, res->ref);
	return ok;
}

/* The payment was not taken (declined, or never made, or given up on). */
static bool settle_failed(struct db *db, const struct pending *p, const struct pay_txn *t,
			  const struct gw_res *res, const char *outcome, int64_t now)
{
	int64_t order_id;
	char ostatus[16];
	if (!order_of_txn(db, t, &order_id, ostatus, sizeof(ostatus)))
		return false;
	const char *msg = res->message[0] ? res->message : "The payment did not go through.";
	char note[240];
	snprintf(note, sizeof(note), "payment failed: %s", msg);
	bool ok = db_begin(db) == DB_OK &&
		  db_exec(db,
			  "UPDATE payment_transactions SET status = 'declined', payment_status = 'failed', "
			  "captured = 0, gateway_ref = COALESCE($1, gateway_ref), decline_code = $2, message = $3, "
			  "updated_at = $4 WHERE id = $5 AND status = 'pending'",
			  DBV(DT(res->ref[0] ? res->ref : NULL), DT(res->decline_code[0] ? res->decline_code : "payment_failed"),
			      DT(msg), DI(now), DI(t->id)),
			  NULL) == DB_OK;
	if (ok && order_id) {
		if (p->cancel_order)
			ok = order_cancel_unpaid(db, order_id, note, now) == MERR_OK;
		else
			ok = db_exec(db,
				     "UPDATE orders SET payment_status = 'failed', updated_at = $1 "
				     "WHERE id = $2 AND transaction_id = $3",
				     DBV(DI(now), DI(order_id), DI(t->id)), NULL) == DB_OK;
	}
	ok = ok &&
	     mark_settled(db, p, outcome, now) && db_commit(db) == DB_OK;
	if (!ok)
		db_rollback(db);
	else
		log_info("payment: transaction %lld reconciled: %s (%s)", (long long)t->id, outcome, msg);
	return ok;
}

/* Claim the row (so a second runner leaves it alone), ask the gateway,
 * settle or schedule the next attempt. */
static bool reconcile_one(struct db *db, struct pending *p, int64_t now)
{
	int64_t n = 0;
	if (db_exec(db,
		    "UPDATE payment_reconciliations SET next_at = $1, attempts = attempts + 1, updated_at = $2 "
		    "WHERE id = $3 AND status = 'open' AND next_at <= $2",
		    DBV(DI(now + RECONCILE_CLAIM_S), DI(now), DI(p->id)), &n) != DB_OK)
		return false;
	if (n != 1)
		return true; /* another runner has it */
	p->attempts++;
	struct pay_txn t;
	if (payment_txn_get(db, p->transaction_id, &t) != MERR_OK)
		return false;
	const struct market *m = market_get(t.market);
	const struct gateway *gw = gateway_find(p->gateway);
	json_t *cap = json_object_get(p->request, "capture");
	struct gw_req q = {
		.market = t.market,
		.currency = m ? m->currency : t.currency,
		.payment = json_object_get(p->request, "payment"),
		.amount = t.amount,
		.capture = !cap || json_is_true(cap),
		.idempotency_key = p->key,
		.description = json_string_value(json_object_get(p->request, "description")),
	};
	if (q.description && !*q.description)
		q.description = NULL;
	struct gw_res res = {0};
	enum gw_outcome o = gw && gw->reconcile ? gw->reconcile(&q, p->ref, &res) : GW_ERROR;
	switch (o) {
	case GW_CAPTURED:
	case GW_AUTHORISED:
	case GW_PENDING:
		return settle_taken(db, p, &t, o, &res, now);
	case GW_DECLINED:
	case GW_INVALID:
		return settle_failed(db, p, &t, &res, "failed", now);
	case GW_ERROR:
	case GW_UNKNOWN:
		break;
	}
	if (p->attempts >= cfg.payment_reconcile_attempts) {
		char why[200];
		snprintf(why, sizeof(why), "%s", res.message[0] ? res.message : "no answer");
		struct gw_res gave_up = {0};
		gw_copy(gave_up.decline_code, sizeof(gave_up.decline_code), "gateway_unconfirmed");
		snprintf(gave_up.message, sizeof(gave_up.message),
			 "The payment could not be confirmed with %s.", t.gateway);
		if (!settle_failed(db, p, &t, &gave_up, "unconfirmed", now))
			return false;
		alert_unreconciled(db, &t, why, now);
		return true;
	}
	return db_exec(db,
		       "UPDATE payment_reconciliations SET next_at = $1, last_error = $2, updated_at = $3 WHERE id = $4",
		       DBV(DI(now + backoff(p->attempts)), DT(res.message[0] ? res.message : "no answer"), DI(now),
			   DI(p->id)),
		       NULL) == DB_OK;
}

bool payment_reconcile_due(struct db *db, int64_t now)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT id, transaction_id, attempts, cancel_order, gateway, idempotency_key, "
		     "COALESCE(gateway_ref, ''), request FROM payment_reconciliations "
		     "WHERE status = 'open' AND next_at <= $1 ORDER BY next_at, id LIMIT $2",
		     DBV(DI(now), DI(RECONCILE_BATCH))) != DB_OK)
		return false;
	int nrows = r.nrows;
	struct pending *ps = xcalloc((size_t)(nrows ? nrows : 1), sizeof(*ps));
	for (int i = 0; i < nrows; i++) {
		struct pending *p = &ps[i];
		p->id = db_int(&r, i, 0);
		p->transaction_id = db_int(&r, i, 1);
		p->attempts = db_int(&r, i, 2);
		p->cancel_order = db_int(&r, i, 3) != 0;
		gw_copy(p->gateway, sizeof(p->gateway), db_text(&r, i, 4));
		gw_copy(p->key, sizeof(p->key), db_text(&r, i, 5));
		gw_copy(p->ref, sizeof(p->ref), db_text(&r, i, 6));
		p->request = json_loads(db_text(&r, i, 7) ? db_text(&r, i, 7) : "{}", 0, NULL);
	}
	db_res_free(&r);
	bool ok = true;
	for (int i = 0; i < nrows; i++) {
		if (!reconcile_one(db, &ps[i], now)) {
			log_warn("payment: reconciling transaction %lld failed; next run tries again",
				 (long long)ps[i].transaction_id);
			ok = false;
		}
		if (db_in_tx(db))
			db_rollback(db);
		json_decref(ps[i].request);
	}
	free(ps);
	return ok;
}
