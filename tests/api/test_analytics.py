"""Analytics: request metrics, Prometheus, cache metrics, behaviour events,
dashboard, funnel, insights, alerts, database advice, the operator page.
Every figure checked here is one the test itself caused."""
import os
import re
import subprocess
import tempfile
import time

import catalog_util
import commerce_util
from analytics_util import (DAY, alerts_with_key, insert_order, insert_orders, iso, notifications,
                            post_events, run_jobs, today)
import harness
from harness import ROOT, expect, uniq

SERVER_ENV = dict(commerce_util.SERVER_ENV, **{
    "ALERT_NOTIFICATIONS": "email,slack,sms,log",
    "ALERT_EMAIL_TO": "ops@example.com",
    "ALERT_SMS_TO": "+15550100",
    "EXCHANGE_RATE_USD_INR": "80.00",
    "SLOW_QUERY_MS": "0",
    "ANALYTICS_EVENTS_PER_MINUTE": "100000",
})

READS = ["/metrics", "/api/analytics/performance/metrics", "/api/analytics/cache/metrics",
         "/api/analytics/ecommerce/dashboard", "/api/analytics/ecommerce/conversion-funnel",
         "/api/analytics/behavior/insights", "/api/analytics/alerts",
         "/api/analytics/database/optimization"]
WRITES = ["/api/analytics/performance/record", "/api/analytics/alerts/create",
          "/api/analytics/alerts/1/acknowledge", "/api/analytics/alerts/1/resolve"]


def test_analytics_is_admin_only(s):
    merchant = s.token("merchant-9", "merchant", merchant_id=9)
    for path in READS:
        expect(s.get(path), 401, "unauthorized")
        expect(s.get(path, user="shopper-1"), 403, "forbidden")
        expect(s.get(path, token=merchant), 403, "forbidden")
        assert s.get(path, token=s.admin()).status == 200, path
    for path in WRITES:
        expect(s.post(path, {}), 401, "unauthorized")
        expect(s.post(path, {}, user="shopper-1"), 403, "forbidden")


def perf_routes(s):
    body = expect(s.get("/api/analytics/performance/metrics?hours=1", token=s.admin()), 200)
    return {(r["method"], r["route"]): r for r in body["routes"]}, body


def test_performance_metrics_count_every_request_by_pattern(s):
    before, _ = perf_routes(s)
    n0 = before.get(("GET", "/health"), {}).get("count", 0)
    for _ in range(7):
        expect(s.get("/health"), 200)
    for i in range(3):
        expect(s.post("/api/analytics/alerts/%d/acknowledge" % (987650 + i), token=s.admin()), 404,
               "not_found")
    after, body = perf_routes(s)
    health = after[("GET", "/health")]
    assert health["count"] == n0 + 7
    assert health["errors"] == 0 and health["error_rate"] == 0
    assert 0 < health["p50_ms"] <= health["p95_ms"] <= health["p99_ms"] <= health["max_ms"]
    ack = after[("POST", "/api/analytics/alerts/{id}/acknowledge")]
    assert ack["client_errors"] >= 3
    # patterns, never raw paths
    assert not any("98765" in route for _, route in after)
    hours = [r for r in body["data"] if r["route"] == "/health"]
    assert sum(r["count"] for r in hours) == health["count"]
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:00:00Z$", r["hour"]) for r in hours)
    expect(s.get("/api/analytics/performance/metrics?hours=0", token=s.admin()), 400, "validation_failed")
    expect(s.get("/api/analytics/performance/metrics?hours=x", token=s.admin()), 400, "validation_failed")


