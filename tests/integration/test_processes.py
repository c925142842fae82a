"""Processes: spawn trees, many processes, blocking, failures, links,
messages, channels (SPEC section 3)."""
import time


def test_spawn_tree_of_depth_four_returns_results_up_the_tree(core):
    result = core("run", "tree")
    assert result.code == 0, result
    assert result.lines == ["tree result\t10\tlevels\t5", "from child\ttrue"]


def test_ten_thousand_processes_are_spawned_and_reaped(core):
    result = core("-v", "run", "many", "10000")
    assert result.code == 0, result
    assert result.lines == ["exits\t10000\ttotal\t50005000"]
    assert "shutdown with 0 tasks still running" in result.err


def test_blocked_processes_do_not_delay_others(core):
    started = time.monotonic()
    result = core("run", "blocking", timeout=25)
    assert result.code == 0, result
    assert result.lines == ["others kept running\ttrue"]
    # the sleeper sleeps 30 s: finishing at all proves the loop kept going
    assert time.monotonic() - started < 20


def test_runtime_error_in_child_reaches_monitoring_parent(core):
    result = core("run", "crash")
    assert result.code == 0, result
    assert result.lines == [
        "kind\ttrue",
        "from\ttrue",
        "error\tsrc/crasher.lua:3: attempt to index a nil value (local 't')",
        "value\tnil",
    ]


def test_linked_failure_kills_the_parent(core):
    started = time.monotonic()
    result = core("run", "links")
    assert result.code == 1, result
    assert "still alive" not in result.out
    assert "failed: src/crasher.lua:3: attempt to index a nil value" in result.err
    assert time.monotonic() - started < 4


def test_trap_links_turns_a_linked_failure_into_an_event(core):
    result = core("run", "links", "trap")
    assert result.code == 0, result
    assert result.lines == ["link down\ttrue\ttrue"]


def test_messages_inbox_and_topic_listeners(core):
    result = core("run", "messages")
    assert result.code == 0, result
    assert result.lines == [
        "reply topic\tpong\tfrom echo\ttrue",
        "reply data\t2",
        "listened\t50\ttrue",
        "unknown pid\tnil\tprocess {core:processes|0xfffff} not found",
        "reserved topic\tnil\ttopics starting with @ are reserved",
    ]


def test_channels_buffering_select_timeouts_and_close(core):
    result = core("run", "channels")
    assert result.code == 0, result
    assert result.lines == [
        "buffered\t1\t2\t3",
        "default\ttrue",
        "timeout fired\ttrue",
        "after close\tlast\ttrue\tnil\tfalse",
        "send on closed\tfalse\ttrue",
        "private passes the table\ttrue",
        "shared copies\t1",
        "waiting value copied\t1",
    ]


def test_coroutines_spawn_wrap_and_resume_with_blocking_calls(core):
    result = core("run", "coroutines")
    assert result.code == 0, result
    assert result.lines == [
        "spawned coroutine summed\t6",
        "same table\ttrue",
        "wrap with sleep\t10\t20\t30",
        "resume\ttrue\t2",
        "resume\ttrue\t42\ttrue",
        "resume dead\tfalse\tcannot resume dead coroutine",
        "status\tdead",
        "wrap error\tfalse\tsrc/coroutines.lua:42: inner failure",
        "crashing coroutine fails its process\tcoroutine failed: "
        "src/coroutine_crash.lua:3: spawned coroutine broke",
    ]


def test_every_process_blocked_is_reported_as_a_deadlock(core):
    result = core("run", "deadlock", timeout=10)
    assert result.code == 1, result
    assert result.err.strip() == "wippy: every process is blocked and nothing can wake them (deadlock)"


def test_readline_reads_piped_standard_input(core):
    result = core("run", "readline", stdin="first\nsecond\n")
    assert result.code == 0, result
    assert result.lines == ["line 1: first", "line 2: second", "lines\t2"]


def test_json_encode_and_decode_return_errors(core):
    result = core("run", "json")
    assert result.code == 0, result
    assert result.lines == [
        '{"empty":[],"list":[1,2.5,true],"name":"x"}',
        "2\tnil\t\u00e9\tnil",
        "nil\tjson.decode: string or '}' expected near 'broken' at line 1, column 7",
        "nil\tjson.encode: cannot encode a table with mixed or sparse keys",
        "nil\tjson.encode: cannot encode a table with mixed or sparse keys",
        "nil\tjson.encode: nesting deeper than 128 levels (or a cycle)",
        "nil\tjson.encode: cannot encode a function",
    ]


def test_process_exec_and_registered_names(core):
    result = core("run", "exec-names")
    assert result.code == 0, result
    assert result.lines[0] == "exec\t41"
    assert result.lines[1] == "exec error\tnil\tsrc/crasher.lua:3: attempt to index a nil value (local 't')"
    assert result.lines[2:4] == ["register\ttrue", "lookup\ttrue"]
    assert result.lines[4].startswith('taken\tnil\tname "echoer" is already registered to {core:processes|0x')
    assert result.lines[5:] == ["via name\t2", 'gone\tnil\tname "echoer" is not registered']


LISTEN_INDEX = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - {name: late, kind: process.lua, source: 'file://main.lua', method: late, modules: [io, time, channel]}
  - {name: main, kind: process.lua, source: 'file://main.lua', method: main, modules: [io, time],
     meta: {command: {name: main}}}
"""

LISTEN_SCRIPT = """
local io, time = require("io"), require("time")
local function payloads(channel, count)
  local got = {}
  for i = 1, count do
    local value = channel:receive()
    got[i] = type(value) == "table" and value:topic() .. "=" .. value:payload():data() or tostring(value)
  end
  return table.concat(got, ",")
end
local function late(parent)
  time.sleep("50ms")  -- everything below was sent before any listen
  local a = process.listen("a")
  local b = process.listen("b", {message = true})
  local first = payloads(a, 2) .. " " .. payloads(b, 1)
  local rest = payloads(process.inbox(), 1)
  local after = process.listen("c")   -- the inbox is taken: c went there already
  local nothing = channel.select {after:case_receive(), default = true}
  process.send(parent, "done", first .. " | " .. rest .. " | " .. tostring(nothing.default))
end
local function main()
  local child = process.spawn("app:late", "app:processes", process.pid())
  for _, message in ipairs({{"a", "1"}, {"c", "2"}, {"b", "3"}, {"a", "4"}}) do
    assert(process.send(child, message[1], message[2]))
  end
  io.print(process.inbox():receive():payload():data())
  return 0
end
return {main = main, late = late}
"""


def test_a_message_sent_before_its_topic_is_listened_to_is_kept_for_the_listener(make_app):
    app = make_app({"src/_index.yaml": LISTEN_INDEX, "src/main.lua": LISTEN_SCRIPT})
    from conftest import run_wippy
    result = run_wippy(app, "run", "main", timeout=20)
    assert (result.code, result.lines) == (0, ["1,4 b=3 | c=2 | true"]), result
