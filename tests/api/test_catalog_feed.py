"""Catalog: merchant feeds (CSV and NDJSON) over HTTP and the CLI — upsert
by SKU, per-row errors with line numbers, never half a product."""
import json
import os

from harness import expect, uniq
from catalog_util import make_merchant, create


def post_feed(s, mid, tok, body, ctype="text/csv"):
    return s.post("/api/merchants/%d/feed" % mid, raw=body.encode() if isinstance(body, str) else body,
                  token=tok, headers={"Content-Type": ctype})


def test_csv_feed_creates_groups_and_reports_bad_rows(s):
    mid, tok = make_merchant(s, integration="feed")
    p = uniq("P")
    a, b, c, d, e = (uniq("S") for _ in range(5))
    csv = (
        "product_id,sku,name,brand,category,description,tags,size,color,stock,price_us,price_in\n"
        f"{p},{a},Linen Shirt,{p}-Brand,tops,\"Soft, breathable linen\",summer|linen,M,white,10,3999,199900\n"
        f"{p},{b},Linen Shirt,{p}-Brand,tops,,,L,white,0,3999,199900\n"
        f"{p}-2,{c},Denim Skirt,{p}-Brand,bottoms,,,S,blue,5,-100,\n"          # line 4: negative price
        f"{p}-3,{d},\"Broken \"quote,{p}-Brand,tops,,,S,red,1,100,\n"          # line 5: malformed
        f"{p}-4,{e},Wrap Dress,{p}-Brand,dresses,\"two\nlines\",,M,red,3,,59900\n"  # lines 6-7
        f"{p}-5,{uniq('S')},Short Row\n"                                          # line 8: too few fields
    )
    r = expect(post_feed(s, mid, tok, csv), 200)
    assert (r["received"], r["created"], r["updated"], r["failed"]) == (6, 2, 0, 3), r
    lines = {x["line"]: x for x in r["errors"]}
    assert set(lines) == {4, 5, 8}, r["errors"]
    assert lines[4]["field"] == "price_us" and lines[4]["sku"] == c
    prods = expect(s.get("/api/catalog/products?market=US&limit=100&brand=" + p + "-Brand"), 200)["data"]
    assert [x["name"] for x in prods] == ["Linen Shirt"]
    shirt = expect(s.get("/api/catalog/products/%d" % prods[0]["id"]), 200)
    assert sorted(v["sku"] for v in shirt["variants"]) == sorted([a, b])
    assert shirt["tags"] == ["summer", "linen"] and shirt["description"] == "Soft, breathable linen"
    dress = expect(s.get("/api/catalog/products?market=IN&limit=100&brand=" + p + "-Brand&category=dresses"), 200)["data"]
    assert len(dress) == 1 and dress[0]["price"] == 59900
    assert expect(s.get("/api/catalog/products/%d" % dress[0]["id"]), 200)["description"] == "two\nlines"


def test_feed_upsert_by_sku_updates_not_duplicates(s):
    mid, tok = make_merchant(s, integration="feed")
    sku = uniq("S")
    head = "sku,name,category,stock,price_us\n"
    r = expect(post_feed(s, mid, tok, head + f"{sku},First Name,tops,5,1000\n"), 200)
    assert (r["created"], r["updated"], r["failed"]) == (1, 0, 0)
    r = expect(post_feed(s, mid, tok, head + f"{sku},Second Name,shoes,9,2500\n"), 200)
    assert (r["created"], r["updated"], r["failed"]) == (0, 1, 0)
    assert s.db.sql("SELECT COUNT(*) FROM product_variants WHERE sku = '%s'" % sku) == [["1"]]
    pid = s.db.sql("SELECT product_id FROM product_variants WHERE sku = '%s'" % sku)[0][0]
    got = expect(s.get("/api/catalog/products/%s?market=US" % pid), 200)
    assert (got["name"], got["category"], got["price"], got["variants"][0]["stock"]) == ("Second Name", "shoes", 2500, 9)
    # a product made over the API is updated by SKU too
    api = create(s, tok, mid)
    api_sku = api["variants"][0]["sku"]
    r = expect(post_feed(s, mid, tok, head + f"{api_sku},From Feed,dresses,1,777\n"), 200)
    assert (r["created"], r["updated"]) == (0, 1)
    assert expect(s.get("/api/catalog/products/%d?market=US" % api["id"]), 200)["price"] == 777


