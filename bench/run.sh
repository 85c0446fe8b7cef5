#!/bin/bash
# bench/run.sh: foundation paths, mandi vs nginx serving the identical bytes.
# Prints a markdown table (req/s, p50, p99, ratio to nginx).
source "$(dirname "$0")/lib.sh"
PATHS=(/api/ecommerce/markets /health)
mandi_start
nginx_serve "${PATHS[@]}"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, wrk -t$THREADS -c$CONNS -d$DURATION, MANDI_THREADS=${MANDI_THREADS:-0}"
echo "| path | mandi req/s | p50 | p99 | nginx req/s | p50 | p99 | mandi/nginx |"
echo "|---|---|---|---|---|---|---|---|"
for p in "${PATHS[@]}"; do
	IFS='|' read -r _ mr m50 m99 merr <<<"$(wrk_row mandi "http://127.0.0.1:$MANDI_PORT$p")"
	IFS='|' read -r _ nr n50 n99 nerr <<<"$(wrk_row nginx "http://127.0.0.1:$NGINX_PORT$p")"
	ratio=$(awk -v a="$mr" -v b="$nr" 'BEGIN { printf "%.0f%%", 100 * a / b }')
	echo "| GET $p | $mr | $m50 | $m99 | $nr | $n50 | $n99 | $ratio |${merr:+ mandi: $merr}${nerr:+ nginx: $nerr}"
done
