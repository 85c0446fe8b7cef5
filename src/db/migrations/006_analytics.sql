-- Analytics: request metrics, cache snapshots, behaviour events with the
-- daily counters that keep dashboard reads independent of event volume,
-- alert rules, and database optimisation advice. Times are Unix seconds;
-- a "day" is the Unix second at 00:00 UTC.

-- one row per (instance, minute, route): deltas flushed by each process
CREATE TABLE performance_metrics (
	id @ID@,
	minute BIGINT NOT NULL,
	instance TEXT NOT NULL,
	source TEXT NOT NULL DEFAULT 'server',
	method TEXT NOT NULL,
	route TEXT NOT NULL,
	count BIGINT NOT NULL,
	errors BIGINT NOT NULL,
	client_errors BIGINT NOT NULL DEFAULT 0,
	sum_us BIGINT NOT NULL,
	max_us BIGINT NOT NULL,
	hist TEXT NOT NULL
);
CREATE INDEX performance_metrics_minute ON performance_metrics (minute);

-- per named cache, deltas of hits/misses/evictions and the size at snapshot
CREATE TABLE cache_metrics (
	id @ID@,
	minute BIGINT NOT NULL,
	instance TEXT NOT NULL,
	cache_name TEXT NOT NULL,
	hits BIGINT NOT NULL,
	misses BIGINT NOT NULL,
	evictions BIGINT NOT NULL,
	entries BIGINT NOT NULL,
	bytes BIGINT NOT NULL
);
CREATE INDEX cache_metrics_minute ON cache_metrics (minute);

-- raw behaviour events (client batches and the server's own)
CREATE TABLE user_behavior_analytics (
	id @ID@,
	event_type TEXT NOT NULL,
	source TEXT NOT NULL CHECK (source IN ('client', 'server')),
	user_id TEXT,
	session_id TEXT,
	visitor TEXT NOT NULL,
	market_id BIGINT REFERENCES markets(id),
	product_id BIGINT,
	query TEXT,
	props TEXT NOT NULL DEFAULT '{}',
	created_at BIGINT NOT NULL
);
CREATE INDEX user_behavior_created ON user_behavior_analytics (created_at);

-- daily counters per market (market_id 0 = events without a market):
-- events_<type>, visitors, visitors_<funnel step>, orders, revenue,
-- new_customers, returning_customers
CREATE TABLE ecommerce_analytics (
	day BIGINT NOT NULL,
	market_id BIGINT NOT NULL,
	metric TEXT NOT NULL,
	value BIGINT NOT NULL,
	PRIMARY KEY (day, market_id, metric)
);

-- who reached which funnel step on a day, so daily visitor counts are exact
CREATE TABLE analytics_visitor_days (
	day BIGINT NOT NULL,
	market_id BIGINT NOT NULL,
	visitor TEXT NOT NULL,
	step TEXT NOT NULL,
	PRIMARY KEY (day, market_id, visitor, step)
);

CREATE TABLE analytics_product_daily (
	day BIGINT NOT NULL,
	market_id BIGINT NOT NULL,
	product_id BIGINT NOT NULL,
	views BIGINT NOT NULL DEFAULT 0,
	carts BIGINT NOT NULL DEFAULT 0,
	units_sold BIGINT NOT NULL DEFAULT 0,
	revenue BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (day, market_id, product_id)
);
-- best sellers read only the days a product sold; per-product lookups by product
CREATE INDEX analytics_product_sales ON analytics_product_daily (market_id, day) WHERE units_sold > 0;
CREATE INDEX analytics_product_by_product ON analytics_product_daily (product_id, market_id, day);

CREATE TABLE analytics_search_daily (
	day BIGINT NOT NULL,
	market_id BIGINT NOT NULL,
	query TEXT NOT NULL,
	searches BIGINT NOT NULL DEFAULT 0,
	zero_results BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (day, market_id, query)
);

-- small named values jobs keep between runs (watermarks, counter baselines)
CREATE TABLE analytics_state (
	name TEXT PRIMARY KEY,
	value BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

-- every writer of the daily counters updates this row first, so concurrent
-- batches queue instead of locking counter rows in different orders
-- (a deadlock on PostgreSQL)
INSERT INTO analytics_state (name, value, updated_at) VALUES ('counters_writer', 0, 0);

-- alert rules (the handoff's thresholds); evaluated every minute
CREATE TABLE alert_rules (
	id @ID@,
	name TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	threshold BIGINT NOT NULL,
	window_s BIGINT NOT NULL,
	min_samples BIGINT NOT NULL DEFAULT 0,
	severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
	enabled INTEGER NOT NULL DEFAULT 1,
	description TEXT NOT NULL
);
-- thresholds: milliseconds, or basis points of a rate / relative change
INSERT INTO alert_rules (name, kind, threshold, window_s, min_samples, severity, description) VALUES
	('api_response_time', 'route_latency_avg_ms', 1000, 300, 5, 'critical', 'API response time above 1000 ms (average over 5 minutes, per route)'),
	('database_connection_failures', 'db_failures', 1, 300, 0, 'critical', 'Database connection failures'),
	('payment_gateway_failures', 'gateway_failure_bps', 500, 3600, 20, 'critical', 'Payment gateway failures above 5 %'),
	('cache_hit_rate', 'cache_hit_rate_below_bps', 7500, 300, 100, 'high', 'Cache hit rate below 75 %'),
	('error_rate', 'error_rate_bps', 500, 300, 20, 'critical', 'Server error rate above 5 %'),
	('conversion_drop', 'conversion_drop_bps', 1000, 86400, 20, 'high', 'Conversion rate dropped more than 10 % day over day'),
	('cart_abandonment_increase', 'abandonment_rise_bps', 500, 86400, 20, 'medium', 'Cart abandonment up more than 5 % day over day'),
	('order_volume_anomaly', 'order_volume_deviation_bps', 5000, 86400, 5, 'medium', 'Daily orders deviate more than 50 % from the previous 7-day average');

CREATE INDEX system_alerts_created ON system_alerts (created_at);

-- statements slower than SLOW_QUERY_MS, normalised, per instance and minute
CREATE TABLE slow_queries (
	id @ID@,
	minute BIGINT NOT NULL,
	instance TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	sql_text TEXT NOT NULL,
	calls BIGINT NOT NULL,
	total_us BIGINT NOT NULL,
	max_us BIGINT NOT NULL
);
CREATE INDEX slow_queries_minute ON slow_queries (minute);

-- the optimiser's findings: a query, its plan, suggestions
CREATE TABLE database_optimizations (
	id @ID@,
	fingerprint TEXT NOT NULL UNIQUE,
	sql_text TEXT NOT NULL,
	calls BIGINT NOT NULL,
	total_us BIGINT NOT NULL,
	max_us BIGINT NOT NULL,
	plan TEXT NOT NULL,
	suggestions TEXT NOT NULL DEFAULT '[]',
	analyzed_at BIGINT NOT NULL
);

-- at most one open alert per dedup key, also under concurrent raisers
CREATE UNIQUE INDEX system_alerts_dedup_open ON system_alerts (dedup_key)
	WHERE status = 'open' AND dedup_key IS NOT NULL;

-- the orders rollup finds the days of recently written orders through this
CREATE INDEX orders_updated ON orders (updated_at);
