#!/bin/bash
# bench/scale.sh: the scaled-out deployment under 1,000 concurrent
# connections. A mixed browse/cart/checkout scenario (bench/mixed.lua: 1,000
# signed-in shoppers browsing, adding to cart and checking out with the
# sandbox gateway) through nginx (deploy/nginx.conf) to one and then two
# `mandi serve` instances sharing one PostgreSQL and one Redis.
# SCENARIO=browse runs the anonymous browse-only mix (bench/browse.lua).
# Prints a markdown table: req/s, p50/p90/p99, errors, orders placed, and the
# load average. Measurements, not tests.
#   CONNS (1000) DURATION (20s) PRODUCTS (2000) SCENARIO (mixed) POOL_SPLIT (1) BENCH_PG_URL
#   (a PostgreSQL to create a scratch database on; default: the test cluster,
#   started if needed)
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
MANDI=${MANDI:-$ROOT/build/mandi}
CONNS=${CONNS:-1000}
DURATION=${DURATION:-20s}
PRODUCTS=${PRODUCTS:-2000}
SCENARIO=${SCENARIO:-mixed}
# POOL_SPLIT=1: N instances share MANDI_DB_POOL PostgreSQL connections
# (MANDI_DB_POOL / N each) instead of MANDI_DB_POOL each
POOL_SPLIT=${POOL_SPLIT:-1}
WORK=$(mktemp -d /tmp/mandi-scale.XXXX)
chmod 755 "$WORK"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pids=(); nginx_conf=""; started_pg=""; db=""; redis_pid=""
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "$nginx_conf" ] && { nginx -p "$WORK/nginx" -c "$nginx_conf" -s stop 2>/dev/null || true; }
	[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
	[ -n "$db" ] && psql "$PG_BASE" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	[ -n "$started_pg" ] && "$ROOT/tests/pg.sh" stop 55439 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# PostgreSQL: a scratch database on the given server, or on a cluster of our own
PG_BASE=${BENCH_PG_URL:-${MANDI_TEST_PG_URL:-}}
if [ -z "$PG_BASE" ]; then
	PG_BASE=$("$ROOT/tests/pg.sh" start 55439); started_pg=1
fi
db=mandi_bench_$$
psql "$PG_BASE" -qAtc "CREATE DATABASE $db" >/dev/null
export DATABASE_URL=${PG_BASE%/*}/$db
# Redis: our own, on a free port
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" >/dev/null &
redis_pid=$!
export CACHE_TYPE=redis REDIS_URL=redis://127.0.0.1:$rport/0 MANDI_ACCESS_LOG=false
export JWT_SECRET=bench-secret-0123456789abcdef MANDI_DB_POOL=${MANDI_DB_POOL:-16}
export MANDI_MAX_CONNECTIONS=4096
# 1,000 shoppers paying from one IP with one test card would trip the fraud
# velocity rules at once; they are not what is measured
export FRAUD_VELOCITY_IP=1000000 FRAUD_VELOCITY_USER=1000000 FRAUD_VELOCITY_CARD=1000000

"$MANDI" seed --demo --products "$PRODUCTS" >"$WORK/seed.log" 2>&1
"$MANDI" jobs run-once >>"$WORK/seed.log" 2>&1
# products sold in both markets: every request of the scenario should succeed
psql "$DATABASE_URL" -qAtc "SELECT p.id FROM products p WHERE p.status = 'active' AND
	(SELECT COUNT(DISTINCT pp.market_id) FROM product_variants v JOIN product_prices pp
	 ON pp.variant_id = v.id WHERE v.product_id = p.id) = 2" >"$WORK/ids"
range="$WORK/ids"

ports=()
start_instances() { # N: start N instances; their ports go to $ports
	ports=()
	for _ in $(seq "$1"); do
		local port; port=$(free_port)
		PORT=$port MANDI_DB_POOL=$(( POOL_SPLIT ? MANDI_DB_POOL / $1 : MANDI_DB_POOL )) \
			"$MANDI" serve >>"$WORK/mandi.log" 2>&1 &
		pids+=($!)
		ports+=("$port")
	done
	for port in "${ports[@]}"; do
		for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
	done
}

stop_instances() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}

nginx_start() { # PORT INSTANCE_PORTS...: deploy/nginx.conf's sections with these ports
	local port=$1; shift
	mkdir -p "$WORK/nginx"
	chmod 777 "$WORK/nginx"
	nginx_conf=$WORK/nginx/nginx.conf
	python3 - "$ROOT/deploy/nginx.conf" "$nginx_conf" "$WORK/nginx" "$port" "$@" <<'PY'
import sys
src, dst, d, port, members = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
conf = open(src).read()
http = conf.split("# --- begin http ---")[1].split("# --- end http ---")[0]
head, rest = http.split("# instances:begin")
http = head + "".join("server 127.0.0.1:%s;\n    " % p for p in members) + rest.split("# instances:end")[1]
loc = conf.split("# --- begin locations ---")[1].split("# --- end locations ---")[0]
open(dst, "w").write("""worker_processes auto;
worker_rlimit_nofile 65536;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path %(d)s/body; proxy_temp_path %(d)s/proxy;
  fastcgi_temp_path %(d)s/fcgi; uwsgi_temp_path %(d)s/uwsgi; scgi_temp_path %(d)s/scgi;
  %(http)s
  server { listen 127.0.0.1:%(port)s backlog=4096; %(loc)s }
}
""" % dict(d=d, http=http, port=port, loc=loc))
PY
	nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$nginx_conf"
}

nginx_stop() { nginx -p "$WORK/nginx" -c "$nginx_conf" -s quit 2>/dev/null; sleep 0.5; nginx_conf=""; }

cpu_ticks() { # PIDS...: user+system CPU ticks of these processes
	local t=0
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat") ))
	done
	echo "$t"
}

if [ "$SCENARIO" = mixed ]; then
	WRK=(wrk -t2 -c"$CONNS" -d"$DURATION" --timeout 10s -s "$BENCH_DIR/mixed.lua")
	WRK_WARM=(wrk -t2 -c50 -d3s -s "$BENCH_DIR/mixed.lua")
	start_instances 1
	python3 "$BENCH_DIR/scale_setup.py" "http://127.0.0.1:${ports[0]}" "$MANDI" "$CONNS" "$WORK"
	stop_instances
	args=("$range" "$WORK/items" "$WORK/tokens" 2)
else
	WRK=(wrk -t2 -c"$CONNS" -d"$DURATION" --timeout 10s -s "$BENCH_DIR/browse.lua")
	WRK_WARM=(wrk -t2 -c50 -d3s -s "$BENCH_DIR/browse.lua")
	args=("$range")
fi

run() { # LABEL URL
	local out
	out=$("${WRK[@]}" "$2" -- "${args[@]}" | grep -E '^(RESULT|FAILURES|MIX)' | tr '\n' ' ')
	echo "$1 $out"
}

row() { # "LABEL RESULT k=v ..."
	local label=$1; shift; shift
	declare -A v; for kv in "$@"; do [[ $kv == *=* ]] && v[${kv%%=*}]=${kv#*=}; done
	local errs=$(( v[non2xx] + v[connect] + v[read] + v[write] + v[timeout] ))
	local cpu_us=$(( cpu_used * 1000000 / $(getconf CLK_TCK) / (v[requests] > 0 ? v[requests] : 1) ))
	echo "| $label | ${v[rps]} | ${v[p50_ms]} | ${v[p90_ms]} | ${v[p99_ms]} | ${v[requests]} | $errs (non-2xx ${v[non2xx]}, connect ${v[connect]}, read ${v[read]}, timeout ${v[timeout]}) | ${v[orders]:-—} | $cpu_us | $load |"
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores; ${WRK[*]:0:4}, scenario $SCENARIO (bench/$SCENARIO.lua), $PRODUCTS products, PostgreSQL + Redis; uptime before: $(uptime)"
echo "| setup | req/s | p50 ms | p90 ms | p99 ms | requests | errors | orders | mandi CPU µs/req | load (1 min, after) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
np=$(free_port)
for n in 1 2; do
	start_instances "$n"
	nginx_start "$np" "${ports[@]}"
	# warm: first requests fill the caches and the connection pools
	"${WRK_WARM[@]}" "http://127.0.0.1:$np" -- "${args[@]}" >/dev/null
	t0=$(cpu_ticks "${pids[@]}")
	result=$(run x "http://127.0.0.1:$np")
	cpu_used=$(( $(cpu_ticks "${pids[@]}") - t0 ))
	load=$(cut -d' ' -f1 /proc/loadavg)
	row "nginx → $n instance$([ "$n" = 2 ] && echo s)" $result
	[[ $result == *FAILURES* ]] && echo "  (FAILURES ${result#*FAILURES })" | sed 's/ MIX.*/)/' 
	[[ $result == *MIX* ]] && echo "  (${result#*MIX }" | sed 's/ RESULT.*/)/' 
	nginx_stop
	stop_instances
done
