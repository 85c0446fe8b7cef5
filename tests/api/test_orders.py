"""Orders (CONTRACT §5.5): list, tracking, merchant/admin status moves,
invalid transitions, cancel returns stock, notifications in the outbox."""
import time

import commerce_util as cu
from commerce_util import buy, merchant, product, stock
from harness import expect, uniq

SERVER_ENV = cu.SERVER_ENV


def test_orders_list_newest_first_and_paged(s):
    pid, vid, _ = product(s, us=1000, stock=50)
    u = uniq("u")
    numbers = [buy(s, u, pid, vid)["order_number"] for _ in range(3)]
    page = expect(s.get("/api/orders/%s?limit=2" % u, user=u), 200)
    assert [o["order_number"] for o in page["data"]] == numbers[::-1][:2]
    assert page["next_cursor"]
    rest = expect(s.get("/api/orders/%s?limit=2&cursor=%s" % (u, page["next_cursor"]), user=u), 200)
    assert [o["order_number"] for o in rest["data"]] == [numbers[0]] and rest["next_cursor"] is None
    o = page["data"][0]
    for k in ("currency", "subtotal", "discount", "shipping", "tax", "total", "items", "status",
              "payment_status", "transaction_id"):
        assert k in o, k
    assert o["items"][0]["variant_id"] == vid
    expect(s.get("/api/orders/%s" % u, user=uniq("u")), 403, "forbidden")
    assert len(expect(s.get("/api/orders/%s" % u, token=s.admin()), 200)["data"]) == 3


def test_ship_deliver_track_with_history(s):
    mid, mtok = merchant(s)
    pid, vid, _ = product(s, mid=mid)
    u = uniq("u")
    num = buy(s, u, pid, vid)["order_number"]
    expect(s.post("/api/orders/%s/ship" % num, {"carrier": "UPS", "tracking_number": "1Z999"}, user=u),
           403, "forbidden")  # customers do not ship
    expect(s.post("/api/orders/%s/ship" % num, {"carrier": "UPS"}, token=mtok), 400, "validation_failed")
    other_mid, other_tok = merchant(s)
    expect(s.post("/api/orders/%s/ship" % num, {"carrier": "UPS", "tracking_number": "1Z999"}, token=other_tok),
           404, "not_found")
    expect(s.post("/api/orders/%s/deliver" % num, token=mtok), 409, "invalid_state")
    shipped = expect(s.post("/api/orders/%s/ship" % num, {"carrier": "UPS", "tracking_number": "1Z999"},
                            token=mtok), 200)
    assert (shipped["status"], shipped["carrier"], shipped["tracking_number"]) == ("shipped", "UPS", "1Z999")
    expect(s.post("/api/orders/%s/ship" % num, {"carrier": "UPS", "tracking_number": "1Z999"}, token=mtok),
           409, "invalid_state")
    expect(s.post("/api/orders/%s/cancel" % num, user=u), 409, "invalid_state")
    done = expect(s.post("/api/orders/%s/deliver" % num, token=s.admin()), 200)
    assert done["status"] == "delivered"
    track = expect(s.get("/api/orders/%s/track" % num, user=u), 200)
    assert [h["status"] for h in track["history"]] == ["confirmed", "shipped", "delivered"]
    assert all(h["at"].endswith("Z") for h in track["history"])
    assert (track["carrier"], track["tracking_number"], track["status"]) == ("UPS", "1Z999", "delivered")
    assert expect(s.get("/api/orders/%s/track" % num, token=mtok), 200)["status"] == "delivered"
    expect(s.get("/api/orders/%s/track" % num, token=other_tok), 404, "not_found")
    expect(s.get("/api/orders/US-NOPE/track", user=u), 404, "not_found")
    for to in ("ship", "deliver", "cancel"):
        body = {"carrier": "UPS", "tracking_number": "1"} if to == "ship" else None
        expect(s.post("/api/orders/%s/%s" % (num, to), body, token=s.admin()), 409, "invalid_state")


