local io = require("io")
local time = require("time")
local function main()
  io.print("exec", process.exec("core:quick", "core:processes", 41))
  io.print("exec error", process.exec("core:crasher", "core:processes"))
  local pid = process.spawn("core:echo", "core:processes", process.pid())
  io.print("register", process.registry.register("echoer", pid))
  io.print("lookup", process.registry.lookup("echoer") == pid)
  io.print("taken", process.registry.register("echoer"))
  process.send("echoer", "ping", { n = 1 })
  io.print("via name", process.inbox():receive():payload():data().n)
  process.terminate("echoer")
  time.sleep("10ms")
  io.print("gone", process.registry.lookup("echoer"))
  return 0
end
return { main = main }
