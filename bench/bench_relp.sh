#!/bin/sh
# bench_relp.sh - garde-agent's delivery rate to a local rsyslog over RELP,
# next to a plain TCP baseline (logger --tcp, octet counting) measured in
# the same run against the same rsyslogd. The budget (DESIGN.md): at least
# 20,000 events per second over RELP. Figures, never assertions.
#
#   intake   N spool files -> the journal (a config without sinks)
#   relp     the journal -> rsyslog imrelp, acknowledged batch by batch
#            (garde-agent forward; the clock stops when the agent exits,
#            i.e. after the last acknowledgement)
#   logger   the same N messages with logger --tcp --octet-count, timed
#            until rsyslog has written them all (no acknowledgement exists)
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
N=${BENCH_EVENTS:-50000}
AGENT=$(pwd)/$B/garde-agent

if ! command -v rsyslogd >/dev/null || [ ! -x "$AGENT" ]; then
	echo "bench_relp: SKIP: needs rsyslogd (with imrelp) and $AGENT"
	exit 0
fi
tmp=$(mktemp -d /tmp/garde-bench-relp.XXXXXX)
chmod 700 "$tmp"
stop() {
	[ -s "$tmp/rsyslog.pid" ] && kill "$(cat "$tmp/rsyslog.pid")" 2>/dev/null || true
	sleep 0.2
	rm -rf "$tmp"
}
trap stop EXIT INT TERM

set -- $(python3 -c 'import socket
ss=[socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
RELP=$1 TCP=$2
mkdir -m 700 "$tmp/rs" "$tmp/spool" "$tmp/state"
cat > "$tmp/rsyslog.conf" <<EOF
global(workDirectory="$tmp/rs" maxMessageSize="64k")
module(load="imrelp")
module(load="imtcp")
template(name="msgonly" type="string" string="%msg%\n")
ruleset(name="relp") { action(type="omfile" file="$tmp/relp.log" template="msgonly") }
ruleset(name="tcp") { action(type="omfile" file="$tmp/tcp.log" template="msgonly") }
input(type="imrelp" port="$RELP" address="127.0.0.1" ruleset="relp")
input(type="imtcp" port="$TCP" address="127.0.0.1" ruleset="tcp")
EOF
rsyslogd -f "$tmp/rsyslog.conf" -i "$tmp/rsyslog.pid"
sleep 0.5

base="spool = \"$tmp/spool\"; journal = \"$tmp/state/journal\"; state_dir = \"$tmp/state\";"
echo "$base" > "$tmp/intake.conf"
echo "$base sinks = ( { name = \"siem\"; type = \"relp\"; host = \"127.0.0.1\"; port = $RELP; batch = ${BENCH_BATCH:-500}; } );" \
	> "$tmp/relp.conf"

# Events shaped like the module's, and the same messages for logger.
python3 - "$tmp/spool" "$N" "$tmp/lines" <<'EOF'
import json, os, secrets, sys
spool, n, lines = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(spool + "/new", 0o700, exist_ok=True)
with open(lines, "w") as out:
    for i in range(n):
        eid = secrets.token_hex(16)
        ev = {"@timestamp": "2026-11-20T10:00:00.%06dZ" % (i % 1000000),
              "event": {"id": eid, "kind": "event", "category": ["authentication"], "type": ["start"],
                        "action": "login-denied", "outcome": "failure", "reason": "policy_deny",
                        "provider": "pam_garde"},
              "user": {"name": "user%d" % (i % 100)}, "source": {"ip": "203.0.113.%d" % (i % 250)},
              "service": {"name": "sshd"}, "host": {"name": "mail01"}, "process": {"pid": 4242},
              "rule": {"name": "admin-offsite", "ruleset": "17"},
              "garde": {"class": "admin", "zone": "elsewhere", "mode": "enforce"}}
        text = json.dumps(ev, separators=(",", ":"))
        with open("%s/new/%s.json" % (spool, eid), "w") as f:
            f.write(text)
        out.write(text + "\n")
EOF

now() { date +%s.%N; }
rate() { echo "$N / ($2 - $1)" | bc; }
lines_of() { [ -e "$1" ] && wc -l < "$1" || echo 0; }

echo "== event delivery: $N events, rsyslog $(rsyslogd -v | head -1 | awk '{print $2}') on loopback"
t0=$(now)
"$AGENT" --config "$tmp/intake.conf" forward
t1=$(now)
echo "intake (spool -> journal, fsync per 1024):  $(rate "$t0" "$t1") events/s"

t0=$(now)
"$AGENT" --config "$tmp/relp.conf" forward
t1=$(now)
relp=$(rate "$t0" "$t1")
i=0
while [ "$(lines_of "$tmp/relp.log")" -lt "$N" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
got=$(lines_of "$tmp/relp.log")

t0=$(now)
logger --tcp --octet-count --server 127.0.0.1 --port "$TCP" --rfc5424 -t garde -f "$tmp/lines"
while [ "$(lines_of "$tmp/tcp.log")" -lt "$N" ] && [ $i -lt 600 ]; do sleep 0.02; i=$((i + 1)); done
t1=$(now)
base_rate=$(rate "$t0" "$t1")

echo "garde-agent -> RELP (acknowledged):          $relp events/s ($got of $N written by rsyslog; budget 20000)"
echo "logger --tcp --octet-count (no ack):        $base_rate events/s (baseline, same rsyslogd)"
