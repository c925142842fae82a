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

  -- within one process a value passes by reference
  local private = channel.new(1)
  local mine = { n = 1 }
  private:send(mine)
  io.print("private passes the table", private:receive() == mine)

  -- once another process can reach the channel, what is sent is copied
  local box = channel.new(1)
  process.spawn("core:quick", "core:processes", box)
  local original = { n = 1 }
  box:send(original)
  original.n = 99
  io.print("shared copies", box:receive().n)

  -- and what was already waiting in it is copied when it becomes shared
  local waiting = channel.new(1)
  local early = { n = 1 }
  waiting:send(early)
  process.spawn("core:quick", "core:processes", waiting)
  early.n = 5
  io.print("waiting value copied", waiting:receive().n)
  return 0
end
return { main = main }
