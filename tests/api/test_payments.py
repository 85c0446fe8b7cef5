"""Payments (issue 5): every gateway's sandbox success and decline paths,
gateways a market does not offer, card numbers refused (and absent from logs
and database), saved methods, transactions, refunds (also racing),
paying an order later (also concurrently with one key), webhooks."""
import json
import time

from harness import expect, parallel, uniq
from payments_util import (ADDRESSES, RAZORPAY_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET, SUCCESS,
                           all_rows_text, buy, order_of, post_raw, product, razorpay_signature,
                           stripe_signature)

SERVER_ENV = {
    "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
    "RAZORPAY_WEBHOOK_SECRET": RAZORPAY_WEBHOOK_SECRET,
    # the suite pays many times from one address with the same test cards:
    # velocity rules are exercised in test_payments_fraud.py
    "FRAUD_VELOCITY_USER": "100000",
    "FRAUD_VELOCITY_IP": "100000",
    "FRAUD_VELOCITY_CARD": "100000",
}


def txn(s, tid, user=None):
    return expect(s.get("/api/payments/transaction/%d" % tid, user=user, token=None if user else s.admin()), 200)


def test_every_gateway_succeeds_in_its_sandbox(s):
    for market, payments in SUCCESS.items():
        for p in payments:
            user = uniq("u")
            o = expect(buy(s, user, market, p), 201)
            assert o["payment_status"] == "paid", (p, o)
            t = txn(s, o["transaction_id"], user)
            assert t["status"] == "succeeded" and t["gateway"] == p["gateway"]
            assert t["amount"] == o["total"] and t["captured"] == o["total"]
            assert t["currency"] == ("USD" if market == "US" else "INR")
            assert t["order_id"] == o["id"]


def test_stripe_token_details_and_decline_codes(s):
    user = uniq("u")
    o = expect(buy(s, user, "US", {"gateway": "stripe", "token": "tok_amex"}), 201)
    t = txn(s, o["transaction_id"], user)
    assert (t["brand"], t["last4"]) == ("amex", "8431")
    cases = [("tok_chargeDeclined", "generic_decline", "Your card was declined."),
             ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds", "Your card has insufficient funds."),
             ("tok_chargeDeclinedExpiredCard", "expired_card", "Your card has expired."),
             ("tok_chargeDeclinedIncorrectCvc", "incorrect_cvc", "Your card's security code is incorrect.")]
    for token, code, message in cases:
        for gw in ("stripe", "apple_pay"):
            r = buy(s, uniq("u"), "US", {"gateway": gw, "token": token})
            expect(r, 402, "payment_declined")
            assert r.json["error"]["message"] == message, r
    rows = s.db.sql("SELECT decline_code FROM payment_transactions WHERE status = 'declined' "
                    "AND gateway = 'stripe' ORDER BY id")
    assert {"generic_decline", "insufficient_funds", "expired_card", "incorrect_cvc"} <= {r[0] for r in rows}


def test_every_gateway_declines_in_its_sandbox(s):
    declines = [("US", {"gateway": "paypal", "payer_email": "b@example.com",
                        "mock_application_code": "INSTRUMENT_DECLINED"}, "instrument presented was either declined"),
                ("IN", {"gateway": "razorpay", "vpa": "failure@razorpay"}, "Payment failed"),
                ("IN", {"gateway": "upi", "vpa": "failure@razorpay"}, "Payment failed"),
                ("IN", {"gateway": "paytm", "mobile": "7777777777", "otp": "111111"}, "Invalid OTP")]
    for market, p, words in declines:
        user = uniq("u")
        r = buy(s, user, market, p)
        expect(r, 402, "payment_declined")
        assert words in r.json["error"]["message"], r
        # no paid order was created
        body = expect(s.get("/api/orders/%s" % user, user=user), 200)
        assert all(o["payment_status"] != "paid" for o in body["data"])


def test_cod_is_india_only_and_pending(s):
    user = uniq("u")
    o = expect(buy(s, user, "IN", {"gateway": "cod"}), 201)
    assert o["payment_status"] == "cod_pending"
    assert txn(s, o["transaction_id"], user)["status"] == "pending"
    expect(buy(s, uniq("u"), "US", {"gateway": "cod"}), 400, "gateway_unavailable")


