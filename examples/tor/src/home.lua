local http = require("http")

-- The page the onion service shows. Tor hands every visitor's connection
-- to this service from 127.0.0.1, so the remote address tells nothing.
local function handle()
    local response = http.response()
    response:set_header("Content-Type", "text/plain; charset=utf-8")
    response:write("Hello from wippy, served as a Tor onion service.\n")
end

return { handle = handle }
