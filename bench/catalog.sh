#!/bin/bash
# bench/catalog.sh: the catalog with PRODUCTS (default 100000) demo products.
# Product detail, a filtered listing and a search against nginx serving the
# identical bytes (cache hits: the same URL again and again), then varied
# listings and searches (mostly cache misses), listings that are all
# different at one connection (the server's CPU per miss), the same fixed
# URLs with the cache off, feed import speed, seed time and resident memory.
# Measurements only: nothing here asserts a time.
source "$(dirname "$0")/lib.sh"
PRODUCTS=${PRODUCTS:-100000}
FEED_ROWS=${FEED_ROWS:-50000}

t0=$(date +%s.%N)
"$MANDI" seed --products "$PRODUCTS" >/dev/null 2>&1
seed_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

# the server runs the recommendations job as it starts: let it finish first
# (its time is reported below) so it does not share the cores with wrk
MANDI_LOG_LEVEL=debug mandi_start
base="http://127.0.0.1:$MANDI_PORT"
for _ in $(seq 600); do grep -q 'job catalog.recommendations' "$WORK/mandi.log" && break; sleep 0.5; done
job=$(grep -o 'job catalog.recommendations [a-z]* [a-z]* [0-9]* us' "$WORK/mandi.log" | head -1)
# a product sold in US, found through the listing itself
pid=$(curl -sf "$base/api/catalog/products?market=US&sort=newest&limit=1" | sed 's/.*"data":\[{"id":\([0-9]*\).*/\1/')
DETAIL="/api/catalog/products/$pid?market=US"
LISTING="/api/catalog/products?market=US&category=dresses&in_stock=true&sort=price_asc&limit=20"
SEARCH="/api/catalog/search?market=US&q=linen%20dress"
nginx_serve "$DETAIL" "$LISTING" "$SEARCH"

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $PRODUCTS products (seeded in ${seed_s}s), wrk -t$THREADS -c$CONNS -d$DURATION"
echo "| path | mandi req/s | p50 | p99 | nginx req/s | p50 | p99 | mandi/nginx |"
echo "|---|---|---|---|---|---|---|---|"
for p in "$DETAIL" "$LISTING" "$SEARCH"; do
	IFS='|' read -r _ mr m50 m99 merr <<<"$(wrk_row mandi "$base$p")"
	IFS='|' read -r _ nr n50 n99 nerr <<<"$(wrk_row nginx "http://127.0.0.1:$NGINX_PORT${p%%\?*}")"
	ratio=$(awk -v a="$mr" -v b="$nr" 'BEGIN { printf "%.0f%%", 100 * a / b }')
	echo "| GET ${p%%\?*} (cached) | $mr | $m50 | $m99 | $nr | $n50 | $n99 | $ratio |${merr:+ mandi: $merr}"
done
for s in listing search; do
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$BENCH_DIR/catalog_$s.lua" "$base")
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
	p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
	errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
	echo "| GET varied $s (catalog_$s.lua, mostly misses) | $rps | $p50 | $p99 | | | | |${errs:+ $errs}"
done
# one_conn LABEL SCRIPT: wrk at one connection with SCRIPT, a table row
# with the server's own CPU per request from /proc, which other loads on
# the box do not inflate the way they inflate latency
tick=$(getconf CLK_TCK)
one_conn() {
	local c0 c1 out n rps p50 p99 cpu
	c0=$(awk '{print $14 + $15}' /proc/"$mandi_pid"/stat)
	out=$(wrk -t1 -c1 -d"$DURATION" --latency -s "$BENCH_DIR/$2" "$base")
	c1=$(awk '{print $14 + $15}' /proc/"$mandi_pid"/stat)
	n=$(echo "$out" | awk '/requests in/ {print $1}')
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
	p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
	cpu=$(awk -v d=$((c1 - c0)) -v t="$tick" -v n="$n" 'BEGIN { printf "%.3f", n ? d * 1000 / t / n : 0 }')
	echo "| $1 | $rps | $p50 | $p99 | | | | | server CPU $cpu ms/request"
}
# every request a different listing: what a listing miss costs with the
# cache on (the columns' way)
one_conn "GET unique listings (catalog_listing_unique.lua), 1 connection" catalog_listing_unique.lua
rss=$(awk '/VmRSS/ {print $2 " " $3}' /proc/"$mandi_pid"/status)
hwm=$(awk '/VmHWM/ {print $2 " " $3}' /proc/"$mandi_pid"/status)
mandi_stop

# the same fixed paths with the cache off: what the database path costs
# (after the server's startup recommendations run, so it does not share the
# cores), then every listing and search a miss at one connection
# (the job's lease is in the database: a restart within its interval does
# not run it again, so wait for the server to go idle, not for a log line)
CACHE_TYPE=none mandi_start
idle=0
for _ in $(seq 300); do
	c0=$(awk '{print $14 + $15}' /proc/"$mandi_pid"/stat)
	sleep 1
	c1=$(awk '{print $14 + $15}' /proc/"$mandi_pid"/stat)
	if [ $((c1 - c0)) -le 5 ]; then idle=$((idle + 1)); else idle=0; fi
	[ "$idle" -ge 3 ] && break
done
for p in "$DETAIL" "$LISTING" "$SEARCH"; do
	IFS='|' read -r _ mr m50 m99 merr <<<"$(wrk_row mandi "$base$p")"
	echo "| GET ${p%%\?*} (CACHE_TYPE=none) | $mr | $m50 | $m99 | | | | |${merr:+ $merr}"
done
for s in listing search; do
	one_conn "GET varied $s, CACHE_TYPE=none, 1 connection" "catalog_$s.lua"
done
mandi_stop

# feed import: FEED_ROWS new single-variant products for the demo feed merchant
awk -v n="$FEED_ROWS" 'BEGIN {
	print "product_id,sku,name,brand,category,description,tags,size,color,stock,price_us,price_in"
	split("dresses tops bottoms shoes bags accessories", c, " ")
	for (i = 0; i < n; i++)
		printf "BF-%d,BF-%d-M,Bench Linen Shirt %d,Bench Brand %d,%s,\"Soft, breathable\",summer|linen,M,white,%d,%d,%d\n",
			i, i, i, i % 40, c[i % 6 + 1], i % 50, 1999 + i % 5000, 99900 + i % 90000
}' >"$WORK/feed.csv"
# CPU time beside wall time: on a shared box the wall time mostly measures the neighbours
feed=$(/usr/bin/time -f "%U s user + %S s sys" "$MANDI" import-feed "$WORK/feed.csv" --merchant mandi-demo-in 2>&1 |
	grep -E 'import-feed:|s user' | tr '\n' ' ')
echo
echo "- seed: $PRODUCTS products in ${seed_s}s"
echo "- recommendations job over $PRODUCTS products, both markets: ${job:-did not finish in 300 s}"
echo "- feed import ($FEED_ROWS rows into the $PRODUCTS-product database): $feed"
echo "- mandi serve resident memory after the runs above: $rss (peak $hwm)"
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
