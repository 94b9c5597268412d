#!/bin/sh
# tests/e2e/agent_sync.sh - garde-agent sync and apply against a real nginx
# over HTTPS (a test CA made here), with policies signed by `garde sign`.
# Every refusal must name its reason on one line and leave the installed
# policy byte for byte as it was; kill -9 during a sync must never leave a
# partial policy.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

B=${B:-build}
AGENT=$PWD/$B/garde-agent
GARDE=$PWD/$B/garde
for bin in "$AGENT" "$GARDE"; do
	[ -x "$bin" ] || { echo "agent_sync: $bin missing: run make"; exit 1; }
done
for tool in nginx openssl sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || { echo "agent_sync: $tool missing: make deps"; exit 1; }
done

T=$TEST_TMP
NGX=$T/nginx
WWW=$T/www
mkdir -p "$NGX/logs" "$WWW/p" "$T/ca" "$T/keys" "$T/etc" "$T/state" "$T/push"

# --- nginx, stopped on every exit path ----------------------------------------
nginx_stop() {
	if [ -s "$NGX/nginx.pid" ]; then
		kill "$(cat "$NGX/nginx.pid")" 2>/dev/null
		i=0
		while [ -s "$NGX/nginx.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	fi
}
cleanup() { nginx_stop; cleanup_tmp; }
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- certificates ------------------------------------------------------------------
mkcert() { # DIR NAME: a CA and a server certificate for 127.0.0.1 signed by it
	d=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=garde test $2 CA" -keyout "$d/$2-ca.key" -out "$d/$2-ca.pem" 2>/dev/null &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=127.0.0.1" -keyout "$d/$2-srv.key" -out "$d/$2-srv.csr" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/ext" &&
	openssl x509 -req -in "$d/$2-srv.csr" -CA "$d/$2-ca.pem" -CAkey "$d/$2-ca.key" \
		-CAcreateserial -days 2 -extfile "$d/ext" -out "$d/$2-srv.pem" 2>/dev/null
}
mkcert "$T/ca" good || { echo "agent_sync: openssl failed"; exit 1; }
mkcert "$T/ca" other || { echo "agent_sync: openssl failed"; exit 1; }

PORT=$(free_port)
PORT_OTHER=$(free_port)
PORT_DOWN=$(free_port)
cat >"$NGX/nginx.conf" <<EOF
user root;
worker_processes 1;
error_log $NGX/logs/error.log;
events { worker_connections 64; }
http {
	access_log $NGX/logs/access.log;
	client_body_temp_path $NGX/tmp_body;
	proxy_temp_path $NGX/tmp_proxy;
	fastcgi_temp_path $NGX/tmp_fastcgi;
	uwsgi_temp_path $NGX/tmp_uwsgi;
	scgi_temp_path $NGX/tmp_scgi;
	default_type text/plain;
	server {
		listen 127.0.0.1:$PORT ssl;
		ssl_certificate $T/ca/good-srv.pem;
		ssl_certificate_key $T/ca/good-srv.key;
		root $WWW;
		location /slow/ { limit_rate 1m; }
		location = /redirect/policy.conf { return 302 https://localhost:$PORT/p/policy.conf; }
	}
	server {
		listen 127.0.0.1:$PORT_OTHER ssl;
		ssl_certificate $T/ca/other-srv.pem;
		ssl_certificate_key $T/ca/other-srv.key;
		root $WWW;
	}
}
EOF
nginx -e "$NGX/logs/error.log" -p "$NGX" -c "$NGX/nginx.conf" \
	-g "daemon off; pid $NGX/nginx.pid;" 2>"$NGX/logs/start.log" &
i=0
while ! [ -s "$NGX/nginx.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$NGX/nginx.pid" ] || { echo "agent_sync: nginx did not start:"; cat "$NGX/logs/"*; exit 1; }

# --- keys, policies, configs ------------------------------------------------------------
"$GARDE" keygen --out "$T/keys/a" >/dev/null || exit 1
"$GARDE" keygen --out "$T/keys/b" >/dev/null || exit 1
"$GARDE" keygen --out "$T/keys/c" >/dev/null || exit 1

TARGET=$T/etc/policy.conf

# policy FILE SERIAL [EXTRA]: a valid policy
policy() {
	printf 'serial = %s;\n%s\nrules = ( { name = "default"; action = "deny"; } );\n' "$2" "${3:-}" >"$1"
}
# publish SERIAL [KEY] [EXTRA]: policy on the server, signed. nginx's ETag
# is mtime-size: each publication gets its own mtime, or two policies of one
# size published within a second would share an ETag (and get a 304).
STAMP=1700000000
publish() {
	policy "$WWW/p/policy.conf" "$1" "${3:-}"
	rm -f "$WWW/p/policy.conf.sig"
	"$GARDE" sign --key "$T/keys/${2:-a}.key" "$WWW/p/policy.conf" >/dev/null
	STAMP=$((STAMP + 1))
	touch -d "@$STAMP" "$WWW/p/policy.conf"
}

# agent_conf FILE URL [EXTRA]: a config for the test's paths
agent_conf() {
	cat >"$1" <<EOF
policy = {
	url = "$2";
	keys = [ "$T/keys/a.pub", "$T/keys/b.pub" ];
	ca_file = "$T/ca/good-ca.pem";
	target = "$TARGET";
	timeout = 10;
	${3:-}
};
spool = "$T/spool";
journal = "$T/state/journal";
state_dir = "$T/state";
EOF
}
URL=https://127.0.0.1:$PORT/p/policy.conf
agent_conf "$T/agent.conf" "$URL"
agent_conf "$T/agent-small.conf" "$URL" "max_bytes = 1024;"
agent_conf "$T/agent-down.conf" "https://127.0.0.1:$PORT_DOWN/p/policy.conf"
agent_conf "$T/agent-other.conf" "https://127.0.0.1:$PORT_OTHER/p/policy.conf"
agent_conf "$T/agent-redirect.conf" "https://127.0.0.1:$PORT/redirect/policy.conf"
agent_conf "$T/agent-slow.conf" "https://127.0.0.1:$PORT/slow/policy.conf"

sync() { expect_status "$1" "$2" -- "$AGENT" --config "${3:-$T/agent.conf}" sync; }
sha() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }

# --- bad configs -------------------------------------------------------------------------------
cat >"$T/bad.conf" <<EOF
policy = {
	url = "http://127.0.0.1/p.conf";
	keys = [ "$T/keys/a.pub" ];
	threshold = 3;
	colour = "blue";
};
EOF
expect_status 2 "bad config refused" -- "$AGENT" --config "$T/bad.conf" sync
expect_match "$ERR" "bad.conf:2: 'url' must be an https:// URL" "bad config: http url named with its line"
expect_match "$ERR" "bad.conf:4: 'threshold' is 3 but only 1 key" "bad config: threshold named"
expect_match "$ERR" "bad.conf:5: unknown key 'colour' in policy" "bad config: unknown key named"
printf 'policy = { timeout = 4294967297; };\n' >"$T/bad2.conf"
expect_status 2 "wrapping integer refused" -- "$AGENT" --config "$T/bad2.conf" status
expect_match "$ERR" "bad2.conf:1: integer 4294967297 is out of range" "wrapping integer named"
chmod 666 "$T/bad2.conf"
expect_status 2 "world-writable config refused" -- "$AGENT" --config "$T/bad2.conf" status
expect_match "$ERR" "writable by group or other" "world-writable config: reason"
expect_status 2 "unknown command" -- "$AGENT" --config "$T/agent.conf" frobnicate

# --- first install ----------------------------------------------------------------------------------
publish 5
sync 0 "sync installs a signed policy"
expect_match "$OUT" "installed serial 5" "sync: says what it installed"
expect_eq "$(sha "$TARGET")" "$(sha "$WWW/p/policy.conf")" "installed bytes are the server's"
expect_eq "$(sha "$TARGET.sig")" "$(sha "$WWW/p/policy.conf.sig")" "signature installed beside it"
expect_status 0 "the module's parser accepts it" -- "$GARDE" check --policy "$TARGET"
expect_eq "$(stat -c %a "$TARGET")" "644" "installed policy is 0644"

# An unchanged policy costs a 304 and rewrites nothing.
inode=$(stat -c %i "$TARGET")
before304=$(grep -c '" 304 ' "$NGX/logs/access.log")
sync 0 "second sync of an unchanged policy"
expect_match "$OUT" "unchanged.*304" "second sync: unchanged (304)"
expect_eq "$(grep -c '" 304 ' "$NGX/logs/access.log")" "$((before304 + 1))" "nginx answered 304"
expect_eq "$(stat -c %i "$TARGET")" "$inode" "nothing rewritten on 304"

publish 6
sync 0 "a newer serial is installed"
expect_match "$(cat "$TARGET")" "serial = 6;" "serial 6 installed"
expect_match "$(cat "$TARGET.prev")" "serial = 5;" "the previous policy is kept"
GOOD=$(sha "$TARGET")

# --- refusals: each leaves TARGET untouched -------------------------------------------------------------
refused() { # DESCRIPTION REGEX [CONFIG]
	sync 1 "$1: refused" "${3:-}"
	expect_match "$ERR" "^garde-agent sync: refused: $2" "$1: one-line reason"
	expect_eq "$(printf '%s\n' "$ERR" | wc -l)" "1" "$1: exactly one line"
	expect_eq "$(sha "$TARGET")" "$GOOD" "$1: installed policy untouched"
}
failed() { # DESCRIPTION REGEX CONFIG
	sync 3 "$1: fails" "$3"
	expect_match "$ERR" "^garde-agent sync: failed: $2" "$1: one-line reason"
	expect_eq "$(sha "$TARGET")" "$GOOD" "$1: installed policy untouched"
}

publish 7
printf '# tampered\n' >>"$WWW/p/policy.conf"
refused "tampered policy" "bad signature"

publish 7
python3 - "$WWW/p/policy.conf.sig" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
f = lines[1].split(" ")
f[2] = f[2][:10] + ("B" if f[2][10] == "A" else "A") + f[2][11:]
lines[1] = " ".join(f)
open(p, "w").write("\n".join(lines))
PY
refused "tampered signature" "(bad|malformed) signature"

publish 7 c
refused "unknown key" "unknown key"

publish 4
refused "lower serial" "rollback: serial 4 is lower than the installed serial 6"

publish 7 a 'expires = "2020-01-01T00:00:00Z";'
refused "expired policy" "expired: serial 7 expired at 2020-01-01T00:00:00Z"

publish 7 a 'networks = { lan = [ "10.0.0.0/33" ]; };'
refused "invalid policy" "invalid policy: .*policy.conf:2:"

publish 7 a "$(head -c 3000 /dev/zero | tr '\0' '#')"
refused "oversize body" "too large" "$T/agent-small.conf"

publish 6 a '# same serial, other bytes'
refused "same serial, other bytes" "same serial with different content"

publish 7
failed "server down" "network error" "$T/agent-down.conf"
failed "redirect" "network error: .*redirect refused \\(HTTP 302 to 'https://localhost:" "$T/agent-redirect.conf"
failed "certificate from another CA" "network error: .*(certificate|SSL)" "$T/agent-other.conf"
rm "$WWW/p/policy.conf.sig"
failed "missing signature file" "network error: .*policy.conf.sig: HTTP 404" "$T/agent.conf"

# Two keys, threshold 2: one signature is not enough, two are.
agent_conf "$T/agent-two.conf" "$URL" "threshold = 2;"
publish 7
refused "threshold 2, one signature" "not enough signatures" "$T/agent-two.conf"
"$GARDE" sign --key "$T/keys/b.key" "$WWW/p/policy.conf" >/dev/null
sync 0 "threshold 2, two signatures" "$T/agent-two.conf"
GOOD=$(sha "$TARGET")

# --- status ---------------------------------------------------------------------------------------------
expect_status 0 "status" -- "$AGENT" --config "$T/agent.conf" status
expect_match "$OUT" '"serial":7' "status: installed serial"
expect_match "$OUT" "\"sha256\":\"$GOOD\"" "status: installed hash"
expect_match "$OUT" '"last_install":"20' "status: last install time"
expect_match "$OUT" '"last_error":\{"at":"20[^"]*","reason":"not enough signatures' "status: last error"
printf '%s' "$OUT" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null &&
	pass || fail "status: not valid JSON: $OUT"

# --- apply (push) ----------------------------------------------------------------------------------------------
apply() { expect_status "$1" "$2" -- "$AGENT" --config "$T/agent.conf" apply "$3" "$3.sig"; }
push() { # SERIAL [KEY] [EXTRA]
	policy "$T/push/policy.conf" "$1" "${3:-}"
	rm -f "$T/push/policy.conf.sig"
	"$GARDE" sign --key "$T/keys/${2:-a}.key" "$T/push/policy.conf" >/dev/null
}
push 8
apply 0 "apply installs a pushed policy" "$T/push/policy.conf"
expect_eq "$(sha "$TARGET")" "$(sha "$T/push/policy.conf")" "apply: bytes installed"
GOOD=$(sha "$TARGET")
apply 0 "apply of the same policy is a no-op" "$T/push/policy.conf"
expect_match "$OUT" "unchanged" "apply again: unchanged"
applied_refused() {
	apply 1 "apply $1: refused" "$T/push/policy.conf"
	expect_match "$ERR" "^garde-agent apply: refused: $2" "apply $1: reason"
	expect_eq "$(sha "$TARGET")" "$GOOD" "apply $1: installed policy untouched"
}
push 9; printf ' ' >>"$T/push/policy.conf"; applied_refused "tampered" "bad signature"
push 9 c; applied_refused "unknown key" "unknown key"
push 3; applied_refused "rollback" "rollback"
push 9 a 'expires = "2001-01-01T00:00:00Z";'; applied_refused "expired" "expired"
push 9 a 'mode = "sometimes";'; applied_refused "invalid" "invalid policy"
head -c 5000000 /dev/zero | tr '\0' '#' >"$T/push/policy.conf"
applied_refused "oversize" "too large"
ln -sf "$T/push/policy.conf" "$T/push/link.conf"
expect_status 3 "apply through a symbolic link refused" -- "$AGENT" --config "$T/agent.conf" apply \
	"$T/push/link.conf" "$T/push/policy.conf.sig"

# A policy restored by hand must not be kept by a 304: the ETag is only
# sent while the installed bytes are the ones it was recorded for.
publish 10
sync 0 "sync after a push"
sync 0 "sync again (304)"
expect_match "$OUT" "304" "sync again: 304"
policy "$TARGET.tmp" 10 '# edited by hand'
mv "$TARGET.tmp" "$TARGET"
sync 0 "hand-edited policy: the signed one is installed again"
expect_match "$OUT" "installed serial 10" "hand edit: no 304, reinstalled"
expect_eq "$(sha "$TARGET")" "$(sha "$WWW/p/policy.conf")" "hand edit: the signed bytes are back"

# --- kill -9 during sync: TARGET is always old or new, whole ----------------------------------------------
publish 11
sync 0 "sync before the kill loop"
OLD=$(sha "$TARGET")
pad=$(head -c 400000 /dev/zero | tr '\0' '#')
mkdir -p "$WWW/slow"
serial=12
kills=0
n=0
while [ $n -lt 50 ]; do
	policy "$WWW/slow/policy.conf" $serial "$pad"
	rm -f "$WWW/slow/policy.conf.sig"
	"$GARDE" sign --key "$T/keys/a.key" "$WWW/slow/policy.conf" >/dev/null
	touch -d "@$((STAMP + serial))" "$WWW/slow/policy.conf"
	NEW=$(sha "$WWW/slow/policy.conf")
	"$AGENT" --config "$T/agent-slow.conf" sync >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' "$(shuf -i 0-399 -n 1)")"
	kill -9 $pid 2>/dev/null && kills=$((kills + 1))
	wait $pid 2>/dev/null
	now=$(sha "$TARGET")
	if [ "$now" != "$OLD" ] && [ "$now" != "$NEW" ]; then
		fail "kill -9 round $n: TARGET is neither the old nor the new policy"
	elif ! "$GARDE" check --policy "$TARGET" >/dev/null 2>&1; then
		fail "kill -9 round $n: TARGET does not pass garde check"
	else
		pass
	fi
	OLD=$now
	serial=$((serial + 1))
	n=$((n + 1))
done
# Most kills must have landed during a sync, or the loop tested nothing.
echo "agent_sync: $kills of 50 kills landed during a sync"
[ $kills -ge 25 ] && pass || fail "kill -9: only $kills of 50 kills landed during a sync"
sync 0 "sync completes after the kills" "$T/agent-slow.conf"
expect_eq "$(sha "$TARGET")" "$(sha "$WWW/slow/policy.conf")" "after the kills: the newest policy"
expect_eq "$(find "$T/etc" -name '*.new' | wc -l)" "0" "after the kills: no leftover temp files"

# --- run: installer as root, worker as nobody; SIGHUP pulls, SIGTERM stops ----------------------------------
# The worker reads the CA, the state and the installed policy as nobody.
chmod 755 "$T" "$T/ca" "$T/etc"
chmod 644 "$T/ca/good-ca.pem"
mkdir -p "$T/run-state" "$T/spool/new" "$T/spool/tmp"
sed -e "s|state_dir = .*|state_dir = \"$T/run-state\";\nuser = \"nobody\";|" \
	-e "s|journal = .*|journal = \"$T/run-state/journal\";|" "$T/agent.conf" >"$T/agent-run.conf"
sed -i 's|\(target = .*\)|\1 interval = 3600; jitter = 0;|' "$T/agent-run.conf"
publish 100
"$AGENT" --config "$T/agent-run.conf" run 2>"$T/run.log" &
run_pid=$!
wait_for() { # REGEX: in run.log within 10 s
	i=0
	while ! grep -Eq -- "$1" "$T/run.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	grep -Eq -- "$1" "$T/run.log"
}
wait_for "sync ok: installed serial 100" && pass || fail "run: first pull: $(cat "$T/run.log")"
worker=$(pgrep -P $run_pid)
expect_eq "$(ps -o user= -p "$worker" 2>/dev/null | tr -d ' ')" "nobody" "run: the worker is unprivileged"
expect_eq "$(stat -c %U "$TARGET")" "root" "run: the installed policy is root's"
publish 101
kill -HUP $run_pid
wait_for "sync ok: installed serial 101" && pass || fail "run: SIGHUP pull: $(cat "$T/run.log")"
publish 99
kill -HUP $run_pid
wait_for "sync refused: rollback" && pass || fail "run: rollback refused: $(cat "$T/run.log")"
expect_match "$(cat "$TARGET")" "serial = 101;" "run: rollback left serial 101"
kill -TERM $run_pid
wait $run_pid
expect_eq "$?" "0" "run: SIGTERM exits 0"
expect_match "$(cat "$T/run.log")" "stopping" "run: says it stops"

finish
