local funcs = require("funcs")
local function run()
  local results = {}
  local _, err = funcs.new():with_options({ network = "sec:tor" })
  results[#results + 1] = "funcs:" .. tostring(err)
  local allowed, raised = pcall(process.with_options, { network = "sec:tor" }) -- raises when denied
  results[#results + 1] = "spawn:" .. (allowed and "nil" or tostring(raised))
  _, err = funcs.new():with_options({ network = false })
  results[#results + 1] = "direct:" .. tostring(err)
  return table.concat(results, " ")
end
return { run = run }
