#!/usr/bin/env python3
"""Runs the API suite: every tests/api/test_*.py module against a fresh
server (one per module), on the driver given by --driver (sqlite | pg).

A module may define SERVER_ENV (dict) and SEED_ARGS (list) for its server,
and opt out of the shared server with SHARED_SERVER = False (its tests then
receive the Database and start what they need).
With --cluster N each module's server is N instances on one database (and
one Redis when MANDI_TEST_REDIS_URL is set) behind nginx (harness.Cluster),
so every test runs against the scaled-out deployment; --only-shared skips
the modules that start their own processes.
Prints one line per test and a closing 'N passed, N failed' line."""
import argparse
import importlib.util
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", default="sqlite", choices=["sqlite", "pg"])
    ap.add_argument("-k", default="", help="only tests whose name contains this")
    ap.add_argument("--cluster", type=int, default=int(os.environ.get("MANDI_TEST_CLUSTER", "0")),
                    help="N > 0: each module's server is N instances on one database behind "
                         "nginx (and Redis when MANDI_TEST_REDIS_URL is set)")
    ap.add_argument("--only-shared", action="store_true",
                    help="skip modules that start their own processes (SHARED_SERVER = False)")
    ap.add_argument("modules", nargs="*")
    args = ap.parse_args()
    paths = args.modules or sorted(
        os.path.join(HERE, f) for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))
    passed = failed = skipped = 0
    failures = []
    t0 = time.time()
    for path in paths:
        mod = load(path)
        tests = [(n, getattr(mod, n)) for n in sorted(dir(mod))
                 if n.startswith("test_") and callable(getattr(mod, n)) and args.k in n]
        if not tests:
            continue
        if args.only_shared and not getattr(mod, "SHARED_SERVER", True):
            print("SKIP [%s] %s (starts its own processes)" % (args.driver, mod.__name__), flush=True)
            continue
        db = harness.Database(args.driver)
        srv = None
        try:
            if getattr(mod, "SHARED_SERVER", True) and args.cluster > 0:
                srv = harness.Cluster(db, env=getattr(mod, "SERVER_ENV", None),
                                      seed_args=getattr(mod, "SEED_ARGS", ()),
                                      instances=args.cluster).start()
            elif getattr(mod, "SHARED_SERVER", True):
                srv = harness.Server(db, env=getattr(mod, "SERVER_ENV", None),
                                     seed_args=getattr(mod, "SEED_ARGS", ())).start()
            for name, fn in tests:
                where = args.driver + ("+nginx" if args.cluster and srv else "")
                label = "[%s] %s::%s" % (where, mod.__name__, name)
                start = time.time()
                if args.cluster and srv and getattr(fn, "per_instance", None):
                    skipped += 1
                    print("SKIP %s: per instance: %s" % (label, fn.per_instance), flush=True)
                    continue
                try:
                    fn(srv if srv else db)
                    passed += 1
                    print("PASS %s (%.2fs)" % (label, time.time() - start), flush=True)
                except harness.Skip as e:
                    skipped += 1
                    print("SKIP %s: %s" % (label, e), flush=True)
                except Exception:
                    failed += 1
                    tb = traceback.format_exc()
                    failures.append((label, tb))
                    print("FAIL %s\n%s" % (label, tb), flush=True)
        except Exception:
            failed += 1
            failures.append((mod.__name__, traceback.format_exc()))
            print("FAIL [%s] %s (setup)\n%s" % (args.driver, mod.__name__, traceback.format_exc()))
        finally:
            if srv:
                srv.stop()
                bad = [m for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:")
                       if m in srv.logs()]
                if bad:
                    failed += 1
                    failures.append((mod.__name__ + " (sanitizer)", bad))
                    print("FAIL [%s] %s: sanitizer report in server log:\n%s"
                          % (args.driver, mod.__name__, srv.logs()[-6000:]))
                if failed and os.environ.get("MANDI_TEST_SHOW_LOGS"):
                    print(srv.logs()[-4000:])
            db.drop()
    mode = " through nginx to %d instances" % args.cluster if args.cluster else ""
    print("api suite (%s%s) took %.1fs" % (args.driver, mode, time.time() - t0))
    for label, _ in failures:
        print("failed: " + label)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
