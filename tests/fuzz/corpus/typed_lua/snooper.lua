local function main(shared)
  local report = { secret = tostring(secret), n = shared.n }
  shared.n = 100
  report.changed = shared.n
  report.patch_string = pcall(function() string.upper = function() return "pwned" end end)
  report.rawset_table = pcall(function() rawset(table, "insert", nil) end)
  report.string_metatable = type(getmetatable("").__index) == "table"
  report.upper = string.upper("x")
  return report
end
return { main = main }
