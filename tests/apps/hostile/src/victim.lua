local json = require("json")
-- Uses what the attacker tried to poison.
local function run()
  return string.rep("ab", 2) .. " " .. json.encode({1}) .. " " .. tostring(string.poisoned)
end
return { run = run }
