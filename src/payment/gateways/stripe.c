/*
 * Stripe. Sandbox: Stripe's documented test tokens (tok_visa …,
 * tok_chargeDeclined…) with Stripe's decline codes and messages. Live (an
 * sk_live_ key): PaymentIntents and Refunds over the REST API, form-encoded,
 * Bearer secret key, Idempotency-Key passed through.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/strconv.h"
#include "payment/gateway.h"
#include "payment/live.h"

#define STRIPE_TOLERANCE_S 300

/* https://docs.stripe.com/testing: tokens, the card behind them, and the
 * outcome Stripe's test mode gives (decline_code NULL = succeeds) */
static const struct test_token {
	const char *token, *brand, *last4, *code, *decline_code, *message;
} tokens[] = {
	{"tok_visa", "visa", "4242", NULL, NULL, NULL},
	{"tok_visa_debit", "visa", "5556", NULL, NULL, NULL},
	{"tok_mastercard", "mastercard", "4444", NULL, NULL, NULL},
	{"tok_mastercard_debit", "mastercard", "8210", NULL, NULL, NULL},
	{"tok_mastercard_prepaid", "mastercard", "5100", NULL, NULL, NULL},
	{"tok_amex", "amex", "8431", NULL, NULL, NULL},
	{"tok_discover", "discover", "1117", NULL, NULL, NULL},
	{"tok_diners", "diners", "0004", NULL, NULL, NULL},
	{"tok_jcb", "jcb", "0000", NULL, NULL, NULL},
	{"tok_unionpay", "unionpay", "0005", NULL, NULL, NULL},
	{"tok_in", "visa", "0008", NULL, NULL, NULL},
	{"tok_chargeDeclined", "visa", "0002", "card_declined", "generic_decline",
	 "Your card was declined."},
	{"tok_chargeDeclinedInsufficientFunds", "visa", "9995", "card_declined", "insufficient_funds",
	 "Your card has insufficient funds."},
	{"tok_chargeDeclinedLostCard", "visa", "9987", "card_declined", "lost_card",
	 "Your card was declined."},
	{"tok_chargeDeclinedStolenCard", "visa", "9979", "card_declined", "stolen_card",
	 "Your card was declined."},
	{"tok_chargeDeclinedFraudulent", "visa", "0019", "card_declined", "fraudulent",
	 "Your card was declined."},
	{"tok_chargeDeclinedExpiredCard", "visa", "0069", "expired_card", "expired_card",
	 "Your card has expired."},
	{"tok_chargeDeclinedIncorrectCvc", "visa", "0127", "incorrect_cvc", "incorrect_cvc",
	 "Your card's security code is incorrect."},
	{"tok_chargeDeclinedProcessingError", "visa", "0119", "processing_error", "processing_error",
	 "An error occurred while processing your card. Try again in a little bit."},
	{"tok_visa_chargeDeclinedVelocityLimitExceeded", "visa", "6975", "card_declined",
	 "card_velocity_exceeded", "Your card was declined."},
	/* 3D Secure 2 required: the PaymentIntent waits (requires_action)
	 * until the customer authenticates; a webhook tells the outcome */
	{"tok_threeDSecure2Required", "visa", "3220", "requires_action", NULL, NULL},
	/* attaching (a zero-amount verification) succeeds, charges fail */
	{"tok_chargeCustomerFail", "visa", "0341", "card_declined", "generic_decline",
	 "Your card was declined."},
};

static const struct test_token *find_token(const char *t)
{
	if (!t)
		return NULL;
	/* pm_card_visa is the PaymentMethod form of tok_visa */
	char alt[96];
	if (strncmp(t, "pm_card_", 8) == 0) {
		snprintf(alt, sizeof(alt), "tok_%s", t + 8);
		t = alt;
	}
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
		if (strcmp(tokens[i].token, t) == 0)
			return &tokens[i];
	return NULL;
}

bool stripe_live(void)
{
	return cfg.stripe_secret_key && strncmp(cfg.stripe_secret_key, "sk_live_", 8) == 0;
}

bool stripe_check(json_t *payment, struct verr *e)
{
	static const char *const keys[] = {"token", NULL};
	if (!gw_only(payment, keys, e))
		return false;
	const char *t = gw_str(payment, "token");
	if (!t || (strncmp(t, "tok_", 4) != 0 && strncmp(t, "pm_", 3) != 0))
		return verr_set(e, MERR_VALIDATION, "payment.token",
				"payment.token must be a Stripe token (tok_…) or PaymentMethod (pm_…)");
	return true;
}

