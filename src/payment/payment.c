/*
 * Charging through a market's gateways: resolve the payment object (or a
 * saved method) to a gateway, route around a gateway whose circuit breaker
 * is open, score fraud, call the gateway outside any transaction, then record
 * one payment_transactions row and the attempt (health). Refunds, webhooks
 * and fraud reviews move transactions afterwards.
 */
#include "payment/payment.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "market/market.h"
#include "payment/fraud.h"
#include "payment/gateway.h"
#include "payment/method.h"

/* A text parameter from a char array (never NULL). */
#define DA(x) ((struct db_val){.t = DB_TEXT, .s = (x)})

/* --- card numbers ------------------------------------------------------------- */

static bool luhn(const char *d, size_t n)
{
	int sum = 0;
	for (size_t i = 0; i < n; i++) {
		int v = d[n - 1 - i] - '0';
		if (i % 2) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

bool payment_looks_like_pan(const char *s)
{
	char digits[32];
	size_t n = 0;
	for (const char *p = s;; p++) {
		bool sep = (*p == ' ' || *p == '-') && n > 0 && p[1] >= '0' && p[1] <= '9';
		if (*p >= '0' && *p <= '9') {
			if (n < sizeof(digits))
				digits[n] = *p;
			n++;
		} else if (!sep) {
			if (n >= 13 && n <= 19 && luhn(digits, n))
				return true;
			n = 0;
		}
		if (!*p)
			break;
	}
	return false;
}

bool payment_json_has_pan(json_t *j)
{
	if (json_is_string(j))
		return payment_looks_like_pan(json_string_value(j));
	if (json_is_integer(j)) {
		char t[32];
		snprintf(t, sizeof(t), "%lld", (long long)json_integer_value(j));
		return payment_looks_like_pan(t);
	}
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			if (payment_looks_like_pan(k) || payment_json_has_pan(v))
				return true;
		}
	}
	if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			if (payment_json_has_pan(v))
				return true;
		}
	}
	return false;
}

/* --- resolving a payment object --------------------------------------------- */

struct resolved {
	const struct gateway *gw;
	const struct market_gateway *mg;
	json_t *payment; /* owned: what the gateway sees */
	int64_t method_id;
	char fingerprint[72];
};

/* The instrument's identity, the same for a one-off token and a saved one. */
static void fingerprint(const char *gateway, json_t *p, char *out, size_t n)
{
	static const char *const ids[] = {"token", "vpa", "payment_id", "payer_email", "mobile", NULL};
	const char *id = NULL;
	for (const char *const *k = ids; !id && *k; k++)
		id = gw_str(p, *k);
	const char *family = strcmp(gateway, "apple_pay") == 0 ? "stripe"
			     : strcmp(gateway, "upi") == 0     ? "razorpay"
							       : gateway;
	if (id)
		gw_fingerprint(out, n, family, id);
	else
		out[0] = 0;
}

static enum merr resolve(struct db *db, const struct pay_charge *c, struct resolved *rv, struct verr *e)
{
	memset(rv, 0, sizeof(*rv));
	if (!json_is_object(c->payment))
		return verr_set(e, MERR_VALIDATION, "payment", "payment must be an object"), MERR_VALIDATION;
	/* before anything else looks at it: a card number is refused, and the
	 * message never repeats it */
	if (payment_json_has_pan(c->payment))
		return verr_set(e, MERR_VALIDATION, "payment",
				"card numbers are not accepted; send the gateway's token (e.g. tok_visa)"),
		       MERR_VALIDATION;
	json_t *mid = json_object_get(c->payment, "method_id");
	if (mid) {
		if (!json_is_integer(mid) || json_integer_value(mid) <= 0 || json_object_size(c->payment) != 1)
			return verr_set(e, MERR_VALIDATION, "payment.method_id",
					"payment.method_id must be a saved method's id, alone"),
			       MERR_VALIDATION;
		struct pay_method m;
		enum merr r = method_get(db, json_integer_value(mid), &m);
		if (r == MERR_INTERNAL)
			return verr_set(e, r, NULL, "database error"), r;
		if (r != MERR_OK || strcmp(m.user_id, c->user_id ? c->user_id : "") != 0)
			return verr_set(e, MERR_VALIDATION, "payment.method_id", "no such saved payment method"),
			       MERR_VALIDATION;
		if (strcmp(m.market, c->market->code) != 0)
			return verr_set(e, MERR_VALIDATION, "payment.method_id",
					"this payment method belongs to another market"),
			       MERR_VALIDATION;
		rv->method_id = m.id;
		rv->payment = method_payment_object(&m);
	} else {
		rv->payment = json_incref(c->payment);
	}
	const char *code = gw_str(rv->payment, "gateway");
	if (!code) {
		json_decref(rv->payment);
		rv->payment = NULL;
		return verr_set(e, MERR_VALIDATION, "payment.gateway",
				"payment.gateway is required (or payment.method_id)"),
		       MERR_VALIDATION;
	}
	rv->mg = market_gateway(c->market, code);
	rv->gw = gateway_find(code);
	if (!rv->mg || !rv->gw) {
		verr_set(e, MERR_GATEWAY_UNAVAILABLE, "payment.gateway", "%s is not offered in %s",
			 rv->gw ? rv->gw->code : "this gateway", c->market->code);
		json_decref(rv->payment);
		rv->payment = NULL;
		return MERR_GATEWAY_UNAVAILABLE;
	}
	if (!rv->gw->check(rv->payment, e)) {
		json_decref(rv->payment);
		rv->payment = NULL;
		return e->code;
	}
	fingerprint(code, rv->payment, rv->fingerprint, sizeof(rv->fingerprint));
	return MERR_OK;
}

enum merr payment_validate(struct db *db, struct pay_charge *c, struct verr *e)
{
	struct resolved rv;
	enum merr r = resolve(db, c, &rv, e);
	if (r == MERR_OK)
		gw_copy(c->gateway, sizeof(c->gateway), rv.gw->code);
	json_decref(rv.payment);
	return r;
}

