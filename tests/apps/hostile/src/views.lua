local io = require("io")
local time = require("time")
-- Hands a read-only view to every base function that takes a table and
-- reports what came back: never the table behind the view, never a way to
-- write to it.
local function writable(value)
  return type(value) == "table" and pcall(function() value.__probe = 1 end)
end

local function main()
  local view = string
  local results = {}
  local function report(name, value) results[#results + 1] = name .. "=" .. tostring(value) end
  report("next", next(view))
  report("ipairs", select(2, ipairs(view)) == view)
  report("rawget", rawget(view, "rep"))
  report("rawlen", rawlen(view))
  report("rawequal", rawequal(view, string))
  report("getmetatable", getmetatable(view))
  report("setmetatable", (pcall(setmetatable, view, {})))
  report("rawset", (pcall(rawset, view, "rep", 1)))
  report("table.insert", (pcall(table.insert, view, 1)))
  report("table.remove", (pcall(table.remove, view)))
  report("table.sort", (pcall(table.sort, view)))
  report("table.move", (pcall(table.move, {1}, 1, 1, 1, view)))
  report("table.concat", (pcall(table.concat, view)))
  report("table.unpack", select("#", table.unpack(view)))
  report("select", writable(select(1, view)))
  report("load env", (pcall(load("rep = 1", "x", "t", view))))
  report("coroutine.wrap", (pcall(coroutine.wrap(function(t) t.rep = 1 end), view)))
  local stored = setmetatable({}, {__index = view})
  report("inherit then write", (pcall(function() stored.rep = 1 end)) and rawget(view, "rep") == nil)
  report("string.rep works", string.rep("a", 2))
  report("time view writable", writable(time))
  report("module tables equal", rawequal(require("time"), time))
  io.print(table.concat(results, " "))
end
return { main = main }
