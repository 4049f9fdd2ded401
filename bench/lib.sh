# Shared by the bench scripts: what they need installed, the machine, a sink, the reference sender.
# Source it; it sets -euo pipefail. Everything talks to 127.0.0.1 only.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
MAILER_DLL="$REPO/src/Mailer/bin/Release/net10.0/Mailer.dll"
WORK="${BENCH_WORK:-/tmp/mailer-bench}"
mkdir -p "$WORK"

# one_bench_at_a_time: two benchmarks at once would measure each other.
one_bench_at_a_time() {
    exec 9> "$WORK/bench.lock"
    flock -n 9 || { echo "another benchmark is running (lock $WORK/bench.lock)" >&2; exit 1; }
}

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

apt_install() {
    log "installing $*"
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# need_postfix: smtp-sink and smtp-source come with postfix; answer its question before it asks.
need_postfix() {
    if ! command -v smtp-sink >/dev/null || ! command -v smtp-source >/dev/null; then
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
        apt_install postfix
    fi
}

need_sqlite3() { command -v sqlite3 >/dev/null || apt_install sqlite3; }
need_time() { [ -x /usr/bin/time ] || apt_install time; }
need_wrk() { command -v wrk >/dev/null || apt_install wrk; }
need_gnuplot() { command -v gnuplot >/dev/null || apt_install gnuplot-nox; }

# build_mailer: a Release build of the program (skipped with SKIP_BUILD=1).
build_mailer() {
    if [ -z "${SKIP_BUILD:-}" ] || [ ! -f "$MAILER_DLL" ]; then
        log "building Mailer (Release)"
        dotnet build "$REPO/src/Mailer/Mailer.csproj" -c Release -nologo -v q >/dev/null
    fi
}

machine() {
    printf 'machine: %s cores, %s, %s MB RAM; load %s\n' "$(nproc)" \
        "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" \
        "$(free -m | awk '/^Mem:/ {print $2}')" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

load() { cut -d' ' -f1 /proc/loadavg; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

now_ms() { date +%s%3N; }

# start_sink PORT: postfix's smtp-sink, which accepts and discards; SINK_PID is set.
start_sink() {
    local user=()
    [ "$(id -u)" = 0 ] && user=(-u nobody)
    smtp-sink "${user[@]}" 127.0.0.1:"$1" 1024 &
    SINK_PID=$!
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
    echo "smtp-sink did not start on port $1" >&2
    return 1
}

stop_sink() { kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; }

# reference_rate PORT SESSIONS MESSAGES BYTES: messages per second of smtp-source, persistent connections.
reference_rate() {
    local start end
    start=$(now_ms)
    smtp-source -4 -d -s "$2" -m "$3" -l "$4" -M bench.example -f bench@bench.example -t sink@bench.example 127.0.0.1:"$1"
    end=$(now_ms)
    python3 -c "print(round($3 * 1000 / ($end - $start)))"
}

median() { python3 -c 'import statistics,sys; print(round(statistics.median(float(x) for x in sys.argv[1:]), 3))' "$@"; }
