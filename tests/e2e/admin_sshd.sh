#!/bin/sh
# shellcheck disable=SC2086 # option sets ($KBD, $KEY, ...) split into words on purpose
# Admin logins through a real OpenSSH server on loopback, driven by the real
# ssh client (expect gives it a terminal). The server runs the distro's
# sshd_config with garde's drop-in and the distro's /etc/pam.d/sshd with
# garde's lines on top: the examples of pam_garde.8 and README.md, taken
# from tests/e2e/conf/. Everything runs in a private mount namespace over
# copies of /etc, /run and /var (tests/e2e/helpers/admin_env.sh): the host's
# PAM files, sshd configuration and users are never touched.
#
# Sources: 127.0.0.1 is the LAN, 127.0.0.4 the VPN, 127.0.0.3 a LAN address
# under a deny rule (quarantine), 127.0.0.2 outside every allowed network
# (ssh -b binds the client there; Linux routes all of 127/8 to lo).
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
ROOT=$(pwd)
. tests/e2e/helpers/admin_env.sh
ADMIN_TOOLS="sshd ssh ssh-keygen expect oathtool flock"
[ -x /usr/sbin/sshd ] || admin_env_skip admin_sshd.sh "/usr/sbin/sshd missing (make deps)"
for f in "$B/garde" "$B/pam_garde.so"; do
	[ -e "$f" ] || { echo "admin_sshd.sh: $f missing (make test builds it)" >&2; exit 1; }
done
admin_env_enter admin_sshd.sh "$0" "$@"

