-- Fans words out to worker processes, each scores its word through a
-- function call, and collects the results from the workers' EXIT events.
local io = require("io")
local time = require("time")

local function main(...)
  local words = { ... }
  if #words == 0 then
    words = { "overlay", "socks", "tor", "i2p", "tailscale", "wippy" }
  end
  local started = time.now()
  local workers = {}
  for _, word in ipairs(words) do
    local pid = assert(process.spawn_monitored("demo:worker", "demo:processes", word))
    workers[pid] = word
  end

  local events = process.events()
  local deadline = time.after("5s")
  local results = {}
  for _ = 1, #words do
    local r = channel.select { events:case_receive(), deadline:case_receive() }
    if r.channel == deadline then
      io.eprint("timed out waiting for workers")
      return 1
    end
    local event = r.value
    results[#results + 1] = string.format("%-10s %s", workers[event.from],
      event.result.error or tostring(event.result.value))
  end
  table.sort(results)
  for _, line in ipairs(results) do io.print(line) end
  io.print(string.format("%d workers in %.1f ms", #words, time.now():sub(started):milliseconds()))
  return 0
end

return { main = main }
