#!/usr/bin/env python3
"""Payments benchmark (issue 5). Not a test: it prints measurements.

1. sandbox: express checkouts paid through the Stripe sandbox, a few client
   threads; reports our own time per payment (payment_transactions.
   processing_us: resolve, breaker window, fraud signals, recording; the
   gateway call excluded) and the whole request's latency.
2. live: the Stripe adapter against tests/api/fake_gateway.py answering
   after --delay seconds, --concurrency clients paying at once; reports the
   request latency (gateway included) and our own time.

Usage: bench/payments.py [--driver sqlite|pg] [--payments N] [--concurrency C] [--delay S] [--wrk-seconds T]
(--driver pg needs MANDI_TEST_PG_URL.)"""
import argparse
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "api"))
import harness  # noqa: E402
from fake_gateway import FakeGateway  # noqa: E402
from payments_util import ADDRESSES, product  # noqa: E402

QUIET = {"FRAUD_VELOCITY_USER": "1000000", "FRAUD_VELOCITY_IP": "1000000",
         "FRAUD_VELOCITY_CARD": "1000000", "MANDI_ACCESS_LOG": "false", "MANDI_LOG_LEVEL": "warn"}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else 0


def run_clients(s, pvs, total, clients, token="tok_visa"):
    """total payments by `clients` threads at once, client i buying
    pvs[i % len(pvs)]; returns per-request ms."""
    lat, errors, lock = [], [], threading.Lock()
    per = total // clients
    barrier = threading.Barrier(clients)

    def work(i):
        user = "bench-%d-%d" % (i, time.time_ns())
        s.token(user)
        barrier.wait()
        for _ in range(per):
            pv = pvs[i % len(pvs)]
            body = {"market": "US", "product_id": pv[0], "variant_id": pv[1], "quantity": 1,
                    "payment": {"gateway": "stripe", "token": token}, "shipping_address": ADDRESSES["US"]}
            t0 = time.perf_counter()
            r = s.post("/api/checkout/express", body, user=user)
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                (lat if r.status == 201 else errors).append(ms if r.status == 201 else r)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return lat, errors, time.perf_counter() - t0


def own_times(db, since_id):
    rows = db.sql("SELECT processing_us, gateway_us FROM payment_transactions WHERE id > %d" % since_id)
    return [int(r[0]) / 1000.0 for r in rows], [int(r[1]) / 1000.0 for r in rows]


def max_id(db):
    return int(db.sql("SELECT COALESCE(MAX(id), 0) FROM payment_transactions")[0][0])


def row(name, xs):
    return "| %s | %d | %.2f | %.2f | %.2f | %.2f |" % (name, len(xs), pct(xs, 50), pct(xs, 95), pct(xs, 99),
                                                     max(xs) if xs else 0)


WRK_SCRIPT = """
local bodies = {%s}
local n = 0
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %s"}
request = function()
  n = n + 1
  return wrk.format("POST", "/api/checkout/express", headers, bodies[(n %% #bodies) + 1])
end
"""


def run_wrk(s, pvs, connections, seconds, token="tok_visa"):
    """The same checkouts from wrk (C, epoll): the latency without a Python
    client's threads and GIL in it. Returns wrk's report."""
    import json
    import tempfile
    user = "bench-wrk-%d" % time.time_ns()
    bodies = [json.dumps({"market": "US", "product_id": pv[0], "variant_id": pv[1], "quantity": 1,
                          "payment": {"gateway": "stripe", "token": token},
                          "shipping_address": ADDRESSES["US"]}) for pv in pvs]
    lua = WRK_SCRIPT % (", ".join("[[%s]]" % b for b in bodies), s.token(user))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    try:
        out = subprocess.run(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--latency",
                              "-s", f.name, "http://127.0.0.1:%d" % s.port],
                             capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(f.name)
    return out


