#!/bin/bash
# bench/threads.sh: thread-per-connection (MANDI_THREADS=0) vs the epoll
# thread pool (MANDI_THREADS=N) on a database-bound path, at 32 and 256
# connections. Used to pick the default threading mode.
source "$(dirname "$0")/lib.sh"
"$MANDI" seed >/dev/null 2>&1
ADMIN=$("$MANDI" token --sub bench-admin --role admin)
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, GET /api/ecommerce/merchants?market=US (SQLite, 100 merchants), wrk -d$DURATION"
echo "| mode | connections | req/s | p50 | p99 |"
echo "|---|---|---|---|---|"
for mode in 0 2 4 16; do
	MANDI_THREADS=$mode "$MANDI" serve 2>>"$WORK/mandi.log" &
	mandi_pid=$!
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$MANDI_PORT/health" >/dev/null && break; sleep 0.1; done
	if [ "$mode" = 0 ] && [ ! -f "$WORK/merchants.done" ]; then
		for i in $(seq 100); do
			curl -sf -H "Authorization: Bearer $ADMIN" -d "{\"name\":\"M$i\",\"code\":\"bench-$i\",\"market\":\"US\",\"integration_type\":\"api\",\"commission_rate_bps\":1000}" \
				"http://127.0.0.1:$MANDI_PORT/api/ecommerce/merchants" >/dev/null
		done
		touch "$WORK/merchants.done"
	fi
	for c in 32 256; do
		IFS='|' read -r _ rps p50 p99 err <<<"$(CONNS=$c wrk_row x "http://127.0.0.1:$MANDI_PORT/api/ecommerce/merchants?market=US&limit=20")"
		label=$([ "$mode" = 0 ] && echo "thread per connection" || echo "pool of $mode")
		echo "| $label | $c | $rps | $p50 | $p99 |${err:+ $err}"
	done
	mandi_stop
done
