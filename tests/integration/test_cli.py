"""The command line of SPEC section 1."""
import os
import signal
import subprocess
import time

from conftest import APPS, own_settings, run_wippy, wippy_binary


def test_init_writes_the_lock_file_once(tmp_path):
    first = run_wippy(tmp_path, "init")
    assert first.code == 0, first
    lock = (tmp_path / "wippy.lock").read_text()
    assert lock == "directories:\n  modules: .wippy\n  src: ./src\nmodules: []\n"
    (tmp_path / "wippy.lock").write_text(lock + "# kept\n")
    second = run_wippy(tmp_path, "init")
    assert second.code == 0, second
    assert (tmp_path / "wippy.lock").read_text().endswith("# kept\n")


def test_init_takes_its_directories(tmp_path):
    result = run_wippy(tmp_path, "init", "-d", "./code", "--modules-dir", "mods", "-l", "my.lock")
    assert result.code == 0, result
    assert "src: ./code" in (tmp_path / "my.lock").read_text()
    assert (tmp_path / "code").is_dir()


def test_run_reads_the_source_directory_from_the_lock(make_app):
    app = make_app({
        "wippy.lock": "directories:\n  modules: .wippy\n  src: ./code\nmodules: []\n",
        "code/_index.yaml": "namespace: a\nentries:\n  - name: hi\n    kind: process.lua\n"
                            "    source: file://hi.lua\n    method: main\n    modules: [io]\n"
                            "    meta: {command: {name: hi}}\n",
        "code/hi.lua": "return {main = function() require('io').print('hi from code') end}\n",
    })
    result = run_wippy(app, "run", "hi")
    assert (result.code, result.out) == (0, "hi from code\n"), result


def test_run_list_shows_commands_with_their_short_text(core):
    result = core("run", "list")
    assert result.code == 0, result
    assert "tree                 a spawn tree returning results up" in result.lines
    assert not any(line.startswith("tree_node") for line in result.lines)


def test_exit_codes_follow_the_return_value(core):
    assert core("run", "exit-code", "7").code == 7
    assert core("run", "exit-code", "nil").code == 0
    failed = core("run", "fail")
    assert failed.code == 1
    assert failed.err.strip() == "src/fail.lua:1: something broke"


def test_run_exec_runs_any_process_entry_with_arguments(core):
    result = core("run", "--exec", "core:exit_code", "5")
    assert result.code == 5, result
    missing = core("run", "--exec", "core:nothing")
    assert missing.code == 1
    assert missing.err.strip() == "wippy: no process.lua entry with id core:nothing"


def test_unknown_command_name_is_one_clear_line(core):
    result = core("run", "no-such-command")
    assert result.code == 1
    assert result.err.strip() == 'wippy: no command named "no-such-command" (see wippy run list)'


# A command printing whether it may create an actor: true without an actor
# and a scope, false under security.strict_mode.
STRICT_PROBE_APP = {
        "src/_index.yaml": "namespace: a\nentries:\n  - name: tor\n    kind: network.socks5\n"
                           "    host: 127.0.0.1\n    port: 9050\n"
                           "  - name: p\n    kind: process.lua\n    source: file://p.lua\n"
                           "    method: main\n    modules: [io, security]\n"
                           "    meta: {command: {name: p}}\n",
        "src/p.lua": "return {main = function() require('io').print(require('security')"
                     ".new_actor('x') ~= nil) end}\n",
}


