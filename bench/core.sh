#!/usr/bin/env bash
# Core runtime benchmark: process spawn-and-exit throughput and resident
# memory per idle process. Writes bench/results/core.md.
#   PEER_WIPPY=/path/to/wippy  also measures that binary on the same apps.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
source bench/common.sh
ensure_packages $WIPPY_BUILD_PACKAGES hyperfine
make -j"$(nproc)" build/wippy >/dev/null

app=bench/apps/core
spawn_count=${SPAWN_COUNT:-100000}
idle_count=${IDLE_COUNT:-10000}
out=bench/results/core.md

# Mean wall time (seconds) of `wippy run spawn N`, from hyperfine's JSON.
spawn_seconds() {
    local binary=$1 count=$2 json
    json=$(mktemp)
    (cd "$app" && hyperfine --warmup 2 --runs "${RUNS:-10}" --export-json "$json" \
        "$binary run spawn $count" >/dev/null 2>&1)
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$json"
    rm -f "$json"
}

# Resident set size (KiB) of `wippy run idle N` once it printed "ready".
idle_rss_kib() {
    local binary=$1 count=$2 fifo pid rss
    fifo=$(mktemp -u)
    mkfifo "$fifo"
    (cd "$app" && exec "$binary" run idle "$count" >"$fifo") &
    pid=$!
    read -r _ <"$fifo"
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$fifo"
    echo "$rss"
}

measure() {
    local label=$1 binary=$2
    local empty full per_second rss0 rss1 per_process
    empty=$(spawn_seconds "$binary" 0)
    full=$(spawn_seconds "$binary" "$spawn_count")
    per_second=$(python3 -c "print(round($spawn_count / ($full - $empty)))")
    rss0=$(idle_rss_kib "$binary" 0)
    rss1=$(idle_rss_kib "$binary" "$idle_count")
    per_process=$(python3 -c "print(round(($rss1 - $rss0) * 1024 / $idle_count))")
    echo "| $label | $per_second | $(python3 -c "print(round($empty * 1000, 1))") | $per_process |"
}

{
    echo "# Core runtime benchmark"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r). Spawn: $spawn_count processes that"
    echo "return at once, each monitored and its EXIT event received (boot time subtracted)."
    echo "Memory: RSS growth with $idle_count processes blocked in receive, per process."
    echo
    echo "| runtime | spawn+exit (processes/s) | boot + exit (ms) | bytes per idle process |"
    echo "|---|---|---|---|"
    measure "wippy-c" "$PWD/build/wippy"
    if [ -n "${PEER_WIPPY:-}" ]; then
        measure "peer ($PEER_WIPPY)" "$PEER_WIPPY"
    fi
    echo
    echo "Go Wippy documents about 13 KB per Lua process; the goal here is at most half."
} | tee /dev/stderr | write_result "$out"
