local io = require("io")
local time = require("time")
local function main()
  -- coroutine.spawn runs concurrently inside this process and shares its globals
  local ch = channel.new()
  local done = channel.new(1)
  shared_counter = 0
  coroutine.spawn(function()
    for i = 1, 3 do
      local v = ch:receive()
      shared_counter = shared_counter + v
    end
    done:send(true)
  end)
  for i = 1, 3 do ch:send(i) end
  done:receive()
  io.print("spawned coroutine summed", shared_counter)

  -- values stay references between coroutines of one process
  local box = channel.new(1)
  local t = { n = 1 }
  box:send(t)
  io.print("same table", box:receive() == t)

  -- a blocking call inside a coroutine of our own blocks the task, not the loop
  local gen = coroutine.wrap(function()
    for i = 1, 3 do
      time.sleep("1ms")
      coroutine.yield(i * 10)
    end
  end)
  io.print("wrap with sleep", gen(), gen(), gen())
  local co = coroutine.create(function(a)
    local r = channel.select { time.after("1ms"):case_receive() }
    local b = coroutine.yield(a + 1)
    return b * 2, r.ok
  end)
  io.print("resume", coroutine.resume(co, 1))
  io.print("resume", coroutine.resume(co, 21))
  io.print("resume dead", coroutine.resume(co))
  io.print("status", coroutine.status(co))
  local failing = coroutine.wrap(function() error("inner failure") end)
  io.print("wrap error", pcall(failing))
  process.spawn_monitored("core:coroutine_crash", "core:processes")
  local event = process.events():receive()
  io.print("crashing coroutine fails its process", event.result.error)
  return 0
end
return { main = main }
