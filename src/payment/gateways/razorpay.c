/*
 * Razorpay. Sandbox: Razorpay's test VPAs success@razorpay (pays) and
 * failure@razorpay (fails), saved-card tokens (token_…) and payments already
 * authorised in Razorpay Checkout (pay_…). Live (an rzp_live_ key): Orders
 * API, then capture of the Checkout payment or an S2S UPI collect request,
 * refunds; basic auth with key id and secret.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "payment/gateway.h"
#include "payment/live.h"

#define TEST_SUCCESS_VPA "success@razorpay"
#define TEST_FAILURE_VPA "failure@razorpay"

bool razorpay_live(void)
{
	return cfg.razorpay_key_id && strncmp(cfg.razorpay_key_id, "rzp_live_", 9) == 0;
}

static bool check(json_t *payment, struct verr *e)
{
	static const char *const keys[] = {"vpa", "token", "payment_id", NULL};
	if (!gw_only(payment, keys, e))
		return false;
	int n = !!gw_str(payment, "vpa") + !!gw_str(payment, "token") + !!gw_str(payment, "payment_id");
	if (n != 1)
		return verr_set(e, MERR_VALIDATION, "payment",
				"razorpay takes exactly one of payment.vpa, payment.token, payment.payment_id");
	const char *vpa = gw_str(payment, "vpa");
	if (vpa && (!strchr(vpa, '@') || strlen(vpa) < 3))
		return verr_set(e, MERR_VALIDATION, "payment.vpa", "payment.vpa must look like name@bank");
	const char *tok = gw_str(payment, "token");
	if (tok && strncmp(tok, "token_", 6) != 0)
		return verr_set(e, MERR_VALIDATION, "payment.token", "payment.token must be a Razorpay token (token_…)");
	const char *pid = gw_str(payment, "payment_id");
	if (pid && strncmp(pid, "pay_", 4) != 0)
		return verr_set(e, MERR_VALIDATION, "payment.payment_id",
				"payment.payment_id must be a Razorpay payment id (pay_…)");
	return true;
}

static void describe(const char *gateway, json_t *p, struct gw_res *out)
{
	const char *vpa = gw_str(p, "vpa"), *tok = gw_str(p, "token"), *pid = gw_str(p, "payment_id");
	gw_copy(out->brand, sizeof(out->brand), vpa ? "upi" : "card");
	const char *id = vpa ? vpa : tok ? tok : pid;
	size_t n = strlen(id);
	if (!vpa)
		gw_copy(out->last4, sizeof(out->last4), n >= 4 ? id + n - 4 : id);
	gw_fingerprint(out->fingerprint, sizeof(out->fingerprint), "razorpay", id);
	(void)gateway;
}

/* --- live ------------------------------------------------------------------- */

static void auth(char *out, size_t n)
{
	live_basic_auth(out, n, cfg.razorpay_key_id, cfg.razorpay_key_secret);
}

static enum gw_outcome live_outcome(struct live_resp *r, struct gw_res *out)
{
	if (r->status == 401 || r->status == 403)
		return gw_decline(out, "GATEWAY_ERROR", "The payment could not be processed."), GW_ERROR;
	if (r->status == 0 || r->status >= 500 || r->status == 429)
		return gw_decline(out, "GATEWAY_ERROR",
				  r->status ? "Razorpay is unavailable." : "Razorpay did not answer in time."),
		       GW_ERROR;
	json_t *err = json_object_get(r->json, "error");
	if (r->status >= 400 || err) {
		const char *reason = json_string_value(json_object_get(err, "reason"));
		const char *code = json_string_value(json_object_get(err, "code"));
		const char *desc = json_string_value(json_object_get(err, "description"));
		gw_decline(out, reason ? reason : code ? code : "payment_failed", desc ? desc : "Payment failed");
		return r->status == 400 && reason ? GW_DECLINED : r->status == 400 ? GW_INVALID : GW_DECLINED;
	}
	const char *id = json_string_value(json_object_get(r->json, "id"));
	if (!id)
		id = json_string_value(json_object_get(r->json, "razorpay_payment_id"));
	gw_copy(out->ref, sizeof(out->ref), id);
	const char *status = json_string_value(json_object_get(r->json, "status"));
	if (!status || strcmp(status, "created") == 0 || strcmp(status, "pending") == 0)
		return GW_PENDING;
	if (strcmp(status, "captured") == 0 || strcmp(status, "processed") == 0 ||
	    strcmp(status, "paid") == 0)
		return GW_CAPTURED;
	if (strcmp(status, "authorized") == 0)
		return GW_AUTHORISED;
	return gw_decline(out, "payment_failed", "Payment failed");
}

