local io = require("io")
local http_client = require("http_client")

-- Fetches one URL through the tor entry. There is no direct fallback: when
-- tor cannot reach the target, the error says why and nothing else is tried.
local function main(url)
    if not url then
        io.eprint("usage: wippy run fetch URL")
        return 2
    end
    -- Onion services can take a while to answer the first time.
    local response, err = http_client.get(url, { overlay_network = "app:tor", timeout = "60s" })
    if not response then
        io.eprint("error: " .. tostring(err))
        return 1
    end
    io.write(response.body)
    if response.status_code ~= 200 then
        io.eprint("HTTP " .. response.status_code)
        return 1
    end
    return 0
end

return { main = main }
