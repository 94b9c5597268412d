#!/bin/sh
# garde check and garde explain, as an administrator runs them.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
G=${GARDE:-build/garde}

# check: every shipped policy is valid, with its one-line summary.
for p in policies/*.conf; do
	cp "$p" "$TEST_TMP/p.conf"; chmod 600 "$TEST_TMP/p.conf"
	expect_status 0 "check $p" -- $G check --policy "$TEST_TMP/p.conf"
	expect_match "$OUT" "ok: serial [0-9]+, [0-9]+ rules?, [0-9]+ networks?" "summary of $p"
done
expect_status 0 "check the embedded policy" -- $G check --policy @default

# check: every error, one line each, FILE:LINE: message, exit 1.
cat > "$TEST_TMP/bad.conf" <<'POL'
serial = 3;
networks = { lan = [ "10.20.0.1/16" ]; };
rules = (
  { name = "a"; acton = "deny"; action = "deny"; },
  { name = "a"; action = "permit"; }
);
POL
chmod 600 "$TEST_TMP/bad.conf"
expect_status 1 "check a bad policy" -- $G check --policy "$TEST_TMP/bad.conf"
expect_match "$ERR" "^$TEST_TMP/bad.conf:2: .*10.20.0.1/16 has host bits set; did you mean 10.20.0.0/16\?" "host bits"
expect_match "$ERR" "^$TEST_TMP/bad.conf:4: unknown key 'acton'" "unknown key"
expect_match "$ERR" "^$TEST_TMP/bad.conf:5: .*duplicate rule name 'a'" "duplicate"
expect_match "$ERR" "^$TEST_TMP/bad.conf:5: .*unknown action 'permit'" "unknown action"
expect_match "$ERR" "4 errors; the policy was not accepted" "error count"
expect_eq "$OUT" "" "nothing on stdout for a bad policy"

# check: unsafe permissions, missing file, expired policy.
cp policies/baseline.conf "$TEST_TMP/gw.conf"; chmod 664 "$TEST_TMP/gw.conf"
expect_status 1 "group-writable policy" -- $G check --policy "$TEST_TMP/gw.conf"
expect_match "$ERR" "gw.conf.*writable by group or other" "group-writable message"
expect_status 1 "missing policy" -- $G check --policy "$TEST_TMP/none.conf"
{ echo 'expires = "2020-01-01T00:00:00Z";'; cat policies/baseline.conf; } > "$TEST_TMP/old.conf"
chmod 600 "$TEST_TMP/old.conf"
expect_status 1 "expired policy" -- $G check --policy "$TEST_TMP/old.conf"
expect_match "$ERR" "expired at 2020-01-01T00:00:00Z" "expired message"
expect_status 2 "check with a stray argument" -- $G check extra
expect_status 0 "check --help" -- $G check --help
expect_match "$OUT" "usage: garde check" "check help"

# explain --json: the fields the issue names, for a deny and an mfa.
E="$G explain --policy @default --groups staff --at 2026-11-30T10:00:00Z"
expect_status 0 "explain admin from outside" -- $E --user alice --service sshd --rhost 203.0.113.9 --json
expect_match "$OUT" '^\{"decision":"deny",' "json decision deny"
expect_match "$OUT" '"rule":"admin-offsite","reason":"policy_deny","class":"admin","zone":"elsewhere"' "json rule/reason/class/zone"
expect_match "$OUT" '"report_only":\[\]' "json report_only empty"
python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["decision"]=="deny" and d["trace"][0]=={"rule":"break-glass","failed":"users"}' <<JSON && pass || fail "json parses and carries the trace"
$OUT
JSON
expect_status 0 "explain admin from the LAN" -- $E --user alice --service sshd --rhost 10.20.1.15 --json
expect_match "$OUT" '"rule":"admin-mfa".*"app_password":false,"remember":0,' "admin: no app password, a code every time"
expect_status 0 "explain mail from a cafe" -- $E --user bob --service dovecot --rhost 198.51.100.23 --json
expect_match "$OUT" '"rule":"mail-offsite".*"app_password":true,"remember":43200,' "mail: app passwords, remembered 12 h"
expect_status 0 "explain mail at night from LAN" -- $G explain --policy @default --groups staff \
	--at 2026-11-30T22:30:00Z --user bob --service dovecot --rhost 10.20.3.40 --json
expect_match "$OUT" '"decision":"allow".*"report_only":\[\{"rule":"mail-night-watch","decision":"deny"\}\]' "report-only listed"
expect_status 0 "explain with no rule matching" -- $E --user x --service ftp --rhost 10.20.1.1 --json
expect_match "$OUT" '"decision":"deny","would":"deny","mode":"enforce","rule":"default-deny"' "default deny rule"
cat > "$TEST_TMP/norule.conf" <<'POL'
serial = 1;
rules = ( { name = "only-root"; users = [ "root" ]; action = "allow"; } );
POL
chmod 600 "$TEST_TMP/norule.conf"
expect_status 0 "implicit deny" -- $G explain --policy "$TEST_TMP/norule.conf" --user bob --service sshd --groups x --json
expect_match "$OUT" '"decision":"deny",.*"rule":null,"reason":"no_rule"' "implicit deny json"
expect_status 0 "explain text" -- $E --user alice --service sshd --rhost 10.20.1.15
expect_match "$OUT" "^decision: +mfa" "text decision"
expect_match "$OUT" "admin-offsite +no: not_from does not hold" "text trace names the failed condition"
cp policies/report-only.conf "$TEST_TMP/ro.conf"; chmod 600 "$TEST_TMP/ro.conf"
expect_status 0 "report-only policy" -- $G explain --policy "$TEST_TMP/ro.conf" --user a --service sshd --rhost 203.0.113.9 --groups g --json
expect_match "$OUT" '"decision":"allow","would":"deny","mode":"report-only"' "report-only mode allows and says what it would do"

# explain: bad input is refused with exit 2, never a crash.
long=$(head -c 1100 /dev/zero | tr '\0' 'a')
expect_status 2 "1 KiB user" -- $E --user "$long" --service sshd
expect_match "$ERR" "longer than 1024 bytes" "oversize user message"
expect_status 2 "1 KiB rhost" -- $E --user a --service sshd --rhost "$long"
expect_status 2 "bad --at" -- $E --user a --service sshd --at yesterday
expect_status 2 "missing --service" -- $G explain --policy @default --user a
expect_status 2 "invalid policy" -- $G explain --policy "$TEST_TMP/bad.conf" --user a --service sshd
expect_status 0 "host name rhost is unknown, not resolved" -- $E --user alice --service sshd --rhost localhost --json
expect_match "$OUT" '"zone":"elsewhere".*"source":"unknown"' "host name is unknown"
expect_status 0 "no --groups: NSS lookup of root" -- $G explain --policy @default --user root --service sshd --json
expect_match "$OUT" '"groups":\["root"' "NSS groups of root"
expect_status 2 "unknown command" -- $G frobnicate
expect_status 0 "top-level help" -- $G --help
expect_match "$OUT" "explain" "help lists explain"
finish