/* --- health and the circuit breaker ----------------------------------------- */

/* Count one call to a gateway (inside the caller's transaction): one
 * insert, no shared row, so concurrent payments do not queue here. */
static bool record_attempt(struct db *db, const struct market *m, const char *gateway, bool ok,
			   int64_t us, int64_t now)
{
	return db_exec(db,
		       "INSERT INTO gateway_attempts (market_id, gateway, ok, latency_us, at) "
		       "VALUES ($1, $2, $3, $4, $5)",
		       DBV(DI(m->id), DT(gateway), DI(ok), DI(us), DI(now)), NULL) == DB_OK;
}

/* Attempts older than this are folded into the counters and then deleted. */
#define STATS_SETTLE_S 10
#define ATTEMPTS_KEEP_S 86400

bool payment_gateway_stats(struct db *db, int64_t now)
{
	int64_t upto = 0, keep = now - (ATTEMPTS_KEEP_S > cfg.payment_breaker_window_s
						? ATTEMPTS_KEEP_S
						: cfg.payment_breaker_window_s);
	if (db_scalar(db, &upto, 0, "SELECT COALESCE(MAX(id), 0) FROM gateway_attempts WHERE at <= $1",
		      DBV(DI(now - STATS_SETTLE_S))) != DB_OK)
		return false;
	if (upto == 0)
		return true;
#define UNCOUNTED                                                                              \
	" FROM gateway_attempts a WHERE a.market_id = payment_gateways.market_id AND "          \
	"a.gateway = payment_gateways.code AND a.id > payment_gateways.counted_attempt_id AND a.id <= $1"
	bool ok = db_begin(db) == DB_OK &&
		  db_exec(db,
			  "UPDATE payment_gateways SET "
			  "success_count = success_count + (SELECT COUNT(*)" UNCOUNTED " AND a.ok = 1), "
			  "failure_count = failure_count + (SELECT COUNT(*)" UNCOUNTED " AND a.ok = 0), "
			  "total_latency_us = total_latency_us + (SELECT COALESCE(SUM(a.latency_us), 0)" UNCOUNTED "), "
			  "counted_attempt_id = $1 WHERE counted_attempt_id < $1",
			  DBV(DI(upto)), NULL) == DB_OK &&
		  db_exec(db,
			  "DELETE FROM gateway_attempts WHERE at < $1 AND id <= "
			  "(SELECT COALESCE(MIN(counted_attempt_id), 0) FROM payment_gateways)",
			  DBV(DI(keep)), NULL) == DB_OK &&
		  db_commit(db) == DB_OK;
#undef UNCOUNTED
	if (!ok)
		db_rollback(db);
	return ok;
}

/* Attempts and failures of a gateway in the breaker's window. */
static bool window(struct db *db, int64_t market_id, const char *gateway, int64_t now,
		   int64_t *attempts, int64_t *failures)
{
	struct db_res r;
	*attempts = *failures = 0;
	if (db_query(db, &r,
		     "SELECT COUNT(*), COALESCE(SUM(1 - ok), 0) FROM gateway_attempts "
		     "WHERE market_id = $1 AND gateway = $2 AND at > $3",
		     DBV(DI(market_id), DT(gateway), DI(now - cfg.payment_breaker_window_s))) != DB_OK)
		return false;
	if (r.nrows) {
		*attempts = db_int(&r, 0, 0);
		*failures = db_int(&r, 0, 1);
	}
	db_res_free(&r);
	return true;
}

/*
 * The breaker's window is read on every payment; a process keeps each
 * gateway's counts for up to a second (a failure seen here drops them at
 * once), so the window query runs about once a second per gateway rather
 * than once per payment. Other processes see a change within that second.
 */
#define WINDOW_CACHE 32
#define WINDOW_CACHE_US 1000000

static struct window_entry {
	int64_t market_id, at_us, attempts, failures;
	char gateway[24];
} wcache[WINDOW_CACHE];
static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;

static struct window_entry *wfind(int64_t market_id, const char *gateway)
{
	for (int i = 0; i < WINDOW_CACHE; i++)
		if (wcache[i].market_id == market_id && strcmp(wcache[i].gateway, gateway) == 0)
			return &wcache[i];
	return NULL;
}

static bool window_cached(struct db *db, int64_t market_id, const char *gateway, int64_t now,
			  int64_t *attempts, int64_t *failures)
{
	int64_t mono = time_mono_us();
	pthread_mutex_lock(&wlock);
	struct window_entry *w = wfind(market_id, gateway);
	bool fresh = w && mono - w->at_us < WINDOW_CACHE_US;
	if (fresh) {
		*attempts = w->attempts;
		*failures = w->failures;
	}
	pthread_mutex_unlock(&wlock);
	if (fresh)
		return true;
	if (!window(db, market_id, gateway, now, attempts, failures))
		return false;
	pthread_mutex_lock(&wlock);
	if (!(w = wfind(market_id, gateway))) {
		for (int i = 0; i < WINDOW_CACHE && !w; i++)
			if (!wcache[i].market_id)
				w = &wcache[i];
		if (!w)
			w = &wcache[(size_t)mono % WINDOW_CACHE];
		w->market_id = market_id;
		snprintf(w->gateway, sizeof(w->gateway), "%s", gateway);
	}
	w->at_us = mono;
	w->attempts = *attempts;
	w->failures = *failures;
	pthread_mutex_unlock(&wlock);
	return true;
}

static void window_forget(int64_t market_id, const char *gateway)
{
	pthread_mutex_lock(&wlock);
	struct window_entry *w = wfind(market_id, gateway);
	if (w)
		w->at_us = 0;
	pthread_mutex_unlock(&wlock);
}

static bool breaker_open(int64_t attempts, int64_t failures)
{
	return attempts >= cfg.payment_breaker_min_attempts &&
	       failures * 100 > attempts * cfg.payment_breaker_failure_pct;
}

