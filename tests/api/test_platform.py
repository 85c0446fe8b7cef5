"""WS3 visual search and WS4 social, against fakes that answer, are slow, fail,
talk nonsense or are down: mandi answers within its budget, falls back on its
own data, and says which source it used. Also the circuit breaker."""
import time

import harness
from harness import expect, uniq
from platform_fixtures import FakeService, merchant, product

VISION = FakeService()
SOCIAL = FakeService()
USERS = FakeService()
AI = FakeService()
BUDGET_MS = 400
SERVER_ENV = {
    "VISION_SERVICE_URL": VISION.url,
    "SOCIAL_SERVICE_URL": SOCIAL.url,
    "USER_SERVICE_URL": USERS.url,
    "AI_SERVICE_URL": AI.url,
    "INTEGRATION_TIMEOUT_MS": str(BUDGET_MS),
    # breaker behaviour has its own servers below; here failures must not open it
    "INTEGRATION_BREAKER_FAILURES": "1000",
    "CACHE_TYPE": "none",
}

_pop = [10 ** 9]


def popularity():
    """Strictly decreasing popularity, so each test's products lead the market."""
    _pop[0] += 10 ** 6
    return _pop[0]


def three_dresses(s):
    m = merchant(s)
    brand = uniq("B")
    a = product(s, m, "Wrap dress", "dresses", brand, {"US": 5999, "IN": 249900})
    b = product(s, m, "Slip dress", "dresses", brand, {"US": 4999})
    c = product(s, m, "Shirt dress", "dresses", None, {"US": 3999})
    return a, b, c


def test_similar_from_vision_keeps_its_order_and_drops_unknown_ids(s):
    a, b, c = three_dresses(s)
    VISION.reset()
    VISION.answers["/api/vision/similar-products/%d" % a] = {"products": [
        {"product_id": c, "score": 0.97}, {"product_id": 99999999, "score": 0.9},
        {"product_id": a, "score": 0.8}, {"product_id": b, "score": 0.5}]}
    body = expect(s.get("/api/catalog/similar/%d?market=US&limit=5" % a), 200)
    assert body["source"] == "vision" and body["fallback_reason"] is None
    assert [x["id"] for x in body["data"]] == [c, b]
    assert body["data"][0]["score"] == 0.97
    assert body["data"][0]["price"] == 3999 and body["data"][0]["price_display"] == "$39.99"
    assert body["currency"] == "USD" and body["next_cursor"] is None
    method, path, _ = VISION.requests[0]
    assert method == "GET" and path.startswith("/api/vision/similar-products/%d?" % a)
    assert "market=US" in path and "limit=5" in path


def test_similar_falls_back_to_catalog_when_vision_fails(s):
    a, b, c = three_dresses(s)
    VISION.reset("fail")
    body = expect(s.get("/api/catalog/similar/%d?market=US&limit=50" % a), 200)
    assert body["source"] == "catalog" and body["fallback_reason"] == "http_error"
    ids = [x["id"] for x in body["data"]]
    assert a not in ids
    assert ids[0] == b, "same brand comes first: %r" % ids
    assert c in ids
    assert all(x["category"] == "dresses" for x in body["data"])


def test_similar_answers_within_budget_when_vision_is_slow(s):
    a, b, _ = three_dresses(s)
    VISION.reset("slow")
    t0 = time.time()
    body = expect(s.get("/api/catalog/similar/%d?market=US" % a), 200)
    elapsed = time.time() - t0
    assert body["source"] == "catalog" and body["fallback_reason"] == "timeout"
    assert b in [x["id"] for x in body["data"]]
    # the fake sleeps 3 s; mandi gave up after its 0.4 s budget
    assert elapsed < 2.0, "took %.2fs" % elapsed
    assert len(VISION.requests) == 1, "a timeout is not retried"


def test_similar_falls_back_on_a_nonsense_answer(s):
    a, _, _ = three_dresses(s)
    VISION.reset("garbage")
    body = expect(s.get("/api/catalog/similar/%d?market=US" % a), 200)
    assert (body["source"], body["fallback_reason"]) == ("catalog", "bad_response")
    VISION.reset()
    VISION.answers["/api/vision/similar-products/"] = {"products": [{"product_id": "x"}]}
    body = expect(s.get("/api/catalog/similar/%d?market=US" % a), 200)
    assert (body["source"], body["fallback_reason"]) == ("catalog", "bad_response")