def test_performance_record_from_another_service(s):
    route = "/api/ai/recommendations-" + uniq("r")
    metrics = [{"service": "ws2-styling", "method": "POST", "route": route, "duration_ms": 40,
                "status": 200} for _ in range(9)]
    metrics.append({"service": "ws2-styling", "method": "POST", "route": route, "duration_ms": 40,
                    "status": 503})
    body = expect(s.post("/api/analytics/performance/record", {"metrics": metrics}, token=s.admin()), 201)
    assert body["recorded"] == 10
    routes, _ = perf_routes(s)
    r = routes[("POST", route)]
    assert r["count"] == 10 and r["errors"] == 1
    assert abs(r["error_rate"] - 0.1) < 1e-9
    assert r["avg_ms"] == 40 and r["max_ms"] == 40
    # a histogram percentile lies within its bucket (4 per power of two)
    assert 32 <= r["p50_ms"] <= 40
    bad = [{"metrics": []}, {"metrics": [{"service": "X Y", "route": "/a", "duration_ms": 1}]},
           {"metrics": [{"service": "a", "route": "/a", "duration_ms": -1}]},
           {"metrics": [{"service": "a", "route": "/a", "duration_ms": "1"}]},
           {"metrics": [{"service": "a", "route": "/a", "duration_ms": 1, "extra": 1}]},
           {"metrics": [{"service": "a", "duration_ms": 1}] * 101}]
    for b in bad:
        expect(s.post("/api/analytics/performance/record", b, token=s.admin()), 400)


def test_prometheus_exposition(s):
    for _ in range(3):
        s.get("/health")
    text = s.get("/metrics", token=s.admin())
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    m = re.search(r'^mandi_http_requests_total\{method="GET",route="/health"\} (\d+)$', text.body, re.M)
    assert m and int(m.group(1)) >= 3
    inf = re.search(r'^mandi_http_request_duration_seconds_bucket\{method="GET",route="/health",le="\+Inf"\} (\d+)$',
                    text.body, re.M)
    count = re.search(r'^mandi_http_request_duration_seconds_count\{method="GET",route="/health"\} (\d+)$',
                      text.body, re.M)
    assert inf and count and inf.group(1) == count.group(1) == m.group(1)
    # cumulative buckets never decrease
    buckets = [int(v) for v in re.findall(
        r'^mandi_http_request_duration_seconds_bucket\{method="GET",route="/health",le="[0-9.]+"\} (\d+)$',
        text.body, re.M)]
    assert buckets == sorted(buckets) and buckets[-1] <= int(m.group(1))


def test_cache_metrics_per_named_cache(s):
    # a missing product misses the product cache every time; a real one hits after the first read
    mid, tok = catalog_util.make_merchant(s)
    p = catalog_util.create(s, tok, mid)
    for _ in range(4):
        expect(s.get("/api/catalog/products/%d" % p["id"]), 200)
    body = expect(s.get("/api/analytics/cache/metrics", token=s.admin()), 200)
    c = {x["name"]: x for x in body["data"]}["product"]
    assert c["hits"] >= 3 and c["misses"] >= 1
    assert abs(c["hit_rate"] - c["hits"] / (c["hits"] + c["misses"])) < 1e-9
    if body["backend"] != "redis":  # Redis does not count what it holds per named cache
        assert c["entries"] >= 1 and c["bytes"] > 0
    rows = s.db.sql("SELECT SUM(hits), SUM(misses) FROM cache_metrics WHERE cache_name = 'product'")
    assert int(rows[0][0]) == c["hits"] and int(rows[0][1]) == c["misses"]


def settled(read, ok, seconds=3):
    """read() once ok holds of its answer (or after `seconds`). An instance
    stores the server's own events and search counts in batches within
    ANALYTICS_FLUSH_MS and flushes its queue before an analytics read, but
    behind nginx the read may reach an instance other than the recorder."""
    deadline = time.time() + seconds
    while True:
        body = read()
        if ok(body) or time.time() > deadline:
            return body
        time.sleep(0.1)


def funnel(s, market, period="daily"):
    return expect(s.get("/api/analytics/ecommerce/conversion-funnel?market=%s&period=%s" % (market, period),
                        token=s.admin()), 200)


