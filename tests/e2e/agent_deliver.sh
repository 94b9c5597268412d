#!/bin/sh
# agent_deliver.sh - event delivery against real collectors on loopback:
# a private rsyslogd (imrelp + imtcp -> files) and a small HTTP collector,
# both started here and stopped on every exit path.
#
#  1. 10,000 events over RELP: none lost, none duplicated; the same over
#     syslog/TCP (octet counting).
#  2. the HTTP collector stopped, then restarted: everything arrives, and
#     the RELP sink was not held up meanwhile.
#  3. kill -9 of the agent during delivery, 20 times: every event arrives,
#     duplicates only from batches in flight; the journal still verifies.
#  4. malformed spool files go to bad/ with a log line; a torn journal tail
#     is cut off and nothing spooled is lost.
#  5. garde report --verify catches an edited and a deleted record.
#  6. garde report filters and --by counts on known events.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/e2e/helpers/delivery.sh
B=${B:-build}
AGENT=$(pwd)/$B/garde-agent
GARDE=$(pwd)/$B/garde
T=$TEST_TMP

if ! command -v rsyslogd >/dev/null || [ ! -e /usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so ]; then
	skip "rsyslogd with imrelp is not installed (make deps)"
fi

RSYSLOG_PID="" HTTP_PID="" AGENT_PID=""
stop_all() {
	for p in $AGENT_PID $HTTP_PID; do kill -9 "$p" 2>/dev/null; done
	[ -s "$T/rsyslog.pid" ] && kill "$(cat "$T/rsyslog.pid")" 2>/dev/null
	[ -n "$RSYSLOG_PID" ] && wait "$RSYSLOG_PID" 2>/dev/null
	cleanup_tmp
}
trap stop_all EXIT
trap 'exit 1' INT TERM

set -- $(python3 -c 'import socket
ss=[socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
RELP=$1 TCP=$2 HTTP=$3

rsyslog_start "$RELP" "$TCP"

# --- the HTTP collector: appends each POST body to a file, answers 200
cat > "$T/collector.py" <<'EOF'
import http.server, sys
out = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(body)
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
start_http() {
	python3 "$T/collector.py" "$HTTP" "$T/http.log" &
	HTTP_PID=$!
	i=0
	while ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $HTTP), 1)" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1
	done
}
stop_http() { kill -9 "$HTTP_PID" 2>/dev/null; wait "$HTTP_PID" 2>/dev/null; HTTP_PID=""; }

start_http

conf() { # conf NAME SINKS...: an agent config in $T/NAME with its own spool/journal/state
	mkdir -p -m 700 "$T/$1" "$T/$1/spool" "$T/$1/state"
	name=$1; shift
	{
		echo "spool = \"$T/$name/spool\";"
		echo "journal = \"$T/$name/state/journal\";"
		echo "state_dir = \"$T/$name/state\";"
		echo "sinks = ( $* );"
	} > "$T/$name/agent.conf"
}
RELP_SINK="{ name = \"siem\"; type = \"relp\"; host = \"127.0.0.1\"; port = $RELP; batch = 500; timeout = 5; backoff_max = 1; }"
TCP_SINK="{ name = \"tcp\"; type = \"syslog\"; host = \"127.0.0.1\"; port = $TCP; timeout = 5; backoff_max = 1; }"
HTTP_SINK="{ name = \"web\"; type = \"http\"; url = \"http://127.0.0.1:$HTTP/bulk\"; batch = 200; timeout = 2; backoff_max = 1; }"

