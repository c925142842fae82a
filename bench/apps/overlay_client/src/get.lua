local http_client = require("http_client")
local json = require("json")
local time = require("time")
local io = require("io")
-- get(count, url, overlay|"direct", "close"|"keep"): the first request also
-- waits for the overlay (SAM session, tailnet login); with "close" every
-- request opens its own connection, so each one is a dial.
local function main(count, url, overlay, connection)
  count = tonumber(count)
  local options = { timeout = 120 }
  if overlay ~= "direct" then options.overlay_network = overlay end
  if connection == "close" then options.headers = { Connection = "close" } end
  local seconds, bytes = {}, 0
  for i = 1, count do
    local started = time.now()
    local response, err = http_client.get(url, options)
    if not response or response.status_code ~= 200 then error(("request %d: %s"):format(i, err or "bad status")) end
    seconds[i] = time.now():sub(started):seconds()
    bytes = bytes + #response.body
  end
  io.print(json.encode({ seconds = seconds, bytes = bytes }))
  return 0
end
return { main = main }
