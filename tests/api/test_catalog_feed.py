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
