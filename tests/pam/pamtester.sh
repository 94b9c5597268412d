#!/bin/sh
# The pam tier through an external client: pamtester, with pam_wrapper
# (LD_PRELOAD=libpam_wrapper.so) reading the service from a temporary
# directory instead of /etc/pam.d. The code is fed on pamtester's stdin,
# as a user would type it.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
B=${B:-build}

if ! command -v pamtester >/dev/null 2>&1 || ! command -v oathtool >/dev/null 2>&1; then
	skip "pamtester or oathtool missing (make deps)"
fi
WRAPPER=$(for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib "$(dirname "$(cc -print-file-name=libc.so.6 2>/dev/null)")"; do
	[ -e "$d/libpam_wrapper.so" ] && echo "$d/libpam_wrapper.so" && break; done)
if [ -z "$WRAPPER" ]; then
	skip "libpam_wrapper.so missing (make deps)"
fi
ROOT=$(pwd)
MODULE=$ROOT/$B/pam_garde.so
EXPECT=$ROOT/$B/tests/pam_expect_authtok.so
HELPER=$ROOT/$B/tests/pam_test_pam
for f in "$MODULE" "$EXPECT" "$HELPER"; do
	[ -e "$f" ] || { echo "pamtester.sh: $f missing (make test builds it)" >&2; exit 1; }
done

D=$TEST_TMP
mkdir -m 0755 "$D/svc"
cat >"$D/policy.conf" <<POLICY
serial = 3;
networks = { evil = [ "198.51.100.0/24" ]; };
classes = { admin = [ "garde-pt", "garde-pt-suffix" ]; };
rules = (
  { name = "evil-net"; from = [ "evil" ]; action = "deny"; message = "Refused from here."; },
  { name = "admin-mfa"; class = "admin"; action = "mfa"; }
);
POLICY
chmod 0644 "$D/policy.conf"
ARGS="policy=$D/policy.conf store=$D/store spool=$D/spool"
printf 'auth required %s %s\naccount required %s %s\n' "$MODULE" "$ARGS" "$MODULE" "$ARGS" \
	>"$D/svc/garde-pt"
printf 'auth requisite %s %s mode=suffix\nauth required %s expect=s3cret\naccount required %s %s\n' \
	"$MODULE" "$ARGS" "$EXPECT" "$MODULE" "$ARGS" >"$D/svc/garde-pt-suffix"

SECRET=12345678901234567890
HEX=3132333435363738393031323334353637383930
"$HELPER" --enroll "$D/store" root "$SECRET" || exit 1

# pamtester SERVICE USER OPS... with stdin as the answers
pt() {
	LD_PRELOAD=$WRAPPER PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$D/svc" pamtester "$@"
}
events() { cat "$D"/spool/new/*.json 2>/dev/null; rm -f "$D"/spool/new/*.json; }

code=$(oathtool --totp -s 30 "$HEX")
OUT=$(echo "$code" | pt garde-pt root authenticate acct_mgmt 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 0 "right code: pamtester exit status"
expect_match "$OUT" "successfully authenticated" "right code: authenticated"
expect_match "$OUT" "Verification code" "right code: the prompt was shown"
expect_eq "$(events)" "" "right code: no event"

OUT=$(echo "$code" | pt garde-pt root authenticate 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 1 "replayed code refused"
expect_match "$(events)" '"reason":"mfa_replay"' "replayed code: mfa_replay event"

OUT=$(echo "12345x" | pt garde-pt root authenticate 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 1 "non-digit code refused"
expect_match "$(events)" '"reason":"mfa_invalid"' "non-digit code: mfa_invalid event"

OUT=$(pt garde-pt root acct_mgmt </dev/null 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 1 "account without a factor refused"
expect_match "$OUT" "second factor is required" "account without a factor: message shown"
expect_match "$(events)" '"reason":"mfa_missing"' "account without a factor: mfa_missing event"

OUT=$(pt -I rhost=198.51.100.7 garde-pt root authenticate </dev/null 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 1 "policy deny refused"
expect_match "$OUT" "Refused from here" "policy deny: rule message shown"
expect_match "$(events)" '"rule":\{"name":"evil-net"' "policy deny: event names the rule"

# suffix mode: password + code in one answer; the next module sees the
# password. Enrolling again resets the last accepted step (no waiting for
# the next one).
"$HELPER" --enroll "$D/store" root "$SECRET" || exit 1
code2=$(oathtool --totp -s 30 "$HEX")
OUT=$(echo "s3cret$code2" | pt garde-pt-suffix root authenticate 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 0 "suffix mode: password + code accepted, password passed on intact"
OUT=$(echo "s3cre7$code2" | pt garde-pt-suffix root authenticate 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 1 "suffix mode: wrong password half refused by the next module"

finish
