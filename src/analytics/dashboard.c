#include "analytics/dashboard.h"

#include <stdio.h>
#include <string.h>

#include "analytics/events.h"
#include "core/log.h"
#include "db/db.h"

#define DAY 86400

bool change_bps(int64_t cur, int64_t prev, int64_t *bps)
{
	if (prev == 0)
		return false;
	/* rounded half away from zero, integers only */
	__int128 num = (__int128)(cur - prev) * 10000;
	__int128 q = num / prev, r = num % prev;
	if (r && 2 * (r < 0 ? -r : r) >= (prev < 0 ? -prev : prev))
		q += ((num < 0) != (prev < 0)) ? -1 : 1;
	*bps = (int64_t)q;
	return true;
}

bool dashboard_period(const char *name, int64_t now, int64_t *start, int64_t *end,
		      int64_t *prev_start)
{
	int64_t days;
	if (!name || strcmp(name, "daily") == 0)
		days = 1;
	else if (strcmp(name, "weekly") == 0)
		days = 7;
	else if (strcmp(name, "monthly") == 0)
		days = 30;
	else
		return false;
	*end = now - now % DAY + DAY;
	*start = *end - days * DAY;
	*prev_start = *start - days * DAY;
	return true;
}

bool dashboard_kpis(struct db *db, int64_t market_id, int64_t start, int64_t end,
		    struct kpis *out)
{
	memset(out, 0, sizeof(*out));
	struct db_res r;
	int rc = db_query(db, &r,
			  "SELECT metric, SUM(value) FROM ecommerce_analytics "
			  "WHERE day >= $1 AND day < $2 AND ($3 = 0 OR market_id = $3) GROUP BY metric",
			  DBV(DI(start), DI(end), DI(market_id)));
	if (rc != DB_OK)
		return false;
	for (int i = 0; i < r.nrows; i++) {
		const char *m = db_text(&r, i, 0);
		int64_t v = db_int(&r, i, 1);
		if (strcmp(m, "revenue") == 0)
			out->revenue = v;
		else if (strcmp(m, "orders") == 0)
			out->orders = v;
		else if (strcmp(m, "visitors") == 0)
			out->visitors = v;
		else if (strcmp(m, "new_customers") == 0)
			out->new_customers = v;
		else if (strcmp(m, "returning_customers") == 0)
			out->returning_customers = v;
		for (int s = 0; s < 4; s++) {
			if (strncmp(m, "visitors_", 9) == 0 && strcmp(m + 9, events_funnel_steps[s]) == 0)
				out->steps[s] = v;
			if (strncmp(m, "events_", 7) == 0 && strcmp(m + 7, events_funnel_steps[s]) == 0)
				out->events[s] = v;
		}
	}
	db_res_free(&r);
	return true;
}

int dashboard_top_products(struct db *db, int64_t market_id, int64_t start, int64_t end,
			   int64_t prev_start, struct top_product *out, int max)
{
	struct db_res r;
	/* rank on sales rows only (a partial index holds them), name the winners */
	int rc = db_query(db, &r,
			  "SELECT t.product_id, COALESCE(p.name, ''), t.units, t.revenue FROM ("
			  " SELECT product_id, SUM(units_sold) AS units, SUM(revenue) AS revenue"
			  " FROM analytics_product_daily WHERE market_id = $3 AND day >= $1 AND day < $2"
			  " AND units_sold > 0 GROUP BY product_id ORDER BY SUM(revenue) DESC, product_id"
			  " LIMIT $4) t LEFT JOIN products p ON p.id = t.product_id "
			  "ORDER BY t.revenue DESC, t.product_id",
			  DBV(DI(start), DI(end), DI(market_id), DI(max)));
	if (rc != DB_OK)
		return -1;
	int n = r.nrows;
	for (int i = 0; i < n; i++) {
		struct top_product *t = &out[i];
		memset(t, 0, sizeof(*t));
		t->product_id = db_int(&r, i, 0);
		snprintf(t->name, sizeof(t->name), "%s", db_text(&r, i, 1));
		t->units = db_int(&r, i, 2);
		t->revenue = db_int(&r, i, 3);
	}
	db_res_free(&r);
	for (int i = 0; i < n; i++) {
		struct db_res pr;
		if (db_query(db, &pr,
			     "SELECT COALESCE(SUM(CASE WHEN day >= $2 THEN views ELSE 0 END), 0), "
			     "COALESCE(SUM(CASE WHEN day < $2 THEN units_sold ELSE 0 END), 0), "
			     "COALESCE(SUM(CASE WHEN day < $2 THEN revenue ELSE 0 END), 0) "
			     "FROM analytics_product_daily WHERE product_id = $4 AND market_id = $5 "
			     "AND day >= $1 AND day < $3",
			     DBV(DI(prev_start), DI(start), DI(end), DI(out[i].product_id), DI(market_id))) !=
		    DB_OK)
			return -1;
		out[i].views = db_int(&pr, 0, 0);
		out[i].prev_units = db_int(&pr, 0, 1);
		out[i].prev_revenue = db_int(&pr, 0, 2);
		db_res_free(&pr);
	}
	return n;
}

