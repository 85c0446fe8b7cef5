"""The OpenAPI document lists exactly the routes the server has."""
import re

from harness import expect


def openapi_operations(text):
    ops, path = set(), None
    for line in text.splitlines():
        m = re.match(r"^  (/\S*):\s*$", line)
        if m:
            path = m.group(1)
            continue
        m = re.match(r"^    (get|post|put|delete|patch):", line)
        if m and path:
            ops.add((m.group(1).upper(), path))
        elif re.match(r"^\S", line):
            path = None
    return ops


def test_docs_served_as_openapi_31(s):
    r = s.get("/api/docs")
    assert r.status == 200
    assert r.headers["content-type"].startswith("application/yaml")
    assert r.body.startswith("openapi: 3.1")


def test_route_table_and_openapi_agree(s):
    routes = set()
    for line in s.run("routes").stdout.splitlines():
        method, pattern = line.split()
        routes.add((method, pattern))
    documented = openapi_operations(s.get("/api/docs").body)
    missing = routes - documented
    extra = documented - routes
    assert not missing, "routes missing from OpenAPI: %s" % sorted(missing)
    assert not extra, "OpenAPI paths with no route: %s" % sorted(extra)
    assert len(routes) >= 5
