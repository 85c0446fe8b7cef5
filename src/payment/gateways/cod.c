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

static enum gw_outcome capture(const char *ref, int64_t amount, const char *currency,
			       struct gw_res *out)
{
	(void)amount;
	(void)currency;
	gw_copy(out->ref, sizeof(out->ref), ref);
	return GW_CAPTURED;
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

static bool health(void)
{
	return true;
}

static bool never_live(void)
{
	return false;
}

const struct gateway gw_cod = {
	.code = "cod",
	.check = check,
	.authorise = authorise,
	.capture = capture,
	.refund = refund,
	.verify_webhook = NULL,
	.signature_header = NULL,
	.health = health,
	.is_live = never_live,
};
