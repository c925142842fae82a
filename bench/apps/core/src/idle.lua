local io = require("io")
local time = require("time")
local function main(count)
  count = tonumber(count) or 0
  for _ = 1, count do
    assert(process.spawn("bench:waiter", "bench:processes"))
  end
  time.sleep("100ms") -- let every process reach its receive
  io.print("ready")
  time.sleep("1h")
end
return { main = main }
