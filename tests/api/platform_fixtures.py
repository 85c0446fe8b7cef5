"""Fixtures for the platform tests: catalog rows written straight to the
database (the tests must not depend on the catalog API's shape), and fake
WS1-WS4 services that can answer, be slow, fail or talk nonsense."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness
from harness import expect, uniq

NOW = "1700000000"


def merchant(s, market="US"):
    body = expect(s.post("/api/ecommerce/merchants", {
        "name": uniq("m"), "code": uniq("m"), "market": market, "integration_type": "api",
        "commission_rate_bps": 1000}, token=s.admin()), 201)
    return body["id"]


def product(s, merchant_id, name, category="dresses", brand=None, prices=None, popularity=0):
    """Insert an active product with one variant priced per market; returns its id."""
    prices = prices or {"US": 4999}
    brand_sql = "NULL"
    if brand:
        s.db.sql("INSERT INTO brands (name, slug, created_at) VALUES ('%s', '%s', %s) "
                 "ON CONFLICT (name) DO NOTHING" % (brand, brand.lower(), NOW))
        brand_sql = "(SELECT id FROM brands WHERE name = '%s')" % brand
    pid = s.db.sql(
        "INSERT INTO products (merchant_id, brand_id, category_id, name, popularity, created_at, "
        "updated_at) VALUES (%d, %s, (SELECT id FROM categories WHERE slug = '%s'), '%s', %d, %s, %s) "
        "RETURNING id" % (merchant_id, brand_sql, category, name, popularity, NOW, NOW))[0][0]
    vid = s.db.sql("INSERT INTO product_variants (product_id, sku, created_at) VALUES (%s, '%s', %s) "
                   "RETURNING id" % (pid, uniq("sku"), NOW))[0][0]
    for market, price in prices.items():
        s.db.sql("INSERT INTO product_prices (variant_id, market_id, price) SELECT %s, id, %d "
                 "FROM markets WHERE code = '%s'" % (vid, price, market))
    return int(pid)


class FakeService:
    """A WS1-WS4 stand-in on a free port. `mode` is one of ok, slow, fail,
    flaky (first call 503, then ok), garbage; `answers` maps a path prefix
    to the JSON it returns; `requests` records (method, path, body)."""

    def __init__(self):
        self.mode = "ok"
        self.answers = {}
        self.requests = []
        self.delay = 3.0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_one(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode() if n else None
                with fake.lock:
                    fake.requests.append((method, self.path, body))
                    calls = len(fake.requests)
                    mode = fake.mode
                if mode == "slow":
                    time.sleep(fake.delay)
                if mode == "fail" or (mode == "flaky" and calls == 1):
                    return self.send(503 if mode == "flaky" else 500, b'{"error": "boom"}')
                if mode == "garbage":
                    return self.send(200, b"<html>not json</html>")
                for prefix, answer in fake.answers.items():
                    if self.path.startswith(prefix):
                        return self.send(200, json.dumps(answer).encode())
                return self.send(404, b'{"error": "not found"}')

            def send(self, status, payload):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # mandi gave up waiting (timeout): expected in slow mode

            def do_GET(self):
                self.handle_one("GET")

            def do_POST(self):
                self.handle_one("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def reset(self, mode="ok"):
        with self.lock:
            self.mode = mode
            self.requests = []
            self.answers = {}
