#!/usr/bin/env bash
# The program's CPU while nothing is due: starts the built Mailer (or the DLL given), waits until it answers, lets it
# settle, then reads its user+system CPU time from /proc over a window of wall time.
#   bench/idle-cpu.sh [SECONDS] [MAILER_DLL]                      e.g. bench/idle-cpu.sh 120
#   SUBSCRIBERS=1000000 SETTLE=90 bench/idle-cpu.sh 240 [MAILER_DLL]
# Prints one line: "idle: <ms> ms CPU in <s> s = <percent> % of a core", then the dispatcher's runs in the window
# ("dispatch runs: <n>, median <ms> ms, max <ms> ms", from the Hangfire dashboard). SQLite, in-memory Hangfire, pickup
# folder. Without SUBSCRIBERS: an empty store, the campaign as in appsettings.json (its mailings long past, nothing
# due). With SUBSCRIBERS=N: the deadline three days ahead, so the announcement and the week's reminder are both open;
# a first start makes the store, then N confirmed subscribers are written with both mailings already sent to each,
# and the measured start finds nothing to send. SETTLE (seconds after it answers, default 20) must cover its first
# dispatch, which reads the whole list.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
dll=${2:-src/Mailer/bin/Release/net10.0/Mailer.dll}
settle=${SETTLE:-20}
subscribers=${SUBSCRIBERS:-0}
data=$(mktemp -d /tmp/mailer-idle.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ticks=$(getconf CLK_TCK)
pid=
trap 'if [ -n "$pid" ]; then kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; fi; rm -rf "$data"' EXIT

export ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" Mailer__DataDirectory="$data" \
  Mailer__SigningKey="idle-benchmark-signing-key-0123456789abcdef"
if [ "$subscribers" -gt 0 ]; then
  export Campaign__Deadline=$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ)
fi

start() {
  dotnet "$dll" >>"$data/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$port/healthz/live" >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "the program did not answer; its log:"; cat "$data/log"; exit 1
}

stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

if [ "$subscribers" -gt 0 ]; then
  start; sleep 5; stop   # the schema and the recorded launch
  command -v sqlite3 >/dev/null || { echo "needs sqlite3"; exit 1; }
  sqlite3 "$data/mailer.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $subscribers)
INSERT INTO subscribers (email, locale, platforms, done_platforms, status, created_at, confirmed_at)
SELECT 'person' || i || '@mail' || (i % 100) || '.example', 'de', 'facebook,instagram', '', 'confirmed',
       strftime('%s', 'now', '-2 days') * 1000, strftime('%s', 'now', '-2 days') * 1000
FROM n;
INSERT INTO deliveries (subscriber_id, mailing, status, attempts, created_at, updated_at, not_before, sent_at, last_reply)
SELECT s.id, m.mailing, 'sent', 1, s.created_at, s.created_at, s.created_at, s.created_at, '250 ok'
FROM subscribers s CROSS JOIN (SELECT 'announcement' AS mailing UNION ALL SELECT 'reminder-week') m;
COMMIT;
ANALYZE;
SQL
fi

start
sleep "$settle"

cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(cpu); t0=$(date +%s.%N)
sleep "$seconds"
after=$(cpu); end=$(date +%s.%N)
python3 - "$before" "$after" "$t0" "$end" "$ticks" <<'PY'
import sys
b, a, s, e, t = map(float, sys.argv[1:])
ms = (a - b) / t * 1000
wall = e - s
print(f"idle: {ms:.0f} ms CPU in {wall:.0f} s = {ms / 10 / wall:.2f} % of a core")
PY
# The dispatcher's runs that ended in the window: Hangfire's dashboard lists each succeeded job, its duration first.
curl -fs "http://127.0.0.1:$port/hangfire/jobs/succeeded?count=100" | python3 -c '
import re, statistics, sys
t0 = float(sys.argv[1])
ms = []
for row in sys.stdin.read().split("<tr")[1:]:
    if "DispatchJob" not in row:
        continue
    at = re.search(r"data-moment=\"(\d+)\"", row)
    took = re.search(r">\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*<", row.split("DispatchJob", 1)[1])
    if at and took and float(at.group(1)) >= t0:
        ms.append(float(took.group(1)) * {"ms": 1, "s": 1000, "m": 60000}[took.group(2)])
print(f"dispatch runs: {len(ms)}, median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms" if ms else "dispatch runs: none in the window")
' "$t0" || echo "dispatch runs: dashboard not readable"