int insights_top_viewed(struct db *db, int64_t market_id, int64_t start, int64_t end,
			struct ranked *out, int max)
{
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT t.product_id, COALESCE(p.name, ''), t.views, t.carts FROM ("
		     " SELECT product_id, SUM(views) AS views, SUM(carts) AS carts FROM analytics_product_daily"
		     " WHERE day >= $1 AND day < $2 AND ($3 = 0 OR market_id = $3) GROUP BY product_id"
		     " HAVING SUM(views) > 0 ORDER BY SUM(views) DESC, product_id LIMIT $4) t "
		     "LEFT JOIN products p ON p.id = t.product_id ORDER BY t.views DESC, t.product_id",
		     DBV(DI(start), DI(end), DI(market_id), DI(max))) != DB_OK)
		return -1;
	for (int i = 0; i < r.nrows; i++) {
		out[i].id = db_int(&r, i, 0);
		snprintf(out[i].key, sizeof(out[i].key), "%s", db_text(&r, i, 1));
		out[i].count = db_int(&r, i, 2);
		out[i].extra = db_int(&r, i, 3);
	}
	int n = r.nrows;
	db_res_free(&r);
	return n;
}

int insights_top_searches(struct db *db, int64_t market_id, int64_t start, int64_t end,
			  bool zero_only, struct ranked *out, int max)
{
	struct db_res r;
	const char *sql =
		zero_only
			? "SELECT query, SUM(searches), SUM(zero_results) FROM analytics_search_daily "
			  "WHERE day >= $1 AND day < $2 AND ($3 = 0 OR market_id = $3) "
			  "GROUP BY query HAVING SUM(zero_results) > 0 "
			  "ORDER BY SUM(zero_results) DESC, query LIMIT $4"
			: "SELECT query, SUM(searches), SUM(zero_results) FROM analytics_search_daily "
			  "WHERE day >= $1 AND day < $2 AND ($3 = 0 OR market_id = $3) "
			  "GROUP BY query ORDER BY SUM(searches) DESC, query LIMIT $4";
	if (db_query(db, &r, sql, DBV(DI(start), DI(end), DI(market_id), DI(max))) != DB_OK)
		return -1;
	for (int i = 0; i < r.nrows; i++) {
		snprintf(out[i].key, sizeof(out[i].key), "%s", db_text(&r, i, 0));
		out[i].id = 0;
		out[i].count = db_int(&r, i, 1);
		out[i].extra = db_int(&r, i, 2);
	}
	int n = r.nrows;
	db_res_free(&r);
	return n;
}

static int set_metric(struct db *db, int64_t day, int64_t market, const char *metric, int64_t v)
{
	return db_exec(db,
		       "INSERT INTO ecommerce_analytics (day, market_id, metric, value) "
		       "VALUES ($1, $2, $3, $4) ON CONFLICT (day, market_id, metric) "
		       "DO UPDATE SET value = $4",
		       DBV(DI(day), DI(market), DT(metric), DI(v)), NULL);
}

/* Orders that count: everything but cancelled ones. */
#define COUNTED "o.status <> 'cancelled'"

