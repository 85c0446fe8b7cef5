#!/usr/bin/env python3
"""bench/commerce_setup.py: data for bench/commerce.sh, and the flow driver.

  setup URL MANDI OUTDIR   create a merchant, 20 products (big stock) and 100
                           customers; write OUTDIR/add.lua for wrk
  flows URL MANDI N        run N full checkout flows (add → start → update →
                           complete) and N buy-now calls, one client, in order
  report LOG               server time per route from the access log ("us"):
                           p50 / p99 of complete, buy-now, and of whole flows
Standard library only."""
import http.client
import json
import subprocess
import sys
import urllib.parse

US_ADDRESS = {"name": "Ann Lee", "line1": "1 Main St", "city": "New York", "state": "NY",
              "postal_code": "10001", "country": "US"}


def token(mandi, sub, role="customer"):
    return subprocess.run([mandi, "token", "--sub", sub, "--role", role], check=True,
                          capture_output=True, text=True).stdout.strip()


class Client:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.c = http.client.HTTPConnection(u.hostname, u.port)

    def call(self, method, path, body=None, tok=None, headers=None):
        h = {"Content-Type": "application/json"}
        if tok:
            h["Authorization"] = "Bearer " + tok
        h.update(headers or {})
        self.c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = self.c.getresponse()
        data = r.read()
        return r.status, json.loads(data) if data else None


def products(url, mandi, n):
    c = Client(url)
    admin = token(mandi, "bench-admin", "admin")
    st, m = c.call("POST", "/api/ecommerce/merchants",
                   {"name": "Bench", "code": "bench-%d" % id(c), "market": "US",
                    "integration_type": "api", "commission_rate_bps": 1000}, admin)
    assert st == 201, m
    out = []
    for i in range(n):
        st, p = c.call("POST", "/api/catalog/products",
                       {"merchant_id": m["id"], "name": "Bench Dress %d" % i, "brand": "Bench",
                        "category": "dresses", "description": "bench", "tags": [],
                        "variants": [{"sku": "BENCH-%d-%d" % (id(c), i), "size": "M", "color": "red",
                                      "stock": 1000000, "prices": {"US": 2999, "IN": 149900}}]}, admin)
        assert st == 201, p
        out.append((p["id"], p["variants"][0]["id"]))
    return out


def setup(url, mandi, outdir):
    prods = products(url, mandi, 20)
    toks = [token(mandi, "bench-user-%d" % i) for i in range(100)]
    # wrk: each request adds 1 of one product for one user; 100 users x 20
    # products x 100 units is room for 200k adds before the per-line cap
    # every distinct request is formatted once per wrk thread (init), so the
    # client's Lua work per request stays off the cores mandi is measured on
    lua = ["tokens = {%s}" % ",".join('"%s"' % t for t in toks),
           "items = {%s}" % ",".join("{%d,%d}" % p for p in prods),
           "reqs = {}",
           "init = function(args)",
           "  for n = 0, #tokens * #items - 1 do",
           "    local t = tokens[(n % #tokens) + 1]",
           "    local it = items[(math.floor(n / #tokens) % #items) + 1]",
           "    local body = string.format('{\"market\":\"US\",\"product_id\":%d,\"variant_id\":%d,\"quantity\":1}', it[1], it[2])",
           "    reqs[n + 1] = wrk.format('POST', '/api/cart/add', {['Content-Type']='application/json', ['Authorization']='Bearer '..t}, body)",
           "  end",
           "end",
           "n = 0",
           "request = function()",
           "  n = n + 1",
           "  return reqs[(n % #reqs) + 1]",
           "end"]
    with open(outdir + "/add.lua", "w") as f:
        f.write("\n".join(lua) + "\n")


def flows(url, mandi, n):
    prods = products(url, mandi, 2)
    c = Client(url)
    (pid, vid), (pid2, vid2) = prods
    for tok in FLOW_TOKENS:  # buy-now ships to the default address
        st, a = c.call("POST", "/api/addresses", US_ADDRESS, tok)
        assert st == 201, a
    for i in range(n):
        tok = FLOW_TOKENS[i % len(FLOW_TOKENS)]
        st, _ = c.call("POST", "/api/cart/add", {"market": "US", "product_id": pid, "variant_id": vid,
                                                 "quantity": 1}, tok)
        assert st == 200, st
        st, sess = c.call("POST", "/api/checkout/start", {"market": "US"}, tok)
        assert st == 201, sess
        st, sess = c.call("PUT", "/api/checkout/%d/update" % sess["id"],
                          {"shipping_address": US_ADDRESS, "shipping_method": "standard"}, tok)
        assert st == 200, sess
        st, o = c.call("POST", "/api/checkout/%d/complete" % sess["id"],
                       {"payment": {"gateway": "stripe", "token": "tok_visa"}}, tok,
                       {"Idempotency-Key": "flow-%d" % i})
        assert st == 201, o
    for i in range(n):
        tok = FLOW_TOKENS[i % len(FLOW_TOKENS)]
        st, o = c.call("POST", "/api/checkout/express",
                       {"market": "US", "product_id": pid2, "variant_id": vid2, "quantity": 1,
                        "payment": {"gateway": "stripe", "token": "tok_visa"}}, tok,
                       {"Idempotency-Key": "buy-%d" % i})
        assert st == 201, o


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else 0


def report(log):
    by = {}
    seq = []
    for line in open(log, errors="replace"):
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if j.get("msg") != "request":
            continue
        key = "%s %s" % (j["method"], j["route"])
        by.setdefault(key, []).append(j["us"])
        seq.append((key, j.get("user", ""), j["us"]))
    # a flow = one user's add, start, update, complete in a row
    steps = ["POST /api/cart/add", "POST /api/checkout/start", "PUT /api/checkout/{id}/update",
             "POST /api/checkout/{id}/complete"]
    flow_us = []
    for i in range(len(seq) - 3):
        if [s[0] for s in seq[i:i + 4]] == steps and len({s[1] for s in seq[i:i + 4]}) == 1:
            flow_us.append(sum(s[2] for s in seq[i:i + 4]))
    print("| measured (server time, access log) | n | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|")
    rows = [(k, by.get(k, [])) for k in steps + ["POST /api/checkout/express"]]
    rows.append(("whole flow (add+start+update+complete)", flow_us))
    for k, v in rows:
        print("| %s | %d | %.2f | %.2f | %.2f |" % (k, len(v), pct(v, 50) / 1000.0, pct(v, 95) / 1000.0,
                                                    pct(v, 99) / 1000.0))


FLOW_TOKENS = []

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "setup":
        setup(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "flows":
        FLOW_TOKENS[:] = [token(sys.argv[3], "flow-user-%d" % i) for i in range(20)]
        flows(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "report":
        report(sys.argv[2])
