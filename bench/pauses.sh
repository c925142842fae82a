#!/usr/bin/env bash
# Garbage-collector pauses: latency of a probe request every 5 ms on its own
# keep-alive connection (bench/pause_probe.py) while wrk loads the same
# endpoint, with 0, 100,000 and 1,000,000 processes blocked in receive in the
# same runtime. COUNTS="0 100000" picks the cases, SECONDS= the length.
# WIPPY=/path/to/wippy measures another build; RESULT=file keeps its table
# apart. Writes bench/results/pauses.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
source bench/common.sh
ensure_packages $WIPPY_BUILD_PACKAGES wrk python3
[ -n "${WIPPY:-}" ] || make -j"$(nproc)" build/wippy >/dev/null
result=${RESULT:-bench/results/pauses.md}
wippy="${WIPPY:-$PWD/build/wippy}"
seconds=${SECONDS_EACH:-10}
bench_setup

# run_case COUNT: prints "| COUNT | wrk req/s | probe p50 | p99 | p99.9 | max | RSS |".
run_case() {
    local count=$1 port app fifo pid probe rps rss
    port=$(port)
    app="$work/app-$count"
    cp -r bench/apps/pauses "$app"
    sed -i "s/@PORT@/$port/" "$app/src/_index.yaml"
    sed -i "s/@COUNT@/$count/" "$app/src/crowd.lua"
    fifo="$work/ready-$count"
    mkfifo "$fifo"
    (cd "$app" && exec "$wippy" run >"$fifo" 2>"$work/err-$count") &
    pid=$!
    pids+=("$pid")
    read -r _ <"$fifo"
    python3 bench/pause_probe.py "$port" "$seconds" 5 >"$work/probe-$count" &
    probe=$!
    rps=$(wrk -t1 -c10 -d"${seconds}s" "http://127.0.0.1:$port/status.json" | awk '/Requests\/sec/ {print int($2)}')
    wait "$probe"
    rss=$(awk '/^VmRSS:/ {printf "%.0f MB", $2 / 1024}' "/proc/$pid/status")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    python3 - "$count" "$rps" "$rss" "$work/probe-$count" <<'PY'
import json, sys
count, rps, rss, path = sys.argv[1:]
p = json.load(open(path))
print(f"| {int(count):,} | {int(rps):,} | {p['p50']} | {p['p99']} | {p['p99.9']} | {p['max']} | {rss} |")
PY
}

{
    echo "# Garbage-collector pauses"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, $wippy. A probe GET every 5 ms on its own connection for"
    echo "${seconds} s while wrk (1 thread, 10 connections) loads the same endpoint; latencies in ms."
    echo
    echo "| idle processes | wrk requests/s | probe p50 | p99 | p99.9 | max | RSS |"
    echo "|---|---|---|---|---|---|---|"
    for count in ${COUNTS:-0 100000 1000000}; do
        run_case "$count"
    done
} | tee "$result"
