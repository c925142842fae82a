"""Wippy's typed Lua (issue 16): annotations, aliases, generics and casts
load and run; lines and columns in messages stay those of the file."""
from conftest import one_command_index, run_wippy

TYPED_MAIN = """local io = require("io")

type Point = {
  x: number,
  y: number,
}
export type Pair<K, V> = {key: K, value: V}
type Callback = (Point, string?) -> (boolean, string?)

local function length(p: Point): number
  return math.sqrt(p.x * p.x + p.y * p.y)
end

local function first<T>(list: {T}): T?
  return list[1]
end

local function main(...: string): number
  local p: Point = {x = 3, y = 4}
  local pair: Pair<string, number> = {key = "k", value = length(p)}
  local cb: Callback = function(q: Point, label: string?): (boolean, string?)
    return q.x > 0, label
  end
  local ok, label = cb(p, "a:b")  -- a string with a colon is not a type
  local n = first({7, 8}) :: number
  for i: number = 1, 2 do n = n + i end
  io.print(pair.key, pair.value, ok, label, n)
  return 0
end

return { main = main }
"""


def test_typed_code_loads_and_runs(make_app):
    app = make_app({"src/_index.yaml": one_command_index(["io"]), "src/main.lua": TYPED_MAIN})
    result = run_wippy(app, "run", "main")
    assert (result.code, result.out) == (0, "k\t5.0\ttrue\ta:b\t10\n"), result


def test_a_runtime_error_in_typed_code_names_its_own_line(make_app):
    source = TYPED_MAIN.replace('  io.print(pair.key', '  error("stop here")\n  io.print(pair.key')
    app = make_app({"src/_index.yaml": one_command_index(["io"]), "src/main.lua": source})
    result = run_wippy(app, "run", "main")
    assert result.code != 0
    assert "main.lua:27: stop here" in result.err, result


def test_a_type_that_cannot_be_read_fails_the_load_at_its_line_and_column(make_app):
    source = TYPED_MAIN.replace("local p: Point = {x = 3, y = 4}", "local p: = {x = 3, y = 4}")
    app = make_app({"src/_index.yaml": one_command_index(["io"]), "src/main.lua": source})
    result = run_wippy(app, "run", "main")
    assert result.code != 0
    assert "main.lua:19:12: expected a type (entry app:main)" in result.err, result
    assert len(result.err.strip().splitlines()) == 1, result
