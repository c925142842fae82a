local function main(depth)
  if depth == 0 then
    return { sum = 0, levels = 1 }
  end
  process.spawn_monitored("core:tree_node", "core:processes", depth - 1)
  local event = process.events():receive()
  assert(event.kind == process.event.EXIT, "expected EXIT")
  local below = event.result.value
  return { sum = below.sum + depth, levels = below.levels + 1 }
end
return { main = main }
