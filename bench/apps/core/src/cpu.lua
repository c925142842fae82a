local io = require("io")
-- Pure Lua work that never blocks: what pre-emption slices.
local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end
local function main(n)
  io.print(fib(tonumber(n) or 30))
  return 0
end
return { main = main }
