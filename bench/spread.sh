#!/usr/bin/env bash
# Processes on every loop: a command of a project with an http.service
# (so --threads N gives it N loops besides the main one), timed with
# farm-bench --vs, --threads 2 (A) against --threads 1 (B), three calls:
#  - spread: 4 processes of about 0.1 s of Lua each, spawned and awaited
#    (placed on the loop with the fewest processes: the gain);
#  - pingpong: 20,000 round trips between a process and the child it
#    spawned (placed on its own loop: a spawn moves only when its loop
#    holds two more processes than another);
#  - pingpong far: the same with the child placed on another loop (each
#    message a post to that loop, which wakes it: the cost);
#  - stream far: 100,000 messages one way to a child on another loop
#    (sends do not wait for that loop);
#  - spawn: 100,000 monitored processes that exit at once (bench/apps/core),
#    half of them placed on the other loop, each such spawn a call there.
# With BASE=path/to/an/older/wippy, pingpong far and stream far are also
# timed against it (both --threads 2). The project keeps an HTTP service so
# that a binary from before commands had threads runs it on several loops.
# Writes bench/results/processes-across-threads.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/packages.sh
source bench/common.sh
ensure_packages $WIPPY_BUILD_PACKAGES python3
[ -n "${WIPPY:-}" ] || make -j"$(nproc)" build/wippy >/dev/null
result=${RESULT:-bench/results/processes-across-threads.md}
wippy="${WIPPY:-$PWD/build/wippy}"
bench_setup
cp -r bench/apps/spread "$work/app"
cp -r bench/apps/core "$work/core"
sed -i "s/@PORT@/$(port)/" "$work/app/src/_index.yaml"
cd "$work/app"

measure() { # COMMAND ARGS...: three farm-bench calls, A = --threads 2, B = --threads 1
    for call in 1 2 3; do
        farm-bench -n "${PAIRS:-10}" --timeout 600 --vs "$wippy --threads 1 run $*" -- "$wippy" --threads 2 run "$@" 2>&1 |
            grep -E "^(A wall|B wall|A/B wall|A/B cpu)"
        echo
    done
}

against_base() { # COMMAND ARGS...: A = this binary, B = $BASE, both --threads 2
    for call in 1 2 3; do
        farm-bench -n "${PAIRS:-10}" --timeout 600 --vs "$BASE --threads 2 run $*" -- "$wippy" --threads 2 run "$@" 2>&1 |
            grep -E "^(A wall|B wall|A/B wall|A/B cpu)"
        echo
    done
}

{
    echo "# Processes on every loop (bench/spread.sh)"
    echo
    echo "$(date -u +%F), $(nproc) cores. A = \`--threads 2\` (two loops besides the main one), B ="
    echo "\`--threads 1\`, same binary ($wippy), farm-bench --vs, three calls of 10 pairs each;"
    echo "min, median and max of each figure. Below 1: A takes less."
    echo
    echo "## spread 4 20000000: four CPU-bound processes, spawned and awaited"
    echo '```'
    measure spread 4 20000000
    echo '```'
    echo
    echo "## pingpong 20000: round trips with its child (same loop)"
    echo '```'
    measure pingpong 20000
    echo '```'
    echo
    echo "## pingpong 20000 far: round trips with a child on another loop"
    echo '```'
    measure pingpong 20000 far
    echo '```'
    echo
    echo "## stream 100000 far: messages one way to a child on another loop"
    echo '```'
    measure stream 100000 far
    echo '```'
    echo
    echo "## spawn 100000 (bench/apps/core): monitored processes that exit at once"
    echo '```'
    (cd "$work/core" && measure spawn 100000)
    echo '```'
    if [ -n "${BASE:-}" ]; then
        echo
        echo "## against $BASE (B), both --threads 2"
        echo
        echo "### pingpong 20000 far"
        echo '```'
        against_base pingpong 20000 far
        echo '```'
        echo
        echo "### stream 100000 far (fewer pairs: B takes seconds)"
        echo '```'
        PAIRS=3 against_base stream 100000 far
        echo '```'
    fi
} | tee "$OLDPWD/$result"
