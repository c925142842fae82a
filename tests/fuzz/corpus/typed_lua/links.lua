local io = require("io")
local time = require("time")
local function main(mode)
  if mode == "trap" then
    process.set_options({ trap_links = true })
    process.spawn_linked("core:crasher", "core:processes")
    local event = process.events():receive()
    io.print("link down", event.kind == process.event.LINK_DOWN, event.result.error ~= nil)
    return 0
  end
  process.spawn_linked("core:crasher", "core:processes")
  time.sleep("5s")
  io.print("still alive (should not happen)")
  return 0
end
return { main = main }
