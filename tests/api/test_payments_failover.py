"""Gateway health and the circuit breaker: Stripe's processing errors
(tok_chargeDeclinedProcessingError, the gateway's failure, not the card's)
push its failure rate over PAYMENT_BREAKER_FAILURE_PCT; payments then go to
the market's next gateway of the same kind and one system alert is raised.
Apple Pay is made a card gateway for this (it takes the same tokens)."""
import json

import harness
from harness import expect, uniq
from payments_util import buy

SHARED_SERVER = False


def start(db, **env):
    e = {"PAYMENT_BREAKER_MIN_ATTEMPTS": "10", "PAYMENT_BREAKER_FAILURE_PCT": "5",
         "FRAUD_VELOCITY_CARD": "100000", "FRAUD_VELOCITY_IP": "100000", "FRAUD_VELOCITY_USER": "100000"}
    e.update(env)
    s = harness.Server(db, env=e)
    s.run("seed")
    db.sql("UPDATE payment_gateways SET kind = 'card' WHERE code = 'apple_pay'")
    return s.start(seed=False)


def health(s):
    return {(g["market"], g["gateway"]): g for g in
            expect(s.get("/api/payments/gateways", token=s.admin()), 200)["data"]}


def test_breaker_opens_routes_to_next_card_gateway_and_alerts(db):
    s = start(db)
    try:
        for _ in range(9):
            expect(buy(s, uniq("u"), "US", {"gateway": "stripe", "token": "tok_visa"}), 201)
        # the tenth attempt reaches the minimum sample, and 1 failure in 10 is above 5 %
        r = buy(s, uniq("u"), "US", {"gateway": "stripe", "token": "tok_chargeDeclinedProcessingError"})
        expect(r, 402, "payment_declined")
        h = health(s)[("US", "stripe")]
        assert (h["window_attempts"], h["window_failures"], h["circuit"]) == (10, 1, "open")
        assert h["successes"] == 9 and h["failures"] == 1
        assert 0.89 < h["success_rate"] < 0.91
        o = expect(buy(s, uniq("u"), "US", {"gateway": "stripe", "token": "tok_visa"}), 201)
        t = expect(s.get("/api/payments/transaction/%d" % o["transaction_id"], token=s.admin()), 200)
        assert t["gateway"] == "apple_pay" and t["status"] == "succeeded"
        expect(buy(s, uniq("u"), "US", {"gateway": "stripe", "token": "tok_mastercard"}), 201)
        alerts = db.sql("SELECT alert_type, severity, status, context FROM system_alerts "
                        "WHERE dedup_key = 'gateway_circuit_open:US:stripe'")
        assert len(alerts) == 1, alerts
        assert alerts[0][:3] == ["gateway_circuit_open", "high", "open"]
        ctx = json.loads(alerts[0][3])
        assert ctx["fallback"] == "apple_pay" and ctx["gateway"] == "stripe"
        assert health(s)[("US", "apple_pay")]["successes"] == 2
        # PayPal (a wallet) was never a candidate
        assert health(s)[("US", "paypal")]["successes"] == 0
    finally:
        s.stop()


def test_breaker_stays_closed_below_threshold(db):
    s = start(db, PAYMENT_BREAKER_MIN_ATTEMPTS="10", PAYMENT_BREAKER_FAILURE_PCT="20")
    try:
        for _ in range(9):
            expect(buy(s, uniq("u"), "IN", {"gateway": "razorpay", "vpa": "success@razorpay"}), 201)
        # declines are the customer's, not the gateway's: they do not count
        for _ in range(5):
            expect(buy(s, uniq("u"), "IN", {"gateway": "razorpay", "vpa": "failure@razorpay"}), 402)
        h = health(s)[("IN", "razorpay")]
        assert h["window_failures"] == 0 and h["circuit"] == "closed"
        o = expect(buy(s, uniq("u"), "IN", {"gateway": "razorpay", "vpa": "success@razorpay"}), 201)
        t = expect(s.get("/api/payments/transaction/%d" % o["transaction_id"], token=s.admin()), 200)
        assert t["gateway"] == "razorpay"
        assert db.sql("SELECT COUNT(*) FROM system_alerts WHERE dedup_key LIKE 'gateway_circuit_open:IN:%'") == [["0"]]
    finally:
        s.stop()


def test_stats_job_folds_attempts_into_counters(db):
    import time
    s = start(db)
    try:
        before = health(s)[("IN", "paytm")]
        for otp in ("489871", "489871", "000000"):
            buy(s, uniq("u"), "IN", {"gateway": "paytm", "mobile": "7777777777", "otp": otp})
        live = health(s)[("IN", "paytm")]
        assert live["successes"] == before["successes"] + 3  # a wrong OTP is the customer's, not paytm's
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
        assert s.run("jobs", "run-once", "--at", at).returncode == 0
        row = db.sql("SELECT success_count, failure_count, counted_attempt_id FROM payment_gateways g "
                     "JOIN markets m ON m.id = g.market_id WHERE m.code = 'IN' AND g.code = 'paytm'")[0]
        assert int(row[0]) == live["successes"] and int(row[1]) == live["failures"] and int(row[2]) > 0
        assert health(s)[("IN", "paytm")]["successes"] == live["successes"]  # counted once
        # two days on, the counted attempts are gone and the counters stay
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2 * 86400))
        assert s.run("jobs", "run-once", "--at", at).returncode == 0
        assert db.sql("SELECT COUNT(*) FROM gateway_attempts") == [["0"]]
        assert health(s)[("IN", "paytm")]["successes"] == live["successes"]
    finally:
        s.stop()
