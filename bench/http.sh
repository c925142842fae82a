#!/usr/bin/env bash
# HTTP service benchmark: wrk against a Lua endpoint returning a small JSON
# body, and against nginx serving a static file with the same bytes, both
# with keep-alive, in the same run. Writes bench/results/http.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
source bench/common.sh
ensure_packages $WIPPY_BUILD_PACKAGES wrk nginx python3
# WIPPY=/path/to/wippy measures another build (RESULT=file keeps its table apart)
[ -n "${WIPPY:-}" ] || make -j"$(nproc)" build/wippy >/dev/null
result=${RESULT:-bench/results/http.md}

duration=${DURATION:-10}
connections=${CONNECTIONS:-50}
threads=${THREADS:-1} # 2 cores: one for wrk, one for the server
bench_setup
wippy_port=$(port)
nginx_port=$(port)

cp -r bench/apps/web "$work/app"
sed -i "s/@PORT@/$wippy_port/" "$work/app/src/_index.yaml"
wippy="${WIPPY:-$PWD/build/wippy}"
# one loop, as nginx has one worker (a loop per core would share wrk's core)
(cd "$work/app" && exec "$wippy" --threads "${WIPPY_THREADS:-1}" run) >/dev/null 2>&1 &
pids+=($!)

mkdir -p "$work/www"
printf '{"ok":true,"service":"wippy","version":1}' >"$work/www/status.json"
start_nginx "$work" "$nginx_port"
pids+=("$NGINX_PID")
sleep 1
curl -sf "http://127.0.0.1:$wippy_port/status.json" >/dev/null
curl -sf "http://127.0.0.1:$nginx_port/status.json" >/dev/null

run_wrk() {
    wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$1" 2>&1
}
wippy_out=$(run_wrk "http://127.0.0.1:$wippy_port/status.json")
nginx_out=$(run_wrk "http://127.0.0.1:$nginx_port/status.json")

python3 - "$wippy_out" "$nginx_out" "$connections" "$duration" <<'PY' | tee "$result"
import datetime, os, re, sys
def parse(text):
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rate, float(p99.group(1)) * scale, int(errors.group(1)) if errors else 0
wippy, nginx = parse(sys.argv[1]), parse(sys.argv[2])
print("# HTTP service benchmark")
print()
print(f"{datetime.date.today()}, {os.cpu_count()} cores. wrk, {sys.argv[3]} keep-alive connections, "
      f"{sys.argv[4]} s each, one after the other: a Lua endpoint writing a 42-byte JSON body "
      "against nginx serving the same 42 bytes from a file (one worker each).")
print()
print("| server | requests/s | p99 latency | non-2xx |")
print("|---|---|---|---|")
print(f"| wippy (Lua endpoint) | {wippy[0]:.0f} | {wippy[1]:.2f} ms | {wippy[2]} |")
print(f"| nginx (static file) | {nginx[0]:.0f} | {nginx[1]:.2f} ms | {nginx[2]} |")
print()
print(f"wippy / nginx throughput: {wippy[0] / nginx[0]:.2f}")
PY