def test_gateway_not_offered_in_market(s):
    expect(buy(s, uniq("u"), "IN", {"gateway": "stripe", "token": "tok_visa"}), 400, "gateway_unavailable")
    expect(buy(s, uniq("u"), "US", {"gateway": "upi", "vpa": "success@razorpay"}), 400, "gateway_unavailable")
    expect(buy(s, uniq("u"), "US", {"gateway": "venmo"}), 400, "gateway_unavailable")
    expect(s.post("/api/payments/methods", {"market": "IN", "gateway": "stripe", "type": "card",
                                            "token": "tok_visa"}, user=uniq("u")), 400, "gateway_unavailable")


def test_bad_payment_objects_are_400(s):
    for p in [{"gateway": "stripe"}, {"gateway": "stripe", "token": "visa"},
              {"gateway": "stripe", "token": "tok_unknown_thing"},
              {"gateway": "upi", "vpa": "nobody"}, {"gateway": "paytm", "mobile": "12"},
              {"gateway": "stripe", "token": "tok_visa", "cvc": "123"}, {"token": "tok_visa"},
              {"method_id": "x"}]:
        expect(buy(s, uniq("u"), "US" if p.get("gateway") != "upi" and p.get("gateway") != "paytm" else "IN", p),
               400, "validation_failed")


def test_raw_card_number_refused_never_stored_or_logged(s):
    pans = ["4242424242424242", "4000 0566 5566 5556", "5555-5555-5555-4444"]
    user = uniq("u")
    for pan in pans:
        r = s.post("/api/payments/methods", {"market": "US", "gateway": "stripe", "type": "card",
                                             "token": pan}, user=user)
        expect(r, 400, "validation_failed")
        assert pan not in r.body
        r = buy(s, user, "US", {"gateway": "stripe", "token": pan})
        expect(r, 400, "validation_failed")
        assert pan not in r.body
        r = buy(s, user, "US", {"gateway": "stripe", "token": "tok_visa", "card_number": pan})
        expect(r, 400, "validation_failed")
    r = buy(s, user, "US", {"gateway": "stripe", "card": {"number": 4111111111111111}})
    expect(r, 400, "validation_failed")
    expect(s.post("/api/payments/process", {"order_id": 1, "payment": {"gateway": "stripe",
                                                                        "token": "4242424242424242"}},
                  user=user), 400, "validation_failed")
    time.sleep(0.2)
    logs = s.logs()
    stored = all_rows_text(s.db)
    for pan in pans + ["4111111111111111"]:
        assert pan not in logs, "card number in the server log"
        assert pan not in stored, "card number in the database"
        assert pan.replace(" ", "").replace("-", "") not in stored


