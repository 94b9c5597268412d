#!/bin/sh
# agent_privsep.sh - `garde-agent run` as root with `user = "nobody"`: the
# privileged side takes the events out of the root-only spool into the
# journal; the worker, as nobody, delivers them to a private rsyslogd over
# RELP through a read-only descriptor of the journal.
#
#  1. events spooled by root reach the collector, each once; the worker's
#     uids are all nobody's, it holds no descriptor of the spool and only a
#     read-only one of the journal; the spool stays root's, 0700; status
#     reports the spool depth, the journal size, the sink's counts, dropped.
#  2. SIGTERM while delivering, events spooled while stopped, a restart:
#     nothing lost, nothing duplicated.
#  3. compaction by the privileged side, from the worker's checkpoints:
#     the worker follows the new file; nothing lost or duplicated.
#  4. the hard bound with the sink down: the privileged side drops and
#     counts, status and the events-dropped events agree.
# The agent runs with the capability bounding set of
# packaging/garde-agent.service (setpriv), so that the unit's claim that
# the root process needs nothing more is tested too.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/e2e/helpers/delivery.sh
B=${B:-build}
AGENT=$(pwd)/$B/garde-agent
GARDE=$(pwd)/$B/garde
T=$TEST_TMP

if [ "$(id -u)" -ne 0 ]; then
	skip "needs root (the privileged side and the drop to nobody)"
fi
if ! command -v rsyslogd >/dev/null || [ ! -e /usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so ]; then
	skip "rsyslogd with imrelp is not installed (make deps)"
fi
command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
NOBODY=$(id -u nobody 2>/dev/null) || skip "no user nobody"
NOGROUP=$(id -g nobody)

RSYSLOG_PID="" AGENT_PID=""
stop_all() {
	[ -n "$AGENT_PID" ] && kill -9 "$AGENT_PID" 2>/dev/null
	[ -s "$T/rsyslog.pid" ] && kill "$(cat "$T/rsyslog.pid")" 2>/dev/null
	[ -n "$RSYSLOG_PID" ] && wait "$RSYSLOG_PID" 2>/dev/null
	cleanup_tmp
}
trap stop_all EXIT
trap 'exit 1' INT TERM

# The worker (nobody) must reach STATE_DIR/worker under $T; the spools stay 0700.
chmod 755 "$T"
RELP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rsyslog_start "$RELP"

# status_get CONF PYTHON-EXPR: a value from `status` (s is the parsed JSON)
status_get() {
	"$AGENT" --config "$1" status 2>/dev/null | python3 -c "import json,sys; s=json.load(sys.stdin); print($2)"
}
# The unit's CapabilityBoundingSet=.
UNIT_CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' packaging/garde-agent.service |
	tr 'A-Z' 'a-z' | sed 's/cap_//g; s/ \{1,\}/,+/g; s/^/-all,+/')
start_agent() { # CONF LOG
	: >>"$2"
	setpriv --bounding-set="$UNIT_CAPS" -- "$AGENT" --config "$1" run 2>>"$2" &
	AGENT_PID=$!
}
stop_agent() { # SIGTERM; $STOPPED gets the exit status
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	STOPPED=$?
	AGENT_PID=""
}
# worker_of PID: the child of the privileged side, once it exists
worker_of() {
	i=0
	while [ $i -lt 50 ]; do
		w=$(pgrep -P "$1" | head -1)
		[ -n "$w" ] && { echo "$w"; return 0; }
		sleep 0.1; i=$((i + 1))
	done
	return 1
}


conf() { # conf NAME SINKS [EXTRA]: an agent config in $T/NAME, spool root's 0700, user nobody
	mkdir -p -m 700 "$T/$1/spool"
	mkdir -p -m 755 "$T/$1/state"
	{
		echo "spool = \"$T/$1/spool\";"
		echo "journal = \"$T/$1/state/journal\";"
		echo "state_dir = \"$T/$1/state\";"
		echo "user = \"nobody\";"
		[ -n "${3:-}" ] && echo "$3"
		echo "sinks = ( $2 );"
	} > "$T/$1/agent.conf"
}
RELP_SINK="{ name = \"siem\"; type = \"relp\"; host = \"127.0.0.1\"; port = $RELP; batch = 200; timeout = 5; backoff_max = 1; }"

