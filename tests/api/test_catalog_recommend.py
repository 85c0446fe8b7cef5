"""Catalog: recommendations refreshed by the background job — bought
together, similar, popular; never the product itself, nothing unavailable
in the market or out of stock."""
import subprocess
import time

from harness import BINARY, expect, uniq
from catalog_util import make_merchant, create, sql_write


def variant(stock=10, prices=None):
    return [{"sku": uniq("S"), "size": "M", "color": "red", "stock": stock,
             "prices": prices or {"US": 4000, "IN": 200000}}]


def add_order(s, market_code, products, status="confirmed"):
    number = uniq(market_code)
    now = int(time.time())
    sql_write(s, "INSERT INTO orders (order_number, user_id, market_id, status, payment_status, currency, "
             "subtotal, discount, shipping, tax, total, shipping_method, gateway, created_at, updated_at) "
             "SELECT '%s', 'u1', id, '%s', 'paid', currency, 100, 0, 0, 0, 100, 'standard', 'stripe', %d, %d "
             "FROM markets WHERE code = '%s'" % (number, status, now, now, market_code))
    for p in products:
        v = p["variants"][0]
        sql_write(s, "INSERT INTO order_items (order_id, product_id, variant_id, merchant_id, sku, name, quantity, "
                 "unit_price, line_total) SELECT id, %d, %d, %d, '%s', 'x', 1, 100, 100 FROM orders "
                 "WHERE order_number = '%s'" % (p["id"], v["id"], p["merchant_id"], v["sku"], number))


def run_jobs(s):
    """Run the jobs now. The server's own scheduler holds each job's lease for
    its interval, so run at a time past that lease (the job only stamps it)."""
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
    out = s.run("jobs", "run-once", "--at", at, check=False)
    assert out.returncode == 0, out
    return out


def recs(s, pid, market="US"):
    return expect(s.get("/api/catalog/recommendations/%d?market=%s&limit=12" % (pid, market)), 200)["data"]


def test_recommendations_blend_and_rules(s):
    # the job runs, and succeeds, before there is any order
    run_jobs(s)
    mid, tok = make_merchant(s)
    brand = uniq("Brand")
    a = create(s, tok, mid, brand=brand, category="dresses", tags=["summer", "linen"], variants=variant())
    similar = create(s, tok, mid, brand=brand, category="dresses", tags=["summer", "linen"], variants=variant())
    sold_out = create(s, tok, mid, brand=brand, category="dresses", tags=["summer"], variants=variant(stock=0))
    us_only = create(s, tok, mid, brand=brand, category="dresses", variants=variant(prices={"US": 4100}))
    partner = create(s, tok, mid, category="bags", variants=variant())
    cancelled_partner = create(s, tok, mid, category="shoes", variants=variant())
    add_order(s, "US", [a, partner])
    add_order(s, "US", [a, partner])
    add_order(s, "US", [a, cancelled_partner], status="cancelled")
    add_order(s, "IN", [a, cancelled_partner])
    run_jobs(s)

    us = recs(s, a["id"])
    ids = [x["id"] for x in us]
    assert ids[0] == partner["id"] and us[0]["reason"] == "bought_together", us
    assert similar["id"] in ids and us_only["id"] in ids
    assert next(x for x in us if x["id"] == similar["id"])["reason"] == "similar"
    assert a["id"] not in ids and sold_out["id"] not in ids
    # same category, brand, tags and price band beats a weaker match
    assert ids.index(similar["id"]) < ids.index(us_only["id"])
    assert [x["score"] for x in us] == sorted((x["score"] for x in us), reverse=True)
    assert all(x["reason"] in ("bought_together", "similar", "popular") for x in us)
    # cancelled orders do not count; the IN order does, in IN only
    assert cancelled_partner["id"] not in [x["id"] for x in us if x["reason"] == "bought_together"]
    inn = recs(s, a["id"], "IN")
    assert inn[0]["id"] == cancelled_partner["id"] and inn[0]["reason"] == "bought_together"
    assert us_only["id"] not in [x["id"] for x in inn]
    # selling out after the job removes it at read time
    expect(s.put("/api/inventory/%d" % similar["variants"][0]["id"], {"stock": 0}, token=tok), 200)
    assert similar["id"] not in [x["id"] for x in recs(s, a["id"])]
    # a product not sold in the market, unknown product, bad market
    expect(s.get("/api/catalog/recommendations/%d?market=IN" % us_only["id"]), 404, "not_found")
    expect(s.get("/api/catalog/recommendations/999999?market=US"), 404, "not_found")
    expect(s.get("/api/catalog/recommendations/%d?market=XX" % a["id"]), 400, "unknown_market")
    expect(s.get("/api/catalog/recommendations/%d" % a["id"]), 400, "validation_failed")
    expect(s.get("/api/catalog/recommendations/%d?market=US&limit=50" % a["id"]), 400, "validation_failed")


