"""Attacks on channels that cross scheduler threads (found by review); the
deterministic ones fail on the code before their fix."""
import pytest

from conftest import one_command_index, run_wippy
from test_channels_across_threads import INDEX as CHANNELS_INDEX

# the same project as test_channels_across_threads.py's, without its filler
INDEX = "".join(line for line in CHANNELS_INDEX.splitlines(keepends=True) if "filler" not in line)

HANDLERS = r"""
local held
local function helper()
  process.registry.register("helper")
  local inbox = process.inbox()
  while true do
    local message = inbox:receive()
    local topic, data = message:topic(), message:payload():data()
    if topic == "receive" then
      local value, ok = data.channel:receive()
      data.reply:send(tostring(value) .. " " .. tostring(ok))
    elseif topic == "hold" then
      held = data.channel
    elseif topic == "feed" then
      for i = 1, data.count do held:send(i) end
    elseif topic == "churn" then
      -- crossed channels that hold themselves, dropped: the crossed cycle
      -- collection runs again and again on this (the main) thread
      for i = 1, data.count do
        local x = channel.new(1)
        held:send(x)
        held:receive() -- x is shared now, so crossed
        x:send({x})
        x = nil
        if i % 70 == 0 then collectgarbage() end
      end
      data.reply:send("churned")
    elseif topic == "nest" then
      -- c is shared here first, then d goes into c's buffer, then c crosses
      local c, d = channel.new(1), channel.new(1)
      process.send(process.pid(), "ignored", {c = c})
      c:send(d)
      data.reply:send(c)
      for i = 1, data.count do d:send(i) end
    end
  end
end

local cases = {}

-- a send that fails (its value cannot travel) must not leave the receiver it
-- found claimed: the receiver is woken by the close that follows
function cases.ready() return tostring(process.registry.lookup("helper") ~= nil) end

function cases.failed_send()
  local time = require("time")
  local ch, reply = channel.new(), channel.new()
  process.send("helper", "receive", {channel = ch, reply = reply})
  time.sleep("200ms")
  local _, err = pcall(ch.send, ch, function() end)
  ch:close()
  local got = channel.select({reply:case_receive(), time.after("5s"):case_receive()})
  if got.channel == reply then return "woken " .. tostring(got.value) end
  return "hung after: " .. tostring(err)
end

-- a private channel holding itself and a value that cannot travel: sharing
-- it fails, and it stays a working private channel
function cases.self_share()
  local x = channel.new(1)
  process.send("helper", "hold", {channel = x})
  local p = channel.new(2)
  p:send({p})
  p:send(function() end)
  local ok, err = pcall(x.send, x, p)
  local ok2, value = pcall(p.receive, p)
  return tostring(ok) .. " | " .. tostring(err):gsub("^.-:%d+: ", "") .. " | " .. tostring(ok2) .. " " ..
    tostring(type(value) == "table" and value[1] == p)
end

-- a channel inside the buffer of a channel that crosses crosses too
function cases.nested()
  local reply = channel.new()
  process.send("helper", "nest", {reply = reply, count = 2000})
  local c = reply:receive()
  local d = c:receive()
  local total = 0
  for _ = 1, 2000 do total = total + d:receive() end
  return tostring(total)
end

-- channels that hold themselves, dropped: freed (the ASan build reports a leak otherwise)
function cases.cycles()
  for _ = 1, 300 do
    local x = channel.new(1)
    pcall(process.send, "nobody", "x", x)
    x:send({x, string.rep("y", 10000)})
  end
  collectgarbage()
  return "ok"
end

-- a channel whose last handle goes while another thread collects cycles:
-- it is drained outside the lock, so it leaves the collection's list first
function cases.drain_while_collecting()
  local pipe, reply = channel.new(1), channel.new(1)
  process.send("helper", "hold", {channel = pipe})
  process.send("helper", "churn", {count = 5000, reply = reply})
  for _ = 1, 3 do
    local c = channel.new(5000)
    pipe:send(c)
    pipe:receive() -- c is shared now, so crossed, and held only here
    for i = 1, 5000 do c:send(i) end
    c = nil
    collectgarbage()
  end
  return tostring(reply:receive())
end

-- two private channels that hold each other, passed on: the one shared
-- inside the other's values would be shared before it, holding it private
function cases.hold_each_other()
  local x = channel.new(1)
  process.send("helper", "hold", {channel = x})
  local p, q = channel.new(2), channel.new(1)
  q:send(p)
  p:send(q)
  p:send(function() end)
  local ok, err = pcall(x.send, x, p)
  local back = p:receive()
  local again = back:receive()
  return tostring(ok) .. " | " .. tostring(err):gsub("^.-:%d+: ", "") .. " | " ..
    tostring(back == q) .. " " .. tostring(again == p)
end

-- a coroutine resumed inside table.sort's comparator cannot block: on a
-- crossed channel it leaves no waiter another loop could complete
function cases.block_in_comparator()
  local ch = channel.new()
  process.send("helper", "hold", {channel = ch})
  local ok, err = pcall(table.sort, {2, 1}, function(a, b)
    local co = coroutine.wrap(function() return ch:receive() end)
    co()
    return a < b
  end)
  process.send("helper", "feed", {count = 1})
  return tostring(ok) .. " | " .. tostring(err):gsub("^.-:%d+: ", "") .. " | " .. tostring(ch:receive())
end

local function ask()
  local which = require("http").request():query("case")
  require("http").response():write(cases[which]())
end

return {helper = helper, ask = ask}
"""


