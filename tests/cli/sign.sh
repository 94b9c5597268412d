#!/bin/sh
# garde keygen, sign and verify, as the central team and an auditor run them.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
G=${GARDE:-build/garde}
T=$TEST_TMP

mode_of() { stat -c %a "$1"; }

# keygen: the two files, their modes, the id printed and in the .pub.
expect_status 0 "keygen" -- $G keygen --out "$T/a"
expect_eq "$(mode_of "$T/a.key")" 600 "private key mode"
expect_eq "$(mode_of "$T/a.pub")" 644 "public key mode"
ID_A=$(printf '%s\n' "$OUT" | sed -n 's/.*public key \([0-9a-f]\{16\}\).*/\1/p')
expect_match "$ID_A" '^[0-9a-f]{16}$' "keygen prints the key id"
expect_match "$(cat "$T/a.pub")" "^garde-ed25519-pub $ID_A [A-Za-z0-9+/]{43}=\$" "public key line"
expect_eq "$(wc -l < "$T/a.pub")" 1 "public key is one line"
openssl pkey -in "$T/a.key" -noout 2>/dev/null && pass || fail "openssl pkey accepts the key"
expect_match "$(openssl pkey -in "$T/a.key" -noout -text 2>/dev/null | head -1)" "ED25519" "an Ed25519 key"
# The id is SHA-256 of the raw key: the last 32 bytes of the DER public key.
RAW_ID=$(openssl pkey -in "$T/a.key" -pubout -outform DER 2>/dev/null | tail -c 32 |
	openssl dgst -sha256 -r | cut -c1-16)
expect_eq "$RAW_ID" "$ID_A" "key id = SHA-256 of the raw public key"

# keygen never overwrites.
cp "$T/a.key" "$T/a.key.orig"
expect_status 1 "keygen over an existing key" -- $G keygen --out "$T/a"
expect_match "$ERR" "already exists" "refusal says why"
cmp -s "$T/a.key" "$T/a.key.orig" && pass || fail "existing key unchanged"
ln -s "$T/elsewhere" "$T/l.key"
expect_status 1 "keygen onto a symbolic link" -- $G keygen --out "$T/l"
[ ! -e "$T/elsewhere" ] && [ ! -e "$T/l.pub" ] && pass || fail "nothing written through the link"
expect_status 2 "keygen without --out" -- $G keygen
expect_status 0 "keygen --help" -- $G keygen --help
expect_match "$OUT" "usage: garde keygen" "keygen help"
$G keygen --out "$T/b" >/dev/null 2>&1
$G keygen --out "$T/c" >/dev/null 2>&1
ID_B=$(cut -d' ' -f2 "$T/b.pub")

# sign + verify.
cp policies/baseline.conf "$T/p.conf"; chmod 600 "$T/p.conf"
expect_status 0 "sign" -- $G sign --key "$T/a.key" "$T/p.conf"
expect_match "$OUT" "p.conf.sig: signed by key $ID_A \(1 signature\)" "sign output"
expect_eq "$(head -1 "$T/p.conf.sig")" "garde-signature 1" "sig header"
expect_match "$(sed -n 2p "$T/p.conf.sig")" "^ed25519 $ID_A [A-Za-z0-9+/]{86}==\$" "sig line"
expect_eq "$(mode_of "$T/p.conf.sig")" 644 "sig mode"
expect_eq "$(ls "$T" | grep -c 'p.conf.sig.')" 0 "no temporary file left"
expect_status 0 "verify" -- $G verify --key "$T/a.pub" "$T/p.conf"
expect_eq "$OUT" "$T/p.conf: good signature by key $ID_A" "verify output"
expect_status 0 "sign again: unchanged" -- $G sign --key "$T/a.key" "$T/p.conf"
expect_match "$OUT" "already signed" "already signed"
expect_eq "$(wc -l < "$T/p.conf.sig")" 2 "no duplicate line"

# The signature is what openssl computes over the same bytes.
sed -n 2p "$T/p.conf.sig" | cut -d' ' -f3 | openssl base64 -d -A > "$T/raw.sig"
openssl pkey -in "$T/a.key" -pubout -out "$T/a.pem" 2>/dev/null
openssl pkeyutl -verify -pubin -inkey "$T/a.pem" -rawin -in "$T/p.conf" -sigfile "$T/raw.sig" \
	>/dev/null 2>&1 && pass || fail "openssl pkeyutl verifies the signature"