static void raise_alert(struct db *db, const struct market *m, const char *from, const char *to,
			int64_t attempts, int64_t failures, int64_t now)
{
	char key[96], msg[256], ctx[256];
	snprintf(key, sizeof(key), "gateway_circuit_open:%s:%s", m->code, from);
	snprintf(msg, sizeof(msg), "%s gateway %s failed %lld of %lld attempts in the last %lld s; %s",
		 m->code, from, (long long)failures, (long long)attempts,
		 (long long)cfg.payment_breaker_window_s, to ? "routing to the next gateway" : "no alternative");
	snprintf(ctx, sizeof(ctx),
		 "{\"market\":\"%s\",\"gateway\":\"%s\",\"fallback\":%s%s%s,\"attempts\":%lld,\"failures\":%lld}",
		 m->code, from, to ? "\"" : "", to ? to : "null", to ? "\"" : "", (long long)attempts,
		 (long long)failures);
	/* one open alert per gateway, however many payments notice it */
	if (db_exec(db,
		    "INSERT INTO system_alerts (alert_type, severity, message, context, status, dedup_key, "
		    "created_at) SELECT 'gateway_circuit_open', 'high', $1, $2, 'open', $3, $4 "
		    "WHERE NOT EXISTS (SELECT 1 FROM system_alerts WHERE dedup_key = $3 AND status = 'open')",
		    DBV(DA(msg), DA(ctx), DA(key), DI(now)), NULL) != DB_OK)
		log_warn("payment: could not raise the circuit alert for %s", from);
}

/*
 * The gateway to use: the requested one unless its breaker is open, then the
 * market's next gateway of the same kind (by priority) whose breaker is
 * closed and which understands the same payment object.
 */
static void route(struct db *db, const struct market *m, struct resolved *rv, int64_t now)
{
	int64_t att, fail;
	if (!window_cached(db, m->id, rv->mg->code, now, &att, &fail) || !breaker_open(att, fail))
		return;
	const struct market_gateway *alt = NULL;
	for (int i = 0; i < m->ngateways && !alt; i++) {
		const struct market_gateway *g = &m->gateways[i];
		const struct gateway *gw = gateway_find(g->code);
		int64_t a2, f2;
		struct verr ignored;
		if (g == rv->mg || strcmp(g->kind, rv->mg->kind) != 0 || !gw ||
		    !window_cached(db, m->id, g->code, now, &a2, &f2) || breaker_open(a2, f2))
			continue;
		json_t *copy = json_deep_copy(rv->payment);
		json_object_set_new(copy, "gateway", json_string(g->code));
		if (gw->check(copy, &ignored)) {
			alt = g;
			json_decref(rv->payment);
			rv->payment = copy;
			rv->gw = gw;
		} else {
			json_decref(copy);
		}
	}
	raise_alert(db, m, rv->mg->code, alt ? alt->code : NULL, att, fail, now);
	if (alt)
		rv->mg = alt;
}

int payment_gateway_health(struct db *db, int64_t now, struct pay_gateway_health **out)
{
	int nm, total = 0;
	const struct market *ms = market_all(&nm);
	for (int i = 0; i < nm; i++)
		total += ms[i].ngateways;
	struct pay_gateway_health *h = xcalloc((size_t)(total ? total : 1), sizeof(*h));
	int n = 0;
	for (int i = 0; i < nm; i++) {
		for (int g = 0; g < ms[i].ngateways; g++) {
			struct pay_gateway_health *x = &h[n];
			gw_copy(x->market, sizeof(x->market), ms[i].code);
			gw_copy(x->code, sizeof(x->code), ms[i].gateways[g].code);
			gw_copy(x->kind, sizeof(x->kind), ms[i].gateways[g].kind);
			struct db_res r;
			/* the folded-in counters plus the attempts not folded in yet */
			if (db_query(db, &r,
				     "SELECT g.success_count + COALESCE(SUM(a.ok), 0), "
				     "g.failure_count + COALESCE(SUM(1 - a.ok), 0), "
				     "g.total_latency_us + COALESCE(SUM(a.latency_us), 0) FROM payment_gateways g "
				     "LEFT JOIN gateway_attempts a ON a.market_id = g.market_id AND a.gateway = g.code "
				     "AND a.id > g.counted_attempt_id WHERE g.market_id = $1 AND g.code = $2 "
				     "GROUP BY g.success_count, g.failure_count, g.total_latency_us",
				     DBV(DI(ms[i].id), DT(x->code))) != DB_OK ||
			    !window(db, ms[i].id, x->code, now, &x->window_attempts, &x->window_failures)) {
				free(h);
				return -1;
			}
			if (r.nrows) {
				x->successes = db_int(&r, 0, 0);
				x->failures = db_int(&r, 0, 1);
				int64_t calls = x->successes + x->failures;
				x->avg_latency_us = calls ? db_int(&r, 0, 2) / calls : 0;
			}
			db_res_free(&r);
			x->breaker_open = breaker_open(x->window_attempts, x->window_failures);
			if (db_scalar(db, &x->avg_processing_us, 0,
				      "SELECT CAST(AVG(processing_us) AS BIGINT) FROM payment_transactions "
				      "WHERE market_id = $1 AND gateway = $2 AND created_at > $3",
				      DBV(DI(ms[i].id), DT(x->code), DI(now - cfg.payment_breaker_window_s))) != DB_OK) {
				free(h);
				return -1;
			}
			n++;
		}
	}
	*out = h;
	return n;
}

/* --- charging ------------------------------------------------------------------ */

static const char *txn_status(enum gw_outcome o)
{
	switch (o) {
	case GW_CAPTURED:
		return "succeeded";
	case GW_AUTHORISED:
		return "review";
	case GW_PENDING:
	case GW_UNKNOWN:
		return "pending";
	default:
		return "declined";
	}
}

static const char *order_payment_status(enum gw_outcome o, const char *gateway)
{
	switch (o) {
	case GW_CAPTURED:
		return "paid";
	case GW_AUTHORISED:
		return "review";
	case GW_PENDING:
		return strcmp(gateway, "cod") == 0 ? "cod_pending" : "pending";
	case GW_UNKNOWN:
		return "pending";
	default:
		return "failed";
	}
}