@own_settings
def test_config_files_compose_and_set_wins(make_app):
    app = make_app({
        **STRICT_PROBE_APP,
        "one.yaml": "security:\n  strict_mode: true\n",
        "two.yaml": "security:\n  strict_mode: false\n",
        "bad.yaml": "network_service:\n  default_network: a:missing\n",
    })
    assert run_wippy(app, "--config", "one.yaml", "run", "p").out == "false\n"
    assert run_wippy(app, "--config", "one.yaml", "--config", "two.yaml", "run", "p").out == "true\n"
    assert run_wippy(app, "--config", "two.yaml", "--set", "security.strict_mode=true",
                     "run", "p").out == "false\n"
    missing = run_wippy(app, "--config", "nope.yaml", "run", "p")
    assert missing.code == 1 and "nope.yaml: cannot open" in missing.err
    bad = run_wippy(app, "--config", "bad.yaml", "run", "p")
    assert bad.code == 1
    assert bad.err.strip() == ('wippy: bad.yaml:2: network_service.default_network: '
                               'overlay network "a:missing": not found')
    good = run_wippy(app, "--set", "network_service.default_network=a:tor", "run", "p")
    assert good.code == 0, good


@own_settings
def test_config_settings_never_fail_open(make_app):
    app = make_app({
        **STRICT_PROBE_APP,
        "typo.yaml": "network_service:\n  default_netwrk: a:tor\n",
        "env.yaml": "security:\n  strict_mode: ${env:WIPPY_TEST_STRICT}\n",
        "unset.yaml": "network_service:\n  state_dir: ${env:WIPPY_TEST_UNSET}/net\n",
        "bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"a{n}: &a{n} [{', '.join(['*a' + ('' if n == 1 else str(n - 1))] * 10)}]\n" for n in range(1, 9)),
    })
    typo = run_wippy(app, "--config", "typo.yaml", "run", "p")
    assert (typo.code, typo.err.strip()) == (
        1, 'wippy: typo.yaml:2: network_service.default_netwrk: unknown setting (did you mean "default_network"?)')
    # ${env:NAME} is the variable's value, read as YAML reads a plain value
    strict = run_wippy(app, "--config", "env.yaml", "run", "p", env={**os.environ, "WIPPY_TEST_STRICT": "true"})
    assert (strict.code, strict.out) == (0, "false\n"), strict
    loose = run_wippy(app, "--config", "env.yaml", "run", "p", env={**os.environ, "WIPPY_TEST_STRICT": "false"})
    assert (loose.code, loose.out) == (0, "true\n"), loose
    empty = run_wippy(app, "--config", "env.yaml", "run", "p", env={**os.environ, "WIPPY_TEST_STRICT": ""})
    assert (empty.code, empty.err.strip()) == (
        1, "wippy: env.yaml:2: ${env:WIPPY_TEST_STRICT}: the environment variable is empty"), empty
    wrong = run_wippy(app, "--config", "env.yaml", "run", "p", env={**os.environ, "WIPPY_TEST_STRICT": "maybe"})
    assert wrong.code == 1 and "env.yaml:2: security.strict_mode: expected true or false" in wrong.err, wrong
    unset = run_wippy(app, "--config", "unset.yaml", "run", "p", env={k: v for k, v in os.environ.items()
                                                                      if k != "WIPPY_TEST_UNSET"})
    assert (unset.code, unset.err.strip()) == (
        1, "wippy: unset.yaml:2: ${env:WIPPY_TEST_UNSET}: the environment variable is not set")
    bomb = run_wippy(app, "--config", "bomb.yaml", "run", "p", timeout=20)
    assert bomb.code == 1 and "bomb.yaml:" in bomb.err and "aliases" in bomb.err, bomb