# ---------------------------------------------------------------- 1
conf one "$RELP_SINK, $TCP_SINK"
spool_events "$T/one/spool" 10000 "$T/one/ids"
expect_status 0 "forward 10,000 events" -- "$AGENT" --config "$T/one/agent.conf" forward
wait_for "$T/one/ids" "$T/relp.log" 10
expect_eq "$(missing "$T/one/ids" "$T/relp.log")" 0 "relp: every one of 10,000 events arrived"
expect_eq "$(dups "$T/relp.log")" 0 "relp: no duplicates"
wait_for "$T/one/ids" "$T/tcp.log" 10
expect_eq "$(missing "$T/one/ids" "$T/tcp.log")" 0 "syslog/tcp: every event arrived"
expect_eq "$(ls "$T/one/spool/new" | wc -l)" 0 "the spool is empty after intake"
expect_eq "$(cat "$T/one/state/worker/checkpoint.siem")" "garde-checkpoint 1 10000" "relp checkpoint at the last record"
expect_match "$(head -1 "$T/relp.log")" '^\{"@timestamp"' "rsyslog parsed the RFC 5424 header (MSG is the JSON)"
expect_status 0 "the journal verifies" -- "$GARDE" report --verify --journal "$T/one/state/journal"

# ---------------------------------------------------------------- 2
conf two "$RELP_SINK, $HTTP_SINK"
stop_http
spool_events "$T/two/spool" 2000 "$T/two/ids"
"$AGENT" --config "$T/two/agent.conf" run 2>"$T/two/agent.err" &
AGENT_PID=$!
wait_for "$T/two/ids" "$T/relp.log" 15
expect_eq "$(missing "$T/two/ids" "$T/relp.log")" 0 "relp delivers while the http collector is down"
sleep 2
expect_eq "$(missing "$T/two/ids" "$T/http.log")" 2000 "nothing reached the stopped http collector"
STATUS=$("$AGENT" --config "$T/two/agent.conf" status 2>/dev/null)
expect_match "$STATUS" '"web":\{"delivered":0,"failed":[1-9][0-9]*,"pending":2000\}' "status shows the http backlog and its failed attempts"
start_http
wait_for "$T/two/ids" "$T/http.log" 20
expect_eq "$(missing "$T/two/ids" "$T/http.log")" 0 "after the restart every event reached the http collector"
expect_match "$(cat "$T/two/agent.err")" "sink web: .*retry in" "the failures were logged with the retry delay"
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=""

# ---------------------------------------------------------------- 3
conf three "$RELP_SINK, $HTTP_SINK"
spool_events "$T/three/spool" 20000 "$T/three/ids"
r0=$(ids "$T/relp.log" | wc -l); h0=$(ids "$T/http.log" | wc -l)
k=0
while [ $k -lt 20 ]; do
	"$AGENT" --config "$T/three/agent.conf" run 2>>"$T/three/agent.err" &
	AGENT_PID=$!
	sleep "0.$(( (k * 37) % 9 + 1 ))"
	kill -9 "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=""
	k=$((k + 1))
done
expect_status 0 "a last forward after 20 kill -9" -- "$AGENT" --config "$T/three/agent.conf" forward
wait_for "$T/three/ids" "$T/relp.log" 20
wait_for "$T/three/ids" "$T/http.log" 20
expect_eq "$(missing "$T/three/ids" "$T/relp.log")" 0 "relp: every event arrived despite kill -9"
expect_eq "$(missing "$T/three/ids" "$T/http.log")" 0 "http: every event arrived despite kill -9"
r_dup=$(( $(ids "$T/relp.log" | wc -l) - r0 - 20000 ))
h_dup=$(( $(ids "$T/http.log" | wc -l) - h0 - 20000 ))
echo "   kill -9 x20: duplicates relp $r_dup (batch 500), http $h_dup (batch 200)"
[ "$r_dup" -le $((20 * 500)) ] && pass || fail "relp duplicates beyond the batches in flight: $r_dup"
[ "$h_dup" -le $((20 * 200)) ] && pass || fail "http duplicates beyond the batches in flight: $h_dup"
expect_status 0 "the journal verifies after the kills" -- "$GARDE" report --verify --journal "$T/three/state/journal"

