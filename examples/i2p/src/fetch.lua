local io = require("io")
local http_client = require("http_client")
local time = require("time")

-- Fetches one URL through the i2p entry and prints the body. A site that
-- has just started needs a little while before the network knows how to
-- reach it: with SECONDS, failed attempts are tried again until that much
-- time has passed. Clearnet hosts are refused (no outproxy), never dialed.
local function main(url, seconds)
    if not url then
        io.eprint("usage: wippy run fetch URL [SECONDS]")
        return 2
    end
    local deadline = time.now():unix() + (tonumber(seconds) or 0)
    while true do
        local response, err = http_client.get(url, { overlay_network = "app:i2p", timeout = "60s" })
        if response then
            io.write(response.body)
            if response.status_code ~= 200 then
                io.eprint("HTTP " .. response.status_code)
                return 1
            end
            return 0
        end
        if time.now():unix() >= deadline then
            io.eprint("error: " .. tostring(err))
            return 1
        end
        io.eprint("retrying: " .. tostring(err))
        time.sleep("2s")
    end
end

return { main = main }
