local http_client = require("http_client")
-- get(count, url, overlay|"direct", "sequential"|"close"|"concurrent", in_flight (100));
-- "close" is sequential with Connection: close, so that the server closes each connection
local function main(count, url, overlay, mode, in_flight)
  count = tonumber(count)
  local options = {}
  if overlay ~= "direct" then options.overlay_network = overlay end
  if mode ~= "sequential" and mode ~= "close" and mode ~= "concurrent" then
    error("mode: expected sequential, close or concurrent, got " .. tostring(mode))
  end
  if mode == "close" then
    options.headers = { Connection = "close" }
    mode = "sequential"
  end
  if mode == "sequential" then
    for _ = 1, count do
      local response, err = http_client.get(url, options)
      if not response or response.status_code ~= 200 then error(err or "bad status") end
    end
    return 0
  end
  -- in_flight coroutines, each fetching in sequence, keep that many requests in flight
  in_flight = math.min(tonumber(in_flight) or 100, count)
  local finished = channel.new(in_flight)
  for worker = 1, in_flight do
    coroutine.spawn(function()
      for _ = 1, count // in_flight + (worker <= count % in_flight and 1 or 0) do
        local response, err = http_client.get(url, options)
        if not response or response.status_code ~= 200 then error(err or "bad status") end
      end
      finished:send(true)
    end)
  end
  for _ = 1, in_flight do finished:receive() end
  return 0
end
return { main = main }
