local io = require("io")
local function main(count)
  count = tonumber(count) or 10000
  for i = 1, count do
    local pid, err = process.spawn_monitored("core:quick", "core:processes", i)
    assert(pid, err)
  end
  local events = process.events()
  local total, exits = 0, 0
  for _ = 1, count do
    local event = events:receive()
    if event.kind == process.event.EXIT and event.result.error == nil then
      exits = exits + 1
      total = total + event.result.value
    end
  end
  io.print("exits", exits, "total", total)
  return 0
end
return { main = main }
