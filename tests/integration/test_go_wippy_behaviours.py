"""Behaviours Go Wippy's own Lua suites rely on, written from its specs and
code: a process entry with meta.default_host called as a function, a
future failing with the error a function returns, the core globals, error
objects where the string library expects text, listen's channel identity,
unregister's answer, json's error kinds, table.create."""
from conftest import run_wippy

INDEX = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - {name: echo, kind: process.lua, source: 'file://main.lua', method: echo, meta: {default_host: processes}}
  - {name: boom, kind: process.lua, source: 'file://main.lua', method: boom, meta: {default_host: app:processes}}
  - {name: plain, kind: process.lua, source: 'file://main.lua', method: echo}
  - {name: ret_err, kind: function.lua, source: 'file://main.lua', method: ret_err}
  - {name: main, kind: process.lua, source: 'file://main.lua', method: main, modules: [io, funcs, json],
     meta: {command: {name: main}}}
"""

SCRIPT = r"""
local function echo(a, b) return {a = a, n = b and b.n, own_pid = process.pid()} end
local function boom() error("intentional process error") end
local function ret_err() return nil, errors.new({message = "it failed", kind = errors.INVALID}) end
local function main()
  local io, funcs, json = require("io"), require("funcs"), require("json")
  local r, err = funcs.call("app:echo", "first", {n = 2})
  io.print("process as function", r.a, r.n, r.own_pid ~= process.pid(), err)
  local _, failed = funcs.call("app:boom")
  io.print("its error", tostring(failed):match("intentional process error"))
  local _, missing = funcs.call("app:plain")
  io.print("without default_host", tostring(missing))
  local async = funcs.async("app:echo", "x"):response():receive()
  io.print("async", async:data().a)
  local future = funcs.async("app:ret_err")
  local delivered = future:response():receive()
  local future_err = future:error()
  io.print("async (nil, err)", delivered:kind(), tostring(future_err), future_err:kind())
  io.print("core globals", type(payload), type(os.time), os.execute)
  local _, dead = process.send("{app:processes|0xfffff}", "t", 1)
  io.print("string functions take errors", string.find(dead, "not found") ~= nil,
           string.match(dead, "^process"), #string.sub(dead, 1, 7), string.upper(dead):sub(1, 7))
  io.print("listen twice, one channel", process.listen("a") == process.listen("a"))
  io.print("unregister", process.registry.register("n1"), process.registry.unregister("n1"),
           process.registry.unregister("n1"))
  local _, bad = json.decode("{")
  local _, empty = json.decode("")
  local _, cyclic = (function() local t = {} t.t = t return json.encode(t) end)()
  io.print("json kinds", bad:kind(), empty:kind(), cyclic:kind())
  local t = table.create(4, 2)
  io.print("table.create", type(t), #t, pcall(table.create, -1))
  return 0
end
return {echo = echo, boom = boom, ret_err = ret_err, main = main}
"""


def test_what_go_wippys_suites_rely_on(make_app):
    app = make_app({"src/_index.yaml": INDEX, "src/main.lua": SCRIPT})
    result = run_wippy(app, "run", "main", timeout=30)
    assert result.code == 0, result
    lines = result.lines
    assert lines[0] == "process as function\tfirst\t2\ttrue\tnil", result
    assert lines[1:3] == ["its error\tintentional process error",
                          'without default_host\tfunction "app:plain" not found'], result
    assert lines[3] == "async\tx", result
    assert lines[4] == "async (nil, err)\tInvalid\tit failed\tInternal", result  # future:error() re-kinds, as Go's
    assert lines[5] == "core globals\ttable\tfunction\tnil", result
    assert lines[6] == "string functions take errors\ttrue\tprocess\t7\tPROCESS", result
    assert lines[7:9] == ["listen twice, one channel\ttrue", "unregister\ttrue\ttrue\tfalse"], result
    assert lines[9] == "json kinds\tInternal\tInvalid\tInternal", result
    assert lines[10].startswith("table.create\ttable\t0\tfalse\tbad argument #1 to 'table.create'"), result


def test_a_default_host_must_be_a_host(make_app):
    app = make_app({"src/_index.yaml": INDEX.replace("meta: {default_host: processes}",
                                                     "meta: {default_host: ret_err}"),
                    "src/main.lua": SCRIPT})
    result = run_wippy(app, "run", "main")
    assert result.code == 1 and 'field "meta.default_host": app:ret_err is a function.lua, expected a ' \
                                'process.host or terminal.host entry' in result.err, result


FLOATS_SCRIPT = r"""
local function main()
  local io, json = require("io"), require("json")
  math.randomseed(7)
  local printed = 0
  while printed < 3000 do
    local bits = string.pack("<i4i4", math.random(-2^31, 2^31 - 1), math.random(-2^31, 2^31 - 1))
    local x = string.unpack("<d", bits)
    if x == x and x ~= math.huge and x ~= -math.huge and math.type(x) == "float" then
      io.print(string.format("%.17g", x), json.encode({x}))
      printed = printed + 1
    end
  end
  return 0
end
return {main = main}
"""


def test_json_numbers_are_the_shortest_that_read_back_as_python_and_go_write_them(make_app):
    """Go's strconv.FormatFloat(f, 'f', -1, 64) and Python's repr both give
    the shortest digits that read back as the same double."""
    from decimal import Decimal
    app = make_app({"src/_index.yaml": INDEX, "src/main.lua": FLOATS_SCRIPT})
    result = run_wippy(app, "run", "main", timeout=30)
    assert result.code == 0, result
    checked = 0
    for line in result.lines:
        exact, encoded = line.split("\t")
        x = float(exact)
        expected = str(int(x)) if x == int(x) and abs(x) < 2 ** 63 else format(Decimal(repr(x)), "f")
        if expected in ("-0",):
            expected = "0"
        assert encoded == f"[{expected}]", (exact, encoded, expected)
        checked += 1
    assert checked == 3000
