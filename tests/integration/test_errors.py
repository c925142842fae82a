"""The errors global as Go Wippy's (issue 16): errors.new from a message or
a table, kinds, retryable, details (copies), wrap, is, call_stack, tostring
and concatenation giving the message."""
from conftest import one_command_index, run_wippy

MAIN = r"""local io = require("io")
local function main()
  local e1 = errors.new("simple error")
  io.print(e1:message(), "[" .. e1:kind() .. "]", e1:retryable(), e1:details(), tostring(e1))
  local e2 = errors.new({message = "not found", kind = errors.NOT_FOUND, retryable = false, details = {resource = "user", id = 123}})
  local d = e2:details()
  io.print(e2:message(), e2:kind(), e2:retryable(), d.resource, d.id)
  d.id = 5
  io.print(e2:details().id, errors.new({message = "empty", details = {}}):details())
  io.print(errors.is(e2, errors.NOT_FOUND), errors.is(e2, errors.TIMEOUT), errors.is("x", errors.TIMEOUT), errors.is(nil, errors.TIMEOUT))
  local outer = errors.wrap(errors.new({message = "inner error", kind = errors.INVALID, retryable = true, details = {code = 42}}), "outer context")
  io.print(outer:kind(), outer:retryable(), outer:message(), outer:details().code, tostring(outer))
  io.print(errors.wrap("string error", "context"):message())
  io.print("prefix: " .. e1, e1 .. ":suffix", e1 .. errors.new("another error"))
  io.print(#e1:stack() > 0, errors.call_stack(e1).frames[1].line ~= nil)
  local b = errors.new("built"):kind(errors.INVALID):retryable(true):details({x = 1})
  io.print(b:kind(), b:retryable(), b:details().x)
  local ok, err = pcall(function() error(errors.new({message = "thrown", kind = errors.INVALID})) end)
  io.print(ok, errors.is(err, errors.INVALID), tostring(err))
  io.print(errors.UNKNOWN == "", errors.RATE_LIMITED, errors.ALREADY_EXISTS)
  -- a concatenation high in a call's arguments (Lua 5.4.4 breaks the frame
  -- when a __concat metamethod calls a function there)
  local function count(...) return select("#", ...) end
  local n = 0
  for _ = 1, 1000 do n = n + count(1, 2, 3, 4, 5, 6, 7, "[" .. e1 .. "]", 1 .. e1 .. 2.5) end
  io.print(n, count(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, "[" .. e1 .. "]"))
  return 0
end
return { main = main }
"""


def test_errors_as_go_wippys(make_app):
    app = make_app({"src/_index.yaml": one_command_index(["io"]), "src/main.lua": MAIN})
    result = run_wippy(app, "run", "main")
    assert result.code == 0, result
    assert result.lines == [
        "simple error\t[]\tnil\tnil\tsimple error",
        "not found\tNotFound\tfalse\tuser\t123",
        "123\tnil",  # details() is a copy; empty details are nil
        "true\tfalse\tfalse\tfalse",
        "Invalid\ttrue\tinner error\t42\tinner error",
        "string error",
        "prefix: simple error\tsimple error:suffix\tsimple erroranother error",
        "true\ttrue",
        "Invalid\ttrue\t1",
        "false\ttrue\tthrown",
        "true\tRateLimited\tAlreadyExists",
        "9000\t13",
    ], result


RUNTIME_ERRORS = r"""
local io = require("io")
local json = require("json")
local funcs = require("funcs")
local http_client = require("http_client")
local ctx = require("ctx")

local function show(label, value, err)
  io.print(label, tostring(value), err:kind(), tostring(err:retryable()), tostring(err), "[" .. err .. "]")
end

local function main(silent_port)
  show("json", json.decode("{"))
  show("call", funcs.call("app:nope"))
  show("overlay", http_client.get("http://example.test/", {overlay_network = "app:nope"}))
  show("timeout", http_client.get("http://127.0.0.1:" .. silent_port .. "/", {timeout = 0.3}))
  local _, errs = http_client.request_batch({{"GET", "http://127.0.0.1:" .. silent_port .. "/",
                                              {timeout = 0.3, overlay_network = "app:nope"}}})
  io.print("batch", errs[1]:kind())
  show("ctx", ctx.get("missing"))
  return 0
end
return { main = main }
"""


