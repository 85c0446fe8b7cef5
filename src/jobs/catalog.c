/* Background jobs of the catalog area. */
#include "cache/cache.h"
#include "catalog/matches.h"
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

/* Search works from each market's columns in memory (catalog/matches.h),
 * which expire with the stock they hold: read them again before they do.
 * Each process keeps its own, so this runs in every process; it reads
 * nothing while they are fresh, or where no budget keeps them (the CLI). */
static bool refresh_search_columns(struct db *db, int64_t now)
{
	(void)db;
	(void)now;
	match_columns_warm_all(cache_generation("search"));
	return true;
}

const struct job jobs_catalog_local[] = {
	{"catalog.search-columns", 5, refresh_search_columns},
	{0},
};
