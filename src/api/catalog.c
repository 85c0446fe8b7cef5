/* HTTP handlers: catalog, search, recommendations, inventory, feeds (issue 3). */
#include "api/api.h"

const struct route routes_catalog[] = {
	{0},
};