def test_bad_row_rejects_its_whole_product_only(s):
    mid, tok = make_merchant(s, integration="feed")
    p = uniq("P")
    good, v1, v2 = uniq("S"), uniq("S"), uniq("S")
    csv = ("product_id,sku,name,category,stock,price_us\n"
           f"{p}-ok,{good},Fine Tee,tops,3,1500\n"
           f"{p}-half,{v1},Half Tee,tops,3,1500\n"
           f"{p}-half,{v2},Half Tee,tops,lots,1500\n")
    r = expect(post_feed(s, mid, tok, csv), 200)
    assert (r["created"], r["failed"]) == (1, 2), r
    assert {x["line"] for x in r["errors"]} == {3, 4}
    assert s.db.sql("SELECT COUNT(*) FROM product_variants WHERE sku IN ('%s', '%s')" % (v1, v2)) == [["0"]]
    assert s.db.sql("SELECT COUNT(*) FROM products WHERE external_id = '%s-half'" % p) == [["0"]]
    # a database-level refusal (another merchant's SKU, unknown category) also rolls back just that product
    other_mid, other_tok = make_merchant(s)
    theirs = create(s, other_tok, other_mid)["variants"][0]["sku"]
    w1, w2, ok2 = uniq("S"), uniq("S"), uniq("S")
    csv = ("product_id,sku,name,category,stock,price_us,price_xx\n"
           f"{p}-x,{w1},Mixed,tops,1,100,\n"
           f"{p}-x,{theirs},Mixed,tops,1,100,\n"
           f"{p}-y,{w2},Nowhere,spaceships,1,100,\n"
           f"{p}-z,{uniq('S')},Moon,tops,1,100,5\n"
           f"{p}-ok2,{ok2},Fine,tops,1,100,\n")
    r = expect(post_feed(s, mid, tok, csv), 200)
    assert r["created"] == 1 and r["failed"] == 4, r
    fields = {x["line"]: x["field"] for x in r["errors"]}
    assert fields[3] == "sku" and fields[4] == "category" and fields[5] == "price_xx", r["errors"]
    assert s.db.sql("SELECT COUNT(*) FROM product_variants WHERE sku IN ('%s', '%s')" % (w1, w2)) == [["0"]]
    assert s.db.sql("SELECT COUNT(*) FROM product_variants WHERE sku = '%s'" % ok2) == [["1"]]


def test_ndjson_feed(s):
    mid, tok = make_merchant(s, integration="feed")
    brand = uniq("NdBrand")
    a, b = uniq("S"), uniq("S")
    lines = [
        json.dumps({"sku": a, "name": "Kurta Set", "brand": brand, "category": "tops", "tags": ["festive"],
                    "stock": 4, "prices": {"IN": 149900}}),
        "",
        "{not json",
        json.dumps({"sku": b, "name": "Bad", "category": "tops", "stock": "4", "prices": {"IN": 100}}),
        json.dumps({"sku": uniq("S"), "name": "Bad", "category": "tops", "prices": {"IN": 1.5}}),
        json.dumps({"sku": uniq("S"), "name": "Bad", "category": "tops", "colour": "red", "prices": {"IN": 1}}),
    ]
    r = expect(post_feed(s, mid, tok, "\n".join(lines) + "\n", "application/x-ndjson"), 200)
    assert (r["received"], r["created"], r["failed"]) == (5, 1, 4), r
    assert {x["line"] for x in r["errors"]} == {3, 4, 5, 6}
    assert {x["line"]: x["field"] for x in r["errors"]}[6] == "colour"
    got = expect(s.get("/api/catalog/products?market=IN&brand=" + brand), 200)["data"]
    assert len(got) == 1 and got[0]["price"] == 149900 and got[0]["price_display"] == "\u20b91,499.00"


