local http = require("http")

-- Answers with the caller's tailnet address: who came in over the tailnet.
local function handle()
    local address = http.request():remote_addr():match("^%[?(.-)%]?:%d+$")
    http.response():write_json({ hello = "from wippy on the tailnet", you = address })
end

return { handle = handle }