def ask(serve, case, threads):
    served = serve(INDEX, HANDLERS, "--threads", str(threads))
    served.wait_for("/ask?case=ready", "true")
    answer = served.get(f"/ask?case={case}", timeout=30)
    code, out, err = served.stop()
    assert code == 0, err
    return answer


@pytest.mark.parametrize("threads", [1, 2])
def test_a_failed_send_leaves_the_receiver_it_found_free(serve, threads):
    assert ask(serve, "failed_send", threads) == "woken nil false"


def test_a_channel_whose_share_fails_stays_private_and_working(serve):
    assert ask(serve, "self_share", 2) == (
        "false | cannot pass a channel holding a value that cannot leave its process "
        "(cannot pass a function between processes) | true true")


def test_a_channel_inside_a_crossing_channel_crosses_too(serve):
    assert ask(serve, "nested", 2) == "2001000"


def test_channels_that_hold_themselves_are_freed(serve):
    assert ask(serve, "cycles", 2) == "ok"


def test_a_channel_drained_as_it_goes_is_not_met_by_a_collection(serve):
    for _ in range(3):  # a race: it crashed the runtime in two runs of three
        assert ask(serve, "drain_while_collecting", 2) == "churned"


CLOSE = r"""
return {main = function(waiting, cases_each)
  waiting, cases_each = tonumber(waiting), tonumber(cases_each)
  local ch = channel.new()
  process.send(process.pid(), "x", {c = ch}) -- shared: crossed with threads configured
  local cases = {}
  for i = 1, cases_each do cases[i] = ch:case_receive() end
  for _ = 1, waiting do coroutine.spawn(function() channel.select(cases) end) end
  require("time").sleep("200ms")
  local started = os.clock()
  ch:close() -- one hold of the crossed channels' lock
  print(os.clock() - started)
end}
"""


def test_closing_a_channel_many_selects_wait_on_is_linear(make_app):
    """Every select waits on the one channel 2,000 times: a close that
    rescanned the cases already claimed was quadratic, under the lock every
    thread's crossed channels share (400 selects of 10,000: 4.5 s). Kept
    small: pytest's children's peak memory is what other tests measure."""
    app = make_app({"src/_index.yaml": one_command_index(["time"]), "src/main.lua": CLOSE})
    seconds = {}
    for waiting in (25, 200):
        result = run_wippy(app, "--threads", "2", "run", "main", str(waiting), "2000", timeout=120)
        assert result.code == 0, result
        seconds[waiting] = float(result.lines[0])
    # eight times the selects: about eight times the time; quadratic is 64
    assert seconds[200] < 24 * max(seconds[25], 0.002), seconds


@pytest.mark.parametrize("threads", [1, 2])
def test_private_channels_that_hold_each_other_are_refused_whole(serve, threads):
    assert ask(serve, "hold_each_other", threads) == (
        "false | cannot pass a channel holding a value that cannot leave its process (cannot pass a channel "
        "holding a value that cannot leave its process (cannot pass private channels that hold each other "
        "(pass one to another process first))) | true true")


@pytest.mark.parametrize("threads", [1, 2])
def test_a_block_that_cannot_happen_leaves_no_waiter(serve, threads):
    assert ask(serve, "block_in_comparator", threads) == (
        "false | a blocking call inside this coroutine cannot block here (the coroutine was resumed from a "
        "metamethod or a C function) | 1")
