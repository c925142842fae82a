local io = require("io")
-- A __gc would run inside whichever task the collector interrupts.
local function main()
  local ok, err = pcall(setmetatable, {}, {__gc = function() end})
  io.print("with __gc", ok, err)
  local plain = setmetatable({}, {__index = {x = 1}})
  io.print("without", plain.x)
  local meta = {}
  setmetatable({}, meta)
  meta.__gc = function() io.print("finalizer ran") end -- too late: not marked
  collectgarbage()
  collectgarbage()
  io.print("done")
end
return { main = main }