def test_saved_methods_flow(s):
    user, other = uniq("u"), uniq("u")
    m1 = expect(s.post("/api/payments/methods", {"market": "US", "gateway": "stripe", "type": "card",
                                                 "token": "tok_visa"}, user=user), 201)
    assert (m1["brand"], m1["last4"], m1["is_default"]) == ("visa", "4242", True)
    m2 = expect(s.post("/api/payments/methods", {"market": "US", "gateway": "stripe", "type": "card",
                                                 "token": "tok_mastercard", "nickname": "work"},
                       user=user), 201)
    assert (m2["brand"], m2["last4"], m2["is_default"], m2["nickname"]) == ("mastercard", "4444", False, "work")
    upi = expect(s.post("/api/payments/methods", {"market": "IN", "gateway": "upi", "type": "upi",
                                                  "token": "success@razorpay"}, user=user), 201)
    assert upi["brand"] == "upi" and upi["is_default"] is True
    listed = expect(s.get("/api/payments/methods?market=US", user=user), 200)
    assert [g["gateway"] for g in listed["payment_options"]] == ["stripe", "paypal", "apple_pay"]
    assert [m["id"] for m in listed["data"]] == [m1["id"], m2["id"]]
    assert "token" not in listed["data"][0]
    anon = expect(s.get("/api/payments/methods?market=IN"), 200)
    assert [g["gateway"] for g in anon["payment_options"]] == ["razorpay", "paytm", "upi", "cod"]
    assert anon["data"] == []
    expect(s.get("/api/payments/methods?market=XX"), 400, "unknown_market")
    # default and nickname
    up = expect(s.put("/api/payments/methods/%d" % m2["id"], {"is_default": True, "nickname": "main"},
                      user=user), 200)
    assert up["is_default"] is True and up["nickname"] == "main"
    listed = expect(s.get("/api/payments/methods?market=US", user=user), 200)
    assert [(m["id"], m["is_default"]) for m in listed["data"]] == [(m2["id"], True), (m1["id"], False)]
    expect(s.put("/api/payments/methods/%d" % m2["id"], {"nickname": "mine"}, user=other), 404, "not_found")
    expect(s.put("/api/payments/methods/999999", {"nickname": "x"}, user=user), 404, "not_found")
    # wrong kinds and tokens
    expect(s.post("/api/payments/methods", {"market": "US", "gateway": "paypal", "type": "wallet",
                                            "token": "x@example.com"}, user=user), 400, "validation_failed")
    expect(s.post("/api/payments/methods", {"market": "US", "gateway": "stripe", "type": "card",
                                            "token": "tok_chargeDeclined"}, user=user), 400, "validation_failed")
    expect(s.post("/api/payments/methods", {"market": "US", "gateway": "stripe", "type": "card"},
                  user=user), 400, "validation_failed")
    expect(s.post("/api/payments/methods", {"market": "US", "gateway": "stripe", "type": "card",
                                            "token": "tok_visa"}), 401, "unauthorized")
    # paying with a saved method; another user's method is refused
    o = expect(buy(s, user, "US", {"method_id": m2["id"]}), 201)
    t = txn(s, o["transaction_id"], user)
    assert (t["brand"], t["last4"], t["status"]) == ("mastercard", "4444", "succeeded")
    expect(buy(s, other, "US", {"method_id": m2["id"]}), 400, "validation_failed")
    expect(buy(s, user, "US", {"method_id": upi["id"]}), 400, "validation_failed")
    o = expect(buy(s, user, "IN", {"method_id": upi["id"]}), 201)
    assert o["payment_status"] == "paid"


def test_transaction_visibility(s):
    user = uniq("u")
    o = expect(buy(s, user, "US", {"gateway": "stripe", "token": "tok_visa"}), 201)
    mine = txn(s, o["transaction_id"], user)
    assert mine["refunds"] == [] and "fraud" not in mine
    expect(s.get("/api/payments/transaction/%d" % o["transaction_id"], user=uniq("u")), 404, "not_found")
    expect(s.get("/api/payments/transaction/%d" % o["transaction_id"]), 401, "unauthorized")
    admin = txn(s, o["transaction_id"])
    assert admin["fraud"]["score"] == 0 and admin["fraud"]["reasons"] == []
    assert admin["processing_us"] >= 0


def test_partial_and_full_refunds(s):
    user = uniq("u")
    o = expect(buy(s, user, "US", {"gateway": "stripe", "token": "tok_visa"}, quantity=2), 201)
    tid, total = o["transaction_id"], o["total"]
    admin = s.admin()
    expect(s.post("/api/payments/refund/%d" % tid, {"amount": 100}, user=user), 403, "forbidden")
    r1 = expect(s.post("/api/payments/refund/%d" % tid, {"amount": 1000, "reason": "late"}, token=admin), 201)
    assert r1["amount"] == 1000 and r1["currency"] == "USD" and r1["status"] == "succeeded"
    assert order_of(s, user, o["order_number"])["payment_status"] == "partially_refunded"
    expect(s.post("/api/payments/refund/%d" % tid, {"amount": 500}, token=admin), 201)
    expect(s.post("/api/payments/refund/%d" % tid, {"amount": total}, token=admin), 400, "validation_failed")
    expect(s.post("/api/payments/refund/%d" % tid, {"amount": 0}, token=admin), 400, "validation_failed")
    expect(s.post("/api/payments/refund/%d" % tid, {"amount": -5}, token=admin), 400, "validation_failed")
    rest = expect(s.post("/api/payments/refund/%d" % tid, {"reason": "all of it"}, token=admin), 201)
    assert rest["amount"] == total - 1500
    assert order_of(s, user, o["order_number"])["payment_status"] == "refunded"
    expect(s.post("/api/payments/refund/%d" % tid, {}, token=admin), 409, "invalid_state")
    t = txn(s, tid, user)
    assert t["refunded"] == total and [f["amount"] for f in t["refunds"]] == [1000, 500, total - 1500]
    expect(s.post("/api/payments/refund/999999", {}, token=admin), 404, "not_found")
    declined = buy(s, user, "US", {"gateway": "stripe", "token": "tok_chargeDeclined"})
    expect(declined, 402)
    did = int(s.db.sql("SELECT MAX(id) FROM payment_transactions WHERE status = 'declined'")[0][0])
    expect(s.post("/api/payments/refund/%d" % did, {}, token=admin), 409, "invalid_state")