/* POST body to path. moves_money: the call may take the customer's money,
 * so a timeout after the request went out is GW_UNKNOWN, not GW_ERROR. */
static enum gw_outcome post_json(const char *path, json_t *body, const char *idem, bool moves_money,
				 struct gw_res *out)
{
	char u[512], a[512];
	snprintf(u, sizeof(u), "%s%s", cfg.razorpay_api_base, path);
	auth(a, sizeof(a));
	char *text = json_dumps(body, JSON_COMPACT);
	struct live_resp r;
	live_call("POST", u, a, "application/json", text, idem, &r);
	free(text);
	out->live = true;
	char ref[96];
	gw_copy(ref, sizeof(ref), out->ref);
	enum gw_outcome o = live_outcome(&r, out);
	if (moves_money && r.status == 0 && r.maybe_sent) {
		gw_copy(out->ref, sizeof(out->ref), ref); /* what reconcile looks up */
		gw_decline(out, "", "Razorpay did not answer in time.");
		o = GW_UNKNOWN;
	}
	live_resp_free(&r);
	return o;
}

static enum gw_outcome live_authorise(const struct gw_req *q, struct gw_res *out)
{
	json_t *order = json_pack("{sI ss ss sb}", "amount", (json_int_t)q->amount, "currency",
				  q->currency, "receipt", q->description ? q->description : "mandi",
				  "payment_capture", q->capture);
	/* creating an order takes no money: a timeout here is a plain failure */
	enum gw_outcome o = post_json("/v1/orders", order, q->idempotency_key, false, out);
	json_decref(order);
	if (o != GW_PENDING && o != GW_CAPTURED)
		return o;
	char order_id[96];
	gw_copy(order_id, sizeof(order_id), out->ref);
	const char *vpa = gw_str(q->payment, "vpa"), *pid = gw_str(q->payment, "payment_id");
	if (pid) {
		char path[200];
		snprintf(path, sizeof(path), "/v1/payments/%s/capture", pid);
		json_t *b = json_pack("{sI ss}", "amount", (json_int_t)q->amount, "currency", q->currency);
		gw_copy(out->ref, sizeof(out->ref), pid);
		o = post_json(path, b, NULL, true, out);
		json_decref(b);
		return o;
	}
	json_t *b = json_pack("{sI ss ss ss ss}", "amount", (json_int_t)q->amount, "currency", q->currency,
			      "order_id", order_id, "method", vpa ? "upi" : "card",
			      vpa ? "vpa" : "token", vpa ? vpa : gw_str(q->payment, "token"));
	if (vpa)
		json_object_set_new(b, "flow", json_string("collect"));
	o = post_json(vpa ? "/v1/payments/create/upi" : "/v1/payments/create/json", b, NULL, true, out);
	json_decref(b);
	return o;
}

/* The outcome one Razorpay payment entity stands for; a payment that is
 * authorised but not captured is captured now when the charge wanted it. */
