/* HTTP handlers: metrics, events, dashboard, alerts, database advice (issue 6). */
#include "api/api.h"

const struct route routes_analytics[] = {
	{0},
};
