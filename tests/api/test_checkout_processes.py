"""Stock holds across server processes: two `mandi serve` sharing one
database sell exactly the stock there is, and share Idempotency-Keys."""
import commerce_util as cu
import harness
from harness import expect, parallel, uniq

SHARED_SERVER = False


def two_servers(db):
    a = harness.Server(db, env=cu.SERVER_ENV).start()
    b = harness.Server(db, env=cu.SERVER_ENV).start(seed=False)
    return a, b


def test_20_checkouts_for_3_units_across_two_processes(db):
    a, b = two_servers(db)
    try:
        pid, vid, _ = cu.product(a, stock=3)
        users = [uniq("u") for _ in range(20)]
        servers = [a if i % 2 else b for i in range(20)]
        for u, srv in zip(users, servers):
            expect(cu.add(srv, u, pid, vid, 1), 200)

        def buy(i):
            u, srv = users[i], servers[i]
            r = srv.post("/api/checkout/start", {"market": "US"}, user=u)
            if r.status != 201:
                return r
            sid = r.json["id"]
            r = srv.put("/api/checkout/%d/update" % sid, {"shipping_address": cu.US_ADDRESS}, user=u)
            return cu.complete(srv, u, sid) if r.status == 200 else r

        res = parallel(20, buy)
        assert sum(1 for r in res if r.status == 201) == 3, res
        assert all(r.error == "out_of_stock" for r in res if r.status != 201), res
        assert cu.stock(a, vid) == (0, 0)
        sold = db.sql("SELECT SUM(quantity) FROM order_items WHERE variant_id = %d" % vid)
        assert sold == [["3"]]
    finally:
        a.stop()
        b.stop()


def test_one_idempotency_key_on_two_processes_makes_one_order(db):
    a, b = two_servers(db)
    try:
        pid, vid, _ = cu.product(a, stock=10)
        u = uniq("u")
        expect(cu.add(a, u, pid, vid, 1), 200)
        sess = cu.start(a, u, address=cu.US_ADDRESS)
        key = uniq("key")
        res = parallel(8, lambda i: cu.complete((a, b)[i % 2], u, sess["id"], key=key))
        assert all(r.status == 201 for r in res), res
        assert len({r.json["order_number"] for r in res}) == 1
        assert db.sql("SELECT COUNT(*) FROM orders WHERE user_id = '%s'" % u) == [["1"]]
        assert cu.stock(a, vid) == (9, 0)
    finally:
        a.stop()
        b.stop()