static enum gw_outcome payment_entity(const struct gw_req *q, json_t *p, struct gw_res *out)
{
	const char *id = json_string_value(json_object_get(p, "id"));
	const char *status = json_string_value(json_object_get(p, "status"));
	gw_copy(out->ref, sizeof(out->ref), id);
	if (!status)
		return GW_UNKNOWN;
	if (strcmp(status, "captured") == 0 || strcmp(status, "refunded") == 0)
		return GW_CAPTURED;
	if (strcmp(status, "authorized") == 0)
		return q->capture && id ? razorpay_capture(id, q->amount, q->currency, out) : GW_AUTHORISED;
	if (strcmp(status, "created") == 0 || strcmp(status, "pending") == 0)
		return GW_PENDING;
	const char *desc = json_string_value(json_object_get(p, "error_description"));
	const char *reason = json_string_value(json_object_get(p, "error_reason"));
	return gw_decline(out, reason ? reason : "payment_failed", desc ? desc : "Payment failed");
}

/* Which payment entity of an order's list decides it: captured before
 * authorised before created, failed only when nothing else is there. */
static int rank(json_t *p)
{
	static const char *const order[] = {"captured", "refunded", "authorized", "created", "pending", NULL};
	const char *status = json_string_value(json_object_get(p, "status"));
	for (int i = 0; status && order[i]; i++)
		if (strcmp(order[i], status) == 0)
			return 10 - i;
	return 0;
}

/*
 * Razorpay has no idempotent replay of a payment request, but every payment
 * belongs to the order we created first: GET /v1/orders/{id}/payments lists
 * them (none: the payment request never took effect, so nothing was
 * charged). A Checkout payment we were capturing (pay_…) is read directly.
 */
enum gw_outcome razorpay_reconcile(const struct gw_req *q, const char *ref, struct gw_res *out)
{
	if (!razorpay_live() || !ref || !*ref)
		return gw_decline(out, "GATEWAY_ERROR", "Nothing to look up at Razorpay."), GW_ERROR;
	bool one = strncmp(ref, "pay_", 4) == 0;
	char u[512], a[512];
	snprintf(u, sizeof(u), "%s/v1/%s/%s%s", cfg.razorpay_api_base, one ? "payments" : "orders", ref,
		 one ? "" : "/payments");
	auth(a, sizeof(a));
	struct live_resp r;
	live_call("GET", u, a, NULL, NULL, NULL, &r);
	out->live = true;
	enum gw_outcome o;
	if (r.status != 200 || !json_is_object(r.json)) {
		gw_decline(out, "GATEWAY_ERROR", r.status ? "Razorpay could not say." : "Razorpay did not answer in time.");
		o = GW_UNKNOWN;
	} else if (one) {
		o = payment_entity(q, r.json, out);
	} else {
		json_t *items = json_object_get(r.json, "items"), *best = NULL, *p;
		size_t i;
		json_array_foreach(items, i, p) {
			if (!best || rank(p) > rank(best))
				best = p;
		}
		if (best)
			o = payment_entity(q, best, out);
		else
			o = gw_decline(out, "payment_failed", "No payment was made for this order.");
		if (!best)
			gw_copy(out->ref, sizeof(out->ref), ref);
	}
	live_resp_free(&r);
	return o;
}

/* --- sandbox ---------------------------------------------------------------- */

enum gw_outcome razorpay_authorise_as(const char *gateway, const struct gw_req *q, struct gw_res *out)
{
	describe(gateway, q->payment, out);
	if (razorpay_live())
		return live_authorise(q, out);
	const char *vpa = gw_str(q->payment, "vpa");
	const char *flow = gw_str(q->payment, "flow");
	gw_ref(out->ref, sizeof(out->ref), "pay");
	if (vpa && strcmp(vpa, TEST_FAILURE_VPA) == 0)
		return gw_decline(out, "payment_failed", "Payment failed");
	if (vpa && strcmp(vpa, TEST_SUCCESS_VPA) != 0)
		return gw_decline(out, "invalid_vpa", "Invalid VPA. Please enter a valid Virtual Payment Address");
	if (flow && strcmp(flow, "collect") == 0)
		return GW_PENDING; /* the customer approves in their UPI app; a webhook says how it ended */
	return q->capture ? GW_CAPTURED : GW_AUTHORISED;
}

