"""Subscriptions: plans, subscribe (idempotent), list, cancel now or at
period end, renewals by `mandi jobs run-once --at` (billed once, also with
two processes at the same time), dunning: three retries, past_due, canceled."""
import calendar
import subprocess
import time

import harness
from harness import expect, parallel, uniq

SERVER_ENV = {"FRAUD_VELOCITY_CARD": "100000", "FRAUD_VELOCITY_IP": "100000",
              "SUBSCRIPTION_RETRY_S": "3600"}
DAY = 86400


def ts(rfc):
    return calendar.timegm(time.strptime(rfc, "%Y-%m-%dT%H:%M:%SZ"))


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def run_jobs(s, at):
    out = s.run("jobs", "run-once", "--at", iso(at), check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def plan(s, market="US"):
    body = expect(s.get("/api/payments/plans?market=%s" % market), 200)
    assert len(body["data"]) == 1 and body["next_cursor"] is None
    return body["data"][0]


def subscribe(s, user, market="US", token="tok_visa", key=None):
    gw = {"US": "stripe", "IN": "razorpay"}[market]
    typ = "card" if market == "US" else "upi"
    tok = token if market == "US" else "success@razorpay"
    m = expect(s.post("/api/payments/methods", {"market": market, "gateway": gw, "type": typ, "token": tok},
                      user=user), 201)
    p = plan(s, market)
    h = {"Idempotency-Key": key} if key else None
    r = s.post("/api/payments/subscriptions", {"plan_id": p["id"], "market": market, "payment_method_id": m["id"]},
               user=user, headers=h)
    return r, m, p


def charges(s, sub_id):
    return s.db.sql("SELECT status, amount FROM payment_transactions WHERE subscription_id = %d ORDER BY id" % sub_id)


def test_plans_per_market(s):
    us, inr = plan(s, "US"), plan(s, "IN")
    assert (us["price"], us["currency"], us["interval_days"]) == (4900, "USD", 30)
    assert (inr["price"], inr["currency"]) == (199900, "INR")
    assert us["price_display"] == "$49.00"
    expect(s.get("/api/payments/plans?market=ZZ"), 400, "unknown_market")


def test_subscribe_charges_first_period(s):
    user = uniq("u")
    before = int(time.time())
    r, m, p = subscribe(s, user)
    sub = expect(r, 201)
    assert sub["status"] == "active" and sub["cancel_at_period_end"] is False
    end = ts(sub["current_period_end"])
    assert before + 30 * DAY - 5 <= end <= int(time.time()) + 30 * DAY + 5
    assert charges(s, sub["id"]) == [["succeeded", "4900"]]
    listed = expect(s.get("/api/payments/subscriptions/%s" % user, user=user), 200)
    assert [x["id"] for x in listed["data"]] == [sub["id"]]
    expect(s.get("/api/payments/subscriptions/%s" % user, user=uniq("u")), 403, "forbidden")
    expect(s.get("/api/payments/subscriptions/%s" % user, token=s.admin()), 200)
    # the same plan twice is refused
    again = s.post("/api/payments/subscriptions", {"plan_id": p["id"], "market": "US", "payment_method_id": m["id"]},
                   user=user)
    expect(again, 409, "conflict")
    # another user's method, another market's plan, a missing plan
    other = uniq("u")
    expect(s.post("/api/payments/subscriptions", {"plan_id": p["id"], "market": "US", "payment_method_id": m["id"]},
                  user=other), 400, "validation_failed")
    expect(s.post("/api/payments/subscriptions", {"plan_id": plan(s, "IN")["id"], "market": "US",
                                                  "payment_method_id": m["id"]}, user=user), 400, "validation_failed")
    expect(s.post("/api/payments/subscriptions", {"market": "US", "payment_method_id": m["id"]}, user=user),
           400, "validation_failed")


def test_subscribe_declined(s):
    r, _, _ = subscribe(s, uniq("u"), token="tok_chargeCustomerFail")
    expect(r, 402, "payment_declined")


def test_subscribe_idempotent_also_concurrently(s):
    user = uniq("u")
    m = expect(s.post("/api/payments/methods", {"market": "IN", "gateway": "upi", "type": "upi",
                                                "token": "success@razorpay"}, user=user), 201)
    p = plan(s, "IN")
    key = uniq("k")
    body = {"plan_id": p["id"], "market": "IN", "payment_method_id": m["id"]}
    results = parallel(6, lambda i: s.post("/api/payments/subscriptions", body, user=user,
                                           headers={"Idempotency-Key": key}))
    assert all(r.status == 201 for r in results), results
    assert len({r.json["id"] for r in results}) == 1
    assert len(charges(s, results[0].json["id"])) == 1


def test_subscription_list_pages(s):
    user = uniq("u")
    ids = [expect(subscribe(s, user, market=m)[0], 201)["id"] for m in ("US", "IN")]
    # a third: cancel one, subscribe again to the same plan
    expect(s.put("/api/payments/subscriptions/%d/cancel" % ids[0], {}, user=user), 200)
    ids.append(expect(subscribe(s, user)[0], 201)["id"])
    seen, cursor = [], None
    while True:
        q = "/api/payments/subscriptions/%s?limit=2" % user + ("&cursor=" + cursor if cursor else "")
        page = expect(s.get(q, user=user), 200)
        assert len(page["data"]) <= 2
        seen += [x["id"] for x in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True)
    expect(s.get("/api/payments/subscriptions/%s?cursor=zz" % user, user=user), 400, "validation_failed")
    expect(s.get("/api/payments/subscriptions/%s?limit=101" % user, user=user), 400, "validation_failed")


def test_renewal_bills_each_period_once(s):
    user = uniq("u")
    sub = expect(subscribe(s, user)[0], 201)
    end = ts(sub["current_period_end"])
    run_jobs(s, end - 60)  # not due yet
    assert len(charges(s, sub["id"])) == 1
    run_jobs(s, end + 1)
    run_jobs(s, end + 2)
    assert charges(s, sub["id"]) == [["succeeded", "4900"]] * 2
    now = expect(s.get("/api/payments/subscriptions/%s" % user, user=user), 200)["data"][0]
    assert now["status"] == "active"
    assert ts(now["current_period_start"]) == end and ts(now["current_period_end"]) == end + 30 * DAY
    inv = s.db.sql("SELECT status FROM subscription_invoices WHERE subscription_id = %d ORDER BY period_start"
                   % sub["id"])
    assert inv == [["paid"], ["paid"]]


def test_two_processes_renew_once(s):
    subs = [expect(subscribe(s, uniq("u"))[0], 201) for _ in range(3)]
    at = max(ts(x["current_period_end"]) for x in subs) + 10
    procs = [subprocess.Popen([harness.BINARY, "jobs", "run-once", "--at", iso(at)], env=s.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    for p in procs:
        p.wait(timeout=60)
        assert p.returncode == 0
    for x in subs:
        assert len(charges(s, x["id"])) == 2, charges(s, x["id"])
    # and the server's own scheduler, ticking meanwhile, billed nothing more
    time.sleep(1.2)
    for x in subs:
        assert len(charges(s, x["id"])) == 2


def test_dunning_three_retries_then_canceled(s):
    user = uniq("u")
    sub = expect(subscribe(s, user)[0], 201)
    # the card starts failing after it was saved (Stripe's tok_chargeCustomerFail)
    s.db.sql("UPDATE payment_methods SET token = 'tok_chargeCustomerFail' WHERE id = %d" % sub["payment_method_id"])
    end = ts(sub["current_period_end"])
    run_jobs(s, end + 1)
    cur = expect(s.get("/api/payments/subscriptions/%s" % user, user=user), 200)["data"][0]
    assert cur["status"] == "past_due" and cur["failed_attempts"] == 1
    assert ts(cur["next_retry_at"]) == end + 1 + 3600
    run_jobs(s, end + 100)  # before the retry is due: nothing
    assert len(charges(s, sub["id"])) == 2
    for i, t in enumerate([end + 3602, end + 7203, end + 10804]):
        run_jobs(s, t)
        cur = expect(s.get("/api/payments/subscriptions/%s" % user, user=user), 200)["data"][0]
        assert cur["failed_attempts"] == i + 2
        assert cur["status"] == ("past_due" if i < 2 else "canceled"), cur
    assert [c[0] for c in charges(s, sub["id"])] == ["succeeded"] + ["declined"] * 4
    run_jobs(s, end + 100000)
    assert len(charges(s, sub["id"])) == 5
    assert s.db.sql("SELECT status, attempts FROM subscription_invoices WHERE subscription_id = %d "
                    "AND period_start = %d" % (sub["id"], end)) == [["failed", "4"]]


def test_past_due_recovers_when_retry_succeeds(s):
    user = uniq("u")
    sub = expect(subscribe(s, user)[0], 201)
    pm = sub["payment_method_id"]
    s.db.sql("UPDATE payment_methods SET token = 'tok_chargeCustomerFail' WHERE id = %d" % pm)
    end = ts(sub["current_period_end"])
    run_jobs(s, end + 1)
    s.db.sql("UPDATE payment_methods SET token = 'tok_visa' WHERE id = %d" % pm)
    run_jobs(s, end + 3602)
    cur = expect(s.get("/api/payments/subscriptions/%s" % user, user=user), 200)["data"][0]
    assert cur["status"] == "active" and cur["failed_attempts"] == 0
    assert ts(cur["current_period_end"]) == end + 30 * DAY


def test_cancel_now_and_at_period_end(s):
    user = uniq("u")
    sub = expect(subscribe(s, user)[0], 201)
    expect(s.put("/api/payments/subscriptions/%d/cancel" % sub["id"], {}, user=uniq("u")), 404, "not_found")
    c = expect(s.put("/api/payments/subscriptions/%d/cancel" % sub["id"], {"at_period_end": True}, user=user), 200)
    assert c["status"] == "active" and c["cancel_at_period_end"] is True
    end = ts(c["current_period_end"])
    run_jobs(s, end + 1)
    cur = expect(s.get("/api/payments/subscriptions/%s" % user, user=user), 200)["data"][0]
    assert cur["status"] == "canceled" and ts(cur["canceled_at"]) == end
    assert len(charges(s, sub["id"])) == 1  # not renewed
    expect(s.put("/api/payments/subscriptions/%d/cancel" % sub["id"], {}, user=user), 409, "invalid_state")

    user2 = uniq("u")
    sub2 = expect(subscribe(s, user2, market="IN")[0], 201)
    c2 = expect(s.put("/api/payments/subscriptions/%d/cancel" % sub2["id"], None, user=user2), 200)
    assert c2["status"] == "canceled" and c2["canceled_at"]
    run_jobs(s, ts(c2["current_period_end"]) + 1)
    assert len(charges(s, sub2["id"])) == 1
    expect(s.put("/api/payments/subscriptions/%d/cancel" % sub2["id"], {"at_period_end": "yes"}, user=user2),
           400, "validation_failed")