def test_concurrent_refunds_never_exceed_captured(s):
    user = uniq("u")
    o = expect(buy(s, user, "US", {"gateway": "stripe", "token": "tok_visa"}), 201)
    tid, total = o["transaction_id"], o["total"]
    admin = s.admin()
    part = total * 2 // 5  # at most two of these fit
    results = parallel(8, lambda i: s.post("/api/payments/refund/%d" % tid, {"amount": part}, token=admin))
    ok = [r for r in results if r.status == 201]
    assert len(ok) == 2, results
    assert all(r.status == 400 and r.error == "validation_failed" for r in results if r.status != 201)
    row = s.db.sql("SELECT captured, refunded FROM payment_transactions WHERE id = %d" % tid)[0]
    assert int(row[1]) == 2 * part <= int(row[0])
    assert int(s.db.sql("SELECT SUM(amount) FROM refunds WHERE transaction_id = %d" % tid)[0][0]) == 2 * part
    # full refunds racing: exactly one gets the rest
    o = expect(buy(s, user, "US", {"gateway": "stripe", "token": "tok_visa"}), 201)
    results = parallel(6, lambda i: s.post("/api/payments/refund/%d" % o["transaction_id"], {}, token=admin))
    assert sorted(r.status for r in results).count(201) == 1, results


def test_refund_idempotency_key(s):
    user = uniq("u")
    o = expect(buy(s, user, "US", {"gateway": "stripe", "token": "tok_visa"}), 201)
    admin, key = s.admin(), uniq("k")
    path = "/api/payments/refund/%d" % o["transaction_id"]
    a = expect(s.post(path, {"amount": 300}, token=admin, headers={"Idempotency-Key": key}), 201)
    b = expect(s.post(path, {"amount": 300}, token=admin, headers={"Idempotency-Key": key}), 201)
    assert a["id"] == b["id"]
    expect(s.post(path, {"amount": 301}, token=admin, headers={"Idempotency-Key": key}), 409,
           "idempotency_conflict")
    assert s.db.sql("SELECT COUNT(*) FROM refunds WHERE transaction_id = %d" % o["transaction_id"])[0][0] == "1"


def upi_collect_order(s, user):
    o = expect(buy(s, user, "IN", {"gateway": "upi", "vpa": "success@razorpay", "flow": "collect"}), 201)
    assert o["payment_status"] == "pending"
    return o


def test_process_pays_a_pending_order(s):
    user = uniq("u")
    o = upi_collect_order(s, user)
    old = o["transaction_id"]
    r = expect(s.post("/api/payments/process", {"order_id": o["id"],
                                                "payment": {"gateway": "razorpay", "vpa": "success@razorpay"}},
                      user=user), 201)
    assert r["payment_status"] == "paid" and r["transaction"]["status"] == "succeeded"
    assert r["transaction"]["amount"] == o["total"]
    assert order_of(s, user, o["order_number"])["payment_status"] == "paid"
    assert txn(s, old, user)["status"] == "voided"
    # paid now: nothing more to pay
    expect(s.post("/api/payments/process", {"order_id": o["id"], "payment": {"gateway": "cod"}}, user=user),
           409, "invalid_state")
    # not yours
    o2 = upi_collect_order(s, user)
    expect(s.post("/api/payments/process", {"order_number": o2["order_number"], "payment": {"gateway": "cod"}},
                  user=uniq("u")), 404, "not_found")
    # a decline leaves the order unpaid and says why
    r = s.post("/api/payments/process", {"order_number": o2["order_number"],
                                         "payment": {"gateway": "upi", "vpa": "failure@razorpay"}}, user=user)
    expect(r, 402, "payment_declined")
    assert order_of(s, user, o2["order_number"])["payment_status"] == "pending"
    expect(s.post("/api/payments/process", {"payment": {"gateway": "cod"}}, user=user), 400, "validation_failed")
    expect(s.post("/api/payments/process", {"order_id": o2["id"], "payment": {"gateway": "stripe", "token": "tok_visa"}},
                  user=user), 400, "gateway_unavailable")


