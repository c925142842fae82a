local io = require("io")

type Point = {
  x: number,
  y: number,
}
export type Pair<K, V> = {key: K, value: V}
type Callback = (Point, string?) -> (boolean, string?)

local function length(p: Point): number
  return math.sqrt(p.x * p.x + p.y * p.y)
end

local function first<T>(list: {T}): T?
  return list[1]
end

local function main(...: string): number
  local p: Point = {x = 3, y = 4}
  local pair: Pair<string, number> = {key = "k", value = length(p)}
  local cb: Callback = function(q: Point, label: string?): (boolean, string?)
    return q.x > 0, label
  end
  local ok, label = cb(p, "a:b")  -- a string with a colon is not a type
  local n = first({7, 8}) :: number
  for i: number = 1, 2 do n = n + i end
  io.print(pair.key, pair.value, ok, label, n)
  return 0
end

return { main = main }
