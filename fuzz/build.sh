#!/bin/sh
# Build the libFuzzer drivers with clang (ASan + UBSan) against the parser's
# sources only — the feed parser needs no database.
#   ./fuzz/build.sh && ./build-fuzz/feed_fuzz -max_total_time=60 fuzz/corpus/feed
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-build-fuzz}
CC=${CC:-clang}
mkdir -p "$OUT"
$CC -g -O1 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	fuzz/feed_fuzz.c src/catalog/feed.c src/catalog/rules.c \
	src/core/arena.c src/core/buf.c src/core/jw.c src/core/jsonin.c src/core/strconv.c \
	src/core/mem.c src/core/error.c src/core/strmap.c \
	$(pkg-config --cflags --libs jansson) -o "$OUT/feed_fuzz"
echo "built $OUT/feed_fuzz"
