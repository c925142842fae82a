local io = require("io")
local time = require("time")
-- Processes that never block must not stop the others.
local function spin()
  while true do end
end

local function spin_in_a_coroutine()
  coroutine.wrap(function() while true do end end)()
end

local function main()
  local spinner = process.spawn("app:spinner", "app:processes")
  local nested = process.spawn("app:nested_spinner", "app:processes")
  local started = time.now()
  for i = 1, 5 do
    time.sleep("20ms")
  end
  local waited = time.now():sub(started):seconds()
  io.print("five 20 ms sleeps beside two spinners", waited < 2)
  process.terminate(spinner)
  process.terminate(nested)
  io.print("done")
end

-- A comparator is called from C (table.sort): nothing can yield there.
local function stuck()
  table.sort({3, 2, 1}, function(a, b) while true do end end)
  io.print("not reached")
end

-- The same, catching the stop error to go on spinning.
local function stuck_catching()
  table.sort({3, 2, 1}, function(a, b)
    while true do pcall(function() while true do end end) end
  end)
  io.print("not reached")
end

-- Alone in the runtime, many slices long: pre-empted, it must still finish.
local function crunch()
  local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
  io.print(fib(30))
end

return { main = main, spin = spin, spin_in_a_coroutine = spin_in_a_coroutine, stuck = stuck,
         crunch = crunch, stuck_catching = stuck_catching }