# ---------------------------------------------------------------- 1
conf one "$RELP_SINK"
# As an earlier version left it: the state directory the user's, 0700.
chown nobody: "$T/one/state" && chmod 700 "$T/one/state"
mkdir -m 700 "$T/one/state/worker"
spool_events "$T/one/spool" 3000 "$T/one/ids"
start_agent "$T/one/agent.conf" "$T/one/agent.err"
wait_for "$T/one/ids" "$T/relp.log" 20
expect_eq "$(missing "$T/one/ids" "$T/relp.log")" 0 "every event spooled by root reached rsyslog through the worker"
expect_eq "$(dups "$T/relp.log")" 0 "relp: no duplicates"
W=$(worker_of "$AGENT_PID") || fail "no worker process under $AGENT_PID"
expect_eq "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$W/status")" "$NOBODY $NOBODY $NOBODY $NOBODY" \
	"the worker's real, effective, saved and fs uids are nobody's"
expect_eq "$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$W/status")" "$NOGROUP $NOGROUP $NOGROUP $NOGROUP" \
	"the worker's gids are nobody's group"
expect_eq "$(awk '/^Groups:/ {print $2}' "/proc/$W/status")" "$NOGROUP" "the worker has no other group"
expect_eq "$(awk '/^CapEff:/ {print $2}' "/proc/$W/status")" "0000000000000000" "the worker has no capability"
expect_eq "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$W/status")" "1" "the worker has no_new_privs"
expect_eq "$(awk '/^Uid:/ {print $2}' "/proc/$AGENT_PID/status")" "0" "the privileged side is root"
expect_eq "$(awk '/^CapBnd:/ {print $2}' "/proc/$AGENT_PID/status")" "00000000000000c1" \
	"with only the unit's capabilities (chown, setgid, setuid): $UNIT_CAPS"
spool_fds=0 journal_fds=0 journal_rw=0
for fd in /proc/$W/fd/*; do
	target=$(readlink "$fd") || continue
	case $target in
	"$T/one/spool"*) spool_fds=$((spool_fds + 1)) ;;
	"$T/one/state/journal"*)
		journal_fds=$((journal_fds + 1))
		flags=$(awk '/^flags:/ {print $2}' "/proc/$W/fdinfo/${fd##*/}")
		[ $(( 0$flags & 3 )) -ne 0 ] && journal_rw=$((journal_rw + 1)) ;;
	esac
done
expect_eq "$spool_fds" 0 "the worker holds no descriptor of the spool"
[ "$journal_fds" -ge 1 ] && pass || fail "the worker holds no descriptor of the journal"
expect_eq "$journal_rw" 0 "every journal descriptor the worker holds is read-only"
expect_eq "$(stat -c '%U %a' "$T/one/spool" "$T/one/spool/new" | tr '\n' ' ')" "root 700 root 700 " \
	"the spool and new/ are still root's, 0700"
expect_eq "$(ls "$T/one/spool/new" | wc -l)" 0 "the privileged side emptied the spool"
expect_eq "$(stat -c '%U %a' "$T/one/state/journal")" "root 600" "the journal is root's, 0600"
expect_eq "$(stat -c '%U %G %a' "$T/one/state")" "root $(id -gn nobody) 750" "the state directory is root's"
expect_eq "$(stat -c '%U %a' "$T/one/state/worker")" "nobody 755" "the worker's directory is nobody's"
expect_eq "$(cat "$T/one/state/worker/checkpoint.siem")" "garde-checkpoint 1 3000" \
	"the worker's checkpoint is at the last record"
spool_events "$T/one/spool" 1 "$T/one/ids"
if setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups ls "$T/one/spool/new" >/dev/null 2>&1; then
	fail "nobody can list the spool"
else
	pass
fi
wait_for "$T/one/ids" "$T/relp.log" 10
expect_eq "$(missing "$T/one/ids" "$T/relp.log")" 0 "an event spooled while running arrives (inotify on the privileged side)"
expect_status 0 "status while running" -- "$AGENT" --config "$T/one/agent.conf" status
expect_match "$OUT" '"spool_depth":0,"journal_bytes":[1-9][0-9]*,"dropped":0,"sinks":\{"siem":\{"delivered":3001,"failed":[0-9]+,"pending":0\}\}' \
	"status: spool depth, journal size, dropped and the sink's counts"
stop_agent
expect_eq "$STOPPED" 0 "SIGTERM: run exits 0"
expect_eq "$(pgrep -P "$W" 2>/dev/null; kill -0 "$W" 2>/dev/null && echo alive)" "" "the worker is gone too"
expect_status 0 "the journal verifies" -- "$GARDE" report --verify --journal "$T/one/state/journal"