# ---------------------------------------------------------------- 4
conf four "$RELP_SINK"
spool_events "$T/four/spool" 3 "$T/four/ids"
echo 'not json at all' > "$T/four/spool/new/0123456789abcdef0123456789abcdef.json"
echo '{"event":{"id":"x"}}' > "$T/four/spool/new/notanid.json"
head -c 5000 /dev/zero | tr '\0' ' ' > "$T/four/spool/new/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json"
expect_status 0 "forward with malformed spool files" -- "$AGENT" --config "$T/four/agent.conf" forward
expect_match "$ERR" "0123456789abcdef0123456789abcdef.json: not JSON .*moved to .*/bad/" "a non-JSON file is logged"
expect_match "$ERR" "notanid.json: not named HEX.json" "a wrong name is logged"
expect_match "$ERR" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json: larger than 4096 bytes" "an oversize file is logged"
expect_eq "$(ls "$T/four/spool/bad" | wc -l)" 3 "the three are in bad/"
expect_eq "$(ls "$T/four/spool/new" | wc -l)" 0 "new/ is empty"
wait_for "$T/four/ids" "$T/relp.log" 10
expect_eq "$(missing "$T/four/ids" "$T/relp.log")" 0 "the good events were delivered"
# A crash mid-write: a torn last line; the events still spooled are not lost.
spool_events "$T/four/spool" 5 "$T/four/ids2"
printf '4 00000000000000' >> "$T/four/state/journal"
expect_status 0 "forward over a torn journal tail" -- "$AGENT" --config "$T/four/agent.conf" forward
expect_match "$ERR" "journal:5: torn last record .* cut off" "the repair is reported with file and line"
wait_for "$T/four/ids2" "$T/relp.log" 10
expect_eq "$(missing "$T/four/ids2" "$T/relp.log")" 0 "events spooled after the crash were delivered"
expect_status 0 "the repaired journal verifies" -- "$GARDE" report --verify --journal "$T/four/state/journal"

# ---------------------------------------------------------------- 5
J=$T/one/state/journal
cp "$J" "$T/edited"; sed -i '101s/"u[0-9]"/"mallory"/' "$T/edited"
expect_status 1 "verify catches an edited record" -- "$GARDE" report --verify --journal "$T/edited"
expect_match "$OUT" "edited:101: chain broken at seq 100 .*edited" "and names the line and the seq"
cp "$J" "$T/deleted"; sed -i '5001d' "$T/deleted"
expect_status 1 "verify catches a deleted record" -- "$GARDE" report --verify --journal "$T/deleted"
expect_match "$OUT" "deleted:5001: chain broken at seq 5001 .*1 record\(s\) deleted" "and says what is missing"

# ---------------------------------------------------------------- 6
conf six ""
cat > "$T/known.py" <<'EOF'
import json, os, sys
spool, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [  # time, user, source, rule, reason, service
    ("2026-11-20T08:00:00Z", "alice", "203.0.113.9", "admin-offsite", "policy_deny", "sshd"),
    ("2026-11-20T08:30:00Z", "alice", "203.0.113.9", "admin-offsite", "policy_deny", "sshd"),
    ("2026-11-20T09:10:00Z", "alice", "198.51.100.4", "mail-offsite", "mfa_invalid", "dovecot"),
    ("2026-11-21T10:00:00Z", "bob", "203.0.113.77", "admin-offsite", "policy_deny", "sudo"),
    ("2026-11-21T11:00:00Z", "bob", None, "default", "no_rule", "login"),
    ("2026-11-22T12:00:00Z", "carol", "2001:db8::5", "mail-offsite", "locked_user", "dovecot"),
]
os.makedirs(spool + "/new", 0o700, exist_ok=True)
for i in range(first, last + 1):
    ts, user, src, rule, reason, svc = rows[i]
    eid = "%032x" % (i + 1)
    ev = {"@timestamp": ts, "event": {"id": eid, "action": "login-denied", "outcome": "failure",
          "reason": reason}, "user": {"name": user}, "service": {"name": svc}, "rule": {"name": rule}}
    if src: ev["source"] = {"ip": src}
    with open("%s/new/%s.json" % (spool, eid), "w") as f:
        f.write(json.dumps(ev))
EOF
# Five events journaled, the sixth still in the spool: report reads both.
python3 "$T/known.py" "$T/six/spool" 0 4
expect_status 0 "journal the known events" -- "$AGENT" --config "$T/six/agent.conf" forward
python3 "$T/known.py" "$T/six/spool" 5 5
R() { "$GARDE" report --journal "$T/six/state/journal" --spool "$T/six/spool" "$@"; }
expect_status 0 "report --by user" -- R --by user
expect_eq "$(echo "$OUT" | tr -s ' ' | sed 's/^ //')" "$(printf '3 alice\n2 bob\n1 carol')" \
	"--by user counts the journal and the spool, sorted"
