local io = require("io")
local time = require("time")
local function main()
  io.print("service started")
  local ticker = time.ticker("20ms")
  local ticks = 0
  while true do
    local r = channel.select { process.inbox():case_receive(), ticker:response():case_receive() }
    ticks = ticks + 1
    if ticks == 3 then io.print("ticking") end
  end
end
return { main = main }
