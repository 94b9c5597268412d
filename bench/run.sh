#!/bin/sh
# make bench: garde's speed next to its anchors, measured in one run.
#  1. whole PAM logins (pam_start .. pam_end) on one harness: pam_permit (the
#     floor), pam_garde with 100,000 enrolled users and a 10,000-prefix
#     policy, pam_garde's system calls alone (bench/pam_calls.c: what the
#     design's file-system work costs here), pam_oath with the same 100,000
#     users, pam_access with the same 10,000 networks;
#  2. the decision alone, netset lookups for 10 and 10,000 prefixes, and the
#     token store's login-path operations;
#  3. garde-agent delivering events to a local rsyslog over RELP, next to a
#     plain logger/TCP baseline.
# Medians, never assertions: the machines are shared and noisy.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
USERS=${BENCH_USERS:-100000}
NETS=${BENCH_NETS:-10000}
N=${BENCH_LOGINS:-2000}
secdir=/usr/lib/x86_64-linux-gnu/security
[ -d "$secdir" ] || secdir=/lib/x86_64-linux-gnu/security

tmp=$(mktemp -d /tmp/garde-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
chmod 700 "$tmp"
mkdir -m 700 "$tmp/conf" "$tmp/store" "$tmp/spool"

echo "== fixtures: $USERS users, $NETS networks"
# One pam_oath users file for both garde (imported) and pam_oath.
secret=3132333435363738393031323334353637383930 # RFC 4226's test secret
awk -v n="$USERS" -v s="$secret" 'BEGIN {
	printf "HOTP root - %s 0\n", s
	for (i = 1; i < n; i++) printf "HOTP bench%06d - %040x 0\n", i, i * 7919
}' > "$tmp/users.oath"
chmod 600 "$tmp/users.oath"
start=$(date +%s.%N)
$B/garde import-oath --store "$tmp/store" "$tmp/users.oath" | tail -1
echo "garde import-oath: $(echo "$(date +%s.%N) - $start" | bc) s"

# The 10,000 networks, the same for garde and pam_access; the login comes
# from the last one, so pam_access reads its whole table.
awk -v n="$NETS" 'BEGIN { for (i = 0; i < n; i++) printf "10.%d.%d.0/24\n", int(i / 256) % 256 + 100, i % 256 }' \
	> "$tmp/nets"
last=$(tail -1 "$tmp/nets" | sed 's|0/24$|7|')
{
	echo "serial = 1;"
	printf 'networks = { big = [ '
	sed 's/.*/"&"/' "$tmp/nets" | paste -sd, -
	echo ' ]; };'
	echo 'classes = { admin = [ "bench-garde" ]; mail = [ "bench-garde-mail" ]; };'
	echo 'rules = ('
	echo ' { name = "admin-offsite"; class = "admin"; not_from = [ "big", "local" ]; action = "deny"; },'
	echo ' { name = "admin-mfa"; class = "admin"; action = "mfa"; },'
	echo ' { name = "mail-lan"; class = "mail"; from = [ "big" ]; action = "allow"; },'
	echo ' { name = "default"; action = "deny"; }'
	echo ');'
} > "$tmp/policy.conf"
chmod 600 "$tmp/policy.conf"
{ sed 's/.*/+:ALL:&/' "$tmp/nets"; echo "-:ALL:ALL"; } > "$tmp/access.conf"

g="$(pwd)/$B/pam_garde.so policy=$tmp/policy.conf store=$tmp/store spool=$tmp/spool"
# The floor: the very lines of the garde stack, pam_permit in place of pam_garde.
printf 'auth required pam_permit.so\nauth required pam_permit.so\naccount required pam_permit.so\n' \
	> "$tmp/conf/bench-permit"
printf 'auth required %s\nauth required pam_permit.so\naccount required %s\n' "$g" "$g" \
	> "$tmp/conf/bench-garde"
cp "$tmp/conf/bench-garde" "$tmp/conf/bench-garde-mail"
# pam_garde's system calls alone (bench/pam_calls.c), on the same store.
c="$(pwd)/$B/bench/pam_calls.so policy=$tmp/policy.conf store=$tmp/store"
printf 'auth required %s code\nauth required pam_permit.so\naccount required %s\n' "$c" "$c" \
	> "$tmp/conf/bench-calls"
printf 'auth required %s\nauth required pam_permit.so\naccount required %s\n' "$c" "$c" \
	> "$tmp/conf/bench-calls-mail"
printf 'auth required pam_oath.so usersfile=%s window=20\naccount required pam_permit.so\n' \
	"$tmp/users.oath" > "$tmp/conf/bench-oath"
printf 'auth required pam_permit.so\naccount required pam_access.so accessfile=%s\n' \
	"$tmp/access.conf" > "$tmp/conf/bench-access"

run() { $B/bench/pam_bench "$tmp/conf" root "$last" "$@" || echo "   (some logins were refused: see above)"; }
echo
echo "== whole logins: pam_start/pam_authenticate/pam_acct_mgmt/pam_end, one process"
echo "   (the floor, garde's two stacks and their system calls alone alternate, login by login)"
run "$N" "$secret" 0 "pam_permit (floor)" bench-permit \
	"pam_garde, code (HOTP) from the LAN" bench-garde \
	"pam_garde, no factor needed (mail, LAN)" bench-garde-mail \
	"pam_garde's system calls alone, code" bench-calls \
	"pam_garde's system calls alone, no factor" bench-calls-mail | tee "$tmp/logins"
run "${BENCH_SLOW_LOGINS:-40}" "$secret" 0 "pam_oath ($USERS users)" bench-oath | tee -a "$tmp/logins"
run "${BENCH_SLOW_LOGINS:-40}" "$secret" 0 "pam_access ($NETS networks)" bench-access | tee -a "$tmp/logins"
median() { sed -n "/^$1/s/.*median *\([0-9.]*\) us.*/\1/p" "$tmp/logins"; }
floor=$(median "pam_permit")
garde=$(median "pam_garde, code")
allow=$(median "pam_garde, no factor")
echo "pam_garde over the floor: code $(echo "$garde - $floor" | bc) us, no factor $(echo "$allow - $floor" | bc) us (budget: 30 us)"
echo "  of which its system calls alone: code $(echo "$(median "pam_garde's system calls alone, code") - $floor" | bc) us," \
	"no factor $(echo "$(median "pam_garde's system calls alone, no factor") - $floor" | bc) us"
echo "anchors measured elsewhere on this harness: pam_oath 25 ms, pam_access 5.7 ms, google-authenticator 3.4 ms"
# How this machine compares with the one that set the anchors (and the
# budget): the same two modules, timed above.
oath=$(median "pam_oath")
access=$(median "pam_access")
if [ -n "$oath" ] && [ -n "$access" ]; then
	echo "this machine against the anchors' machine: pam_oath $(echo "scale=1; $oath / 25000" | bc)x," \
		"pam_access $(echo "scale=1; ($access - $floor) / 5700" | bc)x as slow"
fi

echo
echo "== the decision alone"
$B/bench/bench_decide
echo
echo "== netset lookups"
$B/bench/bench_netset
echo
echo "== token store (login path)"
$B/bench/bench_store
echo
echo "== event delivery"
B=$B sh bench/bench_relp.sh
