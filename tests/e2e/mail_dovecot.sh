#!/bin/sh
# Mail logins through a real dovecot IMAP server on loopback, driven by
# Python's imaplib: password and code in one field (suffix mode), replay,
# remembered sources, app passwords, the admin class, a refused network and
# bad input. dovecot runs with the distro's passdb (auth-system.conf.ext:
# PAM, service "dovecot") and garde's settings (tests/e2e/conf/
# dovecot-garde.conf) under a private config, base_dir and log in the
# test's directory; /etc/pam.d/dovecot is tests/e2e/conf/pam-dovecot.conf:
# the examples of pam_garde.8 and README.md. Everything runs in a private
# mount namespace over copies of /etc, /run and /var
# (tests/e2e/helpers/admin_env.sh): the host's PAM files, dovecot
# configuration and users are never touched.
#
# Sources: 127.0.0.1, 127.0.0.3 and 127.0.0.4 are the LAN, 127.0.0.2 is
# outside it.
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
ROOT=$(pwd)
. tests/e2e/helpers/admin_env.sh
ADMIN_TOOLS="python3 oathtool pamtester flock"
[ -x /usr/sbin/dovecot ] || admin_env_skip mail_dovecot.sh "/usr/sbin/dovecot missing (make deps)"
[ -e /etc/dovecot/conf.d/auth-system.conf.ext ] ||
	admin_env_skip mail_dovecot.sh "dovecot's auth-system.conf.ext missing (make deps)"
for f in "$B/garde" "$B/pam_garde.so"; do
	[ -e "$f" ] || { echo "mail_dovecot.sh: $f missing (make test builds it)" >&2; exit 1; }
done
admin_env_enter mail_dovecot.sh "$0" "$@"

. tests/lib.sh
D=$TEST_TMP
DOVECOT_PID=""
cleanup() {
	if [ -n "$DOVECOT_PID" ]; then
		kill "$DOVECOT_PID" 2>/dev/null
		wait "$DOVECOT_PID" 2>/dev/null
	fi
	cleanup_tmp
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

admin_env_setup "$D" "$ROOT/$B/pam_garde.so" || { fail "private root set up"; finish; exit 1; }
GARDE="$ROOT/$B/garde"
IMAP="$ROOT/tests/e2e/helpers/imap_login.py"
CONF="$ROOT/tests/e2e/conf"
chmod 0711 "$D"
mkdir -m 0711 "$D/home"

cat >/etc/garde/policy.conf <<'POLICY'
serial   = 1;
networks = { lan = [ "127.0.0.1/32", "127.0.0.3/32", "127.0.0.4/32" ]; };
classes  = { admin = [ "garde-test-admin" ]; mail = [ "dovecot" ]; };
mfa      = { digits = 6; step = 30; window_past = 1; window_future = 1; remember = 8; };
lockout  = { user   = { deny = 20; interval = 900; unlock = 900; };
             source = { deny = 100; interval = 300; unlock = 3600; }; };
rules = (
  { name = "mail-offsite"; class = "mail"; not_from = [ "lan" ]; action = "deny"; },
  { name = "mail-mfa";     class = "mail"; action = "mfa"; app_password = true; },
  { name = "admin-mfa";    class = "admin"; action = "mfa"; },
  { name = "default";      action = "deny"; }
);
POLICY
chmod 0644 /etc/garde/policy.conf
expect_status 0 "the test policy is valid" -- "$GARDE" check --policy /etc/garde/policy.conf

HEX=3132333435363738393031323334353637383930
PW='Mail-e2e-pw-1'
U=garde-test-mail
admin_env_user "$U" "$PW" "$D/home" || { fail "user $U"; finish; exit 1; }
"$GARDE" enroll "$U" --secret "$HEX" >/dev/null || { fail "enroll $U"; finish; exit 1; }
totp() { oathtool --totp -s 30 -N "@$(($(date +%s) + ${1:-0} * 30))" "$HEX"; }

# The PAM files: dovecot's is the documented one; the admin service has
# the same lines, so only its class differs.
cp "$CONF/pam-dovecot.conf" /etc/pam.d/dovecot
cp "$CONF/pam-dovecot.conf" /etc/pam.d/garde-test-admin

# dovecot: the distro's passdb and userdb, garde's settings, and what a
# loopback test needs (no TLS, no delay after a failure, its own
# directories and port).
mkdir -p "$D/dovecot/run" "$D/dovecot/state"
PORT=$((20000 + ($$ * 7 + $(date +%N | sed 's/^0*//;s/^$/0/') % 997) % 30000))
cat >"$D/dovecot/dovecot.conf" <<CONFEOF
protocols = imap
listen = 127.0.0.1
base_dir = $D/dovecot/run
state_dir = $D/dovecot/state
log_path = $D/dovecot/dovecot.log
auth_verbose = yes
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
}
# dovecot's own delay after failures from one address (up to 15 s) would
# only slow the test down: its socket is made unusable.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
!include /etc/dovecot/conf.d/auth-system.conf.ext
!include $CONF/dovecot-garde.conf
CONFEOF
expect_eq "$(doveconf -c "$D/dovecot/dovecot.conf" -h auth_cache_size 2>&1)" 0 \
	"dovecot: the auth cache is off (a cached password+code would let a replay in)"
