#!/bin/bash
# fuzz/build.sh [SECONDS]: build every fuzz/*_fuzz.c as a libFuzzer binary
# (clang, ASan + UBSan) against the library sources, then run each for
# SECONDS (default 0 = build only). Crashes leave crash-* files in fuzz/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-0}
out=build-fuzz
mkdir -p "$out" fuzz/out
make -s BUILD=build all >/dev/null   # generates build/gen/embedded.c
PKGS="libmicrohttpd jansson libjwt sqlite3 libpq libcurl openssl"
[ -f /usr/include/hiredis/hiredis.h ] && pkg-config --exists hiredis && PKGS="$PKGS hiredis"
CFLAGS="-g -O1 -std=c17 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Isrc -Ibuild/gen $(pkg-config --cflags $PKGS) -I/usr/include/postgresql"
LIBS="$(pkg-config --libs $PKGS) -lpthread -lm"
srcs=$(find src -name '*.c' ! -path src/app/main.c | sort)
for f in fuzz/*_fuzz.c; do
	name=$(basename "$f" .c)
	clang $CFLAGS -o "$out/$name" "$f" $srcs build/gen/embedded.c $LIBS
	echo "built $out/$name"
done
if [ "$secs" -gt 0 ]; then
	for f in fuzz/*_fuzz.c; do
		name=$(basename "$f" .c)
		mkdir -p "fuzz/corpus-$name"
		seeds=""; [ -d "fuzz/seeds/$name" ] && seeds="fuzz/seeds/$name"
		"$out/$name" -max_total_time="$secs" -artifact_prefix=fuzz/out/ -print_final_stats=0 \
			"fuzz/corpus-$name" $seeds 2>&1 | tail -1
	done
fi
