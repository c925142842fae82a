local http = require("http")

-- Answers with the caller's tailnet address: who came in over the tailnet.
local function handle()
    local remote = http.request():remote_addr()
    local address = remote:match("^%[?(.-)%]?:%d+$") or remote
    http.response():write_json({ hello = "from wippy on the tailnet", you = address })
end

return { handle = handle }
