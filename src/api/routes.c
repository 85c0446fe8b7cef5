/* Every API area's route table, in match order. */
#include "api/api.h"

const struct route *const route_tables[] = {
	routes_system,
	routes_market,
	routes_catalog,
	routes_catalog_browse,
	routes_catalog_taxonomy,
	routes_catalog_feed,
	routes_commerce,
	routes_orders,
	routes_payments,
	routes_analytics,
	routes_platform,
	NULL,
};
