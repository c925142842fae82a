local security = require("security")
local function run()
  local actor = security.actor()
  return actor and actor:id() or "nobody"
end
return { run = run }
