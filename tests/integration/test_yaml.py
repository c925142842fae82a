"""The yaml module as Go Wippy's (yaml.v3 behind it): decode with YAML
1.2's core schema, encode with sorted keys and yaml.v3's layout."""
from conftest import one_command_index, run_wippy

MAIN = r"""local io = require("io")
local yaml = require("yaml")
return {main = function()
  local function show(v, o) local s, e = yaml.encode(v, o) io.write(s or tostring(e)) io.print("--") end
  show({name = "test", value = 123})
  show({1, 2, 3})
  show({arr = {1, 2}, nested = {child = {value = 42}}, empty = {}, f = 3.14, one = 1.0, yes = "yes", n = "n",
        num = "123", multi = "a\nb", q = "a: b", list = {{a = 1, b = 2}, {3, 4}}})
  show({zebra = 1, alpha = 2, beta = 3, kind = 4, name = 5}, {field_order = {"name", "kind"}, sort_unordered = true})
  local v, err = yaml.decode("name: test\nvalue: 123\narr: [1, 2]\nb: true\ny: yes\nn: ~\nh: 0x10\nf: 1.5\n")
  io.print(v.name, v.value, v.arr[2], v.b, v.y, v.n, v.h, v.f, math.type(v.value), math.type(v.f), err)
  local list = yaml.decode("- 1\n- 2")
  io.print(#list, list[1], list[2])
  io.print(yaml.decode("# only a comment\n"))
  io.print(yaml.decode("hello"))
  local bad, parse_err = yaml.decode(":\n  :\n  invalid")
  io.print(bad, parse_err:kind(), tostring(parse_err):find("did not find expected key", 1, true) ~= nil)
  local none, empty_err = yaml.decode("")
  io.print(none, tostring(empty_err), empty_err:kind())
  local _, type_err = yaml.decode(123)
  io.print(tostring(type_err), type_err:kind(), type_err:retryable())
  io.print(yaml.encode(123))
  io.print(yaml.decode("a: 1\na: 2"))
  local a = yaml.decode(yaml.encode({s = "hello world", f = 3.14, b = true, m = {x = 1}, l = {1, 2, 3, 4, 5}}))
  io.print(a.s, a.f, a.b, a.m.x, #a.l, a.l[5])
  local deep = {}
  local t = deep
  for _ = 1, 200 do t.next = {} t = t.next end
  local out, deep_err = yaml.encode(deep)
  io.print(out, deep_err:kind())
end}
"""


def test_yaml_decodes_and_encodes_as_go_wippy(make_app):
    app = make_app({"src/_index.yaml": one_command_index(["io", "yaml"]), "src/main.lua": MAIN})
    result = run_wippy(app, "run", "main")
    assert result.code == 0, result
    assert result.out.split("--\n")[:4] == [
        "name: test\nvalue: 123\n",
        "- 1\n- 2\n- 3\n",
        'arr:\n    - 1\n    - 2\nempty: {}\nf: 3.14\nlist:\n    - a: 1\n      b: 2\n    - - 3\n      - 4\n'
        'multi: |-\n    a\n    b\n"n": "n"\nnested:\n    child:\n        value: 42\nnum: "123"\none: 1\n'
        'q: "a: b"\n"yes": "yes"\n',
        "name: 5\nkind: 4\nalpha: 2\nbeta: 3\nzebra: 1\n",
    ], result
    assert result.lines[-11:] == [
        "test\t123\t2\ttrue\tyes\tnil\t16\t1.5\tinteger\tfloat\tnil",
        "2\t1\t2",
        "nil\tnil",
        "hello\tnil",
        "nil\tInternal\ttrue",
        "nil\tinput cannot be empty\tInvalid",
        "string expected\tInvalid\tfalse",
        "nil\ttable expected",
        'nil\tyaml: line 2: duplicate key "a"',
        "hello world\t3.14\ttrue\t1\t5\t5",
        "nil\tInternal",
    ], result
