"""Catalog: product create (CONTRACT §5), detail, update, archive."""
from harness import expect, uniq
from catalog_util import make_merchant, product_body, create


def test_create_product_contract_shape(s):
    mid, tok = make_merchant(s)
    b = product_body(mid, brand=uniq("Brand"))
    b["variants"].append({"sku": uniq("SKU"), "size": "L", "color": "red", "stock": 3,
                          "prices": {"US": 5999}})
    p = expect(s.post("/api/catalog/products", b, token=tok), 201)
    assert isinstance(p["id"], int)
    assert p["merchant_id"] == mid and p["name"] == b["name"] and p["brand"] == b["brand"]
    assert p["category"] == "dresses" and p["description"] == b["description"]
    assert p["tags"] == ["summer", "linen"] and p["status"] == "active"
    assert p["created_at"].endswith("Z")
    assert [v["sku"] for v in p["variants"]] == [v["sku"] for v in b["variants"]]
    v0, v1 = p["variants"]
    assert isinstance(v0["id"], int) and v0["size"] == "M" and v0["color"] == "blue"
    assert v0["stock"] == 25 and v0["prices"] == {"US": 4999, "IN": 249900}
    assert v1["prices"] == {"US": 5999} and v1["stock"] == 3
    # stock went to inventory, brand was created
    rows = s.db.sql("SELECT stock, reserved FROM inventory WHERE variant_id = %d" % v0["id"])
    assert rows == [["25", "0"]]
    assert s.db.sql("SELECT COUNT(*) FROM brands WHERE name = '%s'" % b["brand"]) == [["1"]]


def test_admin_creates_for_any_merchant_merchant_only_own(s):
    mid, tok = make_merchant(s)
    other, _ = make_merchant(s)
    expect(s.post("/api/catalog/products", product_body(other), token=tok), 403, "forbidden")
    p = expect(s.post("/api/catalog/products", product_body(other), token=s.admin()), 201)
    assert p["merchant_id"] == other
    expect(s.post("/api/catalog/products", product_body(mid), user="shopper"), 403, "forbidden")
    expect(s.post("/api/catalog/products", product_body(mid)), 401, "unauthorized")
    r = expect(s.post("/api/catalog/products", product_body(999999), token=s.admin()), 400)
    assert r["error"]["field"] == "merchant_id"


def test_create_validation_names_the_field(s):
    mid, tok = make_merchant(s)

    def variant(**kw):
        v = {"sku": uniq("SKU"), "size": "S", "color": "red", "stock": 1, "prices": {"US": 100}}
        v.update(kw)
        return [v]

    cases = [
        ({"category": "spaceships"}, 400, "validation_failed", "category"),
        ({"variants": variant(prices={"US": -1})}, 400, "validation_failed", "variants[0].prices.US"),
        ({"variants": variant(prices={"XX": 100})}, 400, "unknown_market", "variants[0].prices.XX"),
        ({"variants": variant(prices={"US": "12.50"})}, 400, "validation_failed", "variants[0].prices.US"),
        ({"variants": variant(prices={"US": 12.5})}, 400, "validation_failed", "variants[0].prices.US"),
        ({"variants": variant(stock=-3)}, 400, "validation_failed", "variants[0].stock"),
        ({"variants": variant(sku="has space")}, 400, "validation_failed", "variants[0].sku"),
        ({"variants": variant(weird=1)}, 400, "validation_failed", "variants[0].weird"),
        ({"variants": []}, 400, "validation_failed", "variants"),
        ({"name": ""}, 400, "validation_failed", "name"),
        ({"tags": [1]}, 400, "validation_failed", "tags"),
        ({"status": "gone"}, 400, "validation_failed", "status"),
        ({"extra": True}, 400, "validation_failed", "extra"),
    ]
    for kw, status, code, field in cases:
        r = expect(s.post("/api/catalog/products", product_body(mid, **kw), token=tok), status, code)
        assert r["error"]["field"] == field, (kw, r)
    dup = uniq("SKU")
    two = [{"sku": dup, "stock": 1, "prices": {"US": 1}}, {"sku": dup, "stock": 1, "prices": {"US": 1}}]
    r = expect(s.post("/api/catalog/products", product_body(mid, variants=two), token=tok), 400)
    assert r["error"]["field"] == "variants[1].sku"


def test_duplicate_sku_409_and_nothing_half_written(s):
    mid, tok = make_merchant(s)
    first = create(s, tok, mid)
    sku = first["variants"][0]["sku"]
    before = s.db.sql("SELECT COUNT(*) FROM products")[0][0]
    name = uniq("Half")
    b = product_body(mid, name=name, brand=uniq("NewBrand"))
    b["variants"].append({"sku": sku, "stock": 1, "prices": {"US": 100}})
    r = expect(s.post("/api/catalog/products", b, token=tok), 409, "conflict")
    assert r["error"]["field"] == "variants[1].sku"
    assert s.db.sql("SELECT COUNT(*) FROM products")[0][0] == before
    assert s.db.sql("SELECT COUNT(*) FROM product_variants WHERE sku = '%s'" % b["variants"][0]["sku"]) == [["0"]]
    assert s.db.sql("SELECT COUNT(*) FROM brands WHERE name = '%s'" % b["brand"]) == [["0"]]


