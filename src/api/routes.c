/* Every API area's route table, in match order. */
#include "api/api.h"

const struct route *const route_tables[] = {
	routes_system,
	routes_market,
	NULL,
};
