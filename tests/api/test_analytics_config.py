"""Analytics switches: the events rate limit, ANALYTICS_ENABLED=false and
PERFORMANCE_MONITORING=false (each on its own server)."""
import commerce_util
import harness
from harness import expect

SHARED_SERVER = False


def with_server(db, env, fn):
    """Each switch gets a database of its own: servers flush their metrics at exit."""
    own = harness.Database(db.driver)
    s = harness.Server(own, env=env).start()
    try:
        fn(s)
    finally:
        s.stop()
        own.drop()


def test_events_rate_limited_per_client_address(db):
    def check(s):
        ev = {"events": [{"type": "page_view", "session_id": "r"}]}
        for _ in range(5):
            expect(s.post("/api/analytics/events", ev), 202)
        r = s.post("/api/analytics/events", ev)
        expect(r, 429, "rate_limited")
        assert 1 <= int(r.headers["retry-after"]) <= 60
        # refused batches are not stored
        assert int(s.db.sql("SELECT COUNT(*) FROM user_behavior_analytics")[0][0]) == 5
    with_server(db, {"ANALYTICS_EVENTS_PER_MINUTE": "5"}, check)


def test_analytics_disabled_validates_but_stores_nothing(db):
    def check(s):
        body = expect(s.post("/api/analytics/events", {"events": [{"type": "product_view", "product_id": 3}]}), 202)
        assert body == {"accepted": 1, "recorded": False}
        expect(s.post("/api/analytics/events", {"events": [{"type": "nope"}]}), 400, "validation_failed")
        assert s.db.sql("SELECT COUNT(*) FROM user_behavior_analytics") == [["0"]]
        assert s.db.sql("SELECT COUNT(*) FROM ecommerce_analytics") == [["0"]]
    with_server(db, {"ANALYTICS_ENABLED": "false"}, check)


def test_performance_monitoring_off_records_no_requests(db):
    def check(s):
        for _ in range(5):
            expect(s.get("/health"), 200)
        body = expect(s.get("/api/analytics/performance/metrics?hours=1", token=s.admin()), 200)
        assert body["data"] == [] and body["routes"] == []
        text = s.get("/metrics", token=s.admin()).body
        assert "mandi_http_requests_total{" not in text
    with_server(db, {"PERFORMANCE_MONITORING": "false"}, check)


def test_bad_analytics_configuration_stops_start_up(db):
    for env, name in (({"EXCHANGE_RATE_USD_INR": "eighty"}, "EXCHANGE_RATE_USD_INR"),
                      ({"EXCHANGE_RATE_USD_INR": "0"}, "EXCHANGE_RATE_USD_INR"),
                      ({"SLOW_QUERY_MS": "-1"}, "SLOW_QUERY_MS"),
                      ({"ANALYTICS_EVENTS_PER_MINUTE": "0"}, "ANALYTICS_EVENTS_PER_MINUTE")):
        s = harness.Server(db, env=env)
        out = s.run("serve", check=False)
        assert out.returncode != 0 and name in out.stderr, (env, out.stderr[-500:])


def test_queued_server_events_are_written_at_shutdown(db):
    """The server's own events and search counts wait in a queue for batch
    writing: a SIGTERM right after the sales and searches must still store
    every one of them, and count each visitor once."""
    own = harness.Database(db.driver)
    # nothing is written on a timer here: only the shutdown drain can store them
    s = harness.Server(own, env={"ANALYTICS_FLUSH_MS": "3600000"}).start()
    try:
        pid, vid, _ = commerce_util.product(s, stock=1000)
        users = ["queued-%d" % i for i in range(3)]
        for i in range(30):
            expect(commerce_util.add(s, users[i % 3], pid, vid), 200)
        for q in ("Zqx Nothing", "zqx  nothing", "Linen"):
            expect(s.get("/api/catalog/search?market=US&q=" + q.replace(" ", "+")), 200)
    finally:
        s.stop()
    try:
        assert own.sql("SELECT COUNT(*) FROM user_behavior_analytics WHERE event_type = 'add_to_cart'") == [["30"]]
        counters = dict(own.sql("SELECT metric, value FROM ecommerce_analytics"))
        assert counters["events_add_to_cart"] == "30" and counters["visitors_add_to_cart"] == "3"
        assert own.sql("SELECT carts FROM analytics_product_daily WHERE product_id = %d" % pid) == [["30"]]
        # searches are counted per normalised text; those that found nothing are events too
        assert own.sql("SELECT query, searches, zero_results FROM analytics_search_daily ORDER BY query") == \
            [["linen", "1", "0"], ["zqx nothing", "2", "2"]]
        assert own.sql("SELECT COUNT(*) FROM user_behavior_analytics WHERE event_type = 'search'") == [["2"]]
    finally:
        own.drop()