def test_detail_in_market_with_price_display_and_stock_status(s):
    mid, tok = make_merchant(s)
    b = product_body(mid, variants=[
        {"sku": uniq("S"), "size": "S", "color": "red", "stock": 0, "prices": {"US": 4999, "IN": 249900}},
        {"sku": uniq("S"), "size": "M", "color": "red", "stock": 3, "prices": {"US": 5999, "IN": 12345678}},
        {"sku": uniq("S"), "size": "L", "color": "red", "stock": 50, "prices": {"US": 6999}},
    ])
    p = create(s, tok, mid, **{k: b[k] for k in ("variants",)})
    us = expect(s.get("/api/catalog/products/%d?market=US" % p["id"]), 200)
    assert us["currency"] == "USD" and us["market"] == "US"
    assert us["price"] == 4999 and us["price_display"] == "$49.99" and us["price_max"] == 6999
    assert [v["stock_status"] for v in us["variants"]] == ["out_of_stock", "low_stock", "in_stock"]
    assert us["stock_status"] == "in_stock"
    assert us["category_path"][-1]["slug"] == "dresses" and us["brand"] == "Zara"
    ind = expect(s.get("/api/catalog/products/%d?market=IN" % p["id"]), 200)
    assert ind["currency"] == "INR" and len(ind["variants"]) == 2
    assert ind["variants"][1]["price_display"] == "\u20b91,23,456.78"
    assert ind["stock_status"] == "low_stock"
    expect(s.get("/api/catalog/products/%d?market=XX" % p["id"]), 400, "unknown_market")
    expect(s.get("/api/catalog/products/999999?market=US"), 404, "not_found")
    expect(s.get("/api/catalog/products/abc"), 404, "not_found")


def test_product_not_sold_in_market_is_404_there(s):
    mid, tok = make_merchant(s)
    p = create(s, tok, mid, variants=[{"sku": uniq("S"), "stock": 4, "prices": {"US": 1000}}])
    expect(s.get("/api/catalog/products/%d?market=US" % p["id"]), 200)
    expect(s.get("/api/catalog/products/%d?market=IN" % p["id"]), 404, "not_found")


def test_update_product_and_cache_invalidation(s):
    mid, tok = make_merchant(s)
    p = create(s, tok, mid)
    url = "/api/catalog/products/%d?market=US" % p["id"]
    assert expect(s.get(url), 200)["name"] == "Linen Summer Dress"
    expect(s.get(url), 200)  # now cached
    sku = p["variants"][0]["sku"]
    new_sku = uniq("S")
    up = expect(s.put("/api/catalog/products/%d" % p["id"],
                      {"name": "Linen Midi Dress", "category": "tops",
                       "variants": [{"sku": sku, "stock": 7, "prices": {"US": 3999}},
                                    {"sku": new_sku, "size": "XL", "stock": 2, "prices": {"US": 8999}}]},
                      token=tok), 200)
    assert up["name"] == "Linen Midi Dress" and up["category"] == "tops"
    assert len(up["variants"]) == 2
    got = expect(s.get(url), 200)
    assert got["name"] == "Linen Midi Dress" and got["price"] == 3999
    assert got["variants"][0]["stock"] == 7
    # IN price was replaced away: no longer sold in IN
    expect(s.get("/api/catalog/products/%d?market=IN" % p["id"]), 404)
    other_mid, other_tok = make_merchant(s)
    expect(s.put("/api/catalog/products/%d" % p["id"], {"name": "x"}, token=other_tok), 403, "forbidden")
    r = expect(s.put("/api/catalog/products/%d" % p["id"], {"category": "nope"}, token=tok), 400)
    assert r["error"]["field"] == "category"
    q = create(s, tok, mid)
    r = expect(s.put("/api/catalog/products/%d" % p["id"],
                     {"variants": [{"sku": q["variants"][0]["sku"], "stock": 1}]}, token=tok), 409, "conflict")
    assert r["error"]["field"] == "variants[0].sku"
    expect(s.put("/api/catalog/products/999999", {"name": "x"}, token=s.admin()), 404, "not_found")


def test_delete_archives_and_hides(s):
    mid, tok = make_merchant(s)
    p = create(s, tok, mid)
    expect(s.get("/api/catalog/products/%d?market=US" % p["id"]), 200)
    other_mid, other_tok = make_merchant(s)
    expect(s.delete("/api/catalog/products/%d" % p["id"], token=other_tok), 403, "forbidden")
    d = expect(s.delete("/api/catalog/products/%d" % p["id"], token=tok), 200)
    assert d["status"] == "archived"
    expect(s.get("/api/catalog/products/%d?market=US" % p["id"]), 404, "not_found")
