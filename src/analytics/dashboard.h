/*
 * Business figures read from the daily counters: the dashboard (revenue,
 * orders, AOV, conversion, cart abandonment, new vs returning customers,
 * top products, each against the previous period), the conversion funnel
 * and behaviour insights. Order figures come from the orders table through
 * analytics_rollup_orders (a job); event figures are counted as events
 * arrive (events.c). A read touches O(days × markets × metrics) rows, never
 * the events themselves.
 *
 * Periods are whole UTC days ending with the day that contains `now`:
 * daily = today so far, weekly = the last 7 days, monthly = the last 30;
 * the previous period is the same number of days just before.
 */
#ifndef MANDI_DASHBOARD_H
#define MANDI_DASHBOARD_H
#include <stdbool.h>
#include <stdint.h>

struct db;

/** Sums of the daily counters of one market (or all) over one span of days. */
struct kpis {
	int64_t revenue, orders, visitors, new_customers, returning_customers;
	int64_t steps[4];  /**< distinct daily visitors per funnel step */
	int64_t events[4]; /**< events per funnel step */
};

/** [start, end) of the period containing now and of the one before. */
bool dashboard_period(const char *name, int64_t now, int64_t *start, int64_t *end,
		      int64_t *prev_start);

/** Sum counters for market_id (0 = every market) over [start, end). */
bool dashboard_kpis(struct db *db, int64_t market_id, int64_t start, int64_t end,
		    struct kpis *out);

struct top_product {
	int64_t product_id;
	char name[160];
	int64_t units, revenue, views, prev_units, prev_revenue;
};

/** Best sellers of a market by revenue over [start, end), with the previous span. */
int dashboard_top_products(struct db *db, int64_t market_id, int64_t start, int64_t end,
			   int64_t prev_start, struct top_product *out, int max);

struct ranked {
	char key[160];
	int64_t id;
	int64_t count, extra;
};

/** Most viewed products over [start, end) (market 0 = all). */
int insights_top_viewed(struct db *db, int64_t market_id, int64_t start, int64_t end,
			struct ranked *out, int max);
/** Most frequent searches; extra = how many returned nothing. */
int insights_top_searches(struct db *db, int64_t market_id, int64_t start, int64_t end,
			  bool zero_only, struct ranked *out, int max);

/**
 * Recompute each day's order figures (orders, revenue, new/returning
 * customers, units and revenue per product) from the orders table for every
 * day holding an order written (orders.updated_at) since the last run, and
 * today. Late changes (a cancellation next week) reach their day this way.
 * Idempotent. A no-op until the commerce migration exists.
 */
bool analytics_rollup_orders(struct db *db, int64_t now);

/** Relative change in basis points from prev to cur; false when prev is 0. */
bool change_bps(int64_t cur, int64_t prev, int64_t *bps);

#endif
