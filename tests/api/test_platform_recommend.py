"""GET /api/catalog/recommendations blends the platform services into the
stored list: WS1 preferences re-rank it for a signed-in shopper, WS2's
suggestions are interleaved (sold in the market, in stock, never the product
itself), each with a reason. Against fakes that answer, are slow, fail or
are down, the answer comes within the budget from the stored list and says
which sources shaped it."""
import json
import time

import harness
from harness import expect, uniq
from catalog_util import make_merchant, create
from platform_fixtures import FakeService
from test_catalog_recommend import run_jobs

USERS = FakeService()
AI = FakeService()
BUDGET_MS = 400
SERVER_ENV = {
    "USER_SERVICE_URL": USERS.url,
    "AI_SERVICE_URL": AI.url,
    "INTEGRATION_TIMEOUT_MS": str(BUDGET_MS),
    "INTEGRATION_BREAKER_FAILURES": "1000",
}


def variant(size="M", color="red", stock=10, prices=None):
    return {"sku": uniq("S"), "size": size, "color": color, "stock": stock,
            "prices": prices or {"US": 4000, "IN": 200000}}


def catalog(s):
    """A dress and four stored recommendations for it; a fifth product only
    WS2 knows about, one sold out and one not sold in IN."""
    mid, tok = make_merchant(s)
    brand, liked = uniq("House"), uniq("Liked")
    p = {}
    p["dress"] = create(s, tok, mid, brand=brand, category="dresses", tags=["linen", "summer"],
                        variants=[variant()])
    p["twin"] = create(s, tok, mid, brand=brand, category="dresses", tags=["linen", "summer"],
                       variants=[variant()])
    p["cousin"] = create(s, tok, mid, brand=brand, category="dresses", tags=["linen"],
                         variants=[variant(prices={"US": 4100, "IN": 200000})])
    p["liked"] = create(s, tok, mid, brand=liked, category="dresses",
                        variants=[variant(size="XS", color="green", prices={"US": 2500, "IN": 90000})])
    p["bag"] = create(s, tok, mid, brand=uniq("Bag"), category="bags", variants=[variant()])
    p["sold_out"] = create(s, tok, mid, category="bags", variants=[variant(stock=0)])
    p["us_only"] = create(s, tok, mid, category="bags", variants=[variant(prices={"US": 3000})])
    run_jobs(s)
    p["liked_brand"] = liked
    return {k: (v["id"] if isinstance(v, dict) else v) for k, v in p.items()}


def url(pid, market="US", limit=12):
    return "/api/catalog/recommendations/%d?market=%s&limit=%d" % (pid, market, limit)


def test_stored_only_for_an_anonymous_caller_when_ai_has_nothing(s):
    p = catalog(s)
    USERS.reset()
    AI.reset()  # answers 404 to everything
    body = expect(s.get(url(p["dress"])), 200)
    assert body["source"] == "stored" and body["sources"] == ["stored"]
    assert body["fallback_reason"] == "http_error"
    assert body["preferences"] == {"source": "none", "fallback_reason": "not_signed_in"}
    assert body["ai"] == {"source": "none", "fallback_reason": "http_error"}
    assert not USERS.requests, "no user, no WS1 call"
    ids = [x["id"] for x in body["data"]]
    assert ids[0] == p["twin"] and p["dress"] not in ids
    assert all("matched" not in x for x in body["data"])
    method, path, sent = AI.requests[0]
    assert (method, path) == ("POST", "/api/ai/recommendations")
    assert json.loads(sent) == {"product_id": p["dress"], "market": "US", "limit": 12}


def test_preferences_rerank_and_ai_blends_in(s):
    p = catalog(s)
    user = "%s@example.com" % uniq("ann")
    USERS.reset()
    AI.reset()
    USERS.answers["/api/users/"] = {"brands": [p["liked_brand"]], "sizes": ["xs"], "colors": ["Green"],
                                    "price_range": {"min": 1000, "max": 3000, "currency": "USD"}}
    AI.answers["/api/ai/recommendations"] = {"products": [
        {"product_id": p["dress"], "score": 0.99},      # the product itself: never
        {"product_id": p["sold_out"], "score": 0.95},   # out of stock: dropped
        {"product_id": 99999999, "score": 0.9},         # not ours: dropped
        {"product_id": p["bag"], "score": 0.8}]}
    body = expect(s.get(url(p["dress"]), user=user), 200)
    assert body["source"] == "ai" and body["fallback_reason"] is None
    assert body["sources"] == ["stored", "preferences", "ai"]
    assert body["preferences"] == {"source": "user_service", "fallback_reason": None}
    assert body["ai"] == {"source": "ai", "fallback_reason": None}
    data = body["data"]
    ids = [x["id"] for x in data]
    # the product that meets brand, size, colour and price leads; WS2's second
    assert ids[0] == p["liked"], ids
    assert set(data[0]["matched"]) == {"brand", "size", "color", "price"}
    assert data[0]["reason"] in ("similar", "popular")
    bag = next(x for x in data if x["id"] == p["bag"])
    # the bag may also be stored ("popular"); WS2 put it in second place
    assert ids[1] == p["bag"] and bag["reason"] in ("ai_styling", "popular")
    assert p["dress"] not in ids and p["sold_out"] not in ids and 99999999 not in ids
    assert len(ids) == len(set(ids))
    # out of the price range counts against
    assert ids.index(p["twin"]) > 0
    esc = user.replace("@", "%40")
    assert USERS.requests[0][1] == "/api/users/%s/preferences" % esc
    assert json.loads(AI.requests[0][2])["user_id"] == user


