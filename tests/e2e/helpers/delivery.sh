# tests/e2e/helpers/delivery.sh - what the agent's delivery tests share: a
# private rsyslogd, spooled events, and counting what reached a collector.
# Source it after tests/lib.sh; it uses $T (a private temporary directory).

SPOOL_EVENTS="$(pwd)/tests/e2e/helpers/spool_events.py"

# rsyslog_start RELP-PORT [TCP-PORT]: rsyslogd with its own config, work
# directory and pid file in $T (never /etc/rsyslog.conf, never /var/log),
# writing what imrelp (and imtcp) receive to $T/relp.log ($T/tcp.log).
# Sets RSYSLOG_PID; returns once it listens, or fails the test.
rsyslog_start() {
	mkdir -m 700 "$T/rs"
	{
		echo "global(workDirectory=\"$T/rs\" maxMessageSize=\"64k\")"
		echo 'module(load="imrelp")'
		[ -n "${2:-}" ] && echo 'module(load="imtcp")'
		echo 'template(name="msgonly" type="string" string="%msg%\n")'
		echo "ruleset(name=\"relp\") { action(type=\"omfile\" file=\"$T/relp.log\" template=\"msgonly\") }"
		echo "input(type=\"imrelp\" port=\"$1\" address=\"127.0.0.1\" ruleset=\"relp\")"
		if [ -n "${2:-}" ]; then
			echo "ruleset(name=\"tcp\") { action(type=\"omfile\" file=\"$T/tcp.log\" template=\"msgonly\") }"
			echo "input(type=\"imtcp\" port=\"$2\" address=\"127.0.0.1\" ruleset=\"tcp\")"
		fi
	} > "$T/rsyslog.conf"
	rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid" >"$T/rsyslog.out" 2>&1 &
	RSYSLOG_PID=$!
	i=0
	while ! ss -ltn 2>/dev/null | grep -q "127.0.0.1:$1 "; do
		i=$((i + 1)); [ $i -gt 50 ] && { fail "rsyslogd did not start"; cat "$T/rsyslog.out"; finish; exit 1; }
		sleep 0.1
	done
}

# spool_events SPOOL N IDS-FILE: N events in SPOOL/new (spool_events.py).
spool_events() { python3 "$SPOOL_EVENTS" "$@"; }

# ids FILE: the event ids found in a collector's file, one per line (with repeats)
ids() { [ -e "$1" ] && sed -n 's/.*"event":{"id":"\([0-9a-f]\{32\}\)".*/\1/p' "$1"; }
# missing IDS COLLECTED: how many of the ids are not in the collector's file
missing() { ids "$2" | sort -u > "$T/got"; sort -u "$1" | comm -23 - "$T/got" | wc -l; }
# dups FILE: deliveries beyond the first, over all ids
dups() { echo $(( $(ids "$1" | wc -l) - $(ids "$1" | sort -u | wc -l) )); }
# wait_for IDS COLLECTED SECONDS: until every id has arrived
wait_for() {
	i=0
	while [ "$(missing "$1" "$2")" -ne 0 ] && [ $i -lt $(($3 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
}
