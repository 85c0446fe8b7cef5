"""Catalog: category tree with per-market order and sub-category filters,
brands and collections (admin writes, public reads), inventory and
low-stock alerts."""
from harness import expect, uniq
from catalog_util import make_merchant, create, sql_write


def test_category_tree_per_market_order_and_subcategory_filter(s):
    admin = s.admin()
    slug = uniq("maxi").lower()
    c = expect(s.post("/api/catalog/categories", {"slug": slug, "name": "Maxi", "parent": "dresses"},
                      token=admin), 201)
    tree = expect(s.get("/api/catalog/categories?market=US"), 200)["data"]
    top = [n["slug"] for n in tree]
    assert top[:6] == ["dresses", "tops", "bottoms", "shoes", "bags", "accessories"]
    dresses = next(n for n in tree if n["slug"] == "dresses")
    assert slug in [k["slug"] for k in dresses["children"]]
    # IN puts shoes first, US keeps the seeded order
    shoes = next(n for n in tree if n["slug"] == "shoes")
    expect(s.put("/api/catalog/categories/%d" % shoes["id"], {"market_order": {"IN": -0}}, token=admin), 200)
    assert expect(s.get("/api/catalog/categories?market=IN"), 200)["data"][0]["slug"] == "shoes"
    assert expect(s.get("/api/catalog/categories?market=US"), 200)["data"][0]["slug"] == "dresses"
    # products of the sub-category show under the parent, not the other way round
    mid, tok = make_merchant(s)
    brand = uniq("Brand")
    sub = create(s, tok, mid, category=slug, brand=brand)
    parent = create(s, tok, mid, category="dresses", brand=brand)
    got = expect(s.get("/api/catalog/products?market=US&category=dresses&brand=" + brand), 200)["data"]
    assert {p["id"] for p in got} == {sub["id"], parent["id"]}
    got = expect(s.get("/api/catalog/products?market=US&category=%s&brand=%s" % (slug, brand)), 200)["data"]
    assert [p["id"] for p in got] == [sub["id"]]
    detail = expect(s.get("/api/catalog/products/%d?market=US" % sub["id"]), 200)
    assert [x["slug"] for x in detail["category_path"]] == ["dresses", slug]
    # bad input
    expect(s.post("/api/catalog/categories", {"slug": slug, "name": "Again"}, token=admin), 409, "conflict")
    r = expect(s.post("/api/catalog/categories", {"slug": uniq("x").lower(), "name": "X", "parent": "nope"},
                      token=admin), 400)
    assert r["error"]["field"] == "parent"
    r = expect(s.put("/api/catalog/categories/%d" % next(n for n in tree if n["slug"] == "dresses")["id"],
                     {"parent": slug}, token=admin), 400)
    assert r["error"]["field"] == "parent"  # a cycle
    expect(s.post("/api/catalog/categories", {"slug": "Bad Slug", "name": "X"}, token=admin), 400)
    r = expect(s.put("/api/catalog/categories/%d" % c["id"], {"market_order": {"XX": 1}}, token=admin), 400,
               "unknown_market")
    expect(s.post("/api/catalog/categories", {"slug": uniq("y"), "name": "Y"}, token=tok), 403, "forbidden")


def test_brands_admin_and_list(s):
    admin = s.admin()
    name = uniq("Fabindia")
    b = expect(s.post("/api/catalog/brands", {"name": name, "popularity_score": 80, "quality_rating": 4.5,
                                              "demographics": ["women", "25-40"]}, token=admin), 201)
    assert b["quality_rating"] == 4.5 and b["demographics"] == ["women", "25-40"] and b["product_count"] == 0
    up = expect(s.put("/api/catalog/brands/%d" % b["id"], {"popularity_score": 95}, token=admin), 200)
    assert up["popularity_score"] == 95 and up["quality_rating"] == 4.5
    expect(s.post("/api/catalog/brands", {"name": name.upper()}, token=admin), 409, "conflict")
    r = expect(s.post("/api/catalog/brands", {"name": uniq("B"), "quality_rating": 7}, token=admin), 400)
    assert r["error"]["field"] == "quality_rating"
    mid, tok = make_merchant(s)
    expect(s.post("/api/catalog/brands", {"name": uniq("B")}, token=tok), 403, "forbidden")
    create(s, tok, mid, brand=name)  # same brand by name: no new brand
    seen, cursor = [], None
    while True:
        page = expect(s.get("/api/catalog/brands?limit=2" + ("&cursor=" + cursor if cursor else "")), 200)
        seen += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    ids = [x["id"] for x in seen]
    assert len(ids) == len(set(ids))
    mine = [x for x in seen if x["id"] == b["id"]]
    assert mine and mine[0]["product_count"] == 1
    expect(s.put("/api/catalog/brands/999999", {"popularity_score": 1}, token=admin), 404)


