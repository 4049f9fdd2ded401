#!/usr/bin/env bash
# Goal 4: time and allocation of one personalized message (links, render, MIME; and written out as SMTP would),
# from BenchmarkDotNet.
#
#   bench/compose.sh                 the default job (a few minutes)
#   JOB=short bench/compose.sh       a quick look
#   CLASS=DkimBenchmarks bench/compose.sh    what DKIM signing adds to one composed reminder
source "$(dirname "$0")/lib.sh"
one_bench_at_a_time
machine
cd "$BENCH_DIR/Mailer.Benchmarks"
CLASS="${CLASS:-ComposeBenchmarks}"
# The generated project is built anew; on a shared machine that can take longer than the default 2 minutes.
dotnet run -c Release -- --filter "*$CLASS*" --buildTimeout 900 ${JOB:+--job "$JOB"} --exporters github > "$WORK/compose.log" 2>&1 \
    || { tail -30 "$WORK/compose.log" >&2; exit 1; }
report=$(ls -t BenchmarkDotNet.Artifacts/results/*"$CLASS"-report-github.md | head -1)
sed -n '/^| Method/,$p' "$report"
