# mandi — one binary, two commands: `make run` and `make test`.
CC       ?= cc
PKGS      = libmicrohttpd jansson libjwt sqlite3 libpq libcurl openssl hiredis
OPT      ?= -O2 -g
CFLAGS   := $(OPT) $(SANFLAGS) -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
            -Isrc -Ibuild/gen $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I/usr/include/postgresql
LDLIBS   += $(SANFLAGS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
BUILD    ?= build

SRC      := $(sort $(wildcard src/*/*.c src/*/*/*.c))
LIBSRC   := $(filter-out src/app/main.c,$(SRC))
OBJ      := $(LIBSRC:%.c=$(BUILD)/%.o)
MIGR     := $(sort $(wildcard src/db/migrations/*.sql))
OPENAPI  := $(sort $(wildcard docs/openapi/*.yaml))
UNIT     := $(sort $(wildcard tests/unit/test_*.c))
DEB_PKGS  = build-essential pkg-config libmicrohttpd-dev libjansson-dev libjwt-dev libsqlite3-dev \
            libpq-dev libcurl4-openssl-dev libssl-dev libhiredis-dev python3 postgresql redis-server wrk nginx-light chromium

.PHONY: all run test test-cluster unit unit-bins api asan deps clean fuzz bench
all: $(BUILD)/mandi

# Installs what a fresh Debian 12 machine lacks; a no-op when everything is there.
deps:
	@./tools/deps.sh $(DEB_PKGS)

$(BUILD)/gen/embedded.c: $(MIGR) $(OPENAPI) tools/embed.sh $(wildcard web/*)
	@mkdir -p $(@D)
	./tools/embed.sh $@ $(MIGR) -- $(OPENAPI) -- $(wildcard web/*)

$(BUILD)/gen/embedded.o: $(BUILD)/gen/embedded.c
	$(CC) -c -o $@ $<

$(BUILD)/%.o: %.c $(wildcard src/*/*.h)
	@mkdir -p $(@D)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libmandi.a: $(OBJ) $(BUILD)/gen/embedded.o
	ar rcs $@ $^

$(BUILD)/mandi: $(BUILD)/src/app/main.o $(BUILD)/libmandi.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/t.h $(BUILD)/libmandi.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libmandi.a $(LDLIBS)

run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/mandi migrate
	./$(BUILD)/mandi seed --demo --if-new
	./$(BUILD)/mandi serve

unit: $(UNIT:tests/unit/%.c=$(BUILD)/tests/%)
	@./tests/run-unit.sh $^

api: all
	@./tests/run-api.sh

test: deps
	@$(MAKE) --no-print-directory all unit-bins
	@./tests/run-all.sh $(BUILD)

unit-bins: $(UNIT:tests/unit/%.c=$(BUILD)/tests/%)

# The API suite through nginx to two instances on PostgreSQL + Redis (CI).
test-cluster: deps
	@$(MAKE) --no-print-directory all
	@./tests/run-cluster.sh $(BUILD)

asan:
	$(MAKE) BUILD=build-asan CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
	    SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" test

fuzz:
	./fuzz/build.sh $${FUZZ_SECONDS:-30}

bench: all
	./bench/run.sh

clean:
	rm -rf build build-asan
