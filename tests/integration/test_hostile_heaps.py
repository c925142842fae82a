"""Attacks on what crosses between heaps (vm/heaps.h): channels as C memory
shared by several Lua states, messages, timers of an emptied heap. Each
runs with every process in a heap of its own and with the default size."""
import pytest

from conftest import run_wippy

INDEX = """version: '1.0'
namespace: app
entries:
  - name: processes
    kind: process.host
  - name: child
    kind: process.lua
    source: file://child.lua
    method: main
    modules: [io, time]
    memory_limit: 16M
  - name: fn
    kind: function.lua
    source: file://fn.lua
    method: run
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io, time, funcs]
    meta:
      command: {name: main}
"""

SIZES = ["1", "2000"]


def run_app(make_app, size, child, main, fn="return {run = function() end}\n", timeout=60, options=()):
    app = make_app({"src/_index.yaml": INDEX, "src/child.lua": child, "src/main.lua": main, "src/fn.lua": fn})
    return run_wippy(app, *options, "--set", f"scheduler.heap_size={size}", "run", "main", timeout=timeout)


@pytest.mark.parametrize("size", SIZES)
def test_a_timer_outlives_the_process_that_set_it(make_app, size):
    # the child's heap empties at once; its timer fires 50 ms later
    result = run_app(make_app, size, """local time = require("time")
return {main = function() time.after("50ms") time.timer("30ms") return "set" end}
""", """local time = require("time")
local io = require("io")
return {main = function()
  for i = 1, 20 do process.spawn("app:child", "app:processes") end
  time.sleep("150ms")
  io.print("still here")
end}
""")
    assert (result.code, result.lines) == (0, ["still here"]), result


@pytest.mark.parametrize("size", SIZES)
def test_select_reads_its_cases_without_running_code(make_app, size):
    # an __index on a case used to run between setting up two waiters and
    # share a channel under them (a null message in its queue)
    result = run_app(make_app, size, "return {main = function() process.inbox():receive() end}\n",
                     """local io = require("io")
return {main = function()
  local taker = process.spawn("app:child", "app:processes")
  local p, q = channel.new(), channel.new()
  local sneaky = setmetatable({}, {__index = function(_, key)
    if key == "channel" then process.send(taker, "x", p) return q end
  end})
  io.print(pcall(channel.select, {p:case_send({secret = 1}), sneaky}))
  process.terminate(taker)
end}
""")
    assert result.code == 0, result
    assert result.lines == ["false\tsrc/main.lua:8: channel.select: case 2 has no channel"] or \
        result.lines[0].endswith("channel.select: case 2 has no channel"), result


@pytest.mark.parametrize("size", SIZES)
def test_a_channel_whose_finalizer_ran_is_refused_not_fatal(make_app, size):
    fn = """return {run = function()
  local weak = setmetatable({}, {__mode = "k"})
  weak[channel.new()] = true
  collectgarbage()
  return (next(weak))
end}
"""
    result = run_app(make_app, size, """return {main = function()
  local weak = setmetatable({}, {__mode = "k"})
  weak[channel.new()] = true
  collectgarbage()
  return (next(weak))
end}
""", """local io = require("io")
local funcs = require("funcs")
return {main = function()
  process.spawn_monitored("app:child", "app:processes")
  local ev = process.events():receive()
  io.print("returned", ev.result.value)
  local value, err = funcs.call("app:fn")
  io.print("called", value, tostring(err))
end}
""", fn=fn)
    assert result.code == 0, result
    assert result.lines[0].startswith("returned\t") and "the channel is gone" in result.out, result
    assert result.lines[1] == ("called\tnil\tfunction app:fn returned a value that cannot be passed: "
                               "the channel is gone"), result


