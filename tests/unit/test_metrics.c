/* Unit tests of the analytics pure parts: latency buckets and percentiles,
 * histogram text, concurrent recording, relative change, plan parsing for
 * index advice, decimal configuration values. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/dashboard.h"
#include "analytics/dbadvice.h"
#include "analytics/events.h"
#include "analytics/metrics.h"
#include "core/buf.h"
#include "core/config.h"
#include "t.h"

static void buckets_cover_every_duration(void)
{
	CHECK_INT(metrics_bucket(0), 0);
	CHECK_INT(metrics_bucket(15), 0);
	CHECK_INT(metrics_bucket(16), 1);
	/* each bucket is [lower, upper) and they tile the line without gaps */
	for (int b = 1; b < METRICS_BUCKETS - 1; b++) {
		CHECK_INT(metrics_bucket_lower(b + 1), metrics_bucket_upper(b));
		CHECK_INT(metrics_bucket(metrics_bucket_lower(b)), b);
		CHECK_INT(metrics_bucket(metrics_bucket_upper(b) - 1), b);
	}
	/* four per power of two: 1 ms falls in [896, 1024) µs */
	int b = metrics_bucket(1000);
	CHECK_INT(metrics_bucket_lower(b), 896);
	CHECK_INT(metrics_bucket_upper(b), 1024);
	CHECK_INT(metrics_bucket(INT64_MAX), METRICS_BUCKETS - 1);
}

static void quantiles_from_histogram(void)
{
	int64_t h[METRICS_BUCKETS] = {0};
	/* 90 fast requests at 100 µs, 10 slow ones at 50 ms */
	h[metrics_bucket(100)] = 90;
	h[metrics_bucket(50000)] = 10;
	double p50 = metrics_quantile_us(h, 100, 0.50), p95 = metrics_quantile_us(h, 100, 0.95);
	CHECK(p50 >= metrics_bucket_lower(metrics_bucket(100)) && p50 <= metrics_bucket_upper(metrics_bucket(100)));
	CHECK(p95 >= metrics_bucket_lower(metrics_bucket(50000)) && p95 <= metrics_bucket_upper(metrics_bucket(50000)));
	/* within one bucket (≤ 25 % of the bound) of the truth */
	CHECK(p95 > 50000 * 0.8 && p95 < 50000 * 1.25);
	CHECK(metrics_quantile_us(h, 0, 0.5) == 0);
}

static void histogram_text_round_trip(void)
{
	int64_t h[METRICS_BUCKETS] = {0}, back[METRICS_BUCKETS] = {0};
	h[0] = 3;
	h[17] = 123456789012LL;
	h[METRICS_BUCKETS - 1] = 1;
	struct buf b;
	buf_init(&b, 4096);
	metrics_hist_encode(&b, h);
	CHECK_STR(b.p, "0:3,17:123456789012,92:1");
	CHECK(metrics_hist_add(back, b.p));
	CHECK(memcmp(h, back, sizeof(h)) == 0);
	CHECK(metrics_hist_add(back, "")); /* empty: nothing to add */
	CHECK(!metrics_hist_add(back, "93:1"));
	CHECK(!metrics_hist_add(back, "1:x"));
	CHECK(!metrics_hist_add(back, "12"));
	buf_free(&b);
}

#define THREADS 4
#define PER_THREAD 50000
static const char route_a[] = "/api/x/{id}";

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++)
		metrics_observe("GET", route_a, i % 100 == 0 ? 500 : 200, i % 1000);
	return NULL;
}

static void concurrent_recording_loses_nothing(void)
{
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	struct buf b;
	buf_init(&b, 1 << 20);
	metrics_prometheus(&b);
	char want[160];
	snprintf(want, sizeof(want), "mandi_http_requests_total{method=\"GET\",route=\"%s\"} %d\n", route_a,
		 THREADS * PER_THREAD);
	CHECK(strstr(b.p, want) != NULL);
	snprintf(want, sizeof(want), "mandi_http_request_errors_total{method=\"GET\",route=\"%s\"} %d\n",
		 route_a, THREADS * PER_THREAD / 100);
	CHECK(strstr(b.p, want) != NULL);
	buf_free(&b);
}

