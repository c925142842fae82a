#!/usr/bin/env bash
# Trivial endpoint against nginx, one worker each on a core of its own:
# wippy --threads 1 (a Lua endpoint writing 42 bytes of JSON), nginx with
# one worker serving the same bytes from a file (its static module), and
# nginx answering them from memory (`return 200`), each pinned to core 0
# while wrk runs on core 1, so the load never takes the server's core.
# Each round runs the three in turn (ROUNDS, default 3); every run gives
# requests per second and the server's CPU time per request (user + system,
# from /proc). Writes bench/results/trivial.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
source bench/common.sh
ensure_packages $WIPPY_BUILD_PACKAGES wrk nginx python3 util-linux
[ -n "${WIPPY:-}" ] || make -j"$(nproc)" build/wippy >/dev/null
[ "$(nproc)" -ge 2 ] || { echo "bench/trivial.sh needs two cores (one for the server, one for wrk)" >&2; exit 1; }
result=${RESULT:-bench/results/trivial.md}
wippy="${WIPPY:-$PWD/build/wippy}"
duration=${DURATION:-6}
rounds=${ROUNDS:-3}
body='{"ok":true,"service":"wippy","version":1}'
bench_setup

wippy_port=$(port)
cp -r bench/apps/threads "$work/app"
sed -i "s/@PORT@/$wippy_port/" "$work/app/src/_index.yaml"
(cd "$work/app" && exec taskset -c 0 "$wippy" --threads 1 run) >/dev/null 2>&1 &
pids+=($!)
wippy_pid=$!

mkdir -p "$work/file/www" "$work/memory"
chmod 755 "$work/file" "$work/memory"
printf '%s' "$body" >"$work/file/www/status.json"
file_port=$(port)
NGINX_PREFIX="taskset -c 0" start_nginx "$work/file" "$file_port" 1
pids+=("$NGINX_PID")
memory_port=$(port)
NGINX_PREFIX="taskset -c 0" start_nginx "$work/memory" "$memory_port" 1 "$body"
pids+=("$NGINX_PID")
for target in "$wippy_port" "$file_port" "$memory_port"; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$target/status.json" >/dev/null && break; sleep 0.05; done
    [ "$(curl -s "http://127.0.0.1:$target/status.json")" = "$body" ] || { echo "port $target does not serve the body" >&2; exit 1; }
done
worker_of() { pgrep -P "$(cat "$1/nginx/nginx.pid")"; }
file_worker=$(worker_of "$work/file")
memory_worker=$(worker_of "$work/memory")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# measure PORT PID: "requests/s µs-of-CPU-per-request"
measure() {
    local before after output
    before=$(cpu_ticks "$2")
    output=$(taskset -c 1 wrk -t1 -c50 -d"${duration}s" "http://127.0.0.1:$1/status.json")
    after=$(cpu_ticks "$2")
    echo "$output" | awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" \
        '/requests in/ {requests = $1} /Requests\/sec/ {rate = $2} END {printf "%s %.2f\n", rate, ticks / hz * 1e6 / requests}'
}

rows=()
for round in $(seq "$rounds"); do
    rows+=("$round $(measure "$wippy_port" "$wippy_pid") $(measure "$file_port" "$file_worker") $(measure "$memory_port" "$memory_worker")")
done

python3 - "$duration" "${rows[@]}" <<'PY' | tee "$result"
import datetime, statistics, sys
duration, rows = sys.argv[1], [list(map(float, r.split())) for r in sys.argv[2:]]
print("# Trivial endpoint against nginx, one worker each on a core of its own (bench/trivial.sh)")
print()
print(f"{datetime.date.today()}. Server pinned to core 0, wrk -t1 -c50 pinned to core 1, {duration} s a run, "
      "the three servers in turn in each round. wippy: `--threads 1`, a Lua endpoint writing 42 bytes of JSON. "
      "nginx: one worker, the same bytes from a file (static module) or from memory (`return 200`). "
      "CPU: the server's user + system time per request, from /proc.")
print()
print("| round | wippy req/s | wippy µs CPU/req | nginx file req/s | nginx file µs CPU/req | nginx memory req/s | nginx memory µs CPU/req |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {int(r[0])} | {r[1]:.0f} | {r[2]:.2f} | {r[3]:.0f} | {r[4]:.2f} | {r[5]:.0f} | {r[6]:.2f} |")
def span(values):
    return f"{min(values):.2f}-{max(values):.2f}x (median {statistics.median(values):.2f}x)"
print()
print(f"wippy / nginx from a file: throughput {span([r[1] / r[3] for r in rows])}, "
      f"CPU per request {span([r[2] / r[4] for r in rows])}.")
print(f"wippy / nginx from memory: throughput {span([r[1] / r[5] for r in rows])}, "
      f"CPU per request {span([r[2] / r[6] for r in rows])}.")
PY
