#!/bin/sh
# Admin logins on the machine itself: the real sudo, su and login, driven
# through their prompts by expect (each gets its own terminal). The PAM
# files are the distro's with garde's line added where pam_garde.8 and
# README.md say (tests/e2e/conf/); sudoers gets a rule for the test admin.
# Everything runs in a private mount namespace over copies of /etc, /run
# and /var (tests/e2e/helpers/admin_env.sh): the host's /etc/pam.d,
# /etc/sudoers and users are never touched.
#
# sudo, su and login set no PAM_RHOST: the source is `local`, which the
# policy names in its rules.
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
ROOT=$(pwd)
. tests/e2e/helpers/admin_env.sh
ADMIN_TOOLS="sudo su login runuser expect oathtool"
for f in "$B/garde" "$B/pam_garde.so"; do
	[ -e "$f" ] || { echo "admin_sudo_su.sh: $f missing (make test builds it)" >&2; exit 1; }
done
admin_env_enter admin_sudo_su.sh "$0" "$@"

. tests/lib.sh
D=$TEST_TMP
trap cleanup_tmp EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
admin_env_setup "$D" "$ROOT/$B/pam_garde.so" || { fail "private root set up"; finish; exit 1; }
GARDE="$ROOT/$B/garde"
EXP="$ROOT/tests/e2e/helpers/login.exp"
CONF="$ROOT/tests/e2e/conf"
chmod 0711 "$D"
mkdir -m 0711 "$D/home" "$D/bin"
export HOME="$D"

cat >/etc/garde/policy.conf <<'POLICY'
serial   = 1;
networks = { lan = [ "127.0.0.1/32" ]; };
classes  = { admin = [ "sshd", "sudo", "su", "login" ]; };
mfa      = { digits = 6; step = 30; window_past = 1; window_future = 1; remember = 0; };
rules = (
  { name = "break-glass";   users = [ "garde-test-bg" ]; from = [ "local" ]; action = "allow";
    alert = true; },
  { name = "admin-local";   class = "admin"; from = [ "local" ]; action = "mfa"; },
  { name = "admin-offsite"; class = "admin"; not_from = [ "lan" ]; action = "deny"; },
  { name = "admin-mfa";     class = "admin"; action = "mfa"; },
  { name = "default";       action = "deny"; }
);
POLICY
chmod 0644 /etc/garde/policy.conf
cp /etc/garde/policy.conf "$D/policy.good"
expect_status 0 "the test policy is valid" -- "$GARDE" check --policy /etc/garde/policy.conf

# A login shell that only says it ran: what `login` and `su` start.
printf '#!/bin/sh\necho GARDE-E2E-OK\n' >"$D/bin/e2e-shell"
chmod 0755 "$D/bin/e2e-shell"
HEX=3132333435363738393031323334353637383930
PW='Garde-e2e-pw-2'
for u in adm tgt bg; do
	admin_env_user "garde-test-$u" "$PW" "$D/home" || { fail "user garde-test-$u"; finish; exit 1; }
	usermod -s "$D/bin/e2e-shell" "garde-test-$u" || exit 1
done
for u in adm tgt; do
	"$GARDE" enroll "garde-test-$u" --secret "$HEX" >/dev/null ||
		{ fail "enroll garde-test-$u"; finish; exit 1; }
done
printf 'garde-test-adm ALL=(ALL:ALL) ALL\n' >/etc/sudoers.d/garde-test
chmod 0440 /etc/sudoers.d/garde-test

# The PAM files as pam_garde.8 says: sudo and login at the top, su right
# after pam_rootok (root's su is not asked for a code).
{ cat "$CONF/pam-sudo.conf" /etc/pam.d/sudo; } >"$D/sudo" && cat "$D/sudo" >/etc/pam.d/sudo
sed "/^auth.*pam_rootok.so/r $CONF/pam-su.conf" /etc/pam.d/su >"$D/su" && cat "$D/su" >/etc/pam.d/su
grep -A2 "^auth.*pam_rootok.so" /etc/pam.d/su | grep -q "^auth *required *pam_garde.so"
expect_eq $? 0 "su: pam_garde right after pam_rootok"
{ cat "$CONF/pam-login.conf" /etc/pam.d/login; } >"$D/login" && cat "$D/login" >/etc/pam.d/login