static bool rollup_day(struct db *db, int64_t day)
{
	struct db_res r;
	int rc = db_exec(db,
			 "UPDATE ecommerce_analytics SET value = 0 WHERE day = $1 AND metric IN "
			 "('orders', 'revenue', 'new_customers', 'returning_customers')",
			 DBV(DI(day)), NULL);
	if (rc == DB_OK)
		rc = db_exec(db,
			     "UPDATE analytics_product_daily SET units_sold = 0, revenue = 0 WHERE day = $1",
			     DBV(DI(day)), NULL);
	if (rc != DB_OK)
		return false;
	if (db_query(db, &r,
		     "SELECT o.market_id, COUNT(*), COALESCE(SUM(o.total), 0) FROM orders o "
		     "WHERE o.created_at >= $1 AND o.created_at < $2 AND " COUNTED " GROUP BY o.market_id",
		     DBV(DI(day), DI(day + DAY))) != DB_OK)
		return false;
	for (int i = 0; rc == DB_OK && i < r.nrows; i++) {
		rc = set_metric(db, day, db_int(&r, i, 0), "orders", db_int(&r, i, 1));
		if (rc == DB_OK)
			rc = set_metric(db, day, db_int(&r, i, 0), "revenue", db_int(&r, i, 2));
	}
	db_res_free(&r);
	if (rc != DB_OK)
		return false;
	/* a customer is new on the day of their first counted order in that market */
	if (db_query(db, &r,
		     "SELECT market_id, SUM(CASE WHEN first_at >= $1 THEN 1 ELSE 0 END), "
		     "SUM(CASE WHEN first_at < $1 THEN 1 ELSE 0 END) FROM ("
		     " SELECT o.market_id, o.user_id, (SELECT MIN(f.created_at) FROM orders f "
		     "  WHERE f.user_id = o.user_id AND f.market_id = o.market_id AND f.status <> 'cancelled') AS first_at"
		     " FROM orders o WHERE o.created_at >= $1 AND o.created_at < $2 AND " COUNTED
		     " GROUP BY o.market_id, o.user_id) c GROUP BY market_id",
		     DBV(DI(day), DI(day + DAY))) != DB_OK)
		return false;
	for (int i = 0; rc == DB_OK && i < r.nrows; i++) {
		rc = set_metric(db, day, db_int(&r, i, 0), "new_customers", db_int(&r, i, 1));
		if (rc == DB_OK)
			rc = set_metric(db, day, db_int(&r, i, 0), "returning_customers",
					db_int(&r, i, 2));
	}
	db_res_free(&r);
	if (rc != DB_OK)
		return false;
	if (db_query(db, &r,
		     "SELECT o.market_id, oi.product_id, SUM(oi.quantity), SUM(oi.line_total) "
		     "FROM order_items oi JOIN orders o ON o.id = oi.order_id "
		     "WHERE o.created_at >= $1 AND o.created_at < $2 AND " COUNTED
		     " GROUP BY o.market_id, oi.product_id",
		     DBV(DI(day), DI(day + DAY))) != DB_OK)
		return false;
	for (int i = 0; rc == DB_OK && i < r.nrows; i++)
		rc = db_exec(db,
			     "INSERT INTO analytics_product_daily (day, market_id, product_id, units_sold, "
			     "revenue) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (day, market_id, product_id) "
			     "DO UPDATE SET units_sold = $4, revenue = $5",
			     DBV(DI(day), DI(db_int(&r, i, 0)), DI(db_int(&r, i, 1)), DI(db_int(&r, i, 2)),
				 DI(db_int(&r, i, 3))),
			     NULL);
	db_res_free(&r);
	return rc == DB_OK;
}

/* Recompute one day in its own transaction. */
static bool rollup_one(struct db *db, int64_t day)
{
	if (db_begin(db) != DB_OK)
		return false;
	if (events_lock(db) != DB_OK || !rollup_day(db, day) || db_commit(db) != DB_OK) {
		db_rollback(db);
		log_warn("orders rollup failed for day %lld", (long long)day);
		return false;
	}
	return true;
}

bool analytics_rollup_orders(struct db *db, int64_t now)
{
	int64_t have = 0, since = 0;
	if (db_scalar(db, &have, 0,
		      "SELECT COUNT(*) FROM schema_migrations WHERE version LIKE '003_commerce%'",
		      DBV0) != DB_OK)
		return false;
	if (!have)
		return true; /* no orders table yet: nothing to roll up */
	if (db_scalar(db, &since, -1,
		      "SELECT value FROM analytics_state WHERE name = 'orders_rollup_at'", DBV0) != DB_OK)
		return false;
	/* the days of every order written since the last run (two minutes of
	 * slack for clocks of other instances), and today even when quiet */
	struct db_res r;
	if (db_query(db, &r,
		     "SELECT DISTINCT created_at - created_at % 86400 FROM orders WHERE updated_at >= $1 "
		     "ORDER BY 1",
		     DBV(DI(since < 0 ? INT64_MIN : since - 120))) != DB_OK)
		return false;
	bool ok = true, today_done = false;
	int64_t today = now - now % DAY;
	for (int i = 0; ok && i < r.nrows; i++) {
		int64_t day = db_int(&r, i, 0);
		today_done |= day == today;
		ok = rollup_one(db, day);
	}
	db_res_free(&r);
	if (ok && !today_done)
		ok = rollup_one(db, today);
	return ok &&
	       db_exec(db,
		       "INSERT INTO analytics_state (name, value, updated_at) VALUES ('orders_rollup_at', $1, $1) "
		       "ON CONFLICT (name) DO UPDATE SET value = $1, updated_at = $1",
		       DBV(DI(now)), NULL) == DB_OK;
}
