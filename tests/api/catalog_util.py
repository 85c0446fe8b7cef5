"""Helpers shared by the catalog test modules."""
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
