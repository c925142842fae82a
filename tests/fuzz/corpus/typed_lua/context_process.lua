local funcs = require("funcs")
local function main()
  return funcs.call("core:context_reader", "trace")
end
return { main = main }