def test_safe_calls_are_retried_once_on_503(s):
    a, b, _ = three_dresses(s)
    VISION.reset("flaky")
    VISION.answers["/api/vision/similar-products/"] = {"products": [{"product_id": b, "score": 1}]}
    body = expect(s.get("/api/catalog/similar/%d?market=US" % a), 200)
    assert body["source"] == "vision", body
    assert len(VISION.requests) == 2


def test_similar_bad_input(s):
    a, _, _ = three_dresses(s)
    VISION.reset()
    expect(s.get("/api/catalog/similar/99999999?market=US"), 404, "not_found")
    expect(s.get("/api/catalog/similar/abc"), 404, "not_found")
    expect(s.get("/api/catalog/similar/%d?market=XX" % a), 400, "unknown_market")
    expect(s.get("/api/catalog/similar/%d?limit=0" % a), 400, "validation_failed")
    expect(s.get("/api/catalog/similar/%d?limit=51" % a), 400, "validation_failed")
    # priced in US only: not sold in IN
    m = merchant(s)
    us_only = product(s, m, "US-only tee", "tops", None, {"US": 1999})
    expect(s.get("/api/catalog/similar/%d?market=IN" % us_only), 404, "not_found")
    assert not VISION.requests, "bad input never reaches the service"


def test_image_search_proxies_to_vision(s):
    a, b, c = three_dresses(s)
    VISION.reset()
    VISION.answers["/api/vision/product-search"] = {"products": [
        {"product_id": b, "score": 0.91}, {"product_id": a, "score": 0.6}]}
    body = expect(s.post("/api/catalog/image-search", {
        "market": "US", "image_url": "https://img.example/look.jpg", "limit": 5}), 200)
    assert body["source"] == "vision"
    assert [x["id"] for x in body["data"]] == [b, a]
    method, path, sent = VISION.requests[0]
    assert (method, path) == ("POST", "/api/vision/product-search")
    import json
    assert json.loads(sent) == {"market": "US", "limit": 5, "image_url": "https://img.example/look.jpg"}
    body = expect(s.post("/api/catalog/image-search", {"image_base64": "aGVsbG8="}), 200)
    assert json.loads(VISION.requests[1][2])["image_base64"] == "aGVsbG8="


def test_image_search_falls_back_to_popular_in_category(s):
    m = merchant(s)
    top = product(s, m, "Tote", "bags", None, {"US": 8999}, popularity())
    second = product(s, m, "Clutch", "bags", None, {"US": 6999}, popularity() - 2 * 10 ** 6)
    VISION.reset("fail")
    body = expect(s.post("/api/catalog/image-search", {
        "market": "US", "image_url": "https://img.example/bag.jpg", "category": "bags"}), 200)
    assert (body["source"], body["fallback_reason"]) == ("catalog_popular", "http_error")
    ids = [x["id"] for x in body["data"]]
    assert ids[:2] == [top, second], ids
    assert all(x["category"] == "bags" for x in body["data"])


def test_image_search_bad_input(s):
    VISION.reset()
    url = "/api/catalog/image-search"
    expect(s.post(url, {}), 400, "validation_failed")
    expect(s.post(url, {"image_url": "https://a/b.jpg", "image_base64": "aGVsbG8="}), 400,
           "validation_failed")
    expect(s.post(url, {"image_url": "file:///etc/passwd"}), 400, "validation_failed")
    expect(s.post(url, {"image_base64": "not base64!"}), 400, "validation_failed")
    expect(s.post(url, {"image_url": "https://a/b.jpg", "category": "../x"}), 400, "validation_failed")
    expect(s.post(url, {"image_url": "https://a/b.jpg", "market": "XX"}), 400, "unknown_market")
    expect(s.post(url, {"image_url": "https://a/b.jpg", "colour": "red"}), 400, "validation_failed")
    expect(s.post(url, raw=b"{nope", headers={"Content-Type": "application/json"}), 400, "invalid_json")
    assert not VISION.requests


