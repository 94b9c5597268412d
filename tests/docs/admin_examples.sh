#!/bin/sh
# The admin-login examples of man/pam_garde.8 and README.md are exactly the
# configurations that the end-to-end tests install (tests/e2e/conf/): each
# file there must appear whole, as one example block (.nf/.fi in the man
# page, a ``` block in the README).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
D=$TEST_TMP

awk -v dir="$D" '/^\.nf$/ { n++; inb = 1; next } /^\.fi$/ { inb = 0; next }
	inb { print > (dir "/man." n) }' man/pam_garde.8
awk -v dir="$D" '/^```/ { if (inb) { inb = 0 } else { n++; inb = 1 }; next }
	inb { print > (dir "/readme." n) }' README.md

for conf in tests/e2e/conf/*.conf; do
	for doc in man readme; do
		found=no
		for block in "$D/$doc".*; do
			[ -e "$block" ] || continue
			if cmp -s "$conf" "$block"; then found=yes; break; fi
		done
		expect_eq "$found" yes "$(basename "$conf") is an example block in $doc"
	done
done
finish
