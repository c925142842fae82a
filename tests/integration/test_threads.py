"""Scheduler threads (scheduler.threads, --threads): the direct-network HTTP
services are served by that many loops of their own; a handler's calls on
io and env run on the main one, and on a process where that process lives,
with the handler's identity. Everything a handler sees is the same with
one thread or several."""
import os
import threading
import time

import pytest

from conftest import run_wippy

INDEX = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - {name: memory, kind: env.storage.memory}
  - {name: shared_note, kind: env.variable, variable: SHARED_NOTE, storage: app:memory, default: 'unset'}
  - name: server
    kind: http.service
    addr: 127.0.0.1:@PORT@
    lifecycle: {auto_start: true}
  - {name: root, kind: http.router, meta: {server: server}, prefix: /}
  - {name: probe, kind: http.endpoint, meta: {router: root}, method: GET, path: /probe, func: h_probe}
  - {name: chan, kind: http.endpoint, meta: {router: root}, method: GET, path: /chan, func: h_chan}
  - {name: spin, kind: http.endpoint, meta: {router: root}, method: GET, path: /spin, func: h_spin}
  - {name: slow, kind: http.endpoint, meta: {router: root}, method: GET, path: /slow, func: h_slow}
  - {name: count, kind: http.endpoint, meta: {router: root}, method: GET, path: /count, func: h_count}
  - {name: ready, kind: http.endpoint, meta: {router: root}, method: GET, path: /ready, func: h_ready}
  - {name: h_ready, kind: function.lua, source: 'file://h.lua', method: ready, modules: [http]}
  - {name: h_probe, kind: function.lua, source: 'file://h.lua', method: probe,
     modules: [http, io, env, funcs, uuid]}
  - {name: h_chan, kind: function.lua, source: 'file://h.lua', method: chan, modules: [http, funcs]}
  - {name: make_channel, kind: process.lua, source: 'file://h.lua', method: make_channel, meta: {default_host: processes}}
  - {name: h_spin, kind: function.lua, source: 'file://h.lua', method: spin, modules: [http]}
  - {name: h_slow, kind: function.lua, source: 'file://h.lua', method: slow, modules: [http, time]}
  - {name: h_count, kind: function.lua, source: 'file://h.lua', method: count, modules: [http, funcs]}
  - {name: double, kind: process.lua, source: 'file://h.lua', method: double, meta: {default_host: processes}}
  - {name: double_table, kind: process.lua, source: 'file://h.lua', method: double_table, meta: {default_host: processes}}
  - {name: boom, kind: process.lua, source: 'file://h.lua', method: boom, meta: {default_host: processes}}
  - {name: context_echo, kind: process.lua, source: 'file://h.lua', method: context_echo, modules: [ctx],
     meta: {default_host: processes}}
  - {name: ask_count, kind: process.lua, source: 'file://h.lua', method: ask_count, meta: {default_host: processes}}
  - {name: note, kind: process.lua, source: 'file://h.lua', method: note, modules: [ctx]}
  - {name: counter, kind: process.lua, source: 'file://h.lua', method: counter}
  - {name: counter_service, kind: process.service, process: counter, host: processes, lifecycle: {auto_start: true}}
"""

HANDLERS = r"""
local function http() return require("http") end
local function show(v, ...)
  if select("#", ...) > 0 then return tostring(v) .. "|" .. tostring((...)) end
  return tostring(v)
end

