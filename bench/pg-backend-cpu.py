#!/usr/bin/env python3
"""pg-backend-cpu.py PSQL_URL DB OUT: until killed (SIGTERM), the CPU seconds (user + system) of the PostgreSQL
backends serving database DB, summed over all of them, written to OUT at the end. The server must run on this
machine (it reads /proc). Backends are found every second, their CPU read every 0.2 s (a backend's last 0.2 s
before it exits can be missed)."""
import os, signal, subprocess, sys, time

url, db, out = sys.argv[1:4]
tick = os.sysconf("SC_CLK_TCK")
seen = {}
running = True
signal.signal(signal.SIGTERM, lambda *_: globals().__setitem__("running", False))
last_lookup = 0.0
while running:
    if time.monotonic() - last_lookup >= 1:
        last_lookup = time.monotonic()
        pids = subprocess.run(["psql", url, "-qAt", "-c",
            f"SELECT pid FROM pg_stat_activity WHERE datname = '{db}' AND backend_type = 'client backend'"],
            capture_output=True, text=True).stdout.split()
        for pid in pids:
            seen.setdefault(int(pid), 0)
    for pid in seen:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            seen[pid] = max(seen[pid], int(fields[11]) + int(fields[12]))
        except (FileNotFoundError, ProcessLookupError):
            pass
    time.sleep(0.2)
with open(out, "w") as f:
    f.write("%.1f\n" % (sum(seen.values()) / tick))
