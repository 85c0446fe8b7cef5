/* HTTP handlers: payment methods, processing, transactions, refunds,
 * subscriptions, fraud reviews, gateway health, webhooks (issue 5;
 * CONTRACT §1, §6, §7). Decode → src/payment/ → encode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/timeutil.h"
#include "payment/method.h"
#include "payment/payment.h"
#include "payment/subscription.h"

/* Domain errors: their own message, or a bare 500 for internal ones. */
static void reply_domain(struct req *r, const struct verr *e)
{
	if (e->code == MERR_INTERNAL || e->code == MERR_OK)
		reply_error(r, MERR_INTERNAL, NULL, NULL);
	else
		reply_verr(r, e);
}

static void kstr_or_null(struct jw *w, const char *k, const char *s)
{
	jw_kstr_or_null(w, k, s && *s ? s : NULL);
}

/* --- methods ----------------------------------------------------------------- */

static void write_method(struct jw *w, const struct pay_method *m)
{
	jw_obj(w);
	jw_kint(w, "id", m->id);
	jw_kstr(w, "market", m->market);
	jw_kstr(w, "gateway", m->gateway);
	jw_kstr(w, "type", m->type);
	jw_kstr(w, "brand", m->brand);
	kstr_or_null(w, "last4", m->last4);
	if (m->exp_month) {
		jw_kint(w, "exp_month", m->exp_month);
		jw_kint(w, "exp_year", m->exp_year);
	}
	kstr_or_null(w, "nickname", m->nickname);
	jw_kbool(w, "is_default", m->is_default);
	jw_time(w, "created_at", m->created_at);
	jw_obj_end(w);
}

