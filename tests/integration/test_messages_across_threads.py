"""A message to a process of another loop is sent without waiting for that
loop: process.send returns once the message is on its way. Messages from
one sender arrive in the order they were sent, past the number a sender may
have on their way at once (1,024: then its sends wait for the receiver's
answer). What the receiver cannot take (its inbox is full, its memory
limit) is dropped with a warning in the log, once and then at each power of
two, since the sender has gone on. The streamer is a process.service, so it
lives on the main loop; what a handler spawns lives on the handler's."""
from test_hostile_processes_across_threads import eventually as eventually_answers
from test_processes_across_threads import SERVED

INDEX = SERVED + """  - {name: h_step, kind: function.lua, source: 'file://h.lua', method: step, modules: [http]}
  - {name: counter, kind: process.lua, source: 'file://h.lua', method: counter}
  - {name: hoarder, kind: process.lua, source: 'file://h.lua', method: hoarder}
  - {name: streamer, kind: process.lua, source: 'file://h.lua', method: streamer}
  - {name: streamer_service, kind: process.service, process: streamer, host: processes,
     lifecycle: {auto_start: true}}
"""

HANDLERS = r"""
-- takes count numbered messages and registers how they came
local function counter(count)
  count = tonumber(count)
  local inbox, expected = process.inbox(), 1
  for _ = 1, count do
    local n = inbox:receive():payload():data()
    if n ~= expected then
      process.registry.register("counted: " .. tostring(n) .. " came where " .. expected .. " was due")
      return
    end
    expected = expected + 1
  end
  process.registry.register("counted " .. count .. " in order")
  process.inbox():receive()
end

-- takes its inbox and reads nothing
local function hoarder()
  process.registry.register("hoarder")
  local inbox = process.inbox()
  channel.new():receive()
  return inbox
end

-- on the main loop: on "stream" sends count numbers to the counter; on
-- "sorted" sends from inside a table.sort comparator, where Lua cannot
-- yield; on "flood" sends count messages to the hoarder
local function streamer()
  process.registry.register("streamer")
  local inbox = process.inbox()
  while true do
    local message = inbox:receive()
    local topic, data = message:topic(), message:payload():data()
    local all = true
    if topic == "stream" then
      for i = 1, data.count do all = process.send(data.to, "n", i) == true and all end
    elseif topic == "sorted" then
      local sent, list = 0, {3, 1, 2}
      table.sort(list, function(a, b)
        if process.send(data.to, "n", sent + 1) then sent = sent + 1 end
        return a < b
      end)
      for i = sent + 1, data.count do all = process.send(data.to, "n", i) == true and all end
    elseif topic == "flood" then
      for i = 1, data.count do all = process.send("hoarder", "n", i) == true and all end
    end
    process.registry.register(topic .. " sent all: " .. tostring(all))
  end
end

local function step()
  local http = require("http")
  local q = function(k) return http.request():query(k) end
  local which, out = q("do"), nil
  if which == "counter" then
    local pid = process.spawn("app:counter", "app:processes", q("count"))
    out = tostring(process.send("streamer", q("how"), {to = pid, count = tonumber(q("count"))}))
  elseif which == "hoarder" then
    out = type(process.spawn("app:hoarder", "app:processes"))
  elseif which == "flood" then
    out = tostring(process.send("streamer", "flood", {count = tonumber(q("count"))}))
  elseif which == "lookup" then
    out = tostring(process.registry.lookup(q("name")) ~= nil)
  end
  http.response():write(out)
end

return {step = step, counter = counter, hoarder = hoarder, streamer = streamer}
"""


def eventually(served, path):
    return eventually_answers(served, path, "true", seconds=20)


def test_messages_to_another_loop_arrive_in_order_past_the_number_away_at_once(serve):
    served = serve(INDEX, HANDLERS, "--threads", "2")
    assert served.get("/step?do=counter&how=stream&count=20000") == "true"
    assert eventually(served, "/step?do=lookup&name=counted%2020000%20in%20order") == "true"
    assert served.get("/step?do=lookup&name=stream%20sent%20all:%20true") == "true"
    code, _, err = served.stop()
    assert code == 0, err


def test_a_comparator_can_send_to_another_loop(serve):
    served = serve(INDEX, HANDLERS, "--threads", "2")
    assert served.get("/step?do=counter&how=sorted&count=10") == "true"
    assert eventually(served, "/step?do=lookup&name=counted%2010%20in%20order") == "true"
    assert served.get("/step?do=lookup&name=sorted%20sent%20all:%20true") == "true"
    served.stop()


def test_what_a_full_inbox_of_another_loop_refuses_is_told_in_the_log(serve):
    served = serve(INDEX, HANDLERS, "--threads", "2", "--set", "process.max_inbox=10")
    assert served.get("/step?do=hoarder") == "string"
    assert eventually(served, "/step?do=lookup&name=hoarder") == "true"
    assert served.get("/step?do=flood&count=100") == "true"
    assert eventually(served, "/step?do=lookup&name=flood%20sent%20all:%20true") == "true"
    _, _, err = served.stop()
    refusals = [line for line in err.splitlines() if "was not delivered" in line]
    # 90 refused: told at the 1st, 2nd, 4th, ... 64th
    assert len(refusals) == 7, err
    assert "a message from {" in refusals[0] and "on topic n was not delivered: its inbox" in refusals[0], err
    assert refusals[0].endswith("(1 such so far)") and refusals[-1].endswith("(64 such so far)"), err
