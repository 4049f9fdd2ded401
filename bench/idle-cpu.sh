#!/usr/bin/env bash
# The program's CPU while nothing is due: starts the built Mailer (or the DLL given), waits until it answers, lets it
# settle, then reads its user+system CPU time from /proc over a window of wall time.
#   bench/idle-cpu.sh [SECONDS] [MAILER_DLL]        e.g. bench/idle-cpu.sh 120
# Prints one line: "idle: <ms> ms CPU in <s> s = <percent> % of a core". Empty store, SQLite, in-memory Hangfire,
# pickup folder; the campaign's settings as in appsettings.json (its mailings are long past, so nothing is due).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
dll=${2:-src/Mailer/bin/Release/net10.0/Mailer.dll}
settle=${SETTLE:-20}
data=$(mktemp -d /tmp/mailer-idle.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ticks=$(getconf CLK_TCK)

ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" Mailer__DataDirectory="$data" \
  Mailer__SigningKey="idle-benchmark-signing-key-0123456789abcdef" \
  dotnet "$dll" >"$data/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT

for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/healthz/live" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "http://127.0.0.1:$port/healthz/live" >/dev/null || { echo "the program did not answer; its log:"; cat "$data/log"; exit 1; }
sleep "$settle"

cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(cpu); start=$(date +%s.%N)
sleep "$seconds"
after=$(cpu); end=$(date +%s.%N)
python3 - "$before" "$after" "$start" "$end" "$ticks" <<'PY'
import sys
b, a, s, e, t = map(float, sys.argv[1:])
ms = (a - b) / t * 1000
wall = e - s
print(f"idle: {ms:.0f} ms CPU in {wall:.0f} s = {ms / 10 / wall:.2f} % of a core")
PY
