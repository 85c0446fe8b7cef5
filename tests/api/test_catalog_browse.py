"""Catalog: listings (filters, sorts, keyset pages), search (ranking,
prefixes, filters, facets, search log)."""
import hashlib
from urllib.parse import quote

import harness
from harness import expect, uniq, wait_for
from catalog_util import make_merchant, create, sql_write


def pages(s, url, limit=3):
    seen, cursor = [], None
    while True:
        page = expect(s.get(url + "&limit=%d" % limit + ("&cursor=" + cursor if cursor else "")), 200)
        assert len(page["data"]) <= limit
        seen += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return seen


def seed_brand(s, n=10):
    """n products of a fresh brand with varied prices, sizes, colours and stock."""
    mid, tok = make_merchant(s)
    brand = uniq("Brand")
    made = []
    for i in range(n):
        price = 1000 + (i % 4) * 1000  # ties on purpose
        v = [{"sku": uniq("S"), "size": ["S", "M", "L"][i % 3], "color": ["red", "blue"][i % 2],
              "stock": 0 if i % 5 == 0 else 10, "prices": {"US": price, "IN": price * 50}}]
        made.append(create(s, tok, mid, name="Item %d" % i, brand=brand, variants=v,
                           category="tops" if i % 2 else "dresses"))
    return brand, made, mid, tok


def test_listing_pages_return_every_item_once_in_each_sort(s):
    brand, made, _, _ = seed_brand(s, 11)
    ids = {p["id"] for p in made}
    for sort in ("popular", "newest", "price_asc", "price_desc"):
        seen = pages(s, "/api/catalog/products?market=US&brand=%s&sort=%s" % (brand, sort))
        got = [p["id"] for p in seen]
        assert len(got) == len(set(got)) == 11, sort
        assert set(got) == ids
        prices = [p["price"] for p in seen]
        if sort == "price_asc":
            assert prices == sorted(prices)
        if sort == "price_desc":
            assert prices == sorted(prices, reverse=True)
    first = expect(s.get("/api/catalog/products?market=US&brand=%s&limit=2" % brand), 200)
    expect(s.get("/api/catalog/products?market=US&brand=%s&sort=newest&cursor=%s"
                 % (brand, first["next_cursor"])), 400, "validation_failed")


def test_listing_filters(s):
    brand, made, _, _ = seed_brand(s, 10)
    base = "/api/catalog/products?market=US&limit=100&brand=" + brand

    def ids(q):
        return sorted(p["id"] for p in expect(s.get(base + q), 200)["data"])

    all_ids = sorted(p["id"] for p in made)
    assert ids("") == all_ids
    assert ids("&category=tops") == sorted(p["id"] for i, p in enumerate(made) if i % 2)
    assert ids("&min_price=2000&max_price=3000") == sorted(
        p["id"] for i, p in enumerate(made) if 2000 <= 1000 + (i % 4) * 1000 <= 3000)
    assert ids("&size=m") == sorted(p["id"] for i, p in enumerate(made) if i % 3 == 1)
    assert ids("&size=_") == [] and ids("&size=%25") == [] and ids("&size=XXL") == []
    assert ids("&color=RED") == sorted(p["id"] for i, p in enumerate(made) if i % 2 == 0)
    assert ids("&in_stock=true") == sorted(p["id"] for i, p in enumerate(made) if i % 5)
    assert ids("&in_stock=true&size=S&color=red") == sorted(
        p["id"] for i, p in enumerate(made) if i % 5 and i % 3 == 0 and i % 2 == 0)
    item = expect(s.get(base + "&sort=price_asc&limit=1"), 200)["data"][0]
    assert item["price"] == 1000 and item["price_display"] == "$10.00" and item["currency"] == "USD"
    assert item["brand"] == brand and item["stock_status"] in ("in_stock", "out_of_stock")
    inr = expect(s.get(base.replace("market=US", "market=IN") + "&sort=price_asc&limit=1"), 200)["data"][0]
    assert inr["currency"] == "INR" and inr["price"] == 50000 and inr["price_display"] == "\u20b9500.00"


