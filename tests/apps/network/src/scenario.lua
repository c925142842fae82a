local io = require("io")
local funcs = require("funcs")
local security = require("security")
local http_client = require("http_client")
local time = require("time")
local json = require("json")
local probe = require("probe")

local scenarios = {}

function scenarios.fetch(url, overlay)
  local options = {}
  if overlay == "false" then options.overlay_network = false
  elseif overlay then options.overlay_network = overlay end
  io.print(probe.ip(url, options))
end

-- Fetches, then keeps the runtime (and its overlay) up until standard input
-- ends, so that a test can look at it while it runs.
function scenarios.fetch_then_wait(url, overlay)
  io.print(probe.ip(url, { overlay_network = overlay }))
  io.readline()
end

function scenarios.tls(url, overlay, ca_file_text, insecure)
  local options = { overlay_network = overlay ~= "direct" and overlay or nil }
  if insecure == "insecure" then options.tls = { insecure_skip_verify = true }
  elseif ca_file_text ~= "" then options.tls = { ca = ca_file_text } end
  io.print(probe.ip(url, options))
end

-- Trust relaxed or narrowed for one request, then none for the next: each
-- of the three lines shows what that request's own options allowed.
function scenarios.tls_in_turn(url, overlay, ca_file_text)
  local network = overlay ~= "direct" and overlay or nil
  local steps = {
    { overlay_network = network, tls = { insecure_skip_verify = true } },
    { overlay_network = network },
    { overlay_network = network, tls = { ca = ca_file_text } },
    { overlay_network = network },
  }
  for _, options in ipairs(steps) do
    local ok, result = pcall(probe.ip, url, options)
    io.print(ok and result or ("error: " .. tostring(result)))
  end
end

function scenarios.redirect(url, overlay)
  local response, err = http_client.get(url .. "redirect", { overlay_network = overlay })
  if not response then io.print("error: " .. err) return end
  io.print(response.status_code, response.url)
end

-- A request with a secret header and a body that is redirected; prints
-- what the last hop received.
function scenarios.redirect_with_secret(url, overlay, method)
  local response, err = http_client.request(method, url, {
    overlay_network = overlay, headers = { Authorization = "Bearer secret" }, body = "payload" })
  if not response then io.print("error: " .. err) return end
  local seen = json.decode(response.body)
  if not seen then io.print("not json", response.status_code, response.body) return end
  io.print(response.status_code, seen.method, seen.path, seen.body, tostring(seen.authorization))
end

-- Another process sends secrets, then this one a plain GET on the same
-- network: prints what the GET carried (the runtime keeps curl handles of
-- finished requests for the next ones, whoever makes them).
function scenarios.after_another_caller(url, overlay)
  process.spawn_monitored("app:secret_proc", "app:processes", url, overlay)
  local event = process.events():receive()
  io.print("first caller:", event.result.value or event.result.error)
  local response, err = http_client.get(url, { overlay_network = overlay ~= "direct" and overlay or nil })
  if not response then io.print("error: " .. err) return end
  local seen = json.decode(response.body)
  io.print(seen.method, seen.body, tostring(seen.authorization), tostring(seen.x_secret))
end

function scenarios.twice(url, overlay)
  local response, err = http_client.get(url .. "twice", { overlay_network = overlay ~= "direct" and overlay or nil })
  if not response then io.print("error: " .. err) return end
  io.print(response.headers["X-Twice"], response.headers["X-Odd-Case"], tostring(response.headers["x-TWICE"]))
end

