#!/bin/sh
# Every test tier that exists, in order: unit (Check), cli (the garde
# command), docs (man pages), pam (real libpam),
# e2e (real servers on loopback). Runs all tiers even when one fails, then
# fails if any did.
cd "$(dirname "$0")/.." || exit 1
failed=""

echo "=== unit tests"
sh tests/run-unit.sh build/tests/test_* || failed="$failed unit"

for tier in cli docs pam e2e; do
	for t in tests/$tier/*.sh; do
		[ -e "$t" ] || continue
		echo "=== $tier: $(basename "$t")"
		sh "$t" || failed="$failed $tier/$(basename "$t")"
	done
done

if [ -n "$failed" ]; then
	echo "FAILED:$failed"
	exit 1
fi
echo "all test tiers passed"
