"""Hostile code against processes of other loops (scheduler threads): what
an attacker review of processes on every loop found, each checked here.
Handlers spawn processes on their own loop and connections go to the
loops in turn, so two requests place two processes on two loops; a
process.service lives on the main loop."""
import os
import time

from test_processes_across_threads import SERVED

INDEX = SERVED + """  - {name: h_step, kind: function.lua, source: 'file://h.lua', method: step, modules: [http, time]}
  - {name: target, kind: process.lua, source: 'file://h.lua', method: target}
  - {name: linker, kind: process.lua, source: 'file://h.lua', method: linker}
  - {name: unlinker, kind: process.lua, source: 'file://h.lua', method: unlinker}
  - {name: victim, kind: process.lua, source: 'file://h.lua', method: victim, modules: [time]}
  - {name: victim_service, kind: process.service, process: victim, host: processes, lifecycle: {auto_start: true}}
  - {name: sink, kind: process.lua, source: 'file://h.lua', method: sink, modules: [time], memory_limit: 4194304}
  - {name: sink_service, kind: process.service, process: sink, host: processes, lifecycle: {auto_start: true}}
  - {name: flooder, kind: process.lua, source: 'file://h.lua', method: flooder, modules: [time],
     memory_limit: 4194304}
  - {name: canceller, kind: process.lua, source: 'file://h.lua', method: canceller, memory_limit: 4194304}
  - {name: idle, kind: process.lua, source: 'file://h.lua', method: idle}
"""

HANDLERS = r"""
local function target(name)
  process.registry.register(name)
  local inbox = process.inbox()
  while true do inbox:receive() end
end

-- links with t in one coroutine and fails in another a moment later
local function linker(t)
  coroutine.spawn(function() process.link(t) end)
  coroutine.spawn(function()
    local x = 0
    for i = 1, 300000 do x = x + i end
    error("the linker fails")
  end)
  process.inbox():receive()
end

-- linked with t, unlinks in one coroutine and fails in another a moment later
local function unlinker(t)
  process.link(t)
  coroutine.spawn(function() process.unlink(t) end)
  coroutine.spawn(function()
    local x = 0
    for i = 1, 300000 do x = x + i end
    error("the unlinker fails")
  end)
  process.inbox():receive()
end

-- registers "svc", checks it still holds it, gives it up; counts thefts
local victim_report = "running"
local function victim()
  local time = require("time")
  process.registry.register("victim")
  local stolen, rounds = 0, 0
  local deadline = time.now():unix() + 3
  while time.now():unix() < deadline do
    local ok = process.registry.register("svc")
    local still = process.registry.lookup("svc")
    local held = process.registry.unregister("svc")
    if ok and (still ~= process.pid() or held ~= true) then stolen = stolen + 1 end
    rounds = rounds + 1
    if rounds % 50 == 0 then time.sleep("1ms") end
  end
  process.registry.register("victim done, stolen " .. stolen .. ", busy " .. tostring(rounds > 1000))
  process.inbox():receive()
end

local function sink()
  process.registry.register("sink")
  local time = require("time")
  while true do time.sleep("1s") end
end

-- a process with a 4 MB limit sends 1 MB at once from 200 coroutines to a
-- process of another loop that reads nothing
local function flooder()
  local time = require("time")
  local big = string.rep("z", 1000000)
  local stop = time.now():unix() + 2
  local sent, failed = 0, 0
  for _ = 1, 200 do
    coroutine.spawn(function()
      while time.now():unix() < stop do
        -- at its limit, even the error a refused send returns may not fit
        local ok, delivered = pcall(process.send, "sink", "t", big)
        if ok and delivered then sent = sent + 1 else failed = failed + 1 end
      end
    end)
  end
  while time.now():unix() < stop + 1 do time.sleep("100ms") end
  process.registry.register("flooded " .. tostring(sent > 0) .. ", refused " .. tostring(failed > 0))
  process.inbox():receive()
end

local function idle() process.inbox():receive() end

-- a process with a 4 MB limit cancels its child (placed on another loop:
-- two idle ones first fill its own) with reasons of 1.5 MB, again and again
local function canceller()
  for _ = 1, 2 do process.spawn("app:idle", "app:processes") end
  local child = process.spawn("app:idle", "app:processes")
  local done, refused = 0, 0
  for i = 1, 300 do
    local reason = nil
    reason = string.rep("c", 1500000 + i)
    local ok = pcall(process.cancel, child, reason)
    if ok then done = done + 1 else refused = refused + 1 end
  end
  process.registry.register("cancelled " .. done)
  process.inbox():receive()
end

local function step()
  local http, time = require("http"), require("time")
  local q = function(k) return http.request():query(k) end
  local which, out = q("do"), nil
  if which == "start" then out = tostring(process.spawn("app:" .. q("what"), "app:processes", q("arg")))
  elseif which == "lookup" then out = tostring(process.registry.lookup(q("name")) ~= nil)
  elseif which == "flooded" then
    out = "none"
    for _, sent in ipairs({"true", "false"}) do
      for _, refused in ipairs({"true", "false"}) do
        local name = "flooded " .. sent .. ", refused " .. refused
        if process.registry.lookup(name) then out = name end
      end
    end
  elseif which == "unregister" then
    local refused, done = 0, 0
    local deadline = time.now():unix() + 2
    while time.now():unix() < deadline do
      for _ = 1, 200 do
        if process.registry.unregister("svc") == nil then refused = refused + 1 else done = done + 1 end
      end
      time.sleep("1ms")
    end
    out = "refused>0=" .. tostring(refused > 0)
  end
  http.response():write(out)
end

return {step = step, target = target, linker = linker, unlinker = unlinker, victim = victim, sink = sink,
        flooder = flooder, canceller = canceller, idle = idle}
"""


