"""A small stand-in for Stripe's and Razorpay's REST APIs, for the live
adapters' tests and the benchmark. It checks what a real API would refuse
(method, path, authentication, required parameters), records every request,
and can be told to answer slowly or fail:

    fake = FakeGateway(stripe_key="sk_live_x", razorpay=("rzp_live_x", "secret")).start()
    fake.delay = 0.3; fake.fail = True; fake.requests  # [(method, path, headers, params)]

Timeouts the way they happen in production (both past our timeout):
    fake.hang = 1.5   # the request is processed (the charge recorded) but the
                      # answer comes only after 1.5 s
    fake.drop = 1.5   # the request is read, never processed, and the
                      # connection closed after 1.5 s
    fake.hang_path = "/v1/payment_intents"  # only requests whose path starts so

Stripe requests with an Idempotency-Key are answered from a store on a
repeat (same status and body, no new PaymentIntent), as Stripe does;
fake.created lists the PaymentIntents really created. Razorpay payments are
kept per order, so GET /v1/orders/{id}/payments and GET /v1/payments/{id}
answer what happened.
"""
import base64
import itertools
import json
import sys
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
        self.connections = 0    # TCP connections accepted (keep-alive reuse shows here)
        self.hang = 0.0
        self.drop = 0.0
        self.hang_path = ""
        self.idem = {}          # Stripe Idempotency-Key -> (params, status, body)
        self.created = []       # PaymentIntent ids really created
        self.rzp_orders = {}    # order id -> order
        self.rzp_payments = {}  # payment id -> payment entity
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
            # headers and body go out in two writes: with Nagle on, the
            # body waits for the client's delayed ACK of the headers (40 ms
            # on Linux), which was most of the fake's overhead at 50
            # concurrent payments
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                with fake.lock:
                    fake.connections += 1

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
                timed = self.path.startswith(fake.hang_path)
                if fake.drop and timed:
                    time.sleep(fake.drop)  # never processed; the client gave up
                    self.close_connection = True
                    return
                self.held = fake.hang if timed else 0.0
                if self.path.startswith("/v1/payment_intents") or self.path == "/v1/refunds":
                    return self.stripe(params)
                return self.razorpay(params)

            def do_GET(self):
                with fake.lock:
                    fake.requests.append(("GET", self.path, dict(self.headers), None))
                self.held = 0.0
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.fail:
                    return self.reply(500, {"error": {"code": "SERVER_ERROR", "description": "fake outage"}})
                if not self.razorpay_auth():
                    return
                parts = self.path.split("/")
                with fake.lock:
                    if len(parts) == 5 and parts[2] == "orders" and parts[4] == "payments":
                        if parts[3] not in fake.rzp_orders:
                            return self.reply(400, {"error": {"code": "BAD_REQUEST_ERROR",
                                                              "description": "The id provided does not exist"}})
                        items = [dict(p) for p in fake.rzp_payments.values() if p.get("order_id") == parts[3]]
                        return self.reply(200, {"entity": "collection", "count": len(items), "items": items})
                    if len(parts) == 4 and parts[2] == "payments" and parts[3] in fake.rzp_payments:
                        return self.reply(200, dict(fake.rzp_payments[parts[3]]))
                return self.reply(400, {"error": {"code": "BAD_REQUEST_ERROR",
                                                  "description": "The id provided does not exist"}})

            def reply(self, status, body):
                if getattr(self, "held", 0.0):
                    time.sleep(self.held)  # processed, but the answer comes too late
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
                    key = self.headers.get("Idempotency-Key")
                    with fake.lock:
                        seen = fake.idem.get(key) if key else None
                    if seen:
                        if seen[0] != p:
                            return self.reply(400, {"error": {"type": "idempotency_error",
                                                              "message": "Keys for idempotent requests can only "
                                                                         "be used with the same parameters"}})
                        return self.reply(seen[1], seen[2])
                    status, body = self.payment_intent(p)
                    if key and status != 400:
                        with fake.lock:
                            fake.idem[key] = (p, status, body)
                    return self.reply(status, body)
                if self.path.endswith("/capture"):
                    return self.reply(200, {"id": self.path.split("/")[3], "status": "succeeded"})
                if self.path == "/v1/refunds":
                    if not p.get("payment_intent") or not p.get("amount", "").isdigit():
                        return self.reply(400, {"error": {"type": "invalid_request_error",
                                                          "message": "payment_intent and amount"}})
                    return self.reply(200, {"id": self.new_id("re"), "object": "refund", "status": "succeeded",
                                            "amount": int(p["amount"])})
                return self.reply(404, {"error": {"type": "invalid_request_error", "message": "no route"}})

            def payment_intent(self, p):
                missing = [k for k in ("amount", "currency", "confirm") if k not in p]
                token = p.get("payment_method_data[card][token]") or p.get("payment_method")
                if missing or not token or not p["amount"].isdigit() or p["confirm"] != "true":
                    return 400, {"error": {"type": "invalid_request_error",
                                           "message": "missing %s" % (missing or "token")}}
                pi = self.new_id("pi")
                if token in DECLINES:
                    code, decline, msg = DECLINES[token]
                    return 402, {"error": {"type": "card_error", "code": code,
                                           "decline_code": decline, "message": msg,
                                           "payment_intent": {"id": pi}}}
                status = "succeeded" if p.get("capture_method", "automatic") == "automatic" \
                    else "requires_capture"
                with fake.lock:
                    fake.created.append(pi)
                return 200, {"id": pi, "object": "payment_intent", "amount": int(p["amount"]),
                             "currency": p["currency"], "status": status}

            def razorpay_auth(self):
                want = "Basic " + base64.b64encode(("%s:%s" % fake.razorpay).encode()).decode()
                if self.headers.get("Authorization") != want:
                    self.reply(401, {"error": {"code": "BAD_REQUEST_ERROR",
                                               "description": "Authentication failed"}})
                    return False
                return True

            def rzp_payment(self, order_id, status, **more):
                pay = dict(id=self.new_id("pay"), entity="payment", order_id=order_id, status=status, **more)
                with fake.lock:
                    fake.rzp_payments[pay["id"]] = pay
                return pay

            def razorpay(self, p):
                if not self.razorpay_auth():
                    return
                if self.path == "/v1/orders":
                    if not isinstance(p.get("amount"), int) or not p.get("currency"):
                        return self.reply(400, {"error": {"code": "BAD_REQUEST_ERROR",
                                                          "description": "amount and currency required"}})
                    order = {"id": self.new_id("order"), "entity": "order", "amount": p["amount"],
                             "currency": p["currency"], "status": "created",
                             "payment_capture": bool(p.get("payment_capture", True))}
                    with fake.lock:
                        fake.rzp_orders[order["id"]] = order
                    return self.reply(200, order)
                if self.path in ("/v1/payments/create/upi", "/v1/payments/create/json"):
                    upi = self.path.endswith("/upi")
                    if not p.get("order_id", "").startswith("order_") or not p.get("vpa" if upi else "token"):
                        return self.reply(400, {"error": {"code": "BAD_REQUEST_ERROR",
                                                          "description": "order_id and %s required"
                                                                         % ("vpa" if upi else "token")}})
                    if upi and p["vpa"] == "failure@razorpay":
                        self.rzp_payment(p["order_id"], "failed", method="upi", error_reason="payment_failed",
                                         error_description="Payment failed")
                        return self.reply(400, {"error": {"code": "BAD_REQUEST_ERROR", "reason": "payment_failed",
                                                          "description": "Payment failed"}})
                    if upi:  # a collect request: the customer approves it in their app
                        pay = self.rzp_payment(p["order_id"], "created", method="upi", vpa=p["vpa"])
                        return self.reply(200, {"razorpay_payment_id": pay["id"]})
                    with fake.lock:
                        auto = fake.rzp_orders.get(p["order_id"], {}).get("payment_capture", True)
                    pay = self.rzp_payment(p["order_id"], "captured" if auto else "authorized", method="card",
                                           amount=p.get("amount"))
                    return self.reply(200, {"razorpay_payment_id": pay["id"], "status": pay["status"]})
                parts = self.path.split("/")
                if len(parts) == 5 and parts[2] == "payments" and parts[4] == "capture":
                    if not isinstance(p.get("amount"), int):
                        return self.reply(400, {"error": {"code": "BAD_REQUEST_ERROR", "description": "amount"}})
                    pay = {"id": parts[3], "entity": "payment", "status": "captured", "amount": p["amount"]}
                    with fake.lock:
                        fake.rzp_payments.setdefault(parts[3], {}).update(pay)
                    return self.reply(200, pay)
                if len(parts) == 5 and parts[2] == "payments" and parts[4] == "refund":
                    return self.reply(200, {"id": self.new_id("rfnd"), "entity": "refund",
                                            "payment_id": parts[3], "amount": p.get("amount"),
                                            "status": "processed"})
                return self.reply(404, {"error": {"code": "BAD_REQUEST_ERROR", "description": "no route"}})

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # 50 clients connect at once: no SYN retries

            def handle_error(self, request, client_address):
                # a client that hangs up (wrk stopping, a timed-out
                # payment) is normal here, not worth a traceback
                if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
                    super().handle_error(request, client_address)

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
    f = FakeGateway().start()
    f.delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    print(f.url, flush=True)
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        print("fake gateway: %d requests over %d connections" % (len(f.requests), f.connections),
              file=sys.stderr, flush=True)
        f.stop()
