local io = require("io")
-- Spawns a chain of depth 4 (each node monitors its child) and prints the
-- value that travels back up: each level adds its depth.
local function main()
  local pid = process.spawn_monitored("core:tree_node", "core:processes", 4)
  local event = process.events():receive()
  io.print("tree result", event.result.value.sum, "levels", event.result.value.levels)
  io.print("from child", event.from == pid)
  return 0
end
return { main = main }