def test_feed_refusals(s):
    mid, tok = make_merchant(s, integration="feed")
    api_mid, api_tok = make_merchant(s, integration="api")
    ok = "sku,name,category,price_us\n%s,A,tops,100\n" % uniq("S")
    expect(post_feed(s, mid, tok, ok, "application/json"), 415)
    expect(post_feed(s, api_mid, api_tok, ok), 409, "invalid_state")
    expect(post_feed(s, mid, api_tok, ok), 403, "forbidden")
    expect(post_feed(s, mid, None, ok), 401, "unauthorized")
    expect(post_feed(s, 999999, s.admin(), ok), 404, "not_found")
    for bad in ["", "just,a,header\n", "sku,name\nx,y\n", "sku,name,category,price_us,sku\n",
                "sku,name,category,price_us,colour\n"]:
        r = expect(post_feed(s, mid, tok, bad), 400, "validation_failed")
        assert r["error"]["message"], bad
    # invalid UTF-8 and NUL bytes are row errors, never stored
    r = expect(post_feed(s, mid, tok, b"sku,name,category,price_us\nQ1,\xff\xfe,tops,100\nQ2,a\x00b,tops,1\n"), 200)
    assert r["failed"] == 2 and r["created"] == 0
    expect(post_feed(s, mid, s.admin(), ok), 200)


def test_cli_import_feed(s):
    mid, tok = make_merchant(s, integration="feed")
    code = s.db.sql("SELECT code FROM merchants WHERE id = %d" % mid)[0][0]
    path = os.path.join(s.db.tmp, "feed.csv")
    good, bad = uniq("S"), uniq("S")
    with open(path, "w") as f:
        f.write("sku,name,category,stock,price_us,price_in\n%s,CLI Tee,tops,2,1200,59900\n%s,CLI Bad,tops,-1,1,1\n"
                % (good, bad))
    out = s.run("import-feed", path, "--merchant", code, check=False)
    assert out.returncode == 3, out
    assert "1 products created" in out.stdout and ":3:" in out.stderr and "stock" in out.stderr
    assert s.db.sql("SELECT COUNT(*) FROM product_variants WHERE sku = '%s'" % good) == [["1"]]
    assert s.run("import-feed", path, "--merchant", "no-such-merchant", check=False).returncode == 1
    assert s.run("import-feed", "/nonexistent.csv", "--merchant", code, check=False).returncode == 1
    nd = os.path.join(s.db.tmp, "feed.ndjson")
    with open(nd, "w") as f:
        f.write(json.dumps({"sku": uniq("S"), "name": "ND", "category": "bags", "price_us": 100}) + "\n")
    out = s.run("import-feed", nd, "--merchant", code, check=False)
    assert out.returncode == 0 and "1 products created" in out.stdout, out


