local io = require("io")
local time = require("time")
-- Keeps @COUNT@ processes blocked in receive for the whole run.
local function main()
  for _ = 1, @COUNT@ do
    assert(process.spawn("bench:waiter", "bench:processes"))
  end
  time.sleep("200ms")
  io.print("ready")
  time.sleep("1h")
end
return { main = main }
