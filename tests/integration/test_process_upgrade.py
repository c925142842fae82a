"""process.upgrade (as Go Wippy's): a process's code is replaced in place:
the same pid, names, monitors and inbox; its old code ends as if killed."""
import os

import pytest

from conftest import run_wippy

INDEX = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - {name: v1, kind: process.lua, source: 'file://main.lua', method: v1, modules: [io]}
  - {name: v2, kind: process.lua, source: 'file://main.lua', method: v2, modules: [io]}
  - {name: counter, kind: process.lua, source: 'file://main.lua', method: counter, modules: [io]}
  - {name: main, kind: process.lua, source: 'file://main.lua', method: main, modules: [io, channel],
     meta: {command: {name: main}}}
"""

SCRIPT = r"""
local io = require("io")
local function v1(parent)
  process.registry.register("worker")
  coroutine.spawn(function() while true do coroutine.yield() end end)
  local message = process.inbox():receive()          -- "go"
  local nothing, err = process.upgrade("app:nope")
  process.send(parent, "log", "missing: " .. tostring(nothing) .. " " .. err:kind())
  local ok, bad = pcall(process.upgrade, "app:v2", function() end)
  process.send(parent, "log", "function: " .. tostring(ok) .. " " .. tostring(bad):match("cannot pass a function") )
  process.upgrade("app:v2", {count = message:payload():data(), from = process.pid()})
  process.send(parent, "log", "never here")
end
local function v2(state)
  local message = process.inbox():receive()           -- sent before the upgrade
  process.send(message:from(), "log", "v2 got " .. message:topic() .. " count " .. state.count ..
               " same pid " .. tostring(state.from == process.pid()) ..
               " name " .. tostring(process.registry.lookup("worker") == process.pid()))
  return "v2 done"
end
local function counter(n)
  if n < 3 then process.upgrade(nil, n + 1) end
  return n
end
local function main()
  local me = process.pid()
  local worker = process.spawn_monitored("app:v1", "app:processes", me)
  local logs = process.listen("log")
  process.send(worker, "go", 7)
  process.send(worker, "ping", "hello")
  for _ = 1, 3 do io.print((logs:receive())) end
  local event = process.events():receive()
  io.print("exit", event.kind, event.from == worker, event.result.value)
  io.print("counter", process.exec("app:counter", "app:processes", 0))
  io.print("coroutine", select(2, pcall(function()
    local result = channel.new(1)
    coroutine.spawn(function()
      local _, err = process.upgrade()
      result:send(tostring(err))
    end)
    return (result:receive())
  end)))
  return 0
end
return {v1 = v1, v2 = v2, counter = counter, main = main}
"""


def test_an_upgraded_process_keeps_its_pid_name_monitor_and_inbox(make_app):
    app = make_app({"src/_index.yaml": INDEX, "src/main.lua": SCRIPT})
    result = run_wippy(app, "run", "main", timeout=20)
    assert result.code == 0, result
    assert result.lines == [
        "missing: nil NotFound",
        "function: false cannot pass a function",
        "v2 got ping count 7 same pid true name true",
        "exit\tpid.exit\ttrue\tv2 done",
        "counter\t3",
        "coroutine\tprocess.upgrade: only the process's own code may upgrade it (not a coroutine or a "
        "function it started)",
    ], result


def test_upgrading_into_another_entry_needs_the_right_to_spawn_it(make_app):
    script = SCRIPT.replace("local function main()", """local function strict(step)
  if step == nil then
    local _, err = process.upgrade("app:v2", {})
    io.print(tostring(err), err:kind())
    process.upgrade(nil, "again")   -- its own entry: no right needed
  end
  io.print("restarted with", step)
  return 0
end
local function main()""").replace("return {v1 = v1,", "return {strict = strict, v1 = v1,")
    index = INDEX + """  - {name: strict, kind: process.lua, source: 'file://main.lua', method: strict, modules: [io],
     meta: {command: {name: strict}}}
"""
    app = make_app({"src/_index.yaml": index, "src/main.lua": script})
    result = run_wippy(app, "--set", "security.strict_mode=true", "run", "strict", timeout=20)
    assert (result.code, result.lines) == (0, ["not allowed to upgrade to process: app:v2\tPermissionDenied",
                                               "restarted with\tagain"]), result


HOSTILE_INDEX = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - {name: tight, kind: process.lua, source: 'file://main.lua', method: tight, memory_limit: 8M}
  - {name: hungry, kind: process.lua, source: 'file://main.lua', method: hungry}
  - {name: loop, kind: process.lua, source: 'file://main.lua', method: loop}
  - {name: main, kind: process.lua, source: 'file://main.lua', method: main, modules: [io],
     meta: {command: {name: main}}}
"""

HOSTILE_SCRIPT = r"""
local function tight() process.upgrade("app:hungry") end
local function hungry()
  local t = {}
  for i = 1, 1e6 do t[i] = string.rep("x", 64) .. i end
  return "escaped its limit"
end
local function loop(n)
  if n > 0 then process.upgrade(nil, n - 1, {padding = string.rep("y", 1000)}) end
  return collectgarbage("count")
end
local function main(count)
  local io = require("io")
  local ok, err = process.exec("app:tight", "app:processes")
  io.print("limit kept", ok == nil and tostring(err):find("not enough memory") ~= nil)
  local kilobytes = process.exec("app:loop", "app:processes", tonumber(count))
  io.print("upgrades in one process, heap below 64 MB", kilobytes < 65536)
  return 0
end
return {tight = tight, hungry = hungry, loop = loop, main = main}
"""


