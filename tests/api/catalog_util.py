"""Helpers shared by the catalog test modules."""
import subprocess
import time

from harness import expect, uniq


def make_merchant(s, market="US", integration="api"):
    body = {"name": "Test Merchant", "code": uniq("m"), "market": market,
            "integration_type": integration, "commission_rate_bps": 1000}
    m = expect(s.post("/api/ecommerce/merchants", body, token=s.admin()), 201)
    return m["id"], s.token("merchant-%d" % m["id"], "merchant", merchant_id=m["id"])


def product_body(merchant_id, **kw):
    b = {"merchant_id": merchant_id, "name": "Linen Summer Dress", "brand": "Zara",
         "category": "dresses", "description": "Breezy linen dress for hot days",
         "tags": ["summer", "linen"],
         "variants": [{"sku": uniq("SKU"), "size": "M", "color": "blue", "stock": 25,
                       "prices": {"US": 4999, "IN": 249900}}]}
    b.update(kw)
    return b


def create(s, token, merchant_id, **kw):
    return expect(s.post("/api/catalog/products", product_body(merchant_id, **kw), token=token), 201)


def sql_write(s, query):
    """A direct write; the server's own jobs may hold SQLite's write lock for a
    moment, and the sqlite3 shell does not wait, so retry."""
    for attempt in range(50):
        try:
            return s.db.sql(query)
        except subprocess.CalledProcessError:
            if attempt == 49:
                raise
            time.sleep(0.1)
