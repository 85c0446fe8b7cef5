#!/bin/sh
# Payments benchmark (bench/README.md, "Payments"):
#  1. payment_charge alone (C, scratch database): our own time per payment;
#  2. express checkouts in the sandbox, and 50 concurrent ones against a
#     fake live gateway that answers in 300 ms (bench/payments.py).
# Pass --driver pg (with MANDI_TEST_PG_URL) to run both on PostgreSQL.
set -e
cd "$(dirname "$0")/.."
make -s all >/dev/null
CFLAGS="-O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc $(pkg-config --cflags jansson)"
LIBS="$(pkg-config --libs libmicrohttpd jansson libjwt sqlite3 libpq libcurl openssl) -lpthread -lm"
cc $CFLAGS -I/usr/include/postgresql -o build/payment_charge_bench bench/payment_charge.c build/libmandi.a $LIBS
work=$(mktemp -d /tmp/mandi-paybench.XXXX)
trap 'rm -rf "$work"' EXIT
url="sqlite:///$work/charge.db"
case " $* " in *" --driver pg "*)
	db="mandi_paybench_$$"
	psql "$MANDI_TEST_PG_URL" -qAtc "CREATE DATABASE $db"
	trap 'psql "$MANDI_TEST_PG_URL" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; rm -rf "$work"' EXIT
	url="${MANDI_TEST_PG_URL%/*}/$db" ;;
esac
echo "# payment_charge alone, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "| measure | n | p50 ms | p95 ms | p99 ms | max ms | rate |"
echo "|---|---|---|---|---|---|---|"
./build/payment_charge_bench "$url" 2000 1
./build/payment_charge_bench "$url" 2000 4
echo
exec python3 bench/payments.py "$@"