# ---------------------------------------------------------------- 2
# Small batches: a RELP session each, so that the stop lands mid-way.
conf two "{ name = \"siem\"; type = \"relp\"; host = \"127.0.0.1\"; port = $RELP; batch = 10; timeout = 5; }"
spool_events "$T/two/spool" 6000 "$T/two/ids"
start_agent "$T/two/agent.conf" "$T/two/agent.err"
# Stop while delivering: once some, not all, have arrived.
i=0
while [ ! -s "$T/two/state/worker/checkpoint.siem" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
stop_agent
expect_eq "$STOPPED" 0 "SIGTERM during delivery: run exits 0"
before=$((6000 - $(missing "$T/two/ids" "$T/relp.log")))
echo "   SIGTERM after $before of 6000 events had arrived"
[ "$before" -lt 6000 ] && pass || fail "the stop did not land during delivery"
expect_match "$(cat "$T/two/agent.err")" "signal 15: stopping" "the worker says it stops"
spool_events "$T/two/spool" 500 "$T/two/ids"
start_agent "$T/two/agent.conf" "$T/two/agent.err"
wait_for "$T/two/ids" "$T/relp.log" 30
expect_eq "$(missing "$T/two/ids" "$T/relp.log")" 0 "after the restart every event arrived (6,500)"
expect_eq "$(dups "$T/relp.log")" 0 "and none twice: SIGTERM finished the batch in flight"
expect_eq "$(ls "$T/two/spool/new" | wc -l)" 0 "the spool is empty"
stop_agent
expect_status 0 "the journal verifies" -- "$GARDE" report --verify --journal "$T/two/state/journal"

# ---------------------------------------------------------------- 3
conf three "$RELP_SINK" "journal_max = 65536; journal_hard = 16777216;"
start_agent "$T/three/agent.conf" "$T/three/agent.err"
k=0
while [ $k -lt 6 ]; do
	spool_events "$T/three/spool" 400 "$T/three/ids"
	wait_for "$T/three/ids" "$T/relp.log" 20
	k=$((k + 1))
done
expect_eq "$(missing "$T/three/ids" "$T/relp.log")" 0 "compaction under way: every one of 2,400 events arrived"
expect_eq "$(dups "$T/relp.log")" 0 "and none twice"
anchor=$(head -1 "$T/three/state/journal" | cut -d' ' -f3)
[ "$anchor" -gt 0 ] && pass || fail "the privileged side compacted the journal (anchor $anchor)"
[ "$(stat -c %s "$T/three/state/journal")" -le 400000 ] && pass ||
	fail "the journal stays near its soft bound: $(stat -c %s "$T/three/state/journal") bytes"
expect_eq "$(status_get "$T/three/agent.conf" 's["sinks"]["siem"]["pending"], s["dropped"]')" "0 0" \
	"nothing pending, nothing dropped"
stop_agent
expect_eq "$(cat "$T/three/state/worker/checkpoint.siem")" "garde-checkpoint 1 2400" "the checkpoint followed"
expect_status 0 "the compacted journal verifies" -- "$GARDE" report --verify --journal "$T/three/state/journal"

# ---------------------------------------------------------------- 4
DOWN=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
conf four "{ name = \"down\"; type = \"relp\"; host = \"127.0.0.1\"; port = $DOWN; timeout = 1; backoff_max = 1; }" \
	"journal_max = 65536; journal_hard = 131072;"
spool_events "$T/four/spool" 400 "$T/four/ids"
start_agent "$T/four/agent.conf" "$T/four/agent.err"
i=0
while ! grep -q "undelivered event(s) dropped" "$T/four/agent.err" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
stop_agent
expect_match "$(cat "$T/four/agent.err")" "over its hard bound .* undelivered event\(s\) dropped" "the drop is logged"
dropped=$(status_get "$T/four/agent.conf" 's["dropped"]')
kept=$("$GARDE" report --journal "$T/four/state/journal" --spool "$T/four/spool" --format json |
	python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["event"]["action"] == "login-denied"))')
reported=$("$GARDE" report --journal "$T/four/state/journal" --spool "$T/four/spool" --format json |
	python3 -c 'import json,sys; print(sum(e.get("garde", {}).get("dropped", 0) for e in json.load(sys.stdin) if e["event"]["action"] == "events-dropped"))')
expect_eq "$((dropped + kept))" 400 "status 'dropped' + events kept = events spooled (dropped $dropped)"
expect_eq "$reported" "$dropped" "the events-dropped events carry the same count"
[ "$(stat -c %s "$T/four/state/journal")" -le 131072 ] && pass || fail "the journal is within its hard bound"
expect_eq "$(stat -c %U "$T/four/state/dropped")" "root" "the dropped count is the privileged side's"
pending=$(status_get "$T/four/agent.conf" 's["sinks"]["down"]["pending"]')
last=$(tail -1 "$T/four/state/journal" | cut -d' ' -f1)
anchor=$(head -1 "$T/four/state/journal" | cut -d' ' -f3)
expect_eq "$pending" "$((last - anchor))" "pending counts only what is still in the journal"
expect_status 0 "the bounded journal verifies" -- "$GARDE" report --verify --journal "$T/four/state/journal"

finish
