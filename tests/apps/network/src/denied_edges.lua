local funcs = require("funcs")
local http_client = require("http_client")
local probe = require("probe")
-- Runs under a scope that denies network.select: every explicit selection
-- fails at its edge, while an inherited selection is still used.
local function run(url)
  local results = {}
  local _, err = http_client.get(url, { overlay_network = "app:proxy" })
  results[#results + 1] = "http: " .. tostring(err)
  _, err = http_client.get(url, { overlay_network = false })
  results[#results + 1] = "http false: " .. tostring(err)
  _, err = funcs.new():with_options({ network = "app:proxy" })
  results[#results + 1] = "funcs: " .. tostring(err)
  -- process.with_options raises on a denied network, as Go Wippy's does
  local allowed, raised = pcall(process.with_options, { network = "app:proxy" })
  results[#results + 1] = "spawn: " .. (allowed and "nil" or tostring(raised))
  results[#results + 1] = "inherited: " .. probe.ip(url)
  return table.concat(results, "\n")
end
return { run = run }