/*
 * The whole attempt: resolve → route → fraud → gateway → one row. Runs
 * outside any transaction (the gateway may take hundreds of milliseconds).
 */
enum merr payment_charge(struct db *db, struct pay_charge *c, struct verr *e)
{
	int64_t t0 = time_mono_us(), gw_us = 0;
	int64_t now = time_now();
	c->status = PAY_DECLINED;
	c->transaction_id = 0;
	c->gateway[0] = c->payment_status[0] = c->decline_code[0] = c->message[0] = 0;
	c->brand[0] = c->last4[0] = 0;
	c->fraud_score = 0;
	gw_copy(c->fraud_decision, sizeof(c->fraud_decision), "approve");
	if (c->amount <= 0)
		return verr_set(e, MERR_VALIDATION, "amount", "amount must be positive"), MERR_VALIDATION;
	if (db_in_tx(db))
		return verr_set(e, MERR_INTERNAL, NULL, "payment_charge inside a transaction"), MERR_INTERNAL;
	struct resolved rv;
	enum merr r = resolve(db, c, &rv, e);
	if (r != MERR_OK)
		return r;
	route(db, c->market, &rv, now);

	struct fraud_result fr = {0};
	struct fraud_limits lim;
	fraud_limits_from_config(&lim);
	if (!c->recurring) {
		struct fraud_signals sig;
		if (!fraud_gather(db, c->market, c->user_id, c->client_ip, rv.fingerprint, c->amount,
				  c->shipping_country, now, &sig)) {
			json_decref(rv.payment);
			return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
		}
		fraud_score(&sig, &lim, &fr);
	}
	char reasons[256];
	fraud_reasons_json(&fr, reasons, sizeof(reasons));
	c->fraud_score = fr.score;
	gw_copy(c->fraud_decision, sizeof(c->fraud_decision), fraud_decision_name(fr.decision));

	struct gw_res res = {0};
	enum gw_outcome o;
	bool called = false, capture = fr.decision == FRAUD_APPROVE;
	/* every charge carries an idempotency key to the gateway: if the
	 * call times out, repeating it with the same key is how Stripe tells
	 * what happened (payment_reconcile_due) */
	char own_key[48];
	const char *key = c->idempotency_key;
	if (!key) {
		gw_ref(own_key, sizeof(own_key), "mandi");
		key = own_key;
	}
	if (fr.decision == FRAUD_REJECT) {
		o = gw_decline(&res, "fraud_suspected", "The payment was declined by our risk checks.");
	} else {
		struct gw_req q = {
			.market = c->market->code,
			.currency = c->market->currency,
			.payment = rv.payment,
			.amount = c->amount,
			.capture = capture,
			.idempotency_key = key,
			.description = c->description,
		};
		int64_t g0 = time_mono_us();
		db_suspend(db); /* no database connection held while the gateway thinks */
		o = rv.gw->authorise(&q, &res);
		db_resume(db);
		gw_us = time_mono_us() - g0;
		called = true;
		if (o == GW_INVALID) {
			verr_set(e, MERR_VALIDATION, "payment", "%s", res.message[0] ? res.message : "payment not accepted");
			/* the gateway answered: it is healthy, the input was not */
			if (db_begin(db) != DB_OK || !record_attempt(db, c->market, rv.gw->code, true, gw_us, now) ||
			    db_commit(db) != DB_OK) {
				db_rollback(db);
				log_warn("payment: could not record a %s attempt", rv.gw->code);
			}
			json_decref(rv.payment);
			return MERR_VALIDATION;
		}
		/* held for review, but the gateway had nothing to hold (COD, a
		 * collect request): it waits for the review all the same */
		if (fr.decision == FRAUD_REVIEW && (o == GW_PENDING || o == GW_CAPTURED))
			o = GW_AUTHORISED;
	}
	gw_copy(c->gateway, sizeof(c->gateway), rv.gw->code);
	gw_copy(c->payment_status, sizeof(c->payment_status), order_payment_status(o, rv.gw->code));
	gw_copy(c->decline_code, sizeof(c->decline_code), res.decline_code);
	gw_copy(c->message, sizeof(c->message), res.message);
	gw_copy(c->brand, sizeof(c->brand), res.brand);
	gw_copy(c->last4, sizeof(c->last4), res.last4);
	c->status = o == GW_CAPTURED				  ? PAY_SUCCEEDED
		    : (o == GW_PENDING || o == GW_AUTHORISED) ? PAY_PENDING
		    : o == GW_UNKNOWN			  ? PAY_UNKNOWN
							  : PAY_DECLINED;
	c->gateway_us = gw_us;
	c->processing_us = time_mono_us() - t0 - gw_us;

