local http_client = require("http_client")
-- Sends a POST with credentials, a secret header and a body, as another
-- caller might just before a request of someone else's.
local function main(url, overlay)
  local response, err = http_client.post(url, {
    overlay_network = overlay ~= "direct" and overlay or nil,
    auth = { user = "alice", pass = "secret" },
    headers = { ["X-Secret"] = "of-the-first-caller" }, body = "first-caller-body" })
  return response and tostring(response.status_code) or err
end
return { main = main }
