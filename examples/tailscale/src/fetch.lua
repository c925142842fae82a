local io = require("io")
local http_client = require("http_client")

local function main(url)
    if url == nil then
        io.print("usage: wippy run fetch URL")
        return 2
    end
    local response, err = http_client.get(url, { overlay_network = "app:tailnet", timeout = "60s" })
    if err then
        io.print("failed: " .. tostring(err))
        return 1
    end
    io.print(response.status_code, response.body)
    return 0
end

return { main = main }
