"""Hostile code in one process against the others (issue 12's threat model):
each attack here must fail, and the victims must keep working. Apps are in
tests/apps/hostile."""
import signal
import subprocess
import time

import pytest

from conftest import APPS, needs_prompt_signals, one_command_index, run_wippy, wippy_binary
from test_permissions import GUEST_APP, GUEST_LUA

HOSTILE = APPS / "hostile"


def hostile(*args):
    return run_wippy(HOSTILE, "run", *args, timeout=30)


def test_pairs_on_a_read_only_view_hands_out_nothing_writable():
    result = hostile("pairs-escape")
    assert result.code == 0, result
    assert result.lines == [
        "string\tstate is the view\ttrue\tcould write\tfalse\tlisted some\ttrue",
        "table\tstate is the view\ttrue\tcould write\tfalse\tlisted some\ttrue",
        "time\tstate is the view\ttrue\tcould write\tfalse\tlisted some\ttrue",
        "victim sees\tabab [1] nil\tnil",  # string.rep and json untouched for other calls
    ], result


def test_an_error_object_whose_tostring_misbehaves_never_aborts_the_runtime():
    result = hostile("bad-errors")
    text = "(error object is a table value)"
    assert result.lines == [
        f"funcs.call\traises\tnil\t{text}",
        f"spawn\traises\tpid.exit\ttrue\t{text}",
        f"funcs.call\treturns a table\tnil\t{text}",
        f"spawn\treturns a table\tpid.exit\ttrue\t{text}",
        f"funcs.call\tsleeps\tnil\t{text}",
        f"spawn\tsleeps\tpid.exit\ttrue\t{text}",
        "pcall\tfalse\ttable",  # inside the process the error object stays what it is
    ], result
    # the coroutine's failure ends the command with one line, not a PANIC (exit 134)
    assert result.code == 1, result
    assert result.err == f"coroutine failed: {text}\n", result


def test_finalizers_are_refused_so_none_runs_under_another_identity():
    result = hostile("finalizer")
    assert result.code == 0, result
    assert result.lines == [
        "with __gc\tfalse\tsetmetatable: __gc is not supported (a finalizer would run inside "
        "another process)",
        "without\t1",
        "done",  # a __gc added to the metatable later is never run (Lua marks at setmetatable)
    ], result


def test_only_the_spawner_or_a_scope_may_stop_a_process_or_take_its_name():
    result = hostile("stopper")
    assert result.code == 0, result
    assert result.lines == [
        "terminate by name\tnil\tnot allowed to terminate: bystander",
        "terminate by pid\ttrue",  # refused with a message too
        "cancel\tnil\tnot allowed to cancel: bystander",
        "terminate after linking\tnil\tnot allowed to terminate: PID",
        "unregister its name\tnil\tnot allowed to unregister: bystander",
        "bystander\talive",
        "with a scope allowing it\ttrue\tnil",
        "own child\ttrue",
    ], result


@needs_prompt_signals
def test_a_process_that_never_blocks_does_not_stop_the_others():
    result = hostile("busy")  # two spinners (one inside its own coroutine) beside a sleeper
    assert result.code == 0, result
    assert result.lines == ["five 20 ms sleeps beside two spinners\ttrue", "done"], result


@needs_prompt_signals
def test_catching_the_stop_error_does_not_keep_a_stuck_task_alive():
    started = time.monotonic()
    result = run_wippy(HOSTILE, "--set", "scheduler.unyieldable_limit=0.5", "run", "stuck-catching", timeout=30)
    assert result.code == 1, result
    assert result.err.startswith("app:stuck_catching ran for more than 0.5s where it could not yield"), result
    assert time.monotonic() - started < 5


@needs_prompt_signals
def test_code_that_cannot_yield_is_stopped_after_the_unyieldable_limit():
    started = time.monotonic()
    result = run_wippy(HOSTILE, "--set", "scheduler.unyieldable_limit=0.5", "run", "stuck", timeout=30)
    assert result.code == 1, result
    assert result.err == ("app:stuck ran for more than 0.5s where it could not yield (inside a metamethod "
                          "or a C function's callback) and was stopped\n"), result
    assert time.monotonic() - started < 5


