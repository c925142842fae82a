local http = require("http")
-- A small JSON document, the same bytes nginx serves from a file.
local function handle()
  http.response():write_json({ ok = true, service = "wippy", version = 1 })
end
return { handle = handle }
