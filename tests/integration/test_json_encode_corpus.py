"""json.encode over a corpus of generated values (nested tables, every
escape, UTF-8 good and bad, integers and doubles at their edges, mixed and
sparse tables), against the text the encoder wrote before it lost its
jansson tree (data/json_encode_corpus.txt, written by the build of
1a548cf). A second check needs no recorded text: every written value
decodes and encodes back to the same text, with its keys sorted."""
import json
from pathlib import Path

from conftest import one_command_index, run_wippy

CORPUS = Path(__file__).parent / "data" / "json_encode_corpus.txt"

SCRIPT = r"""
-- a generator of its own (xorshift on integers): the corpus must not move
-- with the runtime's math.random
local state = 88172645463325252
local function next_number()
  state = state ~ (state << 13); state = state ~ (state >> 7); state = state ~ (state << 17)
  return state
end
local function below(n) return (next_number() >> 1) % n end

local pieces = {"a", "z", "A", "0", " ", "<", ">", "&", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f",
  "\0", "\1", "\31", "\127", "é", "€", "😀", "\u{2028}", "\u{2029}", "\xe2\x80\xaa",
  "key", "Key", "k\0", "\u{10FFFF}", "\u{D7FF}", "\u{E000}"}
local bad = {"\xe2\x80", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80"}
local numbers = {0, -0.0, 1, -1, 0.1, 3.14, 1e-7, 1.5e22, 2^53, 2^53 + 1, 9e15, 9e15 + 0.5, -9e15,
  2^63, -2^63, 1e300, 5e-324, math.maxinteger, math.mininteger, 0/0, 1/0, -1/0, 123456.789,
  1/3, 100.0, -2.5}

-- at most one defect in a value: which of two a traversal meets first
-- depends on the string hash's seed, which changes with every run
local defects = 0
local function defect()
  if defects > 0 and below(8) == 0 then defects = defects - 1 return true end
  return false
end

local function text()
  local parts = {}
  for i = 1, below(6) do parts[i] = pieces[below(#pieces) + 1] end
  if defect() then parts[#parts + 1] = bad[below(#bad) + 1] end
  return table.concat(parts)
end

local value
local function table_value(depth)
  local t = {}
  if defect() then
    local shape = below(3)
    if shape == 0 then t[1], t.x = 1, 2 elseif shape == 1 then t[1], t[3] = 1, 3 else t[1] = print end
  elseif below(2) == 0 then
    for i = 1, below(5) do t[i] = value(depth + 1) end
  else
    for _ = 1, below(10) == 0 and 20 + below(20) or below(6) do t[text()] = value(depth + 1) end
  end
  return t
end

function value(depth)
  local kind = below(depth > 3 and 4 or 7)
  if kind == 0 then return below(2) == 0
  elseif kind == 1 then
    local n = numbers[below(#numbers) + 1]
    if below(2) == 0 then return n end
    return (next_number() >> 11) / (1 << below(60)) * (below(2) == 0 and 1 or -1)
  elseif kind == 2 then return next_number()
  elseif kind == 3 then return text()
  else return table_value(depth) end
end

local function main()
  local io, json = require("io"), require("json")
  for _ = 1, 1500 do
    defects = below(4) == 0 and 1 or 0
    local text, err = json.encode(value(0))
    io.print(text or ("error\t" .. tostring(err)))
  end
  return 0
end
return {main = main}
"""


def run_corpus(make_app):
    app = make_app({"src/_index.yaml": one_command_index(["io", "json"]), "src/main.lua": SCRIPT})
    result = run_wippy(app, "run", "main", timeout=60)
    assert result.code == 0, result
    return result.out.split("\n")


def test_json_encode_writes_the_recorded_corpus(make_app):
    written = run_corpus(make_app)
    expected = CORPUS.read_text(encoding="utf-8", errors="surrogateescape").split("\n")
    assert len(written) == len(expected)
    for number, (line, want) in enumerate(zip(written, expected), 1):
        assert line == want, f"value {number}"


def has_float(value):
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(has_float(item) for item in value.values())
    if isinstance(value, list):
        return any(has_float(item) for item in value)
    return False


def test_json_encode_corpus_reads_back_as_the_same_text(make_app):
    written = [line for line in run_corpus(make_app) if line and not line.startswith("error\t")]
    assert len(written) > 1000
    for line in written:
        value = json.loads(line)
        again = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        again = again.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        again = again.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        if not has_float(value): # Python writes doubles its own way
            assert again == line


def test_json_encode_writes_an_object_as_large_as_the_value_limit_allows(make_app):
    """999,999 keys and their values stay under the limit of 1,000,000
    values: no other bound (the Lua stack's million slots) may refuse it."""
    script = """return {main = function()
  local big = {}
  for i = 1, 999999 do big["k" .. i] = i end
  local text, err = require("json").encode(big)
  require("io").print(text and #text, err, text and text:sub(1, 12))
end}
"""
    app = make_app({"src/_index.yaml": one_command_index(["io", "json"]), "src/main.lua": script})
    result = run_wippy(app, "run", "main", timeout=120)
    assert result.code == 0, result
    assert result.lines == ['16777774\tnil\t{"k1":1,"k10'], result
