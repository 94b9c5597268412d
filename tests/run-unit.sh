#!/bin/sh
# Runs each Check test binary given; fails when any fails. Check prints its
# own summary line ("100%: Checks: N, Failures: 0, Errors: 0") per binary.
status=0
for t in "$@"; do
	echo "== $(basename "$t")"
	"$t" || status=1
done
exit $status
