#!/usr/bin/env python3
"""Load N behaviour events into a running mandi through POST /api/analytics/events
(batches of 100, several connections), spread over today and the two days
before, 2 markets, many visitors, products and searches. Prints events/s."""
import http.client
import json
import os
import random
import sys
import threading
import time
import datetime

port, total = int(sys.argv[1]), int(sys.argv[2])
conns = int(sys.argv[3]) if len(sys.argv) > 3 else 4
now = int(time.time())
day0 = now - now % 86400 - 2 * 86400
TYPES = ["product_view"] * 60 + ["search"] * 15 + ["add_to_cart"] * 12 + ["checkout_start"] * 6 + \
        ["purchase"] * 3 + ["page_view"] * 4
WORDS = ["summer", "dress", "linen", "kurta", "silk", "saree", "red", "black", "shoes", "bag", "denim", "top"]


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def batch(rng):
    evs = []
    for _ in range(100):
        t = rng.choice(TYPES)
        at = rng.randint(day0, now - 1)
        e = {"type": t, "market": rng.choice(["US", "IN"]), "session_id": "s%d" % rng.randint(1, 200000),
             "timestamp": iso(at)}
        if t in ("product_view", "add_to_cart"):
            e["product_id"] = rng.randint(1, 2000)
        if t == "search":
            e["query"] = " ".join(rng.sample(WORDS, 2))
            e["results"] = rng.choice([0, 3, 12, 40])
        evs.append(e)
    return json.dumps({"events": evs}).encode()


sent = [0]
lock = threading.Lock()


def work(seed, n):
    rng = random.Random(seed)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(n):
        c.request("POST", "/api/analytics/events", body=batch(rng), headers={"Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        if r.status != 202:
            print("events answered %d: %s" % (r.status, body[:200]), flush=True)
            os._exit(1)
        with lock:
            sent[0] += 100


t0 = time.time()
per = total // 100 // conns
threads = [threading.Thread(target=work, args=(i, per)) for i in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
dt = time.time() - t0
print("loaded %d events in %.1f s (%.0f events/s)" % (sent[0], dt, sent[0] / dt))
