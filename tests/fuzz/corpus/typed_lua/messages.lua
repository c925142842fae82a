local io = require("io")
local function main()
  local echo = process.spawn("core:echo", "core:processes", process.pid())
  local updates = process.listen("update")
  process.send(echo, "ping", { n = 1 })
  local message = process.inbox():receive()
  io.print("reply topic", message:topic(), "from echo", message:from() == echo)
  io.print("reply data", message:payload():data().n)
  process.send(echo, "update-me", 5)
  io.print("listened", updates:receive())
  local ok, err = process.send("{core:processes|0xfffff}", "x", 1)
  io.print("unknown pid", ok, err)
  ok, err = process.send(echo, "@inbox", 1)
  io.print("reserved topic", ok, err)
  return 0
end
return { main = main }