FAKE_WRK = """
wrk.method = "POST"
wrk.body = "amount=4999&currency=usd&confirm=true&capture_method=automatic&payment_method_data[card][token]=tok_visa"
wrk.headers["Authorization"] = "Bearer %s"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""


def fake_alone(url, key, connections, seconds=5):
    """The fake gateway by itself under the same concurrency: what a
    payment's gateway_us cannot go below on this machine."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(FAKE_WRK % key)
    try:
        out = subprocess.run(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--latency", "-s", f.name,
                              url + "/v1/payment_intents"], capture_output=True, text=True,
                             timeout=seconds + 60).stdout
    finally:
        os.unlink(f.name)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", default="sqlite", choices=["sqlite", "pg"])
    ap.add_argument("--payments", type=int, default=1000)
    ap.add_argument("--sandbox-clients", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--live-payments", type=int, default=200)
    ap.add_argument("--delay", type=float, default=0.3)
    ap.add_argument("--pool", type=int, default=16,
                    help="MANDI_DB_POOL for the live phase (16, the default: a payment waiting on "
                         "the gateway lends its connection back)")
    ap.add_argument("--wrk-seconds", type=int, default=10,
                    help="then the live phase again from wrk for this long (0: skip)")
    ap.add_argument("--products", type=int, default=50,
                    help="distinct products bought (1: every payment on one stock row)")
    a = ap.parse_args()
    print("# payments bench %s, %d cores (load %.1f), driver %s, %d products" % (
        time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()), os.cpu_count(), os.getloadavg()[0], a.driver,
        a.products))
    print("| measure | n | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")

    db = harness.Database(a.driver)
    s = harness.Server(db, env=QUIET).start()
    try:
        pv = [product(s, stock=10 ** 7) for _ in range(a.products)]
        run_clients(s, pv, 40, 4)  # warm-up
        first = max_id(db)
        lat, errors, wall = run_clients(s, pv, a.payments, a.sandbox_clients)
        own, _ = own_times(db, first)
        print(row("sandbox: our time per payment (processing_us)", own))
        print(row("sandbox: checkout request, %d clients" % a.sandbox_clients, lat))
        print("| sandbox throughput | %d | %.0f payments/s | | | errors %d |" % (len(lat), len(lat) / wall, len(errors)))
    finally:
        s.stop()
        db.drop()

    # the fake runs in its own process so its threads do not share our GIL
    fake = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "api", "fake_gateway.py"),
                             str(a.delay)], stdout=subprocess.PIPE, text=True)
    fake_url = fake.stdout.readline().strip()
    if a.wrk_seconds:
        print("\nthe fake gateway alone (+%d ms) from wrk, %d connections, load %.1f:" % (
            a.delay * 1000, a.concurrency, os.getloadavg()[0]))
        print(fake_alone(fake_url, FakeGateway().stripe_key, a.concurrency))
    db = harness.Database(a.driver)
    env = dict(QUIET, STRIPE_SECRET_KEY=FakeGateway().stripe_key, STRIPE_API_BASE=fake_url,
               MANDI_DB_POOL=str(a.pool))
    s = harness.Server(db, env=env).start()
    try:
        pv = [product(s, stock=10 ** 7) for _ in range(a.products)]
        run_clients(s, pv, a.concurrency, a.concurrency)  # warm-up: opens the pool's connections
        first = max_id(db)
        lat, errors, wall = run_clients(s, pv, a.live_payments, a.concurrency)
        own, gw = own_times(db, first)
        print(row("live (fake +%d ms): checkout request, %d concurrent" % (a.delay * 1000, a.concurrency), lat))
        print(row("live: gateway time (gateway_us)", gw))
        print(row("live: our time per payment (processing_us)", own))
        print("| live throughput | %d | %.0f payments/s | | | errors %d |" % (len(lat), len(lat) / wall, len(errors)))
        if errors:
            print("first error: %r" % (errors[0],))
        if a.wrk_seconds:
            first = max_id(db)
            print("\nlive from wrk, %d connections, %d s, load %.1f:" % (a.concurrency, a.wrk_seconds,
                                                                        os.getloadavg()[0]))
            print(run_wrk(s, pv, a.concurrency, a.wrk_seconds))
            own, gw = own_times(db, first)
            print(row("wrk: gateway time (gateway_us)", gw))
            print(row("wrk: our time per payment (processing_us)", own))
    finally:
        s.stop()
        db.drop()
        fake.terminate()
        fake.wait()


if __name__ == "__main__":
    main()
