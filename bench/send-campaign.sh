#!/usr/bin/env bash
# The final-day reminder to N confirmed subscribers, end to end, with the real program, against postfix's
# smtp-sink on loopback; in the same run, smtp-source into the same sink as the reference.
#
#   bench/send-campaign.sh [N]            default N=100000, 3 runs, median
#   RUNS=1 PLOT=docs/send-1m.png bench/send-campaign.sh 1000000    the 1M figure, with its plot
#   DKIM=both bench/send-campaign.sh 50000   each run twice, DKIM signing off and on, in alternating order
#
# Settings (environment): CONNECTIONS (4), RUNS (3), STORE (sqlite | postgresql), PG (a PostgreSQL connection
# string for STORE=postgresql, default Host=127.0.0.1;Username=postgres;Password=postgres;Database=mailer_bench),
# POLL (Campaign:PollInterval, 00:01:00 as in production), REFERENCE_BYTES (20480), SKIP_BUILD=1, BENCH_WORK (/tmp/mailer-bench),
# PLOT=file.png (messages per second and RSS of the first run, with gnuplot),
# DKIM (off | on | both: every message signed with an RSA-2048 key that the program's own `dkim-keygen` made once,
# kept in $BENCH_WORK/dkim/; with both, run i sends unsigned and signed, the order alternating from run to run,
# and the summary gives signed / unsigned and `openssl speed -seconds 3 rsa2048`).
#
# The reference is measured right before and right after the program's run, into the same sink; their mean is
# the figure's reference (the machine is shared: its load changes from minute to minute).
# How: N generated subscribers are imported once (cached); the announcement and the week reminder are recorded
# as sent three days ago, so only the final-day reminder goes out; the program starts with a deadline one hour
# and a few seconds away and reminder-final due one hour before it. The figure is N / (last accepted message −
# due time), from the ledger's own times; peak RSS from /usr/bin/time -v; the program's CPU time (user + sys from
# /proc/<pid>/stat) from the last sample before the due moment to the last message, and with its start from time -v.
source "$(dirname "$0")/lib.sh"

N="${1:-100000}"
CONNECTIONS="${CONNECTIONS:-4}"
RUNS="${RUNS:-3}"
STORE="${STORE:-sqlite}"
POLL="${POLL:-00:01:00}"
REFERENCE_BYTES="${REFERENCE_BYTES:-20480}"
PG="${PG:-Host=127.0.0.1;Username=postgres;Password=postgres;Database=mailer_bench}"
LEAD_SECONDS=8
SIGNING_KEY=bench-signing-key-0123456789abcdef0123456789
DKIM="${DKIM:-off}"
DKIM_KEY="$WORK/dkim/bench.pem"
case "$DKIM" in off) VARIANTS=(unsigned) ;; on) VARIANTS=(signed) ;; both) VARIANTS=(unsigned signed) ;;
    *) echo "DKIM must be off, on or both" >&2; exit 2 ;; esac

one_bench_at_a_time
need_postfix; need_sqlite3; need_time
build_mailer

mailer() { (cd "$REPO" && dotnet "$MAILER_DLL" "$@"); }

store_args() {
    if [ "$STORE" = postgresql ]; then
        echo "--Storage:Provider=PostgreSql" "--Storage:ConnectionString=$PG"
    fi
}

# sql QUERY: one value from the store.
sql() {
    if [ "$STORE" = postgresql ]; then
        psql "$(pg_url)" -qAt -c "$1"
    else
        sqlite3 -cmd ".timeout 10000" "$RUN_DIR/mailer.db" "$1"
    fi
}

