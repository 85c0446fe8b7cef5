#!/bin/bash
# bench/commerce_cpu.sh: mandi's own CPU time per add to cart, at 1 and at
# 32 connections (utime+stime of the server from /proc, over wrk's request
# count). Unlike req/s this barely depends on what else runs on the machine,
# so two builds can be compared while others work: MANDI=path/to/mandi.
# The carts are filled first (2 s of adds), so each answer has ~20 lines.
export MANDI_PORT=${MANDI_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
source "$(dirname "$0")/lib.sh"
export FRAUD_VELOCITY_IP=1000000 FRAUD_VELOCITY_USER=1000000 FRAUD_VELOCITY_CARD=1000000
[[ $DATABASE_URL == sqlite:* ]] && export MANDI_DB_POOL=${MANDI_DB_POOL:-1}
URL="http://127.0.0.1:$MANDI_PORT"
SECS=${SECS:-5}
mandi_start
python3 "$BENCH_DIR/commerce_setup.py" setup "$URL" "$MANDI" "$WORK"
wrk -t2 -c8 -d2s -s "$WORK/add.lua" "$URL" >/dev/null
cpu() { awk '{print $14 + $15}' "/proc/$mandi_pid/stat"; }
for c in 1 32; do
	t=$((c < 2 ? 1 : 2))
	a=$(cpu)
	out=$(wrk -t$t -c$c -d"${SECS}s" -s "$WORK/add.lua" "$URL")
	b=$(cpu)
	n=$(echo "$out" | awk '/requests in/ {print $1}')
	echo "connections $c: $n adds, $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s," \
		"$(( (b - a) * 1000000 / $(getconf CLK_TCK) / n )) us of mandi CPU per add," \
		"load $(cut -d' ' -f1 /proc/loadavg)"
done
mandi_stop
