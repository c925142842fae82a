-- 2,000,000 messages from one process to another (inbox), the sender yielding when the inbox is full.
local N = 2000000
local function sink(parent)
  local inbox = process.inbox()
  for i = 1, N do inbox:receive() end
  process.send(parent, "done", N)
end
local function main()
  local s = process.spawn("app:sink", "app:processes", process.pid())
  for i = 1, N do
    while not process.send(s, "m", i) do coroutine.yield() end
  end
  process.listen("done"):receive()
  return 0
end
return {sink = sink, main = main}
