#!/bin/bash
# fuzz/build.sh [SECONDS]: build every fuzz/*_fuzz.c as a libFuzzer binary
# (clang, ASan + UBSan) against the library built with coverage
# (build-fuzz/libmandi.a, through the Makefile), then run each for SECONDS
# (default 0 = build only) on its
# working corpus (fuzz/corpus-NAME) and seeds (fuzz/corpus/NAME). Crashes leave crash-* files in
# fuzz/out/ and make the script fail.
#   ./fuzz/build.sh 60     # or: make fuzz FUZZ_SECONDS=60
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-0}
out=build-fuzz
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
make -s BUILD=$out CC=clang OPT="-O1 -g" SANFLAGS="-fsanitize=fuzzer-no-link $san" $out/libmandi.a
PKGS="libmicrohttpd jansson libjwt sqlite3 libpq libcurl openssl hiredis"
mkdir -p fuzz/out
for f in fuzz/*_fuzz.c; do
	name=$(basename "$f" .c)
	clang -g -O1 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -fsanitize=fuzzer $san \
		-o "$out/$name" "$f" "$out/libmandi.a" $(pkg-config --libs $PKGS) -lpthread -lm
	echo "built $out/$name"
done
[ "$secs" -gt 0 ] || exit 0
for f in fuzz/*_fuzz.c; do
	name=$(basename "$f" .c)
	# new inputs go to the working corpus (not committed); fuzz/corpus/X holds seeds
	work=fuzz/corpus-$name seeds=fuzz/corpus/${name%_fuzz}
	mkdir -p "$work"
	[ -d "$seeds" ] || seeds=""
	echo "== $name, ${secs}s"
	"$out/$name" -max_total_time="$secs" -artifact_prefix=fuzz/out/ -print_final_stats=1 "$work" $seeds 2>&1 |
		grep -E '^stat::number_of_executed_units|ERROR|SUMMARY' || true
	if ls fuzz/out/crash-* fuzz/out/leak-* fuzz/out/timeout-* >/dev/null 2>&1; then
		echo "$name: failure inputs in fuzz/out/" >&2
		exit 1
	fi
done
