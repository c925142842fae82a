local io = require("io")
local time = require("time")
-- Per-process memory limits (the entry's memory_limit field and a spawner's
-- memory_limit option), with no runtime-wide limit: the process past its
-- own limit fails alone.

-- Keeps 4 KB strings until it fails; past `ceiling` MB it gives up, so a
-- limit that does not hold ends the test instead of the machine.
local function hog(ceiling)
  local kept, i = {}, 0
  while true do
    i = i + 1
    kept[i] = string.rep("x", 4096) .. i
    if i * 4096 > ceiling * 1048576 then return "grew past " .. ceiling .. "M" end
  end
end

-- Allocates and drops 64 MB in all, never holding more than about 1 MB:
-- what it freed is credited back, so an 8M limit never trips.
local function churn()
  for _ = 1, 64 do
    local round = {}
    for i = 1, 256 do round[i] = string.rep("c", 4096) .. i end
  end
  return "churned 64M"
end

-- Never receives: what is sent to it is charged to it.
local function hoarder()
  time.sleep("10s")
end

local function wait_exit()
  local event = process.events():receive()
  return event.result.value or event.result.error
end

local function main()
  process.spawn_monitored("app:hog_limited", "app:processes", 64)
  io.print("entry limit 8M", wait_exit())

  process.with_options({memory_limit = "4M"}):spawn_monitored("app:hog", "app:processes", 64)
  io.print("spawner limit 4M", wait_exit())

  process.with_options({memory_limit = "1G"}):spawn_monitored("app:hog_limited", "app:processes", 64)
  io.print("spawner asks 1G of an 8M entry", wait_exit())

  process.spawn_monitored("app:churn_limited", "app:processes")
  io.print("churn under 8M", wait_exit())

  local hoarder = process.spawn("app:hoarder", "app:processes")
  local big = {}  -- copied for the receiver (a string would be shared, not copied)
  for i = 1, 10000 do big[i] = i end
  local sent, ok, err = 0, true, nil
  while ok do
    ok, err = process.send(hoarder, "junk", big)
    if ok then sent = sent + 1 end
  end
  process.terminate(hoarder)
  io.print("sent to a 2M hoarder", sent < 25 and sent > 5, (err:gsub("{[^}]*}", "PID")))

  local still = {}
  for i = 1, 1000 do still[i] = string.rep("y", 1000) .. i end
  io.print("the spawner goes on", #still)
end

return { main = main, hog = hog, churn = churn, hoarder = hoarder }
