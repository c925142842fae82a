local time = require("time")
local function main()
  coroutine.spawn(function() error("spawned coroutine broke") end)
  time.sleep("5s")
  return "not reached"
end
return { main = main }
