"""A live gateway that does not answer in time (issue 5): the payment is
neither paid nor failed but pending, the order is placed holding its stock,
the client gets 202, and the payment_reconcile job asks the gateway again
(Stripe: the same request with the same Idempotency-Key; Razorpay: the
order's payments) and settles it: paid, or failed with the order cancelled
and its stock returned. Never a second charge."""
import socket
import time

import harness
from harness import expect, uniq
from fake_gateway import FakeGateway
from payments_util import buy, order_of, product

SHARED_SERVER = False
_state = {}


def _env(fake):
    return {
        "STRIPE_SECRET_KEY": fake.stripe_key, "STRIPE_API_BASE": fake.url,
        "RAZORPAY_KEY_ID": fake.razorpay[0], "RAZORPAY_KEY_SECRET": fake.razorpay[1],
        "RAZORPAY_API_BASE": fake.url, "PAYMENT_GATEWAY_TIMEOUT_MS": "1000",
        "PAYMENT_RECONCILE_DELAY_S": "30", "PAYMENT_RECONCILE_ATTEMPTS": "2",
        "FRAUD_VELOCITY_CARD": "100000", "FRAUD_VELOCITY_IP": "100000",
        "FRAUD_VELOCITY_USER": "100000", "PAYMENT_BREAKER_MIN_ATTEMPTS": "1000"}


def env(db):
    if db not in _state:
        fake = FakeGateway(stripe_key="sk_live_fake_0123456789",
                           razorpay=("rzp_live_fake0123", "rzp_secret_fake_0123")).start()
        srv = harness.Server(db, env=_env(fake)).start()
        _state[db] = (srv, fake)
        import atexit
        atexit.register(lambda: (srv.stop(), fake.stop()))
    srv, fake = _state[db]
    fake.take()
    fake.delay, fake.fail, fake.hang, fake.drop, fake.hang_path = 0.0, False, 0.0, 0.0, ""
    with fake.lock:
        fake.created = []
    return srv, fake


def stock(s, vid):
    row = s.db.sql("SELECT stock, reserved FROM inventory WHERE variant_id = %d" % vid)[0]
    return int(row[0]), int(row[1])


def txn(s, tid):
    return expect(s.get("/api/payments/transaction/%d" % tid, token=s.admin()), 200)


def run_jobs(s, ahead):
    """The jobs `ahead` seconds from now (the server's own scheduler holds
    the lease for 30 s after its runs; a reconcile is due 30 s after the
    timeout)."""
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + ahead))
    r = s.run("jobs", "run-once", "--at", at, check=False)
    return r.stdout + r.stderr


def timed_out(s, fake, user, market, payment, path, pv, key=None, drop=False):
    """Buy with the gateway not answering in time on `path`: 202, pending."""
    fake.hang_path = path
    if drop:
        fake.drop = 1.5
    else:
        fake.hang = 1.5
    r = buy(s, user, market, payment, key=key, pv=pv)
    fake.hang = fake.drop = 0.0
    o = expect(r, 202)
    assert o["payment_status"] == "pending" and o["status"] == "confirmed"
    t = txn(s, o["transaction_id"])
    assert t["status"] == "pending" and t["reconciling"] is True and t["captured"] == 0
    assert stock(s, pv[1]) == (4, 0)  # the order holds its unit meanwhile
    return o


def test_stripe_timeout_is_pending_then_paid_once(db):
    s, fake = env(db)
    pv, user, key = product(s, stock=5), uniq("u"), uniq("idem")
    payment = {"gateway": "stripe", "token": "tok_visa"}
    o = timed_out(s, fake, user, "US", payment, "/v1/payment_intents", pv, key=key)
    assert len(fake.created) == 1  # the fake took the money, we do not know it yet
    # the client's retry with the same key gets the same answer, no new charge
    again = expect(buy(s, user, "US", payment, key=key, pv=pv), 202)
    assert again["order_number"] == o["order_number"]
    # nor can the order be paid again or shipped while the outcome is unknown
    expect(s.post("/api/payments/process", {"order_number": o["order_number"], "payment": payment},
                  user=user), 409, "invalid_state")
    expect(s.post("/api/orders/%s/ship" % o["order_number"], {"carrier": "UPS", "tracking_number": "1Z"},
                  token=s.admin()), 409, "invalid_state")
    before = len([r for r in fake.take() if r[1] == "/v1/payment_intents"])  # the first, only
    log = run_jobs(s, 90)
    reqs = fake.take()
    retries = [r for r in reqs if r[1] == "/v1/payment_intents"]
    assert len(retries) == 1, log[-2000:]
    assert retries[0][2]["Idempotency-Key"] == key  # the same request, the same key
    assert retries[0][3]["amount"] == str(o["total"])
    t = txn(s, o["transaction_id"])
    assert t["status"] == "succeeded" and t["payment_status"] == "paid" and t["reconciling"] is False
    assert t["captured"] == o["total"] and t["gateway_ref"] == fake.created[0]
    assert len(fake.created) == 1 and before == 1  # one request, charged once
    placed = order_of(s, user, o["order_number"])
    assert placed["payment_status"] == "paid" and placed["status"] == "confirmed"
    assert stock(s, pv[1]) == (4, 0)
    # settled: another run does not ask again
    run_jobs(s, 400)
    assert not [r for r in fake.take() if r[1] == "/v1/payment_intents"]


