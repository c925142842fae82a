#!/usr/bin/env bash
# SOCKS5 overlay benchmark: 2,000 sequential and 2,000 concurrent
# (IN_FLIGHT at once, default 300 as issue 15 measures) GETs of a small static file served by nginx on loopback, through
# microsocks, via (a) wippy's overlay, (b) curl --socks5-hostname in one
# process (--parallel for the concurrent case), (c) wippy direct; and
# 2,000 sequential GETs on a new connection each: isolate_streams against
# curl with Connection: close (the historic yardstick), against curl with a
# proxy user per URL (the same traffic, the client closing), and asking
# Connection: close itself against curl doing so (the same traffic, the
# server closing).
# Writes bench/results/socks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
source bench/common.sh
ensure_packages $WIPPY_BUILD_PACKAGES nginx microsocks curl python3
# WIPPY=/path/to/wippy measures another build (RESULT=file keeps its table apart);
# CURL_TOOL=/path/to/curl adds that curl as the yardstick of one more row,
# the server closing; curl's own tool on wippy's libcurl is built with
#   cmake -S build/curl-src -B /tmp/curl-tool $(sed 's/-DBUILD_CURL_EXE=OFF/-DBUILD_CURL_EXE=ON/;
#       s/-DCURL_DISABLE_GETOPTIONS=ON//; s/-DCURL_DISABLE_PROGRESS_METER=ON//' build/curl-options)
#   cmake --build /tmp/curl-tool   # then CURL_TOOL=/tmp/curl-tool/src/curl
if [ -n "${CURL_TOOL:-}" ] && [ ! -x "$CURL_TOOL" ]; then
    echo "bench/socks.sh: CURL_TOOL=$CURL_TOOL is not an executable file" >&2
    exit 1
fi
[ -n "${WIPPY:-}" ] || make -j"$(nproc)" build/wippy >/dev/null
result=${RESULT:-bench/results/socks.md}

count=${COUNT:-2000}
in_flight=${IN_FLIGHT:-300} # curl's --parallel-max goes up to 300
rounds=${ROUNDS:-15}
bench_setup

web_port=$(port)
proxy_port=$(port)

mkdir -p "$work/www"
printf '{"ok":true,"bench":"wippy"}\n' >"$work/www/index.json"
start_nginx "$work" "$web_port"
pids+=("$NGINX_PID")
start_proxy "$proxy_port"
sleep 0.5

url="http://127.0.0.1:$web_port/index.json"
cp -r bench/apps/socks "$work/app"
sed -i "s/@PROXY_PORT@/$proxy_port/" "$work/app/src/_index.yaml"
for _ in $(seq "$count"); do echo "url = \"$url\""; done >"$work/curl.urls"
# curl isolated as wippy's isolated overlay is: a proxy user of its own for
# each URL, so a new connection each that the client closes (with
# Connection: close the server closes first, which costs the client less).
# Bodies go to standard output as in the other curl rows (an output file
# per URL would cost curl an open and a close a request).
for i in $(seq "$count"); do
    [ "$i" = 1 ] || echo next
    printf 'url = "%s"\nsocks5-hostname = "127.0.0.1:%s"\nproxy-user = "user%d:x"\nsilent\n' \
        "$url" "$proxy_port" "$i"
done >"$work/curl-isolated.config"
wippy="${WIPPY:-$PWD/build/wippy}"

