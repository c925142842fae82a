-- 200,000 values over a channel two processes share (so, with several
-- scheduler threads, a crossed channel), unbuffered then buffered (64).
local N = 200000
local function sink(values, done)
  local total = 0
  for _ = 1, N do total = total + values:receive() end
  done:send(total)
end
local function main(size)
  for _, capacity in ipairs({0, 64}) do
    local values, done = channel.new(capacity), channel.new(1)
    process.spawn("app:sink", "app:processes", values, done)
    for i = 1, N do values:send(i) end
    assert(done:receive() == N * (N + 1) / 2)
  end
  return 0
end
return {sink = sink, main = main}
