/* Background jobs of the platform area: scale-out and platform integrations WS1-WS4 (issue 7). */
#include "integration/discover.h"
#include "jobs/jobs.h"
#include "market/market.h"

const struct job jobs_platform[] = {
	{"trending-refresh", 300, discover_refresh_trending},
	{0},
};

/* Markets are data: an instance that did not serve the admin's
 * POST /api/ecommerce/markets learns of the new market here. */
static bool reload_markets(struct db *db, int64_t now)
{
	(void)now;
	return market_reload(db);
}

const struct job jobs_platform_local[] = {
	{"market-reload", 2, reload_markets},
	{0},
};
