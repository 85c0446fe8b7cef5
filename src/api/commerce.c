/* HTTP handlers: cart, coupons, addresses, shipping, checkout, orders (issue 4). */
#include "api/api.h"

const struct route routes_commerce[] = {
	{0},
};
