#!/bin/bash
# bench/commerce.sh: the commerce paths (issue 4).
#  1. add to cart: wrk, 100 customers x 20 products, req/s and latency;
#  2. server time of checkout: N full flows (add → start → update →
#     complete, sandbox Stripe) and N buy-now calls from one client, read
#     from the access log's per-request "us" (time inside mandi).
# Measurements, not tests: nothing here asserts a time.
# our own port: other areas run their benches on the same machine
export MANDI_PORT=${MANDI_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
source "$(dirname "$0")/lib.sh"
FLOWS=${FLOWS:-500}
# sandbox payments from one IP and one test card would trip the fraud
# velocity rules after a few orders; they are not what is measured here
export FRAUD_VELOCITY_IP=1000000 FRAUD_VELOCITY_USER=1000000 FRAUD_VELOCITY_CARD=1000000
URL="http://127.0.0.1:$MANDI_PORT"
# SQLite: every write on one pooled connection invalidates the page cache of
# the others, which then re-read pages; measured on add to cart, 2
# connections cost ~300-400 us of CPU a request, 1 costs ~200-230 us (writes
# serialise anyway). PostgreSQL wants the default pool.
[[ $DATABASE_URL == sqlite:* ]] && export MANDI_DB_POOL=${MANDI_DB_POOL:-1}

mandi_start
python3 "$BENCH_DIR/commerce_setup.py" setup "$URL" "$MANDI" "$WORK"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), ${DATABASE_URL%%:*}, MANDI_DB_POOL=${MANDI_DB_POOL:-16}, wrk -t$THREADS -c$CONNS -d$DURATION, MANDI_THREADS=${MANDI_THREADS:-0}"
echo "| path | req/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|"
out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$WORK/add.lua" "$URL")
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
echo "| POST /api/cart/add | $rps | $p50 | $p99 | ${errs:-none} |"
mandi_stop

# second run with the access log on: it records each request's server time
MANDI_ACCESS_LOG=true "$MANDI" serve 2>"$WORK/flow.log" &
mandi_pid=$!
for _ in $(seq 100); do curl -sf "$URL/health" >/dev/null && break; sleep 0.1; done
python3 "$BENCH_DIR/commerce_setup.py" flows "$URL" "$MANDI" "$FLOWS"
mandi_stop
echo
python3 "$BENCH_DIR/commerce_setup.py" report "$WORK/flow.log"
