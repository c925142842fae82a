"""Processes live in Lua heaps of scheduler.heap_size processes each; with a
size of 1 every process has a heap of its own, so everything below crosses
from one Lua state to another as a message."""
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
    modules: [time, security]
  - name: hoarder
    kind: process.lua
    source: file://hoarder.lua
    method: main
    memory_limit: 2M
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io, time, security]
    meta:
      command: {name: main}
"""

CHILD = """local time = require("time")
local security = require("security")
return {main = function(mode, ch)
  if mode == "echo" then
    -- takes values from the channel and sends them back, changed
    while true do
      local v, ok = ch:receive()
      if not ok then return "closed" end
      if type(v) == "table" then v.seen = true end
      ch:send(v)
    end
  elseif mode == "wait" then
    local v, ok = ch:receive()
    return {value = v, ok = ok}
  elseif mode == "select" then
    local other = channel.new()
    local r = channel.select{ch:case_receive(), other:case_receive()}
    return {value = r.value, same = r.channel == ch}
  elseif mode == "give" then
    local inbox = process.inbox()
    local msg = inbox:receive()
    local back = msg:payload():data()
    back.ch:send(back.ch)
    back.ch:send(time.now())
    back.ch:send(errors.new({message = "gone", kind = errors.NOT_FOUND, details = {id = 7}}))
    back.ch:send(security.new_actor("user:1", {role = "admin"}))
    return "gave"
  end
end}
"""

HOARDER = """return {main = function(ch)
  local big = {}
  for i = 1, 10000 do big[i] = i end
  local sent = 0
  while true do
    local ok, err = pcall(ch.send, ch, big)
    if not ok then return sent .. " " .. tostring(err):gsub("^.-: ", "") end
    sent = sent + 1
  end
end}
"""

MAIN = """local io = require("io")
local time = require("time")
local security = require("security")

local function wait_exit()
  local ev = process.events():receive()
  return ev.result and (ev.result.value or ev.result.error)
end

return {main = function()
  -- a channel shared with a process in another heap, both ways
  local ch = channel.new()
  process.spawn_monitored("app:child", "app:processes", "echo", ch)
  ch:send({n = 1, nested = {deep = "x"}})
  local back = ch:receive()
  io.print("echoed", back.n, back.nested.deep, back.seen)
  ch:close()
  io.print("echo ended", wait_exit())

  -- a receiver blocked in its own heap is woken by a close in this one
  local waiting = channel.new()
  process.spawn_monitored("app:child", "app:processes", "wait", waiting)
  time.sleep("20ms")
  waiting:close()
  local r = wait_exit()
  io.print("woken by close", r.value, r.ok)

  -- select in another heap: the result names the channel of that heap
  local sel = channel.new(1)
  process.spawn_monitored("app:child", "app:processes", "select", sel)
  time.sleep("20ms")
  sel:send("picked")
  r = wait_exit()
  io.print("select", r.value, r.same)

  -- shared values come back as what they were
  local give = channel.new(4)
  local child = process.spawn("app:child", "app:processes", "give")
  process.send(child, "take", {ch = give})
  local same = give:receive()
  io.print("the channel came back as itself", same == give)
  local t = give:receive()
  io.print("a time", type(t:unix()), t:unix() > 0)
  local e = give:receive()
  io.print("an error", tostring(e), e:kind(), e:details().id, errors.is(e, errors.NOT_FOUND))
  local a = give:receive()
  io.print("an actor", a:id(), a:meta().role)

  -- a limited sender pays for what it buffers in a shared channel
  local pile = channel.new(1000)
  process.spawn_monitored("app:hoarder", "app:processes", pile)
  io.print("hoarder", wait_exit())
end}
"""


def make(make_app):
    return make_app({
        "src/_index.yaml": INDEX,
        "src/child.lua": CHILD,
        "src/hoarder.lua": HOARDER,
        "src/main.lua": MAIN,
    })


def test_values_and_channels_cross_heaps(make_app):
    app = make(make_app)
    for size in ("1", "2000"):
        result = run_wippy(app, "--set", f"scheduler.heap_size={size}", "run", "main", timeout=30)
        assert result.code == 0, result
        assert result.lines[:8] == [
            "echoed\t1\tx\ttrue",
            "echo ended\tclosed",
            "woken by close\tnil\tfalse",
            "select\tpicked\ttrue",
            "the channel came back as itself\ttrue",
            "a time\tnumber\ttrue",
            "an error\tgone\tNotFound\t7\ttrue",
            "an actor\tuser:1\tadmin",
        ], (size, result)
        # 80-160 KB each: a 2M process cannot keep more than about 20 waiting
        count, reason = result.lines[8].split("\t")[1].split(" ", 1)
        assert 3 <= int(count) <= 25 and reason == "not enough memory", (size, result)


def test_emptied_heaps_are_closed(make_app):
    app = make_app({
        "src/_index.yaml": INDEX,
        "src/child.lua": "return {main = function() return 1 end}\n",
        "src/hoarder.lua": HOARDER,
        "src/main.lua": """return {main = function()
  for i = 1, 300 do
    process.spawn_monitored("app:child", "app:processes")
    process.events():receive()
  end
end}
""",
    })
    result = run_wippy(app, "-v", "--set", "scheduler.heap_size=1", "run", "main", timeout=30)
    assert result.code == 0, result
    assert "heaps open at shutdown: 1" in result.err, result
