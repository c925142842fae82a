"""Go Wippy's os time subset, and listed modules as globals (as Go Wippy
pre-installs them): an entry listing `os` may call os.time() without
require; one that does not list it has no os."""
import os

from conftest import run_wippy

INDEX = """version: '1.0'
namespace: app
entries:
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io, os, json]
    meta: {command: {name: main}}
  - name: bare
    kind: process.lua
    source: file://bare.lua
    method: main
    modules: [io]
    meta: {command: {name: bare}}
"""

MAIN = """return {main = function()
  local t = os.time({year = 2024, month = 6, day = 15, hour = 12, min = 30, sec = 45})
  io.print(t, os.date("%Y-%m-%d %H:%M:%S", t), os.date("!%c", t))
  io.print(os.date("%a %A %b %B %d %H %I %j %m %M %p %S %U %w %x %X %y %z %Z %% %Q", t))
  local d = os.date("*t", t)
  io.print(d.year, d.month, d.day, d.hour, d.min, d.sec, d.wday, d.yday, d.isdst)
  io.print(os.difftime(os.time({year = 2024, month = 1, day = 2}), os.time({year = 2024, month = 1, day = 1})))
  io.print(os.platform, os.clock() >= 0, math.type(os.time()), os.date("%U", os.time({year = 2021, month = 1, day = 1})))
  io.print(json.encode({a = 1}), os.execute, os.getenv, os.exit)
end}
"""

BARE = """return {main = function()
  io.print(type(os), type(os.time), os.execute, os.getenv, os.exit, type(payload), json)
  io.print(require("os") == os, require("payload") == payload)
end}
"""


def run(make_app, command):
    app = make_app({"src/_index.yaml": INDEX, "src/main.lua": MAIN, "src/bare.lua": BARE})
    env = {**os.environ, "TZ": "America/New_York"}
    return run_wippy(app, "run", command, env=env)


def test_os_time_subset_as_go_wippy(make_app):
    result = run(make_app, "main")
    assert result.code == 0, result
    assert result.lines == [
        "1718469045\t2024-06-15 12:30:45\tSat Jun 15 16:30:45 2024",
        "Sat Saturday Jun June 15 12 12 167 06 30 PM 45 24 6 06/15/24 12:30:45 24 -0400 EDT % %Q",
        "2024\t6\t15\t12\t30\t45\t7\t167\ttrue",
        "86400.0",
        "wippy\ttrue\tinteger\t53",
        '{"a":1}\tnil\tnil\tnil',
    ], result


def test_only_listed_modules_are_globals_but_the_core_ones(make_app):
    """Go Wippy loads payload and the os time subset into every state; the
    os here has nothing but time functions."""
    result = run(make_app, "bare")
    assert (result.code, result.lines) == (0, ["table\tfunction\tnil\tnil\tnil\ttable\tnil", "true\ttrue"]), result
