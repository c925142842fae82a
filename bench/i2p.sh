#!/usr/bin/env bash
# I2P overlay benchmark (needs root: the routers run with chroot inside a
# network namespace holding only lo): 200 sequential GETs, one stream each,
# with wippy's reused SAM session against a new session per dial.
# PER_DIAL_COUNT shortens the slow case. Writes bench/results/i2p.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
ensure_packages $WIPPY_BUILD_PACKAGES util-linux iproute2 python3
scripts/prepare-i2p
make -j"$(nproc)" build/wippy >/dev/null
count=${COUNT:-200}
per_dial=${PER_DIAL_COUNT:-$count}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unshare --net --fork sh -c "ip link set lo up && exec python3 bench/i2p_bench.py $work $count $per_dial" \
    >"$work/report.md"
tee bench/results/i2p.md <"$work/report.md"
