#!/usr/bin/env bash
# bench/import.sh [N]: seconds of `mailer import` of N generated subscribers (default 1,000,000) into a fresh
# PostgreSQL database and, as the reference, into a fresh SQLite store, RUNS times (default 3) interleaved; medians.
#
#   PG_SERVER='Host=127.0.0.1;Port=55432;Username=postgres' bench/import.sh 1000000
#   BEFORE_DLL=/tmp/main/src/Mailer/bin/Release/net10.0/Mailer.dll bench/import.sh   # also an older build, same runs
#   SKIP_SQLITE=1 ...                                                                 # PostgreSQL only
#
# What is timed: the whole command as an operator runs it (process start, schema migration of the empty store,
# the checking pass and the write), wall clock; for PostgreSQL also the part from the line "storing N rows in one
# transaction" to the end (the set-based statements and the commit). Each PostgreSQL run gets its own database bench_import_<pid>_<run>_<build>,
# dropped after its count is checked (N subscribers, N consents). CPU seconds too, as load moves them far less than
# wall clock: the program's (user + system, /usr/bin/time) and, for PostgreSQL, the server's for the import's
# database (bench/pg-backend-cpu.py; the server must run on this machine). Needs psql.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N="${1:-1000000}"
RUNS="${RUNS:-3}"
PG_SERVER="${PG_SERVER:-Host=127.0.0.1;Port=55432;Username=postgres}"
SIGNING_KEY=bench-signing-key-0123456789abcdef0123456789
one_bench_at_a_time
build_mailer
command -v psql >/dev/null || { echo "psql is needed" >&2; exit 1; }

csv="$WORK/subscribers-$N.csv"
[ -f "$csv" ] || { log "generating $N subscribers"; python3 "$BENCH_DIR/make-subscribers.py" "$N" > "$csv"; }

