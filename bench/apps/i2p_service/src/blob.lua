local http = require("http")
-- 16 KiB, enough to see throughput as well as latency.
local BODY = string.rep("0123456789abcdef", 1024)
local function handle()
  http.response():write(BODY)
end
return { handle = handle }
