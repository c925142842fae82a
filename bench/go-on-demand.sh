#!/usr/bin/env bash
# What a runtime without a tailscale entry pays for Tailscale support:
# start-up (boot + exit, farm-bench --vs against BASELINE) and resident
# memory of an idle runtime after 1 and 3 seconds (VmRSS, /proc).
#   BASELINE=/path/to/other/wippy  required: the build to compare with
#   WIPPY=/path/to/wippy           default build/wippy
# Writes bench/results/go-on-demand.md (RESULT= to write elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
wippy=${WIPPY:-$PWD/build/wippy}
baseline=${BASELINE:?set BASELINE to the wippy binary to compare with}
out=${RESULT:-bench/results/go-on-demand.md}
app=bench/apps/core

# VmRSS (KiB) and thread count of `wippy run idle 0` after $2 seconds.
idle_rss() {
    local binary=$1 after=$2 fifo pid line
    fifo=$(mktemp -u)
    mkfifo "$fifo"
    (cd "$app" && exec "$binary" run idle 0 >"$fifo") &
    pid=$!
    read -r _ <"$fifo"
    sleep "$after"
    line="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status") KiB, $(awk '/^Threads:/ {print $2}' "/proc/$pid/status") threads"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$fifo"
    echo "$line"
}

{
    echo "# Go on demand"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores. A = $wippy, B = $baseline."
    echo "Boot + exit of \`wippy run spawn 0\` (bench/apps/core, no tailscale entry), farm-bench --vs,"
    echo "three calls of 30 pairs each (median and min-max of A/B per call):"
    echo
    echo '```'
    for call in 1 2 3; do
        (cd "$app" && farm-bench -n 30 --warmup 3 --vs "$baseline run spawn 0" -- "$wippy" run spawn 0 2>&1 |
            grep -E '^(A|B) wall|A/B (wall|cpu)')
        echo
    done
    echo '```'
    echo
    echo "Idle runtime (\`wippy run idle 0\`), resident memory:"
    echo
    echo "| build | after 1 s | after 3 s |"
    echo "|---|---|---|"
    for run in 1 2 3; do
        echo "| A | $(idle_rss "$wippy" 1) | $(idle_rss "$wippy" 3) |"
        echo "| B | $(idle_rss "$baseline" 1) | $(idle_rss "$baseline" 3) |"
    done
} | tee "$out"
