"""Permissions fail closed (issue 14): every action of docs/security.md is
refused under a scope that allows everything but it (and nothing happens),
allowed under one that also allows it, allowed without an actor and a scope,
and refused then under security.strict_mode. The table in docs/security.md
and the names in src/security/actions.h must be the same, and no check may
name its action with a bare string."""
import pathlib
import re

import pytest

from conftest import run_wippy
from peers import IpService

ROOT = pathlib.Path(__file__).resolve().parents[2]

# action: (what else the same call needs, the refusal's start, what shows it happened)
CASES = {
    "http_client.request": (["http_client.private_ip"], "not allowed: http://", "request"),
    "http_client.private_ip": (["http_client.request"], "not allowed: private IP 127.0.0.1", "request"),
    "http_client.insecure_tls": (["http_client.request", "http_client.private_ip"],
                                 "not allowed: insecure TLS for http://", "request"),
    "network.select": (["http_client.request", "http_client.private_ip"], "not allowed: network direct", "request"),
    "funcs.call": ([], "not allowed: app:callee", "callee ran"),
    "funcs.context": ([], "not allowed to call functions with custom context", None),
    "funcs.security": ([], "not allowed to call functions with custom security context", None),
    "process.spawn": (["process.host"], "not allowed to spawn process: app:child", "child ran"),
    "process.spawn.monitored": (["process.spawn", "process.host"],
                                "not allowed to spawn monitored process: app:child", "child ran"),
    "process.spawn.linked": (["process.spawn", "process.host"],
                             "not allowed to spawn linked process: app:child", "child ran"),
    "process.host": (["process.spawn"], "not allowed to spawn on host: app:processes", "child ran"),
    "process.exec": (["process.host"], "not allowed to exec process: app:child", "child ran"),
    "process.send": ([], "not allowed to send: ", "sleeper got hello"),
    "process.terminate": ([], "not allowed to terminate: ", "sleeper ended"),
    "process.cancel": ([], "not allowed to cancel: ", None),
    "process.monitor": ([], "not allowed to monitor: ", None),
    "process.unmonitor": ([], "not allowed to unmonitor: ", None),
    "process.link": ([], "not allowed to link: ", None),
    "process.unlink": ([], "not allowed to unlink: ", None),
    "process.context": ([], "not allowed to spawn processes with custom options", None),
    "process.security": (["process.context"], "not allowed to spawn processes with custom security context", None),
    "process.registry.register": ([], "not allowed to register name: probe-name", None),
    "process.registry.foreign": (["process.registry.register"], "not allowed to register foreign pid ", None),
    "process.registry.unregister": ([], "not allowed to unregister name: held-name", None),
    "security.policy.get": ([], "permission denied: access policy", None),
    "security.policy_group.get": ([], "permission denied: access policy group", None),
    "security.scope.create": ([], "not allowed to create custom scopes", None),
    "security.actor.create": ([], "not allowed to create actor with ID: someone", None),
    "env.get": ([], "not allowed to access environment variable: PROBE_VAR", None),
    "env.set": ([], "not allowed to access environment variable: PROBE_VAR", None),
}

