local function worker(work)
  local x = 0
  for i = 1, work do x = x + (i % 7) end
  return x
end

local function spread(count, work)
  count, work = tonumber(count) or 4, tonumber(work) or 20000000
  for _ = 1, count do process.spawn_monitored("bench:worker", "bench:processes", work) end
  local events = process.events()
  for _ = 1, count do
    local event = events:receive()
    if event.result.error then error(event.result.error) end
  end
  require("io").print("done", count)
end

local function echo()
  local inbox = process.inbox()
  while true do
    local message = inbox:receive()
    process.send(message:payload():data(), "pong", true)
  end
end

local function idle() process.inbox():receive() end

-- far: two idle processes first, so that the one it talks with is placed
-- on another loop (a spawn leaves its loop once that holds two more)
local function pingpong(count, far)
  count = tonumber(count) or 10000
  if far == "far" then
    for _ = 1, 2 do process.spawn("bench:idle", "bench:processes") end
  end
  local other = process.spawn("bench:echo", "bench:processes")
  local inbox, me = process.inbox(), process.pid()
  for _ = 1, count do
    process.send(other, "ping", me)
    inbox:receive()
  end
  require("io").print("done", count)
end

local function sink(count, reply_to)
  local inbox = process.inbox()
  for _ = 1, count do inbox:receive() end
  process.send(reply_to, "done", count)
end

-- count messages one way to a child (far: on another loop), then its answer
local function stream(count, far)
  count = tonumber(count) or 100000
  if far == "far" then
    for _ = 1, 2 do process.spawn("bench:idle", "bench:processes") end
  end
  local other = process.spawn("bench:sink", "bench:processes", count, process.pid())
  for i = 1, count do assert(process.send(other, "item", i)) end
  process.inbox():receive()
  require("io").print("done", count)
end

return {worker = worker, spread = spread, echo = echo, pingpong = pingpong, idle = idle, sink = sink,
        stream = stream}
