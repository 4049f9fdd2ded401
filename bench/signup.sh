#!/usr/bin/env bash
# POST /subscribe against a bare 202 endpoint in the same process, with the same wrk command, then kill -9 and
# count: every signup answered 202 must be in the store.
#
#   bench/signup.sh            3 runs of 10 s each (after a warm-up), median
#
# Settings (environment): RUNS (3), DURATION (10s), THREADS (2), CONNECTIONS (64), SKIP_BUILD=1, BENCH_WORK.
# The program runs with Benchmarks:BareEndpoint=true (POST /bench/bare answers 202 and does nothing else) and
# the per-client signup limit lifted (every request comes from 127.0.0.1); confirmation mails go to smtp-sink.
source "$(dirname "$0")/lib.sh"

RUNS="${RUNS:-3}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
SIGNING_KEY=bench-signing-key-0123456789abcdef0123456789

one_bench_at_a_time
need_postfix; need_wrk; need_sqlite3
build_mailer

DATA="$WORK/signup"
rm -rf "$DATA"; mkdir -p "$DATA"
sink_port=$(free_port); start_sink "$sink_port"
http=$(free_port)
(cd "$REPO" && exec dotnet "$MAILER_DLL" --urls "http://127.0.0.1:$http" \
    --Mailer:DataDirectory="$DATA" --Mailer:SigningKey=$SIGNING_KEY --Benchmarks:BareEndpoint=true \
    --Subscribers:SignupsPerClient=100000 --Subscribers:SignupWindow=00:00:01 \
    --Smtp:Host=127.0.0.1 --Smtp:Port="$sink_port" --Smtp:Security=None \
    --Logging:LogLevel:Default=Warning > "$DATA/mailer.log" 2>&1) &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$http") 2>/dev/null && break; sleep 0.2; done

# wrk_run PATH: "requests/s p99_ms 2xx" of one run.
wrk_run() {
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" --timeout 5s -s "$BENCH_DIR/signup.lua" "http://127.0.0.1:$http" -- "$2" \
        | python3 -c '
import re, sys
line = [l for l in sys.stdin if l.startswith("RESULT")][0]
v = dict(p.split("=", 1) for p in line.split()[1:])
ok = sum(int(n) for s, n in (p.split(":") for p in v["statuses"].split(",") if p) if s.startswith("2"))
print(round(int(v["requests"]) / float(v["seconds"])), v["p99_ms"], ok, v["statuses"], v["errors"])'
}

machine
log "warming up"
wrk_run 5s /bench/bare >/dev/null
wrk_run 5s /subscribe >/dev/null

bare=(); signup=(); ratios=(); p99s=(); accepted=0
for i in $(seq "$RUNS"); do
    load_before=$(load)
    read -r b_rate b_p99 _ b_codes _ <<< "$(wrk_run "$DURATION" /bench/bare)"
    read -r s_rate s_p99 s_ok s_codes s_errors <<< "$(wrk_run "$DURATION" /subscribe)"
    accepted=$(( accepted + s_ok ))
    bare+=("$b_rate"); signup+=("$s_rate"); p99s+=("$s_p99"); ratios+=("$(python3 -c "print($s_rate / $b_rate)")")
    log "run $i: bare $b_rate req/s (p99 $b_p99 ms, $b_codes); /subscribe $s_rate req/s (p99 $s_p99 ms, $s_codes, socket errors $s_errors); ratio $(python3 -c "print(round($s_rate / $b_rate, 3))"); load $load_before"
done

# Durability: kill -9 at once, then every 202 of the measured runs (and the warm-up's) must be in the store.
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
stop_sink
stored=$(sqlite3 "$DATA/mailer.db" "SELECT COUNT(*) FROM subscribers WHERE email LIKE 'wrk%'")
echo
echo "signup, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, JSON POST, a new address each time; $RUNS run(s)"
echo "  POST /subscribe: $(median "${signup[@]}") req/s (runs: ${signup[*]}), p99 $(median "${p99s[@]}") ms (runs: ${p99s[*]})"
echo "  POST /bench/bare: $(median "${bare[@]}") req/s (runs: ${bare[*]})"
echo "  ratio:           $(median "${ratios[@]}") (median of per-run ratios)"
echo "  after kill -9:   $stored signups stored, $accepted answered 2xx in the measured runs (the warm-up's are stored too)"
[ "$stored" -ge "$accepted" ] || { echo "  LOST SIGNUPS: fewer stored than accepted" >&2; exit 1; }