. tests/lib.sh
D=$TEST_TMP
cleanup() {
	admin_env_stop_sshd
	cleanup_tmp
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

admin_env_setup "$D" "$ROOT/$B/pam_garde.so" || { fail "private root set up"; finish; exit 1; }
GARDE="$ROOT/$B/garde"
EXP="$ROOT/tests/e2e/helpers/login.exp"
CONF="$ROOT/tests/e2e/conf"
# The users' homes: sshd reads authorized_keys as the user.
chmod 0711 "$D"
mkdir -m 0711 "$D/home" "$D/client"
export HOME="$D/client"

cp /etc/pam.d/sshd "$D/pam.d-sshd.distro"
cat >/etc/garde/policy.conf <<'POLICY'
serial   = 1;
networks = {
  lan        = [ "127.0.0.1/32", "127.0.0.3/32" ];
  vpn        = [ "127.0.0.4/32" ];
  quarantine = [ "127.0.0.3/32" ];
};
classes  = { admin = [ "sshd", "sudo", "su", "login" ]; };
mfa      = { digits = 6; step = 30; window_past = 1; window_future = 1; remember = 0; };
lockout  = { user   = { deny = 3;  interval = 900; unlock = 900;  };
             source = { deny = 50; interval = 300; unlock = 3600; }; };
rules = (
  { name = "quarantine";    from = [ "quarantine" ]; action = "deny";
    message = "This address is quarantined."; },
  { name = "admin-offsite"; class = "admin"; not_from = [ "lan", "vpn", "local" ]; action = "deny";
    message = "Admin access is allowed only from the LAN or the VPN."; },
  { name = "admin-mfa";     class = "admin"; action = "mfa"; },
  { name = "default";       action = "deny"; }
);
POLICY
chmod 0644 /etc/garde/policy.conf
expect_status 0 "the test policy is valid" -- "$GARDE" check --policy /etc/garde/policy.conf

HEX=3132333435363738393031323334353637383930
PW='Garde-e2e-pw-1'
for u in alice bob carol dave erin frank; do
	admin_env_user "garde-test-$u" "$PW" "$D/home" || { fail "user garde-test-$u"; finish; exit 1; }
	"$GARDE" enroll "garde-test-$u" --secret "$HEX" >/dev/null ||
		{ fail "enroll garde-test-$u"; finish; exit 1; }
done
ssh-keygen -q -t ed25519 -N '' -C garde-e2e-host -f "$D/hostkey" || exit 1
ssh-keygen -q -t ed25519 -N '' -C garde-e2e-frank -f "$D/frank_key" || exit 1
mkdir -m 0700 "$D/home/garde-test-frank/.ssh"
cp "$D/frank_key.pub" "$D/home/garde-test-frank/.ssh/authorized_keys"
chmod 0600 "$D/home/garde-test-frank/.ssh/authorized_keys"
chown -R garde-test-frank: "$D/home/garde-test-frank/.ssh"

# totp [OFFSET_STEPS]: the current code (or that many steps ahead).
totp() { oathtool --totp -s 30 -N "@$(($(date +%s) + ${1:-0} * 30))" "$HEX"; }
# A code that no step of the window accepts.
wrong_code() {
	w=$(totp)
	while [ "$w" = "$(totp -1)" ] || [ "$w" = "$(totp)" ] || [ "$w" = "$(totp 1)" ]; do
		w=$(printf '%06d' $(((1${w} - 1000000 + 123457) % 1000000)))
	done
	echo "$w"
}

start_sshd() { admin_env_start_sshd "$1" "$2" "$D/hostkey" "$D/sshd.log"; }

# ssh_cmd SOURCE USER [ssh options]: the ssh command, to follow `--`.
ssh_cmd() {
	src=$1 user=$2
	shift 2
	echo ssh -F /dev/null -p "$PORT" -b "$src" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null \
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 -o IdentitiesOnly=yes \
		"$@" "$user@127.0.0.1" echo GARDE-E2E-OK
}
KBD="-o PreferredAuthentications=keyboard-interactive -o PubkeyAuthentication=no"
# login WANT DESCRIPTION CODE SOURCE USER [ssh options]
login() {
	want=$1 what=$2 code=$3 src=$4 user=$5
	shift 5
	# shellcheck disable=SC2046
	expect_status "$want" "$what" -- expect "$EXP" -code "$code" -password "$PW" -- \
		$(ssh_cmd "$src" "$user" "$@")
	[ -z "${E2E_VERBOSE:-}" ] || printf '%s\n--- exit %s\n' "$OUT" "$got"
}
# The processes sshd runs for connections (its children): none once every
# client is gone.
sshd_children() { pgrep -P "$SSHD_PID" 2>/dev/null | tr '\n' ' '; }
wait_no_children() {
	for i in $(seq 50); do
		[ -z "$(sshd_children)" ] && return 0
		sleep 0.1
	done
	return 1
}
status_json() { "$GARDE" status "$1" --json 2>/dev/null; }

# --- password and code through keyboard-interactive --------------------------
{ cat "$CONF/pam-sshd.conf" "$D/pam.d-sshd.distro"; } >"$D/pam.d-sshd.password"
start_sshd "$CONF/sshd-password-code.conf" "$D/pam.d-sshd.password" ||
	{ fail "sshd (password and code) started"; finish; exit 1; }
admin_env_events >/dev/null

code=$(totp)
login 0 "password + code from the LAN: accepted" "$code" 127.0.0.1 garde-test-alice $KBD
expect_match "$OUT" "Verification code: " "password + code: the code was asked"
expect_match "$OUT" "Password: " "password + code: the password was asked"
expect_eq "$(admin_env_events)" "" "password + code: no event"

login 1 "the same code again: refused" "$code" 127.0.0.1 garde-test-alice $KBD
ev=$(admin_env_events)
expect_eq "$(admin_env_count "$ev" '"reason":"mfa_replay"')" 1 "replay: one mfa_replay event"
expect_match "$ev" '"service":\{"name":"sshd"\}.*"rule":\{"name":"admin-mfa"' "replay: service sshd, rule admin-mfa"
expect_match "$ev" '"source":\{"ip":"127.0.0.1"\}' "replay: the source is the client's address"

# Wrong codes, lockout.user.deny = 3, from the LAN; then the right code from
# the LAN is refused (locked), and from the VPN accepted.
bad=$(wrong_code)
for i in 1 2 3; do
	login 1 "wrong code $i from the LAN: refused" "$bad" 127.0.0.1 garde-test-bob $KBD
done
ev=$(admin_env_events)
expect_eq "$(admin_env_count "$ev" '"reason":"mfa_invalid"')" 3 "wrong codes: three mfa_invalid events"
login 1 "right code from the locked zone: refused" "$(totp)" 127.0.0.1 garde-test-bob $KBD
expect_no_match "$OUT" "Verification code" "locked zone: no code is asked"
ev=$(admin_env_events)
expect_match "$ev" '"reason":"locked_user".*"zone":"lan"' "locked zone: locked_user event, zone lan"
login 0 "the same user from the VPN: accepted" "$(totp)" 127.0.0.4 garde-test-bob $KBD
expect_eq "$(admin_env_events)" "" "VPN login: no event"
expect_match "$(status_json garde-test-bob)" '"lan"' "status: the lan zone is recorded"

# A source outside every allowed network: refused by the rule, with its
# message, before any code is asked.
login 1 "from outside the allowed networks: refused" "$(totp)" 127.0.0.2 garde-test-alice $KBD
expect_match "$OUT" "Admin access is allowed only from the LAN or the VPN" "outside: the rule's message"
expect_no_match "$OUT" "Verification code" "outside: no code is asked"
ev=$(admin_env_events)
expect_match "$ev" '"reason":"policy_deny".*"rule":\{"name":"admin-offsite"' "outside: policy_deny by admin-offsite"
expect_match "$ev" '"source":\{"ip":"127.0.0.2"\}.*"zone":"elsewhere"' "outside: source 127.0.0.2, zone elsewhere"

# --- bad input: empty and huge answers, a client gone mid-prompt -------------
login 1 "empty code: refused" "@empty" 127.0.0.1 garde-test-carol $KBD
expect_match "$(admin_env_events)" '"reason":"mfa_missing"' "empty code: mfa_missing event"
login 1 "huge code (3000 digits): refused" "@huge:3000" 127.0.0.1 garde-test-carol $KBD
expect_match "$(admin_env_events)" '"reason":"mfa_invalid"' "huge code: mfa_invalid event"
login 3 "client killed at the code prompt" "@hangup" 127.0.0.1 garde-test-carol $KBD
if wait_no_children; then pass; else
	fail "client gone: sshd children still running: $(sshd_children)"
	ps -o pid,ppid,stat,etime,args --ppid "$SSHD_PID" 2>/dev/null
fi
expect_eq "$(admin_env_locks_held)" "" "client gone: no store lock held"
expect_eq "$(admin_env_events)" "" "client gone: no event (no answer, no decision)"
# Only the huge answer counted: empty and gone are not code guesses.
expect_match "$(status_json garde-test-carol)" '"failures":1[,}]' "bad input: exactly one failure counted"
login 0 "after the bad input the right code: accepted" "$(totp)" 127.0.0.1 garde-test-carol $KBD

# --- parallel attempts --------------------------------------------------------
# Six clients at once with a wrong code, deny = 3: exactly three codes are
# checked and counted, the other three are refused as locked.
bad=$(wrong_code)
pids=""
for i in 1 2 3 4 5 6; do
	# shellcheck disable=SC2046
	expect "$EXP" -code "$bad" -password "$PW" -- \
		$(ssh_cmd 127.0.0.1 garde-test-dave $KBD) >"$D/par.$i" 2>&1 &
	pids="$pids $!"
done
wait_pids() { for p in $pids; do wait "$p"; done; pids=""; }
wait_pids
refused=0
for i in 1 2 3 4 5 6; do grep -q GARDE-E2E-OK "$D/par.$i" || refused=$((refused + 1)); done
expect_eq "$refused" 6 "six parallel wrong codes: all refused"
ev=$(admin_env_events)
expect_eq "$(admin_env_count "$ev" '"reason":"mfa_invalid"')" 3 "parallel wrong codes: exactly deny=3 checked"
expect_eq "$(admin_env_count "$ev" '"reason":"locked_user"')" 3 "parallel wrong codes: the other three locked"
expect_match "$(status_json garde-test-dave)" '"failures":3[,}]' "parallel wrong codes: three failures stored"

# Four clients at once with the same right code: exactly one gets in.
code=$(totp)
for i in 1 2 3 4; do
	# shellcheck disable=SC2046
	expect "$EXP" -code "$code" -password "$PW" -- \
		$(ssh_cmd 127.0.0.1 garde-test-erin $KBD) >"$D/same.$i" 2>&1 &
	pids="$pids $!"
done
wait_pids
ok=0
for i in 1 2 3 4; do grep -q GARDE-E2E-OK "$D/same.$i" && ok=$((ok + 1)); done
expect_eq "$ok" 1 "four parallel logins with one code: exactly one accepted"
expect_eq "$(admin_env_count "$(admin_env_events)" '"reason":"mfa_replay"')" 3 \
	"four parallel logins with one code: three mfa_replay"
if wait_no_children; then pass; else fail "parallel: sshd children still running: $(sshd_children)"; fi
expect_eq "$(admin_env_locks_held)" "" "parallel: no store lock held"

# --- public key and code -----------------------------------------------------
sed '/^@include common-auth/d' "$D/pam.d-sshd.distro" |
	cat "$CONF/pam-sshd-key-code.conf" - >"$D/pam.d-sshd.key"
start_sshd "$CONF/sshd-key-code.conf" "$D/pam.d-sshd.key" ||
	{ fail "sshd (key and code) started"; finish; exit 1; }
KEY="-i $D/frank_key -o PreferredAuthentications=publickey,keyboard-interactive"
login 0 "public key + code: accepted" "$(totp)" 127.0.0.1 garde-test-frank $KEY
expect_match "$OUT" "Verification code: " "public key + code: the code was asked"
expect_no_match "$OUT" "Password: " "public key + code: no password asked"
grep -q "Partial publickey for garde-test-frank" "$D/sshd.log"
expect_eq $? 0 "public key + code: sshd took the key first (partial success)"
login 1 "public key + wrong code: refused" "$(wrong_code)" 127.0.0.1 garde-test-frank $KEY
expect_match "$(admin_env_events)" '"reason":"mfa_invalid"' "public key + wrong code: mfa_invalid"

# --- a public key alone: the account phase decides ---------------------------
# A drop-in without AuthenticationMethods lets a key alone through sshd's
# authentication; pam_garde's account phase then refuses it.
grep -v '^AuthenticationMethods' "$CONF/sshd-key-code.conf" >"$D/sshd-key-alone.conf"
start_sshd "$D/sshd-key-alone.conf" "$D/pam.d-sshd.key" ||
	{ fail "sshd (key alone) started"; finish; exit 1; }
KEYONLY="-i $D/frank_key -o PreferredAuthentications=publickey"
login 1 "public key alone, second factor required: refused" "" 127.0.0.1 garde-test-frank $KEYONLY
expect_match "$OUT" "A second factor is required" "key alone: the module's message"
ev=$(admin_env_events)
expect_match "$ev" '"reason":"mfa_missing".*"rule":\{"name":"admin-mfa"' "key alone: mfa_missing by admin-mfa"
grep -q "Access denied for user garde-test-frank by PAM account configuration" "$D/sshd.log"
expect_eq $? 0 "key alone: refused in the account phase (sshd log)"
n=$(grep -c "by PAM account configuration" "$D/sshd.log")
login 1 "public key from a quarantined source: refused" "" 127.0.0.3 garde-test-frank $KEYONLY
expect_match "$OUT" "This address is quarantined" "quarantine: the rule's message"
ev=$(admin_env_events)
expect_match "$ev" '"reason":"policy_deny".*"rule":\{"name":"quarantine"' "quarantine: policy_deny by quarantine"
expect_eq "$(grep -c "by PAM account configuration" "$D/sshd.log")" "$((n + 1))" \
	"quarantine: refused in the account phase (sshd log)"

# --- report-only: everything gets in, every would-deny is in the spool -------
sed -e 's/^serial   = 1;/serial   = 2;\nmode     = "report-only";/' /etc/garde/policy.conf \
	>"$D/policy.ro" && cat "$D/policy.ro" >/etc/garde/policy.conf
expect_status 0 "the report-only policy is valid" -- "$GARDE" check --policy /etc/garde/policy.conf
login 0 "report-only: key alone accepted" "" 127.0.0.1 garde-test-frank $KEYONLY
login 0 "report-only: key alone from quarantine accepted" "" 127.0.0.3 garde-test-frank $KEYONLY
ev=$(admin_env_events)
expect_eq "$(admin_env_count "$ev" '"action":"login-denied"')" 0 "report-only keys: nothing denied"
expect_match "$ev" '"action":"login-would-deny".*"outcome":"unknown".*"reason":"mfa_missing".*"rule":\{"name":"admin-mfa"' \
	"report-only: would-deny mfa_missing (key alone)"
expect_match "$ev" '"action":"login-would-deny".*"reason":"policy_deny".*"rule":\{"name":"quarantine"' \
	"report-only: would-deny by quarantine"
start_sshd "$CONF/sshd-password-code.conf" "$D/pam.d-sshd.password" ||
	{ fail "sshd (report-only) started"; finish; exit 1; }
login 0 "report-only: password alone from the LAN accepted" "" 127.0.0.1 garde-test-alice $KBD
expect_no_match "$OUT" "Verification code" "report-only: no code asked"
login 0 "report-only: from outside accepted" "" 127.0.0.2 garde-test-alice $KBD
login 0 "report-only: a locked user accepted" "" 127.0.0.1 garde-test-bob $KBD
ev=$(admin_env_events)
expect_eq "$(admin_env_count "$ev" '"action":"login-denied"')" 0 "report-only: nothing denied"
expect_eq "$(admin_env_count "$ev" '"action":"login-would-deny"')" 3 "report-only: three would-deny events"
expect_match "$ev" '"reason":"policy_deny".*"rule":\{"name":"admin-offsite".*"mode":"report-only"' \
	"report-only: would-deny by admin-offsite"

admin_env_stop_sshd
finish
