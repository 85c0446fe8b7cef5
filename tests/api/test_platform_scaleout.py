"""Many instances on one database: a leased background job runs once across
all of them, a per-instance job runs in each, and nothing an instance must
share lives only in its memory."""
import re
import time

import harness
from harness import expect

SHARED_SERVER = False


def runs(srv, job):
    return len(re.findall(r"job %s ran in" % re.escape(job), srv.logs()))


def test_two_instances_run_a_leased_job_once(db):
    env = {"MANDI_LOG_LEVEL": "debug", "MANDI_ACCESS_LOG": "false"}
    a = harness.Server(db, env=env)
    a.run("seed")
    db.sql("DELETE FROM job_leases")  # other tests' servers may hold them
    a.start(seed=False)
    b = harness.Server(db, env=env).start(seed=False)
    try:
        # every job is due at each instance's first tick (about 1 s after start)
        deadline = time.time() + 15
        while time.time() < deadline and (runs(a, "market-reload") < 2 or runs(b, "market-reload") < 2):
            time.sleep(0.5)
        assert runs(a, "market-reload") >= 2 and runs(b, "market-reload") >= 2, \
            "the per-instance job runs in every process"
        total = runs(a, "trending-refresh") + runs(b, "trending-refresh")
        assert total == 1, "trending-refresh ran %d times across two instances" % total
        holder = db.sql("SELECT holder FROM job_leases WHERE name = 'trending-refresh'")
        pids = {str(a.proc.pid), str(b.proc.pid)}
        assert len(holder) == 1 and holder[0][0].rsplit(":", 1)[1] in pids
        assert db.sql("SELECT COUNT(*) FROM job_leases WHERE name = 'market-reload'") == [["0"]]
    finally:
        a.stop()
        b.stop()


def test_many_instances_racing_for_one_lease(db):
    """Four processes started together: still exactly one run."""
    env = {"MANDI_LOG_LEVEL": "debug", "MANDI_ACCESS_LOG": "false"}
    first = harness.Server(db, env=env)
    first.run("seed")
    db.sql("DELETE FROM job_leases")
    servers = [harness.Server(db, env=env) for _ in range(4)]
    for s in servers:
        s.start(seed=False)
    try:
        time.sleep(3)
        total = sum(runs(s, "trending-refresh") for s in servers)
        assert total == 1, "ran %d times" % total
        for s in servers:
            assert expect(s.get("/health"), 200)["status"] == "ok"
    finally:
        for s in servers:
            s.stop()


def test_client_ip_from_a_trusted_proxy_only(db):
    """Behind nginx every peer is 127.0.0.1: the client address comes from
    X-Real-IP, but only when the peer is in TRUSTED_PROXIES (per-IP limits
    and fraud rules must not be dodged by a forged header)."""
    body = {"image_url": "https://img.example/x.jpg"}
    url = "/api/catalog/image-search"
    if time.time() % 60 > 45:  # keep each server's checks inside one one-minute window
        time.sleep(61 - time.time() % 60)
    plain = harness.Server(db, env={"IMAGE_SEARCH_RATE_LIMIT": "1", "CACHE_TYPE": "memory"}).start()
    try:
        expect(plain.post(url, body, headers={"X-Real-IP": "10.0.0.1"}), 200)
        expect(plain.post(url, body, headers={"X-Real-IP": "10.0.0.2"}), 429, "rate_limited")
    finally:
        plain.stop()
    proxied = harness.Server(db, env={"IMAGE_SEARCH_RATE_LIMIT": "1", "CACHE_TYPE": "memory",
                                      "TRUSTED_PROXIES": "10.9.9.9,127.0.0.1"}).start(seed=False)
    try:
        expect(proxied.post(url, body, headers={"X-Real-IP": "10.0.0.1"}), 200)
        expect(proxied.post(url, body, headers={"X-Real-IP": "10.0.0.2"}), 200)
        expect(proxied.post(url, body, headers={"X-Real-IP": "10.0.0.1"}), 429, "rate_limited")
        # not an address: the peer's own address is used
        expect(proxied.post(url, body, headers={"X-Real-IP": "not-an-ip"}), 200)
        expect(proxied.post(url, body, headers={"X-Real-IP": "nonsense"}), 429, "rate_limited")
    finally:
        proxied.stop()
    bad = harness.Server(db, env={"TRUSTED_PROXIES": "nginx.local"})
    r = bad.run("serve", check=False)
    assert r.returncode == 2 and "TRUSTED_PROXIES" in r.stderr
