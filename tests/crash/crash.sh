#!/usr/bin/env bash
# Crash tests with real processes: the Mailer program (Release build, SQLite) sending to a real SMTP sink.
#
#   tests/crash/crash.sh            full form: 20,000 subscribers, 5 runs of each kind (about 15 minutes)
#   tests/crash/crash.sh --short    CI form: 2,000 subscribers, 2 kill -9 runs, 1 SIGTERM run, 2 signup bursts
#   options: --subscribers N  --runs N  --no-build  --keep (leave the work folder)
#
# Kinds of run:
#   kill -9 during the fan-out   the announcement to N imported subscribers; the process is killed at a random
#                                moment, started again, and the mailing finishes. Nobody may be left without the
#                                mail; at most Smtp:Connections people may get it twice (a message the sink took just
#                                before the kill, whose row could not be written).
#   SIGTERM during the fan-out   the same, but a polite stop: nothing may stay 'sending', every message the sink took
#                                must be recorded as sent, and after the restart nobody gets it twice.
#   kill -9 during signups       32 clients post signups; the process is killed; every signup answered 202 must
#                                be in the store (with its consent) after the restart.
# Prints one line per run and exits non-zero when any run broke a promise.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

subscribers=20000 fanout_runs=5 sigterm_runs=5 burst_runs=5 build=1 keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --short) subscribers=2000 fanout_runs=2 sigterm_runs=1 burst_runs=2 ;;
    --subscribers) subscribers=$2; shift ;;
    --runs) fanout_runs=$2 sigterm_runs=$2 burst_runs=$2; shift ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# Python 3 with its sqlite3 module (the standard library's) runs the sink, the clients and the checks.
python=python3
if ! "$python" -c 'import sqlite3' 2>/dev/null; then
  python=/usr/bin/python3
  "$python" -c 'import sqlite3' 2>/dev/null || { apt-get install -y -qq python3 >/dev/null && "$python" -c 'import sqlite3'; } \
    || { echo "crash: needs python3 with its sqlite3 module" >&2; exit 2; }
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 ASPNETCORE_ENVIRONMENT=Production MAILER_HOME="$root"
if [ "$build" = 1 ]; then
  dotnet build src/Mailer -c Release -v quiet -nologo >/dev/null
fi
dll="$root/src/Mailer/bin/Release/net10.0/Mailer.dll"
kit="$python $root/tests/crash/crashkit.py"
[ -f "$dll" ] || { echo "crash: $dll is missing; build first" >&2; exit 2; }

work=$(mktemp -d /tmp/mailer-crash.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if [ "$keep" = 0 ]; then rm -rf "$work"; else echo "crash: work folder kept: $work"; fi
}
trap cleanup EXIT

connections=4
launch=$(TZ=Europe/Berlin date -d '-1 hour' +%Y-%m-%dT%H:%M:%S)
deadline=$(TZ=Europe/Berlin date -d '+30 days' +%Y-%m-%dT23:59:59)
settings() {   # data folder, smtp port
  echo "--Mailer:DataDirectory=$1" "--Mailer:SigningKey=crash-test-signing-key-0123456789abcdefghij" \
    "--Smtp:Host=127.0.0.1" "--Smtp:Port=$2" "--Smtp:Security=None" "--Smtp:Connections=$connections" \
    "--Campaign:PollInterval=00:00:01" "--Campaign:LaunchAt=$launch" "--Campaign:Deadline=$deadline" \
    "--Campaign:LeaseDuration=00:00:10" "--Subscribers:SignupsPerClient=100000" "--Subscribers:SignupWindow=00:00:01" \
    "--Logging:LogLevel:Default=Warning"
}

sql() { "$python" - "$1" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
print(db.execute(sys.argv[2]).fetchone()[0])
EOF
}

start_sink() {   # port, log
  : > "$2"
  $kit sink --port "$1" --log "$2" --open-file "$2.open" &
  pids+=($!)
  sink_pid=$!
  for _ in $(seq 100); do [ -f "$2.open" ] && return; sleep 0.1; done
  echo "crash: the SMTP sink did not start" >&2; exit 1
}

start_mailer() {   # data, smtp port, http port, log
  # shellcheck disable=SC2046
  dotnet "$dll" --urls "http://127.0.0.1:$3" $(settings "$1" "$2") >>"$4" 2>&1 &
  mailer_pid=$!
  pids+=("$mailer_pid")
}

lines() { [ -f "$1" ] && wc -l <"$1" | tr -d ' ' || echo 0; }

wait_until() {   # seconds, description, command...
  local limit=$1 what=$2; shift 2
  local until=$((SECONDS + limit))
  while ! "$@"; do
    if [ $SECONDS -gt $until ]; then echo "crash: waited ${limit}s for $what" >&2; return 1; fi
    sleep 0.2
  done
}

finished() {   # db, n
  [ "$(sql "$1" "SELECT COUNT(*) FROM deliveries WHERE mailing = 'announcement' AND status IN ('sent', 'failed', 'skipped')" 2>/dev/null || echo -1)" = "$2" ]
}

received_at_least() { [ "$(lines "$1")" -ge "$2" ]; }

echo "crash: $subscribers subscribers; $fanout_runs kill -9 and $sigterm_runs SIGTERM runs during the fan-out, $burst_runs kill -9 runs during signups; Smtp:Connections=$connections"
template="$work/template"
mkdir -p "$template"
"$python" bench/make-subscribers.py "$subscribers" --seed 7 >"$work/subscribers.csv"
dotnet "$dll" import "$work/subscribers.csv" $(settings "$template" 25) >"$work/import.log" 2>&1 \
  || { cat "$work/import.log" >&2; echo "crash: import failed" >&2; exit 1; }

