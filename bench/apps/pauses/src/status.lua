local http = require("http")
local function handle()
  http.response():write_json({ ok = true, service = "wippy", version = 1 })
end
return { handle = handle }
