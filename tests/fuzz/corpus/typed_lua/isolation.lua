local io = require("io")
local function attempt(f)
  local ok, err = pcall(f)
  return ok and "allowed" or "refused"
end
local function main()
  secret = "mine"                               -- a global of this process
  local shared = { n = 1 }
  local pid = process.spawn_monitored("core:snooper", "core:processes", shared)
  shared.n = 2                                  -- after the send: the child has its own copy
  local event = process.events():receive()
  local seen = event.result.value
  io.print("child saw secret", seen.secret)
  io.print("child saw n", seen.n)
  io.print("child changed its copy", seen.changed, "ours", shared.n)
  io.print("child string.upper works", seen.upper)
  io.print("child could patch string", seen.patch_string)
  io.print("child could rawset table", seen.rawset_table)
  io.print("child could reach string metatable", seen.string_metatable)
  io.print("our string.upper", string.upper("ok"))
  io.print("os", type(os), "debug", type(debug), "dofile", type(dofile), "loadfile", type(loadfile))
  io.print("package", type(package), "string.dump", type(string.dump))
  io.print("load env is ours", load("return secret")())
  io.print("binary chunks", attempt(function() return load("\27Lua", "x", "b") end))
  io.print("_G is ours", _G.secret)
  return 0
end
return { main = main }