function scenarios.limit(url, overlay, size, limit)
  local response, err = http_client.get(url .. "big/" .. size, {
    overlay_network = overlay, max_response_body = tonumber(limit) })
  io.print(response and #response.body or "nil", err)
end

function scenarios.cancel(url, overlay)
  local spawner = assert(process.with_options({ network = overlay }))
  local pid = spawner:spawn_monitored("app:fetch_proc", "app:processes", url, 0)
  time.sleep("300ms") -- the dial is waiting on the silent proxy
  process.terminate(pid)
  local event = process.events():receive()
  io.print(event.kind, event.from == pid and "the dialing process" or event.from,
           event.result.error or event.result.value)
end

-- Fetches until the answer is an address (overlays such as I2P need a few
-- seconds, sometimes a minute, before a new service can be reached), for at
-- most `seconds`: a lookup that fails fast is tried again, a hung one ends
-- with its 30 s timeout.
function scenarios.fetch_until(url, overlay, seconds)
  local deadline = time.now():unix() + tonumber(seconds)
  local seen
  repeat
    seen = probe.ip(url, { overlay_network = overlay, timeout = 30 })
    if not seen:match("^error") then break end
    io.eprint("attempt: " .. seen)
    time.sleep("2s")
  until time.now():unix() >= deadline
  io.print(seen)
end

function scenarios.post_empty(url)
  local response, err = http_client.post(url, {})
  if not response then io.print("error: " .. err) return end
  local seen = json.decode(response.body)
  io.print(response.status_code, seen.method, "[" .. seen.body .. "]")
end

function scenarios.post(url, overlay)
  local response, err = http_client.post(url, {
    overlay_network = overlay, body = "payload", headers = { ["X-Probe"] = "1" },
    query = { a = "1 2" },
  })
  if not response then io.print("error: " .. err) return end
  io.print(response.status_code, response.headers["Content-Type"], response.body)
end

-- the selection matrix (SPEC 5)
function scenarios.funcs(url)
  local executor = assert(funcs.new():with_options({ network = "app:proxy" }))
  io.print("callee", (executor:call("app:fetch_fn", url, "ip")))
  io.print("caller", probe.ip(url))
end

function scenarios.spawn(url)
  local spawner = assert(process.with_options({ network = "app:proxy" }))
  spawner:spawn_monitored("app:fetch_proc", "app:processes", url, 2)
  local event = process.events():receive()
  io.print("child grandchild greatgrandchild", event.result.value or event.result.error)
  io.print("parent", probe.ip(url))
end

function scenarios.chain(url)
  local executor = assert(funcs.new():with_options({ network = "app:proxy" }))
  io.print("funcs process funcs", (executor:call("app:fetch_fn", url, "spawn")))
end

function scenarios.override(url)
  local executor = assert(funcs.new():with_options({ network = "app:proxy" }))
  io.print("override", (executor:call("app:fetch_fn", url, "direct child")))
end

function scenarios.default(url)
  io.print("root", probe.ip(url))
  io.print("explicit false below", (funcs.call("app:fetch_fn", url, "direct child spawns")))
end

function scenarios.denied(url)
  local actor = security.new_actor("user:1", {})
  local locked = assert(security.named_scope("locked"))
  local executor = funcs.new():with_actor(actor):with_scope(locked)
  io.print((executor:call("app:denied_edges", url)))
end

function scenarios.inherited_under_denial(url, overlay)
  local actor = security.new_actor("user:1", {})
  local locked = assert(security.named_scope("locked"))
  local executor = assert(funcs.new():with_options({ network = overlay }))
  io.print((executor:with_actor(actor):with_scope(locked):call("app:fetch_fn", url, "ip")))
end

function scenarios.private_ip(url, scope_name)
  local actor = security.new_actor("user:1", {})
  local scope = assert(security.named_scope(scope_name))
  local executor = assert(funcs.new():with_options({ network = "app:proxy" }))
  io.print((executor:with_actor(actor):with_scope(scope):call("app:fetch_fn", url, "ip")))
end

function scenarios.proxy_only(url)
  local actor = security.new_actor("user:1", {})
  local scope = assert(security.named_scope("proxy_only"))
  local executor = funcs.new():with_actor(actor):with_scope(scope)
  io.print((executor:call("app:denied_edges", url)))
end

function scenarios.sequential(url, overlay, count, pause)
  local ok = 0
  for _ = 1, tonumber(count) do
    local response, err = http_client.get(url, { overlay_network = overlay })
    if response and response.status_code == 200 then ok = ok + 1 else io.eprint(err) end
    if pause then time.sleep(pause .. "s") end  -- seconds on the command line
  end
  io.print("ok", ok)
end

function scenarios.concurrent(url, overlay, count)
  local batch = {}
  for i = 1, tonumber(count) do batch[i] = { "GET", url, { overlay_network = overlay } } end
  local responses, errors = http_client.request_batch(batch)
  local ok = 0
  for i = 1, tonumber(count) do
    if responses[i] and responses[i].status_code == 200 then ok = ok + 1 end
  end
  local failures = 0
  for i = 1, tonumber(count) do
    if errors and errors[i] then
      failures = failures + 1
      io.eprint("request " .. i .. ": " .. errors[i])
    end
  end
  io.print("ok", ok, "errors", failures)
end

function scenarios.alternate(url)
  local seen = {}
  for _, overlay in ipairs({ "app:proxy", "false", "app:proxy", "false", "app:auth_proxy" }) do
    local options = { overlay_network = overlay }
    if overlay == "false" then options.overlay_network = false end
    seen[#seen + 1] = probe.ip(url, options)
  end
  io.print(table.concat(seen, " "))
end

function scenarios.malformed(url_template)
  for _, host in ipairs({ "bad-version.test", "truncated.test", "garbage.test" }) do
    local _, err = http_client.get(string.format(url_template, host), { overlay_network = "app:recorder" })
    io.print(host, err)
  end
end

function scenarios.codes(url_template)
  for _, code in ipairs({ 1, 2, 3, 4, 5, 6, 7, 8, 0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7 }) do
    local url = string.format(url_template, string.format("code-%d.test", code))
    local _, err = http_client.get(url, { overlay_network = "app:recorder", timeout = 5 })
    io.print(string.format("0x%02x", code), err)
  end
end

function scenarios.silent(url)
  local started = time.now()
  local responses, errors = http_client.request_batch({
    { "GET", url },
    { "GET", url, { overlay_network = "app:silent", timeout = 1 } },
  })
  io.print("direct", responses[1] and responses[1].status_code)
  io.print("silent", errors and errors[2])
  io.print("bounded", time.now():sub(started):seconds() < 5)
end

local function main(name, ...)
  local scenario = scenarios[name]
  if not scenario then error("no scenario " .. tostring(name)) end
  scenario(...)
  return 0
end
return { main = main }