static void relative_change(void)
{
	int64_t bps;
	CHECK(change_bps(11850, 10000, &bps));
	CHECK_INT(bps, 1850);
	CHECK(change_bps(17550, 7000, &bps));
	CHECK_INT(bps, 15071); /* 15071.43 */
	CHECK(change_bps(5850, 7000, &bps));
	CHECK_INT(bps, -1643); /* -1642.86 rounds away from zero */
	CHECK(change_bps(1, 3, &bps));
	CHECK_INT(bps, -6667);
	CHECK(!change_bps(5, 0, &bps));
}

static void plan_parsing(void)
{
	char t[8][64];
	/* SQLite EXPLAIN QUERY PLAN lines */
	CHECK_INT(dbadvice_full_scans("SCAN orders\nSEARCH o USING INDEX orders_user (user_id=?)\n", t, 8), 1);
	CHECK_STR(t[0], "orders");
	CHECK_INT(dbadvice_full_scans("SEARCH products USING INTEGER PRIMARY KEY (rowid=?)\n", t, 8), 0);
	CHECK_INT(dbadvice_full_scans("SCAN p USING COVERING INDEX products_created\n", t, 8), 0);
	/* PostgreSQL EXPLAIN */
	CHECK_INT(dbadvice_full_scans("Hash Join  (cost=1.1..2.2)\n  ->  Seq Scan on order_items oi  (cost=0..1)\n"
				     "  ->  Seq Scan on orders o\n  ->  Seq Scan on orders o2\n", t, 8), 2);
	CHECK_STR(t[0], "order_items");
	CHECK_STR(t[1], "orders");
	char tab[64];
	const char *sql = "SELECT o.market_id FROM orders o JOIN order_items AS oi ON oi.order_id = o.id "
			  "WHERE o.created_at >= $1 AND x IN (SELECT 1 FROM markets) AND y IN "
			  "(SELECT 2 FROM (SELECT 3) c)";
	dbadvice_resolve_alias(sql, "o", tab, sizeof(tab));
	CHECK_STR(tab, "orders");
	dbadvice_resolve_alias(sql, "oi", tab, sizeof(tab));
	CHECK_STR(tab, "order_items");
	dbadvice_resolve_alias(sql, "markets", tab, sizeof(tab));
	CHECK_STR(tab, "markets");
	dbadvice_resolve_alias(sql, "c", tab, sizeof(tab));
	CHECK_STR(tab, "");
	char cols[128];
	dbadvice_filter_columns("SELECT * FROM orders o WHERE o.coupon_code = $1 AND created_at >= $2 "
				"AND created_at < $3 AND status <> 'x'", cols, sizeof(cols));
	CHECK_STR(cols, "coupon_code,created_at");
	dbadvice_filter_columns("SELECT 1 FROM t", cols, sizeof(cols));
	CHECK_STR(cols, "");
	dbadvice_filter_columns("INSERT INTO t (a, b) VALUES ($1, $2)", cols, sizeof(cols));
	CHECK_STR(cols, "");
}

static void decimal_config_values(void)
{
	int64_t v;
	CHECK(config_parse_micro("83", &v));
	CHECK_INT(v, 83000000);
	CHECK(config_parse_micro("83.25", &v));
	CHECK_INT(v, 83250000);
	CHECK(config_parse_micro("0.000001", &v));
	CHECK_INT(v, 1);
	CHECK(!config_parse_micro("83.", &v));
	CHECK(!config_parse_micro(".5", &v));
	CHECK(!config_parse_micro("1.0000001", &v));
	CHECK(!config_parse_micro("-1", &v));
	CHECK(!config_parse_micro("8e1", &v));
	CHECK(!config_parse_micro("", &v));
}

static void event_types_and_rate_limit(void)
{
	CHECK(events_type_ok("product_view"));
	CHECK(events_type_ok("purchase"));
	CHECK(!events_type_ok("Purchase"));
	CHECK(!events_type_ok(""));
	for (int i = 0; i < 3; i++)
		CHECK(events_rate_allow("10.0.0.1", 600, 3));
	CHECK(!events_rate_allow("10.0.0.1", 659, 3));
	CHECK(events_rate_allow("10.0.0.2", 659, 3)); /* another address */
	CHECK(events_rate_allow("10.0.0.1", 660, 3)); /* the next minute */
}

int main(void)
{
	RUN(buckets_cover_every_duration);
	RUN(quantiles_from_histogram);
	RUN(histogram_text_round_trip);
	RUN(concurrent_recording_loses_nothing);
	RUN(relative_change);
	RUN(plan_parsing);
	RUN(decimal_config_values);
	RUN(event_types_and_rate_limit);
	return t_done();
}
