"""Channels across scheduler threads: an HTTP handler (on a scheduler
thread when there are several) and a process (on the main one) share
channels both ways, blocked or buffered, in a select, closed from either
side, and get the same answers with one thread or several."""
import concurrent.futures

import pytest

INDEX = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - {name: helper, kind: process.lua, source: 'file://h.lua', method: helper}
  - {name: helper_service, kind: process.service, process: helper, host: processes, lifecycle: {auto_start: true}}
  - name: server
    kind: http.service
    addr: 127.0.0.1:@PORT@
    lifecycle: {auto_start: true}
  - {name: root, kind: http.router, meta: {server: server}, prefix: /}
  - {name: ask, kind: http.endpoint, meta: {router: root}, method: GET, path: /ask, func: h_ask}
  - {name: h_ask, kind: function.lua, source: 'file://h.lua', method: ask, modules: [http, time]}
"""

HANDLERS = r"""
local held

local function helper()
  process.registry.register("helper")
  local inbox = process.inbox()
  while true do
    local message = inbox:receive()
    local topic, data = message:topic(), message:payload():data()
    if topic == "double" then
      data.reply:send(data.n * 2)
    elseif topic == "sum" then
      local total = 0
      for _ = 1, data.count do total = total + data.values:receive() end
      data.reply:send(total)
    elseif topic == "close" then
      data.channel:close()
    elseif topic == "hold" then
      held = data.channel
    elseif topic == "feed" then
      for i = 1, data.count do held:send(i) end
    elseif topic == "back" then
      data.reply:send(data.channel)
    end
  end
end

local cases = {}

function cases.double()
  local reply = channel.new()
  process.send("helper", "double", {reply = reply, n = 21})
  return tostring(reply:receive())
end

local function sum(size)
  local values, reply = channel.new(size), channel.new()
  process.send("helper", "sum", {values = values, reply = reply, count = 200})
  for i = 1, 200 do values:send(i) end
  return tostring(reply:receive())
end

function cases.sum() return sum(0) end
function cases.sum_buffered() return sum(16) end

function cases.select()
  local reply, mine = channel.new(), channel.new(1)
  process.send("helper", "double", {reply = reply, n = 5})
  local result = channel.select({mine:case_receive(), reply:case_receive()})
  return tostring(result.value) .. " " .. tostring(result.ok) .. " " .. tostring(result.channel == reply)
end

function cases.select_send()
  local values, reply = channel.new(), channel.new()
  process.send("helper", "sum", {values = values, reply = reply, count = 1})
  local result = channel.select({values:case_send(7)})
  return tostring(result.ok) .. " " .. tostring(reply:receive())
end

function cases.closed_receive()
  local ch = channel.new()
  process.send("helper", "close", {channel = ch})
  local value, ok = ch:receive()
  return tostring(value) .. " " .. tostring(ok)
end

function cases.closed_send()
  local ch = channel.new()
  process.send("helper", "close", {channel = ch})
  local ok, err = pcall(ch.send, ch, 1)
  return tostring(ok) .. " " .. tostring(err):gsub("^.-:%d+: ", "")
end

function cases.feed()
  local ch = channel.new()
  process.send("helper", "hold", {channel = ch})
  process.send("helper", "feed", {count = 50})
  local total = 0
  for _ = 1, 50 do total = total + ch:receive() end
  return tostring(total)
end

function cases.identity()
  local ch, reply = channel.new(1), channel.new()
  process.send("helper", "back", {channel = ch, reply = reply})
  local back = reply:receive()
  back:send("through the copy")
  return tostring(back == ch) .. " " .. tostring(ch:receive())
end

local function ask()
  local which = require("http").request():query("case")
  require("http").response():write(cases[which]())
end

return {helper = helper, ask = ask}
"""

CASES = ["double", "sum", "sum_buffered", "select", "select_send", "closed_receive", "closed_send", "feed",
         "identity"]


@pytest.fixture
def runtime(serve):
    return lambda threads: serve(INDEX, HANDLERS, "--threads", str(threads))


def answers(served):
    return {case: served.get(f"/ask?case={case}") for case in CASES}


def test_a_handler_and_a_process_share_channels_as_with_one_thread(runtime):
    one = answers(runtime(1))
    assert one == {
        "double": "42", "sum": "20100", "sum_buffered": "20100", "select": "10 true true",
        "select_send": "true 7", "closed_receive": "nil false", "closed_send": "false send on a closed channel",
        "feed": "1275", "identity": "true through the copy",
    }
    served = runtime(2)
    assert answers(served) == one
    code, out, err = served.stop()
    assert code == 0, err


def test_many_handlers_on_several_threads_share_channels_at_once(runtime):
    served = runtime(3)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda i: served.get(f"/ask?case={CASES[i % len(CASES)]}"), range(300)))
    expected = answers(runtime(1))
    assert got == [expected[CASES[i % len(CASES)]] for i in range(300)]
    code, out, err = served.stop()
    assert code == 0, err