failures=0
report() { echo "crash: $*"; }

fanout_run() {   # kind (kill|term), number
  local kind=$1 run=$2 dir="$work/$1-$2" smtp http
  mkdir -p "$dir"; cp -r "$template" "$dir/data"
  smtp=$($kit free-port); http=$($kit free-port)
  start_sink "$smtp" "$dir/rcpt.log"
  start_mailer "$dir/data" "$smtp" "$http" "$dir/mailer.log"
  local target=$((subscribers / 10 + (RANDOM * 32768 + RANDOM) % (subscribers * 8 / 10 + 1)))
  wait_until 600 "$target messages" received_at_least "$dir/rcpt.log" "$target"
  local open; open=$(cat "$dir/rcpt.log.open")
  if [ "$kind" = kill ]; then
    kill -9 "$mailer_pid"
  else
    kill -TERM "$mailer_pid"
  fi
  wait "$mailer_pid" 2>/dev/null || true
  local at_stop; at_stop=$(lines "$dir/rcpt.log")
  local db="$dir/data/mailer.db" verdict=OK detail=""
  if [ "$kind" = term ]; then
    local sending sent
    sending=$(sql "$db" "SELECT COUNT(*) FROM deliveries WHERE status = 'sending'")
    sent=$(sql "$db" "SELECT COUNT(*) FROM deliveries WHERE status = 'sent'")
    detail="at the stop: $sending sending, $sent recorded sent of $at_stop received; "
    if [ "$sending" != 0 ] || [ "$sent" != "$at_stop" ]; then verdict=FAILED; fi
  fi
  start_mailer "$dir/data" "$smtp" "$http" "$dir/mailer.log"
  wait_until 900 "the mailing to finish" finished "$db" "$subscribers"
  kill -TERM "$mailer_pid"; wait "$mailer_pid" 2>/dev/null || true
  kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
  local figures none twice strangers
  figures=$($kit fanout-report --db "$db" --log "$dir/rcpt.log")
  none=$(echo "$figures" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["none"])')
  twice=$(echo "$figures" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["twice_or_more"])')
  strangers=$(echo "$figures" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["strangers"])')
  local allowed=$connections
  [ "$kind" = term ] && allowed=0
  if [ "$none" != 0 ] || [ "$twice" -gt "$allowed" ] || [ "$strangers" != 0 ]; then verdict=FAILED; fi
  [ "$verdict" = OK ] || failures=$((failures + 1))
  report "$(printf '%-7s run %d: stopped after %5d of %d messages (%2d%%), %d connections open; %s0 messages: %d, 2+ messages: %d (allowed %d); %s  %s' \
    "$([ "$kind" = kill ] && echo 'kill -9' || echo SIGTERM)" "$run" "$at_stop" "$subscribers" $((at_stop * 100 / subscribers)) "$open" \
    "$detail" "$none" "$twice" "$allowed" "$figures" "$verdict")"
}

burst_run() {   # number
  local run=$1 dir="$work/burst-$1" smtp http
  mkdir -p "$dir/data"
  smtp=$($kit free-port); http=$($kit free-port)
  start_sink "$smtp" "$dir/rcpt.log"
  start_mailer "$dir/data" "$smtp" "$http" "$dir/mailer.log"
  $kit wait-http "http://127.0.0.1:$http/healthz" --timeout 120
  : >"$dir/accepted.txt"
  $kit burst --url "http://127.0.0.1:$http" --out "$dir/accepted.txt" --prefix "burst$run-" --clients 32 2>>"$dir/burst.log" &
  local burst_pid=$!
  pids+=("$burst_pid")
  local target=$((200 + RANDOM % 1500))
  wait_until 300 "$target signups" received_at_least "$dir/accepted.txt" "$target"
  kill -9 "$mailer_pid"; wait "$mailer_pid" 2>/dev/null || true
  kill "$burst_pid" 2>/dev/null || true; wait "$burst_pid" 2>/dev/null || true
  start_mailer "$dir/data" "$smtp" "$http" "$dir/mailer.log"
  $kit wait-http "http://127.0.0.1:$http/healthz" --timeout 120
  kill -TERM "$mailer_pid"; wait "$mailer_pid" 2>/dev/null || true
  kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
  local figures missing errors verdict=OK
  figures=$($kit burst-report --db "$dir/data/mailer.db" --accepted "$dir/accepted.txt")
  missing=$(echo "$figures" | "$python" -c 'import json,sys; f=json.load(sys.stdin); print(f["missing"] + f["without_consent"])')
  errors=$(grep -c "^burst: 5" "$dir/burst.log" || true)
  if [ "$missing" != 0 ] || [ "$errors" != 0 ]; then verdict=FAILED; failures=$((failures + 1)); fi
  report "$(printf 'signups run %d: killed after %d answered 202; missing from the store: %d, 5xx answers: %d; %s  %s' \
    "$run" "$(lines "$dir/accepted.txt")" "$missing" "$errors" "$figures" "$verdict")"
}

for run in $(seq "$fanout_runs"); do fanout_run kill "$run"; done
for run in $(seq "$sigterm_runs"); do fanout_run term "$run"; done
for run in $(seq "$burst_runs"); do burst_run "$run"; done

if [ "$failures" -gt 0 ]; then
  echo "crash: $failures run(s) broke a promise (work folder: $work)"
  keep=1
  exit 1
fi
echo "crash: all $((fanout_runs + sigterm_runs + burst_runs)) runs kept every promise (${SECONDS} s)"
