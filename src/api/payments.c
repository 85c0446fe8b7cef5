/* HTTP handlers: payment methods, processing, refunds, subscriptions, fraud, webhooks (issue 5). */
#include "api/api.h"

const struct route routes_payments[] = {
	{0},
};