def test_listing_market_availability(s):
    mid, tok = make_merchant(s)
    brand = uniq("Brand")
    us_only = create(s, tok, mid, brand=brand, variants=[{"sku": uniq("S"), "stock": 1, "prices": {"US": 100}}])
    both = create(s, tok, mid, brand=brand)
    us = [p["id"] for p in expect(s.get("/api/catalog/products?market=US&brand=" + brand), 200)["data"]]
    inn = [p["id"] for p in expect(s.get("/api/catalog/products?market=IN&brand=" + brand), 200)["data"]]
    assert set(us) == {us_only["id"], both["id"]} and inn == [both["id"]]


def test_listing_bad_input(s):
    for q, field, code in [("", "market", "validation_failed"), ("market=XX", "market", "unknown_market"),
                           ("market=US&category=nope", "category", "validation_failed"),
                           ("market=US&brand=" + uniq("nobrand"), "brand", "validation_failed"),
                           ("market=US&sort=cheapest", "sort", "validation_failed"),
                           ("market=US&sort=relevance", "sort", "validation_failed"),
                           ("market=US&min_price=-1", "min_price", "validation_failed"),
                           ("market=US&min_price=abc", "min_price", "validation_failed"),
                           ("market=US&min_price=500&max_price=100", "min_price", "validation_failed"),
                           ("market=US&in_stock=maybe", "in_stock", "validation_failed"),
                           ("market=US&limit=0", "limit", "validation_failed"),
                           ("market=US&cursor=garbage", "cursor", "validation_failed")]:
        r = expect(s.get("/api/catalog/products?" + q), 400, code)
        assert r["error"]["field"] == field, (q, r)


def test_listing_cache_invalidated_by_write(s):
    mid, tok = make_merchant(s)
    brand = uniq("Brand")
    p = create(s, tok, mid, brand=brand)
    url = "/api/catalog/products?market=US&brand=" + brand
    assert expect(s.get(url), 200)["data"][0]["name"] == "Linen Summer Dress"
    expect(s.get(url), 200)
    expect(s.put("/api/catalog/products/%d" % p["id"], {"name": "Renamed Dress"}, token=tok), 200)
    assert expect(s.get(url), 200)["data"][0]["name"] == "Renamed Dress"
    expect(s.delete("/api/catalog/products/%d" % p["id"], token=tok), 200)
    assert expect(s.get(url), 200)["data"] == []


def test_search_ranks_best_match_first_and_prefixes(s):
    mid, tok = make_merchant(s)
    word = "zq" + uniq("w").split("-")[1][:6]  # a word no other product has
    weak = create(s, tok, mid, name="Plain Shirt", description="goes well with a %s belt" % word)
    strong = create(s, tok, mid, name="%s Wrap Dress" % word.capitalize())
    r = expect(s.get("/api/catalog/search?market=US&q=" + word), 200)
    assert [p["id"] for p in r["data"]] == [strong["id"], weak["id"]]
    assert r["total"] == 2 and r["query"] == word
    pre = expect(s.get("/api/catalog/search?market=US&q=" + word[:5]), 200)
    assert [p["id"] for p in pre["data"]][:2] == [strong["id"], weak["id"]]
    two = expect(s.get("/api/catalog/search?market=US&q=" + quote(word + " wrap")), 200)
    assert [p["id"] for p in two["data"]] == [strong["id"]]


def test_search_summer_prefix(s):
    mid, tok = make_merchant(s)
    brand = uniq("Brand")
    p = create(s, tok, mid, name="Summerset Maxi", brand=brand)
    r = expect(s.get("/api/catalog/search?market=US&q=summ&brand=" + brand), 200)
    assert [x["id"] for x in r["data"]] == [p["id"]]


