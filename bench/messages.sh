#!/usr/bin/env bash
# Message throughput, one build against another: 2,000,000 process.send to
# a process reading its inbox, timed with farm-bench --vs (A/B pairs), three
# calls interleaved. BASE_WIPPY=/path/to/older/wippy is the baseline.
#   BASE_WIPPY=/tmp/old/build/wippy bench/messages.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BASE_WIPPY:?set BASE_WIPPY to the wippy to compare with}"
make -j"$(nproc)" build/wippy >/dev/null
cd bench/apps/messages
for call in 1 2 3; do
    farm-bench -n 8 --vs "$BASE_WIPPY run main" -- ../../../build/wippy run main | grep -E "A/B cpu|A cpu|B cpu"
done
