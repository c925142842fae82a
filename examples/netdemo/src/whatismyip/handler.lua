local http = require("http")

-- Replies with the address the request came from, without its port.
local function handle()
    local request = http.request()
    local response = http.response()
    local address = request:remote_addr():match("^%[?(.-)%]?:%d+$")
    response:write_json({ ip = address })
end

return { handle = handle }
