"""`mandi seed --demo` and `--products N`: a realistic, deterministic catalog."""
import harness
from harness import expect

SHARED_SERVER = False


def test_demo_catalog_is_realistic_and_deterministic(db):
    s = harness.Server(db, seed_args=["--demo"]).start()
    try:
        n = int(db.sql("SELECT COUNT(*) FROM products")[0][0])
        assert n >= 500
        assert int(db.sql("SELECT COUNT(*) FROM brands")[0][0]) >= 10
        # every top-level category has products, directly or through a sub-category
        tree = expect(s.get("/api/catalog/categories?market=US"), 200)["data"]
        assert [c["slug"] for c in tree][:6] == ["dresses", "tops", "bottoms", "shoes", "bags", "accessories"]
        assert sum(len(c["children"]) for c in tree) >= 6
        for c in tree[:6]:
            for m in ("US", "IN"):
                page = expect(s.get("/api/catalog/products?market=%s&category=%s&limit=1" % (m, c["slug"])), 200)
                assert page["data"], (m, c["slug"])
        sizes = {r[0] for r in db.sql("SELECT DISTINCT size FROM product_variants")}
        colors = {r[0] for r in db.sql("SELECT DISTINCT color FROM product_variants")}
        assert {"S", "M", "L"} <= sizes and len(colors) >= 8
        markets = dict(db.sql("SELECT market_id, COUNT(*) FROM product_market GROUP BY market_id"))
        assert len(markets) == 2 and all(int(v) > 200 for v in markets.values())
        stock = {r[0] for r in db.sql(
            "SELECT CASE WHEN stock = 0 THEN 'out' WHEN stock <= 5 THEN 'low' ELSE 'in' END FROM inventory")}
        assert stock == {"out", "low", "in"}
        # search and recommendations work on it
        r = expect(s.get("/api/catalog/search?market=IN&q=kurta"), 200)
        assert r["total"] > 0 and "kurta" in r["data"][0]["name"].lower()
        first = db.sql("SELECT name FROM products ORDER BY id LIMIT 20")
        # --products N tops up to N demo products, the same ones every time
        s.run("seed", "--products", str(n + 50))
        assert int(db.sql("SELECT COUNT(*) FROM products")[0][0]) == n + 50
        s.run("seed", "--demo")
        assert int(db.sql("SELECT COUNT(*) FROM products")[0][0]) == n + 50
    finally:
        s.stop()
    other = harness.Database(db.driver)
    try:
        harness.Server(other).run("seed", "--demo")
        assert other.sql("SELECT name FROM products ORDER BY id LIMIT 20") == first
    finally:
        other.drop()
