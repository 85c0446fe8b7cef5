#!/bin/sh
# embed.sh OUT MIGRATION.sql... -- OPENAPI.yaml... -- WEBFILE...
# Writes a C file holding the migrations (in order), the OpenAPI document
# (fragments concatenated) and static web files, so the binary is self-contained.
set -e
out=$1; shift
hex() { od -An -v -tx1 "$@" | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; }
{
	echo '#include <stddef.h>'
	echo 'struct embedded_file { const char *name; const unsigned char *data; size_t len; };'
	n=0; names=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		echo "static const unsigned char m$n[] = {"; hex "$1"; echo "0};"
		names="$names $1"; n=$((n+1)); shift
	done
	[ "$1" = "--" ] && shift
	echo "const struct embedded_file embedded_migrations[] = {"
	i=0; for f in $names; do echo "{\"$(basename $f)\", m$i, sizeof(m$i) - 1},"; i=$((i+1)); done
	echo "{NULL, NULL, 0}};"
	api=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do api="$api $1"; shift; done
	[ "$1" = "--" ] && shift
	echo "static const unsigned char openapi[] = {"
	[ -n "$api" ] && hex $api
	echo "0};"
	echo "const struct embedded_file embedded_openapi = {\"openapi.yaml\", openapi, sizeof(openapi) - 1};"
	n=0; names=""
	for f in "$@"; do
		echo "static const unsigned char w$n[] = {"; hex "$f"; echo "0};"
		names="$names $f"; n=$((n+1))
	done
	echo "const struct embedded_file embedded_web[] = {"
	i=0; for f in $names; do echo "{\"$(basename $f)\", w$i, sizeof(w$i) - 1},"; i=$((i+1)); done
	echo "{NULL, NULL, 0}};"
} > "$out.tmp"
mv "$out.tmp" "$out"
