/*
 * Apple Pay. The device hands over a payment token that Stripe processes, so
 * the sandbox takes Stripe's test tokens and live mode goes through Stripe's
 * PaymentIntents with the same key.
 */
#include "payment/gateway.h"

static enum gw_outcome authorise(const struct gw_req *q, struct gw_res *out)
{
	return stripe_authorise_as("apple_pay", q, out);
}

static bool health(void)
{
	return gw_stripe.health();
}

const struct gateway gw_apple_pay = {
	.code = "apple_pay",
	.check = stripe_check,
	.authorise = authorise,
	.capture = stripe_capture,
	.refund = stripe_refund,
	.verify_webhook = NULL, /* Stripe's webhook covers Apple Pay payments */
	.signature_header = NULL,
	.health = health,
	.is_live = stripe_live,
	.reconcile = stripe_reconcile,
};
