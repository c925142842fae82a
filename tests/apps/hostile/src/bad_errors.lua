local io = require("io")
local funcs = require("funcs")
-- Every edge that reports a child's error gets one of these; the runtime
-- must turn each into one line and keep going.
local function main()
  for _, how in ipairs({"raises", "returns a table", "sleeps"}) do
    local value, err = funcs.call("app:raiser", how)
    io.print("funcs.call", how, value, err)
    local pid = process.spawn_monitored("app:raiser_process", "app:processes", how)
    local event = process.events():receive()
    io.print("spawn", how, event.kind, event.from == pid, event.result.error)
  end
  local ok, err = pcall(error, setmetatable({}, {__tostring = function() error("x") end}))
  io.print("pcall", ok, type(err))
  coroutine.spawn(function()
    error(setmetatable({}, {__tostring = function() error("x") end}))
  end)
  local time = require("time")
  time.sleep("50ms")
  io.print("not reached: the failed coroutine ends its process")
end
return { main = main }