	/* one write transaction records the attempt (health), the transaction
	 * and, when held, its review */
	bool txok = db_begin(db) == DB_OK &&
		    (!called || record_attempt(db, c->market, rv.gw->code, o != GW_ERROR && o != GW_UNKNOWN,
					       gw_us, now));
	struct db_res ins;
	txok = txok &&
	       db_query(db, &ins,
			"INSERT INTO payment_transactions (order_id, subscription_id, user_id, market_id, gateway, "
			"kind, method_id, amount, currency, status, payment_status, captured, gateway_ref, "
			"decline_code, message, brand, last4, fingerprint, client_ip, fraud_score, fraud_reasons, "
			"live, processing_us, gateway_us, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, "
			"$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, "
			"$25, $25) RETURNING id",
			DBV(DN, c->subscription_id ? DI(c->subscription_id) : DN, DT(c->user_id),
			    DI(c->market->id), DT(rv.gw->code), DT(rv.mg->kind),
			    rv.method_id ? DI(rv.method_id) : DN, DI(c->amount), DT(c->market->currency),
			    DT(txn_status(o)), DT(c->payment_status), DI(o == GW_CAPTURED ? c->amount : 0),
			    DT(res.ref[0] ? res.ref : NULL), DT(res.decline_code[0] ? res.decline_code : NULL),
			    DT(res.message[0] ? res.message : NULL), DT(res.brand[0] ? res.brand : NULL),
			    DT(res.last4[0] ? res.last4 : NULL), DT(rv.fingerprint[0] ? rv.fingerprint : NULL),
			    DT(c->client_ip), DI(fr.score), DA(reasons), DI(res.live), DI(c->processing_us),
			    DI(gw_us), DI(now))) == DB_OK;
	if (txok) {
		c->transaction_id = db_int(&ins, 0, 0);
		db_res_free(&ins);
	}
	if (txok && o == GW_AUTHORISED)
		txok = db_exec(db,
			       "INSERT INTO fraud_reviews (transaction_id, user_id, score, reasons, status, "
			       "created_at) VALUES ($1, $2, $3, $4, 'pending', $5)",
			       DBV(DI(c->transaction_id), DT(c->user_id), DI(fr.score), DA(reasons), DI(now)),
			       NULL) == DB_OK;
	if (txok && o == GW_UNKNOWN) {
		/* how to ask again: the gateway's view of the payment, not the
		 * client's (a saved method is resolved to its token) */
		json_t *req = json_pack("{sO sb ss}", "payment", rv.payment, "capture", capture, "description",
					c->description ? c->description : "");
		char *text = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(req);
		txok = text &&
		       db_exec(db,
			       "INSERT INTO payment_reconciliations (transaction_id, gateway, idempotency_key, "
			       "gateway_ref, request, cancel_order, status, attempts, next_at, created_at, updated_at) "
			       "VALUES ($1, $2, $3, $4, $5, $6, 'open', 0, $7, $8, $8)",
			       DBV(DI(c->transaction_id), DT(rv.gw->code), DT(key), DT(res.ref[0] ? res.ref : NULL),
				   DT(text), DI(c->places_order), DI(now + cfg.payment_reconcile_delay_s), DI(now)),
			       NULL) == DB_OK;
		free(text);
		if (txok)
			log_warn("payment: %s did not answer in time for transaction %lld; reconciling",
				 rv.gw->code, (long long)c->transaction_id);
	}
	txok = txok && db_commit(db) == DB_OK;
	if (called && (o == GW_ERROR || o == GW_UNKNOWN))
		window_forget(c->market->id, rv.gw->code);
	json_decref(rv.payment);
	if (!txok) {
		db_rollback(db);
		log_error("payment: charge %s on %s could not be recorded", res.ref, c->gateway);
		if (o == GW_CAPTURED || o == GW_AUTHORISED) {
			struct gw_res ignored = {0};
			if (rv.gw->refund(res.ref, c->amount, c->market->currency, NULL, &ignored) != GW_CAPTURED)
				log_error("payment: could not give back %s on %s", res.ref, c->gateway);
		}
		c->transaction_id = 0;
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	}
	return MERR_OK;
}

int payment_link_order(struct db *db, int64_t transaction_id, int64_t order_id)
{
	int64_t n = 0;
	int rc = db_exec(db,
			 "UPDATE payment_transactions SET order_id = $1, updated_at = $2 "
			 "WHERE id = $3 AND (order_id IS NULL OR order_id = $1)",
			 DBV(DI(order_id), DI(time_now()), DI(transaction_id)), &n);
	if (rc != DB_OK)
		return rc;
	return n == 1 ? DB_OK : DB_ERROR;
}

/* --- reading --------------------------------------------------------------------- */

#define TXN_COLS                                                                                   \
	"t.id, t.order_id, t.subscription_id, t.method_id, t.amount, t.captured, t.refunded, "        \
	"t.fraud_score, t.processing_us, t.gateway_us, t.created_at, t.updated_at, t.live, t.user_id, " \
	"m.code, t.currency, t.gateway, t.status, t.payment_status, t.gateway_ref, t.decline_code, "  \
	"t.message, t.brand, t.last4, t.fraud_reasons, "                                              \
	"(SELECT COUNT(*) FROM payment_reconciliations r WHERE r.transaction_id = t.id AND r.status = 'open')"

static void txn_from_row(const struct db_res *r, int i, struct pay_txn *t)
{
	memset(t, 0, sizeof(*t));
	int64_t *ints[] = {&t->id,	   &t->order_id,      &t->subscription_id, &t->method_id,
			   &t->amount,	   &t->captured,      &t->refunded,	   &t->fraud_score,
			   &t->processing_us, &t->gateway_us, &t->created_at,	   &t->updated_at};
	for (int c = 0; c < 12; c++)
		*ints[c] = db_int(r, i, c);
	t->live = db_int(r, i, 12) != 0;
	struct {
		char *p;
		size_t n;
	} strs[] = {{t->user_id, sizeof(t->user_id)},		{t->market, sizeof(t->market)},
		    {t->currency, sizeof(t->currency)},		{t->gateway, sizeof(t->gateway)},
		    {t->status, sizeof(t->status)},		{t->payment_status, sizeof(t->payment_status)},
		    {t->gateway_ref, sizeof(t->gateway_ref)},	{t->decline_code, sizeof(t->decline_code)},
		    {t->message, sizeof(t->message)},		{t->brand, sizeof(t->brand)},
		    {t->last4, sizeof(t->last4)},		{t->fraud_reasons, sizeof(t->fraud_reasons)}};
	for (int c = 0; c < 12; c++)
		gw_copy(strs[c].p, strs[c].n, db_text(r, i, 13 + c));
	t->reconciling = db_int(r, i, 25) != 0;
}

bool payment_reconciling(struct db *db, int64_t transaction_id)
{
	int64_t n = 0;
	if (transaction_id <= 0)
		return false;
	/* on a database error say yes: the callers refuse to charge again */
	if (db_scalar(db, &n, 0,
		      "SELECT COUNT(*) FROM payment_reconciliations WHERE transaction_id = $1 AND status = 'open'",
		      DBV(DI(transaction_id))) != DB_OK)
		return true;
	return n != 0;
}

