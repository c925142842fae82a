local io = require("io")
local function main()
  local pid = process.spawn_monitored("core:crasher", "core:processes")
  local event = process.events():receive()
  io.print("kind", event.kind == process.event.EXIT)
  io.print("from", event.from == pid)
  io.print("error", event.result.error)
  io.print("value", event.result.value)
  return 0
end
return { main = main }
