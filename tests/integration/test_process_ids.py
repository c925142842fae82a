"""process.id() and the registry's scope constants, as Go Wippy's."""
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
    modules: [io, funcs]
    meta: {command: {name: main}}
  - name: fn
    kind: function.lua
    source: file://fn.lua
    method: run
"""

MAIN = """local io = require("io")
local funcs = require("funcs")
return {main = function()
  io.print(process.id(), funcs.call("app:fn"))
  local r = process.registry
  io.print(r.LOCAL, r.CONSISTENT, r.EVENTUAL, r.STRONG)
  io.print(r.register("svc", nil, r.STRONG), r.lookup("svc") == process.pid())
  local ok, err = r.register("other", nil, 7)
  io.print(ok, tostring(err), err:kind())
end}
"""


def test_process_id_is_the_entry_and_scopes_are_local(make_app):
    app = make_app({"src/_index.yaml": INDEX, "src/main.lua": MAIN,
                    "src/fn.lua": "return {run = function() return process.id() end}\n"})
    result = run_wippy(app, "run", "main")
    assert result.code == 0, result
    assert result.lines == [
        "app:main\tapp:fn\tnil",
        "0\t1\t2\t3",
        "true\ttrue",
        "nil\tscope must be a number (process.registry.LOCAL|EVENTUAL|CONSISTENT|STRONG)\tInvalid",
    ], result