json="$work/rounds.json"
interleave="$PWD/bench/interleave.py"
(cd "$work/app" && python3 "$interleave" "$rounds" "$json" \
    "$wippy run get 0 $url bench:proxy sequential" \
    "$wippy run get $count $url bench:proxy sequential" \
    "curl -s -o /dev/null --socks5-hostname 127.0.0.1:$proxy_port -K $work/curl.urls" \
    "$wippy run get $count $url direct sequential" \
    "$wippy run get $count $url bench:proxy concurrent $in_flight" \
    "curl -s -o /dev/null --parallel --parallel-max $in_flight --socks5-hostname 127.0.0.1:$proxy_port -K $work/curl.urls" \
    "$wippy run get $count $url direct concurrent $in_flight" \
    "$wippy run get $count $url bench:isolated sequential" \
    "curl -s -o /dev/null -H 'Connection: close' --socks5-hostname 127.0.0.1:$proxy_port -K $work/curl.urls" \
    "curl -K $work/curl-isolated.config" \
    "$wippy run get $count $url bench:isolated close" \
    ${CURL_TOOL:+"$CURL_TOOL -s -o /dev/null -H 'Connection: close' --socks5-hostname 127.0.0.1:$proxy_port -K $work/curl.urls"})

python3 - "$json" "$count" "$in_flight" <<'PY' | tee /dev/stderr | write_result "$result"
import json, sys, datetime, os, statistics
measured = json.load(open(sys.argv[1]))
wall, cpu = measured["wall"], measured["cpu"]
count, in_flight = int(sys.argv[2]), int(sys.argv[3])
rounds = len(wall[0])
(boot, seq_ours, seq_curl, seq_direct, par_ours, par_curl, par_direct, new_ours, new_curl,
 isolated_curl, closing_ours) = range(11)
tool_curl = 11 if len(wall) > 11 else None  # CURL_TOOL: curl's own tool on wippy's libcurl
median = statistics.median
def per_request(command, subtract_boot=True):
    return (median(wall[command]) - (median(wall[boot]) if subtract_boot else 0)) / count * 1e6
def ratios(times, ours, theirs):
    values = [a / b for a, b in zip(times[ours], times[theirs])]
    return median(values), min(values), max(values)
print("# SOCKS5 overlay benchmark")
print()
print(f"{datetime.date.today()}, {os.cpu_count()} cores. {count} GETs of a 27-byte file from nginx on loopback, "
      f"through microsocks (keep-alive). {rounds} rounds, every command once a round in a shuffled order "
      "(bench/interleave.py). Times per request are medians; wippy's exclude its start-up "
      f"({median(wall[boot])*1000:.1f} ms, measured with 0 requests); curl runs in one process. The ratios are "
      "whole runs' (start-up included) within a round: median, then min-max over the rounds.")
print()
print("| case | wippy overlay | curl --socks5-hostname | wippy direct | ours / curl, wall | ours / curl, CPU "
      "| overlay cost / direct cost |")
print("|---|---|---|---|---|---|---|")
for name, ours, curl, direct in (("sequential", seq_ours, seq_curl, seq_direct),
                                 (f"{in_flight} in flight", par_ours, par_curl, par_direct),
                                 ("new connection each (isolated / Connection: close)", new_ours, new_curl, None),
                                 ("new connection each, the client closing (isolated / a proxy user per URL)",
                                  new_ours, isolated_curl, None),
                                 ("new connection each, the server closing (isolated and Connection: close "
                                  "/ Connection: close)", closing_ours, new_curl, None)) + (
                                 (("the server closing, against CURL_TOOL (curl's tool on wippy's libcurl)",
                                   closing_ours, tool_curl, None),) if tool_curl is not None else ()):
    o, c = per_request(ours), per_request(curl, False)
    d = per_request(direct) if direct is not None else None
    direct_text = f"{d:.1f} µs/req" if d is not None else "—"
    cost = f"{(o-d)/d:.2f}×" if d is not None else "—"
    w, c_ = ratios(wall, ours, curl), ratios(cpu, ours, curl)
    print(f"| {name} | {o:.1f} µs/req | {c:.1f} µs/req | {direct_text} | {w[0]:.2f}× ({w[1]:.2f}-{w[2]:.2f}) "
          f"| {c_[0]:.2f}× ({c_[1]:.2f}-{c_[2]:.2f}) | {cost} |")
PY
