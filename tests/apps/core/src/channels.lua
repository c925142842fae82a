local io = require("io")
local time = require("time")
local function main()
  -- buffered channel keeps order
  local buffered = channel.new(3)
  buffered:send(1); buffered:send(2); buffered:send(3)
  local a = buffered:receive(); local b = buffered:receive(); local c = buffered:receive()
  io.print("buffered", a, b, c)

  -- select with default when nothing is ready
  local empty = channel.new()
  local r = channel.select { empty:case_receive(), default = true }
  io.print("default", r.default)

  -- select with a timeout
  local timeout = time.after("20ms")
  r = channel.select { empty:case_receive(), timeout:case_receive() }
  io.print("timeout fired", r.channel == timeout)

  -- closed channels: receivers get nil, false; senders raise
  local closing = channel.new(1)
  closing:send("last")
  closing:close()
  local v1, ok1 = closing:receive()
  local v2, ok2 = closing:receive()
  io.print("after close", v1, ok1, v2, ok2)
  local sent, err = pcall(function() closing:send("x") end)
  io.print("send on closed", sent, tostring(err):find("closed") ~= nil)

  -- a value sent is a copy
  local box = channel.new(1)
  local original = { n = 1 }
  box:send(original)
  original.n = 99
  io.print("copied", box:receive().n)
  return 0
end
return { main = main }