SPINNING_SERVICE = """version: '1.0'
namespace: app
entries:
  - name: processes
    kind: process.host
  - name: spinner
    kind: process.lua
    source: file://spin.lua
    method: main
    modules: [io]
  - name: spinner_service
    kind: process.service
    process: spinner
    host: processes
    lifecycle: {auto_start: true}
"""


SPIN_WHERE_IT_CAN_YIELD = "while true do end"
SPIN_WHERE_IT_CANNOT = "table.sort({3, 2, 1}, function(a, b) while true do end end)"


@needs_prompt_signals
@pytest.mark.parametrize("spin", [SPIN_WHERE_IT_CAN_YIELD, SPIN_WHERE_IT_CANNOT], ids=["yieldable", "unyieldable"])
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_runtime_within_a_second_while_a_process_spins(make_app, spin, signal_number):
    app = make_app({
        "src/_index.yaml": SPINNING_SERVICE,
        "src/spin.lua": "return {main = function() require('io').print('spinning') %s end}\n" % spin,
    })
    # the default unyieldable limit (5 s) must not be what ends the stuck one
    process = subprocess.Popen([wippy_binary(), "run"], cwd=app, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "spinning\n"
        time.sleep(0.2)  # well into the spin
        started = time.monotonic()
        process.send_signal(signal_number)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 1
        if spin == SPIN_WHERE_IT_CANNOT:
            assert "app:spinner was stopped where it could not yield: the runtime is shutting down" \
                in process.stderr.read()
    finally:
        process.kill()
        process.wait()


def test_no_base_function_turns_a_view_into_something_writable():
    result = hostile("views")
    assert result.code == 0, result
    assert result.lines == [
        "next=nil ipairs=true rawget=nil rawlen=0 rawequal=true getmetatable=read-only "
        "setmetatable=false rawset=false table.insert=false table.remove=false "
        "table.sort=true table.move=false table.concat=true table.unpack=0 select=false "
        "load env=false coroutine.wrap=false inherit then write=true string.rep works=aa "
        "time view writable=false module tables equal=true"
    ], result  # sort and concat see an empty proxy: nothing is read or written through them


def test_funcs_call_recursion_stops_at_the_configured_depth_in_the_caller():
    result = hostile("recursion")
    assert result.code == 0, result
    assert result.lines == ["1000\tfuncs.call app:recurse: nested more than 1000 calls deep (funcs.max_depth)"]
    result = run_wippy(HOSTILE, "--set", "funcs.max_depth=50", "run", "recursion", timeout=30)
    assert result.lines == ["50\tfuncs.call app:recurse: nested more than 50 calls deep (funcs.max_depth)"]


def test_a_process_past_the_memory_limit_fails_alone():
    result = run_wippy(HOSTILE, "--memory-limit", "64M", "run", "memory", timeout=60)
    assert result.code == 0, result
    assert result.lines == ["hog\ttrue\tnot enough memory", "the others go on\t1000"], result


def test_a_process_past_its_own_memory_limit_fails_alone():
    # no runtime-wide limit: each process's own (entry field, spawner option)
    result = hostile("process-memory")
    assert result.code == 0, result
    # 80-160 KB copies of one table fill 1 MB three to six times over: a copy
    # within one heap grows the table as it goes, one between heaps (a
    # message) is sized at once
    hoarded = result.lines[4].split("\t")
    assert hoarded[0] == "sent to a 2M hoarder (half of it for messages)" and 3 <= int(hoarded[1]) <= 6, result
    result.lines[4] = "\t".join([hoarded[0], "N", hoarded[2]])
    assert result.lines == [
        "entry limit 8M\tnot enough memory",
        "spawner limit 4M\tnot enough memory",
        "spawner asks 1G of an 8M entry\tnot enough memory",  # a spawner tightens, never lifts
        "churn under 8M\tchurned 64M",  # what it freed is credited back, whoever collected it
        "sent to a 2M hoarder (half of it for messages)\tN\tprocess PID: not enough memory; the message was "
        "not delivered",
        "funcs.call results are the caller's\ttrue\tfailed: not enough memory",
        "a killed process's __close under its limit\tterminated",
        "growing the spawner's table\tnot enough memory",  # its growth is the child's
        "a limited process spawning an unlimited entry\tnot enough memory",  # bounded by its own limit
        "the spawner goes on\t1000",
    ], result


def test_a_sender_cannot_fill_a_receiver_to_its_limit():
    # the flood may fill half of the victim's 2M, which still does its work
    result = hostile("flood-limited")
    assert (result.code, result.lines) == (0, ["flooded receiver\tdid its work"]), result


@needs_prompt_signals
def test_a_killed_process_whose_close_handler_spins_is_stopped():
    started = time.monotonic()
    result = run_wippy(HOSTILE, "--set", "scheduler.unyieldable_limit=0.5", "run", "close-spin", timeout=30)
    assert (result.code, result.lines) == (0, ["a killed process's spinning __close\tterminated"]), result
    assert time.monotonic() - started < 5


def test_a_memory_limit_that_is_not_a_size_is_refused(make_app):
    app = make_app({
        "src/_index.yaml": """version: '1.0'
namespace: app
entries:
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    memory_limit: lots
    meta: {command: {name: main}}
""",
        "src/main.lua": "return {main = function() end}\n",
    })
    result = run_wippy(app, "run", "main")
    assert result.code != 0, result
    assert "entry app:main" in result.err and "memory_limit" in result.err \
        and "expected a size such as 64M or 1G" in result.err, result
    app = make_app({
        "src/_index.yaml": MEMORY_OPTION_APP,
        "src/main.lua": "local io = require('io')\n"
                        "return {main = function() io.print(process.with_options({memory_limit = '12 parsecs'})) end}\n",
    })
    result = run_wippy(app, "run", "main")
    assert result.lines == ["nil\twith_options: memory_limit: expected a size such as 64M or a number of bytes"], result


MEMORY_OPTION_APP = one_command_index(["io"])


def test_a_task_alone_in_the_runtime_still_finishes_when_pre_empted():
    # many slices long, nothing else to run: the loop must not sleep in its poll
    result = run_wippy(HOSTILE, "--set", "scheduler.time_slice=0.002", "run", "crunch", timeout=30)
    assert result.code == 0 and result.lines == ["832040"], result


def test_an_inbox_is_bounded_and_the_sender_is_told():
    result = run_wippy(HOSTILE, "--set", "process.max_inbox=1000", "run", "flood", timeout=60)
    assert result.code == 0, result
    assert result.lines == ["1000\tprocess PID: its inbox (or the channel listening for junk) is full or "
                            "closed; the message was not delivered"], result


def test_a_full_heap_fails_the_task_never_the_runtime():
    # the heap filled to its last small block, then work the runtime does on
    # other threads (a message, a coroutine): that task may fail, nothing aborts
    result = run_wippy(HOSTILE, "--memory-limit", "32M", "run", "squeeze", timeout=60)
    assert result.code in (0, 1), result  # 134 would be an abort
    assert "internal error" not in result.err and "PANIC" not in result.err, result
    assert result.out.startswith("survived") or result.err == "not enough memory\n", result


URL_APP = """version: '1.0'
namespace: app
entries:
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io, http_client]
    meta:
      command: {name: main}
"""


def test_a_url_without_a_scheme_is_refused_before_any_dial(make_app):
    # curl would guess http:// for it, and the routing rules would not have
    # seen its host (a private address through an overlay); nothing is dialed
    app = make_app({
        "src/_index.yaml": URL_APP,
        "src/main.lua": "return {main = function() require('io').print("
                        "require('http_client').get('127.0.0.1:1/admin')) end}\n",
    })
    result = run_wippy(app, "run", "main", timeout=10)
    assert result.lines == ["nil\turl 127.0.0.1:1/admin: expected http:// or https:// and a host"], result


def test_completing_a_select_runs_none_of_the_waiting_tasks_code():
    result = hostile("select-trap")
    assert result.code == 0, result  # 134 (abort) before
    assert result.lines == ["false\tchannel.select: case 1 has no channel",
                            "selected\ttrue\ttrue\t1"], result


def test_a_callee_with_its_own_scope_cannot_act_as_its_caller(make_app):
    app = make_app({"src/_index.yaml": GUEST_APP.replace("@URL@", "http://x"), "src/main.lua": GUEST_LUA})
    result = run_wippy(app, "run", "main", "sandbox", "")
    assert result.code == 0, result
    assert result.lines == ["nil\tsrc/main.lua:13: process.inbox: a function called with an actor or a scope of "
                            "its own cannot act as its caller's process"], result


def test_a_misspelt_process_option_is_refused_not_ignored(make_app):
    app = make_app({
        "src/_index.yaml": one_command_index(["io"]),
        "src/main.lua": "local io = require('io')\n"
                        "return {main = function() io.print(process.set_options({trap_link = true})) end}\n",
    })
    result = run_wippy(app, "run", "main")
    assert result.lines == ['nil\tset_options: unknown option "trap_link" (did you mean "trap_links"?)'], result


CONCAT_STACK_GROWTH = r"""local io = require("io")
local function main()
  local mt = {}
  mt.__concat = function(a, b)
    local s = string.rep("y", 100)
    local function deep(n) if n == 0 then return s end return deep(n - 1) end
    return deep(50) .. tostring(type(a)) .. tostring(type(b))
  end
  local t = setmetatable({}, mt)
  local bad, good = 0, 0
  for round = 1, 300 do
    local ok = pcall(function()
      local co = coroutine.wrap(function(...)
        local function f(...) return select("#", ...) end
        local x = f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, "[" .. t .. "]" .. t, t .. t .. t)
        coroutine.yield(x)
        return f(table.unpack({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), t .. "x" .. t)
      end)
      co(); co()
    end)
    if ok then good = good + 1 else bad = bad + 1 end
  end
  io.print("good", good, "bad", bad)
  return 0
end
return { main = main }
"""


def test_a_concat_metamethod_that_grows_the_stack_cannot_crash_the_runtime(make_app):
    """Debian's Lua 5.4.4 left a frame pointing into the freed stack when a
    __concat metamethod made it grow: this program, run by one process,
    segfaulted the whole runtime. The runtime builds Lua 5.4.8."""
    app = make_app({"src/_index.yaml": one_command_index(["io"]), "src/main.lua": CONCAT_STACK_GROWTH})
    result = run_wippy(app, "run", "main", timeout=60)
    assert (result.code, result.out) == (0, "good\t300\tbad\t0\n"), result


ERROR_DETAILS_ATTACK = r"""
local io = require("io")

local function victim()
  local inbox = process.inbox()
  local message = inbox:receive()
  local err = message:payload():data()
  local details = err:details()
  details.amount = 1000000  -- a receiver changing its copy
  io.print("victim sees", err:details().amount, err:kind())
  return 0
end

local function main(role)
  if role == "victim" then return victim() end
  -- an error carrying a coroutine or a function would let another process
  -- run the sender's code (resume it, call it): refused where it is made
  io.print("coroutine", (pcall(errors.new, {message = "x", details = {co = coroutine.running()}})))
  io.print("function", (pcall(errors.new, {message = "x", details = {f = print}})))
  local err = errors.new({message = "m", kind = errors.INVALID, details = {amount = 1}})
  local pid = process.spawn("app:main", "app:processes", "victim")
  process.send(pid, "err", err)
  process.exec("app:idle", "app:processes")
  io.print("sender sees", err:details().amount)
  return 0
end
return { main = main }
"""


def test_an_error_object_carries_nothing_that_acts_and_nothing_shared_to_change(make_app):
    index = one_command_index(["io"]) + """  - name: processes
    kind: process.host
  - name: idle
    kind: process.lua
    source: file://idle.lua
    method: main
    modules: [time]
"""
    app = make_app({"src/_index.yaml": index, "src/main.lua": ERROR_DETAILS_ATTACK,
                    "src/idle.lua": 'local time = require("time")\nreturn { main = function() time.sleep(\"300ms\") end }\n'})
    result = run_wippy(app, "run", "main", "sender")
    assert result.code == 0, result
    assert result.lines == ["coroutine\tfalse", "function\tfalse", "victim sees\t1\tInvalid",
                            "sender sees\t1"], result


FLOOD_INDEX = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - {name: victim, kind: process.lua, source: 'file://main.lua', method: victim, memory_limit: 1M}
  - {name: main, kind: process.lua, source: 'file://main.lua', method: main, modules: [io, time],
     meta: {command: {name: main}}}
"""

FLOOD_SCRIPT = r"""
local function victim(parent)
  local work = process.listen("work")   -- junk waits for an inbox it never takes
  while true do
    work:receive()
    local t = {} for i = 1, 1000 do t[i] = i end   -- its own memory, within its limit
    process.send(parent, "done", #t)
  end
end
local function main()
  local io, time = require("io"), require("time")
  local v = process.spawn_monitored("app:victim", "app:processes", process.pid())
  time.sleep("20ms")
  local sent, err = 0, nil
  for i = 1, 200000 do
    local ok, e = process.send(v, "junk", nil)
    if ok then sent = sent + 1 else err = e break end
  end
  process.send(v, "work", 1)
  local done = process.listen("done")
  io.print("refused", sent < 200000, (tostring(err):gsub("%b{}", "PID")))
  io.print("victim still works", (done:receive()))
  process.terminate(v)
  return 0
end
return {victim = victim, main = main}
"""


def test_a_flood_of_messages_cannot_spend_the_receivers_memory_limit(make_app):
    """Messages are the receiver's to pay for, but may take only half its
    limit: the other half stays its own, and the sender is told."""
    app = make_app({"src/_index.yaml": FLOOD_INDEX, "src/main.lua": FLOOD_SCRIPT})
    result = run_wippy(app, "run", "main", timeout=60)
    assert (result.code, result.lines) == (0, [
        "refused\ttrue\tprocess PID: it has no memory left for the message (its memory limit); the message was "
        "not delivered",
        "victim still works\t1000"]), result


GUEST_SPAWN_APP = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - {name: main, kind: process.lua, source: file://main.lua, method: main, modules: [io, funcs, security],
     meta: {command: {name: main}}}
  - {name: g, kind: function.lua, source: file://main.lua, method: g}
  - {name: idle, kind: process.lua, source: file://main.lua, method: idle}
"""

GUEST_SPAWN_LUA = r"""
local function main()
  local io, funcs, security = require("io"), require("funcs"), require("security")
  local executor = funcs.new():with_actor(security.new_actor("plugin"))
  io.print(executor:call("app:g", "spawn_linked"))
  io.print(executor:call("app:g", "spawn_monitored"))
  io.print("caller alive")
end
local function g(how)
  local ok, err = pcall(process[how], "app:idle", "app:processes")
  return tostring(ok) .. " " .. tostring(err)
end
local function idle() error("the child fails") end
return {main = main, g = g, idle = idle}
"""


def test_a_callee_with_its_own_actor_cannot_spawn_linked_as_its_caller(make_app):
    # a linked child's failure would take down the caller, which never asked for it
    app = make_app({"src/_index.yaml": GUEST_SPAWN_APP, "src/main.lua": GUEST_SPAWN_LUA})
    result = run_wippy(app, "run", "main")
    assert result.code == 0, result
    assert result.lines == [
        "false process.spawn_linked: a function called with an actor or a scope of its own "
        "cannot act as its caller's process\tnil",
        "false process.spawn_monitored: a function called with an actor or a scope of its own "
        "cannot act as its caller's process\tnil",
        "caller alive"], result