def test_search_filters_facets_and_pages(s):
    brand, made, _, _ = seed_brand(s, 10)
    r = expect(s.get("/api/catalog/search?market=US&q=item&brand=%s&limit=100" % brand), 200)
    assert r["total"] == 10 and len(r["data"]) == 10
    f = r["facets"]
    assert f["brand"] == [{"value": f["brand"][0]["value"], "label": brand, "count": 10}]
    assert {c["value"]: c["count"] for c in f["category"]} == {"tops": 5, "dresses": 5}
    assert {c["value"]: c["count"] for c in f["size"]} == {"s": 4, "m": 3, "l": 3}
    assert {c["value"]: c["count"] for c in f["color"]} == {"red": 5, "blue": 5}
    assert sum(c["count"] for c in f["price"]) == 10
    assert f["price"][0]["value"] == "0-2499" and f["price"][0]["count"] == 6
    filtered = expect(s.get("/api/catalog/search?market=US&q=item&in_stock=true&category=tops&brand=" + brand), 200)
    assert filtered["total"] == sum(1 for i in range(10) if i % 2 and i % 5)
    seen = pages(s, "/api/catalog/search?market=US&q=item&brand=" + brand, limit=3)
    assert sorted(p["id"] for p in seen) == sorted(p["id"] for p in made)


def test_search_records_queries_with_result_counts(s):
    nothing = "qqxz" + uniq("n").split("-")[1]
    r = expect(s.get("/api/catalog/search?market=IN&q=" + nothing, user="shopper-9"), 200)
    assert r["total"] == 0 and r["data"] == [] and r["next_cursor"] is None
    expect(s.get("/api/catalog/search?market=IN&q=" + nothing), 200)  # cached, still logged
    # rows come from the analytics writer's next batch (ANALYTICS_FLUSH_MS);
    # behind nginx each instance has its own queue, so either may store first
    sql = "SELECT results, user_id FROM search_log WHERE query = '%s'" % nothing
    rows = wait_for(lambda: (lambda r: r if len(r) >= 2 else None)(s.db.sql(sql)), timeout=10)
    assert sorted(rows) == [["0", ""], ["0", "shopper-9"]]


def test_search_bad_input(s):
    expect(s.get("/api/catalog/search?market=US"), 400, "validation_failed")
    expect(s.get("/api/catalog/search?market=US&q=" + quote("!!! ***")), 400, "validation_failed")
    expect(s.get("/api/catalog/search?market=XX&q=dress"), 400, "unknown_market")
    expect(s.get("/api/catalog/search?market=US&q=" + "a" * 201), 400, "validation_failed")
    # hostile text is only ever data
    expect(s.get("/api/catalog/search?market=US&q=" + quote('"')), 400, "validation_failed")
    for q in ['"dress', "dress OR", "NEAR(a b)", "a:*", "x' OR 1=1 --", "\u00e9t\u00e9", "col:val"]:
        r = s.get("/api/catalog/search?market=US&q=" + quote(q))
        assert r.status == 200, (q, r)


def test_search_cache_invalidated_by_write(s):
    mid, tok = make_merchant(s)
    word = "zw" + uniq("w").split("-")[1][:6]
    p = create(s, tok, mid, name="%s Tote" % word.capitalize(), category="bags")
    url = "/api/catalog/search?market=US&q=" + word
    assert [x["name"] for x in expect(s.get(url), 200)["data"]] == ["%s Tote" % word.capitalize()]
    expect(s.get(url), 200)  # served from the search cache
    expect(s.put("/api/catalog/products/%d" % p["id"], {"name": "%s Shopper" % word.capitalize()}, token=tok), 200)
    assert [x["name"] for x in expect(s.get(url), 200)["data"]] == ["%s Shopper" % word.capitalize()]
    expect(s.put("/api/inventory/%d" % p["variants"][0]["id"], {"stock": 0}, token=tok), 200)
    assert expect(s.get(url), 200)["data"][0]["stock_status"] == "out_of_stock"
    assert expect(s.get(url + "&in_stock=true"), 200)["data"] == []
    expect(s.delete("/api/catalog/products/%d" % p["id"], token=tok), 200)
    assert expect(s.get(url), 200)["total"] == 0


