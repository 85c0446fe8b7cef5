/* Background jobs of the catalog area. */
#include "catalog/recommend.h"
#include "jobs/jobs.h"

/* Recommendations are read by every product page, so they are computed here
 * (bought together, similar, popular) rather than per request. */
static bool refresh_recommendations(struct db *db, int64_t now)
{
	return recommend_refresh(db, now);
}

const struct job jobs_catalog[] = {
	{"catalog.recommendations", 900, refresh_recommendations},
	{0},
};
