#include "payment/subscription.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"
#include "payment/gateway.h"
#include "payment/method.h"
#include "payment/payment.h"

/* A text parameter from a char array (never NULL). */
#define DA(x) ((struct db_val){.t = DB_TEXT, .s = (x)})

#define DAY 86400
#define RENEW_BATCH 100

int sub_plans(struct db *db, const struct market *m, struct plan **out)
{
	struct db_res r;
	*out = NULL;
	if (db_query(db, &r,
		     "SELECT id, price, interval_days, code, name, description FROM subscription_plans "
		     "WHERE market_id = $1 AND active = 1 ORDER BY id",
		     DBV(DI(m->id))) != DB_OK)
		return -1;
	struct plan *p = xcalloc((size_t)(r.nrows ? r.nrows : 1), sizeof(*p));
	for (int i = 0; i < r.nrows; i++) {
		p[i].id = db_int(&r, i, 0);
		p[i].price = db_int(&r, i, 1);
		p[i].interval_days = (int)db_int(&r, i, 2);
		gw_copy(p[i].market, sizeof(p[i].market), m->code);
		gw_copy(p[i].currency, sizeof(p[i].currency), m->currency);
		gw_copy(p[i].code, sizeof(p[i].code), db_text(&r, i, 3));
		gw_copy(p[i].name, sizeof(p[i].name), db_text(&r, i, 4));
		gw_copy(p[i].description, sizeof(p[i].description), db_text(&r, i, 5));
	}
	int n = r.nrows;
	db_res_free(&r);
	*out = p;
	return n;
}

#define SUB_COLS                                                                                   \
	"s.id, s.plan_id, s.payment_method_id, s.current_period_start, s.current_period_end, "        \
	"s.next_retry_at, s.canceled_at, s.created_at, p.price, s.failed_attempts, p.interval_days, " \
	"s.cancel_at_period_end, s.user_id, m.code, m.currency, s.status, p.code, p.name, "            \
	"(SELECT MAX(transaction_id) FROM subscription_invoices i WHERE i.subscription_id = s.id)"
#define SUB_FROM                                                                                   \
	" FROM subscriptions s JOIN subscription_plans p ON p.id = s.plan_id JOIN markets m ON m.id = " \
	"s.market_id "

static void from_row(const struct db_res *r, int i, struct sub *s)
{
	memset(s, 0, sizeof(*s));
	int64_t *ints[] = {&s->id,	  &s->plan_id,	   &s->payment_method_id, &s->current_period_start,
			   &s->current_period_end, &s->next_retry_at, &s->canceled_at, &s->created_at,
			   &s->price};
	for (int c = 0; c < 9; c++)
		*ints[c] = db_int(r, i, c);
	s->failed_attempts = (int)db_int(r, i, 9);
	s->interval_days = (int)db_int(r, i, 10);
	s->cancel_at_period_end = db_int(r, i, 11) != 0;
	gw_copy(s->user_id, sizeof(s->user_id), db_text(r, i, 12));
	gw_copy(s->market, sizeof(s->market), db_text(r, i, 13));
	gw_copy(s->currency, sizeof(s->currency), db_text(r, i, 14));
	gw_copy(s->status, sizeof(s->status), db_text(r, i, 15));
	gw_copy(s->plan_code, sizeof(s->plan_code), db_text(r, i, 16));
	gw_copy(s->plan_name, sizeof(s->plan_name), db_text(r, i, 17));
	s->last_transaction_id = db_int(r, i, 18);
}

enum merr sub_get(struct db *db, int64_t id, struct sub *s)
{
	struct db_res r;
	if (db_query(db, &r, "SELECT " SUB_COLS SUB_FROM "WHERE s.id = $1", DBV(DI(id))) != DB_OK)
		return MERR_INTERNAL;
	enum merr rc = r.nrows ? MERR_OK : MERR_NOT_FOUND;
	if (r.nrows)
		from_row(&r, 0, s);
	db_res_free(&r);
	return rc;
}

