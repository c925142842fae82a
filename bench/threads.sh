#!/usr/bin/env bash
# Scheduler threads benchmark (scheduler.threads). wrk against
#  - a CPU-bound endpoint (about 1 ms of Lua per request) served with
#    --threads 1 and --threads 2: the scaling on this machine's two cores;
#  - a trivial JSON endpoint with --threads 2 against nginx with two worker
#    processes serving the same bytes from a file.
# Each comparison runs ROUNDS times (default 3), the two sides interleaved;
# writes bench/results/threads.md with every round and the ratios' range.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
source bench/common.sh
ensure_packages $WIPPY_BUILD_PACKAGES wrk nginx python3
[ -n "${WIPPY:-}" ] || make -j"$(nproc)" build/wippy >/dev/null
result=${RESULT:-bench/results/threads.md}
wippy="${WIPPY:-$PWD/build/wippy}"
duration=${DURATION:-8}
rounds=${ROUNDS:-3}
bench_setup

# start_wippy THREADS: a server on a fresh port (its port in WIPPY_PORT).
start_wippy() {
    WIPPY_PORT=$(port)
    rm -rf "$work/app" && cp -r bench/apps/threads "$work/app"
    sed -i "s/@PORT@/$WIPPY_PORT/" "$work/app/src/_index.yaml"
    (cd "$work/app" && exec "$wippy" --threads "$1" run) >/dev/null 2>&1 &
    WIPPY_PID=$!
    pids+=($WIPPY_PID)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$WIPPY_PORT/status.json" >/dev/null && break; sleep 0.05; done
    sleep 0.5 # every thread up
}
stop_wippy() { kill "$WIPPY_PID"; wait "$WIPPY_PID" 2>/dev/null || true; }

rate() { wrk -t1 -c"$2" -d"${duration}s" "$1" 2>&1 | awk '/Requests\/sec/ {print $2}'; }

# nginx with two workers, serving the same 42 bytes
mkdir -p "$work/www"
printf '{"ok":true,"service":"wippy","version":1}' >"$work/www/status.json"
nginx_port=$(port)
start_nginx "$work" "$nginx_port" 2
pids+=("$NGINX_PID")
sleep 1

rows=()
for round in $(seq "$rounds"); do
    start_wippy 1; one=$(rate "http://127.0.0.1:$WIPPY_PORT/cpu" 16); stop_wippy
    start_wippy 2; two=$(rate "http://127.0.0.1:$WIPPY_PORT/cpu" 16)
    trivial=$(rate "http://127.0.0.1:$WIPPY_PORT/status.json" 50); stop_wippy
    nginx=$(rate "http://127.0.0.1:$nginx_port/status.json" 50)
    rows+=("$round $one $two $trivial $nginx")
done

python3 - "$duration" "$(nproc)" "${rows[@]}" <<'PY' | tee "$result"
import datetime, statistics, sys
duration, cores, rows = sys.argv[1], int(sys.argv[2]), [list(map(float, r.split())) for r in sys.argv[3:]]
print("# Scheduler threads benchmark (bench/threads.sh)")
print()
print(f"{datetime.date.today()}, {cores} cores (shared with wrk). wrk -t1, {duration} s per run, the sides "
      "interleaved in each round. CPU-bound: a Lua endpoint doing about 1 ms of arithmetic, 16 connections, "
      "`--threads 1` (the main thread serves) then `--threads 2`. Trivial: a 42-byte JSON endpoint with "
      "`--threads 2` and nginx with 2 worker processes serving the same bytes from a file, 50 connections.")
print()
print("| round | CPU-bound, 1 thread (req/s) | CPU-bound, 2 threads (req/s) | scaling | trivial, 2 threads (req/s) | nginx, 2 workers (req/s) | wippy / nginx |")
print("|---|---|---|---|---|---|---|")
scaling, versus = [], []
for round_, one, two, trivial, nginx in rows:
    scaling.append(two / one)
    versus.append(trivial / nginx)
    print(f"| {int(round_)} | {one:.0f} | {two:.0f} | {two / one:.2f}x | {trivial:.0f} | {nginx:.0f} | {trivial / nginx:.2f}x |")
print()
def span(values):
    return f"{min(values):.2f}-{max(values):.2f}x (median {statistics.median(values):.2f}x)"
print(f"Scaling 1 -> 2 threads: {span(scaling)}. wippy / nginx with two workers each: {span(versus)}.")
one = statistics.median(r[1] for r in rows)
efficiency = statistics.median(scaling) / 2
print()
print(f"Model of 16 cores from these per-core figures: one thread serves {one:.0f} CPU-bound requests/s "
      f"({1e6 / one:.0f} us of CPU each); at the measured per-thread efficiency of {efficiency:.2f}, 16 threads "
      f"would serve about {16 * one * efficiency:.0f}/s. A model, not a measurement: memory bandwidth, the "
      "kernel's accept spreading and the main thread (processes) are not in it.")
PY
