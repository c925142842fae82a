local http = require("http")

local function status()
  http.response():write_json({ok = true, service = "wippy", version = 1})
end

-- about a millisecond of Lua on this machine: the server, not wrk, is the limit
local function cpu()
  local sum = 0
  for i = 1, 120000 do sum = sum + (i * i) % 7 end
  http.response():write(tostring(sum))
end

return {status = status, cpu = cpu}
