#!/bin/sh
# The scaled-out pass: the API suite on PostgreSQL through nginx to two mandi
# instances sharing one database and one Redis (harness.Cluster per module).
# PostgreSQL: MANDI_TEST_PG_URL if set, else a throwaway cluster (tests/pg.sh);
# Redis: a throwaway redis-server on a free port. Stops only what it started.
build=${1:-build}
cd "$(dirname "$0")/.." || exit 1
export MANDI_BIN="$PWD/$build/mandi"
started_pg=""
if [ -z "$MANDI_TEST_PG_URL" ]; then
	# reuse a cluster someone else started (and leave it running); else start our own
	if pg_isready -q -h 127.0.0.1 -p 55432 2>/dev/null; then
		MANDI_TEST_PG_URL=postgresql://postgres@127.0.0.1:55432/postgres
	else
		MANDI_TEST_PG_URL=$(./tests/pg.sh start 55432) || { echo "PostgreSQL did not start"; exit 1; }
		started_pg=1
	fi
fi
export MANDI_TEST_PG_URL
rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rdir=$(mktemp -d)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$rdir" \
	--daemonize yes --pidfile "$rdir/redis.pid" >/dev/null || { echo "redis-server did not start"; exit 1; }
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(redis-cli -p "$rport" ping 2>/dev/null)" = PONG ] && break
	sleep 0.2
done
export MANDI_TEST_REDIS_URL="redis://127.0.0.1:$rport/0"
echo "== API suite on PostgreSQL + Redis through nginx to 2 instances"
python3 tests/api/run.py --driver pg --cluster 2 --only-shared
rc=$?
kill "$(cat "$rdir/redis.pid")" 2>/dev/null
rm -rf "$rdir"
[ -n "$started_pg" ] && [ -z "$MANDI_KEEP_PG" ] && ./tests/pg.sh stop 55432
exit $rc
