"""The logger module as Go Wippy's: a Logger value with colon calls, four
levels, with(fields) and named(name) children; lines on stderr as zap's
console encoder writes them (time, level, name, message, JSON fields)."""
import json
import re

from conftest import one_command_index, run_wippy

MAIN = r"""local io = require("io")
local logger = require("logger")
return {main = function()
  logger:info("hello", {key = "value", n = 42, ok = true, t = {1, 2}, m = {a = 1}, [1] = "dropped"})
  logger:debug("shown with -v only")
  local svc = logger:named("myservice"):with({component = "auth"})
  svc:named("handler"):warn("careful", {request_id = "r1"})
  svc:error("failed\nbadly", {error = errors.new("boom")})
  logger:info("the root keeps no fields")
  io.print(pcall(logger.info, "dot call"))
  io.print(pcall(logger.named, logger, ""))
  io.print(pcall(logger.info, logger, "x", nil))
  io.print(pcall(function() logger.foo = 1 end))
  local copy = process.inbox()
  process.send(process.pid(), "l", {log = svc})
  copy:receive():payload():data().log:info("sent across")
end}
"""

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t([A-Z]+)\t(.*)$")


def lines_of(err):
    parsed = []
    for line in err.splitlines():
        match = LINE.match(line)
        assert match, line
        parts = match.group(3).split("\t")
        fields = json.loads(parts[-1]) if parts[-1].startswith("{") else {}
        if fields:
            parts = parts[:-1]
        parsed.append((match.group(2), parts, fields))
    return parsed


def test_logger_lines_levels_and_children(make_app):
    app = make_app({"src/_index.yaml": one_command_index(["io", "logger"]), "src/main.lua": MAIN})
    for size in ("1", "2000"):
        result = run_wippy(app, "--set", f"scheduler.heap_size={size}", "run", "main")
        assert result.code == 0, result
        assert result.lines[0].startswith("false\t") and "logger expected" in result.lines[0], result
        assert result.lines[1:] == [
            "false\tbad argument #2 to '?' (name cannot be empty)",
            "false\tbad argument #3 to '?' (table expected, got nil)",
            "false\tsrc/main.lua:13: attempt to index a wippy.logger value (upvalue 'logger')",
        ], result
        logged = lines_of(result.err)
        pid = logged[0][2]["pid"]
        assert pid.startswith("{wippy:terminal|"), logged
        assert logged == [
            ("INFO", ["hello"], {"key": "value", "n": 42, "ok": True, "t": [1, 2], "m": {"a": 1},
                                 "pid": pid, "location": "app:main:4"}),
            ("WARN", ["myservice.handler", "careful"], {"component": "auth", "request_id": "r1", "pid": pid,
                                                        "location": "app:main:7"}),
            ("ERROR", ["myservice", "failed\\x0abadly"], {"component": "auth", "error": "boom", "pid": pid,
                                                      "location": "app:main:8"}),
            ("INFO", ["the root keeps no fields"], {"pid": pid, "location": "app:main:9"}),
            ("INFO", ["myservice", "sent across"], {"component": "auth", "pid": pid, "location": "app:main:16"}),
        ], (size, result)
    verbose = run_wippy(app, "-v", "run", "main")
    assert any("\tDEBUG\tshown with -v only\t" in line for line in verbose.err.splitlines()), verbose