def test_large_feed_spans_batches_and_reimports_as_updates(s):
    # more products than one write batch (1000), two variants each: every
    # product lands whole, in the listing and in search, and the same feed
    # again updates instead of duplicating
    mid, tok = make_merchant(s, integration="feed")
    p = uniq("Big")
    # letters only: PostgreSQL's parser reads "7e65" as a number
    word = "zq" + "".join(chr(ord("a") + int(c, 16)) for c in uniq("").lower() if c in "0123456789abcdef")
    n = 1100
    rows = ["product_id,sku,name,brand,category,size,color,stock,price_us,price_in"]
    for i in range(n):
        for size in ("S", "M"):
            rows.append(f"{p}-{i},{p}-{i}-{size},{word} Tee {i},{p}-B{i % 7},tops,{size},red,{i % 9},{1000 + i},{50000 + i}")
    csv = "\n".join(rows) + "\n"
    r = expect(post_feed(s, mid, tok, csv), 200)
    assert (r["received"], r["created"], r["updated"], r["failed"]) == (2 * n, n, 0, 0), r
    assert s.db.sql("SELECT COUNT(*) FROM products WHERE merchant_id = %d" % mid) == [[str(n)]]
    assert s.db.sql("SELECT COUNT(*) FROM product_variants v JOIN products p ON p.id = v.product_id "
                    "WHERE p.merchant_id = %d" % mid) == [[str(2 * n)]]
    assert s.db.sql("SELECT COUNT(*) FROM product_prices pp JOIN product_variants v ON v.id = pp.variant_id "
                    "JOIN products p ON p.id = v.product_id WHERE p.merchant_id = %d" % mid) == [[str(4 * n)]]
    assert s.db.sql("SELECT COUNT(DISTINCT product_id) FROM product_market pm JOIN products p ON p.id = pm.product_id "
                    "WHERE p.merchant_id = %d AND pm.scope_id = 0" % mid) == [[str(n)]]
    last = s.db.sql("SELECT id FROM products WHERE merchant_id = %d AND external_id = '%s-%d'" % (mid, p, n - 1))[0][0]
    got = expect(s.get("/api/catalog/products/%s?market=IN" % last), 200)
    assert got["name"] == "%s Tee %d" % (word, n - 1) and got["price"] == 50000 + n - 1
    assert sorted(v["sku"] for v in got["variants"]) == ["%s-%d-M" % (p, n - 1), "%s-%d-S" % (p, n - 1)]
    found = expect(s.get("/api/catalog/search?market=US&q=%s&limit=5" % word), 200)
    assert found["data"] and found["data"][0]["name"].startswith(word), found
    # low stock (stock <= 5) raised one alert per variant
    alerts = s.db.sql("SELECT COUNT(*) FROM system_alerts WHERE dedup_key LIKE 'low_stock:variant:%%' AND "
                      "context LIKE '%%%s-%%'" % p)
    assert alerts == [[str(2 * sum(1 for i in range(n) if i % 9 <= 5))]], alerts
    r = expect(post_feed(s, mid, tok, csv.replace(" Tee ", " Top ")), 200)
    assert (r["created"], r["updated"], r["failed"]) == (0, n, 0), r
    assert s.db.sql("SELECT COUNT(*) FROM products WHERE merchant_id = %d AND name LIKE '%% Top %%'" % mid) == [[str(n)]]
    open_alerts = ("SELECT COUNT(*) FROM system_alerts WHERE status = 'open' AND "
                   "dedup_key LIKE 'low_stock:variant:%%' AND context LIKE '%%%s-%%'" % p)
    assert s.db.sql(open_alerts) == alerts  # still low: no second alert
    # restocking (an update) resolves the alert; an update keeps the price set it is given
    r = expect(post_feed(s, mid, tok, rows[0] + "\n" + f"{p}-0,{p}-0-S,x,{p}-B0,tops,S,red,50,999,\n"), 200)
    assert (r["updated"], r["failed"]) == (1, 0), r
    assert s.db.sql(open_alerts) == [[str(int(alerts[0][0]) - 1)]]
    got = expect(s.get("/api/catalog/products/%s?market=US" % s.db.sql(
        "SELECT id FROM products WHERE merchant_id = %d AND external_id = '%s-0'" % (mid, p))[0][0]), 200)
    assert got["name"] == "x" and {v["sku"]: v["stock"] for v in got["variants"]} == {p + "-0-S": 50, p + "-0-M": 0}
    assert s.db.sql("SELECT COUNT(*) FROM product_prices WHERE variant_id = (SELECT id FROM product_variants "
                    "WHERE sku = '%s-0-S')" % p) == [["1"]]


