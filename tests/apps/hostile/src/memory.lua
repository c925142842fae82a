local io = require("io")
local time = require("time")
-- Run with --memory-limit: the hog fails alone with "not enough memory".
local function hog()
  local kept, i = {}, 0
  while true do
    i = i + 1
    kept[i] = string.rep("x", 4096) .. i
  end
end

local function main()
  local pid = process.spawn_monitored("app:hog", "app:processes")
  local event = process.events():receive()
  io.print("hog", event.from == pid, event.result.error)
  collectgarbage()
  local still = {}
  for i = 1, 1000 do still[i] = string.rep("y", 100) .. i end
  time.sleep("10ms")
  io.print("the others go on", #still)
end
-- Fills the heap to the last small block (catching each failure), then asks
-- the runtime for work it does on other threads: it must fail this task or
-- go through, never abort the runtime.
local function squeeze()
  local kept, size = {}, 1 << 20
  while size >= 8 do
    pcall(function() while true do kept[#kept + 1] = string.rep("z", size) end end)
    size = size // 2
  end
  local sent = pcall(process.send, process.pid(), "t", 1)
  local spawned = pcall(coroutine.spawn, function() end)
  kept = nil
  collectgarbage()
  io.print("survived", type(sent), type(spawned))
end

return { main = main, hog = hog, squeeze = squeeze }