@pytest.mark.parametrize("size", SIZES)
def test_channels_that_hold_themselves_or_a_long_chain(make_app, size):
    result = run_app(make_app, size, """local io = require("io")
return {main = function(n)
  local me, inbox = process.pid(), process.inbox()
  -- a private channel that buffers itself can be shared (it used to recurse)
  local selfish = channel.new(1)
  selfish:send(selfish)
  io.print(process.send(me, "x", selfish), inbox:receive():payload():data() == selfish)
  io.print(selfish:receive() == selfish)
  -- a shared one can be sent on itself
  local shared = channel.new(1)
  process.send(me, "share", shared)
  inbox:receive()
  io.print(pcall(shared.send, shared, {shared}))
  io.print(shared:receive()[1] == shared)
  -- a chain of 20000 channels each holding the last frees without recursion
  local top = channel.new(1)
  for i = 2, n do
    local ch = channel.new(1)
    process.send(me, "share", ch)
    inbox:receive()
    ch:send(top)
    top = ch
  end
  top = nil
  collectgarbage()
  return "chain freed"
end}
""", """local io = require("io")
return {main = function()
  process.spawn_monitored("app:child", "app:processes", 20000)
  local ev = process.events():receive()
  io.print(ev.result.value or ev.result.error)
end}
""", timeout=120)
    assert result.code == 0, result
    assert result.lines == ["true\ttrue", "true", "true\ttrue", "true", "chain freed"], result


@pytest.mark.parametrize("size", SIZES)
def test_channels_held_only_by_each_other_are_freed(make_app, size):
    # A carries B and B carries A, C carries itself, 1 MB each, and nothing
    # else holds them: the 16M child leaves them behind over and over; a
    # runtime capped at 256M must free them (it ran out after about 120
    # rounds without the cycle collector)
    result = run_app(make_app, size, """return {main = function()
  local me, inbox = process.pid(), process.inbox()
  local a, b, c = channel.new(1), channel.new(1), channel.new(1)
  process.send(me, "share", {a, b, c})
  inbox:receive()
  local blob = string.rep("z", 1024 * 1024 - 64)
  a:send({blob, b})
  b:send({blob, a})
  c:send({blob, c})
  return "leaked"
end}
""", """local io = require("io")
return {main = function()
  for i = 1, 300 do
    process.spawn_monitored("app:child", "app:processes")
    local ev = process.events():receive()
    if ev.result.error then io.print(i, ev.result.error) return end
    local big = {}
    for k = 1, 100 do big[k] = string.rep("y", 10000) .. k end
  end
  io.print("300 rounds")
end}
""", timeout=120, options=("--memory-limit", "256M"))
    assert (result.code, result.lines) == (0, ["300 rounds"]), result


@pytest.mark.parametrize("size", SIZES)
def test_a_private_channel_holding_itself_is_freed_once_dropped(make_app, size):
    # a buffer that holds its own channel must not keep it alive (300 rounds
    # of 1 MB each in a 16M process; a handle has a finalizer,
    # which the emergency collection of a full heap does not run, hence
    # the collections asked for)
    result = run_app(make_app, size, """return {main = function()
  local blob = string.rep("z", 1024 * 1024 - 64)
  for i = 1, 300 do
    local c = channel.new(1)
    c:send({blob .. i, c})
    if i % 4 == 0 then collectgarbage() end
  end
  return "300 rounds"
end}
""", """local io = require("io")
return {main = function()
  process.spawn_monitored("app:child", "app:processes")
  local ev = process.events():receive()
  io.print(ev.result.error or ev.result.value)
end}
""", timeout=120)
    assert (result.code, result.lines) == (0, ["300 rounds"]), result


@pytest.mark.parametrize("size", SIZES)
def test_a_limited_sender_pays_for_what_it_buffers_however_small(make_app, size):
    result = run_app(make_app, size, """return {main = function()
  local me, inbox = process.pid(), process.inbox()
  local ch = channel.new(10000000)
  process.send(me, "share", ch)
  inbox:receive()
  local sent = 0
  while true do
    local ok = pcall(ch.send, ch, true)
    if not ok then return sent end
    sent = sent + 1
  end
end}
""", """local io = require("io")
return {main = function()
  process.spawn_monitored("app:child", "app:processes")
  local ev = process.events():receive()
  io.print(ev.result.value < 120000)
end}
""", timeout=120)
    assert (result.code, result.lines) == (0, ["true"]), result


def test_select_with_more_cases_than_it_takes_is_an_error(make_app):
    result = run_app(make_app, "2000", "return {main = function() end}\n", """local io = require("io")
return {main = function()
  local t = setmetatable({}, {__len = function() return 2^31 end})
  t[2^31] = 1
  io.print(pcall(channel.select, t))
end}
""")
    assert result.code == 0, result
    assert "channel.select: " in result.out and "out of memory" not in result.err, result
