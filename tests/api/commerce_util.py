"""Helpers shared by the commerce test modules (cart, checkout, orders)."""
from harness import expect, uniq

# sandbox payments from many test users on one IP and one test card would
# trip the payments engineer's velocity rules; they are tested there
SERVER_ENV = {"FRAUD_VELOCITY_IP": "1000000", "FRAUD_VELOCITY_USER": "1000000",
              "FRAUD_VELOCITY_CARD": "1000000"}

US_ADDRESS = {"name": "Ann Lee", "line1": "1 Main St", "city": "New York", "state": "NY",
              "postal_code": "10001", "country": "US"}
IN_ADDRESS = {"name": "Asha Rao", "line1": "12 MG Road", "city": "Bengaluru", "state": "KA",
              "postal_code": "560001", "country": "IN"}
VISA = {"gateway": "stripe", "token": "tok_visa"}
UPI_OK = {"gateway": "upi", "vpa": "success@razorpay"}


def merchant(s, market="US"):
    body = {"name": "Commerce Test Merchant", "code": uniq("m"), "market": market,
            "integration_type": "api", "commission_rate_bps": 1000}
    m = expect(s.post("/api/ecommerce/merchants", body, token=s.admin()), 201)
    return m["id"], s.token("merchant-%d" % m["id"], "merchant", merchant_id=m["id"])


def product(s, us=4999, inr=249900, stock=25, mid=None):
    """A product with one variant priced in both markets (None: not sold
    there); returns (product_id, variant_id, merchant_id)."""
    if mid is None:
        mid, _ = merchant(s)
    prices = {}
    if us is not None:
        prices["US"] = us
    if inr is not None:
        prices["IN"] = inr
    body = {"merchant_id": mid, "name": "Linen Summer Dress", "brand": "Zara",
            "category": "dresses", "description": "Breezy", "tags": ["summer"],
            "variants": [{"sku": uniq("SKU"), "size": "M", "color": "blue", "stock": stock,
                          "prices": prices}]}
    p = expect(s.post("/api/catalog/products", body, token=s.admin()), 201)
    return p["id"], p["variants"][0]["id"], mid


def add(s, user, pid, vid, qty=1, market="US", **extra):
    body = {"market": market, "product_id": pid, "variant_id": vid, "quantity": qty}
    body.update(extra)
    return s.post("/api/cart/add", body, user=user)


def stock(s, vid):
    """(stock, reserved) of a variant, straight from the database."""
    row = s.db.sql("SELECT stock, reserved FROM inventory WHERE variant_id = %d" % vid)[0]
    return int(row[0]), int(row[1])


def start(s, user, market="US", address=None, method=None, coupon=None, express=False):
    """Open a session on user's cart and set what is given; returns the session."""
    body = {"market": market}
    if express:
        body["express"] = True
    sess = expect(s.post("/api/checkout/start", body, user=user), 201)
    upd = {}
    if address:
        upd["shipping_address"] = address
    if method:
        upd["shipping_method"] = method
    if coupon:
        upd["coupon_code"] = coupon
    if upd:
        sess = expect(s.put("/api/checkout/%d/update" % sess["id"], upd, user=user), 200)
    return sess


def complete(s, user, sid, payment=None, key=None):
    headers = {"Idempotency-Key": key} if key else None
    return s.post("/api/checkout/%d/complete" % sid, {"payment": payment or VISA}, user=user,
                  headers=headers)


def buy(s, user, pid, vid, qty=1, market="US", payment=None):
    """Cart → session → order in the ordinary steps; returns the order."""
    expect(add(s, user, pid, vid, qty, market), 200)
    sess = start(s, user, market, address=US_ADDRESS if market == "US" else IN_ADDRESS)
    pay = payment or (VISA if market == "US" else UPI_OK)
    return expect(complete(s, user, sess["id"], pay), 201)
