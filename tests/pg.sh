#!/bin/sh
# tests/pg.sh start|stop [PORT] — a throwaway PostgreSQL cluster for the tests
# (fsync off, trust auth on 127.0.0.1). Prints the URL on start.
set -e
cmd=${1:-start}
port=${2:-55432}
dir=/tmp/mandi-pg-$port
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case $cmd in
start)
	if [ -f "$dir/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
		echo "postgresql://postgres@127.0.0.1:$port/postgres"; exit 0
	fi
	rm -rf "$dir"; mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres "$dir"
	as_pg "$bin/initdb" -D "$dir" -A trust -U postgres --no-sync >"$dir.initdb.log" 2>&1
	as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w start \
		-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" >/dev/null
	echo "postgresql://postgres@127.0.0.1:$port/postgres"
	;;
stop)
	as_pg "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$dir" "$dir.initdb.log"
	;;
esac
