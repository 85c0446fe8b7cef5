"""Black-box test harness: starts the real mandi binary on a free port with
its own temporary database (SQLite file, or a fresh PostgreSQL database when
MANDI_TEST_PG_URL is set) and speaks HTTP to it with http.client.

Standard library only (the machine reaches no PyPI)."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("MANDI_BIN", os.path.join(ROOT, "build", "mandi"))
JWT_SECRET = "test-secret-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Database:
    """A fresh, empty database for one server (or several sharing it)."""

    def __init__(self, driver):
        self.driver = driver
        self.tmp = tempfile.mkdtemp(prefix="mandi-test-")
        if driver == "pg":
            base = os.environ["MANDI_TEST_PG_URL"]
            self.name = "mandi_" + uuid.uuid4().hex[:12]
            subprocess.run(["psql", base, "-qAtc", "CREATE DATABASE " + self.name],
                           check=True, capture_output=True)
            self.url = base.rsplit("/", 1)[0] + "/" + self.name
        else:
            self.url = "sqlite:///" + os.path.join(self.tmp, "mandi.db")

    def sql(self, query):
        """Run SQL directly (for assertions about what was stored)."""
        if self.driver == "pg":
            out = subprocess.run(["psql", self.url, "-qAtF", "|", "-c", query],
                                 check=True, capture_output=True, text=True).stdout
        else:
            out = subprocess.run(["sqlite3", "-separator", "|", self.url[len("sqlite:///"):], query],
                                 check=True, capture_output=True, text=True).stdout
        return [line.split("|") for line in out.splitlines() if line]

    def drop(self):
        if self.driver == "pg":
            base = os.environ["MANDI_TEST_PG_URL"]
            subprocess.run(["psql", base, "-qAtc", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name],
                           capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def error(self):
        return (self.json or {}).get("error", {}).get("code")

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class Server:
    """One `mandi serve` process. Extra environment in env."""

    def __init__(self, db, env=None, seed_args=(), port=None):
        self.db = db
        self.port = port or free_port()
        self.env = dict(os.environ)
        self.env.update({
            "DATABASE_URL": db.url,
            "PORT": str(self.port),
            "JWT_SECRET": JWT_SECRET,
            "MANDI_DB_POOL": "8",
        })
        self.env.update(env or {})
        self.log_path = os.path.join(db.tmp, "server-%d.log" % self.port)
        self.seed_args = list(seed_args)
        self.proc = None
        self.local = threading.local()
        self._tokens = {}

    def run(self, *args, check=True):
        """Run a mandi subcommand against this server's database."""
        return subprocess.run([BINARY] + list(args), env=self.env, capture_output=True,
                              text=True, check=check, timeout=300)

    def start(self, seed=True):
        if seed:
            self.run("seed", *self.seed_args)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BINARY, "serve"], env=self.env, stdout=self.log,
                                     stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if self.get("/health").status in (200, 503):
                    return self
            except OSError:
                time.sleep(0.05)
            if self.proc.poll() is not None:
                raise RuntimeError("mandi exited: " + open(self.log_path).read()[-2000:])
        raise RuntimeError("mandi did not start")

    def stop(self, sig=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None

    def logs(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def token(self, sub, role="customer", merchant_id=None, ttl=None):
        key = (sub, role, merchant_id, ttl)
        if key not in self._tokens:
            args = ["token", "--sub", sub, "--role", role]
            if merchant_id:
                args += ["--merchant-id", str(merchant_id)]
            if ttl is not None:
                args += ["--ttl", str(ttl)]
            self._tokens[key] = self.run(*args).stdout.strip()
        return self._tokens[key]

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.local.conn = c
        return c

    def request(self, method, path, body=None, token=None, headers=None, raw=None, user=None,
                role="customer"):
        """Send one request on this thread's keep-alive connection.
        body: JSON-encoded; raw: bytes sent as is; user: mint a token for it."""
        h = {"Accept": "application/json"}
        if user is not None:
            token = self.token(user, role)
        if token:
            h["Authorization"] = "Bearer " + token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        for attempt in range(2):
            c = self._conn()
            try:
                c.request(method, path, body=data, headers=h)
                r = c.getresponse()
                payload = r.read().decode("utf-8", "replace")
                if r.getheader("Connection", "").lower() == "close":
                    c.close()
                    self.local.conn = None
                return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, payload)
            except (http.client.HTTPException, OSError) as e:
                c.close()
                self.local.conn = None
                # a keep-alive connection the server closed: retry once on a new one
                if attempt or isinstance(e, ConnectionRefusedError):
                    raise
        raise AssertionError("unreachable")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def admin(self):
        return self.token("admin-1", "admin")


def expect(resp, status, code=None):
    """Assert a status (and error code); return the JSON body."""
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    if code is not None:
        assert resp.error == code, "expected error %s, got %r" % (code, resp)
    if status >= 400:
        err = (resp.json or {}).get("error")
        assert err and err.get("code") and err.get("message"), "bad error shape: %r" % resp
    return resp.json


def uniq(prefix="x"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def parallel(n, fn):
    """Run fn(i) in n threads released at once; return the results in order."""
    results = [None] * n
    barrier = threading.Barrier(n)

    def work(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:  # reported by the caller's assertions
            results[i] = e

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
