local io = require("io")
local security = require("security")
local funcs = require("funcs")
local function show(label, a, b)
  io.print(label, a == nil and "nil" or "ok", b)
end
local function main()
  -- no actor, no scope: allowed unless strict mode
  local executor, err = funcs.new():with_options({ network = "sec:tor" })
  show("root funcs tor", executor, err)
  local spawner
  spawner, err = process.with_options({ network = "sec:tor" })
  show("root spawn tor", spawner, err)

  local user = security.new_actor("user:1", {})
  local locked = assert(security.named_scope("locked"))
  local net = assert(security.named_scope("net"))
  local denied = funcs.new():with_actor(user):with_scope(locked)
  io.print("locked", denied:call("sec:try_edges"))
  local allowed = funcs.new():with_actor(user):with_scope(net)
  io.print("net", allowed:call("sec:try_edges"))
  io.print("whoami", allowed:call("sec:whoami"))
  io.print("whoami root", funcs.call("sec:whoami"))

  -- an inherited selection is not checked again below a denying scope
  local via_tor = assert(funcs.new():with_options({ network = "sec:tor" }))
  io.print("inherited", via_tor:call("sec:whoami"))

  -- ids that are not network entries fail the call or spawn
  local unknown = assert(funcs.new():with_options({ network = "sec:nope" }))
  io.print("unknown call", unknown:call("sec:whoami"))
  local not_network = assert(funcs.new():with_options({ network = "sec:allow_tor" }))
  io.print("not a network", not_network:call("sec:whoami"))
  local unknown_spawner = assert(process.with_options({ network = "sec:nope" }))
  io.print("unknown spawn", unknown_spawner:spawn("sec:idle", "sec:processes"))
  local bad, problem = pcall(function() return funcs.new():with_options({ network = 42 }) end)
  io.print("wrong type raises", bad, problem ~= nil)
  return 0
end
return { main = main }