pg_url() { python3 -c '
import sys
kv = dict(p.split("=", 1) for p in sys.argv[1].split(";") if p)
kv = {k.lower(): v for k, v in kv.items()}
print("postgresql://%s:%s@%s:%s/%s" % (kv.get("username", "postgres"), kv.get("password", ""), kv.get("host", "127.0.0.1"), kv.get("port", "5432"), kv["database"]))' "$PG"; }

# need_dkim_key: an RSA-2048 key made by the program's own dkim-keygen (once), and one message signed with it
# through the pickup folder, verified by dkimpy against the record dkim-keygen printed: the runs really sign.
need_dkim_key() {
    mkdir -p "$WORK/dkim"
    if [ ! -f "$DKIM_KEY" ]; then
        log "dkim-keygen --selector bench (RSA-2048) into $DKIM_KEY"
        mailer dkim-keygen --selector bench --out "$DKIM_KEY" --Mailer:DataDirectory="$WORK/dkim" --Mailer:SigningKey=$SIGNING_KEY \
            > "$WORK/dkim/keygen.txt"
    fi
    local check="$WORK/dkim/check"
    rm -rf "$check"; mkdir -p "$check"
    mailer send-test reminder-final --to check@example.net --Mailer:DataDirectory="$check" --Mailer:SigningKey=$SIGNING_KEY \
        --Smtp:Host= --Smtp:PickupDirectory="$check/outbox" $(dkim_args signed) >/dev/null
    /usr/bin/python3 - "$WORK/dkim/keygen.txt" "$check"/outbox/*.eml <<'PY' >&2
import dkim, re, sys
record = "".join(re.findall(r'"([^"]*)"', open(sys.argv[1]).read())).encode()
message = open(sys.argv[2], "rb").read()
ok = dkim.verify(message, dnsfunc=lambda name, timeout=5: record)
print("DKIM check: a reminder signed with the bench key", "verifies" if ok else "DOES NOT VERIFY", "(dkimpy)")
sys.exit(0 if ok else 1)
PY
}

dkim_args() {
    if [ "$1" = signed ]; then
        echo "--Dkim:Domain=example.org" "--Dkim:Selector=bench" "--Dkim:PrivateKeyPath=$DKIM_KEY"
    fi
}

# cpu_ticks PID: user + system time of the process so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# prepare_store: a store with N confirmed subscribers whose earlier mails went out three days ago.
prepare_store() {
    rm -rf "$RUN_DIR"; mkdir -p "$RUN_DIR"
    local csv="$WORK/subscribers-$N.csv"
    [ -f "$csv" ] || { log "generating $N subscribers"; python3 "$BENCH_DIR/make-subscribers.py" "$N" > "$csv"; }
    local long_ago=$(( $(now_ms) - 3 * 86400000 ))
    local premark="
        DELETE FROM deliveries;
        INSERT INTO deliveries (subscriber_id, campaign, mailing, status, attempts, created_at, updated_at, not_before, sent_at)
        SELECT id, campaign, m.mailing, 'sent', 1, $long_ago, $long_ago, $long_ago, $long_ago
        FROM subscribers, (SELECT 'announcement' AS mailing UNION ALL SELECT 'reminder-week') m
        WHERE status = 'confirmed';
        DELETE FROM campaign_state;"
    if [ "$STORE" = postgresql ]; then
        local url; url="$(pg_url)"
        local count; count=$(psql "$url" -qAt -c "SELECT COUNT(*) FROM subscribers" 2>/dev/null || echo 0)
        if [ "$count" != "$N" ]; then
            log "importing $N subscribers into PostgreSQL"
            psql "${url%/*}/postgres" -q -c "DROP DATABASE IF EXISTS ${url##*/}" -c "CREATE DATABASE ${url##*/}"
            mailer import "$csv" --Mailer:DataDirectory="$WORK/pg-data" --Mailer:SigningKey=$SIGNING_KEY $(store_args) >/dev/null
        fi
        psql "$url" -q -c "$premark" -c "VACUUM ANALYZE"
        return
    fi

    local cache="$WORK/cache-$N"
    if [ ! -f "$cache/mailer.db" ]; then
        log "importing $N subscribers into SQLite (once, cached in $cache)"
        rm -rf "$cache"
        mailer import "$csv" --Mailer:DataDirectory="$cache" --Mailer:SigningKey=$SIGNING_KEY >/dev/null
        sqlite3 "$cache/mailer.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
    fi
    cp "$cache/mailer.db" "$RUN_DIR/mailer.db"
    sqlite3 "$RUN_DIR/mailer.db" "$premark" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
}

# one_run I VARIANT: prints "rate reference peak_rss_kb load seconds cpu_us_a_message_while_sending cpu_us_with_start"
one_run() {
    local variant="$2"
    RUN_DIR="$WORK/run-$STORE-$N-$1-$variant"
    echo "$RUN_DIR" > "$WORK/current-run"
    prepare_store
    local expected; expected=$(sql "SELECT COUNT(*) FROM subscribers WHERE status = 'confirmed'")
    local port; port=$(free_port)
    start_sink "$port"
    local load_before; load_before=$(load)
    local reference; reference=$(reference_rate "$port" "$CONNECTIONS" "$(( N < 50000 ? N : 50000 ))" "$REFERENCE_BYTES")
    log "run $1 $variant: smtp-source, $CONNECTIONS sessions, ${REFERENCE_BYTES} B: $reference msg/s (load $load_before)"

    # Due one second before a minute starts, when the dispatcher's cron (every Campaign:PollInterval) runs next.
    local due_s=$(( ($(date +%s) + LEAD_SECONDS + 59) / 60 * 60 - 1 ))
    local deadline launch
    deadline=$(TZ=Europe/Berlin date -d "@$(( due_s + 3600 ))" +%Y-%m-%dT%H:%M:%S)
    launch=$(TZ=Europe/Berlin date -d "@$(( due_s - 3 * 86400 - 3600 ))" +%Y-%m-%dT%H:%M:%S)
    local http; http=$(free_port)
    /usr/bin/time -v -o "$RUN_DIR/time.txt" dotnet "$MAILER_DLL" \
        --urls "http://127.0.0.1:$http" \
        --Mailer:DataDirectory="$RUN_DIR" --Mailer:SigningKey=$SIGNING_KEY $(store_args) $(dkim_args "$variant") \
        --Smtp:Host=127.0.0.1 --Smtp:Port="$port" --Smtp:Security=None --Smtp:Connections="$CONNECTIONS" \
        --Campaign:Deadline="$deadline" --Campaign:LaunchAt="$launch" --Campaign:PollInterval="$POLL" \
        --Campaign:Mailings:reminder-final:Before=01:00:00 --Campaign:Mailings:reminder-final:AtLocalTime= \
        > "$RUN_DIR/mailer.log" 2>&1 &
    local time_pid=$!
    sleep 0.5
    local pid; pid=$(pgrep -P "$time_pid" | head -1)
    echo "$pid" > "$RUN_DIR/mailer.pid"

    # Progress, once a second: seconds since due, rows finished, RSS of the program.
    local progress="$RUN_DIR/progress.csv" finished=0 ticks_due ticks_end
    ticks_due=$(cpu_ticks "$pid")
    echo "seconds,finished,peak_kb,rss_kb,anon_kb,file_kb,shmem_kb,threads" > "$progress"
    while [ "$finished" -lt "$expected" ]; do
        sleep 1
        if ! kill -0 "$pid" 2>/dev/null; then echo "the program stopped; see $RUN_DIR/mailer.log" >&2; tail -20 "$RUN_DIR/mailer.log" >&2; exit 1; fi
        finished=$(sql "SELECT COUNT(*) FROM deliveries WHERE mailing = 'reminder-final' AND status IN ('sent', 'failed', 'skipped')" 2>/dev/null || echo "$finished")
        local rss; rss=$(awk '/^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem|Threads)/ {printf ",%s", $2}' "/proc/$pid/status")
        local seconds_since_due=$(( $(date +%s) - due_s ))
        [ "$seconds_since_due" -lt 0 ] && ticks_due=$(cpu_ticks "$pid")
        echo "$seconds_since_due,$finished$rss" >> "$progress"
    done
    ticks_end=$(cpu_ticks "$pid")
    kill "$pid"; wait "$time_pid" || true
    # The reference again, now that the machine is as loaded as it was during the send; the mean of both counts.
    local reference_after; reference_after=$(reference_rate "$port" "$CONNECTIONS" "$(( N < 50000 ? N : 50000 ))" "$REFERENCE_BYTES")
    log "run $1 $variant: smtp-source after: $reference_after msg/s (load $(load))"
    reference=$(( (reference + reference_after) / 2 ))
    stop_sink

    local sent last
    sent=$(sql "SELECT COUNT(*) FROM deliveries WHERE mailing = 'reminder-final' AND status = 'sent'")
    last=$(sql "SELECT MAX(sent_at) FROM deliveries WHERE mailing = 'reminder-final'")
    [ "$sent" = "$expected" ] || log "run $1 $variant: only $sent of $expected sent: $(sql "SELECT status || ' ' || COUNT(*) FROM deliveries WHERE mailing = 'reminder-final' GROUP BY status")"
    local seconds rate peak
    seconds=$(python3 -c "print(round(($last - ${due_s}000) / 1000, 1))")
    rate=$(python3 -c "print(round($sent / $seconds))")
    peak=$(awk -F': ' '/Maximum resident/ {print $2}' "$RUN_DIR/time.txt")
    local cpu; cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$RUN_DIR/time.txt")
    local cpu_send; cpu_send=$(python3 -c "print(round(($ticks_end - $ticks_due) * 1e6 / $(getconf CLK_TCK) / $sent))")
    local cpu_all; cpu_all=$(python3 -c "print(round($cpu * 1e6 / $sent))")
    log "run $1 $variant: $sent messages in $seconds s after due: $rate msg/s, ratio $(python3 -c "print(round($rate / $reference, 2))"), peak RSS $(( peak / 1024 )) MB, CPU $cpu_send µs a message while sending ($cpu s, $cpu_all µs a message, start included), load $(load)"
    echo "$rate $reference $peak $load_before $seconds $cpu_send $cpu_all"
}

# plot CSV PNG: messages per second and RSS over the run, with gnuplot.
plot() {
    need_gnuplot
    python3 - "$1" > "$WORK/rate.dat" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if int(r["seconds"]) >= 0]
# Messages per second over 5-second windows (the once-a-second samples are not exactly a second apart).
for previous, row in zip(rows, rows[5:]):
    seconds = int(row["seconds"]) - int(previous["seconds"])
    if seconds > 0:
        print(row["seconds"], (int(row["finished"]) - int(previous["finished"])) / seconds, int(row["rss_kb"]) / 1024)
PY
    gnuplot <<GP
set terminal png size 1000,450
set output "$2"
set title "Final-day reminder to $N subscribers, $CONNECTIONS SMTP connections, $STORE, into smtp-sink ($(nproc) cores)"
set xlabel "seconds after the mailing was due"
set ylabel "messages accepted per second"
set y2label "Mailer RSS (MB)"
set y2range [0:256]
set yrange [0:*]
set ytics nomirror
set y2tics
set grid
plot "$WORK/rate.dat" using 1:2 with lines lw 2 title "messages/s", "$WORK/rate.dat" using 1:3 axes x1y2 with lines lw 2 title "RSS (MB)"
GP
    log "plot: $2"
}

