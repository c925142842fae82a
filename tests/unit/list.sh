#!/bin/sh
# Fails when a TEST() in tests/unit/test_*.c is missing from main.c (run update_list.py).
cd "$(dirname "$0")" || exit 1
missing=0
for name in $(grep -ho '^TEST([a-z_0-9]*)' test_*.c | sed 's/TEST(\(.*\))/\1/'); do
    grep -q "{\"$name\", $name}" main.c || { echo "tests/unit/main.c does not list $name"; missing=1; }
done
exit $missing
