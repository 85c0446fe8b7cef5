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
