"""A small stand-in for Stripe's and Razorpay's REST APIs, for the live
adapters' tests and the benchmark. It checks what a real API would refuse
(method, path, authentication, required parameters), records every request,
and can be told to answer slowly or fail:

    fake = FakeGateway(stripe_key="sk_live_x", razorpay=("rzp_live_x", "secret")).start()
    fake.delay = 0.3; fake.fail = True; fake.requests  # [(method, path, headers, params)]
"""
import base64
import itertools
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DECLINES = {
    "tok_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "tok_chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds",
                                            "Your card has insufficient funds."),
}


class FakeGateway:
    def __init__(self, stripe_key="sk_live_fake", razorpay=("rzp_live_fake", "rzp_secret_fake")):
        self.stripe_key = stripe_key
        self.razorpay = razorpay
        self.delay = 0.0
        self.fail = False
        self.requests = []
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.server = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n).decode()
                ctype = self.headers.get("Content-Type", "")
                if ctype.startswith("application/x-www-form-urlencoded"):
                    params = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
                elif ctype.startswith("application/json"):
                    params = json.loads(raw or "{}")
                else:
                    params = None
                with fake.lock:
                    fake.requests.append(("POST", self.path, dict(self.headers), params))
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.fail:
                    return self.reply(500, {"error": {"type": "api_error", "message": "fake outage"}})
                if params is None:
                    return self.reply(415, {"error": {"message": "bad content type"}})
                if self.path.startswith("/v1/payment_intents") or self.path == "/v1/refunds":
                    return self.stripe(params)
                return self.razorpay(params)

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def new_id(self, prefix):
                return "%s_fake%06d" % (prefix, next(fake.ids))

            def stripe(self, p):
                if self.headers.get("Authorization") != "Bearer " + fake.stripe_key:
                    return self.reply(401, {"error": {"type": "invalid_request_error",
                                                      "message": "Invalid API Key provided"}})
                if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    return self.reply(400, {"error": {"type": "invalid_request_error", "message": "form only"}})
                if self.path == "/v1/payment_intents":
                    missing = [k for k in ("amount", "currency", "confirm") if k not in p]
                    token = p.get("payment_method_data[card][token]") or p.get("payment_method")
                    if missing or not token or not p["amount"].isdigit() or p["confirm"] != "true":
                        return self.reply(400, {"error": {"type": "invalid_request_error",
                                                          "message": "missing %s" % (missing or "token")}})
                    pi = self.new_id("pi")
                    if token in DECLINES:
                        code, decline, msg = DECLINES[token]
                        return self.reply(402, {"error": {"type": "card_error", "code": code,
                                                          "decline_code": decline, "message": msg,
                                                          "payment_intent": {"id": pi}}})
                    status = "succeeded" if p.get("capture_method", "automatic") == "automatic" \
                        else "requires_capture"
                    return self.reply(200, {"id": pi, "object": "payment_intent", "amount": int(p["amount"]),
                                            "currency": p["currency"], "status": status})
                if self.path.endswith("/capture"):
                    return self.reply(200, {"id": self.path.split("/")[3], "status": "succeeded"})
                if self.path == "/v1/refunds":
                    if not p.get("payment_intent") or not p.get("amount", "").isdigit():
                        return self.reply(400, {"error": {"type": "invalid_request_error",
                                                          "message": "payment_intent and amount"}})
                    return self.reply(200, {"id": self.new_id("re"), "object": "refund", "status": "succeeded",
                                            "amount": int(p["amount"])})
                return self.reply(404, {"error": {"type": "invalid_request_error", "message": "no route"}})

            def razorpay(self, p):
                want = "Basic " + base64.b64encode(("%s:%s" % fake.razorpay).encode()).decode()
                if self.headers.get("Authorization") != want:
                    return self.reply(401, {"error": {"code": "BAD_REQUEST_ERROR",
                                                      "description": "Authentication failed"}})
                if self.path == "/v1/orders":
                    if not isinstance(p.get("amount"), int) or not p.get("currency"):
                        return self.reply(400, {"error": {"code": "BAD_REQUEST_ERROR",
                                                          "description": "amount and currency required"}})
                    return self.reply(200, {"id": self.new_id("order"), "entity": "order", "amount": p["amount"],
                                            "currency": p["currency"], "status": "created"})
                if self.path == "/v1/payments/create/upi":
                    if not p.get("order_id", "").startswith("order_") or not p.get("vpa"):
                        return self.reply(400, {"error": {"code": "BAD_REQUEST_ERROR",
                                                          "description": "order_id and vpa required"}})
                    if p["vpa"] == "failure@razorpay":
                        return self.reply(400, {"error": {"code": "BAD_REQUEST_ERROR", "reason": "payment_failed",
                                                          "description": "Payment failed"}})
                    return self.reply(200, {"razorpay_payment_id": self.new_id("pay")})
                parts = self.path.split("/")
                if len(parts) == 5 and parts[2] == "payments" and parts[4] == "capture":
                    if not isinstance(p.get("amount"), int):
                        return self.reply(400, {"error": {"code": "BAD_REQUEST_ERROR", "description": "amount"}})
                    return self.reply(200, {"id": parts[3], "entity": "payment", "status": "captured",
                                            "amount": p["amount"]})
                if len(parts) == 5 and parts[2] == "payments" and parts[4] == "refund":
                    return self.reply(200, {"id": self.new_id("rfnd"), "entity": "refund",
                                            "payment_id": parts[3], "amount": p.get("amount"),
                                            "status": "processed"})
                return self.reply(404, {"error": {"code": "BAD_REQUEST_ERROR", "description": "no route"}})

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # 50 clients connect at once: no SYN retries

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def take(self):
        """The requests received so far (and forget them)."""
        with self.lock:
            out, self.requests = self.requests, []
        return out


if __name__ == "__main__":
    import sys
    f = FakeGateway().start()
    f.delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    print(f.url, flush=True)
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        f.stop()
