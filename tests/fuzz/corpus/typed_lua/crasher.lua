local function main()
  local t = nil
  return t.field -- line 3: attempt to index a nil value
end
return { main = main }
