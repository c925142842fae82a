local io = require("io")
local function main()
  local ok, err = pcall(require, "json")
  io.print(err)
  return 0
end
return { main = main }
