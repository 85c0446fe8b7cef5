/* Background jobs of the payments area: payment methods, processing, refunds, subscriptions, fraud, webhooks (issue 5). */
#include "jobs/jobs.h"

const struct job jobs_payments[] = {
	{0},
};
