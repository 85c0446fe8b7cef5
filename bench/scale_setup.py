#!/usr/bin/env python3
"""bench/scale_setup.py URL MANDI N_USERS OUTDIR: data for bench/mixed.lua.

Creates a merchant and 100 products with ample stock in both markets through
the API (OUTDIR/items: "product_id variant_id" lines) and signs one customer
JWT per shopper with JWT_SECRET, HS256, as `mandi token` does
(OUTDIR/tokens: "sub jwt" lines; running `mandi token` 1,000 times would take minutes).
Standard library only."""
import base64
import hashlib
import hmac
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from commerce_setup import Client, token  # noqa: E402

PRODUCTS = 100


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def jwt(secret, sub, role="customer"):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = b64(json.dumps({"exp": int(time.time()) + 86400, "role": role, "sub": sub},
                            separators=(",", ":")).encode())
    sig = b64(hmac.new(secret.encode(), head + b"." + claims, hashlib.sha256).digest())
    return (head + b"." + claims + b"." + sig).decode()


def main(url, mandi, n_users, outdir):
    c = Client(url)
    admin = token(mandi, "bench-admin", "admin")
    st, m = c.call("POST", "/api/ecommerce/merchants",
                   {"name": "Scale bench", "code": "scale-%d" % os.getpid(), "market": "US",
                    "integration_type": "api", "commission_rate_bps": 1000}, admin)
    assert st == 201, m
    with open(os.path.join(outdir, "items"), "w") as f:
        for i in range(PRODUCTS):
            st, p = c.call("POST", "/api/catalog/products",
                           {"merchant_id": m["id"], "name": "Scale Dress %d" % i, "brand": "Bench",
                            "category": "dresses", "description": "bench", "tags": [],
                            "variants": [{"sku": "SCALE-%d-%d" % (os.getpid(), i), "size": "M",
                                          "color": "red", "stock": 10000000,
                                          "prices": {"US": 2999, "IN": 149900}}]}, admin)
            assert st == 201, p
            f.write("%d %d\n" % (p["id"], p["variants"][0]["id"]))
    secret = os.environ["JWT_SECRET"]
    with open(os.path.join(outdir, "tokens"), "w") as f:
        for i in range(n_users):
            sub = "scale-user-%d-%d" % (os.getpid(), i)
            f.write("%s %s\n" % (sub, jwt(secret, sub)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
