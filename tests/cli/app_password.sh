#!/bin/sh
# garde app-password add, list and revoke against a store in a temporary
# directory: the password is shown once and never stored or listed, the
# record keeps a salted scrypt hash with its parameters, bad input exits 2.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
G=${GARDE:-build/garde}
S=$TEST_TMP/store
record_of() { printf '%s/users/%s' "$S" "$(printf '%s' "$1" | sha256sum | cut -c1-64)"; }

expect_status 0 "add" -- $G app-password add alice --class mail --label "Thunderbird laptop" \
	--expires 90d --store "$S"
pw=$(printf '%s\n' "$OUT" | head -n 1)
expect_match "$pw" '^[a-km-np-z2-9]{4}(-[a-km-np-z2-9]{4}){5}$' "the password: six groups of four"
id=$(printf '%s\n' "$OUT" | sed -n 's/^app password \([0-9a-f]\{8\}\) for alice: class mail, expires .*Z$/\1/p')
expect_match "$id" '^[0-9a-f]{8}$' "the id on line 2"
expect_eq "$(stat -c %a "$(record_of alice)")" 600 "the record is 0600"
canon=$(printf '%s' "$pw" | tr -d -)
if grep -qa -e "$pw" -e "$canon" "$(record_of alice)"; then fail "the record holds the password"; else pass; fi
expect_match "$(grep -a '^app-password ' "$(record_of alice)")" \
	"^app-password $id mail [0-9]+ [0-9]+ 0 - Thunderbird%20laptop scrypt:13:8:1 [0-9a-f]{32} [0-9a-f]{64}\$" \
	"the record line: hash, salt and parameters"

expect_status 0 "add a second, never expiring" -- $G app-password add alice --class mail --store "$S"
pw2=$(printf '%s\n' "$OUT" | head -n 1)
expect_eq "$([ "$pw" != "$pw2" ] && echo differ)" differ "two passwords differ"
expect_match "$OUT" "expires never" "no --expires: never"

expect_status 0 "list" -- $G app-password list alice --store "$S"
expect_match "$OUT" "^ID +CLASS +LABEL +CREATED +EXPIRES +LAST USED +LAST SOURCE$" "list header"
expect_match "$OUT" "^$id +mail +Thunderbird laptop +[0-9T:-]+Z +[0-9T:-]+Z +never +-$" "list row"
expect_no_match "$OUT" "$pw|$pw2|$canon" "list never shows a password"
expect_status 1 "status counts them (alice has no token: exit 1)" -- $G status alice --store "$S"
expect_match "$OUT" "^app passwords: 2 \(garde app-password list\)$" "status: how many app passwords"
expect_no_match "$OUT" "$pw|$pw2|$canon" "status never shows a password"
expect_status 0 "list a user with none" -- $G app-password list bob --store "$S"
expect_match "$OUT" "bob has no app passwords" "none"

expect_status 1 "revoke an unknown id" -- $G app-password revoke alice deadbeef --store "$S"
expect_match "$ERR" "alice has no app password deadbeef" "unknown id: message"
expect_status 0 "revoke by id" -- $G app-password revoke alice "$id" --store "$S"
expect_match "$OUT" "revoked 1 app password of alice" "revoke by id: message"
expect_status 0 "list after revoke" -- $G app-password list alice --store "$S"
expect_no_match "$OUT" "$id" "the revoked one is gone"
if grep -qa "$id" "$(record_of alice)"; then fail "the revoked hash is still in the record file"; else pass; fi
expect_status 0 "revoke --all" -- $G app-password revoke alice --all --store "$S"
expect_match "$OUT" "revoked 1 app password of alice" "revoke --all: message"

# At most 16.
for i in $(seq 16); do $G app-password add carol --class mail --store "$S" >/dev/null || fail "add $i"; done
expect_status 1 "a 17th" -- $G app-password add carol --class mail --store "$S"
expect_match "$ERR" "carol has 16 app passwords already; revoke one first" "a 17th: message"

# Bad input: exit 2, nothing stored.
for bad in "add dave" "add dave --class ''" "add dave --class 'ma il'" "add dave --class mail --label -" \
	"add dave --class mail --expires 0d" "add dave --class mail --expires 90" \
	"add dave --class mail --expires 090d" "add dave --class mail --expires 5y" \
	"add dave --class mail --expires 99999999w" "list dave --class mail" "revoke dave" \
	"revoke dave x --all" "frob dave" "add dave --class mail --all" "add"; do
	eval "expect_status 2 \"app-password $bad\" -- \$G app-password $bad --store \"\$S\""
done
[ -e "$(record_of dave)" ] && fail "a record for refused input" || pass
expect_status 0 "--help" -- $G app-password --help
expect_match "$OUT" "usage: garde app-password add USER --class CLASS" "--help"
finish
