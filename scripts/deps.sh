#!/bin/sh
# Installs every build and test dependency of garde from Debian's packages.
# Idempotent: apt-get skips what is already installed.
set -eu

# build: compiler, PAM, liboath, libconfig, OpenSSL, Check, libqrencode
#        (enroll --qr), libcurl and librelp (the agent)
# test:  oathtool (reference codes), libpam-oath (bench anchor), tzdata (time
#        zones), mandoc (man lint), nginx and rsyslog (the agent's peers),
#        pamtester and libpam-wrapper (the pam tier's external client),
#        libnss-wrapper (the demo's fictional users), openssl and iproute2
#        (test CAs, ports), groff-base (man lint),
#        openssh-server, openssh-client, sudo, expect, procps (the admin-login
#        end-to-end tests and demo: real sshd, ssh, sudo, su and login),
#        dovecot-imapd, dovecot-pop3d (the mail end-to-end test: a real dovecot)
PACKAGES="build-essential pkg-config libpam0g-dev liboath-dev libconfig-dev libssl-dev check \
libqrencode-dev libcurl4-openssl-dev librelp-dev \
oathtool libpam-oath bc tzdata mandoc man-db groff-base python3 openssl iproute2 nginx-light rsyslog rsyslog-relp \
pamtester libpam-wrapper libnss-wrapper openssh-server openssh-client sudo expect procps \
dovecot-imapd dovecot-pop3d"

if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "make deps: this installs Debian/Ubuntu packages with apt-get; on another" >&2
	echo "  system install the equivalents of: $PACKAGES" >&2
	exit 1
fi

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "make deps: all dependencies are installed"
	exit 0
fi
# As root apt-get runs directly (CI, containers without sudo); otherwise
# through sudo when there is one.
as_root=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "make deps: missing packages:$missing" >&2
		echo "  apt-get needs root: run 'make deps' as root" >&2
		exit 1
	fi
	as_root="sudo"
fi
echo "make deps: installing$missing"
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
