"""Additional markets are data: an admin adds EU (EUR, VAT 20 % included in
prices) and it works end to end with no code change, on this instance at
once and on the others within the market-reload interval."""
import time

import harness
from harness import expect, uniq
from platform_fixtures import merchant, product

SERVER_ENV = {"CACHE_TYPE": "none"}


def eu(code="EU", **over):
    body = {
        "code": code, "name": "European Union", "currency": "EUR", "tax_rate_bps": 2000,
        "prices_include_tax": True, "free_shipping_threshold": 7500,
        "languages": ["en-IE", "de-DE", "fr-FR"], "business_hours": "9AM-6PM",
        "timezone": "Europe/Berlin",
        "gateways": [{"code": "stripe", "name": "Stripe", "kind": "card"},
                     {"code": "paypal", "name": "PayPal", "kind": "wallet"}],
        "shipping_methods": [
            {"code": "standard", "name": "Standard", "cost": 499, "min_days": 3, "max_days": 6,
             "carrier": "DHL"},
            {"code": "express", "name": "Express", "cost": 1299, "min_days": 1, "max_days": 2,
             "carrier": "DHL"}],
    }
    body.update(over)
    return body


def markets(s):
    return {m["code"]: m for m in expect(s.get("/api/ecommerce/markets"), 200)["data"]}


def served_everywhere(s, code):
    """The instance that took the POST serves the market at once, the others
    after their next market-reload (2 s): wait until several consecutive
    requests (round-robin over every instance behind nginx) see it."""
    deadline, streak = time.time() + 20, 0
    while streak < 4 and time.time() < deadline:
        streak = streak + 1 if code in markets(s) else 0
        if streak < 4:
            time.sleep(0.2)
    assert streak == 4, "market %s not served everywhere" % code


def test_eu_market_added_as_data_works_end_to_end(s):
    expect(s.get("/api/social/trending-products?market=EU"), 400, "unknown_market")
    created = expect(s.post("/api/ecommerce/markets", eu(), token=s.admin()), 201)
    assert created["served"] is True and created["id"] > 0
    served_everywhere(s, "EU")
    got = markets(s)["EU"]
    assert (got["currency"], got["tax_rate_bps"], got["prices_include_tax"]) == ("EUR", 2000, True)
    assert got["gateways"] == ["stripe", "paypal"]
    assert {m["code"]: m["cost"] for m in got["shipping_methods"]} == {"standard": 499, "express": 1299}
    assert got["free_shipping_threshold_display"] == "\u20ac75.00"
    assert got["languages"] == ["en-IE", "de-DE", "fr-FR"]
    assert (got["business_hours"], got["timezone"]) == ("9AM-6PM", "Europe/Berlin")
    assert got["cod_support"] is False
    assert {k: v for k, v in created.items() if k != "served"} == got
    # merchants and products in the new market
    mid = merchant(s, "EU")
    listed = expect(s.get("/api/ecommerce/merchants?market=EU"), 200)["data"]
    assert [m["id"] for m in listed] == [mid]
    pid = product(s, mid, "Trench coat", "tops", None, {"EU": 1234599}, 10 ** 12)
    body = expect(s.get("/api/social/trending-products?market=EU"), 200)
    assert body["currency"] == "EUR" and body["market"] == "EU"
    assert body["data"][0]["id"] == pid
    assert body["data"][0]["price_display"] == "\u20ac12,345.99"
    other = product(s, mid, "Mac coat", "tops", None, {"EU": 19999})
    sim = expect(s.get("/api/catalog/similar/%d?market=EU" % pid), 200)
    assert [x["id"] for x in sim["data"]] == [other]
    # US and IN are untouched, unknown codes are still refused
    assert set(markets(s)) == {"US", "IN", "EU"}
    expect(s.get("/api/ecommerce/merchants?market=XX"), 400, "unknown_market")


