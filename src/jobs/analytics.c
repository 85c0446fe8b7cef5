/* Background jobs of the analytics area: order figures into the daily
 * counters, then alert rules (in this order, so rules see fresh figures).
 * Request metrics and cache snapshots are flushed by every process from the
 * server tick instead (app.c): each process holds its own counters. */
#include "analytics/alerts.h"
#include "analytics/dashboard.h"
#include "analytics/events.h"
#include "jobs/jobs.h"

static bool rollup(struct db *db, int64_t now)
{
	return analytics_rollup_orders(db, now) && events_prune(db, now);
}

const struct job jobs_analytics[] = {
	{"analytics-rollup", 60, rollup},
	{"analytics-alerts", 60, alerts_evaluate},
	{0},
};