@pytest.mark.skipif(os.environ.get("SANITIZE") == "thread",
                    reason="ThreadSanitizer's shadow stack grows with every killed coroutine's longjmp: "
                           "thousands of upgrades exhaust it (plain and ASan runs check this)")
def test_an_upgrade_cannot_lift_a_memory_limit_or_pile_up_memory(make_app):
    app = make_app({"src/_index.yaml": HOSTILE_INDEX, "src/main.lua": HOSTILE_SCRIPT})
    # 100,000 upgrades take half a second, but minutes under ThreadSanitizer
    count = "100000" if os.environ.get("SANITIZE", "0") in ("", "0") else "10000"
    result = run_wippy(app, "run", "main", count, timeout=60)
    assert (result.code, result.lines) == (0, ["limit kept\ttrue",
                                               "upgrades in one process, heap below 64 MB\ttrue"]), result


ATTACK_INDEX = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - {name: evil, kind: process.lua, source: 'file://main.lua', method: evil}
  - {name: worker, kind: process.lua, source: 'file://main.lua', method: worker, modules: [os]}
  - {name: nested, kind: process.lua, source: 'file://main.lua', method: nested}
  - {name: importer, kind: process.lua, source: 'file://main.lua', method: importer, imports: {lib: app:lib}}
  - {name: lib, kind: library.lua, source: 'file://lib.lua', modules: [io]}
  - {name: keeper, kind: process.lua, source: 'file://main.lua', method: keeper, modules: [time]}
  - {name: main, kind: process.lua, source: 'file://main.lua', method: main, modules: [io, time],
     meta: {command: {name: main}}}
"""

ATTACK_SCRIPT = r"""
local function evil(parent)
  -- a value whose metamethods would run in the next entry's code, with its modules
  local bait = setmetatable({}, {__index = function() return "pid.exit" end})
  local ok, err = pcall(function() process.events():send(bait) end)
  local ok2, err2 = pcall(function() process.inbox():send(bait) end)
  process.send(parent, "log", tostring(ok) .. " " .. tostring(ok2) .. " " .. tostring(err2):gsub("^.-: ", ""))
  process.upgrade("app:worker", parent)
end
local function worker(parent)
  process.send(parent, "log", "worker started clean")
  return 0
end
local function nested(parent)
  local f = coroutine.wrap(function() return process.upgrade("app:worker", parent) end)
  local _, err = f()
  process.send(parent, "log", "nested: " .. tostring(err))
  return 0
end
local function importer(parent)
  local ok, lib = pcall(require, "lib")
  process.send(parent, "log", "importer: " .. tostring(lib.refused))
  return 0
end
local function keeper(parent, stage)
  if stage == nil then
    process.inbox()                      -- taken: messages go there
    process.send(parent, "ready", 1)
    require("time").sleep("100ms")       -- 1..3 arrive (max_inbox 3), 4..5 refused
    process.upgrade(nil, parent, 2)
  end
  local inbox, got = process.inbox(), {}
  for i = 1, 3 do got[i] = inbox:receive():payload():data() end
  process.send(parent, "log", "kept " .. table.concat(got, ","))
  return 0
end
local function main()
  local io, time = require("io"), require("time")
  local me = process.pid()
  local logs = process.listen("log")
  for _, name in ipairs({"evil", "nested", "importer"}) do
    process.spawn("app:" .. name, "app:processes", me)
    io.print((logs:receive()))
  end
  io.print((logs:receive()))  -- the worker evil became
  local keeper = process.spawn("app:keeper", "app:processes", me)
  process.listen("ready"):receive()
  local sent = {}
  for i = 1, 5 do sent[i] = tostring(process.send(keeper, "m", i) == true) end
  io.print("sent " .. table.concat(sent, ","))
  io.print((logs:receive()))
  return 0
end
return {evil = evil, worker = worker, nested = nested, importer = importer, keeper = keeper, main = main}
"""

ATTACK_LIB = r"""
local _, err = process.upgrade()  -- a library's top level is not its importer's code
return {refused = tostring(err)}
"""


def test_an_upgrade_cannot_carry_code_into_another_entry_or_lose_messages(make_app):
    app = make_app({"src/_index.yaml": ATTACK_INDEX, "src/main.lua": ATTACK_SCRIPT, "src/lib.lua": ATTACK_LIB})
    result = run_wippy(app, "--set", "process.max_inbox=3", "run", "main", timeout=20)
    refused = ("process.upgrade: call it from the process's own code, not inside a coroutine or while a "
               "library loads")
    assert result.code == 0, result
    assert sorted(result.lines[:4]) == sorted([
        "false false only the runtime sends on a process's inbox or events channel",
        f"nested: {refused}",
        f"importer: {refused}",
        "worker started clean",
    ]), result
    assert result.lines[4:] == ["sent true,true,true,false,false", "kept 1,2,3"], result
