"""Black-box test harness: starts the real mandi binary on a free port with
its own temporary database (SQLite file, or a fresh PostgreSQL database when
MANDI_TEST_PG_URL is set) and speaks HTTP to it with http.client.

Standard library only (the machine reaches no PyPI)."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("MANDI_BIN", os.path.join(ROOT, "build", "mandi"))
JWT_SECRET = "test-secret-0123456789abcdef"


class Skip(Exception):
    """Raised by a test that does not apply to this run (e.g. PostgreSQL-only)."""


def skip(reason):
    raise Skip(reason)


def per_instance(reason):
    """Mark a test that reads one process's in-memory counters (request
    metrics before their minute flush, named-cache counters): behind nginx
    its requests are split between instances, so the cluster pass skips it
    and says why. It still runs in every single-instance pass."""
    def mark(fn):
        fn.per_instance = reason
        return fn
    return mark


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
            # the server's jobs may hold the write lock for a moment: wait
            # for it as the server's own connections do, not fail at once
            out = subprocess.run(["sqlite3", "-cmd", ".timeout 10000", "-separator", "|",
                                  self.url[len("sqlite:///"):], query],
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
        self.fixed_port = port is not None
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

    def wait_healthy(self, proc, seconds=20):
        """True once /health answers; False when proc exits or time runs out."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if self.get("/health").status in (200, 503):
                    return True
            except OSError:
                time.sleep(0.05)
            if proc.poll() is not None:
                return False
        return False

    def start(self, seed=True):
        if seed:
            self.run("seed", *self.seed_args)
        for attempt in range(3):
            self.log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([BINARY, "serve"], env=self.env, stdout=self.log,
                                         stderr=self.log)
            if self.wait_healthy(self.proc):
                return self
            if self.proc.poll() is None:
                raise RuntimeError("mandi did not start")
            log = open(self.log_path).read()
            # free_port() only found a port free a moment ago: another
            # process (an outgoing connection's ephemeral port) can take it
            if self.fixed_port or "cannot listen on port" not in log or attempt == 2:
                raise RuntimeError("mandi exited: " + log[-2000:])
            self.port = free_port()
            self.env["PORT"] = str(self.port)
            self.log_path = os.path.join(self.db.tmp, "server-%d.log" % self.port)

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


NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
{body}
    server {{
        listen 127.0.0.1:{port};
        include {dir}/mandi-locations.conf;
    }}
}}
"""


class Cluster(Server):
    """Several `mandi serve` processes on one database (and one Redis when
    MANDI_TEST_REDIS_URL is set) behind nginx, standing in for one Server:
    requests go to nginx, which spreads them round-robin, so a test's
    consecutive requests land on different instances. The nginx configuration
    is deploy/nginx.conf's upstream and locations with test ports and paths."""

    def __init__(self, db, env=None, seed_args=(), instances=2):
        env = dict(env or {})
        redis = os.environ.get("MANDI_TEST_REDIS_URL")
        base = {}
        if redis:
            # one key prefix per database: modules never see each other's entries
            base = {"CACHE_TYPE": "redis", "REDIS_URL": redis,
                    "REDIS_KEY_PREFIX": "t-" + uuid.uuid4().hex[:10] + ":"}
        # nginx is the peer of every request; X-Real-IP names the client
        base["TRUSTED_PROXIES"] = "127.0.0.1"
        base.update(env)
        super().__init__(db, env=base, seed_args=seed_args)
        self.members = [Server(db, env=base, seed_args=seed_args) for _ in range(instances)]
        # not under db.tmp (0700): nginx workers may run as nobody and buffer
        # request bodies in here
        self.nginx_dir = tempfile.mkdtemp(prefix="mandi-nginx-")
        os.chmod(self.nginx_dir, 0o777)
        self.nginx = None

    def start(self, seed=True):
        if seed:
            self.run("seed", *self.seed_args)
        for m in self.members:
            m.start(seed=False)
        deploy = open(os.path.join(ROOT, "deploy", "nginx.conf")).read()
        body = deploy.split("# --- begin http ---")[1].split("# --- end http ---")[0]
        head, rest = body.split("# instances:begin")
        body = head + "".join("server 127.0.0.1:%d;\n    " % m.port for m in self.members) + \
            rest.split("# instances:end")[1]
        locations = deploy.split("# --- begin locations ---")[1].split("# --- end locations ---")[0]
        with open(os.path.join(self.nginx_dir, "mandi-locations.conf"), "w") as f:
            f.write(locations)
        conf = os.path.join(self.nginx_dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.nginx_dir, port=self.port, body=body))
        self.nginx = subprocess.Popen(["nginx", "-p", self.nginx_dir, "-e", self.nginx_dir + "/error.log",
                                       "-c", conf, "-g", "daemon off;"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if self.wait_healthy(self.nginx):
            return self
        if self.nginx.poll() is not None:
            raise RuntimeError("nginx exited: " + self.nginx.stderr.read().decode()[-2000:])
        raise RuntimeError("nginx did not start")

    def stop(self, sig=15):
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        self.nginx = None
        for m in self.members:
            m.stop(sig)
        shutil.rmtree(self.nginx_dir, ignore_errors=True)

    def logs(self):
        return "".join(m.logs() for m in self.members)


def expect(resp, status, code=None):
    """Assert a status (and error code); return the JSON body."""
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    if code is not None:
        assert resp.error == code, "expected error %s, got %r" % (code, resp)
    if status >= 400:
        err = (resp.json or {}).get("error")
        assert err and err.get("code") and err.get("message"), "bad error shape: %r" % resp
    return resp.json


def wait_for(fn, timeout=20):
    """fn()'s first truthy value, polling every 0.2 s; fails after timeout s
    (for what a server writes behind its replies: outbox, queued analytics)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out")


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