totp() { oathtool --totp -s 30 -N "@$(($(date +%s) + ${1:-0} * 30))" "$HEX"; }
# run WANT DESCRIPTION CODE COMMAND...: one session through login.exp.
run() {
	want=$1 what=$2 code=$3
	shift 3
	expect_status "$want" "$what" -- expect "$EXP" -code "$code" -password "$PW" -- "$@"
	[ -z "${E2E_VERBOSE:-}" ] || printf '%s\n--- exit %s\n' "$OUT" "$got"
}
asked() { printf '%s\n' "$OUT" | grep -c "Verification code: "; }
admin_env_events >/dev/null

# --- sudo ---------------------------------------------------------------------
code=$(totp)
run 0 "sudo, right code: accepted" "$code" \
	runuser -u garde-test-adm -- sh -c 'sudo true && sudo echo GARDE-E2E-OK'
expect_eq "$(asked)" 1 "sudo: the code is asked once; the second sudo uses sudo's timestamp"
expect_match "$OUT" "password for garde-test-adm" "sudo: the password is asked too"
expect_eq "$(admin_env_events)" "" "sudo, right code: no event"

run 1 "sudo, the same code again: refused" "$code" \
	runuser -u garde-test-adm -- sudo -k echo GARDE-E2E-OK
ev=$(admin_env_events)
expect_match "$(asked)" '^[1-9]' "sudo replay: the code was asked"
# sudo asks again (passwd_tries): every try is refused the same way.
expect_eq "$(admin_env_count "$ev" '"reason":"mfa_replay"')" "$(asked)" "sudo replay: one mfa_replay per try"
# No rhost: the source is local, the rule that says `local` decided.
expect_match "$ev" '"service":\{"name":"sudo"\}.*"rule":\{"name":"admin-local".*"zone":"local"' \
	"sudo: a local login, matched by the rule with from = local"
expect_no_match "$ev" '"source":' "sudo: a local login has no source in its event"

run 0 "root's sudo: no code asked" "" sudo echo GARDE-E2E-OK
expect_eq "$(asked)" 0 "root's sudo: no prompt"
expect_eq "$(admin_env_events)" "" "root's sudo: no event"

# --- su -------------------------------------------------------------------------
code=$(totp)
run 0 "su to an admin, right code: accepted" "$code" \
	runuser -u garde-test-adm -- su garde-test-tgt -c true
expect_eq "$(asked)" 1 "su: the code is asked once"
run 1 "su, the same code again: refused" "$code" \
	runuser -u garde-test-adm -- su garde-test-tgt -c true
ev=$(admin_env_events)
expect_match "$ev" '"reason":"mfa_replay".*"service":\{"name":"su"\}.*"zone":"local"' \
	"su replay: mfa_replay, service su, zone local"
run 0 "root's su: no code asked" "" su garde-test-tgt -c true
expect_eq "$(asked)" 0 "root's su: no prompt"

# --- console login and the way in when the policy breaks ------------------------
run 0 "console login, admin with a code: accepted" "$(totp 1)" login garde-test-adm
expect_eq "$(asked)" 1 "console login: the code is asked"
run 0 "console login, break-glass account: password alone" "" login garde-test-bg
expect_eq "$(asked)" 0 "break-glass: no code asked"
ev=$(admin_env_events)
expect_match "$ev" '"action":"login-alert".*"outcome":"success".*"rule":\{"name":"break-glass"' \
	"break-glass: an alert event names the rule"

# A policy that no longer parses: sudo (failmode=secure, the default) refuses,
# the console (failmode=safe) still lets an admin in with the password.
printf 'serial = 2;\nrules = ( { name = "x"; action = "alow"; } );\n' >/etc/garde/policy.conf
run 1 "broken policy: sudo refused" "$(totp 1)" \
	runuser -u garde-test-adm -- sudo -k echo GARDE-E2E-OK
expect_match "$(admin_env_events)" '"reason":"policy_unavailable".*"outcome":"failure"|"outcome":"failure".*"reason":"policy_unavailable"' \
	"broken policy, sudo: policy_unavailable"
run 0 "broken policy: console login with the password alone" "" login garde-test-adm
expect_eq "$(asked)" 0 "broken policy, console: no code asked"
expect_match "$(admin_env_events)" '"outcome":"unknown".*"reason":"policy_unavailable"' \
	"broken policy, console: policy_unavailable, not enforced"
cat "$D/policy.good" >/etc/garde/policy.conf

finish
