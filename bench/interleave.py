#!/usr/bin/env python3
"""interleave.py ROUNDS OUT.json COMMAND...

Runs every COMMAND once per round (each a shell-quoted string, run without a
shell, its output discarded), after one warm-up round, in an order rotated
from round to round, and writes each command's wall and CPU seconds for
every round to OUT.json. On a shared, noisy machine the two sides of a
comparison then meet the same moments, which a tool that runs all of one
command's runs before the next's (hyperfine) cannot give.
"""
import json
import os
import shlex
import subprocess
import sys
import time


def run_once(command):
    """The command's wall and CPU (user + system) seconds; exits on a failure."""
    start = time.perf_counter()
    process = subprocess.Popen(shlex.split(command), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode != 0:
        sys.exit(f"interleave.py: `{command}` exited with {process.returncode}: "
                 f"{stderr.decode(errors='replace').strip()}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__.strip().splitlines()[0])
    rounds, out, commands = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    for command in commands:  # the warm-up round
        run_once(command)
    wall = [[] for _ in commands]
    cpu = [[] for _ in commands]
    for round_ in range(rounds):
        shift = round_ % len(commands)
        for index in list(range(shift, len(commands))) + list(range(shift)):
            seconds, cpu_seconds = run_once(commands[index])
            wall[index].append(seconds)
            cpu[index].append(cpu_seconds)
    with open(out, "w") as file:
        json.dump({"commands": commands, "wall": wall, "cpu": cpu}, file)


if __name__ == "__main__":
    main()