static void list_methods(struct req *r)
{
	const struct market *mk = market_or_400(r, req_query(r, "market"), false);
	if (!mk)
		return;
	struct pay_method *ms = NULL;
	int n = 0;
	if (r->auth.authenticated && (n = method_list(req_db(r), r->auth.sub, mk, &ms)) < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kstr(&w, "market", mk->code);
	jw_kstr(&w, "currency", mk->currency);
	jw_key(&w, "payment_options");
	jw_arr(&w);
	for (int i = 0; i < mk->ngateways; i++) {
		jw_obj(&w);
		jw_kstr(&w, "gateway", mk->gateways[i].code);
		jw_kstr(&w, "name", mk->gateways[i].name);
		jw_kstr(&w, "kind", mk->gateways[i].kind);
		jw_kint(&w, "priority", mk->gateways[i].priority);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "data");
	jw_arr(&w);
	for (int i = 0; i < n; i++)
		write_method(&w, &ms[i]);
	jw_arr_end(&w);
	jw_knull(&w, "next_cursor");
	jw_obj_end(&w);
	free(ms);
	reply_end(r, 200);
}

static void create_method(struct req *r)
{
	static const char *const fields[] = {"market", "gateway", "type", "token", "nickname", "is_default", NULL};
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	if (payment_json_has_pan(j)) {
		reply_error(r, MERR_VALIDATION, "token",
			    "card numbers are not accepted; send the gateway's token (e.g. tok_visa)");
		return;
	}
	struct verr e;
	const char *market, *gateway, *type, *token, *nickname;
	bool def;
	if (!jsonin_str(j, "market", true, 2, 2, NULL, &market, &e) ||
	    !jsonin_str(j, "gateway", true, 1, 24, NULL, &gateway, &e) ||
	    !jsonin_str(j, "type", true, 1, 16, NULL, &type, &e) ||
	    !jsonin_str(j, "token", true, 3, 190, NULL, &token, &e) ||
	    !jsonin_str(j, "nickname", false, 0, 60, NULL, &nickname, &e) ||
	    !jsonin_bool(j, "is_default", false, false, &def, &e)) {
		reply_verr(r, &e);
		return;
	}
	const struct market *mk = market_or_400(r, market, true);
	if (!mk)
		return;
	struct pay_method_in in = {.user_id = r->auth.sub, .market = mk, .gateway = gateway, .type = type,
				   .token = token, .nickname = nickname, .is_default = def};
	struct pay_method m;
	if (method_create(req_db(r), &in, &m, &e) != MERR_OK) {
		reply_domain(r, &e);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_method(&w, &m);
	reply_end(r, 201);
}

static void update_method(struct req *r)
{
	static const char *const fields[] = {"nickname", "is_default", NULL};
	int64_t id;
	if (!req_param_id(r, "id", &id))
		return;
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	struct verr e;
	const char *nickname;
	bool def;
	if (!jsonin_str(j, "nickname", false, 0, 60, NULL, &nickname, &e) ||
	    !jsonin_bool(j, "is_default", false, false, &def, &e)) {
		reply_verr(r, &e);
		return;
	}
	if (json_object_get(j, "is_default") && !def) {
		reply_error(r, MERR_VALIDATION, "is_default", "make another method the default instead");
		return;
	}
	if (nickname && payment_looks_like_pan(nickname)) {
		reply_error(r, MERR_VALIDATION, "nickname", "card numbers are not accepted");
		return;
	}
	struct pay_method m;
	enum merr rc = method_get(req_db(r), id, &m);
	if (rc == MERR_INTERNAL) {
		reply_error(r, rc, NULL, NULL);
		return;
	}
	/* another user's method is as good as absent */
	if (rc == MERR_NOT_FOUND || (!is_admin(r) && strcmp(m.user_id, r->auth.sub) != 0)) {
		reply_error(r, MERR_NOT_FOUND, NULL, "no such payment method");
		return;
	}
	if (method_update(req_db(r), id, nickname, def, &m, &e) != MERR_OK) {
		reply_domain(r, &e);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_method(&w, &m);
	reply_end(r, 200);
}

/* --- transactions --------------------------------------------------------------- */

static void write_refund(struct jw *w, const struct pay_refund *f)
{
	jw_obj(w);
	jw_kint(w, "id", f->id);
	jw_kint(w, "transaction_id", f->transaction_id);
	jw_money(w, "amount", f->amount, f->currency);
	jw_kstr(w, "currency", f->currency);
	jw_kstr(w, "reason", f->reason);
	jw_kstr(w, "status", f->status);
	kstr_or_null(w, "gateway_ref", f->gateway_ref);
	jw_time(w, "created_at", f->created_at);
	jw_obj_end(w);
}

static void write_txn(struct jw *w, const struct pay_txn *t, const struct pay_refund *fs, int nf, bool admin)
{
	jw_obj(w);
	jw_kint(w, "id", t->id);
	if (t->order_id)
		jw_kint(w, "order_id", t->order_id);
	else
		jw_knull(w, "order_id");
	if (t->subscription_id)
		jw_kint(w, "subscription_id", t->subscription_id);
	jw_kstr(w, "user_id", t->user_id);
	jw_kstr(w, "market", t->market);
	jw_kstr(w, "gateway", t->gateway);
	jw_money(w, "amount", t->amount, t->currency);
	jw_money(w, "captured", t->captured, t->currency);
	jw_money(w, "refunded", t->refunded, t->currency);
	jw_kstr(w, "currency", t->currency);
	jw_kstr(w, "status", t->status);
	jw_kstr(w, "payment_status", t->payment_status);
	kstr_or_null(w, "brand", t->brand);
	kstr_or_null(w, "last4", t->last4);
	kstr_or_null(w, "gateway_ref", t->gateway_ref);
	kstr_or_null(w, "decline_code", t->decline_code);
	kstr_or_null(w, "message", t->message);
	jw_kbool(w, "live", t->live);
	jw_kbool(w, "reconciling", t->reconciling);
	if (admin) { /* how risky we thought it was is the operator's business */
		jw_key(w, "fraud");
		jw_obj(w);
		jw_kint(w, "score", t->fraud_score);
		jw_key(w, "reasons");
		jw_raw(w, t->fraud_reasons, strlen(t->fraud_reasons));
		jw_obj_end(w);
		jw_kint(w, "processing_us", t->processing_us);
		jw_kint(w, "gateway_us", t->gateway_us);
	}
	jw_key(w, "refunds");
	jw_arr(w);
	for (int i = 0; i < nf; i++)
		write_refund(w, &fs[i]);
	jw_arr_end(w);
	jw_time(w, "created_at", t->created_at);
	jw_time(w, "updated_at", t->updated_at);
	jw_obj_end(w);
}

/* Load a transaction with its refunds and reply it (status), or reply the error. */
static void reply_txn(struct req *r, int64_t id, int status, bool check_owner)
{
	struct pay_txn t;
	enum merr rc = payment_txn_get(req_db(r), id, &t);
	if (rc == MERR_OK && check_owner && !is_admin(r) && strcmp(t.user_id, r->auth.sub) != 0)
		rc = MERR_NOT_FOUND; /* reveals nothing about other users' payments */
	if (rc != MERR_OK) {
		reply_error(r, rc, NULL, rc == MERR_NOT_FOUND ? "no such transaction" : NULL);
		return;
	}
	struct pay_refund *fs;
	int nf = payment_refunds(req_db(r), id, &fs);
	if (nf < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_txn(&w, &t, fs, nf, is_admin(r));
	free(fs);
	reply_end(r, status);
}

static void get_transaction(struct req *r)
{
	int64_t id;
	if (req_param_id(r, "id", &id))
		reply_txn(r, id, 200, true);
}

static void process_payment(struct req *r)
{
	static const char *const fields[] = {"order_id", "order_number", "payment", NULL};
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	if (payment_json_has_pan(j)) {
		reply_error(r, MERR_VALIDATION, "payment",
			    "card numbers are not accepted; send the gateway's token (e.g. tok_visa)");
		return;
	}
	struct verr e;
	int64_t order_id;
	const char *number;
	json_t *payment;
	if (!jsonin_int(j, "order_id", false, 1, INT64_MAX, 0, &order_id, &e) ||
	    !jsonin_str(j, "order_number", false, 1, 48, NULL, &number, &e) ||
	    !jsonin_obj(j, "payment", true, &payment, &e)) {
		reply_verr(r, &e);
		return;
	}
	if (!order_id && !number) {
		reply_error(r, MERR_VALIDATION, "order_id", "order_id or order_number is required");
		return;
	}
	struct pay_charge c = {.user_id = r->auth.sub, .payment = payment,
			       .idempotency_key = req_header(r, "Idempotency-Key"), .client_ip = r->client_ip};
	struct pay_order_result o;
	if (payment_process_order(req_db(r), order_id, number, is_admin(r), &c, &o, &e) != MERR_OK) {
		reply_domain(r, &e);
		return;
	}
	if (c.status == PAY_DECLINED) {
		reply_error(r, MERR_PAYMENT_DECLINED, "payment", c.message[0] ? c.message : NULL);
		return;
	}
	struct pay_txn t;
	if (payment_txn_get(req_db(r), c.transaction_id, &t) != MERR_OK) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kint(&w, "order_id", o.order_id);
	jw_kstr(&w, "order_number", o.order_number);
	jw_kstr(&w, "payment_status", o.payment_status);
	jw_kint(&w, "transaction_id", t.id);
	jw_key(&w, "transaction");
	write_txn(&w, &t, NULL, 0, is_admin(r));
	jw_obj_end(&w);
	/* the gateway did not answer in time: accepted, outcome to follow */
	reply_end(r, c.status == PAY_UNKNOWN ? 202 : 201);
}

static void refund(struct req *r)
{
	static const char *const fields[] = {"amount", "reason", NULL};
	int64_t id;
	if (!req_param_id(r, "transaction_id", &id))
		return;
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	struct verr e;
	int64_t amount;
	const char *reason;
	if (!jsonin_int(j, "amount", false, 1, INT64_MAX / 4, 0, &amount, &e) ||
	    !jsonin_str(j, "reason", false, 0, 200, "", &reason, &e)) {
		reply_verr(r, &e);
		return;
	}
	struct pay_refund f;
	if (payment_refund(req_db(r), id, amount, reason, r->auth.sub, req_header(r, "Idempotency-Key"), &f,
			   &e) != MERR_OK) {
		reply_domain(r, &e);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_refund(&w, &f);
	reply_end(r, 201);
}

/* --- subscriptions ----------------------------------------------------------------- */

static void list_plans(struct req *r)
{
	const struct market *mk = market_or_400(r, req_query(r, "market"), false);
	if (!mk)
		return;
	struct plan *ps;
	int n = sub_plans(req_db(r), mk, &ps);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	list_open(r, &w);
	for (int i = 0; i < n; i++) {
		jw_obj(&w);
		jw_kint(&w, "id", ps[i].id);
		jw_kstr(&w, "market", ps[i].market);
		jw_kstr(&w, "code", ps[i].code);
		jw_kstr(&w, "name", ps[i].name);
		jw_kstr(&w, "description", ps[i].description);
		jw_money(&w, "price", ps[i].price, ps[i].currency);
		jw_kstr(&w, "currency", ps[i].currency);
		jw_kint(&w, "interval_days", ps[i].interval_days);
		jw_obj_end(&w);
	}
	list_end(r, &w, false, 0);
	free(ps);
}

static void write_sub(struct jw *w, const struct sub *s)
{
	jw_obj(w);
	jw_kint(w, "id", s->id);
	jw_kstr(w, "user_id", s->user_id);
	jw_kint(w, "plan_id", s->plan_id);
	jw_kstr(w, "plan_code", s->plan_code);
	jw_kstr(w, "plan_name", s->plan_name);
	jw_kstr(w, "market", s->market);
	jw_money(w, "price", s->price, s->currency);
	jw_kstr(w, "currency", s->currency);
	jw_kint(w, "payment_method_id", s->payment_method_id);
	jw_kstr(w, "status", s->status);
	jw_kbool(w, "cancel_at_period_end", s->cancel_at_period_end);
	jw_time(w, "current_period_start", s->current_period_start);
	jw_time(w, "current_period_end", s->current_period_end);
	jw_kint(w, "failed_attempts", s->failed_attempts);
	jw_time(w, "next_retry_at", s->next_retry_at);
	jw_time(w, "canceled_at", s->canceled_at);
	if (s->last_transaction_id)
		jw_kint(w, "last_transaction_id", s->last_transaction_id);
	jw_time(w, "created_at", s->created_at);
	jw_obj_end(w);
}

static void create_subscription(struct req *r)
{
	static const char *const fields[] = {"plan_id", "market", "payment_method_id", NULL};
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	struct verr e;
	int64_t plan, method;
	const char *market;
	if (!jsonin_int(j, "plan_id", true, 1, INT64_MAX, 0, &plan, &e) ||
	    !jsonin_str(j, "market", true, 2, 2, NULL, &market, &e) ||
	    !jsonin_int(j, "payment_method_id", true, 1, INT64_MAX, 0, &method, &e)) {
		reply_verr(r, &e);
		return;
	}
	const struct market *mk = market_or_400(r, market, true);
	if (!mk)
		return;
	struct sub s;
	if (sub_create(req_db(r), r->auth.sub, mk, plan, method, r->client_ip, req_header(r, "Idempotency-Key"),
		       &s, &e) != MERR_OK) {
		reply_domain(r, &e);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_sub(&w, &s);
	reply_end(r, 201);
}

static void list_subscriptions(struct req *r)
{
	const char *user = req_param(r, "user_id");
	int64_t limit, before;
	if (!owner_or_403(r, user) || !id_page_or_400(r, &limit, &before))
		return;
	struct sub *ss;
	int n = sub_list(req_db(r), user, before, limit + 1, &ss);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	bool more;
	n = list_begin(r, &w, n, limit, &more);
	for (int i = 0; i < n; i++)
		write_sub(&w, &ss[i]);
	list_end(r, &w, more, n ? ss[n - 1].id : 0);
	free(ss);
}

static void cancel_subscription(struct req *r)
{
	static const char *const fields[] = {"at_period_end", NULL};
	int64_t id;
	if (!req_param_id(r, "id", &id))
		return;
	json_t *j = r->body.len ? req_json_or_400(r, fields) : NULL;
	if (r->body.len && !j)
		return;
	struct verr e;
	bool at_end = false;
	if (j && !jsonin_bool(j, "at_period_end", false, false, &at_end, &e)) {
		reply_verr(r, &e);
		return;
	}
	struct sub s;
	enum merr rc = sub_get(req_db(r), id, &s);
	if (rc == MERR_OK && !is_admin(r) && strcmp(s.user_id, r->auth.sub) != 0)
		rc = MERR_NOT_FOUND;
	if (rc != MERR_OK) {
		reply_error(r, rc, NULL, rc == MERR_NOT_FOUND ? "no such subscription" : NULL);
		return;
	}
	if (sub_cancel(req_db(r), id, at_end, &s, &e) != MERR_OK) {
		reply_domain(r, &e);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_sub(&w, &s);
	reply_end(r, 200);
}

/* --- fraud reviews ------------------------------------------------------------------ */

static void write_review(struct jw *w, const struct pay_review *v)
{
	jw_obj(w);
	jw_kint(w, "id", v->id);
	jw_kint(w, "transaction_id", v->transaction_id);
	if (v->order_id)
		jw_kint(w, "order_id", v->order_id);
	else
		jw_knull(w, "order_id");
	jw_kstr(w, "user_id", v->user_id);
	jw_kstr(w, "gateway", v->gateway);
	jw_money(w, "amount", v->amount, v->currency);
	jw_kstr(w, "currency", v->currency);
	jw_kint(w, "score", v->score);
	jw_key(w, "reasons");
	jw_raw(w, v->reasons, strlen(v->reasons));
	jw_kstr(w, "status", v->status);
	kstr_or_null(w, "decided_by", v->decided_by);
	jw_time(w, "decided_at", v->decided_at);
	kstr_or_null(w, "note", v->note);
	jw_time(w, "created_at", v->created_at);
	jw_obj_end(w);
}

static void list_reviews(struct req *r)
{
	const char *status = req_query(r, "status");
	if (status && strcmp(status, "pending") != 0 && strcmp(status, "approved") != 0 &&
	    strcmp(status, "rejected") != 0) {
		reply_error(r, MERR_VALIDATION, "status", "status must be pending, approved or rejected");
		return;
	}
	int64_t limit, after;
	if (!id_page_or_400(r, &limit, &after))
		return;
	struct pay_review *vs;
	int n = payment_reviews(req_db(r), status, after, limit + 1, &vs);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	bool more;
	n = list_begin(r, &w, n, limit, &more);
	for (int i = 0; i < n; i++)
		write_review(&w, &vs[i]);
	list_end(r, &w, more, n ? vs[n - 1].id : 0);
	free(vs);
}

static void decide_review(struct req *r)
{
	static const char *const fields[] = {"decision", "note", NULL};
	int64_t id;
	if (!req_param_id(r, "id", &id))
		return;
	json_t *j = req_json_or_400(r, fields);
	if (!j)
		return;
	struct verr e;
	const char *decision, *note;
	if (!jsonin_str(j, "decision", true, 1, 16, NULL, &decision, &e) ||
	    !jsonin_str(j, "note", false, 0, 200, NULL, &note, &e)) {
		reply_verr(r, &e);
		return;
	}
	bool approve = strcmp(decision, "approve") == 0;
	if (!approve && strcmp(decision, "reject") != 0) {
		reply_error(r, MERR_VALIDATION, "decision", "decision must be approve or reject");
		return;
	}
	struct pay_review v;
	if (payment_review_decide(req_db(r), id, approve, r->auth.sub, note, &v, &e) != MERR_OK) {
		reply_domain(r, &e);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	write_review(&w, &v);
	reply_end(r, 200);
}

/* --- gateway health --------------------------------------------------------------- */

static void gateway_health(struct req *r)
{
	struct pay_gateway_health *h;
	int n = payment_gateway_health(req_db(r), time_now(), &h);
	if (n < 0) {
		reply_error(r, MERR_INTERNAL, NULL, NULL);
		return;
	}
	struct jw w;
	list_open(r, &w);
	for (int i = 0; i < n; i++) {
		int64_t calls = h[i].successes + h[i].failures;
		jw_obj(&w);
		jw_kstr(&w, "market", h[i].market);
		jw_kstr(&w, "gateway", h[i].code);
		jw_kstr(&w, "kind", h[i].kind);
		jw_kint(&w, "successes", h[i].successes);
		jw_kint(&w, "failures", h[i].failures);
		jw_kreal(&w, "success_rate", calls ? (double)h[i].successes / (double)calls : 1.0);
		jw_kint(&w, "avg_latency_us", h[i].avg_latency_us);
		jw_kint(&w, "avg_processing_us", h[i].avg_processing_us);
		jw_kint(&w, "window_attempts", h[i].window_attempts);
		jw_kint(&w, "window_failures", h[i].window_failures);
		jw_kstr(&w, "circuit", h[i].breaker_open ? "open" : "closed");
		jw_obj_end(&w);
	}
	list_end(r, &w, false, 0);
	free(h);
}

/* --- webhooks -------------------------------------------------------------------- */

static void webhook(struct req *r)
{
	const char *gateway = req_param(r, "gateway");
	const char *header = payment_webhook_signature_header(gateway);
	if (!header) {
		reply_error(r, MERR_NOT_FOUND, "gateway", "this gateway sends no webhooks");
		return;
	}
	struct pay_webhook_result res;
	struct verr e;
	const char *body = r->body.p ? r->body.p : "";
	if (payment_webhook(req_db(r), gateway, body, r->body.len, req_header(r, header),
			    req_header(r, "X-Razorpay-Event-Id"), &res, &e) != MERR_OK) {
		reply_domain(r, &e);
		return;
	}
	struct jw w;
	reply_begin(r, &w);
	jw_obj(&w);
	jw_kbool(&w, "received", true);
	jw_kbool(&w, "duplicate", res.duplicate);
	jw_kstr(&w, "type", res.type);
	if (res.transaction_id) {
		jw_kint(&w, "transaction_id", res.transaction_id);
		jw_kstr(&w, "status", res.status);
	}
	jw_obj_end(&w);
	reply_end(r, 200);
}

const struct route routes_payments[] = {
	{"GET", "/api/payments/methods", list_methods, ROLE_PUBLIC, RF_AUTH_OPTIONAL, "A market's payment options and your saved methods"},
	{"POST", "/api/payments/methods", create_method, ROLE_CUSTOMER, RF_NONE, "Save a payment method (gateway token)"},
	{"PUT", "/api/payments/methods/{id}", update_method, ROLE_CUSTOMER, RF_NONE, "Rename a saved method or make it the default"},
	{"POST", "/api/payments/process", process_payment, ROLE_CUSTOMER, RF_IDEMPOTENT, "Pay an unpaid order"},
	{"GET", "/api/payments/transaction/{id}", get_transaction, ROLE_CUSTOMER, RF_NONE, "A transaction with its refunds"},
	{"POST", "/api/payments/refund/{transaction_id}", refund, ROLE_ADMIN, RF_IDEMPOTENT, "Refund all or part of a transaction (admin)"},
	{"GET", "/api/payments/plans", list_plans, ROLE_PUBLIC, RF_NONE, "A market's subscription plans"},
	{"POST", "/api/payments/subscriptions", create_subscription, ROLE_CUSTOMER, RF_IDEMPOTENT, "Subscribe to a plan"},
	{"GET", "/api/payments/subscriptions/{user_id}", list_subscriptions, ROLE_CUSTOMER, RF_NONE, "A user's subscriptions"},
	{"PUT", "/api/payments/subscriptions/{id}/cancel", cancel_subscription, ROLE_CUSTOMER, RF_NONE, "Cancel a subscription now or at period end"},
	{"GET", "/api/payments/reviews", list_reviews, ROLE_ADMIN, RF_NONE, "Fraud review queue (admin)"},
	{"PUT", "/api/payments/reviews/{id}", decide_review, ROLE_ADMIN, RF_NONE, "Approve or reject a held payment (admin)"},
	{"GET", "/api/payments/gateways", gateway_health, ROLE_ADMIN, RF_NONE, "Gateway health and circuit state (admin)"},
	{"POST", "/api/payments/webhooks/{gateway}", webhook, ROLE_PUBLIC, RF_RAW_BODY, "Gateway webhooks (signed)"},
	{0},
};