def test_events_make_exact_funnel_counts(s):
    before = funnel(s, "US")
    events = []
    sessions = [uniq("sess") for _ in range(10)]
    for i, sid in enumerate(sessions):
        events += [{"type": "product_view", "market": "US", "product_id": 1, "session_id": sid}] * 2
        if i < 6:
            events.append({"type": "add_to_cart", "market": "US", "product_id": 1, "session_id": sid})
        if i < 4:
            events.append({"type": "checkout_start", "market": "US", "session_id": sid})
        if i < 3:
            events.append({"type": "purchase", "market": "US", "session_id": sid})
    post_events(s, events)
    after = funnel(s, "US")
    assert after["visitors"] - before["visitors"] == 10
    assert [a["visitors"] - b["visitors"] for a, b in zip(after["steps"], before["steps"])] == [10, 6, 4, 3]
    assert [a["events"] - b["events"] for a, b in zip(after["steps"], before["steps"])] == [20, 6, 4, 3]
    st = after["steps"]
    for i in range(1, 4):
        assert st[i]["rate_from_previous_bps"] == (st[i]["visitors"] * 10000 * 2 + st[i - 1]["visitors"]) // (2 * st[i - 1]["visitors"])
    assert [x["step"] for x in st] == ["product_view", "add_to_cart", "checkout_start", "purchase"]
    # a signed-in user is one visitor however many events they send
    user = uniq("u")
    post_events(s, [{"type": "product_view", "market": "US", "product_id": 2}] * 5, token=s.token(user))
    again = funnel(s, "US")
    assert again["visitors"] - after["visitors"] == 1
    assert again["steps"][0]["events"] - after["steps"][0]["events"] == 5
    assert int(s.db.sql("SELECT COUNT(*) FROM user_behavior_analytics WHERE user_id = '%s'" % user)[0][0]) == 5


def test_events_are_validated_as_a_batch(s):
    before = funnel(s, "US")
    ok = {"type": "product_view", "market": "US", "product_id": 1, "session_id": "v"}
    cases = [
        ({"events": []}, "validation_failed", "events"),
        ({"events": [ok] * 101}, "validation_failed", "events"),
        ({"events": [ok, {"type": "teleport"}]}, "validation_failed", "events[1].type"),
        ({"events": [ok, {"type": "product_view", "market": "FR"}]}, "unknown_market", "events[1].market"),
        ({"events": [{"type": "search"}]}, "validation_failed", "events[0].query"),
        ({"events": [dict(ok, user_id="someone-else")]}, "validation_failed", None),
        ({"events": [dict(ok, product_id=0)]}, "validation_failed", "events[0].product_id"),
        ({"events": [dict(ok, timestamp=iso(time.time() - 3 * DAY))]}, "validation_failed", "events[0].timestamp"),
        ({"events": [dict(ok, timestamp="yesterday")]}, "validation_failed", "events[0].timestamp"),
        ({"events": [dict(ok, properties={"x": "y" * 3000})]}, "validation_failed", "events[0].properties"),
        ({"events": "nope"}, "validation_failed", "events"),
        ({"evnts": []}, "validation_failed", None),
    ]
    for body, code, field in cases:
        resp = s.post("/api/analytics/events", body)
        expect(resp, 400, code)
        if field:
            assert resp.json["error"].get("field") == field, resp
    expect(s.post("/api/analytics/events", raw=b"{not json", headers={"Content-Type": "application/json"}),
           400, "invalid_json")
    after = funnel(s, "US")
    assert after["steps"] == before["steps"], "a refused batch stored nothing"