def test_search_filters_see_a_write_at_once(s):
    """Every filter and sort of one text is worked out from that text's
    match set: a write must reach the next search of the text whatever its
    filters, including ones never asked before (no cached page to clear)."""
    mid, tok = make_merchant(s)
    word = "zk" + uniq("w").split("-")[1][:6]
    v = [{"sku": uniq("S"), "size": "M", "color": "red", "stock": 5, "prices": {"US": 1500}}]
    p = create(s, tok, mid, name="%s Wrap" % word.capitalize(), category="tops", variants=v)
    base = "/api/catalog/search?market=US&q=" + word
    assert expect(s.get(base), 200)["total"] == 1  # builds the text's match set
    assert expect(s.get(base + "&category=dresses"), 200)["total"] == 0
    expect(s.put("/api/catalog/products/%d" % p["id"], {"category": "dresses"}, token=tok), 200)
    assert [x["id"] for x in expect(s.get(base + "&category=dresses&sort=newest"), 200)["data"]] == [p["id"]]
    assert expect(s.get(base + "&category=tops&sort=newest"), 200)["total"] == 0
    expect(s.put("/api/inventory/%d" % p["variants"][0]["id"], {"stock": 0}, token=tok), 200)
    assert expect(s.get(base + "&in_stock=true&size=M"), 200)["total"] == 0
    assert expect(s.get(base + "&size=m&color=RED"), 200)["total"] == 1


def test_search_log_counts_every_search(s):
    """Identical searches may share a search_log row (same second, text,
    result count and user); its count says how many there were."""
    word = "qqlg" + uniq("n").split("-")[1]
    for _ in range(5):
        expect(s.get("/api/catalog/search?market=US&q=" + word, user="shopper-7"), 200)
    sql = "SELECT SUM(searches) FROM search_log WHERE query = '%s' AND user_id = 'shopper-7'" % word
    assert wait_for(lambda: (lambda r: r if r and r[0][0] == "5" else None)(s.db.sql(sql)), timeout=10)


def test_named_caches_count_hits_and_misses(s):
    mid, tok = make_merchant(s)
    p = create(s, tok, mid)

    def stats():
        body = expect(s.get("/api/analytics/cache/metrics", token=s.admin()), 200)
        return {c["name"]: c for c in body["data"]}

    before = stats()
    url = "/api/catalog/products/%d?market=IN" % p["id"]
    first = expect(s.get(url), 200)
    second = s.get(url)
    assert second.json == first
    listing = "/api/catalog/products?market=IN&limit=7&brand=Zara"
    expect(s.get(listing), 200)
    expect(s.get(listing), 200)
    after = stats()

    def delta(name, key):
        return after[name][key] - before.get(name, {}).get(key, 0)

    assert delta("product", "misses") >= 1 and delta("product", "hits") >= 1
    assert delta("listing", "misses") >= 1 and delta("listing", "hits") >= 1


def test_listing_stock_filters_follow_inventory(s):
    """in_stock with a size or colour reads stock kept on the listing row:
    a stock change through inventory (not a product write) moves it."""
    mid, tok = make_merchant(s)
    brand = uniq("Brand")
    p = create(s, tok, mid, brand=brand, variants=[
        {"sku": uniq("S"), "size": "S", "color": "red", "stock": 3, "prices": {"US": 1000}},
        {"sku": uniq("S"), "size": "M", "color": "blue", "stock": 0, "prices": {"US": 1000}}])
    small, medium = p["variants"][0]["id"], p["variants"][1]["id"]
    base = "/api/catalog/products?market=US&brand=%s&in_stock=true" % brand

    def found(q):
        return [x["id"] for x in expect(s.get(base + q), 200)["data"]] == [p["id"]]

    assert found("") and found("&size=s") and found("&color=RED") and found("&size=S&color=red")
    assert not found("&size=M") and not found("&color=blue") and not found("&size=S&color=blue")
    expect(s.put("/api/inventory/%d" % medium, {"stock": 4}, token=tok), 200)
    assert found("&size=m") and found("&color=blue") and found("&size=M&color=blue")
    expect(s.put("/api/inventory/%d" % small, {"stock": 0}, token=tok), 200)
    assert not found("&size=S") and not found("&color=red") and found("")
    expect(s.put("/api/inventory/%d" % medium, {"stock": 0}, token=tok), 200)
    assert not found("")
    # without in_stock the sizes sold still list it
    assert [x["id"] for x in expect(s.get(base.replace("&in_stock=true", "") + "&size=M"), 200)["data"]] == [p["id"]]