int sub_list(struct db *db, const char *user_id, int64_t before, int64_t limit, struct sub **out)
{
	struct db_res r;
	*out = NULL;
	if (db_query(db, &r,
		     "SELECT " SUB_COLS SUB_FROM "WHERE s.user_id = $1 AND ($2 = 0 OR s.id < $2) "
		     "ORDER BY s.id DESC LIMIT $3",
		     DBV(DT(user_id), DI(before), DI(limit))) != DB_OK)
		return -1;
	struct sub *s = xcalloc((size_t)(r.nrows ? r.nrows : 1), sizeof(*s));
	for (int i = 0; i < r.nrows; i++)
		from_row(&r, i, &s[i]);
	int n = r.nrows;
	db_res_free(&r);
	*out = s;
	return n;
}

enum merr sub_create(struct db *db, const char *user_id, const struct market *m, int64_t plan_id,
		     int64_t method_id, const char *client_ip, const char *idempotency_key,
		     struct sub *out, struct verr *e)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT price, interval_days, name FROM subscription_plans WHERE id = $1 AND market_id = $2 "
		     "AND active = 1",
		     DBV(DI(plan_id), DI(m->id))) != DB_OK)
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	if (!r.nrows) {
		db_res_free(&r);
		return verr_set(e, MERR_VALIDATION, "plan_id", "no such plan in %s", m->code), MERR_VALIDATION;
	}
	int64_t price = db_int(&r, 0, 0), days = db_int(&r, 0, 1);
	char desc[96];
	snprintf(desc, sizeof(desc), "subscription: %s", db_text(&r, 0, 2));
	db_res_free(&r);
	int64_t active = 0;
	if (db_scalar(db, &active, 0,
		      "SELECT COUNT(*) FROM subscriptions WHERE user_id = $1 AND plan_id = $2 "
		      "AND status IN ('active', 'past_due')",
		      DBV(DT(user_id), DI(plan_id))) != DB_OK)
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	if (active)
		return verr_set(e, MERR_CONFLICT, "plan_id", "you already subscribe to this plan"), MERR_CONFLICT;

	json_t *payment = json_pack("{sI}", "method_id", (json_int_t)method_id);
	struct pay_charge c = {
		.user_id = user_id, .market = m, .payment = payment, .amount = price,
		.idempotency_key = idempotency_key, .client_ip = client_ip, .description = desc,
	};
	enum merr rc = payment_charge(db, &c, e);
	json_decref(payment);
	if (rc != MERR_OK) {
		if (strcmp(e->field, "payment.method_id") == 0)
			gw_copy(e->field, sizeof(e->field), "payment_method_id");
		return rc;
	}
	if (c.status != PAY_SUCCEEDED) {
		if (c.status == PAY_PENDING && payment_void(db, c.transaction_id, "subscriptions need an immediate payment") != MERR_OK)
			log_error("subscription: could not release pending transaction %lld", (long long)c.transaction_id);
		return verr_set(e, MERR_PAYMENT_DECLINED, "payment_method_id", "%s",
				c.status == PAY_PENDING ? "the payment could not be completed now; try another method"
							: c.message),
		       MERR_PAYMENT_DECLINED;
	}
	int64_t now = time_now(), end = now + days * DAY, sid = 0;
	bool ok = db_begin(db) == DB_OK &&
		  db_query(db, &r,
			   "INSERT INTO subscriptions (user_id, plan_id, market_id, payment_method_id, status, "
			   "current_period_start, current_period_end, created_at) "
			   "VALUES ($1, $2, $3, $4, 'active', $5, $6, $5) RETURNING id",
			   DBV(DT(user_id), DI(plan_id), DI(m->id), DI(method_id), DI(now), DI(end))) == DB_OK;
	if (ok) {
		sid = db_int(&r, 0, 0);
		db_res_free(&r);
		ok = db_exec(db,
			     "INSERT INTO subscription_invoices (subscription_id, period_start, period_end, amount, "
			     "currency, status, attempts, transaction_id, created_at, updated_at) "
			     "VALUES ($1, $2, $3, $4, $5, 'paid', 1, $6, $2, $2)",
			     DBV(DI(sid), DI(now), DI(end), DI(price), DT(m->currency), DI(c.transaction_id)),
			     NULL) == DB_OK &&
		     db_exec(db, "UPDATE payment_transactions SET subscription_id = $1 WHERE id = $2",
			     DBV(DI(sid), DI(c.transaction_id)), NULL) == DB_OK &&
		     db_commit(db) == DB_OK;
	}
	if (!ok) {
		db_rollback(db);
		if (payment_void(db, c.transaction_id, "subscription could not be stored") != MERR_OK)
			log_error("subscription: charge %lld taken but not stored or given back",
				  (long long)c.transaction_id);
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	}
	rc = sub_get(db, sid, out);
	return rc == MERR_OK ? MERR_OK : (verr_set(e, rc, NULL, "database error"), rc);
}

