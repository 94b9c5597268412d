#!/bin/sh
# The last part of `make demo`: a real admin ssh login, refused from outside
# the allowed networks and accepted from the LAN with a code. A real sshd
# and the real ssh client on loopback, with the configuration of
# pam_garde(8) "Admin logins", inside a private mount namespace over copies
# of /etc, /run and /var (tests/e2e/helpers/admin_env.sh): nothing on the
# host changes. Needs root and `make deps`; otherwise it says how to run it.
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
ROOT=$(pwd)
. tests/e2e/helpers/admin_env.sh
ADMIN_TOOLS="sshd ssh ssh-keygen expect oathtool"
# Not a test: a missing piece is a note, never a failure (even in CI).
admin_env_skip() {
	echo "(skipped: $2; as root after 'make deps', 'make demo' shows it;"
	echo " README.md 'Admin logins' says how to run the end-to-end tests)"
	exit 0
}
[ -x /usr/sbin/sshd ] || admin_env_skip demo "/usr/sbin/sshd missing"
admin_env_enter demo "$0" "$@"

D=$(mktemp -d /tmp/garde-demo.XXXXXX) || exit 1
trap 'admin_env_stop_sshd; rm -rf "$D"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
admin_env_setup "$D" "$ROOT/$B/pam_garde.so" || exit 1
chmod 0711 "$D"
mkdir -m 0711 "$D/home"
export HOME="$D"

cat >/etc/garde/policy.conf <<'POLICY'
serial   = 1;
networks = { lan = [ "127.0.0.1/32" ]; };
classes  = { admin = [ "sshd", "sudo", "su", "login" ]; };
rules = (
  { name = "admin-offsite"; class = "admin"; not_from = [ "lan", "local" ]; action = "deny";
    message = "Admin access is allowed only from the LAN."; },
  { name = "admin-mfa";     class = "admin"; action = "mfa"; }
);
POLICY
chmod 0644 /etc/garde/policy.conf
HEX=3132333435363738393031323334353637383930
admin_env_user garde-demo-alice 'Demo-pw-1' "$D/home" || exit 1
"$B/garde" enroll garde-demo-alice --secret "$HEX" >/dev/null || exit 1
ssh-keygen -q -t ed25519 -N '' -f "$D/hostkey" || exit 1
cat tests/e2e/conf/pam-sshd.conf /etc/pam.d/sshd >"$D/pam.d-sshd"
admin_env_start_sshd tests/e2e/conf/sshd-password-code.conf "$D/pam.d-sshd" \
	"$D/hostkey" "$D/sshd.log" >/dev/null || { echo "(sshd did not start)"; exit 1; }

echo "policy: LAN = 127.0.0.1; sshd is in class admin; admins need a code."
echo "sshd on 127.0.0.1 port $PORT: /etc/ssh/sshd_config.d/00-garde.conf and /etc/pam.d/sshd"
echo "as in pam_garde(8) (private copies; the host's files are untouched)."
demo_ssh() { # SOURCE CODE
	expect tests/e2e/helpers/login.exp -code "$2" -password 'Demo-pw-1' -- \
		ssh -F /dev/null -p "$PORT" -b "$1" -o StrictHostKeyChecking=no -o LogLevel=ERROR \
		-o UserKnownHostsFile=/dev/null -o PreferredAuthentications=keyboard-interactive \
		-o NumberOfPasswordPrompts=1 garde-demo-alice@127.0.0.1 echo GARDE-E2E-OK |
		tr -d '\r' | sed 's/GARDE-E2E-OK/logged in: the command ran/; s/^/    /'
}
event() { for f in /var/spool/garde/new/*.json; do [ -e "$f" ] && cat "$f" && echo && rm -f "$f"; done; }

echo
echo "1. ssh from 127.0.0.2, outside the LAN (ssh -b 127.0.0.2):"
demo_ssh 127.0.0.2 000000
echo "   event in the spool:"
event | sed 's/^/    /'
echo
code=$(oathtool --totp "$HEX")
echo "2. ssh from 127.0.0.1, the LAN, password and the code $code (oathtool --totp):"
demo_ssh 127.0.0.1 "$code"
echo
echo "3. the same code again, a replay:"
demo_ssh 127.0.0.1 "$code"
echo "   event in the spool:"
event | sed 's/^/    /'