enum gw_outcome razorpay_capture(const char *ref, int64_t amount, const char *currency,
				 struct gw_res *out)
{
	gw_copy(out->ref, sizeof(out->ref), ref);
	if (!razorpay_live())
		return GW_CAPTURED;
	char path[200];
	snprintf(path, sizeof(path), "/v1/payments/%s/capture", ref);
	json_t *b = json_pack("{sI ss}", "amount", (json_int_t)amount, "currency", currency);
	enum gw_outcome o = post_json(path, b, NULL, false, out);
	json_decref(b);
	return o;
}

enum gw_outcome razorpay_refund(const char *ref, int64_t amount, const char *currency,
				const char *idempotency_key, struct gw_res *out)
{
	(void)currency;
	if (!razorpay_live()) {
		gw_ref(out->ref, sizeof(out->ref), "rfnd");
		return GW_CAPTURED;
	}
	char path[200];
	snprintf(path, sizeof(path), "/v1/payments/%s/refund", ref);
	json_t *b = json_pack("{sI}", "amount", (json_int_t)amount);
	enum gw_outcome o = post_json(path, b, idempotency_key, false, out);
	json_decref(b);
	return o == GW_PENDING ? GW_CAPTURED : o;
}

/*
 * X-Razorpay-Signature: hex HMAC-SHA256(webhook secret, raw body), compared
 * in constant time. The event id comes in X-Razorpay-Event-Id.
 */
bool razorpay_verify_webhook(const char *body, size_t len, const char *sig, const char *event_id,
			     int64_t now, struct gw_event *ev, char *why, size_t whylen)
{
	(void)now; /* Razorpay signs no timestamp; replays are caught by the event id */
	const char *secret = cfg.razorpay_webhook_secret;
	if (!secret || !*secret) {
		snprintf(why, whylen, "no RAZORPAY_WEBHOOK_SECRET configured");
		return false;
	}
	char hex[65];
	if (!sig || strlen(sig) != 64 || !gw_hmac_sha256_hex(secret, body, len, NULL, 0, hex) ||
	    CRYPTO_memcmp(sig, hex, 64) != 0) {
		snprintf(why, whylen, "X-Razorpay-Signature does not match");
		return false;
	}
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *type = json_string_value(json_object_get(j, "event"));
	json_t *ent = json_object_get(json_object_get(json_object_get(j, "payload"), "payment"), "entity");
	const char *ref = json_string_value(json_object_get(ent, "id"));
	if (!type || !ref) {
		json_decref(j);
		snprintf(why, whylen, "event without type or payment");
		return false;
	}
	gw_copy(ev->type, sizeof(ev->type), type);
	gw_copy(ev->ref, sizeof(ev->ref), ref);
	if (event_id && *event_id)
		gw_copy(ev->id, sizeof(ev->id), event_id);
	else
		snprintf(ev->id, sizeof(ev->id), "%s:%s", type, ref);
	ev->paid = strcmp(type, "payment.captured") == 0;
	ev->failed = strcmp(type, "payment.failed") == 0;
	const char *desc = json_string_value(json_object_get(ent, "error_description"));
	gw_copy(ev->message, sizeof(ev->message), desc ? desc : ev->failed ? "Payment failed" : "");
	json_decref(j);
	return true;
}

static enum gw_outcome authorise(const struct gw_req *q, struct gw_res *out)
{
	return razorpay_authorise_as("razorpay", q, out);
}

static bool health(void)
{
	return !razorpay_live() || (cfg.razorpay_key_secret && *cfg.razorpay_key_secret);
}

const struct gateway gw_razorpay = {
	.code = "razorpay",
	.check = check,
	.authorise = authorise,
	.capture = razorpay_capture,
	.refund = razorpay_refund,
	.verify_webhook = razorpay_verify_webhook,
	.signature_header = "X-Razorpay-Signature",
	.health = health,
	.is_live = razorpay_live,
	.reconcile = razorpay_reconcile,
};
