/*
 * PayPal (sandbox). The buyer approves the order with a sandbox personal
 * account (payer_email); PayPal's negative testing is driven by the
 * mock_application_code a sandbox request may carry (the
 * PayPal-Mock-Response header's mock_application_codes), with PayPal's
 * issue codes and descriptions. PAYER_ACTION_REQUIRED leaves the payment
 * pending.
 */
#include <string.h>

#include "payment/gateway.h"

static const struct mock {
	const char *code, *message;
} mocks[] = {
	{"INSTRUMENT_DECLINED",
	 "The instrument presented was either declined by the processor or bank, or it can't be used for this payment."},
	{"TRANSACTION_REFUSED", "The request was refused."},
	{"PAYER_CANNOT_PAY", "Combination of payer and payee settings mean that this buyer cannot pay this seller."},
	{"PAYER_ACCOUNT_RESTRICTED", "PAYER_ACCOUNT_RESTRICTED"},
	{"MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
	 "You have exceeded the maximum number of payment attempts."},
	{"PAYER_ACTION_REQUIRED", "The payer must complete an action before the payment can be captured."},
};

static const struct mock *find_mock(const char *c)
{
	for (size_t i = 0; c && i < sizeof(mocks) / sizeof(mocks[0]); i++)
		if (strcmp(mocks[i].code, c) == 0)
			return &mocks[i];
	return NULL;
}

static bool check(json_t *payment, struct verr *e)
{
	static const char *const keys[] = {"payer_email", "mock_application_code", NULL};
	if (!gw_only(payment, keys, e))
		return false;
	const char *email = gw_str(payment, "payer_email");
	if (!email || !strchr(email, '@') || strlen(email) < 3)
		return verr_set(e, MERR_VALIDATION, "payment.payer_email",
				"payment.payer_email must be the PayPal account's email");
	const char *mock = gw_str(payment, "mock_application_code");
	if (mock && !find_mock(mock))
		return verr_set(e, MERR_VALIDATION, "payment.mock_application_code",
				"unknown PayPal mock_application_code");
	return true;
}

static enum gw_outcome authorise(const struct gw_req *q, struct gw_res *out)
{
	const char *email = gw_str(q->payment, "payer_email");
	const struct mock *m = find_mock(gw_str(q->payment, "mock_application_code"));
	gw_ref(out->ref, sizeof(out->ref), "PAYID");
	gw_copy(out->brand, sizeof(out->brand), "paypal");
	gw_fingerprint(out->fingerprint, sizeof(out->fingerprint), "paypal", email);
	if (!m)
		return q->capture ? GW_CAPTURED : GW_AUTHORISED;
	if (strcmp(m->code, "PAYER_ACTION_REQUIRED") == 0)
		return GW_PENDING;
	return gw_decline(out, m->code, m->message);
}

static enum gw_outcome refund(const char *ref, int64_t amount, const char *currency,
			      const char *idempotency_key, struct gw_res *out)
{
	(void)ref;
	(void)amount;
	(void)currency;
	(void)idempotency_key;
	gw_ref(out->ref, sizeof(out->ref), "REFUND");
	return GW_CAPTURED;
}

const struct gateway gw_paypal = {
	.code = "paypal",
	.check = check,
	.authorise = authorise,
	.capture = gw_sandbox_capture,
	.refund = refund,
	.verify_webhook = NULL,
	.signature_header = NULL,
	.health = gw_sandbox_health,
	.is_live = gw_sandbox_never_live,
};