def test_concurrent_process_with_one_key_charges_once(s):
    user = uniq("u")
    o = upi_collect_order(s, user)
    key = uniq("k")
    body = {"order_id": o["id"], "payment": {"gateway": "paytm", "mobile": "7777777777", "otp": "489871"}}
    results = parallel(8, lambda i: s.post("/api/payments/process", body, user=user,
                                           headers={"Idempotency-Key": key}))
    assert all(r.status == 201 for r in results), results
    assert len({r.json["transaction_id"] for r in results}) == 1
    n = s.db.sql("SELECT COUNT(*) FROM payment_transactions WHERE order_id = %d AND gateway = 'paytm'" % o["id"])
    assert n[0][0] == "1"


def test_concurrent_process_with_different_keys_pays_once(s):
    user = uniq("u")
    o = upi_collect_order(s, user)
    body = {"order_id": o["id"], "payment": {"gateway": "razorpay", "vpa": "success@razorpay"}}
    results = parallel(6, lambda i: s.post("/api/payments/process", body, user=user,
                                           headers={"Idempotency-Key": uniq("k")}))
    assert [r.status for r in results].count(201) == 1, results
    assert all(r.error == "invalid_state" for r in results if r.status != 201)
    paid = s.db.sql("SELECT COUNT(*) FROM payment_transactions WHERE order_id = %d AND status = 'succeeded'" % o["id"])
    assert paid[0][0] == "1"


def razorpay_event(ref, event, event_id=None):
    body = json.dumps({"entity": "event", "event": event,
                       "payload": {"payment": {"entity": {"id": ref, "status": event.split(".")[1]}}}}).encode()
    h = {"X-Razorpay-Signature": razorpay_signature(body)}
    if event_id:
        h["X-Razorpay-Event-Id"] = event_id
    return body, h


def test_razorpay_webhook_moves_pending_upi(s):
    user = uniq("u")
    o = upi_collect_order(s, user)
    ref = txn(s, o["transaction_id"], user)["gateway_ref"]
    body, h = razorpay_event(ref, "payment.captured", uniq("evt"))
    forged = dict(h, **{"X-Razorpay-Signature": razorpay_signature(body, "wrong-secret")})
    expect(post_raw(s, "/api/payments/webhooks/razorpay", body, forged), 401, "unauthorized")
    expect(post_raw(s, "/api/payments/webhooks/razorpay", body, {}), 401, "unauthorized")
    assert order_of(s, user, o["order_number"])["payment_status"] == "pending"
    r = expect(post_raw(s, "/api/payments/webhooks/razorpay", body, h), 200)
    assert r["duplicate"] is False and r["transaction_id"] == o["transaction_id"] and r["status"] == "succeeded"
    assert order_of(s, user, o["order_number"])["payment_status"] == "paid"
    assert txn(s, o["transaction_id"], user)["status"] == "succeeded"
    again = expect(post_raw(s, "/api/payments/webhooks/razorpay", body, h), 200)
    assert again["duplicate"] is True
    # a failure event for the same (now paid) payment changes nothing
    body2, h2 = razorpay_event(ref, "payment.failed", uniq("evt"))
    expect(post_raw(s, "/api/payments/webhooks/razorpay", body2, h2), 200)
    assert order_of(s, user, o["order_number"])["payment_status"] == "paid"


def test_upi_failure_webhook_then_process(s):
    user = uniq("u")
    o = upi_collect_order(s, user)
    ref = txn(s, o["transaction_id"], user)["gateway_ref"]
    body, h = razorpay_event(ref, "payment.failed", uniq("evt"))
    expect(post_raw(s, "/api/payments/webhooks/upi", body, h), 200)
    assert order_of(s, user, o["order_number"])["payment_status"] == "failed"
    assert txn(s, o["transaction_id"], user)["status"] == "declined"
    r = expect(s.post("/api/payments/process", {"order_id": o["id"],
                                                "payment": {"gateway": "upi", "vpa": "success@razorpay"}},
                      user=user), 201)
    assert r["payment_status"] == "paid"


