local io = require("io")
local function main(count)
  count = tonumber(count) or 0
  for i = 1, count do
    assert(process.spawn_monitored("bench:quick", "bench:processes", i))
  end
  local events = process.events()
  for _ = 1, count do events:receive() end
  return 0
end
return { main = main }
