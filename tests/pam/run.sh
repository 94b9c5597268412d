#!/bin/sh
# The pam tier: build/pam_garde.so through real libpam (tests/pam/test_*.c,
# Check). Needs root (chown to nobody, a private mount namespace for the
# full-spool case). B= names the build directory (default build).
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
status=0
found=0
for t in "$B"/tests/pam_test_*; do
	[ -x "$t" ] || continue
	found=1
	"$t" "$B" || status=1
done
if [ "$found" -eq 0 ]; then
	echo "pam tier: no $B/tests/pam_test_* (run make test)" >&2
	exit 1
fi
exit $status
