type Id = string @min_len(2)
type Flag = "hot" | 3 | true
type List = readonly {number}
local names: string[] = {'a'}
local v = t.value as string
local s = tostring(t.value!)
local function f<T>(list: {T}, ...: any): (T?, string)
  return list[1] :: T, "x:y"
end
for k: string, v: number in pairs({}) do end
::label::