def test_refused_batch_is_redone_product_by_product(s):
    # stock below what checkouts reserved is only known to the database: the
    # batch is refused, redone one product at a time, and only the product
    # with that row fails
    mid, tok = make_merchant(s, integration="feed")
    p = uniq("Rsv")
    head = "product_id,sku,name,category,stock,price_us\n"
    skus = [uniq("S") for _ in range(3)]
    r = expect(post_feed(s, mid, tok, head + "".join(f"{p}-{i},{sku},Tee {i},tops,10,100\n"
                                                     for i, sku in enumerate(skus))), 200)
    assert r["created"] == 3
    s.db.sql("UPDATE inventory SET reserved = 4 WHERE variant_id = (SELECT id FROM product_variants WHERE sku = '%s')"
             % skus[1])
    new = uniq("S")
    csv = head + (f"{p}-0,{skus[0]},Tee Zero,tops,7,100\n"
                  f"{p}-1,{skus[1]},Tee One,tops,2,100\n"
                  f"{p}-2,{skus[2]},Tee Two,tops,8,100\n"
                  f"{p}-3,{new},Tee Three,tops,1,100\n")
    r = expect(post_feed(s, mid, tok, csv), 200)
    assert (r["created"], r["updated"], r["failed"]) == (1, 2, 1), r
    assert [(e["line"], e["field"]) for e in r["errors"]] == [(3, "stock")], r["errors"]
    names = dict(s.db.sql("SELECT external_id, name FROM products WHERE merchant_id = %d" % mid))
    assert names == {f"{p}-0": "Tee Zero", f"{p}-1": "Tee 1", f"{p}-2": "Tee Two", f"{p}-3": "Tee Three"}, names
    stock = dict(s.db.sql("SELECT v.sku, i.stock FROM inventory i JOIN product_variants v ON v.id = i.variant_id "
                          "WHERE v.sku IN ('%s', '%s')" % (skus[1], new)))
    assert stock == {skus[1]: "10", new: "1"}, stock


