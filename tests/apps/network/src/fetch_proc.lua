local funcs = require("funcs")
local probe = require("probe")
-- Fetches, then (depth > 0) spawns a child that does the same; returns the
-- addresses seen, outermost first. With via == "call" the fetch goes through
-- a funcs.call instead.
local function main(url, depth, via)
  local seen
  if via == "call" then
    seen = funcs.call("app:fetch_fn", url, "ip")
  else
    seen = probe.ip(url)
  end
  if depth > 0 then
    process.spawn_monitored("app:fetch_proc", "app:processes", url, depth - 1, via)
    local event = process.events():receive()
    seen = seen .. " " .. (event.result.value or event.result.error)
  end
  return seen
end
return { main = main }
