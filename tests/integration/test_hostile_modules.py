"""Attacks on the Wippy modules added for issue 16 (payload, yaml, time,
logger): each used to crash the runtime, stall its loop for seconds, or
allocate memory no limit counts."""
import pytest

from conftest import one_command_index, run_wippy

MODULES = ["io", "payload", "yaml", "time", "logger", "json"]


def run_main(make_app, main, size="2000", options=(), timeout=60):
    app = make_app({"src/_index.yaml": one_command_index(MODULES), "src/main.lua": main})
    return run_wippy(app, *options, "--set", f"scheduler.heap_size={size}", "run", "main", timeout=timeout)


@pytest.mark.parametrize("size", ["1", "2000"])
def test_deeply_nested_payloads_are_refused_not_fatal(make_app, size):
    result = run_main(make_app, """return {main = function()
  local p = "x"
  for i = 1, 100 do p = payload.new(p) end
  io.print(process.send(process.pid(), "t", p))
  local q = "y"
  for i = 1, 8 do q = payload.new(q) end
  process.send(process.pid(), "t", q)
  local got = process.inbox():receive():payload():data()
  for i = 1, 8 do got = got:data() end
  io.print(got)
end}
""", size)
    assert result.code == 0, result
    assert result.lines == ["nil\tcannot pass payloads nested more than 16 deep", "y"], result


def test_yaml_encode_is_bounded_and_quick(make_app):
    result = run_main(make_app, """return {main = function()
  local wide = {}
  for i = 1, 30000 do wide["key" .. i] = i end
  local started = time.now()
  local text = yaml.encode(wide)
  io.print(#text > 0, time.now():sub(started):seconds() < 5)
  local t = {}
  for i = 1, 30 do t = {t, t} end
  local out, err = yaml.encode(t)
  io.print(out, tostring(err):match("more than %d+ values") ~= nil)
  local json_out, json_err = json.encode(t)
  io.print(json_out, tostring(json_err):match("more than %d+ values") ~= nil)
end}
""", timeout=60)
    assert result.code == 0, result
    assert result.lines == ["true\ttrue", "nil\ttrue", "nil\ttrue"], result


def test_time_arithmetic_at_the_edges_is_an_error_not_undefined(make_app):
    result = run_main(make_app, """return {main = function()
  for _, f in ipairs({
    function() return time.date(2^40 - 1, 1, 1, 0, 0, 0, 0) end,
    function() return time.date(2024, 1, 1, 0, 0, 0, 0, time.utc):add_date(math.maxinteger, 0, 0) end,
    function() return time.unix(math.maxinteger, 999999999999) end,
    function() return time.unix(math.mininteger):year() end,
    function() return time.unix(2^53 - 1):unix_milli() end,
    function() return time.fixed_zone(string.rep("z", 300), 0) end,
    function() return time.timer(math.maxinteger) ~= nil end,
  }) do
    local ok, err = pcall(f)
    io.print(ok, ok and "" or (tostring(err):match("out of range") or tostring(err):match("longer than 255") or tostring(err)))
  end
end}
""")
    assert result.code == 0, result
    assert result.lines == [
        "false\tout of range",
        "false\tout of range",
        "false\tout of range",
        "false\tout of range",
        "true\t",
        "false\tlonger than 255",
        "true\t",
    ], result


def test_log_lines_cannot_be_forged(make_app):
    result = run_main(make_app, """return {main = function()
  local forged = logger:named("svc\\n2026-01-01T00:00:00.000Z\\tERROR\\tadmin")
  forged:info("hello\\r\\n2026-01-01T00:00:00.000Z\\tERROR\\tforged line")
  local t = setmetatable({function() end}, {__tostring = error})
  logger:info("table fields run no code", {t = t})
  io.print(pcall(logger.with, logger, {big = string.rep("b", 100000)}))
end}
""")
    assert result.code == 0, result
    lines = result.err.splitlines()
    assert len(lines) == 2, result
    assert "svc\\x0a2026" in lines[0] and "hello\\x0d\\x0a2026" in lines[0], result
    assert "table fields run no code" in lines[1], result
    assert result.lines[0].startswith("false\t") and "larger than 64 KB" in result.lines[0], result