def test_collections_ordered_active_and_market_filtered(s):
    admin = s.admin()
    mid, tok = make_merchant(s)
    a = create(s, tok, mid)
    b = create(s, tok, mid, variants=[{"sku": uniq("S"), "stock": 2, "prices": {"US": 700}}])
    c = create(s, tok, mid)
    slug = uniq("edit").lower()
    col = expect(s.post("/api/catalog/collections", {
        "name": "Summer edit", "slug": slug, "description": "Light layers",
        "starts_at": "2020-01-01T00:00:00Z", "product_ids": [c["id"], a["id"], b["id"]]}, token=admin), 201)
    assert col["product_ids"] == [c["id"], a["id"], b["id"]]
    us = expect(s.get("/api/catalog/collections/%d?market=US" % col["id"]), 200)
    assert [p["id"] for p in us["products"]] == [c["id"], a["id"], b["id"]]
    ind = expect(s.get("/api/catalog/collections/%d?market=IN" % col["id"]), 200)
    assert [p["id"] for p in ind["products"]] == [c["id"], a["id"]]  # b has no IN price
    listed = expect(s.get("/api/catalog/collections?market=US&limit=100"), 200)["data"]
    assert col["id"] in [x["id"] for x in listed]
    # a future collection is not shown
    later = expect(s.post("/api/catalog/collections", {
        "name": "Winter", "slug": uniq("w").lower(), "starts_at": "2099-01-01T00:00:00Z",
        "product_ids": [a["id"]]}, token=admin), 201)
    assert later["id"] not in [x["id"] for x in expect(s.get("/api/catalog/collections?market=US&limit=100"), 200)["data"]]
    expect(s.get("/api/catalog/collections/%d?market=US" % later["id"]), 404, "not_found")
    # ended
    expect(s.put("/api/catalog/collections/%d" % col["id"], {"ends_at": "2021-01-01T00:00:00Z"}, token=admin), 200)
    expect(s.get("/api/catalog/collections/%d?market=US" % col["id"]), 404, "not_found")
    expect(s.put("/api/catalog/collections/%d" % col["id"], {"ends_at": None, "product_ids": [b["id"]]}, token=admin), 200)
    assert [p["id"] for p in expect(s.get("/api/catalog/collections/%d?market=US" % col["id"]), 200)["products"]] == [b["id"]]
    # bad input
    r = expect(s.post("/api/catalog/collections", {"name": "X", "slug": uniq("x").lower(), "product_ids": [999999]},
                      token=admin), 400)
    assert r["error"]["field"] == "product_ids[0]"
    r = expect(s.post("/api/catalog/collections", {"name": "X", "slug": uniq("x").lower(), "starts_at": "soon"},
                      token=admin), 400)
    assert r["error"]["field"] == "starts_at"
    expect(s.post("/api/catalog/collections", {"name": "X", "slug": slug}, token=admin), 409, "conflict")
    expect(s.post("/api/catalog/collections", {"name": "X", "slug": uniq("x")}, token=tok), 403, "forbidden")
    expect(s.delete("/api/catalog/collections/%d" % col["id"], token=admin), 200)
    expect(s.get("/api/catalog/collections/%d?market=US" % col["id"]), 404, "not_found")


