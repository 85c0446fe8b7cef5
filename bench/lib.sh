#!/bin/bash
# Shared helpers for the bench scripts: start mandi on a scratch database,
# serve the same bytes with nginx, run wrk, print a table row.
# Benchmarks are measurements, not tests: nothing here asserts a time.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
MANDI=${MANDI:-$ROOT/build/mandi}
WORK=${BENCH_WORK:-$(mktemp -d /tmp/mandi-bench.XXXX)}
MANDI_PORT=${MANDI_PORT:-5990}
NGINX_PORT=${NGINX_PORT:-5991}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
export JWT_SECRET=${JWT_SECRET:-bench-secret-0123456789abcdef}
export DATABASE_URL=${DATABASE_URL:-sqlite:///$WORK/mandi.db}
export PORT=$MANDI_PORT MANDI_ACCESS_LOG=${MANDI_ACCESS_LOG:-false}

mandi_pid=""; nginx_up=""
bench_cleanup() {
	[ -n "$mandi_pid" ] && kill "$mandi_pid" 2>/dev/null && wait "$mandi_pid" 2>/dev/null || true
	[ -n "$nginx_up" ] && nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -s stop 2>/dev/null || true
}
trap bench_cleanup EXIT

# mandi_start [seed args...]: seed the scratch database and serve it
mandi_start() {
	"$MANDI" seed "$@" >/dev/null 2>&1
	"$MANDI" serve 2>"$WORK/mandi.log" &
	mandi_pid=$!
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$MANDI_PORT/health" >/dev/null && return 0; sleep 0.1; done
	echo "mandi did not start" >&2; cat "$WORK/mandi.log" >&2; return 1
}

mandi_stop() { kill "$mandi_pid"; wait "$mandi_pid" || true; mandi_pid=""; }

# nginx_serve PATH...: capture mandi's exact response body for each path and
# let nginx serve those bytes at the same path (the reference server)
nginx_serve() {
	mkdir -p "$WORK/nginx/files" "$WORK/nginx/logs"
	local locs="" i=0
	for p in "$@"; do
		i=$((i + 1))
		curl -sf "http://127.0.0.1:$MANDI_PORT$p" >"$WORK/nginx/files/$i.json"
		locs="$locs location = ${p%%\?*} { default_type application/json; alias $WORK/nginx/files/$i.json; }"
	done
	cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes auto;
error_log $WORK/nginx/logs/error.log;
pid $WORK/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000; sendfile on; open_file_cache max=64 inactive=60s; open_file_cache_valid 60s;
  server { listen 127.0.0.1:$NGINX_PORT; $locs }
}
CONF
	chmod -R a+rX "$WORK"
	nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
	nginx_up=1
}

# wrk_row LABEL URL: run wrk and print "| label | req/s | p50 | p99 |"
wrk_row() {
	local label=$1 url=$2 out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url")
	local rps p50 p99 errs
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
	p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
	errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
	echo "$label|$rps|$p50|$p99|$errs"
}
