local function main(parent)
  local inbox = process.inbox()
  while true do
    local message = inbox:receive()
    if message:topic() == "ping" then
      local data = message:payload():data()
      process.send(parent, "pong", { n = data.n + 1 })
    elseif message:topic() == "update-me" then
      process.send(parent, "update", message:payload():data() * 10)
    end
  end
end
return { main = main }
