local io = require("io")
-- Sends to a process that never receives until the runtime says no.
local function deaf()
  coroutine.yield()
  while true do coroutine.yield() end
end

local function main()
  local pid = process.spawn("app:deaf", "app:processes")
  local sent, err = 0, nil
  while sent < 10000000 do
    local ok
    ok, err = process.send(pid, "junk", sent)
    if not ok then break end
    sent = sent + 1
  end
  io.print(sent, err and tostring(err):gsub("%b{}", "PID"))
  process.terminate(pid)
end
return { main = main, deaf = deaf }