enum merr sub_cancel(struct db *db, int64_t id, bool at_period_end, struct sub *out, struct verr *e)
{
	int64_t n = 0, now = time_now();
	int rc = at_period_end
			 ? db_exec(db,
				   "UPDATE subscriptions SET cancel_at_period_end = 1 WHERE id = $1 AND status = 'active'",
				   DBV(DI(id)), &n)
			 : db_exec(db,
				   "UPDATE subscriptions SET status = 'canceled', canceled_at = $1, next_retry_at = NULL "
				   "WHERE id = $2 AND status IN ('active', 'past_due')",
				   DBV(DI(now), DI(id)), &n);
	if (rc != DB_OK)
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	enum merr r = sub_get(db, id, out);
	if (r != MERR_OK)
		return verr_set(e, r, NULL, r == MERR_NOT_FOUND ? "no such subscription" : "database error"), r;
	if (n != 1)
		return verr_set(e, MERR_INVALID_STATE, NULL, "this subscription is %s", out->status),
		       MERR_INVALID_STATE;
	return MERR_OK;
}

/*
 * One due subscription. The invoice row for the period is created once
 * (ON CONFLICT DO NOTHING); an attempt is claimed by bumping its attempts
 * counter only if nobody did within the retry interval, so whoever loses the
 * race charges nothing.
 */