def test_popular_fills_in_when_nothing_else_matches(s):
    mid, tok = make_merchant(s)
    lonely = create(s, tok, mid, category="accessories", brand=uniq("Solo"), variants=variant())
    other = create(s, tok, mid, category="shoes", brand=uniq("Other"), variants=variant())
    run_jobs(s)
    got = recs(s, lonely["id"])
    assert other["id"] in [x["id"] for x in got] and lonely["id"] not in [x["id"] for x in got]
    assert next(x for x in got if x["id"] == other["id"])["reason"] == "popular"


def test_concurrent_refreshes_both_succeed(s):
    # two instances refreshing recommendations (and the trending snapshot)
    # at once, as a scheduled run beside `mandi jobs run-once`: on
    # PostgreSQL the later one's DELETE does not see rows the other has just
    # written, and its INSERT met them as duplicate keys; both must finish,
    # and each product keeps one list
    mid, tok = make_merchant(s)
    made = [create(s, tok, mid, name="Concurrent Tee %d" % i, category="tops") for i in range(30)]
    # the runs below take every job's lease hours ahead; put the leases back
    # afterwards so the other tests' run_jobs still get theirs
    leases = s.db.sql("SELECT name, holder, expires_at, last_run_at FROM job_leases")
    for round_ in range(4):
        ats = [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600 * (4 + 2 * k + 8 * round_)))
               for k in range(2)]
        procs = [subprocess.Popen([BINARY, "jobs", "run-once", "--at", at, "--job", job], env=s.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for at in ats for job in ("catalog.recommendations", "trending-refresh")]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    sql_write(s, "DELETE FROM job_leases")
    for name, holder, expires, last in leases:
        sql_write(s, "INSERT INTO job_leases (name, holder, expires_at, last_run_at) VALUES ('%s', '%s', %s, %s)"
                  % (name, holder, expires, last or "NULL"))
    dup = s.db.sql("SELECT COUNT(*) FROM (SELECT product_id, market_id, recommended_id FROM product_recommendations "
                   "GROUP BY product_id, market_id, recommended_id HAVING COUNT(*) > 1) d")
    assert dup == [["0"]]
    over = s.db.sql("SELECT COUNT(*) FROM (SELECT product_id, market_id FROM product_recommendations "
                    "GROUP BY product_id, market_id HAVING COUNT(*) > 12) d")
    assert over == [["0"]]
    ranks = s.db.sql("SELECT market_id, COUNT(*), MAX(rank) FROM trending_products GROUP BY market_id")
    assert ranks and all(n == top for _, n, top in ranks), ranks
    r = s.run("jobs", "run-once", "--job", "no-such-job", check=False)
    assert r.returncode == 2 and "no-such-job" in r.stderr
    # out of the way of the other tests' popular pools
    for p in made:
        expect(s.delete("/api/catalog/products/%d" % p["id"], token=tok), 200)
