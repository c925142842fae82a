local io = require("io")
local time = require("time")
-- Tries to reach the tables behind read-only views through pairs, then
-- shows that another call still sees the real libraries.
local function attempt(name, view)
  local iterator, state = pairs(view)
  local wrote = pcall(function() state.poisoned = true end)
  local listed = 0
  for _, _ in iterator, state, nil do listed = listed + 1 end
  io.print(name, "state is the view", rawequal(state, view), "could write", wrote,
           "listed some", listed > 0)
end

local function main()
  attempt("string", string)
  attempt("table", table)
  attempt("time", time)
  local _, real = pairs(string)
  pcall(function() real.rep = function() return "poisoned" end end)
  io.print("victim sees", require("funcs").call("app:victim"))
end

return { main = main }