def test_serve_mode_runs_services_until_sigterm():
    process = subprocess.Popen([wippy_binary(), "run"], cwd=APPS / "service",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "service started\n"
        assert process.stdout.readline() == "ticking\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()


def test_sigint_interrupts_a_running_command():
    process = subprocess.Popen([wippy_binary(), "run", "nap"], cwd=APPS / "core",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "napping\n"  # running, signals watched
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 130
        assert time.monotonic() - started < 5  # not the 30 s the command sleeps
    finally:
        process.kill()
        process.wait()


def test_sigterm_ends_a_command_with_143():
    process = subprocess.Popen([wippy_binary(), "run", "nap"], cwd=APPS / "core",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "napping\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 143  # 128 + SIGTERM, as shells report it
    finally:
        process.kill()
        process.wait()


def test_version_and_help_answer_without_a_project(tmp_path):
    version = run_wippy(tmp_path, "--version")
    assert version.code == 0 and version.out.startswith("wippy ") and len(version.out.split()) == 2, version
    assert run_wippy(tmp_path, "version").out == version.out
    usage = run_wippy(tmp_path, "help")
    assert usage.code == 0 and "commands:" in usage.out and "--version" in usage.out, usage
    for command in ("run", "init"):
        for form in ((command, "--help"), (command, "-h"), ("help", command)):
            result = run_wippy(tmp_path, *form)
            assert result.code == 0 and result.out.startswith(f"usage: wippy"), (form, result)
            assert f" {command}" in result.out.splitlines()[0], (form, result)
    assert not (tmp_path / "wippy.lock").exists()  # init --help wrote nothing
    unknown = run_wippy(tmp_path, "--bogus", "run")
    assert (unknown.code, unknown.err) == (2, 'wippy: unknown option "--bogus" (try wippy --help)\n'), unknown
    nothing = run_wippy(tmp_path, "help", "nope")
    assert (nothing.code, nothing.err) == (2, 'wippy: unknown command "nope" (try wippy --help)\n'), nothing


def test_run_says_when_there_is_nothing_to_start_or_no_project(make_app, tmp_path):
    app = make_app({"src/_index.yaml": "version: '1.0'\nnamespace: app\nentries:\n"
                                       "  - {name: p, kind: process.lua, source: 'file://p.lua', method: main}\n",
                    "src/p.lua": "return {main = function() end}\n"})
    idle = run_wippy(app, "run", timeout=10)
    assert (idle.code, idle.err) == (1, "wippy: nothing to start: no process.service or http.service with "
                                        "lifecycle.auto_start (wippy run list shows the commands)\n"), idle
    empty = tmp_path / "empty"
    empty.mkdir()
    nowhere = run_wippy(empty, "run", "x")
    assert nowhere.code == 1 and nowhere.err == (f"wippy: no project here: {empty}/src does not exist (run wippy "
                                                 "where src/ or wippy.lock is, or wippy init)\n"), nowhere


def test_a_second_runtime_cannot_share_the_overlay_state(make_app):
    """Two runtimes with one state_dir would share I2P keys and tailnet
    state: the second stops at once and says why."""
    from peers import free_port
    port = free_port()
    app = make_app({"src/_index.yaml": f"""version: '1.0'
namespace: app
entries:
  - {{name: i2p, kind: network.i2p, port: 1}}
  - {{name: router, kind: http.router, meta: {{server: app:web}}}}
  - name: web
    kind: http.service
    addr: 127.0.0.1:{port}
    lifecycle: {{auto_start: true}}
""", "src/p.lua": "return {main = function() return 0 end}\n"})
    first = subprocess.Popen([wippy_binary(), "run"], cwd=app, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        assert "listening on" in first.stderr.readline()
        second = run_wippy(app, "run", timeout=10)
        assert second.code == 1 and second.err == (
            "wippy: network_service.state_dir ./.wippy/net is in use by another wippy: give each instance "
            "its own (--set network_service.state_dir=...)\n"), second
        elsewhere = run_wippy(app, "--set", f"network_service.state_dir={app}/other", "run", "x", timeout=10)
        assert "in use by another wippy" not in elsewhere.err, elsewhere
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=10)


def test_registry_list_and_show_read_the_project_without_starting_it(make_app):
    app = make_app({"src/_index.yaml": "version: '1.0'\nnamespace: app\nentries:\n"
                                       "  - {name: p, kind: process.lua, source: 'file://p.lua', method: main,\n"
                                       "     modules: [io], meta: {command: {name: p}}}\n"
                                       "  - {name: a, kind: env.storage.static, meta: {title: first}, values: {n: '3'}}\n",
                    "src/p.lua": "error('never started')\n"})
    listed = run_wippy(app, "registry", "list")
    assert (listed.code, listed.out) == (0, "app:a\tenv.storage.static\napp:p\tprocess.lua\n"), listed
    import json
    as_json = json.loads(run_wippy(app, "registry", "list", "--json").out)
    assert [(e["id"], e["kind"], e["line"]) for e in as_json] == [("app:a", "env.storage.static", 6),
                                                                  ("app:p", "process.lua", 4)], as_json
    shown = run_wippy(app, "registry", "show", "app:p")
    assert shown.code == 0 and shown.out.splitlines()[:2] == ["id: app:p", "kind: process.lua"], shown
    assert 'modules: ["io"]' in shown.out and "method: \"main\"" in shown.out, shown
    fields = json.loads(run_wippy(app, "registry", "show", "app:a", "--json").out)["fields"]
    assert fields["values"] == {"n": "3"} and fields["meta"] == {"title": "first"}, fields
    missing = run_wippy(app, "registry", "show", "app:zz")
    assert (missing.code, missing.err) == (1, "wippy registry show: no entry app:zz (see wippy registry list)\n")
    for wrong in (("registry",), ("registry", "show"), ("registry", "list", "--yaml")):
        assert run_wippy(app, *wrong).code == 2, wrong


def test_overrides_set_entry_fields_from_the_command_line(make_app):
    app = make_app({"src/_index.yaml": "version: '1.0'\nnamespace: app\nentries:\n"
                                       "  - {name: p, kind: process.lua, source: 'file://p.lua', method: main,\n"
                                       "     modules: [io], meta: {command: {name: p}}}\n",
                    "src/p.lua": "return {main = function() require('io').print('main') return 0 end,\n"
                                 "        other = function() require('io').print('other') return 3 end}\n"})
    assert run_wippy(app, "-o", "app:p:method=other", "run", "p").lines == ["other"]
    renamed = run_wippy(app, "--override", "app:p:meta.command.name=q", "run", "q")
    assert (renamed.code, renamed.lines) == (0, ["main"]), renamed
    shown = run_wippy(app, "-o", "app:p:meta.priority=7", "-o", "app:p:meta.flag=TRUE", "-o", "app:p:meta.ratio=1.5",
                      "-o", "app:p:meta.text=007", "registry", "show", "app:p", "--json")
    import json
    meta = json.loads(shown.out)["fields"]["meta"]
    assert (meta["priority"], meta["flag"], meta["ratio"], meta["text"]) == (7, True, 1.5, "007"), shown
    for wrong, message in (
            (["-o", "app:nope:method=x"], "wippy: -o app:nope:method=x: no entry app:nope\n"),
            (["-o", "app:p"], "wippy: -o app:p: expected namespace:entry:field=value\n"),
            (["-o", "app::method=x"], "wippy: -o app::method=x: the entry name is empty "
                                      "(namespace:entry:field=value)\n"),
            (["-o", "app:p:method.x=1"], "wippy: -o app:p:method.x=1: method of entry app:p is a string, not a map\n"),
            (["-o", "app:p:bogus=1"], None)):
        result = run_wippy(app, *wrong, "run", "p")
        assert result.code == 1, (wrong, result)
        if message is not None:
            assert result.err == message, (wrong, result)
        else:  # the overridden entry is checked as if written so: an unknown field fails
            assert 'field "bogus"' in result.err, result
    assert run_wippy(app, "-o").code == 2


LOG_APP_INDEX = """version: '1.0'
namespace: app
entries:
  - {name: router, kind: http.router, meta: {server: app:web}}
  - {name: web, kind: http.service, addr: '127.0.0.1:PORT', lifecycle: {auto_start: true}}
  - {name: hello, kind: function.lua, source: 'file://p.lua', method: hello, modules: [http]}
  - {name: hello_route, kind: http.endpoint, meta: {router: app:router}, method: GET, path: /hello,
     func: app:hello}
  - {name: crash, kind: process.lua, source: 'file://p.lua', method: crash, modules: [logger],
     meta: {command: {name: crash}}}
"""

LOG_APP_SCRIPT = """
local function hello() require('http').response():write('hi') end
local function deeper(t) return t.x end
local function crash()
  local logger = require('logger')
  logger:info('about to fail', {step = 3})
  logger:debug('only at -v')
  return deeper(nil)
end
return {hello = hello, crash = crash}
"""


def test_log_levels_and_json_lines(make_app):
    import json
    from peers import free_port
    port = free_port()
    app = make_app({"src/_index.yaml": LOG_APP_INDEX.replace("PORT", str(port)), "src/p.lua": LOG_APP_SCRIPT})

    plain = run_wippy(app, "run", "crash")
    assert plain.code == 1 and "about to fail" in plain.err and "traceback" not in plain.err, plain
    assert "only at -v" not in plain.err, plain
    verbose = run_wippy(app, "-v", "run", "crash")
    assert "only at -v" in verbose.err and "stack traceback:\n    \tsrc/p.lua:3:" in verbose.err, verbose
    quiet = run_wippy(app, "-q", "run", "crash")
    assert quiet.code == 1 and "about to fail" not in quiet.err and "attempt to index a nil value" in quiet.err, quiet

    as_json = run_wippy(app, "--log-format", "json", "run", "crash")
    records = [json.loads(line) for line in as_json.err.splitlines()]
    assert records[0]["msg"] == f"app:web listening on 127.0.0.1:{port}", records
    records = records[1:]
    assert [r["level"] for r in records] == ["info", "error"], as_json
    assert records[0]["msg"] == "about to fail" and records[0]["fields"]["step"] == 3, records
    assert "attempt to index a nil value" in records[1]["msg"] and records[1]["logger"] == "wippy", records
    assert all(r["ts"].endswith("Z") for r in records), records

    import urllib.request

    def serve(*flags):
        process = subprocess.Popen([wippy_binary(), *flags, "run"], cwd=app, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            if "-q" not in flags:
                first = process.stderr.readline()
            else:
                for _ in range(100):
                    try:
                        urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing", timeout=1)
                    except urllib.error.HTTPError:
                        break
                    except OSError:
                        time.sleep(0.05)
                first = ""
            assert urllib.request.urlopen(f"http://127.0.0.1:{port}/hello", timeout=5).read() == b"hi"
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=10)
        return first + err

    assert serve() == f"wippy: app:web listening on 127.0.0.1:{port}\n"
    assert serve("-q") == ""
    traced = serve("-vv")
    assert f"http app:web: 127.0.0.1" in traced and "GET /hello 200 2 bytes" in traced, traced
    listening = json.loads(serve("--log-format=json").splitlines()[0])
    assert (listening["level"], listening["msg"]) == ("info", f"app:web listening on 127.0.0.1:{port}"), listening

    for wrong in (("-q", "-v"), ("--log-format", "xml")):
        assert run_wippy(app, *wrong, "run", "crash").code == 2, wrong


def test_init_starter_writes_the_netdemo_which_runs_through_a_real_socks5_proxy(tmp_path):
    from peers import Microsocks
    written = run_wippy(tmp_path, "init", "--starter")
    assert written.code == 0 and "wrote the netdemo to ./src" in written.out, written
    for name in ("_index.yaml", "probe.lua", "whatismyip/_index.yaml", "whatismyip/handler.lua"):
        shipped = (APPS.parent.parent / "examples" / "netdemo" / "src" / name).read_bytes()
        assert (tmp_path / "src" / name).read_bytes() == shipped, name
    proxy = Microsocks()
    try:
        probe = run_wippy(tmp_path, "-o", f"app:tor:port={proxy.port}", "run", "probe", timeout=30)
    finally:
        proxy.close()
    assert (probe.code, probe.lines) == (0, ["direct IP: 127.0.0.1", "tor IP:    127.0.0.2"]), probe
    (tmp_path / "src" / "probe.lua").write_text("-- mine\n")
    again = run_wippy(tmp_path, "init", "--starter")
    assert again.code == 1 and "src/_index.yaml is there already" in again.err, again
    assert (tmp_path / "src" / "probe.lua").read_text() == "-- mine\n"