/* --- live ------------------------------------------------------------------- */

static void url(char *out, size_t n, const char *path)
{
	snprintf(out, n, "%s%s", cfg.stripe_api_base, path);
}

static void bearer(char *out, size_t n)
{
	snprintf(out, n, "Bearer %s", cfg.stripe_secret_key);
}

/* Map a Stripe response to an outcome: errors carry code/decline_code/message. */
static enum gw_outcome live_outcome(struct live_resp *r, struct gw_res *out)
{
	/* our credentials refused is our failure, not the customer's card */
	if (r->status == 401 || r->status == 403)
		return gw_decline(out, "processing_error", "The payment could not be processed."), GW_ERROR;
	if (r->status == 0 || r->status >= 500 || r->status == 429)
		return gw_decline(out, "processing_error",
				  r->status ? "The gateway is unavailable. Try again in a little bit."
					    : "The gateway did not answer in time."),
		       GW_ERROR;
	json_t *err = json_object_get(r->json, "error");
	if (err) {
		const char *code = json_string_value(json_object_get(err, "decline_code"));
		if (!code)
			code = json_string_value(json_object_get(err, "code"));
		const char *msg = json_string_value(json_object_get(err, "message"));
		const char *type = json_string_value(json_object_get(err, "type"));
		json_t *pi = json_object_get(err, "payment_intent");
		if (pi)
			gw_copy(out->ref, sizeof(out->ref), json_string_value(json_object_get(pi, "id")));
		gw_decline(out, code ? code : "card_declined", msg ? msg : "Your card was declined.");
		if (type && strcmp(type, "card_error") == 0)
			return GW_DECLINED;
		return r->status == 402 ? GW_DECLINED : GW_INVALID;
	}
	const char *id = json_string_value(json_object_get(r->json, "id"));
	const char *status = json_string_value(json_object_get(r->json, "status"));
	gw_copy(out->ref, sizeof(out->ref), id);
	if (!status)
		return gw_decline(out, "processing_error", "Unexpected answer from Stripe."), GW_ERROR;
	if (strcmp(status, "succeeded") == 0)
		return GW_CAPTURED;
	if (strcmp(status, "requires_capture") == 0)
		return GW_AUTHORISED;
	if (strcmp(status, "processing") == 0 || strcmp(status, "requires_action") == 0 ||
	    strcmp(status, "pending") == 0)
		return GW_PENDING;
	if (strcmp(status, "canceled") == 0)
		return GW_CAPTURED; /* a cancelled authorisation is a completed void */
	return gw_decline(out, "card_declined", "Your card was declined.");
}