static bool renew_one(struct db *db, const struct sub *s, int64_t now)
{
	if (s->cancel_at_period_end) {
		return db_exec(db,
			       "UPDATE subscriptions SET status = 'canceled', canceled_at = current_period_end "
			       "WHERE id = $1 AND status IN ('active', 'past_due')",
			       DBV(DI(s->id)), NULL) == DB_OK;
	}
	int64_t start = s->current_period_end, end = start + (int64_t)s->interval_days * DAY;
	if (db_exec(db,
		    "INSERT INTO subscription_invoices (subscription_id, period_start, period_end, amount, currency, "
		    "status, attempts, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', 0, $6, $6) "
		    "ON CONFLICT (subscription_id, period_start) DO NOTHING",
		    DBV(DI(s->id), DI(start), DI(end), DI(s->price), DA(s->currency), DI(now)), NULL) != DB_OK)
		return false;
	struct db_res r;
	if (db_query(db, &r,
		     "UPDATE subscription_invoices SET attempts = attempts + 1, updated_at = $1 "
		     "WHERE subscription_id = $2 AND period_start = $3 AND status = 'open' "
		     "AND (attempts = 0 OR updated_at <= $4) RETURNING id, attempts",
		     DBV(DI(now), DI(s->id), DI(start), DI(now - cfg.subscription_retry_s + 1))) != DB_OK)
		return false;
	if (!r.nrows) { /* another runner has this attempt */
		db_res_free(&r);
		return true;
	}
	int64_t invoice = db_int(&r, 0, 0), attempt = db_int(&r, 0, 1);
	db_res_free(&r);

	const struct market *m = market_get(s->market);
	char key[96], desc[96];
	snprintf(key, sizeof(key), "sub-%lld-%lld-%lld", (long long)s->id, (long long)start, (long long)attempt);
	snprintf(desc, sizeof(desc), "subscription %lld renewal", (long long)s->id);
	json_t *payment = json_pack("{sI}", "method_id", (json_int_t)s->payment_method_id);
	struct pay_charge c = {.user_id = s->user_id, .market = m, .payment = payment, .amount = s->price,
			       .idempotency_key = key, .description = desc, .recurring = true,
			       .subscription_id = s->id};
	struct verr e = {0};
	enum merr rc = m ? payment_charge(db, &c, &e) : MERR_VALIDATION;
	json_decref(payment);
	bool paid = rc == MERR_OK && c.status == PAY_SUCCEEDED;
	if (rc == MERR_OK && c.status == PAY_PENDING && payment_void(db, c.transaction_id, "renewals must pay at once") != MERR_OK)
		log_warn("subscription %lld: pending renewal %lld not released", (long long)s->id,
			 (long long)c.transaction_id);
	bool ok = db_begin(db) == DB_OK;
	if (paid) {
		ok = ok &&
		     db_exec(db, "UPDATE subscription_invoices SET status = 'paid', transaction_id = $1, updated_at = $2 WHERE id = $3",
			     DBV(DI(c.transaction_id), DI(now), DI(invoice)), NULL) == DB_OK &&
		     db_exec(db,
			     "UPDATE subscriptions SET status = 'active', current_period_start = $1, current_period_end = $2, "
			     "failed_attempts = 0, next_retry_at = NULL WHERE id = $3 AND status IN ('active', 'past_due')",
			     DBV(DI(start), DI(end), DI(s->id)), NULL) == DB_OK;
	} else if (attempt > SUB_MAX_RETRIES) {
		/* the first attempt and three retries failed */
		ok = ok &&
		     db_exec(db, "UPDATE subscription_invoices SET status = 'failed', transaction_id = $1, updated_at = $2 WHERE id = $3",
			     DBV(c.transaction_id ? DI(c.transaction_id) : DN, DI(now), DI(invoice)), NULL) == DB_OK &&
		     db_exec(db,
			     "UPDATE subscriptions SET status = 'canceled', canceled_at = $1, failed_attempts = $2, "
			     "next_retry_at = NULL WHERE id = $3",
			     DBV(DI(now), DI(attempt), DI(s->id)), NULL) == DB_OK;
	} else {
		ok = ok &&
		     db_exec(db, "UPDATE subscription_invoices SET transaction_id = $1 WHERE id = $2",
			     DBV(c.transaction_id ? DI(c.transaction_id) : DN, DI(invoice)), NULL) == DB_OK &&
		     db_exec(db,
			     "UPDATE subscriptions SET status = 'past_due', failed_attempts = $1, next_retry_at = $2 "
			     "WHERE id = $3 AND status IN ('active', 'past_due')",
			     DBV(DI(attempt), DI(now + cfg.subscription_retry_s), DI(s->id)), NULL) == DB_OK;
	}
	ok = ok && db_commit(db) == DB_OK;
	if (!ok) {
		db_rollback(db);
		log_error("subscription %lld: renewal outcome not stored", (long long)s->id);
	}
	return ok;
}

bool sub_renew_due(struct db *db, int64_t now)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT " SUB_COLS SUB_FROM
		     "WHERE s.status IN ('active', 'past_due') AND s.current_period_end <= $1 "
		     "AND (s.next_retry_at IS NULL OR s.next_retry_at <= $1) ORDER BY s.id LIMIT $2",
		     DBV(DI(now), DI(RENEW_BATCH))) != DB_OK)
		return false;
	bool ok = true;
	for (int i = 0; i < r.nrows; i++) {
		struct sub s;
		from_row(&r, i, &s);
		if (!renew_one(db, &s, now))
			ok = false;
	}
	db_res_free(&r);
	return ok;
}
