local io = require("io")
local time = require("time")
-- A sleeper (30 s) and a receiver that waits forever must not hold up the
-- rest: we sleep 50 ms ourselves and count ticks from a busy worker.
local function main()
  process.spawn("core:sleeper", "core:processes", "30s")
  process.spawn("core:receiver", "core:processes")
  local start = time.now()
  local ticks = time.ticker("10ms")
  for _ = 1, 5 do ticks:response():receive() end
  ticks:stop()
  time.sleep("50ms")
  local elapsed = time.now():sub(start):seconds()
  io.print("others kept running", elapsed < 5)
  return 0
end
return { main = main }
