-- ip(url, options) -> the address the target saw, or "error: ..."
local http_client = require("http_client")
local json = require("json")
local M = {}
function M.ip(url, options)
  local response, err = http_client.get(url, options or {})
  if not response then return "error: " .. err end
  if response.status_code ~= 200 then return "error: HTTP " .. response.status_code end
  local body = json.decode(response.body)
  return body and body.ip or ("error: body " .. tostring(response.body))
end
return M
