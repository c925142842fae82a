local io = require("io")
local security = require("security")
local function main()
  local user = security.new_actor("user:1", { role = "user" })
  local admin = security.new_actor("user:2", { role = "admin" })
  local net = assert(security.named_scope("net"))
  local locked = assert(security.named_scope("sec:locked"))
  local both = net:with(assert(security.policy("sec:deny_tor")))
  local reader = assert(security.named_scope("reader"))
  local admins = assert(security.named_scope("admin"))
  local rows = {
    { "net tor", net:evaluate(user, "network.select", "sec:tor") },
    { "net direct", net:evaluate(user, "network.select", "direct") },
    { "net other", net:evaluate(user, "network.select", "sec:other") },
    { "locked tor", locked:evaluate(user, "network.select", "sec:tor") },
    { "deny wins", both:evaluate(user, "network.select", "sec:tor") },
    { "reader read", reader:evaluate(user, "doc.read", "doc:7") },
    { "reader write", reader:evaluate(user, "doc.write", "doc:7") },
    { "admin as admin", admins:evaluate(admin, "anything", "x") },
    { "admin as user", admins:evaluate(user, "anything", "x") },
    { "policy direct", security.policy("sec:allow_tor"):evaluate(user, "network.select", "sec:tor") },
  }
  for _, row in ipairs(rows) do io.print(row[1], row[2]) end
  io.print("can without actor", security.can("network.select", "sec:tor"))
  io.print("missing policy", security.policy("sec:nope"))
  io.print("missing group", security.named_scope("nope"))
  io.print("contains", both:contains("sec:deny_tor"), net:contains("sec:deny_tor"))
  return 0
end
return { main = main }