# Tampering and wrong keys.
cp "$T/p.conf" "$T/q.conf"; cp "$T/p.conf.sig" "$T/q.conf.sig"
echo '# one more line' >> "$T/q.conf"
expect_status 1 "tampered policy" -- $G verify --key "$T/a.pub" "$T/q.conf"
expect_match "$ERR" "BAD signature: line 2: the signature by trusted key $ID_A does not match" "tampered reason"
expect_eq "$OUT" "" "nothing on stdout when invalid"
expect_status 1 "wrong key" -- $G verify --key "$T/b.pub" "$T/p.conf"
expect_match "$ERR" "not signed by any trusted key" "unknown key reason"
sed '$ s/.$//' "$T/p.conf.sig" > "$T/t.sig"; cp "$T/p.conf" "$T/t.conf"; mv "$T/t.sig" "$T/t.conf.sig"
expect_status 1 "truncated .sig" -- $G verify --key "$T/a.pub" "$T/t.conf"
expect_match "$ERR" "malformed signature file" "truncated reason"
cp "$T/p.conf" "$T/n.conf"
expect_status 1 "no .sig" -- $G verify --key "$T/a.pub" "$T/n.conf"
expect_match "$ERR" "n.conf.sig no such file" "missing .sig reason"
head -c 5000 /dev/zero | tr '\0' 'A' > "$T/n.conf.sig"
expect_status 1 "oversize .sig" -- $G verify --key "$T/a.pub" "$T/n.conf"
expect_match "$ERR" "over 4096 bytes" "oversize reason"

# Threshold: several keys sign one policy.
expect_status 1 "threshold 2, one signer" -- $G verify --key "$T/a.pub" --key "$T/b.pub" \
	--threshold 2 "$T/p.conf"
expect_match "$ERR" "signed by 1 distinct trusted key \($ID_A\), 2 required" "threshold reason"
expect_status 0 "second signer" -- $G sign --key "$T/b.key" "$T/p.conf"
expect_match "$OUT" "\(2 signatures\)" "two signatures"
expect_status 0 "threshold 2, two signers" -- $G verify --key "$T/a.pub" --key "$T/b.pub" \
	--threshold 2 "$T/p.conf"
expect_match "$OUT" "good signatures by keys $ID_A, $ID_B" "both ids listed"
expect_status 1 "the same key twice counts once" -- $G verify --key "$T/a.pub" --key "$T/a.pub" \
	--threshold 2 "$T/p.conf"
expect_status 2 "threshold above the number of keys" -- $G verify --key "$T/a.pub" \
	--threshold 2 "$T/p.conf"
expect_status 2 "threshold 0" -- $G verify --key "$T/a.pub" --threshold 0 "$T/p.conf"

# The policy changes: an old line is stale, --replace starts afresh.
echo '# edited' >> "$T/p.conf"
expect_status 1 "sign over a stale signature" -- $G sign --key "$T/a.key" "$T/p.conf"
expect_match "$ERR" "p.conf.sig:2: holds a signature by key $ID_A of other bytes.*--replace" "stale reason"
expect_status 0 "sign --replace" -- $G sign --key "$T/a.key" --replace "$T/p.conf"
expect_eq "$(wc -l < "$T/p.conf.sig")" 2 "fresh .sig: one line"
expect_status 0 "verify after --replace" -- $G verify --key "$T/a.pub" "$T/p.conf"

# Keys that fail the trust rules are refused, with what to do.
chmod 640 "$T/c.key"
expect_status 2 "group-readable private key" -- $G sign --key "$T/c.key" "$T/p.conf"
expect_match "$ERR" "c.key: is readable by group or other \(chmod 600\)" "private key mode reason"
chmod 666 "$T/c.pub"
expect_status 2 "world-writable public key" -- $G verify --key "$T/c.pub" "$T/p.conf"
expect_match "$ERR" "c.pub: is writable by group or other" "public key mode reason"
expect_status 2 "a .key passed as --key to verify" -- $G verify --key "$T/a.key" "$T/p.conf"
expect_match "$ERR" "not a garde public key" "not a public key"
chmod 664 "$T/p.conf"
expect_status 2 "sign a group-writable policy" -- $G sign --key "$T/a.key" "$T/p.conf"
expect_match "$ERR" "writable by group or other" "policy mode reason"
chmod 600 "$T/p.conf"

# Usage.
expect_status 2 "sign without --key" -- $G sign "$T/p.conf"
expect_status 2 "verify without --key" -- $G verify "$T/p.conf"
expect_status 2 "verify two policies" -- $G verify --key "$T/a.pub" "$T/p.conf" "$T/q.conf"
expect_status 0 "sign --help" -- $G sign --help
expect_match "$OUT" "usage: garde sign" "sign help"
expect_status 0 "verify --help" -- $G verify --help
expect_match "$OUT" "usage: garde verify" "verify help"

finish
