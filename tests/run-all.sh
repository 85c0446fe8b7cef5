#!/bin/sh
# make test: unit tests, then the API suite on SQLite and on PostgreSQL.
# PostgreSQL: MANDI_TEST_PG_URL if set, else a throwaway cluster from tests/pg.sh.
build=${1:-build}
cd "$(dirname "$0")/.." || exit 1
export MANDI_BIN="$PWD/$build/mandi"
total_p=0; total_f=0
tally() { # parse "N passed, M failed" from a log
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$1" | tail -1)
	p=$(echo "$line" | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^passed/) print $(i-1)}')
	f=$(echo "$line" | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^failed/) print $(i-1)}')
	[ -z "$line" ] && p=0 && f=1
	total_p=$((total_p + p)); total_f=$((total_f + f))
}
log=$(mktemp)

echo "== unit tests"
./tests/run-unit.sh $build/tests/* | tee "$log"; tally "$log"

echo "== API suite on SQLite"
python3 tests/api/run.py --driver sqlite | tee "$log"; tally "$log"

echo "== API suite on PostgreSQL"
started=""
if [ -z "$MANDI_TEST_PG_URL" ]; then
	# reuse a cluster someone else started (and leave it running); else start our own
	if pg_isready -q -h 127.0.0.1 -p 55432 2>/dev/null; then
		MANDI_TEST_PG_URL=postgresql://postgres@127.0.0.1:55432/postgres
	else
		MANDI_TEST_PG_URL=$(./tests/pg.sh start 55432) && started=1
	fi
fi
if [ -n "$MANDI_TEST_PG_URL" ]; then
	export MANDI_TEST_PG_URL
	python3 tests/api/run.py --driver pg | tee "$log"; tally "$log"
else
	echo "PostgreSQL unavailable: the PostgreSQL run FAILED to start"; total_f=$((total_f + 1))
fi
[ -n "$started" ] && [ -z "$MANDI_KEEP_PG" ] && ./tests/pg.sh stop 55432
rm -f "$log"
echo "== all layers"
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
