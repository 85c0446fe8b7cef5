/*
 * Paytm wallet (sandbox). Paytm's staging environment documents one test
 * wallet: mobile 7777777777, OTP 489871. That wallet pays; a wrong OTP is
 * refused, and an unknown mobile number has no wallet.
 */
#include <string.h>

#include "payment/gateway.h"

#define PAYTM_TEST_MOBILE "7777777777"
#define PAYTM_TEST_OTP "489871"

static bool check(json_t *payment, struct verr *e)
{
	static const char *const keys[] = {"mobile", "otp", NULL};
	if (!gw_only(payment, keys, e))
		return false;
	const char *mobile = gw_str(payment, "mobile"), *otp = gw_str(payment, "otp");
	if (!mobile || strlen(mobile) != 10 || strspn(mobile, "0123456789") != 10)
		return verr_set(e, MERR_VALIDATION, "payment.mobile",
				"payment.mobile must be a 10-digit mobile number");
	if (!otp || strlen(otp) != 6 || strspn(otp, "0123456789") != 6)
		return verr_set(e, MERR_VALIDATION, "payment.otp", "payment.otp must be 6 digits");
	return true;
}

static enum gw_outcome authorise(const struct gw_req *q, struct gw_res *out)
{
	const char *mobile = gw_str(q->payment, "mobile"), *otp = gw_str(q->payment, "otp");
	gw_ref(out->ref, sizeof(out->ref), "PAYTM");
	gw_copy(out->brand, sizeof(out->brand), "paytm");
	gw_copy(out->last4, sizeof(out->last4), mobile + 6);
	gw_fingerprint(out->fingerprint, sizeof(out->fingerprint), "paytm", mobile);
	if (strcmp(mobile, PAYTM_TEST_MOBILE) != 0)
		return gw_decline(out, "wallet_not_found", "No Paytm wallet is linked to this mobile number.");
	if (strcmp(otp, PAYTM_TEST_OTP) != 0)
		return gw_decline(out, "invalid_otp", "Invalid OTP. Please try again.");
	return q->capture ? GW_CAPTURED : GW_AUTHORISED;
}

static enum gw_outcome refund(const char *ref, int64_t amount, const char *currency,
			      const char *idempotency_key, struct gw_res *out)
{
	(void)ref;
	(void)amount;
	(void)currency;
	(void)idempotency_key;
	gw_ref(out->ref, sizeof(out->ref), "PAYTMRF");
	return GW_CAPTURED;
}

const struct gateway gw_paytm = {
	.code = "paytm",
	.check = check,
	.authorise = authorise,
	.capture = gw_sandbox_capture,
	.refund = refund,
	.verify_webhook = NULL,
	.signature_header = NULL,
	.health = gw_sandbox_health,
	.is_live = gw_sandbox_never_live,
};