expect_status 0 "report --by rule --since" -- R --by rule --since 2026-11-21T00:00:00Z
expect_eq "$(echo "$OUT" | tr -s ' ' | sed 's/^ //')" \
	"$(printf '1 admin-offsite\n1 default\n1 mail-offsite')" "--by rule from a date"
expect_status 0 "report --user --source CIDR" -- R --user alice --source 203.0.113.0/24 --format csv
expect_eq "$(echo "$OUT" | wc -l)" 3 "csv: a header and alice's two denials from 203.0.113.0/24"
expect_match "$OUT" '^"2026-11-20T08:30:00Z","login-denied","alice","203.0.113.9"' "csv rows"
expect_status 0 "report --reason --format json" -- R --reason locked_user --format json
expect_eq "$(echo "$OUT" | python3 -c 'import json,sys; print([e["user"]["name"] for e in json.load(sys.stdin)])')" \
	"['carol']" "json: carol's lockout, still in the spool"
expect_status 0 "report --by source --until" -- R --by source --until 2026-11-21T09:00:00Z
expect_eq "$(echo "$OUT" | tr -s ' ' | sed 's/^ //')" "$(printf '2 203.0.113.9\n1 198.51.100.4')" \
	"--by source before a time"
expect_status 0 "report --source local" -- R --source local
expect_match "$OUT" "login-denied +bob" "a local login has source 'local'"
expect_eq "$(echo "$OUT" | wc -l)" 1 "only the local one"
expect_status 0 "report --by hour" -- R --by hour --format json
expect_match "$OUT" '"key":"2026-11-20T08:00:00Z","count":2' "--by hour buckets by UTC hour"
expect_status 0 "report --since a duration" -- R --since 7d
expect_status 2 "a bad --since is a usage error" -- R --since yesterday
expect_match "$ERR" "not an RFC 3339 time .* nor a duration" "and says what is expected"
expect_status 0 "report --help" -- "$GARDE" report --help
expect_match "$OUT" "--by KEY" "help lists the options"

# ---------------------------------------------------------------- 7
# The hard bound with the only sink down: the oldest undelivered events go,
# and exactly as many are reported, in status and as an events-dropped event.
DOWN=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
conf seven "{ name = \"down\"; type = \"relp\"; host = \"127.0.0.1\"; port = $DOWN; timeout = 1; }"
sed -i '1i journal_max = 65536; journal_hard = 131072;' "$T/seven/agent.conf"
spool_events "$T/seven/spool" 400 "$T/seven/ids"
expect_status 0 "forward past the hard bound" -- "$AGENT" --config "$T/seven/agent.conf" forward
expect_match "$ERR" "over its hard bound .* undelivered event\(s\) dropped" "the drop is logged"
STATUS=$("$AGENT" --config "$T/seven/agent.conf" status 2>/dev/null)
dropped=$(echo "$STATUS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["dropped"])')
kept=$("$GARDE" report --journal "$T/seven/state/journal" --spool "$T/seven/spool" --format json |
	python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["event"]["action"] == "login-denied"))')
reported=$("$GARDE" report --journal "$T/seven/state/journal" --spool "$T/seven/spool" --format json |
	python3 -c 'import json,sys; print(sum(e.get("garde", {}).get("dropped", 0) for e in json.load(sys.stdin) if e["event"]["action"] == "events-dropped"))')
expect_eq "$((dropped + kept))" 400 "status 'dropped' + events kept = events spooled (dropped $dropped)"
expect_eq "$reported" "$dropped" "the events-dropped events carry the same count"
[ "$(stat -c %s "$T/seven/state/journal")" -le 131072 ] && pass || fail "the journal is within its hard bound"
expect_status 0 "the bounded journal verifies" -- "$GARDE" report --verify --journal "$T/seven/state/journal"

finish
