#!/bin/sh
# Run each unit-test binary; print a closing total.
p=0; f=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	echo "$out" | grep -v '^PASS' | grep -v 'passed, .* failed$'
	np=$(echo "$out" | grep -c '^PASS'); nf=$(echo "$out" | grep -c '^FAIL')
	[ $rc -ne 0 ] && [ "$nf" -eq 0 ] && nf=1 && echo "FAIL $t exited $rc"
	p=$((p + np)); f=$((f + nf))
done
echo "unit: $p passed, $f failed"
[ $f -eq 0 ]