def test_ai_products_are_marked_and_limited_to_the_market(s):
    p = catalog(s)
    USERS.reset()
    AI.reset()
    AI.answers["/api/ai/recommendations"] = {"products": [
        {"product_id": p["us_only"], "score": 0.7}, {"product_id": p["bag"], "score": 0.6}]}
    body = expect(s.get(url(p["liked"], "IN")), 200)
    ids = [x["id"] for x in body["data"]]
    assert p["us_only"] not in ids, "not sold in IN"
    assert p["bag"] in ids
    body = expect(s.get(url(p["liked"], "US", limit=2)), 200)
    assert len(body["data"]) == 2
    assert body["data"][1]["id"] == p["us_only"] and body["data"][1]["reason"] == "ai_styling"
    assert body["data"][1]["score"] == 0.7 and body["data"][1]["currency"] == "USD"


def test_slow_services_answer_from_stored_within_budget(s):
    p = catalog(s)
    USERS.reset("slow")
    AI.reset("slow")
    user = uniq("u")
    t0 = time.time()
    body = expect(s.get(url(p["dress"]), user=user), 200)
    elapsed = time.time() - t0
    # both fakes sleep 3 s; the two calls run side by side within one 0.4 s budget
    assert elapsed < 1.5, "took %.2fs" % elapsed
    assert body["source"] == "stored" and body["sources"] == ["stored"]
    assert body["fallback_reason"] == "timeout"
    assert body["preferences"] == {"source": "none", "fallback_reason": "timeout"}
    assert body["ai"]["fallback_reason"] == "timeout"
    assert [x["id"] for x in body["data"]][0] == p["twin"]


def test_failing_services_and_nonsense(s):
    p = catalog(s)
    user = uniq("u")
    USERS.reset("fail")
    AI.reset("garbage")
    body = expect(s.get(url(p["dress"]), user=user), 200)
    assert (body["source"], body["fallback_reason"]) == ("stored", "bad_response")
    assert body["preferences"]["fallback_reason"] == "http_error"
    # WS1 answers, WS2 fails: re-ranked stored list, the fallback named
    USERS.reset()
    USERS.answers["/api/users/"] = {"brands": [p["liked_brand"]]}
    AI.reset("fail")
    body = expect(s.get(url(p["dress"]), user=user), 200)
    assert (body["source"], body["fallback_reason"]) == ("preferences", "http_error")
    assert body["sources"] == ["stored", "preferences"]
    assert body["data"][0]["id"] == p["liked"] and body["data"][0]["matched"] == ["brand"]
    # a user WS1 does not know is not a failure
    USERS.reset()
    AI.reset()
    AI.answers["/api/ai/recommendations"] = {"products": []}
    body = expect(s.get(url(p["dress"]), user=user), 200)
    assert body["fallback_reason"] is None and body["source"] == "stored"
    assert body["preferences"] == {"source": "none", "fallback_reason": "no_preferences"}


def test_services_down_and_bad_input(s):
    srv = harness.Server(s.db, env={"USER_SERVICE_URL": "http://127.0.0.1:%d" % harness.free_port(),
                                    "AI_SERVICE_URL": "", "INTEGRATION_TIMEOUT_MS": "300"})
    srv.start(seed=False)
    try:
        p = catalog(s)
        body = expect(srv.get(url(p["dress"]), user=uniq("u")), 200)
        assert body["source"] == "stored" and body["fallback_reason"] == "not_configured"
        assert body["preferences"]["fallback_reason"] == "unreachable"
        assert body["ai"] == {"source": "none", "fallback_reason": "not_configured"}
        assert body["data"][0]["id"] == p["twin"]
        # nothing could personalise an anonymous answer here: it is cached
        first = srv.get(url(p["dress"]))
        assert expect(first, 200)["fallback_reason"] == "not_configured"
        expect(srv.get(url(p["us_only"], "IN")), 404, "not_found")
        expect(srv.get(url(p["dress"], "XX")), 400, "unknown_market")
        expect(srv.get("/api/catalog/recommendations/%d?market=US" % p["dress"],
                       headers={"Authorization": "Bearer nope"}), 401, "unauthorized")
    finally:
        srv.stop()
