"""funcs.async and the Future, and the payload module, as Go Wippy's: the
future's channel gets the result as a payload (or the error), result() and
error() answer without waiting, cancel() stops the call and closes the
channel, and an async call ends with the process that started it."""
from conftest import run_wippy

INDEX = """version: '1.0'
namespace: app
entries:
  - name: processes
    kind: process.host
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io, funcs, payload, time]
    meta: {command: {name: main}}
  - name: starter
    kind: process.lua
    source: file://starter.lua
    method: main
    modules: [funcs]
  - name: slow
    kind: function.lua
    source: file://fns.lua
    method: slow
    modules: [time, io]
  - name: fail
    kind: function.lua
    source: file://fns.lua
    method: fail
    modules: [time, io]
  - name: two
    kind: function.lua
    source: file://fns.lua
    method: two
    modules: [time, io]
  - name: none
    kind: function.lua
    source: file://fns.lua
    method: none
    modules: [time, io]
"""

FNS = """local time = require("time")
local io = require("io")
return {
  slow = function(n, say) time.sleep("30ms") if say then io.print(say) end return {n = n * 2} end,
  fail = function() error(errors.new({message = "nope", kind = errors.NOT_FOUND})) end,
  two = function() return 1, "b" end,
  none = function() end,
}
"""

STARTER = """local funcs = require("funcs")
return {main = function() funcs.async("app:slow", 1, "the orphan ran") end}
"""

MAIN = """local io = require("io")
local funcs = require("funcs")
local payload = require("payload")
local time = require("time")
return {main = function()
  local f = funcs.async("app:slow", 21)
  io.print(f:is_complete(), f:result())
  local p, ok = f:response():receive()
  io.print(ok, tostring(p), p:get_format(), p:data().n, f:is_complete(), f:result():data().n, f:channel() == f:response())
  local e = funcs.async("app:fail")
  local got = e:channel():receive()
  local err, failed = e:error()
  io.print(tostring(got), got:kind(), err:kind(), failed, select(2, e:result()):kind())
  local t = funcs.async("app:two")
  local both = t:response():receive()
  io.print(#both, both[1]:data(), both[2]:data())
  local n = funcs.async("app:none")
  io.print(n:response():receive())
  local c = funcs.async("app:slow", 1, "a canceled call ran to the end")
  c:cancel()
  io.print(c:is_canceled(), c:response():receive())
  local r, cancel_err = c:result()
  io.print(r, tostring(cancel_err), cancel_err:kind())
  local a, b = funcs.async("app:slow", 2), funcs.async("app:slow", 3)
  local sel = channel.select{a:channel():case_receive(), b:channel():case_receive()}
  io.print(sel.value:data().n == 4 or sel.value:data().n == 6)
  local via = funcs.new():with_context({k = 1}):async("app:slow", 5)
  io.print(via:response():receive():data().n)
  io.print(funcs.async("app:nope"))
  -- an async call ends with the process that started it
  process.spawn_monitored("app:starter", "app:processes")
  process.events():receive()
  time.sleep("80ms")
  -- payloads
  local pl = payload.new({k = "v"})
  local js = pl:transcode(payload.format.JSON)
  io.print(pl:get_format(), js:get_format(), js:data().k, tostring(js), payload.new(errors.new("x")):get_format())
  io.print(pl:transcode(payload.format.YAML):data().k, pl:transcode(payload.format.STRING))
  io.print(payload.new("text"):transcode(payload.format.BYTES):data(), payload.format.MSGPACK)
  -- a payload sent to another process is a copy
  local inbox = process.inbox()
  process.send(process.pid(), "p", pl)
  local copy = inbox:receive():payload():data()
  copy:data().k = "changed"
  io.print(pl:data().k, copy:data().k)
end}
"""


def test_futures_and_payloads(make_app):
    app = make_app({"src/_index.yaml": INDEX, "src/main.lua": MAIN, "src/fns.lua": FNS, "src/starter.lua": STARTER})
    for size in ("1", "2000"):
        result = run_wippy(app, "--set", f"scheduler.heap_size={size}", "run", "main")
        assert result.code == 0, result
        assert result.lines == [
            "false\tnil\tnil",
            "true\tpayload{format=lua/any}\tlua/any\t42\ttrue\t42\ttrue",
            "nope\tNotFound\tInternal\ttrue\tNotFound",
            "2\t1\tb",
            "nil\ttrue",
            "true\tnil\tfalse",
            "nil\tcanceled\tCanceled",
            "true",
            "10",
            'nil\tfunction "app:nope" not found',
            "lua/any\tjson/plain\tv\tpayload{format=json/plain}\tgolang/error",
            "v\tnil\tpayload: cannot transcode a table value to text/plain",
            "text\tapplication/msgpack",
            "v\tchanged",
        ], (size, result)
