"""Read replicas: a real streaming replica (a second PostgreSQL cluster made
with pg_basebackup -R) takes the catalog reads named by DATABASE_READ_URL,
while writes and read-your-writes paths stay on the primary. Pausing WAL
replay on the replica shows which server answered. Runs in the PostgreSQL
pass only; starts and stops its own two clusters on free ports."""
import glob
import os
import shutil
import subprocess
import time
import uuid

import harness
from harness import expect
from platform_fixtures import merchant, product

SHARED_SERVER = False


def pg_bin(name):
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + name))
    assert found, "PostgreSQL server binaries are not installed"
    return found[-1]


def as_pg(args, **kw):
    if os.getuid() == 0:
        args = ["runuser", "-u", "postgres", "--"] + args
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


class Cluster:
    def __init__(self, port, datadir):
        self.port, self.dir = port, datadir

    def url(self, db="postgres"):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, db)

    def start(self):
        as_pg([pg_bin("pg_ctl"), "-D", self.dir, "-l", self.dir + ".log", "-w", "start", "-o",
               "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
               % (self.port, self.dir)])

    def stop(self):
        if os.path.isdir(self.dir):
            subprocess.run((["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []) +
                           [pg_bin("pg_ctl"), "-D", self.dir, "-m", "immediate", "stop"],
                           capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        if os.path.exists(self.dir + ".log"):
            os.remove(self.dir + ".log")

    def sql(self, query, db="postgres"):
        out = subprocess.run(["psql", self.url(db), "-qAtF", "|", "-c", query], check=True,
                             capture_output=True, text=True).stdout
        return [line.split("|") for line in out.splitlines() if line]


class PrimaryDatabase(harness.Database):
    """harness.Database on our own primary (the harness' one is another server)."""

    def __init__(self, primary, name):
        self.driver = "pg"
        self.tmp = __import__("tempfile").mkdtemp(prefix="mandi-replica-")
        self.name = name
        self.url = primary.url(name)
        self.primary = primary

    def drop(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def wait_for(fn, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def similar_ids(srv, pid):
    return [x["id"] for x in expect(srv.get("/api/catalog/similar/%d?market=US&limit=50" % pid),
                                    200)["data"]]


def test_catalog_reads_are_served_by_a_streaming_replica(db):
    if db.driver != "pg":
        harness.skip("PostgreSQL only: the replica is a PostgreSQL streaming replica")
    base = "/tmp/mandi-replica-" + uuid.uuid4().hex[:8]
    primary = Cluster(harness.free_port(), base + "-primary")
    replica = Cluster(harness.free_port(), base + "-replica")
    srv = pdb = None
    try:
        os.makedirs(primary.dir)
        if os.getuid() == 0:
            shutil.chown(primary.dir, "postgres")
        as_pg([pg_bin("initdb"), "-D", primary.dir, "-A", "trust", "-U", "postgres", "--no-sync"])
        primary.start()
        as_pg([pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
               "-D", replica.dir, "-R", "-X", "stream", "--no-sync"])
        replica.start()
        assert replica.sql("SELECT pg_is_in_recovery()") == [["t"]]
        primary.sql("CREATE DATABASE mandi_r")
        wait_for(lambda: replica.sql("SELECT COUNT(*) FROM pg_database WHERE datname = 'mandi_r'")
                 == [["1"]], "the database on the replica")

        pdb = PrimaryDatabase(primary, "mandi_r")
        srv = harness.Server(pdb, env={"DATABASE_READ_URL": replica.url("mandi_r"),
                                       "VISION_SERVICE_URL": "", "CACHE_TYPE": "none"})
        srv.start()
        assert expect(srv.get("/health"), 200)["database"]["read_replicas"] > 0

        m = merchant(srv)
        p1 = product(srv, m, "Maxi dress", "dresses", None, {"US": 100})
        p2 = product(srv, m, "Mini dress", "dresses", None, {"US": 100})
        wait_for(lambda: p2 in similar_ids(srv, p1), "the replica to catch up")

        replica.sql("SELECT pg_wal_replay_pause()")
        p3 = product(srv, m, "Midi dress", "dresses", None, {"US": 100}, 10 ** 9)
        m2 = merchant(srv)  # a write, answered by the primary
        assert primary.sql("SELECT COUNT(*) FROM products WHERE id = %d" % p3, "mandi_r") == [["1"]]
        # the catalog read comes from the paused replica: the new dress is not there yet
        time.sleep(0.5)
        assert p3 not in similar_ids(srv, p1), "similar products were read from the primary"
        # read-your-writes paths use the primary: the new merchant is listed
        listed = [x["id"] for x in expect(srv.get("/api/ecommerce/merchants?market=US&limit=100"),
                                          200)["data"]]
        assert m2 in listed

        replica.sql("SELECT pg_wal_replay_resume()")
        wait_for(lambda: p3 in similar_ids(srv, p1), "replay to resume")
        assert similar_ids(srv, p1)[0] == p3
    finally:
        if srv:
            srv.stop()
        if pdb:
            pdb.drop()
        replica.stop()
        primary.stop()
