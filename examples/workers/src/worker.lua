local funcs = require("funcs")
local function main(word)
  local score, err = funcs.call("demo:score", word)
  if err then error(err) end
  return score
end
return { main = main }
