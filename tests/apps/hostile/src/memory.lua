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
return { main = main, hog = hog }
