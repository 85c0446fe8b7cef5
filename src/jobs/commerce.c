/* Background jobs of the commerce area: cart, coupons, addresses, shipping, checkout, orders (issue 4). */
#include "jobs/jobs.h"

const struct job jobs_commerce[] = {
	{0},
};
