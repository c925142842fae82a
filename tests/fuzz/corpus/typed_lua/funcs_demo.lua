local io = require("io")
local funcs = require("funcs")
local ctx = require("ctx")
local function main()
  io.print("add", funcs.call("core:add", 20, 22))
  local value, err = funcs.call("core:explode")
  io.print("error", value, err)
  io.print("missing", funcs.call("core:nope"))

  local base = funcs.new()
  local with_trace = base:with_context({ trace = "t-1" })
  io.print("immutable", base ~= with_trace)
  io.print("base sees", base:call("core:context_reader", "trace"))
  io.print("executor sees", with_trace:call("core:context_reader", "trace"))
  -- funcs -> process -> funcs: the context reaches the grandchild call
  io.print("deep", with_trace:call("core:context_reader", "deep"))
  io.print("caller unchanged", ctx.get("trace"))
  return 0
end
return { main = main }