ACTIONS_LUA = r"""
local http_client, funcs, security, env = require("http_client"), require("funcs"), require("security"), require("env")
local io = require("io")
local act = {}
act["http_client.request"] = function(a) return http_client.get(a.url) end
act["http_client.private_ip"] = function(a) return http_client.get(a.url) end
act["http_client.insecure_tls"] = function(a) return http_client.get(a.url, {tls = {insecure_skip_verify = true}}) end
act["network.select"] = function(a) return http_client.get(a.url, {overlay_network = false}) end
act["funcs.call"] = function(a) return funcs.call("app:callee") end
act["funcs.context"] = function(a) return funcs.new():with_context({k = "v"}) end
act["funcs.security"] = function(a) return funcs.new():with_actor(a.actor) end
act["process.spawn"] = function(a) return process.spawn("app:child", "app:processes") end
act["process.spawn.monitored"] = function(a) return process.spawn_monitored("app:child", "app:processes") end
act["process.spawn.linked"] = function(a) return process.spawn_linked("app:child", "app:processes") end
act["process.host"] = act["process.spawn"]
act["process.exec"] = function(a) return process.exec("app:child", "app:processes") end
act["process.send"] = function(a) return process.send(a.pid, "hello", "x") end
act["process.terminate"] = function(a) return process.terminate(a.pid) end
act["process.cancel"] = function(a) return process.cancel(a.pid) end
act["process.monitor"] = function(a) return process.monitor(a.pid) end
act["process.unmonitor"] = function(a) return process.unmonitor(a.pid) end
act["process.link"] = function(a) return process.link(a.pid) end
act["process.unlink"] = function(a) return process.unlink(a.pid) end
act["process.context"] = function(a) return process.with_options({}) end
act["process.security"] = function(a)
  local spawner, err = process.with_options({})
  if not spawner then return nil, err end
  return spawner:with_actor(a.actor)
end
act["process.registry.register"] = function(a) return process.registry.register("probe-name") end
act["process.registry.foreign"] = function(a) return process.registry.register("probe-foreign", a.pid) end
act["process.registry.unregister"] = function(a) return process.registry.unregister("held-name") end
act["security.policy.get"] = function(a) return security.policy("app:a_policy") end
act["security.policy_group.get"] = function(a) return security.named_scope("some_group") end
act["security.scope.create"] = function(a) return security.new_scope({}) end
act["security.actor.create"] = function(a) return security.new_actor("someone") end
act["env.get"] = function(a) return env.get("PROBE_VAR") end
act["env.set"] = function(a) return env.set("PROBE_VAR", "y") end

local function run(action, a)
  local ok, value, err = pcall(act[action], a)
  if not ok then return "raised: " .. tostring(value) end
  if value == nil then return "refused: " .. tostring(err) end
  return "allowed"
end
return {run = run}
"""

MAIN_LUA = r"""
local io, funcs, security, time = require("io"), require("funcs"), require("security"), require("time")
local actions = require("actions")

-- empty, exact: the action runs in a process spawned under an actor and a
-- scope; none, strict: in main itself, which has neither
local function main(mode, action, url)
  local a = {url = url}
  if mode == "strict" then
    a.pid = process.pid()
  else
    a.pid = process.spawn("app:sleeper", "app:processes")
    process.registry.register("held-name")
  end
  if mode == "none" or mode == "strict" then
    a.actor = security.new_actor("tester")  -- nil under strict mode, refused first anyway
    io.print(actions.run(action, a))
  else
    local scope = security.named_scope(mode .. ":" .. action) or security.new_scope({})
    local spawner = process.with_options({}):with_actor(security.new_actor("tester")):with_scope(scope)
    spawner:spawn_monitored("app:actor", "app:processes", action, url, a.pid)
    local event = process.events():receive()
    if event.result.error then io.print("raised: " .. tostring(event.result.error)) end
  end
  time.sleep("50ms")  -- what a child or the sleeper does shows before the end
  if mode ~= "strict" then io.print(process.send(a.pid, "alive?", "") and "sleeper alive" or "sleeper ended") end
end
local function actor(action, url, pid)
  io.print(actions.run(action, {url = url, pid = pid, actor = security.actor()}))
end
local function callee() io.print("callee ran") return true end
local function child() io.print("child ran") return "done" end
local function sleeper()
  local inbox = process.inbox()
  while true do
    local message = inbox:receive()
    if message:topic() == "hello" then io.print("sleeper got hello") end
  end
end
return {main = main, actor = actor, callee = callee, child = child, sleeper = sleeper}
"""