def test_cancel_returns_stock_once(s):
    pid, vid, _ = product(s, stock=10)
    u = uniq("u")
    order = buy(s, u, pid, vid, qty=3)
    assert stock(s, vid) == (7, 0)
    expect(s.post("/api/orders/%s/cancel" % order["order_number"], user=uniq("u")), 404, "not_found")
    c = expect(s.post("/api/orders/%s/cancel" % order["order_number"], {"reason": "changed my mind"}, user=u), 200)
    assert c["status"] == "cancelled"
    assert stock(s, vid) == (10, 0)
    expect(s.post("/api/orders/%s/cancel" % order["order_number"], token=s.admin()), 409, "invalid_state")
    assert stock(s, vid) == (10, 0)
    track = expect(s.get("/api/orders/%s/track" % order["order_number"], user=u), 200)
    assert [h["status"] for h in track["history"]] == ["confirmed", "cancelled"]
    # the captured payment went back in full
    assert c["payment_status"] == "refunded", c
    txn = s.db.sql("SELECT captured, refunded FROM payment_transactions WHERE id = %d" % order["transaction_id"])
    assert txn[0][0] == txn[0][1] == str(order["total"])


def test_notifications_written_with_the_order_and_delivered(s):
    mid, mtok = merchant(s)
    pid, vid, _ = product(s, mid=mid)
    u = uniq("u")
    num = buy(s, u, pid, vid)["order_number"]
    expect(s.post("/api/orders/%s/ship" % num, {"carrier": "USPS", "tracking_number": "94001"}, token=mtok), 200)
    expect(s.post("/api/orders/%s/deliver" % num, token=mtok), 200)
    rows = s.db.sql("SELECT kind, channel, subject, body FROM notifications WHERE recipient = '%s' ORDER BY id" % u)
    assert [r[0] for r in rows] == ["order_confirmation", "order_shipped", "order_delivered"]
    assert all(r[1] == "log" and num in r[2] for r in rows)
    assert "94001" in rows[1][3]
    # delivered by run-once, or by the server's own tick if it holds the job's lease
    s.run("jobs", "run-once")
    deadline = time.time() + 20
    while time.time() < deadline:
        sent = s.db.sql("SELECT status, attempts FROM notifications WHERE recipient = '%s'" % u)
        if sent == [["sent", "1"]] * 3:
            break
        time.sleep(0.2)
    assert sent == [["sent", "1"]] * 3, sent


def test_declined_checkout_writes_no_notification(s):
    pid, vid, _ = product(s)
    u = uniq("u")
    expect(cu.add(s, u, pid, vid), 200)
    sess = cu.start(s, u, address=cu.US_ADDRESS)
    expect(cu.complete(s, u, sess["id"], {"gateway": "stripe", "token": "tok_chargeDeclined"}), 402)
    assert s.db.sql("SELECT COUNT(*) FROM notifications WHERE recipient = '%s'" % u)[0][0] == "0"


def test_cod_is_captured_on_delivery(s):
    """Cash on delivery: pending until the parcel is delivered, then paid
    (order and transaction), and only then refundable."""
    pid, vid, _ = product(s, inr=149900, stock=5)
    u = uniq("u")
    order = buy(s, u, pid, vid, market="IN", payment={"gateway": "cod"})
    assert order["payment_status"] == "cod_pending"
    num, txn = order["order_number"], order["transaction_id"]
    before = expect(s.get("/api/payments/transaction/%d" % txn, user=u), 200)
    assert before["status"] == "pending"
    expect(s.post("/api/orders/%s/ship" % num, {"carrier": "Delhivery", "tracking_number": "D1"},
                  token=s.admin()), 200)
    done = expect(s.post("/api/orders/%s/deliver" % num, token=s.admin()), 200)
    assert done["payment_status"] == "paid", done
    after = expect(s.get("/api/payments/transaction/%d" % txn, user=u), 200)
    assert after["status"] == "succeeded" and after["amount"] == order["total"]
    listed = expect(s.get("/api/orders/%s" % u, user=u), 200)["data"][0]
    assert listed["payment_status"] == "paid"


def test_a_sale_down_to_the_threshold_raises_one_low_stock_alert(s):
    pid, vid, _ = product(s, stock=7)  # the default threshold is 5
    key = "low_stock:variant:%d" % vid
    buy(s, uniq("u"), pid, vid, qty=1)  # 6 left: above the threshold
    assert s.db.sql("SELECT COUNT(*) FROM system_alerts WHERE dedup_key = '%s'" % key) == [["0"]]
    buy(s, uniq("u"), pid, vid, qty=2)  # 4 left
    buy(s, uniq("u"), pid, vid, qty=1)  # 3 left: still the one open alert
    rows = s.db.sql("SELECT alert_type, status FROM system_alerts WHERE dedup_key = '%s'" % key)
    assert rows == [["low_stock", "open"]], rows
