#!/usr/bin/env python3
"""interleave.py ROUNDS OUT.json COMMAND...

Runs every COMMAND once per round (each a shell-quoted string, run without a
shell, its output discarded), after one warm-up round, in an order shuffled
anew each round (seeded, so a run can be repeated), and writes each
command's wall and CPU seconds for every round to OUT.json. On a shared,
noisy machine the two sides of a comparison then meet the same moments,
which a tool that runs all of one command's runs before the next's
(hyperfine) cannot give. The order is shuffled rather than rotated because
a command pays for what ran just before it: 2,000 connections that the
client closed leave 2,000 ports in TIME_WAIT for a minute, and the next
command's connects search past them. Rotating would give every command the
same predecessor in every round.
"""
import json
import os
import random
import shlex
import subprocess
import sys
import time


def run_once(command):
    """The command's wall and CPU (user + system) seconds; exits on a failure."""
    start = time.perf_counter()
    try:
        process = subprocess.Popen(shlex.split(command), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
    except OSError as error:
        sys.exit(f"interleave.py: `{command}` could not start: {error}")
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
    rounds, out, commands = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not rounds.isdigit() or int(rounds) < 1:
        sys.exit(f"interleave.py: ROUNDS must be a whole number of at least 1, not {rounds!r}")
    rounds = int(rounds)
    for command in commands:  # the warm-up round
        run_once(command)
    wall = [[] for _ in commands]
    cpu = [[] for _ in commands]
    order = list(range(len(commands)))
    shuffle = random.Random(15).shuffle
    for _ in range(rounds):
        shuffle(order)
        for index in order:
            seconds, cpu_seconds = run_once(commands[index])
            wall[index].append(seconds)
            cpu[index].append(cpu_seconds)
    with open(out, "w") as file:
        json.dump({"commands": commands, "wall": wall, "cpu": cpu}, file)


if __name__ == "__main__":
    main()
