"""A command has the scheduler threads too, with no HTTP service: with
--threads N what it spawns goes to the loop with the fewest processes. Each
loop then stays alive for what another may post to it, and a deadlock is
every loop idle with no post in flight: reported as with one loop, never
while a process of another loop sleeps, works or is about to send."""
import subprocess
import time

import pytest

from conftest import wippy_binary
from test_processes_across_threads import SPIN, thread_cpu

INDEX = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - {name: main, kind: process.lua, source: 'file://main.lua', method: main, modules: [io, time],
     meta: {command: {name: main}}}
  - {name: spinner, kind: process.lua, source: 'file://main.lua', method: spinner}
  - {name: late, kind: process.lua, source: 'file://main.lua', method: late, modules: [time]}
  - {name: stuck, kind: process.lua, source: 'file://main.lua', method: stuck}
  - {name: relay, kind: process.lua, source: 'file://main.lua', method: relay}
"""

MAIN = r"""
local function spinner(n)
  local x = 0
  for i = 1, n do x = x + (i % 7) end
  return x
end

-- sleeps, then sends to whoever asked
local function late(to)
  require("time").sleep("300ms")
  process.send(to, "late", "came late")
end

local function stuck() process.inbox():receive() end

-- passes one message on to the next relay, the last back to the first
local function relay(to, hops)
  local message = process.inbox():receive()
  if hops > 0 then
    local next_one = process.spawn("app:relay", "app:processes", to, hops - 1)
    process.send(next_one, "hop", message:payload():data() + 1)
  else
    process.send(to, "done", message:payload():data())
  end
end

local function main(what, n)
  local io = require("io")
  -- two idle ones first, so that what it spawns next goes to other loops
  if what ~= "alone" then
    for _ = 1, 2 do process.spawn("app:stuck", "app:processes") end
  end
  if what == "spin" then
    for _ = 1, 3 do process.spawn_monitored("app:spinner", "app:processes", tonumber(n)) end
    for _ = 1, 3 do process.events():receive() end
    io.print("spun")
  elseif what == "late" then
    process.spawn("app:late", "app:processes", process.pid())
    io.print(process.inbox():receive():payload():data())
  elseif what == "relay" then
    local first = process.spawn("app:relay", "app:processes", process.pid(), 20)
    process.send(first, "hop", 0)
    io.print("hops", process.inbox():receive():payload():data())
  elseif what == "wait_on_stuck" then
    process.spawn_monitored("app:stuck", "app:processes")
    process.events():receive()
  elseif what == "exec_stuck" then
    process.exec("app:stuck", "app:processes")
  elseif what == "alone" then
    process.inbox():receive()
  end
  return 0
end

return {main = main, spinner = spinner, late = late, stuck = stuck, relay = relay}
"""

DEADLOCK = "wippy: every process is blocked and nothing can wake them (deadlock)"


@pytest.fixture
def project(make_app):
    return make_app({"src/_index.yaml": INDEX, "src/main.lua": MAIN})


def run(project, *args, threads=3, timeout=30):
    return subprocess.run([wippy_binary(), "--threads", str(threads), "run", "main", *args], cwd=project,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("what", ["alone", "wait_on_stuck", "exec_stuck"])
def test_every_loop_blocked_is_reported_as_a_deadlock(project, what):
    for threads in (1, 3):
        result = run(project, what, threads=threads)
        assert result.returncode == 1, (threads, result)
        assert result.stderr.strip() == DEADLOCK, (threads, result)


def test_no_deadlock_while_a_process_of_another_loop_sleeps_before_sending(project):
    for threads in (1, 3):
        result = run(project, "late", threads=threads)
        assert (result.returncode, result.stdout, result.stderr) == (0, "came late\n", ""), (threads, result)


def test_no_deadlock_while_messages_hop_between_loops(project):
    for threads in (1, 3):
        result = run(project, "relay", threads=threads)
        assert (result.returncode, result.stdout, result.stderr) == (0, "hops\t20\n", ""), (threads, result)


def test_what_a_command_spawns_runs_on_the_other_threads(project):
    command = subprocess.Popen([wippy_binary(), "--threads", "2", "run", "main", "spin", str(SPIN)],
                               cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    spent = thread_cpu(command.pid)
    out, err = command.communicate(timeout=120)
    assert (command.returncode, out) == (0, "spun\n"), err
    workers = [seconds for name, seconds in spent.items() if name.startswith("wippy-http")]
    # more than what starting a loop costs (under ThreadSanitizer a spinner does less in a second)
    assert len(workers) == 2 and all(seconds > 0.1 for seconds in workers), spent