/usr/sbin/dovecot -F -c "$D/dovecot/dovecot.conf" &
DOVECOT_PID=$!
up=no
for _ in $(seq 100); do
	if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null; then
		up=yes
		break
	fi
	sleep 0.1
done
if [ "$up" != yes ]; then
	fail "dovecot started"
	cat "$D/dovecot/dovecot.log"
	finish
	exit 1
fi
pass

# imap WANT DESCRIPTION SOURCE PASSWORD [plain]
imap() {
	want=$1 what=$2
	shift 2
	expect_status "$want" "$what" -- python3 "$IMAP" "$1" "$PORT" "$U" "$2" ${3:-}
	[ -z "${E2E_VERBOSE:-}" ] || printf '%s: %s\n--- exit %s\n' "$what" "$OUT" "$got"
}
events() { admin_env_events; }
count() { admin_env_count "$@"; }
events >/dev/null

# --- password and code in one field ------------------------------------------
code=$(totp)
t_first=$(date +%s)
imap 0 "password+code from the LAN: accepted" 127.0.0.1 "$PW$code"
expect_eq "$(events)" "" "password+code: no event"
imap 1 "the same password+code from another LAN address: refused (replay)" 127.0.0.3 "$PW$code"
ev=$(events)
expect_eq "$(count "$ev" '"reason":"mfa_replay"')" 1 "replay: one mfa_replay event"
expect_match "$ev" '"source":\{"ip":"127.0.0.3"\},"service":\{"name":"dovecot"\}.*"rule":\{"name":"mail-mfa"' \
	"replay: service dovecot, source 127.0.0.3, rule mail-mfa"

# --- remembered source -------------------------------------------------------
imap 0 "password alone from the remembered source: accepted" 127.0.0.1 "$PW"
imap 0 "password + the old code from the remembered source: accepted" 127.0.0.1 "$PW$code"
imap 1 "password alone from a source not remembered: refused" 127.0.0.3 "$PW"
ev=$(events)
expect_eq "$(count "$ev" '"reason":"mfa_missing"')" 1 "not remembered: one mfa_missing event"

