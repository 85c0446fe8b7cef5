#!/bin/sh
# Payments benchmark: sandbox cost per payment, and 50 concurrent payments
# against a fake live gateway that answers in 300 ms. See bench/README.md.
set -e
cd "$(dirname "$0")/.."
make -s all >/dev/null
exec python3 bench/payments.py "$@"