def index_yaml():
    lines = ["version: '1.0'", "namespace: app", "entries:",
             "  - {name: processes, kind: process.host}",
             "  - {name: actions, kind: library.lua, source: 'file://actions.lua', "
             "modules: [io, http_client, funcs, security, process, env]}",
             "  - {name: memory, kind: env.storage.memory}",
             "  - {name: probe_var, kind: env.variable, variable: PROBE_VAR, storage: app:memory, default: x}"]
    for name, method in (("main", "main"), ("sleeper", "sleeper"), ("child", "child"), ("actor", "actor")):
        lines.append(f"  - name: {name}\n    kind: process.lua\n    source: file://main.lua\n    method: {method}\n"
                     "    modules: [io, funcs, security, time, process]\n    imports: {actions: app:actions}"
                     + ("\n    meta: {command: {name: probe}}" if name == "main" else ""))
    for name, method in (("callee", "callee"),):
        lines.append(f"  - name: {name}\n    kind: function.lua\n    source: file://main.lua\n    method: {method}\n"
                     "    modules: [io, funcs, security, time, process]\n    imports: {actions: app:actions}")
    lines.append("  - name: a_policy\n    kind: security.policy\n    policy: {actions: nothing, resources: '*', "
                 "effect: allow}\n    groups: [some_group]")
    # per action: "empty:<action>" allows what the call needs besides it,
    # "exact:<action>" that and the action itself
    for number, (action, (needs, _, _)) in enumerate(CASES.items()):
        for mode, allowed in (("empty", needs), ("exact", needs + [action])):
            if allowed:
                lines.append(f"  - name: p{number}_{mode}\n    kind: security.policy\n"
                             f"    policy: {{actions: [{', '.join(allowed)}], resources: '*', effect: allow}}\n"
                             f"    groups: ['{mode}:{action}']")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def target():
    service = IpService()
    yield service
    service.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    directory = tmp_path_factory.mktemp("permissions")
    (directory / "src").mkdir()
    (directory / "src" / "_index.yaml").write_text(index_yaml())
    (directory / "src" / "actions.lua").write_text(ACTIONS_LUA)
    (directory / "src" / "main.lua").write_text(MAIN_LUA)
    return directory


def probe(app, target, mode, action, *options):
    before = len(target.clients)
    result = run_wippy(app, *options, "run", "probe", mode, action, target.url, timeout=20)
    assert result.code == 0, result
    return result, len(target.clients) - before


def outcome(result):
    """The probe's verdict (a child or a callee may print before it)."""
    return next(line for line in result.lines if line.startswith(("allowed", "refused: ", "raised: ")))


def happened(result, requests, evidence):
    if evidence is None:
        return None
    if evidence == "request":
        return requests > 0
    return evidence in result.lines


@pytest.mark.parametrize("action", sorted(CASES))
def test_refused_under_a_scope_that_allows_all_but_it(app, target, action):
    needs, refusal, evidence = CASES[action]
    result, requests = probe(app, target, "empty", action)
    assert outcome(result).startswith("refused: " + refusal), result
    assert happened(result, requests, evidence) in (None, False), result
    if action in ("process.terminate", "process.cancel"):
        assert "sleeper alive" in result.lines, result


@pytest.mark.parametrize("action", sorted(CASES))
def test_allowed_under_a_scope_that_allows_it(app, target, action):
    needs, refusal, evidence = CASES[action]
    result, requests = probe(app, target, "exact", action)
    assert outcome(result) == "allowed", result
    assert happened(result, requests, evidence) in (None, True), result


@pytest.mark.parametrize("action", sorted(CASES))
def test_allowed_without_an_actor_and_a_scope(app, target, action):
    result, requests = probe(app, target, "none", action)
    # (terminate, cancel and unregister reach here because the sleeper is
    # main's own child: without a scope this runtime allows no other)
    assert outcome(result) == "allowed", result
    assert happened(result, requests, CASES[action][2]) in (None, True), result


@pytest.mark.parametrize("action", sorted(CASES))
def test_refused_without_an_actor_and_a_scope_under_strict_mode(app, target, action):
    needs, refusal, evidence = CASES[action]
    result, requests = probe(app, target, "strict", action, "--set", "security.strict_mode=true")
    assert outcome(result).startswith("refused: "), result
    assert happened(result, requests, evidence) in (None, False), result


def test_a_service_on_an_overlay_is_refused_network_bind_under_strict_mode(make_app):
    app = make_app({"src/_index.yaml": """version: '1.0'
namespace: app
entries:
  - name: i2p
    kind: network.i2p
    port: 1
  - name: web
    kind: http.service
    addr: ':80'
    network: i2p
    lifecycle: {auto_start: true}
"""})
    result = run_wippy(app, "--set", "security.strict_mode=true", "run", timeout=20)
    assert result.code == 1, result
    assert "entry app:web: not allowed: bind on network app:i2p" in result.err, result