def test_inventory_get_put_and_low_stock_alert(s):
    mid, tok = make_merchant(s)
    p = create(s, tok, mid, variants=[{"sku": uniq("S"), "stock": 20, "prices": {"US": 900}}])
    vid = p["variants"][0]["id"]
    inv = expect(s.get("/api/inventory/%d" % vid, token=tok), 200)
    assert (inv["stock"], inv["reserved"], inv["available"], inv["low_stock_threshold"]) == (20, 0, 20, 5)
    assert inv["stock_status"] == "in_stock"
    key = "low_stock:variant:%d" % vid
    assert s.db.sql("SELECT COUNT(*) FROM system_alerts WHERE dedup_key = '%s'" % key) == [["0"]]
    low = expect(s.put("/api/inventory/%d" % vid, {"stock": 4}, token=tok), 200)
    assert low["stock_status"] == "low_stock"
    expect(s.put("/api/inventory/%d" % vid, {"stock": 3}, token=tok), 200)
    rows = s.db.sql("SELECT alert_type, severity, status FROM system_alerts WHERE dedup_key = '%s'" % key)
    assert rows == [["low_stock", "medium", "open"]]  # once while open
    assert expect(s.get("/api/catalog/products/%d?market=US" % p["id"]), 200)["stock_status"] == "low_stock"
    expect(s.put("/api/inventory/%d" % vid, {"stock": 50}, token=tok), 200)
    assert s.db.sql("SELECT status FROM system_alerts WHERE dedup_key = '%s'" % key) == [["resolved"]]
    assert expect(s.get("/api/catalog/products/%d?market=US" % p["id"]), 200)["stock_status"] == "in_stock"
    out = expect(s.put("/api/inventory/%d" % vid, {"stock": 0}, token=tok), 200)
    assert out["stock_status"] == "out_of_stock"
    assert s.db.sql("SELECT COUNT(*) FROM system_alerts WHERE dedup_key = '%s' AND status = 'open'" % key) == [["1"]]
    t = expect(s.put("/api/inventory/%d" % vid, {"low_stock_threshold": 0, "stock": 1}, token=tok), 200)
    assert t["low_stock_threshold"] == 0 and t["stock_status"] == "in_stock"
    # reserved units bound the stock
    sql_write(s, "UPDATE inventory SET stock = 10, reserved = 6 WHERE variant_id = %d" % vid)
    r = expect(s.put("/api/inventory/%d" % vid, {"stock": 5}, token=tok), 409, "conflict")
    assert r["error"]["field"] == "stock"
    assert expect(s.get("/api/inventory/%d" % vid, token=tok), 200)["available"] == 4
    # access and bad input
    _, other = make_merchant(s)
    expect(s.get("/api/inventory/%d" % vid, token=other), 403, "forbidden")
    expect(s.put("/api/inventory/%d" % vid, {"stock": 1}, token=other), 403, "forbidden")
    expect(s.get("/api/inventory/%d" % vid, user="shopper"), 403, "forbidden")
    expect(s.get("/api/inventory/%d" % vid, token=s.admin()), 200)
    expect(s.get("/api/inventory/999999", token=s.admin()), 404, "not_found")
    for bad, field in [({"stock": -1}, "stock"), ({"stock": "5"}, "stock"), ({}, "stock"),
                       ({"low_stock_threshold": -2}, "low_stock_threshold"), ({"x": 1}, "x")]:
        r = expect(s.put("/api/inventory/%d" % vid, bad, token=tok), 400, "validation_failed")
        assert r["error"]["field"] == field, (bad, r)


def test_search_scopes_and_facet_names_follow_taxonomy_writes(s):
    """Search keeps brand and category names and the tree in memory per cache
    generation: a new sub-category's products are found under its parent and
    a renamed category shows its new name, with no product written between."""
    admin = s.admin()
    word = "zqv" + uniq("w").split("-")[1].lower()
    expect(s.get("/api/catalog/search?market=US&category=tops&q=" + word), 200)  # names kept
    slug = uniq("camis").lower()
    c = expect(s.post("/api/catalog/categories", {"slug": slug, "name": "Camis", "parent": "tops"},
                      token=admin), 201)
    mid, tok = make_merchant(s)
    brand = uniq("Brand")
    made = create(s, tok, mid, category=slug, brand=brand, name="Silk %s Cami" % word)
    got = expect(s.get("/api/catalog/search?market=US&category=tops&q=" + word), 200)
    assert [p["id"] for p in got["data"]] == [made["id"]]
    assert got["facets"]["category"] == [{"value": slug, "label": "Camis", "count": 1}]
    assert got["facets"]["brand"][0]["label"] == brand
    expect(s.put("/api/catalog/categories/%d" % c["id"], {"name": "Camisoles"}, token=admin), 200)
    got = expect(s.get("/api/catalog/search?market=US&category=tops&q=" + word), 200)
    assert got["facets"]["category"] == [{"value": slug, "label": "Camisoles", "count": 1}]