def test_the_runtimes_own_failures_are_error_objects_with_their_old_text(make_app):
    """tostring(err) and concatenation give exactly the text errors had as
    strings; the kind says what went wrong."""
    import socket
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        app = make_app({"src/_index.yaml": one_command_index(["io", "json", "funcs", "http_client", "ctx"]),
                        "src/main.lua": RUNTIME_ERRORS})
        result = run_wippy(app, "run", "main", str(silent.getsockname()[1]))
    finally:
        silent.close()
    assert result.code == 0, result
    rows = [line.split("\t") for line in result.lines]
    assert rows[0][:4] == ["json", "nil", "Internal", "false"], rows  # malformed JSON: Go Wippy's kind
    assert rows[1][:4] == ["call", "nil", "NotFound", "false"] and rows[1][4] == 'function "app:nope" not found'
    assert rows[2][:4] == ["overlay", "nil", "NotFound", "false"], rows
    assert rows[2][4] == 'overlay network "app:nope": not found' and rows[2][5] == f"[{rows[2][4]}]"
    assert rows[3][:4] == ["timeout", "nil", "Timeout", "true"], rows
    assert rows[3][4].startswith("GET http://127.0.0.1:") and "timed out after 0.3s" in rows[3][4]
    assert rows[4] == ["batch", "NotFound"], rows
    assert rows[5][:5] == ["ctx", "nil", "NotFound", "false", 'ctx.get: no context value "missing"'], rows


REVIEW_CASES = r"""
local io = require("io")
local funcs = require("funcs")

local function main(which)
  if which == "callee" then error(errors.new({message = "typed", kind = errors.CONFLICT})) end
  if which == "plain" then error("plain failure", 0) end
  local t = {} t[t] = true t.self = t
  local ok, err = pcall(errors.new, {message = "x", details = t})
  local d = ok and err:details()
  io.print("cycle", ok, d and d.self == d and d[d] == true)
  io.print("function", pcall(errors.new, {message = "x", details = {f = print}}))
  io.print("coroutine", pcall(errors.new, {message = "x", details = {co = coroutine.running()}}))
  io.print("retryable", pcall(errors.new, {message = "x", retryable = "no"}))
  io.print("unknown", pcall(errors.new, {messsage = "x"}))
  local wrapped = errors.wrap(errors.new("inner"), "CONTEXT")
  io.print("wrap", wrapped:message(), wrapped:stack():find("CONTEXT: inner", 1, true) ~= nil)
  io.print("nul", #errors.new("a\0b"):message(), #errors.new({message = "a\0b"}):message())
  local _, typed = funcs.call("app:callee", "callee")
  io.print("callee", typed:kind(), tostring(typed))
  local _, plain = funcs.call("app:callee", "plain")
  io.print("plain", plain:kind() == errors.UNKNOWN, tostring(plain))
  -- concatenations that grow a fresh coroutine's stack at every depth
  local e = errors.new("E")
  local bad = 0
  for depth = 0, 60 do
    local co = coroutine.wrap(function()
      local function nest(n)
        if n == 0 then
          local function count(...) return select("#", ...), select(21, ...) end
          local _, last = count(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, e .. "a" .. e .. 1 .. e)
          return last
        end
        return nest(n - 1)
      end
      return nest(depth)
    end)
    if co() ~= "EaE1E" then bad = bad + 1 end
  end
  io.print("concat", bad)
  local _, execd = process.exec("app:worker", "app:processes", "callee")
  io.print("exec", execd:kind(), tostring(execd))
  local _, execd_plain = process.exec("app:worker", "app:processes", "plain")
  io.print("exec plain", execd_plain:kind() == errors.UNKNOWN, tostring(execd_plain))
  return 0
end
return { main = main }
"""


def test_what_an_attackers_review_found(make_app):
    index = one_command_index(["io", "funcs"]) + """  - name: callee
    kind: function.lua
    source: file://main.lua
    method: main
    modules: [io, funcs]
  - name: worker
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io, funcs]
  - name: processes
    kind: process.host
"""
    app = make_app({"src/_index.yaml": index, "src/main.lua": REVIEW_CASES})
    result = run_wippy(app, "run", "main", "all")
    assert result.code == 0, result
    lines = result.lines
    assert lines[0] == "cycle\ttrue\ttrue", result
    assert lines[1].startswith("function\tfalse\t") and "cannot pass a function" in lines[1], result
    assert lines[2].startswith("coroutine\tfalse\t") and "cannot pass a thread" in lines[2], result
    assert lines[3].startswith("retryable\tfalse\t") and "retryable must be a boolean" in lines[3], result
    assert lines[4].startswith("unknown\tfalse\t") and \
        'unknown field "messsage" (did you mean "message"?)' in lines[4], result
    lines = lines[:4] + lines[5:]
    assert lines[4] == "wrap\tinner\ttrue", result
    assert lines[5] == "nul\t3\t3", result
    assert lines[6] == "callee\tConflict\ttyped", result
    assert lines[7].startswith("plain\ttrue\t") and "plain failure" in lines[7], result
    assert lines[8] == "concat\t0", result
    assert lines[9] == "exec\tConflict\ttyped", result  # process.exec keeps a raised error object too
    assert lines[10].startswith("exec plain\ttrue\t") and "plain failure" in lines[10], result
