local http = require("http")

-- Greets the caller by its own I2P address: on a service listening on
-- I2P, remote_addr() is the caller's .b32.i2p.
local function handle()
    local response = http.response()
    response:set_header("Content-Type", "text/plain; charset=utf-8")
    response:write("Hello from wippy over I2P. You are " .. http.request():remote_addr() .. "\n")
end

return { handle = handle }
