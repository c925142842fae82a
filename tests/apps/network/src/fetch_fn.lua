local funcs = require("funcs")
local probe = require("probe")
-- what: "ip" (fetch), "spawn" (fetch from a spawned process), "direct child"
-- (a child call that selects false), each returning what the target saw.
local function run(url, what)
  if what == "spawn" then
    process.spawn_monitored("app:fetch_proc", "app:processes", url, 0, "call")
    local event = process.events():receive()
    return event.result.value or event.result.error
  end
  if what == "direct child" then
    local child = assert(funcs.new():with_options({ network = false }))
    local below = child:call("app:fetch_fn", url, "ip")
    return below .. " / self " .. probe.ip(url)
  end
  if what == "direct child spawns" then
    local child = assert(funcs.new():with_options({ network = false }))
    return child:call("app:fetch_fn", url, "spawn")
  end
  return probe.ip(url)
end
return { run = run }
