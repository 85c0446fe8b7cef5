"""Helpers shared by the analytics test modules."""
import datetime
import time

from harness import expect, uniq

DAY = 86400


def iso(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def today():
    now = int(time.time())
    return now - now % DAY


def run_jobs(s):
    """Run every job once; the analytics jobs must pass. The running server's
    own scheduler holds each job's lease for its interval (60 s), so run-once
    acts 90 s ahead, when those leases have expired."""
    out = s.run("jobs", "run-once", "--at", iso(time.time() + 90), check=False)
    log = out.stdout + out.stderr
    assert "job analytics-" not in log or "failed" not in log, log[-2000:]
    return log


def post_events(s, events, token=None):
    for i in range(0, len(events), 100):
        expect(s.post("/api/analytics/events", {"events": events[i:i + 100]}, token=token), 202)


def market_id(s, code):
    return int(s.db.sql("SELECT id FROM markets WHERE code = '%s'" % code)[0][0])


def insert_order(s, number, user, market, total, created_at, status="confirmed", items=()):
    """An order row as the commerce area writes it (its checkout API is not in
    this branch yet), with order_items (product_id, quantity, line_total)."""
    mid = market_id(s, market)
    cur = "USD" if market == "US" else "INR"
    now = int(time.time())
    s.db.sql(
        "INSERT INTO orders (order_number, user_id, market_id, status, payment_status, currency, "
        "subtotal, discount, shipping, tax, total, shipping_method, gateway, created_at, updated_at) "
        "VALUES ('%s', '%s', %d, '%s', 'paid', '%s', %d, 0, 0, 0, %d, 'standard', 'stripe', %d, %d)"
        % (number, user, mid, status, cur, total, total, created_at, now))
    oid = int(s.db.sql("SELECT id FROM orders WHERE order_number = '%s'" % number)[0][0])
    for product_id, qty, line in items:
        s.db.sql(
            "INSERT INTO order_items (order_id, product_id, variant_id, merchant_id, sku, name, "
            "quantity, unit_price, line_total) VALUES (%d, %d, 1, 1, 'SKU', 'item', %d, %d, %d)"
            % (oid, product_id, qty, line // qty, line))
    return oid


def alerts_with_key(s, key):
    found, cursor = [], None
    while True:
        page = expect(s.get("/api/analytics/alerts?status=all&limit=100" +
                            ("&cursor=" + cursor if cursor else ""), token=s.admin()), 200)
        found += [a for a in page["data"] if a["dedup_key"] == key]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def notifications(s, subject):
    return sorted(r[0] for r in s.db.sql(
        "SELECT channel FROM notifications WHERE kind = 'alert' AND subject = '%s'" % subject))


def insert_orders(s, market, rows):
    """Many orders (user, total, created_at) in one statement, so a job running
    meanwhile sees all of them or none."""
    mid = market_id(s, market)
    cur = "USD" if market == "US" else "INR"
    now = int(time.time())
    values = ", ".join(
        "('%s', '%s', %d, 'confirmed', 'paid', '%s', %d, 0, 0, 0, %d, 'standard', 'stripe', %d, %d)"
        % (uniq(market), user, mid, cur, total, total, at, now) for user, total, at in rows)
    s.db.sql("INSERT INTO orders (order_number, user_id, market_id, status, payment_status, currency, "
             "subtotal, discount, shipping, tax, total, shipping_method, gateway, created_at, updated_at) "
             "VALUES " + values)
