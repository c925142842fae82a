local http = require("http")
-- Tells the caller the address it came from: its tailnet address.
local function handle()
  http.response():write_json({ ip = http.request():remote_addr(), via = "overlay" })
end
return { handle = handle }
