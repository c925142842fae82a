local time = require("time")
-- Raises an error object whose __tostring misbehaves as asked.
local function run(how)
  local meta = {}
  if how == "raises" then
    meta.__tostring = function() error("tostring failed") end
  elseif how == "returns a table" then
    meta.__tostring = function() return {} end
  elseif how == "sleeps" then
    meta.__tostring = function() time.sleep("10ms") return "slept" end
  end
  error(setmetatable({}, meta))
end
return { run = run }
