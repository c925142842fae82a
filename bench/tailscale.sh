#!/usr/bin/env bash
# Tailscale overlay benchmark (needs root: network namespace with a veth
# pair): request latency and throughput between two wippy runtimes over the
# tailnet (headscale on loopback) against the same traffic direct on
# loopback, in one run. Writes bench/results/tailscale.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
ensure_packages $WIPPY_BUILD_PACKAGES util-linux iproute2 python3
ensure_go
scripts/prepare-headscale
make -j"$(nproc)" build/wippy >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
namespace="ip link set lo up && ip link add wippy0 type veth peer name wippy1 && \
ip addr add 10.200.0.1/24 dev wippy0 && ip link set wippy0 up && ip link set wippy1 up"
unshare --net --fork sh -c "$namespace && exec python3 bench/tailscale_bench.py $work \
${SMALL_COUNT:-1000} ${CLOSE_COUNT:-200} ${BIG_COUNT:-50}" >"$work/report.md"
tee bench/results/tailscale.md <"$work/report.md"