def test_market_creation_is_validated(s):
    url, tok = "/api/ecommerce/markets", s.admin()
    expect(s.post(url, eu("GB")), 401, "unauthorized")
    expect(s.post(url, eu("GB"), user=uniq("u")), 403, "forbidden")
    expect(s.post(url, eu("gb"), token=tok), 400, "validation_failed")
    expect(s.post(url, eu("GBR"), token=tok), 400, "validation_failed")
    expect(s.post(url, eu("GB", currency="eu"), token=tok), 400, "validation_failed")
    expect(s.post(url, eu("GB", tax_rate_bps=10001), token=tok), 400, "validation_failed")
    expect(s.post(url, eu("GB", timezone="Berlin"), token=tok), 400, "validation_failed")
    expect(s.post(url, eu("GB", languages=[]), token=tok), 400, "validation_failed")
    expect(s.post(url, eu("GB", gateways=[{"code": "x", "kind": "magic"}]), token=tok), 400,
           "validation_failed")
    no_standard = [{"code": "express", "cost": 1, "min_days": 1, "max_days": 2}]
    r = expect(s.post(url, eu("GB", shipping_methods=no_standard), token=tok), 400, "validation_failed")
    assert "standard" in r["error"]["message"]
    bad_days = [{"code": "standard", "cost": 1, "min_days": 5, "max_days": 2}]
    expect(s.post(url, eu("GB", shipping_methods=bad_days), token=tok), 400, "validation_failed")
    expect(s.post(url, dict(eu("GB"), vat=1), token=tok), 400, "validation_failed")
    expect(s.post(url, eu("US"), token=tok), 409, "conflict")
    # nothing was written by any of the refused requests
    assert s.db.sql("SELECT COUNT(*) FROM markets WHERE code = 'GB'") == [["0"]]
    assert set(markets(s)) >= {"US", "IN"} and "GB" not in markets(s)


def test_other_instances_pick_up_a_new_market(s):
    other = harness.Server(s.db).start(seed=False)
    try:
        assert "NL" not in markets(other)
        expect(s.post("/api/ecommerce/markets", eu("NL", name="Netherlands"), token=s.admin()), 201)
        deadline = time.time() + 20
        while "NL" not in markets(other) and time.time() < deadline:
            time.sleep(0.5)
        assert markets(other)["NL"]["name"] == "Netherlands"
        expect(other.get("/api/social/trending-products?market=NL"), 200)
    finally:
        other.stop()


def test_pinned_supported_markets_gate_added_markets(s):
    pinned = harness.Server(s.db, env={"SUPPORTED_MARKETS": "US,IN"}).start(seed=False)
    try:
        created = expect(pinned.post("/api/ecommerce/markets", eu("SE", currency="SEK"),
                                     token=pinned.admin()), 201)
        assert created["served"] is False
        assert set(markets(pinned)) == {"US", "IN"}
        expect(pinned.get("/api/social/trending-products?market=SE"), 400, "unknown_market")
        # the same row is served where SUPPORTED_MARKETS is "*" (the default)
        served_everywhere(s, "SE")
        assert markets(s)["SE"]["currency"] == "SEK"
    finally:
        pinned.stop()


def test_eu_market_checkout_end_to_end(s):
    """Cart, checkout and order in a market that exists only as data: EUR,
    VAT 20 % included in prices, its own shipping and free-shipping rule."""
    from commerce_util import VISA, add, complete, start
    from commerce_util import merchant as commerce_merchant
    expect(s.post("/api/ecommerce/markets", eu("DE", name="Germany"), token=s.admin()), 201)
    served_everywhere(s, "DE")
    mid, _ = commerce_merchant(s, "DE")
    body = {"merchant_id": mid, "name": "Wool coat", "brand": "Loden", "category": "tops",
            "description": "Warm", "tags": ["winter"],
            "variants": [{"sku": uniq("SKU"), "size": "M", "color": "green", "stock": 5,
                          "prices": {"DE": 5999}}]}
    p = expect(s.post("/api/catalog/products", body, token=s.admin()), 201)
    pid, vid = p["id"], p["variants"][0]["id"]
    user = uniq("eu-shopper")
    cart = expect(add(s, user, pid, vid, 2, market="DE"), 200)
    assert cart["currency"] == "EUR" and cart["subtotal"] == 11998
    # 11998 >= 7500: standard shipping is free; VAT is inside the prices
    assert cart["shipping"] == 0
    assert cart["tax"] == (11998 * 2000 * 2 + 12000) // (12000 * 2)  # round half up: 2000
    assert cart["total"] == 11998
    address = {"name": "Eva Braun", "line1": "Hauptstr. 1", "city": "Berlin", "state": "BE",
               "postal_code": "10115", "country": "DE"}
    sess = start(s, user, market="DE", address=address, method="express")
    assert sess["shipping"] == 1299 and sess["total"] == 11998 + 1299
    assert {m["code"] for m in sess["shipping_methods"]} == {"standard", "express"}
    order = expect(complete(s, user, sess["id"], VISA), 201)
    assert order["order_number"].startswith("DE-")
    assert (order["currency"], order["total"], order["tax"]) == ("EUR", 13297, 2000)
    # a gateway the market does not offer
    user2 = uniq("eu-shopper")
    expect(add(s, user2, pid, vid, 1, market="DE"), 200)
    sess = start(s, user2, market="DE", address=address)
    expect(complete(s, user2, sess["id"], {"gateway": "razorpay", "vpa": "success@razorpay"}),
           400, "gateway_unavailable")