static void lower(char *dst, size_t n, const char *s)
{
	size_t i = 0;
	for (; s && s[i] && i + 1 < n; i++)
		dst[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	dst[i] = 0;
}

/* Create and confirm a PaymentIntent; replay: the same request again to
 * learn how the first one ended (stripe_reconcile). */
static enum gw_outcome live_authorise(const struct gw_req *q, bool replay, struct gw_res *out)
{
	const char *t = gw_str(q->payment, "token");
	char cur[8], u[512], auth[512];
	lower(cur, sizeof(cur), q->currency);
	struct live_form f;
	live_form_init(&f);
	live_form_addi(&f, "amount", q->amount);
	live_form_add(&f, "currency", cur);
	live_form_add(&f, "confirm", "true");
	live_form_add(&f, "capture_method", q->capture ? "automatic" : "manual");
	if (strncmp(t, "pm_", 3) == 0) {
		live_form_add(&f, "payment_method", t);
	} else {
		live_form_add(&f, "payment_method_data[type]", "card");
		live_form_add(&f, "payment_method_data[card][token]", t);
	}
	live_form_add(&f, "automatic_payment_methods[enabled]", "true");
	live_form_add(&f, "automatic_payment_methods[allow_redirects]", "never");
	if (q->description)
		live_form_add(&f, "description", q->description);
	url(u, sizeof(u), "/v1/payment_intents");
	bearer(auth, sizeof(auth));
	struct live_resp r;
	live_call("POST", u, auth, "application/x-www-form-urlencoded", f.b.p, q->idempotency_key, &r);
	live_form_free(&f);
	out->live = true;
	enum gw_outcome o = live_outcome(&r, out);
	/* the PaymentIntent may exist and be confirmed: only a retry with the
	 * same Idempotency-Key can tell (stripe_reconcile) */
	if (r.status == 0 && r.maybe_sent && q->idempotency_key) {
		gw_decline(out, "", "The gateway did not answer in time.");
		o = GW_UNKNOWN;
	}
	/* Stripe is still working on the first request with this key (409),
	 * or, when we are replaying it, refuses to (idempotency_error):
	 * neither says whether the first one charged */
	json_t *err = json_object_get(r.json, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *type = json_string_value(json_object_get(err, "type"));
	if ((r.status == 409 && code && strcmp(code, "idempotency_key_in_use") == 0) ||
	    (replay && type && strcmp(type, "idempotency_error") == 0))
		o = GW_UNKNOWN;
	const struct test_token *tt = find_token(t);
	gw_copy(out->brand, sizeof(out->brand), tt ? tt->brand : "card");
	gw_copy(out->last4, sizeof(out->last4), tt ? tt->last4 : "");
	gw_fingerprint(out->fingerprint, sizeof(out->fingerprint), "stripe", t);
	live_resp_free(&r);
	return o;
}

/*
 * Stripe keeps the result of a request with an Idempotency-Key for 24 hours:
 * sending the same PaymentIntent request with the same key again returns
 * the original outcome (succeeded, the decline, …) without charging twice,
 * and, when the first request never reached Stripe, makes it now. So
 * reconciling is repeating the request.
 */
enum gw_outcome stripe_reconcile(const struct gw_req *q, const char *ref, struct gw_res *out)
{
	(void)ref;
	if (!stripe_live() || !q->idempotency_key)
		return gw_decline(out, "processing_error", "Stripe is not configured for live payments."), GW_ERROR;
	return live_authorise(q, true, out);
}

/* --- sandbox ---------------------------------------------------------------- */

enum gw_outcome stripe_authorise_as(const char *gateway, const struct gw_req *q, struct gw_res *out)
{
	if (stripe_live())
		return live_authorise(q, false, out);
	const char *t = gw_str(q->payment, "token");
	const struct test_token *tt = find_token(t);
	if (!tt)
		return gw_decline(out, "resource_missing", "No such token: the token is not a Stripe test token."),
		       GW_INVALID;
	gw_copy(out->brand, sizeof(out->brand), tt->brand);
	gw_copy(out->last4, sizeof(out->last4), tt->last4);
	gw_fingerprint(out->fingerprint, sizeof(out->fingerprint), "stripe", tt->token);
	gw_ref(out->ref, sizeof(out->ref), "pi");
	(void)gateway;
	if (tt->code && strcmp(tt->code, "requires_action") == 0 && q->amount > 0)
		return GW_PENDING;
	if (tt->decline_code && !(q->amount == 0 && strcmp(tt->token, "tok_chargeCustomerFail") == 0)) {
		gw_decline(out, tt->decline_code, tt->message);
		/* Stripe asks to retry a processing_error: the failure is the gateway's */
		return strcmp(tt->code, "processing_error") == 0 ? GW_ERROR : GW_DECLINED;
	}
	return q->capture ? GW_CAPTURED : GW_AUTHORISED;
}

enum gw_outcome stripe_capture(const char *ref, int64_t amount, const char *currency,
			       struct gw_res *out)
{
	(void)currency;
	gw_copy(out->ref, sizeof(out->ref), ref);
	if (!stripe_live())
		return GW_CAPTURED;
	char path[160], u[512], auth[512];
	snprintf(path, sizeof(path), "/v1/payment_intents/%s/capture", ref);
	url(u, sizeof(u), path);
	bearer(auth, sizeof(auth));
	struct live_form f;
	live_form_init(&f);
	live_form_addi(&f, "amount_to_capture", amount);
	struct live_resp r;
	live_call("POST", u, auth, "application/x-www-form-urlencoded", f.b.p, NULL, &r);
	live_form_free(&f);
	enum gw_outcome o = live_outcome(&r, out);
	live_resp_free(&r);
	return o;
}

enum gw_outcome stripe_refund(const char *ref, int64_t amount, const char *currency,
			      const char *idempotency_key, struct gw_res *out)
{
	(void)currency;
	if (!stripe_live()) {
		gw_ref(out->ref, sizeof(out->ref), "re");
		return GW_CAPTURED;
	}
	char u[512], auth[512];
	url(u, sizeof(u), "/v1/refunds");
	bearer(auth, sizeof(auth));
	struct live_form f;
	live_form_init(&f);
	live_form_add(&f, "payment_intent", ref);
	live_form_addi(&f, "amount", amount);
	struct live_resp r;
	live_call("POST", u, auth, "application/x-www-form-urlencoded", f.b.p, idempotency_key, &r);
	live_form_free(&f);
	enum gw_outcome o = live_outcome(&r, out);
	live_resp_free(&r);
	/* a refund object's status "succeeded" or "pending" both mean accepted */
	return o == GW_PENDING ? GW_CAPTURED : o;
}

/* --- webhooks ------------------------------------------------------------- */

/*
 * Stripe-Signature: t=TIMESTAMP,v1=HEX[,v1=HEX…]. The expected signature is
 * HMAC-SHA256(secret, "t.body"); any v1 may match (secret rotation), compared
 * in constant time; t must be within 300 s of now.
 */
static bool verify(const char *body, size_t len, const char *sig, const char *event_id, int64_t now,
		   struct gw_event *ev, char *why, size_t whylen)
{
	(void)event_id; /* Stripe puts it in the body */
	const char *secret = cfg.stripe_webhook_secret;
	if (!secret || !*secret) {
		snprintf(why, whylen, "no STRIPE_WEBHOOK_SECRET configured");
		return false;
	}
	if (!sig) {
		snprintf(why, whylen, "missing Stripe-Signature header");
		return false;
	}
	int64_t t = -1;
	const char *p = sig;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n > 2 && p[0] == 't' && p[1] == '=')
			if (!parse_i64n(p + 2, n - 2, 0, INT64_MAX / 2, &t))
				t = -1;
		p += n;
		if (*p == ',')
			p++;
	}
	if (t < 0) {
		snprintf(why, whylen, "Stripe-Signature has no timestamp");
		return false;
	}
	if (t < now - STRIPE_TOLERANCE_S || t > now + STRIPE_TOLERANCE_S) {
		snprintf(why, whylen, "Stripe-Signature timestamp outside the tolerance");
		return false;
	}
	char ts[24];
	int tlen = snprintf(ts, sizeof(ts), "%lld.", (long long)t);
	char hex[2 * 32 + 1];
	if (!gw_hmac_sha256_hex(secret, ts, (size_t)tlen, body, len, hex)) {
		snprintf(why, whylen, "cannot compute HMAC");
		return false;
	}
	size_t mlen = 32;
	bool match = false;
	for (p = sig; *p;) {
		size_t n = strcspn(p, ",");
		if (n == 3 + 2 * mlen && strncmp(p, "v1=", 3) == 0 &&
		    CRYPTO_memcmp(p + 3, hex, 2 * mlen) == 0)
			match = true;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!match) {
		snprintf(why, whylen, "Stripe-Signature does not match");
		return false;
	}
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *type = json_string_value(json_object_get(j, "type"));
	json_t *obj = json_object_get(json_object_get(j, "data"), "object");
	const char *ref = json_string_value(json_object_get(obj, "id"));
	if (!id || !type) {
		json_decref(j);
		snprintf(why, whylen, "event without id or type");
		return false;
	}
	gw_copy(ev->id, sizeof(ev->id), id);
	gw_copy(ev->type, sizeof(ev->type), type);
	gw_copy(ev->ref, sizeof(ev->ref), ref);
	ev->paid = strcmp(type, "payment_intent.succeeded") == 0;
	ev->failed = strcmp(type, "payment_intent.payment_failed") == 0 ||
		     strcmp(type, "payment_intent.canceled") == 0;
	const char *msg = json_string_value(
		json_object_get(json_object_get(obj, "last_payment_error"), "message"));
	gw_copy(ev->message, sizeof(ev->message), msg ? msg : (ev->failed ? "Your card was declined." : ""));
	json_decref(j);
	return true;
}

static enum gw_outcome authorise(const struct gw_req *q, struct gw_res *out)
{
	return stripe_authorise_as("stripe", q, out);
}

static bool health(void)
{
	return !stripe_live() || (cfg.stripe_api_base && *cfg.stripe_api_base);
}

const struct gateway gw_stripe = {
	.code = "stripe",
	.check = stripe_check,
	.authorise = authorise,
	.capture = stripe_capture,
	.refund = stripe_refund,
	.verify_webhook = verify,
	.signature_header = "Stripe-Signature",
	.health = health,
	.is_live = stripe_live,
	.reconcile = stripe_reconcile,
};