def test_behavior_insights(s):
    tag = uniq("q").replace("-", "")
    pid = 900000 + int(time.time()) % 1000
    # searches the server answered are counted per normalised query
    for q in ("Silk  Saree " + tag, "silk saree " + tag, "SILK SAREE " + tag):
        assert expect(s.get("/api/catalog/search?market=IN&q=" + q.replace(" ", "+")), 200)["total"] == 0
    mid, tok = catalog_util.make_merchant(s)
    catalog_util.create(s, tok, mid, name="Linen Kurta " + tag)
    found = expect(s.get("/api/catalog/search?market=IN&q=kurta+" + tag), 200)["total"]
    assert found >= 1
    # clients' search events feed the event counters, not the search ranking
    post_events(s, [{"type": "search", "market": "IN", "query": "silk saree " + tag, "results": 0}])
    post_events(s, [{"type": "product_view", "market": "IN", "product_id": pid, "session_id": uniq("s")}
                    for _ in range(50)])
    q = "silk saree " + tag
    body = settled(lambda: expect(s.get("/api/analytics/behavior/insights?market=IN&period=daily&limit=50",
                                        token=s.admin()), 200),
                   lambda b: {x["query"]: x["searches"] for x in b["top_searches"]}.get(q) == 3 and
                   {x["query"]: x["searches"] for x in b["top_searches"]}.get("kurta " + tag) == 1)
    top = {x["query"]: x for x in body["top_searches"]}
    assert top[q]["searches"] == 3 and top[q]["zero_results"] == 3
    assert top["kurta " + tag]["searches"] == 1 and top["kurta " + tag]["zero_results"] == 0
    zero = {x["query"]: x for x in body["zero_result_searches"]}
    assert zero[q]["zero_results"] == 3 and "kurta " + tag not in zero
    # a zero-result search is also kept as a server event
    assert int(s.db.sql("SELECT COUNT(*) FROM user_behavior_analytics WHERE source = 'server' "
                        "AND event_type = 'search' AND query LIKE '%%%s'" % tag)[0][0]) == 3
    viewed = {x["product_id"]: x for x in body["top_viewed_products"]}
    assert viewed[pid]["views"] == 50
    assert body["top_viewed_products"][0]["views"] >= 50
    assert [d["from"] for d in body["drop_off"]] == ["product_view", "add_to_cart", "checkout_start"]
    assert body["biggest_drop_off"] in ("add_to_cart", "checkout_start", "purchase")
    expect(s.get("/api/analytics/behavior/insights?period=yearly", token=s.admin()), 400, "validation_failed")
    expect(s.get("/api/analytics/behavior/insights?market=XX", token=s.admin()), 400, "unknown_market")


def test_real_checkouts_reach_funnel_and_dashboard(s):
    run_jobs(s)
    dash0 = expect(s.get("/api/analytics/ecommerce/dashboard?market=US", token=s.admin()), 200)["markets"][0]
    f0 = funnel(s, "US")
    pid, vid, _ = commerce_util.product(s, us=3000)
    orders = [commerce_util.buy(s, uniq("shopper"), pid, vid, qty=q) for q in (1, 2)]
    # the server's own events: add to cart, checkout start, purchase, one visitor each
    def deltas(f1):
        return [a["visitors"] - b["visitors"] for a, b in zip(f1["steps"], f0["steps"])]
    assert deltas(settled(lambda: funnel(s, "US"), lambda f1: deltas(f1) == [0, 2, 2, 2])) == [0, 2, 2, 2]
    props = s.db.sql("SELECT props FROM user_behavior_analytics WHERE event_type = 'purchase' "
                     "AND source = 'server' AND props LIKE '%%%s%%'" % orders[0]["order_number"])
    assert len(props) == 1 and '"total":%d' % orders[0]["total"] in props[0][0]
    run_jobs(s)
    dash1 = expect(s.get("/api/analytics/ecommerce/dashboard?market=US", token=s.admin()), 200)["markets"][0]
    assert dash1["orders"]["value"] - dash0["orders"]["value"] == 2
    assert dash1["revenue"]["value"] - dash0["revenue"]["value"] == sum(o["total"] for o in orders)
    assert dash1["new_customers"]["value"] - dash0["new_customers"]["value"] == 2
    top = {p["product_id"]: p for p in dash1["top_products"]}
    assert top[pid]["units"]["value"] == 3 and top[pid]["revenue"]["value"] == 9000