def test_trending_from_social(s):
    a, b, c = three_dresses(s)
    SOCIAL.reset()
    SOCIAL.answers["/api/social/trending-products"] = {"products": [
        {"product_id": b, "score": 120}, {"product_id": c, "score": 80}]}
    body = expect(s.get("/api/social/trending-products?market=US&limit=2"), 200)
    assert body["source"] == "social" and body["fallback_reason"] is None
    assert [x["id"] for x in body["data"]] == [b, c]
    assert "market=US" in SOCIAL.requests[0][1] and "limit=2" in SOCIAL.requests[0][1]


def test_trending_falls_back_on_own_data_then_on_the_snapshot(s):
    m = merchant(s)
    hot = product(s, m, "Hot sneaker", "shoes", None, {"US": 11999, "IN": 899900}, popularity())
    SOCIAL.reset("fail")
    # no snapshot yet for this data: computed on the spot from our catalog
    s.db.sql("DELETE FROM trending_products")
    body = expect(s.get("/api/social/trending-products?market=IN&limit=3"), 200)
    assert (body["source"], body["fallback_reason"]) == ("catalog_popular", "http_error")
    assert body["data"][0]["id"] == hot
    assert body["data"][0]["price_display"] == "\u20b98,999.00" and body["currency"] == "INR"
    # the trending-refresh job writes the snapshot the fallback then serves
    # (the server took the job's lease when it started: free it for run-once)
    s.db.sql("DELETE FROM job_leases WHERE name = 'trending-refresh'")
    assert "0 failed" in s.run("jobs", "run-once").stdout
    body = expect(s.get("/api/social/trending-products?market=IN&limit=3"), 200)
    assert (body["source"], body["fallback_reason"]) == ("trending_snapshot", "http_error")
    assert body["data"][0]["id"] == hot
    rows = s.db.sql("SELECT product_id FROM trending_products t JOIN markets mk ON mk.id = t.market_id "
                    "WHERE mk.code = 'IN' AND rank = 1")
    assert rows == [[str(hot)]]


def test_trending_bad_input(s):
    expect(s.get("/api/social/trending-products?market=ZZ"), 400, "unknown_market")
    expect(s.get("/api/social/trending-products?limit=-1"), 400, "validation_failed")


def test_unreachable_and_unconfigured_services(s):
    """Vision at a port nobody listens on, social not configured at all."""
    srv = harness.Server(s.db, env={"VISION_SERVICE_URL": "http://127.0.0.1:%d" % harness.free_port(),
                                    "SOCIAL_SERVICE_URL": "", "INTEGRATION_TIMEOUT_MS": "300"})
    srv.start(seed=False)
    try:
        a, b, _ = three_dresses(s)
        body = expect(srv.get("/api/catalog/similar/%d?market=US" % a), 200)
        assert (body["source"], body["fallback_reason"]) == ("catalog", "unreachable")
        assert b in [x["id"] for x in body["data"]]
        body = expect(srv.get("/api/social/trending-products?market=US"), 200)
        assert body["fallback_reason"] == "not_configured"
        assert body["source"] in ("trending_snapshot", "catalog_popular")
    finally:
        srv.stop()


def test_circuit_breaker_opens_then_recovers(s):
    fake = FakeService()
    srv = harness.Server(s.db, env={"VISION_SERVICE_URL": fake.url, "INTEGRATION_TIMEOUT_MS": "300",
                                    "INTEGRATION_BREAKER_FAILURES": "2",
                                    "INTEGRATION_BREAKER_OPEN_S": "1", "CACHE_TYPE": "none"})
    srv.start(seed=False)
    try:
        a, b, _ = three_dresses(s)
        url = "/api/catalog/similar/%d?market=US" % a
        fake.reset("fail")
        for _ in range(2):
            assert expect(srv.get(url), 200)["fallback_reason"] == "http_error"
        called = len(fake.requests)
        # open: the service is not called at all
        for _ in range(3):
            assert expect(srv.get(url), 200)["fallback_reason"] == "circuit_open"
        assert len(fake.requests) == called
        status = {x["service"]: x for x in expect(srv.get("/api/platform/integrations",
                                                          token=srv.admin()), 200)["data"]}
        assert status["vision"]["circuit"] == "open" and status["vision"]["short_circuited"] == 3
        assert status["social"]["configured"] is False
        # after the open period one trial call goes through; success closes it
        fake.reset()
        fake.answers["/api/vision/similar-products/"] = {"products": [{"product_id": b, "score": 1}]}
        time.sleep(1.2)
        assert expect(srv.get(url), 200)["source"] == "vision"
        assert expect(srv.get(url), 200)["source"] == "vision"
        status = {x["service"]: x for x in expect(srv.get("/api/platform/integrations",
                                                          token=srv.admin()), 200)["data"]}
        assert status["vision"]["circuit"] == "closed"
    finally:
        srv.stop()
        fake.httpd.shutdown()