def test_listing_rare_size_pages_every_item_once(s):
    """A size few products of the scope have is found through listing_attrs;
    its pages match the common path's order and keys."""
    mid, tok = make_merchant(s)
    brand = uniq("Brand")
    rare = uniq("Z").replace("-", "")[:12]
    made = [create(s, tok, mid, brand=brand, name="Rare %d" % i, variants=[
        {"sku": uniq("S"), "size": rare if i % 2 else "M", "color": "red", "stock": 5,
         "prices": {"US": 1000 + (i % 3) * 100}}]) for i in range(8)]
    want = sorted(x["id"] for i, x in enumerate(made) if i % 2)
    for sort in ("popular", "newest", "price_asc", "price_desc"):
        url = "/api/catalog/products?market=US&size=%s&sort=%s" % (rare.lower(), sort)
        got = [x["id"] for x in pages(s, url, limit=2)]
        assert sorted(got) == want and len(got) == len(set(got)), sort
        scoped = [x["id"] for x in pages(s, url + "&brand=" + brand + "&category=dresses", limit=3)]
        assert scoped == got, sort
        # a narrow price range: read through the price index, same rows
        cheap = [x["id"] for x in pages(s, "/api/catalog/products?market=US&brand=%s&sort=%s&max_price=1000"
                                         % (brand, sort), limit=1)]
        assert sorted(cheap) == sorted(x["id"] for i, x in enumerate(made) if i % 3 == 0), sort
        assert [x for x in got if x in cheap] == [x for x in cheap if x in got], sort


def test_search_facets_count_the_best_1000_matches(s):
    """total counts every match; facets count the 1000 best (documented)."""
    mid, tok = make_merchant(s, integration="feed")
    word = "zf" + uniq("w").split("-")[1][:6]
    brand = uniq("Brand")
    rows = ["sku,name,brand,category,size,color,stock,price_us"]
    rows += ["%s,%s Item %d,%s,tops,M,red,5,1000" % (uniq("S"), word.capitalize(), i, brand) for i in range(1003)]
    r = expect(s.post("/api/merchants/%d/feed" % mid, raw=("\n".join(rows) + "\n").encode(), token=tok,
                      headers={"Content-Type": "text/csv"}), 200)
    assert r["created"] == 1003, r
    got = expect(s.get("/api/catalog/search?market=US&q=" + word), 200)
    assert got["total"] == 1003 and len(got["data"]) == 20
    f = got["facets"]
    assert [c["count"] for c in f["brand"]] == [1000] and [c["count"] for c in f["size"]] == [1000]
    assert sum(c["count"] for c in f["price"]) == 1000
    narrow = expect(s.get("/api/catalog/search?market=US&q=%s&in_stock=true&sort=price_asc" % word), 200)
    assert narrow["total"] == 1003 and [c["count"] for c in narrow["facets"]["category"]] == [1000]
    # a full page of 100 (more ids than the PostgreSQL driver binds parameters)
    ids = [p["id"] for p in pages(s, "/api/catalog/search?market=US&q=" + word, limit=100)]
    assert len(ids) == len(set(ids)) == 1003


