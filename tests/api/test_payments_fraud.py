"""Fraud rules, each triggered on its own (low thresholds from the
environment), review (admin queue, approve / reject) and reject outcomes.
Payments come from distinct loopback addresses (127.0.0.x) so the per-IP
rule only fires where a test means it to."""
import itertools

from harness import expect, parallel, uniq
from payments_util import ADDRESSES, request_from, shared_product

SERVER_ENV = {
    "FRAUD_VELOCITY_USER": "3",
    "FRAUD_VELOCITY_IP": "4",
    "FRAUD_VELOCITY_CARD": "3",
    "FRAUD_DECLINES": "2",
    "FRAUD_AMOUNT_MULTIPLE": "5",
    "FRAUD_NORM_US": "10000",
    "FRAUD_NORM_MIN_SAMPLES": "1000000",  # the configured norm, not this suite's average
    "FRAUD_REVIEW_SCORE": "50",
    "FRAUD_REJECT_SCORE": "80",
}

_ips = ("127.0.%d.%d" % (a, b) for a, b in itertools.product(range(1, 250), range(2, 250)))
# Stripe test cards with distinct card numbers (fingerprints)
_cards = iter(["tok_visa", "tok_visa_debit", "tok_mastercard", "tok_mastercard_debit", "tok_mastercard_prepaid",
               "tok_amex", "tok_discover", "tok_diners", "tok_jcb", "tok_unionpay"])


def buy(s, user, token, quantity=1, ip=None, address="US", gateway="stripe", extra=None):
    pid, vid = shared_product(s)
    payment = {"gateway": gateway, "token": token} if token else dict(extra)
    return request_from(s, ip or next(_ips), "POST", "/api/checkout/express",
                        {"market": "US", "product_id": pid, "variant_id": vid, "quantity": quantity,
                         "payment": payment, "shipping_address": ADDRESSES[address]}, user=user)


def fraud_of(s, tid):
    t = expect(s.get("/api/payments/transaction/%d" % tid, token=s.admin()), 200)
    return t["fraud"]


def reasons(s, resp):
    o = expect(resp, 201)
    return fraud_of(s, o["transaction_id"])["reasons"]


def age_account(s, user):
    s.db.sql("UPDATE payment_transactions SET created_at = created_at - 40 * 86400 WHERE user_id = '%s'" % user)


def test_calm_payment_has_no_reasons(s):
    assert reasons(s, buy(s, uniq("u"), "tok_visa")) == []


def test_velocity_per_user(s):
    user = uniq("u")
    for _ in range(3):
        assert "velocity_user" not in reasons(s, buy(s, user, "tok_amex" if _ == 0 else "tok_discover"
                                                     if _ == 1 else "tok_diners"))
    assert reasons(s, buy(s, user, "tok_unionpay")) == ["velocity_user"]


def test_velocity_per_ip(s):
    ip = next(_ips)
    tokens = ["tok_visa_debit", "tok_mastercard_debit", "tok_mastercard_prepaid", "tok_jcb"]
    for t in tokens:
        assert reasons(s, buy(s, uniq("u"), t, ip=ip)) == []
    assert reasons(s, buy(s, uniq("u"), "tok_in", ip=ip)) == ["velocity_ip"]


def test_velocity_per_card(s):
    for _ in range(3):
        assert "velocity_card" not in reasons(s, buy(s, uniq("u"), "tok_mastercard"))
    assert reasons(s, buy(s, uniq("u"), "tok_mastercard")) == ["velocity_card"]


def test_amount_far_above_market_norm(s):
    user = uniq("u")
    expect(buy(s, user, "pm_card_visa"), 201)
    age_account(s, user)
    # 11 x $49.99 + tax > 5 x $100 norm
    assert reasons(s, buy(s, user, "pm_card_amex", quantity=11)) == ["amount_above_market_norm"]


def test_new_account_with_high_amount(s):
    # 5 x $49.99 + tax: above twice the norm, below five times
    assert reasons(s, buy(s, uniq("u"), "pm_card_discover", quantity=5)) == ["new_account_high_amount"]


def test_repeated_declines(s):
    user = uniq("u")
    for _ in range(2):
        expect(buy(s, user, "tok_chargeDeclined"), 402, "payment_declined")
    assert reasons(s, buy(s, user, "pm_card_diners")) == ["repeated_declines"]


def test_shipping_country_not_the_markets_at_checkout(s):
    assert reasons(s, buy(s, uniq("u"), "pm_card_mastercard_prepaid", address="IN")) == ["shipping_country_mismatch"]