def test_dashboard_figures_equal_the_orders(s):
    t0 = today()
    mid, tok = catalog_util.make_merchant(s)
    product = catalog_util.create(s, tok, mid, name="Dashboard Dress " + uniq("d"))
    pid = product["id"]
    u1, u2, u3 = uniq("buyer"), uniq("buyer"), uniq("buyer")
    # yesterday: u1's first order; today: u1 returns, u2 and u3 are new, one cancelled order
    insert_order(s, uniq("US"), u1, "US", 7000, t0 - DAY + 3600)
    insert_order(s, uniq("US"), u1, "US", 10000, t0 + 60, items=[(pid, 2, 10000)])
    insert_order(s, uniq("US"), u2, "US", 5000, t0 + 120, items=[(pid, 1, 5000)])
    insert_order(s, uniq("US"), u3, "US", 2550, t0 + 180)
    insert_order(s, uniq("US"), u3, "US", 99999, t0 + 240, status="cancelled")
    insert_order(s, uniq("IN"), uniq("buyer"), "IN", 160000, t0 + 300)
    run_jobs(s)
    body = expect(s.get("/api/analytics/ecommerce/dashboard?period=daily&market=US", token=s.admin()), 200)
    assert "combined" not in body
    us = body["markets"][0]
    assert us["market"] == "US" and us["currency"] == "USD"
    assert us["revenue"]["value"] == 17550 and us["revenue"]["value_display"] == "$175.50"
    assert us["revenue"]["previous"] == 7000
    assert us["revenue"]["change_bps"] == 15071 and us["revenue"]["change"] == "\u2191150.7 %"
    assert us["orders"]["value"] == 3 and us["orders"]["previous"] == 1
    assert us["average_order_value"]["value"] == 5850 and us["average_order_value"]["previous"] == 7000
    assert us["average_order_value"]["change"] == "\u219316.4 %"
    assert us["new_customers"]["value"] == 2 and us["returning_customers"]["value"] == 1
    assert us["new_customers"]["previous"] == 1
    top = us["top_products"][0]
    assert top["product_id"] == pid and top["name"].startswith("Dashboard Dress")
    assert top["units"]["value"] == 3 and top["revenue"]["value"] == 15000
    allm = expect(s.get("/api/analytics/ecommerce/dashboard", token=s.admin()), 200)
    assert allm["period"] == "daily"
    inr = {m["market"]: m for m in allm["markets"]}["IN"]
    assert inr["currency"] == "INR" and inr["revenue"]["value"] >= 160000
    comb = allm["combined"]
    # USD + INR at 80 rupees per dollar, minor units, half up
    expected = 17550 + (inr["revenue"]["value"] * 100 + 80 * 100 // 2) // (80 * 100)
    assert comb["currency"] == "USD" and comb["exchange_rate_usd_inr"] == "80.00"
    assert comb["revenue"]["value"] == expected
    n = 3 + inr["orders"]["value"]
    assert comb["orders"]["value"] == n
    assert comb["average_order_value"]["value"] == (expected * 2 + n) // (2 * n)
    # a cancellation reaches its day on the next run
    s.db.sql("UPDATE orders SET status = 'cancelled', updated_at = %d WHERE user_id = '%s'" % (time.time(), u2))
    run_jobs(s)
    us2 = expect(s.get("/api/analytics/ecommerce/dashboard?market=US", token=s.admin()), 200)["markets"][0]
    assert us2["revenue"]["value"] == 12550 and us2["orders"]["value"] == 2
    weekly = expect(s.get("/api/analytics/ecommerce/dashboard?period=weekly&market=US", token=s.admin()), 200)
    assert weekly["markets"][0]["revenue"]["value"] == 12550 + 7000
    expect(s.get("/api/analytics/ecommerce/dashboard?period=hourly", token=s.admin()), 400, "validation_failed")
    expect(s.get("/api/analytics/ecommerce/dashboard?market=ZZ", token=s.admin()), 400, "unknown_market")


def test_alerts_create_dedup_acknowledge_resolve(s):
    kind = "manual_" + uniq("a").replace("-", "_")
    body = {"alert_type": kind, "severity": "critical", "message": "Warehouse sync is late",
            "context": {"warehouse": "BLR-1"}, "dedup_key": kind + ":BLR-1"}
    a = expect(s.post("/api/analytics/alerts/create", body, token=s.admin()), 201)
    assert a["status"] == "open" and a["deduplicated"] is False and a["context"] == {"warehouse": "BLR-1"}
    subject = "[critical] " + kind
    assert notifications(s, subject) == ["email", "log", "slack", "sms"]
    again = expect(s.post("/api/analytics/alerts/create", body, token=s.admin()), 200)
    assert again["id"] == a["id"] and again["deduplicated"] is True
    assert notifications(s, subject) == ["email", "log", "slack", "sms"], "a duplicate sends nothing"
    ack = expect(s.post("/api/analytics/alerts/%d/acknowledge" % a["id"], token=s.admin()), 200)
    assert ack["status"] == "acknowledged" and ack["acknowledged_at"]
    expect(s.post("/api/analytics/alerts/%d/acknowledge" % a["id"], token=s.admin()), 409, "invalid_state")
    # still deduplicated while acknowledged
    assert expect(s.post("/api/analytics/alerts/create", body, token=s.admin()), 200)["id"] == a["id"]
    res = expect(s.post("/api/analytics/alerts/%d/resolve" % a["id"], {"resolution": "restarted"},
                        token=s.admin()), 200)
    assert res["status"] == "resolved" and res["resolution"] == "restarted"
    expect(s.post("/api/analytics/alerts/%d/resolve" % a["id"], token=s.admin()), 409, "invalid_state")
    fresh = expect(s.post("/api/analytics/alerts/create", body, token=s.admin()), 201)
    assert fresh["id"] != a["id"]
    expect(s.post("/api/analytics/alerts/99999999/resolve", token=s.admin()), 404, "not_found")
    for sev, channels in (("high", ["email", "log", "slack"]), ("medium", ["email", "log"]), ("low", [])):
        k = kind + "_" + sev
        expect(s.post("/api/analytics/alerts/create", {"alert_type": k, "severity": sev, "message": "m"},
                      token=s.admin()), 201)
        assert notifications(s, "[%s] %s" % (sev, k)) == channels
    for bad in ({"alert_type": kind, "severity": "urgent", "message": "m"},
                {"alert_type": "Bad Type", "severity": "low", "message": "m"},
                {"alert_type": kind, "severity": "low"},
                {"alert_type": kind, "severity": "low", "message": "m", "context": [1]},
                {"alert_type": kind, "severity": "low", "message": "m", "extra": 1}):
        expect(s.post("/api/analytics/alerts/create", bad, token=s.admin()), 400, "validation_failed")
    # list: filters and a cursor that visits every alert once
    seen, cursor = [], None
    while True:
        path = "/api/analytics/alerts?status=all&limit=2" + ("&cursor=" + cursor if cursor else "")
        page = expect(s.get(path, token=s.admin()), 200)
        seen += [x["id"] for x in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen))
    assert int(s.db.sql("SELECT COUNT(*) FROM system_alerts")[0][0]) == len(seen)
    opened = expect(s.get("/api/analytics/alerts?status=open&severity=critical&limit=100", token=s.admin()), 200)
    assert all(x["status"] == "open" and x["severity"] == "critical" for x in opened["data"])
    assert fresh["id"] in [x["id"] for x in opened["data"]]
    expect(s.get("/api/analytics/alerts?status=closed", token=s.admin()), 400, "validation_failed")
    expect(s.get("/api/analytics/alerts?cursor=abc", token=s.admin()), 400, "validation_failed")


