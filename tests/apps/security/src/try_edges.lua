local funcs = require("funcs")
local function run()
  local results = {}
  local _, err = funcs.new():with_options({ network = "sec:tor" })
  results[#results + 1] = "funcs:" .. tostring(err)
  _, err = process.with_options({ network = "sec:tor" })
  results[#results + 1] = "spawn:" .. tostring(err)
  _, err = funcs.new():with_options({ network = false })
  results[#results + 1] = "direct:" .. tostring(err)
  return table.concat(results, " ")
end
return { run = run }
