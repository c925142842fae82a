local type, as = type, 1
local t = {type = "x", ["as"] = as, f = function(a, b) return a // b, a ~= b end}
local s = [==[ type T = {x: number} ]==] .. 'a:b' .. "c\"d" -- type X = Y
--[[ local z: number ]]
for i = 1, 3 do
  goto continue
  ::continue::
end
local x <const> = t.f(4, 2) and 1 or 2
return type(t), #s, x
