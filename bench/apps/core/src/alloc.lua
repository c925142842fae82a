local io = require("io")
-- Lua work that allocates and drops small tables and strings all the time:
-- what the heap's per-block accounting costs.
local function main(n)
  local rounds = tonumber(n) or 2000000
  local kept, total = {}, 0
  for i = 1, rounds do
    local item = {i, tostring(i), name = "item" .. (i % 1000)}
    kept[i % 5000 + 1] = item
    total = total + #item[2]
  end
  io.print(total)
  return 0
end
return { main = main }