def test_stripe_webhook_signatures(s):
    body = json.dumps({"id": uniq("evt"), "type": "payment_intent.succeeded",
                       "data": {"object": {"id": "pi_unknown"}}}).encode()
    ok = expect(post_raw(s, "/api/payments/webhooks/stripe", body,
                         {"Stripe-Signature": stripe_signature(body)}), 200)
    assert ok["received"] is True and ok["duplicate"] is False
    dup = expect(post_raw(s, "/api/payments/webhooks/stripe", body,
                          {"Stripe-Signature": stripe_signature(body)}), 200)
    assert dup["duplicate"] is True
    stale = stripe_signature(body, t=int(time.time()) - 400)
    expect(post_raw(s, "/api/payments/webhooks/stripe", body, {"Stripe-Signature": stale}), 401, "unauthorized")
    future = stripe_signature(body, t=int(time.time()) + 400)
    expect(post_raw(s, "/api/payments/webhooks/stripe", body, {"Stripe-Signature": future}), 401)
    forged = stripe_signature(body, secret="whsec_attacker")
    expect(post_raw(s, "/api/payments/webhooks/stripe", body, {"Stripe-Signature": forged}), 401)
    tampered = body.replace(b"succeeded", b"payment_failed")
    expect(post_raw(s, "/api/payments/webhooks/stripe", tampered,
                    {"Stripe-Signature": stripe_signature(body)}), 401)
    expect(post_raw(s, "/api/payments/webhooks/stripe", body, {"Stripe-Signature": "garbage"}), 401)
    expect(post_raw(s, "/api/payments/webhooks/stripe", body, {}), 401)
    expect(post_raw(s, "/api/payments/webhooks/paytm", body, {}), 404, "not_found")
    expect(post_raw(s, "/api/payments/webhooks/nope", body, {}), 404, "not_found")


def test_stripe_3ds_pending_until_webhook(s):
    user = uniq("u")
    o = expect(buy(s, user, "US", {"gateway": "stripe", "token": "tok_threeDSecure2Required"}), 201)
    assert o["payment_status"] == "pending"
    ref = txn(s, o["transaction_id"], user)["gateway_ref"]
    body = json.dumps({"id": uniq("evt"), "type": "payment_intent.succeeded",
                       "data": {"object": {"id": ref, "object": "payment_intent"}}}).encode()
    r = expect(post_raw(s, "/api/payments/webhooks/stripe", body, {"Stripe-Signature": stripe_signature(body)}), 200)
    assert r["transaction_id"] == o["transaction_id"] and r["status"] == "succeeded"
    assert order_of(s, user, o["order_number"])["payment_status"] == "paid"
    t = txn(s, o["transaction_id"], user)
    assert t["status"] == "succeeded" and t["captured"] == o["total"]
    # and its failure twin
    o2 = expect(buy(s, user, "US", {"gateway": "apple_pay", "token": "tok_threeDSecure2Required"}), 201)
    ref2 = txn(s, o2["transaction_id"], user)["gateway_ref"]
    body = json.dumps({"id": uniq("evt"), "type": "payment_intent.payment_failed",
                       "data": {"object": {"id": ref2, "last_payment_error": {
                           "message": "We are unable to authenticate your payment method."}}}}).encode()
    expect(post_raw(s, "/api/payments/webhooks/stripe", body, {"Stripe-Signature": stripe_signature(body)}), 200)
    assert order_of(s, user, o2["order_number"])["payment_status"] == "failed"
    assert txn(s, o2["transaction_id"], user)["message"] == "We are unable to authenticate your payment method."


def test_gateway_health_counts_attempts(s):
    before = {(g["market"], g["gateway"]): g for g in
              expect(s.get("/api/payments/gateways", token=s.admin()), 200)["data"]}
    expect(buy(s, uniq("u"), "IN", {"gateway": "paytm", "mobile": "7777777777", "otp": "489871"}), 201)
    after = {(g["market"], g["gateway"]): g for g in
             expect(s.get("/api/payments/gateways", token=s.admin()), 200)["data"]}
    k = ("IN", "paytm")
    assert after[k]["successes"] == before[k]["successes"] + 1
    assert after[k]["circuit"] == "closed" and 0 <= after[k]["success_rate"] <= 1
    assert after[k]["avg_latency_us"] >= 0 and after[k]["avg_processing_us"] > 0
    expect(s.get("/api/payments/gateways", user=uniq("u")), 403, "forbidden")