def test_stripe_timeout_then_declined_returns_the_stock(db):
    s, fake = env(db)
    pv, user = product(s, stock=5), uniq("u")
    o = timed_out(s, fake, user, "US", {"gateway": "stripe", "token": "tok_chargeDeclined"},
                  "/v1/payment_intents", pv)
    key = fake.take()[0][2]["Idempotency-Key"]  # we send one even when the client did not
    assert key
    log = run_jobs(s, 90)
    retries = [r for r in fake.take() if r[1] == "/v1/payment_intents"]
    assert [r[2]["Idempotency-Key"] for r in retries] == [key], log[-2000:]
    t = txn(s, o["transaction_id"])
    assert t["status"] == "declined" and t["payment_status"] == "failed"
    assert t["message"] == "Your card was declined." and t["captured"] == 0
    placed = order_of(s, user, o["order_number"])
    assert placed["status"] == "cancelled" and placed["payment_status"] == "failed"
    assert stock(s, pv[1]) == (5, 0)  # the unit is back on sale
    assert fake.created == [] or all(pi != t["gateway_ref"] for pi in fake.created)
    track = expect(s.get("/api/orders/%s/track" % o["order_number"], user=user), 200)
    assert any(e["status"] == "cancelled" for e in track["history"]), track
    # a cancelled order cannot be paid afterwards
    expect(s.post("/api/payments/process", {"order_number": o["order_number"],
                                            "payment": {"gateway": "stripe", "token": "tok_visa"}},
                  user=user), 409, "invalid_state")


def test_razorpay_timeout_then_paid_from_the_orders_payments(db):
    s, fake = env(db)
    pv, user = product(s, stock=5), uniq("u")
    o = timed_out(s, fake, user, "IN", {"gateway": "razorpay", "token": "token_card4321"},
                  "/v1/payments/create/json", pv)
    reqs = fake.take()
    assert [r[1] for r in reqs] == ["/v1/orders", "/v1/payments/create/json"]
    order_id = reqs[1][3]["order_id"]
    log = run_jobs(s, 90)
    reqs = fake.take()
    assert [(r[0], r[1]) for r in reqs] == [("GET", "/v1/orders/%s/payments" % order_id)], log[-2000:]
    t = txn(s, o["transaction_id"])
    assert t["status"] == "succeeded" and t["payment_status"] == "paid"
    assert t["gateway_ref"].startswith("pay_fake") and t["captured"] == o["total"]
    assert order_of(s, user, o["order_number"])["payment_status"] == "paid"
    assert stock(s, pv[1]) == (4, 0)
    assert len([p for p in fake.rzp_payments.values() if p.get("order_id") == order_id]) == 1


def test_razorpay_request_lost_is_failed_and_stock_returned(db):
    s, fake = env(db)
    pv, user = product(s, stock=5), uniq("u")
    o = timed_out(s, fake, user, "IN", {"gateway": "razorpay", "token": "token_card8765"},
                  "/v1/payments/create", pv, drop=True)
    order_id = fake.take()[1][3]["order_id"]
    log = run_jobs(s, 90)
    assert [r[1] for r in fake.take()] == ["/v1/orders/%s/payments" % order_id], log[-2000:]
    t = txn(s, o["transaction_id"])
    assert t["status"] == "declined" and t["payment_status"] == "failed" and t["captured"] == 0
    placed = order_of(s, user, o["order_number"])
    assert placed["status"] == "cancelled" and placed["payment_status"] == "failed"
    assert stock(s, pv[1]) == (5, 0)


def test_gateway_still_silent_backs_off_then_gives_up_with_an_alert(db):
    s, fake = env(db)
    pv, user = product(s, stock=5), uniq("u")
    o = timed_out(s, fake, user, "US", {"gateway": "stripe", "token": "tok_visa"},
                  "/v1/payment_intents", pv)
    fake.take()
    fake.drop, fake.hang_path = 1.5, "/v1/payment_intents"
    try:
        run_jobs(s, 90)  # the retry times out too: still pending, asked again later
        t = txn(s, o["transaction_id"])
        assert t["status"] == "pending" and t["reconciling"] is True
        row = s.db.sql("SELECT attempts, status FROM payment_reconciliations WHERE transaction_id = %d"
                       % o["transaction_id"])
        assert row == [["1", "open"]]
        run_jobs(s, 100)  # not due yet (backoff): not asked
        assert len([r for r in fake.take() if r[1] == "/v1/payment_intents"]) == 1
        run_jobs(s, 400)  # the second and last attempt (PAYMENT_RECONCILE_ATTEMPTS=2)
    finally:
        fake.drop = 0.0
    t = txn(s, o["transaction_id"])
    assert t["status"] == "declined" and t["decline_code"] == "gateway_unconfirmed"
    assert order_of(s, user, o["order_number"])["status"] == "cancelled"
    assert stock(s, pv[1]) == (5, 0)
    alerts = s.db.sql("SELECT severity, status FROM system_alerts WHERE alert_type = 'payment_unreconciled' "
                      "AND dedup_key = 'payment_unreconciled:%d'" % o["transaction_id"])
    assert alerts == [["high", "open"]]


def test_refused_connection_is_a_plain_failure_not_pending(db):
    """Nothing reached the gateway, so nothing can have been charged: the
    checkout answers at once (402, as before) and keeps no stock."""
    s, fake = env(db)
    pv = product(s, stock=5)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nobody listens there
    srv = harness.Server(s.db, env=dict(_env(fake), STRIPE_API_BASE="http://127.0.0.1:%d" % port)).start(seed=False)
    try:
        r = buy(srv, uniq("u"), "US", {"gateway": "stripe", "token": "tok_visa"}, pv=pv)
        expect(r, 402, "payment_declined")
        assert stock(s, pv[1]) == (5, 0)
        assert not s.db.sql("SELECT 1 FROM payment_reconciliations r JOIN payment_transactions t "
                            "ON t.id = r.transaction_id WHERE t.id = (SELECT MAX(id) FROM payment_transactions)")
    finally:
        srv.stop()