psql_server() { python3 -c '
import sys
kv = {k.lower(): v for k, v in (p.split("=", 1) for p in sys.argv[1].split(";") if p)}
print("postgresql://%s@%s:%s/%s" % (kv.get("username", "postgres"), kv.get("host", "127.0.0.1"), kv.get("port", "5432"), sys.argv[2]))' "$PG_SERVER" "$1"; }

# timed_import DLL DIR [ARGS...]: seconds of one import; the program's output in DIR/import.log, each line after
# the milliseconds since the start at which it came.
timed_import() {
    local dll="$1" dir="$2"; shift 2
    local start end
    start=$(now_ms)
    (cd "$REPO" && /usr/bin/time -f '%U %S' -o "$dir/program-cpu" \
        dotnet "$dll" import "$csv" --Mailer:DataDirectory="$dir" --Mailer:SigningKey=$SIGNING_KEY "$@") |
        while IFS= read -r line; do echo "$(( $(now_ms) - start )) $line"; done > "$dir/import.log"
    end=$(now_ms)
    python3 -c "print(round(($end - $start) / 1000, 1))"
}

# store_seconds DIR SECONDS: the seconds from the "storing" line to the end of the import logged in DIR.
store_seconds() {
    local at
    at=$(awk '/ storing / {print $1; exit}' "$1/import.log")
    python3 -c "print(round($2 - ${at:-0} / 1000, 1))"
}

# pg_run BUILD DLL RUN: seconds into a fresh database, checked and dropped.
pg_run() {
    local db="bench_import_$$_$3_$1" dir="$WORK/import-$1-pg-$3" seconds counts
    rm -rf "$dir"; mkdir -p "$dir"
    psql "$(psql_server postgres)" -q -c "CREATE DATABASE $db"
    python3 "$BENCH_DIR/pg-backend-cpu.py" "$(psql_server postgres)" "$db" "$dir/server-cpu" & local sampler=$!
    seconds=$(timed_import "$2" "$dir" --Storage:Provider=PostgreSql "--Storage:ConnectionString=$PG_SERVER;Database=$db")
    kill -TERM "$sampler"; wait "$sampler"
    counts=$(psql "$(psql_server "$db")" -qAt -c "SELECT (SELECT COUNT(*) FROM subscribers) || ' ' || (SELECT COUNT(*) FROM consents)")
    psql "$(psql_server postgres)" -q -c "DROP DATABASE $db WITH (FORCE)"
    [ "$counts" = "$N $N" ] || { echo "$1 PostgreSQL run $3 stored '$counts', not $N $N" >&2; exit 1; }
    store_seconds "$dir" "$seconds" > "$dir/store-seconds"
    awk '{print $1 + $2}' "$dir/program-cpu" > "$dir/program-cpu-seconds"
    echo "$seconds"
}

sqlite_run() {
    local dir="$WORK/import-sqlite-$1"
    rm -rf "$dir"; mkdir -p "$dir"
    timed_import "$MAILER_DLL" "$dir"
    awk '{print $1 + $2}' "$dir/program-cpu" > "$WORK/import-sqlite-$1.program-cpu"
    rm -rf "$dir"
}

machine
before=() after=() before_store=() after_store=() sqlite=() loads=()
before_cpu=() after_cpu=() before_server=() after_server=() sqlite_cpu=()
for run in $(seq "$RUNS"); do
    loads+=("$(load)")
    if [ -n "${BEFORE_DLL:-}" ]; then
        before+=("$(pg_run before "$BEFORE_DLL" "$run")"); before_store+=("$(cat "$WORK/import-before-pg-$run/store-seconds")")
        before_cpu+=("$(cat "$WORK/import-before-pg-$run/program-cpu-seconds")"); before_server+=("$(cat "$WORK/import-before-pg-$run/server-cpu")")
        log "run $run: before, PostgreSQL ${before[-1]} s, storing ${before_store[-1]} s, CPU program ${before_cpu[-1]} s server ${before_server[-1]} s (load $(load))"
    fi
    after+=("$(pg_run after "$MAILER_DLL" "$run")"); after_store+=("$(cat "$WORK/import-after-pg-$run/store-seconds")")
    after_cpu+=("$(cat "$WORK/import-after-pg-$run/program-cpu-seconds")"); after_server+=("$(cat "$WORK/import-after-pg-$run/server-cpu")")
    log "run $run: after, PostgreSQL ${after[-1]} s, storing ${after_store[-1]} s, CPU program ${after_cpu[-1]} s server ${after_server[-1]} s (load $(load))"
    [ -n "${SKIP_SQLITE:-}" ] && continue
    sqlite+=("$(sqlite_run "$run")"); sqlite_cpu+=("$(cat "$WORK/import-sqlite-$run.program-cpu")")
    log "run $run: SQLite ${sqlite[-1]} s, CPU ${sqlite_cpu[-1]} s (load $(load))"
done

rate() { python3 -c "print(round($N / $1))"; }
echo "rows: $N, runs: $RUNS, 1-minute load at each run's start: ${loads[*]}"
if [ -n "${BEFORE_DLL:-}" ]; then
    b=$(median "${before[@]}"); echo "PostgreSQL before: ${before[*]} s, median $b s ($(rate "$b") rows/s); storing ${before_store[*]} s, median $(median "${before_store[@]}") s"
    echo "  CPU: program ${before_cpu[*]} s, median $(median "${before_cpu[@]}") s; server ${before_server[*]} s, median $(median "${before_server[@]}") s"
fi
a=$(median "${after[@]}"); echo "PostgreSQL after:  ${after[*]} s, median $a s ($(rate "$a") rows/s); storing ${after_store[*]} s, median $(median "${after_store[@]}") s"
echo "  CPU: program ${after_cpu[*]} s, median $(median "${after_cpu[@]}") s; server ${after_server[*]} s, median $(median "${after_server[@]}") s"
if [ -n "${BEFORE_DLL:-}" ]; then
    python3 -c "print('before/after: %.2f wall; %.2f CPU (program + server, medians)' % ($b / $a,
        ($(median "${before_cpu[@]}") + $(median "${before_server[@]}")) / ($(median "${after_cpu[@]}") + $(median "${after_server[@]}"))))"
fi
[ -n "${SKIP_SQLITE:-}" ] && exit 0
s=$(median "${sqlite[@]}"); echo "SQLite:            ${sqlite[*]} s, median $s s ($(rate "$s") rows/s); CPU ${sqlite_cpu[*]} s, median $(median "${sqlite_cpu[@]}") s"
python3 -c "print('PostgreSQL after / SQLite: %.2f' % ($a / $s))"
