#!/usr/bin/env bash
# Pre-emption benchmark: latency of a tiny Lua endpoint (wrk, 10 keep-alive
# connections, 5 s) while another process of the same runtime spins in
# `while true do end`, against the same endpoint with nothing spinning.
# WIPPY=/path/to/wippy measures another build; RESULT=file keeps its table
# apart. Writes bench/results/preempt.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
source bench/common.sh
ensure_packages $WIPPY_BUILD_PACKAGES wrk python3
[ -n "${WIPPY:-}" ] || make -j"$(nproc)" build/wippy >/dev/null
result=${RESULT:-bench/results/preempt.md}
wippy="${WIPPY:-$PWD/build/wippy}"
bench_setup

# run_case NAME SPIN: starts the web app (with a spinning service when SPIN
# is 1), measures, stops it; prints wrk's output.
run_case() {
    local port app
    port=$(port)
    app="$work/$1"
    cp -r bench/apps/web "$app"
    sed -i "s/@PORT@/$port/" "$app/src/_index.yaml"
    if [ "$2" = 1 ]; then
        cat >>"$app/src/_index.yaml" <<'YAML'
  - name: processes
    kind: process.host
  - name: spinner
    kind: process.lua
    source: file://spin.lua
    method: main
  - name: spinner_service
    kind: process.service
    process: spinner
    host: processes
    lifecycle: {auto_start: true}
YAML
        echo 'return {main = function() while true do end end}' >"$app/src/spin.lua"
    fi
    (cd "$app" && exec "$wippy" run) >/dev/null 2>&1 &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 10); do curl -sf -m 1 "http://127.0.0.1:$port/status.json" >/dev/null && break; sleep 0.1; done
    wrk -t1 -c10 -d5s --timeout 2s --latency "http://127.0.0.1:$port/status.json" 2>&1 || true
    kill "$pid" 2>/dev/null || true
    # a build without pre-emption never gets to its SIGTERM handler
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

quiet=$(run_case quiet 0)
spinning=$(run_case spinning 1)

python3 - "$quiet" "$spinning" "$wippy" <<'PY' | tee "$result"
import datetime, os, re, sys
def parse(text):
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    timeouts = re.search(r"timeout (\d+)", text)
    if not rate or not p99:
        return 0.0, None, timeouts.group(1) if timeouts else "?"
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    return float(rate.group(1)), float(p99.group(1)) * scale, timeouts.group(1) if timeouts else "0"
print("# Pre-emption benchmark")
print()
print(f"{datetime.date.today()}, {os.cpu_count()} cores, {sys.argv[3]}. wrk, 10 keep-alive connections, "
      "5 s, a Lua endpoint writing a small JSON body; in the second case a process.service of the same "
      "runtime runs `while true do end`.")
print()
print("| case | requests/s | p99 latency | timeouts |")
print("|---|---|---|---|")
for name, text in (("nothing spinning", sys.argv[1]), ("a process spinning", sys.argv[2])):
    rate, p99, timeouts = parse(text)
    print(f"| {name} | {rate:.0f} | {f'{p99:.2f} ms' if p99 is not None else 'no answer'} | {timeouts} |")
PY
