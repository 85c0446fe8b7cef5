/*
 * Cash on delivery (IN). Nothing is taken now: the order is placed with
 * payment_status cod_pending and paid when the courier collects.
 */
#include <stdio.h>

#include "payment/gateway.h"

static bool check(json_t *payment, struct verr *e)
{
	static const char *const keys[] = {NULL};
	return gw_only(payment, keys, e);
}

static enum gw_outcome authorise(const struct gw_req *q, struct gw_res *out)
{
	(void)q;
	gw_ref(out->ref, sizeof(out->ref), "cod");
	gw_copy(out->brand, sizeof(out->brand), "cod");
	return GW_PENDING;
}

/* Money collected in cash goes back by bank transfer, recorded here. */
static enum gw_outcome refund(const char *ref, int64_t amount, const char *currency,
			      const char *idempotency_key, struct gw_res *out)
{
	(void)ref;
	(void)amount;
	(void)currency;
	(void)idempotency_key;
	gw_ref(out->ref, sizeof(out->ref), "codrf");
	return GW_CAPTURED;
}

const struct gateway gw_cod = {
	.code = "cod",
	.check = check,
	.authorise = authorise,
	.capture = gw_sandbox_capture,
	.refund = refund,
	.verify_webhook = NULL,
	.signature_header = NULL,
	.health = gw_sandbox_health,
	.is_live = gw_sandbox_never_live,
};
