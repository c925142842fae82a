local io = require("io")
-- A select case whose fields come from a metamethod that misbehaves once
-- another task completes the select (it used to run under that task). Cases
-- are read raw now, so such a case is no case at all; a real case, once
-- completed by another task, runs none of this task's code either.
local function main()
  local armed = false
  local case = setmetatable({send = false}, {__index = function(_, key)
    if armed then error("trap sprung while " .. key .. " was read") end
    if key == "channel" then return process.inbox() end
  end})
  io.print(pcall(channel.select, {case}))
  local real = setmetatable(process.inbox():case_receive(), {__index = function(_, key)
    if armed then error("trap sprung while " .. key .. " was read") end
  end})
  coroutine.spawn(function()
    armed = true
    process.send(process.pid(), "t", 1)
  end)
  local result = channel.select({real})
  io.print("selected", result.ok, result.channel == process.inbox(), result.value:payload():data())
end
return { main = main }