def test_shipping_country_not_the_markets(s):
    user = uniq("u")
    # a US order shipped to India, left pending by PayPal, paid through /process
    o = expect(buy(s, user, None, address="IN",
                   extra={"gateway": "paypal", "payer_email": "p@example.com",
                          "mock_application_code": "PAYER_ACTION_REQUIRED"}), 201)
    assert o["payment_status"] == "pending"
    r = request_from(s, next(_ips), "POST", "/api/payments/process",
                     {"order_id": o["id"], "payment": {"gateway": "stripe", "token": "pm_card_jcb"}}, user=user)
    body = expect(r, 201)
    assert fraud_of(s, body["transaction_id"])["reasons"] == ["shipping_country_mismatch"]
    assert fraud_of(s, o["transaction_id"])["reasons"] == ["shipping_country_mismatch"]


def test_review_then_admin_approves(s):
    user = uniq("u")
    # new account (25) + amount above norm (35) = 60: review
    o = expect(buy(s, user, "pm_card_unionpay", quantity=11), 201)
    assert o["payment_status"] == "review"
    t = expect(s.get("/api/payments/transaction/%d" % o["transaction_id"], token=s.admin()), 200)
    assert t["status"] == "review" and t["captured"] == 0 and t["fraud"]["score"] == 60
    assert sorted(t["fraud"]["reasons"]) == ["amount_above_market_norm", "new_account_high_amount"]
    queue = expect(s.get("/api/payments/reviews?status=pending&limit=100", token=s.admin()), 200)
    mine = [v for v in queue["data"] if v["transaction_id"] == o["transaction_id"]]
    assert len(mine) == 1 and mine[0]["order_id"] == o["id"] and mine[0]["score"] == 60
    expect(s.get("/api/payments/reviews", user=user), 403, "forbidden")
    rid = mine[0]["id"]
    expect(s.put("/api/payments/reviews/%d" % rid, {"decision": "maybe"}, token=s.admin()), 400,
           "validation_failed")
    # admins deciding at once: exactly one decision sticks, the others are told
    results = parallel(5, lambda i: s.put("/api/payments/reviews/%d" % rid,
                                          {"decision": "approve", "note": "called"}, token=s.admin()))
    assert sorted(r.status for r in results) == [200, 409, 409, 409, 409], results
    v = [r.json for r in results if r.status == 200][0]
    assert v["status"] == "approved" and v["decided_by"] == "admin-1"
    t = expect(s.get("/api/payments/transaction/%d" % o["transaction_id"], token=s.admin()), 200)
    assert t["status"] == "succeeded" and t["captured"] == o["total"]
    orders = expect(s.get("/api/orders/%s" % user, user=user), 200)["data"]
    assert [x["payment_status"] for x in orders if x["id"] == o["id"]] == ["paid"]
    expect(s.put("/api/payments/reviews/%d" % rid, {"decision": "reject"}, token=s.admin()), 409,
           "invalid_state")
    expect(s.put("/api/payments/reviews/999999", {"decision": "reject"}, token=s.admin()), 404, "not_found")


def test_review_then_admin_rejects(s):
    user = uniq("u")
    o = expect(buy(s, user, "pm_card_mastercard", quantity=11), 201)
    assert o["payment_status"] == "review"
    rid = [v for v in expect(s.get("/api/payments/reviews?limit=100", token=s.admin()), 200)["data"]
           if v["transaction_id"] == o["transaction_id"]][0]["id"]
    expect(s.put("/api/payments/reviews/%d" % rid, {"decision": "reject"}, token=s.admin()), 200)
    t = expect(s.get("/api/payments/transaction/%d" % o["transaction_id"], token=s.admin()), 200)
    assert t["status"] == "voided" and t["captured"] == 0
    orders = expect(s.get("/api/orders/%s" % user, user=user), 200)["data"]
    assert [x["payment_status"] for x in orders if x["id"] == o["id"]] == ["failed"]


def test_reject_declines_without_calling_the_gateway(s):
    user = uniq("u")
    for _ in range(2):
        expect(buy(s, user, "tok_chargeDeclined"), 402)
    attempts = int(s.db.sql("SELECT COUNT(*) FROM gateway_attempts")[0][0])
    # repeated declines (35) + new account (25) + amount (35) = 95: reject
    r = buy(s, user, "pm_card_visa_debit", quantity=11)
    expect(r, 402, "payment_declined")
    assert "risk" in r.json["error"]["message"]
    assert int(s.db.sql("SELECT COUNT(*) FROM gateway_attempts")[0][0]) == attempts
    row = s.db.sql("SELECT decline_code, fraud_score FROM payment_transactions WHERE user_id = '%s' "
                   "ORDER BY id DESC LIMIT 1" % user)[0]
    assert row == ["fraud_suspected", "95"]