# --- app passwords -----------------------------------------------------------
expect_status 0 "app-password add" -- "$GARDE" app-password add "$U" --class mail --label "e2e phone"
APW=$(printf '%s\n' "$OUT" | head -n 1)
APW_ID=$(printf '%s\n' "$OUT" | sed -n 's/^app password \([0-9a-f]*\) .*/\1/p')
imap 0 "app password over IMAP: accepted" 127.0.0.3 "$APW"
expect_eq "$(events)" "" "app password: no event"
expect_status 0 "app-password list" -- "$GARDE" app-password list "$U"
expect_match "$OUT" "^$APW_ID +mail +e2e phone .* 127\\.0\\.0\\.3\$" "list: last used from 127.0.0.3"
OUT=$(printf '%s\n' "$APW" | pamtester -I rhost=127.0.0.1 garde-test-admin "$U" authenticate 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 1 "app password at a service of the admin class: refused"
ev=$(events)
expect_match "$ev" '"reason":"app_password_invalid".*"service":\{"name":"garde-test-admin"\}.*"rule":\{"name":"admin-mfa"' \
	"admin class: app_password_invalid, rule admin-mfa"
imap 1 "a wrong app password: refused" 127.0.0.1 "abcd-efgh-ijkm-npqr-stuv-wxyz"
expect_match "$(events)" '"reason":"app_password_invalid".*"rule":\{"name":"mail-mfa"' \
	"wrong app password: app_password_invalid"

# --- outside the allowed networks --------------------------------------------
imap 1 "password+code from outside the LAN: refused" 127.0.0.2 "$PW$(totp 1)"
imap 1 "app password from outside the LAN: refused" 127.0.0.2 "$APW"
ev=$(events)
expect_eq "$(count "$ev" '"reason":"policy_deny".*"source":\{"ip":"127.0.0.2"\}.*"rule":\{"name":"mail-offsite"')" 2 \
	"outside: two policy_deny events by mail-offsite"

# --- bad input ----------------------------------------------------------------
imap 1 "a password too short to hold a code: refused" 127.0.0.3 "123"
imap 1 "a code with a space in it: refused" 127.0.0.3 "$PW$(totp | sed 's/^\(...\)/\1 /')"
imap 1 "a non-ASCII password with a code: refused" 127.0.0.3 "pässwörd$(totp 1)" plain
# 4 KiB reaches PAM (the module refuses anything over 1 KiB; from a source
# not remembered, as 127.0.0.3 now is); dovecot itself closes the
# connection on a 64 KiB one, which the pam tier covers.
imap 1 "a 4 KiB password: refused" 127.0.0.4 "@big:4096" plain
ev=$(events)
[ -z "${E2E_VERBOSE:-}" ] || printf '%s\n' "$ev"
expect_eq "$(count "$ev" '"reason":"mfa_missing"')" 3 \
	"bad input: mfa_missing for the short one, the spaced code and the 4 KiB one"
if grep -qa -e "$PW" -e "$APW" -e "pässwörd" "$D/dovecot/dovecot.log" /var/spool/garde/new/* 2>/dev/null; then
	fail "a password in dovecot's log or the spool"
else pass; fi

# --- revoked, and remember over -----------------------------------------------
expect_status 0 "app-password revoke" -- "$GARDE" app-password revoke "$U" "$APW_ID"
imap 1 "a revoked app password: refused" 127.0.0.1 "$APW"
expect_match "$(events)" '"reason":"app_password_invalid"' "revoked: app_password_invalid"
left=$((t_first + 9 - $(date +%s)))
[ "$left" -gt 0 ] && sleep "$left"
imap 1 "password alone once remember is over: refused" 127.0.0.1 "$PW"
expect_match "$(events)" '"reason":"mfa_missing".*"source":\{"ip":"127.0.0.1"\}' "remember over: mfa_missing"

# --- dovecot and the store after all of it --------------------------------------
kill -0 "$DOVECOT_PID" 2>/dev/null
expect_eq $? 0 "dovecot still running"
expect_eq "$(admin_env_locks_held)" "" "no store lock held by dovecot's auth workers"
if grep -Eq "auth-worker.*(Fatal|killed|segfault)|Panic" "$D/dovecot/dovecot.log"; then
	fail "dovecot's log has a fatal error:"
	grep -E "Fatal|Panic|killed" "$D/dovecot/dovecot.log"
else pass; fi
[ -z "${E2E_VERBOSE:-}" ] || cat "$D/dovecot/dovecot.log"
finish
