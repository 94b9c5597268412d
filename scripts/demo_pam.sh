#!/bin/sh
# Real PAM logins through pam_garde.so with the embedded default policy:
# two fictional users (nss_wrapper gives them an /etc/passwd of their own),
# enrolled in a temporary store, log in with pamtester under pam_wrapper
# (service files from a temporary directory: /etc/pam.d is never read or
# changed), typing codes computed like a phone would (oathtool). Mail from
# a remembered source (mfa.remember) needs the password only; admin rules
# say remember = false. Then the denial events the module spooled.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
lib=/usr/lib/x86_64-linux-gnu
if ! command -v pamtester >/dev/null || ! command -v oathtool >/dev/null ||
   [ ! -e $lib/libpam_wrapper.so ] || [ ! -e $lib/libnss_wrapper.so ]; then
	echo "(skipped: pamtester, oathtool, pam_wrapper or nss_wrapper missing: run make deps)"
	exit 0
fi
d=$(mktemp -d /tmp/garde-demo.XXXXXX)
trap 'rm -rf "$d"' EXIT INT TERM
chmod 700 "$d"
mkdir -m 755 "$d/pam.d"
# The embedded policy, byte for byte, as the installed one would be.
cp policies/ministry.conf "$d/policy.conf"
chmod 644 "$d/policy.conf"
printf 'amelie:x:2001:2001:Amelie, admin:/nonexistent:/bin/sh\nbruno:x:2002:2002:Bruno, agent:/nonexistent:/bin/sh\n' >"$d/passwd"
printf 'admins:x:2001:amelie\nstaff:x:2002:bruno\n' >"$d/group"
args="policy=$d/policy.conf store=$d/store spool=$d/spool"
mod=$(pwd)/$B/pam_garde.so
printf 'auth required %s %s\nauth required pam_permit.so\naccount required %s %s\n' \
	"$mod" "$args" "$mod" "$args" >"$d/pam.d/sshd"
# Mail clients send one field: password and code (the module passes the
# password on to the next module, here pam_permit in place of pam_unix).
printf 'auth required %s %s mode=suffix\nauth required pam_permit.so\naccount required %s %s\n' \
	"$mod" "$args" "$mod" "$args" >"$d/pam.d/dovecot"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$d/pam.d/other"

A=3132333435363738393031323334353637383930 # amelie's phone
Bs=3839303132333435363738393031323334353637 # bruno's phone
for u in amelie:$A bruno:$Bs; do
	$B/garde enroll "${u%%:*}" --store "$d/store" --secret "${u#*:}" --issuer ministry 2>/dev/null |
		head -1 | sed 's/secret=[^&]*/secret=.../'
done

login() { # what service user rhost input
	what=$1 service=$2 user=$3 rhost=$4 input=$5
	out=$(printf '%s\n' "$input" | LD_PRELOAD="$lib/libpam_wrapper.so:$lib/libnss_wrapper.so" \
		PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$d/pam.d" NSS_WRAPPER_PASSWD="$d/passwd" \
		NSS_WRAPPER_GROUP="$d/group" pamtester -I rhost="$rhost" "$service" "$user" \
		authenticate acct_mgmt 2>&1) && verdict=ACCEPTED || verdict=REFUSED
	said=$(printf '%s\n' "$out" | grep -v -e '^pamtester: ' -e '^PWRAP' -e 'Verification code' \
		-e 'Password' | head -1)
	printf '  %-46s %-9s %s\n' "$what" "$verdict" "$said"
}
code_a=$(oathtool --totp -s 30 $A)
code_b=$(oathtool --totp -s 30 $Bs)
echo
login "amelie: ssh from the internet"               sshd    amelie 203.0.113.9  "$code_a"
login "amelie: ssh from the LAN, code from her phone" sshd  amelie 10.20.1.15   "$code_a"
login "amelie: the same code again (replay)"         sshd    amelie 10.20.1.15   "$code_a"
login "amelie: ssh from the LAN, wrong code"         sshd    amelie 10.20.1.15   "000000"
login "bruno: IMAP from the LAN, password only"      dovecot bruno  10.20.3.40   "s3cret"
login "bruno: IMAP from a cafe, password only"       dovecot bruno  198.51.100.23 "s3cret"
login "bruno: IMAP from a cafe, password+code"       dovecot bruno  198.51.100.23 "s3cret$code_b"
login "bruno: IMAP from the cafe again, password only" dovecot bruno 198.51.100.23 "s3cret"
login "bruno: ssh from the LAN, reusing that code"   sshd    bruno  10.20.1.15   "$code_b"
echo
echo "The events the module spooled for garde-agent ($d/spool/new/):"
for f in "$d"/spool/new/*.json; do
	sed -n 's/.*"action":"\([^"]*\)".*"reason":"\([^"]*\)".*"user":{"name":"\([^"]*\)"}.*/  \1 \2 user=\3/p' "$f" |
		tr -d '\n'
	rule=$(sed -n 's/.*"rule":{"name":"\([^"]*\)".*/\1/p' "$f")
	src=$(sed -n 's/.*"source":{"ip":"\([^"]*\)".*/\1/p' "$f")
	printf ' source=%s rule=%s\n' "${src:-local}" "${rule:--}"
done | sort
echo "(and one line each in syslog, authpriv)"
