local io = require("io")
local function main()
  local count = 0
  while true do
    local line, err = io.readline()
    if not line then break end
    count = count + 1
    io.print("line " .. count .. ": " .. line)
  end
  io.print("lines", count)
  return 0
end
return { main = main }
