"""Order messages through the email channel: SMTP via libcurl to a small
local SMTP server; a recipient that is not an address is retried, not sent."""
import socket
import socketserver
import threading
import time

import commerce_util as cu
from harness import uniq, wait_for


def _port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


SMTP_PORT = _port()
SERVER_ENV = dict(cu.SERVER_ENV, ORDER_NOTIFY_CHANNEL="email",
                  SMTP_URL="smtp://127.0.0.1:%d" % SMTP_PORT, SMTP_FROM="shop@mandi.test")
MAILS = []


class SMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP for libcurl: EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        env, body, in_data = {"rcpt": []}, [], False
        for line in self.rfile:
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    MAILS.append(dict(env, data=b"".join(body).decode()))
                    self.wfile.write(b"250 queued\r\n")
                else:
                    body.append(line)
                continue
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == b"MAIL":
                env["from"] = line.decode().strip()
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"RCPT":
                env["rcpt"].append(line.decode().strip())
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"DATA":
                in_data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_order_confirmation_by_email(s):
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", SMTP_PORT), SMTP)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        pid, vid, _ = cu.product(s)
        email = "%s@example.com" % uniq("buyer")
        num = cu.buy(s, email, pid, vid)["order_number"]
        not_email = uniq("u")
        cu.buy(s, not_email, pid, vid)
        s.run("jobs", "run-once")
        mail = wait_for(lambda: [m for m in MAILS if num in m["data"]])[0]
        assert "shop@mandi.test" in mail["from"] and email in mail["rcpt"][0]
        assert "Subject: Order %s is confirmed" % num in mail["data"]
        row = lambda u: s.db.sql("SELECT status, attempts, COALESCE(last_error, '') FROM notifications "
                                 "WHERE recipient = '%s'" % u)
        assert wait_for(lambda: row(email)[0][0] == "sent")
        bad = wait_for(lambda: row(not_email) if row(not_email)[0][1] == "1" else None)
        assert bad[0][0] == "pending" and "not an email" in bad[0][2]
    finally:
        srv.shutdown()
        srv.server_close()