# ---- the table and the code ----

def actions_in_header():
    text = (ROOT / "src/security/actions.h").read_text()
    return dict(re.findall(r'#define (ACTION_[A-Z0-9_]+) "([a-z_.]+)"', text))


def actions_in_table():
    text = (ROOT / "docs/security.md").read_text()
    return set(re.findall(r"^\| `([a-z_]+\.[a-z_.]+)` \|", text, re.MULTILINE))


def test_the_table_names_exactly_the_checked_actions():
    assert set(actions_in_header().values()) == actions_in_table()
    assert set(actions_in_header().values()) == set(CASES) | {"network.bind"}


def test_every_check_names_its_action_from_the_header():
    checks = re.compile(r'\b(guard_allows|task_allows|security_allows|allows|may_stop)\(([^;]*?)\)', re.DOTALL)
    bare = []
    used = set()
    for path in sorted((ROOT / "src").rglob("*.c")):
        text = path.read_text()
        used.update(re.findall(r"\b(ACTION_[A-Z0-9_]+)\b", text))
        for name, arguments in checks.findall(text):
            if re.search(r'"[a-z_]+\.[a-z_.]+"', arguments):
                bare.append(f"{path.relative_to(ROOT)}: {name}({arguments.strip()[:60]}...)")
    assert bare == [], "checks naming their action with a bare string:\n" + "\n".join(bare)
    assert set(actions_in_header()) - used == set(), "actions no check uses"


GUEST_APP = """version: '1.0'
namespace: app
entries:
  - {name: processes, kind: process.host}
  - name: main
    kind: process.lua
    source: file://main.lua
    method: main
    modules: [io, funcs, security, time]
    meta: {command: {name: main}}
  - name: plugin
    kind: function.lua
    source: file://main.lua
    method: plugin
    modules: [io, funcs, security, http_client]
  - name: only_calls
    kind: security.policy
    policy: {actions: [funcs.call], resources: '*', effect: allow}
    groups: [sandbox]
  - name: only_the_redirect
    kind: security.policy
    policy: {actions: [http_client.request], resources: '@URL@/redirect', effect: allow}
    groups: [redirects]
  - name: private_targets
    kind: security.policy
    policy: {actions: [http_client.private_ip], resources: '*', effect: allow}
    groups: [redirects]
"""

GUEST_LUA = r"""
local io, funcs, security = require("io"), require("funcs"), require("security")
local function main(group, url)
  local executor = funcs.new():with_actor(security.new_actor("plugin")):with_scope(security.named_scope(group))
  io.print(executor:call("app:plugin", url))
end
local function plugin(url)
  if url == "absent" then
    return select(2, process.send("{app:processes|0xfffff}", "t", 1))
  end
  if url == "" then
    -- plant a value whose metamethods the caller would run under its own identity
    process.inbox():send(setmetatable({}, {__index = function() return function() return "planted" end end}))
    return "planted"
  end
  local response, err = require("http_client").get(url .. "/redirect")
  return response and response.status_code or err
end
return {main = main, plugin = plugin}
"""


def test_a_redirect_is_a_request_of_its_own(make_app, target):
    url = target.url.rstrip("/")
    app = make_app({"src/_index.yaml": GUEST_APP.replace("@URL@", url), "src/main.lua": GUEST_LUA})
    before = len(target.clients)
    result = run_wippy(app, "run", "main", "redirects", url)
    assert result.code == 0, result
    assert result.lines == [f"not allowed: {url}/landed\tnil"], result
    assert len(target.clients) - before == 0  # /landed (the one it records) was never asked for


def test_a_refused_caller_cannot_tell_which_pids_exist(make_app):
    app = make_app({"src/_index.yaml": GUEST_APP.replace("@URL@", "http://x"), "src/main.lua": GUEST_LUA})
    result = run_wippy(app, "run", "main", "sandbox", "absent")
    assert result.lines == ["not allowed to send: {app:processes|0xfffff}\tnil"], result