def test_integrations_status_is_admin_only(s):
    expect(s.get("/api/platform/integrations"), 401, "unauthorized")
    expect(s.get("/api/platform/integrations", user=uniq("u")), 403, "forbidden")
    body = expect(s.get("/api/platform/integrations", token=s.admin()), 200)
    assert [x["service"] for x in body["data"]] == ["user", "ai", "vision", "social"]


def test_style_suggestions_from_ai_with_user_preferences(s):
    a, b, c = three_dresses(s)
    user = "%s@example.com" % uniq("ann")  # escaped in the service URLs
    USERS.reset()
    AI.reset()
    USERS.answers["/api/users/"] = {"categories": ["dresses"], "brands": ["Zara"], "sizes": ["M"]}
    AI.answers["/api/ai/styling-suggestions/"] = {"products": [{"product_id": c, "score": 0.9},
                                                               {"product_id": a, "score": 0.4}]}
    body = expect(s.get("/api/catalog/style-suggestions/%s?market=US" % user, user=user), 200)
    assert body["source"] == "ai" and [x["id"] for x in body["data"]] == [c, a]
    assert body["preferences"] == {"source": "user_service", "fallback_reason": None,
                                   "categories": ["dresses"], "brands": ["Zara"]}
    esc = user.replace("@", "%40")
    assert USERS.requests[0][1] == "/api/users/%s/preferences" % esc
    assert AI.requests[0][1].startswith("/api/ai/styling-suggestions/%s?market=US" % esc)


def test_style_suggestions_fall_back_on_preferences_then_popularity(s):
    m = merchant(s)
    brand = uniq("Pref")
    other = product(s, m, "Plain skirt", "bottoms", None, {"US": 2999}, popularity())
    liked = product(s, m, "Liked skirt", "bottoms", brand, {"US": 3999}, 1)
    user = uniq("u")
    USERS.reset()
    AI.reset("slow")
    USERS.answers["/api/users/"] = {"categories": ["bottoms"], "brands": [brand]}
    t0 = time.time()
    body = expect(s.get("/api/catalog/style-suggestions/%s?market=US&limit=50" % user, user=user), 200)
    assert time.time() - t0 < 2.5
    assert (body["source"], body["fallback_reason"]) == ("preferences", "timeout")
    ids = [x["id"] for x in body["data"]]
    assert ids[0] == liked, "the preferred brand leads"
    assert other in ids and all(x["category"] == "bottoms" for x in body["data"])
    # WS1 down too: the market's most popular products
    USERS.reset("fail")
    AI.reset("fail")
    body = expect(s.get("/api/catalog/style-suggestions/%s?market=US" % user, user=user), 200)
    assert (body["source"], body["fallback_reason"]) == ("catalog_popular", "http_error")
    assert body["preferences"]["source"] == "none"
    assert body["preferences"]["fallback_reason"] == "http_error"
    # a user WS1 does not know is not a failure
    USERS.reset()
    body = expect(s.get("/api/catalog/style-suggestions/%s?market=US" % user, user=user), 200)
    assert body["preferences"]["fallback_reason"] == "no_preferences"


def test_style_suggestions_are_private(s):
    expect(s.get("/api/catalog/style-suggestions/someone"), 401, "unauthorized")
    expect(s.get("/api/catalog/style-suggestions/someone", user=uniq("u")), 403, "forbidden")
    AI.reset("fail")
    USERS.reset("fail")
    expect(s.get("/api/catalog/style-suggestions/someone", token=s.admin()), 200)
    expect(s.get("/api/catalog/style-suggestions/u1?market=XX", user="u1"), 400, "unknown_market")
