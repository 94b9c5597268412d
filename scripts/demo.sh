#!/bin/sh
# make demo: a scripted tour of the embedded default policy (policies/ministry.conf).
# Each line is one login evaluated by `garde explain`, the very decision
# function that pam_garde.so runs inside sshd, sudo and dovecot.
set -eu
cd "$(dirname "$0")/.."
garde=${GARDE:-build/garde}
policy=@default

row() { # scenario user service rhost time [extra options]
	scenario=$1 user=$2 service=$3 rhost=$4 at=$5
	shift 5
	if [ "$rhost" = "-" ]; then
		out=$($garde explain --policy "$policy" --user "$user" --service "$service" \
			--groups staff --at "$at" "$@")
		rhost=local
	else
		out=$($garde explain --policy "$policy" --user "$user" --service "$service" \
			--rhost "$rhost" --groups staff --at "$at" "$@")
	fi
	decision=$(printf '%s\n' "$out" | sed -n 's/^decision: *//p')
	rule=$(printf '%s\n' "$out" | sed -n 's/^rule: *\([^ ]*\).*/\1/p')
	reason=$(printf '%s\n' "$out" | sed -n 's/^reason: *//p')
	ro=$(printf '%s\n' "$out" | sed -n 's/^report-only: rule \([^ ]*\) would \([a-z]*\).*/ +watch:\1/p' | tr -d '\n')
	printf '%-34s %-10s %-8s %-16s %-6s %-19s %s%s\n' "$scenario" "$user" "$service" "$rhost" \
		"$decision" "$rule" "$reason" "$ro"
}

echo "garde demo: the embedded default policy (policies/ministry.conf)"
$garde check --policy "$policy"
echo
printf '%-34s %-10s %-8s %-16s %-6s %-19s %s\n' SCENARIO USER SERVICE SOURCE DECIDE RULE REASON
row "admin ssh from the internet"      alice  sshd     203.0.113.9    2026-11-30T10:00:00Z
row "admin ssh from the LAN"           alice  sshd     10.20.1.15     2026-11-30T10:00:00Z
row "admin ssh over the VPN (IPv6)"    alice  sshd     fd00:99::15    2026-11-30T10:00:00Z
row "admin sudo at the console"        alice  sudo     -              2026-11-30T10:00:00Z
row "admin ssh, rhost is a host name"  alice  sshd     evil.example   2026-11-30T10:00:00Z
row "mail from the LAN"                bob    dovecot  10.20.3.40     2026-11-30T10:00:00Z
row "mail from a cafe"                 bob    dovecot  198.51.100.23  2026-11-30T10:00:00Z
row "mail from a cafe (IPv4-mapped)"   bob    imap     ::ffff:198.51.100.23 2026-11-30T10:00:00Z
row "mail from the LAN at 23:30 Paris" bob    dovecot  10.20.3.40     2026-11-30T22:30:00Z
row "break-glass at the console"       breakglass login -            2026-11-30T03:00:00Z
row "break-glass over ssh"             breakglass sshd 10.20.1.15     2026-11-30T03:00:00Z
row "unknown service (ftp) from LAN"   carol  ftp      10.20.1.15     2026-11-30T10:00:00Z
echo
echo "Why was the cafe login challenged? garde explain says:"
$garde explain --policy "$policy" --user bob --service dovecot --rhost 198.51.100.23 \
	--groups staff --at 2026-11-30T10:00:00Z
echo
echo "Real PAM logins through pam_garde.so (scripts/demo_pam.sh):"
B=${B:-build} sh scripts/demo_pam.sh
echo
echo "An admin ssh login for real: sshd and ssh on loopback, in a private mount namespace"
echo "(scripts/demo_admin_ssh.sh):"
B=${B:-build} sh scripts/demo_admin_ssh.sh
