local http = require("http")
-- Tells the caller the address it came from: over I2P, its .b32.i2p.
local function handle()
  http.response():write_json({ ip = http.request():remote_addr(), via = "i2p" })
end
return { handle = handle }
