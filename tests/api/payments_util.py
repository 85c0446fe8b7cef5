"""Helpers shared by the payments test modules: products to buy, orders
placed through express checkout, webhook signatures, a database scan."""
import hashlib
import hmac
import http.client
import json
import time

from harness import expect, uniq

STRIPE_WEBHOOK_SECRET = "whsec_test_0123456789abcdef"
RAZORPAY_WEBHOOK_SECRET = "rzp_webhook_test_0123456789"

ADDRESSES = {
    "US": {"name": "Ann Lee", "line1": "1 Main St", "city": "New York", "state": "NY",
           "postal_code": "10001", "country": "US"},
    "IN": {"name": "Asha Rao", "line1": "12 MG Road", "city": "Bengaluru", "state": "KA",
           "postal_code": "560001", "country": "IN"},
}

SUCCESS = {
    "US": [{"gateway": "stripe", "token": "tok_visa"},
           {"gateway": "apple_pay", "token": "tok_mastercard"},
           {"gateway": "paypal", "payer_email": "buyer@example.com"}],
    "IN": [{"gateway": "razorpay", "vpa": "success@razorpay"},
           {"gateway": "paytm", "mobile": "7777777777", "otp": "489871"},
           {"gateway": "upi", "vpa": "success@razorpay"}],
}


def product(s, price_us=4999, price_in=249900, stock=10000):
    """A product sold in both markets; returns (product_id, variant_id)."""
    m = expect(s.post("/api/ecommerce/merchants",
                      {"name": "Pay Test", "code": uniq("m"), "market": "US",
                       "integration_type": "api", "commission_rate_bps": 1000},
                      token=s.admin()), 201)
    body = {"merchant_id": m["id"], "name": "Linen Dress", "brand": "Zara", "category": "dresses",
            "description": "A dress", "tags": ["linen"],
            "variants": [{"sku": uniq("SKU"), "size": "M", "color": "blue", "stock": stock,
                          "prices": {"US": price_us, "IN": price_in}}]}
    p = expect(s.post("/api/catalog/products", body, token=s.admin()), 201)
    return p["id"], p["variants"][0]["id"]


_products = {}


def shared_product(s):
    if s.port not in _products:
        _products[s.port] = product(s)
    return _products[s.port]


def buy(s, user, market, payment, key=None, quantity=1, address=None, pv=None):
    """Express checkout of one product; returns the raw response."""
    pid, vid = pv or shared_product(s)
    body = {"market": market, "product_id": pid, "variant_id": vid, "quantity": quantity,
            "payment": payment, "shipping_address": address or ADDRESSES[market]}
    headers = {"Idempotency-Key": key} if key else None
    return s.post("/api/checkout/express", body, user=user, headers=headers)


def order_of(s, user, order_number):
    body = expect(s.get("/api/orders/%s?limit=100" % user, user=user), 200)
    for o in body["data"]:
        if o["order_number"] == order_number:
            return o
    raise AssertionError("order %s not listed" % order_number)


def stripe_signature(body, secret=STRIPE_WEBHOOK_SECRET, t=None):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), ("%d." % t).encode() + body, hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


def razorpay_signature(body, secret=RAZORPAY_WEBHOOK_SECRET):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_raw(s, path, body, headers):
    return s.request("POST", path, raw=body, headers=dict(headers, **{"Content-Type": "application/json"}))


def request_from(s, ip, method, path, body=None, user=None):
    """One request from a given loopback source address (127.0.0.x)."""
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30, source_address=(ip, 0))
    h = {"Content-Type": "application/json"}
    if user:
        h["Authorization"] = "Bearer " + s.token(user)
    c.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=h)
    r = c.getresponse()
    data = r.read().decode()
    c.close()
    from harness import Response
    return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)


def all_rows_text(db):
    """Every cell of every table, as one string (to prove a value is absent)."""
    if db.driver == "pg":
        tables = [r[0] for r in db.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
    else:
        tables = [r[0] for r in db.sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
    out = []
    for t in tables:
        out.extend("|".join(r) for r in db.sql("SELECT * FROM %s" % t))
    return "\n".join(out)