machine
[ "$DKIM" = off ] || need_dkim_key
declare -A results
for i in $(seq "$RUNS"); do
    order=("${VARIANTS[@]}")
    # Interleaved: unsigned first in odd runs, signed first in even ones, so neither always gets the quieter minute.
    [ "${#order[@]}" = 2 ] && [ $(( i % 2 )) = 0 ] && order=(signed unsigned)
    for variant in "${order[@]}"; do results[$variant,$i]="$(one_run "$i" "$variant")"; done
done

echo
echo "send, final-day reminder, $N recipients, $CONNECTIONS connections, $STORE; $RUNS run(s); reference: smtp-source, $CONNECTIONS sessions, $REFERENCE_BYTES-byte messages"
for variant in "${VARIANTS[@]}"; do
    rates=(); refs=(); ratios=(); peaks=(); secs=(); cpus=(); loads=()
    for i in $(seq "$RUNS"); do
        read -r rate ref peak load_before seconds cpu_send _ <<< "${results[$variant,$i]}"
        rates+=("$rate"); refs+=("$ref"); peaks+=("$peak"); secs+=("$seconds"); cpus+=("$cpu_send"); loads+=("$load_before")
        ratios+=("$(python3 -c "print($rate / $ref)")")
    done
    [ "${#VARIANTS[@]}" = 1 ] || echo " DKIM $variant:"
    echo "  Mailer:     $(median "${rates[@]}") msg/s (runs: ${rates[*]}), all accepted in $(median "${secs[@]}") s"
    echo "  smtp-source: $(median "${refs[@]}") msg/s (runs: ${refs[*]})"
    echo "  ratio:      $(median "${ratios[@]}") (median of per-run ratios)"
    echo "  CPU:        $(median "${cpus[@]}") µs a message while sending (runs: ${cpus[*]})"
    echo "  peak RSS:   $(( $(median "${peaks[@]}" | cut -d. -f1) / 1024 )) MB (max $(( $(printf '%s\n' "${peaks[@]}" | sort -n | tail -1) / 1024 )) MB)"
    echo "  load:       ${loads[*]} (1-minute load average before each run)"
done
if [ "$DKIM" = both ]; then
    pairs=(); cpu_pairs=()
    for i in $(seq "$RUNS"); do
        read -r unsigned_rate _ _ _ _ unsigned_cpu _ <<< "${results[unsigned,$i]}"
        read -r signed_rate _ _ _ _ signed_cpu _ <<< "${results[signed,$i]}"
        pairs+=("$(python3 -c "print(round($signed_rate / $unsigned_rate, 3))")")
        cpu_pairs+=("$(( signed_cpu - unsigned_cpu ))")
    done
    echo " signed / unsigned: $(median "${pairs[@]}") (median of the runs' ratios: ${pairs[*]}); CPU signing adds $(median "${cpu_pairs[@]}") µs a message (runs: ${cpu_pairs[*]})"
    echo " openssl speed -seconds 3 rsa2048 (one process):"
    openssl speed -seconds 3 rsa2048 2>/dev/null | sed -n '/sign *verify/,$p' | sed 's/^/   /'
fi
[ -n "${PLOT:-}" ] && plot "$WORK/run-$STORE-$N-1-${VARIANTS[0]}/progress.csv" "$PLOT"
exit 0
