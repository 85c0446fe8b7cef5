/*
 * UPI, processed by Razorpay: a VPA (success@razorpay / failure@razorpay in
 * the sandbox). flow "intent" (default) completes at once; flow "collect"
 * sends a collect request the customer approves in their UPI app, so the
 * payment stays pending until Razorpay's webhook says how it ended.
 */
#include <string.h>

#include "payment/gateway.h"

static bool check(json_t *payment, struct verr *e)
{
	static const char *const keys[] = {"vpa", "flow", NULL};
	if (!gw_only(payment, keys, e))
		return false;
	const char *vpa = gw_str(payment, "vpa"), *flow = gw_str(payment, "flow");
	if (!vpa || !strchr(vpa, '@') || strlen(vpa) < 3)
		return verr_set(e, MERR_VALIDATION, "payment.vpa", "payment.vpa must look like name@bank");
	if (flow && strcmp(flow, "intent") != 0 && strcmp(flow, "collect") != 0)
		return verr_set(e, MERR_VALIDATION, "payment.flow", "payment.flow must be intent or collect");
	return true;
}

static enum gw_outcome authorise(const struct gw_req *q, struct gw_res *out)
{
	return razorpay_authorise_as("upi", q, out);
}

static bool health(void)
{
	return gw_razorpay.health();
}

const struct gateway gw_upi = {
	.code = "upi",
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