enum merr payment_txn_get(struct db *db, int64_t id, struct pay_txn *t)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT " TXN_COLS " FROM payment_transactions t JOIN markets m ON m.id = t.market_id "
		     "WHERE t.id = $1",
		     DBV(DI(id))) != DB_OK)
		return MERR_INTERNAL;
	enum merr rc = r.nrows ? MERR_OK : MERR_NOT_FOUND;
	if (r.nrows)
		txn_from_row(&r, 0, t);
	db_res_free(&r);
	return rc;
}

static void refund_from_row(const struct db_res *r, int i, struct pay_refund *f)
{
	memset(f, 0, sizeof(*f));
	f->id = db_int(r, i, 0);
	f->transaction_id = db_int(r, i, 1);
	f->amount = db_int(r, i, 2);
	gw_copy(f->currency, sizeof(f->currency), db_text(r, i, 3));
	gw_copy(f->reason, sizeof(f->reason), db_text(r, i, 4));
	gw_copy(f->status, sizeof(f->status), db_text(r, i, 5));
	gw_copy(f->gateway_ref, sizeof(f->gateway_ref), db_text(r, i, 6));
	gw_copy(f->created_by, sizeof(f->created_by), db_text(r, i, 7));
	f->created_at = db_int(r, i, 8);
}

int payment_refunds(struct db *db, int64_t transaction_id, struct pay_refund **out)
{
	struct db_res r;
	*out = NULL;
	if (db_query(db, &r,
		     "SELECT id, transaction_id, amount, currency, reason, status, gateway_ref, created_by, "
		     "created_at FROM refunds WHERE transaction_id = $1 ORDER BY id",
		     DBV(DI(transaction_id))) != DB_OK)
		return -1;
	struct pay_refund *f = xcalloc((size_t)(r.nrows ? r.nrows : 1), sizeof(*f));
	for (int i = 0; i < r.nrows; i++)
		refund_from_row(&r, i, &f[i]);
	int n = r.nrows;
	db_res_free(&r);
	*out = f;
	return n;
}

/* --- moving transactions --------------------------------------------------------- */

/* The order's payment status follows its transaction (no-op without order). */
static int set_order_payment_status(struct db *db, int64_t order_id, const char *status)
{
	if (order_id <= 0)
		return DB_OK;
	return db_exec(db, "UPDATE orders SET payment_status = $1 WHERE id = $2",
		       DBV(DT(status), DI(order_id)), NULL);
}

enum merr payment_refund(struct db *db, int64_t transaction_id, int64_t amount, const char *reason,
			 const char *by, const char *idempotency_key, struct pay_refund *out,
			 struct verr *e)
{
	struct pay_txn t;
	enum merr r = payment_txn_get(db, transaction_id, &t);
	if (r != MERR_OK)
		return verr_set(e, r, NULL, r == MERR_NOT_FOUND ? "no such transaction" : "database error"), r;
	if (strcmp(t.status, "succeeded") != 0)
		return verr_set(e, MERR_INVALID_STATE, NULL, "only a captured payment can be refunded (this one is %s)",
				t.status),
		       MERR_INVALID_STATE;
	int64_t left = t.captured - t.refunded;
	if (amount == 0)
		amount = left;
	if (amount <= 0)
		return verr_set(e, MERR_INVALID_STATE, NULL, "this payment is already fully refunded"),
		       MERR_INVALID_STATE;
	int64_t now = time_now(), n = 0;
	/* reserve the amount: one conditional statement, so two refunds racing
	 * can never together pass what was captured */
	if (db_exec(db,
		    "UPDATE payment_transactions SET refunded = refunded + $1, updated_at = $2 "
		    "WHERE id = $3 AND status = 'succeeded' AND refunded + $1 <= captured",
		    DBV(DI(amount), DI(now), DI(transaction_id)), &n) != DB_OK)
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	if (n != 1)
		return verr_set(e, MERR_VALIDATION, "amount", "amount exceeds what is left to refund (%lld)",
				(long long)left),
		       MERR_VALIDATION;
	const struct gateway *gw = gateway_find(t.gateway);
	struct gw_res res = {0};
	db_suspend(db);
	enum gw_outcome o = gw ? gw->refund(t.gateway_ref, amount, t.currency, idempotency_key, &res) : GW_ERROR;
	db_resume(db);
	if (o != GW_CAPTURED) {
		if (db_exec(db,
			    "UPDATE payment_transactions SET refunded = refunded - $1, updated_at = $2 WHERE id = $3",
			    DBV(DI(amount), DI(now), DI(transaction_id)), NULL) != DB_OK)
			log_error("payment: refund reservation of %lld on transaction %lld not released",
				  (long long)amount, (long long)transaction_id);
		return verr_set(e, o == GW_ERROR ? MERR_UNAVAILABLE : MERR_PAYMENT_DECLINED, NULL,
				"the gateway refused the refund: %s", res.message[0] ? res.message : "unknown reason"),
		       o == GW_ERROR ? MERR_UNAVAILABLE : MERR_PAYMENT_DECLINED;
	}
	struct db_res ins;
	bool ok = db_begin(db) == DB_OK &&
		  db_query(db, &ins,
			   "INSERT INTO refunds (transaction_id, amount, currency, reason, status, gateway_ref, "
			   "created_by, created_at) VALUES ($1, $2, $3, $4, 'succeeded', $5, $6, $7) "
			   "RETURNING id, transaction_id, amount, currency, reason, status, gateway_ref, "
			   "created_by, created_at",
			   DBV(DI(transaction_id), DI(amount), DA(t.currency), DT(reason ? reason : ""),
			       DA(res.ref), DT(by), DI(now))) == DB_OK;
	if (ok) {
		refund_from_row(&ins, 0, out);
		db_res_free(&ins);
		int64_t full = 0;
		ok = db_scalar(db, &full, 0,
			       "SELECT CASE WHEN refunded >= captured THEN 1 ELSE 0 END FROM payment_transactions "
			       "WHERE id = $1",
			       DBV(DI(transaction_id))) == DB_OK &&
		     set_order_payment_status(db, t.order_id, full ? "refunded" : "partially_refunded") == DB_OK &&
		     db_commit(db) == DB_OK;
	}
	if (!ok) {
		db_rollback(db);
		log_error("payment: refund %s of transaction %lld taken but not recorded", res.ref,
			  (long long)transaction_id);
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	}
	return MERR_OK;
}