local function probe()
  local funcs, env, io = require("funcs"), require("env"), require("io")
  local counter = process.registry.lookup("counter")
  local lines = {}
  local function add(name, ...) lines[#lines + 1] = name .. "=" .. show(...) end
  add("lookup", counter ~= nil)
  add("lookup missing", process.registry.lookup("nobody"))
  add("send", process.send(counter, "inc", {n = 1}))
  add("send metatable", process.send(counter, "inc", setmetatable({n = 1}, {__index = function() return 9 end})))
  add("send unknown", process.send("{app:processes|0xfffff}", "inc", 1))
  add("send function", process.send(counter, "inc", function() end))
  add("terminate", process.terminate(counter))
  add("cancel", process.cancel(counter))
  add("spawn missing", process.spawn("app:nope", "app:processes"))
  add("spawn note", type(process.with_context({k = "from handler"}):spawn("app:note", "app:processes")))
  add("pid", process.pid())
  add("inbox", pcall(process.inbox))
  add("listen", pcall(process.listen, "topic"))
  add("with_options", type(process.with_options({})))
  add("with_options unknown", pcall(function() return type(process.with_options({network = "app:nowhere"})) end))
  add("send coroutine", process.send(counter, "inc", coroutine.create(function() end)))
  add("send spawner", process.send(counter, "inc", {process.with_options({})}))
  add("call function", pcall(funcs.call, "app:double", function() end))
  local deep, deeper = {}, nil
  for _ = 1, 127 do deep = {deep} end
  deeper = {deep}
  add("send deep", process.send(counter, "deep", deep))
  add("send deeper", process.send(counter, "deep", {deeper}))
  add("call deep", type(funcs.call("app:double_table", deep)))

  add("call", funcs.call("app:double", 21))
  local _, failed = funcs.call("app:boom")
  add("call error", failed and failed:kind(), failed and tostring(failed):match("it went wrong") ~= nil)
  add("context", funcs.new():with_context({k = "v"}):call("app:context_echo"))
  add("env before", env.get("SHARED_NOTE"))
  add("env set", env.set("SHARED_NOTE", "set by a handler"))
  -- argument errors name the function as it was called, with the caller's position
  add("bad send", pcall(function() return process.send({}, "t") end))
  add("bad send unnamed", pcall(process.send))
  add("bad spawn", pcall(function() return process.with_options({}):spawn() end))
  add("bad env", pcall(function() return env.get() end))
  add("bad env unnamed", pcall(env.get))
  add("bad spawn unnamed", pcall(process.with_options({}).spawn, process.with_options({})))
  io.print("printed by a handler")
  http().response():write(table.concat(lines, "\n"))
end

local function chan()
  local sent, failed = process.send(process.registry.lookup("counter"), "inc", {nested = channel.new(1)})
  local made, why = require("funcs").call("app:make_channel")
  if made == nil then http().response():write(show(sent, failed) .. "\n" .. tostring(why)) return end
  local ok, err = pcall(function() return made:send(1) end)
  http().response():write(show(sent, failed) .. "\n" .. show(ok, err))
end

local function spin()
  local x = 0
  for i = 1, 200000 do x = x + (i % 7) end
  http().response():write(tostring(x))
end

local function slow()
  process.send("counter", "inc", {}) -- the test waits until every one has started
  require("time").sleep("1200ms")
  http().response():write("finished")
end

local function count()
  http().response():write(show(require("funcs").call("app:ask_count")))
end

local function ready()
  http().response():write(tostring(process.registry.lookup("counter") ~= nil))
end

local function double(n) return n * 2 end
local function double_table(t) return t end
local function make_channel() return channel.new(1) end
local function boom() error("it went wrong") end
local function context_echo() return require("ctx").get("k") end
local function note() process.send("counter", "note", require("ctx").get("k")) end

local function ask_count()
  process.send("counter", "get", process.pid())
  local message = process.inbox():receive()
  return message:payload():data()
end

local function counter()
  process.registry.register("counter")
  local count, last = 0, nil
  local inbox = process.inbox()
  while true do
    local message = inbox:receive()
    local topic = message:topic()
    if topic == "inc" then count = count + 1
    elseif topic == "note" then last = message:payload():data()
    elseif topic == "get" then process.send(message:payload():data(), "count", count .. " " .. tostring(last)) end
  end
end

return {ready = ready, probe = probe, chan = chan, spin = spin, slow = slow, count = count, double = double, boom = boom,
        context_echo = context_echo, make_channel = make_channel, double_table = double_table, note = note, ask_count = ask_count, counter = counter}
"""


@pytest.fixture
def runtime(serve):
    def start(threads):
        served = serve(INDEX, HANDLERS, "--threads", str(threads))
        served.wait_for("/ready", "true")
        return served
    return start


def probe_with(runtime, threads):
    served = runtime(threads)
    first = served.get("/probe")
    second = served.get("/probe")
    # the note process (spawned by the first probe) reports to the counter
    count = served.wait_for("/count", lambda answer: "from handler" in answer)
    code, out, err = served.stop()
    return first, second, count, code, out, err


def test_handlers_see_the_same_with_one_thread_or_several(runtime):
    one = probe_with(runtime, 1)
    several = probe_with(runtime, 3)
    assert several[:3] == one[:3]
    lines = dict(line.split("=", 1) for line in one[0].splitlines())
    assert lines["lookup"] == "true"
    assert lines["send"] == "true" and lines["send metatable"] == "true"
    assert lines["send function"] == "nil|cannot pass a function between processes", lines
    assert lines["call"] == "42|nil"
    assert lines["call error"].endswith("|true"), lines
    assert lines["send coroutine"] == "nil|cannot pass a thread between processes", lines
    assert lines["send spawner"] == "nil|cannot pass a userdata between processes", lines
    assert lines["send deep"] == "true" and lines["call deep"] == "table", lines
    assert lines["send deeper"] == "nil|cannot pass a table nested deeper than 128 levels", lines
    assert lines["call function"].startswith("false|") and lines["call function"].endswith(
        "cannot pass a function between processes"), lines
    assert lines["context"] == "v|nil"
    assert lines["env before"] == "unset|nil" and lines["env set"] == "true|nil", lines
    assert dict(line.split("=", 1) for line in one[1].splitlines())["env before"] == "set by a handler|nil"
    assert lines["spawn note"] == "string"
    assert lines["bad send"] == "false|src/h.lua:45: bad argument #1 to 'send' (string expected, got table)", lines
    assert lines["bad send unnamed"] == "false|bad argument #1 to '?' (string expected, got no value)", lines
    assert lines["bad spawn"].startswith("false|src/h.lua:47: bad argument #1 to 'spawn'"), lines
    assert lines["bad env"].startswith("false|src/h.lua:48: bad argument #1 to 'get'"), lines
    assert lines["bad env unnamed"].startswith("false|bad argument #1 to '?'"), lines
    assert lines["bad spawn unnamed"].startswith("false|bad argument #2 to '?'"), lines
    assert one[2] == "4 from handler|nil", one  # two probes, two sends each, and the spawned process's note
    for code, out, err in (one[3:], several[3:]):
        assert code == 0, err
        assert out.count("printed by a handler") == 2, out


def test_a_channel_crosses_to_another_thread(runtime):
    """(test_channels_across_threads.py has the rest.)"""
    assert runtime(1).get("/chan") == "true|nil\ntrue|true"
    assert runtime(2).get("/chan") == "true|nil\ntrue|true"


def thread_cpu_ticks(pid):
    """The CPU time (utime + stime, clock ticks) of each thread named wippy-http*."""
    ticks = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/comm") as comm:
            name = comm.read().strip()
        with open(f"/proc/{pid}/task/{task}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        if name.startswith("wippy-http"):
            ticks[name] = ticks.get(name, 0) + int(fields[11]) + int(fields[12])
    return ticks


def test_requests_are_spread_over_the_threads(runtime):
    served = runtime(3)
    deadline = time.monotonic() + 20  # the socket listens before every thread has started
    while len(thread_cpu_ticks(served.process.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    before = thread_cpu_ticks(served.process.pid)
    assert sorted(before) == ["wippy-http1", "wippy-http2", "wippy-http3"], before

    def load():
        for _ in range(40):
            served.get("/spin")
    clients = [threading.Thread(target=load) for _ in range(6)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    after = thread_cpu_ticks(served.process.pid)
    busy = [name for name in after if after[name] > before[name]]
    assert len(busy) >= 2, (before, after)


def test_requests_in_flight_on_the_threads_finish_at_shutdown(runtime):
    served = runtime(2)
    answers = []

    def fetch():
        answers.append(served.get("/slow"))
    clients = [threading.Thread(target=fetch) for _ in range(4)]
    for client in clients:
        client.start()
    served.wait_for("/count", "4 nil|nil")  # every request is being handled
    code, _, err = served.stop()
    for client in clients:
        client.join()
    assert code == 0, err
    assert answers == ["finished"] * 4, (answers, err)


def test_threads_is_checked(make_app):
    app = make_app({"src/_index.yaml": "version: '1.0'\nnamespace: app\nentries: []\n"})
    for bad in ("0", "x", "-1", ""):
        result = run_wippy(app, f"--threads={bad}", "run")
        assert result.code == 2, result
        assert result.err == "wippy: --threads needs a number from 1 to 256\n", result
    result = run_wippy(app, "--set", "scheduler.threads=300", "run")
    assert result.code != 0 and "scheduler.threads" in result.err and "1 to 256" in result.err, result
    (app / ".wippy.yaml").write_text("scheduler:\n  threadz: 2\n")
    result = run_wippy(app, "run")
    assert 'scheduler.threadz: unknown setting (did you mean "threads"?)' in result.err, result
