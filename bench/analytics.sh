#!/bin/sh
# Analytics benchmarks (bench/README.md, "Analytics"):
#  0. metrics_observe() alone, ns per call;
#  1. metrics middleware cost: GET /api/catalog/products/{id} (cached) with
#     PERFORMANCE_MONITORING=true vs false, alternating runs;
#  2. dashboard, funnel and insights reads with EVENTS events loaded through
#     the API (default 1,000,000).
# SQLite by default; BENCH_PG_URL=postgresql://…/postgres runs on PostgreSQL.
# Prints a table; no pass/fail.
set -e
cd "$(dirname "$0")/.."
BIN=./build/mandi
EVENTS=${EVENTS:-1000000}
DUR=${DUR:-10}
RUNS=${RUNS:-3}
PORT=${PORT:-5890}
tmp=$(mktemp -d)
export JWT_SECRET=bench-secret-0123456789abcdef MANDI_ACCESS_LOG=false PORT
if [ -n "$BENCH_PG_URL" ]; then
	name=mandi_bench_$$
	psql "$BENCH_PG_URL" -qAtc "CREATE DATABASE $name"
	export DATABASE_URL="${BENCH_PG_URL%/*}/$name"
else
	export DATABASE_URL="sqlite:///$tmp/bench.db"
fi
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$BENCH_PG_URL" ] && psql "$BENCH_PG_URL" -qAtc "DROP DATABASE IF EXISTS $name WITH (FORCE)"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

start() { # env assignments...
	env "$@" ANALYTICS_EVENTS_PER_MINUTE=1000000 $BIN serve >>"$tmp/server.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && return; sleep 0.1; done
	echo "server did not start"; cat "$tmp/server.log"; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
rps() { wrk -t2 -c32 -d"${DUR}s" "$@" | awk '/Requests\/sec/ {print $2}'; }

echo "== 0. the metrics hook alone"
cc -O2 -std=c17 -D_GNU_SOURCE -Isrc -o "$tmp/metrics_observe" bench/metrics_observe.c build/libmandi.a \
	$(pkg-config --libs libmicrohttpd jansson libjwt sqlite3 libpq libcurl openssl hiredis) -lpthread -lm
"$tmp/metrics_observe"

$BIN seed >/dev/null 2>&1
TOKEN=$($BIN token --sub bench --role admin)
# one product to read (the demo catalog generator belongs to the catalog area)
start
api() { curl -sf -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" "$@"; }
mid=$(api -d '{"name":"Bench","code":"bench","market":"US","integration_type":"api","commission_rate_bps":1000}' \
	"http://127.0.0.1:$PORT/api/ecommerce/merchants" | sed 's/^{"id":\([0-9]*\).*/\1/')
prod=$(api -d '{"merchant_id":'"$mid"',"name":"Linen Summer Dress","brand":"Zara","category":"dresses","description":"Breezy linen dress","tags":["summer"],"variants":[{"sku":"BENCH-1","size":"M","color":"blue","stock":25,"prices":{"US":4999,"IN":249900}}]}' \
	"http://127.0.0.1:$PORT/api/catalog/products" | sed 's/^{"id":\([0-9]*\).*/\1/')
stop
URL="http://127.0.0.1:$PORT/api/catalog/products/$prod?market=US"

READ_CONNS=${READ_CONNS:-1}
[ "${SKIP_MIDDLEWARE:-0}" = 1 ] && RUNS=0
echo "== 1. metrics middleware: $URL, wrk -t2 -c32 -d${DUR}s, $RUNS alternating runs"
on_all=; off_all=
for i in $(seq "$RUNS"); do
	start PERFORMANCE_MONITORING=true; curl -s "$URL" >/dev/null; on=$(rps "$URL"); stop
	start PERFORMANCE_MONITORING=false; curl -s "$URL" >/dev/null; off=$(rps "$URL"); stop
	echo "run $i: monitoring on $on req/s, off $off req/s"
	on_all="$on_all $on"; off_all="$off_all $off"
done
[ "$RUNS" -gt 0 ] && echo "$on_all" "|" "$off_all" | awk '{ n=0; s1=0; s2=0; for (i=1;i<=NF;i++) { if ($i=="|") { n=i; continue } if (!n) s1+=$i; else s2+=$i }
	k=n-1; printf "mean: on %.0f req/s, off %.0f req/s, cost %.2f %%\n", s1/k, s2/k, (s2/k - s1/k) / (s2/k) * 100 }'

echo "== 2. dashboard reads with $EVENTS events, wrk -t1 -c$READ_CONNS -d${DUR}s"
start
python3 bench/analytics_load.py "$PORT" "$EVENTS" 4
for path in "/api/analytics/ecommerce/dashboard?period=monthly" \
	    "/api/analytics/ecommerce/dashboard?period=daily&market=IN" \
	    "/api/analytics/ecommerce/conversion-funnel?period=weekly" \
	    "/api/analytics/behavior/insights?period=weekly"; do
	out=$(wrk -t1 -c"$READ_CONNS" -d"${DUR}s" --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$path")
	echo "$path: $(echo "$out" | awk '/Requests\/sec/ {r=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} END {printf "%s req/s, p50 %s, p99 %s", r, p50, p99}')"
done
stop