def test_listing_item_stock_status_and_images_follow_writes(s):
    """A listing item's stock_status and images are kept on its listing row:
    inventory changes that cross the low-stock threshold (not only zero),
    a threshold change and a variant's new images all show in the listing."""
    mid, tok = make_merchant(s)
    brand = uniq("Brand")
    p = create(s, tok, mid, brand=brand, variants=[
        {"sku": uniq("S"), "size": "S", "stock": 20, "images": ["https://img.example/a.jpg"],
         "prices": {"US": 1000}},
        {"sku": uniq("S"), "size": "M", "stock": 0, "images": ["https://img.example/b.jpg"],
         "prices": {"US": 1000}}])
    first = p["variants"][0]
    n = [0]

    def item():
        n[0] += 1  # a new cache key each time: direct SQL writes do not clear the cache
        data = expect(s.get("/api/catalog/products?market=US&brand=%s&limit=%d" % (brand, n[0])), 200)["data"]
        assert [x["id"] for x in data] == [p["id"]]
        return data[0]

    assert (item()["stock_status"], item()["images"]) == ("in_stock", ["https://img.example/a.jpg"])
    expect(s.put("/api/inventory/%d" % first["id"], {"stock": 4}, token=tok), 200)
    assert item()["stock_status"] == "low_stock"
    expect(s.put("/api/inventory/%d" % first["id"], {"low_stock_threshold": 2}, token=tok), 200)
    assert item()["stock_status"] == "in_stock"
    sql_write(s, "UPDATE inventory SET reserved = 3 WHERE variant_id = %d" % first["id"])  # as checkout does
    assert item()["stock_status"] == "low_stock"
    sql_write(s, "UPDATE inventory SET reserved = 4 WHERE variant_id = %d" % first["id"])
    assert item()["stock_status"] == "out_of_stock"
    sql_write(s, "UPDATE inventory SET reserved = 0 WHERE variant_id = %d" % first["id"])
    expect(s.put("/api/catalog/products/%d" % p["id"], {"variants": [
        {"sku": first["sku"], "images": ["https://img.example/c.jpg"]}]}, token=tok), 200)
    assert (item()["stock_status"], item()["images"]) == ("in_stock", ["https://img.example/c.jpg"])
    # a size or price range nothing in the scope has: an empty page, no cursor
    for q in ("&size=%s" % uniq("Z").replace("-", "")[:12], "&max_price=999", "&min_price=1001&sort=price_asc"):
        page = expect(s.get("/api/catalog/products?market=US&brand=%s%s" % (brand, q)), 200)
        assert page == {"data": [], "next_cursor": None}, q


def test_listing_product_with_many_long_sizes_and_colours(s):
    """The most variants a product may have, each with a 32-character size
    and colour, all in stock: it is created and listed with those filters
    (the listing row's size and colour lists are long; an index holding
    them must accept them on every driver)."""
    mid, tok = make_merchant(s)
    brand = uniq("Brand")
    # distinct random text: repeated letters would compress below any limit
    noise = [hashlib.sha256(("%s-%d" % (brand, i)).encode()).hexdigest() for i in range(200)]
    long = lambda c, i: c + "%03d" % i + noise[i + (100 if c == "c" else 0)][:28]  # noqa: E731
    variants = [{"sku": uniq("S"), "size": long("s", i), "color": long("c", i), "stock": 9,
                 "prices": {"US": 1000 + i}} for i in range(100)]
    p = create(s, tok, mid, brand=brand, variants=variants)
    base = "/api/catalog/products?market=US&brand=%s&in_stock=true" % brand
    for q in ("", "&size=" + long("s", 99), "&color=" + long("c", 0),
              "&size=%s&color=%s" % (long("s", 7), long("c", 7)), "&sort=price_desc&size=" + long("s", 50)):
        assert [x["id"] for x in expect(s.get(base + q), 200)["data"]] == [p["id"]], q
    assert expect(s.get(base + "&size=%s&color=%s" % (long("s", 7), long("c", 8))), 200)["data"] == []
