"""Redis behind cache.h: two instances share cached answers and see each
other's invalidations; rate limits are shared; when Redis is down mandi keeps
serving from the database and /health says degraded, and recovers when it
comes back. Starts its own redis-server on a free port."""
import atexit
import shutil
import subprocess
import threading
import time

import harness
from harness import expect, uniq
from platform_fixtures import merchant, product
import payments_util

SHARED_SERVER = False


class Redis:
    def __init__(self):
        self.port = harness.free_port()
        self.url = "redis://127.0.0.1:%d/0" % self.port
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                              text=True).stdout.strip() == "PONG":
                return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                              capture_output=True, text=True).stdout.strip()


REDIS = Redis()
if shutil.which("redis-server"):
    REDIS.start()
    atexit.register(REDIS.stop)


_pop = [10 ** 12]


def pop():
    """Ever higher popularity: the newest product of any test leads the list."""
    _pop[0] += 10 ** 9
    return _pop[0]


def pair(db, **env):
    """Two instances on one database and one Redis, with this test's key prefix."""
    e = {"CACHE_TYPE": "redis", "REDIS_URL": REDIS.url, "REDIS_KEY_PREFIX": uniq("t") + ":",
         "REDIS_TIMEOUT_MS": "200"}
    e.update(env)
    a = harness.Server(db, env=e).start()
    b = harness.Server(db, env=e).start(seed=False)
    return a, b


def trending(srv, market="US"):
    r = srv.get("/api/social/trending-products?market=%s&limit=3" % market)
    expect(r, 200)
    return r


def refresh_trending(srv):
    """Run the trending-refresh job from a separate process, as an operator would."""
    srv.db.sql("DELETE FROM job_leases WHERE name = 'trending-refresh'")
    assert "0 failed" in srv.run("jobs", "run-once").stdout


def test_instances_share_cache_and_invalidation(db):
    a, b = pair(db)
    try:
        m = merchant(a)
        first = product(a, m, "First", "shoes", None, {"US": 100}, pop())
        refresh_trending(a)
        r = trending(a)
        assert r.headers["x-cache"] == "miss" and r.json["source"] == "trending_snapshot"
        assert r.json["data"][0]["id"] == first
        # the other instance gets the answer the first one cached
        r = trending(b)
        assert r.headers["x-cache"] == "hit" and r.json["data"][0]["id"] == first
        assert REDIS.cli("--scan", "--pattern", a.env["REDIS_KEY_PREFIX"] + "trending:*") != ""
        # new data + the job's cache_clear (from a third process) reach both instances at once
        second = product(a, m, "Second", "shoes", None, {"US": 100}, pop())
        refresh_trending(a)
        for srv in (a, b):
            r = trending(srv)
            assert r.json["data"][0]["id"] == second, (srv.port, r)
        health = expect(a.get("/health"), 200)
        assert health["status"] == "ok" and health["cache"] == {"status": "ok", "type": "redis"}
    finally:
        a.stop()
        b.stop()


def test_rate_limit_is_shared_by_instances(db):
    a, b = pair(db, IMAGE_SEARCH_RATE_LIMIT="3")
    try:
        # keep the four calls inside one one-minute window
        if time.time() % 60 > 55:
            time.sleep(61 - time.time() % 60)
        body = {"image_url": "https://img.example/x.jpg"}
        statuses = [srv.post("/api/catalog/image-search", body).status for srv in (a, b, a, b)]
        assert statuses == [200, 200, 200, 429], statuses
        r = b.post("/api/catalog/image-search", body)
        expect(r, 429, "rate_limited")
        assert 1 <= int(r.headers["retry-after"]) <= 60
    finally:
        a.stop()
        b.stop()


def test_rate_limit_without_redis_is_per_instance(db):
    e = {"CACHE_TYPE": "memory", "IMAGE_SEARCH_RATE_LIMIT": "2"}
    a = harness.Server(db, env=e).start()
    b = harness.Server(db, env=e).start(seed=False)
    try:
        if time.time() % 60 > 55:
            time.sleep(61 - time.time() % 60)
        body = {"image_url": "https://img.example/x.jpg"}
        statuses = [srv.post("/api/catalog/image-search", body).status for srv in (a, a, a, b, b, b)]
        assert statuses == [200, 200, 429, 200, 200, 429], statuses
    finally:
        a.stop()
        b.stop()


def test_redis_down_serves_from_database_and_reports_degraded(db):
    a, b = pair(db)
    try:
        m = merchant(a)
        first = product(a, m, "Boot", "shoes", None, {"US": 100}, pop())
        refresh_trending(a)
        assert trending(a).headers["x-cache"] == "miss"
        REDIS.stop()
        try:
            t0 = time.time()
            for srv in (a, b):
                r = trending(srv)
                assert r.headers["x-cache"] == "miss" and r.json["data"][0]["id"] == first
                health = expect(srv.get("/health"), 200)
                assert health["status"] == "degraded", health
                assert health["cache"]["status"] == "degraded"
                assert health["database"]["status"] == "ok"
            # rate limits fall back to counting per process instead of failing
            expect(a.post("/api/catalog/image-search", {"image_url": "https://i/x.jpg"}), 200)
            # a dead Redis costs little: no call waits more than its timeout
            assert time.time() - t0 < 5
            # a write while Redis is down cannot invalidate; the post-outage bump covers it
            second = product(a, m, "Sandal", "shoes", None, {"US": 100}, pop())
            refresh_trending(a)
        finally:
            REDIS.start()
        deadline = time.time() + 10
        while expect(a.get("/health"), 200)["status"] != "ok" and time.time() < deadline:
            time.sleep(0.3)
        assert expect(a.get("/health"), 200)["status"] == "ok"
        r = trending(a)
        assert r.json["data"][0]["id"] == second
        deadline = time.time() + 10
        while expect(b.get("/health"), 200)["status"] != "ok" and time.time() < deadline:
            time.sleep(0.3)
        assert trending(b).json["data"][0]["id"] == second
        assert "redis unreachable" in a.logs() and "redis reachable again" in a.logs()
    finally:
        a.stop()
        b.stop()