def fires_once(s, key, severity):
    got = alerts_with_key(s, key)
    assert len(got) == 1 and got[0]["status"] == "open" and got[0]["severity"] == severity, got
    sent = notifications(s, "[%s] %s" % (severity, got[0]["alert_type"]))
    run_jobs(s)
    again = alerts_with_key(s, key)
    assert len(again) == 1 and again[0]["id"] == got[0]["id"], again
    assert notifications(s, "[%s] %s" % (severity, got[0]["alert_type"])) == sent
    return got[0]


def test_alert_api_response_time(s):
    route = "/slow-" + uniq("r")
    run_jobs(s)
    assert alerts_with_key(s, "api_response_time:GET " + route) == []
    expect(s.post("/api/analytics/performance/record", {"metrics": [
        {"service": "ws3", "route": route, "duration_ms": 1500} for _ in range(5)]}, token=s.admin()), 201)
    run_jobs(s)
    a = fires_once(s, "api_response_time:GET " + route, "critical")
    assert a["context"]["avg_ms"] == 1500


def test_alert_error_rate(s):
    expect(s.post("/api/analytics/performance/record", {"metrics": [
        {"service": "ws4", "route": "/api/social/trending", "duration_ms": 1, "status": 500}
        for _ in range(100)]}, token=s.admin()), 201)
    run_jobs(s)
    a = fires_once(s, "error_rate", "critical")
    assert a["context"]["errors"] >= 100


