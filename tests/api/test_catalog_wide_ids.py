"""Category ids far above the usual, in a database of their own (SQLite then
gives every later category a large id too): search tests a scope through a
byte per category id only below 2^20 and searches the ids above it, and
listings look a scope's orders up by id; either way a product of a
sub-category of such a category is listed and found under it, and a
product of another category is not."""
import time

from harness import expect, uniq
from catalog_util import make_merchant, create, sql_write

BIG = 3000001


def ids(page):
    return [p["id"] for p in page["data"]]


def test_scope_of_a_category_with_a_large_id(s):
    admin = s.admin()
    top = uniq("wide").lower()
    sql_write(s, "INSERT INTO categories (id, slug, name, display_order) VALUES (%d, '%s', 'Wide', 0)"
              % (BIG, top))
    sub = uniq("widesub").lower()
    expect(s.post("/api/catalog/categories", {"slug": sub, "name": "Wide sub", "parent": top},
                  token=admin), 201)
    mid, tok = make_merchant(s)
    word = "zqw" + uniq("w").split("-")[1].lower()
    made = create(s, tok, mid, category=sub, name="Linen %s Top" % word)
    create(s, tok, mid, category="tops", name="Linen %s Tee" % word)  # outside the scope
    # right after the writes (the database's way, most likely), then once
    # the columns have been read again (a different page size: not cached)
    for limit, pause in ((5, 0), (6, 1.0)):
        time.sleep(pause)
        for sort in ("popular", "newest", "price_asc", "price_desc"):
            got = expect(s.get("/api/catalog/products?market=US&category=%s&sort=%s&limit=%d"
                               % (top, sort, limit)), 200)
            assert ids(got) == [made["id"]], (sort, limit)
        got = expect(s.get("/api/catalog/products?market=US&category=%s&in_stock=true&size=M&color=blue"
                           "&limit=%d" % (top, limit)), 200)
        assert ids(got) == [made["id"]]
        got = expect(s.get("/api/catalog/search?market=US&category=%s&q=%s&limit=%d" % (top, word, limit)),
                     200)
        assert ids(got) == [made["id"]]
        assert got["total"] == 1
