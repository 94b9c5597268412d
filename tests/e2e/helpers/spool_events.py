# spool_events.py SPOOL N IDS-FILE: N events in SPOOL/new, written the way
# pam_garde writes them (tmp/ then rename, 0600 files in 0700 directories),
# their ids appended to IDS-FILE.
import json, os, secrets, sys

spool, n, idfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.umask(0o077)
os.makedirs(spool + "/new", 0o700, exist_ok=True)
os.makedirs(spool + "/tmp", 0o700, exist_ok=True)
with open(idfile, "a") as ids:
    for i in range(n):
        eid = secrets.token_hex(16)
        ev = {"@timestamp": "2026-11-20T10:%02d:%02d.000000Z" % (i // 60 % 60, i % 60),
              "event": {"id": eid, "kind": "event", "category": ["authentication"], "type": ["start"],
                        "action": "login-denied", "outcome": "failure", "reason": "policy_deny",
                        "provider": "pam_garde"},
              "user": {"name": "u%d" % (i % 5)}, "source": {"ip": "203.0.113.%d" % (i % 9)},
              "service": {"name": "sshd"}, "host": {"name": "mail01"}, "process": {"pid": 4242},
              "rule": {"name": "admin-offsite", "ruleset": "17"}}
        p = "%s/tmp/%s.json" % (spool, eid)
        with open(p, "w") as f:
            f.write(json.dumps(ev, separators=(",", ":")))
        os.rename(p, "%s/new/%s.json" % (spool, eid))
        ids.write(eid + "\n")
