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

-- Returns 3-4 MB of tables: a caller under 8M cannot keep many.
local function big()
  local t = {}
  for i = 1, 50000 do t[i] = {i} end
  return t
end

local function keeps_results()
  local funcs = require("funcs")
  local keep = {}
  for i = 1, 100 do
    local value, err = funcs.call("app:big")
    if value == nil then return "failed: " .. err end
    keep[i] = value
  end
  return "kept 100 results"
end

-- A __close handler that allocates without end (or spins) when the process
-- is killed: bounded like any run.
local function closer(spin)
  local hog <close> = setmetatable({}, {__close = function()
    if spin then while true do end end
    local t = {}
    for i = 1, 3000000 do t[i] = {i} end
  end})
  time.sleep("10s")
end

-- Grows a table its spawner made: the growth is this process's.
local function grower(given)
  for i = 1, 10000000 do given[i] = i end
  return "grew it"
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
  io.print("sent to a 2M hoarder (half of it for messages)", sent, (tostring(err):gsub("{[^}]*}", "PID")))

  local ok_keep, kept = pcall(function()
    process.spawn_monitored("app:keeper", "app:processes")
    return wait_exit()
  end)
  io.print("funcs.call results are the caller's", ok_keep, kept)

  local closing = process.spawn_monitored("app:closer_limited", "app:processes")
  time.sleep("50ms")
  process.terminate(closing)
  io.print("a killed process's __close under its limit", wait_exit())

  process.spawn_monitored("app:grower_limited", "app:processes", {1})
  io.print("growing the spawner's table", wait_exit())

  process.with_options({memory_limit = "4M"}):spawn_monitored("app:spawns_unlimited", "app:processes")
  io.print("a limited process spawning an unlimited entry", wait_exit())

  local still = {}
  for i = 1, 1000 do still[i] = string.rep("y", 1000) .. i end
  io.print("the spawner goes on", #still)
end

local function spawns_unlimited()
  process.spawn_monitored("app:hog", "app:processes", 64)
  return wait_exit()
end

-- The victim of a flood: a sender may fill at most half its limit.
local function flooded()
  time.sleep("200ms")
  local work = {}
  for i = 1, 1000 do work[i] = {i} end
  return "did its work"
end

local function flood()
  local pid = process.spawn_monitored("app:flooded", "app:processes")
  for _, n in ipairs({2000, 1000, 500, 200, 100, 50, 20, 10, 5, 1, 0}) do
    local t = {}
    for i = 1, n do t[i] = i end
    while process.send(pid, "junk", t) do end
  end
  io.print("flooded receiver", wait_exit())
end

local function close_spin()
  local pid = process.spawn_monitored("app:closer_spinning", "app:processes", true)
  time.sleep("50ms")
  process.terminate(pid)
  io.print("a killed process's spinning __close", wait_exit())
end

return { close_spin = close_spin, main = main, hog = hog, churn = churn, hoarder = hoarder, big = big, keeps_results = keeps_results,
         closer = closer, grower = grower, spawns_unlimited = spawns_unlimited, flooded = flooded, flood = flood }
