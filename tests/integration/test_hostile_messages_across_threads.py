"""Hostile code against sends that do not wait for another loop: what an
attacker review of vm/send_elsewhere.c found, each checked here. A command
with --threads 3: main first spawns two idle processes, so the receiver and
then the sender are placed on two other loops. The sender has a 4 MB limit;
everything a message holds while it travels is its to pay for."""
import os
import subprocess
import sys

import pytest

from conftest import wippy_binary

INDEX = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - {name: main, kind: process.lua, source: 'file://main.lua', method: main, modules: [io],
     meta: {command: {name: main}}}
  - {name: idle, kind: process.lua, source: 'file://main.lua', method: idle}
  - {name: receiver, kind: process.lua, source: 'file://main.lua', method: receiver, memory_limit: 2097152}
  - {name: sender, kind: process.lua, source: 'file://main.lua', method: sender, modules: [payload],
     memory_limit: 4194304}
"""

MAIN = r"""
local function idle() process.inbox():receive() end

-- takes its inbox; "busy": keeps its loop from running posts for a while
-- (a comparator cannot be pre-empted, so nothing of its loop runs meanwhile)
local function receiver(how)
  local inbox = process.inbox()
  if how == "busy" then
    local list = {}
    for i = 1, 200 do list[i] = 200 - i end
    table.sort(list, function(a, b)
      local x = 0
      for i = 1, 5000 do x = x + i end
      return a < b
    end)
  end
  channel.new():receive()
  return inbox
end

-- sends count messages from inside a comparator (where Lua cannot yield,
-- so no receipt comes back meanwhile) or from a plain loop; reports how
-- many went and how many were refused
local function sender(to, how, count, reply_to)
  count = tonumber(count)
  local sent, refused, why = 0, 0, nil
  local topic = how == "topic" and string.rep("t", 1000000) or "n"
  local value = how == "payload" and require("payload").new(string.rep("p", 1000000)) or 1
  if how == "payloads" then -- each a few bytes here, each copying the megabyte as it is taken
    local text, payload = string.rep("q", 1000000), require("payload")
    value = {}
    for i = 1, 300 do value[i] = payload.new(text) end
  end
  local function one(i)
    local ok, err = process.send(to, topic, value)
    if ok then sent = sent + 1 else refused = refused + 1; why = tostring(err) end
  end
  local list = {2, 1}
  table.sort(list, function(a, b)
    for i = 1, count do one(i) end
    return a < b
  end)
  process.send(reply_to, "report", {sent = sent, refused = refused, why = why})
end

local function main(how, count)
  for _ = 1, 2 do process.spawn("app:idle", "app:processes") end
  local receiver = process.spawn("app:receiver", "app:processes", how == "payload" and "busy" or "")
  process.spawn("app:sender", "app:processes", receiver, how, count, process.pid())
  local report = process.inbox():receive():payload():data()
  require("io").print(report.sent, report.refused, report.why)
  return 0
end

return {main = main, idle = idle, receiver = receiver, sender = sender}
"""

# a fresh interpreter whose only child is the runtime: its peak RSS in KB
MEASURE = ("import resource, subprocess, sys\n"
           "result = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)\n"
           "print(result.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
           "print(result.stdout, end='')\n"
           "print(result.stderr, end='', file=sys.stderr)\n")

PLAIN = os.environ.get("SANITIZE", "0") in ("", "0")  # the sanitizers keep freed memory in quarantine


@pytest.fixture
def project(make_app):
    return make_app({"src/_index.yaml": INDEX, "src/main.lua": MAIN})


def run(project, how, count, threads=3):
    result = subprocess.run([sys.executable, "-c", MEASURE, wippy_binary(), "--threads", str(threads),
                             "--memory-limit", "64M", "run", "main", how, str(count)],
                            cwd=project, capture_output=True, text=True, timeout=180)
    first, rest = result.stdout.split("\n", 1)
    code, peak_kb = (int(field) for field in first.split())
    return code, peak_kb, rest, result.stderr


def test_the_topic_of_a_message_on_its_way_is_the_senders_to_pay_for(project):
    # it was 1,000 topics of 1 MB each held for nobody (a GB)
    code, peak_kb, out, err = run(project, "topic", 1000)
    assert code == 0, err
    sent, refused, why = out.rstrip("\n").split("\t", 2)
    assert int(sent) <= 4 and int(refused) >= 996, out
    assert "not enough memory to send the message (the sender's memory limit)" in why, out
    if PLAIN:
        assert peak_kb < 150 * 1024, peak_kb


def test_a_payload_on_its_way_counts_what_it_holds(project):
    # a payload's copy of its value counted as about 20 bytes: 1,000 of 1 MB
    # each were on their way at once while the receiver's loop was busy (300
    # here: each refused send still copies its megabyte, slow under TSan)
    code, peak_kb, out, err = run(project, "payload", 300)
    assert code == 0, err
    sent, refused, _ = out.rstrip("\n").split("\t", 2)
    assert int(sent) <= 4 and int(refused) >= 296, out
    if PLAIN:
        assert peak_kb < 150 * 1024, peak_kb


def test_past_the_messages_away_where_it_cannot_wait_a_send_says_so(project):
    # the 1,025th send inside a comparator raised "cannot block here",
    # failing the sender; now it is refused as a send is
    code, _, out, err = run(project, "small", 1100)
    assert code == 0, err
    sent, refused, why = out.rstrip("\n").split("\t", 2)
    assert int(sent) == 1024 and int(refused) == 76, out
    assert why.endswith("1024 messages of the sender are on their way to other loops, and it cannot wait here; "
                        "the message was not delivered"), out


@pytest.mark.parametrize("threads", [1, 3])
def test_payloads_cannot_make_the_runtime_copy_more_than_their_sender_may_hold(project, threads):
    # 300 payloads of one 1 MB string: the copy peaked at 305 MB before the
    # 4 MB sender's send was refused (on one loop too: a send's copy)
    code, peak_kb, out, err = run(project, "payloads", 1, threads)
    assert code == 0, err
    sent, refused, why = out.rstrip("\n").split("\t", 2)
    assert (sent, refused) == ("0", "1") and "not enough memory" in why, out
    if PLAIN:
        assert peak_kb < 100 * 1024, peak_kb
