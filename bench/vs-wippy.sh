#!/usr/bin/env bash
# wippy-c side by side with Go Wippy on the same apps, in one run:
#   PEER_WIPPY=/path/to/wippy bench/vs-wippy.sh
# (a) start-up to first request served, (b) spawn-and-exit throughput,
# (c) memory per idle process (both from bench/core.sh), (d) 2,000 GETs
# through SOCKS5, (e) wrk on the same Lua endpoint. Without PEER_WIPPY (Go
# Wippy cannot be built here, see README) the best peers available stand in:
# Node (socks-proxy-agent from npm, pinned in bench/peers/node), curl, nginx.
# Writes bench/results/vs-wippy.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
source bench/common.sh
ensure_packages $WIPPY_BUILD_PACKAGES hyperfine nginx microsocks curl wrk python3
command -v npm >/dev/null || ensure_packages nodejs npm
make -j"$(nproc)" build/wippy >/dev/null

node_dir=$WIPPY_CACHE/node-peer
if ! cmp -s bench/peers/node/package-lock.json "$node_dir/package-lock.json"; then
    rm -rf "$node_dir" && mkdir -p "$node_dir"
    cp bench/peers/node/package.json bench/peers/node/package-lock.json "$node_dir/"
    (cd "$node_dir" && npm ci --silent --no-audit --no-fund)
fi
cp bench/peers/node/*.mjs "$node_dir/"

bench_setup
web_port=$(port)
proxy_port=$(port)
mkdir -p "$work/www"
printf '{"ok":true,"bench":"wippy"}\n' >"$work/www/index.json"
printf '{"ok":true,"service":"wippy","version":1}' >"$work/www/status.json"
start_nginx "$work" "$web_port"
pids+=("$NGINX_PID")
start_proxy "$proxy_port"
sleep 0.5

bench/core.sh >/dev/null
{
    echo "# wippy-c side by side"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores. Peer Go Wippy: ${PEER_WIPPY:-not available (see README: Go Wippy cannot be built here)}."
    echo
    echo "## (b) spawn-and-exit and (c) memory per idle process"
    echo
    sed -n '/^| runtime/,$p' bench/results/core.md
    echo
    python3 bench/vs_wippy.py "$work" "$node_dir" "$web_port" "$proxy_port" "$web_port"
} | tee bench/results/vs-wippy.md
