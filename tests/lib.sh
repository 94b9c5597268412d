# tests/lib.sh - assertions for the shell test tiers. Source it; call
# `finish` last: it prints "N passed, M failed" and sets the exit status.
PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }

# expect_status WANT DESCRIPTION -- COMMAND...: the command exits WANT.
# Its stdout and stderr are kept in $OUT and $ERR.
expect_status() {
	want=$1 what=$2
	shift 3
	OUT=$("$@" 2>"$TMP_ERR") && got=0 || got=$?
	ERR=$(cat "$TMP_ERR")
	if [ "$got" -eq "$want" ]; then pass; else
		fail "$what: exit $got, want $want"; printf '  stdout: %s\n  stderr: %s\n' "$OUT" "$ERR"
	fi
}

# expect_match TEXT REGEX DESCRIPTION
expect_match() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then pass; else
		fail "$3: no match for /$2/ in:"; printf '%s\n' "$1" | sed 's/^/    /'
	fi
}

expect_no_match() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		fail "$3: unexpected match for /$2/ in:"; printf '%s\n' "$1" | sed 's/^/    /'
	else pass; fi
}

expect_eq() {
	if [ "$1" = "$2" ]; then pass; else fail "$3: got '$1', want '$2'"; fi
}

# skip REASON: a test that cannot run here is not a pass. Outside CI it says
# so and exits 0; under CI (CI set and not "false") it fails, because CI's
# machine is set up by `make deps` and must run every test.
skip() {
	if [ -n "${CI:-}" ] && [ "${CI}" != "false" ]; then
		echo "$(basename "$0"): FAIL: cannot run: $1"
		echo "$(basename "$0"): 0 passed, 1 failed"
		exit 1
	fi
	echo "$(basename "$0"): SKIP (not counted): $1"
	exit 0
}

finish() {
	echo "$(basename "$0"): $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

TEST_TMP=$(mktemp -d /tmp/garde-test.XXXXXX)
TMP_ERR=$TEST_TMP/stderr
chmod 700 "$TEST_TMP"
cleanup_tmp() { rm -rf "$TEST_TMP"; }
trap cleanup_tmp EXIT INT TERM
