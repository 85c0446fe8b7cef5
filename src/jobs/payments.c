/* Background jobs of the payments area: subscription renewals and dunning,
 * gateway health counters, and payments whose outcome a gateway timeout
 * left unknown (issue 5). */
#include "jobs/jobs.h"
#include "payment/payment.h"
#include "payment/subscription.h"

const struct job jobs_payments[] = {
	{"subscription_renewals", 60, sub_renew_due},
	{"gateway_stats", 10, payment_gateway_stats},
	{"payment_reconcile", 30, payment_reconcile_due},
	{0},
};
