local io = require("io")
local funcs = require("funcs")
-- Calls itself through funcs.call until something says no.
local function run(depth)
  local deepest, err = funcs.call("app:recurse", depth + 1)
  if err then return deepest or depth, err end
  return deepest
end

local function main()
  local deepest, err = run(0)
  io.print(deepest, err)
end
return { main = main, run = run }