enum merr payment_void(struct db *db, int64_t transaction_id, const char *reason)
{
	struct pay_txn t;
	enum merr r = payment_txn_get(db, transaction_id, &t);
	if (r != MERR_OK)
		return r;
	const struct gateway *gw = gateway_find(t.gateway);
	bool held = strcmp(t.status, "succeeded") == 0 || strcmp(t.status, "review") == 0;
	if (held && gw) {
		struct gw_res res = {0};
		int64_t amount = t.captured ? t.captured - t.refunded : t.amount;
		if (amount > 0 && gw->refund(t.gateway_ref, amount, t.currency, NULL, &res) != GW_CAPTURED) {
			log_error("payment: void of transaction %lld failed at %s: %s", (long long)transaction_id,
				  t.gateway, res.message);
			return MERR_UNAVAILABLE;
		}
	}
	if (db_exec(db,
		    "UPDATE payment_transactions SET status = 'voided', payment_status = 'failed', "
		    "message = $1, updated_at = $2 WHERE id = $3 AND status IN ('succeeded', 'review', 'pending')",
		    DBV(DT(reason), DI(time_now()), DI(transaction_id)), NULL) != DB_OK ||
	    db_exec(db,
		    "UPDATE fraud_reviews SET status = 'rejected', note = $1, decided_at = $2 "
		    "WHERE transaction_id = $3 AND status = 'pending'",
		    DBV(DT(reason), DI(time_now()), DI(transaction_id)), NULL) != DB_OK)
		return MERR_INTERNAL;
	return MERR_OK;
}

enum merr payment_cod_collected(struct db *db, int64_t transaction_id)
{
	int64_t n = 0;
	if (db_exec(db,
		    "UPDATE payment_transactions SET status = 'succeeded', payment_status = 'paid', "
		    "captured = amount, updated_at = $1 WHERE id = $2 AND gateway = 'cod' AND status = 'pending'",
		    DBV(DI(time_now()), DI(transaction_id)), &n) != DB_OK)
		return MERR_INTERNAL;
	return n == 1 ? MERR_OK : MERR_INVALID_STATE;
}

/* --- webhooks ----------------------------------------------------------------------- */

const char *payment_webhook_signature_header(const char *gateway)
{
	const struct gateway *gw = gateway_find(gateway);
	return gw && gw->verify_webhook ? gw->signature_header : NULL;
}

enum merr payment_webhook(struct db *db, const char *gateway, const char *body, size_t len,
			  const char *signature, const char *event_id, struct pay_webhook_result *out,
			  struct verr *e)
{
	memset(out, 0, sizeof(*out));
	const struct gateway *gw = gateway_find(gateway);
	if (!gw || !gw->verify_webhook)
		return verr_set(e, MERR_NOT_FOUND, NULL, "no webhooks for this gateway"), MERR_NOT_FOUND;
	int64_t now = time_now();
	struct gw_event ev = {0};
	char why[160] = "";
	if (!gw->verify_webhook(body, len, signature, event_id, now, &ev, why, sizeof(why))) {
		log_warn("webhook %s refused: %s", gateway, why);
		return verr_set(e, MERR_UNAUTHORIZED, "signature", "%s", why), MERR_UNAUTHORIZED;
	}
	gw_copy(out->type, sizeof(out->type), ev.type);
	/* the gateways whose payments this webhook speaks for */
	const char *fam2 = strcmp(gateway, "stripe") == 0 ? "apple_pay"
			   : strcmp(gateway, "razorpay") == 0 ? "upi"
			   : strcmp(gateway, "upi") == 0      ? "razorpay"
							      : gateway;
	struct db_res r;
	bool ok = db_begin(db) == DB_OK &&
		  db_query(db, &r,
			   "INSERT INTO webhook_events (gateway, event_id, type, received_at) VALUES ($1, $2, $3, $4) "
			   "ON CONFLICT (gateway, event_id) DO NOTHING RETURNING id",
			   DBV(DT(strcmp(gateway, "upi") == 0 ? "razorpay" : gateway), DA(ev.id), DA(ev.type),
			       DI(now))) == DB_OK;
	if (!ok) {
		db_rollback(db);
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	}
	int64_t event_row = r.nrows ? db_int(&r, 0, 0) : 0;
	db_res_free(&r);
	if (!event_row) {
		db_rollback(db);
		out->duplicate = true;
		return MERR_OK;
	}
	if ((ev.paid || ev.failed) && ev.ref[0]) {
		struct db_res t;
		ok = db_query(db, &t,
			      "UPDATE payment_transactions SET status = $1, payment_status = $2, "
			      "captured = CASE WHEN $1 = 'succeeded' THEN amount ELSE 0 END, "
			      "decline_code = CASE WHEN $1 = 'succeeded' THEN NULL ELSE 'payment_failed' END, "
			      "message = $3, updated_at = $4 "
			      "WHERE gateway IN ($5, $6) AND gateway_ref = $7 AND status = 'pending' "
			      "RETURNING id, order_id",
			      DBV(DT(ev.paid ? "succeeded" : "declined"), DT(ev.paid ? "paid" : "failed"),
				  DT(ev.message[0] ? ev.message : NULL), DI(now), DT(gateway), DT(fam2),
				  DA(ev.ref))) == DB_OK;
		if (ok && t.nrows) {
			out->transaction_id = db_int(&t, 0, 0);
			gw_copy(out->status, sizeof(out->status), ev.paid ? "succeeded" : "declined");
			ok = set_order_payment_status(db, db_int(&t, 0, 1), ev.paid ? "paid" : "failed") == DB_OK &&
			     db_exec(db, "UPDATE webhook_events SET transaction_id = $1 WHERE id = $2",
				     DBV(DI(out->transaction_id), DI(event_row)), NULL) == DB_OK;
		}
		if (ok)
			db_res_free(&t);
	}
	if (!ok || db_commit(db) != DB_OK) {
		db_rollback(db);
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	}
	return MERR_OK;
}