def test_feed_listing_rows_match_a_rebuild(s):
    # a feed's new products get their listing rows built by the importer
    # (catalog/listing.c); they must be the rows product_reindex's SQL makes:
    # scopes up the category tree, price range, stock level, the size and
    # colour lists (case folded by the database, in any order), the image,
    # nothing for a draft
    admin = s.admin()
    sub = uniq("midi").lower()
    expect(s.post("/api/catalog/categories", {"slug": sub, "name": "Midi", "parent": "dresses"}, token=admin), 201)
    mid, tok = make_merchant(s, integration="feed")
    p = uniq("Lr")
    brand = uniq("LrBrand")
    rows = [
        {"product_id": p + "-1", "sku": p + "-1a", "name": "Midi Dress", "brand": brand, "category": sub,
         "size": "S", "color": "Red", "stock": 10, "low_stock_threshold": 3, "images": ["a.jpg"],
         "prices": {"US": 1000, "IN": 50000}},
        {"product_id": p + "-1", "sku": p + "-1b", "name": "Midi Dress", "brand": brand, "category": sub,
         "size": "s", "color": "red", "stock": 0, "prices": {"US": 1200}},
        {"product_id": p + "-1", "sku": p + "-1c", "name": "Midi Dress", "brand": brand, "category": sub,
         "color": "Blue", "stock": 2, "prices": {"IN": 40000}},
        {"product_id": p + "-2", "sku": p + "-2a", "name": "Plain Tee", "category": "tops",
         "size": "XL", "color": "\u00c4rmel", "stock": 0, "prices": {"US": 500}},
        {"product_id": p + "-3", "sku": p + "-3a", "name": "Draft Tee", "category": "tops", "status": "draft",
         "stock": 5, "prices": {"US": 700}},
    ]
    r = expect(post_feed(s, mid, tok, "\n".join(json.dumps(x) for x in rows) + "\n", "application/x-ndjson"), 200)
    assert (r["created"], r["failed"]) == (3, 0), r
    ids = dict(s.db.sql("SELECT external_id, id FROM products WHERE merchant_id = %d" % mid))
    idlist = ",".join(ids.values())

    def lists(v):  # the shell client splits on "|": lists come back with ","
        return ",".join(sorted(v.replace("|", ",").split(",")))

    def snapshot():
        pm = s.db.sql("SELECT product_id, market_id, scope_id, category_id, brand_id, price, price_max, "
                      "popularity, created_at, REPLACE(sizes, '|', ','), REPLACE(colors, '|', ','), in_stock, "
                      "stock_level, REPLACE(stock_sizes, '|', ','), REPLACE(stock_colors, '|', ','), "
                      "image FROM product_market WHERE product_id IN (%s) ORDER BY 1, 2, 3" % idlist)
        pm = [row[:9] + [lists(x) for x in row[9:11]] + row[11:13] + [lists(x) for x in row[13:15]] + row[15:]
              for row in pm]
        attrs = s.db.sql("SELECT category_id, attr, product_id FROM listing_attrs WHERE product_id IN (%s) "
                         "ORDER BY 1, 2, 3" % idlist)
        return pm, attrs

    fresh = snapshot()
    pm, attrs = fresh
    one, two = ids[p + "-1"], ids[p + "-2"]
    us = s.db.sql("SELECT id FROM markets WHERE code = 'US'")[0][0]
    dresses, subid = (s.db.sql("SELECT id FROM categories WHERE slug = '%s'" % x)[0][0] for x in ("dresses", sub))
    mine = [row for row in pm if row[0] == one and row[1] == us]
    assert [row[2] for row in mine] == sorted(["0", dresses, subid], key=int), mine
    # US: the S/red and s/red variants (10 and 0 in stock); IN: S/Red and the unsized Blue one
    assert mine[0][5:7] == ["1000", "1200"], mine
    assert mine[0][9:13] == [lists("|s|s|"), lists("|red|red|"), "1", "2"], mine
    assert mine[0][13:15] == [lists("|s|"), lists("|red|")] and "a.jpg" in mine[0][15] and not mine[1][15]
    assert not [row for row in pm if row[0] == ids[p + "-3"]]
    assert [row[1] for row in attrs if row[2] == one] == ["c:blue", "c:red", "s:", "s:s"]
    assert [row[11] for row in pm if row[0] == two] == ["0", "0"]
    # the same products through product_reindex's SQL (an update rebuilds them)
    for ext, pid in ids.items():
        expect(s.put("/api/catalog/products/%s" % pid, {"description": "again"}, token=tok), 200)
    assert snapshot() == fresh
    # a feed updating them rebuilds only what changed (product.c,
    # LISTING_STALE / LISTING_UPSERT; the full-text rows whose text changed):
    # the result must still be what a rebuild from scratch makes. The first
    # product moves to tops and loses IN, the second is renamed and repriced,
    # the draft goes live.
    # letters only: PostgreSQL's parser reads "7e65" as a number
    old_word, new_word = ("zq" + k + "".join(chr(ord("a") + int(c, 16)) for c in uniq("").lower()
                                              if c in "0123456789abcdef") for k in ("old", "new"))
    expect(s.put("/api/catalog/products/%s" % two, {"name": "Plain Tee " + old_word}, token=tok), 200)
    assert [x["id"] for x in expect(s.get("/api/catalog/search?market=US&q=" + old_word), 200)["data"]] == [int(two)]
    update = [
        dict(rows[0], category="tops", prices={"US": 900}),
        dict(rows[1], category="tops"),
        dict(rows[2], category="tops", prices={"US": 800}),
        dict(rows[3], name="Plain Tee " + new_word, prices={"US": 650}),
        dict(rows[4], status="active"),
    ]
    r = expect(post_feed(s, mid, tok, "\n".join(json.dumps(x) for x in update) + "\n", "application/x-ndjson"), 200)
    assert (r["updated"], r["failed"]) == (3, 0), r
    fed = snapshot()
    pm = fed[0]
    tops = s.db.sql("SELECT id FROM categories WHERE slug = 'tops'")[0][0]
    assert {(row[1], row[2]) for row in pm if row[0] == one} == {(us, "0"), (us, tops)}, pm
    assert [row[5] for row in pm if row[0] == two] == ["650", "650"]
    assert len([row for row in pm if row[0] == ids[p + "-3"]]) == 2
    assert not expect(s.get("/api/catalog/search?market=US&q=" + old_word), 200)["data"]
    found = expect(s.get("/api/catalog/search?market=US&q=" + new_word), 200)
    assert [x["id"] for x in found["data"]] == [int(two)], found
    for ext, pid in ids.items():
        expect(s.put("/api/catalog/products/%s" % pid, {"description": "again"}, token=tok), 200)
    assert snapshot() == fed
