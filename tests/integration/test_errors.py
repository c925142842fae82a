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
    ], result