def test_alert_cache_hit_rate(s):
    for i in range(120):
        expect(s.get("/api/catalog/products/%d" % (880000 + i)), 404)
    expect(s.get("/api/analytics/cache/metrics", token=s.admin()), 200)
    run_jobs(s)
    a = fires_once(s, "cache_hit_rate:product", "high")
    assert a["context"]["misses"] >= 120


def test_alert_payment_gateway_failures(s):
    run_jobs(s)
    s.db.sql("UPDATE payment_gateways SET success_count = success_count + 90, "
             "failure_count = failure_count + 10 WHERE code = 'paypal'")
    run_jobs(s)
    a = fires_once(s, "payment_gateway_failures:US:paypal", "critical")
    assert a["context"]["failures"] == 10 and a["context"]["attempts"] == 100


def test_alert_database_connection_failures(s):
    # the failure counter each instance adds to when its database ping fails
    s.db.sql("INSERT INTO analytics_state (name, value, updated_at) VALUES ('db_failures', 2, %d)" % time.time())
    run_jobs(s)
    fires_once(s, "database_connection_failures", "critical")


def day_events(market, day_start, visitors, purchasers, first="product_view"):
    evs = []
    for i in range(visitors):
        sid = uniq("v")
        at = iso(day_start + 3600 + i)
        evs.append({"type": first, "market": market, "product_id": 5, "session_id": sid, "timestamp": at})
        if i < purchasers:
            evs.append({"type": "purchase", "market": market, "session_id": sid, "timestamp": at})
    return evs


def test_alert_conversion_drop(s):
    t0 = today()
    # IN: 25 % the day before yesterday, 10 % yesterday (a 60 % drop)
    post_events(s, day_events("IN", t0 - 2 * DAY, 40, 10) + day_events("IN", t0 - DAY, 40, 4))
    run_jobs(s)
    a = fires_once(s, "conversion_drop:IN", "high")
    assert a["context"]["previous_bps"] == 2500 and a["context"]["current_bps"] == 1000
    assert a["context"]["drop_bps"] == 6000