def eventually(served, path, expected, seconds=10):
    """The answer to path once it is expected, or the last one after seconds."""
    deadline = time.monotonic() + seconds
    while True:
        answer = served.get(path)
        if answer == expected or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def test_a_process_of_another_loop_failing_right_after_linking_takes_its_link_down(serve):
    served = serve(INDEX, HANDLERS, "--threads", "2")
    assert served.get("/step?do=start&what=target&arg=t1").startswith("{")  # first loop
    served.wait_for("/step?do=lookup&name=t1", "true")  # registered, so the link finds it
    assert served.get("/step?do=start&what=linker&arg=t1").startswith("{")  # second loop
    assert eventually(served, "/step?do=lookup&name=t1", "false") == "false"  # linked, so taken down
    served.stop()


def test_an_unlink_before_failing_spares_the_process_of_another_loop(serve):
    served = serve(INDEX, HANDLERS, "--threads", "2")
    assert served.get("/step?do=start&what=target&arg=t2").startswith("{")
    served.wait_for("/step?do=lookup&name=t2", "true")
    assert served.get("/step?do=start&what=unlinker&arg=t2").startswith("{")
    time.sleep(0.5)
    assert served.get("/step?do=lookup&name=t2") == "true"
    served.stop()


def test_a_name_cannot_be_taken_from_its_holder_between_a_check_and_a_removal(serve):
    served = serve(INDEX, HANDLERS, "--threads", "2")
    served.wait_for("/step?do=lookup&name=victim", "true")
    # a handler (no process, so never allowed to take a held name) keeps
    # giving "svc" up while the victim, on the main loop, holds it on and off
    assert served.get("/step?do=unregister", timeout=60) == "refused>0=true"
    assert eventually(served, "/step?do=lookup&name=victim%20done,%20stolen%200,%20busy%20true", "true") == "true"
    served.stop()


def test_calls_to_another_loop_count_against_the_callers_memory_limit(serve):
    served = serve(INDEX, HANDLERS, "--threads", "2")
    served.wait_for("/step?do=lookup&name=sink", "true")
    assert served.get("/step?do=start&what=flooder").startswith("{")
    time.sleep(5)  # it floods for 2 to 3 seconds, then waits one
    flooded = served.get("/step?do=flooded", timeout=60)
    with open(f"/proc/{served.process.pid}/status") as status:
        peak_kb = int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
    _, _, err = served.stop()
    # the copies in flight are the flooder's to pay for: a few fit in its
    # 4 MB, and the receiver's half of its own 4 MB a couple (it was 3 GB);
    # a send to another loop does not wait, so the receiver's refusals are
    # told in the log (once, then at each power of two)
    if os.environ.get("SANITIZE", "0") in ("", "0"):  # ASan keeps freed memory in quarantine
        assert peak_kb < 150 * 1024, peak_kb
    # (at its limit the flooder's own code may fail too, and it ends unregistered)
    assert flooded in ("none", "flooded true, refused true"), err
    refusals = [line for line in err.splitlines() if "was not delivered: it has no memory left for it" in line]
    assert refusals and len(refusals) <= 20, err[-2000:]


def test_a_cancel_to_another_loop_gives_its_reason_to_the_receiver_to_pay_for(serve):
    served = serve(INDEX, HANDLERS, "--threads", "2")
    assert served.get("/step?do=start&what=canceller").startswith("{")
    time.sleep(3)
    with open(f"/proc/{served.process.pid}/status") as status:
        peak_kb = int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
    served.stop()
    # 300 reasons of 1.5 MB kept by the child: 636 MB before, charged to nobody
    if os.environ.get("SANITIZE", "0") in ("", "0"):
        assert peak_kb < 150 * 1024, peak_kb
