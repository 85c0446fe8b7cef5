"""Notification outbox through the webhook channel: a failed delivery is
retried with backoff and then sent as JSON."""
import http.server
import json
import socket
import threading
import time

import commerce_util as cu
from harness import expect, uniq, wait_for


def _port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


HOOK_PORT = _port()
SERVER_ENV = dict(cu.SERVER_ENV, ORDER_NOTIFY_CHANNEL="webhook",
                  NOTIFY_WEBHOOK_URL="http://127.0.0.1:%d/hook" % HOOK_PORT)


class Hook(http.server.BaseHTTPRequestHandler):
    received = []
    fail_first = [True]

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((self.headers["Content-Type"], json.loads(body)))
        status = 500 if Hook.fail_first[0] else 200
        Hook.fail_first[0] = False
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def test_webhook_delivery_with_retry(s):
    srv = http.server.HTTPServer(("127.0.0.1", HOOK_PORT), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        pid, vid, _ = cu.product(s)
        u = uniq("u")
        num = cu.buy(s, u, pid, vid)["order_number"]
        row = lambda: s.db.sql("SELECT status, attempts, COALESCE(last_error, '') FROM notifications "
                               "WHERE recipient = '%s'" % u)
        s.run("jobs", "run-once")  # or the server's own tick, whichever holds the lease
        first = wait_for(lambda: row() if row()[0][1] == "1" else None)
        assert first[0][0] == "pending" and "500" in first[0][2]
        # the retry is due a minute later
        t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 120))
        s.run("jobs", "run-once", "--at", t)
        done = wait_for(lambda: row() if row()[0][0] == "sent" else None)
        assert done[0][1] == "2"
        assert len(Hook.received) == 2
        ctype, payload = Hook.received[-1]
        assert ctype == "application/json"
        assert payload["kind"] == "order_confirmation" and payload["recipient"] == u
        assert num in payload["subject"] and num in payload["text"]
    finally:
        srv.shutdown()
        srv.server_close()