def test_alert_cart_abandonment_increase(s):
    t0 = today()
    # US: abandonment 50 % then 75 % (a 50 % rise)
    # one request per day: a job running in between sees whole days only
    post_events(s, day_events("US", t0 - 2 * DAY, 40, 20, "add_to_cart"))
    post_events(s, day_events("US", t0 - DAY, 40, 10, "add_to_cart"))
    run_jobs(s)
    a = fires_once(s, "cart_abandonment_increase:US", "medium")
    assert a["context"]["previous_bps"] == 5000 and a["context"]["current_bps"] == 7500


def test_alert_order_volume_anomaly(s):
    t0 = today()
    rows = [(uniq("b"), 100000, t0 - d * DAY + 600 + i) for d in range(2, 9) for i in range(5)]
    rows += [(uniq("b"), 100000, t0 - DAY + 600 + i) for i in range(20)]
    insert_orders(s, "IN", rows)
    run_jobs(s)
    a = fires_once(s, "order_volume_anomaly:IN", "medium")
    assert a["context"]["orders"] == 20 and a["context"]["previous_7_days"] == 35


def test_database_optimization(s):
    # SLOW_QUERY_MS=0 here: every statement is logged
    expect(s.get("/api/analytics/alerts?status=all", token=s.admin()), 200)
    body = expect(s.get("/api/analytics/database/optimization?hours=1&limit=50", token=s.admin()), 200)
    assert body["slow_query_ms"] == 0 and body["driver"] in ("sqlite", "postgresql")
    rows = body["data"]
    assert rows and all(r["calls"] >= 1 and r["total_ms"] >= r["max_ms"] >= 0 for r in rows)
    totals = [r["total_ms"] for r in rows]
    assert totals == sorted(totals, reverse=True)
    listed = [r for r in rows if "FROM system_alerts WHERE ($1 = 0 OR id < $1)" in r["sql"]]
    assert listed and listed[0]["plan"] and "system_alerts" in listed[0]["plan"]
    assert isinstance(listed[0]["suggestions"], list)
    stored = int(s.db.sql("SELECT COUNT(*) FROM database_optimizations")[0][0])
    assert stored >= len(rows)


def test_dashboard_page_renders_in_chromium(s):
    page = s.get("/dashboard")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" in page.body and "http://" not in page.body.replace("http://www.w3.org/2000/svg", "")
    post_events(s, day_events("US", today(), 8, 2))
    chromium = subprocess.run(["sh", "-c", "command -v chromium"], capture_output=True, text=True).stdout.strip()
    assert chromium, "chromium is not installed (make deps installs it)"
    url = "http://127.0.0.1:%d/dashboard#token=%s" % (s.port, s.admin())
    art = os.path.join(ROOT, "tests", "artifacts")
    os.makedirs(art, exist_ok=True)
    shot = os.path.join(art, "dashboard-%s.png" % s.db.driver)
    if os.path.exists(shot):
        os.remove(shot)
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1280,900", "--virtual-time-budget=5000"]
    with tempfile.TemporaryDirectory() as prof:
        dom = subprocess.run(base + ["--user-data-dir=" + prof, "--dump-dom", url], capture_output=True,
                             text=True, timeout=120).stdout
    with tempfile.TemporaryDirectory() as prof:
        subprocess.run(base + ["--user-data-dir=" + prof, "--screenshot=" + shot, url], capture_output=True,
                       timeout=120)
    assert "data-error=\"" not in dom, re.search(r'data-error="[^"]*"', dom)
    m = re.search(r'data-rendered="kpis funnel latency alerts bars=(\d+)"', dom)
    assert m and int(m.group(1)) >= 10, dom[:2000]
    assert "<title>mandi dashboard (ready)</title>" in dom
    assert os.path.getsize(shot) > 10000
    # without a token the page asks for one and shows no figures
    with tempfile.TemporaryDirectory() as prof:
        bare = subprocess.run(base + ["--user-data-dir=" + prof, "--dump-dom",
                                      "http://127.0.0.1:%d/dashboard" % s.port],
                              capture_output=True, text=True, timeout=120).stdout
    assert 'data-rendered="' not in bare and '<div id="login">' in bare
