local io = require("io")
-- process.terminate and process.cancel of a process the caller neither
-- started nor links with are refused; a scope can allow them.
local function bystander()
  while true do
    local message = process.inbox():receive()
    process.send(message:payload():data(), "pong", "alive")
  end
end

local function middle(reply_to)
  local pid = process.spawn("app:bystander", "app:processes")
  process.registry.register("bystander", pid)
  process.send(reply_to, "ready", pid)
  process.inbox():receive() -- stays up
end

local function stop_by_scope(pid)
  return process.terminate(pid)
end

local function main()
  process.spawn("app:middle", "app:processes", process.pid())
  local pid = process.inbox():receive():payload():data()
  io.print("terminate by name", process.terminate("bystander"))
  io.print("terminate by pid", select(2, process.terminate(pid)) ~= nil)
  io.print("cancel", process.cancel("bystander"))
  process.link(pid)
  local ok, refused = process.terminate(pid)
  io.print("terminate after linking", ok, (tostring(refused):gsub("%b{}", "PID")))
  process.unlink(pid)
  io.print("unregister its name", process.registry.unregister("bystander"))
  process.send("bystander", "ping", process.pid())
  io.print("bystander", process.inbox():receive():payload():data())
  local security = require("security")
  local scope = security.new_scope({ security.policy("app:may_terminate") })
  local executor = require("funcs").new():with_actor(security.new_actor("admin", {})):with_scope(scope)
  io.print("with a scope allowing it", executor:call("app:stop_by_scope", pid))
  local own = process.spawn("app:bystander", "app:processes")
  io.print("own child", process.terminate(own))
end
return { main = main, middle = middle, bystander = bystander, stop_by_scope = stop_by_scope }