def test_bad_redis_url_is_a_configuration_error(db):
    srv = harness.Server(db, env={"CACHE_TYPE": "redis", "REDIS_URL": "http://nope"})
    r = srv.run("serve", check=False)
    assert r.returncode == 2 and "REDIS_URL" in r.stderr


def test_invalidations_lost_during_an_outage_are_replayed(db):
    """Redis alive but not answering (CLIENT PAUSE): the job's cache_clear is
    lost, yet the entries cached before the outage are never served again,
    because instances bump every generation they know once Redis is back."""
    a, b = pair(db)
    try:
        m = merchant(a)
        first = product(a, m, "Loafer", "shoes", None, {"US": 100}, pop())
        refresh_trending(a)
        assert trending(a).headers["x-cache"] == "miss"
        assert trending(b).headers["x-cache"] == "hit"
        paused_at = time.time()
        REDIS.cli("CLIENT", "PAUSE", "2500", "ALL")
        for srv in (a, b):
            r = trending(srv)
            assert r.json["data"][0]["id"] == first and r.headers["x-cache"] == "miss"
        second = product(a, m, "Mule", "shoes", None, {"US": 100}, pop())
        refresh_trending(a)  # its cache_clear times out: lost
        time.sleep(max(0, paused_at + 2.6 - time.time()) + 1.1)  # pause over, retry window passed
        for srv in (a, b):
            r = trending(srv)
            assert r.json["data"][0]["id"] == second, (srv.port, r)
        assert "bumped" in a.logs() + b.logs()
    finally:
        a.stop()
        b.stop()


VISA = {"gateway": "stripe", "token": "tok_visa"}


def orders_of(db, user):
    return int(db.sql("SELECT COUNT(*) FROM orders WHERE user_id = '%s'" % user)[0][0])


def test_idempotent_replay_is_answered_from_redis(db):
    a, b = pair(db)
    try:
        pv = payments_util.product(a)
        user, key = uniq("u"), uniq("k")
        first = payments_util.buy(a, user, "US", VISA, key=key, pv=pv)
        expect(first, 201)
        prefix = a.env["REDIS_KEY_PREFIX"]
        assert REDIS.cli("--scan", "--pattern", prefix + "shared:idem:*") != ""
        # the database forgets the key: only Redis can still answer the replay
        db.sql("DELETE FROM idempotency_keys WHERE idem_key = '%s'" % key)
        for srv in (b, a):
            r = payments_util.buy(srv, user, "US", VISA, key=key, pv=pv)
            assert r.status == 201 and r.body == first.body, r
            assert r.headers.get("idempotent-replayed") == "true"
        # the same key for another request: 409, also from Redis alone
        r = payments_util.buy(b, user, "US", VISA, key=key, quantity=2, pv=pv)
        expect(r, 409, "idempotency_conflict")
        assert orders_of(db, user) == 1
        assert int(db.sql("SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = '%s'" % key)[0][0]) == 0
        # another user's same key is another key
        other = uniq("u")
        expect(payments_util.buy(b, other, "US", VISA, key=key, pv=pv), 201)
        assert orders_of(db, other) == 1
    finally:
        a.stop()
        b.stop()


def test_concurrent_duplicates_on_two_instances_act_once(db):
    a, b = pair(db)
    try:
        pv = payments_util.product(a)
        user, key = uniq("u"), uniq("k")
        results = [None] * 8
        go = threading.Event()

        def one(i):
            go.wait()
            results[i] = payments_util.buy((a, b)[i % 2], user, "US", VISA, key=key, pv=pv)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join()
        assert all(r.status == 201 for r in results), results
        assert len({r.json["order_number"] for r in results}) == 1
        assert orders_of(db, user) == 1
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in results) == 7
    finally:
        a.stop()
        b.stop()


def test_idempotency_without_redis_uses_the_database(db):
    """Redis configured but unreachable: replays and conflicts come from the rows."""
    a, b = pair(db, REDIS_URL="redis://127.0.0.1:%d/0" % harness.free_port())
    try:
        pv = payments_util.product(a)
        user, key = uniq("u"), uniq("k")
        first = expect(payments_util.buy(a, user, "US", VISA, key=key, pv=pv), 201)
        r = payments_util.buy(b, user, "US", VISA, key=key, pv=pv)
        assert r.status == 201 and r.json == first and r.headers.get("idempotent-replayed") == "true"
        expect(payments_util.buy(b, user, "US", VISA, key=key, quantity=2, pv=pv), 409,
               "idempotency_conflict")
        assert orders_of(db, user) == 1
        assert expect(a.get("/health"), 200)["cache"]["status"] == "degraded"
    finally:
        a.stop()
        b.stop()