/* --- fraud reviews ------------------------------------------------------------------ */

#define REVIEW_COLS                                                                           \
	"f.id, f.transaction_id, t.order_id, t.amount, f.score, f.created_at, f.decided_at, "  \
	"f.user_id, t.currency, t.gateway, f.reasons, f.status, f.decided_by, f.note"

static void review_from_row(const struct db_res *r, int i, struct pay_review *v)
{
	memset(v, 0, sizeof(*v));
	v->id = db_int(r, i, 0);
	v->transaction_id = db_int(r, i, 1);
	v->order_id = db_int(r, i, 2);
	v->amount = db_int(r, i, 3);
	v->score = db_int(r, i, 4);
	v->created_at = db_int(r, i, 5);
	v->decided_at = db_int(r, i, 6);
	gw_copy(v->user_id, sizeof(v->user_id), db_text(r, i, 7));
	gw_copy(v->currency, sizeof(v->currency), db_text(r, i, 8));
	gw_copy(v->gateway, sizeof(v->gateway), db_text(r, i, 9));
	gw_copy(v->reasons, sizeof(v->reasons), db_text(r, i, 10));
	gw_copy(v->status, sizeof(v->status), db_text(r, i, 11));
	gw_copy(v->decided_by, sizeof(v->decided_by), db_text(r, i, 12));
	gw_copy(v->note, sizeof(v->note), db_text(r, i, 13));
}

int payment_reviews(struct db *db, const char *status, int64_t after, int64_t limit,
		    struct pay_review **out)
{
	struct db_res r;
	*out = NULL;
	if (db_query(db, &r,
		     "SELECT " REVIEW_COLS " FROM fraud_reviews f JOIN payment_transactions t "
		     "ON t.id = f.transaction_id WHERE (CAST($1 AS TEXT) IS NULL OR f.status = CAST($1 AS TEXT)) AND f.id > $2 "
		     "ORDER BY f.id LIMIT $3",
		     DBV(DT(status), DI(after), DI(limit))) != DB_OK)
		return -1;
	struct pay_review *v = xcalloc((size_t)(r.nrows ? r.nrows : 1), sizeof(*v));
	for (int i = 0; i < r.nrows; i++)
		review_from_row(&r, i, &v[i]);
	int n = r.nrows;
	db_res_free(&r);
	*out = v;
	return n;
}

static enum merr review_get(struct db *db, int64_t id, struct pay_review *v)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT " REVIEW_COLS " FROM fraud_reviews f JOIN payment_transactions t "
		     "ON t.id = f.transaction_id WHERE f.id = $1",
		     DBV(DI(id))) != DB_OK)
		return MERR_INTERNAL;
	enum merr rc = r.nrows ? MERR_OK : MERR_NOT_FOUND;
	if (r.nrows)
		review_from_row(&r, 0, v);
	db_res_free(&r);
	return rc;
}

/*
 * Claim the review with a conditional UPDATE (pending → decided) first, so
 * two admins deciding at once cannot both capture; then act at the gateway
 * and move the transaction and its order.
 */
enum merr payment_review_decide(struct db *db, int64_t id, bool approve, const char *by,
				const char *note, struct pay_review *out, struct verr *e)
{
	int64_t now = time_now(), n = 0;
	if (db_exec(db,
		    "UPDATE fraud_reviews SET status = $1, decided_by = $2, decided_at = $3, note = $4 "
		    "WHERE id = $5 AND status = 'pending'",
		    DBV(DT(approve ? "approved" : "rejected"), DT(by), DI(now), DT(note), DI(id)), &n) != DB_OK)
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	enum merr r = review_get(db, id, out);
	if (r != MERR_OK)
		return verr_set(e, r, NULL, r == MERR_NOT_FOUND ? "no such review" : "database error"), r;
	if (n != 1)
		return verr_set(e, MERR_INVALID_STATE, NULL, "this review was already %s", out->status),
		       MERR_INVALID_STATE;
	struct pay_txn t;
	if (payment_txn_get(db, out->transaction_id, &t) != MERR_OK)
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	const struct gateway *gw = gateway_find(t.gateway);
	bool cod = strcmp(t.gateway, "cod") == 0;
	const char *status, *pstatus;
	int64_t captured = 0;
	struct gw_res res = {0};
	if (approve) {
		enum gw_outcome o = cod ? GW_PENDING : gw->capture(t.gateway_ref, t.amount, t.currency, &res);
		if (o != GW_CAPTURED && o != GW_PENDING) {
			status = "declined";
			pstatus = "failed";
		} else {
			status = o == GW_CAPTURED ? "succeeded" : "pending";
			pstatus = o == GW_CAPTURED ? "paid" : cod ? "cod_pending" : "pending";
			captured = o == GW_CAPTURED ? t.amount : 0;
		}
	} else {
		if (!cod && gw->refund(t.gateway_ref, t.amount, t.currency, NULL, &res) != GW_CAPTURED)
			log_warn("payment: releasing held transaction %lld failed: %s", (long long)t.id, res.message);
		status = "voided";
		pstatus = "failed";
	}
	bool ok = db_begin(db) == DB_OK &&
		  db_exec(db,
			  "UPDATE payment_transactions SET status = $1, payment_status = $2, captured = $3, "
			  "updated_at = $4 WHERE id = $5 AND status = 'review'",
			  DBV(DT(status), DT(pstatus), DI(captured), DI(now), DI(t.id)), NULL) == DB_OK &&
		  set_order_payment_status(db, t.order_id, pstatus) == DB_OK && db_commit(db) == DB_OK;
	if (!ok) {
		db_rollback(db);
		return verr_set(e, MERR_INTERNAL, NULL, "database error"), MERR_INTERNAL;
	}
	return MERR_OK;
}
