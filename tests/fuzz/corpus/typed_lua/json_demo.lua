local io = require("io")
local json = require("json")
local function main()
  io.print(json.encode({ name = "x", list = { 1, 2.5, true }, empty = {} }))
  local value, err = json.decode('{"a": [1, 2, {"b": null}], "s": "\\u00e9"}')
  io.print(value.a[2], value.a[3].b, value.s, err)
  io.print(json.decode("{broken"))
  io.print(json.encode({ 1, 2, nil, 4 }))
  io.print(json.encode({ [1] = "a", x = "b" }))
  local cyclic = {}
  cyclic.self = cyclic
  io.print(json.encode(cyclic))
  io.print(json.encode(print))
  return 0
end
return { main = main }
